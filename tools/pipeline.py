"""What the decision hands to the message model: plain data, no ORM.

A ``ReminderGroup`` is what one message covers (a customer's invoices at one
level, and what the rules said of them); an ``Outgoing`` is one message to
queue for a group, on one channel, to one contact
(account.payment.reminder.message._queue)."""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True)  # thousands per batch: no attribute dict each
class ReminderGroup:
    """What one message covers: a customer's invoices at one level (the most
    urgent one they reached), netted with the customer's credits."""

    policy: object
    level: object
    partner: object  # commercial partner
    moves: object
    ref_dates: dict = field(default_factory=dict)  # move id -> due date the level refers to
    new_levels: dict = field(default_factory=dict)  # move id -> level id it reaches with this message
    amount: float = 0.0  # what is asked, net of credits, in company currency
    amount_credit: float = 0.0  # what the credits netted, in company currency
    statement: dict = None  # what the message lists (see account.payment.reminder.run._make_statement)
    recipient_tz: str = "UTC"
    skip_reason: str = None
    skip_detail: str = None
    next_time: datetime = None
    planned: list = field(default_factory=list)  # [(channel, recipient partner, address or None, reason)]
    contacts: object = None  # who may receive it, in order (see _set_contacts)
    move_partner_ids: list = field(default_factory=list)  # the invoices' contacts, in invoice order
    money: list = field(default_factory=list)  # [(IncomingMoney, amount it holds, move id)]: money on its way
    # the learnt hour and channel (account_payment_reminder_learner.py): the A/B test's half ('learnt',
    # 'default'; None when the policy does not learn), the customer's history, when the message goes (None: at
    # once) and why (terms, see tools/terms.py)
    arm: str = None
    learnt: object = None
    send_at: datetime = None
    hour_terms: object = None
    channel_terms: object = None


@dataclass
class Outgoing:
    """One message to queue: a group of invoices, on one channel, to one contact."""

    group: ReminderGroup
    channel: str
    recipient: object  # res.partner
    address: str = None  # e-mail or E.164 number; None fails the message with ``reason``
    reason: str = None
    kind: str = "reminder"
    trigger: str = "cron"
    key: str = None  # idempotency key; by default derived from what the message covers
    parent: object = None  # the failed message this one falls back from
    plan: object = None
    plan_line: object = None
    user: object = None  # who sent it by hand
    contents: dict = field(default_factory=dict)  # the accountant's edits, applied over the rendering
    values: dict = field(default_factory=dict)  # more message values (override note...)
