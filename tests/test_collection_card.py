"""DSO and the collection card (issue 20): days sales outstanding by the
countback method and the overdue amount month by month on a known ledger, the
card's figures on a known customer, and the company wall around the card."""

from datetime import date, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from ..tools.dso import countback, monthly_figures
from .common import PaymentReminderCommon


@tagged("post_install", "-at_install")
class TestDsoCountback(PaymentReminderCommon):
    """A ledger of its own company, so that its figures are exactly what the test books:

    ======  ==========  ==========  ======  =======================================
    entry   date        due         amount
    ======  ==========  ==========  ======  =======================================
    INV1    2026-01-15  2026-02-14  1000    600 paid on 2026-03-20
    INV2    2026-02-10  2026-03-12  2000    800 paid on 2026-04-05
    RFND    2026-03-10              -500    credit note, not matched
    INV3    2026-03-05  2026-04-04  3000
    INV4    2026-04-02  2026-05-02   600
    ======  ==========  ==========  ======  =======================================
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        data = cls.setup_other_company(name="DSO Company")
        cls.company = data["company"]
        cls.company.payment_reminder_policy_id = cls._create_policy(cls.company)
        cls.receivable = data["default_account_receivable"]
        cls.bank_account = data["default_journal_bank"].default_account_id
        cls.misc = data["default_journal_misc"]
        cls.accountant = new_test_user(
            cls.env,
            login="dso_accountant",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        customer = cls.env["res.partner"].create({"name": "DSO Customer"})
        inv1 = cls.create_invoice(partner=customer, due=date(2026, 2, 14), amount=1000.0)
        inv2 = cls.create_invoice(partner=customer, due=date(2026, 3, 12), amount=2000.0)
        cls.create_invoice(partner=customer, due=date(2026, 4, 4), amount=3000.0)
        cls.create_invoice(partner=customer, due=date(2026, 5, 2), amount=600.0)
        cls.create_invoice(partner=customer, due=date(2026, 4, 9), amount=500.0, move_type="out_refund")
        cls.receive(inv1, 600.0, date(2026, 3, 20))
        cls.receive(inv2, 800.0, date(2026, 4, 5))

    @classmethod
    def receive(cls, invoice, amount, day):
        """Money received on ``day``, matched with ``invoice`` (a journal entry of its own)."""
        entry = cls.env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": cls.misc.id,
                "date": day,
                "line_ids": [
                    Command.create({"account_id": cls.bank_account.id, "debit": amount, "name": "Received"}),
                    Command.create(
                        {
                            "account_id": cls.receivable.id,
                            "partner_id": invoice.partner_id.id,
                            "credit": amount,
                            "name": "Received",
                        }
                    ),
                ],
            }
        )
        entry.action_post()
        lines = (invoice.line_ids | entry.line_ids).filtered(lambda line: line.account_id == cls.receivable)
        lines.reconcile()

    def dso(self):
        with self.frozen("2026-04-10 09:00"):
            overview = self.env["account.payment.reminder.dashboard"].with_user(self.accountant).get_overview()
        return overview["dso"]

    def test_countback_on_a_known_ledger(self):
        dso = self.dso()
        months = {month["end"]: month for month in dso["months"]}
        self.assertEqual(len(dso["months"]), 12, "the last 12 months, the current one to today")
        self.assertEqual(dso["months"][0]["end"], "2025-05-31")
        # January: 1000 owed, 1000 sold in January: the whole of January
        self.assertEqual(months["2026-01-31"]["dso"], 31.0)
        # February: 3000 = February's 2000 (28 days) + January's 1000 (31 days)
        self.assertEqual(months["2026-02-28"]["dso"], 59.0)
        # March: 4900 = March's 2500 sold net of the credit note (31) + February's 2000 (28) + 400 of January's
        # 1000 (31 x 0.4 = 12.4)
        self.assertEqual(months["2026-03-31"]["dso"], 71.4)
        # April to the 10th: 4700 = April's 600 (10 days) + March's 2500 (31) + 1600 of February's 2000 (22.4)
        self.assertEqual(months["2026-04-10"]["dso"], 63.4)
        self.assertEqual(dso["latest"]["end"], "2026-04-10")
        self.assertTrue(dso["in_progress"])
        self.assertEqual(dso["since_last_month"], -8.0, "paid 8 days faster than at the end of March")
        self.assertEqual(dso["since_last_year"], 0.0, "no comparison with a month before the ledger starts")
        self.assertEqual(months["2025-12-31"]["dso"], 0.0, "nothing owed before the ledger starts")
        self.assertEqual(dso["latest"]["dso_display"], "63 days")

    def test_overdue_by_month_on_a_known_ledger(self):
        months = {month["end"]: month["overdue"] for month in self.dso()["months"]}
        self.assertEqual(months["2026-01-31"], 0.0, "INV1 falls due in February")
        self.assertEqual(months["2026-02-28"], 1000.0, "INV1, unpaid at the end of February")
        # INV1's 400 left after the 600 of 2026-03-20, INV2 overdue since 2026-03-13; the credit note is no invoice
        self.assertEqual(months["2026-03-31"], 2400.0)
        # INV1 400, INV2 2000 - 800 paid on 2026-04-05, INV3 overdue since 2026-04-05; INV4 is not due
        self.assertEqual(months["2026-04-10"], 4600.0)

    def test_countback_runs_out_of_history(self):
        """An opening balance with no sales behind it: the figure is a floor."""
        self.assertEqual(countback(0.0, [(31, 100.0)]), (0.0, True))
        self.assertEqual(countback(150.0, [(30, 100.0), (31, 0.0), (31, 100.0)]), (30.0 + 31.0 + 15.5, True))
        self.assertEqual(countback(500.0, [(30, 100.0), (31, 100.0)]), (61.0, False))
        # a month without any row still counts its days
        figures = monthly_figures(
            [(date(2026, 1, 1), "balance", 100.0), (date(2026, 1, 1), "sales", 100.0)], date(2026, 3, 31), count=3
        )
        self.assertEqual([month.dso for month in figures], [31.0, 59.0, 90.0])
        self.assertEqual([month.balance for month in figures], [100.0, 100.0, 100.0])

    def test_one_query_whatever_the_months(self):
        Dashboard = self.env["account.payment.reminder.dashboard"].with_user(self.accountant)
        with self.frozen("2026-04-10 09:00"):
            Dashboard._get_dso_rows(date(2026, 4, 10))  # the user's companies read once
            with self.assertQueryCount(1):
                rows = Dashboard._get_dso_rows(date(2026, 4, 10))
        self.assertEqual(len({month for month, _kind, _amount in rows}), 4, "one row per month and kind")


@tagged("post_install", "-at_install")
class TestCollectionCard(PaymentReminderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.eur = cls.setup_other_currency("EUR", rounding=0.01)  # 2 EUR for 1 USD in the test data
        cls.accountant = new_test_user(
            cls.env,
            login="card_accountant",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.card_customer = cls.env["res.partner"].create(
            {"name": "Card Customer", "email": "ap@card.example", "phone": "+32 2 555 01 02"}
        )
        customer = cls.card_customer
        with freeze_time("2026-04-01 09:00"):
            cls.oldest = cls.create_invoice(partner=customer, due=date(2026, 1, 20), amount=1000.0)  # 80 days
            cls.recent = cls.create_invoice(partner=customer, due=date(2026, 3, 20), amount=400.0)  # 21 days
            cls.not_due = cls.create_invoice(partner=customer, due=date(2026, 4, 30), amount=300.0)
            cls.in_eur = cls.create_invoice(partner=customer, due=date(2026, 2, 25), amount=500.0, currency=cls.eur)
            refund = cls.create_invoice(partner=customer, due=date(2026, 3, 31), amount=250.0, move_type="out_refund")
            cls.refund = refund
            cls.promise = cls.env["account.payment.reminder.promise"].create(
                {
                    "partner_id": customer.id,
                    "company_id": cls.company.id,
                    "move_ids": [Command.set(cls.recent.ids)],
                    "date": date(2026, 4, 15),
                    "note": "Paying on the 15th",
                }
            )
        # sudo: a dispute comes from the customer's page, whose controller records it as the superuser
        cls.dispute = (
            cls.env["account.payment.reminder.response"]
            .sudo()
            .create(
                {
                    "kind": "dispute",
                    "state": "to_review",
                    "partner_id": customer.id,
                    "company_id": cls.company.id,
                    "move_ids": [Command.set(cls.not_due.ids)],
                    "note": "One lamp is missing",
                }
            )
        )

    def card(self, user=None, partner=None):
        Card = self.env["account.payment.reminder.card"].with_user(user or self.accountant)
        with self.frozen("2026-04-10 09:00"):
            return Card.get_card((partner or self.card_customer).id)

    def test_balance_net_of_credits_by_age_and_currency(self):
        card = self.card()
        balance = card["balance"]
        self.assertEqual(balance["buckets"], ["Not due", "1-30 days", "31-60 days", "61-90 days", "Over 90 days"])
        rows = {row["currency"]: row for row in balance["rows"]}
        self.assertEqual(list(rows), ["USD", "EUR"], "the company's currency first, never added to another")
        # the 250 USD credit note pays the oldest USD invoice first: 1000 - 250 = 750 left of it
        self.assertEqual(rows["USD"]["amounts"], [300.0, 400.0, 0.0, 750.0, 0.0])
        self.assertEqual(rows["USD"]["total"], 1450.0)
        self.assertEqual(rows["USD"]["netted_display"], self.company.currency_id.format(250.0))
        self.assertFalse(rows["USD"]["left_display"], "the credit is used up")
        self.assertEqual(rows["EUR"]["amounts"], [0.0, 0.0, 500.0, 0.0, 0.0], "a USD credit never pays a EUR invoice")
        self.assertEqual(rows["EUR"]["company_display"], self.company.currency_id.format(250.0))

    def test_promises_plans_disputes(self):
        with self.frozen("2026-04-01 09:00"):
            plan = self.env["account.payment.reminder.plan"].create(
                {
                    "partner_id": self.card_customer.id,
                    "move_ids": [Command.set(self.in_eur.ids)],
                    "line_ids": [
                        Command.create({"date": date(2026, 4, 20), "amount": 200.0}),
                        Command.create({"date": date(2026, 5, 20), "amount": 300.0}),
                    ],
                }
            )
        card = self.card()
        [promise] = card["promises"]
        self.assertEqual(promise["id"], self.promise.id)
        self.assertEqual(promise["date"], "04/15/2026")
        self.assertEqual(promise["amount_display"], self.company.currency_id.format(400.0))
        self.assertEqual(promise["invoices"], self.recent.name)
        [planned] = card["plans"]
        self.assertEqual(planned["id"], plan.id)
        self.assertEqual(planned["next_date"], "04/20/2026")
        self.assertEqual(planned["next_amount_display"], self.eur.format(200.0))
        self.assertEqual(planned["total_display"], self.eur.format(500.0))
        [dispute] = card["disputes"]
        self.assertEqual((dispute["id"], dispute["note"]), (self.dispute.id, "One lamp is missing"))

    def test_last_messages_and_next_step(self):
        self.run_at("2026-04-01 09:00", partner_ids=self.card_customer.ids)
        sent = self.Message.search([("partner_id", "=", self.card_customer.id)])
        self.assertTrue(sent)
        self.pay(self.oldest.with_company(self.company), when=date(2026, 4, 8))
        card = self.card()
        messages = card["messages"]
        self.assertEqual([message["id"] for message in messages], sent.sorted(lambda m: (m.queued_at, m.id), True).ids)
        for message in messages:
            record = sent.browse(message["id"])
            self.assertEqual(message["channel"], "E-mail")
            self.assertEqual(message["level"], record.level_id.name)
            self.assertEqual(message["state"], record.state)
            opened = record.move_ids.filtered("payment_reminder_is_open")
            expected = "Invoices paid" if not opened else f"{len(opened)} of {len(record.move_ids)} invoices still open"
            self.assertIn(expected, message["outcome"], "what became of it")
        # the next step: the ladder's next level for the invoices still open, as their Reminders tab shows it
        with self.frozen("2026-04-10 09:00"):
            moves = (self.recent | self.not_due | self.in_eur).with_user(self.accountant)
            planned = moves.filtered("payment_reminder_next_date")
            first = min(planned.mapped("payment_reminder_next_date"))
        step = card["next_step"]
        self.assertTrue(step["date"])
        self.assertEqual(step["date"], first.strftime("%m/%d/%Y"))
        concerned = planned.filtered(lambda move: move.payment_reminder_next_date == first)
        self.assertEqual(step["level"], ", ".join(concerned.payment_reminder_next_level_id.mapped("name")))
        self.assertIn("Promise to pay", " ".join(step["waiting"]), "the promise holds the invoice it covers")

    def test_behaviour_as_the_scheduler_stored_it(self):
        self.assertFalse(self.card()["behaviour"], "no history computed yet")
        receivable = self.oldest.line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable")
        entry = self.env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": self.company_data["default_journal_misc"].id,
                "date": date(2026, 2, 9),  # 20 days after its due date
                "line_ids": [
                    Command.create(
                        {
                            "account_id": self.company_data["default_journal_bank"].default_account_id.id,
                            "debit": 1000.0,
                            "name": "Payment",
                        }
                    ),
                    Command.create(
                        {
                            "account_id": receivable.account_id.id,
                            "partner_id": self.card_customer.id,
                            "credit": 1000.0,
                            "name": "Payment",
                        }
                    ),
                ],
            }
        )
        entry.action_post()
        (receivable | entry.line_ids.filtered("credit")).reconcile()
        with self.frozen("2026-04-10 09:00"):
            # sudo: the scheduler stores the behaviour (its daily cron)
            self.env["account.payment.reminder.behaviour"].sudo()._refresh_company(self.company)
        row = self.card_customer.with_user(self.accountant)._get_payment_reminder_behaviour()
        behaviour = self.card()["behaviour"]
        self.assertEqual(behaviour["summary"], row.summary)
        self.assertEqual(behaviour["invoices_paid"], 1)
        self.assertEqual(behaviour["days_late_avg"], 20.0)
        self.assertEqual(behaviour["on_time_percent"], 0)
        self.assertIn("20 days late", behaviour["summary"])

    def test_opened_from_the_customer_and_the_overview(self):
        action = self.card_customer.with_user(self.accountant).action_open_payment_reminder_card()
        self.assertEqual(action["tag"], "account_payment_reminder.collection_card")
        self.assertEqual(action["params"], {"partner_id": self.card_customer.id})
        with self.frozen("2026-04-10 09:00"):
            overview = self.env["account.payment.reminder.dashboard"].with_user(self.accountant).get_overview()
        rows = {row["id"]: row for row in overview["customers"]}
        self.assertEqual(rows[self.card_customer.id]["card_action"]["params"], {"partner_id": self.card_customer.id})
        with self.frozen("2026-04-10 09:00"):
            wizard = (
                self.env["account.payment.reminder.send"]
                .with_user(self.accountant)
                .create({"move_ids": [Command.set(self.oldest.ids)]})
            )
            action = wizard.line_ids[:1].action_open_payment_reminder_card()
        self.assertEqual(action["params"], {"partner_id": self.card_customer.id}, "from the Send Reminder wizard")


class CardWallsCommon(PaymentReminderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="Card Company B")["company"]
        cls.only_a = cls.env["res.partner"].create({"name": "A's own customer", "company_id": cls.company.id})
        cls.shared = cls.env["res.partner"].create({"name": "Shared customer"})
        cls.create_invoice(partner=cls.only_a, due=date(2026, 3, 1), amount=777.0)
        cls.create_invoice(partner=cls.shared, due=date(2026, 3, 1), amount=555.0)
        cls.user_b = new_test_user(
            cls.env,
            login="card_wall_user_b",
            groups="account.group_account_invoice",
            company_id=cls.company_b.id,
            company_ids=[cls.company_b.id],
        )


@tagged("post_install", "-at_install")
class TestCollectionCardWalls(CardWallsCommon):
    def test_another_companys_customer_has_no_card(self):
        Card = self.env["account.payment.reminder.card"].with_user(self.user_b)
        with self.assertRaises(AccessError):
            Card.get_card(self.only_a.id)
        with self.assertRaises(AccessError):
            Card.with_context(allowed_company_ids=[self.company.id]).get_card(self.shared.id)
        card = Card.get_card(self.shared.id)
        self.assertEqual(card["balance"]["rows"], [], "B sees nothing of what the customer owes A")
        self.assertEqual(card["messages"], [])
        # A's own user sees it
        user_a = new_test_user(
            self.env,
            login="card_wall_user_a",
            groups="account.group_account_invoice",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        card = self.env["account.payment.reminder.card"].with_user(user_a).get_card(self.shared.id)
        self.assertEqual(card["balance"]["rows"][0]["total"], 555.0)


@tagged("post_install", "-at_install")
class TestCollectionCardWallsOverRpc(CardWallsCommon, HttpCase):
    def call_kw(self, model, method, args, kwargs=None):
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        )

    @mute_logger("odoo.http")
    def test_hand_written_partner_id_over_json_rpc(self):
        self.authenticate(self.user_b.login, self.user_b.login)
        with self.assertRaises(JsonRpcException) as caught:
            self.call_kw("account.payment.reminder.card", "get_card", [self.only_a.id])
        self.assertIn("AccessError", str(caught.exception))
        with self.assertRaises(JsonRpcException) as caught:
            self.call_kw(
                "account.payment.reminder.card",
                "get_card",
                [self.shared.id],
                {"context": {"allowed_company_ids": [self.company.id]}},
            )
        self.assertIn("AccessError", str(caught.exception))
        card = self.call_kw("account.payment.reminder.card", "get_card", [self.shared.id])
        self.assertEqual((card["partner"]["id"], card["balance"]["rows"]), (self.shared.id, []))


@tagged("post_install", "-at_install")
class TestCollectionCardTour(PaymentReminderCommon, HttpCase):
    def test_open_the_card_from_the_overview(self):
        accountant = new_test_user(
            self.env,
            login="collection_card_tour",
            password="collection_card_tour",
            groups="account.group_account_invoice,base.group_user",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        customer = self.env["res.partner"].create({"name": "Tour Card Customer", "email": "ap@card-tour.example"})
        today = date.today()
        self.create_invoice(partner=customer, due=today - timedelta(days=40), amount=300.0)
        self.create_invoice(partner=customer, due=today - timedelta(days=10), amount=200.0)
        self.create_invoice(partner=customer, due=today - timedelta(days=5), amount=50.0, move_type="out_refund")
        self.env["account.payment.reminder.promise"].create(
            {"partner_id": customer.id, "company_id": self.company.id, "date": today + timedelta(days=3)}
        )
        self.start_tour(
            "/odoo/action-account_payment_reminder.account_payment_reminder_credit_control_action",
            "account_payment_reminder_collection_card_tour",
            login=accountant.login,
        )
