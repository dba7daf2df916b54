"""The customer's page behind every reminder, over real HTTP: who sees what,
what is refused, and what each action leaves for the accountant."""

import ast
import json
import re
import threading
import time
from datetime import timedelta

import psycopg2
import requests

from odoo import Command, fields, sql_db
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import JsonRpcException

from ..tools.locks import lock_and_touch
from .common import PaymentReminderCommon

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class ReminderPageCommon(PaymentReminderCommon, HttpCase):
    """A customer with an overdue invoice, a link to their page, and a payment
    provider in the company."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the page counts days in the customer's time zone, these tests in UTC days: one zone for both, or
        # between 23:00 and midnight UTC a Brussels customer's invoice is a day more overdue than they expect
        cls.customer.tz = "UTC"
        cls.today = fields.Date.today()
        cls.policy.write(
            {
                "portal_promise_max_days": 30,
                "portal_plan_max_instalments": 6,
                "portal_plan_weekly": False,
                "portal_plan_biweekly": True,
                "portal_plan_monthly": True,
                "portal_plan_min_instalment": 50.0,
                "portal_plan_auto_amount": 5000.0,
                "portal_plan_broken_months": 12,
                "portal_review_days": 14,
            }
        )
        cls.controller = new_test_user(
            cls.env,
            login="page_accountant",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.policy.user_id = cls.controller
        cls.invoice = cls.create_invoice(due=cls.today - timedelta(days=20), amount=900.0)
        cls.Access = cls.env["account.payment.reminder.access"].sudo()  # links are made by code only
        cls.access = cls.Access._ensure({(cls.customer, cls.company)})
        cls.provider = cls._prepare_payment_provider(cls.company)

    # === HTTP helpers === #

    def page(self, access=None, path="", **kwargs):
        return self.url_open(f"/reminder/{(access or self.access).token}{path}", **kwargs)

    def post(self, path, data=None, access=None, files=None, csrf=True, timeout=12):
        """Post a form of the page as a browser does: with the CSRF token of the page."""
        data = dict(data or {})
        if csrf:
            data["csrf_token"] = CSRF_RE.search(self.page(access).text).group(1)
        response = self.page(access, path, data=data, files=files, allow_redirects=False, timeout=timeout)
        self.env.invalidate_all()
        return response

    def responses(self, **domain):
        return self.env["account.payment.reminder.response"].search(
            [("partner_id", "=", self.customer.id)] + [(key, "=", value) for key, value in domain.items()]
        )

    # === PAYING === #

    def _transaction_params(self, scope, record_id, amount, access=None, **params):
        """What the payment form posts to the transaction route: the page's
        CSRF token, the provider and method it offers; ``params`` override."""
        access = access or self.access
        page = self.page(access, path=f"/pay/{scope}/{record_id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn(f'data-provider-id="{self.provider.id}"', page.text)
        values = {
            "provider_id": self.provider.id,
            "payment_method_id": self.env.ref("payment.payment_method_unknown").id,
            "token_id": None,
            "amount": amount,
            "flow": "redirect",
            "tokenization_requested": False,
            "landing_route": "/somewhere/else",
            "is_validation": False,
            "access_token": "ignored",
            "csrf_token": re.search(r'csrf_token: "([^"]+)"', page.text).group(1),
        }
        return values | params

    def rpc(self, route, params, session=None):
        """A JSON-RPC call; returns the decoded answer (``result`` or ``error``)."""
        body = {"id": 0, "jsonrpc": "2.0", "method": "call", "params": params}
        response = (session or self.opener).post(
            f"{self.base_url()}{route}", data=json.dumps(body), headers={"Content-Type": "application/json"}, timeout=30
        )
        self.assertEqual(response.status_code, 200)
        return response.json()

    def refused(self, answer, words):
        """The JSON-RPC answer is a refusal with a sentence (a ValidationError, never a crash)."""
        self.assertNotIn("result", answer)
        self.assertEqual(answer["error"]["data"]["name"], "odoo.exceptions.ValidationError")
        self.assertIn(words, answer["error"]["data"]["message"])

    def _transaction(self, scope, record_id, amount, access=None, **params):
        """Post the payment form's transaction request as the browser does (see
        ``_transaction_params``); returns the processing values."""
        access = access or self.access
        values = self._transaction_params(scope, record_id, amount, access=access, **params)
        return self.make_jsonrpc_request(f"/reminder/{access.token}/transaction/{scope}/{record_id}", values)

    def _pay(self, scope, record_id, amount):
        """Pay through the page as the payment form does: the transaction route,
        the bank's confirmation, then Odoo's status poll."""
        values = self._transaction(scope, record_id, amount)
        self.env["payment.transaction"].search([("reference", "=", values["reference"])])._set_done()
        status = self.make_jsonrpc_request("/payment/status/poll", {})
        self.env.invalidate_all()
        return values, status


@tagged("post_install", "-at_install")
class TestReminderPage(ReminderPageCommon):
    # === WHO SEES WHAT === #

    def test_the_link_is_unguessable_and_scoped(self):
        self.assertGreaterEqual(len(self.access.token), 43, "32 random bytes, URL-safe: 256 bits")
        self.assertEqual(
            (self.access.partner_id, self.access.company_id, self.access.partner_key),
            (self.customer, self.company, self.customer.id),
        )
        self.assertEqual(self.access.expires_at.date(), self.today + timedelta(days=30), "the company's validity")
        self.assertEqual(self.Access._ensure({(self.customer, self.company)}), self.Access, "a valid link is reused")
        self.assertEqual(self.url_open("/reminder/not-a-token").status_code, 404)

    def test_statement_lists_invoices_credits_and_total(self):
        later = self.create_invoice(due=self.today + timedelta(days=10), amount=300.0)
        credit_note = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": self.customer.id,
                "invoice_date": self.today,
                "invoice_line_ids": [
                    Command.create({"name": "Refund", "quantity": 1, "price_unit": 100.0, "tax_ids": []})
                ],
            }
        )
        credit_note.action_post()
        response = self.page()
        self.assertEqual(response.status_code, 200)
        html = response.text
        for text in (self.invoice.name, later.name, credit_note.name, "20 days overdue", "$\xa0800.00"):
            self.assertIn(text, html)
        self.assertIn(f"/my/invoices/{self.invoice.id}?access_token={self.invoice.access_token}", html, "portal page")
        self.assertIn("report_type=pdf", html, "PDF link")
        self.assertIn(f"/reminder/{self.access.token}/pay/overdue/{self.invoice.currency_id.id}", html)
        statement = self.access._get_statement()
        ((currency, total),) = statement["totals"]
        self.assertEqual((total.overdue, total.not_due, total.credits, total.net), (900.0, 300.0, -100.0, 800.0))

    def test_the_page_speaks_the_customers_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["account_payment_reminder"], ["fr_FR"], overwrite=True)
        self.customer.lang = "fr_FR"
        html = self.page().text
        for words in ("Factures ouvertes", "jours de retard", "Je conteste une facture", "Payer cette facture"):
            self.assertIn(words, html)
        response = self.post("/promise", {"date": str(self.today - timedelta(days=1))})
        self.assertIn("Choisissez une date à partir d&#39;aujourd&#39;hui.", response.text, "errors too")

    def test_a_link_never_shows_another_customer_or_company(self):
        other = self.env["res.partner"].create({"name": "Bistro Other", "email": "other@bistro.example"})
        other_invoice = self.create_invoice(partner=other, due=self.today - timedelta(days=5), amount=111.0)
        company_b = self.setup_other_company(name="Company B")["company"]
        invoice_b = self.create_invoice(due=self.today - timedelta(days=5), amount=222.0, company=company_b)
        html = self.page().text
        self.assertIn(self.invoice.name, html)
        self.assertNotIn("Bistro Other", html)
        self.assertNotIn(f"invoice-{other_invoice.id}", html)
        self.assertNotIn(f"invoice-{invoice_b.id}", html, "another company's invoice of the same customer")
        # the same customer's link in company B shows company B's invoice only
        access_b = self.Access._ensure({(self.customer, company_b)})
        html_b = self.page(access_b).text
        self.assertIn(f"invoice-{invoice_b.id}", html_b)
        self.assertNotIn(f"invoice-{self.invoice.id}", html_b)
        # another customer's or company's invoice cannot be paid, reported or disputed through the link
        for record_id in (other_invoice.id, invoice_b.id):
            self.assertEqual(self.page(path=f"/pay/invoice/{record_id}").status_code, 400)
        response = self.post("/report", {"kind": "dispute", "invoice_ids": other_invoice.id, "note": "Not mine"})
        self.assertEqual(response.status_code, 400)
        self.assertFalse(other_invoice.payment_reminder_hold_until)
        self.assertFalse(self.env["account.payment.reminder.response"].search([("move_ids", "in", other_invoice.ids)]))

    def test_expired_link_offers_a_fresh_one_by_email(self):
        self.access.expires_at = fields.Datetime.now() - timedelta(minutes=1)
        response = self.page()
        self.assertEqual(response.status_code, 200)
        self.assertIn("This link has expired", response.text)
        self.assertNotIn(self.invoice.name, response.text, "an expired link shows nothing of the account")
        # turning e-mails off needs no valid link: it can only ever quiet the reminders
        self.assertIn("Stop e-mail reminders", response.text)
        self.page(path="/unsubscribe", data={"List-Unsubscribe": "One-Click"})
        self.env.invalidate_all()
        self.assertTrue(self.customer.payment_reminder_optout_email)
        self.assertEqual(self.post("/promise", {"date": str(self.today)}).status_code, 403)
        self.assertFalse(self.env["account.payment.reminder.promise"].search([("partner_id", "=", self.customer.id)]))
        response = self.post("/renew")
        self.assertEqual(response.status_code, 200)
        self.assertIn("A new link is on its way", response.text)
        fresh = self.Access.search([("partner_id", "=", self.customer.id), ("id", "!=", self.access.id)])
        self.assertEqual(len(fresh), 1)
        self.assertGreater(fresh.expires_at, fields.Datetime.now())
        mail = self.env["mail.mail"].search([("body_html", "like", fresh.token)])
        self.assertEqual(mail.email_to, "ap@azure.example", "the address on file, never one typed on the page")
        self.assertEqual(self.page(fresh).status_code, 200)

    def test_archived_or_merged_customer_link_is_refused(self):
        self.customer.active = False
        self.assertEqual(self.page().status_code, 404)
        self.customer.active = True
        self.assertEqual(self.page().status_code, 200)
        duplicate = self.env["res.partner"].create({"name": "Azure Interior (duplicate)", "email": "ap@azure.example"})
        access = self.Access._ensure({(duplicate, self.company)})
        self.assertEqual(self.page(access).status_code, 200)
        self.env["base.partner.merge.automatic.wizard"]._merge((duplicate | self.customer).ids, self.customer)
        self.env.invalidate_all()
        self.assertEqual(access.partner_id, self.customer, "the merge moved the link to the kept customer")
        self.assertEqual(self.page(access).status_code, 404, "but the link was made for the merged one")

    # === SAFETY === #

    def test_forms_need_the_csrf_token(self):
        date = str(self.today + timedelta(days=5))
        self.assertEqual(self.post("/promise", {"date": date}, csrf=False).status_code, 400)
        self.assertEqual(self.post("/promise", {"date": date, "csrf_token": "forged"}, csrf=False).status_code, 400)
        self.assertFalse(self.env["account.payment.reminder.promise"].search([("partner_id", "=", self.customer.id)]))

    def test_posts_are_rate_limited_per_link(self):
        for _index in range(20):
            self.assertEqual(self.post("/preferences", {}).status_code, 303)
        response = self.post("/preferences", {"preferred": "sms"})
        self.assertEqual(response.status_code, 429)
        self.assertFalse(self.customer.payment_reminder_preferred_channel)
        other = self.env["res.partner"].create({"name": "Other", "email": "o@example.com"})
        self.create_invoice(partner=other, due=self.today - timedelta(days=3))
        other_access = self.Access._ensure({(other, self.company)})
        self.assertEqual(self.post("/preferences", {}, access=other_access).status_code, 303, "per link")

    # === PROMISES === #

    def test_promise_to_pay(self):
        date = self.today + timedelta(days=10)
        response = self.post("/promise", {"date": str(date), "amount": ""})
        self.assertEqual(response.status_code, 303)
        self.assertIn("done=promise", response.headers["Location"])
        promise = self.env["account.payment.reminder.promise"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual((promise.date, promise.amount, promise.source, promise.state), (date, 900.0, "portal", "open"))
        self.assertEqual(promise.user_id, self.controller)
        self.assertEqual(self.responses(kind="promise").promise_id, promise)
        self.assertTrue(self.invoice.message_ids.filtered(lambda m: "On the reminder page" in (m.body or "")))
        self.assertTrue(self.customer.message_ids.filtered(lambda m: "On the reminder page" in (m.body or "")))
        self.assertIn("You promised to pay", self.page().text)
        # the credit controller's overview shows it, and its figure opens exactly that
        overview = self.env["account.payment.reminder.dashboard"].with_user(self.controller).get_overview()
        figure = next(item for item in overview["today"] if item["key"] == "page_promises")
        self.assertEqual(figure["count"], 1)
        opened = self.env[figure["action"]["res_model"]].with_user(self.controller).search(figure["action"]["domain"])
        self.assertEqual(opened, self.responses(kind="promise"))
        self.Run._run(partner_ids=self.customer.ids)
        self.assertFalse(self.messages_for(self.invoice), "reminders wait for the promised date")

    def test_promise_refuses_bad_dates_and_amounts(self):
        cases = [
            ({"date": str(self.today - timedelta(days=1))}, "from today on"),
            ({"date": str(self.today + timedelta(days=31))}, "within 30 days"),
            ({"date": "31/12/2026"}, "not a valid date"),
            ({"date": str(self.today + timedelta(days=3)), "amount": "0"}, "more than zero"),
            ({"date": str(self.today + timedelta(days=3)), "amount": "901"}, "at most what is due"),
            ({"date": str(self.today + timedelta(days=3)), "amount": "lots"}, "not a number"),
        ]
        for data, words in cases:
            with self.subTest(data=data):
                response = self.post("/promise", data)
                self.assertEqual(response.status_code, 400)
                self.assertIn(words, response.text)
        self.assertFalse(self.env["account.payment.reminder.promise"].search([("partner_id", "=", self.customer.id)]))
        self.assertEqual(self.post("/promise", {"date": str(self.today)}).status_code, 303)
        second = self.post("/promise", {"date": str(self.today + timedelta(days=5))})
        self.assertEqual(second.status_code, 400, "no pushing the date back")

    # === PLANS === #

    def test_plan_within_the_policy_starts_at_once(self):
        response = self.post("/plan", {"count": "3", "frequency": "monthly"})
        self.assertEqual(response.status_code, 303)
        self.assertIn("done=plan", response.headers["Location"])
        plan = self.env["account.payment.reminder.plan"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual((plan.state, plan.source, plan.user_id), ("active", "portal", self.controller))
        self.assertEqual(plan.line_ids.mapped("amount"), [300.0, 300.0, 300.0])
        self.assertEqual(plan.line_ids[0].date, self.today)
        summary = self.env["account.payment.reminder.message"].search([("plan_id", "=", plan.id)])
        self.assertEqual(summary.kind, "plan_summary", "the schedule goes to the customer by the scheduler")
        self.assertFalse(self.invoice.payment_reminder_hold_until)
        html = self.page().text
        self.assertIn("Your payment plan", html)
        self.assertIn(f"/pay/instalment/{plan.line_ids[0].id}", html)
        pay = self.page(path=f"/pay/instalment/{plan.line_ids[0].id}")
        self.assertEqual(pay.status_code, 200)
        self.assertIn("$\xa0300.00", pay.text)
        self.assertEqual(self.page(path=f"/pay/instalment/{plan.line_ids[1].id}").status_code, 400, "next one only")

    def test_plan_outside_the_limits_waits_for_approval(self):
        self.policy.portal_plan_auto_amount = 500.0
        response = self.post("/plan", {"count": "2", "frequency": "biweekly"})
        self.assertIn("done=plan_pending", response.headers["Location"])
        plan = self.env["account.payment.reminder.plan"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(plan.state, "pending")
        self.assertEqual(self.invoice.payment_reminder_hold_until, self.today + timedelta(days=14))
        self.assertEqual(plan.activity_ids.user_id, self.controller)
        request = self.responses(kind="plan")
        self.assertEqual(request.state, "to_review")
        counts = self.env["account.payment.reminder.response"]._get_dashboard_counts(self.company)
        self.assertEqual(counts["plan_requests"], 1)
        self.assertIn("Waiting for our approval", self.page().text)
        plan.with_user(self.controller).action_approve()
        self.assertEqual(plan.state, "active")
        self.assertFalse(self.invoice.payment_reminder_hold_until, "the decision lifts the hold")
        self.assertEqual(request.state, "done")
        self.assertFalse(plan.activity_ids)

    def test_a_recently_broken_plan_waits_for_approval(self):
        other = self.create_invoice(due=self.today - timedelta(days=60), amount=100.0)
        broken = self.env["account.payment.reminder.plan"].create(
            {
                "partner_id": self.customer.id,
                "move_ids": [Command.set(other.ids)],
                "line_ids": [Command.create({"date": self.today, "amount": 100.0})],
            }
        )
        broken.state = "broken"
        self.post("/plan", {"count": "3", "frequency": "monthly"})
        plan = self.env["account.payment.reminder.plan"].search([("partner_id", "=", self.customer.id)]) - broken
        self.assertEqual(plan.state, "pending")

    def test_plan_outside_the_policy_is_refused(self):
        for data, words in (
            ({"count": "12", "frequency": "monthly"}, "Choose one of the plans offered"),
            ({"count": "3", "frequency": "weekly"}, "Choose one of the plans offered"),
            ({"count": "x", "frequency": "monthly"}, "Choose one of the options offered"),
        ):
            with self.subTest(data=data):
                response = self.post("/plan", data)
                self.assertEqual(response.status_code, 400)
                self.assertIn(words, response.text)
        self.policy.portal_plan_min_instalment = 200.0
        response = self.post("/plan", {"count": "6", "frequency": "monthly"})
        self.assertEqual(response.status_code, 400)
        self.assertIn("at least $\xa0200.00", response.text)
        self.assertFalse(self.env["account.payment.reminder.plan"].search([("partner_id", "=", self.customer.id)]))

    # === PROBLEMS === #

    def test_already_paid_with_a_proof(self):
        data = {
            "kind": "paid",
            "invoice_ids": self.invoice.id,
            "payment_date": str(self.today - timedelta(days=2)),
            "reference": "BANK-REF-42",
        }
        response = self.post("/report", data, files={"proof": ("transfer.pdf", PDF, "application/pdf")})
        self.assertEqual(response.status_code, 303)
        report = self.responses(kind="paid")
        self.assertEqual((report.state, report.payment_reference), ("to_review", "BANK-REF-42"))
        proof = report.attachment_ids
        self.assertEqual(
            (proof.res_model, proof.res_id, proof.mimetype), ("account.move", self.invoice.id, "application/pdf")
        )
        self.assertFalse(proof.access_token, "no one opens it without logging in")
        self.assertIn(proof, self.invoice.message_ids.attachment_ids, "in the invoice's chatter")
        self.assertEqual(self.invoice.payment_reminder_hold_until, self.today + timedelta(days=14))
        self.assertEqual(report.activity_ids.user_id, self.controller)
        self.assertNotEqual(self.url_open(f"/web/content/{proof.id}").status_code, 200, "not for a visitor")
        counts = self.env["account.payment.reminder.response"]._get_dashboard_counts(self.company)
        self.assertEqual(counts["to_review"], 1)
        report.with_user(self.controller).action_resume_reminders()
        self.assertEqual(report.state, "done")
        self.assertFalse(self.invoice.payment_reminder_hold_until)

    def test_uploads_are_limited_in_size_and_type(self):
        data = {"kind": "paid", "invoice_ids": self.invoice.id, "payment_date": str(self.today)}
        big = b"%PDF-1.4\n" + b"0" * (50 * 1024 * 1024)
        for files, words in (
            ({"proof": ("big.pdf", big, "application/pdf")}, "too large"),
            ({"proof": ("page.pdf", b"<html><script>alert(1)</script></html>", "application/pdf")}, "PDF or a picture"),
            ({"proof": ("run.exe", b"MZ\x90\x00\x03" + b"\x00" * 100, "application/octet-stream")}, "PDF or a picture"),
        ):
            with self.subTest(file=files["proof"][0]):
                response = self.post("/report", data, files=files, timeout=120)
                self.assertEqual(response.status_code, 400)
                self.assertIn(words, response.text)
        self.assertFalse(
            self.env["ir.attachment"].search([("res_model", "=", "account.move"), ("res_id", "=", self.invoice.id)])
        )
        self.assertFalse(self.invoice.payment_reminder_hold_until, "nothing happened")
        for data in (
            {"kind": "paid", "invoice_ids": self.invoice.id, "payment_date": str(self.today + timedelta(days=1))},
            {"kind": "paid", "invoice_ids": self.invoice.id},
            {"kind": "paid", "payment_date": str(self.today)},
            {"kind": "dispute", "invoice_ids": self.invoice.id, "note": "   "},
            {"kind": "refund", "invoice_ids": self.invoice.id},
        ):
            with self.subTest(data=data):
                self.assertEqual(self.post("/report", data).status_code, 400)

    def test_a_dispute_is_escaped_everywhere(self):
        words = '<script>alert("owned")</script> <b>wrong</b> & "quantity"'
        response = self.post("/report", {"kind": "dispute", "invoice_ids": self.invoice.id, "note": words})
        self.assertEqual(response.status_code, 303)
        dispute = self.responses(kind="dispute")
        self.assertEqual(dispute.note, words, "kept as the customer typed it, as plain text")
        notes = (self.invoice.message_ids | self.customer.message_ids).filtered(
            lambda m: "On the reminder page" in str(m.body)
        )
        self.assertEqual(len(notes), 2, "on the invoice and on the customer")
        for body in (*notes.mapped("body"), dispute.activity_ids.note):
            self.assertNotIn("<script>", str(body))
            self.assertNotIn("<b>wrong", str(body))
            self.assertIn("&lt;script&gt;", str(body))
        self.assertEqual(self.invoice.payment_reminder_hold_reason, "Disputed by the customer")
        self.assertIn("Under review", self.page().text)

    def test_a_disputed_invoice_leaves_the_amount_to_pay_now(self):
        other = self.create_invoice(due=self.today - timedelta(days=10), amount=450.0)
        access = self.access
        moves, amount, _currency, _label = access._get_payment("overdue", self.invoice.currency_id.id)
        self.assertEqual((moves, amount), (self.invoice | other, 1350.0))
        words = "The second pallet never arrived"
        self.assertEqual(
            self.post("/report", {"kind": "dispute", "invoice_ids": self.invoice.id, "note": words}).status_code, 303
        )
        moves, amount, _currency, _label = access._get_payment("overdue", self.invoice.currency_id.id)
        self.assertEqual((moves, amount), (other, 450.0), "pay now: what is not disputed")
        page = self.page().text
        self.assertIn("You disputed this invoice", page)
        self.assertIn(words, page)
        # the chatter names the customer, not the public user the page runs as
        public = self.env.ref("base.public_partner")
        self.assertFalse(self.invoice.message_ids.filtered(lambda m: m.author_id == public))
        note = self.invoice.message_ids.filtered(lambda m: "On the reminder page" in str(m.body))
        self.assertEqual(note.author_id, self.customer)
        self.assertIn("Reminders on hold until", str(note.body))

    # === CHANNELS === #

    def test_channel_preferences(self):
        response = self.post("/preferences", {"optout_whatsapp": "on", "preferred": "sms"})
        self.assertEqual(response.status_code, 303)
        self.assertTrue(self.customer.payment_reminder_optout_whatsapp)
        self.assertFalse(self.customer.payment_reminder_optout_sms)
        self.assertEqual(self.customer.payment_reminder_preferred_channel, "sms")
        self.assertIn("reminder page", self.customer.payment_reminder_optout_note)
        self.assertEqual(self.responses(kind="preferences").state, "done")
        self.assertEqual(self.post("/preferences", {"preferred": "fax"}).status_code, 400)

    def test_the_preferred_channel_goes_first(self):
        self.env["account.payment.reminder.gateway"].create(
            {"name": "Sandbox", "provider": "sandbox", "state": "test", "use_sms": True}
        )
        self.policy.level_ids.write(
            {
                "use_sms": True,
                "channel_strategy": "fallback",
                "sms_template_id": self.env.ref("account_payment_reminder.sms_template_overdue").id,
            }
        )
        self.customer.payment_reminder_preferred_channel = "sms"
        self.Run._run(partner_ids=self.customer.ids)
        self.assertEqual(self.messages_for(self.invoice).channel, "sms")

    def test_reminders_link_to_the_page_with_a_one_click_unsubscribe(self):
        self.Run._run(partner_ids=self.customer.ids)
        message = self.messages_for(self.invoice)
        self.assertIn(self.access.url, message.body_html)
        self.assertEqual(self.invoice.payment_reminder_url, self.access.url)
        headers = ast.literal_eval(message.mail_id.headers)
        self.assertEqual(headers["List-Unsubscribe"], f"<{self.access.url}/unsubscribe>")
        self.assertEqual(headers["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click")
        # the unsubscribe link opens the preferences; the mail client's one-click POST needs no session
        landing = self.page(path="/unsubscribe", allow_redirects=False)
        self.assertIn("#preferences", landing.headers["Location"])
        self.assertFalse(self.customer.payment_reminder_optout_email)
        response = requests.post(
            f"{self.base_url()}/reminder/{self.access.token}/unsubscribe",
            data={"List-Unsubscribe": "One-Click"},
            timeout=10,
        )
        self.assertEqual(response.status_code, 200)
        self.env.invalidate_all()
        self.assertTrue(self.customer.payment_reminder_optout_email)
        self.assertEqual(self.responses(kind="preferences").message_id, message, "the reminder that led to it")
        self.assertEqual(message.response_kind, "preferences")

    # === PAYING === #

    def test_pay_an_invoice_stops_reminders(self):
        values, status = self._pay("invoice", self.invoice.id, 900.0)
        self.assertEqual(status["state"], "done")
        self.assertEqual(status["landing_route"], f"/reminder/{self.access.token}?done=payment", "never the browser's")
        transaction = self.env["payment.transaction"].search([("reference", "=", values["reference"])])
        self.assertEqual((transaction.invoice_ids, transaction.amount), (self.invoice, 900.0))
        self.assertIn(self.invoice.payment_state, ("in_payment", "paid"))
        self.assertFalse(self.invoice.payment_reminder_is_open)
        self.assertEqual(self.responses(kind="payment").transaction_id, transaction)
        self.Run._run(partner_ids=self.customer.ids)
        self.assertFalse(self.messages_for(self.invoice), "paid: no reminder")

    def test_pay_everything_overdue_at_once(self):
        second = self.create_invoice(due=self.today - timedelta(days=3), amount=100.0)
        _values, status = self._pay("overdue", self.invoice.currency_id.id, 1000.0)
        self.assertEqual(status["state"], "done")
        self.assertFalse((self.invoice | second).filtered("payment_reminder_is_open"))

    def test_the_server_decides_what_is_paid(self):
        with self.assertRaises(JsonRpcException, msg="a tampered amount is refused"):
            self._pay("invoice", self.invoice.id, 1.0)
        self.assertFalse(self.env["payment.transaction"].search([("invoice_ids", "in", self.invoice.ids)]))
        other = self.create_invoice(partner=self.env["res.partner"].create({"name": "B"}), amount=50.0)
        self.assertEqual(self.page(path=f"/pay/invoice/{other.id}").status_code, 400)


@tagged("post_install", "-at_install")
class TestReminderPageWalls(ReminderPageCommon):
    """What a hostile visitor, another company and a flaky network try on the page."""

    def transactions(self, moves=None):
        return self.env["payment.transaction"].search([("invoice_ids", "in", (moves or self.invoice).ids)])

    def transaction_route(self, scope="invoice", record_id=None):
        return f"/reminder/{self.access.token}/transaction/{scope}/{record_id or self.invoice.id}"

    # === PAYMENTS === #

    def test_only_the_providers_the_page_offered_are_accepted(self):
        company_b = self.setup_other_company(name="Company B")["company"]
        provider_b = self._prepare_payment_provider(company_b)
        card = self.env.ref("payment.payment_method_card")
        token = self.env["payment.token"].create(
            {
                "provider_id": self.provider.id,
                "payment_method_id": self.env.ref("payment.payment_method_unknown").id,
                "partner_id": self.customer.id,
                "payment_details": "4242",
                "provider_ref": "ref",
            }
        )
        unpublished = self._prepare_payment_provider(self.company)
        unpublished.is_published = False
        for params in (
            {"provider_id": provider_b.id},  # another company's provider
            {"provider_id": unpublished.id},  # a provider the page does not offer
            {"payment_method_id": card.id},  # a method the provider does not offer
            {"provider_id": str(self.provider.id)},
            {"provider_id": None},
            {"flow": "token", "token_id": token.id},
            {"token_id": token.id},
            {"is_validation": True},
        ):
            with self.subTest(params=params):
                answer = self.rpc(
                    self.transaction_route(), self._transaction_params("invoice", self.invoice.id, 900.0, **params)
                )
                self.refused(answer, "Choose one of the payment methods offered on the page")
        self.assertFalse(self.transactions(), "nothing created")
        self.assertFalse(self.env["payment.transaction"].search([("provider_id", "=", provider_b.id)]))
        # the provider the page offered is accepted, in the link's company
        values = self._transaction("invoice", self.invoice.id, 900.0)
        self.assertEqual((self.transactions().company_id, values["provider_id"]), (self.company, self.provider.id))

    def test_a_second_payment_of_the_same_invoice_is_refused(self):
        invoice = self.create_invoice(due=self.today - timedelta(days=5), amount=777.0)
        self._transaction("invoice", invoice.id, 777.0)
        first = self.transactions(invoice)
        self.assertEqual(first.state, "draft", "the customer is on the bank's page")
        page = self.page(path=f"/pay/invoice/{invoice.id}")
        self.assertEqual(page.status_code, 409)
        self.assertIn("was started a moment ago", page.text, "the pay page says it before the form")
        params = self._transaction_params("invoice", self.invoice.id, 900.0)  # a page still open in another tab
        answer = self.rpc(self.transaction_route(), params)
        self.assertIn("result", answer, "another invoice is not concerned")
        params["amount"] = 1677.0
        answer = self.rpc(self.transaction_route("overdue", invoice.currency_id.id), params)
        self.refused(answer, "was started a moment ago")
        for state in ("pending", "authorized", "done"):
            with self.subTest(state=state):
                # as the provider's notification sets it (SQL: the test bank does not offer manual capture)
                self.env.cr.execute("UPDATE payment_transaction SET state = %s WHERE id = %s", [state, first.id])
                first.invalidate_recordset(["state"])
                params = dict(params, amount=777.0)
                answer = self.rpc(self.transaction_route(record_id=invoice.id), params)
                self.refused(
                    answer, f"A payment of $\xa0777.00 for these invoices is already on its way ({first.reference})"
                )
        self.assertEqual(self.transactions(invoice), first, "no second transaction")
        # once booked, the invoice is paid: nothing left to pay
        first._post_process()
        self.refused(self.rpc(self.transaction_route(record_id=invoice.id), params), "nothing left to pay")
        self.assertEqual(self.transactions(invoice), first)

    def test_an_abandoned_payment_blocks_for_half_an_hour(self):
        self._transaction("invoice", self.invoice.id, 900.0)
        first = self.transactions()
        self.env.cr.execute(
            "UPDATE payment_transaction SET create_date = create_date - interval '31 minutes' WHERE id = %s",
            [first.id],
        )
        first.invalidate_recordset(["create_date"])
        self._transaction("invoice", self.invoice.id, 900.0)
        self.assertEqual(len(self.transactions()), 2, "the draft left on the bank's page no longer blocks")

    def test_two_payments_at_once_charge_once(self):
        invoice = self.create_invoice(due=self.today - timedelta(days=5), amount=777.0)
        params = self._transaction_params("invoice", invoice.id, 777.0)
        # everything the threads need is read here: they only speak HTTP, never touch the test's cursor
        url = f"{self.base_url()}{self.transaction_route(record_id=invoice.id)}"
        body = json.dumps({"id": 0, "jsonrpc": "2.0", "method": "call", "params": params})
        answers = [None, None]
        start = threading.Barrier(2)

        def pay(index):
            start.wait(timeout=10)
            response = self.opener.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=30)
            answers[index] = response.json()

        threads = [threading.Thread(target=pay, args=(index,)) for index in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        self.env.invalidate_all()
        self.assertEqual(sorted("result" in answer for answer in answers), [False, True], answers)
        self.refused(next(answer for answer in answers if "error" in answer), "was started a moment ago")
        self.assertEqual(len(self.transactions(invoice)), 1)
        self.assertEqual(self.transactions(invoice).amount, 777.0)

    def test_a_payment_locks_and_touches_its_invoices(self):
        """The lock that makes two requests at once serialise: the invoices'
        rows are updated by the request, so a concurrent one paying any of
        them waits, then fails to serialise and is retried by Odoo."""
        self.env.cr.execute("SELECT xmin::text FROM account_move WHERE id = %s", [self.invoice.id])
        (before,) = self.env.cr.fetchone()
        self.access._lock_payment(self.invoice)
        self.env.cr.execute("SELECT xmin::text FROM account_move WHERE id = %s", [self.invoice.id])
        self.assertNotEqual(self.env.cr.fetchone()[0], before, "a new row version: a concurrent locker must retry")

    def test_the_lock_serialises_two_transactions_at_once(self):
        """The lock of ``_lock_payment``, with two real database connections
        (Odoo's test server shares one, so the HTTP test above cannot show
        it): two "requests" pay one row at once, each from its own snapshot;
        the second one waits, fails to serialise, is retried as Odoo retries
        a request, and then finds the first one's payment."""
        database = sql_db.db_connect(self.env.cr.dbname)

        def execute(query):
            with database.cursor() as cr:  # committed: the other connections see it
                cr.execute(query)

        execute("CREATE TABLE apr_lock_test (id int PRIMARY KEY, write_date timestamp)")
        self.addCleanup(execute, "DROP TABLE IF EXISTS apr_lock_test, apr_lock_test_payment")
        execute("INSERT INTO apr_lock_test VALUES (1, now()); CREATE TABLE apr_lock_test_payment (row_id int)")
        outcomes = []
        both_read = threading.Barrier(2)

        def request(name):
            for attempt in range(5):
                with database.cursor() as cr:
                    try:
                        cr.execute("SELECT count(*) FROM apr_lock_test_payment")  # the request's snapshot
                        if attempt == 0:
                            both_read.wait(timeout=10)
                        lock_and_touch(cr, "apr_lock_test", [1])
                        cr.execute("SELECT count(*) FROM apr_lock_test_payment WHERE row_id = 1")
                        if cr.fetchone()[0]:
                            outcomes.append((name, attempt, "refused"))
                            return
                        cr.execute("INSERT INTO apr_lock_test_payment VALUES (1)")
                        time.sleep(0.2)  # the rest of the request; leaving the block commits
                        outcomes.append((name, attempt, "paid"))
                        return
                    except psycopg2.errors.SerializationFailure:
                        cr.rollback()
                        outcomes.append((name, attempt, "serialisation failure"))

        threads = [threading.Thread(target=request, args=(name,)) for name in ("first", "second")]
        with self.assertLogs("odoo.sql_db", "ERROR") as logs:  # Odoo logs the failed query; its retry is the cure
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
        self.assertEqual(len(logs.records), 1, logs.output)
        self.assertIn("could not serialize access due to concurrent update", logs.output[0])
        with database.cursor() as cr:
            cr.execute("SELECT count(*) FROM apr_lock_test_payment")
            self.assertEqual(cr.fetchone()[0], 1, outcomes)
        self.assertEqual(
            sorted(outcome for _name, _attempt, outcome in outcomes),
            ["paid", "refused", "serialisation failure"],
            outcomes,
        )

    # === BAD INPUT === #

    def test_bad_input_gets_a_sentence_never_a_crash(self):
        self.assertEqual(self.url_open("/reminder/%00").status_code, 404)
        self.assertEqual(self.url_open("/reminder/%00/pay/invoice/1").status_code, 404)
        self.assertEqual(self.url_open(f"/reminder/{self.access.token}%00").status_code, 404)
        self.assertEqual(self.page(path="/pay/invoice/99999999999999999999").status_code, 400)
        for amount, words in (
            ("abc", "not a number"),
            ("1e308", "too large"),
            (1e308, "too large"),
            ([900], "not a number"),
            (None, "not a number"),
            (True, "not a number"),
        ):
            with self.subTest(amount=amount):
                answer = self.rpc(
                    self.transaction_route(), self._transaction_params("invoice", self.invoice.id, amount)
                )
                self.refused(answer, words)
        self.assertFalse(self.transactions())
        date = str(self.today + timedelta(days=3))
        for amount, words in (("1e308", "too large"), ("-1e308", "too large"), ("1e400", "not a number")):
            with self.subTest(amount=amount):
                response = self.post("/promise", {"date": date, "amount": amount})
                self.assertEqual(response.status_code, 400)
                self.assertIn(words, response.text)
        response = self.post("/report", {"kind": "dispute", "invoice_ids": self.invoice.id, "note": "wrong\x00"})
        self.assertEqual(response.status_code, 400)
        self.assertIn("cannot be stored", response.text)
        response = self.post("/plan", {"count": "9" * 5000, "frequency": "monthly"})
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.env["account.payment.reminder.promise"].search([("partner_id", "=", self.customer.id)]))
        self.assertFalse(self.responses())

    # === THE CUSTOMER'S SIDE === #

    def assertPrivate(self, response):
        self.assertEqual(response.headers.get("Cache-Control"), "no-store", response.url)
        self.assertEqual(response.headers.get("Referrer-Policy"), "no-referrer", response.url)

    def test_pages_are_never_cached_nor_referred(self):
        self.assertPrivate(self.page())
        self.assertPrivate(self.page(path=f"/pay/invoice/{self.invoice.id}"))
        self.assertPrivate(self.post("/promise", {"date": str(self.today + timedelta(days=3))}))
        self.assertPrivate(self.post("/promise", {"date": "never"}))
        self.assertPrivate(self.page(path="/unsubscribe", allow_redirects=False))
        response = self.opener.post(
            f"{self.base_url()}/reminder/{self.access.token}/transaction/invoice/{self.invoice.id}",
            json={
                "id": 0,
                "jsonrpc": "2.0",
                "method": "call",
                "params": self._transaction_params("invoice", self.invoice.id, 900.0),
            },
            timeout=30,
        )
        self.assertIn("result", response.json())
        self.assertPrivate(response)
        self.access.expires_at = fields.Datetime.now() - timedelta(minutes=1)
        self.assertPrivate(self.page())
        self.assertPrivate(self.page(path="/unsubscribe", data={"List-Unsubscribe": "One-Click"}))

    def test_a_new_link_is_mailed_once_in_six_hours(self):
        self.access.expires_at = fields.Datetime.now() - timedelta(minutes=1)
        mails = self.env["mail.mail"].search_count
        domain = [("model", "=", "account.payment.reminder.access")]
        before = mails(domain)
        self.assertIn("A new link is on its way", self.post("/renew").text)
        for _index in range(5):
            response = self.post("/renew")
            self.assertEqual(response.status_code, 200)
            self.assertIn("We sent you a new link a short while ago", response.text)
        self.assertEqual(mails(domain) - before, 1, "one e-mail")
        self.assertEqual(self.Access.search_count([("partner_id", "=", self.customer.id)]), 2, "one new link")
        self.access.new_link_sent_at = fields.Datetime.now() - timedelta(hours=6, minutes=1)
        self.assertIn("A new link is on its way", self.post("/renew").text)
        self.assertEqual(mails(domain) - before, 2, "six hours later, another one")

    def test_a_flood_never_stops_unsubscribing_and_ends_in_minutes(self):
        for _index in range(20):
            self.assertEqual(self.post("/preferences", {}).status_code, 303)
        dispute = {"kind": "dispute", "invoice_ids": self.invoice.id, "note": "Wrong quantity"}
        response = self.post("/report", dispute)
        self.assertEqual(response.status_code, 429)
        self.assertIn("Please try again in 10 minutes", response.text)
        # turning a channel off always works: the page's preferences, and the mail client's one-click unsubscribe
        self.assertEqual(self.post("/preferences", {"optout_sms": "on"}).status_code, 303)
        self.assertTrue(self.customer.payment_reminder_optout_sms)
        self.assertEqual(self.post("/preferences", {"optout_sms": "on"}).status_code, 429, "nothing more to turn off")
        self.assertEqual(self.post("/preferences", {}).status_code, 429, "turning back on waits")
        self.assertTrue(self.customer.payment_reminder_optout_sms)
        response = requests.post(
            f"{self.base_url()}/reminder/{self.access.token}/unsubscribe",
            data={"List-Unsubscribe": "One-Click"},
            timeout=10,
        )
        self.assertEqual(response.status_code, 200)
        self.env.invalidate_all()
        self.assertTrue(self.customer.payment_reminder_optout_email)
        # ten minutes later, the customer's dispute goes through
        self.access.post_window_start = fields.Datetime.now() - timedelta(minutes=10, seconds=1)
        self.assertEqual(self.post("/report", dispute).status_code, 303)
        self.assertTrue(self.responses(kind="dispute"))

    def test_a_page_view_writes_at_most_once_an_hour(self):
        self.assertFalse(self.access.last_seen_at)
        for headers in ({"Purpose": "prefetch"}, {"Sec-Purpose": "prefetch;prerender"}, {"X-Moz": "prefetch"}):
            with self.subTest(headers=headers):
                self.assertEqual(self.page(headers=headers).status_code, 200)
                self.env.invalidate_all()
                self.assertFalse(self.access.last_seen_at, "a prefetch is not the customer")
        response = self.opener.head(f"{self.base_url()}/reminder/{self.access.token}", timeout=10)
        self.assertEqual(response.status_code, 200)
        self.env.invalidate_all()
        self.assertFalse(self.access.last_seen_at, "nor a HEAD")
        self.page()
        self.env.invalidate_all()
        seen = self.access.last_seen_at
        self.assertTrue(seen)
        self.page()
        self.env.invalidate_all()
        self.assertEqual(self.access.last_seen_at, seen, "the second view writes nothing")
        self.access.last_seen_at = seen - timedelta(minutes=61)
        self.page()
        self.env.invalidate_all()
        self.assertGreaterEqual(self.access.last_seen_at, seen, "an hour later, it does")
