"""The queue_job mode: the same ledger in a database where OCA's ``queue_job`` is
installed beside the addon. The scheduler decides and enqueues the sending as
``queue.job`` rows on channels under ``root.payment_reminder`` (the bridge of
issue 21); then 1, then 2 job workers run those jobs, each worker an Odoo process
of its own with its own cursor, and customers reminded per second are timed.

A worker does what queue_job's ``/queue_job/runjob`` controller does with a job
(``RunJobController._try_perform_job``): take a ready job (pending, ``eta`` past)
under ``FOR UPDATE SKIP LOCKED``, mark it started and commit, ``perform()``, mark
it done and commit; a ``RetryableJobError`` postpones it by its delay, another
error marks it failed. It stands in for queue_job's job runner, which would
dispatch the same jobs over HTTP to Odoo's workers (``--workers``,
``server_wide_modules=web,queue_job``): channel capacities are not applied here.

Each worker waits for a go signal (a file) after Odoo has loaded, so that the
time measured is the work, not Odoo's start-up.
"""

import time
import traceback
from pathlib import Path

from .probes import QueryCounter

CHANNEL = "root.payment_reminder"
READY_MARK = "@@READY@@"
CHANNEL_SQL = "(channel = %(channel)s OR channel LIKE %(channel)s || '.%%')"
WAIT_LIMIT = 600  # seconds a worker waits for a postponed job before it gives up


def _jobs_by_state(cr, after_id=0):
    cr.execute(
        f"SELECT state, COUNT(*) FROM queue_job WHERE id > %(after)s AND {CHANNEL_SQL} GROUP BY 1",
        {"after": after_id, "channel": CHANNEL},
    )
    return dict(cr.fetchall())


def _reminded(cr):
    """(customers reminded, messages sent): the messages the sandbox took."""
    cr.execute(
        """
        SELECT COUNT(DISTINCT partner_id), COUNT(*) FROM account_payment_reminder_message
         WHERE state IN ('sent', 'delivered', 'read')
        """
    )
    return cr.fetchone()


def phase_enqueue(env, params):
    """One scheduler run as the cron makes it; the jobs it created on our channels."""
    cr = env.cr
    if "queue.job" not in env:
        return {"jobs": 0, "seconds": 0, "queries": 0, "channels": [], "note": "queue_job is not installed"}
    cr.execute("SELECT COALESCE(MAX(id), 0) FROM queue_job")
    last_job = cr.fetchone()[0]
    with QueryCounter() as queries:
        started = time.perf_counter()
        stats = env["account.payment.reminder.run"]._run(send=True)
        seconds = time.perf_counter() - started
    cr.commit()
    cr.execute(
        f"SELECT channel, COUNT(*) FROM queue_job WHERE id > %(after)s AND {CHANNEL_SQL} GROUP BY 1 ORDER BY 1",
        {"after": last_job, "channel": CHANNEL},
    )
    channels = dict(cr.fetchall())
    reminded, sent = _reminded(cr)
    note = ""
    if not channels:
        note = (
            f"no job on {CHANNEL}*: the scheduler sent {sent} messages to {reminded} customers in its own"
            " process (the queue_job bridge is not there, or did not enqueue)"
        )
    return {
        "jobs": sum(channels.values()),
        "channels": [f"{channel} {count}" for channel, count in channels.items()],
        "first_job_id": last_job,
        "seconds": round(seconds, 2),
        "queries": queries.count,
        "sent_by_scheduler": sent,
        "stats": {key: value for key, value in stats.items() if isinstance(value, int | float)},
        "note": note,
    }


def _claim(cr):
    """The uuid of a ready job of our channels, locked; None when there is none now."""
    cr.execute(
        f"""
        SELECT uuid FROM queue_job
         WHERE state IN ('pending', 'enqueued') AND {CHANNEL_SQL}
           AND (eta IS NULL OR eta <= (now() AT TIME ZONE 'UTC'))
         ORDER BY priority, date_created, id
         LIMIT 1 FOR UPDATE SKIP LOCKED
        """,
        {"channel": CHANNEL},
    )
    row = cr.fetchone()
    return row and row[0]


def _perform(env, uuid):
    """Run one job as queue_job's runjob controller does; returns its outcome."""
    from odoo.addons.queue_job.exception import RetryableJobError
    from odoo.addons.queue_job.job import Job

    cr = env.cr
    job = Job.load(env, uuid)
    job.set_started()
    job.store()
    cr.commit()  # the job is seen as started by the other workers (the benchmark's own transaction)
    try:
        job.perform()
        env.flush_all()
        job.set_done()
        job.store()
        env.flush_all()
        cr.commit()  # as queue_job's controller commits a job done
        job.enqueue_waiting()
        cr.commit()  # the jobs that waited on this one become pending
        return "done"
    except RetryableJobError as error:
        cr.rollback()
        env.invalidate_all()
        job.postpone(result=str(error), seconds=error.seconds)
        job.set_pending(reset_retry=False)
        job.store()
        cr.commit()  # postponed, as queue_job's controller does
        return "postponed"
    except Exception as error:  # noqa: BLE001 - a failed job is counted and the worker goes on, as the runner does
        cr.rollback()
        env.invalidate_all()
        job.set_failed(exc_info=traceback.format_exc(), exc_name=type(error).__name__, exc_message=str(error))
        job.store()
        cr.commit()  # the failure recorded, as queue_job's controller does
        print(f"job {uuid} failed: {error!r}", flush=True)
        return "failed"


def phase_work(env, params):
    """One job worker: waits for the go file, then runs ready jobs until none is left."""
    cr = env.cr
    print(READY_MARK, flush=True)
    go = Path(params["go_file"])
    deadline = time.monotonic() + 120
    while not go.exists():
        if time.monotonic() > deadline:
            raise RuntimeError("no go signal in 120 s")
        time.sleep(0.01)
    outcomes = {"done": 0, "postponed": 0, "failed": 0}
    with QueryCounter() as queries:
        started = time.time()
        waited_since = None
        while True:
            uuid = _claim(cr)
            if uuid:
                waited_since = None
                outcomes[_perform(env, uuid)] += 1
                continue
            left = _jobs_by_state(cr)
            cr.commit()  # end the read, so that the next look sees the other worker's commits
            if not any(left.get(state) for state in ("pending", "enqueued", "started", "wait_dependencies")):
                break
            waited_since = waited_since or time.monotonic()
            if time.monotonic() - waited_since > WAIT_LIMIT:
                print(f"worker gives up waiting for {left}", flush=True)
                break
            time.sleep(0.05)  # the other worker runs the last jobs, or a postponed job waits for its eta
        ended = time.time()
    return {"started": started, "ended": ended, "queries": queries.count, **outcomes}


def phase_count(env, params):
    """After the workers: the jobs by state, and who heard from us."""
    reminded, sent = _reminded(env.cr)
    return {"jobs_by_state": _jobs_by_state(env.cr), "customers_reminded": reminded, "messages_sent": sent}


# ---------------------------------------------------------------------------
# Outside Odoo


def run(bench, args, workdir):
    """Install queue_job beside the addon in a database of its own, build the same
    ledger, then for 1 and 2 workers: a copy of that database, the scheduler run,
    the jobs. Returns the results for report.queue_rows."""
    import odoo_env

    folder = odoo_env.unpack_oca_addons(["queue_job"], Path(workdir) / "oca-addons", args.offline)
    base = bench.using("apr_bench_queue", extra_addons=[folder])
    result = {"install": base.install(f"{odoo_env.ADDON},queue_job"), "runs": []}
    base.phase("build", customers=args.customers, invoices=args.invoices)
    for workers in (1, 2):
        copy = base.copy(f"apr_bench_queue_{workers}")
        enqueue = copy.phase("queue_enqueue")
        if not enqueue["jobs"]:
            print(f"queue_job mode: {enqueue['note']}", flush=True)
            result["runs"].append({"workers": workers, "enqueue": enqueue, "work": None})
            break
        work = copy.parallel("queue_work", workers)
        counted = copy.phase("queue_count")
        work.update(
            seconds=round(max(w["ended"] for w in work["workers"]) - min(w["started"] for w in work["workers"]), 2),
            queries=sum(w["queries"] for w in work["workers"]),
            done=sum(w["done"] for w in work["workers"]),
            failed=sum(w["failed"] for w in work["workers"]),
            postponed=sum(w["postponed"] for w in work["workers"]),
            left=sum(n for state, n in counted["jobs_by_state"].items() if state not in ("done", "failed")),
            customers_reminded=counted["customers_reminded"],
            messages_sent=counted["messages_sent"],
        )
        result["runs"].append({"workers": workers, "enqueue": enqueue, "work": work})
    return result
