"""The scheduled run of the ladder: which invoices are due for which level,
for whom, on which channel (account_payment_reminder_run_decision.py); the
messages it decides are handed to the message model, which queues and sends
them (account_payment_reminder_message_*.py, one file per stage).

The decision is made set-wise, a batch of customers at a time: one SQL query
finds the open invoices of the batch with their policy and reference due date,
the levels are matched in Python against each customer's local date, and the
rules (threshold, minimum interval, contact budget, send window, channels) are
checked per group of invoices. Nothing here loads every invoice at once.
"""

import logging
import time
from collections import defaultdict
from contextlib import contextmanager

from psycopg2 import errors as pg_errors

from odoo import api, fields, models

from ..tools.pipeline import Outgoing

_logger = logging.getLogger(__name__)

BATCH_CUSTOMERS = 500
BATCH_INVOICES = 5000  # a batch closes at whichever limit comes first
CRON_TIME_BUDGET = 240  # seconds per cron call; the runner calls again while work remains
RUN_LOCK_KEY = 0x5041595245  # PostgreSQL advisory lock held by the run that sends ("PAYRE")


class AccountPaymentReminderRun(models.AbstractModel):
    _name = "account.payment.reminder.run"
    _description = "Payment Reminder Run"

    # === ENTRY POINT === #

    @api.model
    def _run(self, send=True, partner_ids=None):
        """Decide and send what is due now. Returns counters for the summary.

        :param send: False makes a dry run: the decisions are returned under
            ``"groups"`` and nothing is written
        :param partner_ids: restrict to these commercial partners
        """
        if not send:
            return self._run_locked(send, partner_ids)
        with self._run_lock() as acquired:
            if not acquired:
                _logger.info("Payment reminders: another run is sending; this one leaves the work to it")
                return defaultdict(int, busy=True, groups=[])
            return self._run_locked(send, partner_ids)

    @api.model
    def _run_everything(self, partner_ids=None):
        """Every scheduled entry of data/ir_cron_data.xml once, in the order a
        cron runner would reach them: the messages' queue (interrupted sends,
        fallbacks, retries), payment plans, promises, effectiveness, then the
        ladder. Not a cron: for the demo and the tests, which want one
        moment's whole work. Returns the ladder's counters with ``retried``
        and ``plan_messages``."""
        Message = self.env["account.payment.reminder.message"]
        retried = Message._cron_dispatch()
        plan_messages = Message
        if not partner_ids:
            plan_messages = self.env["account.payment.reminder.plan"]._cron_send_plan_reminders()
            self.env["account.payment.reminder.promise"]._cron_check_promises()
            Message._cron_effectiveness()
        stats = self._run(partner_ids=partner_ids)
        stats.update(retried=len(retried), plan_messages=len(plan_messages))
        return stats

    @contextmanager
    def _run_lock(self):
        """One sending run at a time, across workers and machines: a
        transaction-level advisory lock taken on a cursor of its own, so that
        it lasts across the run's commits and ends with that cursor, whatever
        happens to the run (a crash, a killed worker). Yields whether it was
        taken; a second run does not wait for it."""
        with self.env.registry.cursor() as lock_cr:
            lock_cr.execute("SELECT pg_try_advisory_xact_lock(%s)", [RUN_LOCK_KEY])
            yield lock_cr.fetchone()[0]

    def _run_locked(self, send, partner_ids):
        # sudo: the scheduler works across companies and writes the history, which users only read.
        self = self.sudo().with_context(tracking_disable=True, mail_notrack=True)
        Message = self.env["account.payment.reminder.message"]
        cron = self.env.ref("account_payment_reminder.ir_cron_send_reminders", raise_if_not_found=False)
        in_cron = bool(self.env.context.get("ir_cron_progress_id"))
        auto_commit = send and self.env["account.move"]._can_commit()
        now = fields.Datetime.now()
        stats = defaultdict(int)
        stats["groups"] = []
        started = time.monotonic()

        wake_up = []
        memo = {}  # what the decision reads once per run, not once per batch
        partners = self._get_candidate_partners(partner_ids)
        total, done = len(partners), 0
        for batch in self._split_batches(partners):
            batch = [partner_id for partner_id, _count in batch]
            groups, messages = self._decide_and_queue_safely(batch, now, send, stats, memo=memo)
            stats["customers"] += len(batch)
            for group in groups:
                stats[f"skipped_{group.skip_reason}" if group.skip_reason else "due"] += 1
                if group.next_time:
                    wake_up.append(group.next_time)
            if not send:
                stats["groups"].extend(groups)
                done += len(batch)
                continue
            stats["queued"] += len(messages)
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit  # the queued rows are durable before any provider is called
            if Message._use_queue_job():
                stats["jobs"] += len(messages._enqueue_dispatch())
            else:
                sent = messages._dispatch(commit=auto_commit)
                stats["sent"] += len(sent.filtered(lambda m: m.state in ("sent", "delivered", "read")))
            done += len(batch)
            self.env["ir.cron"]._notify_progress(done=done, remaining=total - done)
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit  # one batch, one transaction
            self.env.invalidate_all(flush=True)  # memory stays flat, however many batches
            if in_cron and time.monotonic() - started > CRON_TIME_BUDGET and done < total:
                break  # the cron runner calls us again for the rest
        if send:
            Message._wake_up_for_retries()
            future = [moment for moment in wake_up if moment > now]
            if cron and future:
                cron._trigger(at=min(future))
        stats["failed"] = Message.search_count([("state", "=", "failed"), ("queued_at", ">=", now)])
        stats["seconds"] = round(time.monotonic() - started, 2)
        _logger.info(
            "Payment reminders: %s customers, %s due, %s queued, %s sent in %ss",
            stats["customers"],
            stats["due"],
            stats["queued"],
            stats["sent"],
            stats["seconds"],
        )
        return stats

    def _decide_and_queue(self, partner_ids, now, send, memo=None):
        """The groups of a batch of customers and, when sending, their queued messages."""
        groups = self._decide(partner_ids, now, memo=memo)
        return groups, (self._apply(groups) if send else self.env["account.payment.reminder.message"])

    def _apply(self, groups):
        """Hand the decision over: the messages of the groups that go now,
        queued by the message model (account_payment_reminder_message_queue.py)."""
        return self.env["account.payment.reminder.message"]._queue(
            [
                Outgoing(group, channel, recipient, address, reason)
                for group in groups
                if not group.skip_reason
                for channel, recipient, address, reason in group.planned
            ]
        )

    def _decide_and_queue_safely(self, partner_ids, now, send, stats, memo=None):
        """``_decide_and_queue``, where one customer's problem never stops the
        others: a batch that fails is done again customer by customer, and a
        customer that fails is logged, counted and left for the next run."""
        try:
            with self.env.cr.savepoint():
                return self._decide_and_queue(partner_ids, now, send, memo=memo)
        except Exception:  # noqa: BLE001 - isolate the customer, never stop the run
            if len(partner_ids) == 1:
                _logger.exception("Payment reminders: customer %s could not be processed", partner_ids[0])
                stats["errors"] += 1
                return [], self.env["account.payment.reminder.message"]
            _logger.warning("Payment reminders: a batch failed; processing its customers one by one")
        groups, messages = [], self.env["account.payment.reminder.message"]
        for partner_id in partner_ids:
            customer_groups, customer_messages = self._decide_and_queue_safely(
                [partner_id], now, send, stats, memo=memo
            )
            groups += customer_groups
            messages |= customer_messages
        return groups, messages

    def _housekeep(self, step):
        """A step that rewrites rows a webhook or the page may change at the
        same moment: a concurrent update of the same rows leaves it to the
        next run instead of killing this one."""
        try:
            with self.env.cr.savepoint():
                step()
        except (pg_errors.SerializationFailure, pg_errors.LockNotAvailable, pg_errors.DeadlockDetected) as error:
            _logger.info("Payment reminders: %s left to the next run (%s)", step.__name__, error.pgcode)

    def _batch_size(self):
        return BATCH_CUSTOMERS

    def _split_batches(self, partners):
        """Batches of ``(partner id, open invoices)``: at most the batch size in
        customers and about BATCH_INVOICES invoices, so that memory and
        transactions stay small whatever the ledger looks like."""
        batch, invoices = [], 0
        for partner in partners:
            if batch and (len(batch) >= self._batch_size() or invoices + partner[1] > BATCH_INVOICES):
                yield batch
                batch, invoices = [], 0
            batch.append(partner)
            invoices += partner[1]
        if batch:
            yield batch
