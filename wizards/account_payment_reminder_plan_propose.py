from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..models.account_move import OPEN_INVOICE_DOMAIN, open_invoice_domain_text
from ..models.account_payment_reminder_level import CHANNELS
from ..tools.plans import can_split, instalment_dates, split_amount


class AccountPaymentReminderPlanPropose(models.TransientModel):
    """Propose a payment plan on one or several invoices of a customer."""

    _name = "account.payment.reminder.plan.propose"
    _inherit = ["account.payment.reminder.wizard.access"]
    _description = "Propose a Payment Plan"

    move_ids = fields.Many2many(
        "account.move",
        "account_payment_reminder_plan_propose_move_rel",
        string="Invoices",
        default=lambda self: self._default_move_ids(),
        domain=open_invoice_domain_text(),
    )
    partner_id = fields.Many2one("res.partner", "Customer", compute="_compute_totals")
    currency_id = fields.Many2one("res.currency", compute="_compute_totals")
    amount_due = fields.Monetary(compute="_compute_totals")
    instalment_count = fields.Integer("Number of Instalments", default=3)
    first_date = fields.Date(
        "First Instalment", default=lambda self: fields.Date.add(fields.Date.context_today(self), days=7)
    )
    frequency = fields.Selection(
        [("weekly", "Every week"), ("biweekly", "Every two weeks"), ("monthly", "Every month"), ("custom", "Custom")],
        default="monthly",
        required=True,
    )
    line_ids = fields.One2many(
        "account.payment.reminder.plan.propose.line",
        "wizard_id",
        "Instalments",
        compute="_compute_line_ids",
        store=True,
        readonly=False,
        compute_sudo=False,  # the instalments split what the user may read, computed as the user
    )
    lines_total = fields.Monetary("Planned", compute="_compute_lines_total")
    split_warning = fields.Char(compute="_compute_split_warning")
    channel = fields.Selection(CHANNELS, default="email", required=True)
    grace_days = fields.Integer(default=3)
    remind_before_days = fields.Integer("Remind Days Before", default=3)
    send_summary = fields.Boolean("Send the plan to the customer", default=True)

    def _default_move_ids(self):
        context = self.env.context
        Move = self.env["account.move"]
        domain = OPEN_INVOICE_DOMAIN
        if context.get("active_model") == "account.move":
            return Move.browse(context.get("active_ids", [])).filtered_domain(domain)
        if context.get("active_model") == "res.partner" and context.get("active_id"):
            customer = self.env["res.partner"].browse(context["active_id"]).commercial_partner_id
            return Move.search(domain + [("commercial_partner_id", "=", customer.id)])
        return Move

    @api.depends("move_ids")
    def _compute_totals(self):
        self._check_payment_reminder_access()
        for wizard in self:
            moves = wizard.move_ids
            wizard.partner_id = moves.commercial_partner_id[:1]
            wizard.currency_id = moves.currency_id[:1] or self.env.company.currency_id
            wizard.amount_due = sum(moves._origin._get_payment_reminder_open_amount().values())

    @api.depends("move_ids", "instalment_count", "first_date", "frequency")
    def _compute_line_ids(self):
        for wizard in self:
            if wizard.frequency == "custom" and wizard.line_ids:
                continue
            count = max(wizard.instalment_count, 1)
            frequency = "monthly" if wizard.frequency == "custom" else wizard.frequency
            first = wizard.first_date or fields.Date.context_today(wizard)
            try:
                amounts = split_amount(wizard.amount_due, count, wizard.currency_id.rounding)
            except ValueError:
                amounts = []  # too little to split: _compute_split_warning says so
            dates = instalment_dates(first, len(amounts), frequency)
            wizard.line_ids = [fields.Command.clear()] + [
                fields.Command.create({"date": date, "amount": amount})
                for date, amount in zip(dates, amounts, strict=True)
            ]

    @api.depends("line_ids.amount")
    def _compute_lines_total(self):
        for wizard in self:
            wizard.lines_total = sum(wizard.line_ids.mapped("amount"))

    @api.depends("amount_due", "instalment_count", "currency_id", "frequency")
    def _compute_split_warning(self):
        for wizard in self:
            wizard.split_warning = False
            if wizard.frequency == "custom" or not wizard.move_ids or not wizard.currency_id:
                continue
            count = max(wizard.instalment_count, 1)
            if not can_split(wizard.amount_due, count, wizard.currency_id.rounding):
                wizard.split_warning = _(
                    "%(amount)s cannot be split into %(count)s instalments of at least %(unit)s: choose fewer "
                    "instalments.",
                    amount=wizard.currency_id.format(wizard.amount_due),
                    count=count,
                    unit=wizard.currency_id.format(wizard.currency_id.rounding),
                )

    def _check_proposal(self):
        self.ensure_one()
        if not self.move_ids:
            raise UserError(_("Choose the open invoices the plan covers."))
        if len(self.move_ids.commercial_partner_id) > 1:
            raise UserError(_("A payment plan covers the invoices of one customer."))
        if len(self.move_ids.currency_id) > 1:
            raise UserError(_("A payment plan covers invoices in one currency."))
        if self.split_warning:
            raise UserError(self.split_warning)
        if not self.line_ids:
            raise UserError(_("A payment plan needs at least one instalment."))
        if any(self.currency_id.compare_amounts(line.amount, 0.0) <= 0 for line in self.line_ids):
            raise UserError(_("Every instalment needs a positive amount."))
        if self.currency_id.compare_amounts(self.lines_total, self.amount_due):
            raise UserError(
                _(
                    "The instalments add up to %(total)s but %(due)s is due.",
                    total=self.currency_id.format(self.lines_total),
                    due=self.currency_id.format(self.amount_due),
                )
            )
        if any(not line.date for line in self.line_ids):
            raise UserError(_("Every instalment needs a date."))
        first = min(self.line_ids.mapped("date"))
        if first < fields.Date.context_today(self):
            raise UserError(
                _(
                    "The first instalment, on %(date)s, is in the past: plan it for today or a later day.",
                    date=first,
                )
            )

    def action_create_plan(self):
        self.ensure_one()
        self._check_proposal()
        self.move_ids.check_access("read")
        plan = self.env["account.payment.reminder.plan"].create(
            {
                "partner_id": self.partner_id.id,
                "company_id": self.move_ids.company_id[:1].id,
                "currency_id": self.currency_id.id,
                "move_ids": [fields.Command.set(self.move_ids.ids)],
                "channel": self.channel,
                "grace_days": self.grace_days,
                "remind_before_days": self.remind_before_days,
                "residual_at_start": self.amount_due,
                "line_ids": [
                    fields.Command.create({"date": line.date, "amount": line.amount})
                    for line in self.line_ids.sorted("date")
                ],
            }
        )
        for move in self.move_ids:
            move._message_log(body=_("Payment plan agreed: %(plan)s", plan=plan.name))
        if self.send_summary:
            # sudo: the history is written by code only; the accountant's access to the invoices is checked above
            plan.sudo()._queue_message("plan_summary", trigger="manual")._dispatch()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.payment.reminder.plan",
            "res_id": plan.id,
            "view_mode": "form",
            "target": "current",
        }


class AccountPaymentReminderPlanProposeLine(models.TransientModel):
    _name = "account.payment.reminder.plan.propose.line"
    _description = "Proposed Instalment"
    _order = "date, id"

    wizard_id = fields.Many2one("account.payment.reminder.plan.propose", required=True, ondelete="cascade")
    currency_id = fields.Many2one(related="wizard_id.currency_id")
    date = fields.Date(required=True)
    amount = fields.Monetary(required=True)
