"""Dispatch: claim, send, retry, fall back."""

import logging
import time
from datetime import timedelta

from odoo import _, fields, models

from ..exceptions import ReminderProviderError
from ..tools.schedule import RETRY_MAX_ATTEMPTS, retry_delay

_logger = logging.getLogger(__name__)

CHATTER_CHUNK = 50  # chatter notes are written for this many messages at once


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
            is_open, opens_at = policy._check_send_window(now, self.tz)
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
            return
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
