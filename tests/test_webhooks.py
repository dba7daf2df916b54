import hashlib
import hmac
import http.client
import json
import time
from datetime import date
from urllib.parse import urlsplit

from odoo.tests import HttpCase, tagged

from ..providers.twilio.fake import TWILIO_SID, TWILIO_TOKEN
from ..providers.twilio.signature import twilio_signature
from .common import ChannelCommon

OVERDUE = "2026-04-07 09:00"


@tagged("post_install", "-at_install")
class TestWebhooks(ChannelCommon, HttpCase):
    """Receipts and replies posted to the controllers over real HTTP, signed
    like the providers sign them (or forged)."""

    def setUp(self):
        super().setUp()
        self.wa_url = f"/payment_reminder/webhook/whatsapp/{self.gateway_wa.webhook_key}"
        self.twilio_url = f"/payment_reminder/webhook/twilio/{self.gateway_twilio.webhook_key}"

    # === helpers === #

    def post_meta(self, payload, secret="meta-app-secret", raw=None, signature=None):
        body = raw if raw is not None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if signature is None and secret:
            signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if signature:
            headers["X-Hub-Signature-256"] = signature
        response = self.url_open(self.wa_url, data=body, headers=headers)
        self.env.invalidate_all()
        return response

    def post_twilio(self, path, params, token="twilio-test-token", gateway=None):
        prefix = f"/payment_reminder/webhook/twilio/{gateway.webhook_key}" if gateway else self.twilio_url
        url = self.base_url() + prefix + path
        headers = {"X-Twilio-Signature": twilio_signature(url, params, token)} if token else {}
        response = self.url_open(url, data=params, headers=headers)
        self.env.invalidate_all()
        return response

    def meta_statuses(self, *statuses):
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {"statuses": list(statuses)}}]}],
        }

    def meta_inbound(self, number, text=None, button=None):
        message = {"from": number.lstrip("+"), "id": "wamid.in", "timestamp": "1775552400"}
        if button:
            message.update(type="button", button={"payload": button, "text": button})
        else:
            message.update(type="text", text={"body": text})
        value = {"messaging_product": "whatsapp", "contacts": [{"wa_id": number.lstrip("+")}], "messages": [message]}
        return {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"value": value}]}]}

    def whatsapp_message(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.run_at(OVERDUE)
        message = self.messages_for(invoice)
        self.assertEqual((message.channel, message.state), ("whatsapp", "sent"))
        return invoice, message

    # === Meta === #

    def test_meta_verification_handshake(self):
        good = self.url_open(f"{self.wa_url}?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=verify-me")
        self.assertEqual((good.status_code, good.text), (200, "1158201444"))
        bad = self.url_open(f"{self.wa_url}?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=guess")
        self.assertEqual(bad.status_code, 403)
        unknown = self.url_open("/payment_reminder/webhook/whatsapp/not-a-key?hub.mode=subscribe")
        self.assertEqual(unknown.status_code, 404)

    def test_meta_receipts_move_forward_only(self):
        _invoice, message = self.whatsapp_message()
        wamid = message.provider_message_id
        delivered = {"id": wamid, "status": "delivered", "timestamp": "1775552460", "recipient_id": "32470123456"}
        read = {"id": wamid, "status": "read", "timestamp": "1775552520", "recipient_id": "32470123456"}
        self.assertEqual(self.post_meta(self.meta_statuses(read)).status_code, 200)
        self.assertEqual(message.state, "read")
        self.assertEqual(self.post_meta(self.meta_statuses(delivered)).status_code, 200)
        self.assertEqual(message.state, "read", "a late 'delivered' does not move it back")
        self.assertEqual(message.delivered_at, message.read_at, "read implies delivered")
        self.post_meta(self.meta_statuses(read))
        self.assertEqual(message.state, "read", "duplicates change nothing")
        failed = dict(read, status="failed", errors=[{"code": 131026, "title": "Undeliverable"}])
        self.post_meta(self.meta_statuses(failed))
        self.assertEqual(message.state, "read")
        self.assertEqual(len(self.messages_for(message.move_ids)), 1, "no fallback for a read message")

    def test_meta_delivery_failure_falls_back(self):
        invoice, message = self.whatsapp_message()
        failed = {
            "id": message.provider_message_id,
            "status": "failed",
            "timestamp": "1775552460",
            "recipient_id": "32470123456",
            "errors": [
                {"code": 131026, "title": "Message undeliverable", "error_data": {"details": "Not on WhatsApp"}}
            ],
        }
        cron = self.env.ref("account_payment_reminder.ir_cron_dispatch_messages")
        with self.frozen("2026-04-07 09:01"):
            self.assertEqual(self.post_meta(self.meta_statuses(failed)).status_code, 200)
        self.assertEqual((message.state, message.failure_code), ("failed", "131026"))
        # the webhook answers at once: the fallback is the scheduler's, which it wakes up
        self.assertEqual(self.messages_for(invoice), message, "no provider called inside the webhook")
        self.assertFalse(self.fake.sent("twilio"))
        self.assertTrue(message.fallback_pending)
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]))
        # Meta repeats itself: the same failure again queues nothing more
        self.post_meta(self.meta_statuses(failed))
        self.run_at("2026-04-07 09:02")
        whatsapp, sms = self.messages_for(invoice)
        self.assertEqual((sms.channel, sms.state, sms.parent_id), ("sms", "sent", message))
        self.assertFalse(message.fallback_pending)
        self.run_at("2026-04-07 09:03")
        self.assertEqual(len(self.messages_for(invoice)), 2)

    def test_forged_unsigned_and_malformed_posts_change_nothing(self):
        _invoice, message = self.whatsapp_message()
        delivered = self.meta_statuses({"id": message.provider_message_id, "status": "delivered", "timestamp": "1"})
        self.assertEqual(self.post_meta(delivered, secret="wrong-secret").status_code, 403)
        self.assertEqual(self.post_meta(delivered, secret=None).status_code, 403)
        self.assertEqual(self.post_meta(delivered, signature="sha256=00").status_code, 403)
        body = json.dumps(delivered).encode()
        reserialized = json.dumps(json.loads(body), indent=2).encode()
        signature = "sha256=" + hmac.new(b"meta-app-secret", body, hashlib.sha256).hexdigest()
        self.assertEqual(self.post_meta(None, raw=reserialized, signature=signature).status_code, 403)
        self.assertEqual(message.state, "sent")
        self.assertEqual(self.post_meta(None, raw=b"{not json").status_code, 400)
        self.assertEqual(self.post_meta({"entry": "nope"}).status_code, 400)
        self.assertEqual(message.state, "sent")

    def raw_post(self, path, headers):
        """A POST of headers only: they announce a body that never comes, so
        an answer proves the server did not wait to read it."""
        url = urlsplit(self.base_url())
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=20)
        try:
            connection.putrequest("POST", path)
            for name, value in headers.items():
                connection.putheader(name, value)
            connection.endheaders()
            response = connection.getresponse()
            return f"{response.status} {response.read().decode()}"
        finally:
            connection.close()

    def test_large_bodies_are_refused_before_they_are_read(self):
        _invoice, message = self.whatsapp_message()
        delivered = {"id": message.provider_message_id, "status": "delivered", "timestamp": "1775552460"}
        payload = self.meta_statuses(delivered) | {"padding": "x" * (1024 * 1024)}
        with self.assertLogs("odoo.addons.account_payment_reminder.controllers.main", "WARNING") as logs:
            self.assertEqual(self.post_meta(payload).status_code, 413, "signed, but over a MiB")
            self.assertEqual(message.state, "sent", "nothing applied")
            for path, content_type, refused in (
                (self.wa_url, "application/json", "413"),
                (f"{self.twilio_url}/status", "application/x-www-form-urlencoded", "413"),
                (f"{self.twilio_url}/inbound", "application/x-www-form-urlencoded", "413"),
                ("/sms/status", "application/json", "RequestEntityTooLarge"),  # JSON-RPC: the error is in the body
            ):
                with self.subTest(path=path):
                    started = time.monotonic()
                    answer = self.raw_post(path, {"Content-Type": content_type, "Content-Length": str(27 << 20)})
                    self.assertIn(refused, answer)
                    self.assertLess(time.monotonic() - started, 10, "answered without waiting for the body")
                    answer = self.raw_post(path, {"Content-Type": content_type, "Transfer-Encoding": "chunked"})
                    self.assertIn(
                        refused.replace("413", "411").replace("RequestEntityTooLarge", "LengthRequired"), answer
                    )
        self.assertEqual(len(logs.records), 9)
        # a provider's ordinary body is still taken
        self.assertEqual(self.post_meta(self.meta_statuses(delivered)).status_code, 200)
        self.assertEqual(message.state, "delivered")

    def test_meta_malformed_items_are_skipped_and_the_valid_ones_applied(self):
        """A correctly signed payload of an unexpected shape: what is malformed
        is refused or skipped, what is valid in the same request is applied."""
        _invoice, message = self.whatsapp_message()
        wamid = message.provider_message_id
        delivered = {"id": wamid, "status": "delivered", "timestamp": "1775552460"}
        read = {"id": wamid, "status": "read", "timestamp": "1775552520"}
        statuses = [
            dict(read, timestamp=1e20),
            dict(read, timestamp=-1),
            dict(read, id=12345),
            dict(read, errors="boom"),
            delivered,
        ]
        response = self.post_meta(self.meta_statuses(*statuses))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(message.state, "delivered", "the valid status of the request is applied")
        self.assertFalse(message.read_at, "nothing of the malformed ones")
        stop_as_a_string = {"from": "32470123456", "type": "text", "text": "STOP", "timestamp": "1775552400"}
        payload = {
            "object": "whatsapp_business_account",
            "entry": [
                "not an entry",
                {"id": "WABA", "changes": "not a list"},
                {
                    "id": "WABA",
                    "changes": [
                        {"value": "not an object"},
                        {"value": {"statuses": "not a list", "messages": [1, {"from": {"x": 1}}, stop_as_a_string]}},
                        {"value": {"statuses": [read]}},
                    ],
                },
            ],
        }
        self.assertEqual(self.post_meta(payload).status_code, 200)
        self.assertEqual(message.state, "read")
        self.assertFalse(self.customer.payment_reminder_optout_whatsapp)
        # an envelope that is not what Meta documents is refused whole
        for envelope in ([read], {"entry": {"changes": []}}, "entry", 1e20):
            self.assertEqual(self.post_meta(envelope).status_code, 400, envelope)
        self.assertEqual(self.post_meta(None, raw=b"[" * 100000).status_code, 400)

    def test_non_ascii_signatures_are_refused(self):
        _invoice, message = self.whatsapp_message()
        delivered = self.meta_statuses({"id": message.provider_message_id, "status": "delivered"})
        self.assertEqual(self.post_meta(delivered, signature="sha256=\u00e9t\u00e9").status_code, 403)
        self.assertEqual(self.post_meta(delivered, signature="\u00e9").status_code, 403)
        verify = self.url_open(f"{self.wa_url}?hub.mode=subscribe&hub.challenge=1&hub.verify_token=v%C3%A9rify")
        self.assertEqual(verify.status_code, 403)
        params = {"MessageSid": message.provider_message_id, "MessageStatus": "delivered"}
        url = self.base_url() + self.twilio_url + "/status"
        response = self.url_open(url, data=params, headers={"X-Twilio-Signature": "\u00e9t\u00e9"})
        self.assertEqual(response.status_code, 403)
        self.env.invalidate_all()
        self.assertEqual(message.state, "sent")

    def test_inbound_whatsapp_opens_the_window_and_stop_opts_out(self):
        _invoice, message = self.whatsapp_message()
        with self.frozen("2026-04-07 10:00"):
            self.post_meta(self.meta_inbound("+32470123456", text="I will pay on Friday"))
        self.assertTrue(self.customer.payment_reminder_wa_last_inbound)
        self.assertFalse(self.customer.payment_reminder_optout_whatsapp)
        self.assertTrue(any("I will pay on Friday" in (m.body or "") for m in self.customer.message_ids))
        self.post_meta(self.meta_inbound("+32470123456", text=" Arrêt "))
        self.assertTrue(self.customer.payment_reminder_optout_whatsapp)
        self.assertFalse(self.customer.payment_reminder_optout_sms, "only the channel it was said on")
        self.assertIn("Arrêt", self.customer.payment_reminder_optout_note)

    # === Twilio === #

    def sms_message(self):
        self.level_overdue.use_whatsapp = False
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.run_at(OVERDUE)
        message = self.messages_for(invoice)
        self.assertEqual((message.channel, message.state), ("sms", "sent"))
        return invoice, message

    def test_twilio_status_callbacks(self):
        _invoice, message = self.sms_message()
        params = {"MessageSid": message.provider_message_id, "MessageStatus": "delivered", "AccountSid": "AC1"}
        self.assertEqual(self.post_twilio("/status", params, token="forged").status_code, 403)
        self.assertEqual(self.post_twilio("/status", params, token=None).status_code, 403)
        self.assertEqual(message.state, "sent")
        self.assertEqual(self.post_twilio("/status", params).status_code, 200)
        self.assertEqual(message.state, "delivered")
        self.post_twilio("/status", dict(params, MessageStatus="sent"))
        self.assertEqual(message.state, "delivered", "an older status arriving late changes nothing")

    def test_twilio_repeated_parameters_are_refused(self):
        _invoice, message = self.sms_message()
        status = {"MessageSid": message.provider_message_id, "MessageStatus": ["delivered", "failed"]}
        self.assertEqual(self.post_twilio("/status", status).status_code, 400)
        inbound = {"From": ["+32470123456", "+32470999999"], "Body": "STOP"}
        self.assertEqual(self.post_twilio("/inbound", inbound).status_code, 400)
        not_a_number = {"From": "Robert'); DROP TABLE", "Body": "STOP"}
        self.assertEqual(self.post_twilio("/inbound", not_a_number).status_code, 400)
        self.assertEqual(message.state, "sent")
        self.assertFalse(self.customer.payment_reminder_optout_sms)

    def test_inbound_on_a_company_gateway_stays_within_its_companies(self):
        """A STOP or a reply on company A's gateway never reaches company B's
        customers; a shared gateway and B's own gateway do."""
        company_b = self.env["res.company"].create({"name": "Company B"})
        number = "+32470777888"
        customer_b = self.env["res.partner"].create(
            {"name": "B's customer", "mobile": number, "company_id": company_b.id}
        )
        Gateway = self.env["account.payment.reminder.gateway"]
        twilio = {
            "provider": "twilio",
            "use_sms": True,
            "twilio_account_sid": TWILIO_SID,
            "twilio_auth_token": TWILIO_TOKEN,
            "twilio_from_number": "+15550100",
            "twilio_base_url": self.fake.url,
        }
        gateway_a = Gateway.create(dict(twilio, name="A's SMS", company_id=self.company.id))
        gateway_b = Gateway.create(dict(twilio, name="B's SMS", company_id=company_b.id))
        self.Message.sudo().create(
            {
                "company_id": company_b.id,
                "partner_id": customer_b.id,
                "recipient_partner_id": customer_b.id,
                "channel": "sms",
                "gateway_id": gateway_b.id,
                "recipient": number,
                "state": "sent",
                "idempotency_key": "test:company-b",
            }
        )
        for text in ("STOP", "I have paid"):
            response = self.post_twilio("/inbound", {"From": number, "Body": text}, gateway=gateway_a)
            self.assertEqual(response.status_code, 200)
        self.assertFalse(customer_b.payment_reminder_optout_sms, "A's gateway does not act for B")
        self.assertFalse(customer_b.activity_ids)
        self.assertFalse(customer_b.payment_reminder_hold_until)
        customer_a = self.env["res.partner"].create(
            {"name": "A's customer", "mobile": number, "company_id": self.company.id}
        )
        self.post_twilio("/inbound", {"From": number, "Body": "STOP"}, gateway=gateway_a)
        self.assertTrue(customer_a.payment_reminder_optout_sms, "the same number at A's customer")
        self.assertFalse(customer_b.payment_reminder_optout_sms)
        self.post_twilio("/inbound", {"From": number, "Body": "STOP"}, gateway=gateway_b)
        self.assertTrue(customer_b.payment_reminder_optout_sms, "B's own gateway acts for B")

    def test_a_broken_fallback_never_stops_the_others(self):
        self.level_overdue.use_whatsapp = False
        other = self.customer.copy({"name": "Other customer", "mobile": "+32470999000"})
        invoices = self.create_invoice(due=date(2026, 3, 31))
        invoices |= self.create_invoice(partner=other, due=date(2026, 3, 31))
        self.run_at(OVERDUE)
        broken, fine = self.messages_for(invoices)
        for message in (broken, fine):
            params = {"MessageSid": message.provider_message_id, "MessageStatus": "undelivered", "ErrorCode": "30006"}
            self.assertEqual(self.post_twilio("/status", params).status_code, 200)
        self.assertEqual((broken | fine).mapped("fallback_pending"), [True, True])
        Message = type(self.Message)
        fallback = Message._fallback

        def _fallback(message):
            if message == broken:
                raise ValueError("broken on purpose")
            return fallback(message)

        self.patch(Message, "_fallback", _fallback)
        with self.assertLogs(
            "odoo.addons.account_payment_reminder.models.account_payment_reminder_message_fallback", "ERROR"
        ) as logs:
            self.run_at("2026-04-07 09:10")
        self.assertEqual(len(logs.output), 1)
        self.assertIn(f"Payment reminder {broken.id}: the fallback could not be queued", logs.output[0])
        self.assertEqual(self.Message.search([("parent_id", "=", fine.id)]).mapped("state"), ["sent"])
        self.assertFalse(self.Message.search([("parent_id", "=", broken.id)]))
        self.assertEqual((broken | fine).mapped("fallback_pending"), [False, False])
        self.assertIn("broken on purpose", broken.failure_reason)
        self.assertIn("Landline", broken.failure_reason)

    def test_twilio_undelivered_falls_back_to_email(self):
        invoice, message = self.sms_message()
        params = {"MessageSid": message.provider_message_id, "MessageStatus": "undelivered", "ErrorCode": "30006"}
        self.assertEqual(self.post_twilio("/status", params).status_code, 200)
        self.assertEqual((message.state, message.failure_code), ("failed", "30006"))
        self.assertIn("Landline", message.failure_reason)
        self.assertEqual(self.messages_for(invoice), message, "the fallback is left to the scheduler")
        self.run_at("2026-04-07 09:10")
        sms, email = self.messages_for(invoice)
        self.assertEqual((email.channel, email.state), ("email", "sent"))

    def test_twilio_inbound_stop_in_several_languages(self):
        self.sms_message()
        for word, customer in (("STOP", self.customer), ("berhenti", None), ("Parar", None)):
            partner = customer or self.customer.copy({"name": word, "mobile": "+32470555666"})
            if customer is None:
                self.Message.sudo().create(
                    {
                        "company_id": self.company.id,
                        "partner_id": partner.id,
                        "recipient_partner_id": partner.id,
                        "channel": "sms",
                        "recipient": "+32470555666",
                        "state": "sent",
                        "idempotency_key": f"test:{word}",
                    }
                )
            params = {"From": partner.mobile.replace(" ", ""), "To": "+15550100", "Body": word, "MessageSid": "SMin"}
            self.assertEqual(self.post_twilio("/inbound", params).status_code, 200)
            self.assertTrue(partner.payment_reminder_optout_sms, word)
        forged = {"From": "+32470123456", "Body": "START"}
        self.assertEqual(self.post_twilio("/inbound", forged, token="nope").status_code, 403)
        self.assertTrue(self.customer.payment_reminder_optout_sms)
        self.post_twilio("/inbound", forged)
        self.assertFalse(self.customer.payment_reminder_optout_sms, "START opts in again")

    # === Odoo SMS (IAP delivery reports) and tracked links === #

    def iap_message(self, uuid):
        gateway = self.env["account.payment.reminder.gateway"].create(
            {"name": "Odoo SMS", "provider": "odoo_sms", "use_sms": True}
        )
        return self.Message.sudo().create(
            {
                "company_id": self.company.id,
                "partner_id": self.customer.id,
                "channel": "sms",
                "gateway_id": gateway.id,
                "recipient": "+32470123456",
                "state": "sent",
                "provider_message_id": uuid,
                "idempotency_key": f"test:iap:{uuid}",
            }
        )

    def post_iap(self, *statuses):
        payload = {
            "jsonrpc": "2.0",
            "params": {"message_statuses": [{"sms_status": status, "uuids": [uuid]} for status, uuid in statuses]},
        }
        response = self.url_open("/sms/status", data=json.dumps(payload), headers={"Content-Type": "application/json"})
        self.env.invalidate_all()
        return response

    def test_odoo_sms_delivery_report(self):
        message = self.iap_message("0123456789abcdef0123456789abcdef")
        self.assertEqual(self.post_iap(("delivered", message.provider_message_id)).status_code, 200)
        self.assertEqual(message.state, "delivered")

    def test_odoo_sms_only_documented_statuses_move_a_reminder(self):
        """IAP's documented failures fail the message and leave the fallback
        to the scheduler; a status Odoo does not know changes nothing."""
        unknown = self.iap_message("1123456789abcdef0123456789abcdef")
        failed = self.iap_message("2123456789abcdef0123456789abcdef")
        response = self.post_iap(
            ("rerouted_somewhere", unknown.provider_message_id), ("not_delivered", failed.provider_message_id)
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(unknown.state, "sent")
        self.assertEqual((failed.state, failed.failure_code), ("failed", "not_delivered"))
        self.assertIn("Not Delivered", failed.failure_reason)
        self.assertEqual(self.Message.search_count([("parent_id", "in", (unknown | failed).ids)]), 0)
        self.assertEqual((unknown | failed).mapped("fallback_pending"), [False, True])

    def test_tracked_link_counts_clicks(self):
        _invoice, message = self.sms_message()
        tracker = self.tracker_for(message.payment_link)
        self.assertEqual(tracker.count, 0)
        response = self.url_open(urlsplit(message.payment_link).path, allow_redirects=False)
        self.env.invalidate_all()
        self.assertIn(response.status_code, (301, 302))
        page = self.env["account.payment.reminder.access"].search([("partner_id", "=", message.partner_id.id)])
        self.assertIn(f"/reminder/{page.token}", response.headers["Location"])
        self.assertEqual(tracker.count, 1)

    def test_quick_reply_creates_an_activity_and_pauses_reminders(self):
        invoice, message = self.whatsapp_message()
        with self.frozen("2026-04-07 10:00"):
            response = self.post_meta(self.meta_inbound("+32470123456", button="I have paid"))
        self.assertEqual(response.status_code, 200)
        reply = self.env["account.payment.reminder.response"].search([("message_id", "=", message.id)])
        self.assertEqual((reply.kind, reply.note, reply.reply_to_confirm), ("paid", "I have paid", True))
        activity = reply.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertIn("paid", activity.summary)
        self.assertIn("I have paid", activity.note)
        self.assertEqual(self.customer.payment_reminder_hold_until, date(2026, 4, 8))
        self.assertIn("I have paid", self.customer.payment_reminder_hold_reason)
        later = self.create_invoice(due=date(2026, 3, 30))
        stats = self.run_at("2026-04-07 11:00")
        self.assertEqual(stats["skipped_hold"], 1)
        self.assertFalse(self.messages_for(later))
        self.run_at("2026-04-09 09:00")
        self.assertTrue(self.messages_for(later), "reminders resume after the pause")
