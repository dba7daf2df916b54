import logging

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import formatLang, html2plaintext

from ..exceptions import ReminderProviderError
from ..tools.schedule import in_send_window, next_window_start, retry_delay, to_local
from .account_payment_reminder_level import CHANNELS

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
    channel = fields.Selection(CHANNELS, required=True, readonly=True)
    gateway_id = fields.Many2one("account.payment.reminder.gateway", readonly=True)
    provider = fields.Selection(related="gateway_id.provider", store=True)
    recipient = fields.Char(readonly=True, help="E-mail address or E.164 phone number.")
    lang = fields.Char(readonly=True)
    email_from = fields.Char(readonly=True)
    subject = fields.Char(readonly=True)
    body_html = fields.Html("Rendered E-mail", readonly=True, sanitize=False)
    body = fields.Text("Rendered Text", readonly=True)
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
    attempt_count = fields.Integer(readonly=True)
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
    provider_payload = fields.Text(readonly=True, groups="base.group_no_one")
    mail_id = fields.Many2one("mail.mail", readonly=True)

    _sql_constraints = [
        ("idempotency_key_unique", "UNIQUE(idempotency_key)", "This reminder was already queued."),
    ]

    @api.depends("level_id", "channel", "partner_id")
    def _compute_display_name(self):
        channels = dict(CHANNELS)
        for message in self:
            message.display_name = " - ".join(
                filter(None, [message.partner_id.name, message.level_id.name, channels.get(message.channel)])
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
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "name": _("Invoices"),
            "view_mode": "list,form",
            "domain": [("id", "in", self.move_ids.ids)],
        }

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

    def _render_email(self):
        for template, messages in self.grouped(lambda m: m.level_id.mail_template_id).items():
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
                        "subject": subjects[message.id],
                        "body_html": body_html,
                        "body": html2plaintext(body_html),
                        "email_from": senders[message.id] or False,
                        "lang": langs.get(message.id),
                    }
                )

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
        sent = self.browse()
        for message in self.filtered(lambda m: m.state == "queued" and (m.next_attempt_at or now) <= now):
            if not message._claim(now):
                continue  # another run took it
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit  # the claim must be durable before the provider sees the message
            message._send_one()
            sent |= message
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit  # record the provider's answer before the next call
        return sent

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
            "UPDATE account_payment_reminder_message SET state = 'sending', attempt_count = attempt_count + 1,"
            " claimed_at = %s WHERE id = %s AND state = 'queued' RETURNING id",
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
        self._log_in_chatter()

    def _handle_failure(self, error):
        """Retry a transient error later; fail a permanent one and fall back."""
        delay = error.transient and retry_delay(self.attempt_count)
        if delay:
            _logger.info("Payment reminder %s: %s (retry in %s)", self.id, error.reason, delay)
            self.write(
                {
                    "state": "queued",
                    "next_attempt_at": fields.Datetime.now() + delay,
                    "failure_code": error.code,
                    "failure_reason": _("Retrying: %(reason)s", reason=error.reason),
                }
            )
            return
        _logger.warning("Payment reminder %s failed: %s", self.id, error.reason)
        self.write(
            {
                "state": "failed",
                "failed_at": fields.Datetime.now(),
                "failure_code": error.code,
                "failure_reason": error.reason,
            }
        )
        if error.opt_out and self.recipient_partner_id:
            self.recipient_partner_id.commercial_partner_id._payment_reminder_set_opt_out(self.channel, error.reason)
        self._log_in_chatter()
        fallback = self._fallback()
        if fallback:
            fallback._dispatch()

    def _fallback(self):
        """Queue the next channel of the level after a permanent failure."""
        self.ensure_one()
        if self.trigger != "cron" or not self.level_id or self.level_id.channel_strategy != "fallback":
            return self.browse()
        tried = set((self.parent_id | self)._get_chain().mapped("channel"))
        channels = [c for c in self.level_id._get_channels() if c not in tried]
        return self.env["account.payment.reminder.run"]._queue_channels(self, channels)

    def _get_chain(self):
        chain = self
        while chain[-1:].parent_id:
            chain |= chain[-1].parent_id
        return chain

    def _log_in_chatter(self):
        """Post the message, as sent or failed, in the chatter of each invoice."""
        for message in self:
            body = self.env["ir.qweb"]._render(
                "account_payment_reminder.message_chatter_note", {"message": message}, minimal_qcontext=True
            )
            message.move_ids._message_log_batch(bodies=dict.fromkeys(message.move_ids.ids, Markup(body)))

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
