"""The scheduled run: which invoices are due for which level, for whom, on
which channel, and the queueing and sending of the messages.

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
from dataclasses import dataclass, field
from datetime import datetime

from psycopg2 import errors as pg_errors

from odoo import api, fields, models

_logger = logging.getLogger(__name__)

BATCH_CUSTOMERS = 500
BATCH_INVOICES = 5000  # a batch closes at whichever limit comes first
CRON_TIME_BUDGET = 240  # seconds per cron call; the runner calls again while work remains
RUN_LOCK_KEY = 0x5041595245  # PostgreSQL advisory lock held by the run that sends ("PAYRE")


@dataclass(slots=True)  # thousands per batch: no attribute dict each
class ReminderGroup:
    """What one message covers: a customer's invoices at one level (the most
    urgent one they reached), netted with the customer's credits."""

    policy: object
    level: object
    partner: object  # commercial partner
    moves: object
    ref_dates: dict = field(default_factory=dict)  # move id -> due date the level refers to
    new_levels: dict = field(default_factory=dict)  # move id -> level id it reaches with this message
    amount: float = 0.0  # what is asked, net of credits, in company currency
    amount_credit: float = 0.0  # what the credits netted, in company currency
    statement: dict = None  # what the message lists (see account.payment.reminder.run._make_statement)
    recipient_tz: str = "UTC"
    skip_reason: str = None
    skip_detail: str = None
    next_time: datetime = None
    planned: list = field(default_factory=list)  # [(channel, recipient partner, address or None, reason)]
    contacts: object = None  # who may receive it, in order (see _set_contacts)
    move_partner_ids: list = field(default_factory=list)  # the invoices' contacts, in invoice order


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

        if send:
            Message._cron_fail_interrupted()
            Message._cron_process_fallbacks()  # delivery failures the webhooks left to the scheduler
            self._housekeep(Message._cron_update_effectiveness)
            due = Message.search([("state", "=", "queued"), ("next_attempt_at", "<=", now)], order="id")
            stats["retried"] = len(due._dispatch())

        wake_up = []
        if send and not partner_ids:
            stats["plan_messages"] = len(self._run_plans(now))
            self._check_promises()
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit  # plans and promises before the ladder
        partners = self._get_candidate_partners(partner_ids)
        total, done = len(partners), 0
        for batch in self._split_batches(partners):
            batch = [partner_id for partner_id, _count in batch]
            groups, messages = self._decide_and_queue_safely(batch, now, send, stats)
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
            sent = messages._dispatch()
            stats["sent"] += len(sent.filtered(lambda m: m.state in ("sent", "delivered", "read")))
            done += len(batch)
            self.env["ir.cron"]._notify_progress(done=done, remaining=total - done)
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit  # one batch, one transaction
            self.env.invalidate_all(flush=True)  # memory stays flat, however many batches
            if in_cron and time.monotonic() - started > CRON_TIME_BUDGET and done < total:
                break  # the cron runner calls us again for the rest
        if send:
            retry_at = Message.search([("state", "=", "queued")], order="next_attempt_at", limit=1).next_attempt_at
            wake_up += [retry_at] if retry_at else []
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

    def _decide_and_queue(self, partner_ids, now, send):
        """The groups of a batch of customers and, when sending, their queued messages."""
        groups = self._decide(partner_ids, now)
        return groups, (self._apply(groups) if send else self.env["account.payment.reminder.message"])

    def _decide_and_queue_safely(self, partner_ids, now, send, stats):
        """``_decide_and_queue``, where one customer's problem never stops the
        others: a batch that fails is done again customer by customer, and a
        customer that fails is logged, counted and left for the next run."""
        try:
            with self.env.cr.savepoint():
                return self._decide_and_queue(partner_ids, now, send)
        except Exception:  # noqa: BLE001 - isolate the customer, never stop the run
            if len(partner_ids) == 1:
                _logger.exception("Payment reminders: customer %s could not be processed", partner_ids[0])
                stats["errors"] += 1
                return [], self.env["account.payment.reminder.message"]
            _logger.warning("Payment reminders: a batch failed; processing its customers one by one")
        groups, messages = [], self.env["account.payment.reminder.message"]
        for partner_id in partner_ids:
            customer_groups, customer_messages = self._decide_and_queue_safely([partner_id], now, send, stats)
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

    def _check_promises(self):
        """Close the promises whose date has passed, one at a time: one that
        cannot be closed is logged and the others still are."""
        Promise = self.env["account.payment.reminder.promise"]
        for promise in Promise.search(Promise._get_due_promises_domain()):
            try:
                with self.env.cr.savepoint():
                    promise._check_kept_or_broken()
            except Exception:  # noqa: BLE001 - one broken record never stops the run
                _logger.exception("Promise to pay %s could not be checked", promise.id)

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
