"""The right hour and the right channel, learnt from a customer's history.
Pure functions over plain rows, no ORM.

A *signal* is the first sign that a customer saw a message: its read
receipt, a click on its link, a reply or an answer on the reminder page it
led to, an online payment of its invoices soon after. The learner reads, for
one customer, the last messages that went with the moment of their first
signal, and says:

* at which hour of the customer's day to send (``learn_hour``): the
  beginning of the shortest stretch of the day (``SPAN_HOURS``) that holds
  most of the signals, clamped into the policy's send window
  (``clamp_hour``, ``learnt_send_time``);
* in which order to try the level's channels (``learn_channels``): those
  that were read or acted on first, the more often the sooner, a channel
  never opened last.

With fewer than ``MIN_SIGNALS`` messages seen, or signals spread over the
day, it says nothing and the policy's defaults hold. ``learn`` does all of
it for a batch of customers from the rows of one query
(account.payment.reminder.run._get_learning_rows).
"""

import hashlib
import math
from bisect import bisect_right
from collections import defaultdict
from datetime import datetime, timedelta
from typing import NamedTuple

import pytz

from .schedule import get_zone, in_send_window, to_local

MIN_SIGNALS = 3
"""Messages with a signal a customer needs before anything is learnt."""
HISTORY = 10
"""The last messages that went to a customer, per customer and company, the learner reads."""
SPAN_HOURS = 1.5
"""The stretch of the day that must hold most of the signals."""
FAST = timedelta(hours=1)
"""A channel "read within the hour"."""
ACTED_WITHIN = timedelta(days=3)
"""A signal later than this after the message went is not the message's."""
LAST_SLOT = 0.5
"""A learnt hour after the send window goes this long before the window closes."""
SLACK_HOURS = 1.0
"""A run this long after the learnt hour sends at once, rather than the next day."""


class Signal(NamedTuple):
    """One message that went, as the learner reads it."""

    channel: str
    sent_at: datetime  # naive UTC
    seen_at: datetime  # naive UTC of its first signal, or None
    tz: str  # the recipient's time zone when it went
    read: bool = False  # the first signal is a read receipt


class HourChoice(NamedTuple):
    hour: float  # the hour of the customer's day to send at, e.g. 19.0
    hits: int  # messages seen in the span
    out_of: int  # messages read from the history
    span_from: float  # the span, to the half hour: "between 18:30 and 20:00"
    span_to: float
    all_read: bool  # every signal of the span is a read receipt


class ChannelStat(NamedTuple):
    channel: str
    sent: int
    seen: int  # read or acted on within ACTED_WITHIN
    fast: int  # within FAST


class ChannelChoice(NamedTuple):
    order: list  # the channels, best first
    stats: dict  # channel -> ChannelStat


class Learnt(NamedTuple):
    """What was learnt of one customer: the hour (None: the policy's) and
    its history, which ``learn_channels`` reads for each level's channels."""

    hour: HourChoice
    signals: list


def ab_arm(policy_id, partner_id):
    """'learnt' or 'default': the half of the A/B test a customer is in,
    the same for a customer and a policy whatever the day, the process or
    the order customers come in (a hash, not Python's salted ``hash``)."""
    digest = hashlib.sha256(f"{policy_id}:{partner_id}".encode()).digest()
    return "learnt" if digest[0] % 2 else "default"


def _seen(signal):
    return signal.seen_at is not None and signal.sent_at <= signal.seen_at <= signal.sent_at + ACTED_WITHIN


_OFFSETS = {}


def _offsets(tz_name):
    """(UTC moments the zone's offset changes at, the offset from each) of
    ``get_zone``'s zone, read once: a batch converts thousands of moments."""
    found = _OFFSETS.get(tz_name)
    if found is None:
        zone = get_zone(tz_name)
        if hasattr(zone, "_utc_transition_times"):  # a zone with daylight saving time (pytz's DstTzInfo)
            found = (zone._utc_transition_times, [info[0] for info in zone._transition_info])
        else:
            found = ([datetime.min], [zone.utcoffset(datetime(2000, 1, 1))])
        _OFFSETS[tz_name] = found
    return found


def _local_hour(moment, tz_name):
    """The hour of the customer's day (19.5 for 19:30) of a naive UTC moment,
    as ``to_local`` reads it."""
    times, offsets = _offsets(tz_name)
    local = moment + offsets[max(0, bisect_right(times, moment) - 1)]
    return local.hour + local.minute / 60.0


def learn_hour(signals, min_signals=MIN_SIGNALS, span=SPAN_HOURS):
    """The hour of the customer's own day at which its messages are seen, or
    None when too few were seen or not at one time of the day.

    :param signals: ``Signal`` of the last messages that went (newest first)
    :return: ``HourChoice``: its ``hour`` is the first signal of the busiest
        span, down to the quarter hour; at least ``min_signals`` messages and
        half of those seen fall in the span
    """
    seen = [(_local_hour(s.seen_at, s.tz), s.read) for s in signals if _seen(s)]
    if len(seen) < min_signals:
        return None
    seen.sort()
    best = None
    for start, _read in seen:
        # the span starting at this signal, over midnight too
        inside = [(h, read) for h, read in seen if (h - start) % 24 < span]
        if best is None or len(inside) > len(best[1]):
            best = (start, inside)
    start, inside = best
    if len(inside) < min_signals or 2 * len(inside) < len(seen):
        return None
    last = max((h - start) % 24 for h, _read in inside) + start
    span_from = math.floor(start * 2) / 2
    span_to = max(math.ceil(last * 2) / 2, span_from + 0.5)
    return HourChoice(
        hour=math.floor(start * 4) / 4,
        hits=len(inside),
        out_of=len(signals),
        span_from=span_from % 24,
        span_to=span_to % 24 if span_to != 24 else 24.0,
        all_read=all(read for _h, read in inside),
    )


def channel_stats(signals, channels):
    """(ChannelStat of each of ``channels``, in their order): messages sent,
    seen within ACTED_WITHIN, seen within FAST."""
    stats = []
    for channel in channels:
        sent = seen = fast = 0
        for signal in signals:
            if signal.channel == channel:
                sent += 1
                if _seen(signal):
                    seen += 1
                    fast += signal.seen_at - signal.sent_at <= FAST
        stats.append(ChannelStat(channel, sent, seen, fast))
    return tuple(stats)


def order_channels(stats, min_signals=MIN_SIGNALS):
    """``ChannelChoice`` of what ``channel_stats`` says, or None when fewer
    than ``min_signals`` messages were seen (see ``learn_channels``)."""
    if sum(stat.seen for stat in stats) < min_signals:
        return None

    def key(indexed):
        index, stat = indexed
        if stat.seen:
            return (0, -stat.seen / stat.sent, -stat.fast / stat.sent, index)
        return (1 if not stat.sent else 2, 0, 0, index)

    order = [stat.channel for _index, stat in sorted(enumerate(stats), key=key)]
    return ChannelChoice(order, {stat.channel: stat for stat in stats})


def learn_channels(signals, channels, min_signals=MIN_SIGNALS):
    """The level's ``channels`` in the order that worked for the customer,
    or None when fewer than ``min_signals`` of its messages were seen.

    A channel whose messages were seen comes first, the larger its share of
    messages seen (then read within the hour) the sooner; then the channels
    never tried, in the level's order; last, those tried and never seen."""
    return order_channels(channel_stats(signals, channels), min_signals)


def clamp_hour(hour, start, end):
    """``hour`` moved into the send window ``[start, end)`` (over midnight
    when ``end`` < ``start``): to its opening when the hour comes before it,
    to ``LAST_SLOT`` before its close when after, whichever is nearer on the
    clock for a window over midnight."""
    inside = start <= hour < end if start <= end else (hour >= start or hour < end)
    if inside:
        return hour
    length = (end - start) % 24 or 24
    last = (start + max(length - LAST_SLOT, 0)) % 24
    # the gap between the window's close and its next opening: nearer the close, the last slot; else the opening
    return last if (hour - end) % 24 < (start - hour) % 24 else start


def learnt_send_time(now, tz_name, hour, start, end, weekdays, slack=SLACK_HOURS):
    """When a message decided ``now`` (naive UTC) goes at the learnt ``hour``
    of the customer's day: the next time that hour comes, clamped into the
    send window, on an allowed weekday; ``now`` itself when the hour came
    less than ``slack`` hours ago. Naive UTC, or None when no day fits."""
    hour = clamp_hour(hour, start, end)
    local_now = to_local(now, tz_name)
    tz = local_now.tzinfo
    hours, minutes = int(hour), round((hour % 1) * 60)
    for day in range(8):
        date = (local_now + timedelta(days=day)).date()
        naive = datetime(date.year, date.month, date.day, hours % 24, minutes % 60)
        candidate = tz.normalize(tz.localize(naive)) if hasattr(tz, "localize") else naive.replace(tzinfo=tz)
        if candidate + timedelta(hours=slack) <= local_now:
            continue
        if not in_send_window(candidate, start, end, weekdays):
            continue
        return max(candidate, local_now).astimezone(pytz.utc).replace(tzinfo=None)
    return None


def learn(rows, min_signals=MIN_SIGNALS):
    """{(company id, partner id): Learnt} for a batch of customers.

    :param rows: ``(company id, partner id, channel, sent_at, seen_at, tz,
        read)`` of the last messages that went to each customer, newest
        first (at most ``HISTORY`` per customer are read)
    """
    history = defaultdict(list)
    for company_id, partner_id, channel, sent_at, seen_at, tz, read in rows:
        signals = history[company_id, partner_id]
        if len(signals) < HISTORY:
            signals.append(Signal(channel, sent_at, seen_at, tz or "UTC", bool(read)))
    return {key: Learnt(learn_hour(signals, min_signals), signals) for key, signals in history.items()}
