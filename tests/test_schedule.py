from datetime import date, datetime, timedelta

from odoo.tests import BaseCase, tagged

from ..tools.schedule import (
    in_send_window,
    level_candidates,
    next_reminder,
    next_window_start,
    pick_level,
    retry_delay,
    to_local,
)

WEEKDAYS = {0, 1, 2, 3, 4}


@tagged("post_install", "-at_install")
class TestSchedule(BaseCase):
    """The time rules, on plain values."""

    def test_same_window_two_time_zones(self):
        # Monday 2026-03-02 02:00 UTC is 10:00 in Singapore and 21:00 (Sunday) in New York
        now = datetime(2026, 3, 2, 2, 0)
        self.assertTrue(in_send_window(to_local(now, "Asia/Singapore"), 9, 17, WEEKDAYS))
        self.assertFalse(in_send_window(to_local(now, "America/New_York"), 9, 17, WEEKDAYS))
        # and at 15:00 UTC it is 23:00 in Singapore, 10:00 in New York
        later = datetime(2026, 3, 2, 15, 0)
        self.assertFalse(in_send_window(to_local(later, "Asia/Singapore"), 9, 17, WEEKDAYS))
        self.assertTrue(in_send_window(to_local(later, "America/New_York"), 9, 17, WEEKDAYS))

    def test_window_end_is_exclusive_and_overnight_windows_work(self):
        self.assertFalse(in_send_window(datetime(2026, 3, 2, 17, 0), 9, 17, WEEKDAYS))
        self.assertTrue(in_send_window(datetime(2026, 3, 2, 16, 59), 9, 17, WEEKDAYS))
        self.assertTrue(in_send_window(datetime(2026, 3, 2, 23, 0), 20, 2, WEEKDAYS))
        self.assertTrue(in_send_window(datetime(2026, 3, 2, 1, 0), 20, 2, WEEKDAYS))
        self.assertFalse(in_send_window(datetime(2026, 3, 2, 3, 0), 20, 2, WEEKDAYS))

    def test_next_window_start(self):
        # Sunday 21:00 in New York: next start is Monday 09:00 local = 14:00 UTC
        self.assertEqual(
            next_window_start(datetime(2026, 3, 2, 2, 0), "America/New_York", 9, 17, WEEKDAYS),
            datetime(2026, 3, 2, 14, 0),
        )
        # Friday 18:00 in Singapore (10:00 UTC): next start is Monday 09:00 local = 01:00 UTC
        self.assertEqual(
            next_window_start(datetime(2026, 3, 6, 10, 0), "Asia/Singapore", 9, 17, WEEKDAYS),
            datetime(2026, 3, 9, 1, 0),
        )
        # inside the window: now
        self.assertEqual(
            next_window_start(datetime(2026, 3, 2, 2, 0), "Asia/Singapore", 9, 17, WEEKDAYS),
            datetime(2026, 3, 2, 2, 0),
        )
        self.assertIsNone(next_window_start(datetime(2026, 3, 2, 2, 0), "UTC", 9, 17, set()))

    def test_next_window_start_across_daylight_saving(self):
        # Europe/Brussels moves to summer time on 2026-03-29: 08:30 local is 06:30 UTC that Monday
        self.assertEqual(
            next_window_start(datetime(2026, 3, 28, 12, 0), "Europe/Brussels", 8.5, 18, WEEKDAYS),
            datetime(2026, 3, 30, 6, 30),
        )

    def test_unknown_time_zone_falls_back_to_utc(self):
        self.assertEqual(to_local(datetime(2026, 3, 2, 2, 0), "Mars/Olympus").hour, 2)

    def test_pick_level(self):
        candidates = [(3, date(2026, 3, 10), False), (2, date(2026, 3, 3), False), (1, date(2026, 3, 1), True)]
        self.assertEqual(pick_level(candidates, date(2026, 3, 2)), 1)
        self.assertEqual(pick_level(candidates, date(2026, 3, 5)), 2)
        self.assertEqual(pick_level(candidates, date(2026, 4, 1)), 3)
        self.assertIsNone(pick_level(candidates, date(2026, 2, 1)))
        # a level before the due date comes too late for an invoice already due
        self.assertIsNone(pick_level(candidates, date(2026, 3, 2), due=date(2026, 3, 2)))

    def test_level_candidates(self):
        # (sequence, id, on early discount, offset days), highest first
        ladder = [(50, 5, False, 30), (30, 3, False, 7), (20, 2, False, 0), (5, 1, True, -2)]
        due, disc = date(2026, 3, 1), date(2026, 2, 10)
        # never reminded: the first level after the due date, whatever the invoice's age; the incentive before
        self.assertEqual(
            level_candidates(ladder, None, False, due, disc),
            [(2, date(2026, 3, 1), False), (1, date(2026, 2, 8), True)],
        )
        # catching up: every level at its own date, the highest first (the level of the invoice's age)
        self.assertEqual(
            level_candidates(ladder, None, False, due, disc, catch_up=True),
            [
                (5, date(2026, 3, 31), False),
                (3, date(2026, 3, 8), False),
                (2, date(2026, 3, 1), False),
                (1, date(2026, 2, 8), True),
            ],
        )
        # after level 2 went on 20 April: level 3 waits 7 days (its 7 days less level 2's 0) from then
        self.assertEqual(
            level_candidates(ladder, (20, 2), False, due, disc, level_date=date(2026, 4, 20)),
            [(3, date(2026, 4, 27), False)],
        )
        # level 2 went on time: level 3 at its own date
        self.assertEqual(
            level_candidates(ladder, (20, 2), False, due, disc, level_date=date(2026, 3, 1)),
            [(3, date(2026, 3, 8), False)],
        )
        # after level 3 only level 5 remains, 23 days after level 3's message; a new instalment starts over
        self.assertEqual(
            level_candidates(ladder, (30, 3), False, due, disc, level_date=date(2026, 3, 20)),
            [(5, date(2026, 4, 12), False)],
        )
        self.assertEqual(len(level_candidates(ladder, (30, 3), True, due, disc)), 2)
        # no early discount on the invoice: the incentive level does not apply
        self.assertEqual([level for level, _day, _before in level_candidates(ladder, None, False, due, None)], [2])
        # a courtesy reminder sent: the escalation starts at its first level, with no gap from the courtesy one
        courtesy = [(30, 3, False, 7), (20, 2, False, 0), (10, 1, False, -3)]
        self.assertEqual(
            level_candidates(courtesy, (10, 1), False, due, None, level_date=date(2026, 2, 26)),
            [(2, date(2026, 3, 1), False)],
        )

    def test_next_reminder(self):
        ladder = [(30, 3, False, 7), (20, 2, False, 0), (10, 1, False, -3)]
        due = date(2026, 3, 1)
        candidates = level_candidates(ladder, None, False, due, None)
        self.assertEqual(next_reminder(candidates, date(2026, 2, 1), due), (1, date(2026, 2, 26)))
        self.assertEqual(next_reminder(candidates, date(2026, 2, 27), due), (1, date(2026, 2, 27)))
        # 45 days overdue, never reminded: the first level after the due date, today
        self.assertEqual(next_reminder(candidates, date(2026, 4, 15), due), (2, date(2026, 4, 15)))
        candidates = level_candidates(ladder, (20, 2), False, due, None, level_date=date(2026, 4, 15))
        self.assertEqual(next_reminder(candidates, date(2026, 4, 16), due), (3, date(2026, 4, 22)))
        self.assertIsNone(next_reminder(level_candidates(ladder, (30, 3), False, due, None), date(2026, 5, 1), due))

    def test_retry_backoff(self):
        self.assertEqual(retry_delay(1), timedelta(minutes=5))
        self.assertEqual(retry_delay(3), timedelta(minutes=20))
        self.assertIsNone(retry_delay(6))
