#!/usr/bin/env python3
"""Bring up the demo: a throw-away PostgreSQL cluster, a database with the addon
and its demo data (customers and invoices at every stage, the sandbox gateway),
one scheduler run with a summary of what was sent, then Odoo on localhost.

Usage: python3 scripts/demo.py [--port 8069] [--no-serve] [--queue-job] [--odoo-source SRC] [--offline]
With --queue-job, OCA's queue_job (its 18.0 wheel, unpacked into the work folder) is installed
beside the addon: the scheduler run enqueues the sending as jobs, which queue_job's runner runs
once Odoo serves (Settings > Technical > Queue > Jobs).
Log in as admin / admin. Ctrl-C stops Odoo and removes the cluster and the work folder.
Without an importable Odoo 18.0, the first run sets it up in ~/.cache/account_payment_reminder
(see bootstrap.py); the next runs reuse it.
"""

import argparse
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bootstrap
import odoo_env

DB = "apr_demo"
# payment_demo: the customer's page pays through Odoo's demo provider (nothing is charged)
ADDONS = f"{odoo_env.ADDON},payment_demo"
# the demo's customers speak these: Odoo's own screens are loaded in them too, not only the addon's
LANGUAGES = "fr_FR,es_ES,pt_BR,id_ID"

SUMMARY = r"""
from odoo import fields
# --load-language switched the administrator to its first language and left English inactive: the demo opens in
# English, the others a click away
env["res.lang"]._activate_lang("en_US")
(env.ref("base.user_admin") | env.ref("base.user_root")).write({"lang": "en_US"})
env = env(context=dict(env.context, lang="en_US"))
Run = env["account.payment.reminder.run"]
Message = env["account.payment.reminder.message"]
history = Message.search_count([])
started = fields.Datetime.now()
stats = Run._run_everything()
env.cr.commit()
# the table and its headline count the same rows: every message of this run, fallbacks included
messages = Message.search([("queued_at", ">=", started)], order="partner_id, id")
channels = dict(Message._fields["channel"].selection)
sent = len(messages.filtered(lambda m: m.state in ("sent", "delivered", "read")))
failed = len(messages.filtered(lambda m: m.state == "failed"))
waiting = len(messages) - sent - failed
print()
print("=" * 100)
print(f"Scheduler run: {stats['customers']} customers with open invoices, {len(messages)} messages: "
      f"{sent} sent, {failed} failed" + (f", {waiting} waiting" if waiting else "") + f", in {stats['seconds']}s")
print(f"(and {history} reminders of the last weeks, with receipts and payments, for the reports)")
print("=" * 100)
print(f"{'customer':22} {'level':24} {'channel':9} {'recipient':32} {'lang':6} {'state':8} invoices")
for m in messages:
    print(f"{m.partner_id.name[:22]:22} {(m.level_id.name or m.kind)[:24]:24} {channels[m.channel]:9} "
          f"{(m.recipient or '-')[:32]:32} {(m.lang or '-')[:6]:6} {m.state:8} {m.invoice_names}")
    if m.failure_reason:
        print(f"{'':22}   reason: {m.failure_reason}")
print("-" * 100)
print("Waiting (what the dry run shows, Invoicing > Customers > Reminders: What Would Go Now):")
reasons = dict(env["account.payment.reminder.dry.run.line"]._fields["skip_reason"].selection)
for group in Run._run(send=False)["groups"]:
    if group.skip_reason:
        when = f" until {group.next_time:%Y-%m-%d %H:%M} UTC" if group.next_time else ""
        print(f"  {group.partner.name[:22]:22} {group.level.name[:24]:24} {reasons[group.skip_reason]}{when}")
if "queue.job" in env:
    jobs = env["queue.job"].search([("state", "=", "pending")])
    print("-" * 100)
    print(f"On OCA queue_job: {len(jobs)} sending jobs pending on "
          f"{', '.join(sorted(set(jobs.mapped('channel')))) or '-'}: queue_job's runner sends them once Odoo serves "
          "(Settings > Technical > Queue > Jobs); the waiting messages above go then.")
print("-" * 100)
menu = env.ref("account.menu_finance")
languages = env["res.lang"].search([("code", "!=", "en_US")])
print("Languages: " + ", ".join(f"{lang.name} ('{menu.with_context(lang=lang.code).name}')" for lang in languages))
print("-" * 100)
print("The customers' pages behind these reminders (pay there with the demo provider, any card number):")
for access in env["account.payment.reminder.access"].search([], order="partner_id"):
    print(f"  {access.partner_id.name[:22]:22} {access.url}")
print("=" * 100)
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8069)
    parser.add_argument("--no-serve", action="store_true", help="stop after the summary")
    parser.add_argument(
        "--queue-job", action="store_true", help="send on OCA queue_job (installed beside the addon from its wheel)"
    )
    bootstrap.add_arguments(parser)
    args = parser.parse_args()
    bootstrap.ensure(args, __file__)

    src = odoo_env.find_odoo_src()
    odoo_env.check_odoo_version(src)
    # a termination signal cleans up like Ctrl-C does: the cluster and the work folder go
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGHUP, signal.default_int_handler)
    workdir = Path(tempfile.mkdtemp(prefix="apr-demo-"))
    try:
        with odoo_env.throwaway_cluster() as cluster:
            addons, load, extra_addons = ADDONS, [], []
            if args.queue_job:
                extra_addons = [odoo_env.unpack_oca_addons(["queue_job"], workdir / "oca", args.offline)]
                addons, load = f"{ADDONS},queue_job", ["--load=base,web,queue_job"]

            def odoo(*extra, subcommand=None, **kwargs):
                cmd = odoo_env.odoo_command(
                    src,
                    cluster,
                    workdir,
                    "-d",
                    DB,
                    "--log-level=warn",
                    *extra,
                    subcommand=subcommand,
                    extra_addons=extra_addons,
                )
                return subprocess.run(cmd, check=True, **kwargs)

            print(f"Installing {odoo_env.ADDON} with demo data (about a minute)...", flush=True)
            odoo(
                "-i",
                addons,
                f"--load-language={LANGUAGES}",
                "--stop-after-init",
                "--max-cron-threads=0",
                f"--http-port={args.port}",
            )
            odoo("--no-http", subcommand="shell", input=SUMMARY, text=True)
            note = bootstrap.first_run_note("demo")
            if note:
                print(note, flush=True)
            if args.no_serve:
                return 0
            print(f"\nOdoo is on http://localhost:{args.port} (admin / admin). Ctrl-C to stop.", flush=True)
            odoo(
                f"--http-port={args.port}",
                "--http-interface=127.0.0.1",
                f"--db-filter=^{DB}$",
                "--log-level=info",
                *load,  # queue_job's runner starts with the server, in a thread of its own
            )
    except KeyboardInterrupt:
        print("\nStopped: the demo's database, cluster and work folder are removed.", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(odoo_env.main_guard(main))
