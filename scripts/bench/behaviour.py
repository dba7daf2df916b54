"""The customers' payment behaviour and the cash forecast on the ledger
(``phase_behaviour``, issue 20):

- the refresh of every customer's behaviour (``_cron_refresh``): time and SQL
  queries;
- the decision (as ``phase_decide``) before the behaviour exists, then as the
  scheduler makes it once the behaviour is in place (its check that today's
  figures are there, then the decision), best of three each from a cold cache;
- the Credit Control overview with its forecast (``get_overview``) as the
  administrator opens it: time and queries, the forecast alone beside it.

Runs inside Odoo; Odoo is imported inside the functions."""

import time

from .ours import _decide_all
from .probes import QueryCounter, profile

TRIES = 3


def _best(env, function):
    """(best seconds of TRIES from a cold cache, queries of the last)."""
    best, queries = None, 0
    for _try in range(TRIES):
        env.invalidate_all()
        with QueryCounter() as counter:
            started = time.perf_counter()
            function()
            seconds = time.perf_counter() - started
        best, queries = min(best or seconds, seconds), counter.count
    return round(best, 3), queries


def phase_behaviour(env, params):
    Behaviour = env["account.payment.reminder.behaviour"]
    env.cr.execute("DELETE FROM account_payment_reminder_behaviour")
    decide_before, decide_before_queries = _best(env, lambda: _decide_all(env))

    env.invalidate_all()
    with QueryCounter() as counter:
        started = time.perf_counter()
        Behaviour._cron_refresh()
        refresh_seconds = time.perf_counter() - started
    env.cr.execute("SELECT COUNT(*) FROM account_payment_reminder_behaviour")
    rows = env.cr.fetchone()[0]
    env.cr.commit()  # the rows are there for the next phases

    def decide_with_behaviour():
        Behaviour._cron_refresh(stale_only=True)  # what _cron_send_reminders adds: nothing to do once a day is done
        _decide_all(env)

    decide_after, decide_after_queries = _best(env, decide_with_behaviour)

    admin = env.ref("base.user_admin")
    Dashboard = env["account.payment.reminder.dashboard"].with_user(admin).with_company(admin.company_id)
    overview_seconds, overview_queries = _best(env, Dashboard.get_overview)

    def forecast_alone():
        owed, _covered = Dashboard._get_owed_rows()
        started = time.perf_counter()
        Dashboard._get_forecast(owed)
        return time.perf_counter() - started

    env.invalidate_all()
    forecast_seconds = min(forecast_alone() for _try in range(TRIES))
    env.invalidate_all()
    if params.get("profile"):
        print("\n=== cProfile: the overview with its forecast ===")
        overview = profile(Dashboard.get_overview, top=40)
    else:
        overview = Dashboard.get_overview()
    return {
        "behaviour_rows": rows,
        "refresh_seconds": round(refresh_seconds, 3),
        "refresh_queries": counter.count,
        "decide_before_seconds": decide_before,
        "decide_before_queries": decide_before_queries,
        "decide_with_behaviour_seconds": decide_after,
        "decide_with_behaviour_queries": decide_after_queries,
        "decide_slowdown_pct": round(100 * (decide_after - decide_before) / decide_before, 1) if decide_before else 0,
        "overview_seconds": overview_seconds,
        "overview_queries": overview_queries,
        "forecast_seconds_in_overview": round(forecast_seconds, 3),
        "forecast_totals": {serie["currency"]: serie["total_display"] for serie in overview["forecast"]},
    }
