from odoo import _, api, fields, models
from odoo.tools import format_date

from ..tools.plans import allocate_payments
from ..tools.schedule import level_candidates

OPEN_INVOICE_DOMAIN = [
    ("move_type", "=", "out_invoice"),
    ("state", "=", "posted"),
    ("payment_state", "in", ("not_paid", "partial")),
    ("amount_residual", ">", 0),
]
"""What the addon chases: posted customer invoices with something left to pay.
'In Payment' counts as paid, as Odoo shows it (a payment registered without a
journal entry leaves ``amount_residual`` unchanged until the bank reconciles)."""


def open_invoice_where(alias="m"):
    """OPEN_INVOICE_DOMAIN in SQL, on ``account_move <alias>``."""
    prefix = f"{alias}." if alias else ""
    return (
        f"{prefix}move_type = 'out_invoice' AND {prefix}state = 'posted'"
        f" AND {prefix}payment_state IN ('not_paid', 'partial') AND {prefix}amount_residual > 0"
    )


OPEN_INVOICE_WHERE = open_invoice_where("m")

# the scheduler's first query: open customer invoices, per customer
OPEN_INVOICE_INDEX = f"""
    CREATE INDEX IF NOT EXISTS account_move_payment_reminder_open_idx
        ON account_move (commercial_partner_id, id)
     WHERE {open_invoice_where(None)}
"""


def open_invoice_domain_text(*conditions):
    """OPEN_INVOICE_DOMAIN as a view domain, after ``conditions`` (strings
    that may name the form's fields, such as ``"('partner_id', '=', partner_id)"``)."""
    return "[" + ", ".join([*conditions, *map(repr, OPEN_INVOICE_DOMAIN)]) + "]"


class AccountMove(models.Model):
    _inherit = "account.move"

    payment_reminder_policy_id = fields.Many2one(
        "account.payment.reminder.policy",
        "Reminder Policy",
        copy=False,
        domain="[('company_id', '=', company_id)]",
        help="Overrides the customer's and the company's policy for this invoice.",
    )
    payment_reminder_exclude = fields.Boolean("No Payment Reminders", copy=False)
    payment_reminder_hold_until = fields.Date("Reminders On Hold Until", copy=False, tracking=True)
    payment_reminder_hold_reason = fields.Char("Hold Reason", copy=False, tracking=True)
    payment_reminder_level_id = fields.Many2one(
        "account.payment.reminder.level", "Reminder Level", copy=False, readonly=True, index="btree_not_null"
    )
    payment_reminder_last_date = fields.Datetime("Last Reminder", copy=False, readonly=True)
    payment_reminder_ref_date = fields.Date(
        "Reminder Reference Date", copy=False, readonly=True, help="The due date the current level refers to."
    )
    payment_reminder_next_date = fields.Date("Next Reminder", compute="_compute_payment_reminder_next")
    payment_reminder_next_level_id = fields.Many2one(
        "account.payment.reminder.level", "Next Reminder Level", compute="_compute_payment_reminder_next"
    )
    payment_reminder_promise_id = fields.Many2one(
        "account.payment.reminder.promise",
        "Promise to Pay",
        compute="_compute_payment_reminder_next",
        help="The open promise that covers this invoice (the latest, when several do).",
    )
    payment_reminder_plan_id = fields.Many2one(
        "account.payment.reminder.plan", "Payment Plan", compute="_compute_payment_reminder_next"
    )
    payment_reminder_waiting = fields.Char(
        "Reminders Wait For",
        compute="_compute_payment_reminder_next",
        help="What holds the reminders of this invoice: an exclusion, a payment plan, a promise or a hold.",
    )
    payment_reminder_message_ids = fields.Many2many(
        "account.payment.reminder.message",
        "account_payment_reminder_message_move_rel",
        "move_id",
        "message_id",
        string="Payment Reminders",
        copy=False,
        readonly=True,
    )
    payment_reminder_message_count = fields.Integer(compute="_compute_payment_reminder_message_count")
    payment_reminder_url = fields.Char("Payment Link", compute="_compute_payment_reminder_url")
    payment_reminder_is_open = fields.Boolean("Open for Reminders", compute="_compute_payment_reminder_is_open")
    payment_reminder_discount_date = fields.Date("Early Discount Until", compute="_compute_payment_reminder_discount")
    payment_reminder_discount_amount = fields.Monetary(
        "Amount With Early Discount", compute="_compute_payment_reminder_discount"
    )

    def init(self):
        res = super().init()
        # the scheduler's first query: open customer invoices, per customer
        self.env.cr.execute(OPEN_INVOICE_INDEX)
        return res

    # === COMPUTE METHODS === #

    @api.depends("move_type", "state", "payment_state", "amount_residual")
    def _compute_payment_reminder_is_open(self):
        open_moves = self.filtered_domain(OPEN_INVOICE_DOMAIN)
        for move in self:
            move.payment_reminder_is_open = move in open_moves

    def _compute_payment_reminder_message_count(self):
        for move in self:
            move.payment_reminder_message_count = len(move.payment_reminder_message_ids)

    def _compute_payment_reminder_url(self):
        """The customer's reminder page when it has a valid link (reminders make
        one), else the invoice's portal page."""
        # sudo: page links are written by code only; each invoice's own customer and company are the scope
        pages = self.env["account.payment.reminder.access"].sudo()._get_urls(self._origin)
        for move in self:
            saved = move._origin  # a preview holds its invoices as unsaved copies: link to the real ones
            if saved.is_invoice(include_receipts=True):
                page = saved.is_sale_document() and pages.get((saved.commercial_partner_id.id, saved.company_id.id))
                move.payment_reminder_url = page or saved.get_base_url() + saved.get_portal_url()
            else:
                move.payment_reminder_url = False

    def _get_payment_reminder_open_lines(self):
        self.ensure_one()
        return self.line_ids.filtered(lambda line: line.display_type == "payment_term" and not line.reconciled)

    def _get_payment_reminder_due_date(self):
        """The due date the ladder refers to: the earliest open instalment's."""
        self.ensure_one()
        return min(self._get_payment_reminder_open_lines().mapped("date_maturity"), default=self.invoice_date_due)

    @api.depends("line_ids.discount_date", "line_ids.discount_amount_currency", "payment_state")
    def _compute_payment_reminder_discount(self):
        today = fields.Date.context_today(self)
        for move in self:
            lines = move._get_payment_reminder_open_lines() if move.payment_state == "not_paid" else []
            dates = [line.discount_date for line in lines if line.discount_date and line.discount_date >= today]
            if dates and move.invoice_payment_term_id.early_discount:
                move.payment_reminder_discount_date = min(dates)
                move.payment_reminder_discount_amount = abs(sum(lines.mapped("discount_amount_currency")))
            else:
                move.payment_reminder_discount_date = False
                move.payment_reminder_discount_amount = 0.0

    @api.depends(
        "payment_reminder_level_id",
        "payment_reminder_ref_date",
        "invoice_date_due",
        "payment_state",
        "state",
        "payment_reminder_exclude",
        "payment_reminder_hold_until",
        "commercial_partner_id.payment_reminder_exclude",
        "commercial_partner_id.payment_reminder_hold_until",
    )
    def _compute_payment_reminder_next(self):
        """The next reminder as the scheduler will decide it: the ladder's next
        level, after what holds the invoice (a promise until its date plus
        grace, a hold until its date); under an active payment plan, the
        plan's reminder before the next instalment."""
        today = fields.Date.context_today(self)
        promises, plans = self._get_payment_reminder_holders()
        for move in self:
            move.payment_reminder_next_date = False
            move.payment_reminder_next_level_id = False
            move.payment_reminder_promise_id = promises.get(move.id, False)
            move.payment_reminder_plan_id = plans.get(move.id, False)
            move.payment_reminder_waiting = False
            policy = move._get_payment_reminder_policy()
            if not policy or not move.payment_reminder_is_open:
                continue
            waiting, held_until = move._get_payment_reminder_wait(today)
            move.payment_reminder_waiting = waiting
            if held_until is None:
                continue  # excluded: never
            plan = move.payment_reminder_plan_id
            if plan:
                if plan.next_date:
                    move.payment_reminder_next_date = max(
                        today, fields.Date.subtract(plan.next_date, days=plan.remind_before_days)
                    )
                continue
            due = move._get_payment_reminder_due_date()
            current = move.payment_reminder_level_id
            candidates = level_candidates(
                policy._get_ladder(),
                current and (current.sequence, current.id),
                move.payment_reminder_ref_date != due,
                due,
                move.payment_reminder_discount_date,
            )
            if candidates:
                # the highest level whose date has come once nothing holds the invoice, else the lowest one to come
                resume = max(today, held_until)
                level_id, level_date = next(((lv, day) for lv, day in candidates if day <= resume), candidates[-1])
                move.payment_reminder_next_level_id = level_id
                move.payment_reminder_next_date = max(level_date, resume)

    def _get_payment_reminder_holders(self):
        """({invoice id: open promise}, {invoice id: active plan}) for these
        invoices, read in two searches; the promise is the one that holds
        longest (as the scheduler reads it)."""
        invoices = self.filtered(lambda m: m.move_type == "out_invoice" and m._origin)
        if not invoices:
            return {}, {}
        ids = invoices._origin.ids
        Promise = self.env["account.payment.reminder.promise"]
        promises = {}
        for promise in Promise.search(
            [("state", "=", "open"), ("partner_id", "in", invoices.commercial_partner_id.ids)], order="date desc"
        ):
            covered = promise.move_ids.ids or ids
            for move in invoices:
                if (
                    move._origin.id in covered
                    and promise.partner_id == move.commercial_partner_id
                    and promise.company_id == move.company_id
                ):
                    held = promises.get(move.id)
                    if not held or held._get_hold_end() < promise._get_hold_end():
                        promises[move.id] = promise
        plans = {}
        for plan in self.env["account.payment.reminder.plan"].search(
            [("state", "=", "active"), ("move_ids", "in", ids)]
        ):
            for move in invoices.filtered(lambda m, p=plan: m._origin in p.move_ids):
                plans[move.id] = plan
        return promises, plans

    def _get_payment_reminder_wait(self, today):
        """(what holds the reminders in words or False, the first day they may
        go again; None when the invoice is excluded)."""
        self.ensure_one()
        customer = self.commercial_partner_id
        if self.payment_reminder_exclude:
            return _("This invoice is excluded from reminders."), None
        if customer.payment_reminder_exclude:
            return _("%(customer)s is excluded from reminders.", customer=customer.name), None
        waits = []
        plan = self.payment_reminder_plan_id
        if plan:
            line = plan.next_line_id
            waits.append(
                (
                    today,
                    _(
                        "Payment plan: next instalment %(amount)s on %(date)s.",
                        amount=plan.currency_id.format(line.amount - line.amount_paid),
                        date=format_date(self.env, line.date),
                    )
                    if line
                    else _("Payment plan."),
                )
            )
        promise = self.payment_reminder_promise_id
        if promise and promise._get_hold_end() >= today:
            waits.append(
                (
                    fields.Date.add(promise._get_hold_end(), days=1),
                    _(
                        "Promise to pay %(amount)s by %(date)s (then %(days)s days of grace).",
                        amount=promise.currency_id.format(promise.amount),
                        date=format_date(self.env, promise.date),
                        days=promise.grace_days,
                    ),
                )
            )
        for holder, hold_until, reason in (
            (_("This invoice"), self.payment_reminder_hold_until, self.payment_reminder_hold_reason),
            (customer.name, customer.payment_reminder_hold_until, customer.payment_reminder_hold_reason),
        ):
            if hold_until and hold_until >= today:
                text = _("%(holder)s is on hold until %(date)s.", holder=holder, date=format_date(self.env, hold_until))
                waits.append((fields.Date.add(hold_until, days=1), f"{text} {reason}" if reason else text))
        if not waits:
            return False, today
        return " ".join(text for _day, text in waits), max(day for day, _text in waits)

    # === BUSINESS METHODS === #

    def _payment_reminder_action_open(self):
        """A window on these invoices (from a message or a plan)."""
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "name": _("Invoices"),
            "view_mode": "list,form",
            "domain": [("id", "in", self.ids)],
        }

    def _get_payment_reminder_policy(self):
        """The policy that applies: the invoice's, else its customer's (same
        company), else its company's."""
        self.ensure_one()
        for policy in (
            self.payment_reminder_policy_id,
            self.commercial_partner_id.payment_reminder_policy_id,
            self.company_id.payment_reminder_policy_id,
        ):
            # sudo: a customer shared by two companies may point to the other's policy, which the user cannot read
            if policy and policy.sudo().active and policy.sudo().company_id == self.company_id:
                return policy
        return self.env["account.payment.reminder.policy"]

    def action_view_payment_reminders(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_payment_reminder.account_payment_reminder_message_action"
        )
        action["domain"] = [("move_ids", "in", self.ids)]
        action["context"] = {"create": False}
        return action

    def _get_payment_reminder_open_amount(self):
        """{invoice id: what is still open on it as Odoo shows it}, in invoice currency.

        Odoo 18 registers a payment on a journal without outstanding account
        without any journal entry: the invoice turns "In Payment" while
        ``amount_residual`` does not move. This is the residual minus those
        payments (in process, or paid when nothing else is reconciled on the
        invoice, like ``_compute_payment_state``), each spread over its
        invoices oldest due first. A payment that has its journal entry is in
        the residual already and is not counted again."""
        residual_lines = "line_ids.matched_debit_ids", "line_ids.matched_credit_ids"

        def pays(payment, invoice):
            if payment.state not in ("in_process", "paid"):
                return False
            if (payment.payment_type == "inbound") != invoice.is_inbound():
                return False
            # a paid payment beside a reconciliation is the bank statement's money, already in the residual
            return payment.state == "in_process" or not any(invoice.mapped(name) for name in residual_lines)

        # every invoice that shares a payment with these, so that the result does not depend on the batch
        invoices, payments = self, self.env["account.payment"]
        while True:
            new_payments = invoices.matched_payment_ids.filtered(lambda p: not p.move_id) - payments
            if not new_payments:
                break
            payments |= new_payments
            invoices |= new_payments.invoice_ids
        open_amounts = {invoice: max(invoice.amount_residual, 0.0) for invoice in invoices}
        allocation = []
        for payment in payments.sorted(lambda p: (p.date, p.id)):
            targets = payment.invoice_ids.filtered(lambda m, p=payment: m in open_amounts and pays(p, m))
            rates = [
                (
                    invoice,
                    payment.currency_id._get_conversion_rate(
                        payment.currency_id, invoice.currency_id, invoice.company_id, payment.date
                    ),
                )
                for invoice in targets.sorted(lambda m: (m.invoice_date_due or m.date, m.id))
            ]
            allocation.append((payment.amount, rates))
        covered = allocate_payments(open_amounts, allocation)
        return {
            invoice.id: invoice.currency_id.round(max(open_amounts[invoice] - covered[invoice], 0.0))
            for invoice in self
        }

    def _get_invoice_next_payment_values(self, custom_amount=None):
        """One payment transaction for several invoices (the reminder page's
        "pay all overdue"): Odoo 18.0 before odoo/odoo#186877 asks this of all
        the transaction's invoices at once and fails; several invoices have no
        early-discount instalment to pay."""
        if len(self) > 1:
            return {"installment_state": False, "amount_due": 0.0}
        return super()._get_invoice_next_payment_values(custom_amount=custom_amount)


class AccountMovePolicyShown(models.Model):
    """The policy that applies, shown on the invoice's Reminders tab also when
    it is the customer's or the company's (the invoice's own field is only an
    override)."""

    _inherit = "account.move"

    payment_reminder_applied_policy_id = fields.Many2one(
        "account.payment.reminder.policy",
        "Policy That Applies",
        compute="_compute_payment_reminder_applied_policy_id",
        help="The invoice's own policy, else its customer's, else its company's.",
    )

    @api.depends(
        "payment_reminder_policy_id",
        "commercial_partner_id.payment_reminder_policy_id",
        "company_id.payment_reminder_policy_id",
    )
    def _compute_payment_reminder_applied_policy_id(self):
        for move in self:
            move.payment_reminder_applied_policy_id = (
                move._get_payment_reminder_policy() if move.is_sale_document() else False
            )
