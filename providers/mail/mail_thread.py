"""E-mail bounces: Odoo's mail gateway hands them over, the reminder e-mail
that bounced fails and its fallback follows."""

from odoo import api, models
from odoo.tools import html2plaintext


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


def _get_diagnostic(email_message):
    """The receiving server's own words in a delivery status notification
    (RFC 3464 ``Diagnostic-Code: smtp; 550 5.1.1 ... User unknown``), if any."""
    report = next((part for part in email_message.walk() if part.get_content_type() == "message/delivery-status"), None)
    if not report or len(report.get_payload()) < 2:
        return None
    recipient_fields = report.get_payload()[1]
    diagnostic = recipient_fields.get("Diagnostic-Code") or ""
    return diagnostic.split(";", 1)[-1].strip() or None
