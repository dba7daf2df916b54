from datetime import date

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import PaymentReminderCommon


@tagged("post_install", "-at_install")
class TestSecurity(PaymentReminderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="Company B")["company"]
        cls.policy_b = cls._create_policy(cls.company_b)
        cls.company_b.payment_reminder_policy_id = cls.policy_b
        cls.accountant = new_test_user(
            cls.env,
            login="accountant_a",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )

    def test_multi_company_isolation(self):
        invoice_a = self.create_invoice(due=date(2026, 3, 31))
        invoice_b = self.create_invoice(due=date(2026, 3, 31), company=self.company_b)
        self.run_at("2026-03-31 09:00")
        message_a, message_b = self.messages_for(invoice_a), self.messages_for(invoice_b)
        self.assertEqual(message_a.company_id, self.company)
        self.assertEqual(message_b.company_id, self.company_b)
        self.assertEqual(message_b.level_id.policy_id, self.policy_b, "each company's own ladder")
        as_accountant = self.Message.with_user(self.accountant)
        self.assertEqual(as_accountant.search([]), message_a)
        with self.assertRaises(AccessError):
            as_accountant.browse(message_b.id).read(["recipient"])
        with self.assertRaises(AccessError):
            self.env["account.payment.reminder.policy"].with_user(self.accountant).browse(self.policy_b.id).read(
                ["name"]
            )

    def test_customer_policy_of_another_company_is_ignored(self):
        self.customer.payment_reminder_policy_id = self.policy_b
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.run_at("2026-03-31 09:00")
        self.assertEqual(self.messages_for(invoice).policy_id, self.policy)

    def test_which_policy_applies_is_one_rule_in_sql_and_python(self):
        """The decision's SQL and the invoice's Python agree on the policy
        that applies, whatever points to another company's or an archived one."""
        other = self.customer.copy({"name": "Other customer"})
        archived = self._create_policy(self.company, name="Archived")
        archived.active = False
        cases = [
            ("the company's", {}, {}, self.policy),
            ("customer's of another company", {"payment_reminder_policy_id": self.policy_b.id}, {}, self.policy),
            ("customer's archived", {"payment_reminder_policy_id": archived.id}, {}, self.policy),
            ("invoice's own", {}, {"payment_reminder_policy_id": self._create_policy(self.company).id}, None),
        ]
        for label, partner_vals, move_vals, expected in cases:
            with self.subTest(label):
                other.write({"payment_reminder_policy_id": False, **partner_vals})
                invoice = self.create_invoice(partner=other, due=date(2026, 3, 31), **move_vals)
                python = invoice._get_payment_reminder_policy()
                self.assertEqual(python, expected or invoice.payment_reminder_policy_id)
                with self.frozen("2026-03-31 09:00"):
                    groups = self.Run._decide(other.ids, self.utc(2026, 3, 31, 9), move_ids=invoice.ids, manual=True)
                self.assertEqual([group.policy for group in groups], [python])
                invoice.button_cancel()
        # the company's default policy belongs to another company (a copy of a database, a bad import): no policy
        self.env.cr.execute(
            "UPDATE res_company SET payment_reminder_policy_id = %s WHERE id = %s", [self.policy_b.id, self.company.id]
        )
        self.company.invalidate_recordset(["payment_reminder_policy_id"])
        other.payment_reminder_policy_id = False
        invoice = self.create_invoice(partner=other, due=date(2026, 3, 31))
        self.assertFalse(invoice._get_payment_reminder_policy())
        with self.frozen("2026-03-31 09:00"):
            self.assertEqual(
                self.Run._decide(other.ids, self.utc(2026, 3, 31, 9), move_ids=invoice.ids, manual=True), []
            )

    def test_accountant_reads_history_but_cannot_change_it(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.run_at("2026-03-31 09:00")
        message = self.messages_for(invoice).with_user(self.accountant)
        self.assertEqual(message.recipient, "ap@azure.example")
        self.assertEqual(invoice.with_user(self.accountant).payment_reminder_message_ids, message)
        with self.assertRaises(AccessError):
            message.write({"recipient": "someone@else.example"})
        with self.assertRaises(AccessError):
            message.unlink()
        with self.assertRaises(AccessError):
            self.env["account.payment.reminder.policy"].with_user(self.accountant).create(
                {"name": "Mine", "company_id": self.company.id}
            )
        with self.assertRaises(AccessError):
            self.policy.with_user(self.accountant).write({"min_interval_days": 0})

    def test_accountant_can_hold_an_invoice(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        invoice.with_user(self.accountant).write(
            {"payment_reminder_hold_until": date(2026, 5, 1), "payment_reminder_hold_reason": "Disputed"}
        )
        self.run_at("2026-04-07 09:00")
        self.assertFalse(self.messages_for(invoice))

    def test_sandbox_can_never_be_enabled(self):
        with self.assertRaises(ValidationError):
            self.env["account.payment.reminder.gateway"].create(
                {"name": "Sandbox", "provider": "sandbox", "state": "enabled", "use_email": True}
            )

    def test_gateway_channel_must_be_supported(self):
        with self.assertRaises(ValidationError):
            self.env["account.payment.reminder.gateway"].create(
                {"name": "Mail", "provider": "mail", "state": "enabled", "use_sms": True}
            )

    def test_name_search_on_messages_returns(self):
        """A many2one field or the search bar name-searches the history: it
        answers, and finds messages by customer, recipient or provider id (a
        search on the unstored display name looped forever)."""
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.run_at("2026-03-31 09:00")
        message = self.messages_for(invoice)
        message.sudo().provider_message_id = "wamid.HBgLMzI0NzAxMjM0NTYVAgARGBI"
        Message = self.Message.with_user(self.accountant)
        # what the search is made of; on a display name that searches itself it never returns
        self.assertNotIn("display_name", str(Message._search_display_name("ilike", "Azure")))
        self.assertEqual([found for found, _name in Message.name_search("Azure")], message.ids)
        self.assertEqual([found for found, _name in Message.name_search("ap@azure")], message.ids)
        self.assertEqual([found for found, _name in Message.name_search("HBgLMzI0")], message.ids)
        self.assertFalse(Message.name_search("Nobody by that name"))
        self.assertEqual(Message.search([("display_name", "ilike", "azure")]), message)
        self.assertEqual(Message.name_search("Azure")[0][1], message.display_name)


@tagged("post_install", "-at_install")
class TestCompanyBoundaries(PaymentReminderCommon):
    """Two companies, an invoicing user of A only, an accounting manager of B
    only: each stays within their companies, with real users and rights."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="Company B")["company"]
        cls.accountant_a = new_test_user(
            cls.env,
            login="boundary_accountant_a",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.manager_b = new_test_user(
            cls.env,
            login="boundary_manager_b",
            groups="account.group_account_manager",
            company_id=cls.company_b.id,
            company_ids=[cls.company_b.id],
        )
        cls.admin = new_test_user(
            cls.env,
            login="boundary_admin",
            groups="base.group_system,account.group_account_manager",
            company_id=cls.company.id,
            company_ids=[cls.company.id, cls.company_b.id],
        )
        cls.Gateway = cls.env["account.payment.reminder.gateway"]

    def plan(self, company):
        customer = self.env["res.partner"].create({"name": f"Plan customer {company.name}", "email": "p@x.example"})
        invoice = self.create_invoice(partner=customer, due=date(2026, 3, 31), amount=900.0, company=company)
        return (
            self.env["account.payment.reminder.plan"]
            .with_company(company)
            .create(
                {
                    "partner_id": customer.id,
                    "company_id": company.id,
                    "move_ids": [Command.set(invoice.ids)],
                    "line_ids": [
                        Command.create({"date": date(2026, 4, 10), "amount": 450.0}),
                        Command.create({"date": date(2026, 5, 10), "amount": 450.0}),
                    ],
                }
            )
        )

    def test_instalments_of_another_company_are_out_of_reach(self):
        with self.frozen("2026-04-05"):  # the instalments are in the future
            plan_a, plan_b = self.plan(self.company), self.plan(self.company_b)
            Line = self.env["account.payment.reminder.plan.line"].with_user(self.accountant_a)
            self.assertEqual(Line.search([("plan_id", "in", (plan_a | plan_b).ids)]), plan_a.line_ids)
            line_b = plan_b.line_ids[0].with_user(self.accountant_a)
            with self.assertRaises(AccessError):
                line_b.read(["date"])
            with self.assertRaises(AccessError):
                line_b.write({"date": date(2026, 3, 1)})
            with self.assertRaises(AccessError):
                line_b.unlink()
            # creating is governed by the same rule (a real create would also break B's plan total first)
            create_domain = self.env["ir.rule"].with_user(self.accountant_a)._compute_domain(Line._name, "create")
            self.assertFalse(plan_b.line_ids.filtered_domain(create_domain))
            self.assertEqual(plan_a.line_ids.filtered_domain(create_domain), plan_a.line_ids)
            self.assertEqual(plan_b.line_ids.mapped("date"), [date(2026, 4, 10), date(2026, 5, 10)])
            # the own company's plan stays the accountant's to renegotiate
            plan_a.line_ids[0].with_user(self.accountant_a).write({"date": date(2026, 4, 12)})
            self.assertEqual(plan_a.line_ids[0].date, date(2026, 4, 12))

    def test_shared_gateways_are_for_administrators(self):
        shared = self.gateway_mail
        self.assertFalse(shared.company_id)
        as_manager = self.Gateway.with_user(self.manager_b)
        self.assertIn(shared, as_manager.search([]), "every company sees the shared gateways")
        with self.assertRaises(AccessError):
            shared.with_user(self.manager_b).write({"state": "disabled"})
        with self.assertRaises(AccessError):
            shared.with_user(self.manager_b).unlink()
        with self.assertRaises(AccessError):
            as_manager.create({"name": "Everyone's mail", "provider": "mail", "state": "enabled", "use_email": True})
        with self.assertRaises(AccessError):
            as_manager.create(
                {"name": "A's mail", "provider": "mail", "company_id": self.company.id, "use_email": True}
            )
        own = as_manager.create(
            {"name": "B's mail", "provider": "mail", "company_id": self.company_b.id, "use_email": True}
        )
        own.write({"state": "enabled", "sequence": 1})
        with self.assertRaises(AccessError):
            own.write({"company_id": False})
        with self.assertRaises(AccessError):
            own.write({"company_id": self.company.id})
        self.assertEqual(own.company_id, self.company_b)
        self.assertEqual((shared.state, self.Gateway._get_for_channel(self.company, "email")), ("enabled", shared))
        # system administrators run the shared gateways
        as_admin = shared.with_user(self.admin)
        as_admin.write({"timeout": 20})
        self.assertEqual(shared.timeout, 20)
        created = self.Gateway.with_user(self.admin).create({"name": "Shared sandbox", "provider": "sandbox"})
        self.assertFalse(created.company_id)

    def test_shared_whatsapp_templates_are_for_administrators(self):
        shared = self.env.ref("account_payment_reminder.whatsapp_template_overdue")
        self.assertFalse(shared.company_id)
        self.assertIn(shared, self.env[shared._name].with_user(self.manager_b).search([]))
        with self.assertRaises(AccessError):
            shared.with_user(self.manager_b).write({"template_name": "hijacked"})
        with self.assertRaises(AccessError):
            shared.param_ids[:1].with_user(self.manager_b).write({"value": "company_name"})
        own = shared.with_user(self.manager_b).copy({"company_id": self.company_b.id})
        own.write({"template_name": "payment_overdue_b"})
        with self.assertRaises(AccessError):
            own.write({"company_id": False})
        shared.with_user(self.admin).write({"template_name": "payment_overdue_v2"})
        self.assertEqual(shared.template_name, "payment_overdue_v2")
