import logging

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import format_date

from .account_move import OPEN_INVOICE_DOMAIN, open_invoice_domain_text

_logger = logging.getLogger(__name__)


class AccountPaymentReminderPromise(models.Model):
    """The customer promised to pay: reminders wait until the date plus grace.
    At that point the promise is kept (the promised amount came in) or broken
    (the ladder resumes and the accountant is told)."""

    _name = "account.payment.reminder.promise"
    _description = "Promise to Pay"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"
    _check_company_auto = True

    partner_id = fields.Many2one("res.partner", "Customer", required=True, index=True, tracking=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    currency_id = fields.Many2one(
        "res.currency", required=True, default=lambda self: self.env.company.currency_id, tracking=True
    )
    move_ids = fields.Many2many(
        "account.move",
        "account_payment_reminder_promise_move_rel",
        "promise_id",
        "move_id",
        string="Invoices",
        domain=open_invoice_domain_text("('commercial_partner_id', '=', partner_id)"),
        check_company=True,
        help="Empty: the promise covers all the customer's open invoices.",
    )
    date = fields.Date("Promised Date", required=True, tracking=True)
    amount = fields.Monetary(
        compute="_compute_amount",
        store=True,
        readonly=False,
        precompute=True,
        tracking=True,
        help="What the customer promised to pay; by default everything still due on the invoices.",
    )
    grace_days = fields.Integer(default=2, help="Days after the promised date before the promise counts as broken.")
    note = fields.Text()
    user_id = fields.Many2one("res.users", "Recorded By", default=lambda self: self.env.user)
    state = fields.Selection(
        [("open", "Open"), ("kept", "Kept"), ("broken", "Broken"), ("cancelled", "Cancelled")],
        default="open",
        required=True,
        tracking=True,
    )
    residual_at_promise = fields.Monetary(
        readonly=True, help="What the invoices still asked for when the promise was made."
    )
    amount_received = fields.Monetary(compute="_compute_amount_received")
    source = fields.Selection(
        [("accountant", "Accountant"), ("portal", "Customer, on the reminder page")],
        default="accountant",
        required=True,
        readonly=True,
    )

    @api.constrains("amount", "grace_days")
    def _check_amounts(self):
        for promise in self:
            if promise.amount < 0 or promise.grace_days < 0:
                raise ValidationError(_("A promise cannot have a negative amount or grace period."))

    @api.depends(
        "residual_at_promise",
        "move_ids.amount_residual",
        "move_ids.payment_state",
        "move_ids.matched_payment_ids.state",
        "move_ids.matched_payment_ids.move_id",
        "move_ids.matched_payment_ids.amount",
    )
    def _compute_amount_received(self):
        for promise in self:
            promise.amount_received = max(0.0, promise.residual_at_promise - promise._get_residual())

    @api.depends("partner_id", "move_ids", "currency_id", "company_id")
    def _compute_amount(self):
        for promise in self:
            promise.amount = promise._get_residual() if promise.partner_id else 0.0

    @api.depends("partner_id", "date")
    def _compute_display_name(self):
        for promise in self:
            promise.display_name = _(
                "%(customer)s: promise for %(date)s",
                customer=promise.partner_id.name,
                date=format_date(self.env, promise.date) if promise.date else "?",
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("partner_id"):
                vals["partner_id"] = self.env["res.partner"].browse(vals["partner_id"]).commercial_partner_id.id
        promises = super().create(vals_list)
        for promise in promises:
            promise.residual_at_promise = promise._get_residual()
            if not promise.amount:
                promise.amount = promise.residual_at_promise
            promise.partner_id._message_log(
                body=_(
                    "Promise to pay %(amount)s by %(date)s recorded; reminders wait until then.",
                    amount=promise.currency_id.format(promise.amount),
                    date=promise.date,
                )
            )
        return promises

    def _get_hold_end(self):
        """The last day the promise holds the reminders: its date plus grace."""
        self.ensure_one()
        return fields.Date.add(self.date, days=self.grace_days)

    def _get_moves(self):
        self.ensure_one()
        if self.move_ids:
            return self.move_ids
        return self.env["account.move"].search(
            [
                ("commercial_partner_id", "=", self.partner_id.commercial_partner_id.id),
                ("company_id", "=", self.company_id.id),
            ]
            + OPEN_INVOICE_DOMAIN
        )

    def _get_residual(self):
        """What is still open on the promise's invoices, as Odoo shows it:
        payments registered without a journal entry count as received."""
        self.ensure_one()
        moves = (self.move_ids or self._get_moves())._origin.filtered(lambda m: m.currency_id == self.currency_id)
        return sum(moves._get_payment_reminder_open_amount().values())

    def action_cancel(self):
        self.write({"state": "cancelled"})

    @api.model
    def _cron_check_promises(self, today=None):
        """Close the promises whose date plus grace has passed: kept when the
        promised amount came in, broken otherwise; one at a time, so that one
        that cannot be closed is logged and the others still are."""
        # sudo: the scheduler works across companies; the accountants only read the outcome
        for promise in self.sudo().search(self._get_due_promises_domain(today)):
            try:
                with self.env.cr.savepoint():
                    promise._check_kept_or_broken(today)
            except Exception:  # noqa: BLE001 - one broken record never stops the others
                _logger.exception("Promise to pay %s could not be checked", promise.id)

    @api.model
    def _get_due_promises_domain(self, today=None):
        return [("state", "=", "open"), ("date", "<", today or fields.Date.context_today(self))]

    def _check_kept_or_broken(self, today=None):
        self.ensure_one()
        promise = self
        today = today or fields.Date.context_today(self)
        received = promise.amount_received
        if promise.currency_id.compare_amounts(received, promise.amount) >= 0 or not promise._get_residual():
            promise.state = "kept"
            return
        if fields.Date.add(promise.date, days=promise.grace_days) >= today:
            return
        promise.state = "broken"
        body = _(
            "Broken promise: %(received)s received of %(amount)s promised by %(date)s. Reminders resume.",
            received=promise.currency_id.format(received),
            amount=promise.currency_id.format(promise.amount),
            date=promise.date,
        )
        promise.partner_id._message_log(body=body)
        promise.partner_id.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=_("Broken promise to pay"),
            note=body,
            user_id=self.env["account.payment.reminder.policy"]
            ._get_responsible(promise.user_id, promise.move_ids, promise.company_id)
            .id,
        )
