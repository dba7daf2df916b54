"""Late-payment charges, plain Python: statutory interest and the fixed
compensation per invoice.

Interest is simple interest, actual days over 365, on what was actually
overdue each day. Days are counted as the difference between two dates, as
the law's calculators do: an invoice due on 31 January and paid on 10 February
is 10 days late. So a charge covers the days after ``date_from`` up to and
including ``date_to``, and a payment dated P lowers the base of the days after
P (day P itself is still late on what P paid).

A charge starts where the last one ended (``charged_until``), so a later charge
covers only the days not charged before.
"""

from collections import namedtuple
from datetime import timedelta

DAYS_IN_YEAR = 365

Segment = namedtuple("Segment", "date_from date_to days base")
"""Days after ``date_from`` up to ``date_to`` included, all on the same base."""


def first_late_day(instalments, grace_days=0):
    """The date after which interest may run: the earliest instalment's due
    date plus the grace days (which are never charged)."""
    if not instalments:
        return None
    return min(due for due, _amount in instalments) + timedelta(days=grace_days or 0)


def overdue_segments(instalments, payments, date_from, date_to, grace_days=0):
    """What was overdue on each day after ``date_from`` up to ``date_to``, as
    [Segment] with a positive base, in date order.

    :param instalments: [(due date, amount)] of the invoice (one for most
        invoices); an instalment is overdue from the day after its due date
        plus the grace days
    :param payments: [(date, amount)] paid on the invoice (payments, credit
        notes); a payment dated P lowers the base of the days after P, and pays
        the oldest instalment first
    """
    if date_to <= date_from:
        return []
    grace = timedelta(days=grace_days or 0)
    one_day = timedelta(days=1)
    # on day d, the base is what fell due (due + grace < d) minus what was paid (date < d)
    fell_due = [(due + grace + one_day, amount) for due, amount in instalments]
    paid = [(paid_on + one_day, amount) for paid_on, amount in payments]

    def base_on(day):
        due = sum(amount for since, amount in fell_due if since <= day)
        return max(due - sum(amount for since, amount in paid if since <= day), 0.0)

    first = date_from + one_day
    changes = sorted({since for since, _amount in fell_due + paid if first < since <= date_to})
    segments, start = [], first
    for end in [*changes, date_to + one_day]:
        base = base_on(start)
        if base > 0:
            segments.append(Segment(start - one_day, end - one_day, (end - start).days, base))
        start = end
    return _merge(segments)


def _merge(segments):
    """Join adjacent segments on the same base (an instalment paid the day the
    next one falls due, say)."""
    merged = []
    for segment in segments:
        last = merged[-1] if merged else None
        if last and last.date_to == segment.date_from and last.base == segment.base:
            merged[-1] = Segment(last.date_from, segment.date_to, last.days + segment.days, last.base)
        else:
            merged.append(segment)
    return merged


def simple_interest(segments, annual_rate):
    """Simple interest at ``annual_rate`` percent a year over the segments,
    actual days over 365, not rounded."""
    return sum(segment.base * segment.days for segment in segments) * annual_rate / 100.0 / DAYS_IN_YEAR


def average_base(segments):
    """The base weighted by days: interest = average base x rate x days / 365."""
    days = sum(segment.days for segment in segments)
    return sum(segment.base * segment.days for segment in segments) / days if days else 0.0


def fixed_compensation(invoice_amount, fixed=0.0, tiers=None):
    """The fixed compensation for one invoice: with tiers
    [(from amount, compensation)], the compensation of the highest tier the
    invoice amount reaches (UK: 40 under 1,000, 70 under 10,000, 100 above:
    ``[(0, 40), (1000, 70), (10000, 100)]``); else the fixed amount."""
    if not tiers:
        return fixed or 0.0
    reached = [fee for threshold, fee in sorted(tiers) if invoice_amount >= threshold]
    return reached[-1] if reached else 0.0
