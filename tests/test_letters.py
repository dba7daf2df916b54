"""The reminder on paper and with its documents: the letter channel (a batch
to print, Odoo's postal service through a local fake IAP server), the
invoices' and the statement's PDFs attached to reminder e-mails, the
accounts-payable contact in copy. PDFs are rendered by the real report
engine (wkhtmltopdf) and read back with poppler's ``pdftotext``, as a
customer would read them."""

import base64
import re
import subprocess
from datetime import date

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from ..providers.fake_server import FakeProviderServer
from ..providers.snailmail.fake import IapSnailmailFake
from .common import PaymentReminderCommon
from .test_channels import iap_reachable

OVERDUE = "2026-04-07 09:00"  # an invoice due on 2026-03-31 reaches the overdue level


def pdf_text(raw):
    """What a reader of the PDF reads (poppler's pdftotext), spaces folded."""
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=raw, capture_output=True, check=True).stdout
    return re.sub(r"\s+", " ", text.decode())


def pdf_pages(raw):
    info = subprocess.run(["pdfinfo", "-"], input=raw, capture_output=True, check=True).stdout.decode()
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))


class LetterCommon(PaymentReminderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.policy.catch_up = True
        # Odoo renders reports as HTML under tests unless told otherwise: these tests read real PDFs
        cls.env = cls.env(context=dict(cls.env.context, force_report_rendering=True))
        cls.Run = cls.Run.with_context(force_report_rendering=True)
        cls.Message = cls.Message.with_context(force_report_rendering=True)
        # wkhtmltopdf fetches the report's style sheets from Odoo's HTTP server, whose requests wait for the locks
        # of this test's transaction: it is pointed where nothing answers, and prints the text unstyled
        cls.env["ir.config_parameter"].sudo().set_param("report.url", "http://127.0.0.1:9")
        cls.customer.write(
            {"street": "Rue de la Loi 16", "zip": "1000", "city": "Brussels", "country_id": cls.env.ref("base.be").id}
        )
        cls.level_overdue.write({"use_letter": True, "use_email": True, "channel_strategy": "fallback"})
        cls.gateway_print = cls.env.ref("account_payment_reminder.gateway_print_batch")
        cls.gateway_print.state = "enabled"

    def setUp(self):
        super().setUp()
        # Debian's wkhtmltopdf (unpatched Qt) warns that it ignores Odoo's header and footer options
        self.enterContext(mute_logger("odoo.addons.base.models.ir_actions_report"))

    def attachment_text(self, attachment):
        return pdf_text(base64.b64decode(attachment.datas))


@tagged("post_install", "-at_install")
class TestLetterPrintBatch(LetterCommon):
    def test_letters_of_a_run_print_as_one_pdf_and_are_marked_sent(self):
        other = self.customer.copy({"name": "Brick Building Supplies", "street": "Kerkstraat 5", "zip": "9000"})
        other.city = "Ghent"
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=1234.5)
        credit = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": self.customer.id,
                "invoice_date": date(2026, 3, 1),
                "invoice_line_ids": [
                    Command.create({"name": "Refund", "quantity": 1, "price_unit": 234.5, "tax_ids": []})
                ],
            }
        )
        credit.action_post()
        other_invoice = self.create_invoice(partner=other, due=date(2026, 3, 31), amount=700.0)
        self.run_at(OVERDUE)
        letter, other_letter = letters = self.messages_for(invoice) | self.messages_for(other_invoice)
        self.assertEqual(letters.mapped("channel"), ["letter", "letter"])
        self.assertEqual(letters.mapped("state"), ["to_print", "to_print"], "waiting for the accountant")
        self.assertEqual(letter.gateway_id, self.gateway_print)
        self.assertEqual(letter.recipient, "Rue de la Loi 16, 1000 Brussels, Belgium")
        self.assertEqual(len(letter.attachment_ids), 1)
        text = self.attachment_text(letter.attachment_ids)
        self.assertIn("Azure Interior", text)
        self.assertIn("Rue de la Loi 16", text, "the postal address")
        self.assertIn(invoice.name, text)
        self.assertIn("1,000.00", text, "what is due net of the credit note, as the e-mail says it")
        page = self.env["account.payment.reminder.access"].search([("partner_id", "=", self.customer.id)])
        self.assertIn(f"/reminder/{page.token}", text.replace(" ", ""), "the customer's page")
        # the invoices' chatter keeps the letter
        logged = invoice.message_ids.filtered(lambda m: letter.attachment_ids <= m.attachment_ids)
        self.assertEqual(len(logged), 1)
        # the accountant prints the run's letters as one PDF from the reminders' list
        action = letters.action_print_letters()
        self.assertEqual(action["report_name"], "account_payment_reminder.report_letter")
        pdf, _kind = self.env["ir.actions.report"]._render_qweb_pdf(
            action["report_name"], action["context"]["active_ids"]
        )
        merged = pdf_text(pdf)
        self.assertIn("Azure Interior", merged)
        self.assertIn("Brick Building Supplies", merged)
        self.assertEqual(pdf_pages(pdf), pdf_pages(base64.b64decode(letter.attachment_ids.datas)) * 2)
        letters.action_mark_letters_sent()
        self.assertEqual(letters.mapped("state"), ["sent", "sent"])
        self.assertTrue(all(letters.mapped("sent_at")))
        with self.assertRaises(UserError):
            letters.action_mark_letters_sent()

    def test_final_notice_letter_states_the_late_charges_and_their_legal_basis(self):
        self.policy.write(
            {
                "late_charges_enabled": True,
                "late_interest_type": "fixed",
                "late_interest_fixed_rate": 10.0,
                "late_fee_fixed": 40.0,
                "late_fee_legal_ref": "Directive 2011/7/EU",
                "late_fee_legal_text": "Interest and 40 per invoice are due under Directive 2011/7/EU.",
            }
        )
        self.level_final.write({"charge_late_fees": True, "use_letter": True})
        self.customer.is_company = True  # a business: the late-payment directive's charges
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=1000.0)
        self.run_at("2026-04-30 09:00")
        letter = self.messages_for(invoice).filtered(lambda m: m.level_id == self.level_final)
        self.assertEqual((letter.channel, letter.state), ("letter", "to_print"))
        self.assertTrue(letter.late_charge_ids)
        text = self.attachment_text(letter.attachment_ids)
        self.assertIn("Late-payment charges", text)
        total = re.sub(r"\s+", " ", letter.late_charge_total_display)
        self.assertIn(f"Total late-payment charges: {total}", text)
        self.assertIn("Interest and 40 per invoice are due under Directive 2011/7/EU.", text)

    def test_no_postal_address_fails_the_letter_with_the_reason_and_falls_back(self):
        nowhere = self.customer.copy({"name": "Nowhere Ltd", "street": False, "zip": False})
        invoice = self.create_invoice(partner=nowhere, due=date(2026, 3, 31))
        self.level_overdue.use_email = False
        self.run_at(OVERDUE)
        letter = self.messages_for(invoice)
        self.assertEqual((letter.channel, letter.state, letter.failure_code), ("letter", "failed", "no_recipient"))
        self.assertIn("no complete postal address (missing: street; zip)", letter.failure_reason)
        # with e-mail among the level's channels, the e-mail goes instead
        self.level_overdue.use_email = True
        later = self.create_invoice(partner=nowhere, due=date(2026, 4, 1))
        self.run_at("2026-04-08 09:00")
        email = self.messages_for(later)
        self.assertEqual((email.channel, email.state), ("email", "sent"))
        # once the address is there, the failed letter can go again
        nowhere.write({"street": "Main Street 1", "zip": "1000"})
        letter.action_retry()
        self.assertEqual(letter.state, "to_print")
        self.assertIn("Main Street 1", self.attachment_text(letter.attachment_ids))

    def test_send_wizard_previews_and_sends_a_letter(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        with self.frozen(OVERDUE):
            wizard = (
                self.env["account.payment.reminder.send"]
                .with_context(active_model="account.move", active_ids=invoice.ids, force_report_rendering=True)
                .create({"channels_as_level": False, "use_email": False, "use_letter": True})
            )
            (line,) = wizard.line_ids
            self.assertEqual(line.channel, "letter")
            self.assertIn(invoice.name, line.body_html, "the letter's text, previewed")
            wizard.action_send()
        letter = self.messages_for(invoice)
        self.assertEqual((letter.channel, letter.state, letter.trigger), ("letter", "to_print", "manual"))
        self.assertIn(invoice.name, self.attachment_text(letter.attachment_ids))


@tagged("post_install", "-at_install")
class TestLetterPostalService(LetterCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake = FakeProviderServer(IapSnailmailFake).start()
        cls.addClassCleanup(cls.fake.stop)
        cls.gateway_print.state = "disabled"
        cls.gateway_post = cls.env["account.payment.reminder.gateway"].create(
            {"name": "Post", "provider": "snailmail", "state": "enabled", "use_letter": True}
        )
        cls.env["ir.config_parameter"].sudo().set_param("snailmail.endpoint", cls.fake.url)
        cls.env["iap.account"].sudo().create(
            {"service_id": cls.env.ref("snailmail.iap_service_snailmail").id, "account_token": "iap-test-token"}
        )

    def setUp(self):
        super().setUp()
        self.fake.reset()

    def test_letter_posted_by_odoo_postal_service(self):
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=1234.5)
        with iap_reachable():
            self.run_at(OVERDUE)
        letter = self.messages_for(invoice)
        self.assertEqual((letter.channel, letter.gateway_id, letter.state), ("letter", self.gateway_post, "sent"))
        (request,) = self.fake.sent("snailmail")
        (document,) = request["json"]["documents"]
        self.assertEqual(document["address"]["zip"], "1000")
        self.assertEqual(document["address"]["country_code"], "BE")
        self.assertIn(invoice.name, pdf_text(base64.b64decode(document["pdf_bin"])), "the letter's PDF went")
        posted = self.env["snailmail.letter"].search([("model", "=", "account.move"), ("res_id", "=", invoice.id)])
        self.assertEqual(posted.state, "sent")
        self.assertEqual(letter.provider_message_id, f"snailmail.letter,{posted.id}")

    @mute_logger("odoo.addons.account_payment_reminder.models.account_payment_reminder_message_dispatch")
    def test_refused_letter_fails_with_the_reason_and_falls_back_to_email(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.fake.answer("1000", 200, "NO_PRICE_AVAILABLE")
        with iap_reachable():
            self.run_at(OVERDUE)
        letter, email = self.messages_for(invoice)
        self.assertEqual((letter.state, letter.failure_code), ("failed", "NO_PRICE_AVAILABLE"))
        self.assertIn("Snailmail No Price Available", letter.failure_reason)
        self.assertEqual((email.channel, email.state, email.parent_id), ("email", "sent", letter))
        posted = self.env["snailmail.letter"].search([("model", "=", "account.move"), ("res_id", "=", invoice.id)])
        self.assertFalse(
            posted.filtered(lambda p: p.state in ("pending", "error")), "snailmail's own cron never posts it later"
        )

    def test_no_credit_is_tried_again_later(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.fake.answer("1000", 200, "CREDIT_ERROR")
        with iap_reachable():
            self.run_at(OVERDUE)
        letter = self.messages_for(invoice)
        self.assertEqual((letter.state, letter.failure_code), ("queued", "CREDIT_ERROR"))
        self.assertIn("Snailmail Credit Error", letter.failure_reason)


@tagged("post_install", "-at_install")
class TestReminderAttachments(LetterCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.level_overdue.write({"use_letter": False, "attach_statement": True})
        cls.policy.attach_invoices = True

    def test_invoice_pdfs_and_statement_attached(self):
        invoice = self.create_invoice(due=date(2026, 3, 31), amount=1234.5)
        self.run_at(OVERDUE)
        email = self.messages_for(invoice)
        self.assertEqual((email.channel, email.state), ("email", "sent"))
        pdf, statement = email.attachment_ids.sorted(lambda a: a.name.startswith("Statement"))
        self.assertEqual(pdf.name, invoice._get_invoice_report_filename())
        self.assertIn(invoice.name, self.attachment_text(pdf))
        self.assertIn("1,234.50", self.attachment_text(statement))
        self.assertIn(invoice.name, self.attachment_text(statement))
        self.assertEqual(email.mail_id.attachment_ids, email.attachment_ids, "the e-mail carries them")
        self.assertNotIn("too large", email.body_html)

    def test_past_the_size_limit_the_email_carries_the_statement_and_links_and_says_so(self):
        self.policy.attachment_max_size = 0.01  # 10 kB: less than one invoice's PDF
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.run_at(OVERDUE)
        email = self.messages_for(invoice)
        self.assertEqual(email.attachment_ids.mapped("name"), ["Statement Azure Interior.pdf"])
        self.assertIn("too large to attach", email.mail_id.body_html)
        self.assertRegex(email.mail_id.body_html, r'href="http[^"]+">View and pay online', "the invoice's link")


@tagged("post_install", "-at_install")
class TestInvoiceContactInCopy(LetterCommon):
    def test_accounts_payable_contact_in_copy(self):
        self.level_overdue.use_letter = False
        buyer = self.env["res.partner"].create(
            {"name": "Jane Buyer", "email": "jane@azure.example", "parent_id": self.customer.id, "type": "contact"}
        )
        self.env["res.partner"].create(
            {
                "name": "Accounts payable",
                "email": "ap-team@azure.example",
                "parent_id": self.customer.id,
                "type": "invoice",
            }
        )
        first = self.create_invoice(partner=buyer, due=date(2026, 3, 31))
        self.run_at(OVERDUE)
        self.assertEqual(
            (self.messages_for(first).recipient, self.messages_for(first).email_cc), ("jane@azure.example", False)
        )
        self.policy.invoice_contact_cc = True
        second = self.create_invoice(partner=buyer, due=date(2026, 4, 1))
        self.run_at("2026-04-08 09:00")
        email = self.messages_for(second)
        self.assertEqual((email.recipient, email.email_cc), ("jane@azure.example", "ap-team@azure.example"))
        self.assertEqual(email.mail_id.email_cc, "ap-team@azure.example")
        # an invoice addressed to the company itself goes to its accounts-payable contact
        other = self.env["res.partner"].create({"name": "Other Co", "is_company": True, "email": "info@other.example"})
        self.env["res.partner"].create(
            {"name": "Other Co payables", "email": "ap@other.example", "parent_id": other.id, "type": "invoice"}
        )
        third = self.create_invoice(partner=other, due=date(2026, 4, 2))
        self.run_at("2026-04-09 09:00")
        email = self.messages_for(third)
        self.assertEqual((email.recipient, email.email_cc), ("ap@other.example", False))


@tagged("post_install", "-at_install")
class TestLetterWalls(LetterCommon):
    def test_another_companys_user_cannot_print_nor_mark_letters(self):
        company_b = self.setup_other_company(name="Company B")["company"]
        user_b = new_test_user(
            self.env,
            login="letter_user_b",
            groups="account.group_account_invoice",
            company_id=company_b.id,
            company_ids=[company_b.id],
        )
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.run_at(OVERDUE)
        letter = self.messages_for(invoice)
        self.assertEqual(letter.state, "to_print")
        as_b = letter.with_user(user_b).with_context(allowed_company_ids=company_b.ids)
        with self.assertRaises(AccessError):
            as_b.action_print_letters()
        with self.assertRaises(AccessError):
            as_b.action_mark_letters_sent()
        self.assertEqual(letter.state, "to_print")
