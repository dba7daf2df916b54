"""Stage 3 of a message's life, dispatch: claim, send, retry. A permanent
failure's fallback (stage 5) comes back to the same loop."""

import logging
import time
from collections import deque
from datetime import timedelta
from typing import NamedTuple

from odoo import _, fields, models

from ..exceptions import ReminderProviderError
from ..tools.schedule import RETRY_MAX_ATTEMPTS, retry_delay

_logger = logging.getLogger(__name__)

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

    def _dispatch(self, commit=False):
        """Send the queued messages in ``self`` whose time has come, and the
        fallbacks of those that fail for good, in this one loop: a fallback
        waits for the same gateway limits as every other message. Returns
        every message that was handed to a provider.

        :param commit: only the scheduler and its jobs commit (never a button,
            a wizard or the customer's page, whose request is one
            transaction): each message is claimed (queued -> sending) and
            committed before its provider is called, and its result is
            committed right after, so a crash can never send it twice; a
            message left in 'sending' by a crash is failed by the next run,
            not resent.
        """
        now = fields.Datetime.now()
        sent = to_log = self.browse()
        last_call = {}  # gateway id -> monotonic time of its last call in this loop
        todo = deque(self.filtered(lambda m: m.state == "queued" and (m.next_attempt_at or now) <= now))
        claims = self.browse([message.id for message in todo])._prepare_claims(now)
        while todo:
            # a commit empties the cache: read this message again, not the whole batch
            message = todo.popleft().with_prefetch()
            claim = claims.get(message.id) or message._prepare_claims(now)[message.id]
            if message._wait_for_recipient(now, claim) or not message._claim(now, claim.window):
                continue  # later, or another run took it
            if commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit  # the claim is durable before the provider call
            message._respect_rate_limit(last_call, claim)
            fallbacks = message._send_one()
            sent |= message
            if message.state != "queued":
                to_log |= message
            if len(to_log) >= CHATTER_CHUNK:
                to_log._log_in_chatter()
                to_log = self.browse()
            if commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit  # the provider's answer is durable at once
            todo.extend(fallbacks.filtered(lambda m: m.state == "queued"))
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
        """Sleep as needed to keep the gateway under its rate: messages a
        second, SMS segments a second for an SMS (a long code sends one
        segment a second, so a three-segment SMS takes three)."""
        if claim.rate_limit > 0:
            previous = last_call.get(claim.gateway_id)
            if previous is not None:
                at, weight = previous
                wait = weight / claim.rate_limit - (time.monotonic() - at)
                if wait > 0:
                    time.sleep(wait)
            weight = (self.segments or 1) if self.channel == "sms" else 1
            last_call[claim.gateway_id] = (time.monotonic(), weight)

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
        """Call the provider for one claimed message and record the outcome.
        Returns the fallback queued when it failed for good, for the caller's
        dispatch loop."""
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
            return self._handle_failure(error)
        except Exception as error:  # noqa: BLE001 - one bad message never stops the run
            _logger.exception("Payment reminder %s: unexpected provider error", self.id)
            return self._handle_failure(
                ReminderProviderError(_("Unexpected error: %(error)s", error=error), code="internal")
            )
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
        return self.browse()

    def _handle_failure(self, error):
        """Retry a transient error later; fail a permanent one and return its
        fallback, queued (stage 5, account_payment_reminder_message_fallback.py)."""
        reason = error.message(self.lang or self.env.lang)
        delay = error.transient and retry_delay(self.attempt_count)
        if delay:
            next_attempt = fields.Datetime.now() + delay
            _logger.info("Payment reminder %s: %s (retry in %s)", self.id, reason, delay)
            self.write(
                {
                    "state": "queued",
                    "next_attempt_at": next_attempt,
                    "failure_code": error.code,
                    "failure_reason": _(
                        "%(reason)s It will be tried again in %(minutes)s minutes, at %(time)s UTC "
                        "(attempt %(attempt)s of %(attempts)s).",
                        reason=reason.rstrip(".") + ".",
                        minutes=int(delay.total_seconds() // 60),
                        time=next_attempt.strftime("%H:%M"),
                        attempt=self.attempt_count + 1,
                        attempts=RETRY_MAX_ATTEMPTS + 1,
                    ),
                }
            )
            return self.browse()
        if error.transient:
            reason = _(
                "%(reason)s Given up after %(attempts)s attempts.",
                reason=reason.rstrip(".") + ".",
                attempts=self.attempt_count,
            )
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
        return self._queue_fallbacks()
