from odoo import api, fields, models
from odoo.tools import formatLang

from .account_payment_reminder_late_reference_rate import REFERENCE_RATE_SOURCES


class AccountPaymentReminderLateCharge(models.Model):
    """What was charged for one overdue invoice over one period at one rate:
    the days after ``date_from`` up to ``date_to``, and the fixed
    compensation (on the first period charged). A charge that spans a change
    of the reference rate is one record per rate.

    A charge starts where the last one of its invoice ended, under a unique
    idempotency key (invoice and first day), and the fixed compensation has a
    unique index per invoice: the same days, or the compensation, can never be
    charged twice, whatever runs at the same time or crashes. Waived charges
    stay (their days are not charged again); a draft charge invoice that is
    deleted takes its charges with it (nothing was charged).

    Rows are written by code only; accountants read them and waive the charge
    invoices."""

    _name = "account.payment.reminder.late.charge"
    _description = "Late-Payment Charge"
    _order = "date desc, id desc"
    _rec_name = "source_move_id"

    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    company_currency_id = fields.Many2one(related="company_id.currency_id", string="Company Currency")
    partner_id = fields.Many2one("res.partner", "Customer", required=True, index=True, readonly=True)
    source_move_id = fields.Many2one(
        "account.move", "Overdue Invoice", required=True, index=True, readonly=True, ondelete="cascade"
    )
    charge_move_id = fields.Many2one(
        "account.move", "Charge Invoice", index="btree_not_null", readonly=True, ondelete="cascade"
    )
    policy_id = fields.Many2one("account.payment.reminder.policy", readonly=True, ondelete="set null")
    level_id = fields.Many2one("account.payment.reminder.level", readonly=True, ondelete="set null")
    date = fields.Date("Charged On", required=True, readonly=True, index=True)
    date_from = fields.Date("After", required=True, readonly=True, help="The last day charged before (excluded).")
    date_to = fields.Date("Until", required=True, readonly=True, help="The last day charged (included).")
    days = fields.Integer("Days Charged", readonly=True, help="Days with an overdue amount in the period.")
    rate = fields.Float("Annual Rate (%)", digits=(16, 4), readonly=True, aggregator=None)
    reference_rate_source = fields.Selection(
        REFERENCE_RATE_SOURCES, "Reference Rates", readonly=True, help="Empty: a fixed or entered rate."
    )
    reference_rate = fields.Float(
        "Reference Rate (%)", digits=(16, 4), readonly=True, aggregator=None, help="Of the half-year charged."
    )
    reference_rate_date = fields.Date(
        "Reference Rate Of", readonly=True, help="The first day of the half-year whose reference rate applies."
    )
    paid_late = fields.Boolean(
        readonly=True, help="Charged after the invoice was paid, on the next run after the payment."
    )
    reminder_message_ids = fields.Many2many(
        "account.payment.reminder.message",
        "account_payment_reminder_message_late_charge_rel",
        "charge_id",
        "message_id",
        string="Stated In",
        readonly=True,
    )
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    base_amount = fields.Monetary(
        "Average Overdue", readonly=True, aggregator=None, help="Interest = average overdue x rate x days / 365."
    )
    interest_amount = fields.Monetary("Interest", readonly=True)
    fee_amount = fields.Monetary("Fixed Compensation", readonly=True)
    has_fee = fields.Boolean("Includes the Compensation", readonly=True)
    amount = fields.Monetary("Total", readonly=True)
    amount_company = fields.Monetary(
        "Charged", currency_field="company_currency_id", readonly=True, help="In company currency, on the charge date."
    )
    state = fields.Selection(
        [("draft", "To Review"), ("charged", "Charged"), ("waived", "Waived")],
        compute="_compute_state",
        store=True,
        index=True,
    )
    amount_collected = fields.Monetary(
        "Collected", currency_field="company_currency_id", compute="_compute_state", store=True
    )
    amount_waived = fields.Monetary(
        "Waived", currency_field="company_currency_id", compute="_compute_state", store=True
    )
    waived_date = fields.Date(readonly=True)
    waive_reason = fields.Text(readonly=True)
    segments = fields.Text(
        readonly=True, help="The overdue amount of each stretch of days: [[after, until, days, amount], ...] (JSON)."
    )
    rate_display = fields.Char("Rate", compute="_compute_rate_display")
    idempotency_key = fields.Char(required=True, readonly=True, copy=False)

    _sql_constraints = [
        ("idempotency_key_unique", "UNIQUE(idempotency_key)", "These days of this invoice were already charged."),
        ("period", "CHECK(date_to >= date_from)", "A charge period cannot end before it starts."),
    ]

    def init(self):
        # the fixed compensation is charged once per invoice, ever
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS account_payment_reminder_late_charge_fee_once
                ON account_payment_reminder_late_charge (source_move_id) WHERE has_fee
            """
        )

    @api.model
    def _get_idempotency_key(self, source_move_id, date_from):
        return f"late:{source_move_id}:{date_from}"

    @api.depends(
        "charge_move_id.state",
        "charge_move_id.payment_state",
        "charge_move_id.amount_residual_signed",
        "amount_company",
    )
    def _compute_state(self):
        for charge in self:
            move = charge.charge_move_id
            if move.state == "cancel" or move.payment_state == "reversed":
                charge.state = "waived"
            elif move.state == "posted":
                charge.state = "charged"
            else:
                charge.state = "draft"
            charge.amount_waived = charge.amount_company if charge.state == "waived" else 0.0
            charge.amount_collected = (
                charge.amount_company * charge.charge_move_id._get_payment_reminder_paid_share()
                if charge.state == "charged"
                else 0.0
            )

    @api.depends("rate")
    @api.depends_context("lang")
    def _compute_rate_display(self):
        for charge in self:
            charge.rate_display = f"{formatLang(self.env, charge.rate, digits=2)} %"
