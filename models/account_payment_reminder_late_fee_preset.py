from odoo import api, fields, models

from .account_payment_reminder_late_reference_rate import REFERENCE_RATE_SOURCES

INTEREST_TYPES = [
    ("reference", "Reference rate plus margin"),
    ("fixed", "Fixed rate"),
]
IMPUTATION_ORDERS = [
    ("principal", "The debt first"),
    ("costs_interest_principal", "Costs, then interest, then the debt"),
]
PARTNER_SCOPES = [
    ("company", "Business customers only"),
    ("person", "Consumers only"),
    ("all", "Every customer"),
]


class AccountPaymentReminderLateFeePreset(models.Model):
    """What the law (or a contract) says about late payment, ready to copy
    onto a policy: the admin picks one and completes it (the reference rate
    in force, the accounts). Shipped: EU directive, France, Germany between
    businesses and with consumers, United Kingdom, contractual terms."""

    _name = "account.payment.reminder.late.fee.preset"
    _description = "Late-Payment Charges Preset"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    country_id = fields.Many2one("res.country", help="Where this preset applies; empty for a set of countries.")
    interest_type = fields.Selection(INTEREST_TYPES, default="reference", required=True)
    reference_rate_name = fields.Char(
        "Reference Rate", help="Which rate the margin is added to, e.g. the ECB main refinancing rate."
    )
    reference_rate_source = fields.Selection(
        REFERENCE_RATE_SOURCES,
        "Reference Rates",
        help="The published rates kept by half-year that the margin is added to; empty: the policy's own rate.",
    )
    reference_rate_fixed = fields.Boolean(
        "Rate Fixed When Interest Starts",
        help="United Kingdom (SI 2002/1675 art. 4): the reference rate of the half-year in which interest starts "
        "applies to the whole debt. Otherwise each day is charged at its own half-year's rate.",
    )
    interest_margin = fields.Float("Margin (points)", digits=(16, 4))
    interest_fixed_rate = fields.Float("Fixed Rate (%)", digits=(16, 4))
    grace_days = fields.Integer("Days of Grace")
    currency_id = fields.Many2one(
        "res.currency",
        "Currency of the Amounts",
        help="The currency the law states the fixed sums and tiers in (EUR 40, GBP 40/70/100); they stay in it on "
        "the policy and are converted to the invoice's currency on the charge date when it differs.",
    )
    fee_fixed = fields.Monetary("Fixed Compensation", help="Per invoice, when there are no tiers.")
    tier_ids = fields.One2many("account.payment.reminder.late.fee.tier", "preset_id", "Compensation Tiers")
    partner_scope = fields.Selection(PARTNER_SCOPES, "Charge", default="company", required=True)
    charge_paid_late = fields.Boolean(
        "Charge Invoices Paid Late", help="The interest and compensation stay owed when a late invoice is paid."
    )
    imputation_order = fields.Selection(
        IMPUTATION_ORDERS,
        "A Partial Payment Pays",
        default="principal",
        required=True,
        help="Germany (BGB § 367): costs first, then interest, then the debt, so interest keeps running on more.",
    )
    consumer_30_days = fields.Boolean(
        "Consumers: 30 Days After the Invoice",
        help="BGB § 286 (3): a consumer whose invoice has no fixed calendar due date is late 30 days after the due "
        "date and the invoice (when the invoice says so).",
    )
    legal_ref = fields.Char("Legal Reference", translate=True, help="Short, for SMS: e.g. Directive 2011/7/EU.")
    legal_text = fields.Text("Legal Basis", translate=True, help="What the reminder says about the charges.")
    note = fields.Text(translate=True, help="What the admin must complete or check after picking this preset.")


class AccountPaymentReminderLateFeeTier(models.Model):
    """A fixed compensation that depends on the invoice amount (UK: 40, 70
    or 100 GBP): the compensation of the highest tier the invoice reaches,
    both in the currency the law states (the policy's or preset's)."""

    _name = "account.payment.reminder.late.fee.tier"
    _description = "Late-Payment Compensation Tier"
    _order = "amount_from, id"

    policy_id = fields.Many2one("account.payment.reminder.policy", ondelete="cascade", index="btree_not_null")
    preset_id = fields.Many2one("account.payment.reminder.late.fee.preset", ondelete="cascade", index="btree_not_null")
    company_id = fields.Many2one(related="policy_id.company_id", store=True, index="btree_not_null")
    currency_id = fields.Many2one("res.currency", compute="_compute_currency_id")
    amount_from = fields.Monetary(
        "Invoices From", help="Invoice total (in the tier's currency, the law's) from which this applies."
    )
    fee = fields.Monetary("Compensation", required=True)

    _sql_constraints = [
        ("one_owner", "CHECK((policy_id IS NULL) != (preset_id IS NULL))", "A tier belongs to a policy or a preset."),
        ("positive", "CHECK(amount_from >= 0 AND fee >= 0)", "Tier amounts cannot be negative."),
    ]

    @api.depends("policy_id.late_fee_currency_id", "preset_id.currency_id")
    def _compute_currency_id(self):
        for tier in self:
            tier.currency_id = (
                tier.policy_id.late_fee_currency_id or tier.preset_id.currency_id or self.env.company.currency_id
            )
