#!/usr/bin/env python3
"""Run every check of the addon: ruff, pylint-odoo's mandatory checks, then the
Odoo tests (unit, HTTP and browser tours) on a fresh database in a throw-away
PostgreSQL cluster: once installed with the addon's demo data (as OCA's CI and
Odoo's runbot install it), once without.

Usage: python3 scripts/run_tests.py [--skip-lint] [--keep] [--test-tags TAGS] [--demo both|with|without]
The last line is ``N passed, N failed``; the exit code is non-zero on any failure.
"""

import argparse
import importlib.util
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import odoo_env  # noqa: E402

RESULT_RE = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests when loading database")


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


def run_odoo_tests(args, demo=True):
    src = odoo_env.find_odoo_src()
    odoo_env.check_odoo_version(src)
    workdir = Path(tempfile.mkdtemp(prefix="apr-test-"))
    log_path = workdir / "odoo-test.log"
    tags = args.test_tags or f"/{odoo_env.ADDON}"
    started = time.monotonic()
    try:
        with odoo_env.throwaway_cluster() as cluster:
            cmd = odoo_env.odoo_command(
                src,
                cluster,
                workdir,
                "-d",
                "apr_test",
                "-i",
                # the addon and its declared dependencies only, as OCA's CI and Odoo's runbot install it
                odoo_env.ADDON,
                "--test-enable",
                f"--test-tags={tags}",
                "--stop-after-init",
                "--log-level=test",
                "--max-cron-threads=0",
                "--http-port",
                str(odoo_env._free_port()),
                *([] if demo else ["--without-demo=all"]),
            )
            print(
                "$ odoo-bin -i",
                odoo_env.ADDON,
                "--test-enable",
                f"--test-tags={tags}",
                "(with demo data)" if demo else "--without-demo=all",
                flush=True,
            )
            with (
                open(log_path, "w") as log,
                subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc,
            ):
                for line in proc.stdout:
                    log.write(line)
                    if args.verbose or re.search(r" (ERROR|CRITICAL|WARNING) |FAIL|tour succeeded|Ran \d+ tests", line):
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
        if "websocket-client" in text and "tour" in text and "skip" in text.lower():
            print("error: browser tours were skipped (pip install websocket-client)", file=sys.stderr)
            broken += 1
        print(f"Odoo tests finished in {elapsed:.0f}s; log: {log_path}")
        if returncode and not broken:
            print(f"error: odoo-bin exited with {returncode}", file=sys.stderr)
            broken = 1
        return total - failed - errors, broken
    finally:
        if not args.keep and log_path.exists():
            shutil.copy(log_path, Path(tempfile.gettempdir()) / "apr-last-test.log")
            shutil.rmtree(workdir, ignore_errors=True)


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
    args = parser.parse_args()

    lint_failures = 0 if args.skip_lint else lint()
    passed, failed = 0, lint_failures
    for demo in {"both": (True, False), "with": (True,), "without": (False,)}[args.demo]:
        try:
            result = run_odoo_tests(args, demo=demo)
        except odoo_env.SetupError as error:
            print(f"error: {error}", file=sys.stderr)
            result = None
        if result is None:
            print(f"{passed} passed, {failed + 1} failed")
            return 1
        passed, failed = passed + result[0], failed + result[1]
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
