from datetime import date, datetime

from odoo.tests import Form, new_test_user, tagged

from .common import PaymentReminderCommon


@tagged("post_install", "-at_install")
class TestManualReminder(PaymentReminderCommon):
    """The wizard accountants use from invoices and customers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = new_test_user(
            cls.env,
            login="manual_accountant",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.other_customer = cls.env["res.partner"].create(
            {"name": "Gemini Furniture", "email": "ap@gemini.example", "tz": "America/New_York"}
        )

    def wizard(self, invoices=None, partner=None, user=None):
        env = self.env(user=user or self.accountant)
        if partner:
            context = {"active_model": "res.partner", "active_id": partner.id}
        else:
            context = {"active_model": "account.move", "active_ids": invoices.ids}
        return Form(env["account.payment.reminder.send"].with_context(**context))

    def test_preview_edit_and_send_from_invoices_of_two_customers(self):
        first = self.create_invoice(due=date(2026, 3, 20), amount=400.0)
        second = self.create_invoice(partner=self.other_customer, due=date(2026, 3, 25), amount=150.0)
        with self.frozen("2026-04-01 10:00"):
            form = self.wizard(first | second)
            self.assertEqual(form.level_id, self.level_overdue, "the level the invoices are due for")
            self.assertTrue(form.use_email)
            self.assertEqual(len(form.line_ids), 2, "one preview per customer and channel")
            with form.line_ids.edit(0) as line:
                self.assertEqual(line.recipient, "ap@azure.example")
                self.assertIn(first.name, line.subject)
                self.assertIn("400.00", line.body_html)
                line.subject = "About your invoice, as discussed on the phone"
            wizard = form.save()
            action = wizard.action_send()
        self.assertEqual(action["params"]["type"], "success")
        message = self.messages_for(first)
        self.assertEqual(message.subject, "About your invoice, as discussed on the phone")
        self.assertEqual(message.mail_id.subject, message.subject, "what was edited is what went out")
        self.assertEqual((message.trigger, message.user_id, message.state), ("manual", self.accountant, "sent"))
        self.assertEqual(self.messages_for(second).recipient, "ap@gemini.example")
        self.assertEqual(first.payment_reminder_level_id, self.level_overdue)
        self.assertTrue(any("Payment reminder sent" in (m.body or "") for m in first.message_ids))
        # the scheduler does not send that level again
        self.run_at("2026-04-01 11:00")
        self.assertEqual(len(self.messages_for(first)), 1)

    def test_from_the_customer_form_and_another_level(self):
        invoices = self.create_invoice(due=date(2026, 3, 1)) | self.create_invoice(due=date(2026, 3, 5))
        with self.frozen("2026-04-01 10:00"):
            form = self.wizard(partner=self.customer)
            self.assertEqual(form.move_ids[:], invoices)
            form.level_id = self.level_final
            wizard = form.save()
            wizard.action_send()
        message = self.messages_for(invoices[0])
        self.assertEqual(message.move_ids, invoices)
        self.assertEqual(message.level_id, self.level_final)
        self.assertIn("Final notice", message.subject)

    def test_opt_out_is_always_respected(self):
        self.customer.payment_reminder_optout_email = True
        invoice = self.create_invoice(due=date(2026, 3, 20))
        with self.frozen("2026-04-01 10:00"):
            form = self.wizard(invoice)
            with form.line_ids.edit(0) as line:
                self.assertIn("opted out", line.blocked_reason)
                self.assertFalse(line.to_send)
            wizard = form.save()
            with self.assertRaises(Exception):  # noqa: B017 - UserError: nothing to send
                wizard.action_send()
        self.assertFalse(self.messages_for(invoice))

    def test_sending_outside_the_customer_hours_asks_first(self):
        self.policy.write({"window_start": 9.0, "window_end": 17.0})
        invoice = self.create_invoice(partner=self.other_customer, due=date(2026, 3, 20))
        # 03:00 in New York
        with self.frozen("2026-04-01 07:00"):
            form = self.wizard(invoice)
            with form.line_ids.edit(0) as line:
                self.assertTrue(line.outside_window)
                self.assertEqual(line.next_window_at, datetime(2026, 4, 1, 13, 0))
            wizard = form.save()
            action = wizard.action_send()
            self.assertEqual(action["res_model"], "account.payment.reminder.send")
            self.assertEqual(wizard.state, "confirm")
            self.assertFalse(self.messages_for(invoice), "nothing sent before the user confirms")
            wizard.action_send()
        self.assertEqual(self.messages_for(invoice).state, "sent")
