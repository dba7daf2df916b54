"""What Odoo's mail gateway hands over: a bounce fails the reminder e-mail
that bounced (its fallback follows); a reply to a reminder e-mail becomes a
customer response, read by tools/replies.py (the reminder e-mails are sent
without a document, so Odoo alone would find no thread for the reply)."""

from odoo import api, models
from odoo.tools import html2plaintext
from odoo.tools.mail import mail_header_msgid_re


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    @api.model
    def _routing_handle_bounce(self, email_message, message_dict):
        result = super()._routing_handle_bounce(email_message, message_dict)
        reason = _get_diagnostic(email_message) or html2plaintext(message_dict.get("body") or "")
        # sudo: the mail gateway runs as whoever fetches the mail, reminders are the accountants'
        self.env["account.payment.reminder.message"].sudo()._process_bounce(
            message_dict.get("bounced_msg_ids") or [], reason
        )
        return result

    @api.model
    def message_route(self, message, message_dict, model=None, thread_id=None, custom_values=None):
        """A reply to a reminder e-mail (its In-Reply-To or References name
        the reminder's Message-Id) goes to a new customer response for that
        reminder, unless it answers a thread Odoo knows."""
        if not message_dict.get("is_bounce"):
            reminder = self._find_replied_reminder(message_dict)
            if reminder:
                user_id = self._mail_find_user_for_gateway(message_dict.get("email_from")).id or self.env.uid
                route = self._routing_check_route(
                    message,
                    message_dict,
                    (
                        "account.payment.reminder.response",
                        False,
                        {"payment_reminder_message_id": reminder.id},
                        user_id,
                        None,
                    ),
                    raise_exception=False,
                )
                if route:
                    message_dict.pop("parent_id", None)  # the reminder's mail is no thread of the response
                    return [route]
        return super().message_route(
            message, message_dict, model=model, thread_id=thread_id, custom_values=custom_values
        )

    @api.model
    def _find_replied_reminder(self, message_dict):
        """The reminder e-mail a message answers, if it answers one (the
        last of its references that is a reminder)."""
        references = mail_header_msgid_re.findall(
            f"{message_dict.get('references') or ''} {message_dict.get('in_reply_to') or ''}"
        )[-32:]
        Reminder = self.env["account.payment.reminder.message"]
        # sudo: the mail gateway runs as whoever fetches the mail; only whether a thread exists is read
        if not references or self.env["mail.message"].sudo().search_count(
            [("message_id", "in", references), ("model", "!=", False), ("res_id", "!=", False)], limit=1
        ):
            return Reminder
        # sudo: the mail gateway runs as whoever fetches the mail, reminders are the accountants'
        return Reminder.sudo().search(
            [("channel", "=", "email"), ("provider_message_id", "in", references)], order="id desc", limit=1
        )


def _get_diagnostic(email_message):
    """The receiving server's own words in a delivery status notification
    (RFC 3464 ``Diagnostic-Code: smtp; 550 5.1.1 ... User unknown``), if any."""
    report = next((part for part in email_message.walk() if part.get_content_type() == "message/delivery-status"), None)
    if not report or len(report.get_payload()) < 2:
        return None
    recipient_fields = report.get_payload()[1]
    diagnostic = recipient_fields.get("Diagnostic-Code") or ""
    return diagnostic.split(";", 1)[-1].strip() or None
