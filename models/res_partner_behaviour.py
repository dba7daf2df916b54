"""The customer's payment behaviour (account.payment.reminder.behaviour) on the customer."""

from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    payment_reminder_behaviour_summary = fields.Char(
        "Payment Behaviour",
        compute="_compute_payment_reminder_behaviour_summary",
        groups="account.group_account_invoice",
        help="How this customer has paid the company: days late, share on time, promises and plans kept, the "
        "trend. Recomputed each day by the scheduler.",
    )

    def _get_payment_reminder_behaviour(self):
        """The current company's behaviour rows of these customers (their
        commercial partners): one row for one customer, empty without one."""
        return self.env["account.payment.reminder.behaviour"].search(
            [("company_id", "=", self.env.company.id), ("partner_id", "in", self.commercial_partner_id.ids)]
        )

    def _compute_payment_reminder_behaviour_summary(self):
        rows = {row.partner_id: row for row in self._get_payment_reminder_behaviour()}
        for partner in self:
            row = rows.get(partner.commercial_partner_id)
            partner.payment_reminder_behaviour_summary = row.summary if row else self.env._("No payment history yet")
