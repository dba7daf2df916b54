"""The decision: which invoices are due for which level, for whom, on which
channel, or why they wait. Writes nothing."""

import logging
from collections import defaultdict
from datetime import timedelta

from odoo import fields, models
from odoo.tools import format_date

from ..tools.on_its_way import REFERENCE_EDGES, IncomingMoney, hold, references
from ..tools.pipeline import Outgoing, ReminderGroup
from ..tools.schedule import is_before_due, level_candidates, pick_level, to_local
from ..tools.statement import StatementLine, is_covered, summarize
from .account_move import OPEN_INVOICE_WHERE

_logger = logging.getLogger(__name__)


class AccountPaymentReminderRun(models.AbstractModel):
    _inherit = "account.payment.reminder.run"

    # === DECISION === #

    def _get_candidate_partners_query(self):
        return f"""
            SELECT m.commercial_partner_id, COUNT(*)
              FROM account_move m
             WHERE {OPEN_INVOICE_WHERE}
               AND (%(partner_ids)s IS NULL OR m.commercial_partner_id = ANY(%(partner_ids)s))
             GROUP BY 1
             ORDER BY 1
        """

    def _get_candidate_partners(self, partner_ids=None):
        """(commercial partner id, number of open invoices) of the customers
        with at least one open customer invoice."""
        self.env["account.move"].flush_model()
        self.env["res.partner"].flush_model()
        self.env.cr.execute(
            self._get_candidate_partners_query(),
            {"today": fields.Date.context_today(self), "partner_ids": list(partner_ids) if partner_ids else None},
        )
        return self.env.cr.fetchall()

    def _get_open_invoices_query(self):
        """Open invoices of a batch of customers, with the policy that applies
        (invoice, else customer, else company: the rule of
        ``account.move._get_payment_reminder_policy``, each an active policy of
        the invoice's company), the due dates that matter (the
        earliest open instalment, the earliest early-discount deadline), what
        is still due on them (and, for invoices in instalments, on each open
        instalment) and what may hold them (exclusion, payment plan, promise,
        hold)."""
        return f"""
            WITH promises AS MATERIALIZED (
                -- the open promises of the batch's customers: for some invoices, or for all (no invoice)
                SELECT pro.partner_id, pro.company_id, r.move_id, MAX(pro.date + COALESCE(pro.grace_days, 0)) AS until
                  FROM account_payment_reminder_promise pro
                  LEFT JOIN account_payment_reminder_promise_move_rel r ON r.promise_id = pro.id
                 WHERE pro.state = 'open' AND pro.partner_id = ANY(%(partner_ids)s)
                 GROUP BY 1, 2, 3
            )
            SELECT m.id, m.commercial_partner_id AS partner_id, pol.id AS policy_id, m.company_id,
                   m.payment_reminder_level_id AS level_id, m.payment_reminder_ref_date AS ref_date,
                   -- the day the level's message went (before the addon recorded it: the last reminder's day)
                   COALESCE(m.payment_reminder_level_date, m.payment_reminder_last_date::date) AS level_date,
                   d.due, CASE WHEN pt.early_discount AND m.payment_state = 'not_paid' THEN d.disc END AS discount_date,
                   -- what is still owed (payments registered without a journal entry deducted), and the residual
                   m.payment_reminder_amount_open_signed AS amount, m.payment_reminder_amount_open AS amount_currency,
                   m.amount_residual_signed AS residual, m.amount_residual AS residual_currency, m.currency_id,
                   d.terms, m.partner_id AS contact_id,
                   COALESCE(m.payment_reminder_exclude, FALSE) OR COALESCE(cp.payment_reminder_exclude, FALSE)
                       AS excluded,
                   EXISTS (
                       SELECT 1
                         FROM account_payment_reminder_plan_move_rel pr
                         JOIN account_payment_reminder_plan plan ON plan.id = pr.plan_id
                        WHERE pr.move_id = m.id AND plan.state = 'active'
                   ) AS in_plan,
                   (
                       SELECT MAX(p.until) FROM promises p
                        WHERE p.partner_id = m.commercial_partner_id AND p.company_id = m.company_id
                          AND (p.move_id IS NULL OR p.move_id = m.id)
                   ) AS promise_until,
                   GREATEST(m.payment_reminder_hold_until, cp.payment_reminder_hold_until) AS hold_until
              FROM account_move m
              -- the batch on both sides: the planner reads the customers and their open invoices by index
              JOIN res_partner cp ON cp.id = m.commercial_partner_id AND cp.id = ANY(%(partner_ids)s)
              JOIN res_company comp ON comp.id = m.company_id
              LEFT JOIN account_payment_term pt ON pt.id = m.invoice_payment_term_id
              LEFT JOIN account_payment_reminder_policy ipol
                     ON ipol.id = m.payment_reminder_policy_id AND ipol.active AND ipol.company_id = m.company_id
              LEFT JOIN account_payment_reminder_policy ppol
                     ON ppol.id = cp.payment_reminder_policy_id AND ppol.active AND ppol.company_id = m.company_id
              LEFT JOIN account_payment_reminder_policy cpol
                     ON cpol.id = comp.payment_reminder_policy_id AND cpol.active AND cpol.company_id = m.company_id
             CROSS JOIN LATERAL (SELECT COALESCE(ipol.id, ppol.id, cpol.id) AS id) pol
             CROSS JOIN LATERAL (
                    SELECT MIN(l.date_maturity) AS due,
                           MIN(l.discount_date) FILTER (WHERE l.discount_date >= %(today)s) AS disc,
                           CASE WHEN COUNT(*) > 1 THEN JSON_AGG(JSON_BUILD_ARRAY(
                               l.date_maturity, l.amount_residual_currency, l.amount_residual
                           )) END AS terms
                      FROM account_move_line l
                     WHERE l.move_id = m.id AND l.display_type = 'payment_term' AND NOT l.reconciled
                   ) d
             WHERE {OPEN_INVOICE_WHERE}
               AND m.commercial_partner_id = ANY(%(partner_ids)s)
               AND (%(move_ids)s IS NULL OR m.id = ANY(%(move_ids)s))
               AND pol.id IS NOT NULL
               AND d.due IS NOT NULL
             ORDER BY m.commercial_partner_id, d.due, m.id
        """

    def _get_credits_query(self):
        """What the customers of a batch have to their credit, per company and
        currency: the open credits on their receivable accounts (credit notes,
        payments and other entries not yet reconciled with an invoice), and
        the customer payments Odoo 18 registered without a journal entry that
        no invoice claims."""
        return """
            SELECT p.commercial_partner_id AS partner_id, l.company_id, l.currency_id,
                   SUM(l.amount_residual_currency) AS residual, SUM(l.amount_residual) AS residual_company
              FROM account_move_line l
              JOIN res_partner p ON p.id = l.partner_id
              JOIN account_account a ON a.id = l.account_id
             WHERE p.commercial_partner_id = ANY(%(partner_ids)s)
               AND l.parent_state = 'posted'
               AND NOT l.reconciled
               AND l.amount_residual < 0
               AND a.account_type = 'asset_receivable'
             GROUP BY 1, 2, 3
             UNION ALL
            SELECT p.commercial_partner_id, pay.company_id, pay.currency_id,
                   -SUM(pay.amount), -SUM(ABS(pay.amount_company_currency_signed))
              FROM account_payment pay
              JOIN res_partner p ON p.id = pay.partner_id
             WHERE p.commercial_partner_id = ANY(%(partner_ids)s)
               AND pay.move_id IS NULL
               AND pay.state = 'in_process'
               AND pay.payment_type = 'inbound'
               AND pay.partner_type = 'customer'
               AND NOT EXISTS (SELECT 1 FROM account_move__account_payment r WHERE r.payment_id = pay.id)
             GROUP BY 1, 2, 3
        """

    def _get_credits(self, partner_ids):
        """{(partner id, company id): {currency id: [residual, residual in company currency]}} (negative)."""
        self.env["account.move.line"].flush_model()
        self.env["account.payment"].flush_model()
        self.env.cr.execute(self._get_credits_query(), {"partner_ids": list(partner_ids)})
        credits = defaultdict(dict)
        for row in self.env.cr.dictfetchall():
            amounts = credits[row["partner_id"], row["company_id"]].setdefault(row["currency_id"], [0.0, 0.0])
            amounts[0] += row["residual"] or 0.0
            amounts[1] += row["residual_company"] or 0.0
        return credits

    def _get_free_rows(self, partner_ids, move_ids=None):
        """The open invoices of ``partner_ids`` (the decision's query) that
        nothing holds today (exclusion, plan, promise, hold), with what they
        ask (``amount_currency``, ``amount``) read as a whole."""
        self.env.flush_all()  # whatever changed since the decision: payments, holds, promises, plans
        today = fields.Date.context_today(self)
        self.env.cr.execute(
            self._get_open_invoices_query(),
            {
                "today": today,
                "partner_ids": list(partner_ids),
                "move_ids": list(move_ids) if move_ids is not None else None,
            },
        )
        rows = []
        for row in self.env.cr.dictfetchall():
            row.update(block=self._get_block(row, today), local_today=today, is_due=True)
            if not row["block"]:
                rows.append(row)
        return rows

    def _get_still_owed(self, partner_ids, move_ids):
        """{invoice id: True} for those of ``move_ids`` still owed now: open,
        not excluded nor held (plan, promise, hold, money on its way) and,
        with the other invoices of their customer and currency, not covered
        by the customer's credits. For a queued message checked again before
        it goes (account_payment_reminder_message_job.py)."""
        free = self._get_free_rows(partner_ids, move_ids)
        waits = self._get_on_its_way_waits()
        if any(waits.values()):
            today = fields.Date.context_today(self)
            money = self._get_money_on_its_way(partner_ids, today, max(waits.values()))
            self._hold_money_on_its_way(free, money, waits, whole=True)
            free = [row for row in free if not row["block"]]
        owed = defaultdict(float)  # (partner, company, currency) -> what the free invoices ask
        for row in free:
            owed[row["partner_id"], row["company_id"], row["currency_id"]] += row["amount_currency"]
        credits = self._get_credits(partner_ids)
        currencies = self.env["res.currency"].browse({currency_id for _p, _c, currency_id in owed})
        uncovered = {
            key
            for key, amount in owed.items()
            if not currencies.browse(key[2]).is_zero(max(amount + credits.get(key[:2], {}).get(key[2], [0.0])[0], 0.0))
        }
        return {
            row["id"]: True for row in free if (row["partner_id"], row["company_id"], row["currency_id"]) in uncovered
        }

    # === MONEY ON ITS WAY === #

    def _get_money_held(self, partner_ids=None):
        """The open invoices (rows of the decision's query) that money on its
        way holds today, wholly (``block`` 'on_its_way') or in part, each with
        its share (``money``: [(IncomingMoney, amount)], ``money_held``: (in
        invoice currency, in company currency)), shared out as the decision
        does; of ``partner_ids`` (None: every customer). For the invoice's
        Reminders tab and the overview."""
        waits = self._get_on_its_way_waits()
        if not any(waits.values()):
            return []
        money = self._get_money_on_its_way(partner_ids, fields.Date.context_today(self), max(waits.values()))
        if not money:
            return []
        rows = self._get_free_rows({partner_id for partner_id, _company in money})
        self._hold_money_on_its_way(rows, money, waits, whole=True)
        return [row for row in rows if row.get("money")]

    def _get_on_its_way_waits(self, policies=None):
        """{policy id: days reminders wait for money on its way} (0: they do not)."""
        if policies is None:
            policies = self.env["account.payment.reminder.policy"].search([])
        return {policy.id: policy.on_its_way_days for policy in policies}

    def _get_bank_lines_on_its_way_query(self):
        """Money received on the companies' bank journals and not reconciled
        yet, from the date on: the statement lines not reconciled, what is
        left of them in their own currency, their partner and their texts."""
        return """
            SELECT st.id, st.company_id, COALESCE(st.foreign_currency_id, st.currency_id) AS currency_id,
                   -st.amount_residual AS amount, m.date, st.payment_ref, m.ref, p.commercial_partner_id AS partner_id
              FROM account_bank_statement_line st
              JOIN account_move m ON m.id = st.move_id
              LEFT JOIN res_partner p ON p.id = st.partner_id
             WHERE (NOT st.is_reconciled OR st.is_reconciled IS NULL)
               AND st.amount > 0
               AND st.amount_residual < 0
               AND m.state = 'posted'
               AND m.date >= %(since)s AND m.date <= %(until)s
             ORDER BY m.date, st.id
        """

    def _get_transactions_on_its_way_query(self):
        """Online payments of the batch's customers (or for their invoices)
        that their provider has not confirmed yet: pending or authorised,
        dated from the moment the provider said so."""
        return """
            SELECT tx.id, tx.company_id, tx.currency_id, tx.amount,
                   -- the day the provider said it was coming (pending, authorised)
                   COALESCE(tx.last_state_change, tx.create_date)::date AS date, tx.reference,
                   tx.state, COALESCE(inv.partner_id, p.commercial_partner_id) AS partner_id, inv.move_ids
              FROM payment_transaction tx
              JOIN res_partner p ON p.id = tx.partner_id
             CROSS JOIN LATERAL (
                    SELECT MIN(m.commercial_partner_id) AS partner_id, ARRAY_AGG(m.id) AS move_ids
                      FROM account_invoice_transaction_rel r
                      JOIN account_move m ON m.id = r.invoice_id
                     WHERE r.transaction_id = tx.id AND m.move_type = 'out_invoice'
                   ) inv
             WHERE tx.state IN ('pending', 'authorized')
               AND tx.amount > 0
               AND COALESCE(tx.last_state_change, tx.create_date) >= %(since)s
               AND COALESCE(tx.last_state_change, tx.create_date) < %(until)s
               AND (%(partner_ids)s IS NULL OR COALESCE(inv.partner_id, p.commercial_partner_id) = ANY(%(partner_ids)s))
             ORDER BY tx.create_date, tx.id
        """

    def _get_named_invoices(self, words, partner_ids):
        """{(company id, upper-cased name or payment reference): [(invoice
        id, commercial partner id)]} of the open invoices that ``words`` name
        (compared as ``tools.on_its_way.references`` reads them): a number is
        unique in its journal only, so a bank line names the invoices of its
        own company. The expressions are those of two indexes (account_move.OPEN_INVOICE_INDEX)."""
        self.env.cr.execute(
            f"""
            SELECT UPPER(BTRIM(m.name, %(edges)s)), UPPER(BTRIM(m.payment_reference, %(edges)s)), m.id,
                   m.commercial_partner_id, m.company_id
              FROM account_move m
             WHERE {OPEN_INVOICE_WHERE}
               AND (UPPER(BTRIM(m.name, %(edges)s)) = ANY(%(words)s)
                    OR UPPER(BTRIM(m.payment_reference, %(edges)s)) = ANY(%(words)s))
               AND (%(partner_ids)s IS NULL OR m.commercial_partner_id = ANY(%(partner_ids)s))
            """,
            {
                "words": list(words),
                "edges": REFERENCE_EDGES,
                "partner_ids": list(partner_ids) if partner_ids is not None else None,
            },
        )
        named = defaultdict(list)
        for name, reference, move_id, partner_id, company_id in self.env.cr.fetchall():
            for word in {name, reference}:
                if word in words:
                    named[company_id, word].append((move_id, partner_id))
        return named

    def _get_bank_lines_on_its_way(self, since, until, partner_ids=None):
        """(bank lines not reconciled yet dated ``since`` to ``until``, each
        with the ``words`` that may name an invoice; the open invoices those
        words name, see ``_get_named_invoices``), of ``partner_ids`` (None:
        every customer)."""
        self.env.cr.execute(self._get_bank_lines_on_its_way_query(), {"since": since, "until": until})
        lines = self.env.cr.dictfetchall()
        words = {}
        for line in lines:
            line["words"] = references(line["payment_ref"], line["ref"])
            for word in line["words"]:
                words[word] = None
        return lines, (self._get_named_invoices(words, partner_ids) if words else {})

    def _get_money_on_its_way(self, partner_ids, today, days, memo=None):
        """{(commercial partner id, company id): [IncomingMoney]} of the money
        of ``partner_ids`` (None: every customer) on its way in the last
        ``days`` days, oldest first: bank statement lines not reconciled yet
        that come from the customer or name one of its open invoices (its
        name or payment reference in the line's label or reference), and
        online payments pending or authorised for the customer or its
        invoices. A few queries for a whole batch of customers.

        :param memo: a dict the scheduler keeps for a whole run: the bank
            lines, which belong to no batch, are read (and their words looked
            up among every customer's open invoices) once per run, not once
            per batch
        """
        if not days:
            return {}
        for model in ("account.bank.statement.line", "payment.transaction", "account.move"):
            self.env[model].flush_model()
        since = today - timedelta(days=days + 1)  # a day more: customers west of UTC are a day behind
        partners = set(partner_ids) if partner_ids is not None else None
        money = defaultdict(list)
        until = today + timedelta(days=1)
        if memo is None:
            lines, named = self._get_bank_lines_on_its_way(since, until, partner_ids)
        else:
            key = ("bank_lines_on_its_way", since, until)
            if key not in memo:
                memo[key] = self._get_bank_lines_on_its_way(since, until)
            lines, named = memo[key]
        for line in lines:
            moves = [move for word in line["words"] for move in named.get((line["company_id"], word), ())]
            partner_id = moves[0][1] if moves else line["partner_id"]
            if partner_id is None or (partners is not None and partner_id not in partners):
                continue
            label = " ".join(dict.fromkeys(filter(None, (line["payment_ref"], line["ref"]))))
            money[partner_id, line["company_id"]].append(
                IncomingMoney(
                    "bank_line",
                    line["id"],
                    partner_id,
                    line["company_id"],
                    line["currency_id"],
                    line["amount"],
                    line["date"],
                    label=label,
                    move_ids=tuple(move_id for move_id, move_partner in moves if move_partner == partner_id),
                )
            )
        self.env.cr.execute(
            self._get_transactions_on_its_way_query(),
            {
                "since": since,
                "until": today + timedelta(days=2),
                "partner_ids": list(partners) if partners is not None else None,
            },
        )
        for tx in self.env.cr.dictfetchall():
            money[tx["partner_id"], tx["company_id"]].append(
                IncomingMoney(
                    "transaction",
                    tx["id"],
                    tx["partner_id"],
                    tx["company_id"],
                    tx["currency_id"],
                    tx["amount"],
                    tx["date"],
                    label=tx["reference"],
                    move_ids=tuple(tx["move_ids"] or ()),
                    state=tx["state"],
                )
            )
        return money

    def _describe_money(self, item):
        """A money on its way in words: "Bank line 04/03/2026 'PAYMENT
        INV/2026/00012' $ 900.00", "Online payment 04/03/2026 S00012 (Pending)
        $ 900.00"."""
        amount = self.env["res.currency"].browse(item.currency_id).format(item.total)
        day = format_date(self.env, item.date)
        if item.kind == "bank_line":
            return self.env._("Bank line %(date)s '%(label)s' %(amount)s", date=day, label=item.label, amount=amount)
        states = dict(self.env["payment.transaction"]._fields["state"]._description_selection(self.env))
        return self.env._(
            "Online payment %(date)s %(reference)s (%(state)s) %(amount)s",
            date=day,
            reference=item.label,
            state=states.get(item.state, item.state),
            amount=amount,
        )

    def _describe_money_on_its_way(self, group):
        """What the money on its way of a group holds, one line per bank line
        or transaction, with the day chasing resumes if it is not matched."""
        if not group.money:
            return []
        by_item = {}  # the same money may hold several invoices
        for item, amount, move_id in group.money:
            entry = by_item.setdefault(id(item), [item, 0.0, []])
            entry[1] += amount
            entry[2].append(move_id)
        Move = self.env["account.move"]
        lines = []
        for item, amount, move_ids in by_item.values():
            lines.append(
                self.env._(
                    "Money on its way: %(money)s holds %(amount)s of %(invoices)s; "
                    "if it is not matched, chasing resumes on %(date)s.",
                    money=self._describe_money(item),
                    amount=self.env["res.currency"].browse(item.currency_id).format(amount),
                    invoices=", ".join(Move.browse(move_ids).mapped("name")),
                    date=format_date(self.env, item.date + timedelta(days=group.policy.on_its_way_days)),
                )
            )
        return lines

    @staticmethod
    def _get_asked(row, whole=False):
        """(what an invoice's row asks in its currency, in company currency):
        the whole of what is still owed, or (``whole`` False) for an invoice
        in instalments, the instalments due on the customer's date (payments
        registered without a journal entry pay the oldest first)."""
        amount, amount_company = row["amount_currency"] or 0.0, row["amount"] or 0.0
        if whole or not row["terms"]:
            return amount, amount_company
        today = row["local_today"].isoformat()
        due_terms = [term for term in row["terms"] if term[0] <= today]
        unbooked = (row["residual_currency"] or 0.0) - amount
        unbooked_company = (row["residual"] or 0.0) - amount_company
        return (
            max(0.0, sum(term[1] for term in due_terms) - unbooked),
            max(0.0, sum(term[2] for term in due_terms) - unbooked_company),
        )

    def _hold_money_on_its_way(self, rows, money, waits, whole=False):
        """Hold what money on its way covers (``tools.on_its_way.hold``), on
        rows nothing else holds, oldest due first: a row it covers wholly
        waits ('on_its_way'); a row it covers in part asks for the rest. Each
        such row keeps its share of the money under ``"money"``."""
        by_customer = defaultdict(list)
        for row in rows:
            key = (row["partner_id"], row["company_id"])
            if key in money and not row["block"] and waits.get(row["policy_id"]):
                by_customer[key].append(row)
        for key, customer_rows in by_customer.items():
            # an invoice not due yet is asked for as a whole (a reminder before the due date)
            asked = {row["id"]: self._get_asked(row, whole or not row["is_due"]) for row in customer_rows}
            held = hold(
                [
                    (
                        row["id"],
                        row["currency_id"],
                        asked[row["id"]][0],
                        row["local_today"] - timedelta(days=waits[row["policy_id"]]),
                    )
                    for row in customer_rows
                ],
                money[key],
            )
            for row in customer_rows:
                shares = held.get(row["id"])
                if not shares:
                    continue
                row["money"] = shares
                amount, amount_company = asked[row["id"]]
                taken = sum(share for _item, share in shares)
                row["money_held"] = (taken, amount_company * taken / amount if amount else 0.0)
                if abs(amount - taken) < 0.005:
                    row["block"] = "on_its_way"
                else:
                    row["amount_currency"] -= taken
                    row["amount"] -= amount_company * taken / amount

    def _decide(self, partner_ids, now, move_ids=None, manual=False, memo=None):
        """The reminders due now for a batch of customers: one group per
        customer (and policy; per invoice when the policy says so) at the most
        urgent level its invoices reached, listing what is due, netted with
        the customer's credits; each with its plan or the reason it waits.
        Writes nothing.

        :param move_ids: only these invoices (a manual reminder)
        :param manual: an accountant's reminder: one group per customer at the
            level its invoices are due for on the ladder (see
            ``_get_manual_level`` when none is due yet); the scheduler's rules
            (interval, budget, send window, threshold) are the wizard's to show
        :param memo: a dict the scheduler keeps across the batches of a run,
            for what belongs to no batch (``_get_money_on_its_way``)
        """
        self.env["account.move"].flush_model()
        # the plan of this query is simple; compiling it (JIT) costs more than running it
        self.env.cr.execute("SET LOCAL jit = off")
        self.env.cr.execute(
            self._get_open_invoices_query(),
            {
                "today": fields.Date.context_today(self),
                "partner_ids": list(partner_ids),
                "move_ids": list(move_ids) if move_ids is not None else None,
            },
        )
        # by name: the query is an override hook (dictfetchall would read the column names again for every row)
        names = [column.name for column in self.env.cr.description]
        rows = [dict(zip(names, values, strict=True)) for values in self.env.cr.fetchall()]
        if not rows:
            return []
        Policy = self.env["account.payment.reminder.policy"]
        policies = Policy.browse({row["policy_id"] for row in rows})
        # plain values, read once: the loop below runs once per open invoice
        ladders = {policy.id: policy._get_ladder() for policy in policies}
        settings = {
            policy.id: (policy.date_from, policy.grouping == "invoice", policy._get_fallback_tz(), policy.catch_up)
            for policy in policies
        }
        level_keys, before_due = self._get_level_keys(ladders.values())
        partners = self.env["res.partner"].browse(partner_ids)
        partner_tz = {p.id: p.tz for p in partners}
        utc_horizon = now.date() + timedelta(days=1)  # customers east of UTC may already be a day ahead
        local_today_by_tz = {}
        candidates_by_key = {}  # many invoices share a policy, a level reached and a due date

        buckets = defaultdict(list)
        for row in rows:
            partner_id, policy_id, due = row["partner_id"], row["policy_id"], row["due"]
            date_from, per_invoice, fallback_tz, catch_up = settings[policy_id]
            if date_from and due < date_from and not manual:
                continue
            restart = row["ref_date"] != due
            current_key = level_keys.get(row["level_id"])
            key = (policy_id, current_key, restart, due, row["discount_date"], row["level_date"])
            candidates = candidates_by_key.get(key)
            if candidates is None:
                candidates = candidates_by_key[key] = level_candidates(
                    ladders[policy_id], current_key, restart, due, row["discount_date"], row["level_date"], catch_up
                )
            # cheap first pass in UTC; the exact local date is checked next
            if due > utc_horizon and not pick_level(candidates, utc_horizon, due) and not manual:
                continue
            tz = partner_tz.get(partner_id) or fallback_tz
            local_today = local_today_by_tz.get(tz)
            if local_today is None:
                local_today = local_today_by_tz[tz] = to_local(now, tz).date()
            row["is_due"] = due <= local_today
            row["new_level"] = pick_level(candidates, local_today, due)
            if manual and not row["new_level"]:
                row["new_level"] = self._get_manual_level(row, candidates, None if restart else current_key, before_due)
            if not (row["new_level"] or row["is_due"]):
                continue  # not yet due where the customer lives, and nothing to send for it
            row["reached"] = None if restart or not current_key else row["level_id"]
            per_invoice = per_invoice and not manual
            row["block"] = self._get_block(row, local_today)
            row["local_today"] = local_today
            buckets[partner_id, policy_id, row["id"] if per_invoice else None].append(row)

        waits = self._get_on_its_way_waits(policies)
        if any(waits.values()):
            money = self._get_money_on_its_way(partner_ids, utc_horizon, max(waits.values()), memo=memo)
            if money:
                self._hold_money_on_its_way((row for bucket in buckets.values() for row in bucket), money, waits)
        credits = self._get_credits(partner_ids)
        groups = []
        for (_partner, policy_id, _move), bucket in buckets.items():
            groups += self._make_groups(bucket, policy_id, level_keys, before_due, credits, manual=manual)
        if groups:
            moves = self.env["account.move"].browse(list({move_id for group in groups for move_id in group.moves}))
            levels = self.env["account.payment.reminder.level"].browse(list({group.level for group in groups}))
            for group in groups:
                group.policy = policies.browse(group.policy).with_prefetch(policies._prefetch_ids)
                group.level = levels.browse(group.level).with_prefetch(levels._prefetch_ids)
                group.partner = partners.browse(group.partner).with_prefetch(partners._prefetch_ids)
                group.moves = moves.browse(group.moves).with_prefetch(moves._prefetch_ids)
        if not manual:
            self._check_rules([group for group in groups if not group.skip_reason], now)
        return groups

    @staticmethod
    def _get_manual_level(row, candidates, current_key, before_due):
        """The level of an accountant's reminder for an invoice that the
        ladder has no new level for today: the level it already reached, sent
        again, when it fits (never the next level before its date: the gap
        between two levels holds for a reminder by hand too); else the
        gentlest level that fits (before the due date for an invoice not yet
        due, else the first level after it), whose date may not have come:
        the accountant chose to remind now."""
        current = current_key and current_key[1]
        if current and (current in before_due) != row["is_due"]:
            return current
        fitting = [level_id for level_id, _day, before in candidates if before != row["is_due"]]
        return fitting[-1] if fitting else None

    @staticmethod
    def _get_level_keys(ladders):
        """``({level id: (sequence, id)}, {ids of the levels before the due
        date})`` of the ladders: (sequence, id) orders the levels; a level
        before the due date (courtesy, early discount) never lists an invoice
        that is already due, and an invoice not yet due is never in an
        overdue message."""
        level_keys, before_due = {}, set()
        for ladder in ladders:
            for sequence, level_id, on_discount, offset in ladder:
                level_keys[level_id] = (sequence, level_id)
                if is_before_due(on_discount, offset):
                    before_due.add(level_id)
        return level_keys, before_due

    def _make_groups(self, rows, policy_id, level_keys, before_due, credits, manual=False):
        """The groups of one customer's invoices under one policy (ids, not
        records yet): the message that goes now, if an invoice reached a new
        level, and one group per reason that holds invoices due for a level
        (so that the dry run says why they wait).

        The message takes the most urgent level reached: when an invoice
        reaches an overdue level, it lists every invoice due or overdue and not
        held, and is at least at the highest level they reached; otherwise it is
        a reminder before the due date (courtesy, early discount) listing the
        invoices that reached it."""
        groups = []
        live = [row for row in rows if not row["block"]]
        triggered = [row for row in live if row["new_level"]]
        overdue = [row for row in triggered if row["new_level"] not in before_due]
        if overdue:
            listed = [row for row in live if row["is_due"]]
            keys = [level_keys[row["new_level"]] for row in overdue]
            reached = {row["reached"] for row in listed if row["reached"]} - before_due
            keys += [level_keys[level_id] for level_id in reached]
            level_id = max(keys)[1]
            # the invoices coming due are not in an overdue message, but the customer just heard from us: their
            # reminder before the due date is passed over (recorded as reached), not sent an hour later
            new_levels = {row["id"]: row["new_level"] for row in triggered}
        elif triggered:
            listed = triggered
            level_id = max(level_keys[row["new_level"]] for row in triggered)[1]
            new_levels = {row["id"]: row["new_level"] for row in triggered}
        if triggered:
            group = self._new_group(listed, policy_id, level_id, new_levels)
            group.ref_dates.update({row["id"]: row["due"] for row in triggered})
            self._set_statement(group, listed, credits, asked_by=None if overdue else "all")
            groups.append(group)
        held = defaultdict(list)
        for row in rows:
            if row["block"] and row["new_level"]:
                held[row["block"]].append(row)
        if manual and held:
            # the accountant may send them anyway: one group of all of them, netted as it would go
            blocked = [row for rows_held in held.values() for row in rows_held]
            held = {next(iter(held)): blocked}
        for block, blocked in held.items():
            level_id = max(level_keys[row["new_level"]] for row in blocked)[1]
            group = self._new_group(blocked, policy_id, level_id, {row["id"]: row["new_level"] for row in blocked})
            group.skip_reason = block
            # what the held invoices ask, net of credits: the wizard and the dry run show it (consumes nothing)
            self._set_statement(group, blocked, credits, consume=False)
            groups.append(group)
        return groups

    @staticmethod
    def _new_group(rows, policy_id, level_id, new_levels):
        return ReminderGroup(
            policy=policy_id,
            level=level_id,
            partner=rows[0]["partner_id"],
            moves=[row["id"] for row in rows],
            ref_dates={row["id"]: row["due"] for row in rows},
            new_levels=new_levels,
            move_partner_ids=list(dict.fromkeys(row["contact_id"] for row in rows)),
            money=[(item, amount, row["id"]) for row in rows for item, amount in row.get("money", ())],
        )

    def _set_statement(self, group, rows, credits, asked_by=None, consume=True):
        """Net what the group asks for with the customer's credits in the same
        company and currency (consumed, so that two groups of one customer do
        not count the same credit twice); a group that the credits cover waits
        ('covered'). Sets the group's amounts and its statement, which the
        message keeps and its templates list.

        :param asked_by: None asks for the part of each invoice that is due on
            the customer's date (for invoices in instalments); "all" asks for
            the whole of each invoice (a reminder before the due date)
        """
        lines = []
        for row in rows:
            residual, residual_company = self._get_asked(row, whole=asked_by == "all")
            lines.append(StatementLine(row["id"], row["currency_id"], residual, residual_company, row["due"]))
        available = credits.get((rows[0]["partner_id"], rows[0]["company_id"]), {})
        for currency_id, amounts in available.items():
            if amounts[0] < 0:
                lines.append(StatementLine(0, currency_id, amounts[0], amounts[1], is_invoice=False))
        totals = summarize(lines)
        for currency_id, total in totals.items():
            if consume and currency_id in available and total.netted:
                share = total.netted / -available[currency_id][0]
                available[currency_id][1] -= available[currency_id][1] * share
                available[currency_id][0] += total.netted
        group.amount = sum(total.net_company for total in totals.values())
        group.amount_credit = sum(total.netted_company for total in totals.values())
        group.statement = {
            # the due date the ladder read (the earliest open instalment's): the e-mail lists it, unread again
            "invoices": [
                (line.move_id, line.currency_id, line.residual, line.due and line.due.isoformat())
                for line in lines
                if line.is_invoice
            ],
            "totals": [
                (currency_id, total.overdue, total.netted, total.net)
                for currency_id, total in totals.items()
                if total.overdue
            ],
        }
        if is_covered({c: t for c, t in totals.items() if t.overdue}) and not group.skip_reason:
            group.skip_reason = "covered"

    @staticmethod
    def _get_block(row, local_today):
        """Why a due invoice must wait, or None: excluded, in an active payment
        plan, under a promise to pay (until its date plus grace), on hold."""
        if row["excluded"]:
            return "excluded"
        if row["in_plan"]:
            return "plan"
        if row["promise_until"] and row["promise_until"] >= local_today:
            return "promise"
        if row["hold_until"] and row["hold_until"] >= local_today:
            return "hold"
        return None

    def _check_rules(self, groups, now):
        """Fill each group's plan, or its skip reason, from the policy's rules."""
        contacts = self._get_recent_contacts({(g.policy.company_id.id, g.partner.id) for g in groups}, now)
        Routing = self.env["account.payment.reminder.routing"]
        Routing._set_contacts(groups)
        # what each customer's history says of its hour and channels: one query for the batch
        self.env["account.payment.reminder.learner"]._learn_groups(groups, now)
        used = defaultdict(int)
        memo = {}  # gateways, addresses and local times, shared by the groups of the batch
        # the highest levels first, so that a tight budget goes to the most urgent message
        for group in sorted(groups, key=lambda g: (-g.level.sequence, g.partner.id)):
            self._check_group(group, now, contacts, used, memo)
        self._check_failed_before([group for group in groups if group.planned and not group.skip_reason])

    def _check_failed_before(self, groups):
        """A message that failed for good reached nothing, so its invoices are
        due for the same level again; the scheduler never queues the same
        message twice (its idempotency key): the group waits, and says why,
        until the failed message is sent again (Retry, once its address or
        template is repaired) or its invoices change."""
        Message = self.env["account.payment.reminder.message"]
        keys = {}
        for group in groups:
            for channel, recipient, address, reason in group.planned:
                keys[Message._get_idempotency_key(Outgoing(group, channel, recipient, address, reason))] = group
        if not keys:
            return
        failed = Message.search([("idempotency_key", "in", list(keys)), ("state", "=", "failed")])
        for message in failed:
            group = keys[message.idempotency_key]
            group.skip_reason, group.planned = "failed_before", []

    def _get_recent_contacts(self, company_partner_pairs, now):
        """{(company id, partner id): (last message time, messages in the last 7 days)}."""
        if not company_partner_pairs:
            return {}
        self.env["account.payment.reminder.message"].flush_model()
        self.env.cr.execute(
            """
            SELECT company_id, partner_id, MAX(queued_at),
                   COUNT(*) FILTER (WHERE queued_at > %(week_ago)s)
              FROM account_payment_reminder_message
             WHERE partner_id = ANY(%(partners)s)
               AND state NOT IN ('failed', 'cancelled')
               AND queued_at > %(horizon)s
             GROUP BY company_id, partner_id
            """,
            {
                "partners": list({partner for _company, partner in company_partner_pairs}),
                "week_ago": now - timedelta(days=7),
                "horizon": now - timedelta(days=366),
            },
        )
        return {(company, partner): (last, count) for company, partner, last, count in self.env.cr.fetchall()}

    def _check_group(self, group, now, contacts, used, memo):
        policy, partner = group.policy, group.partner
        key = (policy.company_id.id, partner.id)
        last, week_count = contacts.get(key, (None, 0))
        if policy.min_amount and group.amount < policy.min_amount:
            group.skip_reason = "below_threshold"
            return
        if policy.min_interval_days:
            # a message queued earlier in this run counts as one sent now
            last = now if used[key] else last
            allowed = last and last + timedelta(days=policy.min_interval_days)
            if allowed and allowed > now:
                group.skip_reason, group.next_time = "min_interval", allowed
                return
        group.planned = self.env["account.payment.reminder.routing"]._plan_channels(group, memo=memo)
        if not group.planned:
            return
        cost = sum(1 for _channel, _rcpt, address, _reason in group.planned if address)
        if policy.max_messages_per_week and week_count + used[key] + cost > policy.max_messages_per_week:
            group.skip_reason, group.planned = "budget", []
            return
        tz = group.recipient_tz
        if ("window", policy.id, tz) not in memo:
            memo["window", policy.id, tz] = policy._check_send_window(now, tz, local_now=to_local(now, tz))
        is_open, opens_at = memo["window", policy.id, tz]
        if not is_open:
            group.skip_reason, group.planned, group.next_time = "outside_window", [], opens_at
            return
        self.env["account.payment.reminder.learner"]._set_send_time(group, now, memo=memo)
        used[key] += cost
