from datetime import date, datetime

from odoo import Command
from odoo.tests import tagged

from .common import PaymentReminderCommon


@tagged("post_install", "-at_install")
class TestScheduledRun(PaymentReminderCommon):
    """What the hourly scheduler sends, and what it refrains from sending."""

    def test_courtesy_reminder_before_due_date(self):
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=1234.5)
        self.run_at("2026-03-27 10:00")
        self.assertFalse(self.messages_for(invoice), "4 days before the due date is too early")

        self.run_at("2026-03-28 10:00")
        message = self.messages_for(invoice)
        self.assertEqual(len(message), 1)
        self.assertEqual(message.level_id, self.level_courtesy)
        self.assertEqual(message.channel, "email")
        self.assertEqual(message.state, "sent")
        self.assertEqual(message.recipient, "ap@azure.example")
        self.assertEqual(message.partner_id, self.customer)
        self.assertEqual(invoice.payment_reminder_level_id, self.level_courtesy)
        self.assertEqual(invoice.payment_reminder_last_date, datetime(2026, 3, 28, 10, 0))
        # the e-mail names the invoice, the amount in its currency, the due date and an absolute pay link
        self.assertIn(invoice.name, message.subject)
        self.assertIn(invoice.name, message.body_html)
        self.assertIn("1,234.50", message.body_html)
        self.assertIn("03/31/2026", message.body_html)
        # the link opens the customer's reminder page (tests/test_portal.py)
        page = self.env["account.payment.reminder.access"].search([("partner_id", "=", self.customer.id)])
        self.assertTrue(page.url.startswith(f"{invoice.get_base_url()}/reminder/"))
        self.assertIn(page.url, message.body_html)
        self.assertIn("Azure Interior", message.body_html)
        # Odoo's mail queue got exactly that e-mail
        self.assertEqual(message.mail_id.email_to, "ap@azure.example")
        self.assertEqual(message.mail_id.subject, message.subject)
        self.assertEqual(message.mail_id.state, "sent")
        # and the invoice's chatter shows it
        note = invoice.message_ids.filtered(lambda m: "Payment reminder sent" in (m.body or ""))
        self.assertEqual(len(note), 1)
        self.assertIn("ap@azure.example", note.body)

    def test_ladder_advances_level_by_level(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        expected = {
            "2026-03-28 09:00": self.level_courtesy,
            "2026-03-31 09:00": self.level_due,
            "2026-04-07 09:00": self.level_overdue,
            "2026-04-14 09:00": self.level_followup,
            "2026-04-30 09:00": self.level_final,
        }
        quiet = ["2026-03-29 09:00", "2026-04-01 09:00", "2026-04-10 09:00", "2026-04-20 09:00", "2026-05-30 09:00"]
        for moment in sorted(list(expected) + quiet):
            before = len(self.messages_for(invoice))
            self.run_at(moment)
            messages = self.messages_for(invoice)
            if moment in expected:
                self.assertEqual(len(messages), before + 1, moment)
                self.assertEqual(messages[-1].level_id, expected[moment], moment)
                self.assertEqual(invoice.payment_reminder_level_id, expected[moment], moment)
            else:
                self.assertEqual(len(messages), before, f"nothing new on {moment}")
        self.assertEqual(messages.level_id, self.policy.level_ids)
        self.assertEqual(set(messages.mapped("state")), {"sent"})

    def test_late_discovery_starts_at_the_first_level_after_the_due_date(self):
        invoice = self.create_invoice(due=date(2026, 3, 1))
        self.run_at("2026-03-20 09:00")
        self.assertEqual(self.messages_for(invoice).level_id, self.level_due, "not the level of its age")
        self.run_at("2026-03-21 09:00")
        self.assertEqual(len(self.messages_for(invoice)), 1, "the next level waits for its gap")

    def test_next_reminder_shown_on_invoice(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        with self.frozen("2026-03-20 09:00"):
            invoice.invalidate_recordset(["payment_reminder_next_date"])
            self.assertEqual(invoice.payment_reminder_next_level_id, self.level_courtesy)
            self.assertEqual(invoice.payment_reminder_next_date, date(2026, 3, 28))
        self.run_at("2026-03-28 09:00")
        with self.frozen("2026-03-28 10:00"):
            invoice.invalidate_recordset(["payment_reminder_next_date", "payment_reminder_next_level_id"])
            self.assertEqual(invoice.payment_reminder_next_level_id, self.level_due)
            self.assertEqual(invoice.payment_reminder_next_date, date(2026, 3, 31))

    def test_final_notice_schedules_a_call(self):
        self.level_final.activity_type_id = self.env.ref("mail.mail_activity_data_call")
        self.policy.catch_up = True  # straight to the final notice: the level of the invoice's age
        invoice = self.create_invoice(due=date(2026, 3, 1))
        self.run_at("2026-04-01 09:00")
        self.assertEqual(self.messages_for(invoice).level_id, self.level_final)
        activity = invoice.activity_ids
        self.assertEqual(activity.activity_type_id, self.env.ref("mail.mail_activity_data_call"))
        self.assertIn("Azure Interior", activity.summary)

    def test_payment_stops_reminders(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.run_at("2026-03-28 09:00")
        self.pay(invoice, when=date(2026, 3, 30))
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        for moment in ("2026-03-31 09:00", "2026-04-07 09:00", "2026-05-07 09:00"):
            self.run_at(moment)
        self.assertEqual(len(self.messages_for(invoice)), 1)

    def test_partial_payment_asks_for_the_rest(self):
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=1000.0)
        self.pay(invoice, amount=400.0, when=date(2026, 4, 2))
        self.assertEqual(invoice.payment_state, "partial")
        self.run_at("2026-04-07 09:00")
        message = self.messages_for(invoice)
        self.assertEqual(message.level_id, self.level_due, "its first level after the due date")
        self.assertIn("600.00", message.body_html)
        self.assertNotIn("1,000.00", message.body_html)
        self.assertAlmostEqual(message.amount_due, 600.0)

    def test_hold_until_a_date_and_exclusion(self):
        held = self.create_invoice(due=date(2026, 3, 31))
        held.write({"payment_reminder_hold_until": date(2026, 4, 10), "payment_reminder_hold_reason": "Disputed"})
        excluded_customer = self.customer.copy({"name": "Excluded Ltd", "payment_reminder_exclude": True})
        excluded = self.create_invoice(partner=excluded_customer, due=date(2026, 3, 31))
        held_customer = self.customer.copy({"name": "Held Ltd", "payment_reminder_hold_until": date(2026, 4, 10)})
        held_by_customer = self.create_invoice(partner=held_customer, due=date(2026, 3, 31))
        self.run_at("2026-04-07 09:00")
        self.assertFalse(self.messages_for(held | excluded | held_by_customer))
        self.run_at("2026-04-11 09:00")
        self.assertEqual(self.messages_for(held).level_id, self.level_due, "the first level: none was sent")
        self.assertEqual(self.messages_for(held_by_customer).level_id, self.level_due)
        self.assertFalse(self.messages_for(excluded))

    def test_excluded_invoice(self):
        invoice = self.create_invoice(due=date(2026, 3, 31), payment_reminder_exclude=True)
        self.run_at("2026-04-07 09:00")
        self.assertFalse(self.messages_for(invoice))

    def test_minimum_interval_between_reminders(self):
        self.policy.min_interval_days = 5
        first = self.create_invoice(due=date(2026, 3, 31))
        second = self.create_invoice(due=date(2026, 4, 1))
        self.run_at("2026-03-28 09:00")
        self.assertEqual(self.messages_for(first).level_id, self.level_courtesy)
        self.run_at("2026-03-29 09:00")
        self.assertFalse(self.messages_for(second), "the customer heard from us yesterday")
        self.run_at("2026-04-02 08:59")
        self.assertFalse(self.messages_for(second), "five days have not passed yet")
        self.run_at("2026-04-02 09:00")
        # both invoices now reached the due-date level: one message covers both
        message = self.messages_for(second)
        self.assertEqual(message.level_id, self.level_due)
        self.assertEqual(message.move_ids, first | second)

    def test_one_message_per_customer_and_level(self):
        first = self.create_invoice(due=date(2026, 3, 31), amount=100.0)
        second = self.create_invoice(due=date(2026, 3, 31), amount=250.0)
        older = self.create_invoice(due=date(2026, 3, 22), amount=80.0)
        self.run_at("2026-03-31 09:00")
        message = self.messages_for(first)
        self.assertEqual(len(message), 1, "one message for the customer, whatever the levels reached")
        self.assertEqual(message.move_ids, first | second | older)
        self.assertEqual(message.level_id, self.level_due, "each invoice at its first level after the due date")
        self.assertIn("430.00", message.body_html, "the total of the three invoices")
        self.assertEqual(self.messages_for(older), message)

    def test_one_message_per_invoice_when_the_policy_says_so(self):
        self.policy.grouping = "invoice"
        first = self.create_invoice(due=date(2026, 3, 31))
        second = self.create_invoice(due=date(2026, 3, 31))
        self.run_at("2026-03-31 09:00")
        self.assertEqual(len(self.messages_for(first)), 1)
        self.assertEqual(len(self.messages_for(second)), 1)
        self.assertNotEqual(self.messages_for(first), self.messages_for(second))

    def test_small_amounts_are_left_alone(self):
        self.policy.min_amount = 50.0
        small = self.create_invoice(due=date(2026, 3, 31), amount=30.0)
        self.run_at("2026-03-31 09:00")
        self.assertFalse(self.messages_for(small))
        other = self.create_invoice(due=date(2026, 3, 31), amount=30.0)
        self.run_at("2026-04-01 09:00")
        self.assertEqual(self.messages_for(small).move_ids, small | other, "together they are worth chasing")

    def test_same_send_window_in_two_time_zones(self):
        self.policy.write({"window_start": 9.0, "window_end": 17.0, "window_sat": False, "window_sun": False})
        singapore = self.customer.copy({"name": "Lion Pte", "tz": "Asia/Singapore", "email": "ap@lion.example"})
        new_york = self.customer.copy({"name": "Empire Inc", "tz": "America/New_York", "email": "ap@empire.example"})
        invoice_sg = self.create_invoice(partner=singapore, due=date(2026, 2, 20))
        invoice_ny = self.create_invoice(partner=new_york, due=date(2026, 2, 20))
        cron = self.env.ref("account_payment_reminder.ir_cron_send_reminders")
        # Monday 02:00 UTC: 10:00 in Singapore, Sunday 21:00 in New York
        self.run_at("2026-03-02 02:00")
        self.assertEqual(self.messages_for(invoice_sg).level_id, self.level_due)
        self.assertFalse(self.messages_for(invoice_ny), "not on a Sunday night")
        trigger = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)], order="call_at")
        self.assertIn(datetime(2026, 3, 2, 14, 0), trigger.mapped("call_at"), "woken up at 09:00 New York time")
        # 14:00 UTC: 22:00 in Singapore, 09:00 in New York
        self.run_at("2026-03-02 14:00")
        self.assertEqual(self.messages_for(invoice_ny).level_id, self.level_due)
        self.assertEqual(len(self.messages_for(invoice_sg)), 1)
        self.assertEqual(self.messages_for(invoice_ny).tz, "America/New_York")

    def test_customer_without_email_fails_with_reason_and_run_goes_on(self):
        no_email = self.customer.copy({"name": "Silent SA", "email": False})
        bad_email = self.customer.copy({"name": "Typo SA", "email": "not an address"})
        invoice_none = self.create_invoice(partner=no_email, due=date(2026, 3, 31))
        invoice_bad = self.create_invoice(partner=bad_email, due=date(2026, 3, 31))
        invoice_ok = self.create_invoice(due=date(2026, 3, 31))
        self.run_at("2026-03-31 09:00")
        failed = self.messages_for(invoice_none)
        self.assertEqual(failed.state, "failed")
        self.assertIn("Silent SA", failed.failure_reason)
        self.assertIn("no e-mail address", failed.failure_reason)
        self.assertIn("invalid e-mail address", self.messages_for(invoice_bad).failure_reason)
        self.assertEqual(self.messages_for(invoice_ok).state, "sent")
        note = invoice_none.message_ids.filtered(lambda m: "Payment reminder failed" in (m.body or ""))
        self.assertTrue(note, "the failure is visible in the invoice's chatter")
        # the level counts as attempted: no new failure every hour
        self.run_at("2026-03-31 10:00")
        self.assertEqual(len(self.messages_for(invoice_none)), 1)

    def test_invoice_contact_receives_the_reminder(self):
        accounting = self.env["res.partner"].create(
            {"name": "Azure accounts", "type": "invoice", "parent_id": self.customer.id, "email": "pay@azure.example"}
        )
        invoice = self.create_invoice(partner=accounting, due=date(2026, 3, 31))
        self.run_at("2026-03-31 09:00")
        message = self.messages_for(invoice)
        self.assertEqual(message.partner_id, self.customer, "history is kept per commercial customer")
        self.assertEqual(message.recipient, "pay@azure.example")

    def test_early_payment_discount_incentive(self):
        term = self.env["account.payment.term"].create(
            {
                "name": "2/10 net 30",
                "early_discount": True,
                "discount_percentage": 2.0,
                "discount_days": 10,
                "line_ids": [Command.create({"value": "percent", "value_amount": 100.0, "nb_days": 30})],
            }
        )
        self.env["account.payment.reminder.level"].create(
            {
                "policy_id": self.policy.id,
                "name": "Early payment incentive",
                "sequence": 5,
                "trigger": "early_discount",
                "offset_days": -2,
                "use_email": True,
                "mail_template_id": self.env.ref("account_payment_reminder.mail_template_early_discount").id,
            }
        )
        invoice = self.create_invoice(amount=1000.0, due=date(2026, 3, 31))
        discounted = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "invoice_date": date(2026, 3, 1),
                "invoice_payment_term_id": term.id,
                "invoice_line_ids": [
                    Command.create({"name": "Goods", "quantity": 1, "price_unit": 1000.0, "tax_ids": []})
                ],
            }
        )
        discounted.action_post()
        self.assertEqual(discounted.invoice_date_due, date(2026, 3, 31))
        self.run_at("2026-03-09 09:00")
        message = self.messages_for(discounted)
        self.assertEqual(message.level_id.trigger, "early_discount")
        self.assertIn("980.00", message.body_html)
        self.assertIn("03/11/2026", message.body_html)
        self.assertFalse(self.messages_for(invoice), "no discount on that one: no incentive")
        # the ladder goes on after the incentive
        self.run_at("2026-03-28 09:00")
        self.assertEqual(self.messages_for(discounted)[-1].level_id, self.level_courtesy)

    def test_invoice_in_foreign_currency(self):
        eur = self.setup_other_currency("EUR", rounding=0.01)
        self.customer.lang = "en_US"
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=500.0, currency=eur)
        self.run_at("2026-03-31 09:00")
        message = self.messages_for(invoice)
        self.assertIn("500.00", message.body_html)
        self.assertIn("€", message.body_html)

    def test_customer_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.customer.lang = "fr_FR"
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=1234.5)
        self.run_at("2026-03-31 09:00")
        message = self.messages_for(invoice)
        self.assertEqual(message.lang, "fr_FR")
        self.assertIn("1\xa0234,50", message.body_html, "amounts formatted the French way")
        self.assertIn("31/03/2026", message.body_html, "and dates too")
