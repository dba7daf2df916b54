import re

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

PARAM_VALUES = [
    ("customer_name", "Customer name"),
    ("company_name", "Your company name"),
    ("invoice_summary", "Invoices in short ('invoice INV/001' or '3 invoices')"),
    ("invoice_numbers", "Invoice numbers"),
    ("invoice_label", "Invoice numbers, with the word invoice(s)"),
    ("invoice_count", "Number of invoices"),
    ("amount_due", "Amount due"),
    ("due_date", "Due date"),
    ("days_overdue", "Days overdue"),
    ("payment_link", "Link to view and pay"),
]
PARAM_MAX_LENGTH = 1024  # WhatsApp's limit for a template body


class AccountPaymentReminderWhatsappTemplate(models.Model):
    """A WhatsApp message template as approved by Meta: its name, language and
    the mapping of its ``{{1}}..{{n}}`` body parameters to invoice values."""

    _name = "account.payment.reminder.whatsapp.template"
    _description = "Payment Reminder WhatsApp Template"
    _order = "template_name, lang_code"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", index=True, help="Empty: every company.")
    template_name = fields.Char(
        "Meta Template Name", required=True, help="Exactly as approved in WhatsApp Manager, e.g. payment_overdue."
    )
    lang_code = fields.Char("Meta Language Code", required=True, default="en", help="e.g. en, en_US, fr, pt_BR, id")
    lang = fields.Selection(
        "_get_lang_selection", "For Customers Speaking", help="Empty: used when no template matches the language."
    )
    category = fields.Selection(
        [("utility", "Utility"), ("marketing", "Marketing"), ("authentication", "Authentication")],
        default="utility",
        required=True,
        help="Payment reminders are Utility messages; a template with promotional wording becomes Marketing.",
    )
    body_text = fields.Text(
        "Approved Body", required=True, help="The body as approved, with {{1}}, {{2}}... where values go."
    )
    param_ids = fields.One2many(
        "account.payment.reminder.whatsapp.template.param", "template_id", "Parameters", copy=True
    )
    url_button = fields.Boolean(
        "URL Button",
        default=True,
        help="The template's first button opens https://your-domain/{{1}}; its variable part is the invoice's "
        "portal path with its access token.",
    )
    twilio_content_sid = fields.Char(
        "Twilio Content SID",
        help="The HX... id of the same template in Twilio's Content API, to send it through Twilio.",
    )
    preview_move_id = fields.Many2one(
        "account.move",
        "Preview For",
        domain=[("move_type", "=", "out_invoice"), ("state", "=", "posted")],
        store=False,
    )
    preview = fields.Text(compute="_compute_preview")

    def write(self, vals):
        result = super().write(vals)
        if "company_id" in vals:
            # the record rules are checked before a write: check the new company too, so that nobody
            # makes a template shared (or another company's) that they could not have created
            self.check_access("write")
        return result

    @api.model
    def _get_lang_selection(self):
        return self.env["res.lang"].get_installed()

    @api.constrains("body_text", "param_ids")
    def _check_params(self):
        for template in self:
            numbers = {int(n) for n in re.findall(r"\{\{\s*(\d+)\s*\}\}", template.body_text or "")}
            if numbers != set(range(1, len(template.param_ids) + 1)):
                raise ValidationError(
                    _(
                        "Template '%(name)s' has the placeholders %(placeholders)s in its body but "
                        "%(count)s parameters.",
                        name=template.name,
                        placeholders=", ".join(f"{{{{{n}}}}}" for n in sorted(numbers)) or "-",
                        count=len(template.param_ids),
                    )
                )

    @api.depends("preview_move_id", "body_text", "param_ids.value")
    def _compute_preview(self):
        for template in self:
            move = template.preview_move_id
            if not move:
                template.preview = template.body_text
                continue
            message = self.env["account.payment.reminder.message"]._new_preview(move, "whatsapp")
            message.payment_link = message._get_preview_payment_link()
            text = template._fill(message._get_param_values(template))
            suffix = message._get_whatsapp_button_suffix() if template.url_button else None
            template.preview = text + (f"\n[{_('View and pay')}: .../{suffix}]" if suffix else "")

    def _speaks(self, lang):
        """True when the template is written in ``lang`` (an Odoo language
        code): chosen for it, or in its language by Meta's code ("fr" for
        fr_FR, "pt_BR" for pt_BR)."""
        self.ensure_one()
        if self.lang:
            return self.lang == lang
        code = (self.lang_code or "").replace("-", "_")
        return code == lang or ("_" not in code and lang.split("_")[0] == code)

    def _fill(self, values):
        """The body with its placeholders replaced by ``values`` (in order)."""
        self.ensure_one()
        return re.sub(
            r"\{\{\s*(\d+)\s*\}\}",
            lambda match: values[int(match.group(1)) - 1] if int(match.group(1)) <= len(values) else match.group(0),
            self.body_text or "",
        )


class AccountPaymentReminderWhatsappTemplateParam(models.Model):
    _name = "account.payment.reminder.whatsapp.template.param"
    _description = "Payment Reminder WhatsApp Template Parameter"
    _order = "template_id, sequence, id"

    template_id = fields.Many2one("account.payment.reminder.whatsapp.template", required=True, ondelete="cascade")
    sequence = fields.Integer(default=10)
    value = fields.Selection(PARAM_VALUES, required=True)
