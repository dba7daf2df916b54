"""The Credit Control overview: the credit controller's home.

A client action (static/src/credit_control) draws what ``get_overview``
returns; nothing is stored per visit. Every figure carries the action that
opens its list, built from the very domain it was counted with, so that a
figure and its list always agree.
"""

from datetime import timedelta

from odoo import api, fields, models

from .account_move import OPEN_INVOICE_DOMAIN

AGE_BUCKETS = [(1, 30), (31, 60), (61, 90), (91, None)]
"""Days overdue, as in Odoo's aged receivable."""


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
    def _dispute_domain(self):
        """Open invoices put on hold one by one (a dispute, a query): to review."""
        return self._open_domain() + [("payment_reminder_hold_until", ">=", fields.Date.context_today(self))]

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

    # === ACTIONS === #

    @api.model
    def _invoice_action(self, name, domain):
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": "account.move",
            "domain": domain,
            "views": [
                (self.env.ref("account_payment_reminder.account_move_view_list_payment_reminder").id, "list"),
                (self.env.ref("account.view_move_form").id, "form"),
            ],
            "search_view_id": [self.env.ref("account.view_account_invoice_filter").id],
            "context": {"default_move_type": "out_invoice", "create": False},
        }

    @api.model
    def _list_action(self, name, model, domain, list_view=None):
        views = [(self.env.ref(list_view).id if list_view else False, "list"), (False, "form")]
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": model,
            "domain": domain,
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

        def figure(key, label, count, action, amount=None, tone=None):
            return {
                "key": key,
                "label": label,
                "count": count,
                "amount": amount,
                "amount_display": currency.format(amount) if amount is not None else False,
                "detail": (_("1 invoice") if count == 1 else _("%(count)s invoices", count=count))
                if amount is not None
                else False,
                "action": action,
                "tone": tone,
            }

        overdue = self._overdue_domain()
        [(overdue_count, overdue_amount)] = Move._read_group(
            overdue, [], ["__count", "payment_reminder_amount_open_signed:sum"]
        )
        open_invoices = self._open_domain()
        [(open_count, open_amount)] = Move._read_group(
            open_invoices, [], ["__count", "payment_reminder_amount_open_signed:sum"]
        )
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
                "customers_on_hold",
                _("Customers On Hold"),
                Partner.search_count(customers_held),
                self._list_action(_("Customers On Hold"), "res.partner", customers_held),
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
                _("Promises This Week"),
                Promise.search_count(promises),
                self._list_action(_("Promises Due This Week"), Promise._name, promises),
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
        disputes = self._dispute_domain()
        failed = self._message_domain(failed=True)
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
                "disputes",
                _("Disputes to review (invoices on hold)"),
                Move.search_count(disputes),
                self._invoice_action(_("Invoices On Hold"), disputes),
                tone="warning",
            ),
            figure(
                "failed",
                _("Failed messages (7 days)"),
                Message.search_count(failed),
                self._list_action(_("Failed Messages"), Message._name, failed),
                tone="danger",
            ),
        ]
        # what customers did on their page: promises made, plans asked for, "already paid" and disputes to review
        Response = self.env["account.payment.reminder.response"]
        for key, domain in Response._get_dashboard_domains(company).items():
            label, title = {
                "promises": (_("Promises made on the customer's page"), _("Promises from Customers")),
                "plan_requests": (_("Payment plans asked for: approve or refuse"), _("Plan Requests")),
                "to_review": (_("'Already paid' and disputes from customers to review"), _("Responses to Review")),
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
            "aging": self._get_aging(),
            "customers": self._get_top_customers(),
        }

    @api.model
    def _get_top_customers(self, limit=5):
        """The customers who owe the most overdue, with their oldest due date
        and the list of their overdue invoices."""
        _ = self.env._
        currency = self._get_company().currency_id
        today = fields.Date.context_today(self)
        overdue = self._overdue_domain()
        rows = self.env["account.move"]._read_group(
            overdue,
            ["commercial_partner_id"],
            ["payment_reminder_amount_open_signed:sum", "invoice_date_due:min", "__count"],
            order="payment_reminder_amount_open_signed:sum desc",
            limit=limit,
        )
        return [
            {
                "id": partner.id,
                "name": partner.display_name,
                "amount": amount,
                "amount_display": currency.format(amount),
                "count": count,
                "days": (today - oldest).days,
                "action": self._invoice_action(
                    _("Overdue Invoices of %(customer)s", customer=partner.display_name),
                    overdue + [("commercial_partner_id", "=", partner.id)],
                ),
            }
            for partner, amount, oldest, count in rows
        ]

    @api.model
    def _get_aging(self):
        """The overdue amount by age (columns) and reminder level (stacks), each
        cell with the action opening its invoices."""
        _ = self.env._
        Move = self.env["account.move"]
        buckets = []
        levels = {}
        for days_from, days_to in AGE_BUCKETS:
            label = (
                _("%(start)s-%(end)s days", start=days_from, end=days_to)
                if days_to
                else _("Over %(days)s days", days=days_from - 1)
            )
            buckets.append(label)
            domain = self._overdue_domain(days_from, days_to)
            for level, amount in Move._read_group(
                domain, ["payment_reminder_level_id"], ["payment_reminder_amount_open_signed:sum"]
            ):
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
