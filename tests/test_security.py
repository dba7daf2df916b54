from datetime import date

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
