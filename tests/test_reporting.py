from datetime import date

from odoo.tests import HttpCase, new_test_user, tagged

from .common import PaymentReminderCommon


@tagged("post_install", "-at_install")
class TestReporting(PaymentReminderCommon):
    def test_paid_within_days_after_a_reminder(self):
        quick = self.create_invoice(due=date(2026, 3, 31), amount=100.0)
        slow = self.create_invoice(partner=self.customer.copy({"name": "Slow"}), due=date(2026, 3, 31))
        never = self.create_invoice(partner=self.customer.copy({"name": "Never"}), due=date(2026, 3, 31))
        self.run_at("2026-04-01 09:00")
        self.pay(quick, when=date(2026, 4, 3))
        self.pay(slow, when=date(2026, 4, 11))
        self.run_at("2026-04-06 09:00")
        quick_msg, slow_msg, never_msg = (self.messages_for(m)[0] for m in (quick, slow, never))
        self.assertEqual((quick_msg.paid_date, quick_msg.days_to_pay), (date(2026, 4, 3), 2.0))
        self.assertEqual((quick_msg.paid_3d_rate, quick_msg.paid_7d_rate, quick_msg.paid_14d_rate), (100, 100, 100))
        self.assertTrue(quick_msg.is_first_reminder)
        self.assertFalse(never_msg.paid_date)
        self.run_at("2026-04-20 09:00")
        self.assertEqual((slow_msg.days_to_pay, slow_msg.paid_7d_rate, slow_msg.paid_14d_rate), (10.0, 0.0, 100.0))
        self.assertEqual((never_msg.paid_3d_rate, never_msg.paid_14d_rate), (0.0, 0.0))
        # the pivot's averages are the rates
        self.env.flush_all()
        [(channel, paid_7d, paid_14d)] = self.Message._read_group(
            [("id", "in", (quick_msg | slow_msg | never_msg).ids)],
            ["channel"],
            ["paid_7d_rate:avg", "paid_14d_rate:avg"],
        )
        self.assertEqual(channel, "email")
        self.assertAlmostEqual(paid_7d, 100 / 3)
        self.assertAlmostEqual(paid_14d, 200 / 3)

    def test_unknown_until_known(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.run_at("2026-04-01 09:00")
        self.run_at("2026-04-03 09:00")
        message = self.messages_for(invoice)
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT paid_3d_rate, paid_7d_rate FROM account_payment_reminder_message WHERE id = %s", [message.id]
        )
        self.assertEqual(self.env.cr.fetchone(), (None, None), "not paid yet, but it might be: not a zero")
        self.run_at("2026-04-05 09:00")
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT paid_3d_rate, paid_7d_rate FROM account_payment_reminder_message WHERE id = %s", [message.id]
        )
        self.assertEqual(self.env.cr.fetchone(), (0.0, None))

    def test_delivery_and_failure_rates(self):
        ok = self.create_invoice(due=date(2026, 3, 31))
        bad = self.create_invoice(partner=self.customer.copy({"name": "Nomail", "email": False}), due=date(2026, 3, 31))
        self.run_at("2026-03-31 09:00")
        sent, failed = self.messages_for(ok), self.messages_for(bad)
        sent.sudo()._apply_status("read")
        self.assertEqual((sent.delivered_rate, sent.read_rate, sent.failed_rate), (100, 100, 0))
        self.assertEqual((failed.delivered_rate, failed.failed_rate), (0, 100))
        [(reason, count)] = self.Message._read_group([("id", "=", failed.id)], ["failure_code"], ["__count"])
        self.assertEqual((reason, count), ("no_recipient", 1))

    def test_receipts_a_channel_never_sends_are_not_reported_as_zero(self):
        """E-mail reports neither delivery nor reading, SMS no reading: their
        rates stay unknown ('not reported'), never 0 %, and leave the
        averages of the channels that report them alone."""
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.run_at("2026-03-31 09:00")
        email = self.messages_for(invoice)
        self.assertEqual((email.channel, email.state), ("email", "sent"))
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT delivered_rate, read_rate, failed_rate FROM account_payment_reminder_message WHERE id = %s",
            [email.id],
        )
        self.assertEqual(self.env.cr.fetchone(), (None, None, 0.0))
        [(delivered, read)] = self.Message._read_group(
            [("id", "=", email.id)], [], ["delivered_rate:avg", "read_rate:avg"]
        )
        self.assertFalse(delivered or read, "no figure, where a 0 % would claim that nothing arrived")
        sms = email.sudo().copy({"channel": "sms", "state": "delivered", "idempotency_key": "rates:sms"})
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT delivered_rate, read_rate FROM account_payment_reminder_message WHERE id = %s", [sms.id]
        )
        self.assertEqual(self.env.cr.fetchone(), (100.0, None))
        email.sudo()._apply_status("read")  # a receipt after all: it counts
        self.assertEqual((email.delivered_rate, email.read_rate, email.failed_rate), (100, 100, 0))
        # the failure rate rests on every message out, not on the failed ones only
        failed = email.sudo().copy({"state": "failed", "idempotency_key": "rates:failed"})
        [(failed_rate,)] = self.Message._read_group([("id", "in", (email | sms | failed).ids)], [], ["failed_rate:avg"])
        self.assertAlmostEqual(failed_rate, 100 / 3, places=2)

    def test_dashboard(self):
        self.policy.catch_up = True  # two levels on the aging chart at once: each invoice at the level of its age
        self.create_invoice(due=date(2026, 3, 1), amount=300.0)
        self.create_invoice(due=date(2026, 3, 20), amount=200.0)
        self.run_at("2026-04-01 09:00")
        self.customer.copy({"name": "Held", "is_company": True, "payment_reminder_hold_until": date(2026, 5, 1)})
        with self.frozen("2026-04-02 09:00"):
            overview = self.env["account.payment.reminder.dashboard"].get_overview()
        figures = {figure["key"]: figure for figure in overview["headline"]}
        self.assertEqual(figures["overdue"]["amount"], 500.0)
        levels = [serie["label"] for serie in overview["aging"]["series"]]
        self.assertIn("Final notice", levels)
        self.assertIn("Overdue", levels)
        self.assertEqual(figures["customers_on_hold"]["count"], 1)
        self.assertEqual(figures["messages_week"]["count"], 1, "one message for the customer, at the most urgent level")
        self.assertEqual(self.env["account.move"].search_count(figures["overdue"]["action"]["domain"]), 2)


@tagged("post_install", "-at_install")
class TestReportingGraph(PaymentReminderCommon, HttpCase):
    def test_the_messages_graph_counts_in_whole_messages(self):
        """Two messages: the value axis reads 0, 1, 2, never 0.5 of a message."""
        accountant = new_test_user(
            self.env,
            login="reporting_graph_tour",
            password="reporting_graph_tour",
            groups="account.group_account_invoice,base.group_user",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        other = self.customer.copy({"name": "Gemini Furniture", "email": "ap@gemini.example"})
        self.create_invoice(due=date(2026, 3, 31))
        self.create_invoice(partner=other, due=date(2026, 3, 31))
        self.run_at("2026-03-31 09:00")
        self.assertEqual(self.Message.search_count([("company_id", "=", self.company.id)]), 2)
        view = self.env.ref("account_payment_reminder.account_payment_reminder_message_view_graph")
        self.assertIn('js_class="account_payment_reminder_count_graph"', view.arch)
        self.start_tour(
            "/odoo/action-account_payment_reminder.account_payment_reminder_message_analysis_action?view_type=graph",
            "account_payment_reminder_reporting_graph_tour",
            login=accountant.login,
        )
