"""Late-payment charges on the policy (what is charged, how it is booked) and
on the level (when it is charged). The computation is in tools/late_charges.py,
the charging in account_payment_reminder_run_late_charge.py."""

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import format_date

from .account_payment_reminder_late_fee_preset import INTEREST_TYPES, PARTNER_SCOPES

PRESET_FIELDS = {
    # preset field: policy field
    "interest_type": "late_interest_type",
    "reference_rate_name": "late_reference_rate_name",
    "interest_margin": "late_interest_margin",
    "interest_fixed_rate": "late_interest_fixed_rate",
    "grace_days": "late_grace_days",
    "partner_scope": "late_fee_partner_scope",
    "legal_ref": "late_fee_legal_ref",
    "legal_text": "late_fee_legal_text",
}
REFERENCE_RATE_MAX_AGE_DAYS = 184  # reference rates are set every six months
TRANSLATED_FIELDS = {"legal_ref": "late_fee_legal_ref", "legal_text": "late_fee_legal_text"}


class AccountPaymentReminderPolicy(models.Model):
    _inherit = "account.payment.reminder.policy"

    late_charges_enabled = fields.Boolean(
        "Charge Late Payments",
        help="Charge interest and a fixed compensation at the levels that charge them (the final notice).",
    )
    late_fee_preset_id = fields.Many2one(
        "account.payment.reminder.late.fee.preset",
        "Legal Preset",
        help="Fills in the rates, compensation and legal text of a country's law or of contractual terms; "
        "complete them (the reference rate in force) and adjust as needed.",
    )
    late_fee_preset_note = fields.Text(related="late_fee_preset_id.note", string="What to Complete")
    late_interest_type = fields.Selection(INTEREST_TYPES, "Interest", default="reference", required=True)
    late_reference_rate_name = fields.Char("Reference Rate", help="E.g. the ECB main refinancing rate.")
    late_reference_rate = fields.Float(
        "Reference Rate (%)", digits=(16, 4), help="Keep it current: nothing is fetched."
    )
    late_reference_rate_date = fields.Date("Reference Rate Since", help="When the reference rate above took effect.")
    late_interest_margin = fields.Float("Margin (points)", digits=(16, 4))
    late_reference_rate_warning = fields.Char(compute="_compute_late_reference_rate_warning")
    late_interest_fixed_rate = fields.Float("Fixed Rate (%)", digits=(16, 4))
    late_interest_rate = fields.Float(
        "Annual Interest Rate (%)",
        digits=(16, 4),
        compute="_compute_late_interest_rate",
        inverse="_inverse_late_interest_rate",
        store=True,
        help="The total annual rate that applies now: the reference rate plus the margin, or the fixed rate. "
        "Each charge uses the rate in force on its date.",
    )
    late_grace_days = fields.Integer("Days of Grace", help="Days after the due date that are never charged.")
    late_fee_fixed = fields.Monetary(
        "Fixed Compensation",
        currency_field="currency_id",
        help="Charged once per invoice, ever (company currency, converted to the invoice's currency on the "
        "charge date); unused when there are tiers.",
    )
    late_fee_tier_ids = fields.One2many(
        "account.payment.reminder.late.fee.tier", "policy_id", "Compensation Tiers", copy=True
    )
    late_fee_partner_scope = fields.Selection(
        PARTNER_SCOPES,
        "Charge",
        default="company",
        required=True,
        help="Consumer law differs: by default only business customers (companies) are charged.",
    )
    late_fee_min_amount = fields.Monetary(
        "Minimum Charge",
        currency_field="currency_id",
        help="Charges below this total (company currency) are not made; their days stay chargeable later.",
    )
    late_fee_legal_ref = fields.Char(
        "Legal Reference", translate=True, help="Short, for SMS: e.g. Directive 2011/7/EU."
    )
    late_fee_legal_text = fields.Text(
        "Legal Basis", translate=True, help="What the reminder says about the charges, in the customer's language."
    )
    late_fee_product_id = fields.Many2one(
        "product.product", "Product", check_company=True, help="Put on the charge lines (for reporting)."
    )
    late_interest_account_id = fields.Many2one(
        "account.account",
        "Interest Account",
        check_company=True,
        domain="[('account_type', 'in', ('income', 'income_other'))]",
        help="Default: the product's income account, else the journal's.",
    )
    late_fee_account_id = fields.Many2one(
        "account.account",
        "Compensation Account",
        check_company=True,
        domain="[('account_type', 'in', ('income', 'income_other'))]",
        help="Default: the product's income account, else the journal's.",
    )
    late_fee_journal_id = fields.Many2one(
        "account.journal",
        "Journal",
        check_company=True,
        domain="[('type', '=', 'sale')]",
        help="Default: the company's first sales journal.",
    )
    late_fee_tax_ids = fields.Many2many(
        "account.tax",
        "account_payment_reminder_policy_late_fee_tax_rel",
        "policy_id",
        "tax_id",
        "Taxes",
        check_company=True,
        domain="[('type_tax_use', '=', 'sale')]",
        help="None by default: statutory interest and compensation are usually outside the scope of VAT.",
    )
    late_fee_post = fields.Selection(
        [("draft", "Draft, for review"), ("posted", "Posted")],
        "Charge Invoices",
        default="draft",
        required=True,
    )

    _sql_constraints = [
        (
            "late_fee_positive",
            "CHECK(COALESCE(late_fee_fixed, 0) >= 0 AND COALESCE(late_fee_min_amount, 0) >= 0 "
            "AND COALESCE(late_grace_days, 0) >= 0)",
            "Late-payment amounts and days of grace cannot be negative.",
        ),
    ]

    @api.depends("late_interest_type", "late_reference_rate", "late_interest_margin", "late_interest_fixed_rate")
    def _compute_late_interest_rate(self):
        for policy in self:
            if policy.late_interest_type == "fixed":
                policy.late_interest_rate = policy.late_interest_fixed_rate
            else:
                policy.late_interest_rate = policy.late_reference_rate + policy.late_interest_margin

    @api.depends("late_charges_enabled", "late_interest_type", "late_reference_rate_date")
    def _compute_late_reference_rate_warning(self):
        """Reference rates change every six months (ECB, Bundesbank, Bank of England): say when it may be stale."""
        today = fields.Date.context_today(self)
        for policy in self:
            since = policy.late_reference_rate_date
            warning = False
            if policy.late_charges_enabled and policy.late_interest_type == "reference":
                if not since:
                    warning = self.env._("Enter the date of the reference rate, and keep the rate current.")
                elif (today - since).days > REFERENCE_RATE_MAX_AGE_DAYS:
                    warning = self.env._(
                        "The reference rate dates from %(date)s: check that it is still the one in force.",
                        date=format_date(self.env, since),
                    )
            policy.late_reference_rate_warning = warning

    def _inverse_late_interest_rate(self):
        """Setting the total rate keeps the reference rate and moves the margin
        (or sets the fixed rate)."""
        for policy in self:
            if policy.late_interest_type == "fixed":
                policy.late_interest_fixed_rate = policy.late_interest_rate
            else:
                policy.late_interest_margin = policy.late_interest_rate - policy.late_reference_rate

    @api.constrains("late_interest_rate", "late_interest_margin", "late_reference_rate", "late_interest_fixed_rate")
    def _check_late_interest_rate(self):
        for policy in self:
            if policy.late_interest_rate < 0 or policy.late_interest_fixed_rate < 0:
                raise ValidationError(
                    self.env._("The late-payment interest rate of '%(policy)s' cannot be negative.", policy=policy.name)
                )

    # === PRESETS === #

    @api.onchange("late_fee_preset_id")
    def _onchange_late_fee_preset_id(self):
        if self.late_fee_preset_id:
            self.update(self._get_late_fee_preset_values(self.late_fee_preset_id))

    def _get_late_fee_preset_values(self, preset):
        """The policy values of a preset, its amounts converted from the
        preset's currency into the company's at today's rate."""
        self.ensure_one()
        company = self.company_id or self.env.company
        today = fields.Date.context_today(self)

        def convert(amount):
            source = preset.currency_id or company.currency_id
            return source._convert(amount, company.currency_id, company, today) if amount else 0.0

        values = {policy_field: preset[preset_field] for preset_field, policy_field in PRESET_FIELDS.items()}
        values.update(
            late_fee_fixed=convert(preset.fee_fixed),
            late_fee_tier_ids=[fields.Command.clear()]
            + [
                fields.Command.create({"amount_from": convert(tier.amount_from), "fee": convert(tier.fee)})
                for tier in preset.tier_ids
            ],
        )
        return values

    @api.model_create_multi
    def create(self, vals_list):
        Preset = self.env["account.payment.reminder.late.fee.preset"]
        presets = []
        for vals in vals_list:
            preset = Preset.browse(vals.get("late_fee_preset_id"))
            presets.append(preset)
            if preset:
                # the preset fills what the caller did not say, in the policy's company
                company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
                draft = self.new({"company_id": company.id})
                vals.update({**draft._get_late_fee_preset_values(preset), **vals})
        policies = super().create(vals_list)
        for policy, preset in zip(policies, presets, strict=True):
            policy._copy_late_fee_translations(preset)
        return policies

    def write(self, vals):
        preset = self.env["account.payment.reminder.late.fee.preset"].browse(vals.get("late_fee_preset_id"))
        if not preset or self.env.context.get("late_fee_preset_applied"):
            return super().write(vals)
        for policy in self:
            merged = {**policy._get_late_fee_preset_values(preset), **vals}
            super(AccountPaymentReminderPolicy, policy.with_context(late_fee_preset_applied=True)).write(merged)
            policy._copy_late_fee_translations(preset)
        return True

    def _copy_late_fee_translations(self, preset):
        """The preset's legal texts in every installed language, where the
        policy's text is still the preset's (not rewritten by the admin)."""
        self.ensure_one()
        if not preset:
            return
        for preset_field, policy_field in TRANSLATED_FIELDS.items():
            if self[policy_field] != preset[preset_field]:
                continue
            translations = {
                code: preset.with_context(lang=code)[preset_field]
                for code, _name in self.env["res.lang"].get_installed()
            }
            self.update_field_translations(policy_field, {code: text for code, text in translations.items() if text})

    # === CHARGING === #

    def _late_fee_applies_to(self, partner):
        """Whether this customer may be charged: by default business customers only."""
        self.ensure_one()
        is_company = partner.commercial_partner_id.is_company
        return {"company": is_company, "person": not is_company, "all": True}[self.late_fee_partner_scope]

    def _get_late_fee_tiers(self):
        """[(invoice amount from, compensation)] in company currency."""
        self.ensure_one()
        return [(tier.amount_from, tier.fee) for tier in self.late_fee_tier_ids]


class AccountPaymentReminderLevel(models.Model):
    _inherit = "account.payment.reminder.level"

    charge_late_fees = fields.Boolean(
        "Charge Late Payments",
        help="When this level is sent, charge the interest and fixed compensation its policy sets (if the policy "
        "charges late payments), on one invoice per customer, and state them in the message.",
    )
