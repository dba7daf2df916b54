"""Sending on OCA ``queue_job``, when the database has it.

``queue_job`` is not a dependency of this addon: without it the scheduler
sends itself (``_dispatch``), as it always did. When the module is installed,
the scheduler still decides and queues, then hands the sending over as jobs
of a bounded number of customers each, on the channel
``root.payment_reminder.<provider>``: the job runner spreads them over every
Odoo worker and machine, and an administrator caps each provider's channel
at what the provider allows (``ODOO_QUEUE_JOB_CHANNELS`` or the
``[queue_job]`` section of the configuration; see README.md).

A check of what is installed rather than a bridge module: this repository is
one addon, a bridge would be a second one that every installation would have
to find and keep in step, and the check costs one dictionary lookup. The
jobs only call ``_dispatch``, whose claim (queued -> sending, committed before
the provider is called) keeps its guarantee: a job that runs twice sends
each message once.
"""

import logging
from collections import defaultdict

from odoo import _, api, fields, models
from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__)

_logger = logging.getLogger(__name__)

JOB_CUSTOMERS = 25  # customers per job: small jobs spread well, and a retried job redoes little
JOB_CHANNEL = "root.payment_reminder"


class AccountPaymentReminderMessage(models.Model):
    _inherit = "account.payment.reminder.message"

    @api.model
    def _use_queue_job(self):
        """True when OCA queue_job is installed in this database (its model is
        only in the registry then) and the caller did not ask to send here."""
        return "queue.job" in self.env.registry and not self.env.context.get("payment_reminder_no_job")

    def _dispatch_or_enqueue(self, commit=False):
        """Send these queued messages here, or enqueue them as jobs when
        queue_job is installed. Returns the messages handed to a provider
        here (none when enqueued)."""
        if self._use_queue_job():
            self._enqueue_dispatch()
            return self.browse()
        return self._dispatch(commit=commit)

    def _enqueue_dispatch(self):
        """One job per provider and bounded group of customers, on the
        provider's channel; a job already pending for the same messages is
        not enqueued twice (queue_job's identity key). Returns the jobs."""
        from odoo.addons.queue_job.job import identity_exact  # noqa: PLC0415 - only there when queue_job is

        by_channel = defaultdict(lambda: defaultdict(list))
        for message in self.filtered(lambda m: m.state == "queued"):
            provider = message.gateway_id.provider or "none"
            by_channel[provider][message.partner_id.id].append(message.id)
        jobs = []
        for provider, by_customer in by_channel.items():
            customers = sorted(by_customer)
            for start in range(0, len(customers), JOB_CUSTOMERS):
                ids = [
                    mid for partner_id in customers[start : start + JOB_CUSTOMERS] for mid in by_customer[partner_id]
                ]
                jobs.append(
                    self.browse(ids)
                    .with_delay(
                        channel=f"{JOB_CHANNEL}.{provider}",
                        description=_("Payment reminders: send %(count)s message(s)", count=len(ids)),
                        identity_key=identity_exact,
                    )
                    ._job_dispatch()
                )
        return jobs

    def _job_dispatch(self):
        """What a job does: check again that each customer still owes what
        its message asks (paid, covered by a credit or put on hold since the
        decision: the message is cancelled, nothing goes), then send, with a
        commit around each provider call. A provider's rate limit (Meta
        130429, Twilio 429) puts the message back in the queue with the
        provider's delay; the job is then retried after that delay."""
        # sudo: the job runs as the user who enqueued it (the scheduler); the history is code's to write
        messages = self.sudo().with_context(tracking_disable=True, mail_notrack=True).exists()
        messages = messages.filtered(lambda m: m.state == "queued")
        messages -= messages._cancel_no_longer_owed()
        now = fields.Datetime.now()
        messages._dispatch(commit=self.env["account.move"]._can_commit())
        later = messages.filtered(lambda m: m.state == "queued" and m.next_attempt_at and m.next_attempt_at > now)
        if later:
            seconds = max(1, int((min(later.mapped("next_attempt_at")) - now).total_seconds()))
            from odoo.addons.queue_job.exception import RetryableJobError  # noqa: PLC0415 - as above

            raise RetryableJobError(
                _("%(count)s message(s) were refused for now (rate limit): tried again later.", count=len(later)),
                seconds=seconds,
                ignore_retry=True,
            )
        return _("%(count)s message(s) handled.", count=len(messages))

    def _cancel_no_longer_owed(self):
        """Cancel the reminders whose customer no longer owes what they ask:
        none of their invoices is still open and free of a hold, promise or
        plan, or the customer's credits cover what is left (the decision's
        own query and rule, account_payment_reminder_run_decision.py).
        Returns the cancelled messages."""
        reminders = self.filtered(lambda m: m.kind == "reminder")
        if not reminders:
            return self.browse()
        Run = self.env["account.payment.reminder.run"]
        owed = Run._get_still_owed(reminders.partner_id.ids, reminders.move_ids.ids)
        gone = reminders.filtered(lambda m: not any(owed.get(move_id) for move_id in m.move_ids.ids))
        if gone:
            gone.write(
                {
                    "state": "cancelled",
                    "failure_code": "no_longer_owed",
                    **self._prepare_failure_reason_vals(
                        _lt("Not sent: paid, covered by a credit or put on hold after it was queued.")
                    ),
                }
            )
            _logger.info("Payment reminders: %s queued message(s) no longer owed, cancelled", len(gone))
        return gone
