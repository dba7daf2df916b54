from odoo import api, fields, models

INTEREST_TYPES = [
    ("reference", "Reference rate plus margin"),
    ("fixed", "Fixed rate"),
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
    interest_margin = fields.Float("Margin (points)", digits=(16, 4))
    interest_fixed_rate = fields.Float("Fixed Rate (%)", digits=(16, 4))
    grace_days = fields.Integer("Days of Grace")
    currency_id = fields.Many2one(
        "res.currency", "Currency of the Amounts", help="Converted to the company's currency when applied."
    )
    fee_fixed = fields.Monetary("Fixed Compensation", help="Per invoice, when there are no tiers.")
    tier_ids = fields.One2many("account.payment.reminder.late.fee.tier", "preset_id", "Compensation Tiers")
    partner_scope = fields.Selection(PARTNER_SCOPES, "Charge", default="company", required=True)
    legal_ref = fields.Char("Legal Reference", translate=True, help="Short, for SMS: e.g. Directive 2011/7/EU.")
    legal_text = fields.Text("Legal Basis", translate=True, help="What the reminder says about the charges.")
    note = fields.Text(translate=True, help="What the admin must complete or check after picking this preset.")


class AccountPaymentReminderLateFeeTier(models.Model):
    """A fixed compensation that depends on the invoice amount (UK: 40, 70
    or 100 GBP): the compensation of the highest tier the invoice reaches."""

    _name = "account.payment.reminder.late.fee.tier"
    _description = "Late-Payment Compensation Tier"
    _order = "amount_from, id"

    policy_id = fields.Many2one("account.payment.reminder.policy", ondelete="cascade", index="btree_not_null")
    preset_id = fields.Many2one("account.payment.reminder.late.fee.preset", ondelete="cascade", index="btree_not_null")
    company_id = fields.Many2one(related="policy_id.company_id", store=True, index="btree_not_null")
    currency_id = fields.Many2one("res.currency", compute="_compute_currency_id")
    amount_from = fields.Monetary("Invoices From", help="Invoice total (company currency) from which this applies.")
    fee = fields.Monetary("Compensation", required=True)

    _sql_constraints = [
        ("one_owner", "CHECK((policy_id IS NULL) != (preset_id IS NULL))", "A tier belongs to a policy or a preset."),
        ("positive", "CHECK(amount_from >= 0 AND fee >= 0)", "Tier amounts cannot be negative."),
    ]

    @api.depends("policy_id.currency_id", "preset_id.currency_id")
    def _compute_currency_id(self):
        for tier in self:
            tier.currency_id = tier.policy_id.currency_id or tier.preset_id.currency_id or self.env.company.currency_id
