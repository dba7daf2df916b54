"""Money on its way: a customer's money that Odoo sees coming but has not
matched with an invoice yet (an unreconciled bank statement line, an online
payment pending or authorised at its provider). For a few days from that
money's date, the reminders wait for what it covers (the policy's
``on_its_way_days``); once they are over, chasing resumes on its own.

Plain Python over plain values, no ORM: the scheduler reads the money of a
batch of customers in SQL (account.payment.reminder.run._get_money_on_its_way)
and ``hold`` shares it out over their invoices.
"""

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

REFERENCE_SEPARATORS = re.compile(r"[\s,;:()\[\]{}<>\"'|]+")
REFERENCE_EDGES = ".-_+*#/"
MIN_REFERENCE = 4  # "INV", "12" or "/" name no invoice


@dataclass(slots=True)
class IncomingMoney:
    """Money of one customer on its way, in its own currency."""

    kind: str  # "bank_line" or "transaction"
    res_id: int  # account.bank.statement.line or payment.transaction id
    partner_id: int  # the commercial partner it is for
    company_id: int
    currency_id: int
    total: float  # its amount
    date: date  # the day the wait counts from
    label: str = ""  # the bank line's label and reference, the transaction's reference
    move_ids: tuple = ()  # the open invoices it names
    state: str = None  # a transaction's state
    left: float = None  # what it has not covered yet (``hold`` consumes it)

    def __post_init__(self):
        if self.left is None:
            self.left = self.total


def references(*texts):
    """The words of a bank line's label or reference that may be an invoice's
    name or payment reference ("PAYMENT INV/2026/00012." names
    "INV/2026/00012"), upper-cased."""
    found = set()
    for text in texts:
        for word in REFERENCE_SEPARATORS.split((text or "").upper()):
            word = word.strip(REFERENCE_EDGES)
            if len(word) >= MIN_REFERENCE and any(char.isdigit() for char in word):
                found.add(word)
    return found


def hold(asked, money, is_zero=lambda amount: abs(amount) < 0.005):
    """Share a customer's money on its way over what its invoices ask.

    :param asked: ``[(invoice id, currency id, amount asked, since)]`` in the
        order money pays them (oldest due first); money dated ``since`` or
        before is too old to hold that invoice (its wait is over)
    :param money: the customer's ``IncomingMoney`` (its ``left`` is consumed,
        so that money shared by two calls is never counted twice)
    :return: ``{invoice id: [(IncomingMoney, amount held)]}``; an invoice
        whose held amounts add up to what it asks is wholly held

    Money goes first to the invoices it names, then to the others, oldest
    due first; it never covers an invoice in another currency.
    """
    left = {move_id: amount for move_id, _currency, amount, _since in asked}
    held = defaultdict(list)

    def take(item, move_id, currency_id, since):
        if item.currency_id != currency_id or item.date <= since or is_zero(item.left) or is_zero(left[move_id]):
            return
        amount = min(item.left, left[move_id])
        item.left -= amount
        left[move_id] -= amount
        held[move_id].append((item, amount))

    for item in money:
        for move_id, currency_id, _amount, since in asked:
            if move_id in item.move_ids:
                take(item, move_id, currency_id, since)
    for item in money:
        for move_id, currency_id, _amount, since in asked:
            take(item, move_id, currency_id, since)
    return dict(held)
