"""Stage 5 of a message's life, fallbacks: after a permanent failure (a
bounce, a number not on WhatsApp, a broken template), the next channel of
the level that can reach the customer, or e-mail for a payment plan. The
fallback is queued here and returned to the dispatch loop that met the
failure (account_payment_reminder_message_dispatch.py), so it goes through
the same gateway limits; a failure that a delivery receipt reports later is
queued by the dispatch cron (``_cron_process_fallbacks``)."""

import logging

from odoo import api, models
from odoo.tools.translate import LazyTranslate

from ..tools.pipeline import ReminderGroup

_lt = LazyTranslate(__name__)

_logger = logging.getLogger(__name__)


class AccountPaymentReminderMessage(models.Model):
    _inherit = "account.payment.reminder.message"

    def _queue_fallbacks(self):
        """The fallbacks of these failed messages, queued; one that cannot be
        queued leaves its message's failure as it is and never stops the
        others."""
        queued = self.browse()
        for message in self:
            try:
                with self.env.cr.savepoint():
                    queued |= message._fallback()
            except Exception:  # noqa: BLE001 - a fallback that cannot be queued leaves the failure as it is
                _logger.exception("Payment reminder %s: the fallback could not be queued", message.id)
        return queued

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
        return self._queue_channels(channels)

    def _get_chain(self):
        chain = self
        while chain[-1:].parent_id:
            chain |= chain[-1].parent_id
        return chain

    def _queue_channels(self, channels):
        """Queue the first of ``channels`` that can reach the customer after
        this message failed for good. Returns the new queued message, if any."""
        self.ensure_one()
        if not channels:
            return self.browse()
        group = ReminderGroup(
            policy=self.policy_id or self.move_ids[:1]._get_payment_reminder_policy(),
            level=self.level_id,
            partner=self.partner_id,
            moves=self.move_ids,
            ref_dates=dict.fromkeys(self.move_ids.ids, None),
            amount=self.amount_due,
            recipient_tz=self.tz or "UTC",
        )
        return self._queue_first_reachable(
            group,
            channels,
            kind=self.kind,
            trigger=self.trigger,
            parent=self,
            plan=self.plan_id,
            plan_line=self.plan_line_id,
            user=self.user_id,
            key=f"fallback:{self.id}:{{channel}}",  # the channel it falls back to
        )

    @api.model
    def _cron_process_fallbacks(self):
        """Queue the fallback of the messages that a delivery receipt failed
        (a webhook never calls a provider); the dispatch cron sends them. A message whose fallback cannot be
        queued keeps the reason and never stops the others."""
        pending = self.search([("fallback_pending", "=", True)], order="id")
        queued = self.browse()
        for message in pending:
            try:
                with self.env.cr.savepoint():
                    queued |= message._fallback()
                    message.fallback_pending = False
            except Exception as error:  # noqa: BLE001 - one broken message never stops the others
                _logger.exception("Payment reminder %s: the fallback could not be queued", message.id)
                message.write(
                    {
                        "fallback_pending": False,
                        **message._prepare_failure_reason_vals(
                            _lt(
                                "%(reason)s (The next channel could not be queued: %(error)s)",
                                reason=message.failure_reason_terms or message.failure_reason or "",
                                error=str(error),
                            )
                        ),
                    }
                )
        return queued
