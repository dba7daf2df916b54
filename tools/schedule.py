"""When may a reminder go out? Pure functions over plain values, no ORM.

Times handed in and out are naive UTC datetimes (Odoo's convention); the
customer's time zone is an IANA name such as ``"Asia/Singapore"``.
"""

from datetime import datetime, timedelta

import pytz

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RETRY_BASE_MINUTES = 5
RETRY_MAX_ATTEMPTS = 5


def to_local(now_utc, tz_name):
    """The customer's wall-clock time for a naive UTC datetime."""
    try:
        tz = pytz.timezone(tz_name or "UTC")
    except pytz.UnknownTimeZoneError:
        tz = pytz.utc
    return pytz.utc.localize(now_utc).astimezone(tz)


def hour_of(local_dt):
    return local_dt.hour + local_dt.minute / 60.0 + local_dt.second / 3600.0


def in_send_window(local_dt, start_hour, end_hour, weekdays):
    """True when ``local_dt`` is on an allowed weekday (0 = Monday) and its hour
    is in ``[start_hour, end_hour)``. A window whose end is before its start
    runs over midnight (e.g. 20:00 to 02:00)."""
    if local_dt.weekday() not in weekdays:
        return False
    hour = hour_of(local_dt)
    if start_hour <= end_hour:
        return start_hour <= hour < end_hour
    return hour >= start_hour or hour < end_hour


def next_window_start(now_utc, tz_name, start_hour, end_hour, weekdays):
    """The first moment at or after ``now_utc`` inside the send window, as naive
    UTC, or None when no weekday is allowed."""
    if not weekdays:
        return None
    local = to_local(now_utc, tz_name)
    if in_send_window(local, start_hour, end_hour, weekdays):
        return now_utc
    tz = local.tzinfo
    hours, minutes = int(start_hour), round((start_hour % 1) * 60)
    for day in range(8):
        date = (local + timedelta(days=day)).date()
        if date.weekday() not in weekdays:
            continue
        naive = datetime(date.year, date.month, date.day, hours % 24, minutes % 60)
        candidate = tz.normalize(tz.localize(naive)) if hasattr(tz, "localize") else naive.replace(tzinfo=tz)
        if candidate >= local:
            return candidate.astimezone(pytz.utc).replace(tzinfo=None)
    return None


def level_candidates(ladder, current_key, restart, due, discount_date):
    """``(level_id, level_date)`` of the levels not yet sent for one invoice,
    highest level first.

    :param ladder: ``(sequence, level_id, on_early_discount, offset_days)`` of
        the policy's active levels, highest first
    :param current_key: ``(sequence, level_id)`` of the last level sent, or None
    :param restart: True when the invoice starts a new ladder (a new instalment
        became the oldest open one), whatever was sent before
    :param due: the due date the ladder refers to
    :param discount_date: the early-discount deadline, or None
    """
    candidates = []
    for sequence, level_id, on_discount, offset in ladder:
        if current_key and not restart and (sequence, level_id) <= current_key:
            break
        base = discount_date if on_discount else due
        if base:
            candidates.append((level_id, base + timedelta(days=offset)))
    return candidates


def pick_level(candidates, local_today):
    """The reminder level due for one invoice.

    :param candidates: ``(level_id, level_date)`` pairs of the levels not yet
        sent for this invoice, highest level first
    :param local_today: today's date in the customer's time zone
    :return: the first ``level_id`` whose date has come, or None
    """
    for level_id, level_date in candidates:
        if level_date <= local_today:
            return level_id
    return None


def retry_delay(attempt):
    """Backoff before the ``attempt``-th retry (1-based): 5, 10, 20, 40 min...,
    or None once the attempts are spent."""
    if attempt > RETRY_MAX_ATTEMPTS:
        return None
    return timedelta(minutes=RETRY_BASE_MINUTES * 2 ** (attempt - 1))
