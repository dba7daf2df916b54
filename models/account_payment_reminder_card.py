"""The collection card: one customer on one screen, before the call.

A client action (static/src/collection_card) draws what ``get_card`` returns
for one customer in the current company: how it pays (its stored behaviour),
what it owes net of its credits by age and currency (the overview's rule:
``dashboard._get_owed``), what it
promised and what its plans expect, the last messages and what became of
them, the disputes waiting for review, and the next reminder the ladder would
send (the invoices' own ``payment_reminder_next_*``). Nothing is stored.

Every read runs as the user: a customer they cannot read is refused, and
only the current company's records (one of the user's) are shown.
"""

from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import MissingError
from odoo.tools import format_date

from .account_payment_reminder_dashboard import AGE_BUCKETS

LAST_MESSAGES = 6


class AccountPaymentReminderCard(models.AbstractModel):
    _name = "account.payment.reminder.card"
    _description = "Collection Card"

    @api.model
    def _action(self, partner, target="current"):
        """The client action opening the card of ``partner``'s customer."""
        customer = partner.commercial_partner_id
        return {
            "type": "ir.actions.client",
            "tag": "account_payment_reminder.collection_card",
            "name": self.env._("Collection Card: %(customer)s", customer=customer.display_name),
            "params": {"partner_id": customer.id},
            "context": {"active_model": "res.partner", "active_id": customer.id},
            "target": target,
        }

    @api.model
    def get_card(self, partner_id):
        """What the collection card of the customer ``partner_id`` shows, in
        the current company."""
        partner = self.env["res.partner"].browse(int(partner_id)).exists()
        if not partner:
            raise MissingError(self.env._("This customer does not exist any more."))
        partner.check_access("read")  # a customer the user may not read has no card (nor an error telling it exists)
        customer = partner.commercial_partner_id
        company = self.env.company
        return {
            "partner": {
                "id": customer.id,
                "name": customer.display_name,
                "email": customer.email or False,
                "phone": customer.mobile or customer.phone or False,
                "hold": format_date(self.env, customer.payment_reminder_hold_until)
                if customer.payment_reminder_hold_until
                and customer.payment_reminder_hold_until >= fields.Date.context_today(self)
                else False,
                "hold_reason": customer.payment_reminder_hold_reason or False,
                "excluded": customer.payment_reminder_exclude,
            },
            "company": company.name,
            "multi_company": len(self.env.user.company_ids) > 1,
            "behaviour": self._get_behaviour(customer),
            "balance": self._get_balance(customer),
            "promises": self._get_promises(customer),
            "plans": self._get_plans(customer),
            "messages": self._get_messages(customer),
            "disputes": self._get_disputes(customer),
            "next_step": self._get_next_step(customer),
            "actions": self._get_actions(customer),
        }

    # === WHAT IS OWED === #

    @api.model
    def _get_balance(self, customer):
        """The customer's open invoices net of its credits (the overview's
        rule, ``dashboard._get_owed``: credits in a currency pay its oldest
        due first), by age (not due yet, then AGE_BUCKETS) and currency, with
        the credits netted and the credit left over."""
        _ = self.env._
        Dashboard = self.env["account.payment.reminder.dashboard"]
        company = Dashboard._get_company()
        moves, owed = Dashboard._get_owed(customer)
        rows = {}

        def row_of(currency):
            if currency not in rows:
                rows[currency] = {"amounts": [0.0] * (len(AGE_BUCKETS) + 1), "count": 0, "company": 0.0}
            return rows[currency]

        # the overview's ages (``dashboard._overdue_filter``); index 0: not due yet
        ages = [Dashboard._overdue_filter(days_from, days_to) for days_from, days_to in AGE_BUCKETS]
        for move in moves:
            index = next((position for position, age in enumerate(ages, start=1) if age(move)), 0)
            row = row_of(move.currency_id)
            row["amounts"][index] += owed[move.id][0]
            row["company"] += owed[move.id][1]
            row["count"] += 1
        # what the credits netted and what is left of them, per currency (the same credits as _get_owed's)
        # sudo: the credits are read as the scheduler reads them, for a customer the user may read, in this company
        credits = (
            self.env["account.payment.reminder.run"]
            .sudo()
            ._get_credits(customer.ids)
            .get((customer.id, company.id), {})
        )
        gross = dict(
            self.env["account.move"]._read_group(
                Dashboard._open_domain() + [("commercial_partner_id", "=", customer.id)],
                ["currency_id"],
                ["payment_reminder_amount_open:sum"],
            )
        )
        Currency = self.env["res.currency"]
        for currency_id, (residual, _residual_company) in credits.items():
            currency = Currency.browse(currency_id)
            available = -residual
            netted = min(available, gross.get(currency, 0.0))
            if not currency.is_zero(available):
                row = row_of(currency)
                row["netted"] = netted
                row["left"] = available - netted
        result = []
        for currency, row in sorted(rows.items(), key=lambda item: (item[0] != company.currency_id, item[0].name)):
            total = sum(row["amounts"])
            result.append(
                {
                    "currency": currency.name,
                    "amounts": [currency.round(amount) for amount in row["amounts"]],
                    "amounts_display": [currency.format(amount) if amount else "" for amount in row["amounts"]],
                    "total": currency.round(total),
                    "total_display": currency.format(total),
                    "overdue_display": currency.format(sum(row["amounts"][1:])),
                    "company_display": company.currency_id.format(row["company"])
                    if currency != company.currency_id
                    else False,
                    "count": row["count"],
                    "netted_display": currency.format(row["netted"]) if row.get("netted") else False,
                    "left_display": currency.format(row["left"]) if row.get("left") else False,
                }
            )
        return {"buckets": [_("Not due")] + Dashboard._age_labels(), "rows": result}

    # === HOW THE CUSTOMER PAYS === #

    @api.model
    def _get_behaviour(self, customer):
        """The customer's payment behaviour as the scheduler last stored it
        (``res.partner._get_payment_reminder_behaviour``): its summary and
        figures; False without any history here."""
        row = customer._get_payment_reminder_behaviour()
        if not row:
            return False
        trends = dict(row._fields["trend"]._description_selection(self.env))
        return {
            "summary": row.summary,
            "as_of": format_date(self.env, row.as_of) if row.as_of else False,
            "invoices_paid": row.invoices_paid,
            "days_late_avg": round(row.days_late_avg, 1),
            "days_late_typical": round(row.days_late_typical, 1),
            "on_time_percent": round(row.on_time_share * 100),
            "promises": [row.promises_kept, row.promises_made],
            "plans": [row.plans_completed, row.plans_started],
            "trend": row.trend or False,
            "trend_display": trends.get(row.trend) or False,
        }

    # === WHAT IS PROMISED AND PLANNED === #

    @api.model
    def _get_promises(self, customer):
        promises = self.env["account.payment.reminder.promise"].search(
            [("partner_id", "=", customer.id), ("company_id", "=", self.env.company.id), ("state", "=", "open")],
            order="date, id",
        )
        today = fields.Date.context_today(self)
        return [
            {
                "id": promise.id,
                "date": format_date(self.env, promise.date),
                "late": promise.date < today,
                "amount_display": promise.currency_id.format(promise.amount),
                "received_display": promise.currency_id.format(promise.amount_received)
                if promise.amount_received
                else False,
                "invoices": ", ".join(promise.move_ids.mapped("name")) or self.env._("All open invoices"),
                "note": promise.note or False,
            }
            for promise in promises
        ]

    @api.model
    def _get_plans(self, customer):
        plans = self.env["account.payment.reminder.plan"].search(
            [("partner_id", "=", customer.id), ("company_id", "=", self.env.company.id), ("state", "=", "active")],
            order="id",
        )
        today = fields.Date.context_today(self)
        result = []
        for plan in plans:
            line = plan.next_line_id
            currency = plan.currency_id
            result.append(
                {
                    "id": plan.id,
                    "name": plan.name,
                    "next_date": format_date(self.env, line.date) if line else False,
                    "late": bool(line) and line.date < today,
                    "next_amount_display": currency.format(line.amount - line.amount_paid) if line else False,
                    "paid_display": currency.format(plan.amount_paid),
                    "total_display": currency.format(plan.amount_total),
                    "instalments_left": len(plan.line_ids.filtered(lambda instalment: instalment.state != "paid")),
                }
            )
        return result

    # === WHAT WAS SAID === #

    @api.model
    def _get_messages(self, customer, limit=LAST_MESSAGES):
        """The last messages to the customer, each with what became of it: its
        receipts or failure, the channel it fell back to, what the customer
        answered through it, and whether its invoices are paid."""
        _ = self.env._
        Message = self.env["account.payment.reminder.message"]
        messages = Message.search(
            [("partner_id", "=", customer.id), ("company_id", "=", self.env.company.id)],
            order="queued_at desc, id desc",
            limit=limit,
        )
        fallbacks = Message.search([("parent_id", "in", messages.ids)])
        responses = self.env["account.payment.reminder.response"].search([("message_id", "in", messages.ids)])
        fell_back, answered = defaultdict(list), defaultdict(list)
        for fallback in fallbacks:
            fell_back[fallback.parent_id.id].append(fallback)
        for response in responses:
            answered[response.message_id.id].append(response)
        states = dict(Message._fields["state"]._description_selection(self.env))
        channels = dict(Message._fields["channel"]._description_selection(self.env))
        kinds = dict(Message._fields["kind"]._description_selection(self.env))
        response_kinds = dict(responses._fields["kind"]._description_selection(self.env))
        result = []
        for message in messages:
            outcome = []
            for fallback in fell_back[message.id]:
                outcome.append(
                    _(
                        "Fell back to %(channel)s: %(state)s",
                        channel=channels.get(fallback.channel),
                        state=states.get(fallback.state),
                    )
                )
            for response in answered[message.id]:
                outcome.append(_("Customer answered: %(kind)s", kind=response_kinds.get(response.kind)))
            invoices = message.move_ids
            still_open = invoices.filtered("payment_reminder_is_open")
            if message.paid_date:
                outcome.append(_("Invoices paid on %(date)s", date=format_date(self.env, message.paid_date)))
            elif invoices and not still_open:
                outcome.append(_("Invoices paid"))
            elif still_open:
                outcome.append(
                    _(
                        "%(open)s of %(count)s invoices still open",
                        open=len(still_open),
                        count=len(invoices),
                    )
                )
            when = message.sent_at or message.queued_at
            result.append(
                {
                    "id": message.id,
                    "date": format_date(self.env, when) if when else False,
                    "channel": channels.get(message.channel),
                    "level": message.level_id.name or kinds.get(message.kind),
                    "state": message.state,
                    "state_display": states.get(message.state),
                    "read": format_date(self.env, message.read_at) if message.read_at else False,
                    "failure": message.failure_reason_display or False if message.state == "failed" else False,
                    "invoices": message.invoice_names or False,
                    "outcome": outcome,
                }
            )
        return result

    @api.model
    def _get_disputes(self, customer):
        """The customer's disputes waiting for review, here."""
        responses = self.env["account.payment.reminder.response"].search(
            [
                ("kind", "=", "dispute"),
                ("state", "=", "to_review"),
                ("partner_id", "=", customer.id),
                ("company_id", "=", self.env.company.id),
            ],
            order="create_date desc, id desc",
        )
        return [
            {
                "id": response.id,
                "date": format_date(self.env, response.create_date),
                "invoices": ", ".join(response.move_ids.mapped("name")) or False,
                "note": response.note or False,
                "hold": format_date(self.env, response.hold_until) if response.hold_until else False,
            }
            for response in responses
        ]

    # === WHAT COMES NEXT === #

    @api.model
    def _get_next_step(self, customer):
        """The next reminder the ladder would send to the customer: the
        earliest of its open invoices' next reminders (as the invoice's
        Reminders tab shows them: ``account.move._compute_payment_reminder_next``),
        with the level, the invoices it concerns, and what holds the others."""
        _ = self.env._
        domain = self.env["account.payment.reminder.dashboard"]._open_domain()
        moves = self.env["account.move"].search(domain + [("commercial_partner_id", "=", customer.id)])
        planned = moves.filtered("payment_reminder_next_date")
        waiting = []
        for move in moves.filtered("payment_reminder_waiting"):
            if move.payment_reminder_waiting not in waiting:
                waiting.append(move.payment_reminder_waiting)
        if not planned:
            return {
                "date": False,
                "text": _("No reminder planned: nothing is open to chase.")
                if not moves
                else _("No reminder planned for the open invoices."),
                "waiting": waiting,
            }
        first = min(planned.mapped("payment_reminder_next_date"))
        concerned = planned.filtered(lambda move: move.payment_reminder_next_date == first)
        levels = concerned.payment_reminder_next_level_id
        today = fields.Date.context_today(self)
        return {
            "date": format_date(self.env, first),
            "days": (first - today).days,
            "level": ", ".join(levels.mapped("name")) or _("Instalment reminder"),
            "invoices": ", ".join(concerned.mapped("name")),
            "text": _("today") if first <= today else _("in %(days)s days", days=(first - today).days),
            "waiting": waiting,
        }

    @api.model
    def _get_actions(self, customer):
        """Where the card leads: the open invoices, the messages, the send wizard."""
        _ = self.env._
        Dashboard = self.env["account.payment.reminder.dashboard"]
        return {
            "invoices": Dashboard._invoice_action(
                _("Open Invoices of %(customer)s", customer=customer.display_name),
                Dashboard._open_domain() + [("commercial_partner_id", "=", customer.id)],
            ),
            "messages": customer.action_view_payment_reminders(),
            "send": {
                "type": "ir.actions.server",
                "id": self.env.ref("account_payment_reminder.account_payment_reminder_send_action_open").id,
                "context": {"active_model": "res.partner", "active_id": customer.id, "active_ids": customer.ids},
            },
        }
