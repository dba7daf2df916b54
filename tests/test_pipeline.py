"""One send pipeline and one renderer: what is previewed is what goes out,
every kind of message renders on every channel, a failure stays with its
message, and a manual send sent twice goes once."""

from datetime import date, datetime

from freezegun import freeze_time

from odoo.tests import Form, new_test_user, tagged

from ..exceptions import ReminderProviderError, ReminderRetryableError
from .common import ChannelCommon, PaymentReminderCommon

OVERDUE = "2026-04-07 09:00"  # an invoice due on 2026-03-31 reaches the overdue level


@tagged("post_install", "-at_install")
class TestOnePipeline(ChannelCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = new_test_user(
            cls.env,
            login="pipeline_accountant",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.second = cls.customer.copy({"name": "Second Customer", "email": "ap@second.example"})
        cls.third = cls.customer.copy({"name": "Third Customer", "email": "ap@third.example"})

    def wizard(self, invoices, **values):
        form = Form(
            self.env["account.payment.reminder.send"]
            .with_user(self.accountant)
            .with_context(active_model="account.move", active_ids=invoices.ids)
        )
        for name, value in values.items():
            setattr(form, name, value)
        return form

    # === A FAILURE STAYS WITH ITS MESSAGE === #

    def test_a_broken_template_fails_its_messages_and_the_run_goes_on(self):
        broken = self.env.ref("account_payment_reminder.mail_template_overdue").copy()
        broken.write({"name": "Overdue (edited)", "subject": "Overdue {{ object.no_such_field }}"})
        self.level_overdue.write({"use_whatsapp": False, "use_sms": False, "mail_template_id": broken.id})
        overdue_a = self.create_invoice(due=date(2026, 3, 31))
        overdue_b = self.create_invoice(partner=self.second, due=date(2026, 3, 31))
        self.level_due.write({"use_whatsapp": False, "use_sms": False})
        due_today = self.create_invoice(partner=self.third, due=date(2026, 4, 7))
        with freeze_time(OVERDUE):
            # what the scheduler calls: it must not raise, whatever one template does
            self.env["account.payment.reminder.policy"]._cron_send_reminders()
        for invoice in overdue_a | overdue_b:
            message = self.messages_for(invoice)
            self.assertEqual((message.state, message.failure_code), ("failed", "template_error"))
            self.assertIn("Overdue (edited)", message.failure_reason, "which template")
            self.assertIn("Subject", message.failure_reason, "which field")
            self.assertIn("no_such_field", message.failure_reason, "the error")
            self.assertFalse(invoice.payment_reminder_level_id, "a message that failed reached nothing")
            self.assertIn("no_such_field", invoice.message_ids[:1].body, "the chatter says why")
        self.assertEqual(self.messages_for(due_today).state, "sent", "the other customers are reminded")
        activities = self.env["mail.activity"].search(
            [("res_model", "=", self.policy._name), ("summary", "ilike", "Overdue (edited)")]
        )
        self.assertEqual(len(activities), 1, "one to-do per broken template, not one per message")
        self.assertIn("no_such_field", str(activities.note))

        # the next run does not add another to-do; once repaired, Retry renders and sends
        later = self.create_invoice(partner=self.third, due=date(2026, 4, 1))
        self.run_at("2026-04-08 09:00")
        self.assertEqual(self.messages_for(later).failure_code, "template_error")
        self.assertEqual(
            self.env["mail.activity"].search_count(
                [("res_model", "=", self.policy._name), ("summary", "ilike", "Overdue (edited)")]
            ),
            1,
        )
        broken.subject = "Overdue invoices: {{ object.invoice_names }}"
        failed = self.messages_for(overdue_a)
        with freeze_time("2026-04-08 10:00"):
            failed.action_retry()
        self.assertEqual(failed.state, "sent")
        self.assertEqual(failed.subject, f"Overdue invoices: {overdue_a.name}")
        self.assertEqual(overdue_a.payment_reminder_level_id, self.level_overdue, "sent at last: the level is reached")
        self.assertEqual(overdue_a.payment_reminder_level_date, date(2026, 4, 8))

    def test_a_broken_sms_template_falls_back_to_the_next_channel(self):
        broken = self.env.ref("account_payment_reminder.sms_template_overdue").copy()
        broken.write({"name": "Overdue SMS (edited)", "body": "Pay {{ object.amount_due_display.nope }}"})
        self.level_overdue.write({"use_whatsapp": False, "sms_template_id": broken.id})
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.run_at(OVERDUE)
        sms, email = self.messages_for(invoice)
        self.assertEqual((sms.channel, sms.state, sms.failure_code), ("sms", "failed", "template_error"))
        self.assertIn("Overdue SMS (edited)", sms.failure_reason)
        self.assertIn("Body", sms.failure_reason)
        self.assertEqual((email.channel, email.state, email.parent_id), ("email", "sent", sms))
        self.assertFalse(self.fake.sent("twilio"), "nothing half-rendered left the machine")

    def test_an_unreachable_mail_server_says_what_happened_and_when_it_is_retried(self):
        # Odoo never opens an SMTP connection under tests: a mail in the state Odoo leaves it in when the
        # server refuses the connection stands for it
        mail = self.env["mail.mail"].create(
            {
                "email_to": "ap@azure.example",
                "subject": "x",
                "state": "exception",
                "failure_type": "mail_smtp",
                "failure_reason": "Mail delivery failed via SMTP server 'localhost'.\nConnectionRefusedError: "
                "[Errno 111] Connection refused",
            }
        )
        Provider = self.env["account.payment.reminder.provider.mail"]
        with self.assertRaises(ReminderProviderError) as caught:
            Provider._check_sent(mail)
        error = caught.exception
        self.assertIsInstance(error, ReminderRetryableError)
        self.assertIn("outgoing mail server", error.message("en_US"))
        self.assertIn("Connection refused", error.message("en_US"), "the server's words as the detail")

        self.level_overdue.write({"use_whatsapp": False, "use_sms": False})
        invoice = self.create_invoice(due=date(2026, 3, 31))
        with freeze_time(OVERDUE):
            message = self.Run._apply(self.Run._decide(self.customer.ids, datetime(2026, 4, 7, 9, 0)))
            message.attempt_count = 1
            message._handle_failure(error)
        self.assertEqual(message.state, "queued")
        self.assertIn("Connection failed (outgoing mail server problem)", message.failure_reason)
        self.assertIn("tried again in 5 minutes, at 09:05 UTC (attempt 2 of 6)", message.failure_reason)
        self.assertEqual(self.messages_for(invoice), message)

    # === WHAT IS PREVIEWED IS WHAT GOES OUT === #

    def test_the_sms_preview_is_the_sms_sent(self):
        self.level_overdue.write({"use_whatsapp": False, "use_email": False})
        invoice = self.create_invoice(due=date(2026, 3, 20), amount=480.0)
        with freeze_time("2026-04-01 10:00"):
            form = self.wizard(invoice)
            self.assertEqual(len(form.line_ids), 1)
            with form.line_ids.edit(0) as line:
                self.assertEqual(line.channel, "sms")
                preview, segments = line.body, line.encoding_info
            form.save().action_send()
        message = self.messages_for(invoice)
        self.assertEqual(message.state, "sent")
        self.assertIn(message.payment_link, message.body, "the link is in what was sent")
        self.assertIn(f"{invoice.get_base_url()}/r/", preview, "and in what was previewed")
        self.assertEqual(len(preview), len(message.body), "same text, same length")
        self.assertEqual(segments, message.encoding_info, "same segments")
        code = message.payment_link.rsplit("/", 1)[1]
        self.assertEqual(preview.replace("/r/XXX", f"/r/{code}"), message.body, "only the link's code is drawn at send")
        # once the link exists, the preview shows it exactly
        with freeze_time("2026-04-01 10:00"):
            form = self.wizard(invoice, level_id=self.level_overdue)
            with form.line_ids.edit(0) as line:
                self.assertEqual(line.body, message.body)
        # and so does the level form's preview (while the link to the customer's page is valid)
        with freeze_time("2026-04-01 10:00"), Form(self.level_overdue) as level:
            level.preview_move_id = invoice
            self.assertEqual(level.sms_preview, message.body)

    def test_whatsapp_preview_shows_the_template_parameters_as_sent(self):
        invoice = self.create_invoice(due=date(2026, 3, 20), amount=480.0)
        with freeze_time("2026-04-01 10:00"):
            form = self.wizard(invoice)
            self.assertEqual(len(form.line_ids), 1, "as the scheduler would: the first channel that reaches")
            with form.line_ids.edit(0) as line:
                self.assertEqual(line.channel, "whatsapp")
                preview = line.body
            form.save().action_send()
        message = self.messages_for(invoice)
        self.assertEqual(message.state, "sent")
        self.assertEqual(preview, message.body)
        (request,) = self.fake.sent("meta")
        params = [p["text"] for p in request["json"]["template"]["components"][0]["parameters"]]
        self.assertEqual(params, message._get_whatsapp_values()[0], "the parameters rendered are those sent")

    # === EVERY KIND OF MESSAGE ON EVERY CHANNEL === #

    def test_payment_plan_messages_go_on_whatsapp(self):
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=900.0)
        self.customer.payment_reminder_wa_last_inbound = datetime(2026, 4, 5, 8, 0)
        with freeze_time("2026-04-05 09:00"):
            form = Form(
                self.env["account.payment.reminder.plan.propose"]
                .with_user(self.accountant)
                .with_context(active_model="account.move", active_ids=invoice.ids)
            )
            form.channel = "whatsapp"
            form.instalment_count = 3
            form.first_date = date(2026, 4, 10)
            plan = self.env["account.payment.reminder.plan"].browse(form.save().action_create_plan()["res_id"])
        summary = self.messages_for(invoice)
        self.assertEqual((summary.kind, summary.channel, summary.state), ("plan_summary", "whatsapp", "sent"))
        self.assertIn("300.00", summary.body)
        (request,) = self.fake.sent("meta")
        self.assertEqual(request["json"]["type"], "text", "free text inside the customer's 24-hour window")
        self.assertIn("300.00", request["json"]["text"]["body"])

        # two days later the window is closed: the scheduler's instalment reminder falls back to e-mail
        self.run_at("2026-04-07 09:00")
        before = self.messages_for(invoice).filtered(lambda m: m.kind == "plan_before")
        whatsapp = before.filtered(lambda m: m.channel == "whatsapp")
        email = before - whatsapp
        self.assertEqual((whatsapp.state, whatsapp.failure_code), ("failed", "131047"))
        self.assertEqual((email.channel, email.state, email.plan_line_id), ("email", "sent", plan.line_ids[0]))

    # === SENT ONCE === #

    def test_the_wizard_sent_twice_sends_once_and_schedules_the_level_activity(self):
        self.level_overdue.write(
            {
                "use_whatsapp": False,
                "use_sms": False,
                "activity_type_id": self.env.ref("mail.mail_activity_data_call").id,
            }
        )
        invoice = self.create_invoice(due=date(2026, 3, 20))
        with freeze_time("2026-04-01 10:00"):
            wizard = self.wizard(invoice).save()
            wizard.action_send()
            wizard.action_send()  # a double click, a retried request
        message = self.messages_for(invoice)
        self.assertEqual(len(message), 1)
        self.assertEqual(len(self.env["mail.mail"].search([("subject", "=", message.subject)])), 1)
        self.assertEqual(invoice.payment_reminder_level_id, self.level_overdue)
        activity = invoice.activity_ids.filtered(lambda a: a.activity_type_id == self.level_overdue.activity_type_id)
        self.assertEqual(len(activity), 1, "a manual reminder schedules the level's activity too")


@tagged("post_install", "-at_install")
class TestPipelineCompanies(PaymentReminderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="Company B")["company"]
        cls.policy_b = cls._create_policy(cls.company_b)
        cls.company_b.payment_reminder_policy_id = cls.policy_b

    def test_a_promise_made_to_company_a_does_not_pause_company_b(self):
        invoice_a = self.create_invoice(due=date(2026, 3, 31))
        invoice_b = self.create_invoice(due=date(2026, 3, 31), company=self.company_b)
        self.env["account.payment.reminder.promise"].with_company(self.company).create(
            {"partner_id": self.customer.id, "company_id": self.company.id, "date": date(2026, 4, 20)}
        )
        stats = self.run_at("2026-04-07 09:00")
        self.assertEqual(stats["skipped_promise"], 1)
        self.assertFalse(self.messages_for(invoice_a), "company A waits for the promise it was given")
        self.assertEqual(self.messages_for(invoice_b).state, "sent", "company B was promised nothing")


@tagged("post_install", "-at_install")
class TestRates(PaymentReminderCommon):
    def test_a_rate_is_unknown_until_the_message_is_out(self):
        self.env["account.payment.reminder.gateway"].search([]).write({"state": "disabled"})
        self.gateway_mail.state = "enabled"
        delivered = self.create_invoice(due=date(2026, 3, 31))
        cancelled = self.create_invoice(partner=self.customer.copy({"name": "Cancelled"}), due=date(2026, 3, 31))
        self.run_at("2026-04-07 09:00", partner_ids=self.customer.ids)
        sent = self.messages_for(delivered)
        sent.sudo()._apply_status("delivered")  # a delivery receipt
        with freeze_time("2026-04-07 10:00"):
            queued = self.Run._apply(self.Run._decide(cancelled.commercial_partner_id.ids, datetime(2026, 4, 8, 9)))
        self.assertEqual(queued.state, "queued")
        groups = self.Message._read_group(
            [("id", "in", (sent | queued).ids)], [], ["delivered_rate:avg", "failed_rate:avg", "read_rate:avg"]
        )
        self.assertEqual(groups[0], (100.0, 0.0, 0.0), "a queued message counts neither as delivered nor as not")
        queued.sudo().action_cancel()
        self.env.cr.execute("SELECT delivered_rate FROM account_payment_reminder_message WHERE id = %s", [queued.id])
        self.assertIsNone(self.env.cr.fetchone()[0], "unknown is not zero")
