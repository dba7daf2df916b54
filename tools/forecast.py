"""The cash to expect, week by week for the next 13 weeks, per currency.

Each open invoice's amount still owed (net of its customer's credits, as the
overview nets them) is placed on the day its customer usually pays: its due
date plus the customer's typical days late (the company's, for a customer
without history); when that day has passed, as many days ahead as it is
behind (an invoice 10 days past its customer's habit is expected in 10 days,
one a year past is not expected within the 13 weeks). What a payment plan or a promise to pay covers is placed
on the instalment's or the promise's date instead, weighted by how often the
customer completed its plans or kept its promises (else the company's record,
else at its word); the rest of it (the share a customer breaks) is placed
where the ladder leaves it: after the hold, as late as the customer usually
pays. An amount is placed once: a plan's invoices are not also promised, a
promised amount is not also placed by the invoice.

``forecast`` is plain Python on plain values (tested with known ledgers);
``cash_forecast`` reads them for a company, a few queries whatever the size.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import cache

from .behaviour import plan_keeping, promise_keeping, typical_days_late

WEEKS = 13


@dataclass
class Invoice:
    id: int
    partner_id: int
    currency_id: int
    due: object  # date
    owed: float  # in the invoice's currency


@dataclass
class Commitment:
    """A promise (one dated amount) or a plan (its instalments) on invoices."""

    kind: str  # "promise" or "plan"
    partner_id: int
    currency_id: int
    grace_days: int
    dated_amounts: list  # [(date, amount)], in date order
    move_ids: list = field(default_factory=list)  # empty promise: all the customer's open invoices


@dataclass
class Week:
    start: object  # date
    amount: float = 0.0
    move_ids: set = field(default_factory=set)


def week_index(day, as_of, weeks=WEEKS):
    """The week (0-based from ``as_of``) of ``day``; what is late falls in
    the first; None after the horizon."""
    index = max((day - as_of).days, 0) // 7
    return index if index < weeks else None


def forecast(invoices, commitments, behaviour, company_figures, as_of, weeks=WEEKS, overdue_now=False):
    """Place the invoices and commitments on the weeks.

    :param invoices: [Invoice], the open invoices
    :param commitments: [Commitment]: the plans first wins over a promise on
        the same invoice
    :param behaviour: {customer id: figures of tools/behaviour.py}
    :param company_figures: the company's figures (customers without history)
    :param overdue_now: an invoice whose customer's usual day has passed is
        expected in the first week; by default, as many days ahead as that
        day is behind (the longer it waits, the later it comes; one long
        forgotten falls after the horizon)
    :return: {currency id: {"weeks": [Week], "later": amount after the horizon}}
    """
    result = {}

    def place(currency_id, day, amount, move_ids):
        if currency_id not in result:
            result[currency_id] = {
                "weeks": [Week(as_of + timedelta(days=7 * index)) for index in range(weeks)],
                "later": 0.0,
            }
        index = week_index(day, as_of, weeks)
        if index is None:
            result[currency_id]["later"] += amount
            return
        week = result[currency_id]["weeks"][index]
        week.amount += amount
        week.move_ids.update(move_ids)

    @cache  # once per customer, not once per invoice
    def late_days(partner_id):
        return round(typical_days_late(behaviour.get(partner_id), company_figures))

    left = {invoice.id: invoice.owed for invoice in invoices}
    by_id = {invoice.id: invoice for invoice in invoices}
    open_by_customer = defaultdict(list)
    for invoice in sorted(invoices, key=lambda inv: (inv.due, inv.id)):
        open_by_customer[invoice.partner_id, invoice.currency_id].append(invoice.id)
    for commitment in sorted(commitments, key=lambda c: c.kind != "plan"):
        move_ids = [
            move_id
            for move_id in (commitment.move_ids or open_by_customer[commitment.partner_id, commitment.currency_id])
            if move_id in by_id and by_id[move_id].currency_id == commitment.currency_id
        ]
        move_ids.sort(key=lambda move_id: (by_id[move_id].due, move_id))
        available = sum(left[move_id] for move_id in move_ids)
        figures = behaviour.get(commitment.partner_id)
        kept = (plan_keeping if commitment.kind == "plan" else promise_keeping)(figures, company_figures)
        for day, amount in commitment.dated_amounts:
            amount = min(amount, available)
            if amount <= 0:
                break
            available -= amount
            # the invoices it pays, oldest due first
            paid, to_cover = [], amount
            for move_id in move_ids:
                if to_cover <= 0:
                    break
                share = min(left[move_id], to_cover)
                if share > 0:
                    left[move_id] -= share
                    to_cover -= share
                    paid.append(move_id)
            place(commitment.currency_id, day, amount * kept, paid)
            if kept < 1:
                broken_day = day + timedelta(days=commitment.grace_days + max(late_days(commitment.partner_id), 0))
                place(commitment.currency_id, broken_day, amount * (1 - kept), paid)
    for invoice in invoices:
        if left[invoice.id] > 0:
            day = invoice.due + timedelta(days=late_days(invoice.partner_id))
            if day < as_of and not overdue_now:
                # already later than the customer usually pays: expected as far ahead as it is behind
                day = as_of + (as_of - day)
            place(invoice.currency_id, day, left[invoice.id], [invoice.id])
    return result


def naive_forecast(invoices, as_of, weeks=WEEKS):
    """The baseline: everything paid on its due date."""
    return forecast(invoices, [], {}, None, as_of, weeks, overdue_now=True) if invoices else {}


def read_commitments(env, company, as_of, today):
    """The promises and plans that still hold on ``as_of`` (today: the open
    promises and active plans; a past day: those made by then and not yet
    over), as Commitments; a few queries."""
    as_of_end = datetime.combine(as_of + timedelta(days=1), time.min)
    live = as_of >= today
    Promise = env["account.payment.reminder.promise"]
    Plan = env["account.payment.reminder.plan"]
    if live:
        promise_domain = [("state", "=", "open")]
        plan_domain = [("state", "=", "active")]
    else:
        promise_domain = [("state", "!=", "cancelled"), ("create_date", "<", as_of_end)]
        plan_domain = [("state", "!=", "cancelled"), ("create_date", "<", as_of_end)]
    promises = Promise.search_fetch(
        [("company_id", "=", company.id), *promise_domain],
        ["partner_id", "currency_id", "date", "grace_days", "amount", "move_ids", "state"],
    )
    commitments = [
        Commitment(
            "promise",
            promise.partner_id.id,
            promise.currency_id.id,
            promise.grace_days,
            [(promise.date, promise.amount)],
            promise.move_ids.ids,
        )
        for promise in promises
        if live or promise.state == "open" or promise._get_hold_end() >= as_of
    ]
    plans = Plan.search_fetch(
        [("company_id", "=", company.id), *plan_domain],
        ["partner_id", "currency_id", "grace_days", "line_ids", "move_ids"],
    )
    plans.line_ids.fetch(["date", "amount", "amount_paid"])
    for plan in plans:
        if live:
            lines = [(line.date, line.amount - line.amount_paid) for line in plan.line_ids]
        else:
            lines = [(line.date, line.amount) for line in plan.line_ids if line.date >= as_of]
        lines = sorted((day, amount) for day, amount in lines if amount > 0)
        if lines:
            commitments.append(
                Commitment("plan", plan.partner_id.id, plan.currency_id.id, plan.grace_days, lines, plan.move_ids.ids)
            )
    return commitments
