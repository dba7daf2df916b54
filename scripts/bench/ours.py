"""Our scheduler on the ledger: the decision alone (``phase_decide``) and one full
``_run(send=True)`` through the sandbox gateway (``phase_send``): time, SQL queries
(in all, by method, and those that repeat with each message), memory after each
batch. Runs inside Odoo; Odoo is imported inside the functions."""

import time
import tracemalloc
from collections import Counter

from .ledger import open_invoice_count
from .probes import BatchProbe, QueryCounter, Sections, profile, rss_mb

# the methods whose time and queries are shown (inclusive of what they call); one missing is skipped
DECISION_SECTIONS = [
    ("account.payment.reminder.run", "_get_candidate_partners"),
    ("account.payment.reminder.run", "_decide"),
    ("account.payment.reminder.run", "_check_rules"),
    ("account.payment.reminder.run", "_get_recent_contacts"),
    ("account.payment.reminder.learner", "_learn"),
    ("account.payment.reminder.routing", "_plan_channels"),
    ("account.payment.reminder.routing", "_get_recipient"),
]
SEND_SECTIONS = [
    ("account.payment.reminder.plan", "_cron_send_plan_reminders"),
    ("account.payment.reminder.run", "_get_candidate_partners"),
    ("account.payment.reminder.run", "_decide"),
    ("account.payment.reminder.run", "_apply"),
    ("account.payment.reminder.message", "_create_messages"),
    ("account.payment.reminder.message", "_mark_invoices"),
    ("account.payment.reminder.message", "_render_contents"),
    ("account.payment.reminder.message", "_dispatch"),
    ("account.payment.reminder.message", "_claim"),
    ("account.payment.reminder.message", "_send_claimed"),
    ("account.payment.reminder.provider.sandbox", "_send"),
    ("account.payment.reminder.message", "_log_in_chatter"),
]


def _scheduler(env):
    """The scheduler model as ``_run`` sets it up."""
    return env["account.payment.reminder.run"].sudo().with_context(tracking_disable=True, mail_notrack=True)


def _decide_all(env, on_batch=None):
    """Candidate partners, then the decision batch after batch, as _run does."""
    from odoo import fields

    Run = _scheduler(env)
    now = fields.Datetime.now()
    partners = Run._get_candidate_partners()
    size = Run._batch_size()
    outcome = Counter()
    batches = 0
    memo = {}  # as _run keeps it across its batches
    for batch in Run._split_batches(partners):
        groups = Run._decide([partner for partner, _count in batch], now, memo=memo)
        batches += 1
        outcome.update(group.skip_reason or "due" for group in groups)
        env.invalidate_all()  # as _run does after each batch
        if on_batch:
            on_batch(batches)
    return {"customers": len(partners), "batches": batches, "batch_size": size, "groups": dict(outcome)}


def phase_decide(env, params):
    """The decision, three times from a cold cache: timed (with its SQL), under
    tracemalloc, and under cProfile when asked."""
    open_invoices, not_on_hold = open_invoice_count(env)
    rss_before = rss_mb()

    env.invalidate_all()
    with QueryCounter() as queries, Sections(env, queries, DECISION_SECTIONS) as sections:
        started = time.perf_counter()
        result = _decide_all(env)
        seconds = time.perf_counter() - started
    rss_after = rss_mb()

    # what reading the bank lines for money on its way costs: the decision with it and without it (every
    # policy's wait at 0), twice each, alternating, the best of each kept
    policies = env["account.payment.reminder.policy"].sudo().search([])
    waits = {policy: policy.on_its_way_days for policy in policies}
    timed = {True: [], False: []}
    held = {}
    for with_money in (False, True, False, True):
        for policy, days in waits.items():
            policy.on_its_way_days = days if with_money else 0
        env.flush_all()
        env.invalidate_all()
        started = time.perf_counter()
        held[with_money] = _decide_all(env)["groups"].get("on_its_way", 0)
        timed[with_money].append(time.perf_counter() - started)

    env.invalidate_all()
    after_batch = []
    tracemalloc.start()
    _decide_all(env, on_batch=lambda _n: after_batch.append(tracemalloc.get_traced_memory()[0]))
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    if params.get("profile"):
        env.invalidate_all()
        print("\n=== cProfile: decision ===")
        profile(lambda: _decide_all(env))

    result.update(
        open_invoices=open_invoices,
        open_not_on_hold=not_on_hold,
        seconds=round(seconds, 3),
        seconds_with_money_on_its_way=round(min(timed[True]), 3),
        seconds_without_money_on_its_way=round(min(timed[False]), 3),
        on_its_way_groups=held[True] - held[False],
        queries=queries.count,
        sql_seconds=round(queries.seconds, 3),
        rss_before_mb=rss_before,
        rss_peak_mb=rss_after,
        sections=sections.result(),
        top_queries=queries.top(),
        traced_peak_mb=round(traced_peak / 2**20, 1),
        traced_first_batch_mb=round(after_batch[0] / 2**20, 1) if after_batch else 0,
        traced_last_batch_mb=round(after_batch[-1] / 2**20, 1) if after_batch else 0,
    )
    return result


def phase_send(env, params):
    """One full run through the sandbox: decide, queue, render, send, log."""
    cr = env.cr
    cr.execute("SELECT COALESCE(MAX(id), 0) FROM mail_message")
    last_message = cr.fetchone()[0]
    cr.execute("SELECT COALESCE(MAX(id), 0) FROM mail_activity")
    last_activity = cr.fetchone()[0]
    rss_before = rss_mb()
    run = env["account.payment.reminder.run"]._run  # as the cron calls it
    if params.get("tracemalloc"):
        tracemalloc.start()
    with QueryCounter() as queries, Sections(env, queries, SEND_SECTIONS) as sections, BatchProbe(env) as probe:
        started = time.perf_counter()
        if params.get("profile"):
            print("\n=== cProfile: _run(send=True) ===")
            stats = profile(lambda: run(send=True))
        else:
            stats = run(send=True)
        seconds = time.perf_counter() - started
    traced_peak = tracemalloc.get_traced_memory()[1] if tracemalloc.is_tracing() else 0
    tracemalloc.stop()
    env.cr.commit()

    cr.execute("SELECT channel, state, COUNT(*) FROM account_payment_reminder_message GROUP BY 1, 2 ORDER BY 1, 2")
    messages = {f"{channel}/{state}": count for channel, state, count in cr.fetchall()}
    cr.execute("SELECT COUNT(*) FROM mail_message WHERE id > %s AND model = 'account.move'", [last_message])
    notes = cr.fetchone()[0]
    cr.execute("SELECT COUNT(*) FROM mail_activity WHERE id > %s", [last_activity])
    activities = cr.fetchone()[0]
    cr.execute("SELECT COUNT(*) FROM account_move WHERE payment_reminder_level_id IS NOT NULL")
    leveled = cr.fetchone()[0]
    # what the customers received: who heard from us, and the invoices the messages sent listed
    cr.execute(
        """
        SELECT COUNT(DISTINCT m.partner_id), COUNT(DISTINCT r.move_id)
          FROM account_payment_reminder_message m
          JOIN account_payment_reminder_message_move_rel r ON r.message_id = m.id
         WHERE m.state IN ('sent', 'delivered', 'read')
        """
    )
    reminded, covered = cr.fetchone()
    stats.pop("groups", None)
    return {
        "stats": {key: value for key, value in stats.items() if isinstance(value, int | float)},
        "customers_reminded": reminded,
        "invoices_covered": covered,
        "seconds": round(seconds, 2),
        "queries": queries.count,
        "sql_seconds": round(queries.seconds, 2),
        "sections": sections.result(),
        "top_queries": queries.top(),
        # the SQL that repeats with each message: where the queries per message come from
        "per_message": queries.per_unit(stats.get("sent", 0)),
        "messages": messages,
        "chatter_notes": notes,
        "activities": activities,
        "invoices_with_level": leveled,
        "rss_before_mb": rss_before,
        "rss_peak_mb": rss_mb(),
        "traced_peak_mb": round(traced_peak / 2**20, 1) if traced_peak else None,
        "rss_by_batch_mb": probe.rss,
        "traced_by_batch_mb": [round(value / 2**20, 1) for value in probe.traced],
        "traced_growth": probe.growth(),
    }
