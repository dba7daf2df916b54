import json
from datetime import date, datetime, timedelta

from odoo.tests import new_test_user, tagged

from ..exceptions import ReminderPermanentError
from ..providers.common import OutgoingPayload
from .common import ChannelCommon

OVERDUE = "2026-04-07 09:00"  # an invoice due on 2026-03-31 reaches the overdue level


@tagged("post_install", "-at_install")
class TestWhatsApp(ChannelCommon):
    def test_template_message_with_parameters_and_pay_button(self):
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=1234.5)
        self.run_at(OVERDUE)
        message = self.messages_for(invoice)
        self.assertEqual(message.channel, "whatsapp")
        self.assertEqual(message.state, "sent")
        self.assertEqual(message.recipient, "+32470123456", "stored in E.164")
        self.assertTrue(message.provider_message_id.startswith("wamid."))
        (request,) = self.fake.sent("meta")
        self.assertEqual(request["path"], "/v21.0/106540352242922/messages")
        self.assertEqual(request["headers"]["Authorization"], "Bearer meta-test-token")
        body = request["json"]
        self.assertEqual(body["to"], "32470123456")
        self.assertEqual(body["type"], "template")
        self.assertEqual(body["template"]["name"], "payment_reminder_overdue")
        self.assertEqual(body["template"]["language"], {"code": "en"})
        self.assertEqual(body["biz_opaque_callback_data"], message.idempotency_key)
        body_params, button = body["template"]["components"]
        self.assertEqual(
            [p["text"] for p in body_params["parameters"]],
            ["Azure Interior", f"invoice {invoice.name}", "$\xa01,234.50", "03/31/2026"],
        )
        self.assertEqual(button["sub_type"], "url")
        page = self.env["account.payment.reminder.access"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(button["parameters"][0]["text"], f"reminder/{page.token}", "the customer's page")
        self.assertIn(invoice.name, message.body, "the history keeps the text as the customer reads it")

    def test_not_on_whatsapp_falls_back_to_sms(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.fake.answer("+32470123456", 400, _meta_error(131026, "Message undeliverable"))
        self.run_at(OVERDUE)
        whatsapp, sms = self.messages_for(invoice)
        self.assertEqual((whatsapp.channel, whatsapp.state), ("whatsapp", "failed"))
        self.assertEqual(whatsapp.failure_code, "131026")
        self.assertIn("not on WhatsApp", whatsapp.failure_reason)
        self.assertEqual((sms.channel, sms.state, sms.parent_id), ("sms", "sent", whatsapp))
        (twilio,) = self.fake.sent("twilio")
        self.assertEqual(twilio["form"]["To"], "+32470123456")
        self.assertEqual(twilio["form"]["From"], "+15550100")
        self.assertIn(invoice.name, twilio["form"]["Body"])
        self.assertIn("/r/", twilio["form"]["Body"], "a short tracked link")
        self.assertTrue(twilio["form"]["StatusCallback"].endswith("/status"))
        self.assertTrue(sms.provider_message_id.startswith("SM"))
        notes = invoice.message_ids.mapped("body")
        self.assertTrue(any("Payment reminder failed" in (b or "") for b in notes))
        self.assertTrue(any("Payment reminder sent" in (b or "") for b in notes))

    def test_transient_error_is_retried_with_backoff(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.fake.answer("+32470123456", 429, _meta_error(130429, "Rate limit hit"))
        self.run_at(OVERDUE)
        message = self.messages_for(invoice)
        self.assertEqual(len(message), 1, "no fallback for a temporary error")
        self.assertEqual(message.state, "queued")
        self.assertEqual(message.failure_code, "130429")
        self.assertIn(
            "tried again in 5 minutes, at 09:05 UTC (attempt 2 of 6)", message.failure_reason, "what and when"
        )
        self.assertEqual(message.next_attempt_at, datetime(2026, 4, 7, 9, 5))
        self.run_at("2026-04-07 09:02")
        self.assertEqual(message.state, "queued", "not before its time")
        self.assertEqual(len(self.fake.sent("meta")), 1)
        self.run_at("2026-04-07 09:06")
        self.assertEqual(message.state, "sent")
        self.assertEqual(message.attempt_count, 2)
        self.assertFalse(message.failure_reason)

    def test_rate_limit_waits_for_the_providers_retry_after(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.fake.answer("+32470123456", 429, _meta_error(130429, "Rate limit hit"), headers={"Retry-After": "3600"})
        self.run_at(OVERDUE)
        message = self.messages_for(invoice)
        self.assertEqual((message.state, message.failure_code), ("queued", "130429"))
        self.assertEqual(message.next_attempt_at, datetime(2026, 4, 7, 10, 0), "not before Meta's hour")
        self.assertIn("tried again in 60 minutes, at 10:00 UTC (attempt 2 of 6)", message.failure_reason)
        self.run_at("2026-04-07 09:30")
        self.assertEqual(len(self.fake.sent("meta")), 1, "the backoff alone would have retried at 09:05")
        self.run_at("2026-04-07 10:01")
        self.assertEqual(message.state, "sent")

    def test_server_errors_and_slow_answers_are_transient(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.fake.answer("+32470123456", 503, {"error": {"message": "Service unavailable", "code": 2}})
        self.run_at(OVERDUE)
        message = self.messages_for(invoice)
        self.assertEqual((message.state, message.failure_code), ("queued", "2"))
        # a provider slower than the gateway's timeout (2 s)
        self.fake.answer("+32470123456", None, None, delay=3)
        self.run_at("2026-04-07 09:06")
        self.assertEqual((message.state, message.failure_code), ("queued", "timeout"))
        self.assertEqual(message.next_attempt_at, datetime(2026, 4, 7, 9, 16))
        self.run_at("2026-04-07 09:20")
        self.assertEqual(message.state, "sent")

    def test_retries_end_in_a_failure_with_fallback(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        for _attempt in range(6):
            self.fake.answer("+32470123456", 500, {"error": {"message": "Internal error", "code": 1}})
        moment = datetime(2026, 4, 7, 9, 0)
        for _attempt in range(6):
            self.run_at(moment)
            moment += timedelta(hours=3)
        whatsapp, sms = self.messages_for(invoice)
        self.assertEqual(whatsapp.state, "failed")
        self.assertEqual(whatsapp.attempt_count, 6)
        self.assertEqual(sms.state, "sent")

    def test_expired_token_fails_with_reason(self):
        self.gateway_wa.wa_access_token = "expired"
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.run_at(OVERDUE)
        whatsapp, sms = self.messages_for(invoice)
        self.assertEqual(whatsapp.failure_code, "190")
        self.assertIn("access token is invalid or expired", whatsapp.failure_reason)
        self.assertEqual(sms.state, "sent")

    def test_unknown_template_fails_and_falls_back(self):
        self.fake.meta_templates.pop(("payment_reminder_overdue", "en"))
        self.addCleanup(self.fake.meta_templates.__setitem__, ("payment_reminder_overdue", "en"), 4)
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.run_at(OVERDUE)
        whatsapp, sms = self.messages_for(invoice)
        self.assertEqual(whatsapp.failure_code, "132001")
        self.assertIn("does not exist in this language", whatsapp.failure_reason)
        self.assertEqual(sms.state, "sent")

    def test_empty_or_oversized_parameters_fail_before_calling_meta(self):
        template = self.env.ref("account_payment_reminder.whatsapp_template_overdue")
        template.param_ids[0].value = "company_name"
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.company.name = "x" * 1100
        self.run_at(OVERDUE)
        whatsapp, _sms = self.messages_for(invoice)
        self.assertEqual(whatsapp.failure_code, "param_too_long")
        self.assertIn("{{1}}", whatsapp.failure_reason)
        self.assertFalse(self.fake.sent("meta"))
        self.company.name = "   "
        other = self.create_invoice(partner=self.customer.copy({"name": "Other"}), due=date(2026, 3, 31))
        self.run_at(OVERDUE)
        self.assertEqual(self.messages_for(other)[0].failure_code, "param_empty")
        self.assertFalse(self.fake.sent("meta"))

    def test_language_picks_the_template(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        french = self.env.ref("account_payment_reminder.whatsapp_template_overdue").copy(
            {"name": "Overdue (French)", "lang_code": "fr", "lang": "fr_FR"}
        )
        self.fake.meta_templates[("payment_reminder_overdue", "fr")] = 4
        self.level_overdue.whatsapp_template_ids |= french
        self.customer.lang = "fr_FR"
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=1234.5)
        self.run_at(OVERDUE)
        message = self.messages_for(invoice)
        self.assertEqual(message.whatsapp_template_id, french)
        body = self.fake.sent("meta")[0]["json"]
        self.assertEqual(body["template"]["language"], {"code": "fr"})
        self.assertIn("31/03/2026", [p["text"] for p in body["template"]["components"][0]["parameters"]])

    def test_free_form_text_only_inside_the_24_hour_window(self):
        self.level_overdue.whatsapp_template_ids = False
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.customer.payment_reminder_wa_last_inbound = datetime(2026, 4, 6, 12, 0)
        self.run_at(OVERDUE)
        message = self.messages_for(invoice)
        self.assertEqual((message.channel, message.state), ("whatsapp", "sent"))
        request = self.fake.sent("meta")[0]["json"]
        self.assertEqual(request["type"], "text")
        self.assertIn(invoice.name, request["text"]["body"])
        # two days later the window is closed: free-form text is not allowed
        later = self.create_invoice(due=date(2026, 4, 2))
        self.run_at("2026-04-09 09:00")
        whatsapp, sms = self.messages_for(later)
        self.assertEqual(whatsapp.failure_code, "131047")
        self.assertEqual(sms.state, "sent")

    def test_rate_limit_per_gateway(self):
        self.gateway_wa.rate_limit = 4.0
        customers = self.env["res.partner"].create(
            [
                {"name": f"Shop {i}", "mobile": f"+3247055500{i}", "country_id": self.env.ref("base.be").id}
                for i in range(3)
            ]
        )
        for customer in customers:
            self.create_invoice(partner=customer, due=date(2026, 3, 31))
        self.run_at(OVERDUE)
        stamps = [r["at"] for r in self.fake.sent("meta")]
        self.assertEqual(len(stamps), 3)
        gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
        self.assertTrue(all(gap >= 0.24 for gap in gaps), gaps)

    def test_recipient_interval_spaces_messages_to_one_person(self):
        self.gateway_wa.recipient_interval = 6
        self.policy.grouping = "invoice"
        first = self.create_invoice(due=date(2026, 3, 31))
        second = self.create_invoice(due=date(2026, 3, 31))
        self.run_at(OVERDUE)
        sent = (self.messages_for(first) | self.messages_for(second)).sorted("id")
        self.assertEqual(sent.mapped("state"), ["sent", "queued"])
        self.assertEqual(sent[1].next_attempt_at, datetime(2026, 4, 7, 9, 0, 6))
        self.run_at("2026-04-07 09:00:07")
        self.assertEqual(sent.mapped("state"), ["sent", "sent"])


@tagged("post_install", "-at_install")
class TestSms(ChannelCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.level_overdue.use_whatsapp = False

    def test_sms_text_segments_and_tracked_link(self):
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=1234.5)
        self.run_at(OVERDUE)
        message = self.messages_for(invoice)
        self.assertEqual((message.channel, message.state), ("sms", "sent"))
        self.assertIn(invoice.name, message.body)
        self.assertIn("$ 1,234.50", message.body, "no-break spaces replaced, the SMS stays GSM-7")
        self.assertIn(message.payment_link, message.body)
        tracker = self.tracker_for(message.payment_link)
        page = self.env["account.payment.reminder.access"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(tracker.url, page.url, "the customer's reminder page")
        self.assertTrue(tracker.url.startswith("http"), "links in SMS are absolute")
        self.assertLessEqual(len(message.body), 160)
        self.assertEqual(message.segments, 1)
        self.assertIn("GSM-7", message.encoding_info)
        self.assertEqual(self.fake.sent("twilio")[0]["form"]["Body"], message.body)

    def test_typographic_characters_and_ucs2(self):
        template = self.level_overdue.sms_template_id
        template.body = "{{ object.company_id.name }} – l’échéance {{ object.invoice_names }} est dépassée"
        self.company.name = "Façade SA"
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.run_at(OVERDUE)
        message = self.messages_for(invoice)
        self.assertNotIn("’", message.body)
        self.assertNotIn("–", message.body)
        self.assertIn("l'échéance", message.body)
        self.assertIn("UCS-2 because of 'ç'", message.encoding_info, "é is GSM-7, ç is not")
        self.level_overdue.sms_gsm_only = False
        self.level_overdue.preview_move_id = invoice
        self.assertIn("’", self.level_overdue.sms_preview)
        self.assertIn("UCS-2 because of 'ç'", self.level_overdue.sms_preview_info)

    def test_opted_out_number_falls_back_to_email_and_records_the_opt_out(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.fake.answer(
            "+32470123456",
            400,
            {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400},
        )
        self.run_at(OVERDUE)
        sms, email = self.messages_for(invoice)
        self.assertEqual((sms.state, sms.failure_code), ("failed", "21610"))
        self.assertIn("replied STOP", sms.failure_reason)
        self.assertTrue(self.customer.payment_reminder_optout_sms)
        self.assertEqual((email.channel, email.state), ("email", "sent"))
        # next time SMS is not even tried
        later = self.create_invoice(due=date(2026, 4, 1))
        self.run_at("2026-04-08 09:00")
        self.assertEqual(self.messages_for(later).channel, "email")

    def test_twilio_rate_limit_waits_for_the_providers_retry_after(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        too_many = {"code": 20429, "message": "Too Many Requests", "status": 429}
        self.fake.answer("+32470123456", 429, too_many, headers={"Retry-After": "1200"})
        self.run_at(OVERDUE)
        sms = self.messages_for(invoice)
        self.assertEqual((sms.state, sms.failure_code), ("queued", "20429"))
        self.assertEqual(sms.next_attempt_at, datetime(2026, 4, 7, 9, 20), "Twilio's 20 minutes, not 5")
        # a delay shorter than the backoff keeps the backoff (10 minutes before the third attempt)
        self.fake.answer("+32470123456", 429, too_many, headers={"Retry-After": "30"})
        self.run_at("2026-04-07 09:21")
        self.assertEqual((sms.state, sms.next_attempt_at), ("queued", datetime(2026, 4, 7, 9, 31)))
        self.run_at("2026-04-07 09:32")
        self.assertEqual(sms.state, "sent")
        self.assertEqual(len(self.messages_for(invoice)), 1, "no fallback for a rate limit")

    def test_odoo_sms_sends_a_batch_in_one_iap_call(self):
        odoo_sms = self.env["account.payment.reminder.gateway"].create(
            {"name": "Odoo SMS", "provider": "odoo_sms", "state": "enabled", "use_sms": True}
        )
        self.env["ir.config_parameter"].sudo().set_param("sms.endpoint", self.fake.url)
        self.env["iap.account"].sudo().create(
            {"service_id": self.env.ref("sms.iap_service_sms").id, "account_token": "iap-test-token"}
        )
        numbers = [f"+3247000020{index}" for index in range(5)]
        payloads = [
            OutgoingPayload(message_id=index, channel="sms", recipient=number, body=f"Reminder {index % 2}")
            for index, number in enumerate(numbers)
        ]
        self.fake.answer(numbers[3], 200, "insufficient_credit")
        with iap_reachable():
            results = odoo_sms._get_provider()._send_batch(odoo_sms, payloads)
        (iap,) = self.fake.sent("iap")  # one HTTP call for the five messages
        sent = {n["number"]: n["uuid"] for m in iap["json"]["messages"] for n in m["numbers"]}
        self.assertEqual(sorted(sent), numbers)
        self.assertEqual(len(iap["json"]["messages"]), 2, "the texts grouped, as Odoo's sms module does")
        self.assertEqual(len(results), 5, "one result per payload, in order")
        for number, result in zip(numbers, results, strict=True):
            if number == numbers[3]:
                self.assertIsInstance(result, ReminderPermanentError)
                self.assertEqual(result.code, "sms_credit")
            else:
                self.assertEqual(result, {"provider_message_id": sent[number], "state": "sent"})

    def test_default_batch_sends_one_by_one_in_order(self):
        sandbox = self.env["account.payment.reminder.gateway"].create(
            {"name": "Sandbox", "provider": "sandbox", "state": "test", "use_sms": True}
        )
        numbers = ["+32470000301", "+32470000000", "+32470000302"]
        payloads = [
            OutgoingPayload(message_id=index, channel="sms", recipient=number, body="Hello", segments=1)
            for index, number in enumerate(numbers)
        ]
        first, refused, last = sandbox._get_provider()._send_batch(sandbox, payloads)
        self.assertTrue(first["provider_message_id"].startswith("sandbox-"))
        self.assertIn("+32470000301", first["payload"])
        self.assertIsInstance(refused, ReminderPermanentError)
        self.assertEqual(refused.code, "sandbox_unreachable")
        self.assertIn("+32470000302", last["payload"])

    def test_landline_refused_by_twilio(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.fake.answer("+32470123456", 400, {"code": 21614, "message": "not a mobile number", "status": 400})
        self.run_at(OVERDUE)
        sms, email = self.messages_for(invoice)
        self.assertIn("cannot receive SMS", sms.failure_reason)
        self.assertEqual(email.state, "sent")

    def test_bad_numbers_fail_with_reason(self):
        self.level_overdue.write({"use_email": False})
        cases = {
            "Short": ("12", "BE"),
            "Fixed": ("+32 2 555 12 12", "BE"),
            "Letters": ("call me", "BE"),
        }
        invoices = {}
        for name, (number, country) in cases.items():
            partner = self.env["res.partner"].create(
                {"name": name, "mobile": number, "country_id": self.env.ref(f"base.{country.lower()}").id}
            )
            invoices[name] = self.create_invoice(partner=partner, due=date(2026, 3, 31))
        national = self.env["res.partner"].create(
            {"name": "National", "mobile": "0470 99 88 77", "country_id": self.env.ref("base.be").id}
        )
        invoices["National"] = self.create_invoice(partner=national, due=date(2026, 3, 31))
        self.run_at(OVERDUE)
        short, fixed, letters = (self.messages_for(invoices[n]) for n in ("Short", "Fixed", "Letters"))
        self.assertEqual(short.state, "failed")
        self.assertIn("Short", short.failure_reason)
        self.assertIn("not a mobile number", fixed.failure_reason)
        self.assertEqual(letters.state, "failed")
        self.assertEqual(self.messages_for(invoices["National"]).recipient, "+32470998877")
        self.assertEqual(self.messages_for(invoices["National"]).state, "sent")
        self.assertEqual(len(self.fake.sent("twilio")), 1, "only the valid number reached Twilio")

    def test_opt_in_required(self):
        self.policy.require_opt_in = True
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.run_at(OVERDUE)
        self.assertEqual(self.messages_for(invoice).channel, "email")
        self.customer.write(
            {"payment_reminder_optin_date": datetime(2026, 1, 1), "payment_reminder_optin_source": "Contract"}
        )
        later = self.create_invoice(due=date(2026, 4, 1))
        self.run_at("2026-04-08 09:00")
        self.assertEqual(self.messages_for(later).channel, "sms")

    def test_odoo_sms_provider_through_iap(self):
        self.gateway_twilio.state = "disabled"
        odoo_sms = self.env["account.payment.reminder.gateway"].create(
            {"name": "Odoo SMS", "provider": "odoo_sms", "state": "enabled", "use_sms": True}
        )
        self.env["ir.config_parameter"].sudo().set_param("sms.endpoint", self.fake.url)
        self.env["iap.account"].sudo().create(
            {"service_id": self.env.ref("sms.iap_service_sms").id, "account_token": "iap-test-token"}
        )
        invoice = self.create_invoice(due=date(2026, 3, 31))
        refused = self.create_invoice(
            partner=self.customer.copy({"name": "Poor", "mobile": "+32470000111"}), due=date(2026, 3, 31)
        )
        self.fake.answer("+32470000111", 200, "insufficient_credit")
        with iap_reachable():
            self.run_at(OVERDUE)
        message = self.messages_for(invoice)
        self.assertEqual((message.gateway_id, message.state), (odoo_sms, "sent"))
        (iap, *_rest) = self.fake.sent("iap")
        numbers = [n["number"] for m in iap["json"]["messages"] for n in m["numbers"]]
        self.assertIn("+32470123456", numbers)
        sms, email = self.messages_for(refused)
        self.assertEqual((sms.state, sms.failure_code), ("failed", "sms_credit"))
        self.assertIn("Insufficient Credit", sms.failure_reason)
        self.assertEqual(email.state, "sent")

    def test_the_dispatch_sends_odoo_sms_in_one_iap_call(self):
        """The scheduler's SMS through Odoo SMS leave in one IAP request, not
        one per customer (the dispatch hands a gateway's messages to its
        provider together)."""
        self.gateway_twilio.state = "disabled"
        self.env["account.payment.reminder.gateway"].create(
            {"name": "Odoo SMS", "provider": "odoo_sms", "state": "enabled", "use_sms": True}
        )
        self.env["ir.config_parameter"].sudo().set_param("sms.endpoint", self.fake.url)
        self.env["iap.account"].sudo().create(
            {"service_id": self.env.ref("sms.iap_service_sms").id, "account_token": "iap-test-token"}
        )
        invoices = self.create_invoice(due=date(2026, 3, 31))
        for index in range(3):
            customer = self.customer.copy({"name": f"Customer {index}", "mobile": f"+3247000031{index}"})
            invoices |= self.create_invoice(partner=customer, due=date(2026, 3, 31))
        with iap_reachable():
            self.run_at(OVERDUE)
        messages = self.messages_for(invoices)
        self.assertEqual(messages.mapped("state"), ["sent"] * 4)
        (iap,) = self.fake.sent("iap")
        numbers = sorted(n["number"] for m in iap["json"]["messages"] for n in m["numbers"])
        self.assertEqual(numbers, sorted(messages.mapped("recipient")))

    def test_twilio_whatsapp_content_template(self):
        self.gateway_wa.state = "disabled"
        self.gateway_twilio.use_whatsapp = True
        self.level_overdue.use_whatsapp = True
        self.env.ref("account_payment_reminder.whatsapp_template_overdue").twilio_content_sid = "HX0123456789"
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.run_at(OVERDUE)
        message = self.messages_for(invoice)
        self.assertEqual((message.channel, message.state), ("whatsapp", "sent"))
        form = self.fake.sent("twilio")[0]["form"]
        self.assertEqual(form["To"], "whatsapp:+32470123456")
        self.assertEqual(form["From"], "whatsapp:+15550101")
        self.assertEqual(form["ContentSid"], "HX0123456789")
        self.assertNotIn("Body", form)
        self.assertEqual(json.loads(form["ContentVariables"])["2"], f"invoice {invoice.name}")


@tagged("post_install", "-at_install")
class TestBudgetAcrossChannels(ChannelCommon):
    def test_contact_budget_counts_every_channel(self):
        self.policy.max_messages_per_week = 2
        self.level_overdue.channel_strategy = "all"
        invoice = self.create_invoice(due=date(2026, 3, 31))
        stats = self.run_at(OVERDUE)
        self.assertEqual(stats["skipped_budget"], 1, "three channels at once exceed a budget of two")
        self.assertFalse(self.messages_for(invoice))
        self.policy.max_messages_per_week = 3
        self.run_at("2026-04-07 10:00")
        self.assertEqual(sorted(self.messages_for(invoice).mapped("channel")), ["email", "sms", "whatsapp"])
        # the next level a week later: the three messages are still in the rolling week
        self.level_followup.channel_strategy = "fallback"
        self.run_at("2026-04-14 09:00")
        self.assertEqual(len(self.messages_for(invoice)), 3)
        self.run_at("2026-04-14 10:01")
        self.assertEqual(len(self.messages_for(invoice)), 4)


@tagged("post_install", "-at_install")
class TestFailureReasonInTheReadersLanguage(ChannelCommon):
    """A reason is written once, by the scheduler, and read by accountants of
    any language: each reads it in its own, whatever the customer's language
    and the scheduler's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["res.lang"]._activate_lang("es_ES")
        cls.customer.lang = "es_ES"  # neither the reader's language nor the scheduler's
        cls.french = new_test_user(
            cls.env,
            login="comptable",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
            lang="fr_FR",
        )

    def read_as(self, user, message):
        """The reason as the user's screens show it (the web client sends the user's language)."""
        return message.with_user(user).with_context(lang=user.lang).failure_reason_display

    def test_a_failure_reads_in_french_for_a_french_accountant(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.fake.answer("+32470123456", 400, _meta_error(131026, "Message undeliverable"))
        self.run_at(OVERDUE)
        whatsapp = self.messages_for(invoice)[0]
        self.assertEqual(whatsapp.state, "failed")
        self.assertEqual(
            self.read_as(self.french, whatsapp),
            "Le numéro n'est pas sur WhatsApp (ou ne peut pas recevoir ce message). (Message undeliverable)",
            "in French, with the provider's own words as they came",
        )
        self.assertEqual(
            self.read_as(self.env.user, whatsapp),
            "The number is not on WhatsApp (or cannot receive this message). (Message undeliverable)",
        )
        self.assertEqual(whatsapp.failure_reason, self.read_as(self.env.user, whatsapp), "logged in English here")

    def test_a_retry_reads_in_french_too(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.fake.answer("+32470123456", 429, _meta_error(130429, "Rate limit hit"))
        self.run_at(OVERDUE)
        message = self.messages_for(invoice)
        self.assertEqual(message.state, "queued")
        shown = self.read_as(self.french, message)
        self.assertIn("Nouvel essai dans 5 minutes, à 09:05 UTC", shown)
        self.assertNotIn("tried again", shown)
        self.assertIn("tried again in 5 minutes, at 09:05 UTC", message.failure_reason)

    def test_a_customer_no_channel_reaches_reads_in_french_too(self):
        """Reasons found before a message leaves (no address on any channel)
        are kept untranslated as well, not in the scheduler's language."""
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.customer.write({"email": False, "mobile": False, "phone": False})
        self.run_at(OVERDUE)
        message = self.messages_for(invoice)[0]
        self.assertEqual((message.state, message.failure_code), ("failed", "no_recipient"))
        name = self.customer.display_name
        self.assertEqual(
            self.read_as(self.french, message),
            f"{name} : aucun numéro mobile; {name} n'a pas d'adresse e-mail.",
        )
        self.assertEqual(
            self.read_as(self.env.user, message), f"{name}: no mobile number; {name} has no e-mail address."
        )

    def test_a_reason_written_as_text_replaces_the_one_kept(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.fake.answer("+32470123456", 400, _meta_error(131026, "Message undeliverable"))
        self.run_at(OVERDUE)
        whatsapp = self.messages_for(invoice)[0]
        whatsapp.sudo().failure_reason = "Checked by hand"  # sudo: history rows are written by code only
        self.assertEqual(self.read_as(self.french, whatsapp), "Checked by hand")


def _meta_error(code, message):
    return {"error": {"message": message, "type": "OAuthException", "code": code}}


class iap_reachable:  # noqa: N801 - used as a context manager
    """Odoo's IAP client refuses to run under tests (``iap_jsonrpc`` checks the
    thread's ``testing`` flag); lift that guard for one block so that the real
    client speaks HTTP to the local fake IAP server."""

    def __enter__(self):
        import threading  # noqa: PLC0415

        self.thread = threading.current_thread()
        self.previous = getattr(self.thread, "testing", False)
        self.thread.testing = False

    def __exit__(self, *exc):
        self.thread.testing = self.previous


@tagged("post_install", "-at_install")
class TestTranslations(ChannelCommon):
    """Each customer gets its own language, on every channel."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms(["account_payment_reminder"], ["fr_FR"], overwrite=True)
        cls.customer.lang = "fr_FR"
        cls.level_overdue.use_whatsapp = False

    def test_sms_and_email_in_the_customer_language(self):
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=1234.5)
        self.fake.answer("+32470123456", 400, {"code": 21610, "message": "Unsubscribed", "status": 400})
        self.run_at(OVERDUE)
        sms, email = self.messages_for(invoice)
        self.assertEqual(sms.lang, "fr_FR")
        self.assertIn(f"facture {invoice.name}, ", sms.body)
        self.assertIn("en retard depuis le 31/03/2026", sms.body)
        self.assertIn("STOP", sms.body, "the opt-out keyword stays what carriers understand")
        self.assertIn("31/03/2026", sms.body)
        self.assertIn("1 234,50", sms.body)
        self.assertNotIn("overdue since", sms.body)
        self.assertIn("Cordialement", email.body_html)
        self.assertNotIn("Kind regards", email.body_html)
        self.assertIn(invoice.name, email.subject)
        self.assertTrue(email.subject.startswith("Retard de paiement : facture"))
