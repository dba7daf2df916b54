"""The Credit Control overview: the credit controller's home.

A client action (static/src/credit_control) draws what ``get_overview``
returns; nothing is stored per visit. Every figure carries the action that
opens its list, built from the very domain it was counted with, so that a
figure and its list always agree.
"""

from collections import defaultdict, namedtuple
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL, format_date

from ..tools.dso import month_start, monthly_figures
from ..tools.forecast import forecast, read_commitments
from .account_move import OPEN_INVOICE_DOMAIN

AGE_BUCKETS = [(1, 30), (31, 60), (61, 90), (91, None)]
"""Days overdue, as in Odoo's aged receivable."""


class OwedInvoice(namedtuple("OwedInvoice", "id partner_id currency_id invoice_date_due owed owed_company level_id")):
    """An open invoice as the overview reads it (ids, not records): its
    commercial partner, currency, due date and reminder level, and what it
    still asks net of its customer's credits, ``owed`` in its currency,
    ``owed_company`` in the company's (see ``_get_owed_rows``). What
    tools/forecast.py places as it is (an ``Invoice``), what
    ``_overdue_filter`` sorts as it sorts invoices."""

    __slots__ = ()

    @property
    def due(self):
        return self.invoice_date_due


class AccountPaymentReminderDashboard(models.AbstractModel):
    _name = "account.payment.reminder.dashboard"
    _description = "Credit Control Overview"

    # === DOMAINS: one per figure, for its count and for its list === #

    @api.model
    def _get_company(self):
        return self.env.company

    @api.model
    def _open_domain(self):
        """The company's open customer invoices."""
        return OPEN_INVOICE_DOMAIN + [("company_id", "=", self._get_company().id)]

    @api.model
    def _overdue_domain(self, days_from=1, days_to=None):
        """Open invoices of the company overdue by ``days_from`` to ``days_to`` days."""
        today = fields.Date.context_today(self)
        domain = self._open_domain() + [("invoice_date_due", "<=", today - timedelta(days=days_from))]
        if days_to:
            domain.append(("invoice_date_due", ">=", today - timedelta(days=days_to)))
        return domain

    @api.model
    def _overdue_filter(self, days_from=1, days_to=None):
        """``_overdue_domain`` in Python, for invoices read with
        ``_open_domain`` (open, of the company), where the due date alone
        decides: thousands of invoices are sorted by age without a domain
        evaluated record by record."""
        today = fields.Date.context_today(self)
        latest, earliest = today - timedelta(days=days_from), days_to and today - timedelta(days=days_to)
        return lambda move: move.invoice_date_due <= latest and (not earliest or move.invoice_date_due >= earliest)

    @api.model
    def _invoice_hold_domain(self):
        """Open invoices whose reminders wait: the invoice or its customer is
        on hold (until today or later) or excluded. The same as the invoices'
        *Reminders On Hold* filter."""
        today = fields.Date.context_today(self)
        return self._open_domain() + [
            "|",
            "|",
            ("payment_reminder_exclude", "=", True),
            ("payment_reminder_hold_until", ">=", today),
            "|",
            ("commercial_partner_id.payment_reminder_exclude", "=", True),
            ("commercial_partner_id.payment_reminder_hold_until", ">=", today),
        ]

    @api.model
    def _hold_by_hand_domain(self):
        """Open invoices put on hold one by one by the accountant (a query, a
        dispute by phone), not those a customer's dispute or report holds while
        it waits for review: those count once, as the customer's response."""
        Response = self.env["account.payment.reminder.response"]
        waiting = Response.search([("state", "=", "to_review"), ("company_id", "=", self._get_company().id)])
        return self._open_domain() + [
            ("payment_reminder_hold_until", ">=", fields.Date.context_today(self)),
            ("id", "not in", waiting.move_ids.ids),
        ]

    @api.model
    def _owed_domain(self, domain, covered):
        """``domain`` (open invoices of the company) less ``covered``, the
        invoices their customer's credits cover (see ``_get_owed_rows``): a
        few ids, not those of every invoice owed."""
        return domain + [("id", "not in", sorted(covered))] if covered else domain

    @api.model
    def _customer_hold_domain(self):
        """Customers whose reminders wait, wholly (the customer is on hold or
        excluded) or for some invoices (an open invoice of theirs is): one row
        per customer, not per contact (the hold is shared with the contacts)."""
        today = fields.Date.context_today(self)
        held_invoices = self.env["account.move"]._read_group(self._invoice_hold_domain(), ["commercial_partner_id"])
        return [
            "|",
            ("id", "in", [partner.id for (partner,) in held_invoices]),
            "&",
            "|",
            ("is_company", "=", True),
            ("parent_id", "=", False),
            "|",
            ("payment_reminder_exclude", "=", True),
            ("payment_reminder_hold_until", ">=", today),
        ]

    @api.model
    def _promise_due_domain(self, days=7):
        """Open promises whose date falls within ``days`` days (or has passed)."""
        limit = fields.Date.context_today(self) + timedelta(days=days)
        return [("state", "=", "open"), ("company_id", "=", self._get_company().id), ("date", "<=", limit)]

    @api.model
    def _plan_domain(self, state):
        return [("state", "=", state), ("company_id", "=", self._get_company().id)]

    @api.model
    def _late_plan_domain(self):
        """Active plans with an instalment past its date and not paid in full
        (inside their grace days: not broken yet)."""
        plans = self.env["account.payment.reminder.plan"].search(self._plan_domain("active"))
        today = fields.Date.context_today(self)
        late = plans.filtered(lambda plan: plan.next_date and plan.next_date < today)
        return [("id", "in", late.ids)]

    @api.model
    def _message_domain(self, failed=False, days=7):
        since = fields.Datetime.now() - timedelta(days=days)
        domain = [("company_id", "=", self._get_company().id), ("queued_at", ">=", since)]
        if failed:
            domain.append(("state", "=", "failed"))
        return domain

    @api.model
    def _get_owed_rows(self, partner=None):
        """What each open invoice of the company (of the customer ``partner``
        when given) still asks of its customer,
        net of that customer's credits in the same currency, as the reminders
        net them (the same credits: ``account.payment.reminder.run._get_credits``):
        the credits pay the oldest due first.

        Set-wise: one query on ``_open_domain`` (with the user's record rules),
        then one pass over its plain rows, whatever the number of invoices.

        :return: ``([OwedInvoice], covered)``: in due date order, the
            invoices that still ask something once the credits are netted,
            with what each asks (in invoice currency, ``owed``; in company
            currency, ``owed_company``); the ids of the open invoices the
            credits cover wholly
        """
        company = self._get_company()
        Move = self.env["account.move"]
        domain = self._open_domain()
        if partner is not None:
            domain += [("commercial_partner_id", "=", partner.commercial_partner_id.id)]
        columns = [
            "id",
            "commercial_partner_id",
            "currency_id",
            "invoice_date_due",
            "payment_reminder_level_id",
            "payment_reminder_amount_open",
            "payment_reminder_amount_open_signed",
        ]
        Move.flush_model([*columns[1:], "move_type", "state", "company_id"])
        query = Move._search(domain, order="invoice_date_due, id")
        self.env.cr.execute(query.select(*(SQL.identifier(query.table, column) for column in columns)))
        rows = self.env.cr.fetchall()
        # sudo: the credits are read as the scheduler reads them, for the customers of invoices the user sees
        credits = self.env["account.payment.reminder.run"].sudo()._get_credits({row[1] for row in rows})
        currencies = {currency.id: currency for currency in self.env["res.currency"].browse({row[2] for row in rows})}
        rounding = {currency_id: currency.rounding for currency_id, currency in currencies.items()}
        left = {}  # (customer id, currency id) -> credit not used yet (positive)
        owed, covered = [], []
        for move_id, partner_id, currency_id, due, level_id, residual, residual_signed in rows:
            key = (partner_id, currency_id)
            if key not in left:
                left[key] = -credits.get((partner_id, company.id), {}).get(currency_id, [0.0])[0]
            # what is still owed: payments registered without a journal entry count for their amount
            netted = min(max(left[key], 0.0), residual)
            left[key] -= netted
            # nothing netted and at least the currency's rounding (nearly always): certainly more than netted
            if (not netted and residual >= rounding[currency_id]) or currencies[currency_id].compare_amounts(
                residual, netted
            ) > 0:
                share = (residual - netted) / residual
                owed.append(
                    OwedInvoice(
                        move_id, partner_id, currency_id, due, residual - netted, residual_signed * share, level_id
                    )
                )
            else:
                covered.append(move_id)
        return owed, covered

    @api.model
    def _get_owed(self, partner=None):
        """``_get_owed_rows`` as ``(invoices, {invoice id: (owed in invoice
        currency, owed in company currency)})``."""
        rows, _covered = self._get_owed_rows(partner)
        return (
            self.env["account.move"].browse([row.id for row in rows]),
            {row.id: (row.owed, row.owed_company) for row in rows},
        )

    @api.model
    def _get_on_its_way(self):
        """{invoice id: amount held, in company currency} of the company's
        open invoices that money on its way holds (a bank line not reconciled
        yet, an online payment pending), wholly or in part, as the reminders
        hold them (``account.payment.reminder.run._get_money_held``)."""
        company = self._get_company()
        # sudo: bank lines and online payments are read as the scheduler reads them, for this company's invoices
        rows = self.env["account.payment.reminder.run"].sudo()._get_money_held()
        return {row["id"]: row["money_held"][1] for row in rows if row["company_id"] == company.id}

    @api.model
    def _get_unreached(self, days=7):
        """The customers that a message failed to reach in the last days and
        that no later message reached: ``{customer id: its last failed
        message}``. A failure that fell back to a channel that went is no
        customer lost."""
        Message = self.env["account.payment.reminder.message"]
        failed = Message.search(self._message_domain(failed=True, days=days), order="queued_at desc, id desc")
        reached = Message._read_group(
            self._message_domain(days=days)
            + [("state", "in", ("sent", "delivered", "read")), ("partner_id", "in", failed.partner_id.ids)],
            ["partner_id"],
            ["queued_at:max"],
        )
        last_reached = {partner.id: when for partner, when in reached}
        unreached, seen = {}, set()
        for message in failed:  # the last failure of each customer first
            customer = message.partner_id.id
            if customer not in seen and (customer not in last_reached or last_reached[customer] < message.queued_at):
                unreached[customer] = message
            seen.add(customer)
        return unreached

    # === ACTIONS === #

    @api.model
    def _empty_help(self, text):
        """Odoo's empty-state help, for a list opened from a figure of zero."""
        return Markup('<p class="o_view_nocontent_smiling_face">%s</p><p>%s</p>') % (
            text,
            self.env._("The overview counts it again each time it opens."),
        )

    @api.model
    def _view_id(self, xmlid):
        """The id of the view ``xmlid``, from the registry's cache: an
        overview builds some thirty actions, ``env.ref`` would query the
        database for each of their views."""
        return self.env["ir.model.data"]._xmlid_to_res_id(xmlid, raise_if_not_found=True)

    @api.model
    def _invoice_action(self, name, domain):
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": "account.move",
            "domain": domain,
            "help": self._empty_help(self.env._("No invoice here: nothing to do.")),
            "views": [
                (self._view_id("account_payment_reminder.account_move_view_list_payment_reminder"), "list"),
                (self._view_id("account.view_move_form"), "form"),
            ],
            "search_view_id": [self._view_id("account.view_account_invoice_filter")],
            "context": {"default_move_type": "out_invoice", "create": False},
        }

    @api.model
    def _list_action(self, name, model, domain, list_view=None):
        views = [(self._view_id(list_view) if list_view else False, "list"), (False, "form")]
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": model,
            "domain": domain,
            "help": self._empty_help(self.env._("Nothing here: nothing to do.")),
            "views": views,
            "context": {"create": False},
        }

    # === THE OVERVIEW === #

    @api.model
    def get_overview(self):
        """What the Credit Control overview shows: headline figures, the
        overdue amount by age and level, and what needs action today. Each
        figure has its ``action``, opening exactly what it counts."""
        _ = self.env._
        company = self._get_company()
        currency = company.currency_id
        Move, Partner = self.env["account.move"], self.env["res.partner"]
        Plan, Promise = self.env["account.payment.reminder.plan"], self.env["account.payment.reminder.promise"]
        Message = self.env["account.payment.reminder.message"]

        def figure(key, label, count, action, amount=None, tone=None, detail=None):
            return {
                "key": key,
                "label": label,
                "count": count,
                "amount": amount,
                "amount_display": currency.format(amount) if amount is not None else False,
                "detail": detail
                or (
                    (
                        _("1 invoice, net of credits")
                        if count == 1
                        else _("%(count)s invoices, net of credits", count=count)
                    )
                    if amount is not None
                    else False
                ),
                "action": action,
                "tone": tone,
            }

        owed, covered = self._get_owed_rows()
        overdue = self._owed_domain(self._overdue_domain(), covered)
        overdue_rows = list(filter(self._overdue_filter(), owed))  # the figure's domain in Python, on those read
        overdue_count, overdue_amount = len(overdue_rows), sum(row.owed_company for row in overdue_rows)
        open_invoices = self._owed_domain(self._open_domain(), covered)
        open_count, open_amount = len(owed), sum(row.owed_company for row in owed)
        on_its_way = self._get_on_its_way()
        held = self._invoice_hold_domain()
        active_plans = self._plan_domain("active")
        customers_held = self._customer_hold_domain()
        promises = self._promise_due_domain()
        headline = [
            figure(
                "overdue",
                _("Overdue"),
                overdue_count,
                self._invoice_action(_("Overdue Invoices"), overdue),
                amount=overdue_amount or 0.0,
                tone="danger",
            ),
            figure(
                "receivable",
                _("Open Invoices"),
                open_count,
                self._invoice_action(_("Open Invoices"), open_invoices),
                amount=open_amount or 0.0,
            ),
            figure(
                "on_its_way",
                _("Money On Its Way"),
                len(on_its_way),
                self._invoice_action(_("Invoices Waiting for Money On Its Way"), [("id", "in", list(on_its_way))]),
                amount=sum(on_its_way.values()),
                detail=_("1 invoice waits for it")
                if len(on_its_way) == 1
                else _("%(count)s invoices wait for it", count=len(on_its_way)),
            ),
            figure(
                "customers_on_hold",
                _("Customers On Hold"),
                Partner.search_count(customers_held),
                self._list_action(
                    _("Customers On Hold"),
                    "res.partner",
                    customers_held,
                    list_view="account_payment_reminder.res_partner_view_list_payment_reminder_hold",
                ),
            ),
            figure(
                "invoices_on_hold",
                _("Invoices On Hold"),
                Move.search_count(held),
                self._invoice_action(_("Invoices On Hold"), held),
            ),
            figure(
                "plans_active",
                _("Plans on Track"),
                Plan.search_count(active_plans),
                self._list_action(_("Payment Plans on Track"), Plan._name, active_plans),
            ),
            figure(
                "promises_week",
                _("Promises Due Within 7 Days"),
                Promise.search_count(promises),
                self._list_action(_("Promises Due Within 7 Days"), Promise._name, promises),
            ),
            figure(
                "messages_week",
                _("Messages (7 days)"),
                Message.search_count(self._message_domain()),
                self._list_action(_("Messages of the Last 7 Days"), Message._name, self._message_domain()),
            ),
        ]

        promises_due = self._promise_due_domain(days=0)
        late_plans = self._late_plan_domain()
        broken_plans = self._plan_domain("broken")
        holds_by_hand = self._hold_by_hand_domain()
        unreached = self._get_unreached()
        today = [
            figure(
                "promises_due",
                _("Promises due: check the payment"),
                Promise.search_count(promises_due),
                self._list_action(_("Promises Due"), Promise._name, promises_due),
                tone="warning",
            ),
            figure(
                "plans_late",
                _("Payment plans with a late instalment"),
                Plan.search_count(late_plans),
                self._list_action(_("Late Payment Plans"), Plan._name, late_plans),
                tone="warning",
            ),
            figure(
                "plans_broken",
                _("Broken payment plans"),
                Plan.search_count(broken_plans),
                self._list_action(_("Broken Payment Plans"), Plan._name, broken_plans),
                tone="danger",
            ),
            figure(
                "holds_by_hand",
                _("Invoices held by hand (not customers' disputes)"),
                Move.search_count(holds_by_hand),
                self._invoice_action(_("Invoices Held by Hand"), holds_by_hand),
                tone="warning",
            ),
            figure(
                "failed",
                _("Customers not reached (7 days)"),
                len(unreached),
                self._list_action(
                    _("Customers Not Reached: Their Last Failed Message"),
                    Message._name,
                    [("id", "in", [message.id for message in unreached.values()])],
                ),
                tone="danger",
            ),
        ]
        # what customers did on their page: promises made, plans asked for, "already paid" and disputes to review
        Response = self.env["account.payment.reminder.response"]
        for key, domain in Response._get_dashboard_domains(company).items():
            label, title = {
                "promises": (_("Promises made on the customer's page"), _("Promises from Customers")),
                "plan_requests": (_("Payment plans asked for: approve or refuse"), _("Plan Requests")),
                "disputes": (_("Disputes from customers to review"), _("Disputes to Review")),
                "to_review": (_("'Already paid' reports to check against the bank"), _("Payments Reported")),
            }[key]
            today.append(
                figure(
                    f"page_{key}",
                    label,
                    Response.search_count(domain),
                    self._list_action(title, Response._name, domain),
                    tone="warning",
                )
            )
        return {
            "company": company.name,
            "multi_company": len(self.env.user.company_ids) > 1,
            "currency": {"symbol": currency.symbol, "position": currency.position, "digits": currency.decimal_places},
            "headline": headline,
            "today": today,
            "aging": self._get_aging(overdue_rows, covered),
            "customers": self._get_top_customers(overdue_rows, covered),
            # --- DSO and the collection card (issue 20): DSO and overdue by month ---
            "dso": self._get_dso(),
            # --- end DSO and the collection card ---
            "forecast": self._get_forecast(owed),
        }

    @api.model
    def _age_labels(self):
        """The labels of AGE_BUCKETS, in the user's language."""
        _ = self.env._
        return [
            _("%(start)s-%(end)s days", start=days_from, end=days_to)
            if days_to
            else _("Over %(days)s days", days=days_from - 1)
            for days_from, days_to in AGE_BUCKETS
        ]

    @api.model
    def _get_top_customers(self, overdue_rows, covered, limit=5):
        """The customers who owe the most overdue, net of their credits, with
        their oldest due date and the list of their overdue invoices
        (``overdue_rows``, the overdue OwedInvoices, and ``covered``: see
        ``_get_owed_rows``)."""
        _ = self.env._
        currency = self._get_company().currency_id
        today = fields.Date.context_today(self)
        overdue = self._owed_domain(self._overdue_domain(), covered)
        customers = defaultdict(lambda: [0.0, None, 0])  # customer id -> [owed, oldest due date, invoices]
        for move in overdue_rows:
            row = customers[move.partner_id]
            row[0] += move.owed_company
            row[1] = min(row[1] or move.invoice_date_due, move.invoice_date_due)
            row[2] += 1
        top = sorted(customers.items(), key=lambda item: (-item[1][0], item[0]))[:limit]
        partners = self.env["res.partner"].browse([partner_id for partner_id, _row in top])  # read together
        top = [(partner, row) for partner, (_partner_id, row) in zip(partners, top, strict=True)]
        return [
            {
                "id": partner.id,
                "name": partner.display_name,
                "amount": amount,
                "amount_display": currency.format(amount),
                "count": count,
                "days": (today - oldest).days,
                "days_display": _("%(days)s days overdue", days=(today - oldest).days),
                "action": self._invoice_action(
                    _("Overdue Invoices of %(customer)s", customer=partner.display_name),
                    overdue + [("commercial_partner_id", "=", partner.id)],
                ),
                # DSO and the collection card (issue 20)
                "card_action": self.env["account.payment.reminder.card"]._action(partner),
            }
            for partner, (amount, oldest, count) in top
        ]

    @api.model
    def _get_aging(self, overdue_rows, covered):
        """The overdue amount net of credits by age (columns) and reminder
        level (stacks), each cell with the action opening its invoices
        (``overdue_rows``, the overdue OwedInvoices, and ``covered``: see
        ``_get_owed_rows``)."""
        _ = self.env._
        buckets = []
        levels = {}
        Level = self.env["account.payment.reminder.level"]
        # the levels met, read together
        level_of = {level.id: level for level in Level.browse({move.level_id for move in overdue_rows} - {None})}
        for (days_from, days_to), label in zip(AGE_BUCKETS, self._age_labels(), strict=True):
            buckets.append(label)
            domain = self._owed_domain(self._overdue_domain(days_from, days_to), covered)
            amounts = defaultdict(float)
            for move in filter(self._overdue_filter(days_from, days_to), overdue_rows):
                amounts[move.level_id] += move.owed_company
            for level_id, amount in amounts.items():
                level = level_of[level_id] if level_id else Level
                key = level.id or 0
                if key not in levels:
                    ladder = level.policy_id.level_ids.sorted(lambda lv: (lv.sequence, lv.id))
                    levels[key] = {
                        "level_id": key,
                        "label": level.name if level else _("Not reminded yet"),
                        # 0 for the first level of its ladder, 1 for the last: the colour of its urgency
                        "severity": (list(ladder).index(level) / max(len(ladder) - 1, 1)) if level in ladder else 0,
                        "sequence": (level.policy_id.sequence, level.sequence) if level else (-1, -1),
                        "amounts": [0.0] * len(AGE_BUCKETS),
                        "actions": [None] * len(AGE_BUCKETS),
                    }
                index = len(buckets) - 1
                levels[key]["amounts"][index] = amount
                levels[key]["actions"][index] = self._invoice_action(
                    _("Overdue %(age)s: %(level)s", age=label, level=levels[key]["label"]),
                    domain + [("payment_reminder_level_id", "=", level.id or False)],
                )
        series = sorted(levels.values(), key=lambda row: row["sequence"])
        for row in series:
            del row["sequence"]
        return {"buckets": buckets, "series": series}

    # === DSO AND THE COLLECTION CARD (issue 20): DSO and overdue by month === #

    DSO_MONTHS = 12

    @api.model
    def _get_dso_rows(self, today):
        """What changed in the company's receivable each month up to
        ``today``, in company currency: ``[(month start, kind, amount)]``, the
        rows tools/dso.py reads (see there for the kinds). One query, set-wise
        over account_move_line and account_partial_reconcile."""
        self.env["account.move.line"].flush_model()
        self.env["account.partial.reconcile"].flush_model()
        self.env["account.move"].flush_model(["move_type"])
        self.env.cr.execute(
            """
            WITH receivable AS (
                SELECT l.id, l.date, l.date_maturity, l.balance, m.move_type
                  FROM account_move_line l
                  JOIN account_move m ON m.id = l.move_id
                 WHERE l.company_id = %(company_id)s
                   AND l.parent_state = 'posted'
                   -- the receivable accounts as a list: the planner then sees how many lines they hold
                   -- (half the ledger) and joins the moves at once, not one by one
                   AND l.account_id = ANY(ARRAY(
                       SELECT id FROM account_account WHERE account_type = 'asset_receivable'
                   ))
                   AND l.date <= %(today)s
            ), invoiced AS (
                -- an invoice's receivable line is overdue from the day after it is due
                SELECT id, balance, GREATEST(date, date_maturity + 1) AS overdue_from
                  FROM receivable
                 WHERE move_type = 'out_invoice' AND balance > 0 AND date_maturity IS NOT NULL
            ), changes AS (
                -- summed by day first: a few hundred days to put in their month, not every line
                SELECT date AS day, 'balance' AS kind, SUM(balance) AS amount FROM receivable GROUP BY 1
                 UNION ALL
                SELECT date, 'sales', SUM(balance)
                  FROM receivable
                 WHERE move_type IN ('out_invoice', 'out_refund')
                 GROUP BY 1
                 UNION ALL
                SELECT overdue_from, 'overdue', SUM(balance) FROM invoiced GROUP BY 1
                 UNION ALL
                -- each part paid counts off from the day it was paid (not before the line is overdue)
                SELECT GREATEST(i.overdue_from, p.max_date), 'overdue', -SUM(p.amount)
                  FROM invoiced i
                  JOIN account_partial_reconcile p ON p.debit_move_id = i.id
                 GROUP BY 1
            )
            SELECT DATE_TRUNC('month', day)::date AS month, kind, SUM(amount)
              FROM changes
             WHERE day <= %(today)s
             GROUP BY 1, 2
            """,
            {"company_id": self._get_company().id, "today": today},
        )
        return self.env.cr.fetchall()

    @api.model
    def _get_dso(self):
        """Days sales outstanding (countback) and the overdue amount at the end
        of each of the last DSO_MONTHS months (today for the current one),
        oldest first, with the figures of the latest month and the change
        since the month before and a year before."""
        _ = self.env._
        today = fields.Date.context_today(self)
        currency = self._get_company().currency_id
        figures = monthly_figures(self._get_dso_rows(today), today, self.DSO_MONTHS)
        months = [
            {
                "label": format_date(self.env, month.start, date_format="MMM yyyy"),
                "end": fields.Date.to_string(month.end),
                "end_display": format_date(self.env, month.end),
                "dso": round(month.dso, 1),
                "dso_display": _("%(days)s days", days=round(month.dso))
                if month.complete
                else _("over %(days)s days", days=round(month.dso)),
                "complete": month.complete,
                "overdue": currency.round(month.overdue),
                "overdue_display": currency.format(month.overdue),
                "balance_display": currency.format(month.balance),
                "sales_display": currency.format(month.sales),
            }
            for month in figures
        ]
        latest, before = figures[-1], figures[-2]
        return {
            "months": months,
            "latest": months[-1],
            "since_last_month": round(latest.dso - before.dso, 1),
            # against the first month shown, when something was owed then (no comparison before the ledger starts)
            "since_last_year": round(latest.dso - figures[0].dso, 1) if figures[0].balance > 0 else 0.0,
            "in_progress": latest.start == month_start(today),
            # the invoices only: what a month's end asked, before the credits the headline nets
            "labels": {"dso": _("DSO"), "overdue": _("Overdue invoices, before credits"), "days": _("Days")},
        }

    # === EXPECTED CASH (issue 20): the forecast's section of the overview === #

    @api.model
    def _get_forecast_data(self, owed, as_of=None):
        """The weeks of ``tools/forecast.py`` for the company's open invoices,
        net of credits as the overview nets them (``owed``, the OwedInvoices
        of ``_get_owed_rows``), placed by the customers' stored behaviour."""
        company = self._get_company()
        today = fields.Date.context_today(self)
        as_of = as_of or today
        invoices = owed  # OwedInvoices are Invoices of tools/forecast.py: placed as they are
        behaviour, company_figures = self.env["account.payment.reminder.behaviour"]._get_rows(
            company, {invoice.partner_id for invoice in invoices}
        )
        return forecast(invoices, read_commitments(self.env, company, as_of, today), behaviour, company_figures, as_of)

    @api.model
    def _get_forecast(self, owed):
        """The expected cash for the chart: per currency (the company's
        first), 13 weeks, each with the action listing its invoices
        (``owed``: the OwedInvoices of ``_get_owed_rows``)."""
        _ = self.env._
        company = self._get_company()
        weeks_by_currency = self._get_forecast_data(owed)
        currencies = (
            self.env["res.currency"]
            .browse(weeks_by_currency)
            .sorted(lambda currency: (currency != company.currency_id, currency.name))
        )
        result = []
        for currency in currencies:
            data = weeks_by_currency[currency.id]
            top = max((week.amount for week in data["weeks"]), default=0.0) or 1.0
            weeks = []
            for index, week in enumerate(data["weeks"]):
                label = format_date(self.env, week.start, date_format="MMM d")
                weeks.append(
                    {
                        "index": index,
                        "label": label,
                        "amount": currency.round(week.amount),
                        "amount_display": currency.format(week.amount),
                        "height": round(100 * week.amount / top, 1),
                        "count": len(week.move_ids),
                        "action": self._invoice_action(
                            _(
                                "Expected in the week of %(week)s (%(currency)s)",
                                week=format_date(self.env, week.start),
                                currency=currency.name,
                            ),
                            [("id", "in", sorted(week.move_ids))],
                        ),
                    }
                )
            total = sum(week.amount for week in data["weeks"])
            result.append(
                {
                    "currency": currency.name,
                    "weeks": weeks,
                    "total_display": currency.format(total),
                    "later_display": currency.format(data["later"]) if data["later"] else False,
                }
            )
        return result

    # === END OF EXPECTED CASH === #
