"""Late-payment charges on the policy (what is charged, how it is booked) and
on the level (when it is charged). The computation is in tools/late_charges.py,
the charging in account_payment_reminder_run_late_charge.py."""

from datetime import date, timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_date

from ..tools.late_charges import half_year_start
from .account_payment_reminder_late_fee_preset import IMPUTATION_ORDERS, INTEREST_TYPES, PARTNER_SCOPES
from .account_payment_reminder_late_reference_rate import REFERENCE_RATE_SOURCES

PRESET_FIELDS = {
    # preset field: policy field
    "interest_type": "late_interest_type",
    "reference_rate_name": "late_reference_rate_name",
    "reference_rate_source": "late_reference_rate_source",
    "reference_rate_fixed": "late_reference_rate_fixed",
    "interest_margin": "late_interest_margin",
    "interest_fixed_rate": "late_interest_fixed_rate",
    "grace_days": "late_grace_days",
    "partner_scope": "late_fee_partner_scope",
    "charge_paid_late": "late_charge_paid_late",
    "imputation_order": "late_imputation_order",
    "consumer_30_days": "late_consumer_30_days",
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
    late_reference_rate_source = fields.Selection(
        REFERENCE_RATE_SOURCES,
        "Reference Rates",
        help="Each day is charged at the reference rate of its half-year (Invoicing > Configuration > Late-Payment "
        "Reference Rates) plus the margin; a charge that spans a change is one line per rate. Empty: the rate "
        "entered below, for every day.",
    )
    late_reference_rate_fixed = fields.Boolean(
        "Rate Fixed When Interest Starts",
        help="United Kingdom (Late Payment of Commercial Debts (Rate of Interest) (No. 3) Order 2002, art. 4): the "
        "reference rate of the half-year in which interest starts to run applies to the whole debt, however long "
        "it stays unpaid. Otherwise (France, the Directive, Germany) each day is charged at its own half-year's rate.",
    )
    late_reference_rate = fields.Float(
        "Reference Rate (%)", digits=(16, 4), help="Without published rates: keep it current, nothing is fetched."
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
        help="The total annual rate that applies today: the reference rate plus the margin, or the fixed rate. "
        "Each day is charged at the rate of its own period.",
    )
    late_grace_days = fields.Integer("Days of Grace", help="Days after the due date that are never charged.")
    late_fee_currency_id = fields.Many2one(
        "res.currency",
        "Currency of the Fixed Sums",
        default=lambda self: self.env.company.currency_id,
        help="The currency the law states the fixed compensation and its tiers in (EUR 40; GBP 40, 70, 100). "
        "The tiers compare the invoice total in this currency, and the sum is converted to the invoice's currency "
        "on the charge date only when it differs.",
    )
    late_fee_fixed = fields.Monetary(
        "Fixed Compensation",
        currency_field="late_fee_currency_id",
        help="Charged once per invoice, ever (converted to the invoice's currency on the charge date when it "
        "differs); unused when there are tiers.",
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
    late_charge_paid_late = fields.Boolean(
        "Charge Invoices Paid Late",
        help="The interest for the days late and the fixed compensation stay owed once a late invoice is paid: the "
        "next run after the payment charges them, once, and the customer's next message states them.",
    )
    late_charge_paid_late_since = fields.Date(
        "For Payments From",
        compute="_compute_late_charge_paid_late_since",
        store=True,
        readonly=False,
        help="Invoices paid late before this day are never charged (the day the option was turned on).",
    )
    late_imputation_order = fields.Selection(
        IMPUTATION_ORDERS,
        "A Partial Payment Pays",
        default="principal",
        required=True,
        help="Germany (BGB § 367): a partial payment pays the costs first, then the interest, and only the rest "
        "lowers the debt, so interest keeps running on more. Elsewhere the law or the contract decides.",
    )
    late_consumer_30_days = fields.Boolean(
        "Consumers: 30 Days After the Invoice",
        help="Germany (BGB § 286 (3)): a consumer whose invoice carries no fixed calendar due date (a payment term "
        "counted from the invoice) is late only 30 days after the due date and the invoice date, when the "
        "invoice says so.",
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

    @api.depends(
        "late_interest_type",
        "late_reference_rate_source",
        "late_reference_rate",
        "late_interest_margin",
        "late_interest_fixed_rate",
    )
    def _compute_late_interest_rate(self):
        today = fields.Date.context_today(self)
        for policy in self:
            if policy.late_interest_type == "fixed":
                policy.late_interest_rate = policy.late_interest_fixed_rate
            else:
                policy.late_interest_rate = policy._get_late_reference_rate(today) + policy.late_interest_margin

    @api.depends("late_charge_paid_late")
    def _compute_late_charge_paid_late_since(self):
        today = fields.Date.context_today(self)
        for policy in self:
            if not policy.late_charge_paid_late:
                policy.late_charge_paid_late_since = False
            elif not policy.late_charge_paid_late_since:
                policy.late_charge_paid_late_since = today

    @api.depends("late_charges_enabled", "late_interest_type", "late_reference_rate_source", "late_reference_rate_date")
    def _compute_late_reference_rate_warning(self):
        """Reference rates change every six months (ECB, Bundesbank, Bank of England): say when the current
        half-year's is missing, or when the rate entered may be stale."""
        today = fields.Date.context_today(self)
        for policy in self:
            since = policy.late_reference_rate_date
            warning = False
            if policy.late_charges_enabled and policy.late_interest_type == "reference":
                source = policy.late_reference_rate_source
                if source:
                    try:
                        self.env["account.payment.reminder.late.reference.rate"]._get_rates(
                            source, today - timedelta(days=1), today
                        )
                    except UserError:
                        warning = self.env._(
                            "The reference rate of the half-year from %(date)s is missing: enter it in the "
                            "Late-Payment Reference Rates.",
                            date=format_date(self.env, half_year_start(today)),
                        )
                elif not since:
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
        today = fields.Date.context_today(self)
        for policy in self:
            if policy.late_interest_type == "fixed":
                policy.late_interest_fixed_rate = policy.late_interest_rate
            else:
                policy.late_interest_margin = policy.late_interest_rate - policy._get_late_reference_rate(today)

    def _get_late_reference_rate(self, day):
        """The reference rate of ``day``: the published rate of its half-year
        (0 when it is not entered yet, see the warning), or the rate entered
        on the policy."""
        self.ensure_one()
        if not self.late_reference_rate_source:
            return self.late_reference_rate
        Rate = self.env["account.payment.reminder.late.reference.rate"]
        try:
            return Rate._get_rates(self.late_reference_rate_source, day - timedelta(days=1), day)[0][1]
        except UserError:
            return 0.0

    def _get_late_interest_rates(self, date_from, date_to, start=None):
        """[(first day, total annual rate)] for the days after ``date_from``
        up to ``date_to``: one rate per half-year of published reference
        rates (plus the margin), or the rate of the half-year in which
        interest started (the day after ``start``) when the rate is fixed
        then; else the one rate of the policy. Raises when a half-year's
        reference rate is missing."""
        self.ensure_one()
        if self.late_interest_type == "fixed":
            return [(date.min, self.late_interest_fixed_rate)]
        if not self.late_reference_rate_source:
            return [(date.min, self.late_reference_rate + self.late_interest_margin)]
        Rate = self.env["account.payment.reminder.late.reference.rate"]
        if self.late_reference_rate_fixed and start:
            [(_since, rate)] = Rate._get_rates(self.late_reference_rate_source, start, start + timedelta(days=1))
            return [(date.min, rate + self.late_interest_margin)]
        rates = Rate._get_rates(self.late_reference_rate_source, date_from, date_to)
        return [(since, rate + self.late_interest_margin) for since, rate in rates]

    @api.constrains("late_interest_margin", "late_reference_rate", "late_interest_fixed_rate")
    def _check_late_interest_rate(self):
        for policy in self:
            manual = policy.late_reference_rate + policy.late_interest_margin
            if policy.late_interest_fixed_rate < 0 or (not policy.late_reference_rate_source and manual < 0):
                raise ValidationError(
                    self.env._("The late-payment interest rate of '%(policy)s' cannot be negative.", policy=policy.name)
                )

    # === PRESETS === #

    @api.onchange("late_fee_preset_id")
    def _onchange_late_fee_preset_id(self):
        if self.late_fee_preset_id:
            self.update(self._get_late_fee_preset_values(self.late_fee_preset_id))

    def _get_late_fee_preset_values(self, preset):
        """The policy values of a preset, its fixed sums and tiers kept in the
        currency the law states them in (converted only when charged)."""
        self.ensure_one()
        company = self.company_id or self.env.company
        values = {policy_field: preset[preset_field] for preset_field, policy_field in PRESET_FIELDS.items()}
        values.update(
            late_fee_currency_id=(preset.currency_id or company.currency_id).id,
            late_fee_fixed=preset.fee_fixed,
            late_fee_tier_ids=[fields.Command.clear()]
            + [fields.Command.create({"amount_from": tier.amount_from, "fee": tier.fee}) for tier in preset.tier_ids],
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
        """[(invoice amount from, compensation)] in the currency of the fixed sums."""
        self.ensure_one()
        return [(tier.amount_from, tier.fee) for tier in self.late_fee_tier_ids]


class AccountPaymentReminderLevel(models.Model):
    _inherit = "account.payment.reminder.level"

    charge_late_fees = fields.Boolean(
        "Charge Late Payments",
        help="When this level is sent, charge the interest and fixed compensation its policy sets (if the policy "
        "charges late payments), on one invoice per customer, and state them in the message.",
    )
