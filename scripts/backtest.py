#!/usr/bin/env python3
"""Backtest the cash forecast, in a throw-away PostgreSQL cluster.

For a day in the past (``--days-back`` days ago, 91 by default: the 13 weeks
after it are all known), forecasts what will be collected week by week from
only what was known that day (scripts/bench/backtest.py), and compares it
with what was really paid in each of those weeks, beside a naive baseline
(everything paid on its due date): the mean absolute error per week and the
error over the 13 weeks (or as many as have passed) in % of what was paid, per company and currency.

Two ledgers: the benchmark's (scripts/bench/ledger.py, ``--customers`` and
``--invoices``), where ``--history-customers`` customers are first given a
year of invoices paid by their own habit (its invoices are all dated from
today: no history otherwise), and the demo database (the addon installed with
demo data).

Usage: python3 scripts/backtest.py [--customers 2000] [--invoices 20000] [--days-back 91]
           [--skip-bench] [--skip-demo] [--keep]
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import odoo_env  # noqa: E402
from bench.runner import DB, Bench  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--invoices", type=int, default=20000)
    parser.add_argument("--days-back", type=int, default=91, help="how many days ago the forecast is made")
    parser.add_argument(
        "--history-customers", type=int, default=200, help="customers of the ledger given a year of paid invoices"
    )
    parser.add_argument(
        "--demo-days-back",
        type=int,
        default=35,
        help="the same for the demo, whose invoices are dated from the day it is installed (default 35)",
    )
    parser.add_argument("--history-every", type=int, default=40, help="days between two of their invoices")
    parser.add_argument("--skip-bench", action="store_true", help="no benchmark ledger")
    parser.add_argument("--skip-demo", action="store_true", help="no demo database")
    parser.add_argument("--keep", action="store_true", help="keep the cluster and its folder")
    args = parser.parse_args()
    args.profile = args.tracemalloc = False  # what Bench passes to each phase
    return args


def print_table(title, result):
    print(f"\n=== {title}: forecast made on {result['as_of']}, {result['weeks']} weeks compared ===")
    for company, per_currency in result["companies"].items():
        for currency, figures in per_currency.items():
            print(
                f"\n{company} ({currency}): {figures['open_invoices']} invoices open that day,"
                f" {figures['open_amount']:,.2f} still due"
            )
            print(f"{'week':>4} {'paid':>14} {'forecast':>14} {'|error|':>12} {'naive':>14} {'|error|':>12}")
            for week, (paid, ours, naive) in enumerate(
                zip(figures["actual"], figures["forecast"], figures["naive"], strict=True), start=1
            ):
                errors = f"{abs(ours - paid):>12,.2f} {naive:>14,.2f} {abs(naive - paid):>12,.2f}"
                print(f"{week:>4} {paid:>14,.2f} {ours:>14,.2f} {errors}")
            print(
                f" {result['weeks']} weeks: paid {sum(figures['actual']):,.2f};"
                f" forecast {sum(figures['forecast']):,.2f}"
                f" (MAE {figures['mae']:,.2f}/week, total error {figures['total_error_pct']}%);"
                f" naive {sum(figures['naive']):,.2f}"
                f" (MAE {figures['naive_mae']:,.2f}/week, total error {figures['naive_total_error_pct']}%)"
            )
            print(
                f" variant placing what is past its customer's habit in the first week: MAE"
                f" {figures['overdue_now_mae']:,.2f}/week, total error {figures['overdue_now_total_error_pct']}%"
            )


def main():
    args = parse_args()
    src = odoo_env.find_odoo_src()
    odoo_env.check_odoo_version(src)
    workdir = Path(tempfile.mkdtemp(prefix="apr-backtest-"))
    results = {}
    try:
        with odoo_env.throwaway_cluster(keep_dir=workdir / "pg" if args.keep else None) as cluster:
            if not args.skip_bench:
                bench = Bench(src, cluster, workdir, args)
                print(f"Installing {odoo_env.ADDON} (no demo data) and building the benchmark ledger...", flush=True)
                bench.install(odoo_env.ADDON)
                bench.phase("build", customers=args.customers, invoices=args.invoices)
                history = bench.phase("history", customers=args.history_customers, every=args.history_every)
                results["Benchmark ledger"] = bench.phase(
                    "backtest", days_back=args.days_back, history_customers=history["customers"]
                )
            if not args.skip_demo:
                demo = Bench(src, cluster, workdir, args, db=f"{DB}_demo")
                print(f"Installing {odoo_env.ADDON} with demo data...", flush=True)
                demo.install(odoo_env.ADDON, demo=True)
                results["Demo"] = demo.phase("backtest", days_back=args.demo_days_back)
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc} (Odoo's output is above)", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    for title, result in results.items():
        print_table(title, result)
    return 0


if __name__ == "__main__":
    sys.exit(odoo_env.main_guard(main))
