#!/usr/bin/env python3
"""Export the addon's translatable terms to i18n/account_payment_reminder.pot
with Odoo's own exporter, and optionally merge the new template into every
i18n/*.po.

A throw-away PostgreSQL cluster and a fresh database without demo data are
used, so the template only holds the addon's own terms.

Usage: python3 scripts/export_pot.py [--update-po] [--no-export] [--keep]

--update-po  after the export, merge each i18n/*.po with the fresh .pot:
             existing translations are kept, new terms are added untranslated,
             terms that left the source are kept as obsolete (#~) entries.
--no-export  skip Odoo and only merge the .po files with the current .pot.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import odoo_env  # noqa: E402

I18N = odoo_env.ROOT / "i18n"
POT = I18N / f"{odoo_env.ADDON}.pot"
DB = "apr_i18n_export"


def export_pot(keep=False):
    """Install the addon in a fresh database and export its terms to ``POT``."""
    src = odoo_env.find_odoo_src()
    odoo_env.check_odoo_version(src)
    workdir = Path(tempfile.mkdtemp(prefix="apr-i18n-"))
    out = workdir / POT.name
    try:
        with odoo_env.throwaway_cluster() as cluster:

            def odoo(*extra):
                cmd = odoo_env.odoo_command(src, cluster, workdir, "-d", DB, "--log-level=warn", *extra)
                subprocess.run(cmd, check=True)

            print(f"Installing {odoo_env.ADDON} without demo data...", flush=True)
            odoo(
                "-i",
                odoo_env.ADDON,
                "--without-demo=all",
                "--stop-after-init",
                "--max-cron-threads=0",
                f"--http-port={odoo_env._free_port()}",
            )
            print(f"Exporting the terms of {odoo_env.ADDON}...", flush=True)
            odoo(f"--i18n-export={out}", f"--modules={odoo_env.ADDON}")
        if not out.is_file() or "msgid" not in out.read_text(encoding="utf-8"):
            raise odoo_env.SetupError(f"Odoo did not write a template to {out}.")
        I18N.mkdir(exist_ok=True)
        shutil.copyfile(out, POT)
    finally:
        if keep:
            print(f"Work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    count = len(_polib().pofile(str(POT)))
    print(f"Wrote {POT.relative_to(odoo_env.ROOT)} ({count} terms).")


def _polib():
    try:
        import polib  # noqa: PLC0415 - only needed here, Odoo ships it
    except ImportError as exc:
        raise odoo_env.SetupError("polib is not installed (pip install polib); Odoo needs it too.") from exc
    return polib


def update_po_files():
    """Merge every i18n/*.po with ``POT``, keeping the existing translations."""
    polib = _polib()
    if not POT.is_file():
        raise odoo_env.SetupError(f"{POT} does not exist; run this script without --no-export first.")
    pot = polib.pofile(str(POT))
    po_paths = sorted(I18N.glob("*.po"))
    if not po_paths:
        print("No i18n/*.po to update.")
    for path in po_paths:
        po = polib.pofile(str(path))
        before = {entry.msgid for entry in po if not entry.obsolete}
        po.merge(pot)  # like msgmerge: keeps msgstr, adds new terms, obsoletes the gone ones
        po.sort(key=lambda entry: (entry.obsolete, entry.msgid))  # Odoo's order: by msgid
        wanted = {entry.msgid for entry in pot}
        po.metadata["POT-Creation-Date"] = pot.metadata.get("POT-Creation-Date", "")
        po.metadata["Project-Id-Version"] = pot.metadata.get("Project-Id-Version", "")
        po.save(str(path))
        active = [entry for entry in po if not entry.obsolete]
        added = len({entry.msgid for entry in active} - before)
        obsolete = len(before - wanted)
        untranslated = sum(1 for entry in active if not entry.msgstr)
        print(
            f"{path.parent.name}/{path.name}: {len(active)} terms, {added} new, {obsolete} obsolete, "
            f"{untranslated} untranslated, {po.percent_translated()}% translated"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--update-po", action="store_true", help="merge each i18n/*.po with the new .pot")
    parser.add_argument("--no-export", action="store_true", help="do not run Odoo, reuse the current .pot")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    if not args.no_export:
        export_pot(keep=args.keep)
    if args.update_po or args.no_export:
        update_po_files()
    return 0


if __name__ == "__main__":
    sys.exit(odoo_env.main_guard(main))
