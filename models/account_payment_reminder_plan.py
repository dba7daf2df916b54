import logging

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..tools.pipeline import ReminderGroup
from ..tools.schedule import to_local
from .account_payment_reminder_level import CHANNELS

_logger = logging.getLogger(__name__)


class AccountPaymentReminderPlan(models.Model):
    """A payment plan: what a customer owes on some invoices, split into dated
    instalments. While it is on track the reminder ladder is suspended for its
    invoices and reminders follow the instalments; an instalment still unpaid
    after the grace days breaks the plan and the ladder resumes."""

    _name = "account.payment.reminder.plan"
    _description = "Payment Plan"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "create_date desc, id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    partner_id = fields.Many2one("res.partner", "Customer", required=True, index=True, tracking=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    currency_id = fields.Many2one("res.currency", required=True)
    move_ids = fields.Many2many(
        "account.move",
        "account_payment_reminder_plan_move_rel",
        "plan_id",
        "move_id",
        string="Invoices",
        check_company=True,
    )
    line_ids = fields.One2many("account.payment.reminder.plan.line", "plan_id", "Instalments", copy=True)
    state = fields.Selection(
        [("active", "On Track"), ("broken", "Broken"), ("done", "Paid"), ("cancelled", "Cancelled")],
        default="active",
        required=True,
        tracking=True,
        index=True,
    )
    grace_days = fields.Integer(default=3, help="Days an instalment may be late before the plan is broken.")
    remind_before_days = fields.Integer(
        "Remind Days Before", default=3, help="A courtesy reminder goes this many days before each instalment."
    )
    channel = fields.Selection(
        CHANNELS,
        default="email",
        required=True,
        help="How the customer hears about the plan and its instalments.",
    )
    user_id = fields.Many2one("res.users", "Responsible", default=lambda self: self.env.user, tracking=True)
    amount_total = fields.Monetary("Total", compute="_compute_amounts", store=True)
    residual_at_start = fields.Monetary(readonly=True, help="What the invoices asked for when the plan started.")
    amount_paid = fields.Monetary(compute="_compute_amounts", store=True)
    next_line_id = fields.Many2one("account.payment.reminder.plan.line", compute="_compute_next_line")
    next_date = fields.Date("Next Instalment", compute="_compute_next_line")
    message_ids_reminder = fields.One2many("account.payment.reminder.message", "plan_id", "Reminders")

    _sql_constraints = [
        ("grace_positive", "CHECK(grace_days >= 0)", "The grace period cannot be negative."),
    ]

    @api.depends("partner_id", "create_date")
    def _compute_name(self):
        for plan in self:
            plan.name = _("Payment plan %(customer)s", customer=plan.partner_id.name or "")

    @api.depends(
        "line_ids.amount",
        "residual_at_start",
        "move_ids.amount_residual",
        "move_ids.payment_state",
        "move_ids.matched_payment_ids.state",
        "move_ids.matched_payment_ids.move_id",
        "move_ids.matched_payment_ids.amount",
    )
    def _compute_amounts(self):
        open_amounts = self.move_ids._origin._get_payment_reminder_open_amount()
        for plan in self:
            plan.amount_total = sum(plan.line_ids.mapped("amount"))
            left = sum(open_amounts[move.id] for move in plan.move_ids._origin)
            plan.amount_paid = max(0.0, plan.residual_at_start - left) if plan.residual_at_start else 0.0

    @api.depends("line_ids.state", "line_ids.date")
    def _compute_next_line(self):
        for plan in self:
            plan.next_line_id = plan.line_ids.filtered(lambda line: line.state != "paid").sorted("date")[:1]
            plan.next_date = plan.next_line_id.date

    @api.constrains("line_ids", "amount_total", "residual_at_start", "move_ids")
    def _check_total(self):
        for plan in self:
            if plan.residual_at_start and plan.currency_id.compare_amounts(plan.amount_total, plan.residual_at_start):
                raise ValidationError(
                    _(
                        "The instalments add up to %(total)s but %(due)s is due.",
                        total=plan.currency_id.format(plan.amount_total),
                        due=plan.currency_id.format(plan.residual_at_start),
                    )
                )

    @api.constrains("move_ids", "partner_id", "currency_id", "state")
    def _check_moves(self):
        for plan in self:
            moves = plan.move_ids
            if not moves:
                raise ValidationError(_("A payment plan needs at least one open invoice."))
            if any(move.move_type != "out_invoice" for move in moves):
                raise ValidationError(_("A payment plan covers customer invoices only."))
            if moves.currency_id != plan.currency_id:
                raise ValidationError(
                    _(
                        "All invoices of a payment plan must be in the plan's currency (%(currency)s).",
                        currency=plan.currency_id.name,
                    )
                )
            if moves.commercial_partner_id != plan.partner_id:
                raise ValidationError(
                    _(
                        "All invoices of a payment plan must belong to its customer, %(customer)s.",
                        customer=plan.partner_id.display_name,
                    )
                )
            if plan.state != "active":
                continue
            others = self.search([("id", "!=", plan.id), ("state", "=", "active"), ("move_ids", "in", moves.ids)])
            if others:
                raise ValidationError(
                    _(
                        "Already in an active payment plan: %(invoices)s.",
                        invoices=", ".join((moves & others.move_ids).mapped("display_name")),
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            partner = self.env["res.partner"].browse(vals.get("partner_id"))
            vals["partner_id"] = partner.commercial_partner_id.id
            moves = self.env["account.move"].browse(
                self._fields["move_ids"].convert_to_cache(vals.get("move_ids", []), self)
            )
            if moves and not vals.get("currency_id"):
                vals["currency_id"] = moves[:1].currency_id.id
            if "residual_at_start" not in vals:
                vals["residual_at_start"] = sum(moves._get_payment_reminder_open_amount().values())
        # _check_moves runs on every new plan: its state is always set (default)
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("partner_id"):
            vals["partner_id"] = self.env["res.partner"].browse(vals["partner_id"]).commercial_partner_id.id
        if "move_ids" not in vals or "residual_at_start" in vals:
            return super().write(vals)
        # invoices added to (or taken from) a plan add (or take) what is open on them to what the plan covers
        for plan in self:
            moves = plan.move_ids.browse(plan._fields["move_ids"].convert_to_cache(vals["move_ids"], plan))
            open_amounts = (moves | plan.move_ids)._get_payment_reminder_open_amount()
            delta = sum(open_amounts[move.id] for move in moves - plan.move_ids) - sum(
                open_amounts[move.id] for move in plan.move_ids - moves
            )
            super(AccountPaymentReminderPlan, plan).write(dict(vals, residual_at_start=plan.residual_at_start + delta))
        return True

    def action_cancel(self):
        self.write({"state": "cancelled"})

    def action_open_moves(self):
        self.ensure_one()
        return self.move_ids._payment_reminder_action_open()

    # === SCHEDULER === #

    def _check_done(self):
        """Mark the plans whose instalments are all paid."""
        for plan in self.filtered(lambda p: p.state == "active"):
            if plan.line_ids and all(line.state == "paid" for line in plan.line_ids):
                plan.state = "done"
                plan.message_post(body=_("All instalments are paid: the plan is complete."))
        return self.filtered(lambda p: p.state == "active")

    def _get_due_reminder(self, local_today):
        """(kind, instalment) of what the plan needs now, or (None, None):
        'plan_broken' once the oldest unpaid instalment is later than the grace
        days, 'plan_after' the day after an unpaid instalment, 'plan_before' a
        few days before the next one."""
        self.ensure_one()
        unpaid = self.line_ids.filtered(lambda line: line.state != "paid").sorted(lambda line: (line.date, line.id))
        line = unpaid[:1]
        if not line:
            return None, None
        if local_today > fields.Date.add(line.date, days=self.grace_days):
            return "plan_broken", line
        if local_today > line.date:
            return "plan_after", line
        if local_today >= fields.Date.subtract(line.date, days=self.remind_before_days):
            return "plan_before", line
        return None, None

    # === ITS MESSAGES === #

    @api.model
    def _cron_send_plan_reminders(self):
        """Reminders of the active payment plans: before and after each
        instalment, and the notice when a plan breaks. One plan's problem is
        logged and never stops the others. Returns the messages sent."""
        # sudo: the scheduler works across companies and writes the history, which users only read.
        self = self.sudo().with_context(tracking_disable=True, mail_notrack=True)
        now = fields.Datetime.now()
        queued = self.env["account.payment.reminder.message"]
        for plan in self.search([("state", "=", "active")]):
            try:
                with self.env.cr.savepoint():
                    queued |= plan._queue_due_reminder(now)
            except Exception:  # noqa: BLE001 - one broken plan never stops the others
                _logger.exception("Payment plan %s could not be processed", plan.id)
        return queued._dispatch_or_enqueue(commit=self.env["account.move"]._can_commit())

    def _queue_due_reminder(self, now):
        self.ensure_one()
        if not self._check_done():
            return self.env["account.payment.reminder.message"]
        policy = self.move_ids[:1]._get_payment_reminder_policy()
        tz = self.partner_id.tz or (policy and policy._get_fallback_tz()) or "UTC"
        kind, line = self._get_due_reminder(to_local(now, tz).date())
        if not kind:
            return self.env["account.payment.reminder.message"]
        if kind == "plan_broken":
            self._break(line)
        return self._queue_message(kind, line, policy)

    def _queue_message(self, kind, line=None, policy=None, trigger="cron"):
        """Queue (and render) one message of the plan on its channel, falling
        back to e-mail when the channel cannot reach the customer; the caller
        dispatches it."""
        self.ensure_one()
        policy = policy or self.move_ids[:1]._get_payment_reminder_policy()
        group = ReminderGroup(
            policy=policy,
            level=self.env["account.payment.reminder.level"],
            partner=self.partner_id,
            moves=self.move_ids,
            amount=sum(self.move_ids.mapped("payment_reminder_amount_open_signed")),
        )
        return self.env["account.payment.reminder.message"]._queue_first_reachable(
            group,
            list(dict.fromkeys([self.channel, "email"])),
            kind=kind,
            trigger=trigger,
            plan=self,
            plan_line=line,
            user=trigger == "manual" and self.env.user,
            key=f"{kind}:{self.id}:{line.id if line else 'plan'}",
        )

    def _break(self, line):
        """The plan is broken: tell the accountant; the ladder resumes."""
        self.ensure_one()
        self.state = "broken"
        body = _(
            "The instalment of %(date)s (%(amount)s) is unpaid after %(days)s days of grace: the plan is broken and "
            "the usual reminders resume.",
            date=line.date,
            amount=self.currency_id.format(line.amount - line.amount_paid),
            days=self.grace_days,
        )
        self.message_post(body=body)
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=_("Payment plan broken: %(customer)s", customer=self.partner_id.name),
            note=body,
            user_id=self.env["account.payment.reminder.policy"]
            ._get_responsible(self.user_id, self.move_ids, self.company_id)
            .id,
        )


class AccountPaymentReminderPlanLine(models.Model):
    _name = "account.payment.reminder.plan.line"
    _description = "Payment Plan Instalment"
    _order = "plan_id, date, id"

    plan_id = fields.Many2one("account.payment.reminder.plan", required=True, ondelete="cascade", index=True)
    currency_id = fields.Many2one(related="plan_id.currency_id")
    date = fields.Date(required=True)
    amount = fields.Monetary(required=True)
    amount_paid = fields.Monetary(compute="_compute_amount_paid", store=True)
    state = fields.Selection([("pending", "Pending"), ("paid", "Paid"), ("late", "Late")], compute="_compute_state")

    @api.depends("plan_id.amount_paid", "plan_id.line_ids.amount", "plan_id.line_ids.date")
    def _compute_amount_paid(self):
        """What was paid since the plan started, spread over the instalments in date order."""
        for plan in self.plan_id:
            paid = plan.amount_paid
            for line in plan.line_ids.sorted(lambda line: (line.date or fields.Date.today(), line.id)):
                line.amount_paid = min(line.amount, paid)
                paid -= line.amount_paid
        for line in self.filtered(lambda line: not line.plan_id):
            line.amount_paid = 0.0

    @api.depends("amount", "amount_paid", "date")
    def _compute_state(self):
        today = fields.Date.context_today(self)
        for line in self:
            if line.currency_id and line.currency_id.compare_amounts(line.amount_paid, line.amount) >= 0:
                line.state = "paid"
            elif line.date and line.date < today:
                line.state = "late"
            else:
                line.state = "pending"

    @api.constrains("amount")
    def _check_amount(self):
        for line in self:
            if line.currency_id.compare_amounts(line.amount, 0.0) <= 0:
                raise ValidationError(
                    _(
                        "The instalment of %(date)s is %(amount)s: every instalment needs a positive amount.",
                        date=line.date,
                        amount=line.currency_id.format(line.amount),
                    )
                )

    @api.constrains("date", "amount")
    def _check_date(self):
        """An instalment is planned, or changed, from today on; the earlier
        instalments of a running plan stay as they were agreed."""
        today = fields.Date.context_today(self)
        for line in self:
            if line.date < today:
                raise ValidationError(
                    _(
                        "The instalment of %(date)s is in the past: an instalment can be planned or changed only "
                        "for today or a later day.",
                        date=line.date,
                    )
                )
