"""Receipts and replies: what the webhooks hand over."""

import logging

from odoo import _, api, fields, models

from ..exceptions import ReminderOptOutError
from ..tools.keywords import classify
from .account_payment_reminder_level import channel_label

_logger = logging.getLogger(__name__)


class AccountPaymentReminderMessage(models.Model):
    _inherit = "account.payment.reminder.message"

    # === RECEIPTS AND REPLIES (webhooks) === #

    @api.model
    def _process_receipt(self, gateway, provider_message_id, state, when=None, code=None, reason=None):
        """Apply a delivery receipt for a message sent through ``gateway`` (one
        or several gateways). Unknown ids, unknown states, late and repeated
        receipts change nothing. A delivery failure is recorded and its
        fallback left to the scheduler, which is woken up: a webhook answers
        at once and never calls a provider."""
        if not provider_message_id or not state:
            return self.browse()
        message = self.search(
            [("provider_message_id", "=", provider_message_id), ("gateway_id", "in", gateway.ids)], limit=1
        )
        if not message:
            _logger.info("Payment reminder receipt for unknown message %s ignored", provider_message_id)
            return message
        if state != "failed":
            return message._apply_status(state, when=when)
        provider = message.provider or "mail"
        error = self.env[f"account.payment.reminder.provider.{provider}"]._get_receipt_error(code, reason)
        text = error.message(message.lang or self.env.lang)
        moved = message._apply_status("failed", when=when, code=error.code, reason=error.terms())
        if moved:
            _logger.warning("Payment reminder %s not delivered: %s", message.id, text)
            if isinstance(error, ReminderOptOutError):
                message.partner_id._payment_reminder_set_opt_out(message.channel, text)
            message._log_in_chatter()
            message.fallback_pending = True
            self.env.ref("account_payment_reminder.ir_cron_dispatch_messages")._trigger()
        return moved

    @api.model
    def _process_bounce(self, message_ids, reason=None):
        """Odoo's mail gateway received a bounce for the e-mails of these
        Message-Ids: the reminders among them fail as for a failed receipt
        (their fallback left to the scheduler)."""
        if not message_ids:
            return self.browse()
        moved = self.browse()
        for message in self.search([("channel", "=", "email"), ("provider_message_id", "in", message_ids)]):
            moved |= self._process_receipt(
                message.gateway_id, message.provider_message_id, "failed", code="mail_bounce", reason=reason
            )
        return moved

    @api.model
    def _process_inbound(self, gateway, channel, number, text, reply=None, when=None):
        """An inbound SMS or WhatsApp message: opens WhatsApp's 24-hour window,
        records START, and hands the rest to the reader of replies (a STOP is
        an opt-out from this channel; a promise, a dispute, a plan request or
        "paid" a proposal for the accountant). Returns the customer."""
        when = when or fields.Datetime.now()
        partner = self._find_partner_by_number(number, gateway)
        if not partner:
            _logger.info("Inbound %s from an unknown number ignored", channel)
            return partner
        customer = partner.commercial_partner_id
        if channel == "whatsapp":
            customer.payment_reminder_wa_last_inbound = max(when, customer.payment_reminder_wa_last_inbound or when)
        if classify(text) == "start":
            if customer[f"payment_reminder_optout_{channel}"]:
                customer.write({f"payment_reminder_optout_{channel}": False, "payment_reminder_optout_note": False})
                customer._message_log(
                    body=_("Opted in again to %(channel)s payment reminders.", channel=channel_label(self.env, channel))
                )
            return customer
        reminder = self.search(
            [("partner_id", "=", customer.id), ("channel", "=", channel), ("recipient", "=", number)], limit=1
        ) or self.search([("partner_id", "=", customer.id)], limit=1)
        self.env["account.payment.reminder.response"]._record_reply(
            customer, channel, text or reply, reminder, sender=number
        )
        return customer

    @api.model
    def _find_partner_by_number(self, number, gateway):
        """The contact a number belongs to, among those ``gateway`` serves (its
        company, or every company for a shared gateway): the recipient of our
        last message through this gateway to that number, else a contact with
        that number in one of the gateway's companies or in none."""
        last = self.search(
            [("gateway_id", "=", gateway.id), ("recipient", "=", number), ("channel", "in", ("sms", "whatsapp"))],
            limit=1,
        )
        if last:
            return last.recipient_partner_id
        domain = [("phone_sanitized", "=", number)]
        if gateway.company_id:
            domain.append(("company_id", "in", (gateway.company_id.id, False)))
        # sudo: webhooks run as public; the number identifies the customer, the gateway bounds the companies
        return self.env["res.partner"].sudo().search(domain, limit=1)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
