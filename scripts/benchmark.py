#!/usr/bin/env python3
"""Benchmark the scheduler on a large ledger, in a throw-away PostgreSQL cluster.

Builds a database with the addon (no demo data), customers with an e-mail, a
time zone and a mobile number, open customer invoices at every stage of the
default ladder, and open credits (credit notes, unreconciled payments,
payments without journal entry) for a few customers, then measures:

  (a) the decision alone (``_get_candidate_partners`` + ``_decide`` over every
      batch): time, SQL queries, batches, Python memory;
  (b) one full ``_run(send=True)`` through the sandbox gateway (rendering,
      history, chatter notes): messages, customers reminded and invoices
      covered per second, SQL queries per message and those that repeat with
      each message;
  (c) peak memory (ru_maxrss of the Odoo process of each phase, tracemalloc),
      and memory after each batch of the send;
  (d) OCA's peers on the same data: ``account_credit_control``'s credit line
      generation, and ``account_invoice_overdue_reminder``'s wizard driven end
      to end (one step per customer, then Validate, which writes the e-mails).
      From --oca-addons (or $EXTRA_ADDONS) when given, else from their pinned
      18.0 wheels on the package registry (cached; --offline: only the cache);
  (e) with --queue-job: OCA's queue_job installed beside the addon in a database
      of its own with the same ledger; the scheduler enqueues, then 1 and 2 job
      workers run the jobs: customers reminded per second for each.
  (f) the customers' payment behaviour refreshed, the decision before it and
      with it in place, and the Credit Control overview with its cash
      forecast (scripts/bench/behaviour.py) (--behaviour-only: this alone).

Each phase runs in its own Odoo process: a cold Odoo cache, but a registry
ready as a running server's is (its table of field triggers built before
timing, on both sides). The load average of the machine before and after each
phase is printed beside its timings.

The machine is shared: the same work takes up to twice as long from one minute
to the next. So each side is measured --repeat times (default: 3 up to 5,000
invoices, 2 up to 20,000, 1 above), in turns, each send and each pair of OCA
peers on a fresh copy of the same database, and the best of each side is
compared; every run is listed.

With --learner, between (a) and (b): the decision timed with the policies'
learnt hour and channel off and on, in turns, without a history and with one
planted for every customer (rolled back): the learner's cost.

The parts, each readable alone, in scripts/bench/: ledger.py (the data),
ours.py (our decision and run), peers.py (OCA's peers), queued.py (the
queue_job mode), learner.py (--learner), probes.py (what is measured inside
Odoo), runner.py (the odoo-bin processes), report.py (the table of figures).

Usage: python3 scripts/benchmark.py [--customers 2000] [--invoices 20000]
           [--oca-addons PATH] [--no-peers] [--queue-job] [--learner] [--profile] [--tracemalloc]
           [--repeat N] [--keep] [--offline]

The default policy is opened so that everything due goes now: send window all
day, every day, no minimum interval, no weekly contact budget. The shipped
e-mail gateway is disabled; a sandbox gateway (test mode) carries every channel.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import odoo_env  # noqa: E402
from bench import peers, queued  # noqa: E402
from bench.report import Table, behaviour_rows, report  # noqa: E402
from bench.runner import DB, Bench  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=2000, help="customers (default 2,000)")
    parser.add_argument("--invoices", type=int, default=20000, help="customer invoices (default 20,000)")
    parser.add_argument(
        "--oca-addons",
        default=os.environ.get("EXTRA_ADDONS"),
        help="addons folders holding OCA's account_credit_control and account_invoice_overdue_reminder"
        " (default: $EXTRA_ADDONS, else their wheels from the package registry)",
    )
    parser.add_argument(
        "--queue-job",
        action="store_true",
        help="also run the sending on OCA queue_job (its wheel), with one and with two job workers",
    )
    parser.add_argument(
        "--no-peers", action="store_true", help="measure this addon only (no OCA peer installed nor run)"
    )
    parser.add_argument("--profile", action="store_true", help="print cProfile tables of the decision and the send")
    parser.add_argument("--tracemalloc", action="store_true", help="trace Python memory during the send (slower)")
    parser.add_argument("--keep", action="store_true", help="keep the cluster and its folder")
    parser.add_argument("--offline", action="store_true", help="download no wheel; use the cached ones")
    parser.add_argument(
        "--behaviour-only",
        action="store_true",
        help="only the ledger, the decision and the behaviour phase (f): no send, no peers",
    )
    parser.add_argument(
        "--learner",
        action="store_true",
        help="also time the decision with the learnt hour and channel off and on, without and with a history",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        help="measure each side this many times, in turns, on copies of the same database, and compare the"
        " best of each (default: 3 up to 5,000 invoices, 2 up to 20,000, 1 above)",
    )
    args = parser.parse_args()
    if args.customers < 1 or args.invoices < 100:
        parser.error("need at least 1 customer and 100 invoices")
    if args.repeat is None:
        args.repeat = 3 if args.invoices <= 5_000 else 2 if args.invoices <= 20_000 else 1
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main():
    args = parse_args()
    src = odoo_env.find_odoo_src()
    odoo_env.check_odoo_version(src)
    workdir = Path(tempfile.mkdtemp(prefix="apr-bench-"))
    if args.keep:
        workdir.chmod(0o755)  # the cluster inside belongs to the postgres user when run as root
    if args.behaviour_only:
        oca, skipped = {}, {}
    elif args.no_peers:
        oca, skipped = {}, dict.fromkeys(peers.OCA_PHASES.values(), "--no-peers")
    else:
        oca, skipped = peers.locate(args.oca_addons, workdir, args.offline)
    results = {f"{phase}_skipped": why for phase, why in skipped.items()}
    print(f"Odoo {src}; work folder {workdir}", flush=True)
    try:
        with odoo_env.throwaway_cluster(keep_dir=workdir / "pg" if args.keep else None) as cluster:
            bench = Bench(src, cluster, workdir, args)
            print(f"Installing {odoo_env.ADDON} (no demo data)...", flush=True)
            results["install"] = bench.install(odoo_env.ADDON)
            results["build"] = bench.phase("build", customers=args.customers, invoices=args.invoices)
            results["decide"] = best("decide", [bench.phase("decide") for _run in range(args.repeat)])
            results["behaviour"] = bench.phase("behaviour")
            if args.behaviour_only:
                return behaviour_report(args, results)
            if args.learner:
                results["learner"] = bench.phase("learner")
            runs = {"send": [], **{phase: [] for phase in map(peers.OCA_PHASES.get, oca)}}
            for turn in range(args.repeat):
                # each turn on fresh copies of the ledger as the decision left it (the last turn on the ledger)
                last = turn == args.repeat - 1
                ours = bench if last else bench.copy(f"{DB}_ours_{turn}")
                runs["send"].append(ours.phase("send"))
                base = bench if last else bench.copy(f"{DB}_peers_{turn}")
                # each peer installed in turn in the same database: all their folders on the addons path
                peer = base.using(base.db, extra_addons=list(dict.fromkeys(oca.values())))
                for addon, folder in oca.items():
                    phase = peers.OCA_PHASES[addon]
                    print(f"Installing {addon} from {folder}...", flush=True)
                    results.setdefault(f"{phase}_install", peer.install(addon))
                    runs[phase].append(peer.phase(phase))
                if not last:
                    ours.drop()
                    base.drop()
            results.update({phase: best(phase, phase_runs) for phase, phase_runs in runs.items() if phase_runs})
            if args.queue_job:
                try:
                    results["queue_job"] = queued.run(bench, args, workdir)
                except odoo_env.SetupError as error:
                    results["queue_job_skipped"] = str(error)
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc} (Odoo's output is above)", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            pg = workdir / "pg"
            print(
                f"Kept {workdir}: databases in the stopped cluster {pg / 'data'}; start it (as postgres when"
                f" root) with: pg_ctl -D {pg / 'data'} -o \"-k {pg / 'sock'} -c listen_addresses=''\" start",
                flush=True,
            )
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    report(args, results)
    return 0


def best(phase, runs):
    """The fastest of a phase's runs, with the time of every run (``runs``)."""
    fastest = min(runs, key=lambda result: result["seconds"])
    return {**fastest, "runs": [result["seconds"] for result in runs]} if len(runs) > 1 else fastest


def behaviour_report(args, results):
    t = Table()
    t.row("Open invoices / customers", f"{results['decide']['open_invoices']:,} / {results['decide']['customers']:,}")
    behaviour_rows(t, results["behaviour"])
    t.print(f"Behaviour and forecast: {args.customers:,} customers, {args.invoices:,} invoices")
    return 0


if __name__ == "__main__":
    sys.exit(odoo_env.main_guard(main))
