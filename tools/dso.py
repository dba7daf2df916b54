"""Days sales outstanding (the countback method) and the overdue amount,
month by month. Plain Python over the rows of one query (see
``account.payment.reminder.dashboard._get_dso_rows``), no ORM.

A row is ``(month, kind, amount)``: what changed in the company's receivable
during the month that starts on ``month``, in company currency:

- ``balance``: every posted receivable line dated in the month (invoices,
  credit notes, payments, other entries);
- ``sales``: the receivable side of the customer invoices and credit notes
  dated in the month (credit sales, taxes included, as the receivable holds
  them);
- ``overdue``: an invoice's receivable line counts from the day after its due
  date (or from its date, when it was entered late), and each part of it paid
  counts off from the day of that payment (the reconciliation's date): the sum
  up to a month's end is what was overdue and unpaid at that end.

The balance and the overdue amount at a month's end are the running sums of
their changes; the sales of a month are its own row.

Countback: DSO at a month's end takes the receivable balance then and walks
back month by month, taking off each month's credit sales until the balance is
used up; it adds the full days of each month used up and, for the month where
the balance runs out, that month's days times the share of its sales the
balance still held. A balance that is not used up when the history ends (an
opening balance with no sales behind it) gives a floor, flagged ``complete``
False.
"""

from calendar import monthrange
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

KINDS = ("balance", "sales", "overdue")


@dataclass
class MonthFigures:
    start: date
    end: date  # the month's last day; today for the month in progress
    balance: float = 0.0  # the receivable at ``end``
    sales: float = 0.0  # the month's credit sales (to ``end``)
    overdue: float = 0.0  # the receivable overdue at ``end``
    dso: float = 0.0  # days sales outstanding at ``end``
    complete: bool = True  # False: the history ran out, ``dso`` is a floor

    @property
    def days(self):
        return (self.end - self.start).days + 1


def month_start(day, back=0):
    """The first day of the month ``back`` months before the month of ``day``."""
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def month_end(start):
    return start.replace(day=monthrange(start.year, start.month)[1])


def countback(balance, history):
    """``(days, complete)``: the days of sales the ``balance`` holds.

    :param history: ``[(days, sales)]`` of the month the balance is taken at
        and of those before it, newest first
    """
    if balance <= 0:
        return 0.0, True
    days, left = 0.0, balance
    for month_days, sales in history:
        if sales <= 0:  # no sales: what is left is older than this month
            days += month_days
            continue
        if left <= sales:
            return days + month_days * left / sales, True
        left -= sales
        days += month_days
    return days, False


def monthly_figures(rows, today, count=12):
    """[MonthFigures] of the ``count`` months up to today's, oldest first;
    the month in progress ends today.

    :param rows: ``(month start, kind, amount)``, every month of the ledger
        up to today (those before the ``count`` months carry the running sums
        and the countback's history)
    """
    changes = defaultdict(lambda: dict.fromkeys(KINDS, 0.0))
    for month, kind, amount in rows:
        changes[month][kind] += amount or 0.0
    first = month_start(today, count - 1)
    start = min([first, *changes])
    last = month_start(today)
    figures, balance, overdue = [], 0.0, 0.0
    history = []  # (days, sales), newest first: every month, those without a row too
    while start <= last:
        end = min(month_end(start), today)
        change = changes[start]
        balance += change["balance"]
        overdue += change["overdue"]
        history.insert(0, ((end - start).days + 1, change["sales"]))
        if start >= first:
            dso, complete = countback(balance, history)
            figures.append(MonthFigures(start, end, balance, change["sales"], overdue, dso, complete))
        start = month_start(end, -1)
    return figures
