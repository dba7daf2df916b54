"""The ladder follows what was actually sent: a debt found late starts at the
first level after its due date, each next level waits for its gap since the
previous level's message, a failed message reaches nothing, and no text
claims a reminder that did not go. Payments registered without a journal
entry count for their amount: what they leave is still chased."""

from datetime import date, timedelta

from odoo import fields
from odoo.tests import Form, new_test_user, tagged

from ..models.account_move import OPEN_INVOICE_DOMAIN
from .test_plans import PlanCommon
from .test_portal import ReminderPageCommon


@tagged("post_install", "-at_install")
class TestLadderFollowsWhatWasSent(PlanCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = new_test_user(
            cls.env,
            login="ladder_accountant",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )

    def dry_run_line(self, moment, customer=None):
        with self.frozen(moment):
            wizard = self.env["account.payment.reminder.dry.run"].create({})
            wizard.action_refresh()
        return wizard.line_ids.filtered(lambda line: line.partner_id == (customer or self.customer))

    def wizard(self, invoices, user=None):
        env = self.env(user=user or self.accountant)
        return Form(
            env["account.payment.reminder.send"].with_context(active_model="account.move", active_ids=invoices.ids)
        )

    def next_reminder(self, invoice, moment):
        with self.frozen(moment):
            invoice.invalidate_recordset()
            return invoice.payment_reminder_next_level_id, invoice.payment_reminder_next_date

    def assertSentOn(self, invoice, level, moment):
        """Nothing new the day before ``moment``; ``level`` on ``moment``."""
        before = len(self.messages_for(invoice))
        self.run_at(fields.Datetime.to_datetime(moment) - timedelta(days=1))
        self.assertEqual(len(self.messages_for(invoice)), before, f"nothing the day before {moment}")
        self.run_at(moment)
        self.assertEqual(self.messages_for(invoice)[-1:].level_id, level, moment)

    def test_a_debt_found_late_climbs_the_ladder_from_its_first_level(self):
        invoice = self.create_invoice(due=date(2026, 3, 1), amount=500.0)
        # 45 days overdue, never reminded: every screen shows the first level after the due date, not the final notice
        self.assertEqual(self.next_reminder(invoice, "2026-04-15 09:00"), (self.level_due, date(2026, 4, 15)))
        self.assertEqual(self.dry_run_line("2026-04-15 09:00").level_id, self.level_due)
        with self.frozen("2026-04-15 09:00"):
            form = self.wizard(invoice)
            with form.line_ids.edit(0) as line:
                self.assertEqual(line.level_id, self.level_due, "the wizard shows the level that goes")
        self.run_at("2026-04-15 09:00")
        self.assertEqual(self.messages_for(invoice).level_id, self.level_due)
        self.assertEqual(invoice.payment_reminder_level_date, date(2026, 4, 15))
        # 'Overdue' (day 7) waits 7 days (7 - 0) from the first message; the tab and the dry run say so
        self.assertEqual(self.next_reminder(invoice, "2026-04-16 09:00"), (self.level_overdue, date(2026, 4, 22)))
        self.assertFalse(self.dry_run_line("2026-04-21 09:00"), "nothing to send before the gap has passed")
        with self.frozen("2026-04-21 09:00"):
            form = self.wizard(invoice)
            with form.line_ids.edit(0) as line:
                self.assertEqual(line.level_id, self.level_due, "by hand before the gap: the same level again")
        self.assertSentOn(invoice, self.level_overdue, "2026-04-22 09:00")
        # 'Second reminder' (day 14) 7 days later, 'Final notice' (day 30) 16 days after that
        self.assertSentOn(invoice, self.level_followup, "2026-04-29 09:00")
        self.assertEqual(self.next_reminder(invoice, "2026-04-30 09:00"), (self.level_final, date(2026, 5, 15)))
        self.assertSentOn(invoice, self.level_final, "2026-05-15 09:00")
        self.assertEqual(
            self.messages_for(invoice).level_id,
            self.level_due | self.level_overdue | self.level_followup | self.level_final,
            "every level, once, in order",
        )

    def test_catching_up_sends_the_level_of_the_age(self):
        self.assertFalse(self.policy.catch_up, "off by default")
        self.assertIn("45 days overdue", self.policy._fields["catch_up"].help)
        self.policy.catch_up = True
        invoice = self.create_invoice(due=date(2026, 3, 1))
        self.assertEqual(self.next_reminder(invoice, "2026-04-15 09:00"), (self.level_final, date(2026, 4, 15)))
        self.run_at("2026-04-15 09:00")
        self.assertEqual(self.messages_for(invoice).level_id, self.level_final)

    def test_a_failed_message_does_not_advance_the_ladder(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.run_at("2026-03-31 09:00")
        self.run_at("2026-04-07 09:00")
        first, second = self.messages_for(invoice)
        self.assertEqual((second.level_id, second.state), (self.level_overdue, "sent"))
        self.assertEqual(invoice.payment_reminder_level_id, self.level_overdue)
        # the 'Overdue' e-mail bounces and no other channel replaces it: the invoice is back at what went
        # as the mail gateway applies a bounce (the history is written by code only)
        second.sudo()._apply_status("failed", code="bounce", reason="550 5.1.1 Mailbox unavailable")
        self.assertEqual(invoice.payment_reminder_level_id, self.level_due)
        self.assertEqual(invoice.payment_reminder_level_date, date(2026, 3, 31))
        self.assertEqual(invoice.payment_reminder_last_date, first.sent_at)
        self.assertEqual(self.next_reminder(invoice, "2026-04-08 09:00"), (self.level_overdue, date(2026, 4, 8)))
        # the scheduler does not send the same message twice on its own: the dry run says why it waits
        self.assertEqual(self.dry_run_line("2026-04-08 09:00").skip_reason, "failed_before")
        self.run_at("2026-04-08 09:00")
        self.assertEqual(len(self.messages_for(invoice)), 2)
        with self.frozen("2026-04-08 09:00"):
            form = self.wizard(invoice)
            with form.line_ids.edit(0) as line:
                self.assertEqual(line.level_id, self.level_overdue, "the level that bounced is still to go")
            form.level_id = self.level_followup
            with form.line_ids.edit(0) as line:
                self.assertIn("Despite our reminder of 03/31/2026", line.body_html, "the one that went, not 04/07")

    def test_a_message_without_address_reaches_nothing_until_it_goes(self):
        customer = self.customer.copy({"name": "No Mail Ltd", "email": False})
        invoice = self.create_invoice(partner=customer, due=date(2026, 3, 31))
        self.run_at("2026-03-31 09:00")
        failed = self.messages_for(invoice)
        self.assertEqual((failed.state, failed.failure_code), ("failed", "no_recipient"))
        self.assertFalse(invoice.payment_reminder_level_id, "a failed message is not the previous level's message")
        self.assertFalse(invoice.payment_reminder_last_date)
        # the address is repaired and the manager sends it again: now it went, and the ladder counts from then
        customer.email = "ap@nomail.example"
        with self.frozen("2026-04-03 09:00"):
            failed.action_retry()
        self.assertEqual(failed.state, "sent")
        self.assertEqual(invoice.payment_reminder_level_id, self.level_due)
        self.assertEqual(self.next_reminder(invoice, "2026-04-04 09:00"), (self.level_overdue, date(2026, 4, 10)))

    def test_the_preview_for_a_customer_never_contacted_claims_no_earlier_reminder(self):
        invoice = self.create_invoice(due=date(2026, 3, 20), amount=480.0)
        with self.frozen("2026-04-01 10:00"):
            form = self.wizard(invoice)
            form.level_id = self.level_followup  # the accountant picks the 'Second reminder' by hand
            with form.line_ids.edit(0) as line:
                self.assertNotIn("previous reminder", line.body_html)
                self.assertNotIn("Despite", line.body_html)
                self.assertIn("We have not yet received payment for the invoice below", line.body_html)
                self.assertNotIn("Second reminder", line.subject)
        # the dry run of a policy that catches up previews the same words
        self.policy.catch_up = True
        line = self.dry_run_line("2026-04-05 10:00")
        self.assertEqual(line.level_id, self.level_followup)
        self.assertNotIn("Despite", line.text)
        self.policy.catch_up = False
        # once a reminder went, the text may say so, with its date
        self.run_at("2026-04-05 10:00")
        with self.frozen("2026-04-06 10:00"):
            form = self.wizard(invoice)
            form.level_id = self.level_followup
            with form.line_ids.edit(0) as line:
                self.assertIn("Despite our reminder of 04/05/2026", line.body_html)
        # no text of the shipped templates claims a reminder by itself
        sms = self.env.ref("account_payment_reminder.sms_template_followup")
        whatsapp = self.env.ref("account_payment_reminder.whatsapp_template_followup")
        for text in (sms.body, whatsapp.body_text):
            self.assertNotIn("second reminder", text.lower())


@tagged("post_install", "-at_install")
class TestPaymentsWithoutJournalEntry(PlanCommon):
    """In Odoo 18's default set-up a registered payment leaves no journal
    entry and the invoice shows 'In Payment' or 'Paid' whatever its amount:
    the addon counts the payment for its amount."""

    def test_a_partial_payment_leaves_the_rest_chased(self):
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=900.0)
        self.register(invoice, 300.0, date(2026, 4, 2), self.bank_unbooked)
        self.assertIn(invoice.payment_state, ("in_payment", "paid"), "what Odoo shows")
        self.assertEqual(invoice.amount_residual, 900.0)
        self.assertEqual(invoice.payment_reminder_amount_open, 600.0, "what is still owed")
        self.assertEqual(invoice.payment_reminder_amount_open_signed, 600.0)
        self.assertTrue(invoice.payment_reminder_is_open)
        self.assertEqual(self.env["account.move"].search([("id", "=", invoice.id)] + OPEN_INVOICE_DOMAIN), invoice)
        with self.frozen("2026-04-07 09:00"):
            dry_run = self.env["account.payment.reminder.dry.run"].create({})
            dry_run.action_refresh()
        line = dry_run.line_ids.filtered(lambda line: line.partner_id == self.customer)
        self.assertEqual(line.amount, 600.0)
        self.assertIn("600.00", line.text)
        self.assertNotIn("900.00", line.text)
        self.run_at("2026-04-07 09:00")
        message = self.messages_for(invoice)
        self.assertEqual((message.level_id, message.state), (self.level_due, "sent"))
        self.assertEqual(message.amount_due, 600.0)
        statement = message._get_statement()
        self.assertEqual([line["amount"] for line in statement["invoices"]], [600.0])
        self.assertEqual([total["net"] for total in statement["totals"]], [600.0])
        self.assertIn("600.00", message.body_html)
        self.assertNotIn("900.00", message.body_html)

    def test_a_full_payment_stops_the_chasing(self):
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=900.0)
        self.register(invoice, 900.0, date(2026, 4, 2), self.bank_unbooked)
        self.assertEqual(invoice.amount_residual, 900.0, "no journal entry: the residual has not moved")
        self.assertEqual(invoice.payment_reminder_amount_open, 0.0)
        self.assertFalse(invoice.payment_reminder_is_open)
        self.run_at("2026-04-07 09:00")
        self.assertFalse(self.messages_for(invoice))
        with self.frozen("2026-04-07 09:00"):
            self.assertFalse(invoice.payment_reminder_next_level_id)

    def test_a_cancelled_payment_owes_the_whole_again(self):
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=900.0)
        payment = self.register(invoice, 300.0, date(2026, 4, 2), self.bank_unbooked)
        self.assertEqual(invoice.payment_reminder_amount_open, 600.0)
        payment.action_cancel()
        self.assertEqual(invoice.payment_reminder_amount_open, 900.0)


@tagged("post_install", "-at_install")
class TestPaymentsWithoutJournalEntryOnThePage(ReminderPageCommon):
    def test_the_page_shows_what_is_still_owed(self):
        bank = self.env["account.journal"].create(
            {"name": "Bank, no outstanding account", "type": "bank", "code": "BNKNP"}
        )
        bank.inbound_payment_method_line_ids.payment_account_id = False
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=self.invoice.ids
        ).create(
            {
                "journal_id": bank.id,
                "amount": 300.0,
                "payment_date": fields.Date.today(),
                "payment_difference_handling": "open",
            }
        )._create_payments()
        self.assertIn(self.invoice.payment_state, ("in_payment", "paid"))
        statement = self.access._get_statement()
        self.assertEqual([row["amount"] for row in statement["invoices"]], [600.0])
        response = self.page()
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.invoice.name, response.text, "still owed: still on the customer's page")
        self.assertIn("600.00", response.text)
        self.assertNotIn("900.00", response.text)
