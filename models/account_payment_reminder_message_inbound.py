"""Receipts and replies: what the webhooks hand over."""

import logging

from odoo import _, api, fields, models

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
            if error.opt_out:
                message.partner_id._payment_reminder_set_opt_out(message.channel, text)
            message._log_in_chatter()
            message.fallback_pending = True
            self.env.ref("account_payment_reminder.ir_cron_send_reminders")._trigger()
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
    def _cron_process_fallbacks(self):
        """Queue the fallback of the messages that a delivery receipt failed;
        the run that calls this sends them. A message whose fallback cannot be
        queued keeps the reason and never stops the others."""
        pending = self.search([("fallback_pending", "=", True)], order="id")
        queued = self.browse()
        for message in pending:
            try:
                with self.env.cr.savepoint():
                    queued |= message._fallback()
                    message.fallback_pending = False
            except Exception as error:  # noqa: BLE001 - one broken message never stops the others
                _logger.exception("Payment reminder %s: the fallback could not be queued", message.id)
                message.write(
                    {
                        "fallback_pending": False,
                        "failure_reason": _(
                            "%(reason)s (The next channel could not be queued: %(error)s)",
                            reason=message.failure_reason or "",
                            error=error,
                        ),
                    }
                )
        return queued

    @api.model
    def _process_inbound(self, gateway, channel, number, text, reply=None, when=None):
        """An inbound SMS or WhatsApp message: opens WhatsApp's 24-hour window,
        records STOP (and START) and hands other replies to the accountant."""
        when = when or fields.Datetime.now()
        partner = self._find_partner_by_number(number, gateway)
        if not partner:
            _logger.info("Inbound %s from an unknown number ignored", channel)
            return partner
        customer = partner.commercial_partner_id
        if channel == "whatsapp":
            customer.payment_reminder_wa_last_inbound = max(when, customer.payment_reminder_wa_last_inbound or when)
        keyword = classify(text)
        if keyword == "stop":
            customer._payment_reminder_set_opt_out(
                channel, _("Replied %(text)s on %(date)s", text=text.strip(), date=fields.Datetime.to_string(when))
            )
        elif keyword == "start" and customer[f"payment_reminder_optout_{channel}"]:
            customer.write({f"payment_reminder_optout_{channel}": False, "payment_reminder_optout_note": False})
            customer._message_log(
                body=_("Opted in again to %(channel)s payment reminders.", channel=channel_label(self.env, channel))
            )
        else:
            customer._payment_reminder_handle_reply(channel, number, text, reply)
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
