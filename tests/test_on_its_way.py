"""Money on its way: a customer whose money is coming (a bank line not
reconciled yet, an online payment pending) is not chased for what it covers,
for the policy's days; then chasing resumes on its own."""

from datetime import date

from odoo import Command, fields
from odoo.tests import BaseCase, Form, new_test_user, tagged

from ..tools.on_its_way import IncomingMoney, hold, references
from .test_plans import PlanCommon


@tagged("post_install", "-at_install")
class TestMoneyOnItsWay(PlanCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bank = cls.company_data["default_journal_bank"]
        cls.contact = cls.env["res.partner"].create({"name": "Bob of Azure", "parent_id": cls.customer.id})
        cls.stranger = cls.env["res.partner"].create({"name": "Someone Else", "email": "else@example.com"})
        cls.provider = cls._prepare_payment_provider(cls.company)
        cls.accountant = new_test_user(
            cls.env,
            login="on_its_way_accountant",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )

    def bank_line(self, amount, partner=None, label="Transfer", when=date(2026, 4, 25), **values):
        """A line of the bank statement, not reconciled with anything."""
        line = self.env["account.bank.statement.line"].create(
            {
                "journal_id": self.bank.id,
                "partner_id": partner.id if partner else False,
                "payment_ref": label,
                "amount": amount,
                "date": when,
                **values,
            }
        )
        self.assertFalse(line.is_reconciled)
        return line

    def transaction(self, amount, invoices=None, partner=None, when="2026-04-25 10:00"):
        """An online payment started on the customer's page, that the provider has not confirmed yet."""
        provider = self.provider
        with self.frozen(when):
            tx = self.env["payment.transaction"].create(
                {
                    "provider_id": provider.id,
                    "payment_method_id": provider.payment_method_ids[:1].id,
                    "amount": amount,
                    "currency_id": self.company.currency_id.id,
                    "partner_id": (partner or self.customer).id,
                    "reference": f"TX-{amount}-pending",
                    "invoice_ids": [Command.set(invoices.ids)] if invoices else [],
                }
            )
            tx._set_pending()
        self.assertEqual(tx.state, "pending")
        return tx

    def dry_run(self, moment="2026-04-27 09:00", partner=None):
        with self.frozen(moment):
            wizard = self.env["account.payment.reminder.dry.run"].create({})
            wizard.action_refresh()
        return wizard.line_ids.filtered(lambda line: line.partner_id == (partner or self.customer))

    def test_a_bank_line_from_the_customer_holds_the_reminder(self):
        invoice = self.create_invoice(due=date(2026, 4, 20), amount=900.0)
        self.bank_line(900.0, partner=self.contact, label="Azure Interior April")  # a contact of the customer
        line = self.dry_run()
        self.assertEqual((line.move_ids, line.skip_reason), (invoice, "on_its_way"))
        self.assertIn(
            "Money on its way: Bank line 04/25/2026 'Azure Interior April' $\xa0900.00 holds $\xa0900.00 of "
            f"{invoice.name}; if it is not matched, chasing resumes on 04/30/2026.",
            line.explanation,
        )
        stats = self.run_at("2026-04-27 09:00")
        self.assertFalse(self.messages_for(invoice))
        self.assertEqual(stats["skipped_on_its_way"], 1)
        # the invoice's Reminders tab says why and until when
        with self.frozen("2026-04-27 09:00"):
            invoice.invalidate_recordset()
            self.assertIn("Money on its way: Bank line 04/25/2026", invoice.payment_reminder_waiting)
            self.assertIn("Reminders wait for it until 04/29/2026.", invoice.payment_reminder_waiting)
            self.assertEqual(invoice.payment_reminder_next_date, date(2026, 4, 30))

    def test_a_bank_line_naming_an_invoice_holds_that_invoice(self):
        older = self.create_invoice(due=date(2026, 4, 20), amount=400.0)
        named = self.create_invoice(due=date(2026, 4, 22), amount=900.0)
        own = self.create_invoice(partner=self.stranger, due=date(2026, 4, 20), amount=900.0)
        # paid by someone else (a parent company, a factor): the label names the invoice
        self.bank_line(900.0, partner=self.stranger, label=f"PAYMENT {named.name}.")
        lines = self.dry_run()
        held = lines.filtered("skip_reason")
        self.assertEqual((held.move_ids, held.skip_reason), (named, "on_its_way"), "it goes to the invoice it names")
        self.assertIn(f"Bank line 04/25/2026 'PAYMENT {named.name}.' $\xa0900.00", held.explanation)
        self.assertEqual(lines.filtered(lambda line: not line.skip_reason).move_ids, older, "the other is chased")
        self.assertEqual(lines.filtered(lambda line: not line.skip_reason).amount, 400.0)
        stranger = self.dry_run(partner=self.stranger)
        self.assertEqual((stranger.move_ids, stranger.skip_reason), (own, False), "it was not the stranger's money")
        # a line without partner that names the other invoice by its payment reference
        older.payment_reference = "+++090/9337/55493+++"
        self.bank_line(400.0, label="Virement", ref="+++090/9337/55493+++", when=date(2026, 4, 26))
        self.assertEqual(set(self.dry_run().mapped("skip_reason")), {"on_its_way"}, "both wait now")
        self.run_at("2026-04-27 09:00")
        self.assertFalse(self.messages_for(older | named))
        self.assertTrue(self.messages_for(own))

    def test_a_bank_line_covering_half_holds_half(self):
        invoice = self.create_invoice(due=date(2026, 4, 20), amount=1000.0)
        self.bank_line(500.0, partner=self.customer)
        line = self.dry_run()
        self.assertFalse(line.skip_reason)
        self.assertEqual(line.amount, 500.0, "the message asks for the rest")
        self.assertIn("holds $\xa0500.00 of", line.explanation)
        # the rest is chased when it is above the policy's threshold
        self.policy.min_amount = 600.0
        self.assertEqual(self.dry_run().skip_reason, "below_threshold")
        self.policy.min_amount = 400.0
        self.run_at("2026-04-27 09:00")
        message = self.messages_for(invoice)
        self.assertEqual(message.amount_due, 500.0)
        self.assertEqual(message.amount_credit, 0.0, "money on its way is not a credit")
        with self.frozen("2026-04-27 09:00"):
            invoice.invalidate_recordset()
            self.assertIn("holds $\xa0500.00 of this invoice", invoice.payment_reminder_waiting)

    def test_the_bank_lines_are_read_once_per_run_for_every_batch(self):
        """The bank lines belong to no batch: a run reads them once, and each
        batch of customers still finds the lines that name its invoices."""
        named = self.create_invoice(due=date(2026, 4, 22), amount=900.0)
        own = self.create_invoice(partner=self.stranger, due=date(2026, 4, 20), amount=300.0)
        chased = self.create_invoice(partner=self.stranger, due=date(2026, 4, 21), amount=200.0)
        self.bank_line(900.0, label=f"PAYMENT {named.name}")
        self.bank_line(300.0, label=f"Virement {own.name}")
        Run = type(self.env["account.payment.reminder.run"])
        reads = []
        original = Run._get_bank_lines_on_its_way

        def counted(run, *args, **kwargs):
            reads.append(args)
            return original(run, *args, **kwargs)

        self.patch(Run, "_batch_size", lambda run: 1)  # one customer per batch
        self.patch(Run, "_get_bank_lines_on_its_way", counted)
        stats = self.run_at("2026-04-27 09:00")
        self.assertGreaterEqual(stats["customers"], 2)
        self.assertEqual(len(reads), 1, "one read for the whole run")
        self.assertEqual(stats["skipped_on_its_way"], 2, "each batch holds the invoice its line names")
        self.assertFalse(self.messages_for(named | own))
        self.assertEqual(self.messages_for(chased).move_ids, chased, "what no money names is chased")

    def test_an_unrelated_bank_line_changes_nothing(self):
        invoice = self.create_invoice(due=date(2026, 4, 20), amount=900.0)
        self.bank_line(900.0, partner=self.stranger, label="Rent April INV/1999/99999")
        self.bank_line(-900.0, partner=self.customer, label="Refund")  # money going out
        self.bank_line(900.0, partner=self.customer, when=date(2026, 3, 1))  # long before: its wait is over
        self.run_at("2026-04-27 09:00")
        self.assertEqual(self.messages_for(invoice).amount_due, 900.0)

    def test_a_pending_online_payment_holds_its_invoices(self):
        invoice = self.create_invoice(due=date(2026, 4, 20), amount=900.0)
        other = self.create_invoice(due=date(2026, 4, 10), amount=300.0)
        self.transaction(900.0, invoices=invoice)
        lines = self.dry_run()
        held = lines.filtered("skip_reason")
        self.assertEqual((held.move_ids, held.skip_reason), (invoice, "on_its_way"))
        self.assertIn("Online payment 04/25/2026 TX-900.0-pending (Pending) $\xa0900.00", held.explanation)
        self.assertEqual(lines.filtered(lambda line: not line.skip_reason).move_ids, other)
        # a payment of the customer for no invoice in particular holds the rest (an authorised one too, with a
        # provider that captures by hand: none ships with Community)
        self.transaction(300.0)
        self.assertEqual(set(self.dry_run().mapped("skip_reason")), {"on_its_way"})
        self.run_at("2026-04-27 09:00")
        self.assertFalse(self.messages_for(invoice) | self.messages_for(other))

    def test_an_unmatched_payment_in_process_counts_as_paid(self):
        """A payment registered in Odoo without journal entry (Odoo 18's
        "in process") is the accountant's word that the money came: it is
        netted as a credit for as long as it is in process, not held for a
        few days like money Odoo has not booked."""
        invoice = self.create_invoice(due=date(2026, 4, 20), amount=900.0)
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.customer.id,
                "amount": 900.0,
                "journal_id": self.bank_unbooked.id,
                "date": date(2026, 4, 25),
            }
        )
        payment.action_post()
        self.assertEqual((payment.state, payment.move_id.id), ("in_process", False))
        line = self.dry_run()
        self.assertEqual(line.skip_reason, "covered")
        self.assertIn(f"Payment {payment.name} of 04/25/2026 $\xa0900.00 in process", line.explanation)
        self.assertEqual(self.dry_run("2026-06-01 09:00").skip_reason, "covered", "no wait runs out")
        self.run_at("2026-06-01 09:00")
        self.assertFalse(self.messages_for(invoice))

    def test_the_wait_runs_out(self):
        invoice = self.create_invoice(due=date(2026, 4, 20), amount=900.0)
        self.bank_line(900.0, partner=self.customer)  # 25 April; the policy waits 5 days
        self.assertEqual(self.dry_run("2026-04-29 21:00").skip_reason, "on_its_way", "the 29th in Brussels too")
        self.run_at("2026-04-29 09:00")
        self.assertFalse(self.messages_for(invoice))
        self.run_at("2026-04-30 09:00")
        self.assertEqual(self.messages_for(invoice).amount_due, 900.0, "never matched: chasing resumes")
        # a policy that does not wait
        second = self.create_invoice(due=date(2026, 4, 28), amount=900.0)
        self.bank_line(900.0, partner=self.customer, when=date(2026, 5, 5))
        self.policy.on_its_way_days = 0
        self.run_at("2026-05-05 10:00")
        self.assertTrue(self.messages_for(second))

    def test_a_queued_reminder_is_cancelled_when_money_arrives(self):
        invoice = self.create_invoice(due=date(2026, 4, 20), amount=900.0)
        with self.frozen("2026-04-27 09:00"):
            messages = self.Run._apply(self.Run._decide([self.customer.id], fields.Datetime.now()))
            self.assertEqual((messages.move_ids, messages.state), (invoice, "queued"))
            self.bank_line(900.0, partner=self.customer, label=invoice.name)
            cancelled = messages._cancel_no_longer_owed()
        self.assertEqual((cancelled, messages.state), (messages, "cancelled"))

    def test_send_reminder_by_hand_says_the_money_is_on_its_way(self):
        invoice = self.create_invoice(due=date(2026, 4, 20), amount=900.0)
        self.bank_line(900.0, partner=self.customer, label="Azure pays")
        with self.frozen("2026-04-27 09:00"):
            send = self.env(user=self.accountant)["account.payment.reminder.send"]
            wizard = Form(send.with_context(active_model="account.move", active_ids=invoice.ids)).save()
        self.assertFalse(wizard.line_ids.to_send, "held; the accountant may still send it anyway")
        self.assertIn("Money on its way: Bank line 04/25/2026 'Azure pays'", wizard.line_ids.hold_reason)

    def test_the_overview_counts_the_money_on_its_way(self):
        accountant = self.accountant
        whole = self.create_invoice(due=date(2026, 4, 20), amount=900.0)
        half = self.create_invoice(due=date(2026, 4, 21), amount=1000.0)
        self.bank_line(1400.0, partner=self.customer)
        with self.frozen("2026-04-27 09:00"):
            overview = self.env["account.payment.reminder.dashboard"].with_user(accountant).get_overview()
            figure = {figure["key"]: figure for figure in overview["headline"]}["on_its_way"]
            self.assertEqual((figure["count"], figure["amount"]), (2, 1400.0))
            self.assertEqual(figure["detail"], "2 invoices wait for it")
            listed = self.env["account.move"].with_user(accountant).search(figure["action"]["domain"])
            self.assertEqual(listed, whole | half)


@tagged("post_install", "-at_install")
class TestOnItsWayTools(BaseCase):
    def test_references_read_invoice_names_in_bank_labels(self):
        self.assertEqual(references("PAYMENT INV/2026/00012."), {"INV/2026/00012"})
        self.assertEqual(references("inv/2026/00012,INV/2026/00013"), {"INV/2026/00012", "INV/2026/00013"})
        self.assertEqual(references("+++090/9337/55493+++", None), {"090/9337/55493"})
        self.assertEqual(references("Rent April", "12"), set(), "no word with a digit long enough")

    def test_hold_pays_the_named_invoices_first_then_the_oldest(self):
        def money(amount, names=(), currency=1, day=date(2026, 4, 25)):
            return IncomingMoney("bank_line", 1, 7, 1, currency, amount, day, move_ids=names)

        def shares(held):
            return {move_id: [amount for _item, amount in parts] for move_id, parts in held.items()}

        since = date(2026, 4, 22)
        asked = [(10, 1, 400.0, since), (11, 1, 900.0, since)]
        self.assertEqual(shares(hold(asked, [money(900.0, (11,))])), {11: [900.0]})
        self.assertEqual(shares(hold(asked, [money(900.0)])), {10: [400.0], 11: [500.0]})
        self.assertEqual(hold(asked, [money(900.0, currency=2)]), {}, "another currency pays nothing")
        self.assertEqual(hold(asked, [money(900.0, day=since)]), {}, "too old: the wait is over")
        shared = money(1000.0)
        hold(asked[:1], [shared])
        self.assertEqual(shared.left, 600.0, "money is never counted twice")
