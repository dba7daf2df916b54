"""Rendering: the one renderer of every message, on every channel, for
sending and for previews."""

import logging

from odoo import _, api, fields, models
from odoo.tools import format_date, html2plaintext

from ..exceptions import ReminderProviderError
from ..tools.sms import segment_info, to_gsm
from .account_payment_reminder_whatsapp_template import PARAM_MAX_LENGTH

_logger = logging.getLogger(__name__)


class AccountPaymentReminderMessage(models.Model):
    _inherit = "account.payment.reminder.message"

    # === RENDERING === #

    def _prepare_mail_values(self):
        self.ensure_one()
        return {
            "subject": self.subject,
            "body_html": self.body_html,
            "email_from": self.email_from or self.company_id.email_formatted,
            "email_to": self.recipient,
            "reply_to": self.company_id.email_formatted or False,
            "auto_delete": False,
            "model": False,
            "res_id": False,
        }

    def _render_contents(self):
        """Fill subject, bodies and language from each message's level template."""
        for channel, messages in self.grouped("channel").items():
            renderer = getattr(messages, f"_render_{channel}", None)
            if renderer:
                renderer()

    def _get_mail_template(self):
        self.ensure_one()
        if self.kind == "reminder":
            return self.level_id.mail_template_id
        return self.env.ref(f"account_payment_reminder.mail_template_{self.kind}", raise_if_not_found=False)

    def _get_sms_template(self):
        self.ensure_one()
        if self.kind == "reminder":
            return self.level_id.sms_template_id
        return self.env.ref(f"account_payment_reminder.sms_template_{self.kind}", raise_if_not_found=False)

    def _render_email(self):
        for template, messages in self.grouped(lambda m: m._get_mail_template() or False).items():
            if not template:
                continue
            ids = messages.ids
            subjects = template._render_field("subject", ids, compute_lang=True)
            bodies = template._render_field("body_html", ids, compute_lang=True)
            senders = template._render_field("email_from", ids, compute_lang=True)
            langs = template._render_lang(ids)
            for message in messages:
                body_html = bodies[message.id]
                message.write(
                    {
                        "template_name": template.name,
                        "subject": subjects[message.id],
                        "body_html": body_html,
                        "body": html2plaintext(body_html),
                        "email_from": senders[message.id] or False,
                        "lang": langs.get(message.id),
                    }
                )

    def _render_sms(self):
        for message in self:
            message._ensure_payment_link()
        for template, messages in self.grouped(lambda m: m._get_sms_template() or False).items():
            if not template:
                continue
            bodies = template._render_field("body", messages.ids, compute_lang=True)
            langs = template._render_lang(messages.ids)
            for message in messages:
                body = bodies[message.id] or ""
                if message.level_id.sms_gsm_only or not message.level_id:
                    body = to_gsm(body)
                message.write({"body": body, "segments": segment_info(body).segments, "lang": langs.get(message.id)})

    @api.model
    def _new_preview(self, moves, channel, level=None, recipient=None, address=None):
        """An unsaved message covering ``moves``, to show what would be sent
        (previews, wizard, dry run); nothing is written."""
        move = moves[:1]
        recipient = recipient or move.partner_id
        return self.new(
            {
                "company_id": move.company_id.id,
                "partner_id": move.commercial_partner_id.id,
                "recipient_partner_id": recipient.id,
                "move_ids": [fields.Command.set(moves.ids)],
                "level_id": level and level.id,
                "channel": channel,
                "recipient": address,
                "lang": recipient.lang,
                "idempotency_key": "preview",
                "payment_link": move.payment_reminder_url,
            }
        )

    def _preview_contents(self):
        """(subject, html, text) this unsaved message would carry: the level's
        templates rendered without writing anything (wizard and dry run)."""
        self.ensure_one()
        ids = list(self._ids)
        if self.channel == "email":
            template = self._get_mail_template()
            if not template:
                return False, False, False
            lang = template._render_lang(ids).get(ids[0]) or self.recipient_partner_id.lang
            template = template.with_context(lang=lang)
            subject = next(iter(template._render_field("subject", ids).values()), "")
            html = next(iter(template._render_field("body_html", ids).values()), "")
            return subject, html, html2plaintext(html or "")
        if self.channel == "whatsapp":
            lang = self.recipient_partner_id.lang or self.partner_id.lang
            template = self.level_id._get_whatsapp_template(lang, self.company_id)
            if template:
                return False, False, template._fill(self.with_context(lang=lang)._get_param_values(template))
        return False, False, self._render_sms_preview(self.level_id)

    def _render_sms_preview(self, level):
        """The SMS text of ``level`` for this (unsaved) message, as it would go."""
        self.ensure_one()
        template = (level.sms_template_id or self._get_sms_template()).with_context(
            lang=self.recipient_partner_id.lang or None
        )
        if not template:
            return ""
        rendered = template._render_template(template.body, self._name, list(self._ids), engine="inline_template")
        body = next(iter(rendered.values()), "") or ""
        return to_gsm(body) if level.sms_gsm_only or not level else body

    def _render_whatsapp(self):
        for message in self:
            message._ensure_payment_link()
            lang = message.recipient_partner_id.lang or message.partner_id.lang
            template = message.level_id._get_whatsapp_template(lang, message.company_id)
            vals = {"lang": lang, "whatsapp_template_id": template.id}
            if template:
                vals["body"] = template._fill(message.with_context(lang=lang)._get_param_values(template))
            elif message.level_id.sms_template_id:
                # free-form text, only inside the customer's 24-hour window
                vals["body"] = message.level_id.sms_template_id._render_field("body", message.ids, compute_lang=True)[
                    message.id
                ]
            message.write(vals)

    def _ensure_payment_link(self):
        """A short, click-counted link to view and pay the oldest invoice."""
        self.ensure_one()
        if self.payment_link or not self.move_ids:
            return self.payment_link
        move = self._get_link_move()
        medium = self.env["utm.medium"]._fetch_or_create_utm_medium(self.channel, module="account_payment_reminder")
        # sudo: link trackers are marketing records the accountant need not manage
        tracker = (
            self.env["link.tracker"]
            .sudo()
            .search_or_create([{"url": move.payment_reminder_url, "title": move.name, "medium_id": medium.id}])
        )
        self.payment_link = tracker[0].short_url
        return self.payment_link

    def _get_link_move(self):
        return self.move_ids.sorted(lambda m: (m.invoice_date_due or m.date, m.id))[:1]

    def _get_whatsapp_button_suffix(self):
        """The variable end of the template's URL button: the portal path, with
        its access token, of the oldest invoice (the button's fixed prefix is
        the site's address)."""
        move = self._get_link_move()
        return move and move.get_portal_url().lstrip("/")

    def _get_param_values(self, template):
        """The texts of the template's parameters, in order, in the message's language."""
        self.ensure_one()
        message = self.with_context(lang=self.lang or self.recipient_partner_id.lang or None)
        due = min(message.move_ids.mapped("invoice_date_due"), default=False)
        today = fields.Date.context_today(message)
        values = {
            "customer_name": (message.recipient_partner_id or message.partner_id).name or "",
            "company_name": message.company_id.name or "",
            "invoice_numbers": message.invoice_names or "",
            "invoice_count": str(len(message.move_ids)),
            "amount_due": message.amount_due_display or "",
            "due_date": due and format_date(message.env, due, lang_code=message.env.context.get("lang")) or "",
            "days_overdue": str(max(0, (today - due).days)) if due else "",
            "payment_link": message.payment_link or (message._get_link_move().payment_reminder_url or ""),
        }
        return [values[param.value] for param in template.param_ids]

    def _get_whatsapp_values(self):
        """(body parameters, URL button suffix) for the message's template,
        checked against WhatsApp's rules; raises ReminderProviderError."""
        self.ensure_one()
        template = self.whatsapp_template_id
        params = self._get_param_values(template)
        labels = dict(self.env["account.payment.reminder.whatsapp.template.param"]._fields["value"].selection)
        for index, (param, value) in enumerate(zip(template.param_ids, params, strict=True), start=1):
            if not value.strip():
                raise ReminderProviderError(
                    _("Template parameter {{%(index)s}} (%(label)s) is empty.", index=index, label=labels[param.value]),
                    code="param_empty",
                )
            if len(value) > PARAM_MAX_LENGTH or "\n" in value:
                raise ReminderProviderError(
                    _(
                        "Template parameter {{%(index)s}} (%(label)s) is too long or has line breaks.",
                        index=index,
                        label=labels[param.value],
                    ),
                    code="param_too_long",
                )
        suffix = self._get_whatsapp_button_suffix() if template.url_button else None
        return params, suffix

    def _refresh_recipient(self):
        """Re-read the customer's address (for a retry after it was fixed)."""
        for message in self:
            recipient, _reason = message.recipient_partner_id._payment_reminder_address(message.channel)
            if recipient:
                message.recipient = recipient
