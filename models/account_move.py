import json
from datetime import date, timedelta

from odoo import _, api, fields, models
from odoo.tools import format_date
from odoo.tools.sql import column_exists, create_column

from ..tools.on_its_way import REFERENCE_EDGES
from ..tools.plans import allocate_payments
from ..tools.schedule import level_candidates, next_reminder

OPEN_INVOICE_DOMAIN = [
    ("move_type", "=", "out_invoice"),
    ("state", "=", "posted"),
    ("payment_reminder_amount_open", ">", 0),
]
"""What the addon chases: posted customer invoices on which the customer still
owes something (``payment_reminder_amount_open``, the one home of "what is
still owed"). An invoice 'In Payment' or 'Paid' through a payment registered
without a journal entry is open for what that payment does not cover."""


def open_invoice_where(alias="m"):
    """OPEN_INVOICE_DOMAIN in SQL, on ``account_move <alias>``."""
    prefix = f"{alias}." if alias else ""
    return (
        f"{prefix}move_type = 'out_invoice' AND {prefix}state = 'posted' AND {prefix}payment_reminder_amount_open > 0"
    )


OPEN_INVOICE_WHERE = open_invoice_where("m")

# the scheduler's first query: open customer invoices, per customer; and the open invoices a bank line names
# (run._get_named_invoices: the same expressions, or PostgreSQL reads every open invoice for each run). Those two
# cover every move: PostgreSQL estimates an expression from the statistics of an index without WHERE only, and
# without them it takes hundreds of words for the whole table (at 100,000 invoices: 110 ms instead of 6 ms)
OPEN_INVOICE_INDEX = f"""
    DROP INDEX IF EXISTS account_move_payment_reminder_open_idx;
    CREATE INDEX IF NOT EXISTS account_move_payment_reminder_owed_idx
        ON account_move (commercial_partner_id, id)
     WHERE {open_invoice_where(None)};
    CREATE INDEX IF NOT EXISTS account_move_payment_reminder_named_idx
        ON account_move (UPPER(BTRIM(name, '{REFERENCE_EDGES}')));
    CREATE INDEX IF NOT EXISTS account_move_payment_reminder_reference_idx
        ON account_move (UPPER(BTRIM(payment_reference, '{REFERENCE_EDGES}')))
"""

NOT_CHASED_STATES = ("reversed", "blocked", "invoicing_legacy")
"""Payment states of invoices that owe nothing whatever their residual."""


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
    payment_reminder_applied_policy_id = fields.Many2one(
        "account.payment.reminder.policy",
        "Policy That Applies",
        compute="_compute_payment_reminder_applied_policy_id",
        help="The invoice's own policy, else its customer's, else its company's.",
    )
    payment_reminder_exclude = fields.Boolean("No Payment Reminders", copy=False)
    payment_reminder_hold_until = fields.Date("Reminders On Hold Until", copy=False, tracking=True)
    payment_reminder_hold_reason = fields.Char("Hold Reason", copy=False, tracking=True)
    payment_reminder_level_id = fields.Many2one(
        "account.payment.reminder.level", "Reminder Level", copy=False, readonly=True, index="btree_not_null"
    )
    payment_reminder_last_date = fields.Datetime("Last Reminder", copy=False, readonly=True)
    payment_reminder_level_date = fields.Date(
        "Level Reached On",
        copy=False,
        readonly=True,
        help="The day the message of the current level went: the next level waits for the days between the two "
        "levels from then.",
    )
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
        help="What holds the reminders of this invoice: an exclusion, a payment plan, a promise, a hold or money on "
        "its way (a bank line not reconciled yet, an online payment pending).",
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
    payment_reminder_amount_open = fields.Monetary(
        "Still Owed",
        compute="_compute_payment_reminder_amount_open",
        store=True,
        currency_field="currency_id",
        help="What the customer still owes on this customer invoice: the amount due less the payments "
        "registered without a journal entry (Odoo shows the invoice In Payment or Paid as soon as one is "
        "registered, whatever its amount). What reminders chase, statements list and the customer's page shows.",
    )
    payment_reminder_amount_open_signed = fields.Monetary(
        "Still Owed (Company Currency)",
        compute="_compute_payment_reminder_amount_open",
        store=True,
        currency_field="company_currency_id",
    )
    payment_reminder_discount_date = fields.Date("Early Discount Until", compute="_compute_payment_reminder_discount")
    payment_reminder_discount_amount = fields.Monetary(
        "Amount With Early Discount", compute="_compute_payment_reminder_discount"
    )

    def _auto_init(self):
        """What is still owed, written in SQL when the columns are new (the ORM
        would compute it invoice by invoice over the whole ledger): the
        residual of the posted customer invoices; those 'In Payment' or
        'Paid' with a residual are computed by ``init``."""
        cr = self.env.cr
        if not column_exists(cr, "account_move", "payment_reminder_amount_open"):
            create_column(cr, "account_move", "payment_reminder_amount_open", "numeric")
            create_column(cr, "account_move", "payment_reminder_amount_open_signed", "numeric")
            cr.execute(
                """
                UPDATE account_move
                   SET payment_reminder_amount_open = CASE WHEN is_owed THEN amount_residual ELSE 0 END,
                       payment_reminder_amount_open_signed = CASE WHEN is_owed THEN amount_residual_signed ELSE 0 END
                  FROM (SELECT id AS move_id,
                               move_type = 'out_invoice' AND state = 'posted' AND amount_residual > 0
                               AND payment_state NOT IN %s AS is_owed
                          FROM account_move) owed
                 WHERE owed.move_id = account_move.id
                """,
                [NOT_CHASED_STATES],
            )
        return super()._auto_init()

    def init(self):
        res = super().init()
        # the invoices 'In Payment' or 'Paid' with a residual: payments without journal entry, maybe partial
        in_payment = self.search(
            [
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ("in_payment", "paid")),
                ("amount_residual", ">", 0),
            ]
        )
        if in_payment:
            self.env.add_to_compute(self._fields["payment_reminder_amount_open"], in_payment)
            in_payment._recompute_recordset(["payment_reminder_amount_open"])
        # the scheduler's first query: open customer invoices, per customer
        self.env.cr.execute(OPEN_INVOICE_INDEX)
        return res

    # === COMPUTE METHODS === #

    @api.depends(
        "move_type",
        "state",
        "payment_state",
        "amount_residual",
        "amount_residual_signed",
        "matched_payment_ids.state",
        "matched_payment_ids.amount",
        "matched_payment_ids.move_id",
        "matched_payment_ids.invoice_ids.amount_residual",
    )
    def _compute_payment_reminder_amount_open(self):
        owed = self.filtered(
            lambda m: (
                m.move_type == "out_invoice"
                and m.state == "posted"
                and m.payment_state not in NOT_CHASED_STATES
                and m.amount_residual > 0
            )
        )
        amounts = owed._get_payment_reminder_open_amount() if owed else {}
        for move in self:
            amount = amounts.get(move.id, 0.0)
            move.payment_reminder_amount_open = amount
            share = amount / move.amount_residual if move.amount_residual else 0.0
            move.payment_reminder_amount_open_signed = move.company_currency_id.round(
                move.amount_residual_signed * share
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

    @api.depends("move_type", "state", "payment_reminder_amount_open")
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

    def _get_payment_reminder_level_date(self):
        """The day the current level's message went (for a level reached before the addon recorded it, the
        last reminder's day), as the scheduler's query reads it."""
        self.ensure_one()
        last = self.payment_reminder_last_date
        return self.payment_reminder_level_date or (last and last.date()) or None

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
        "payment_reminder_level_date",
        "invoice_date_due",
        "payment_state",
        "payment_reminder_amount_open",
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
        money = self._get_payment_reminder_money()
        for move in self:
            move.payment_reminder_next_date = False
            move.payment_reminder_next_level_id = False
            move.payment_reminder_promise_id = promises.get(move.id, False)
            move.payment_reminder_plan_id = plans.get(move.id, False)
            move.payment_reminder_waiting = False
            policy = move._get_payment_reminder_policy()
            if not policy or not move.payment_reminder_is_open:
                continue
            waiting, held_until = move._get_payment_reminder_wait(today, money.get(move._origin.id))
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
                move._get_payment_reminder_level_date(),
                policy.catch_up,
            )
            # the level the scheduler sends once nothing holds the invoice, else the first one to come
            upcoming = next_reminder(candidates, max(today, held_until), due)
            if upcoming:
                move.payment_reminder_next_level_id, move.payment_reminder_next_date = upcoming

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

    def _get_payment_reminder_money(self):
        """{invoice id: row} for these invoices that money on its way holds
        today, wholly or in part, as the scheduler shares it out
        (``account.payment.reminder.run._get_money_held``)."""
        invoices = self.filtered(lambda m: m.move_type == "out_invoice" and m.state == "posted" and m._origin)
        if not invoices:
            return {}
        # sudo: bank lines and online payments are read as the scheduler reads them; only these invoices' holds show
        rows = self.env["account.payment.reminder.run"].sudo()._get_money_held(invoices.commercial_partner_id.ids)
        ids = set(invoices._origin.ids)
        return {row["id"]: row for row in rows if row["id"] in ids}

    def _get_payment_reminder_wait(self, today, money=None):
        """(what holds the reminders in words or False, the first day they may
        go again; None when the invoice is excluded).

        :param money: the invoice's row of ``_get_payment_reminder_money``
        """
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
        if money and not waits:
            Run = self.env["account.payment.reminder.run"]
            days = self._get_payment_reminder_policy().on_its_way_days
            resume = max(item.date for item, _amount in money["money"]) + timedelta(days=days)
            held = self.currency_id.format(money["money_held"][0])
            texts = ", ".join(Run._describe_money(item) for item, _amount in money["money"])
            if money["block"] == "on_its_way":
                text = _(
                    "Money on its way: %(money)s. Reminders wait for it until %(date)s.",
                    money=texts,
                    date=format_date(self.env, resume - timedelta(days=1)),
                )
                waits.append((resume, text))
            else:
                text = _(
                    "Money on its way: %(money)s holds %(amount)s of this invoice until %(date)s; reminders ask "
                    "for the rest.",
                    money=texts,
                    amount=held,
                    date=format_date(self.env, resume - timedelta(days=1)),
                )
                waits.append((today, text))
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
        """{invoice id: what the customer still owes on it}, in invoice currency:
        the one computation behind ``payment_reminder_amount_open``.

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

    def _payment_reminder_sync_levels(self):
        """Record on each invoice the level its reminders really reached, from
        their history: among the reminders that went or may still go (not
        failed nor cancelled; one interrupted while sending may have reached
        the customer), the latest ladder (due date) and its highest level,
        with the day its first message went (or, not gone yet, is to go); and
        the day of the last reminder. An invoice whose only reminders failed is back where it was
        before them."""
        if not self:
            return
        Message = self.env["account.payment.reminder.message"]
        Message.flush_model(
            ["state", "failure_code", "reached_levels", "level_id", "kind", "sent_at", "queued_at", "next_attempt_at"]
        )
        self.env.cr.execute(
            """
            -- the day a message went; one still to go (queued again by Retry, waiting for its window): when
            SELECT r.move_id, msg.reached_levels, msg.level_id,
                   COALESCE(msg.sent_at, GREATEST(msg.queued_at, msg.next_attempt_at))
              FROM account_payment_reminder_message_move_rel r
              JOIN account_payment_reminder_message msg ON msg.id = r.message_id
             WHERE r.move_id = ANY(%s) AND msg.kind = 'reminder'
               AND (msg.state NOT IN ('failed', 'cancelled') OR msg.failure_code = 'interrupted')
            """,
            [self._origin.ids],
        )
        rows = self.env.cr.fetchall()
        Level = self.env["account.payment.reminder.level"]
        levels = Level.browse({level_id for _move, _data, level_id, _at in rows if level_id})
        best, last = {}, {}
        for move_id, data, level_id, at in rows:
            last[move_id] = max(last.get(move_id, at), at)
            if data is None:  # a reminder recorded before each invoice's level was: its level for all
                mark = [level_id, self.browse(move_id).with_prefetch(self._prefetch_ids).payment_reminder_ref_date]
            else:
                mark = json.loads(data).get(str(move_id))
            if not (mark and mark[0]):
                continue
            level = Level.browse(mark[0]).with_prefetch(levels._prefetch_ids)
            ref_date = fields.Date.to_date(mark[1])
            key = (ref_date or date.min, level.sequence, level.id)
            if move_id not in best or key > best[move_id][0] or (key == best[move_id][0] and at < best[move_id][3]):
                best[move_id] = (key, level.id, ref_date, at)
        fnames = [
            "payment_reminder_level_id",
            "payment_reminder_ref_date",
            "payment_reminder_level_date",
            "payment_reminder_last_date",
        ]
        self.flush_recordset(fnames)
        ids = self._origin.ids
        # SQL: bookkeeping columns of posted invoices, as the pipeline writes them (see _mark_invoices)
        self.env.cr.execute(
            """
            UPDATE account_move m
               SET payment_reminder_level_id = r.level_id, payment_reminder_ref_date = r.ref_date,
                   payment_reminder_level_date = r.level_date, payment_reminder_last_date = r.last_date
              FROM unnest(%s::int[], %s::int[], %s::date[], %s::date[], %s::timestamp[])
                   AS r(id, level_id, ref_date, level_date, last_date)
             WHERE m.id = r.id
            """,
            [
                ids,
                [best[move_id][1] if move_id in best else None for move_id in ids],
                [best[move_id][2] if move_id in best else None for move_id in ids],
                [best[move_id][3].date() if move_id in best else None for move_id in ids],
                [last.get(move_id) for move_id in ids],
            ],
        )
        self.invalidate_recordset(fnames)

    def _get_invoice_next_payment_values(self, custom_amount=None):
        """One payment transaction for several invoices (the reminder page's
        "pay all overdue"): Odoo 18.0 before odoo/odoo#186877 asks this of all
        the transaction's invoices at once and fails; several invoices have no
        early-discount instalment to pay."""
        if len(self) > 1:
            return {"installment_state": False, "amount_due": 0.0}
        return super()._get_invoice_next_payment_values(custom_amount=custom_amount)
