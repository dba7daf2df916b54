"""Outside Odoo: each phase of the benchmark runs in its own ``odoo-bin shell``
process (a cold Odoo cache: see ``call``), against a database of the throw-away cluster. The
process imports this package, calls the phase with ``env`` and its parameters,
and prints its result as one JSON line; the load average of the machine before
and after is added beside its timings.
"""

import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import odoo_env

DB = "apr_bench"
RESULT_MARK = "@@BENCHMARK@@ "
SCRIPTS = Path(__file__).resolve().parent.parent

# phase name: (module of this package, function), each called inside Odoo with (env, params)
PHASES = {
    "build": ("ledger", "phase_build"),
    "decide": ("ours", "phase_decide"),
    "send": ("ours", "phase_send"),
    "credit_control": ("peers", "phase_credit_control"),
    "overdue_reminder": ("peers", "phase_overdue_reminder"),
    "queue_enqueue": ("queued", "phase_enqueue"),
    "queue_work": ("queued", "phase_work"),
    "queue_count": ("queued", "phase_count"),
    "backtest": ("backtest", "phase_backtest"),
    "history": ("backtest", "phase_history"),
    "behaviour": ("behaviour", "phase_behaviour"),
    "learner": ("learner", "phase_learner"),
}

SHELL_STUB = """
import json, sys
sys.path.insert(0, {scripts!r})
from bench import runner
result = runner.call({phase!r}, env, json.loads({params!r}))
print(runner.RESULT_MARK + json.dumps(result, default=str), flush=True)
"""


def call(phase, env, params):
    """Inside Odoo: run one phase, ours or OCA's, in a process whose registry is
    ready as a running server's is. Odoo builds the registry's table of field
    triggers once per process, at the first write (0.1 s here), which a cron
    worker did long before its run; the caches of records, templates and
    queries stay cold."""
    env.registry.get_dependent_fields(env["res.partner"]._fields["name"])
    module, function = PHASES[phase]
    return getattr(importlib.import_module(f"bench.{module}"), function)(env, params)


class Bench:
    def __init__(self, src, cluster, workdir, args, db=DB, extra_addons=()):
        self.src, self.cluster, self.workdir, self.args = src, cluster, workdir, args
        self.db, self.extra_addons = db, list(extra_addons)

    def using(self, db, extra_addons=None):
        """The same cluster, another database (and addons folders)."""
        extra = self.extra_addons if extra_addons is None else extra_addons
        return Bench(self.src, self.cluster, self.workdir, self.args, db=db, extra_addons=extra)

    def _admin(self, sql):
        """Run one statement on the cluster's ``postgres`` database, outside a transaction."""
        import psycopg2

        connection = psycopg2.connect(
            host=self.cluster["db_host"], port=self.cluster["db_port"], user=self.cluster["db_user"], dbname="postgres"
        )
        connection.autocommit = True
        try:
            with connection.cursor() as cr:
                cr.execute(sql)
        finally:
            connection.close()

    def copy(self, db):
        """A copy of this database (and its filestore) under another name."""
        self._admin(f'CREATE DATABASE "{db}" TEMPLATE "{self.db}"')
        self._admin("CHECKPOINT")  # the copy's pages on disk now, not during the next measurement
        filestore = Path(self.workdir) / "filestore" / "filestore"
        if (filestore / self.db).is_dir():
            shutil.copytree(filestore / self.db, filestore / db)
        return self.using(db)

    def drop(self):
        """Drop this database and its filestore (a copy measured already)."""
        self._admin(f'DROP DATABASE "{self.db}"')
        shutil.rmtree(Path(self.workdir) / "filestore" / "filestore" / self.db, ignore_errors=True)

    def command(self, *extra, subcommand=None):
        return odoo_env.odoo_command(
            self.src,
            self.cluster,
            self.workdir,
            "-d",
            self.db,
            "--log-level=warn",
            *extra,
            subcommand=subcommand,
            extra_addons=self.extra_addons,
        )

    def install(self, modules, demo=False):
        started = time.monotonic()
        extra = [] if demo else ["--without-demo=all"]
        cmd = self.command("-i", modules, "--stop-after-init", "--max-cron-threads=0", "--no-http", *extra)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        return round(time.monotonic() - started, 1)

    def _start(self, name, params):
        params.update(profile=self.args.profile, tracemalloc=self.args.tracemalloc)
        stub = SHELL_STUB.format(scripts=str(SCRIPTS), phase=name, params=json.dumps(params))
        cmd = self.command("--no-http", "--max-cron-threads=0", subcommand="shell")
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        proc.stdin.write(stub)
        proc.stdin.close()
        return proc

    @staticmethod
    def _finish(name, proc, stop_at=None):
        """Echo the output of ``proc`` until its result (or a line starting with ``stop_at``)."""
        for line in proc.stdout:
            if stop_at and line.startswith(stop_at):
                return None
            if line.startswith(RESULT_MARK):
                result = json.loads(line[len(RESULT_MARK) :])
                break
            sys.stdout.write(line)
        else:
            result = None
        returncode = proc.wait()
        if returncode or result is None:
            raise RuntimeError(f"phase {name} failed (exit code {returncode})")
        return result

    def phase(self, name, **params):
        """Run one phase in its own odoo-bin shell; echo its output; return its result."""
        print(f"--- {name} ({self.db}) ---", flush=True)
        load_before = os.getloadavg()[0]
        result = self._finish(name, self._start(name, params))
        # the machine is shared: the 1-minute load average before and after, to judge the timings by
        result["load"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
        print(json.dumps(result, indent=1), flush=True)
        return result

    def parallel(self, name, count, **params):
        """Run ``count`` processes of one phase at once, started together once each has
        loaded Odoo (a go file); returns {"workers": [their results], "load": ...}."""
        print(f"--- {name} x {count} ({self.db}) ---", flush=True)
        go_file = Path(tempfile.mkdtemp(prefix="go-", dir=self.workdir)) / "go"
        procs = [self._start(name, dict(params, go_file=str(go_file))) for _index in range(count)]
        try:
            for proc in procs:
                self._finish(name, proc, stop_at="@@READY@@")
            load_before = os.getloadavg()[0]
            go_file.touch()
            results = [self._finish(name, proc) for proc in procs]
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        result = {"workers": results, "load": [round(load_before, 2), round(os.getloadavg()[0], 2)]}
        print(json.dumps(result, indent=1), flush=True)
        return result
