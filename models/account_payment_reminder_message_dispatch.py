"""Stage 3 of a message's life, dispatch: claim, send, retry. A permanent
failure's fallback (stage 5) comes back to the same loop."""

import logging
import time
from collections import deque
from datetime import timedelta
from typing import NamedTuple

from odoo import fields, models
from odoo.tools.translate import LazyTranslate

from ..exceptions import ReminderOptOutError, ReminderPermanentError, ReminderProviderError, ReminderRetryableError
from ..providers.common import OutgoingPayload
from ..tools.schedule import RETRY_MAX_ATTEMPTS, retry_delay

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

CHATTER_CHUNK = 50  # chatter notes are written for this many messages at once
# what sending a claimed message reads of it: its payload (_prepare_outgoing_payload), the checks before the
# provider (_check_sendable), the rate limit's weight, the state and stamps written after (_apply_status, write)
SEND_FIELDS = [
    "gateway_id",
    "channel",
    "recipient",
    "recipient_partner_id",
    "partner_id",
    "company_id",
    "idempotency_key",
    "subject",
    "body",
    "body_html",
    "email_cc",
    "whatsapp_template_id",
    "whatsapp_params",
    "whatsapp_button",
    "segments",
    "kind",
    "attempt_count",
    "state",
    "sent_at",
    "delivered_at",
    "read_at",
    "failed_at",
]


class Claim(NamedTuple):
    """What dispatching a message needs before its provider is called."""

    gateway_id: int
    recipient: str
    rate_limit: float  # messages per second through the gateway, 0 for no limit
    recipient_interval: int  # seconds between two messages to one recipient, 0 for none
    window: tuple  # (inside the send window, when it opens next): see policy._check_send_window
    batch_size: int = 1  # messages the provider takes in one call
    mail: dict = None  # an e-mail's sender, reply-to and headers, read with the batch
    attachment_ids: tuple = ()  # a letter's PDF, an e-mail's documents, read with the batch
    provider: str = ""  # the gateway's provider, "" when there is no gateway or it is disabled


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
        last_call = {}  # gateway id -> (monotonic time of its last call in this loop, its weight)
        due = self.filtered(lambda m: m.state == "queued" and (m.next_attempt_at or now) <= now)
        claims = due._prepare_claims(now)
        # by gateway, so that a provider that takes many messages in one call gets them together
        todo = deque(due.sorted(lambda m: (claims[m.id].gateway_id, m.id)))
        while todo:
            # a commit empties the cache: read these messages again, not the whole batch
            message = todo.popleft().with_prefetch()
            gateway_id, batch_size = claims[message.id].gateway_id, claims[message.id].batch_size
            batch = message._take(now, claims[message.id])
            # a provider that takes many messages in one call gets the next ones of its gateway too
            while batch and len(batch) < batch_size and todo and claims[todo[0].id].gateway_id == gateway_id:
                message = todo.popleft().with_prefetch()
                batch |= message._take(now, claims[message.id])
            if not batch:
                continue  # later, or another run took it
            if commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit  # the claims are durable before the provider call
            batch._fetch_for_sending()
            for message in batch:
                message._respect_rate_limit(last_call, claims[message.id])
            fallbacks = batch._send_claimed(claims)
            sent |= batch
            to_log |= batch.filtered(lambda m: m.state != "queued")
            if len(to_log) >= CHATTER_CHUNK:
                to_log._log_in_chatter()
                to_log = self.browse()
            if commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit  # the provider's answer is durable at once
            for fallback in fallbacks.filtered(lambda m: m.state == "queued"):
                claims[fallback.id] = fallback._prepare_claims(now)[fallback.id]
                todo.append(fallback)
        to_log._log_in_chatter()
        return sent

    def _fetch_for_sending(self):
        """Read, in one query, what sending these messages reads of them (again:
        a commit emptied the cache), and no more: the provider's payload, the
        checks before it and the state written after it. The other columns (a
        message has some seventy) would cost more to read than the sending
        itself; what a rarer path needs is read when it needs it."""
        self.fetch(SEND_FIELDS)

    def _take(self, now, claim):
        """This message, claimed for sending now; empty when it must wait (its
        recipient, its send window) or another run took it."""
        if self._wait_for_recipient(now, claim) or not self._claim(now, claim.window):
            return self.browse()
        return self

    def _prepare_claims(self, now):
        """{message id: Claim}, read at once while the messages are in the
        cache: each commit of the dispatch empties it, and reading a message,
        its gateway and its policy again before each claim costs three
        queries a message. So a gateway disabled while a dispatch loop runs
        stops the messages of the next loop, not of this one."""
        windows, claims, batch_sizes = {}, {}, {}
        emails = self.filtered(lambda m: m.channel == "email")
        urls = emails._get_unsubscribe_urls() if emails else {}
        for message in self:
            gateway = message.gateway_id
            key = (message.trigger, message.policy_id.id, message.tz)
            if key not in windows:
                windows[key] = message._get_claim_window(now)
            if gateway.id not in batch_sizes:
                batch_sizes[gateway.id] = gateway.provider and gateway._get_provider()._get_batch_size() or 1
            claims[message.id] = Claim(
                gateway.id,
                message.recipient,
                gateway.rate_limit,
                gateway.recipient_interval,
                windows[key],
                batch_sizes[gateway.id],
                message._get_mail_values(urls) if message.channel == "email" else None,
                tuple(message.attachment_ids.ids),
                gateway.state != "disabled" and gateway.provider or "",
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
        # "IS TRUE": by its primary key, whatever the planner believes of the state index (before the table's
        # first statistics, a big run's claims each walked every queued message of the batch through it)
        self.env.cr.execute(
            """
            UPDATE account_payment_reminder_message
               SET state = 'sending', attempt_count = COALESCE(attempt_count, 0) + 1, claimed_at = %s
             WHERE id = %s AND (state = 'queued') IS TRUE
            RETURNING id
            """,
            [now, self.id],
        )
        claimed = bool(self.env.cr.fetchone())
        self.invalidate_recordset(["state", "attempt_count", "claimed_at"])
        return claimed

    def _send_claimed(self, claims=None):
        """Call the provider for these claimed messages (of one gateway: one
        call for them all when the provider takes many at once) and record
        each outcome. Returns the fallbacks queued for those that failed for
        good, for the caller's dispatch loop."""
        if len(self) == 1:
            return self._send_one((claims or {}).get(self.id))
        claims = claims or {}
        ready, fallbacks = self.browse(), self.browse()
        for message in self:
            error = message._check_sendable(claims.get(message.id))
            if error:
                fallbacks |= message._handle_failure(error)
            else:
                ready |= message
        if not ready:
            return fallbacks
        gateway = ready.gateway_id.sudo()  # sudo: the provider needs the credentials, which users cannot read
        payloads = [message._prepare_outgoing_payload(claims.get(message.id)) for message in ready]
        try:
            claim = claims.get(ready[0].id)
            provider = gateway._get_provider(claim and claim.provider)
            # a provider error that breaks the transaction stays with these messages
            with provider._transaction_guard():
                results = provider._send_batch(gateway, payloads)
        except Exception as error:  # noqa: BLE001 - one bad call never stops the run
            _logger.exception("Payment reminders %s: unexpected provider error", ready.ids)
            results = [
                ReminderPermanentError(_lt("Unexpected error: %(error)s", error=str(error)), code="internal")
            ] * len(ready)
        for message, result in zip(ready, results, strict=True):
            if isinstance(result, ReminderProviderError):
                fallbacks |= message._handle_failure(result)
            else:
                fallbacks |= message._record_sent(result)
        return fallbacks

    def _check_sendable(self, claim=None):
        """The error that stops this claimed message before its provider, or None.

        :param claim: its ``Claim``, whose gateway was read with the batch
        """
        if not (claim.provider if claim else self.gateway_id and self.gateway_id.state != "disabled"):
            return ReminderPermanentError(_lt("No active gateway for this channel."), code="no_gateway")
        if not self.recipient:
            return ReminderPermanentError(_lt("No address to send to."), code="no_recipient")
        if self.channel == "letter" and not self.attachment_ids:
            return ReminderPermanentError(_lt("The letter has no PDF."), code="no_pdf")
        if self.channel == "email" and not self.body_html:
            return ReminderPermanentError(_lt("The level has no e-mail template."), code="no_template")
        if self.channel != "email" and not (self.body or self.whatsapp_template_id):
            return ReminderPermanentError(_lt("The level has no template for this channel."), code="no_template")
        return None

    def _send_one(self, claim=None):
        """Call the provider for one claimed message and record the outcome.
        Returns the fallback queued when it failed for good."""
        self.ensure_one()
        gateway = self.gateway_id.sudo()  # sudo: the provider needs the credentials, which users cannot read
        try:
            error = self._check_sendable(claim)
            if error:
                raise error
            provider = gateway._get_provider(claim and claim.provider)
            # a provider error that breaks the transaction stays with this message
            with provider._transaction_guard():
                result = provider._send(gateway, self._prepare_outgoing_payload(claim))
        except ReminderProviderError as error:
            return self._handle_failure(error)
        except Exception as error:  # noqa: BLE001 - one bad message never stops the run
            _logger.exception("Payment reminder %s: unexpected provider error", self.id)
            return self._handle_failure(
                ReminderPermanentError(_lt("Unexpected error: %(error)s", error=str(error)), code="internal")
            )
        return self._record_sent(result)

    def _get_mail_values(self, urls=None):
        """An e-mail's sender, reply-to and headers."""
        company_address = self.company_id.email_formatted or ""
        return {
            "email_from": self.email_from or company_address,
            "reply_to": company_address,
            "headers": self._get_email_headers(urls),
        }

    def _prepare_outgoing_payload(self, claim=None):
        """The message as its provider gets it: plain values, read once (no
        provider reads the message itself).

        :param claim: its ``Claim``, whose e-mail values were read with the batch
        """
        self.ensure_one()
        template = self.whatsapp_template_id
        params, button = self._get_whatsapp_values() if template else ((), None)
        values = {}
        if self.channel == "email":
            values = {"body_html": self.body_html or "", **((claim and claim.mail) or self._get_mail_values())}
        if self.channel == "letter":
            values["document_id"] = self._get_link_move().id or None
        return OutgoingPayload(
            message_id=self.id,
            channel=self.channel,
            recipient=self.recipient or "",
            body=self.body or "",
            subject=self.subject or "",
            partner_id=self.recipient_partner_id.id or None,
            idempotency_key=self.idempotency_key or "",
            segments=self.segments or 0,
            whatsapp_template=template.template_name or "",
            whatsapp_lang=template.lang_code or "",
            whatsapp_params=tuple(params),
            whatsapp_button=button or "",
            twilio_content_sid=template.twilio_content_sid or "",
            email_cc=self.email_cc or "",
            attachment_ids=claim.attachment_ids if claim else tuple(self.attachment_ids.ids),
            company_id=self.company_id.id,
            **values,
        )

    def _record_sent(self, result):
        """Record what the provider answered for this message (a dict of
        ``_send``, or of ``_send_batch``)."""
        self.ensure_one()
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
        self._apply_status(result.get("state", "sent"), values=vals)
        _logger.info("Payment reminder %s sent by %s to %s", self.id, self.channel, self.recipient)
        return self.browse()

    def _handle_failure(self, error):
        """Retry a retryable error later (not before the provider's
        ``retry_after``); fail a permanent one and return its fallback,
        queued (stage 5, account_payment_reminder_message_fallback.py)."""
        # the reason is kept untranslated: each reader reads it in its own language (see tools.terms)
        reason = error.terms()
        retryable = isinstance(error, ReminderRetryableError)
        delay = retryable and retry_delay(self.attempt_count)
        if delay and error.retry_after:
            delay = max(delay, timedelta(seconds=error.retry_after))
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
            return self.browse()
        if retryable:
            reason = _lt(
                "%(reason)s Given up after %(attempts)s attempts.",
                reason={**reason, "sentence": True},
                attempts=self.attempt_count,
            )
        vals = self._prepare_failure_reason_vals(reason)
        reason = vals["failure_reason"]
        _logger.warning("Payment reminder %s failed: %s", self.id, reason)
        self.write({"state": "failed", "failed_at": fields.Datetime.now(), "failure_code": error.code, **vals})
        if isinstance(error, ReminderOptOutError) and self.recipient_partner_id:
            self.partner_id._payment_reminder_set_opt_out(self.channel, reason)
        return self._queue_fallbacks()
