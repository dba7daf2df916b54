"""Stage 2, continued: the documents a message carries, rendered by Odoo's
report engine once its text is there. A letter is its PDF (the level's
e-mail text, printed on the company's letterhead with the customer's postal
address, the customer page's link and QR code); an e-mail of a policy that
attaches documents carries the invoices' PDFs (Odoo's invoice report, as
Odoo's invoice e-mail) and the customer's statement. The figures are the
message's own (``_get_statement``, the late charges): nothing is computed
again for paper.

Letters of the print batch wait in 'To Print' until the accountant prints
them, all at once, and marks them sent (``action_print_letters``,
``action_mark_letters_sent``)."""

import base64
import logging

from markupsafe import Markup

from odoo import Command, _, models
from odoo.exceptions import UserError
from odoo.tools import format_amount, format_date
from odoo.tools.image import image_data_uri
from odoo.tools.translate import LazyTranslate

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

LETTER_REPORT = "account_payment_reminder.action_report_letter"
STATEMENT_REPORT = "account_payment_reminder.action_report_statement"
INVOICE_REPORT = "account.account_invoices"
MB = 1024 * 1024


class DocumentError(Exception):
    """A PDF could not be rendered (wkhtmltopdf missing or failing)."""


class AccountPaymentReminderMessage(models.Model):
    _inherit = "account.payment.reminder.message"

    def _attach_documents(self):
        """Render and attach the documents of these queued messages. Returns
        the letters that failed (no PDF): their fallback is queued by the
        caller as for any failure."""
        queued = self.filtered(lambda m: m.state == "queued")
        letters = queued.filtered(lambda m: m.channel == "letter")
        failed = letters._attach_letters()
        queued.filtered(
            lambda m: m.channel == "email" and m.kind == "reminder" and m.policy_id.attach_invoices
        )._attach_email_documents()
        return failed

    # === LETTERS === #

    def _attach_letters(self):
        """Each letter's PDF, in its customer's language, kept as the
        message's attachment (the report's ``attachment``: printing it again
        gives the same file). One letter at a time: Debian's wkhtmltopdf
        (unpatched Qt) prints one document per call."""
        report = self.env.ref(LETTER_REPORT)
        failed = self.browse()
        for message in self:
            # rendered again (a retry after the address was completed): the new text, not the stored file
            (report.retrieve_attachment(message) or self.env["ir.attachment"]).unlink()
            try:
                message._render_pdf(report)
            except DocumentError as error:
                reason = _lt("The letter could not be printed to PDF: %(error)s", error=str(error))
                message.write(
                    {
                        "state": "failed",
                        "failed_at": self.env.cr.now(),
                        "failure_code": "no_pdf",
                        **self._prepare_failure_reason_vals(reason),
                    }
                )
                failed |= message
                continue
            message.attachment_ids = [Command.set(report.retrieve_attachment(message).ids)]
        return failed

    def _render_pdf(self, report, res_ids=None):
        """The PDF of ``report`` for these records (bytes); raises DocumentError."""
        try:
            with self.env.cr.savepoint():
                content, report_type = self.env["ir.actions.report"]._render_qweb_pdf(
                    report.report_name, res_ids or self.ids
                )
        except Exception as error:  # noqa: BLE001 - wkhtmltopdf missing or failing fails the document, not the run
            _logger.warning("Payment reminders %s: no PDF: %s", self.ids, error)
            raise DocumentError(str(error)) from error
        if report_type != "pdf":
            raise DocumentError(_("the report engine gave no PDF (is wkhtmltopdf installed?)"))
        return content

    def _get_report_formatters(self):
        """The ``format_date`` and ``format_amount`` that the e-mails' invoice
        table uses (mail templates have them), for the statement's report."""
        env = self.env
        return {
            "format_date": lambda value: format_date(env, value),
            "format_amount": lambda amount, currency: format_amount(env, amount, currency),
        }

    def _get_letter_sender(self):
        """The company's name and address on one line, above the letter."""
        self.ensure_one()
        partner = self.company_id.partner_id
        return " - ".join(filter(None, [partner.name, *partner._display_address(without_company=True).splitlines()]))

    def _get_letter_page_url(self):
        """The customer's page, printed on the letter with its QR code."""
        self.ensure_one()
        return self._get_link_move().payment_reminder_url or ""

    def _get_letter_qr_code(self):
        """A data URI of the QR code to the customer's page (embedded: the PDF
        engine fetches nothing)."""
        self.ensure_one()
        url = self._get_letter_page_url()
        if not url:
            return False
        barcode = self.env["ir.actions.report"].barcode("QR", url, width=180, height=180)
        return image_data_uri(base64.b64encode(barcode))

    def action_print_letters(self):
        """One PDF of the selected letters (those waiting to be printed, or
        printed already), as the report engine merges their stored files."""
        letters = self.filtered(lambda m: m.channel == "letter" and m.attachment_ids)
        if not letters:
            raise UserError(_("Select letters to print: reminders on the Letter channel with their PDF."))
        # config=False: the batch prints at once, without Odoo's first-print layout wizard
        return self.env.ref(LETTER_REPORT).report_action(letters, config=False)

    def action_mark_letters_sent(self):
        """The accountant posted the printed letters: they are sent."""
        self.check_access("read")  # the wall between companies holds before the history is written as superuser
        letters = self.filtered(lambda m: m.channel == "letter" and m.state == "to_print")
        if letters != self:
            raise UserError(_("Only letters waiting to be printed can be marked as sent."))
        # sudo: history rows are written by code only; the user's access to them is checked above
        letters = letters.sudo()
        letters._apply_status("sent")
        letters._log_in_chatter()
        return True

    # === E-MAIL ATTACHMENTS === #

    def _attach_email_documents(self):
        """The invoices' PDFs and, on the levels that ask, the statement. Past
        the policy's limit the e-mail carries the statement and the links
        only, and its text says so."""
        for message in self:
            try:
                statement = message._make_statement_attachment() if message.level_id.attach_statement else None
                invoices = message._get_invoice_attachments()
            except DocumentError as error:
                _logger.warning("Payment reminder %s: no documents attached: %s", message.id, error)
                continue
            limit = (message.policy_id.attachment_max_size or 0) * MB
            size = sum(invoices.mapped("file_size")) + (statement.file_size if statement else 0)
            if limit and size > limit:
                statement = statement or message._make_statement_attachment()
                message.attachment_ids = [Command.set(statement.ids)]
                note = (
                    self.env["ir.qweb"]
                    .with_context(lang=message.lang)
                    ._render(
                        "account_payment_reminder.mail_attachments_too_large",
                        {"size": round(size / MB, 1), "limit": message.policy_id.attachment_max_size},
                        minimal_qcontext=True,
                    )
                )
                message.body_html = Markup(message.body_html or "") + Markup(note)
            else:
                message.attachment_ids = [Command.set((invoices | (statement or invoices.browse())).ids)]

    def _get_invoice_attachments(self):
        """Each invoice's PDF: the one Odoo keeps for it once sent, else the
        invoice report rendered now (kept with this message)."""
        self.ensure_one()
        Attachment = self.env["ir.attachment"]
        attachments = Attachment
        for move in self._get_sorted_moves():
            if move.invoice_pdf_report_id:
                attachments |= move.invoice_pdf_report_id
                continue
            content = self._render_pdf(self.env.ref(INVOICE_REPORT), move.ids)
            attachments |= Attachment.create(
                {
                    "name": move._get_invoice_report_filename(),
                    "raw": content,
                    "mimetype": "application/pdf",
                    "res_model": self._name,
                    "res_id": self.id,
                }
            )
        return attachments

    def _make_statement_attachment(self):
        """The customer's statement as a PDF, kept with this message."""
        self.ensure_one()
        content = self._render_pdf(self.env.ref(STATEMENT_REPORT))
        return self.env["ir.attachment"].create(
            {
                "name": _("Statement %(customer)s.pdf", customer=self.partner_id.name),
                "raw": content,
                "mimetype": "application/pdf",
                "res_model": self._name,
                "res_id": self.id,
            }
        )
