"""Messages and the reminder page: every message links to its customer's
page, e-mails carry a one-click unsubscribe (RFC 8058), and each message
records what the customer did on the page after it."""

from odoo import fields, models

from .account_payment_reminder_response import KINDS


class AccountPaymentReminderMessage(models.Model):
    _inherit = "account.payment.reminder.message"

    response_ids = fields.One2many("account.payment.reminder.response", "message_id", "Customer Responses")
    response_kind = fields.Selection(
        KINDS,
        "Customer's Response",
        readonly=True,
        index="btree_not_null",
        help="What the customer did first on the reminder page after this message.",
    )
    response_date = fields.Datetime("Responded On", readonly=True)

    def _ensure_portal_access(self):
        """A valid page link for the customers of these messages, before they
        render: their invoices' payment link is that page."""
        # sudo: links are written by code only; the messages' customers and companies are the scope
        self.env["account.payment.reminder.access"].sudo()._ensure(
            {(message.partner_id, message.company_id) for message in self}
        )
        self.env["account.move"].invalidate_model(["payment_reminder_url"])

    def _get_email_headers(self, urls=None):
        """The one-click unsubscribe headers of an e-mail (RFC 8058): a POST to
        the link turns the customer's e-mail reminders off.

        :param urls: ``_get_unsubscribe_urls()`` of the messages being sent, when
            the caller read them at once
        """
        self.ensure_one()
        if urls is None:
            urls = self._get_unsubscribe_urls()
        url = urls.get((self.partner_id.id, self.company_id.id))
        if not url:
            return {}
        return {"List-Unsubscribe": f"<{url}/unsubscribe>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}

    def _get_unsubscribe_urls(self):
        """{(customer id, company id): its page's URL} for these messages, in one search."""
        # sudo: links are written by code only; these messages' customers and companies are the scope
        Access = self.env["account.payment.reminder.access"].sudo()
        urls = {}
        for access in Access.search(Access._get_valid_domain(self.partner_id, self.company_id)):
            urls.setdefault((access.partner_id.id, access.company_id.id), access.url)  # newest first
        return urls

    def _record_response(self, response):
        """The customer acted on the page after this message: the first action counts."""
        self.filtered(lambda m: not m.response_kind).write(
            {"response_kind": response.kind, "response_date": response.create_date}
        )
