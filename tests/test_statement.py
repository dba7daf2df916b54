"""One message per customer and run, for what the customer really owes: the
most urgent level reached, every due invoice listed, netted with the
customer's credit notes and payments, totals per currency."""

from datetime import date

from odoo import Command
from odoo.tests import tagged

from .common import PaymentReminderCommon
from .test_plans import PlanCommon


@tagged("post_install", "-at_install")
class TestOneMessagePerCustomer(PaymentReminderCommon):
    def test_a_customer_at_several_levels_gets_one_message_at_the_most_urgent(self):
        # never reminded: each due invoice starts at the first level after the due date, whatever its age
        coming = self.create_invoice(due=date(2026, 5, 2), amount=40.0)  # courtesy level on 29 April
        due_today = self.create_invoice(due=date(2026, 4, 30), amount=100.0)
        overdue = self.create_invoice(due=date(2026, 4, 20), amount=200.0)
        followup = self.create_invoice(due=date(2026, 4, 15), amount=300.0)
        final = self.create_invoice(due=date(2026, 3, 25), amount=400.0)
        stats = self.run_at("2026-04-30 09:00")
        messages = self.Message.search([("partner_id", "=", self.customer.id)])
        self.assertEqual(len(messages), 1, "one message")
        self.assertEqual(stats["queued"], 1)
        self.assertEqual(messages.level_id, self.level_due, "not a final notice as the first message")
        self.assertEqual(messages.move_ids, due_today | overdue | followup | final, "every due invoice, none to come")
        self.assertNotIn(coming.name, messages.body_html, "an invoice not yet due is not in an overdue message")
        # each invoice records the level it reached: the ladder goes on per invoice
        for invoice in due_today | overdue | followup | final:
            self.assertEqual(invoice.payment_reminder_level_id, self.level_due, invoice.name)
        self.assertEqual(
            coming.payment_reminder_level_id, self.level_courtesy, "passed over: the customer just heard from us"
        )
        # each invoice with its due date, days overdue and amount, then the total
        body = messages.body_html
        for invoice, days in ((final, "36"), (followup, "15"), (overdue, "10")):
            self.assertIn(invoice.name, body)
            self.assertIn(f">{days}<", body, f"{invoice.name} is {days} days overdue")
        self.assertIn("04/30/2026", body)
        self.assertIn("1,000.00", body, "the total of the four due invoices")
        self.assertEqual(messages.amount_due, 1000.0)
        self.assertEqual(messages.subject, "Payment due: 4 invoices")
        self.assertIn("Payment of the invoices below is now due", body)

        # an hour later nothing new was reached: nothing is sent
        self.run_at("2026-04-30 10:00")
        self.assertEqual(len(self.Message.search([("partner_id", "=", self.customer.id)])), 1)
        # a week later the invoices reach 'Overdue', one level up: the customer hears again, once
        self.run_at("2026-05-07 09:00")
        messages = self.Message.search([("partner_id", "=", self.customer.id)], order="id")
        self.assertEqual(len(messages), 2)
        self.assertEqual(messages[-1].move_ids, due_today | overdue | followup | final | coming)
        self.assertEqual(messages[-1].level_id, self.level_overdue)
        self.assertEqual(due_today.payment_reminder_level_id, self.level_overdue)
        self.assertEqual(coming.payment_reminder_level_id, self.level_due, "due since 2 May: its first level")
        self.assertEqual(final.payment_reminder_level_id, self.level_overdue, "one level at a time")

    def test_the_dry_run_shows_the_single_message_and_why_each_invoice_is_in_it(self):
        older = self.create_invoice(due=date(2026, 4, 10), amount=200.0)
        self.run_at("2026-04-17 09:00")  # 'Due today' for the older invoice: its first level
        newer = self.create_invoice(due=date(2026, 4, 20), amount=100.0)
        with self.frozen("2026-04-20 09:00"):
            wizard = self.env["account.payment.reminder.dry.run"].create({})
            wizard.action_refresh()
        line = wizard.line_ids.filtered(lambda line: line.partner_id == self.customer)
        self.assertEqual(len(line), 1, "one message for the customer")
        self.assertEqual(line.move_ids, older | newer)
        self.assertEqual(line.level_id, self.level_due, "the older one's 'Overdue' waits a week from its last")
        self.assertIn(f"{newer.name}: reached 'Due today' (due today)", line.explanation)
        self.assertIn(f"{older.name}: still unpaid (10 days overdue)", line.explanation)
        self.assertEqual(line.amount, 300.0)

    def test_a_courtesy_message_lists_only_what_is_coming_due(self):
        first = self.create_invoice(due=date(2026, 5, 2), amount=40.0)
        second = self.create_invoice(due=date(2026, 5, 3), amount=60.0)
        self.run_at("2026-04-30 09:00")
        message = self.messages_for(first)
        self.assertEqual(message.level_id, self.level_courtesy)
        self.assertEqual(message.move_ids, first | second)
        self.assertIn("The invoices below will soon be due", message.body_html.replace("the invoices", "The invoices"))
        self.assertEqual(message.subject, "Upcoming payment: 2 invoices")

    def test_one_invoice_reads_in_the_singular(self):
        invoice = self.create_invoice(due=date(2026, 4, 20), amount=200.0)
        self.run_at("2026-04-27 09:00")
        message = self.messages_for(invoice)
        self.assertEqual(message.subject, f"Payment due: invoice {invoice.name}")
        self.assertIn("Payment of the invoice below is now due", message.body_html)
        self.assertNotIn("invoices below", message.body_html)
        self.assertNotIn("Total due", message.body_html, "no total under a single invoice")

    def test_minimum_interval_holds_within_one_run(self):
        self.policy.write({"grouping": "invoice", "min_interval_days": 3})
        first = self.create_invoice(due=date(2026, 4, 20))
        second = self.create_invoice(due=date(2026, 4, 10))
        stats = self.run_at("2026-04-27 09:00")
        self.assertEqual(stats["queued"], 1, "one message per invoice, but not two within the minimum interval")
        self.assertEqual(self.messages_for(second).level_id, self.level_due, "the oldest goes first")
        self.assertFalse(self.messages_for(first))
        self.assertEqual(stats["skipped_min_interval"], 1)

    def test_contact_budget_holds_within_one_run(self):
        self.policy.write({"grouping": "invoice", "max_messages_per_week": 2})
        invoices = [self.create_invoice(due=date(2026, 4, day)) for day in (10, 11, 12)]
        stats = self.run_at("2026-04-27 09:00")
        self.assertEqual(stats["queued"], 2)
        self.assertEqual(stats["skipped_budget"], 1)
        self.assertEqual(len(self.Message.search([("move_ids", "in", [i.id for i in invoices])])), 2)


@tagged("post_install", "-at_install")
class TestBalanceOwed(PlanCommon):
    """With the two ways Odoo 18 books a payment (see PlanCommon)."""

    def credit_note(self, amount, currency=None, partner=None):
        move = (
            self.env["account.move"]
            .with_company(self.company)
            .create(
                {
                    "move_type": "out_refund",
                    "partner_id": (partner or self.customer).id,
                    "invoice_date": date(2026, 4, 1),
                    "currency_id": (currency or self.company.currency_id).id,
                    "invoice_line_ids": [
                        Command.create({"name": "Returned goods", "quantity": 1, "price_unit": amount, "tax_ids": []})
                    ],
                }
            )
        )
        move.action_post()
        return move

    def customer_payment(self, amount, journal, partner=None):
        """A payment received from the customer and not matched with any invoice."""
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": (partner or self.customer).id,
                "amount": amount,
                "journal_id": journal.id,
                "date": date(2026, 4, 25),
            }
        )
        payment.action_post()
        self.assertEqual(bool(payment.move_id), journal == self.bank_booked, "the configuration under test")
        return payment

    def dry_run_reasons(self):
        with self.frozen("2026-04-27 09:00"):
            wizard = self.env["account.payment.reminder.dry.run"].create({})
            wizard.action_refresh()
        return {line.move_ids: line.skip_reason for line in wizard.line_ids if line.partner_id == self.customer}

    def test_a_credit_note_that_covers_everything_stops_the_chase(self):
        invoice = self.create_invoice(due=date(2026, 4, 20), amount=300.0)
        self.credit_note(300.0)
        self.assertEqual(self.dry_run_reasons(), {invoice: "covered"}, "the dry run says why")
        stats = self.run_at("2026-04-27 09:00")
        self.assertFalse(self.messages_for(invoice))
        self.assertEqual(stats["skipped_covered"], 1)

    def test_a_credit_note_that_covers_part_is_netted(self):
        first = self.create_invoice(due=date(2026, 4, 20), amount=300.0)
        second = self.create_invoice(due=date(2026, 4, 22), amount=200.0)
        self.credit_note(120.0)
        self.run_at("2026-04-27 09:00")
        message = self.messages_for(first)
        self.assertEqual(message.move_ids, first | second)
        self.assertEqual(message.amount_due, 380.0, "what is asked: 500.00 due less 120.00 of credits")
        self.assertEqual(message.amount_credit, 120.0)
        body = message.body_html
        self.assertIn("500.00", body)
        self.assertIn("120.00", body)
        self.assertIn("380.00", body)
        self.assertIn("$\xa0380.00", message.amount_due_display)

    def test_the_threshold_compares_the_net_amount(self):
        self.policy.min_amount = 100.0
        invoice = self.create_invoice(due=date(2026, 4, 20), amount=300.0)
        self.credit_note(250.0)
        stats = self.run_at("2026-04-27 09:00")
        self.assertFalse(self.messages_for(invoice), "50.00 is left to pay: under the threshold")
        self.assertEqual(stats["skipped_below_threshold"], 1)

    def test_an_unreconciled_payment_is_netted(self):
        invoice = self.create_invoice(due=date(2026, 4, 20), amount=300.0)
        self.customer_payment(100.0, self.bank_booked)
        self.run_at("2026-04-27 09:00")
        message = self.messages_for(invoice)
        self.assertEqual(message.amount_due, 200.0)
        self.assertEqual(message.amount_credit, 100.0)

    def test_a_payment_without_journal_entry_is_netted(self):
        invoice = self.create_invoice(due=date(2026, 4, 20), amount=300.0)
        self.customer_payment(300.0, self.bank_unbooked)
        stats = self.run_at("2026-04-27 09:00")
        self.assertFalse(self.messages_for(invoice), "the customer paid everything, without a journal entry")
        self.assertEqual(stats["skipped_covered"], 1)

    def test_an_invoice_paid_without_journal_entry_is_paid(self):
        paid = self.create_invoice(due=date(2026, 4, 20), amount=300.0)
        other = self.create_invoice(due=date(2026, 4, 21), amount=50.0)
        wizard = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=paid.ids)
            .create({"journal_id": self.bank_unbooked.id, "payment_date": date(2026, 4, 25)})
        )
        wizard.action_create_payments()
        self.assertIn(paid.payment_state, ("in_payment", "paid"), "as Odoo shows it, with or without accountant")
        self.assertEqual(paid.amount_residual, 300.0, "no journal entry: the residual has not moved")
        self.run_at("2026-04-27 09:00")
        message = self.messages_for(other)
        self.assertEqual(message.move_ids, other, "the invoice Odoo shows in payment is not asked for")
        self.assertEqual(message.amount_due, 50.0)

    def test_two_currencies_are_never_added(self):
        eur = self.setup_other_currency("EUR", rounding=0.01)  # 2 EUR for 1 USD in the test data
        usd_invoice = self.create_invoice(due=date(2026, 4, 20), amount=300.0)
        eur_invoice = self.create_invoice(due=date(2026, 4, 20), amount=500.0, currency=eur)
        self.credit_note(100.0, currency=eur)
        self.run_at("2026-04-27 09:00")
        message = self.messages_for(usd_invoice)
        self.assertEqual(message.move_ids, usd_invoice | eur_invoice)
        display = message.amount_due_display
        self.assertIn("300.00", display)
        self.assertIn("400.00", display, "500.00 EUR less the 100.00 EUR credit note")
        self.assertIn("+", display, "one figure per currency, never added together")
        self.assertNotIn("500.00", display)
        # the history keeps the amount asked in company currency: 300 USD + 400 EUR at 2 EUR per USD
        self.assertAlmostEqual(message.amount_due, 500.0, places=2)
        self.assertAlmostEqual(message.amount_credit, 50.0, places=2)
        self.assertIn("€", message.body_html)

    def test_a_credit_in_another_currency_does_not_pay(self):
        eur = self.setup_other_currency("EUR", rounding=0.01)
        invoice = self.create_invoice(due=date(2026, 4, 20), amount=300.0)
        self.credit_note(1000.0, currency=eur)
        self.run_at("2026-04-27 09:00")
        self.assertEqual(self.messages_for(invoice).amount_due, 300.0)

    def test_the_credits_of_another_company_or_customer_do_not_count(self):
        invoice = self.create_invoice(due=date(2026, 4, 20), amount=300.0)
        other = self.env["res.partner"].create({"name": "Someone else", "email": "else@example.com"})
        self.credit_note(300.0, partner=other)
        company_b = self.setup_other_company(name="Company B")["company"]
        self.env["account.move"].with_company(company_b).create(
            {
                "move_type": "out_refund",
                "partner_id": self.customer.id,
                "invoice_date": date(2026, 4, 1),
                "invoice_line_ids": [Command.create({"name": "B", "quantity": 1, "price_unit": 300.0, "tax_ids": []})],
            }
        ).action_post()
        self.run_at("2026-04-27 09:00")
        self.assertEqual(self.messages_for(invoice).amount_due, 300.0)
