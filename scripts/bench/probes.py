"""What the benchmark measures inside an Odoo process: SQL queries (count, time,
shape), the time and queries spent in named methods, memory after each batch,
and cProfile tables. Plain helpers around Odoo's hooks; no Odoo import here."""

import functools
import resource
import threading
import time
import tracemalloc


def rss_mb():
    """Peak resident memory of this process so far (Linux: ru_maxrss in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def current_rss_mb():
    """Resident memory of this process now (Linux: /proc/self/statm, in pages)."""
    with open("/proc/self/statm") as statm:
        return round(int(statm.read().split()[1]) * resource.getpagesize() / 2**20, 1)


class BatchProbe:
    """Memory after each batch of a scheduler run: current RSS, and traced
    Python memory with the biggest growth between the first and the last
    batch when tracemalloc runs. _run reports progress once per batch."""

    def __init__(self, env):
        self.env = env
        self.rss, self.traced, self.first, self.last = [], [], None, None

    def _probe(self):
        self.rss.append(current_rss_mb())
        if tracemalloc.is_tracing():
            self.traced.append(tracemalloc.get_traced_memory()[0])
            snapshot = tracemalloc.take_snapshot()
            self.first = self.first or snapshot
            self.last = snapshot

    def __enter__(self):
        cls = type(self.env["ir.cron"])
        original = cls._notify_progress
        probe = self

        def _notify_progress(self, *args, **kwargs):
            result = original(self, *args, **kwargs)
            probe._probe()
            return result

        self._restore = (cls, original)
        cls._notify_progress = _notify_progress
        return self

    def __exit__(self, *exc):
        cls, original = self._restore
        cls._notify_progress = original

    def growth(self, top=8):
        """The allocation sites that grew most from the first to the last batch."""
        if not (self.first and self.last) or self.first is self.last:
            return []
        stats = self.last.compare_to(self.first, "lineno")
        return [f"{stat.size_diff / 2**20:+.1f} MB {stat.traceback}" for stat in stats[:top]]


class QueryCounter:
    """Counts the SQL queries of this thread and their time (Odoo's query
    hooks): by shape (the start of the query text) for the slowest, and by
    whole text (placeholders, not values) for those that repeat per message."""

    def __init__(self):
        self.count = 0
        self.seconds = 0.0
        self.shapes = {}
        self.texts = {}

    def _hook(self, cr, query, params, start, delay):
        self.count += 1
        self.seconds += delay
        text = " ".join(str(query).split())
        for figures in (self.shapes.setdefault(text[:90], [0, 0.0]), self.texts.setdefault(text[:400], [0, 0.0])):
            figures[0] += 1
            figures[1] += delay

    def top(self, count=5):
        """The query shapes that took the most time: [[shape, queries, seconds]]."""
        ranked = sorted(self.shapes.items(), key=lambda item: -item[1][1])[:count]
        return [[shape, number, round(seconds, 2)] for shape, (number, seconds) in ranked]

    def per_unit(self, units, share=0.5):
        """The queries run at least ``share`` times per unit (a message sent):
        [[text, queries, queries per unit, seconds]], the most frequent first."""
        if not units:
            return []
        ranked = sorted(self.texts.items(), key=lambda item: -item[1][0])
        return [
            [text, number, round(number / units, 2), round(seconds, 2)]
            for text, (number, seconds) in ranked
            if number >= share * units
        ]

    def __enter__(self):
        thread = threading.current_thread()
        self._saved = getattr(thread, "query_hooks", ())
        thread.query_hooks = (*self._saved, self._hook)
        return self

    def __exit__(self, *exc):
        threading.current_thread().query_hooks = self._saved


class Sections:
    """Calls, time and SQL queries spent in some methods (inclusive of what
    they call), by wrapping them on the registry's classes for one phase, and
    in the cursor's commits. A method missing from this version is skipped."""

    def __init__(self, env, queries, targets):
        self.env, self.queries, self.targets = env, queries, targets
        self.figures = {}
        self._patched = []

    def _wrap(self, label, func):
        figures = self.figures.setdefault(label, [0, 0.0, 0])
        running = []

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if running:  # a nested call (a fallback dispatching) is already counted
                return func(*args, **kwargs)
            running.append(True)
            started, count = time.perf_counter(), self.queries.count
            try:
                return func(*args, **kwargs)
            finally:
                figures[0] += 1
                figures[1] += time.perf_counter() - started
                figures[2] += self.queries.count - count
                running.pop()

        return wrapper

    def __enter__(self):
        for model, method in self.targets:
            if model not in self.env.registry or not hasattr(type(self.env[model]), method):
                continue
            cls = type(self.env[model])
            self._patched.append((cls, method, cls.__dict__.get(method)))
            setattr(cls, method, self._wrap(f"{model.rsplit('.', 1)[-1]}.{method}", getattr(cls, method)))
        cr = self.env.cr
        self._patched.append((cr, "commit", None))
        cr.commit = self._wrap("cursor.commit", cr.commit)
        return self

    def __exit__(self, *exc):
        for owner, method, original in reversed(self._patched):
            if original is None:
                delattr(owner, method)
            else:
                setattr(owner, method, original)

    def result(self):
        return {
            label: [calls, round(seconds, 3), queries]
            for label, (calls, seconds, queries) in self.figures.items()
            if calls
        }


def profile(func, top=25):
    """Run ``func`` under cProfile; print the functions that took the time."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    result = profiler.runcall(func)
    for sort in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(sort).print_stats(top)
        print(f"--- profile, sorted by {sort} ---")
        print("\n".join(line for line in out.getvalue().splitlines() if line.strip()))
    return result
