"""The provider contract, and the two providers every database has.

A provider is an AbstractModel named ``account.payment.reminder.provider.<code>``
where ``<code>`` is the gateway's ``provider`` selection value. To add one:
``selection_add`` the code on the gateway, add its credential fields there
(``groups="base.group_system"``), and write one class inheriting
``account.payment.reminder.provider`` that implements ``_send``.
"""

import json
import uuid

from odoo import _, api, models

from ..exceptions import ReminderProviderError
from ..models.account_payment_reminder_level import channel_label


class AccountPaymentReminderProvider(models.AbstractModel):
    _name = "account.payment.reminder.provider"
    _description = "Payment Reminder Provider (contract)"

    @api.model
    def _get_supported_channels(self):
        """The channels this provider can carry: a subset of email/whatsapp/sms."""
        return set()

    @api.model
    def _send(self, gateway, message):
        """Hand one message to the provider. Never called inside an open
        transaction that holds locks the rest of Odoo waits for.

        :param gateway: the ``account.payment.reminder.gateway`` record (sudo)
        :param message: the ``account.payment.reminder.message`` to send; its
            ``recipient``, ``subject``, ``body`` and ``body_html`` are final
        :return: dict with ``provider_message_id`` and optionally ``state``
            (``sent`` by default, ``delivered`` when the provider knows),
            ``segments``, ``cost``, ``payload`` (what went out, for the record)
        :raise ReminderProviderError: the provider refused or failed
        """
        raise NotImplementedError()

    @api.model
    def _check_connection(self, gateway):
        """Check the credentials; return a sentence for the user or raise UserError."""
        return _("Nothing to check for this provider.")

    @api.model
    def _get_webhook_path(self, gateway):
        """The path (after the base URL) where the provider posts receipts and
        replies, or None when it has no webhook."""
        return None

    @api.model
    def _get_receipt_error(self, code, reason):
        """The ReminderProviderError a failed delivery receipt stands for
        (human reason, transient or not, opt-out or not)."""
        return ReminderProviderError(reason or _("Not delivered."), code=code)

    @api.model
    def _check_whatsapp_free_text(self, message, code):
        """WhatsApp takes free text (no approved template) only within 24 hours
        of the customer's last message; raise ``code``'s error otherwise."""
        if not message.recipient_partner_id._payment_reminder_whatsapp_window_open():
            raise self._get_receipt_error(code, None)


class AccountPaymentReminderProviderMail(models.AbstractModel):
    _name = "account.payment.reminder.provider.mail"
    _inherit = "account.payment.reminder.provider"
    _description = "Payment Reminder Provider: Odoo e-mail"

    @api.model
    def _get_supported_channels(self):
        return {"email"}

    @api.model
    def _send(self, gateway, message):
        mail = self.env["mail.mail"].sudo().create(self._prepare_mail_values(message))  # sudo: outgoing mail queue
        mail.send(raise_exception=False)
        self._check_sent(mail)
        return {"provider_message_id": mail.message_id, "mail_id": mail.id}

    @api.model
    def _get_receipt_error(self, code, reason):
        if code == "mail_bounce":
            # a bounce's text runs for pages: its first line says why ("550 5.1.1 <ap@...>: mailbox unknown")
            detail = next((line.strip() for line in (reason or "").splitlines() if line.strip()), None)
            return ReminderProviderError(
                _("The e-mail bounced: the customer's mail server refused it."),
                code=code,
                detail=detail and detail[:200],
            )
        return super()._get_receipt_error(code, reason)

    @api.model
    def _check_sent(self, mail):
        """Raise the ReminderProviderError of a mail Odoo could not send."""
        if mail.state == "exception":
            failure = mail.failure_type or "unknown"
            # Odoo's own words for the failure ("Connection failed (outgoing mail server problem)"), then
            # the server's ("111 Connection refused") as the detail
            label = dict(mail._fields["failure_type"]._description_selection(self.env)).get(failure)
            raise ReminderProviderError(
                label or _("The mail server refused the message."),
                code=failure,
                transient=failure in ("mail_smtp", "unknown"),
                detail=(mail.failure_reason or "").strip().splitlines()[-1:][0] if mail.failure_reason else None,
            )

    @api.model
    def _prepare_mail_values(self, message):
        return {
            "subject": message.subject,
            "body_html": message.body_html,
            "email_from": message.email_from or message.company_id.email_formatted,
            "email_to": message.recipient,
            "reply_to": message.company_id.email_formatted or False,
            "headers": repr(message._get_email_headers()),
            "auto_delete": False,
            "model": False,
            "res_id": False,
        }


class AccountPaymentReminderProviderSandbox(models.AbstractModel):
    """Records what would be sent and sends nothing; for demos and tests.

    Recipients can ask for a failure, to show fallbacks: an e-mail address in
    the reserved ``.invalid`` domain bounces; a phone number ending in 0000 is
    not on WhatsApp and cannot receive SMS.
    """

    _name = "account.payment.reminder.provider.sandbox"
    _inherit = "account.payment.reminder.provider"
    _description = "Payment Reminder Provider: Sandbox"

    @api.model
    def _get_supported_channels(self):
        return {"email", "whatsapp", "sms"}

    @api.model
    def _send(self, gateway, message):
        recipient = message.recipient or ""
        if message.channel == "email" and recipient.endswith(".invalid"):
            raise ReminderProviderError(_("Mailbox does not exist (sandbox)."), code="sandbox_bounce")
        if message.channel != "email" and recipient.endswith("0000"):
            raise ReminderProviderError(
                _(
                    "This number cannot receive %(channel)s messages (sandbox).",
                    channel=channel_label(self.env, message.channel),
                ),
                code="sandbox_unreachable",
            )
        payload = {
            "channel": message.channel,
            "to": recipient,
            "subject": message.subject or None,
            "text": message.body,
        }
        if message.whatsapp_template_id:
            params, suffix = message._get_whatsapp_values()
            payload.update(template=message.whatsapp_template_id.template_name, params=params, button=suffix)
        return {
            "provider_message_id": f"sandbox-{uuid.uuid4().hex}",
            "segments": message.segments,
            "payload": json.dumps(payload, ensure_ascii=False, indent=1),
        }
