"""The learnt hour and channel at scale (``--learner``): the decision timed with the
policies' learning off and on, in turns, first on the ledger as built (no history:
the learner's one query per batch finds nothing), then with a history planted for
every customer (6 messages each, 2 customers in 3 reading them at one hour), which
the learner reads and acts on. Nothing is kept: the history is rolled back. Runs
inside Odoo; Odoo is imported inside the functions."""

import statistics
import time

from .ours import _decide_all
from .probes import QueryCounter

PLANT_HISTORY = """
    INSERT INTO account_payment_reminder_message
           (company_id, partner_id, channel, state, idempotency_key, kind, trigger, tz, queued_at, sent_at,
            read_at, next_attempt_at, reminder_count)
    SELECT p.company_id, p.partner_id, 'whatsapp', CASE WHEN p.partner_id % 3 = 0 THEN 'sent' ELSE 'read' END,
           'bench-history:' || p.partner_id || ':' || d, 'reminder', 'cron', 'Asia/Jakarta',
           NOW() - (d || ' days')::interval, NOW() - (d || ' days')::interval,
           CASE WHEN p.partner_id % 3 = 0 THEN NULL ELSE NOW() - (d || ' days')::interval + interval '10 hours' END,
           NOW() - (d || ' days')::interval, 1
      FROM (SELECT DISTINCT commercial_partner_id AS partner_id, company_id
              FROM account_move WHERE move_type = 'out_invoice') p
     CROSS JOIN generate_series(10, 60, 10) d
"""


def _timed_decision(env, learn):
    env["account.payment.reminder.policy"].sudo().search([]).write({"learn_timing": learn})
    env.flush_all()
    env.invalidate_all()
    with QueryCounter() as queries:
        started = time.perf_counter()
        _decide_all(env)
        seconds = time.perf_counter() - started
    return seconds, queries.count


def phase_learner(env, params):
    result = {}
    for label in ("no_history", "history"):
        if label == "history":
            env.cr.execute(PLANT_HISTORY)
            result["planted"] = env.cr.rowcount
        runs, queries = {"off": [], "on": []}, {}
        for _turn in range(params.get("repeat", 7)):
            for mode in ("off", "on"):
                seconds, queries[mode] = _timed_decision(env, mode == "on")
                runs[mode].append(seconds)
        result[label] = {
            mode: {"median": round(statistics.median(times), 4), "min": round(min(times), 4), "queries": queries[mode]}
            for mode, times in runs.items()
        }
    env.cr.rollback()
    return result
