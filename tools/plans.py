"""Instalment arithmetic for payment plans, plain Python."""

from dateutil.relativedelta import relativedelta

FREQUENCIES = {
    "weekly": relativedelta(weeks=1),
    "biweekly": relativedelta(weeks=2),
    "monthly": relativedelta(months=1),
}


def split_amount(total, count, round_amount):
    """Split ``total`` into ``count`` instalments rounded with ``round_amount``
    (the currency's rounding); the last one takes the remainder, so that they
    add up exactly to the total."""
    if count < 1:
        raise ValueError("A plan needs at least one instalment.")
    share = round_amount(total / count)
    shares = [share] * (count - 1)
    shares.append(round_amount(total - sum(shares)))
    return shares


def instalment_dates(first, count, frequency):
    """``count`` dates from ``first``, every week, two weeks or month. Monthly
    dates keep the first date's day where the month has it (31 January, 28 or
    29 February, 31 March)."""
    step = FREQUENCIES[frequency]
    return [first + step * index for index in range(count)]
