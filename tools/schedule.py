"""When may a reminder go out? Pure functions over plain values, no ORM.

Times handed in and out are naive UTC datetimes (Odoo's convention); the
customer's time zone is an IANA name such as ``"Asia/Singapore"``.
"""

from datetime import datetime, timedelta

import pytz

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RETRY_BASE_MINUTES = 5
RETRY_MAX_ATTEMPTS = 5


def get_zone(tz_name):
    """The pytz zone of an IANA name; UTC for an unknown or empty one."""
    try:
        return pytz.timezone(tz_name or "UTC")
    except pytz.UnknownTimeZoneError:
        return pytz.utc


def to_local(now_utc, tz_name):
    """The customer's wall-clock time for a naive UTC datetime."""
    return pytz.utc.localize(now_utc).astimezone(get_zone(tz_name))


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


def is_before_due(on_discount, offset):
    """A level that goes before the due date (a courtesy reminder, an
    early-payment incentive): it is not part of the escalation after the due
    date, and never goes for an invoice already due."""
    return on_discount or offset < 0


def level_candidates(ladder, current_key, restart, due, discount_date, level_date=None, catch_up=False):
    """``(level_id, level_date, before_due)`` of the levels that may go next
    for one invoice: the levels after the due date first, then those before
    it, each highest first. The one rule of the ladder, for the scheduler,
    the dry run, the wizard and the invoice's "next reminder".

    The levels before the due date (courtesy, early discount) each go at
    their own date while the invoice is not yet due. The escalation after
    the due date goes one level at a time: the next level is the first one
    above the last sent, and goes once its own days from the due date have
    passed and, after a level of the escalation was sent, once the gap
    between the two levels' days has passed since that level's message
    (OCA credit control's "compute from previous date"). A debt found late
    thus starts at the first level, never at the level of its age. With
    ``catch_up`` every level above the last sent is a candidate at its own
    date from the due date (an old debt gets the level of its age at once).

    :param ladder: ``(sequence, level_id, on_early_discount, offset_days)`` of
        the policy's active levels, highest first
    :param current_key: ``(sequence, level_id)`` of the last level sent, or None
    :param restart: True when the invoice starts a new ladder (a new instalment
        became the oldest open one), whatever was sent before
    :param due: the due date the ladder refers to
    :param discount_date: the early-discount deadline, or None
    :param level_date: the day the last level's message went, or None
    :param catch_up: the policy lets an old debt catch up with its age
    """
    current = None if restart else current_key
    above = [level for level in ladder if not current or (level[0], level[1]) > current]
    escalation = [level for level in ladder if not is_before_due(level[2], level[3])]
    current_offset = next((offset for seq, lid, _disc, offset in escalation if (seq, lid) == current), None)
    after = [
        (level_id, due + timedelta(days=offset), False)
        for _seq, level_id, on_discount, offset in above
        if not is_before_due(on_discount, offset)
    ]
    if after and not catch_up:
        level_id, day, _before = after[-1]  # the first level above the last sent: none is skipped
        if current_offset is not None and level_date:
            offset = next(offset for _seq, lid, _disc, offset in escalation if lid == level_id)
            day = max(day, level_date + timedelta(days=offset - current_offset))
        after = [(level_id, day, False)]
    before = []
    if current_offset is None:  # once the escalation started, the invoice is past its due date
        for _seq, level_id, on_discount, offset in above:
            base = discount_date if on_discount else due
            if is_before_due(on_discount, offset) and base:
                before.append((level_id, base + timedelta(days=offset), True))
    return after + before


def pick_level(candidates, local_today, due=None):
    """The reminder level due for one invoice today.

    :param candidates: what ``level_candidates`` returns
    :param local_today: today's date in the customer's time zone
    :param due: the invoice's due date: a level before the due date comes
        too late for an invoice already due
    :return: the first ``level_id`` whose date has come, or None
    """
    is_due = due is not None and due <= local_today
    for level_id, level_date, before_due in candidates:
        if level_date <= local_today and not (before_due and is_due):
            return level_id
    return None


def next_reminder(candidates, day, due):
    """``(level_id, date)`` of the next reminder of one invoice as of ``day``
    (today, or the day a hold ends): the level ``pick_level`` gives that day,
    else the first one to come; None when the ladder is done."""
    level_id = pick_level(candidates, day, due)
    if level_id:
        return level_id, day
    coming = [
        (level_date, level_id)
        for level_id, level_date, before_due in candidates
        if level_date > day and not (before_due and level_date >= due)
    ]
    if not coming:
        return None
    level_date, level_id = min(coming)
    return level_id, level_date


def retry_delay(attempt):
    """Backoff before the ``attempt``-th retry (1-based): 5, 10, 20, 40 min...,
    or None once the attempts are spent."""
    if attempt > RETRY_MAX_ATTEMPTS:
        return None
    return timedelta(minutes=RETRY_BASE_MINUTES * 2 ** (attempt - 1))
