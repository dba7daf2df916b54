"""The reader of customers' replies (tools/replies.py) over the corpus of
tests/data/replies_corpus.json, and the replies on each channel becoming
proposals the accountant confirms in one click."""

import datetime
import json
from pathlib import Path

from odoo.tests import BaseCase, Form, HttpCase, new_test_user, tagged

from ..tools.replies import evaluate, find_amount, understand
from . import test_webhooks  # its helpers; the module, so that its tests are not collected twice here
from .common import ChannelCommon

CORPUS = Path(__file__).parent / "data" / "replies_corpus.json"
WEDNESDAY = datetime.date(2026, 3, 11)
REPLY_TIME = "2026-04-07 10:00"  # a Tuesday, after the reminder of 9:00
date = datetime.date


@tagged("post_install", "-at_install")
class TestRepliesReader(BaseCase):
    def test_corpus_meets_the_targets(self):
        """Kind right for at least 90 % of the replies (and of each language),
        dates right for at least 90 % of those that carry one, and never an
        opt-out the customer did not ask for."""
        corpus = json.loads(CORPUS.read_text())
        self.assertGreaterEqual(len(corpus["replies"]), 150)
        self.assertEqual({reply["lang"] for reply in corpus["replies"]}, {"en_US", "fr_FR", "es_ES", "pt_BR", "id_ID"})
        figures = evaluate(corpus["replies"], datetime.date.fromisoformat(corpus["today"]))
        misses = "\n".join(
            f"{text!r}: expected {kind} {date}, got {got}" for _l, text, kind, date, got in figures["misses"]
        )
        right, total = figures["kind"]
        self.assertGreaterEqual(right / total, 0.9, misses)
        for lang, (right, total) in figures["by_lang"].items():
            self.assertGreaterEqual(right / total, 0.9, f"{lang}:\n{misses}")
        right, total = figures["date"]
        self.assertGreaterEqual(right / total, 0.9, misses)
        right, total = figures["amount"]
        self.assertGreaterEqual(right / total, 0.9, misses)
        self.assertEqual(figures["false_stops"], [])

    def test_exact_cases(self):
        cases = [
            ("I paid yesterday", "en_US", "paid", datetime.date(2026, 3, 10), None),
            ("je paierai vendredi", "fr_FR", "promise", datetime.date(2026, 3, 13), None),
            ("¿puedo pagar en cuotas?", "es_ES", "plan", None, None),
            ("Amanhã eu pago", "pt_BR", "promise", datetime.date(2026, 3, 12), None),
            ("tagihan ini salah", "id_ID", "dispute", None, None),
            ("Pago dia 10", "pt_BR", "promise", datetime.date(2026, 4, 10), None),
            ("Paguei dia 10", "pt_BR", "paid", datetime.date(2026, 3, 10), None),
            ("Je réglerai le 15 décembre", "fr_FR", "promise", datetime.date(2026, 12, 15), None),
            ("Saya bayar besok", "id_ID", "promise", datetime.date(2026, 3, 12), None),
            ("I will pay 1.234,56 € on Friday", "en_US", "promise", datetime.date(2026, 3, 13), 1234.56),
            ("Already paid $1,234.56 on 03/05", "en_US", "paid", datetime.date(2026, 3, 5), 1234.56),
            ("Sudah transfer Rp 1.500.000 kemarin", "id_ID", "paid", datetime.date(2026, 3, 10), 1500000.0),
            ("STOP", "en_US", "stop", None, None),
            ("please stop sending me these", "en_US", "stop", None, None),
            ("Para de enviar mensagem", "pt_BR", "stop", None, None),
        ]
        for text, lang, kind, date, amount in cases:
            with self.subTest(text=text):
                self.assertEqual(understand(text, lang, WEDNESDAY), {"kind": kind, "date": date, "amount": amount})

    def test_language_unknown_tries_them_all(self):
        self.assertEqual(understand("je paierai vendredi", None, WEDNESDAY)["date"], datetime.date(2026, 3, 13))
        self.assertEqual(understand("Saya bayar besok", "de_DE", WEDNESDAY)["date"], datetime.date(2026, 3, 12))

    def test_stop_only_on_a_stop_request(self):
        """A reply that says something else is never an opt-out, even with
        "stop" in it; a question or a thank-you neither."""
        for text in (
            "Stop! I already paid yesterday",
            "I'll stop by your office on Monday to pay",
            "Arrêtez, j'ai déjà payé !",
            "Dejen de molestar, ya pagamos ayer",
            "Can I pay in installments? Stop the late fee please",
            "Thanks",
            "Bisa kirim ulang invoicenya?",
        ):
            with self.subTest(text=text):
                self.assertNotEqual(understand(text, "en_US", WEDNESDAY)["kind"], "stop")

    def test_amounts_with_either_decimal_mark(self):
        for text, amount in (
            ("1.234,56 €", 1234.56),
            ("$1,234.56", 1234.56),
            ("R$ 1.500", 1500.0),
            ("Rp 1.500.000", 1500000.0),
            ("1 234,56 EUR", 1234.56),
            ("12,50 €", 12.5),
            ("2,5 juta", 2500000.0),
            ("invoice INV/2026/00012 for 10 units", None),
        ):
            with self.subTest(text=text):
                self.assertEqual(find_amount(text)[0], amount)


class ReplyCommon(ChannelCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = new_test_user(
            cls.env,
            login="replies_accountant",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.Response = cls.env["account.payment.reminder.response"]

    def reply_for(self, invoice):
        return self.Response.search([("move_ids", "in", invoice.ids), ("reply_channel", "!=", False)], order="id")


@tagged("post_install", "-at_install")
class TestRepliesOnEveryChannel(ReplyCommon, HttpCase):
    """SMS and WhatsApp replies posted to the webhooks over real HTTP become
    proposals that the accountant confirms in one click."""

    def setUp(self):
        super().setUp()
        self.wa_url = f"/payment_reminder/webhook/whatsapp/{self.gateway_wa.webhook_key}"
        self.twilio_url = f"/payment_reminder/webhook/twilio/{self.gateway_twilio.webhook_key}"

    post_meta = test_webhooks.TestWebhooks.post_meta
    post_twilio = test_webhooks.TestWebhooks.post_twilio
    meta_inbound = test_webhooks.TestWebhooks.meta_inbound
    whatsapp_message = test_webhooks.TestWebhooks.whatsapp_message
    sms_message = test_webhooks.TestWebhooks.sms_message

    def sms(self, text):
        with self.frozen(REPLY_TIME):
            response = self.post_twilio("/inbound", {"From": "+32470123456", "To": "+15550100", "Body": text})
        self.assertEqual(response.status_code, 200)

    def test_whatsapp_promise_is_proposed_and_recorded_in_one_click(self):
        invoice, message = self.whatsapp_message()
        with self.frozen(REPLY_TIME):
            self.post_meta(self.meta_inbound("+32470123456", text="I will pay on Friday"))
        reply = self.reply_for(invoice)
        self.assertRecordValues(
            reply,
            [
                {
                    "kind": "promise",
                    "state": "to_review",
                    "reply_channel": "whatsapp",
                    "reply_to_confirm": True,
                    "promise_date": date(2026, 4, 10),
                    "message_id": message.id,
                    "note": "I will pay on Friday",
                    "promise_id": False,
                }
            ],
        )
        self.assertEqual(reply.move_ids, invoice)
        self.assertEqual(invoice.payment_reminder_hold_until, date(2026, 4, 21), "held for the policy's review days")
        self.assertEqual(len(reply.activity_ids), 1)
        self.assertIn("Friday", reply.activity_ids.summary + str(reply.activity_ids.note))
        self.assertTrue(any("I will pay on Friday" in (m.body or "") for m in invoice.message_ids))
        with self.frozen(REPLY_TIME):
            reply.with_user(self.accountant).action_confirm_reply()
        promise = reply.promise_id
        self.assertRecordValues(
            promise, [{"date": date(2026, 4, 10), "amount": 1000.0, "source": "reply", "state": "open"}]
        )
        self.assertEqual(promise.move_ids, invoice)
        self.assertEqual((reply.state, reply.reply_to_confirm), ("done", False))
        self.assertFalse(invoice.payment_reminder_hold_until, "the promise holds the invoice now")
        self.assertFalse(reply.activity_ids)
        ack = self.Message.search([("promise_id", "=", promise.id)])
        self.assertRecordValues(ack, [{"kind": "promise_ack", "channel": "whatsapp", "state": "queued"}])
        self.assertIn("04/10/2026", ack.body, "the customer is told the date on the channel they used")

    def test_sms_replies_become_each_kind_of_proposal(self):
        invoice, _message = self.sms_message()
        expected = {
            "This invoice is wrong, we never ordered these items": ("dispute", True),
            "Can I pay in installments?": ("plan", True),
            "I paid $1,000.00 yesterday": ("paid", True),
            "Who is this?": ("reply", False),
        }
        for text in expected:
            self.sms(text)
        replies = self.reply_for(invoice)
        self.assertEqual({reply.note: (reply.kind, reply.reply_to_confirm) for reply in replies}, expected)
        self.assertTrue(all(reply.reply_channel == "sms" and reply.state == "to_review" for reply in replies))
        paid = replies.filtered(lambda r: r.kind == "paid")
        self.assertEqual((paid.payment_date, paid.amount), (date(2026, 4, 6), 1000.0))
        other = replies.filtered(lambda r: r.kind == "reply")
        self.assertEqual(len(other.activity_ids), 1, "a reply the reader cannot place goes to the accountant")
        self.assertEqual(self.customer.payment_reminder_hold_until, date(2026, 4, 8), "a day of quiet")
        self.assertFalse(self.customer.payment_reminder_optout_sms)

        Response = self.Response.with_user(self.accountant)
        dispute = Response.browse(replies.filtered(lambda r: r.kind == "dispute").id)
        with self.frozen(REPLY_TIME):
            dispute.action_confirm_reply()
        self.assertEqual(invoice.payment_reminder_hold_reason, "Disputed by the customer")
        self.assertIn("disputes", dispute.activity_ids.summary)
        with self.frozen(REPLY_TIME):
            Response.browse(paid.id).action_confirm_reply()
        self.assertIn("check the bank", paid.activity_ids.summary)
        self.assertEqual(paid.state, "to_review", "stays to review until the bank says so")
        plan = Response.browse(replies.filtered(lambda r: r.kind == "plan").id)
        with self.frozen(REPLY_TIME):
            action = plan.action_confirm_reply()
        self.assertEqual(action["res_model"], "account.payment.reminder.plan.propose")
        wizard = self.env[action["res_model"]].with_user(self.accountant).with_context(**action["context"]).create({})
        self.assertEqual(wizard.move_ids, invoice)
        self.assertEqual(wizard.channel, "sms")
        self.assertEqual(plan.state, "done")

    def test_the_accountant_corrects_before_confirming(self):
        invoice, _message = self.sms_message()
        self.sms("Can I pay on the 20th?")
        reply = self.Response.with_user(self.accountant).browse(self.reply_for(invoice).id)
        self.assertEqual((reply.kind, reply.promise_date), ("promise", date(2026, 4, 20)))
        with Form(reply) as form:
            form.promise_date = date(2026, 4, 24)
            form.amount = 400.0
        with self.frozen(REPLY_TIME):
            reply.action_confirm_reply()
        self.assertRecordValues(reply.promise_id, [{"date": date(2026, 4, 24), "amount": 400.0}])
        # misread: the accountant says it is only a reply, and the invoices are no longer held
        self.sms("I paid the other supplier yesterday, not you")
        misread = self.Response.with_user(self.accountant).browse((self.reply_for(invoice) - reply).id)
        self.assertEqual(misread.kind, "paid")
        self.assertTrue(invoice.payment_reminder_hold_until)
        misread.action_dismiss_reply()
        self.assertRecordValues(misread, [{"kind": "reply", "state": "done", "reply_to_confirm": False}])
        self.assertFalse(invoice.payment_reminder_hold_until)

    def test_a_promise_within_the_limits_is_applied_at_once(self):
        self.policy.reply_promise_auto = True
        invoice, _message = self.sms_message()
        # beyond the policy's 30 days, or more than is due: the accountant confirms
        self.sms("I will pay on 2026-06-30")
        self.sms("I will pay $5,000 on Friday")
        proposals = self.reply_for(invoice)
        self.assertEqual(proposals.mapped("reply_to_confirm"), [True, True])
        self.assertFalse(proposals.promise_id)
        self.sms("I will pay $500 on Friday")
        reply = self.reply_for(invoice) - proposals
        self.assertRecordValues(
            reply, [{"kind": "promise", "state": "done", "reply_to_confirm": False, "amount": 500.0}]
        )
        self.assertRecordValues(reply.promise_id, [{"date": date(2026, 4, 10), "amount": 500.0, "source": "reply"}])
        self.assertFalse(reply.activity_ids)
        ack = self.Message.search([("promise_id", "=", reply.promise_id.id)])
        self.assertRecordValues(ack, [{"kind": "promise_ack", "channel": "sms", "state": "queued"}])
        self.assertIn("500.00", ack.body)

    def test_stop_only_on_a_stop_request(self):
        self.sms_message()
        for text in (
            "Stop! I already paid yesterday",
            "I'll stop by on Monday to pay",
            "Thanks, stop.",
            "Who is this?",
        ):
            self.sms(text)
            self.assertFalse(self.customer.payment_reminder_optout_sms, text)
        self.sms("please stop sending me these")
        self.assertTrue(self.customer.payment_reminder_optout_sms)
        self.assertFalse(self.customer.payment_reminder_optout_whatsapp, "only the channel it was said on")
        self.assertFalse(self.customer.payment_reminder_optout_email)
        stop = self.Response.search([("partner_id", "=", self.customer.id), ("kind", "=", "preferences")])
        self.assertRecordValues(
            stop, [{"reply_channel": "sms", "state": "done", "note": "please stop sending me these"}]
        )


@tagged("post_install", "-at_install")
class TestEmailReplies(ReplyCommon):
    """Replies to a reminder e-mail through Odoo's mail gateway
    (``message_process``, as the incoming mail server calls it)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for level in cls.policy.level_ids:
            level.write({"use_whatsapp": False, "use_sms": False})

    def email_reminder(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.run_at("2026-04-07 09:00")
        message = self.messages_for(invoice)
        self.assertEqual((message.channel, message.state), ("email", "sent"))
        self.assertTrue(message.provider_message_id)
        return invoice, message

    def reply_email(self, message, body, message_id="<reply-1@azure.example>"):
        raw = (
            "From: Azure Interior <ap@azure.example>\r\n"
            "To: billing@company.example\r\n"
            f"Subject: Re: {message.subject}\r\n"
            f"Message-ID: {message_id}\r\n"
            f"In-Reply-To: {message.provider_message_id}\r\n"
            f"References: {message.provider_message_id}\r\n"
            "Date: Tue, 07 Apr 2026 15:00:00 +0000\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n"
            f"{body}\r\n\r\n"
            "On Tue, Apr 7, 2026 at 11:00 AM Company <billing@company.example> wrote:\r\n"
            "> Dear Azure Interior, please pay the invoice by Friday. We will pay you tomorrow? No.\r\n"
        )
        with self.frozen(REPLY_TIME):
            return self.env["mail.thread"].message_process(None, raw.encode())

    def test_an_email_reply_lands_on_the_reminder_and_its_invoices(self):
        """Without the routing, Odoo finds no thread for the reply (the
        reminder e-mail has no document) and refuses it: it was lost."""
        invoice, message = self.email_reminder()
        thread_id = self.reply_email(message, "I paid yesterday, $1,000.00 by wire.")
        reply = self.reply_for(invoice)
        self.assertEqual(reply.id, thread_id)
        self.assertRecordValues(
            reply,
            [
                {
                    "kind": "paid",
                    "reply_channel": "email",
                    "reply_to_confirm": True,
                    "payment_date": date(2026, 4, 6),
                    "amount": 1000.0,
                    "message_id": message.id,
                    "note": "I paid yesterday, $1,000.00 by wire.",
                }
            ],
        )
        posted = reply.message_ids.filtered(lambda m: m.message_id == "<reply-1@azure.example>")
        self.assertEqual(posted.author_id, self.customer, "the e-mail itself is in the response's chatter")
        self.assertTrue(any("I paid yesterday" in (m.body or "") for m in invoice.message_ids))
        self.assertEqual(message.response_kind, "paid")
        with self.frozen(REPLY_TIME):
            reply.with_user(self.accountant).action_confirm_reply()
        self.assertIn("check the bank", reply.activity_ids.summary)

    def test_an_email_promise_applied_at_once_and_the_customer_told(self):
        self.policy.reply_promise_auto = True
        invoice, message = self.email_reminder()
        self.reply_email(message, "Bonjour, je paierai vendredi.")
        reply = self.reply_for(invoice)
        self.assertRecordValues(reply.promise_id, [{"date": date(2026, 4, 10), "amount": 1000.0}])
        ack = self.Message.search([("promise_id", "=", reply.promise_id.id)])
        self.assertRecordValues(ack, [{"kind": "promise_ack", "channel": "email", "recipient": "ap@azure.example"}])

    def test_an_email_stop_opts_out_of_email_only(self):
        self.customer.payment_reminder_optin_date = "2026-01-01 00:00:00"
        _invoice, message = self.email_reminder()
        self.reply_email(message, "Please stop sending me these e-mails.")
        self.assertTrue(self.customer.payment_reminder_optout_email)
        self.assertFalse(self.customer.payment_reminder_optout_sms)
        self.assertFalse(self.customer.payment_reminder_optout_whatsapp)
