from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

PLAN_FREQUENCIES = ("weekly", "biweekly", "monthly")


class AccountPaymentReminderPolicy(models.Model):
    """What customers may do on the reminder page, per policy."""

    _inherit = "account.payment.reminder.policy"

    portal_promise_max_days = fields.Integer(
        "Promise Within (days)",
        default=30,
        help="Customers may promise to pay on the reminder page up to this many days ahead. 0: no promises there.",
    )
    portal_plan_max_instalments = fields.Integer(
        "Instalments Up To",
        default=6,
        help="Customers may ask for a payment plan of 2 up to this many instalments. Less than 2: no plans there.",
    )
    portal_plan_weekly = fields.Boolean("Weekly Instalments")
    portal_plan_biweekly = fields.Boolean("Instalments Every Two Weeks", default=True)
    portal_plan_monthly = fields.Boolean("Monthly Instalments", default=True)
    portal_plan_min_instalment = fields.Monetary(
        "Minimum Instalment", currency_field="currency_id", default=50.0, help="In company currency."
    )
    portal_plan_auto_amount = fields.Monetary(
        "Start Plans Up To",
        currency_field="currency_id",
        default=5000.0,
        help="A plan the customer asks for starts at once when it covers at most this amount (company currency) "
        "and the customer broke no plan recently; otherwise it waits for approval. 0: every plan waits.",
    )
    portal_plan_broken_months = fields.Integer(
        "No Broken Plan For (months)",
        default=12,
        help="A customer who broke a payment plan within this many months waits for approval.",
    )
    portal_review_days = fields.Integer(
        "Hold For Review (days)",
        default=14,
        help="Invoices reported as paid or disputed, or in a plan request, wait this long for the accountant's "
        "review before reminders resume.",
    )

    @api.constrains(
        "portal_promise_max_days",
        "portal_plan_max_instalments",
        "portal_plan_min_instalment",
        "portal_plan_auto_amount",
        "portal_plan_broken_months",
        "portal_review_days",
    )
    def _check_portal_options(self):
        for policy in self:
            values = (
                policy.portal_promise_max_days,
                policy.portal_plan_max_instalments,
                policy.portal_plan_min_instalment,
                policy.portal_plan_auto_amount,
                policy.portal_plan_broken_months,
                policy.portal_review_days,
            )
            if any(value < 0 for value in values):
                raise ValidationError(_("The reminder page's limits cannot be negative."))

    def _get_portal_plan_options(self):
        """{'counts': the instalment counts offered, 'max_count', 'frequencies'}."""
        self.ensure_one()
        max_count = self.portal_plan_max_instalments
        return {
            "max_count": max_count,
            "counts": list(range(2, max_count + 1)),
            "frequencies": [code for code in PLAN_FREQUENCIES if self[f"portal_plan_{code}"]],
        }

    def _get_portal_plan_minimum(self, currency):
        """The minimum instalment in ``currency``."""
        self.ensure_one()
        return self.currency_id._convert(
            self.portal_plan_min_instalment, currency, self.company_id, fields.Date.context_today(self)
        )

    def _portal_plan_approves(self, partner, amount, currency):
        """Whether a plan of ``amount`` starts without the accountant: at most
        the policy's amount, and no plan of the customer broken recently."""
        self.ensure_one()
        limit = self.portal_plan_auto_amount
        in_company = currency._convert(amount, self.currency_id, self.company_id, fields.Date.context_today(self))
        if not limit or self.currency_id.compare_amounts(in_company, limit) > 0:
            return False
        since = fields.Datetime.now() - relativedelta(months=self.portal_plan_broken_months)
        # a plan's last change is when it broke, or later (nothing changes a broken plan but its notes)
        broken = self.env["account.payment.reminder.plan"].search_count(
            [("partner_id", "=", partner.id), ("state", "=", "broken"), ("write_date", ">=", since)], limit=1
        )
        return not broken
