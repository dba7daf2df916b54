"""How each customer pays, from its own history: set-wise, a few SQL queries
for any number of customers, using only what was known on a given day.

- An invoice is *paid* on the day its receivable lines (its ``payment_term``
  lines) were fully reconciled: the latest ``max_date`` of the partial
  reconciliations on them (the date of the counterpart, a payment or a credit
  note), counting only those dated by ``as_of``. Its days late are that day
  less its due date (negative: early).
- A promise to pay counts once its outcome was known by ``as_of`` (its date
  plus grace passed): kept or broken.
- A payment plan counts as started once created by ``as_of`` (cancelled plans
  do not count); completed once paid in full with its last instalment by
  ``as_of``; broken once broken with its first instalment (plus grace) by then.
- The trend compares the average days late of the invoices paid in the last
  91 days with the 91 days before (False when either has none).

``payment_behaviour`` gives the figures of each customer, ``company_payment_behaviour``
those of all the company's customers together (for a customer without history).
"""

from datetime import datetime, time, timedelta

HISTORY_DAYS = 365
"""How far back paid invoices count: how a customer pays now, not years ago."""
QUARTER_DAYS = 91
TREND_MARGIN_DAYS = 3
"""The trend is 'same' within this many days of average lateness."""

EMPTY = {
    "days_late_avg": 0.0,
    "days_late_typical": 0.0,
    "on_time_share": 0.0,
    "invoices_paid": 0,
    "promises_made": 0,
    "promises_kept": 0,
    "plans_started": 0,
    "plans_completed": 0,
    "plans_broken": 0,
    "trend": False,
}

_PAID_SQL = """
    WITH paid AS (
        SELECT m.commercial_partner_id AS partner_id,
               MAX(r.max_date) - m.invoice_date_due AS late,
               MAX(r.max_date) AS paid_on
          FROM account_move m
          JOIN account_move_line l ON l.move_id = m.id AND l.display_type = 'payment_term'
         CROSS JOIN LATERAL (
                SELECT COALESCE(SUM(p.amount), 0) AS amount, MAX(p.max_date) AS max_date
                  FROM account_partial_reconcile p
                 WHERE p.debit_move_id = l.id AND p.max_date <= %(as_of)s
               ) r
         WHERE m.company_id = %(company)s
           AND m.move_type = 'out_invoice'
           AND m.state = 'posted'
           AND m.invoice_date_due IS NOT NULL
           AND m.invoice_date <= %(as_of)s
           AND (%(all)s OR m.commercial_partner_id = ANY(%(partners)s))
         GROUP BY m.id
        HAVING SUM(l.balance) > 0
           AND SUM(l.balance) - SUM(r.amount) < %(tolerance)s
           AND MAX(r.max_date) > %(since)s
    )
    SELECT partner_id,
           COUNT(*),
           AVG(late)::float,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY late),
           AVG((late <= 0)::int)::float,
           AVG(late) FILTER (WHERE paid_on > %(quarter)s)::float,
           AVG(late) FILTER (WHERE paid_on > %(half)s AND paid_on <= %(quarter)s)::float
      FROM paid
     GROUP BY GROUPING SETS ((partner_id), ())
"""

_PROMISES_SQL = """
    SELECT partner_id, COUNT(*), COUNT(*) FILTER (WHERE state = 'kept')
      FROM account_payment_reminder_promise
     WHERE company_id = %(company)s
       AND state IN ('kept', 'broken')
       AND create_date < %(as_of_end)s
       AND date + grace_days < %(as_of)s
       AND (%(all)s OR partner_id = ANY(%(partners)s))
     GROUP BY GROUPING SETS ((partner_id), ())
"""

_PLANS_SQL = """
    SELECT p.partner_id,
           COUNT(*),
           COUNT(*) FILTER (WHERE p.state = 'done' AND l.last_date <= %(as_of)s),
           COUNT(*) FILTER (WHERE p.state = 'broken' AND l.first_date + p.grace_days < %(as_of)s)
      FROM account_payment_reminder_plan p
      JOIN (SELECT plan_id, MIN(date) AS first_date, MAX(date) AS last_date
              FROM account_payment_reminder_plan_line
             GROUP BY plan_id) l ON l.plan_id = p.id
     WHERE p.company_id = %(company)s
       AND p.state != 'cancelled'
       AND p.create_date < %(as_of_end)s
       AND (%(all)s OR p.partner_id = ANY(%(partners)s))
     GROUP BY GROUPING SETS ((p.partner_id), ())
"""


def trend(last_quarter, quarter_before):
    """'better', 'same' or 'worse': the average days late of the last quarter
    against the quarter before; False when either quarter has no payment."""
    if last_quarter is None or quarter_before is None:
        return False
    if last_quarter > quarter_before + TREND_MARGIN_DAYS:
        return "worse"
    if last_quarter < quarter_before - TREND_MARGIN_DAYS:
        return "better"
    return "same"


def _figures(env, company, partner_ids, as_of):
    """{commercial partner id, or None for all of them together: figures}."""
    rounding = company.currency_id.rounding
    params = {
        "company": company.id,
        "all": partner_ids is None,
        "partners": list(partner_ids or []),
        "as_of": as_of,
        "as_of_end": datetime.combine(as_of + timedelta(days=1), time.min),
        "since": as_of - timedelta(days=HISTORY_DAYS),
        "quarter": as_of - timedelta(days=QUARTER_DAYS),
        "half": as_of - timedelta(days=2 * QUARTER_DAYS),
        "tolerance": rounding / 2,
    }
    result = {}

    def row(partner_id):
        if partner_id not in result:
            result[partner_id] = dict(EMPTY)
        return result[partner_id]

    cr = env.cr
    cr.execute(_PAID_SQL, params)
    for partner_id, count, avg, median, on_time, last, before in cr.fetchall():
        row(partner_id).update(
            invoices_paid=count,
            days_late_avg=avg or 0.0,
            days_late_typical=float(median or 0.0),
            on_time_share=on_time or 0.0,
            trend=trend(last, before),
        )
    cr.execute(_PROMISES_SQL, params)
    for partner_id, made, kept in cr.fetchall():
        row(partner_id).update(promises_made=made, promises_kept=kept)
    cr.execute(_PLANS_SQL, params)
    for partner_id, started, completed, broken in cr.fetchall():
        row(partner_id).update(plans_started=started, plans_completed=completed, plans_broken=broken)
    return result


def payment_behaviour(env, company, partner_ids, as_of):
    """How each of ``partner_ids`` (commercial partners; None: every customer
    of the company) paid ``company``, from what was known on ``as_of``.

    :return: {commercial partner id: {days_late_avg, days_late_typical
        (median), on_time_share (0..1), invoices_paid, promises_made,
        promises_kept, plans_started, plans_completed, plans_broken, trend}},
        customers without any history left out
    """
    figures = _figures(env, company, partner_ids, as_of)
    figures.pop(None, None)
    return figures


def company_payment_behaviour(env, company, as_of):
    """The same figures for all the company's customers together: what a
    customer without history is expected to do."""
    return _figures(env, company, None, as_of).get(None) or dict(EMPTY)


def promise_keeping(figures, fallback=None, default=1.0):
    """The share of promises kept: the customer's, else the company's, else
    ``default`` (a promise is taken at its word until there is a record)."""
    for source in (figures, fallback):
        if source and source["promises_made"]:
            return source["promises_kept"] / source["promises_made"]
    return default


def plan_keeping(figures, fallback=None, default=1.0):
    """The share of plans completed out of those whose outcome is known."""
    for source in (figures, fallback):
        if source and source["plans_completed"] + source["plans_broken"]:
            return source["plans_completed"] / (source["plans_completed"] + source["plans_broken"])
    return default


def typical_days_late(figures, fallback=None):
    """The customer's typical days late, else the company's, else 0."""
    for source in (figures, fallback):
        if source and source["invoices_paid"]:
            return source["days_late_typical"]
    return 0.0
