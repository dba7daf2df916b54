import logging
import time
from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date, formatLang, html2plaintext

from ..exceptions import ReminderProviderError
from ..tools.keywords import classify
from ..tools.schedule import in_send_window, next_window_start, retry_delay, to_local
from ..tools.sms import segment_info, to_gsm
from ..tools.twilio_api import TwilioClient
from ..tools.whatsapp_api import WhatsAppCloudClient
from .account_payment_reminder_level import CHANNELS, channel_label
from .account_payment_reminder_whatsapp_template import PARAM_MAX_LENGTH
from .sms_template import describe_encoding

_logger = logging.getLogger(__name__)

STATES = [
    ("queued", "Queued"),
    ("sending", "Sending"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("read", "Read"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
]
STATE_RANK = {"queued": 0, "sending": 1, "sent": 2, "failed": 3, "delivered": 4, "read": 5}
"""Receipts only move a message forward: a 'delivered' that arrives after a
'failed' (multi-device WhatsApp) wins, a 'failed' after 'delivered' does not."""

SENDING_TIMEOUT_MINUTES = 15
CHATTER_CHUNK = 50  # chatter notes are written for this many messages at once


class AccountPaymentReminderMessage(models.Model):
    """One outbound reminder on one channel: the channel history.

    Rows are written by code only (the scheduler, the manual wizard, the
    webhooks); users read them. A row is committed in state ``queued`` before
    its provider is called, under a unique idempotency key, so that a crash or
    a second run never sends twice.
    """

    _name = "account.payment.reminder.message"
    _description = "Payment Reminder Message"
    _order = "queued_at desc, id desc"
    _rec_name = "display_name"

    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    company_currency_id = fields.Many2one(related="company_id.currency_id", string="Company Currency")
    partner_id = fields.Many2one(
        "res.partner", "Customer", required=True, index=True, readonly=True, help="The commercial partner."
    )
    recipient_partner_id = fields.Many2one("res.partner", "Recipient Contact", readonly=True)
    move_ids = fields.Many2many(
        "account.move",
        "account_payment_reminder_message_move_rel",
        "message_id",
        "move_id",
        string="Invoices",
        readonly=True,
    )
    move_count = fields.Integer("# Invoices", compute="_compute_move_count")
    invoice_names = fields.Char("Invoice Numbers", compute="_compute_invoice_names")
    amount_due_display = fields.Char("Total Due", compute="_compute_amount_due_display")
    policy_id = fields.Many2one("account.payment.reminder.policy", readonly=True, index=True)
    level_id = fields.Many2one("account.payment.reminder.level", readonly=True, index=True)
    kind = fields.Selection(
        [
            ("reminder", "Reminder"),
            ("plan_summary", "Payment plan"),
            ("plan_before", "Instalment coming"),
            ("plan_after", "Instalment late"),
            ("plan_broken", "Payment plan broken"),
        ],
        default="reminder",
        required=True,
        readonly=True,
    )
    plan_id = fields.Many2one("account.payment.reminder.plan", readonly=True, index="btree_not_null")
    plan_line_id = fields.Many2one("account.payment.reminder.plan.line", "Instalment", readonly=True)
    channel = fields.Selection(CHANNELS, required=True, readonly=True)
    gateway_id = fields.Many2one("account.payment.reminder.gateway", readonly=True)
    provider = fields.Selection(related="gateway_id.provider", store=True)
    recipient = fields.Char(readonly=True, help="E-mail address or E.164 phone number.")
    lang = fields.Char("Language", readonly=True)
    email_from = fields.Char(readonly=True)
    subject = fields.Char(readonly=True)
    body_html = fields.Html("Rendered E-mail", readonly=True, sanitize=False, prefetch=False)
    body = fields.Text("Rendered Text", readonly=True, prefetch=False)
    state = fields.Selection(STATES, default="queued", required=True, readonly=True, index=True)
    failure_code = fields.Char(readonly=True)
    failure_reason = fields.Text(readonly=True)
    provider_message_id = fields.Char(readonly=True, index="btree_not_null", copy=False)
    idempotency_key = fields.Char(required=True, readonly=True, copy=False)
    trigger = fields.Selection(
        [("cron", "Scheduler"), ("manual", "Manual")], default="cron", required=True, readonly=True
    )
    user_id = fields.Many2one("res.users", "Sent By", readonly=True)
    parent_id = fields.Many2one(
        "account.payment.reminder.message",
        "Replaces",
        readonly=True,
        help="The failed message this one falls back from.",
    )
    attempt_count = fields.Integer(readonly=True, default=0)
    queued_at = fields.Datetime(readonly=True, index=True, default=fields.Datetime.now, copy=False)
    claimed_at = fields.Datetime(readonly=True, help="When the last send attempt started.")
    next_attempt_at = fields.Datetime(readonly=True, index=True, default=fields.Datetime.now)
    tz = fields.Char("Time Zone", readonly=True)
    sent_at = fields.Datetime(readonly=True)
    delivered_at = fields.Datetime(readonly=True)
    read_at = fields.Datetime(readonly=True)
    failed_at = fields.Datetime(readonly=True)
    amount_due = fields.Monetary(
        currency_field="company_currency_id", readonly=True, help="What the message asks for, in company currency."
    )
    segments = fields.Integer(readonly=True)
    cost = fields.Float(readonly=True, digits=(16, 4))
    provider_payload = fields.Text(readonly=True, groups="base.group_no_one", prefetch=False)
    mail_id = fields.Many2one("mail.mail", readonly=True)
    template_name = fields.Char("Template", readonly=True, help="The template the message was rendered from.")
    # reporting: averages of 0/100 values are rates in the pivot view; NULL means "not known yet"
    delivered_rate = fields.Float("Delivered (%)", compute="_compute_rates", store=True, aggregator="avg")
    read_rate = fields.Float("Read (%)", compute="_compute_rates", store=True, aggregator="avg")
    failed_rate = fields.Float("Failed (%)", compute="_compute_rates", store=True, aggregator="avg")
    is_first_reminder = fields.Boolean("First Reminder", readonly=True)
    paid_date = fields.Date("Invoices Paid On", readonly=True)
    days_to_pay = fields.Float("Days to Pay", readonly=True, aggregator="avg", digits=(16, 1))
    paid_3d_rate = fields.Float("Paid in 3 Days (%)", readonly=True, aggregator="avg")
    paid_7d_rate = fields.Float("Paid in 7 Days (%)", readonly=True, aggregator="avg")
    paid_14d_rate = fields.Float("Paid in 14 Days (%)", readonly=True, aggregator="avg")
    whatsapp_template_id = fields.Many2one(
        "account.payment.reminder.whatsapp.template", "WhatsApp Template", readonly=True
    )
    payment_link = fields.Char(readonly=True, help="The tracked short link sent by SMS or WhatsApp.")
    due_date_display = fields.Char("Due Date", compute="_compute_due_date_display")
    encoding_info = fields.Char("Encoding", compute="_compute_encoding_info")

    _sql_constraints = [
        ("idempotency_key_unique", "UNIQUE(idempotency_key)", "This reminder was already queued."),
    ]

    @api.depends("level_id", "channel", "partner_id", "kind")
    def _compute_display_name(self):
        channels = dict(CHANNELS)
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for message in self:
            what = message.level_id.name if message.kind == "reminder" else kinds[message.kind]
            message.display_name = " - ".join(
                filter(None, [message.partner_id.name, what, channels.get(message.channel)])
            )

    def _compute_move_count(self):
        for message in self:
            message.move_count = len(message.move_ids)

    @api.depends("move_ids.name")
    def _compute_invoice_names(self):
        for message in self:
            message.invoice_names = ", ".join(message.move_ids.mapped("name"))

    @api.depends("move_ids.amount_residual")
    @api.depends_context("lang")
    def _compute_amount_due_display(self):
        for message in self:
            totals = message.move_ids.grouped("currency_id")
            message.amount_due_display = " + ".join(
                formatLang(self.env, sum(moves.mapped("amount_residual")), currency_obj=currency)
                for currency, moves in totals.items()
            )

    @api.depends("move_ids.invoice_date_due", "lang")
    def _compute_due_date_display(self):
        for message in self:
            due = min(message.move_ids.mapped("invoice_date_due"), default=False)
            message.due_date_display = due and format_date(message.env, due, lang_code=message.lang or None)

    @api.depends("state")
    def _compute_rates(self):
        for message in self:
            done = message.state in ("sent", "delivered", "read", "failed")
            message.delivered_rate = done and (100.0 if message.state in ("delivered", "read") else 0.0)
            message.read_rate = done and (100.0 if message.state == "read" else 0.0)
            message.failed_rate = done and (100.0 if message.state == "failed" else 0.0)

    @api.depends("body", "channel")
    def _compute_encoding_info(self):
        for message in self:
            message.encoding_info = message.channel == "sms" and describe_encoding(message.env, message.body)

    # === ACTIONS === #

    def action_cancel(self):
        """Cancel messages that have not left yet."""
        queued = self.filtered(lambda m: m.state == "queued")
        if queued != self:
            raise UserError(_("Only queued messages can be cancelled."))
        # sudo: history rows are written by code only; the caller could read them (access checked above).
        queued.sudo().write(
            {"state": "cancelled", "failure_reason": _("Cancelled by %(user)s", user=self.env.user.name)}
        )
        return True

    def action_retry(self):
        """Send a failed message again (after fixing the address, say)."""
        if not self.env.user.has_group("account.group_account_manager"):
            raise UserError(_("Only accounting managers can send a failed reminder again."))
        failed = self.filtered(lambda m: m.state == "failed")
        # sudo: history rows are written by code only; the manager's right is checked above.
        failed.sudo().write({"state": "queued", "attempt_count": 0, "next_attempt_at": fields.Datetime.now()})
        failed.sudo()._refresh_recipient()
        failed.sudo()._dispatch()
        return True

    def action_open_moves(self):
        self.ensure_one()
        return self.move_ids._payment_reminder_action_open()

    # === STATE MACHINE === #

    def _apply_status(self, state, when=None, code=None, reason=None):
        """Move messages forward to ``state`` (a receipt, a send result). Older
        or repeated receipts change nothing. Returns the messages that moved."""
        when = when or fields.Datetime.now()
        moved = self.browse()
        for message in self:
            if message.state == "cancelled" or STATE_RANK[state] <= STATE_RANK.get(message.state, 0):
                continue
            vals = {"state": state}
            stamp = {"sent": "sent_at", "delivered": "delivered_at", "read": "read_at", "failed": "failed_at"}[state]
            if not message[stamp]:
                vals[stamp] = when
            if state in ("delivered", "read") and not message.sent_at:
                vals["sent_at"] = when
            if state == "read" and not message.delivered_at:
                vals["delivered_at"] = when
            if state == "failed":
                vals.update(failure_code=code, failure_reason=reason)
            message.write(vals)
            moved |= message
        return moved

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

    # === DISPATCH === #

    def _dispatch(self):
        """Send the queued messages in ``self`` whose time has come.

        Each message is claimed (queued -> sending) and committed before its
        provider is called, and its result is committed right after, so a
        crash can never send it twice; a message left in 'sending' by a crash
        is failed by the next run, not resent.
        """
        auto_commit = self.env["account.move"]._can_commit()
        now = fields.Datetime.now()
        sent = to_log = self.browse()
        last_call = {}  # gateway id -> monotonic time of its last call in this run
        for message in self.filtered(lambda m: m.state == "queued" and (m.next_attempt_at or now) <= now):
            # a commit empties the cache: read this message again, not the whole batch
            message = message.with_prefetch()
            if message._wait_for_recipient(now) or not message._claim(now):
                continue  # later, or another run took it
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit  # the claim is durable before the provider call
            message._respect_rate_limit(last_call)
            message._send_one()
            sent |= message
            if message.state != "queued":
                to_log |= message
            if len(to_log) >= CHATTER_CHUNK:
                to_log._log_in_chatter()
                to_log = self.browse()
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit  # the provider's answer is durable at once
        to_log._log_in_chatter()
        return sent

    def _wait_for_recipient(self, now):
        """Postpone a message to a recipient the gateway messaged a moment ago
        (WhatsApp refuses bursts to one person). True when postponed."""
        interval = self.gateway_id.recipient_interval
        if not (interval and self.recipient):
            return False
        previous = self.search(
            [
                ("gateway_id", "=", self.gateway_id.id),
                ("recipient", "=", self.recipient),
                ("sent_at", ">", now - timedelta(seconds=interval)),
                ("id", "!=", self.id),
            ],
            order="sent_at desc",
            limit=1,
        )
        if previous:
            self.next_attempt_at = previous.sent_at + timedelta(seconds=interval)
            return True
        return False

    def _respect_rate_limit(self, last_call):
        """Sleep as needed to keep the gateway under its messages per second."""
        gateway = self.gateway_id
        if gateway.rate_limit > 0:
            previous = last_call.get(gateway.id)
            if previous is not None:
                wait = 1.0 / gateway.rate_limit - (time.monotonic() - previous)
                if wait > 0:
                    time.sleep(wait)
            last_call[gateway.id] = time.monotonic()

    def _claim(self, now):
        """Atomically take a queued message for sending; False if already taken
        or outside the customer's send window (then it waits for the window)."""
        self.ensure_one()
        policy = self.policy_id
        if self.trigger == "cron" and policy:
            local = to_local(now, self.tz)
            weekdays = policy._get_window_weekdays()
            if not in_send_window(local, policy.window_start, policy.window_end, weekdays):
                self.next_attempt_at = next_window_start(now, self.tz, policy.window_start, policy.window_end, weekdays)
                return False
        self.flush_recordset()
        self.env.cr.execute(
            """
            UPDATE account_payment_reminder_message
               SET state = 'sending', attempt_count = COALESCE(attempt_count, 0) + 1, claimed_at = %s
             WHERE id = %s AND state = 'queued'
            RETURNING id
            """,
            [now, self.id],
        )
        claimed = bool(self.env.cr.fetchone())
        self.invalidate_recordset(["state", "attempt_count", "claimed_at"])
        return claimed

    def _send_one(self):
        """Call the provider for one claimed message and record the outcome."""
        self.ensure_one()
        gateway = self.gateway_id.sudo()  # sudo: the provider needs the credentials, which users cannot read
        try:
            if not gateway or gateway.state == "disabled":
                raise ReminderProviderError(_("No active gateway for this channel."), code="no_gateway")
            if self.channel == "email" and not self.body_html:
                raise ReminderProviderError(_("The level has no e-mail template."), code="no_template")
            if self.channel != "email" and not (self.body or self.whatsapp_template_id):
                raise ReminderProviderError(_("The level has no template for this channel."), code="no_template")
            result = gateway._get_provider()._send(gateway, self)
        except ReminderProviderError as error:
            self._handle_failure(error)
            return
        except Exception as error:  # noqa: BLE001 - one bad message never stops the run
            _logger.exception("Payment reminder %s: unexpected provider error", self.id)
            self._handle_failure(ReminderProviderError(_("Unexpected error: %(error)s", error=error), code="internal"))
            return
        vals = {
            "provider_message_id": result.get("provider_message_id"),
            "mail_id": result.get("mail_id"),
            "segments": result.get("segments") or self.segments,
            "cost": result.get("cost") or 0.0,
            "failure_code": False,
            "failure_reason": False,
        }
        if result.get("payload"):
            vals["provider_payload"] = result["payload"]
        self.write(vals)
        self._apply_status(result.get("state", "sent"))
        _logger.info("Payment reminder %s sent by %s to %s", self.id, self.channel, self.recipient)

    def _handle_failure(self, error):
        """Retry a transient error later; fail a permanent one and fall back."""
        reason = error.message(self.lang or self.env.lang)
        delay = error.transient and retry_delay(self.attempt_count)
        if delay:
            _logger.info("Payment reminder %s: %s (retry in %s)", self.id, reason, delay)
            self.write(
                {
                    "state": "queued",
                    "next_attempt_at": fields.Datetime.now() + delay,
                    "failure_code": error.code,
                    "failure_reason": _("Retrying: %(reason)s", reason=reason),
                }
            )
            return
        _logger.warning("Payment reminder %s failed: %s", self.id, reason)
        self.write(
            {
                "state": "failed",
                "failed_at": fields.Datetime.now(),
                "failure_code": error.code,
                "failure_reason": reason,
            }
        )
        if error.opt_out and self.recipient_partner_id:
            self.partner_id._payment_reminder_set_opt_out(self.channel, reason)
        fallback = self._fallback()
        if fallback:
            fallback._dispatch()

    def _fallback(self):
        """Queue the next channel after a permanent failure: the level's next
        one, or e-mail for the messages of a payment plan."""
        self.ensure_one()
        tried = set(self._get_chain().mapped("channel"))
        if self.plan_id:
            channels = [] if "email" in tried else ["email"]
        elif self.trigger != "cron" or not self.level_id or self.level_id.channel_strategy != "fallback":
            return self.browse()
        else:
            channels = [c for c in self.level_id._get_channels() if c not in tried]
        return self.env["account.payment.reminder.run"]._queue_channels(self, channels)

    def _get_chain(self):
        chain = self
        while chain[-1:].parent_id:
            chain |= chain[-1].parent_id
        return chain

    def _log_in_chatter(self):
        """Post the messages, as sent or failed, in the chatter of each invoice
        they cover: one note per invoice, in one batch."""
        bodies = defaultdict(list)
        for message in self:
            body = self.env["ir.qweb"]._render(
                "account_payment_reminder.message_chatter_note", {"message": message}, minimal_qcontext=True
            )
            for move in message.move_ids:
                bodies[move.id].append(Markup(body))
        if bodies:
            self.env["account.move"].browse(bodies)._message_log_batch(
                bodies={move_id: Markup().join(parts) for move_id, parts in bodies.items()}
            )

    # === RECEIPTS AND REPLIES (webhooks) === #

    @api.model
    def _process_receipt(self, gateway, provider_message_id, state, when=None, code=None, reason=None):
        """Apply a delivery receipt. Unknown ids, unknown states, late and
        repeated receipts change nothing. A delivery failure falls back to the
        level's next channel."""
        if not provider_message_id or not state:
            return self.browse()
        domain = [("provider_message_id", "=", provider_message_id)]
        if gateway:
            domain.append(("gateway_id", "=", gateway.id))
        message = self.search(domain, limit=1)
        if not message:
            _logger.info("Payment reminder receipt for unknown message %s ignored", provider_message_id)
            return message
        if state != "failed":
            return message._apply_status(state, when=when)
        provider = gateway.provider if gateway else message.provider
        error = message._get_receipt_error(provider, code, reason)
        text = error.message(message.lang or self.env.lang)
        moved = message._apply_status("failed", when=when, code=error.code, reason=text)
        if moved:
            _logger.warning("Payment reminder %s not delivered: %s", message.id, text)
            if error.opt_out:
                message.partner_id._payment_reminder_set_opt_out(message.channel, text)
            message._log_in_chatter()
            message._fallback()._dispatch()
        return moved

    def _get_receipt_error(self, provider, code, reason):
        if provider == "twilio":
            return TwilioClient.error(code, answer={"message": reason})
        if provider == "whatsapp":
            return WhatsAppCloudClient._error(200, {"error": {"code": _int(code), "message": reason}})
        return ReminderProviderError(reason or _("Not delivered."), code=code)

    @api.model
    def _process_inbound(self, gateway, channel, number, text, reply=None, when=None):
        """An inbound SMS or WhatsApp message: opens WhatsApp's 24-hour window,
        records STOP (and START) and hands other replies to the accountant."""
        when = when or fields.Datetime.now()
        partner = self._find_partner_by_number(number)
        if not partner:
            _logger.info("Inbound %s from an unknown number ignored", channel)
            return partner
        customer = partner.commercial_partner_id
        if channel == "whatsapp":
            customer.payment_reminder_wa_last_inbound = max(when, customer.payment_reminder_wa_last_inbound or when)
        keyword = classify(text)
        if keyword == "stop":
            customer._payment_reminder_set_opt_out(
                channel, _("Replied %(text)s on %(date)s", text=text.strip(), date=fields.Datetime.to_string(when))
            )
        elif keyword == "start" and customer[f"payment_reminder_optout_{channel}"]:
            customer.write({f"payment_reminder_optout_{channel}": False, "payment_reminder_optout_note": False})
            customer._message_log(
                body=_("Opted in again to %(channel)s payment reminders.", channel=channel_label(self.env, channel))
            )
        else:
            customer._payment_reminder_handle_reply(channel, number, text, reply)
        return customer

    @api.model
    def _find_partner_by_number(self, number):
        """The contact a number belongs to: the recipient of our last message to
        it, else a contact with that mobile or phone number."""
        last = self.search([("recipient", "=", number), ("channel", "in", ("sms", "whatsapp"))], limit=1)
        if last:
            return last.recipient_partner_id
        # sudo: webhooks run as public; the number identifies the customer
        return self.env["res.partner"].sudo().search([("phone_sanitized", "=", number)], limit=1)

    # === EFFECTIVENESS === #

    @api.model
    def _cron_update_effectiveness(self, horizon_days=60):
        """Record, for the messages of the last weeks, whether and when the
        invoices they covered were paid: within 3, 7 and 14 days, and how many
        days it took. A rate stays empty until it is known."""
        now = fields.Datetime.now()
        self.flush_model()
        self.env["account.move"].flush_model(["payment_state"])
        self.env.cr.execute(
            """
            SELECT msg.id, msg.sent_at,
                   BOOL_AND(m.payment_state IN ('paid', 'in_payment', 'reversed')) AS all_paid,
                   MAX(pay.paid_on) AS paid_on,
                   NOT EXISTS (
                       SELECT 1
                         FROM account_payment_reminder_message_move_rel r2
                         JOIN account_payment_reminder_message earlier ON earlier.id = r2.message_id
                        WHERE r2.move_id IN (SELECT r3.move_id FROM account_payment_reminder_message_move_rel r3
                                              WHERE r3.message_id = msg.id)
                          AND earlier.id < msg.id
                          AND earlier.state IN ('sent', 'delivered', 'read')
                   ) AS first_reminder
              FROM account_payment_reminder_message msg
              JOIN account_payment_reminder_message_move_rel rel ON rel.message_id = msg.id
              JOIN account_move m ON m.id = rel.move_id
              LEFT JOIN LATERAL (
                   SELECT MAX(apr.max_date) AS paid_on
                     FROM account_move_line line
                     JOIN account_partial_reconcile apr ON apr.debit_move_id = line.id
                    WHERE line.move_id = m.id AND line.display_type = 'payment_term'
                   ) pay ON TRUE
             WHERE msg.state IN ('sent', 'delivered', 'read')
               AND msg.sent_at > %(horizon)s
               AND msg.paid_14d_rate IS NULL
             GROUP BY msg.id, msg.sent_at
            """,
            {"horizon": now - timedelta(days=horizon_days)},
        )
        updates = []
        for message_id, sent_at, all_paid, paid_on, first_reminder in self.env.cr.fetchall():
            age = (now - sent_at).days
            days = max(0, (paid_on - sent_at.date()).days) if all_paid and paid_on else None
            rates = [
                (100.0 if days <= window else 0.0) if days is not None else (0.0 if age > window else None)
                for window in (3, 7, 14)
            ]
            updates.append((first_reminder, paid_on if days is not None else None, days, *rates, message_id))
        if updates:
            # SQL, not write(): an unknown rate must stay NULL, which the ORM would read back as 0.0
            self.env.cr.executemany(
                """
                UPDATE account_payment_reminder_message
                   SET is_first_reminder = %s, paid_date = %s, days_to_pay = %s,
                       paid_3d_rate = %s, paid_7d_rate = %s, paid_14d_rate = %s
                 WHERE id = %s
                """,
                updates,
            )
            self.invalidate_model(
                ["is_first_reminder", "paid_date", "days_to_pay", "paid_3d_rate", "paid_7d_rate", "paid_14d_rate"]
            )

    # === SCHEDULER HOOKS === #

    @api.model
    def _cron_fail_interrupted(self):
        """Messages stuck in 'sending' were interrupted mid-call: they may have
        reached the customer, so they are failed with a reason, never resent."""
        limit = fields.Datetime.subtract(fields.Datetime.now(), minutes=SENDING_TIMEOUT_MINUTES)
        stuck = self.search([("state", "=", "sending"), ("claimed_at", "<", limit)])
        for message in stuck:
            message.write(
                {
                    "state": "failed",
                    "failed_at": fields.Datetime.now(),
                    "failure_code": "interrupted",
                    "failure_reason": _(
                        "Interrupted while sending: it may have reached the customer, so it is not sent again."
                    ),
                }
            )
        stuck._log_in_chatter()
        return stuck


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
