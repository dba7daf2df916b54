"""Instalment arithmetic for payment plans, plain Python."""

from decimal import Decimal

from dateutil.relativedelta import relativedelta

FREQUENCIES = {
    "weekly": relativedelta(weeks=1),
    "biweekly": relativedelta(weeks=2),
    "monthly": relativedelta(months=1),
}


def _digits(rounding):
    """Decimal places of a currency rounding: 0.01 -> 2, 0.001 -> 3, 1.0 -> 0."""
    return max(0, -Decimal(repr(rounding)).normalize().as_tuple().exponent)


def split_amount(total, count, rounding):
    """Split ``total`` into ``count`` instalments in units of ``rounding`` (the
    currency's rounding, 0.01 or 1.0 or 0.001). The rounding remainder is spread
    over the first instalments, one unit each, so that they add up exactly to
    the total and differ by one unit at most: 100.00 in 7 is 14.29 x4 and
    14.28 x3. Raises ValueError when there is not at least one unit for each
    instalment (never a zero instalment)."""
    if not can_split(total, count, rounding):
        raise ValueError(f"{total} cannot be split into {count} instalments of at least {rounding}.")
    share, remainder = divmod(round(total / rounding), count)
    digits = _digits(rounding)
    return [round((share + (index < remainder)) * rounding, digits) for index in range(count)]


def can_split(total, count, rounding):
    """Whether ``split_amount`` gives each of ``count`` instalments at least one unit."""
    return count >= 1 and round(total / rounding) >= count


def instalment_dates(first, count, frequency):
    """``count`` dates from ``first``, every week, two weeks or month. Monthly
    dates keep the first date's day where the month has it (31 January, 28 or
    29 February, 31 March)."""
    step = FREQUENCIES[frequency]
    return [first + step * index for index in range(count)]


def allocate_payments(open_amounts, payments):
    """Spread payments that are known but not yet booked over their invoices.

    ``open_amounts``: {invoice: amount still open on it (invoice currency)}.
    ``payments``: [(amount, [(invoice, rate), ...])] in the order they are
    applied, each payment's invoices in the order it pays them (oldest due
    first), ``rate`` converting the payment's currency into the invoice's.
    A payment covers its invoices one after the other, never more than what is
    still open on each, so a payment of several invoices is not counted fully
    on each of them. Returns {invoice: amount covered}, in invoice currency."""
    left = dict(open_amounts)
    covered = dict.fromkeys(open_amounts, 0.0)
    for amount, invoices in payments:
        for invoice, rate in invoices:
            if amount <= 0:
                break
            if left.get(invoice, 0.0) <= 0:
                continue
            share = min(left[invoice], amount * rate)
            covered[invoice] += share
            left[invoice] -= share
            amount -= share / rate
    return covered
