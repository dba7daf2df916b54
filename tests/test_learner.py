"""The right hour and the right channel, learnt from planted histories."""

from datetime import date, datetime, timedelta

from odoo.tests import BaseCase, new_test_user, tagged

from ..tools.learner import (
    Signal,
    ab_arm,
    clamp_hour,
    learn,
    learn_channels,
    learn_hour,
    learnt_send_time,
)
from .common import ChannelCommon, PaymentReminderCommon

EVERY_DAY = {0, 1, 2, 3, 4, 5, 6}
WEEKDAYS = {0, 1, 2, 3, 4}


def read_at_utc(days, sent_hour, read_hour, channel="whatsapp", tz="Asia/Jakarta", offset=7):
    """Signals of messages sent and read at these local hours in a UTC+``offset`` zone, one a day."""
    return [
        Signal(
            channel,
            datetime(2026, 3, day, sent_hour - offset),
            datetime(2026, 3, day, read_hour - offset) if read_hour is not None else None,
            tz,
            read=True,
        )
        for day in days
    ]


@tagged("post_install", "-at_install")
class TestLearnerRules(BaseCase):
    """tools/learner.py on plain rows."""

    def test_the_hour_is_found_in_the_customers_own_time_zone(self):
        # read at 19:00 in Jakarta (12:00 UTC), newest first
        signals = read_at_utc(range(6, 1, -1), 9, 19)
        hour = learn_hour(signals)
        self.assertEqual((hour.hour, hour.hits, hour.out_of), (19.0, 5, 5))
        self.assertEqual((hour.span_from, hour.span_to), (19.0, 19.5))
        self.assertTrue(hour.all_read)
        # the same moments read in New York (UTC-5 before 8 March) are another hour: the customer's zone matters
        self.assertEqual(learn_hour([s._replace(tz="America/New_York") for s in signals]).hour, 7.0)

    def test_a_span_of_reads_and_one_stray(self):
        signals = [
            Signal("whatsapp", datetime(2026, 3, 2, 1), datetime(2026, 3, 2, 11, 40), "Asia/Jakarta", True),
            Signal("whatsapp", datetime(2026, 3, 3, 1), datetime(2026, 3, 3, 12, 10), "Asia/Jakarta", True),
            Signal("whatsapp", datetime(2026, 3, 4, 1), datetime(2026, 3, 4, 12, 55), "Asia/Jakarta", True),
            Signal("email", datetime(2026, 3, 5, 1), datetime(2026, 3, 5, 12, 20), "Asia/Jakarta", False),
            Signal("whatsapp", datetime(2026, 3, 6, 1), datetime(2026, 3, 6, 3, 0), "Asia/Jakarta", True),
        ]
        hour = learn_hour(signals)
        # 18:40, 19:10, 19:20 (answered), 19:55 local; the 10:00 one is a stray: sent from 18:30 on
        self.assertEqual((hour.hour, hour.hits, hour.out_of), (18.5, 4, 5))
        self.assertEqual((hour.span_from, hour.span_to), (18.5, 20.0))
        self.assertFalse(hour.all_read)

    def test_too_little_or_scattered_history_says_nothing(self):
        self.assertIsNone(learn_hour(read_at_utc([2, 3], 9, 19)), "two messages only")
        self.assertIsNone(learn_hour(read_at_utc([2, 3, 4], 9, None)), "never seen")
        scattered = [
            Signal("sms", datetime(2026, 3, day, 1), datetime(2026, 3, day, hour), "UTC")
            for day, hour in ((2, 2), (3, 6), (4, 10), (5, 14), (6, 18))
        ]
        self.assertIsNone(learn_hour(scattered), "seen at no one time of the day")
        # a signal days after the message is not the message's
        late = [s._replace(seen_at=s.sent_at + timedelta(days=4)) for s in read_at_utc([2, 3, 4, 5], 9, 19)]
        self.assertIsNone(learn_hour(late))

    def test_the_channel_that_is_read_goes_first_and_never_opened_last(self):
        whatsapp = read_at_utc([2, 3, 4], 9, 9)  # read within the hour
        email = read_at_utc([5, 6, 7], 9, None, channel="email")
        choice = learn_channels(whatsapp + email, ["email", "sms", "whatsapp"])
        self.assertEqual(choice.order, ["whatsapp", "sms", "email"], "e-mail never opened: last; SMS untried")
        self.assertEqual(choice.stats["whatsapp"][1:], (3, 3, 3))
        self.assertEqual(choice.stats["email"][1:], (3, 0, 0))
        # e-mail answered a day later beats WhatsApp never opened
        answered = [s._replace(seen_at=s.sent_at + timedelta(hours=20)) for s in email]
        never = [s._replace(seen_at=None) for s in whatsapp]
        self.assertEqual(learn_channels(never + answered, ["whatsapp", "email"]).order, ["email", "whatsapp"])
        self.assertIsNone(learn_channels(whatsapp[:2] + email, ["whatsapp", "email"]), "two seen only")

    def test_the_hour_is_clamped_into_the_send_window(self):
        self.assertEqual(clamp_hour(19.0, 8.0, 21.0), 19.0)
        self.assertEqual(clamp_hour(19.0, 8.0, 17.0), 16.5, "after the window: its last half hour")
        self.assertEqual(clamp_hour(6.0, 8.0, 17.0), 8.0, "before it: its opening")
        self.assertEqual(clamp_hour(3.0, 20.0, 2.0), 1.5, "over midnight: nearer the close")
        self.assertEqual(clamp_hour(15.0, 20.0, 2.0), 20.0, "over midnight: nearer the opening")

    def test_learnt_send_time(self):
        monday_9_jakarta = datetime(2026, 3, 2, 2, 0)
        self.assertEqual(
            learnt_send_time(monday_9_jakarta, "Asia/Jakarta", 19.0, 8.0, 21.0, EVERY_DAY), datetime(2026, 3, 2, 12)
        )
        self.assertEqual(
            learnt_send_time(monday_9_jakarta, "Asia/Jakarta", 19.0, 8.0, 17.0, EVERY_DAY),
            datetime(2026, 3, 2, 9, 30),
            "16:30 in Jakarta",
        )
        # decided at 19:20: it goes now; at 20:30, tomorrow at 19:00; on Friday evening, on Monday
        self.assertEqual(
            learnt_send_time(datetime(2026, 3, 2, 12, 20), "Asia/Jakarta", 19.0, 8.0, 21.0, EVERY_DAY),
            datetime(2026, 3, 2, 12, 20),
        )
        self.assertEqual(
            learnt_send_time(datetime(2026, 3, 2, 13, 30), "Asia/Jakarta", 19.0, 8.0, 21.0, EVERY_DAY),
            datetime(2026, 3, 3, 12),
        )
        self.assertEqual(
            learnt_send_time(datetime(2026, 3, 6, 13, 30), "Asia/Jakarta", 19.0, 8.0, 21.0, WEEKDAYS),
            datetime(2026, 3, 9, 12),
        )
        self.assertIsNone(learnt_send_time(monday_9_jakarta, "Asia/Jakarta", 19.0, 8.0, 21.0, set()))

    def test_ab_split_is_stable_and_about_half(self):
        arms = [ab_arm(7, partner_id) for partner_id in range(1000, 1200)]
        self.assertEqual(arms, [ab_arm(7, partner_id) for partner_id in range(1000, 1200)], "stable")
        self.assertTrue(80 <= arms.count("learnt") <= 120, arms.count("learnt"))
        other = [ab_arm(8, partner_id) for partner_id in range(1000, 1200)]
        self.assertNotEqual(arms, other, "each policy draws its own halves")

    def test_learn_reads_the_last_messages_of_each_customer_and_company(self):
        rows = [(1, 10, s.channel, s.sent_at, s.seen_at, s.tz, s.read) for s in read_at_utc(range(20, 1, -1), 9, 19)]
        rows += [(2, 10, "sms", datetime(2026, 3, 2, 1), datetime(2026, 3, 2, 2), "UTC", False)]
        learnt = learn(rows)
        self.assertEqual(len(learnt[1, 10].signals), 10, "the last ten only")
        self.assertEqual(learnt[1, 10].hour.hour, 19.0)
        self.assertIsNone(learnt[2, 10].hour, "another company's history is its own")


class LearnerCommon(PaymentReminderCommon):
    @classmethod
    def plant(cls, partner, channel, days, sent_hour, seen_hour, how="read", company=None, tz="Asia/Jakarta"):
        """Messages that went to ``partner`` on these days of March 2026 at
        ``sent_hour`` UTC, each seen at ``seen_hour`` UTC (None: never) by a
        read receipt, a reply on the page it led to, or a click on its link."""
        # sudo: the history is written by code only (the scheduler, the webhooks); planted here as they write it
        messages = cls.env["account.payment.reminder.message"].sudo()
        company = company or cls.company
        for day in days:
            sent = datetime(2026, 3, day, sent_hour)
            seen = seen_hour is not None and datetime(2026, 3, day, seen_hour)
            message = messages.create(
                {
                    "company_id": company.id,
                    "partner_id": partner.id,
                    "channel": channel,
                    "state": "read" if seen and how == "read" else "sent",
                    "idempotency_key": f"planted:{partner.id}:{channel}:{day}:{sent_hour}:{company.id}",
                    "tz": tz,
                    "queued_at": sent,
                    "sent_at": sent,
                    "read_at": seen if how == "read" else False,
                }
            )
            messages |= message
            if seen and how == "reply":
                # sudo: responses are written by the customer's page, as the public user with sudo
                response = (
                    cls.env["account.payment.reminder.response"]
                    .sudo()
                    .create(
                        {
                            "kind": "reply",
                            "partner_id": partner.id,
                            "company_id": message.company_id.id,
                            "message_id": message.id,
                            "note": "I pay tomorrow",
                        }
                    )
                )
                response.flush_recordset()
                cls.env.cr.execute(
                    "UPDATE account_payment_reminder_response SET create_date = %s WHERE id = %s", [seen, response.id]
                )
            elif seen and how == "click":
                tracker = cls.env["link.tracker"].create(
                    {"url": f"https://example.com/pay/{message.id}", "title": "Pay"}
                )
                message.payment_link = tracker.short_url
                click = cls.env["link.tracker.click"].create({"link_id": tracker.id})
                click.flush_recordset()
                cls.env.cr.execute("UPDATE link_tracker_click SET create_date = %s WHERE id = %s", [seen, click.id])
        messages.flush_recordset()
        return messages.sudo(False)


@tagged("post_install", "-at_install")
class TestLearner(LearnerCommon):
    """The scheduler sends at the learnt hour, in the customer's time zone."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.policy.write({"window_start": 8.0, "window_end": 21.0})
        cls.jakarta = cls.env["res.partner"].create(
            {"name": "Toko Jakarta", "email": "ap@toko.example", "tz": "Asia/Jakarta", "lang": "en_US"}
        )
        # sent at 09:00 in Jakarta, read or answered at 19:00 there (12:00 UTC): by WhatsApp receipts, a reply
        # on the page, a click on the link
        cls.plant(cls.jakarta, "whatsapp", [2, 3, 4], 2, 12)
        cls.plant(cls.jakarta, "email", [5], 2, 12, how="reply")
        cls.plant(cls.jakarta, "sms", [6], 2, 12, how="click")
        cls.newcomer = cls.env["res.partner"].create(
            {"name": "Two Messages Ltd", "email": "ap@two.example", "tz": "Asia/Jakarta", "lang": "en_US"}
        )
        cls.plant(cls.newcomer, "whatsapp", [2, 3], 2, 12)

    def test_a_customer_who_reads_at_19_gets_its_reminder_at_19_its_time(self):
        invoice = self.create_invoice(self.jakarta, due=date(2026, 3, 31))
        self.run_at("2026-03-31 02:00")  # 09:00 in Jakarta
        message = self.messages_for(invoice)
        self.assertEqual(message.state, "queued", "it waits for the customer's hour")
        self.assertEqual(message.next_attempt_at, datetime(2026, 3, 31, 12, 0), "19:00 in Jakarta")
        self.assertTrue(message.timing_learnt)
        self.assertEqual(message.timing_arm, "learnt")
        self.assertEqual(
            message.timing_reason,
            "sent at 19:00: read or answered 5 of the last 5 messages between 19:00 and 19:30",
        )
        self.assertEqual(invoice.payment_reminder_level_id, self.level_due, "the ladder moved when it was queued")
        self.run_at("2026-03-31 11:00")
        self.assertEqual(message.state, "queued")
        self.run_at("2026-03-31 12:00")
        self.assertEqual(message.state, "sent")
        self.assertEqual(message.sent_at, datetime(2026, 3, 31, 12, 0))

    def test_the_learnt_hour_is_clamped_into_the_send_window(self):
        self.policy.window_end = 17.0
        invoice = self.create_invoice(self.jakarta, due=date(2026, 3, 31))
        self.run_at("2026-03-31 02:00")
        message = self.messages_for(invoice)
        self.assertEqual(message.next_attempt_at, datetime(2026, 3, 31, 9, 30), "16:30 in Jakarta")
        self.assertIn("sent at 16:30", message.timing_reason)

    def test_paid_while_it_waits_for_the_hour_it_does_not_go(self):
        invoice = self.create_invoice(self.jakarta, due=date(2026, 3, 31))
        self.run_at("2026-03-31 02:00")
        message = self.messages_for(invoice)
        self.pay(invoice, when=date(2026, 3, 31))
        self.run_at("2026-03-31 12:00")
        self.assertEqual((message.state, message.failure_code), ("cancelled", "no_longer_owed"))

    def test_two_messages_only_fall_back_to_the_policy(self):
        invoice = self.create_invoice(self.newcomer, due=date(2026, 3, 31))
        self.run_at("2026-03-31 02:00")
        message = self.messages_for(invoice)
        self.assertEqual(message.state, "sent", "at once, as the policy's window says")
        self.assertFalse(message.timing_learnt)
        self.assertEqual(message.timing_reason, "the policy's hours: 2 of the last 2 messages seen, 3 needed to learn")

    def test_learning_off_keeps_the_defaults(self):
        self.policy.learn_timing = False
        invoice = self.create_invoice(self.jakarta, due=date(2026, 3, 31))
        self.run_at("2026-03-31 02:00")
        message = self.messages_for(invoice)
        self.assertEqual(message.state, "sent")
        self.assertFalse(message.timing_arm)
        self.assertFalse(message.timing_reason)

    def test_the_dry_run_says_when_and_why(self):
        self.create_invoice(self.jakarta, due=date(2026, 3, 31))
        with self.frozen("2026-03-31 02:00"):
            wizard = self.env["account.payment.reminder.dry.run"].create({})
            wizard.action_refresh()
        line = wizard.line_ids.filtered(lambda line: line.partner_id == self.jakarta)
        self.assertEqual(line.send_at, datetime(2026, 3, 31, 12, 0))
        self.assertIn("sent at 19:00: read or answered 5 of the last 5 messages", line.timing_reason)
        self.assertFalse(self.Message.search([("partner_id", "=", self.jakarta.id), ("state", "=", "queued")]))

    def test_ab_test_halves_and_effectiveness_by_arm(self):
        self.policy.learn_ab_test = True
        customers = self.env["res.partner"].create(
            [{"name": f"A/B {i}", "email": f"ab{i}@example.com", "tz": "Asia/Jakarta"} for i in range(12)]
        )
        by_arm = {}
        for customer in customers:
            by_arm.setdefault(self._arm(customer), customer)
        learnt, default = by_arm["learnt"], by_arm["default"]
        for customer in (learnt, default):
            self.plant(customer, "whatsapp", [2, 3, 4, 5], 2, 12)
        paid = self.create_invoice(learnt, due=date(2026, 3, 31))
        unpaid = self.create_invoice(default, due=date(2026, 3, 31))
        self.run_at("2026-03-31 02:00")
        on_learnt, on_default = self.messages_for(paid), self.messages_for(unpaid)
        self.assertEqual((on_learnt.timing_arm, on_learnt.state), ("learnt", "queued"))
        self.assertEqual((on_default.timing_arm, on_default.state), ("default", "sent"), "the defaults: at once")
        self.assertIn("A/B test", on_default.timing_reason)
        self.run_at("2026-03-31 12:00")
        self.assertEqual(on_learnt.state, "sent")
        self.pay(paid, when=date(2026, 4, 2))
        with self.frozen("2026-04-10 09:00"):
            self.Message._cron_update_effectiveness()
        groups = self.Message.read_group(
            [("id", "in", (on_learnt | on_default).ids)], ["paid_7d_rate:avg"], ["timing_arm"]
        )
        self.assertEqual({g["timing_arm"]: g["paid_7d_rate"] for g in groups}, {"learnt": 100.0, "default": 0.0})
        action = self.env.ref("account_payment_reminder.account_payment_reminder_message_ab_test_action")
        self.assertIn("timing_arm", action.context)

    def _arm(self, customer):
        return ab_arm(self.policy.id, customer.id)

    def test_another_company_learns_nothing_from_this_one(self):
        company_b = self.setup_other_company(name="Company B")["company"]
        policy_b = self._create_policy(company_b, window_start=8.0, window_end=21.0)
        company_b.payment_reminder_policy_id = policy_b
        invoice_b = self.create_invoice(self.jakarta, due=date(2026, 3, 31), company=company_b)
        self.run_at("2026-03-31 02:00")
        message_b = self.messages_for(invoice_b)
        self.assertEqual(message_b.state, "sent", "company B has no history of this customer")
        self.assertEqual(message_b.timing_reason, "the policy's hours: no earlier message to learn from")
        user_b = new_test_user(
            self.env,
            login="accountant_b",
            groups="account.group_account_invoice",
            company_id=company_b.id,
            company_ids=[company_b.id],
        )
        seen_by_b = self.Message.with_user(user_b).search([("partner_id", "=", self.jakarta.id)])
        self.assertEqual(seen_by_b, message_b, "company A's history stays company A's")
        self.assertEqual(seen_by_b.timing_reason, "the policy's hours: no earlier message to learn from")


@tagged("post_install", "-at_install")
class TestLearnerChannels(LearnerCommon, ChannelCommon):
    """The level's channels in the order that worked for each customer."""

    def test_whatsapp_reader_who_never_opens_email(self):
        self.plant(self.customer, "whatsapp", [2, 3, 4], 8, 8, tz="Europe/Brussels")
        self.plant(self.customer, "email", [5, 6, 7], 8, None, tz="Europe/Brussels")
        self.create_invoice(due=date(2026, 3, 31))
        stats = self.run_at("2026-03-31 06:00", send=False)
        (group,) = [g for g in stats["groups"] if g.partner == self.customer and not g.skip_reason]
        self.assertEqual(group.planned[0][0], "whatsapp")
        with self.frozen("2026-03-31 06:00"):
            wizard = self.env["account.payment.reminder.dry.run"].create({})
            wizard.action_refresh()
        line = wizard.line_ids.filtered(lambda line: line.partner_id == self.customer)
        self.assertIn("WhatsApp first: read within the hour 3 times out of 3; e-mail never opened", line.timing_reason)

    def test_email_reader_who_never_opens_whatsapp(self):
        self.plant(self.customer, "whatsapp", [2, 3, 4], 8, None, tz="Europe/Brussels")
        self.plant(self.customer, "email", [5, 6, 7], 8, 15, how="reply", tz="Europe/Brussels")
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.run_at("2026-03-31 06:00")
        message = self.messages_for(invoice)
        self.assertEqual(message.channel, "email", "WhatsApp comes first on the level, but is never opened")
        self.assertIn("e-mail first: read or answered 3 times out of 3; WhatsApp never opened", message.timing_reason)
