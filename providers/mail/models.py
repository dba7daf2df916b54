"""Odoo e-mail: the reminder goes out as a ``mail.mail`` through the
database's outgoing mail servers; bounces come back through Odoo's mail
gateway (``mail_thread.py``)."""

from odoo import Command, _, api, models

from ...exceptions import ReminderPermanentError, ReminderRetryableError

# mail.mail failure types that may pass if tried again later
RETRYABLE_FAILURES = {"mail_smtp", "unknown"}


class AccountPaymentReminderProviderMail(models.AbstractModel):
    _name = "account.payment.reminder.provider.mail"
    _inherit = "account.payment.reminder.provider"
    _description = "Payment Reminder Provider: Odoo e-mail"

    @api.model
    def _get_supported_channels(self):
        return {"email"}

    @api.model
    def _send(self, gateway, payload):
        mail = self.env["mail.mail"].sudo().create(self._prepare_mail_values(payload))  # sudo: outgoing mail queue
        mail.send(raise_exception=False)
        self._check_sent(mail)
        return {"provider_message_id": mail.message_id, "mail_id": mail.id}

    @api.model
    def _get_receipt_error(self, code, reason):
        if code == "mail_bounce":
            # a bounce's text runs for pages: its first line says why ("550 5.1.1 <ap@...>: mailbox unknown")
            detail = next((line.strip() for line in (reason or "").splitlines() if line.strip()), None)
            return ReminderPermanentError(
                _("The e-mail bounced: the customer's mail server refused it."),
                code=code,
                detail=detail and detail[:200],
            )
        return super()._get_receipt_error(code, reason)

    @api.model
    def _check_sent(self, mail):
        """Raise the typed error of a mail Odoo could not send."""
        if mail.state == "exception":
            failure = mail.failure_type or "unknown"
            # Odoo's own words for the failure ("Connection failed (outgoing mail server problem)"), then
            # the server's ("111 Connection refused") as the detail
            label = dict(mail._fields["failure_type"]._description_selection(self.env)).get(failure)
            error_class = ReminderRetryableError if failure in RETRYABLE_FAILURES else ReminderPermanentError
            raise error_class(
                label or _("The mail server refused the message."),
                code=failure,
                detail=(mail.failure_reason or "").strip().splitlines()[-1:][0] if mail.failure_reason else None,
            )

    @api.model
    def _prepare_mail_values(self, payload):
        return {
            "subject": payload.subject or False,
            "body_html": payload.body_html,
            "email_from": payload.email_from or False,
            "email_to": payload.recipient,
            "email_cc": payload.email_cc or False,
            "attachment_ids": [Command.set(list(payload.attachment_ids))],
            "reply_to": payload.reply_to or False,
            "headers": repr(payload.headers),
            "auto_delete": False,
            "model": False,
            "res_id": False,
        }
