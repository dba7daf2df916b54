#!/usr/bin/env python3
"""How well ``tools/replies.py`` understands customers' replies: runs
``understand`` over ``tests/data/replies_corpus.json`` and prints the share of
kinds right (overall, per kind, per language), of dates right among the
replies that carry one, of amounts right among those that carry one, and the
number of false opt-outs (a reply read as "stop" that did not ask to stop).

Usage: python3 scripts/replies_accuracy.py [--corpus FILE] [-v]
(-v lists the replies it got wrong). Needs only ``dateparser``, not Odoo.
"""

import argparse
import datetime
import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _load_replies():
    """tools/replies.py and tools/keywords.py alone, without importing the
    addon (which needs Odoo)."""
    for name in ("keywords", "replies"):
        spec = importlib.util.spec_from_file_location(f"apr_tools.{name}", ROOT / "tools" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[f"apr_tools.{name}"] = module
        if name == "keywords":
            package = type(sys)("apr_tools")
            package.__path__ = [str(ROOT / "tools")]
            sys.modules["apr_tools"] = package
        spec.loader.exec_module(module)
    return sys.modules["apr_tools.replies"]


def _share(right, total):
    return f"{right}/{total} = {100 * right / total:.1f} %" if total else "n/a"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ROOT / "tests" / "data" / "replies_corpus.json"))
    parser.add_argument("-v", "--verbose", action="store_true", help="list the replies read wrong")
    args = parser.parse_args()
    corpus = json.loads(Path(args.corpus).read_text())
    replies = _load_replies()
    figures = replies.evaluate(corpus["replies"], datetime.date.fromisoformat(corpus["today"]))
    print(f"corpus: {len(corpus['replies'])} replies, today = {corpus['today']}")
    print(f"kind:    {_share(*figures['kind'])}")
    for kind in replies.KINDS:
        if kind in figures["by_kind"]:
            print(f"  {kind:8} {_share(*figures['by_kind'][kind])}")
    print("per language (kind):")
    for lang, counts in sorted(figures["by_lang"].items()):
        print(f"  {lang:8} {_share(*counts)}")
    print("per set (kind):")
    for name, counts in sorted(figures["by_set"].items()):
        print(f"  {name:8} {_share(*counts)}")
    print(f"dates:   {_share(*figures['date'])} (of the replies that carry one)")
    print(f"amounts: {_share(*figures['amount'])} (of the replies that carry one)")
    print(f"false opt-outs: {len(figures['false_stops'])}")
    for text in figures["false_stops"]:
        print(f"  ! {text}")
    if args.verbose:
        print("read wrong:")
        for lang, text, kind, date, got in figures["misses"]:
            print(f"  [{lang}] {text!r}: expected {kind} {date}, got {got['kind']} {got['date']} {got['amount']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
