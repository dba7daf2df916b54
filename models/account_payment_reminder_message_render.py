"""Rendering: the one renderer of every message, on every channel, for
sending and for previews.

``_compute_contents`` turns messages (stored ones, or unsaved ones made by
``_new_preview``) into the values they carry: subject, bodies, language,
WhatsApp parameters and button, payment link, segments. Sending writes those
values; a preview shows them and writes nothing. A template that fails to
render fails that one message with a reason naming the template, the field
and the error; the other messages render as usual.
"""

import functools
import json
import logging
import uuid

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.tools import format_date, html2plaintext
from odoo.tools.translate import LazyTranslate

from ..tools.sms import segment_info, to_gsm
from .account_payment_reminder_level import CHANNEL_TERMS
from .account_payment_reminder_whatsapp_template import PARAM_MAX_LENGTH

_lt = LazyTranslate(__name__)

_logger = logging.getLogger(__name__)

LINK_CODE_PLACEHOLDER = "XXX"  # a preview before the first send shows a short link of the real length


class TemplateError(Exception):
    """A template (or a WhatsApp parameter) could not give a message its text."""

    def __init__(self, template, reason, code="template_error"):
        super().__init__(reason)
        self.template = template
        self.reason = reason
        self.code = code


class AccountPaymentReminderMessage(models.Model):
    _inherit = "account.payment.reminder.message"

    # === TEMPLATES === #

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

    def _get_whatsapp_template(self):
        """The approved WhatsApp template for this message, in the recipient's
        language. None for the messages of a payment plan, nor when the
        level has no template in the recipient's language and the customer
        wrote in the last 24 hours: those go as free text (the SMS template,
        in the customer's language); outside the window a template in
        another language is better than none."""
        self.ensure_one()
        Template = self.env["account.payment.reminder.whatsapp.template"]
        if self.kind != "reminder" or not self.level_id:
            return Template
        lang = self._get_recipient_lang()
        template = self.level_id._get_whatsapp_template(lang, self.company_id)
        if (
            template
            and not template._speaks(lang)
            and self._get_sms_template()
            and (self.recipient_partner_id or self.partner_id)._payment_reminder_whatsapp_window_open()
        ):
            return Template
        return template

    def _get_recipient_lang(self):
        self.ensure_one()
        return self.recipient_partner_id.lang or self.partner_id.lang or self.env.lang or "en_US"

    def _get_content_template(self):
        """The template that gives this message its text on its channel."""
        self.ensure_one()
        if self.channel in ("email", "letter"):  # a letter's text is the level's e-mail, printed
            return self._get_mail_template()
        if self.channel == "whatsapp":
            return self._get_whatsapp_template() or self._get_sms_template()
        return self._get_sms_template()

    # === RENDERING === #

    def _render_contents(self):
        """Render the messages and write what they will carry. A message whose
        template fails is failed with the reason; the admin gets one activity
        per broken template. Returns the failed messages."""
        self._ensure_portal_access()
        self._ensure_payment_links()
        contents = self._compute_contents()
        failed = self.browse()
        broken = {}
        for message in self:
            vals = contents[message.id]
            error = vals.pop("error", None)
            if error:
                failed |= message
                broken.setdefault(error.template, error)
            message.write(vals)
        # the documents, once the text is there: a letter's PDF, an e-mail's attachments
        failed |= (self - failed)._attach_documents()
        if broken:
            self._notify_broken_templates(broken)
        return failed

    def _compute_contents(self, preview=False):
        """{message id: values}: what each message carries, or, under the key
        ``error``, the TemplateError that failed it (with the failure values).
        Writes nothing."""
        result = {}
        for (_channel, template), messages in self.grouped(lambda m: (m.channel, m._get_content_template())).items():
            if not template:
                for message in messages:
                    result[message.id] = message._failure_values(
                        TemplateError(
                            template,
                            _lt(
                                "The level has no template for %(channel)s messages.",
                                channel=CHANNEL_TERMS.get(message.channel, message.channel),
                            ),
                            code="no_template",
                        )
                    )
                continue
            if preview:
                for message in messages:
                    message.payment_link = message._get_preview_payment_link()
            try:
                result.update(messages._render_with(template))
            except TemplateError:
                # one message broke the batch: render one by one, so that only that one fails
                for message in messages:
                    try:
                        with self.env.cr.savepoint():
                            result.update(message._render_with(template))
                    except TemplateError as error:
                        _logger.warning("Payment reminder %s: %s", message.id, error.reason)
                        result[message.id] = message._failure_values(error)
        return result

    def _render_with(self, template):
        """Render messages of one channel with one template; raises TemplateError."""
        if template._name == "mail.template":
            return self._render_email(template)
        if template._name == "account.payment.reminder.whatsapp.template":
            return self._render_whatsapp_template(template)
        return self._render_text(template)

    def _render_field_safely(self, template, field):
        """``template._render_field`` in each message's language, with a
        failure turned into a TemplateError naming the template and field."""
        try:
            if field == "body_html" and len(self) > 1 and self._can_render_bodies_at_once(template):
                return self._render_bodies_at_once(template)
            return template._render_field(field, list(self._ids), compute_lang=True)
        except Exception as error:  # noqa: BLE001 - a broken template fails its messages, never the run
            raise TemplateError(
                template,
                _lt(
                    "The template '%(template)s' could not be rendered (%(field)s): %(error)s",
                    template=template.display_name,
                    field=template._fields[field]._description_string(self.env),
                    error=str(_root_cause(error)),
                ),
            ) from error

    def _can_render_bodies_at_once(self, template):
        """Whether Odoo would render the template's body with QWeb, for a user
        it does not restrict (the scheduler, an administrator, a template
        editor): the renderings that ``_render_bodies_at_once`` gives alike."""
        unrestricted = (
            template._unrestricted_rendering
            or self.env.is_admin()
            or self.env.user.has_group("mail.group_mail_template_editor")
        )
        return unrestricted and template._has_unsafe_expression_template_qweb(template.body_html, self._name)

    def _render_bodies_at_once(self, template):
        """``template._render_field("body_html", ..., compute_lang=True)`` with
        the body compiled once per language rather than once per message:
        Odoo compiles a template's QWeb body again for every record it renders,
        which is most of what rendering a reminder costs. The messages go
        through one loop, each inside a t-call of its own (so that a t-set of
        one message never reaches the next, as when rendered alone), and the
        result is cut at a marker no message holds; links are then made
        absolute for each message, as Odoo does."""
        marker = f"apr-{uuid.uuid4().hex}"
        bodies = {}
        for localized, res_ids in template._classify_per_lang(list(self._ids)).values():
            # Odoo's formatters, each value formatted once per language: many invoices share a due date or an
            # amount, and each call looks the language up again (half of what rendering the invoice table costs)
            formatters = localized._render_eval_context()
            source = (
                '<t t-foreach="apr_messages" t-as="object"><t t-out="apr_marker"/>'
                f'<t t-call="account_payment_reminder.mail_body_scope">{localized.body_html}</t></t>'
            )
            rendered = localized._render_template(
                source,
                localized.render_model,
                res_ids[:1],
                engine="qweb",
                add_context={
                    "apr_messages": self.browse(res_ids),
                    "apr_marker": marker,
                    "format_amount": functools.cache(formatters["format_amount"]),
                    "format_date": functools.cache(formatters["format_date"]),
                },
            )
            bodies.update(zip(res_ids, rendered[res_ids[0]].split(marker)[1:], strict=True))
        if template._fields["body_html"].render_options.get("post_process"):
            bodies = template._render_template_postprocess(template.render_model, bodies)
        return bodies

    def _render_langs(self, template):
        try:
            return template._render_lang(list(self._ids))
        except Exception:  # noqa: BLE001 - a broken language expression falls back to the recipient's
            return {message.id: message._get_recipient_lang() for message in self}

    def _render_email(self, template):
        subjects = self._render_field_safely(template, "subject")
        bodies = self._render_field_safely(template, "body_html")
        senders = self._render_field_safely(template, "email_from")
        langs = self._render_langs(template)
        return {
            message.id: {
                "template_name": template.name,
                "subject": subjects[message.id],
                "body_html": bodies[message.id],
                "body": html2plaintext(bodies[message.id] or ""),
                "email_from": senders[message.id] or False,
                "lang": langs.get(message.id) or message._get_recipient_lang(),
            }
            for message in self
        }

    def _render_text(self, template):
        """SMS, and WhatsApp free text (inside the 24-hour window): the SMS template."""
        bodies = self._render_field_safely(template, "body")
        langs = self._render_langs(template)
        result = {}
        for message in self:
            body = bodies[message.id] or ""
            vals = {"template_name": template.name, "lang": langs.get(message.id) or message._get_recipient_lang()}
            if message.channel == "sms":
                if message.level_id.sms_gsm_only or not message.level_id:
                    body = to_gsm(body)
                vals["segments"] = segment_info(body).segments
            else:
                vals["whatsapp_template_id"] = False
            vals["body"] = body
            result[message.id] = vals
        return result

    def _render_whatsapp_template(self, template):
        result = {}
        for message in self:
            lang = message._get_recipient_lang()
            params = message.with_context(lang=lang)._get_param_values(template)
            message._check_whatsapp_params(template, params)
            button = message._get_whatsapp_button_suffix() if template.url_button else False
            result[message.id] = {
                "template_name": template.name,
                "whatsapp_template_id": template.id,
                "whatsapp_params": json.dumps(params, ensure_ascii=False),
                "whatsapp_button": button or False,
                "body": template._fill(params),
                "lang": lang,
            }
        return result

    def _failure_values(self, error):
        return {
            "error": error,
            "state": "failed",
            "failed_at": fields.Datetime.now(),
            "failure_code": error.code,
            **self._prepare_failure_reason_vals(error.reason),
            "template_name": error.template.display_name if error.template else False,
        }

    def _channel_label(self):
        self.ensure_one()
        return dict(self._fields["channel"]._description_selection(self.env)).get(self.channel, self.channel)

    def _notify_broken_templates(self, broken):
        """One to-do per broken template for whoever runs the policy, however
        many messages it failed; none while the same to-do is still open."""
        Activity = self.env["mail.activity"]
        for template, error in broken.items():
            if not template:
                continue  # a level without a template: the level form says so, nothing to repair
            messages = self.filtered(lambda m, t=template: m.template_name == t.display_name and m.state == "failed")
            policy = messages.policy_id[:1] or self.policy_id[:1]
            if not policy:
                continue
            summary = _("Repair the template '%(template)s'", template=template.display_name)
            if Activity.search_count([("res_model", "=", policy._name), ("summary", "=", summary)], limit=1):
                continue
            policy.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=summary,
                note=Markup("<p>%s</p><p>%s</p>")
                % (
                    str(error.reason),
                    _("Messages that failed because of it can be sent again (Retry) once it is repaired."),
                ),
                user_id=policy._get_responsible_user().id,
            )

    # === WHATSAPP PARAMETERS === #

    def _get_param_values(self, template):
        """The texts of the template's parameters, in order, in the message's language."""
        self.ensure_one()
        message = self.with_context(lang=self.env.context.get("lang") or self._get_recipient_lang())
        lang = message.env.context["lang"]
        due = min(message.move_ids.mapped("invoice_date_due"), default=False)
        today = fields.Date.context_today(message)
        values = {
            "customer_name": (message.recipient_partner_id or message.partner_id).name or "",
            "company_name": message.company_id.name or "",
            "invoice_summary": message.invoice_summary or "",
            "invoice_numbers": message.invoice_names or "",
            "invoice_label": message.invoice_label or "",
            "invoice_count": str(len(message.move_ids)),
            "amount_due": message.amount_due_display or "",
            "due_date": due and format_date(message.env, due, lang_code=lang) or "",
            "days_overdue": str(max(0, (today - due).days)) if due else "",
            "payment_link": message.payment_link or (message._get_link_move().payment_reminder_url or ""),
        }
        return [values[param.value] for param in template.param_ids]

    def _check_whatsapp_params(self, template, params):
        """WhatsApp refuses empty parameters, and long ones or line breaks."""
        labels = dict(self.env["account.payment.reminder.whatsapp.template.param"]._fields["value"].selection)
        for index, (param, value) in enumerate(zip(template.param_ids, params, strict=True), start=1):
            if not value.strip():
                raise TemplateError(
                    template,
                    _lt(
                        "WhatsApp template '%(template)s': parameter {{%(index)s}} (%(label)s) is empty.",
                        template=template.display_name,
                        index=index,
                        label=labels[param.value],
                    ),
                    code="param_empty",
                )
            if len(value) > PARAM_MAX_LENGTH or "\n" in value:
                raise TemplateError(
                    template,
                    _lt(
                        "WhatsApp template '%(template)s': parameter {{%(index)s}} (%(label)s) is too long or has "
                        "line breaks.",
                        template=template.display_name,
                        index=index,
                        label=labels[param.value],
                    ),
                    code="param_too_long",
                )

    def _get_whatsapp_values(self):
        """(body parameters, URL button suffix) as rendered for this message."""
        self.ensure_one()
        return json.loads(self.whatsapp_params or "[]"), self.whatsapp_button or None

    # === LINKS === #

    def _ensure_payment_links(self):
        """Give the SMS and WhatsApp messages their short, click-counted link."""
        for message in self.filtered(lambda m: m.channel in ("sms", "whatsapp") and not m.payment_link):
            if message.move_ids:
                message.payment_link = message._get_link_tracker(create=True).short_url

    def _get_preview_payment_link(self):
        """The link a preview shows: the existing short link, else one of the
        same length (the code is drawn when the message is sent)."""
        self.ensure_one()
        if self.channel not in ("sms", "whatsapp") or not self.move_ids:
            return False
        tracker = self._get_link_tracker(create=False)
        if tracker:
            return tracker.short_url
        return f"{self.get_base_url()}/r/{LINK_CODE_PLACEHOLDER}"

    def _get_link_tracker(self, create):
        move = self._get_link_move()
        Medium = self.env["utm.medium"]
        if create:
            medium = Medium._fetch_or_create_utm_medium(self.channel, module="account_payment_reminder")
        else:
            medium = self.env.ref(f"account_payment_reminder.utm_medium_{self.channel}", raise_if_not_found=False)
        if not medium:
            return self.env["link.tracker"]
        vals = {"url": move.payment_reminder_url, "title": move.name, "medium_id": medium.id}
        # sudo: link trackers are marketing records the accountant need not manage
        Tracker = self.env["link.tracker"].sudo()
        if create:
            return Tracker.search_or_create([vals])[:1]
        # the same key as link.tracker.search_or_create: url, campaign, medium, source, label
        return Tracker.search(
            [
                ("url", "=", vals["url"]),
                ("medium_id", "=", medium.id),
                ("campaign_id", "=", False),
                ("source_id", "=", False),
                ("label", "in", (False, "")),
            ],
            limit=1,
        )

    def _get_link_move(self):
        """The oldest invoice (saved, also for a preview, which holds copies)."""
        return self.move_ids._origin.sorted(lambda m: (m.invoice_date_due or m.date, m.id))[:1]

    def _get_whatsapp_button_suffix(self):
        """The variable end of the template's URL button: the path of the
        oldest invoice's payment link, the customer's page (the button's fixed
        prefix is the site's address)."""
        move = self._get_link_move()
        return move and move.payment_reminder_url.removeprefix(move.get_base_url()).lstrip("/")

    # === PREVIEWS === #

    @api.model
    def _new_preview(self, moves, channel, level=None, recipient=None, address=None, kind="reminder", **values):
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
                "kind": kind,
                "channel": channel,
                "recipient": address,
                "idempotency_key": "preview",
                **values,
            }
        )

    def _preview(self):
        """What this unsaved message would carry, as the same renderer makes it
        for sending: a dict with subject, body_html, body, segments, lang,
        whatsapp params and button, payment_link; or failure_reason."""
        self.ensure_one()
        vals = self._compute_contents(preview=True)[self.id]
        vals.pop("error", None)
        vals["payment_link"] = self.payment_link
        return vals

    # === RETRY === #

    def _refresh_recipient(self):
        """Re-read the customer's address (for a retry after it was fixed)."""
        for message in self:
            recipient, _reason = message.recipient_partner_id._payment_reminder_address(message.channel)
            if recipient:
                message.recipient = recipient


def _root_cause(error):
    """The innermost error's words: what the admin must repair."""
    while error.__cause__ or error.__context__:
        error = error.__cause__ or error.__context__
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[-1] if text else ''}".strip(": ")
