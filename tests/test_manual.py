from datetime import date, datetime

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, new_test_user, tagged

from .common import ChannelCommon, PaymentReminderCommon
from .test_channels import _meta_error


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
            self.assertFalse(form.level_id, "each customer gets the level its invoices are due for")
            self.assertTrue(form.use_email)
            self.assertEqual(len(form.line_ids), 2, "one preview per customer and channel")
            with form.line_ids.edit(0) as line:
                self.assertEqual(line.level_id, self.level_overdue, "the level the invoices are due for")
                self.assertEqual(line.recipient_partner_id, self.customer)
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


@tagged("post_install", "-at_install")
class TestManualFollowsTheRules(TestManualReminder):
    """Manual reminders follow the scheduler's rules: holds, promises and plans
    block a customer's line (unless the accountant sends anyway, with a
    reason), and each customer gets the level its own invoices are due for."""

    def line_for(self, wizard, customer, channel="email"):
        return wizard.line_ids.filtered(lambda line: line.partner_id == customer and line.channel == channel)

    def test_holds_promises_and_plans_block_their_lines(self):
        on_hold = self.env["res.partner"].create({"name": "Hold Corp", "email": "ap@hold.example"})
        on_hold.write({"payment_reminder_hold_until": date(2026, 12, 31), "payment_reminder_hold_reason": "Audit"})
        disputed = self.create_invoice(due=date(2026, 3, 1), amount=100.0)
        disputed.write({"payment_reminder_hold_until": date(2026, 5, 1), "payment_reminder_hold_reason": "Quantity"})
        planned_customer = self.env["res.partner"].create({"name": "Plan Ltd", "email": "ap@plan.example"})
        in_plan = self.create_invoice(partner=planned_customer, due=date(2026, 3, 1), amount=300.0)
        with self.frozen("2026-03-10"):
            self.env["account.payment.reminder.plan"].create(
                {
                    "partner_id": planned_customer.id,
                    "move_ids": [Command.set(in_plan.ids)],
                    "line_ids": [Command.create({"date": date(2026, 4, 20), "amount": 300.0})],
                }
            )
        promised_customer = self.env["res.partner"].create({"name": "Promise SA", "email": "ap@promise.example"})
        promised = self.create_invoice(partner=promised_customer, due=date(2026, 3, 1), amount=200.0)
        self.env["account.payment.reminder.promise"].create(
            {"partner_id": promised_customer.id, "move_ids": [Command.set(promised.ids)], "date": date(2026, 4, 10)}
        )
        held_customer = self.create_invoice(partner=on_hold, due=date(2026, 3, 1), amount=50.0)
        free = self.create_invoice(due=date(2026, 3, 2), amount=70.0)
        invoices = disputed | in_plan | promised | held_customer | free
        with self.frozen("2026-04-01 10:00"):
            form = self.wizard(invoices)
            wizard = form.save()
        lines = {line.partner_id: line for line in wizard.line_ids}
        # the customer with a free invoice: that one goes, the disputed one is left out, with its reason
        self.assertEqual(lines[self.customer].move_ids, free)
        self.assertTrue(lines[self.customer].to_send)
        self.assertIn(disputed.name, lines[self.customer].held_note)
        self.assertIn("Quantity", lines[self.customer].held_note)
        # everything else is held: blocked with the reason, as the dry run says it
        for customer, words in ((on_hold, "Audit"), (planned_customer, "plan"), (promised_customer, "Promise")):
            line = lines[customer]
            self.assertFalse(line.to_send, customer.name)
            self.assertIn(words.lower(), line.hold_reason.lower(), customer.name)
        self.assertIn("12/31/2026", lines[on_hold].hold_reason)
        # sending without the overrides sends only the free invoice
        with self.frozen("2026-04-01 10:00"):
            wizard.action_send()
        self.assertEqual(self.messages_for(free).move_ids, free)
        for invoice in (disputed, in_plan, promised, held_customer):
            self.assertFalse(self.messages_for(invoice), invoice.name)

    def test_send_anyway_needs_a_reason_which_the_chatter_keeps(self):
        invoice = self.create_invoice(due=date(2026, 3, 1), amount=100.0)
        invoice.write({"payment_reminder_hold_until": date(2026, 5, 1), "payment_reminder_hold_reason": "Quantity"})
        with self.frozen("2026-04-01 10:00"):
            form = self.wizard(invoice)
            with form.line_ids.edit(0) as line:
                self.assertTrue(line.hold_reason)
                self.assertEqual(line.level_id, self.level_final, "the level its invoice is due for")
                line.to_send = True
                line.override_reason = "Customer agreed on the phone that the quantity is right"
            wizard = form.save()
            wizard.action_send()
        message = self.messages_for(invoice)
        self.assertEqual(message.state, "sent")
        self.assertEqual(message.override_reason, "Customer agreed on the phone that the quantity is right")
        note = invoice.message_ids.filtered(lambda m: "although the reminders were held" in (m.body or ""))
        self.assertEqual(len(note), 1)
        self.assertIn("quantity is right", note.body)
        self.assertIn(self.accountant.name, note.body)

    def test_the_server_refuses_send_anyway_without_a_reason(self):
        invoice = self.create_invoice(due=date(2026, 3, 1), amount=100.0)
        invoice.payment_reminder_hold_until = date(2026, 5, 1)
        with self.frozen("2026-04-01 10:00"):
            wizard = self.wizard(invoice).save()
            wizard.line_ids.to_send = True
            with self.assertRaisesRegex(UserError, "Say why"):
                wizard.action_send()
        self.assertFalse(self.messages_for(invoice))

    def test_each_customer_gets_the_level_its_invoices_are_due_for(self):
        soon = self.create_invoice(due=date(2026, 4, 4), amount=40.0)
        overdue = self.create_invoice(due=date(2026, 3, 24), amount=100.0)  # 8 days overdue: 'Overdue'
        other_soon = self.create_invoice(partner=self.other_customer, due=date(2026, 4, 4), amount=60.0)
        with self.frozen("2026-04-01 10:00"):
            wizard = self.wizard(soon | overdue | other_soon).save()
            line = self.line_for(wizard, self.customer)
            self.assertEqual(line.level_id, self.level_overdue)
            self.assertEqual(line.move_ids, overdue, "an invoice not yet due is not in an overdue reminder")
            self.assertNotIn("Despite", line.body_html)
            other = self.line_for(wizard, self.other_customer)
            self.assertEqual(other.level_id, self.level_courtesy, "not due yet: a courtesy reminder")
            self.assertIn("will soon be due", other.body_html)
            wizard.action_send()
        self.assertEqual(overdue.payment_reminder_level_id, self.level_overdue)
        self.assertFalse(soon.payment_reminder_level_id, "not part of the reminder, not moved")
        self.assertEqual(other_soon.payment_reminder_level_id, self.level_courtesy)

    def test_from_the_customer_form_invoices_not_yet_due_get_a_courtesy_reminder(self):
        invoices = self.create_invoice(due=date(2026, 4, 10)) | self.create_invoice(due=date(2026, 4, 12))
        with self.frozen("2026-04-01 10:00"):
            form = self.wizard(partner=self.customer)
            with form.line_ids.edit(0) as line:
                self.assertEqual(line.level_id, self.level_courtesy, "never a final notice before the due date")
                self.assertFalse(line.level_warning)
            # a level chosen by hand still goes, with a warning
            form.level_id = self.level_final
            with form.line_ids.edit(0) as line:
                self.assertEqual(line.level_id, self.level_final)
                self.assertIn("Above what is due", line.level_warning)
                self.assertIn("Courtesy", line.level_warning)
            wizard = form.save()
            wizard.action_send()
        self.assertEqual(self.messages_for(invoices[0]).level_id, self.level_final)
        self.assertEqual(
            set(invoices.mapped("payment_reminder_level_id")), {self.level_courtesy}, "invoices record what is due"
        )

    def test_a_customer_whose_credits_cover_everything_is_blocked(self):
        invoice = self.create_invoice(due=date(2026, 3, 1), amount=100.0)
        refund = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": self.customer.id,
                "invoice_date": date(2026, 3, 5),
                "invoice_line_ids": [
                    Command.create({"name": "Return", "quantity": 1, "price_unit": 100.0, "tax_ids": []})
                ],
            }
        )
        refund.action_post()
        with self.frozen("2026-04-01 10:00"):
            wizard = self.wizard(invoice).save()
        self.assertFalse(wizard.line_ids.to_send)
        self.assertIn("credits", wizard.line_ids.hold_reason)
        self.assertEqual(wizard.line_ids.amount_due, 0.0)

    def test_channels_follow_the_level_unless_the_accountant_chooses(self):
        sms_template = self.env.ref("account_payment_reminder.sms_template_overdue")
        self.level_overdue.write({"use_sms": True, "sms_template_id": sms_template.id})
        self.customer.mobile = False  # no SMS for this one: the level's next channel, e-mail, goes
        self.other_customer.mobile = "+32 470 99 88 77"
        invoices = self.create_invoice(due=date(2026, 3, 20)) | self.create_invoice(
            partner=self.other_customer, due=date(2026, 3, 20)
        )
        self.env["account.payment.reminder.gateway"].create(
            {"name": "Sandbox SMS", "provider": "sandbox", "state": "test", "use_sms": True}
        )
        with self.frozen("2026-04-01 10:00"):
            form = self.wizard(invoices)
            channels = {(line.partner_id, line.channel) for line in form.save().line_ids}
            self.assertEqual(channels, {(self.customer, "email"), (self.other_customer, "sms")})
            form.channels_as_level = False
            form.use_email, form.use_sms = True, True
            channels = {(line.partner_id, line.channel) for line in form.save().line_ids}
        self.assertEqual(len(channels), 4, "both channels for both customers, as chosen")


@tagged("post_install", "-at_install")
class TestManualWarnings(ChannelCommon):
    """What the accountant sees before sending: what just happened, and the
    link the customer will really get."""

    def wizard(self, invoices):
        context = {"active_model": "account.move", "active_ids": invoices.ids}
        return self.env["account.payment.reminder.send"].with_context(**context).action_open_wizard()

    def test_the_whatsapp_button_shows_the_real_link(self):
        invoice = self.create_invoice(due=date(2026, 3, 20))
        with self.frozen("2026-04-01 10:00"):
            wizard = self.env["account.payment.reminder.send"].browse(self.wizard(invoice)["res_id"])
        line = wizard.line_ids.filtered(lambda line: line.channel == "whatsapp")
        self.assertTrue(line.whatsapp_button.startswith(invoice.get_base_url() + "/"), line.whatsapp_button)
        self.assertEqual(line.whatsapp_button, invoice.payment_reminder_url, "the link the customer gets")

    def test_it_warns_of_a_level_just_sent_and_a_channel_that_just_failed(self):
        invoice = self.create_invoice(due=date(2026, 3, 20))
        self.customer.mobile = "+32 470 00 00 02"  # not on WhatsApp: WhatsApp fails, SMS goes
        self.fake.answer("+32470000002", 400, _meta_error(131026, "Message undeliverable"))
        self.run_at("2026-04-01 10:00")
        whatsapp, sms = self.messages_for(invoice)
        self.assertEqual((whatsapp.state, sms.state), ("failed", "sent"))
        with self.frozen("2026-04-01 10:20"):
            wizard = self.env["account.payment.reminder.send"].browse(self.wizard(invoice)["res_id"])
            wizard.level_id = self.level_overdue
            line = wizard.line_ids.filtered(lambda line: line.channel == "whatsapp")
        self.assertIn("'Overdue' went to this customer 20 minutes ago.", line.recent_warning)
        self.assertIn("The last WhatsApp message to +32470000002 failed", line.recent_warning)
        self.assertIn(line.recent_warning, line.attention)
