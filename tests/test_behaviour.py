from datetime import date, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import Form, new_test_user, tagged

from ..tools.behaviour import company_payment_behaviour, payment_behaviour
from .common import PaymentReminderCommon

AS_OF = date(2026, 6, 1)


class BehaviourCommon(PaymentReminderCommon):
    """A planted history: invoices paid on known days, promises kept and
    broken, plans completed and broken, with facts after ``AS_OF`` that the
    figures of that day must not see."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Behaviour = cls.env["account.payment.reminder.behaviour"]
        cls.misc = cls.env["account.journal"].search(
            [("type", "=", "general"), ("company_id", "=", cls.company.id)], limit=1
        )
        cls.bank_account = cls.company_data["default_journal_bank"].default_account_id
        cls.late = cls.env["res.partner"].create({"name": "Late Larry", "email": "larry@example.com"})
        cls.early = cls.env["res.partner"].create({"name": "Early Erin", "email": "erin@example.com"})

    @classmethod
    def pay_on(cls, invoice, day, amount=None):
        """A bank entry dated ``day`` reconciled with the invoice: paid that day."""
        receivable = invoice.line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable")
        amount = amount if amount is not None else invoice.amount_residual
        entry = cls.env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": cls.misc.id,
                "date": day,
                "line_ids": [
                    Command.create({"account_id": cls.bank_account.id, "debit": amount, "name": "Payment"}),
                    Command.create(
                        {
                            "account_id": receivable.account_id.id,
                            "partner_id": invoice.commercial_partner_id.id,
                            "credit": amount,
                            "name": "Payment",
                        }
                    ),
                ],
            }
        )
        entry.action_post()
        (receivable | entry.line_ids.filtered("credit")).reconcile()
        return invoice

    @classmethod
    def created_on(cls, records, day):
        """Date a record's creation (the ORM stamps the transaction's time)."""
        records.flush_recordset()
        cls.env.cr.execute(
            f"UPDATE {records._table} SET create_date = %s WHERE id = ANY(%s)",  # noqa: S608 - a model's table
            [day, records.ids],
        )
        records.invalidate_recordset(["create_date"])

    @classmethod
    def plant_history(cls):
        """Late Larry, as of 2026-06-01: days late 10 and 0 in the quarter
        before the last, 30 and 20 in the last one (worse); an invoice paid
        after that day; two promises resolved by then (one kept), one after;
        two plans started (one completed), one broken after that day."""
        invoice = cls.create_invoice
        cls.pay_on(invoice(partner=cls.late, due=date(2026, 1, 10), amount=100.0), date(2026, 1, 20))
        cls.pay_on(invoice(partner=cls.late, due=date(2026, 2, 10), amount=100.0), date(2026, 2, 10))
        cls.pay_on(invoice(partner=cls.late, due=date(2026, 3, 10), amount=100.0), date(2026, 4, 9))
        cls.pay_on(invoice(partner=cls.late, due=date(2026, 4, 10), amount=100.0), date(2026, 4, 30))
        cls.pay_on(invoice(partner=cls.late, due=date(2026, 5, 20), amount=100.0), date(2026, 6, 15))
        # Early Erin pays 5 days before the due date
        cls.pay_on(invoice(partner=cls.early, due=date(2026, 4, 20), amount=300.0), date(2026, 4, 15))
        Promise = cls.env["account.payment.reminder.promise"]
        promises = Promise.create(
            [
                {"partner_id": cls.late.id, "date": date(2026, 3, 1), "state": "kept"},
                {"partner_id": cls.late.id, "date": date(2026, 4, 1), "state": "broken"},
                {"partner_id": cls.late.id, "date": date(2026, 6, 10), "state": "broken"},  # after AS_OF
                {"partner_id": cls.late.id, "date": date(2026, 2, 1), "state": "cancelled"},
            ]
        )
        cls.created_on(promises, "2026-01-15 10:00:00")
        Plan = cls.env["account.payment.reminder.plan"]
        open_invoice = invoice(partner=cls.late, due=date(2026, 1, 5), amount=600.0)
        with freeze_time("2026-01-05"):
            done = Plan.create(
                {
                    "partner_id": cls.late.id,
                    "move_ids": [Command.set(open_invoice.ids)],
                    "line_ids": [
                        Command.create({"date": date(2026, 1, 15), "amount": 300.0}),
                        Command.create({"date": date(2026, 2, 15), "amount": 300.0}),
                    ],
                }
            )
            done.state = "done"
        with freeze_time("2026-05-20"):
            broken = Plan.create(
                {
                    "partner_id": cls.late.id,
                    "move_ids": [Command.set(open_invoice.ids)],
                    "line_ids": [
                        Command.create({"date": date(2026, 6, 5), "amount": 300.0}),
                        Command.create({"date": date(2026, 7, 5), "amount": 300.0}),
                    ],
                }
            )
            broken.state = "broken"
        cls.created_on(done, "2026-01-05 10:00:00")
        cls.created_on(broken, "2026-05-20 10:00:00")
        cls.env.flush_all()


@tagged("post_install", "-at_install")
class TestBehaviour(BehaviourCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plant_history()

    def test_figures_on_a_known_history(self):
        figures = payment_behaviour(self.env, self.company, [self.late.id, self.early.id], AS_OF)
        larry = figures[self.late.id]
        self.assertEqual(larry["invoices_paid"], 4, "the invoice paid on 06-15 is not known on 06-01")
        self.assertAlmostEqual(larry["days_late_avg"], 15.0)  # 10, 0, 30, 20
        self.assertAlmostEqual(larry["days_late_typical"], 15.0)
        self.assertAlmostEqual(larry["on_time_share"], 0.25)
        self.assertEqual((larry["promises_made"], larry["promises_kept"]), (2, 1))
        self.assertEqual((larry["plans_started"], larry["plans_completed"], larry["plans_broken"]), (2, 1, 0))
        self.assertEqual(larry["trend"], "worse", "25 days late in the last quarter against 5 before")
        erin = figures[self.early.id]
        self.assertEqual((erin["invoices_paid"], erin["days_late_avg"], erin["on_time_share"]), (1, -5.0, 1.0))
        self.assertFalse(erin["trend"], "no payment in the quarter before the last")
        company = company_payment_behaviour(self.env, self.company, AS_OF)
        self.assertEqual(company["invoices_paid"], 5)
        self.assertAlmostEqual(company["days_late_avg"], 11.0)  # 10, 0, 30, 20, -5
        self.assertAlmostEqual(company["days_late_typical"], 10.0)

    def test_as_of_ignores_later_facts(self):
        before = payment_behaviour(self.env, self.company, [self.late.id], date(2026, 2, 1))[self.late.id]
        self.assertEqual(before["invoices_paid"], 1)
        self.assertEqual(before["promises_made"], 0, "the kept promise's grace ends on 03-03")
        self.assertEqual((before["plans_started"], before["plans_completed"]), (1, 0), "its last instalment: 02-15")
        after = payment_behaviour(self.env, self.company, [self.late.id], date(2026, 7, 20))[self.late.id]
        self.assertEqual(after["invoices_paid"], 5)
        self.assertEqual((after["promises_made"], after["promises_kept"]), (3, 1))
        self.assertEqual((after["plans_started"], after["plans_completed"], after["plans_broken"]), (2, 1, 1))

    def test_stored_rows_and_summary(self):
        with freeze_time(AS_OF):
            self.Behaviour._refresh_company(self.company, AS_OF)
        row = self.late._get_payment_reminder_behaviour()
        self.assertEqual(len(row), 1)
        self.assertEqual((row.invoices_paid, row.promises_kept, row.trend), (4, 1, "worse"))
        self.assertEqual(
            self.late.payment_reminder_behaviour_summary,
            "Pays 15 days late on average (typically 15 days late) · 25 % on time · kept 1 of 2 promises"
            " · completed 1 of 2 plans · worse than last quarter",
        )
        self.assertEqual(
            self.early.payment_reminder_behaviour_summary,
            "Pays 5 days early on average (typically 5 days early) · 100 % on time",
        )
        company_row = self.Behaviour.search([("company_id", "=", self.company.id), ("partner_id", "=", False)])
        self.assertEqual(company_row.invoices_paid, 5)
        # refreshing again replaces the rows, one per customer
        self.Behaviour._refresh_company(self.company, AS_OF + timedelta(days=50))
        self.assertEqual(self.late._get_payment_reminder_behaviour().invoices_paid, 5)
        self.assertEqual(self.Behaviour.search_count([("partner_id", "=", self.late.id)]), 1)

    def test_the_scheduler_refreshes_once_a_day(self):
        with freeze_time(AS_OF):
            self.env["account.payment.reminder.policy"]._cron_send_reminders()
            row = self.late._get_payment_reminder_behaviour()
            self.assertEqual((row.as_of, row.invoices_paid), (AS_OF, 4))
            self.env.cr.execute("UPDATE account_payment_reminder_behaviour SET invoices_paid = 99")
            self.env["account.payment.reminder.policy"]._cron_send_reminders()
        self.Behaviour.invalidate_model()
        self.assertEqual(row.invoices_paid, 99, "computed today already: left as it is")

    def test_shown_where_decisions_are_made(self):
        accountant = new_test_user(
            self.env,
            login="behaviour_controller",
            groups="account.group_account_invoice",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        self.Behaviour._refresh_company(self.company, AS_OF)
        env = self.env(user=accountant)
        promise = env["account.payment.reminder.promise"].search([("partner_id", "=", self.late.id)], limit=1)
        self.assertIn("kept 1 of 2 promises", promise.partner_behaviour)
        plan = env["account.payment.reminder.plan"].search([("partner_id", "=", self.late.id)], limit=1)
        self.assertIn("completed 1 of 2 plans", plan.partner_behaviour)
        open_invoice = self.env["account.move"].search([("partner_id", "=", self.late.id), ("amount_residual", ">", 0)])
        with freeze_time(AS_OF):
            wizard = Form(
                env["account.payment.reminder.send"].with_context(
                    active_model="account.move", active_ids=open_invoice.ids
                )
            )
            lines = wizard.save().line_ids
        self.assertIn("15 days late on average", lines.filtered(lambda line: line.partner_id == self.late)[0].behaviour)
        with freeze_time(AS_OF):
            dry_run = env["account.payment.reminder.dry.run"].create({})
            dry_run.action_refresh()
        line = dry_run.line_ids.filtered(lambda line: line.partner_id == self.late)
        self.assertTrue(line)
        self.assertIn("worse than last quarter", line[0].behaviour)

    def test_another_company_cannot_read_the_rows(self):
        company_b = self.setup_other_company(name="Company B")["company"]
        user_b = new_test_user(
            self.env,
            login="behaviour_b",
            groups="account.group_account_invoice",
            company_id=company_b.id,
            company_ids=[company_b.id],
        )
        user_a = new_test_user(
            self.env,
            login="behaviour_a",
            groups="account.group_account_invoice",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        self.Behaviour._refresh_company(self.company, AS_OF)
        row = self.Behaviour.search([("company_id", "=", self.company.id), ("partner_id", "=", self.late.id)])
        self.assertEqual(self.Behaviour.with_user(user_a).search([("partner_id", "=", self.late.id)]), row)
        self.assertFalse(self.Behaviour.with_user(user_b).search([]))
        with self.assertRaises(AccessError):
            row.with_user(user_b).read(["days_late_avg"])
        summary = self.late.with_user(user_b).with_company(company_b).payment_reminder_behaviour_summary
        self.assertEqual(summary, "No payment history yet", "company A's history is not company B's")


@tagged("post_install", "-at_install")
class TestForecast(BehaviourCommon):
    """The planted history, refreshed on 2026-06-01 (a Monday), then open
    invoices: Larry typically pays 15 days late and kept 1 of 2 promises,
    Erin pays 5 days early, Nora has no history (the company's 10 days late),
    the company completed its one plan whose outcome is known."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plant_history()
        cls.env["account.payment.reminder.behaviour"]._refresh_company(cls.company, AS_OF)
        cls.eur = cls.setup_other_currency("EUR", rounding=0.01)
        cls.nora = cls.env["res.partner"].create({"name": "New Nora", "email": "nora@example.com"})
        cls.larry_old = cls.env["account.move"].search(
            [("partner_id", "=", cls.late.id), ("payment_state", "=", "not_paid"), ("amount_total", "=", 600.0)]
        )
        cls.larry_new = cls.create_invoice(partner=cls.late, due=date(2026, 6, 10), amount=1000.0)
        cls.erin_open = cls.create_invoice(partner=cls.early, due=date(2026, 6, 20), amount=300.0)
        refund = cls.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": cls.early.id,
                "invoice_date": date(2026, 5, 1),
                "invoice_line_ids": [
                    Command.create({"name": "Return", "quantity": 1, "price_unit": 100.0, "tax_ids": []})
                ],
            }
        )
        refund.action_post()
        cls.nora_usd = cls.create_invoice(partner=cls.nora, due=date(2026, 6, 5), amount=200.0)
        cls.nora_eur = cls.create_invoice(partner=cls.nora, due=date(2026, 6, 8), amount=500.0, currency=cls.eur)
        cls.nora_late = cls.create_invoice(partner=cls.nora, due=date(2026, 5, 20), amount=50.0)
        Promise = cls.env["account.payment.reminder.promise"]
        cls.promise = Promise.create(
            {
                "partner_id": cls.late.id,
                "move_ids": [Command.set(cls.larry_new.ids)],
                "date": date(2026, 6, 12),
                "amount": 400.0,
                "grace_days": 2,
            }
        )
        # Nora's plan takes her USD invoice: her promise on it adds nothing
        Promise.create(
            {"partner_id": cls.nora.id, "move_ids": [Command.set(cls.nora_usd.ids)], "date": date(2026, 6, 3)}
        )
        with freeze_time(AS_OF):
            cls.env["account.payment.reminder.plan"].create(
                {
                    "partner_id": cls.nora.id,
                    "move_ids": [Command.set(cls.nora_usd.ids)],
                    "line_ids": [
                        Command.create({"date": date(2026, 6, 8), "amount": 100.0}),
                        Command.create({"date": date(2026, 7, 8), "amount": 100.0}),
                    ],
                }
            )
        cls.accountant = new_test_user(
            cls.env,
            login="forecast_accountant",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )

    def overview(self, user=None):
        with freeze_time(AS_OF):
            return self.env["account.payment.reminder.dashboard"].with_user(user or self.accountant).get_overview()

    def test_weekly_amounts_per_currency(self):
        forecast = {serie["currency"]: serie for serie in self.overview()["forecast"]}
        self.assertEqual(list(forecast), [self.company.currency_id.name, "EUR"], "the company's currency first")
        usd = [week["amount"] for week in forecast[self.company.currency_id.name]["weeks"]]
        self.assertEqual(
            usd,
            [
                50.0,  # Nora's invoice of 05-20, 10 days late is 05-30: 2 days behind, expected 2 days ahead
                200.0 + 100.0,  # half Larry's promise of 400 on 06-12 (he kept 1 of 2); Nora's instalment of 06-08
                200.0,  # Erin's 300 less her credit of 100, 5 days early: 06-15
                600.0,  # the rest of Larry's invoice of 1000, 15 days late: 06-25
                200.0,  # the half of the promise he breaks: after its grace, 15 days late: 06-29
                100.0,  # Nora's second instalment, 07-08 (the company completed its plans)
                *[0.0] * 7,
            ],
        )
        # Larry's January invoice: 15 days late was 01-20, 132 days behind: not expected within 13 weeks
        self.assertEqual(
            forecast[self.company.currency_id.name]["later_display"], self.company.currency_id.format(600.0)
        )
        self.assertEqual(
            sum(usd) + 600.0, 50.0 + 1000.0 + 200.0 + 200.0 + 600.0, "every amount owed once, net of credits"
        )
        eur = [week["amount"] for week in forecast["EUR"]["weeks"]]
        self.assertEqual(eur, [0.0, 0.0, 500.0] + [0.0] * 10, "Nora's EUR invoice, the company's 10 days late: 06-18")
        week = forecast[self.company.currency_id.name]["weeks"][1]
        self.assertEqual(week["action"]["domain"], [("id", "in", sorted((self.larry_new | self.nora_usd).ids))])
        self.assertEqual(week["count"], 2)

    def test_another_company_sees_none_of_it(self):
        company_b = self.setup_other_company(name="Company B")["company"]
        user_b = new_test_user(
            self.env,
            login="forecast_b",
            groups="account.group_account_invoice",
            company_id=company_b.id,
            company_ids=[company_b.id],
        )
        self.assertEqual(self.overview(user_b)["forecast"], [])
        with self.assertRaises(AccessError):
            self.env["account.payment.reminder.dashboard"].with_user(user_b).with_company(self.company).get_overview()
