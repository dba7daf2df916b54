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

The rate is the one of each day's period (``split_by_rate``): the law sets it
per half-year (reference rate plus a margin), so a charge that spans a change
is one stretch per rate. Who pays what first is the law's too: by default a
payment lowers the debt; under BGB § 367 it pays the costs, then the interest,
and only the rest lowers the debt (``imputed_payments``).
"""

from collections import namedtuple
from datetime import date, timedelta

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


def half_year_start(day):
    """The first day of the half-year of ``day`` (1 January or 1 July): the
    statutory reference rates are set for each half-year."""
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def half_years(date_from, date_to):
    """The first days of the half-years that hold a day after ``date_from``
    up to ``date_to`` included."""
    if date_to <= date_from:
        return []
    starts, start = [], half_year_start(date_from + timedelta(days=1))
    while start <= date_to:
        starts.append(start)
        start = date(start.year + 1, 1, 1) if start.month == 7 else date(start.year, 7, 1)
    return starts


def split_by_rate(segments, rates):
    """The segments cut where the rate changes, as [(Segment, rate)].

    :param rates: [(first day, annual rate percent)] in date order: a day is
        charged at the rate of the last entry on or before it; the first entry
        must cover the first day charged
    """
    result = []
    for segment in segments:
        start = segment.date_from  # the day before the first day of the piece
        for index, (since, rate) in enumerate(rates):
            until = rates[index + 1][0] - timedelta(days=1) if index + 1 < len(rates) else segment.date_to
            until = min(until, segment.date_to)
            if until <= start or since > segment.date_to:
                continue
            result.append((Segment(start, until, (until - start).days, segment.base), rate))
            start = until
    return result


def rate_periods(segments, rates):
    """The segments grouped by rate period, as [(date_from, date_to, rate,
    [Segment])] in date order: one charge line per period, saying its rate.
    Adjacent periods at the same rate are one."""
    periods = []
    for segment, rate in split_by_rate(segments, rates):
        last = periods[-1] if periods else None
        if last and last[2] == rate and last[1] == segment.date_from:
            periods[-1] = (last[0], segment.date_to, rate, [*last[3], segment])
        else:
            periods.append((segment.date_from, segment.date_to, rate, [segment]))
    return [(date_from, date_to, rate, _merge(pieces)) for date_from, date_to, rate, pieces in periods]


def interest_at_rates(segments, rates):
    """Simple interest over the segments, each day at the rate of its period,
    not rounded."""
    return sum(simple_interest([segment], rate) for segment, rate in split_by_rate(segments, rates))


def imputed_payments(instalments, payments, grace_days, rates, costs=0.0, remitted=()):
    """What each payment took off the debt when payments pay the costs first,
    then the interest, then the debt (BGB § 367 (1)), as [(date, amount)] for
    ``overdue_segments``.

    Interest runs on the debt only (no interest on interest, BGB § 289); the
    costs (the fixed compensation) are owed from the first late day; a payment
    dated P pays the interest of the days up to P included.

    :param payments: [(date, amount)] paid towards this debt, its interest and
        costs (on the invoice, and its share of what was paid on the charge
        invoices)
    :param remitted: [(date, amount)] of interest or costs given up (waived):
        they are no longer owed from that date
    """
    start = first_late_day(instalments, grace_days)
    reductions, paid_accessories = [], 0.0
    for paid_on, amount in sorted(payments):
        if start is None or paid_on <= start:
            reductions.append((paid_on, amount))  # paid on time: nothing else is owed yet
            continue
        accrued = interest_at_rates(overdue_segments(instalments, reductions, start, paid_on, grace_days), rates)
        given_up = sum(value for since, value in remitted if since <= paid_on)
        owed = max(costs + accrued - paid_accessories - given_up, 0.0)
        to_accessories = min(amount, owed)
        paid_accessories += to_accessories
        if amount > to_accessories:
            reductions.append((paid_on, amount - to_accessories))
    return reductions
