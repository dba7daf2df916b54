"""Dispatch: claim, send, retry, fall back."""

import logging
import time
from datetime import timedelta
from typing import NamedTuple

from odoo import _, fields, models
from odoo.tools.translate import LazyTranslate

from ..exceptions import ReminderProviderError
from ..tools.schedule import RETRY_MAX_ATTEMPTS, retry_delay

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

CHATTER_CHUNK = 50  # chatter notes are written for this many messages at once


class Claim(NamedTuple):
    """What dispatching a message needs before its provider is called."""

    gateway_id: int
    recipient: str
    rate_limit: float  # messages per second through the gateway, 0 for no limit
    recipient_interval: int  # seconds between two messages to one recipient, 0 for none
    window: tuple  # (inside the send window, when it opens next): see policy._check_send_window


class AccountPaymentReminderMessage(models.Model):
    _inherit = "account.payment.reminder.message"

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
        due = self.filtered(lambda m: m.state == "queued" and (m.next_attempt_at or now) <= now)
        claims = due._prepare_claims(now)
        for message in due:
            claim = claims[message.id]
            # a commit empties the cache: read this message again, not the whole batch
            message = message.with_prefetch()
            if message._wait_for_recipient(now, claim) or not message._claim(now, claim.window):
                continue  # later, or another run took it
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit  # the claim is durable before the provider call
            message._respect_rate_limit(last_call, claim)
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

    def _prepare_claims(self, now):
        """{message id: Claim}, read at once while the messages are in the
        cache: each commit of the dispatch empties it, and reading a message,
        its gateway and its policy again before each claim costs three
        queries a message."""
        windows, claims = {}, {}
        for message in self:
            gateway = message.gateway_id
            key = (message.trigger, message.policy_id.id, message.tz)
            if key not in windows:
                windows[key] = message._get_claim_window(now)
            claims[message.id] = Claim(
                gateway.id, message.recipient, gateway.rate_limit, gateway.recipient_interval, windows[key]
            )
        return claims

    def _wait_for_recipient(self, now, claim):
        """Postpone a message to a recipient the gateway messaged a moment ago
        (WhatsApp refuses bursts to one person). True when postponed."""
        if not (claim.recipient_interval and claim.recipient):
            return False
        previous = self.search(
            [
                ("gateway_id", "=", claim.gateway_id),
                ("recipient", "=", claim.recipient),
                ("sent_at", ">", now - timedelta(seconds=claim.recipient_interval)),
                ("id", "!=", self.id),
            ],
            order="sent_at desc",
            limit=1,
        )
        if previous:
            self.next_attempt_at = previous.sent_at + timedelta(seconds=claim.recipient_interval)
            return True
        return False

    def _respect_rate_limit(self, last_call, claim):
        """Sleep as needed to keep the gateway under its messages per second."""
        if claim.rate_limit > 0:
            previous = last_call.get(claim.gateway_id)
            if previous is not None:
                wait = 1.0 / claim.rate_limit - (time.monotonic() - previous)
                if wait > 0:
                    time.sleep(wait)
            last_call[claim.gateway_id] = time.monotonic()

    def _get_claim_window(self, now):
        """(True, None) when the message may go now, else (False, when the
        customer's send window opens next): the scheduler's messages wait for
        the window, those an accountant sends go at once."""
        self.ensure_one()
        if self.trigger == "cron" and self.policy_id:
            return self.policy_id._check_send_window(now, self.tz)
        return True, None

    def _claim(self, now, window=None):
        """Atomically take a queued message for sending; False if already taken
        or outside the customer's send window (then it waits for the window).

        :param window: what ``_get_claim_window`` says, when the caller has it
        """
        self.ensure_one()
        is_open, opens_at = window or self._get_claim_window(now)
        if not is_open:
            self.next_attempt_at = opens_at or now + timedelta(days=1)
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
            if not self.recipient:
                raise ReminderProviderError(_("No address to send to."), code="no_recipient")
            if self.channel == "email" and not self.body_html:
                raise ReminderProviderError(_("The level has no e-mail template."), code="no_template")
            if self.channel != "email" and not (self.body or self.whatsapp_template_id):
                raise ReminderProviderError(_("The level has no template for this channel."), code="no_template")
            # a provider error that breaks the transaction stays with this message
            with self.env.cr.savepoint():
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
        # the reason is kept untranslated: each reader reads it in its own language (see tools.terms)
        reason = error.terms()
        delay = error.transient and retry_delay(self.attempt_count)
        if delay:
            next_attempt = fields.Datetime.now() + delay
            reason = _lt(
                "%(reason)s It will be tried again in %(minutes)s minutes, at %(time)s UTC "
                "(attempt %(attempt)s of %(attempts)s).",
                reason={**reason, "sentence": True},
                minutes=int(delay.total_seconds() // 60),
                time=next_attempt.strftime("%H:%M"),
                attempt=self.attempt_count + 1,
                attempts=RETRY_MAX_ATTEMPTS + 1,
            )
            vals = self._prepare_failure_reason_vals(reason)
            _logger.info("Payment reminder %s: %s (retry in %s)", self.id, vals["failure_reason"], delay)
            self.write({"state": "queued", "next_attempt_at": next_attempt, "failure_code": error.code, **vals})
            return
        if error.transient:
            reason = _lt(
                "%(reason)s Given up after %(attempts)s attempts.",
                reason={**reason, "sentence": True},
                attempts=self.attempt_count,
            )
        vals = self._prepare_failure_reason_vals(reason)
        reason = vals["failure_reason"]
        _logger.warning("Payment reminder %s failed: %s", self.id, reason)
        self.write({"state": "failed", "failed_at": fields.Datetime.now(), "failure_code": error.code, **vals})
        if error.opt_out and self.recipient_partner_id:
            self.partner_id._payment_reminder_set_opt_out(self.channel, reason)
        self.env["account.payment.reminder.run"]._queue_fallbacks(self)._dispatch()

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
