from odoo import api, fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    payment_reminder_policy_id = fields.Many2one(
        "account.payment.reminder.policy",
        domain="[('company_id', '=', id)]",
        help="The policy that chases this company's customer invoices, unless a customer or an invoice has its own.",
    )
    payment_reminder_link_days = fields.Integer(
        "Reminder Link Validity (days)",
        default=30,
        help="How long the link in a reminder opens the customer's page; the customer can ask for a fresh one.",
    )

    def _payment_reminder_install_policies(self):
        """Give every company without a policy a copy of the shipped default."""
        # sudo: the default policy belongs to the main company, which the creator of a company may not see
        default = self.env.ref("account_payment_reminder.policy_default", raise_if_not_found=False).sudo()
        if not default:
            return
        companies = (self or self.search([])).sudo()
        for company in companies.filtered(lambda c: not c.payment_reminder_policy_id):
            if default.company_id == company:
                company.payment_reminder_policy_id = default
            else:
                company.payment_reminder_policy_id = default.copy({"company_id": company.id, "name": default.name})

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        companies._payment_reminder_install_policies()
        return companies

    def _get_payment_reminder_link_days(self):
        self.ensure_one()
        return max(self.payment_reminder_link_days, 1)
