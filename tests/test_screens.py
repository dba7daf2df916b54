"""The accountant's screens: the Credit Control overview (its figures and the
lists they open agree), the credit controller, the invoice's Reminders tab,
holds, promises, gateways' connection test and the language of every channel."""

import socket
from datetime import date, datetime

from lxml import etree

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, TransactionCase, new_test_user, tagged
from odoo.tools import file_open
from odoo.tools.convert import convert_file
from odoo.tools.safe_eval import datetime as safe_datetime
from odoo.tools.safe_eval import safe_eval

from .common import ChannelCommon, PaymentReminderCommon

TODAY = "2026-04-10 09:00"


@tagged("post_install", "-at_install")
class TestCreditControlOverview(PaymentReminderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # a company of its own: its figures are exactly what the tests make, with or without demo data
        cls.main_company = cls.company
        cls.company = cls.setup_other_company(name="Overview Company")["company"]
        cls.company.payment_reminder_policy_id = cls._create_policy(cls.company)
        cls.accountant = new_test_user(
            cls.env,
            login="overview_accountant",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        Partner = cls.env["res.partner"]
        cls.disputing = Partner.create({"name": "Disputing Shop", "email": "ap@disputing.example"})
        cls.held = Partner.create(
            {"name": "Held Corp", "is_company": True, "payment_reminder_hold_until": date(2026, 12, 31)}
        )
        cls.held_contact = Partner.create({"name": "Held Contact", "parent_id": cls.held.id})
        cls.promising = Partner.create({"name": "Promising Ltd", "email": "ap@promising.example"})
        cls.planning = Partner.create({"name": "Planning Ltd", "email": "ap@planning.example"})

    def figures(self, user=None):
        overview = self.env["account.payment.reminder.dashboard"].with_user(user or self.accountant).get_overview()
        return {figure["key"]: figure for figure in overview["headline"] + overview["today"]}, overview

    def open_list(self, action, user=None):
        """What the list opened by ``action`` shows, as the user."""
        return self.env[action["res_model"]].with_user(user or self.accountant).search(action["domain"])

    def test_every_figure_counts_what_its_list_shows(self):
        with self.frozen("2026-03-01 09:00"):
            plan_invoice = self.create_invoice(partner=self.planning, due=date(2026, 2, 20), amount=300.0)
            plan = self.env["account.payment.reminder.plan"].create(
                {
                    "partner_id": self.planning.id,
                    "company_id": self.company.id,
                    "move_ids": [Command.set(plan_invoice.ids)],
                    "line_ids": [
                        Command.create({"date": date(2026, 4, 5), "amount": 150.0}),
                        Command.create({"date": date(2026, 5, 5), "amount": 150.0}),
                    ],
                }
            )
        reminded = self.create_invoice(due=date(2026, 3, 1), amount=400.0)
        self.run_at("2026-04-01 09:00")
        self.assertTrue(reminded.payment_reminder_level_id)
        self.create_invoice(due=date(2026, 4, 5), amount=200.0)  # overdue, not reminded yet
        self.create_invoice(due=date(2026, 5, 5), amount=50.0)  # open, not due
        dispute = self.create_invoice(partner=self.disputing, due=date(2026, 3, 20), amount=700.0)
        dispute.write({"payment_reminder_hold_until": date(2026, 5, 1), "payment_reminder_hold_reason": "Quantity"})
        paid_on_hold = self.create_invoice(partner=self.disputing, due=date(2026, 3, 20), amount=90.0)
        paid_on_hold.payment_reminder_hold_until = date(2026, 5, 1)
        self.pay(paid_on_hold)
        promised = self.create_invoice(partner=self.promising, due=date(2026, 3, 25), amount=500.0)
        Promise = self.env["account.payment.reminder.promise"]
        with self.frozen(TODAY):
            Promise = Promise.with_company(self.company)
            soon, due_today = Promise.create(
                [
                    {
                        "partner_id": self.promising.id,
                        "move_ids": [Command.set(promised.ids)],
                        "date": date(2026, 4, 14),
                    },
                    {"partner_id": self.promising.id, "date": date(2026, 4, 10)},
                ]
            )
            later = Promise.create({"partner_id": self.promising.id, "date": date(2026, 4, 30)})
            Promise.create({"partner_id": self.promising.id, "date": date(2026, 4, 12)}).action_cancel()
            Promise.with_company(self.main_company).create({"partner_id": self.promising.id, "date": date(2026, 4, 12)})

            figures, overview = self.figures()
            for figure in figures.values():
                records = self.open_list(figure["action"])
                self.assertEqual(figure["count"], len(records), f"'{figure['label']}' counts what its list shows")
            self.assertEqual(self.open_list(figures["promises_week"]["action"]), soon | due_today)
            self.assertNotIn(later, self.open_list(figures["promises_week"]["action"]))
            self.assertEqual(self.open_list(figures["promises_due"]["action"]), due_today)
            self.assertEqual(
                self.open_list(figures["plans_late"]["action"]), plan, "the instalment of 5 April is unpaid"
            )
            self.assertEqual(
                self.open_list(figures["holds_by_hand"]["action"]), dispute, "a paid invoice is no longer held"
            )
            self.assertEqual(
                self.open_list(figures["customers_on_hold"]["action"]),
                self.disputing | self.held,
                "a customer with an invoice on hold, a customer on hold; not its contact",
            )
            self.assertEqual(self.open_list(figures["invoices_on_hold"]["action"]), dispute)
            overdue = self.open_list(figures["overdue"]["action"])
            self.assertEqual(figures["overdue"]["amount"], sum(overdue.mapped("amount_residual_signed")))
            self.assertEqual(figures["overdue"]["detail"], f"{len(overdue)} invoices, net of credits")
            self.assertEqual(figures["overdue"]["amount"], 400.0 + 200.0 + 700.0 + 500.0 + 300.0)
            # the graph: each bar opens its own invoices, and the bars add up to the overdue amount
            cells = [
                (amount, action)
                for serie in overview["aging"]["series"]
                for amount, action in zip(serie["amounts"], serie["actions"], strict=True)
                if action
            ]
            self.assertEqual(sum(amount for amount, _action in cells), figures["overdue"]["amount"])
            for amount, action in cells:
                self.assertEqual(sum(self.open_list(action).mapped("amount_residual_signed")), amount)
            # the customers who owe the most, each opening their overdue invoices
            self.assertEqual(overview["customers"][0]["name"], "Disputing Shop")
            for customer in overview["customers"]:
                invoices = self.open_list(customer["action"])
                self.assertEqual(sum(invoices.mapped("amount_residual_signed")), customer["amount"])
                self.assertEqual(len(invoices), customer["count"])
            labels = [serie["label"] for serie in overview["aging"]["series"]]
            self.assertEqual(labels[0], "Not reminded yet")
            self.assertIn(reminded.payment_reminder_level_id.name, labels)

    def test_amounts_are_net_of_the_customers_credits(self):
        """Deco Addict owes 31,750 overdue and holds 92,750 of credit notes:
        the overview must not show it as the top debtor."""
        covered = self.env["res.partner"].create({"name": "Covered Ltd", "email": "ap@covered.example"})
        self.create_invoice(partner=covered, due=date(2026, 3, 1), amount=1000.0)
        self.create_invoice(partner=covered, due=date(2026, 3, 1), amount=1500.0, move_type="out_refund")
        partly = self.env["res.partner"].create({"name": "Partly Ltd", "email": "ap@partly.example"})
        oldest = self.create_invoice(partner=partly, due=date(2026, 2, 1), amount=300.0)
        newer = self.create_invoice(partner=partly, due=date(2026, 3, 1), amount=700.0)
        self.create_invoice(partner=partly, due=date(2026, 3, 1), amount=400.0, move_type="out_refund")
        with self.frozen(TODAY):
            figures, overview = self.figures()
        self.assertEqual(figures["overdue"]["amount"], 600.0, "1,000 covered by 1,500; 1,000 less 400 of credit")
        self.assertEqual(figures["receivable"]["amount"], 600.0)
        self.assertIn("net of credits", figures["overdue"]["detail"])
        self.assertEqual(
            self.open_list(figures["overdue"]["action"]), newer, "the credits pay the oldest first: 300 is covered"
        )
        self.assertNotIn(oldest, self.open_list(figures["receivable"]["action"]))
        self.assertEqual([(row["name"], row["amount"]) for row in overview["customers"]], [("Partly Ltd", 600.0)])
        cells = [amount for serie in overview["aging"]["series"] for amount in serie["amounts"]]
        self.assertEqual(sum(cells), 600.0)

    def test_the_most_overdue_customers_say_how_late_in_words(self):
        """Not '68 d' on a French screen: the days overdue in the user's language."""
        late = self.env["res.partner"].create({"name": "Late Ltd", "email": "ap@late.example"})
        self.create_invoice(partner=late, due=date(2026, 2, 1), amount=300.0)
        self.env["res.lang"]._activate_lang("fr_FR")
        Dashboard = self.env["account.payment.reminder.dashboard"].with_user(self.accountant)
        with self.frozen(TODAY):
            [english] = Dashboard.get_overview()["customers"]
            [french] = Dashboard.with_context(lang="fr_FR").get_overview()["customers"]
        self.assertEqual((english["days"], english["days_display"]), (68, "68 days overdue"))
        self.assertEqual(french["days_display"], "68 jours de retard")
        with file_open("account_payment_reminder/static/src/credit_control/credit_control.xml") as template:
            self.assertIn('t-out="customer.days_display"', template.read(), "the overview shows these words")

    def test_customers_not_reached_and_disputes_count_once(self):
        Message = self.env["account.payment.reminder.message"].sudo()  # the history is written by code only
        invoice = self.create_invoice(due=date(2026, 4, 1))
        reached = self.env["res.partner"].create({"name": "Reached", "email": "r@x.example"})
        invoice_reached = self.create_invoice(partner=reached, due=date(2026, 4, 1))
        level = self.company.payment_reminder_policy_id.level_ids[:1]

        def message(move, state, minutes):
            return Message.create(
                {
                    "company_id": self.company.id,
                    "partner_id": move.commercial_partner_id.id,
                    "move_ids": [Command.set(move.ids)],
                    "level_id": level.id,
                    "channel": "sms" if state == "failed" else "email",
                    "recipient": "+32470000000" if state == "failed" else "r@x.example",
                    "state": state,
                    "queued_at": datetime(2026, 4, 10, 9, minutes),
                    "idempotency_key": f"test:{move.id}:{state}:{minutes}",
                }
            )

        with self.frozen(TODAY):
            lost = message(invoice, "failed", 0)
            message(invoice_reached, "failed", 0)
            message(invoice_reached, "sent", 1)  # the fallback went by e-mail
            figures, _overview = self.figures()
        self.assertEqual(figures["failed"]["count"], 1, "the customer whose fallback went was reached")
        self.assertEqual(self.open_list(figures["failed"]["action"]), lost)
        # a customer's dispute holds its invoice while it waits for review: counted once, as the dispute
        disputed = self.create_invoice(partner=self.disputing, due=date(2026, 4, 1))
        disputed.payment_reminder_hold_until = date(2026, 4, 24)
        self.env["account.payment.reminder.response"].sudo().create(  # as the page records it
            {
                "kind": "dispute",
                "state": "to_review",
                "partner_id": self.disputing.id,
                "company_id": self.company.id,
                "move_ids": [Command.set(disputed.ids)],
            }
        )
        with self.frozen(TODAY):
            figures, _overview = self.figures()
        self.assertEqual((figures["page_disputes"]["count"], figures["holds_by_hand"]["count"]), (1, 0))
        self.assertEqual(figures["page_to_review"]["count"], 0, "no 'already paid' report")
        self.assertIn("o_view_nocontent_smiling_face", figures["plans_broken"]["action"]["help"])
        self.assertFalse(self.open_list(figures["plans_broken"]["action"]), "an empty list, with Odoo's help")

    def test_the_overdue_list_has_a_customer_column_and_no_grouping(self):
        self.create_invoice(due=date(2026, 3, 1))
        with self.frozen(TODAY):
            figures, _overview = self.figures()
        action = figures["overdue"]["action"]
        self.assertNotIn("group_by", action["context"], "no group labelled 'None'")
        self.assertEqual(action["context"]["default_move_type"], "out_invoice", "the list shows its Customer column")
        list_view = self.env["account.move"].with_user(self.accountant).get_view(action["views"][0][0], "list")
        self.assertIn('name="invoice_partner_display_name"', list_view["arch"])
        self.assertIn('name="amount_residual_signed"', list_view["arch"])

    def test_nothing_is_stored_per_visit_and_the_action_has_a_title(self):
        Overview = self.env["account.payment.reminder.dashboard"]
        self.assertTrue(Overview._abstract, "no table: a visit stores nothing")
        action = self.env.ref("account_payment_reminder.account_payment_reminder_credit_control_action")
        self.assertEqual((action.type, action.name), ("ir.actions.client", "Credit Control"))
        menu = self.env.ref("account_payment_reminder.account_payment_reminder_dashboard_menu")
        self.assertEqual(menu.action, action)
        dry_run = self.env["account.payment.reminder.dry.run"].with_user(self.accountant).action_open()
        record = self.env["account.payment.reminder.dry.run"].with_user(self.accountant).browse(dry_run["res_id"])
        self.assertEqual(record.display_name, "What Would Go Now", "one name: the menu's, the title's, the button's")

    def test_the_invoice_shows_the_policy_that_applies_and_levels_their_channels(self):
        invoice = self.create_invoice(due=date(2026, 3, 1))
        policy = self.company.payment_reminder_policy_id
        self.assertFalse(invoice.payment_reminder_policy_id)
        self.assertEqual(invoice.with_user(self.accountant).payment_reminder_applied_policy_id, policy)
        level = policy.level_ids.sorted("sequence")[2]
        level.write(
            {
                "use_whatsapp": True,
                "use_sms": True,
                "channel_strategy": "fallback",
                "sms_template_id": self.env.ref("account_payment_reminder.sms_template_overdue").id,
                "whatsapp_template_ids": [
                    Command.set(self.env.ref("account_payment_reminder.whatsapp_template_overdue").ids)
                ],
            }
        )
        self.assertEqual(level.channel_order, "WhatsApp → SMS → E-mail")
        level.channel_strategy = "all"
        self.assertEqual(level.channel_order, "WhatsApp + SMS + E-mail, all at once")
        self.assertIn("from the invoice's due date", type(level).offset_days.help)

    def test_figures_belong_to_the_current_company(self):
        self.create_invoice(due=date(2026, 3, 1), amount=111.0, company=self.main_company)
        self.create_invoice(due=date(2026, 3, 1), amount=222.0)
        with self.frozen(TODAY):
            figures, _overview = self.figures()
        self.assertEqual(figures["overdue"]["amount"], 222.0)


@tagged("post_install", "-at_install")
class TestCreditController(PaymentReminderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="controller_manager",
            groups="account.group_account_manager",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.salesperson = new_test_user(
            cls.env, login="controller_salesperson", groups="account.group_account_invoice", company_id=cls.company.id
        )
        cls.level_final.activity_type_id = cls.env.ref("mail.mail_activity_data_call")
        cls.odoobot = cls.env.ref("base.user_root")

    def test_the_policy_form_shows_the_credit_controller(self):
        with Form(self.env["account.payment.reminder.policy"].with_user(self.manager)) as form:
            form.name = "Export customers"
            self.assertEqual(form.user_id, self.manager, "who sets up a policy is its credit controller")
        shipped = self.env.ref("account_payment_reminder.policy_default").with_user(self.env.ref("base.user_admin"))
        self.assertNotEqual(shipped.user_id, self.odoobot, "installed by the system, yet not OdooBot's")

    def test_the_final_notice_call_goes_to_a_person(self):
        # set up by the system (as the shipped policy is, at installation)
        # catching up: the final notice at once, for invoices a month overdue never reminded
        self.policy = self.policy.with_user(self.odoobot).copy(
            {"name": "System policy", "user_id": False, "catch_up": True}
        )
        self.company.payment_reminder_policy_id = self.policy
        self.assertFalse(self.policy.user_id)
        self.level_final = self.policy.level_ids.filtered("is_final_notice")
        with_salesperson = self.create_invoice(due=date(2026, 3, 1), invoice_user_id=self.salesperson.id)
        customer_b = self.customer.copy({"name": "Customer B"})
        # made by the system: OdooBot is its salesperson
        without = self.create_invoice(partner=customer_b, due=date(2026, 3, 1), invoice_user_id=self.odoobot.id)
        self.run_at("2026-04-01 09:00")
        self.assertEqual(with_salesperson.activity_ids.user_id, self.salesperson)
        self.assertEqual(without.activity_ids.user_id, self.env.ref("base.user_admin"), "nobody set: the admin")
        # the calls wait in the salesperson's activities: no "you have been assigned" e-mail for each one
        assigned = [("partner_ids", "in", self.salesperson.partner_id.ids), ("message_type", "=", "user_notification")]
        self.assertFalse(self.env["mail.message"].search_count(assigned))
        # once a manager configures the policy, the calls without salesperson are theirs
        self.policy.with_user(self.manager).min_interval_days = 0
        customer_c = self.customer.copy({"name": "Customer C"})
        later = self.create_invoice(partner=customer_c, due=date(2026, 3, 2), invoice_user_id=False)
        self.run_at("2026-04-02 09:00")
        self.assertEqual(later.activity_ids.user_id, self.manager)
        # an explicit credit controller wins over who configured it
        self.policy.user_id = self.salesperson
        customer_d = self.customer.copy({"name": "Customer D"})
        last = self.create_invoice(partner=customer_d, due=date(2026, 3, 3), invoice_user_id=False)
        self.run_at("2026-04-03 09:00")
        self.assertEqual(last.activity_ids.user_id, self.salesperson)


@tagged("post_install", "-at_install")
class TestPolicyLevelOrder(PaymentReminderCommon):
    """A policy's levels are listed, and escalate, in the order of their days,
    whatever sequence they were created with."""

    def _level(self, name, offset, sequence, trigger="due_date", key="overdue"):
        return Command.create(
            {
                "name": name,
                "sequence": sequence,
                "trigger": trigger,
                "offset_days": offset,
                "use_email": True,
                "mail_template_id": self.env.ref(f"account_payment_reminder.mail_template_{key}").id,
            }
        )

    def test_levels_are_listed_in_the_order_they_escalate(self):
        policy = self.env["account.payment.reminder.policy"].create(
            {
                "name": "Created in disorder",
                "company_id": self.company.id,
                "level_ids": [
                    self._level("Final notice", 30, 1, key="final"),
                    self._level("Due today", 0, 2, key="due"),
                    self._level("Courtesy", -3, 50, key="courtesy"),
                    self._level("Second reminder", 14, 3, key="followup"),
                    self._level("Early payment", -2, 99, trigger="early_discount", key="early_discount"),
                    self._level("Overdue", 7, 4),
                ],
            }
        )
        escalation = ["Early payment", "Courtesy", "Due today", "Overdue", "Second reminder", "Final notice"]
        self.assertEqual(policy.level_ids.mapped("name"), escalation)
        self.assertEqual(
            [line["name"] for line in Form(policy).level_ids._records], escalation, "the policy form lists them so"
        )
        self.assertEqual(
            [level_id for _seq, level_id, _early, _days in policy._get_ladder()],
            list(reversed(policy.level_ids.ids)),
            "the scheduler climbs the same ladder",
        )
        # a level whose days change moves to its place; a sequence typed in changes nothing
        overdue = policy.level_ids.filtered(lambda level: level.name == "Overdue")
        overdue.offset_days = 21
        overdue.sequence = 1
        self.assertEqual(
            policy.level_ids.mapped("name"),
            ["Early payment", "Courtesy", "Due today", "Second reminder", "Overdue", "Final notice"],
        )
        policy.level_ids.invalidate_recordset()
        self.assertEqual(policy.level_ids.mapped("sequence"), [10, 20, 30, 40, 50, 60])
        view = self.env.ref("account_payment_reminder.account_payment_reminder_policy_view_form")
        levels_list = etree.fromstring(view.arch).xpath("//field[@name='level_ids']/list")[0]
        self.assertFalse(levels_list.xpath("field[@widget='handle']"), "no handle to drag a level out of its place")


@tagged("post_install", "-at_install")
class TestInvoiceRemindersTab(PaymentReminderCommon):
    """The tab says what holds the invoice and when the next reminder goes,
    as the scheduler will decide it."""

    def assertNextReminderGoesOn(self, invoice, day):
        """The scheduler sends nothing the day before ``day`` and sends on ``day``."""
        self.run_at(datetime(day.year, day.month, day.day, 9) - self.one_day)
        self.assertFalse(self.messages_for(invoice), f"nothing before {day}")
        self.run_at(datetime(day.year, day.month, day.day, 9))
        self.assertTrue(self.messages_for(invoice), f"a reminder on {day}")

    one_day = datetime(2026, 1, 2) - datetime(2026, 1, 1)

    def test_a_promise_moves_the_next_reminder(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        with self.frozen("2026-04-02 09:00"):
            self.assertEqual(invoice.payment_reminder_next_date, date(2026, 4, 2), "the due date's level, today")
            promise = self.env["account.payment.reminder.promise"].create(
                {"partner_id": self.customer.id, "move_ids": [Command.set(invoice.ids)], "date": date(2026, 4, 15)}
            )
            invoice.invalidate_recordset()
            self.assertEqual(invoice.payment_reminder_promise_id, promise)
            self.assertIn("Promise to pay $\xa01,000.00 by 04/15/2026", invoice.payment_reminder_waiting)
            self.assertEqual(invoice.payment_reminder_next_date, date(2026, 4, 18), "the promise's date plus 2 days")
            self.assertEqual(
                invoice.payment_reminder_next_level_id, self.level_due, "the first level after the due date: none went"
            )
        self.assertNextReminderGoesOn(invoice, date(2026, 4, 18))

    def test_holds_of_the_invoice_and_of_the_customer(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        invoice.write({"payment_reminder_hold_until": date(2026, 4, 12), "payment_reminder_hold_reason": "Disputed"})
        self.customer.payment_reminder_hold_until = date(2026, 4, 9)
        with self.frozen("2026-04-02 09:00"):
            self.assertIn("This invoice is on hold until 04/12/2026. Disputed", invoice.payment_reminder_waiting)
            self.assertIn("Azure Interior is on hold until 04/09/2026.", invoice.payment_reminder_waiting)
            self.assertEqual(invoice.payment_reminder_next_date, date(2026, 4, 13))
            self.assertEqual(invoice.payment_reminder_next_level_id, self.level_due)
        self.assertNextReminderGoesOn(invoice, date(2026, 4, 13))

    def test_a_payment_plan_replaces_the_ladder(self):
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=600.0)
        with self.frozen("2026-04-02 09:00"):
            plan = self.env["account.payment.reminder.plan"].create(
                {
                    "partner_id": self.customer.id,
                    "move_ids": [Command.set(invoice.ids)],
                    "line_ids": [
                        Command.create({"date": date(2026, 4, 20), "amount": 300.0}),
                        Command.create({"date": date(2026, 5, 20), "amount": 300.0}),
                    ],
                }
            )
            invoice.invalidate_recordset()
            self.assertEqual(invoice.payment_reminder_plan_id, plan)
            self.assertFalse(invoice.payment_reminder_next_level_id, "no level while the plan is on track")
            self.assertEqual(invoice.payment_reminder_next_date, date(2026, 4, 17), "3 days before the instalment")
            self.assertIn("next instalment $\xa0300.00 on 04/20/2026", invoice.payment_reminder_waiting)

    def test_the_tab_shows_them(self):
        arch = self.env["account.move"].get_view(self.env.ref("account.view_move_form").id)["arch"]
        for field in ("payment_reminder_promise_id", "payment_reminder_plan_id", "payment_reminder_waiting"):
            self.assertIn(f'name="{field}"', arch)


@tagged("post_install", "-at_install")
class TestHoldsAndPromises(PaymentReminderCommon):
    def test_a_customer_hold_is_logged_in_its_chatter_not_its_contacts(self):
        customer = self.env["res.partner"].create({"name": "Chatty SA", "is_company": True})
        contact = self.env["res.partner"].create({"name": "Chatty Contact", "parent_id": customer.id})
        self.env.cr.flush()  # records created in the same transaction are not tracked
        customer.with_context(tracking_disable=False, mail_notrack=False).write(
            {"payment_reminder_hold_until": date(2026, 12, 31), "payment_reminder_hold_reason": "Audit"}
        )
        self.env.cr.flush()  # tracking is written at the end of the transaction
        tracked = customer.message_ids.tracking_value_ids.field_id.mapped("name")
        self.assertIn("payment_reminder_hold_until", tracked)
        self.assertIn("payment_reminder_hold_reason", tracked)
        self.assertEqual(contact.payment_reminder_hold_until, date(2026, 12, 31), "the contact follows its customer")
        self.assertFalse(contact.message_ids.tracking_value_ids, "logged once, on the customer")

    def test_the_on_hold_filter_leaves_paid_invoices_out(self):
        held, paid = self.create_invoice(due=date(2026, 3, 31)), self.create_invoice(due=date(2026, 3, 31))
        (held | paid).payment_reminder_hold_until = date(2099, 1, 1)
        self.pay(paid)
        arch = self.env["account.move"].get_view(self.env.ref("account.view_account_invoice_filter").id, "search")
        [hold_filter] = etree.fromstring(arch["arch"]).xpath("//filter[@name='payment_reminder_on_hold']")
        domain = safe_eval(hold_filter.get("domain"), {"context_today": safe_datetime.datetime.now})
        found = self.env["account.move"].search(domain)
        self.assertIn(held, found)
        self.assertNotIn(paid, found)

    def test_the_amount_asked_is_not_added_up_across_messages(self):
        self.assertFalse(self.Message._fields["amount_due"].aggregator)
        arch = self.Message.get_view(
            self.env.ref("account_payment_reminder.account_payment_reminder_message_view_list").id
        )
        self.assertNotIn('name="amount_due" sum', arch["arch"])

    def test_the_promise_dialog_shows_the_amount_it_saves(self):
        first = self.create_invoice(due=date(2026, 3, 31), amount=700.0)
        self.create_invoice(due=date(2026, 4, 10), amount=280.0)
        form = Form(self.env["account.payment.reminder.promise"].with_context(default_partner_id=self.customer.id))
        self.assertEqual(form.amount, 980.0, "everything due, visible before saving")
        form.move_ids.add(first)
        self.assertEqual(form.amount, 700.0)
        form.date = date(2026, 4, 20)
        promise = form.save()
        self.assertEqual(promise.amount, 700.0)
        arch = promise.get_view(self.env.ref("account_payment_reminder.account_payment_reminder_promise_view_form").id)
        self.assertIn('name="currency_id"', arch["arch"], "the amount shows its currency")


@tagged("post_install", "-at_install")
class TestGatewayConnection(ChannelCommon):
    def unused_port(self):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]

    def assertSaysInWords(self, gateway, *words):
        with self.assertRaises(UserError) as caught:
            gateway.action_test_connection()
        text = str(caught.exception)
        for word in words:
            self.assertIn(word, text)
        for technical in ("HTTPConnectionPool", "urllib3", "Errno", "Max retries", "object at 0x"):
            self.assertNotIn(technical, text)
        return text

    def test_connection_test_explains_failures(self):
        port = self.unused_port()
        self.gateway_wa.wa_base_url = f"http://127.0.0.1:{port}"
        self.assertSaysInWords(self.gateway_wa, f"WhatsApp (127.0.0.1:{port}) refused the connection")
        self.gateway_twilio.twilio_base_url = f"127.0.0.1:{port}"
        self.assertSaysInWords(self.gateway_twilio, "not a web address", "https://")
        self.gateway_twilio.write({"twilio_base_url": self.fake.url, "twilio_auth_token": "wrong"})
        self.assertSaysInWords(self.gateway_twilio, "Twilio refused the credentials")
        self.gateway_wa.write({"wa_base_url": self.fake.url, "wa_access_token": "wrong"})
        self.assertSaysInWords(self.gateway_wa, "access token is invalid")

    def test_connection_test_succeeds(self):
        action = self.gateway_wa.action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("+1 555-0100", action["params"]["message"])


@tagged("post_install", "-at_install")
class TestWhatsAppInTheCustomerLanguage(ChannelCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms(["account_payment_reminder"], ["fr_FR"], overwrite=True)
        cls.customer.lang = "fr_FR"

    def test_free_text_in_french_inside_the_24_hour_window(self):
        older = self.create_invoice(due=date(2026, 3, 30), amount=100.0)
        newer = self.create_invoice(due=date(2026, 3, 31), amount=250.0)
        self.customer.payment_reminder_wa_last_inbound = datetime(2026, 4, 6, 12, 0)
        self.run_at("2026-04-07 09:00")
        message = self.messages_for(older)
        self.assertEqual((message.channel, message.state, message.lang), ("whatsapp", "sent", "fr_FR"))
        self.assertFalse(message.whatsapp_template_id, "no approved template speaks French: free text")
        (request,) = self.fake.sent("meta")
        self.assertEqual(request["json"]["type"], "text")
        text = request["json"]["text"]["body"]
        self.assertIn("2 factures", text, "plural")
        self.assertIn("en retard depuis le 30/03/2026", text, "the oldest due date, the French way")
        self.assertNotIn("invoice", text)
        self.assertEqual(message.invoice_names, f"{older.name}, {newer.name}", "oldest due first")

    def test_one_invoice_is_singular(self):
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=250.0)
        self.customer.payment_reminder_wa_last_inbound = datetime(2026, 4, 6, 12, 0)
        self.run_at("2026-04-07 09:00")
        self.assertIn(f"facture {invoice.name},", self.messages_for(invoice).body)

    def test_outside_the_window_the_approved_template_goes(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.run_at("2026-04-07 09:00")
        message = self.messages_for(invoice)
        self.assertEqual(message.whatsapp_template_id, self.level_overdue.whatsapp_template_ids)
        self.assertEqual(self.fake.sent("meta")[0]["json"]["type"], "template")

    def test_sms_in_english_counts_the_invoices(self):
        self.customer.lang = "en_US"
        self.level_overdue.use_whatsapp = False
        newer = self.create_invoice(due=date(2026, 3, 31), amount=250.0)
        older = self.create_invoice(due=date(2026, 3, 30), amount=100.0)
        self.run_at("2026-04-07 09:00")
        message = self.messages_for(older)
        self.assertEqual(message.channel, "sms")
        self.assertIn("2 invoices, $ 350.00, overdue since 03/30/2026", message.body, "plain spaces in an SMS")
        self.assertEqual(message.invoice_names, f"{older.name}, {newer.name}", "oldest due first")


@tagged("post_install", "-at_install")
class TestEffectivenessOfUnbookedPayments(PaymentReminderCommon):
    def test_a_payment_without_journal_entry_counts_as_paid_on_its_date(self):
        """Odoo 18's default: a payment registered on a bank journal without
        outstanding account has no journal entry until the bank statement."""
        bank = self.env["account.journal"].create({"name": "Bank, no outstanding", "type": "bank", "code": "BNKNE"})
        bank.inbound_payment_method_line_ids.payment_account_id = False
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=100.0)
        self.run_at("2026-04-01 09:00")
        payment = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": bank.id, "payment_date": date(2026, 4, 3)})
            ._create_payments()
        )
        self.assertFalse(payment.move_id, "no journal entry")
        self.run_at("2026-04-20 09:00")
        message = self.messages_for(invoice)
        self.assertEqual((message.paid_date, message.days_to_pay), (date(2026, 4, 3), 2.0))
        self.assertEqual((message.paid_3d_rate, message.paid_14d_rate), (100.0, 100.0))


@tagged("post_install", "-at_install")
class TestDemoData(TransactionCase):
    """What the demo database shows on the first visit. On a database
    installed without demo data, the test loads the addon's demo file itself
    (in its own transaction, rolled back), so that it always runs."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not cls.env.ref("account_payment_reminder.partner_lumen_demo", raise_if_not_found=False):
            convert_file(
                cls.env, "account_payment_reminder", "demo/account_payment_reminder_demo.xml", {}, "init", False, "demo"
            )
            # as installing the languages does: the addon's translations for them
            cls.env["ir.module.module"]._load_module_terms(
                ["account_payment_reminder"], ["fr_FR", "es_ES", "pt_BR", "id_ID"], overwrite=True
            )

    def demo(self, name):
        return self.env.ref(f"account_payment_reminder.{name}")

    def test_customers_speak_their_languages(self):
        self.assertEqual(self.demo("partner_lumen_demo").lang, "fr_FR")
        self.assertEqual(self.demo("partner_dispute_demo").lang, "es_ES")
        self.assertEqual(self.demo("partner_copacabana_demo").lang, "pt_BR")
        self.assertEqual(self.demo("partner_batik_demo").lang, "id_ID")
        template = self.demo("level_overdue").sms_template_id.with_context(lang="pt_BR")
        self.assertIn("o valor de", template.body, "the addon's translations are loaded for the demo languages")

    def test_history_feeds_the_reports(self):
        history = self.env["account.payment.reminder.message"].search([("idempotency_key", "like", "demo-history:%")])
        self.assertEqual(len(history), 10)
        self.assertTrue(all(message.queued_at.date() < date.today() for message in history), "dated in the past")
        self.assertEqual(set(history.mapped("lang")), {"en_US", "fr_FR", "es_ES", "pt_BR", "id_ID"})
        self.assertIn("read", history.mapped("state"))
        self.assertIn("failed", history.mapped("state"))
        effective = history.filtered(lambda m: m.paid_3d_rate == 100)
        self.assertTrue(effective, "some customers paid within 3 days of a reminder")
        self.assertTrue(history.filtered(lambda m: m.state != "failed" and m.paid_14d_rate == 0))
        for message in effective:
            self.assertLessEqual(message.sent_at.date(), message.paid_date, "paid after the reminder")

    def test_a_partly_paid_invoice_is_chased_for_the_rest(self):
        invoice = self.env["account.move"].search(
            [("partner_id", "=", self.demo("partner_copacabana_demo").id), ("amount_total", "=", 3100.0)]
        )
        self.assertEqual((invoice.payment_state, invoice.amount_residual), ("partial", 1550.0))
