"""Company walls in the wizards: a user of company B reaches nothing of
company A through any wizard, however the ids are handed over (the list's
selection, a hand-written create or write, an onchange, JSON-RPC)."""

from datetime import date

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .common import PaymentReminderCommon


class WallsCommon(PaymentReminderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="Company B")["company"]
        cls.company_b.payment_reminder_policy_id = cls._create_policy(cls.company_b)
        cls.invoice_a = cls.create_invoice(due=date(2026, 3, 1), amount=777.0)
        cls.customer_b = cls.env["res.partner"].create({"name": "B's customer", "email": "ap@b-customer.example"})
        cls.invoice_b = cls.create_invoice(partner=cls.customer_b, due=date(2026, 3, 1), company=cls.company_b)
        cls.user_b = new_test_user(
            cls.env,
            login="wall_user_b",
            groups="account.group_account_invoice",
            company_id=cls.company_b.id,
            company_ids=[cls.company_b.id],
        )
        cls.user_a = new_test_user(
            cls.env,
            login="wall_user_a",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )


@tagged("post_install", "-at_install")
class TestWizardWalls(WallsCommon):
    def wizard(self, model, user):
        return self.env[model].with_user(user).with_context(allowed_company_ids=user.company_ids.ids)

    def test_send_wizard_refuses_another_companys_invoices(self):
        Send = self.wizard("account.payment.reminder.send", self.user_b)
        trackers = self.env["link.tracker"].search_count([])
        with self.frozen("2026-03-20"):
            with self.assertRaises(AccessError):
                Send.create({"move_ids": [Command.set(self.invoice_a.ids)]})
            with self.assertRaises(AccessError):
                Send.create({"move_ids": [Command.link(self.invoice_a.id)]})
            with self.assertRaises(AccessError):
                Send.with_context(active_model="account.move", active_ids=self.invoice_a.ids).action_open_wizard()
            wizard = Send.create({"move_ids": [Command.set(self.invoice_b.ids)]})
            self.assertEqual(wizard.line_ids.partner_id, self.customer_b, "B's own invoices still work")
            with self.assertRaises(AccessError):
                wizard.write({"move_ids": [Command.link(self.invoice_a.id)]})
            with self.assertRaises(AccessError):
                Send.onchange(
                    {"move_ids": [Command.set(self.invoice_a.ids)]},
                    ["move_ids"],
                    {"move_ids": {}, "line_ids": {"fields": {"recipient": {}, "body": {}, "partner_id": {}}}},
                )
        self.assertEqual(self.env["link.tracker"].search_count([]), trackers, "no link to A's page was made")

    def test_send_wizard_lines_refuse_another_companys_records(self):
        with self.frozen("2026-03-20"):
            wizard = self.wizard("account.payment.reminder.send", self.user_b).create(
                {"move_ids": [Command.set(self.invoice_b.ids)]}
            )
            Line = self.wizard("account.payment.reminder.send.line", self.user_b)
            with self.assertRaises(AccessError):
                Line.create({"wizard_id": wizard.id, "channel": "email", "move_ids": [Command.set(self.invoice_a.ids)]})
            with self.assertRaises(AccessError):
                wizard.line_ids[:1].write({"move_ids": [Command.link(self.invoice_a.id)]})

    def test_the_owner_company_still_sends(self):
        with self.frozen("2026-03-20"):
            wizard = self.wizard("account.payment.reminder.send", self.user_a).create(
                {"move_ids": [Command.set(self.invoice_a.ids)]}
            )
            self.assertEqual(wizard.line_ids.partner_id, self.customer)
            self.assertIn("777.00", wizard.line_ids.body_html)
            wizard.action_send()
        self.assertEqual(self.messages_for(self.invoice_a).state, "sent")

    def test_plan_wizard_refuses_another_companys_invoices(self):
        Propose = self.wizard("account.payment.reminder.plan.propose", self.user_b)
        with self.frozen("2026-03-20"):
            with self.assertRaises(AccessError):
                Propose.create({"move_ids": [Command.set(self.invoice_a.ids)]})
            with self.assertRaises(AccessError):
                Propose.with_context(active_model="account.move", active_ids=self.invoice_a.ids).create({})
            with self.assertRaises(AccessError):
                Propose.onchange(
                    {"move_ids": [Command.set(self.invoice_a.ids)]},
                    ["move_ids"],
                    {"move_ids": {}, "amount_due": {}, "line_ids": {"fields": {"amount": {}}}},
                )
            wizard = Propose.create({"move_ids": [Command.set(self.invoice_b.ids)]})
            self.assertEqual(wizard.amount_due, 1000.0)

    def test_waive_wizard_refuses_another_companys_invoices(self):
        Waive = self.wizard("account.payment.reminder.late.charge.waive", self.user_b)
        with self.assertRaises(AccessError):
            Waive.create({"move_ids": [Command.set(self.invoice_a.ids)], "reason": "probing"})


@tagged("post_install", "-at_install")
class TestWizardWallsOverRpc(WallsCommon, HttpCase):
    def call_kw(self, model, method, args, kwargs=None):
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        )

    @mute_logger("odoo.http")
    def test_hand_written_ids_over_json_rpc(self):
        self.authenticate(self.user_b.login, self.user_b.login)
        for model, values in (
            ("account.payment.reminder.send", {}),
            ("account.payment.reminder.plan.propose", {}),
            ("account.payment.reminder.late.charge.waive", {"reason": "probing"}),
        ):
            with self.subTest(model=model), self.assertRaises(JsonRpcException) as caught:
                self.call_kw(model, "create", [{"move_ids": [Command.set(self.invoice_a.ids)], **values}])
            self.assertIn("AccessError", str(caught.exception))
        wizards = self.env["account.payment.reminder.send"].search([("move_ids", "in", self.invoice_a.ids)])
        self.assertFalse(wizards, "nothing was saved")
        # the same call on B's own invoice works, and shows B's customer
        wizard_id = self.call_kw(
            "account.payment.reminder.send", "create", [{"move_ids": [Command.set(self.invoice_b.ids)]}]
        )
        lines = self.call_kw(
            "account.payment.reminder.send.line",
            "search_read",
            [[("wizard_id", "=", wizard_id)]],
            {"fields": ["partner_id"]},
        )
        self.assertEqual({line["partner_id"][0] for line in lines}, {self.customer_b.id})
