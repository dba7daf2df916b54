"""What a customer really owes: the invoices a reminder asks for, netted with
the customer's credits (open credit notes, unreconciled payments, other
receivable credits), per currency. Plain Python over plain values, no ORM: the
scheduler feeds it rows read in SQL for a batch of customers, the portal and
the wizard rows read through the ORM for one customer.

A row is a ``StatementLine``: one open invoice (or its part that is due), or
one credit. Its residual is signed from the customer's point of view: positive
is owed to us, negative is owed to the customer (a credit).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date


@dataclass
class StatementLine:
    move_id: int
    currency_id: int
    residual: float  # in the line's currency, signed
    residual_company: float  # in the company's currency, signed
    due: date = None
    is_invoice: bool = True  # False: a credit (credit note, payment, other)


@dataclass
class CurrencyTotal:
    """The figures of one currency."""

    overdue: float = 0.0  # invoices due on or before the reference date: what is asked before netting
    not_due: float = 0.0
    credits: float = 0.0  # negative
    overdue_company: float = 0.0
    credits_company: float = 0.0
    move_ids: list = field(default_factory=list)  # the overdue invoices

    @property
    def net(self):
        """What is asked: the overdue amount less the credits, never below zero."""
        return max(0.0, self.overdue + self.credits)

    @property
    def net_company(self):
        """``net`` in company currency: the overdue amount less the share of
        the credits that nets it, at the credits' own rates."""
        if not self.overdue:
            return 0.0
        covered = self.netted / self.overdue
        return max(0.0, self.overdue_company * (1.0 - covered))

    @property
    def netted(self):
        """How much of the overdue amount the credits cover."""
        return min(self.overdue, -self.credits)

    @property
    def netted_company(self):
        return self.overdue_company - self.net_company


def summarize(lines, reference_date=None, is_zero=lambda currency_id, amount: abs(amount) < 0.005):
    """{currency id: CurrencyTotal} of a customer's open receivable lines.

    Credits net only what is due in their own currency: a EUR credit note does
    not pay a USD invoice, and amounts of two currencies are never added.

    :param reference_date: invoices due on or before it are overdue (or due);
        None counts every invoice line handed in as asked for
    :param is_zero: the currency's own rounding test
    """
    totals = defaultdict(CurrencyTotal)
    for line in lines:
        total = totals[line.currency_id]
        if not line.is_invoice or line.residual < 0:
            total.credits += line.residual
            total.credits_company += line.residual_company
        elif reference_date is None or (line.due and line.due <= reference_date):
            total.overdue += line.residual
            total.overdue_company += line.residual_company
            if line.move_id not in total.move_ids:
                total.move_ids.append(line.move_id)
        else:
            total.not_due += line.residual
    return {
        currency_id: total
        for currency_id, total in totals.items()
        if not (is_zero(currency_id, total.overdue) and is_zero(currency_id, total.credits) and not total.not_due)
    }


def is_covered(totals, is_zero=lambda currency_id, amount: abs(amount) < 0.005):
    """True when the credits cover everything overdue, in every currency."""
    return all(is_zero(currency_id, total.net) for currency_id, total in totals.items())
