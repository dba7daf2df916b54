from contextlib import contextmanager
from datetime import date

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, new_test_user, tagged

from ..tools.plans import instalment_dates, split_amount
from .common import PaymentReminderCommon


class PlanCommon(PaymentReminderCommon):
    """Payment plans and promises, with the two ways Odoo 18 books a payment
    registered on an invoice: on a bank journal with an outstanding account
    (a journal entry reconciled with the invoice: the residual drops), and on
    one without (no journal entry: the invoice turns "In Payment", or "Paid"
    without the accountant module, while its residual does not move until the
    bank statement is reconciled)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the test company's bank journal has an outstanding receipts account on its first method line
        cls.bank_booked = cls.company_data["default_journal_bank"]
        cls.bank_unbooked = cls.env["account.journal"].create(
            {"name": "Bank without outstanding account", "type": "bank", "code": "BNKNO"}
        )
        cls.bank_unbooked.inbound_payment_method_line_ids.payment_account_id = False

    @contextmanager
    def refused(self, pattern):
        """Like assertRaises (rolled back to a savepoint), for a refusal whose message says ``pattern``."""
        with self.assertRaises(UserError) as caught:
            yield
        self.assertRegex(str(caught.exception), pattern)

    def propose(self, invoices, count=3, first=date(2026, 4, 10), frequency="monthly", today="2026-04-05"):
        with self.frozen(today):
            form = Form(
                self.env["account.payment.reminder.plan.propose"].with_context(
                    active_model="account.move", active_ids=invoices.ids
                )
            )
            form.instalment_count = count
            form.first_date = first
            form.frequency = frequency
            return form

    def agree(self, invoices, **kwargs):
        form = self.propose(invoices, **kwargs)
        with self.frozen(kwargs.get("today", "2026-04-05")):
            action = form.save().action_create_plan()
        return self.env["account.payment.reminder.plan"].browse(action["res_id"])

    def register(self, invoices, amount, when, journal):
        """The invoice's Register Payment button, on ``journal``: one payment for all ``invoices``."""
        wizard = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoices.ids)
            .create(
                {
                    "journal_id": journal.id,
                    "amount": amount,
                    "payment_date": when,
                    "group_payment": True,
                    "payment_difference_handling": "open",
                }
            )
        )
        payment = wizard._create_payments()
        self.assertEqual(bool(payment.move_id), journal == self.bank_booked, "the configuration under test")
        return payment

    def bank_statement(self, invoice, amount, when):
        """A bank statement line matched with the invoice (the bank reconciliation)."""
        st_line = self.env["account.bank.statement.line"].create(
            {
                "journal_id": self.bank_unbooked.id,
                "partner_id": invoice.partner_id.id,
                "payment_ref": invoice.name,
                "amount": amount,
                "date": when,
            }
        )
        _liquidity, suspense, _other = st_line.with_context(skip_account_move_synchronization=True)._seek_for_lines()
        receivable = invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
        suspense.account_id = receivable.account_id
        (suspense + receivable).reconcile()
        return st_line

    def plan(self, invoices, lines, today="2026-04-05"):
        """A plan created as the scheduler or an integration would: [(date, amount)]."""
        with self.frozen(today):
            return self.env["account.payment.reminder.plan"].create(
                {
                    "partner_id": invoices.partner_id.id,
                    "move_ids": [Command.set(invoices.ids)],
                    "line_ids": [Command.create({"date": day, "amount": amount}) for day, amount in lines],
                }
            )


@tagged("post_install", "-at_install")
class TestPaymentPlans(PlanCommon):
    def test_split_in_a_zero_decimal_and_a_three_decimal_currency(self):
        jpy = self.setup_other_currency("JPY", rounding=1.0)
        kwd = self.setup_other_currency("KWD", rounding=0.001)
        self.assertEqual(split_amount(1000.0, 3, jpy.rounding), [334.0, 333.0, 333.0])
        self.assertEqual(split_amount(100.0, 3, kwd.rounding), [33.334, 33.333, 33.333])
        self.assertEqual(split_amount(10.0, 6, self.company.currency_id.rounding), [1.67] * 4 + [1.66] * 2)
        self.assertEqual(
            instalment_dates(date(2026, 1, 31), 3, "monthly"), [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]
        )
        self.assertEqual(instalment_dates(date(2026, 4, 1), 3, "biweekly")[-1], date(2026, 4, 29))

        invoice = self.create_invoice(due=date(2026, 3, 31), amount=100000.0, currency=jpy)
        with self.frozen("2026-04-05"):
            wizard = self.propose(invoice, count=3).save()
        self.assertEqual(wizard.line_ids.mapped("amount"), [33334.0, 33333.0, 33333.0])
        kuwait = self.create_invoice(due=date(2026, 3, 31), amount=1.0, currency=kwd)
        plan = self.agree(kuwait, count=3)
        self.assertEqual(plan.line_ids.mapped("amount"), [0.334, 0.333, 0.333])
        self.assertEqual(plan.currency_id, kwd)
        self.assertEqual(plan.line_ids.mapped("date"), [date(2026, 4, 10), date(2026, 5, 10), date(2026, 6, 10)])

    def test_custom_lines_must_add_up(self):
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=900.0)
        form = self.propose(invoice, count=2)
        form.frequency = "custom"
        with form.line_ids.edit(1) as line:
            line.amount = 100.0
        wizard = form.save()
        with self.frozen("2026-04-05"), self.assertRaises(UserError):
            wizard.action_create_plan()
        with Form(wizard) as form, form.line_ids.edit(1) as line:
            line.amount = 450.0
        with self.frozen("2026-04-05"):
            plan = self.env["account.payment.reminder.plan"].browse(wizard.action_create_plan()["res_id"])
        self.assertEqual(plan.amount_total, 900.0)

    def test_plan_on_track_then_broken_then_ladder_resumes(self):
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=900.0)
        plan = self.agree(invoice, count=3)
        summary = self.messages_for(invoice)
        self.assertEqual((summary.kind, summary.trigger, summary.state), ("plan_summary", "manual", "sent"))
        self.assertIn("300.00", summary.body_html)
        self.assertIn("04/10/2026", summary.body_html)
        # the ladder waits: the overdue level is due on 04-07 but the plan is on track
        stats = self.run_at("2026-04-07 09:00")
        self.assertEqual(stats["skipped_plan"], 1)
        before = self.messages_for(invoice) - summary
        self.assertEqual((before.kind, before.plan_line_id), ("plan_before", plan.line_ids[0]))
        # the first instalment is paid on time
        self.pay(invoice, amount=300.0, when=date(2026, 4, 9))
        self.assertEqual(plan.line_ids[0].state, "paid")
        self.assertEqual(plan.line_ids[0].amount_paid, 300.0)
        self.run_at("2026-04-11 09:00")
        self.assertEqual(len(self.messages_for(invoice)), 2, "nothing after a paid instalment")
        self.run_at("2026-05-07 09:00")
        self.assertEqual(self.messages_for(invoice)[-1].kind, "plan_before")
        # the second is not paid: a firm reminder the day after, the plan breaks after the grace days
        self.run_at("2026-05-11 09:00")
        self.assertEqual(self.messages_for(invoice)[-1].kind, "plan_after")
        self.run_at("2026-05-13 09:00")
        self.assertEqual(plan.state, "active", "still within the grace days")
        self.run_at("2026-05-14 09:00")
        self.assertEqual(plan.state, "broken")
        self.assertTrue(plan.activity_ids, "the accountant is told")
        kinds = self.messages_for(invoice).mapped("kind")
        self.assertIn("plan_broken", kinds, "the customer is told")
        self.assertEqual(self.messages_for(invoice)[-1].level_id, self.level_final, "the ladder resumes")

    def test_broken_plans_and_promises_go_to_a_person_never_odoobot(self):
        """A plan or a promise recorded by the scheduler or the customer's page
        has the system as its user: when it breaks, the to-do goes to whom the
        policy says (the salesperson, else the credit controller)."""
        controller = new_test_user(self.env, login="plan_controller", groups="account.group_account_invoice")
        self.policy.user_id = controller
        odoobot = self.env.ref("base.user_root")
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=900.0, invoice_user_id=False)
        plan = self.plan(invoice, [(date(2026, 4, 10), 450.0), (date(2026, 5, 10), 450.0)])
        plan.user_id = odoobot
        other = self.create_invoice(due=date(2026, 3, 31), amount=500.0, invoice_user_id=False)
        with self.frozen("2026-04-01 09:00"):
            promise = self.env["account.payment.reminder.promise"].create(
                {"partner_id": self.customer.id, "move_ids": [Command.set(other.ids)], "date": date(2026, 4, 10)}
            )
        promise.user_id = odoobot
        self.run_at("2026-04-20 09:00")
        self.assertEqual((plan.state, promise.state), ("broken", "broken"))
        self.assertEqual(plan.activity_ids.user_id, controller)
        self.assertEqual(self.customer.activity_ids.user_id, controller)

    def test_plan_paid_in_full_is_done(self):
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=600.0)
        plan = self.agree(invoice, count=2)
        self.pay(invoice, amount=600.0, when=date(2026, 4, 8))
        self.run_at("2026-04-09 09:00")
        self.assertEqual(plan.state, "done")
        self.assertEqual(plan.line_ids.mapped("state"), ["paid", "paid"])

    def test_one_active_plan_per_invoice_and_one_customer_per_plan(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.agree(invoice, count=2)
        with self.assertRaises(UserError):
            self.agree(invoice, count=2)
        other = self.create_invoice(partner=self.customer.copy({"name": "Other"}), due=date(2026, 3, 31))
        with self.assertRaises(UserError):
            self.agree(self.create_invoice(due=date(2026, 4, 2)) | other)


@tagged("post_install", "-at_install")
class TestPromises(PlanCommon):
    def promise(self, invoices, day, amount=0.0):
        return self.env["account.payment.reminder.promise"].create(
            {
                "partner_id": self.customer.id,
                "move_ids": [(6, 0, invoices.ids)],
                "date": day,
                "amount": amount,
                "grace_days": 2,
            }
        )

    def test_kept_promise(self):
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=500.0)
        with self.frozen("2026-04-01 09:00"):
            promise = self.promise(invoice, date(2026, 4, 10))
        self.assertEqual(promise.amount, 500.0, "everything due, by default")
        stats = self.run_at("2026-04-07 09:00")
        self.assertEqual(stats["skipped_promise"], 1)
        self.pay(invoice, when=date(2026, 4, 9))
        self.run_at("2026-04-11 09:00")
        self.assertEqual(promise.state, "kept")
        self.assertFalse(self.messages_for(invoice))

    def test_broken_promise_resumes_the_ladder(self):
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=500.0)
        with self.frozen("2026-04-01 09:00"):
            promise = self.promise(invoice, date(2026, 4, 10), amount=500.0)
        self.pay(invoice, amount=100.0, when=date(2026, 4, 9))
        self.run_at("2026-04-12 09:00")
        self.assertEqual(promise.state, "open", "within the grace days")
        self.assertFalse(self.messages_for(invoice))
        self.run_at("2026-04-13 09:00")
        self.assertEqual(promise.state, "broken")
        self.assertEqual(promise.amount_received, 100.0)
        self.assertEqual(self.customer.payment_reminder_broken_promise_count, 1)
        self.assertTrue(self.customer.activity_ids)
        message = self.messages_for(invoice)
        self.assertEqual(message.level_id, self.level_overdue)
        self.assertIn("400.00", message.body_html)

    def test_promise_for_the_whole_customer(self):
        first = self.create_invoice(due=date(2026, 3, 31))
        second = self.create_invoice(due=date(2026, 3, 20))
        with self.frozen("2026-04-01 09:00"):
            self.promise(self.env["account.move"], date(2026, 4, 20))
        self.run_at("2026-04-07 09:00")
        self.assertFalse(self.messages_for(first | second))


@tagged("post_install", "-at_install")
class TestDryRun(PaymentReminderCommon):
    def test_every_reason_a_customer_waits(self):
        def customer(name, **values):
            return self.env["res.partner"].create({"name": name, "email": f"{name.lower()}@example.com", **values})

        ready = customer("Ready")
        self.create_invoice(partner=ready, due=date(2026, 3, 31), amount=200.0)
        opted_out = customer("Optout", payment_reminder_optout_email=True)
        self.create_invoice(partner=opted_out, due=date(2026, 3, 31))
        held = customer("Held", payment_reminder_hold_until=date(2026, 4, 30))
        self.create_invoice(partner=held, due=date(2026, 3, 31))
        nomail = customer("Nomail")
        nomail.email = False
        self.create_invoice(partner=nomail, due=date(2026, 3, 31))
        late = customer("Late", tz="America/New_York")
        late.payment_reminder_policy_id = self._create_policy(self.company, window_start=9.0, window_end=17.0)
        self.create_invoice(partner=late, due=date(2026, 3, 31))
        small = customer("Small")
        small.payment_reminder_policy_id = self._create_policy(self.company, min_amount=100.0)
        self.create_invoice(partner=small, due=date(2026, 3, 31), amount=20.0)
        busy = customer("Busy")
        busy.payment_reminder_policy_id = self._create_policy(self.company, min_interval_days=5)
        self.create_invoice(partner=busy, due=date(2026, 3, 31))
        self.create_invoice(partner=busy, due=date(2026, 4, 5))
        self.run_at("2026-04-05 09:00", partner_ids=busy.ids)  # Busy hears from us on 04-05
        promised = customer("Promised")
        self.create_invoice(partner=promised, due=date(2026, 3, 31))
        self.env["account.payment.reminder.promise"].create({"partner_id": promised.id, "date": date(2026, 4, 30)})

        with self.frozen("2026-04-07 08:00"):  # 04:00 in New York
            wizard = self.env["account.payment.reminder.dry.run"].create({})
            wizard.action_refresh()
        lines = {line.partner_id.name: line for line in wizard.line_ids}
        self.assertFalse(lines["Ready"].skip_reason)
        self.assertEqual(lines["Ready"].recipient, "ready@example.com")
        self.assertIn("200.00", lines["Ready"].text)
        self.assertEqual(lines["Optout"].skip_reason, "opt_out")
        self.assertEqual(lines["Held"].skip_reason, "hold")
        self.assertIn("no e-mail address", lines["Nomail"].failure)
        self.assertEqual(lines["Late"].skip_reason, "outside_window")
        self.assertEqual(str(lines["Late"].next_time), "2026-04-07 13:00:00")
        self.assertEqual(lines["Small"].skip_reason, "below_threshold")
        self.assertEqual(lines["Busy"].skip_reason, "min_interval")
        self.assertEqual(str(lines["Busy"].next_time), "2026-04-10 09:00:00")
        self.assertEqual(lines["Promised"].skip_reason, "promise")
        self.assertFalse(self.Message.search([("partner_id", "=", ready.id)]), "a dry run sends nothing")
        # every line says what is really owed, held or not: never 'To Pay 0.00' for a customer who owes
        for name, amount in (("Ready", 200.0), ("Held", 1000.0), ("Promised", 1000.0), ("Optout", 1000.0)):
            self.assertEqual(lines[name].amount, amount, name)
        self.assertFalse(wizard.has_late_charges, "no 'Late Charges 0.00' column when nothing is charged")


@tagged("post_install", "-at_install")
class TestPaidIsPaid(PlanCommon):
    """Plans, promises and the ladder count a payment as Odoo shows it on the
    invoice, with and without outstanding accounts, and never twice."""

    def kinds(self, invoice):
        return self.messages_for(invoice).mapped("kind")

    def _first_instalment_paid(self, journal):
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=900.0)
        plan = self.agree(invoice, count=3)
        self.register(invoice, 300.0, date(2026, 4, 9), journal)
        with self.frozen("2026-04-11"):
            self.assertEqual(plan.amount_paid, 300.0)
            self.assertEqual(plan.line_ids.mapped("amount_paid"), [300.0, 0.0, 0.0])
            self.assertEqual(plan.line_ids.mapped("state"), ["paid", "pending", "pending"])
            self.assertEqual(plan.next_line_id, plan.line_ids[1])
        # the grace days of the first instalment are over: a plan with an unpaid first instalment breaks here
        self.run_at("2026-04-11 09:00")
        self.run_at("2026-04-14 09:00")
        self.assertEqual(plan.state, "active")
        self.assertNotIn("plan_after", self.kinds(invoice), "the customer is not told the paid instalment is late")
        self.assertNotIn("plan_broken", self.kinds(invoice))
        self.run_at("2026-05-07 09:00")
        self.assertEqual(self.messages_for(invoice)[-1].plan_line_id, plan.line_ids[1], "the next one is announced")
        return invoice, plan

    def test_instalment_paid_with_a_journal_entry(self):
        invoice, _plan = self._first_instalment_paid(self.bank_booked)
        self.assertEqual((invoice.payment_state, invoice.amount_residual), ("partial", 600.0))

    def test_instalment_paid_without_a_journal_entry(self):
        invoice, plan = self._first_instalment_paid(self.bank_unbooked)
        # Odoo shows the invoice in payment (paid, without the accountant module); its residual has not moved
        self.assertIn(invoice.payment_state, ("in_payment", "paid"))
        self.assertEqual(invoice.amount_residual, 900.0)
        self.assertEqual(invoice._get_payment_reminder_open_amount(), {invoice.id: 600.0})

    def test_bank_reconciliation_later_does_not_count_the_payment_twice(self):
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=900.0)
        plan = self.agree(invoice, count=3)
        payment = self.register(invoice, 300.0, date(2026, 4, 9), self.bank_unbooked)
        self.assertEqual(plan.amount_paid, 300.0)
        # the money reaches the bank: the statement line is matched with the invoice and Odoo marks the
        # payment without journal entry as paid (what Odoo 18's bank reconciliation does)
        self.bank_statement(invoice, 300.0, date(2026, 4, 12))
        payment.action_validate()
        self.assertEqual((invoice.payment_state, invoice.amount_residual), ("partial", 600.0))
        self.assertEqual(invoice._get_payment_reminder_open_amount(), {invoice.id: 600.0})
        self.assertEqual(plan.amount_paid, 300.0)
        with self.frozen("2026-04-13"):
            self.assertEqual(plan.line_ids.mapped("state"), ["paid", "pending", "pending"])
        # and when the statement settles all of it, the invoice is paid and so is the plan
        self.register(invoice, 600.0, date(2026, 5, 9), self.bank_unbooked)
        self.bank_statement(invoice, 600.0, date(2026, 5, 10))
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(plan.amount_paid, 900.0)
        self.run_at("2026-05-11 09:00")
        self.assertEqual(plan.state, "done")

    def test_a_payment_of_several_invoices_is_counted_once(self):
        older = self.create_invoice(due=date(2026, 3, 20), amount=500.0)
        newer = self.create_invoice(due=date(2026, 3, 31), amount=400.0)
        plan = self.agree(older | newer, count=3)
        self.register(older | newer, 600.0, date(2026, 4, 9), self.bank_unbooked)
        self.assertEqual(
            (older | newer)._get_payment_reminder_open_amount(), {older.id: 0.0, newer.id: 300.0}, "older first"
        )
        self.assertEqual(newer._get_payment_reminder_open_amount(), {newer.id: 300.0}, "whatever the batch")
        self.assertEqual(plan.amount_paid, 600.0)
        with self.frozen("2026-05-11"):
            self.assertEqual(plan.line_ids.mapped("state"), ["paid", "paid", "pending"])
        self.run_at("2026-05-11 09:00")
        self.assertEqual(plan.state, "active", "the last instalment is still to pay")

    def test_paid_in_full_without_a_journal_entry_completes_the_plan(self):
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=600.0)
        plan = self.agree(invoice, count=2)
        self.register(invoice, 600.0, date(2026, 4, 8), self.bank_unbooked)
        self.run_at("2026-04-09 09:00")
        self.assertEqual(plan.state, "done")
        self.assertEqual(plan.line_ids.mapped("state"), ["paid", "paid"])

    def _ladder(self, journal):
        """Three customers, overdue since 03-31: nothing paid, paid in full, paid in part."""
        invoices = [
            self.create_invoice(partner=self.customer.copy({"name": name}), due=date(2026, 3, 31), amount=900.0)
            for name in ("Nothing paid", "Paid in full", "Paid in part")
        ]
        self.register(invoices[1], 900.0, date(2026, 4, 2), journal)
        self.register(invoices[2], 300.0, date(2026, 4, 2), journal)
        self.run_at("2026-04-07 09:00")
        return [self.messages_for(invoice).level_id for invoice in invoices], invoices

    def test_ladder_with_journal_entries(self):
        levels, invoices = self._ladder(self.bank_booked)
        self.assertEqual(levels, [self.level_overdue, self.level_overdue.browse(), self.level_overdue])
        self.assertEqual(invoices[2].payment_state, "partial")
        self.assertIn("600.00", self.messages_for(invoices[2]).body_html)

    def test_ladder_without_journal_entries(self):
        levels, invoices = self._ladder(self.bank_unbooked)
        # Odoo shows both paid invoices in payment (or paid): the ladder treats them as paid
        self.assertEqual([invoice.payment_state in ("in_payment", "paid") for invoice in invoices], [False, True, True])
        self.assertEqual(levels, [self.level_overdue, self.level_overdue.browse(), self.level_overdue.browse()])

    def _promise(self, journal, paid):
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=500.0)
        with self.frozen("2026-04-01 09:00"):
            promise = self.env["account.payment.reminder.promise"].create(
                {"partner_id": self.customer.id, "move_ids": [Command.set(invoice.ids)], "date": date(2026, 4, 10)}
            )
        self.register(invoice, paid, date(2026, 4, 9), journal)
        self.run_at("2026-04-13 09:00")
        return promise

    def test_promise_kept_with_and_without_journal_entries(self):
        for journal in (self.bank_booked, self.bank_unbooked):
            with self.subTest(journal=journal.name):
                promise = self._promise(journal, 500.0)
                self.assertEqual(promise.amount_received, 500.0)
                self.assertEqual(promise.state, "kept")

    def test_promise_broken_with_and_without_journal_entries(self):
        for journal in (self.bank_booked, self.bank_unbooked):
            with self.subTest(journal=journal.name):
                promise = self._promise(journal, 100.0)
                self.assertEqual(promise.amount_received, 100.0)
                self.assertEqual(promise.state, "broken")

    def test_promise_for_the_whole_customer_counts_payments_without_journal_entry(self):
        first = self.create_invoice(due=date(2026, 3, 31), amount=300.0)
        second = self.create_invoice(due=date(2026, 3, 20), amount=200.0)
        with self.frozen("2026-04-01 09:00"):
            promise = self.env["account.payment.reminder.promise"].create(
                {"partner_id": self.customer.id, "date": date(2026, 4, 10)}
            )
        self.assertEqual(promise.amount, 500.0)
        self.register(first, 100.0, date(2026, 4, 9), self.bank_unbooked)
        self.register(second, 200.0, date(2026, 4, 9), self.bank_unbooked)
        self.assertEqual(promise.amount_received, 300.0)
        self.run_at("2026-04-13 09:00")
        self.assertEqual(promise.state, "broken")


@tagged("post_install", "-at_install")
class TestPlanChecks(PlanCommon):
    """A plan makes sense when it is agreed, and stays so when it is edited."""

    def test_wizard_refuses_a_first_instalment_in_the_past(self):
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=900.0)
        form = self.propose(invoice, count=3, first=date(2026, 4, 1))
        with self.frozen("2026-04-05"), self.refused("in the past"):
            form.save().action_create_plan()
        # today is fine
        plan = self.agree(invoice, count=3, first=date(2026, 4, 5))
        self.assertEqual(plan.line_ids[:1].date, date(2026, 4, 5))

    def test_wizard_refuses_an_amount_too_small_to_split(self):
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=0.06)
        with self.frozen("2026-04-05"):
            wizard = self.propose(invoice, count=7).save()
            self.assertFalse(wizard.line_ids, "never a zero instalment")
            self.assertIn("cannot be split into 7 instalments", wizard.split_warning)
            with self.refused("cannot be split into 7 instalments"):
                wizard.action_create_plan()
            wizard.instalment_count = 6
            self.assertFalse(wizard.split_warning)
            self.assertEqual(wizard.line_ids.mapped("amount"), [0.01] * 6)

    def test_wizard_spreads_the_remainder(self):
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=100.0)
        plan = self.agree(invoice, count=7, frequency="weekly")
        self.assertEqual(plan.line_ids.mapped("amount"), [14.29] * 4 + [14.28] * 3)
        self.assertEqual(plan.amount_total, 100.0)

    def test_model_refuses_past_zero_and_negative_instalments(self):
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=1000.0)
        with self.refused("in the past"):
            self.plan(invoice, [(date(2026, 4, 1), 500.0), (date(2026, 5, 1), 500.0)])
        with self.refused("positive amount"):
            self.plan(invoice, [(date(2026, 4, 10), 1000.0), (date(2026, 5, 10), 0.0)])
        with self.refused("positive amount"):
            self.plan(invoice, [(date(2026, 4, 10), 1100.0), (date(2026, 5, 10), -100.0)])
        plan = self.plan(invoice, [(date(2026, 4, 5), 500.0), (date(2026, 5, 10), 500.0)])
        self.assertEqual(plan.amount_total, 1000.0)

    def test_edited_plan_is_checked_and_its_past_stays_as_agreed(self):
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=900.0)
        plan = self.agree(invoice, count=3)  # 04-10, 05-10, 06-10
        first, second, third = plan.line_ids
        with self.frozen("2026-05-15"):
            # the future can be rearranged while the first two instalments lie in the past
            plan.write(
                {
                    "line_ids": [
                        Command.update(third.id, {"date": date(2026, 6, 20), "amount": 150.0}),
                        Command.create({"date": date(2026, 7, 20), "amount": 150.0}),
                    ]
                }
            )
            self.assertEqual(plan.line_ids.mapped("amount"), [300.0, 300.0, 150.0, 150.0])
            with self.refused("in the past"):
                third.date = date(2026, 5, 1)
            with self.refused("in the past"):
                plan.write({"line_ids": [Command.create({"date": date(2026, 5, 14), "amount": 1.0})]})
            with self.refused("in the past"):
                plan.write(
                    {
                        "line_ids": [
                            Command.update(second.id, {"amount": 150.0}),
                            Command.update(third.id, {"amount": 300.0}),
                        ]
                    }
                )
            with self.refused("positive amount"):
                plan.write(
                    {
                        "line_ids": [
                            Command.update(third.id, {"amount": 0.0}),
                            Command.update(plan.line_ids[-1].id, {"amount": 300.0}),
                        ]
                    }
                )
            with self.refused("add up to"):
                third.amount = 200.0
        self.assertEqual(first.date, date(2026, 4, 10))

    def test_edited_plan_keeps_one_customer_and_one_plan_per_invoice(self):
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=900.0)
        plan = self.agree(invoice, count=3)
        other_customer = self.customer.copy({"name": "Other customer"})
        theirs = self.create_invoice(partner=other_customer, due=date(2026, 3, 31), amount=300.0)
        with self.frozen("2026-04-05"):
            with self.refused("must belong to its customer"):
                plan.write(
                    {
                        "move_ids": [Command.link(theirs.id)],
                        "line_ids": [Command.create({"date": date(2026, 7, 10), "amount": 300.0})],
                    }
                )
            with self.refused("must belong to its customer"):
                plan.partner_id = other_customer
            # an invoice of the same customer may join, with the instalments that cover it
            more = self.create_invoice(due=date(2026, 4, 2), amount=300.0)
            plan.write(
                {
                    "move_ids": [Command.link(more.id)],
                    "line_ids": [Command.create({"date": date(2026, 7, 10), "amount": 300.0})],
                }
            )
            self.assertEqual((plan.residual_at_start, plan.amount_total), (1200.0, 1200.0))
            with self.refused("add up to"):
                plan.write({"move_ids": [Command.link(self.create_invoice(due=date(2026, 4, 3), amount=50.0).id)]})
            # but never one that is in another active plan
            another = self.create_invoice(due=date(2026, 4, 4), amount=200.0)
            self.agree(another, count=2)
            with self.refused("Already in an active payment plan"):
                plan.write(
                    {
                        "move_ids": [Command.link(another.id)],
                        "line_ids": [Command.create({"date": date(2026, 8, 10), "amount": 200.0})],
                    }
                )
