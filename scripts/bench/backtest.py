"""The cash forecast measured against what really came in (``phase_backtest``).

For a day in the past (``as_of``), the forecast is made from only what was
known then: the invoices open on that day with what was still due on them
(their receivable lines less the reconciliations dated by then), the
customers' behaviour from the invoices paid by then (tools/behaviour.py with
``as_of``), the promises and plans made by then. What was really paid in the
13 weeks after is read from the reconciliations dated after ``as_of`` on those
same invoices. The naive baseline places everything on its due date.

The benchmark ledger itself has no payment history before a day three months
back (its invoices are dated from today), so ``phase_history`` first gives
some of its customers a year of invoices paid by their own habit (a typical
lateness, some noise, now and then an invoice never paid): the same habit
pays the invoices still open on ``as_of`` afterwards, if by today.

The credits are not netted here (the overview nets today's; which credits were
open on a past day is not kept), on the forecast as on the baseline.

Runs inside Odoo; Odoo and the addon are imported inside the functions.
"""

import random
from datetime import timedelta

HISTORY_SEED = 20261202
HABITS = [-2, 0, 3, 7, 14, 25, 45]  # typical days late of the customers with a history

OPEN_AS_OF_SQL = """
    SELECT m.id, m.commercial_partner_id, m.currency_id, m.invoice_date_due,
           SUM(l.amount_currency) - COALESCE(SUM(r.amount_currency), 0)
      FROM account_move m
      JOIN account_move_line l ON l.move_id = m.id AND l.display_type = 'payment_term'
     CROSS JOIN LATERAL (
            SELECT SUM(p.debit_amount_currency) AS amount_currency
              FROM account_partial_reconcile p
             WHERE p.debit_move_id = l.id AND p.max_date <= %(as_of)s
           ) r
     WHERE m.company_id = %(company)s AND m.move_type = 'out_invoice' AND m.state = 'posted'
       AND m.date <= %(as_of)s AND m.invoice_date_due IS NOT NULL
     GROUP BY m.id
    HAVING SUM(l.amount_currency) - COALESCE(SUM(r.amount_currency), 0) > 0.005
"""

PAID_AFTER_SQL = """
    SELECT m.currency_id, p.max_date, SUM(p.debit_amount_currency)
      FROM account_move m
      JOIN account_move_line l ON l.move_id = m.id AND l.display_type = 'payment_term'
      JOIN account_partial_reconcile p ON p.debit_move_id = l.id
     WHERE m.id = ANY(%(moves)s) AND p.max_date > %(as_of)s AND p.max_date < %(end)s
     GROUP BY m.currency_id, p.max_date
"""


def phase_history(env, params):
    """A year of invoices for ``params["customers"]`` customers of the ledger,
    one every ``params["every"]`` days, each paid (a bank entry reconciled) on
    its due date plus the customer's habit and some noise, when that day has
    come; one in twenty is never paid. Returns the customers' ids."""
    from odoo import Command, fields

    rng = random.Random(HISTORY_SEED)
    today = fields.Date.context_today(env.user)
    customers = env["res.partner"].search([("name", "like", "Benchmark Customer")], limit=params["customers"])
    misc = env["account.journal"].search([("type", "=", "general")], limit=1)
    bank = env["account.journal"].search([("type", "=", "bank")], limit=1).default_account_id
    plan = []  # (customer, invoice date, amount, payment date or None)
    for customer in customers:
        habit, noise = rng.choice(HABITS), rng.randint(2, 8)
        day = today - timedelta(days=365 + rng.randint(0, params["every"]))
        while day < today - timedelta(days=30):
            due = day + timedelta(days=30)
            paid = due + timedelta(days=habit + rng.randint(-noise, noise))
            never = rng.random() < 0.05
            plan.append((customer, day, round(rng.uniform(100, 3000), 2), None if never or paid > today else paid))
            day += timedelta(days=params["every"])
    invoices = env["account.move"].create(
        [
            {
                "move_type": "out_invoice",
                "partner_id": customer.id,
                "invoice_date": day,
                "invoice_date_due": day + timedelta(days=30),
                "invoice_line_ids": [
                    Command.create({"name": "Consulting services", "quantity": 1, "price_unit": amount, "tax_ids": []})
                ],
            }
            for customer, day, amount, _paid in plan
        ]
    )
    invoices.action_post()
    paying = [(invoice, paid) for invoice, (_c, _d, _a, paid) in zip(invoices, plan, strict=True) if paid]
    receivables = {
        invoice.id: invoice.line_ids.filtered(lambda line: line.display_type == "payment_term")
        for invoice, _paid in paying
    }
    payments = env["account.move"].create(
        [
            {
                "move_type": "entry",
                "journal_id": misc.id,
                "date": paid,
                "line_ids": [
                    Command.create({"account_id": bank.id, "debit": invoice.amount_total, "name": "Payment"}),
                    Command.create(
                        {
                            "account_id": receivables[invoice.id].account_id.id,
                            "partner_id": invoice.commercial_partner_id.id,
                            "credit": invoice.amount_total,
                            "name": "Payment",
                        }
                    ),
                ],
            }
            for invoice, paid in paying
        ]
    )
    payments.action_post()
    for (invoice, _paid), payment in zip(paying, payments, strict=True):
        (receivables[invoice.id] | payment.line_ids.filtered("credit")).reconcile()
    env.cr.commit()  # the history stays for the backtest's phase
    return {"customers": customers.ids, "invoices": len(invoices), "paid": len(paying)}


def backtest(env, company, as_of, weeks=13, partner_ids=None):
    """{currency name: {"actual", "forecast", "naive": [amount per week]}}."""
    from odoo import fields

    from odoo.addons.account_payment_reminder.tools.behaviour import company_payment_behaviour, payment_behaviour
    from odoo.addons.account_payment_reminder.tools.forecast import (
        Invoice,
        forecast,
        naive_forecast,
        read_commitments,
        week_index,
    )

    cr = env.cr
    cr.execute(OPEN_AS_OF_SQL, {"as_of": as_of, "company": company.id})
    invoices = [Invoice(*row) for row in cr.fetchall()]
    if partner_ids is not None:
        invoices = [invoice for invoice in invoices if invoice.partner_id in partner_ids]
    behaviour = payment_behaviour(env, company, None, as_of)
    company_figures = company_payment_behaviour(env, company, as_of)
    commitments = read_commitments(env, company, as_of, fields.Date.context_today(env.user))
    ours = forecast(invoices, commitments, behaviour, company_figures, as_of, weeks)
    naive = naive_forecast(invoices, as_of, weeks)
    overdue_now = forecast(invoices, commitments, behaviour, company_figures, as_of, weeks, overdue_now=True)
    cr.execute(
        PAID_AFTER_SQL,
        {"moves": [invoice.id for invoice in invoices], "as_of": as_of, "end": as_of + timedelta(days=7 * weeks)},
    )
    actual = {}
    for currency_id, day, amount in cr.fetchall():
        index = week_index(day, as_of, weeks)  # the forecast's weeks: as_of .. as_of + 6 is the first
        if index is not None:
            actual.setdefault(currency_id, [0.0] * weeks)[index] += amount
    result = {}
    for currency_id in set(ours) | set(actual):
        name = env["res.currency"].browse(currency_id).name
        result[name] = {
            "open_invoices": sum(1 for invoice in invoices if invoice.currency_id == currency_id),
            "open_amount": round(sum(i.owed for i in invoices if i.currency_id == currency_id), 2),
            "actual": [round(a, 2) for a in actual.get(currency_id, [0.0] * weeks)],
            "forecast": [round(w.amount, 2) for w in ours[currency_id]["weeks"]]
            if currency_id in ours
            else [0.0] * weeks,
            "naive": [round(w.amount, 2) for w in naive[currency_id]["weeks"]]
            if currency_id in naive
            else [0.0] * weeks,
            "overdue_now": [round(w.amount, 2) for w in overdue_now[currency_id]["weeks"]]
            if currency_id in overdue_now
            else [0.0] * weeks,
        }
    return result


def errors(actual, predicted):
    """(MAE per week, error over the 13 weeks in % of what was paid)."""
    mae = sum(abs(a - p) for a, p in zip(actual, predicted, strict=True)) / len(actual)
    total = sum(actual)
    percent = 100 * (sum(predicted) - total) / total if total else None
    return round(mae, 2), (round(percent, 1) if percent is not None else None)


def phase_backtest(env, params):
    """The backtest of each company with invoices, ``params["days_back"]`` days ago."""
    from odoo import fields

    today = fields.Date.context_today(env.user)
    as_of = today - timedelta(days=params.get("days_back", 91))
    weeks = min(13, params.get("days_back", 91) // 7)  # only the weeks whose payments are all known by today
    env.cr.execute("SELECT DISTINCT company_id FROM account_move WHERE move_type = 'out_invoice' AND state = 'posted'")
    companies = env["res.company"].browse([company_id for (company_id,) in env.cr.fetchall()])
    result = {"as_of": str(as_of), "weeks": weeks, "companies": {}}
    history = set(params.get("history_customers") or [])
    for company in companies:
        scopes = [(company.name, None)]
        if history:
            scopes.append((f"{company.name}, the {len(history)} customers with a year of history", history))
        for name, partner_ids in scopes:
            per_currency = backtest(env, company, as_of, weeks, partner_ids=partner_ids)
            for figures in per_currency.values():
                figures["mae"], figures["total_error_pct"] = errors(figures["actual"], figures["forecast"])
                figures["naive_mae"], figures["naive_total_error_pct"] = errors(figures["actual"], figures["naive"])
                figures["overdue_now_mae"], figures["overdue_now_total_error_pct"] = errors(
                    figures["actual"], figures["overdue_now"]
                )
            result["companies"][name] = per_currency
    return result
