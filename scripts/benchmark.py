#!/usr/bin/env python3
"""Benchmark the scheduler on a large ledger, in a throw-away PostgreSQL cluster.

Builds a database with the addon (no demo data), customers with an e-mail, a
time zone and a mobile number, open customer invoices at every stage of the
default ladder, and open credits (credit notes, unreconciled payments,
payments without journal entry) for a few customers, then measures:

  (a) the decision alone (``_get_candidate_partners`` + ``_decide`` over every
      batch): time, SQL queries, batches, Python memory;
  (b) one full ``_run(send=True)`` through the sandbox gateway (rendering,
      history, chatter notes): messages, customers reminded and invoices
      covered per second;
  (c) peak memory (ru_maxrss of the Odoo process of each phase, tracemalloc),
      and memory after each batch of the send;
  (d) OCA's peers on the same data, when on --oca-addons (or $EXTRA_ADDONS):
      ``account_credit_control``'s credit line generation, and
      ``account_invoice_overdue_reminder``'s wizard driven end to end (one
      step per customer, then Validate, which writes the e-mails).

Each phase runs in its own Odoo process (a cold Odoo cache); the load average
of the machine before and after each phase is printed beside its timings.

Invoices are built fast and honestly: a few hundred template invoices (and the
payments of the paid and partly paid ones) go through the ORM and are posted;
the rest are SQL copies of those templates (moves, lines, reconciliations,
followers) with fresh ids, their own customer and the next numbers of the
journal's sequence.

Usage: python3 scripts/benchmark.py [--customers 2000] [--invoices 20000]
           [--oca-addons PATH] [--profile] [--tracemalloc] [--keep]

The default policy is opened so that everything due goes now: send window all
day, every day, no minimum interval, no weekly contact budget. The shipped
e-mail gateway is disabled; a sandbox gateway (test mode) carries every channel.
"""

import argparse
import functools
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import odoo_env  # noqa: E402

DB = "apr_bench"
# OCA's peers, each run on the same data when on the addons path: the phase that runs it, by addon
OCA_PHASES = {"account_credit_control": "credit_control", "account_invoice_overdue_reminder": "overdue_reminder"}
RESULT_MARK = "@@BENCHMARK@@ "
SEED = 20260101
TEMPLATES_MAX = 300
CREDIT_SHARE = 4  # % of the customers with an open credit (see _create_credits)

TARGET_DECISION_100K = 10.0  # seconds for 100,000 open invoices
TARGET_RATE = 50.0  # reminders per second, end to end
TARGET_VS_CREDIT_CONTROL = 18.0  # the decision, times faster than account_credit_control's credit lines
TARGET_VS_OVERDUE_REMINDER = 10.0  # customers reminded per second, times account_invoice_overdue_reminder's

# (stage, share of the invoices in %, due date range in days from today, what happens next)
STAGES = [
    ("not yet due", 18, (8, 45), None),
    ("courtesy (-3 days)", 10, (1, 3), None),
    ("due today", 6, (0, 0), None),
    ("overdue +7", 15, (-13, -7), None),
    ("overdue +14", 15, (-29, -14), None),
    ("overdue +30", 14, (-90, -30), None),
    ("early discount", 5, None, None),  # 2/7 Net 30 payment term, discount still available
    ("partially paid", 7, (-45, -3), "partial"),
    ("paid", 6, (-40, -1), "paid"),
    ("on hold", 4, (-30, -7), "hold"),
]
TIME_ZONES = [
    "Europe/Brussels",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Africa/Nairobi",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Australia/Sydney",
    "UTC",
]


# ---------------------------------------------------------------------------
# Inside Odoo: each phase runs in its own `odoo-bin shell` process, which loads
# this file and calls one of the functions of PHASES with `env` and the params.
# ---------------------------------------------------------------------------


def _rss_mb():
    """Peak resident memory of this process so far (Linux: ru_maxrss in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _current_rss_mb():
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
        self.rss.append(_current_rss_mb())
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
    hooks), and their time by shape (the start of the query text)."""

    def __init__(self):
        self.count = 0
        self.seconds = 0.0
        self.shapes = {}

    def _hook(self, cr, query, params, start, delay):
        self.count += 1
        self.seconds += delay
        shape = " ".join(str(query)[:300].split())[:90]
        figures = self.shapes.setdefault(shape, [0, 0.0])
        figures[0] += 1
        figures[1] += delay

    def top(self, count=5):
        """The query shapes that took the most time: [[shape, queries, seconds]]."""
        ranked = sorted(self.shapes.items(), key=lambda item: -item[1][1])[:count]
        return [[shape, number, round(seconds, 2)] for shape, (number, seconds) in ranked]

    def __enter__(self):
        thread = threading.current_thread()
        self._saved = getattr(thread, "query_hooks", ())
        thread.query_hooks = (*self._saved, self._hook)
        return self

    def __exit__(self, *exc):
        threading.current_thread().query_hooks = self._saved


DECISION_SECTIONS = [
    ("account.payment.reminder.run", "_get_candidate_partners"),
    ("account.payment.reminder.run", "_decide"),
    ("account.payment.reminder.run", "_check_rules"),
    ("account.payment.reminder.run", "_get_recent_contacts"),
    ("account.payment.reminder.run", "_plan_channels"),
    ("account.payment.reminder.run", "_get_recipient"),
]
SEND_SECTIONS = [
    ("account.payment.reminder.run", "_run_plans"),
    ("account.payment.reminder.run", "_get_candidate_partners"),
    ("account.payment.reminder.run", "_decide"),
    ("account.payment.reminder.run", "_apply"),
    ("account.payment.reminder.run", "_create_messages"),
    ("account.payment.reminder.run", "_mark_invoices"),
    ("account.payment.reminder.message", "_render_contents"),
    ("account.payment.reminder.message", "_dispatch"),
    ("account.payment.reminder.message", "_claim"),
    ("account.payment.reminder.message", "_send_one"),
    ("account.payment.reminder.provider.sandbox", "_send"),
    ("account.payment.reminder.message", "_log_in_chatter"),
]


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


def _profile(func, top=25):
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


def phase_build(env, params):
    """Customers, template invoices through the ORM, SQL copies; the sandbox
    gateway and an always-open policy."""
    from odoo import fields

    rng = random.Random(SEED)
    today = fields.Date.context_today(env.user)
    timings = {}

    started = time.monotonic()
    env.company.write({"email": "billing@example.com", "phone": "+32 2 555 01 01"})
    customers = _create_customers(env, params["customers"])
    timings["customers"] = time.monotonic() - started

    started = time.monotonic()
    template_count = min(TEMPLATES_MAX, params["invoices"])
    units, unit_stage = _create_templates(env, customers, template_count, rng, today)
    timings["templates"] = time.monotonic() - started

    started = time.monotonic()
    copies = params["invoices"] - len(units)
    # every customer gets its share; the stage of each copy is drawn at random
    order = list(range(len(customers)))
    rng.shuffle(order)
    first = len(units) % len(customers)
    assignments = [(rng.randrange(len(units)), customers[order[(first + k) % len(order)]].id) for k in range(copies)]
    env.flush_all()  # the templates' stored computed fields (residual, payment state) are copied from the rows
    _copy_units(env.cr, units, assignments)
    timings["copies"] = time.monotonic() - started

    started = time.monotonic()
    credits = _create_credits(env, rng, today)
    timings["credits"] = time.monotonic() - started

    started = time.monotonic()
    env.invalidate_all()
    _configure(env)
    env.cr.execute("ANALYZE account_move; ANALYZE account_move_line; ANALYZE res_partner")
    checks = _check_data(env)
    env.cr.commit()
    timings["configure+analyze"] = time.monotonic() - started

    per_stage = Counter(unit_stage[unit] for unit in range(len(units)))
    per_stage.update(unit_stage[unit] for unit, _partner in assignments)
    return {
        "customers": len(customers),
        "templates": len(units),
        "copies": copies,
        "per_stage": dict(per_stage),
        "credits": credits,
        "timings": {key: round(value, 2) for key, value in timings.items()},
        "checks": checks,
        "rss_mb": _rss_mb(),
    }


def _create_customers(env, count):
    belgium = env.ref("base.be")
    vals_list = []
    for index in range(count):
        number = f"{(1234567 + index * 7919) % 10**7:07d}"
        if number.endswith("0000"):  # the sandbox treats ...0000 as unreachable
            number = number[:-1] + "1"
        vals_list.append(
            {
                "name": f"Benchmark Customer {index + 1:06d}",
                "is_company": True,
                "email": f"accounts.payable@customer{index + 1}.example.com",
                "mobile": f"+32 47{number[:1]} {number[1:3]} {number[3:5]} {number[5:]}",
                "tz": TIME_ZONES[index % len(TIME_ZONES)],
                "country_id": belgium.id,
                "lang": "en_US",
            }
        )
    customers = env["res.partner"]
    for start in range(0, count, 1000):
        customers |= env["res.partner"].create(vals_list[start : start + 1000])
    return customers


def _create_templates(env, customers, count, rng, today):
    """Template invoices through the ORM, posted; payments reconciled; holds.
    Returns ([[move ids of a unit]...], {unit index: stage})."""
    from odoo import Command

    early_term = env.ref("account.account_payment_term_30days_early_discount", raise_if_not_found=False)
    plan = []  # (stage, due offset or None, amount, fate)
    total_share = sum(share for _stage, share, _days, _fate in STAGES)
    for stage, share, days, fate in STAGES:
        if days is None and not (early_term and early_term.early_discount):
            continue
        for _index in range(max(1, round(count * share / total_share))):
            offset = rng.randint(*days) if days else None
            plan.append((stage, offset, round(rng.uniform(50, 5000), 2), fate))
    vals_list = []
    for index, (_stage, offset, amount, _fate) in enumerate(plan):
        vals = {
            "move_type": "out_invoice",
            "partner_id": customers[index % len(customers)].id,
            "invoice_line_ids": [
                Command.create({"name": "Consulting services", "quantity": 1, "price_unit": amount, "tax_ids": []})
            ],
        }
        if offset is None:  # the 2% discount runs 7 days from the invoice date; the incentive goes 2 days before
            vals.update(invoice_date=today - timedelta(days=rng.randint(5, 7)), invoice_payment_term_id=early_term.id)
        else:
            due = today + timedelta(days=offset)
            vals.update(invoice_date=min(due - timedelta(days=30), today), invoice_date_due=due)
        vals_list.append(vals)
    invoices = env["account.move"].create(vals_list)
    invoices.action_post()

    units = [[invoice.id] for invoice in invoices]
    paying = [(index, invoice) for index, invoice in enumerate(invoices) if plan[index][3] in ("partial", "paid")]
    payments = _create_payments(env, [(invoice, plan[index][3]) for index, invoice in paying], today)
    for (index, invoice), payment in zip(paying, payments, strict=True):
        units[index].append(payment.id)
        receivable = invoice.line_ids.filtered(lambda line: line.display_type == "payment_term")
        (receivable | payment.line_ids.filtered(lambda line: line.credit)).reconcile()
    holds = invoices.browse([invoice.id for index, invoice in enumerate(invoices) if plan[index][3] == "hold"])
    holds.write(
        {
            "payment_reminder_hold_until": today + timedelta(days=20),
            "payment_reminder_hold_reason": "Customer disputes the delivered quantity",
        }
    )
    return units, {index: plan[index][0] for index in range(len(plan))}


def _create_payments(env, invoices_fates, today):
    """One journal entry per paid or partly paid invoice: bank against receivable."""
    from odoo import Command

    misc = env["account.journal"].search([("type", "=", "general")], limit=1)
    bank = env["account.journal"].search([("type", "=", "bank")], limit=1).default_account_id
    vals_list = []
    for invoice, fate in invoices_fates:
        amount = invoice.amount_total if fate == "paid" else round(invoice.amount_total / 2, 2)
        receivable = invoice.line_ids.filtered("date_maturity").account_id
        partner = invoice.commercial_partner_id.id
        vals_list.append(
            {
                "move_type": "entry",
                "journal_id": misc.id,
                "date": min(today, invoice.invoice_date_due + timedelta(days=5)),
                "line_ids": [
                    Command.create({"account_id": bank.id, "partner_id": partner, "debit": amount, "name": "Payment"}),
                    Command.create(
                        {"account_id": receivable.id, "partner_id": partner, "credit": amount, "name": "Payment"}
                    ),
                ],
            }
        )
    payments = env["account.move"].create(vals_list)
    payments.action_post()
    return payments


def _create_credits(env, rng, today):
    """Open credits for a few customers, so that the netting runs: credit notes,
    payments booked on the receivable and not reconciled, and payments Odoo 18
    registered without a journal entry (a bank journal without outstanding
    account). Half of them cover everything the customer has due, the other
    half 40 % of it. Through the ORM, posted; a few hundred at most."""
    from odoo import Command

    env.flush_all()
    env.cr.execute(
        """
        SELECT commercial_partner_id, SUM(payment_reminder_amount_open_signed) FROM account_move
         WHERE move_type = 'out_invoice' AND state = 'posted' AND payment_reminder_amount_open > 0
           AND invoice_date_due <= %s
         GROUP BY 1 ORDER BY 1
        """,
        [today],
    )
    owed = dict(env.cr.fetchall())
    chosen = rng.sample(sorted(owed), max(6, round(len(owed) * CREDIT_SHARE / 100)))
    bank = env["account.journal"].search([("type", "=", "bank")], limit=1)
    unbooked = env["account.journal"].create(
        {"name": "Bank without outstanding account", "type": "bank", "code": "BNKNO"}
    )
    unbooked.inbound_payment_method_line_ids.payment_account_id = False
    receivable = env["res.partner"].browse(chosen[0]).property_account_receivable_id  # the customers share it
    refunds, entries, payments, kinds = [], [], [], Counter()
    for index, partner_id in enumerate(chosen):
        covers = "all" if index % 2 == 0 else "part"
        amount = round(float(owed[partner_id]) * (1.0 if covers == "all" else 0.4), 2)
        kind = ("credit note", "payment booked", "payment without entry")[index // 2 % 3]
        kinds[f"{kind}, covers {covers}"] += 1
        if kind == "credit note":
            refunds.append(
                {
                    "move_type": "out_refund",
                    "partner_id": partner_id,
                    "invoice_date": today - timedelta(days=10),
                    "invoice_line_ids": [
                        Command.create({"name": "Returned goods", "quantity": 1, "price_unit": amount, "tax_ids": []})
                    ],
                }
            )
        elif kind == "payment booked":
            entries.append(
                {
                    "move_type": "entry",
                    "journal_id": bank.id,
                    "date": today - timedelta(days=3),
                    "line_ids": [
                        Command.create(
                            {"account_id": bank.default_account_id.id, "partner_id": partner_id, "debit": amount}
                        ),
                        Command.create({"account_id": receivable.id, "partner_id": partner_id, "credit": amount}),
                    ],
                }
            )
        else:
            payments.append(
                {
                    "payment_type": "inbound",
                    "partner_type": "customer",
                    "partner_id": partner_id,
                    "amount": amount,
                    "journal_id": unbooked.id,
                    "date": today - timedelta(days=3),
                }
            )
    env["account.move"].create(refunds + entries).action_post()
    registered = env["account.payment"].create(payments)
    registered.action_post()
    if registered.move_id:
        raise RuntimeError("the payments of the bank journal without outstanding account have a journal entry")
    return {"customers": len(chosen), **dict(sorted(kinds.items()))}


def _insert_copies(cr, table, source, overrides):
    """INSERT INTO table SELECT <every column of src, or its override> FROM source.
    ``source`` names the copied row ``src``."""
    cr.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
        [table],
    )
    columns = [row[0] for row in cr.fetchall()]
    select = ", ".join(overrides.get(column, f'src."{column}"') for column in columns)
    names = ", ".join(f'"{column}"' for column in columns)
    cr.execute(f"INSERT INTO {table} ({names}) SELECT {select} FROM {source}")
    return cr.rowcount


def _copy_units(cr, units, assignments):
    """Copy template units (an invoice and its payment, if any) in SQL: moves
    with the next numbers of their journal's sequence, lines, partial and full
    reconciliations, matching numbers and followers, for another customer.

    :param units: [[template move ids]], the invoice first
    :param assignments: [(unit index, customer id)], one per copy
    """
    if not assignments:
        return
    cr.execute("CREATE TEMP TABLE bench_unit (unit int, move_id int) ON COMMIT DROP")
    cr.execute_values("INSERT INTO bench_unit VALUES %s", [(u, m) for u, ids in enumerate(units) for m in ids])
    cr.execute("CREATE TEMP TABLE bench_plan (copy int, unit int, partner_id int) ON COMMIT DROP")
    cr.execute_values(
        "INSERT INTO bench_plan VALUES %s", [(k, u, p) for k, (u, p) in enumerate(assignments)], page_size=5000
    )
    # new ids, and names that continue each journal's sequence (prefix, number, same padding)
    cr.execute(
        """
        CREATE TEMP TABLE bench_move ON COMMIT DROP AS
        SELECT numbered.*, prefix || lpad(seq::text, GREATEST(width, length(seq::text)), '0') AS new_name
          FROM (
            SELECT p.copy, m.id AS old_id, m.name AS old_name, nextval('account_move_id_seq') AS new_id,
                   p.partner_id, m.sequence_prefix AS prefix, length(m.name) - length(m.sequence_prefix) AS width,
                   last.number + row_number() OVER (PARTITION BY m.journal_id, m.sequence_prefix
                                                    ORDER BY p.copy, m.id) AS seq
              FROM bench_plan p
              JOIN bench_unit u ON u.unit = p.unit
              JOIN account_move m ON m.id = u.move_id
             CROSS JOIN LATERAL (
                    SELECT MAX(x.sequence_number) AS number FROM account_move x
                     WHERE x.journal_id = m.journal_id AND x.sequence_prefix = m.sequence_prefix
                   ) last
          ) numbered;
        CREATE INDEX ON bench_move (old_id);
        ANALYZE bench_move;
        """
    )
    partner = "CASE WHEN src.{0} IS NULL THEN NULL ELSE b.partner_id END"
    now = "(now() AT TIME ZONE 'UTC')"
    _insert_copies(
        cr,
        "account_move",
        "bench_move b JOIN account_move src ON src.id = b.old_id JOIN res_partner np ON np.id = b.partner_id",
        {
            "id": "b.new_id",
            "name": "b.new_name",
            "sequence_number": "b.seq",
            "partner_id": partner.format("partner_id"),
            "commercial_partner_id": partner.format("commercial_partner_id"),
            "partner_shipping_id": partner.format("partner_shipping_id"),
            "invoice_partner_display_name": "CASE WHEN src.invoice_partner_display_name IS NULL THEN NULL"
            " ELSE np.complete_name END",
            "payment_reference": "CASE WHEN src.payment_reference = src.name THEN b.new_name"
            " ELSE src.payment_reference END",
            "access_token": "NULL",
            "inalterable_hash": "NULL",
            "secure_sequence_number": "NULL",
            "message_main_attachment_id": "NULL",
            "create_date": now,
            "write_date": now,
        },
    )
    cr.execute(
        """
        CREATE TEMP TABLE bench_line ON COMMIT DROP AS
        SELECT b.copy, l.id AS old_id, nextval('account_move_line_id_seq') AS new_id, b.new_id AS new_move_id
          FROM bench_move b JOIN account_move_line l ON l.move_id = b.old_id;
        CREATE INDEX ON bench_line (old_id, copy);
        ANALYZE bench_line;
        """
    )
    _insert_copies(
        cr,
        "account_move_line",
        "bench_line bl JOIN account_move_line src ON src.id = bl.old_id JOIN bench_move b ON b.new_id = bl.new_move_id",
        {
            "id": "bl.new_id",
            "move_id": "bl.new_move_id",
            "move_name": "b.new_name",
            "partner_id": partner.format("partner_id"),
            "name": "CASE WHEN src.name = b.old_name THEN b.new_name ELSE src.name END",
            "full_reconcile_id": "NULL",
            "matching_number": "NULL",
            "create_date": now,
            "write_date": now,
        },
    )
    _copy_reconciliations(cr, now)
    _copy_followers(cr)
    cr.execute(
        """
        UPDATE res_partner p SET customer_rank = c.n
          FROM (SELECT partner_id, COUNT(*) AS n FROM account_move WHERE move_type = 'out_invoice' GROUP BY 1) c
         WHERE p.id = c.partner_id
        """
    )


def _copy_reconciliations(cr, now):
    cr.execute(
        """
        CREATE TEMP TABLE bench_partial ON COMMIT DROP AS
        SELECT d.copy, pr.id AS old_id, nextval('account_partial_reconcile_id_seq') AS new_id,
               d.new_id AS debit_id, c.new_id AS credit_id
          FROM account_partial_reconcile pr
          JOIN bench_line d ON d.old_id = pr.debit_move_id
          JOIN bench_line c ON c.old_id = pr.credit_move_id AND c.copy = d.copy;
        CREATE TEMP TABLE bench_full ON COMMIT DROP AS
        SELECT copy, old_id, nextval('account_full_reconcile_id_seq') AS new_id
          FROM (SELECT DISTINCT bl.copy, l.full_reconcile_id AS old_id
                  FROM bench_line bl JOIN account_move_line l ON l.id = bl.old_id
                 WHERE l.full_reconcile_id IS NOT NULL) fulls;
        """
    )
    _insert_copies(
        cr,
        "account_full_reconcile",
        "bench_full f JOIN account_full_reconcile src ON src.id = f.old_id",
        {"id": "f.new_id", "exchange_move_id": "NULL", "create_date": now, "write_date": now},
    )
    _insert_copies(
        cr,
        "account_partial_reconcile",
        "bench_partial bp JOIN account_partial_reconcile src ON src.id = bp.old_id"
        " LEFT JOIN bench_full f ON f.copy = bp.copy AND f.old_id = src.full_reconcile_id",
        {
            "id": "bp.new_id",
            "debit_move_id": "bp.debit_id",
            "credit_move_id": "bp.credit_id",
            "full_reconcile_id": "f.new_id",
            "exchange_move_id": "NULL",
            "create_date": now,
            "write_date": now,
        },
    )
    # Odoo's numbering: the full reconciliation's id, else 'P' + the partial's id
    cr.execute(
        """
        UPDATE account_move_line l
           SET full_reconcile_id = f.new_id,
               matching_number = COALESCE(f.new_id::text, 'P' || bp.new_id)
          FROM bench_line bl
          JOIN account_move_line o ON o.id = bl.old_id
          LEFT JOIN bench_full f ON f.copy = bl.copy AND f.old_id = o.full_reconcile_id
          LEFT JOIN bench_partial bp ON bp.copy = bl.copy AND 'P' || bp.old_id = o.matching_number
         WHERE l.id = bl.new_id AND o.matching_number IS NOT NULL
        """
    )


def _copy_followers(cr):
    """The template's followers (the customer, after posting), for each copy."""
    cr.execute(
        """
        CREATE TEMP TABLE bench_follower ON COMMIT DROP AS
        SELECT f.id AS old_id, nextval('mail_followers_id_seq') AS new_id, b.new_id AS res_id,
               CASE WHEN f.partner_id = m.partner_id THEN b.partner_id ELSE f.partner_id END AS partner_id
          FROM bench_move b
          JOIN account_move m ON m.id = b.old_id
          JOIN mail_followers f ON f.res_model = 'account.move' AND f.res_id = b.old_id;
        INSERT INTO mail_followers (id, res_model, res_id, partner_id)
        SELECT new_id, 'account.move', res_id, partner_id FROM bench_follower;
        INSERT INTO mail_followers_mail_message_subtype_rel (mail_followers_id, mail_message_subtype_id)
        SELECT bf.new_id, r.mail_message_subtype_id
          FROM bench_follower bf JOIN mail_followers_mail_message_subtype_rel r ON r.mail_followers_id = bf.old_id;
        """
    )


def _configure(env):
    """The sandbox gateway only; the default policy sends whatever is due, at any hour."""
    env.ref("account_payment_reminder.gateway_mail").state = "disabled"
    env["account.payment.reminder.gateway"].create(
        {
            "name": "Benchmark sandbox",
            "provider": "sandbox",
            "state": "test",
            "use_email": True,
            "use_sms": True,
            "use_whatsapp": True,
        }
    )
    vals = {"window_start": 0.0, "window_end": 24.0, "min_interval_days": 0, "max_messages_per_week": 0}
    vals.update({f"window_{day}": True for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    env.ref("account_payment_reminder.policy_default").write(vals)


def _check_data(env):
    """Invariants a copy could break: balanced ledger, unique numbers, residuals
    that match the receivable lines."""
    cr = env.cr
    cr.execute("SELECT ROUND(SUM(balance), 2), COUNT(*) FROM account_move_line WHERE parent_state = 'posted'")
    balance, lines = cr.fetchone()
    cr.execute(
        "SELECT COUNT(*) - COUNT(DISTINCT (journal_id, name)) FROM account_move WHERE state = 'posted'",
    )
    duplicate_names = cr.fetchone()[0]
    cr.execute(
        """
        SELECT COUNT(*) FROM account_move m
         WHERE m.move_type = 'out_invoice'
           AND m.amount_residual_signed <> (SELECT COALESCE(SUM(l.amount_residual), 0) FROM account_move_line l
                                             WHERE l.move_id = m.id AND l.display_type = 'payment_term')
        """
    )
    residual_mismatches = cr.fetchone()[0]
    cr.execute(
        """
        SELECT payment_state, COUNT(*) FROM account_move
         WHERE move_type = 'out_invoice' AND state = 'posted' GROUP BY 1 ORDER BY 1
        """
    )
    by_state = dict(cr.fetchall())
    if balance or duplicate_names or residual_mismatches:
        raise RuntimeError(
            f"inconsistent data: balance {balance}, {duplicate_names} duplicate numbers, "
            f"{residual_mismatches} residual mismatches"
        )
    return {"posted_lines": lines, "invoices_by_payment_state": by_state}


def _open_invoice_count(env):
    env.cr.execute(
        """
        SELECT COUNT(*), COUNT(*) FILTER (WHERE payment_reminder_hold_until IS NULL) FROM account_move
         WHERE move_type = 'out_invoice' AND state = 'posted' AND payment_reminder_amount_open > 0
        """
    )
    return env.cr.fetchone()


def _scheduler(env):
    """The scheduler model as ``_run`` sets it up."""
    return env["account.payment.reminder.run"].sudo().with_context(tracking_disable=True, mail_notrack=True)


def _decide_all(env, on_batch=None):
    """Candidate partners, then the decision batch after batch, as _run does."""
    from odoo import fields

    Run = _scheduler(env)
    now = fields.Datetime.now()
    partners = Run._get_candidate_partners()
    size = Run._batch_size()
    outcome = Counter()
    batches = 0
    for batch in Run._split_batches(partners):
        groups = Run._decide([partner for partner, _count in batch], now)
        batches += 1
        outcome.update(group.skip_reason or "due" for group in groups)
        env.invalidate_all()  # as _run does after each batch
        if on_batch:
            on_batch(batches)
    return {"customers": len(partners), "batches": batches, "batch_size": size, "groups": dict(outcome)}


def phase_decide(env, params):
    """The decision, three times from a cold cache: timed (with its SQL), under
    tracemalloc, and under cProfile when asked."""
    open_invoices, not_on_hold = _open_invoice_count(env)
    rss_before = _rss_mb()

    env.invalidate_all()
    with QueryCounter() as queries, Sections(env, queries, DECISION_SECTIONS) as sections:
        started = time.perf_counter()
        result = _decide_all(env)
        seconds = time.perf_counter() - started
    rss_after = _rss_mb()

    env.invalidate_all()
    after_batch = []
    tracemalloc.start()
    _decide_all(env, on_batch=lambda _n: after_batch.append(tracemalloc.get_traced_memory()[0]))
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    if params.get("profile"):
        env.invalidate_all()
        print("\n=== cProfile: decision ===")
        _profile(lambda: _decide_all(env))

    result.update(
        open_invoices=open_invoices,
        open_not_on_hold=not_on_hold,
        seconds=round(seconds, 3),
        queries=queries.count,
        sql_seconds=round(queries.seconds, 3),
        rss_before_mb=rss_before,
        rss_peak_mb=rss_after,
        sections=sections.result(),
        top_queries=queries.top(),
        traced_peak_mb=round(traced_peak / 2**20, 1),
        traced_first_batch_mb=round(after_batch[0] / 2**20, 1) if after_batch else 0,
        traced_last_batch_mb=round(after_batch[-1] / 2**20, 1) if after_batch else 0,
    )
    return result


def phase_send(env, params):
    """One full run through the sandbox: decide, queue, render, send, log."""
    cr = env.cr
    cr.execute("SELECT COALESCE(MAX(id), 0) FROM mail_message")
    last_message = cr.fetchone()[0]
    cr.execute("SELECT COALESCE(MAX(id), 0) FROM mail_activity")
    last_activity = cr.fetchone()[0]
    rss_before = _rss_mb()
    run = env["account.payment.reminder.run"]._run  # as the cron calls it
    if params.get("tracemalloc"):
        tracemalloc.start()
    with QueryCounter() as queries, Sections(env, queries, SEND_SECTIONS) as sections, BatchProbe(env) as probe:
        started = time.perf_counter()
        if params.get("profile"):
            print("\n=== cProfile: _run(send=True) ===")
            stats = _profile(lambda: run(send=True))
        else:
            stats = run(send=True)
        seconds = time.perf_counter() - started
    traced_peak = tracemalloc.get_traced_memory()[1] if tracemalloc.is_tracing() else 0
    tracemalloc.stop()
    env.cr.commit()

    cr.execute("SELECT channel, state, COUNT(*) FROM account_payment_reminder_message GROUP BY 1, 2 ORDER BY 1, 2")
    messages = {f"{channel}/{state}": count for channel, state, count in cr.fetchall()}
    cr.execute("SELECT COUNT(*) FROM mail_message WHERE id > %s AND model = 'account.move'", [last_message])
    notes = cr.fetchone()[0]
    cr.execute("SELECT COUNT(*) FROM mail_activity WHERE id > %s", [last_activity])
    activities = cr.fetchone()[0]
    cr.execute("SELECT COUNT(*) FROM account_move WHERE payment_reminder_level_id IS NOT NULL")
    leveled = cr.fetchone()[0]
    # what the customers received: who heard from us, and the invoices the messages sent listed
    cr.execute(
        """
        SELECT COUNT(DISTINCT m.partner_id), COUNT(DISTINCT r.move_id)
          FROM account_payment_reminder_message m
          JOIN account_payment_reminder_message_move_rel r ON r.message_id = m.id
         WHERE m.state IN ('sent', 'delivered', 'read')
        """
    )
    reminded, covered = cr.fetchone()
    stats.pop("groups", None)
    return {
        "stats": {key: value for key, value in stats.items() if isinstance(value, int | float)},
        "customers_reminded": reminded,
        "invoices_covered": covered,
        "seconds": round(seconds, 2),
        "queries": queries.count,
        "sql_seconds": round(queries.seconds, 2),
        "sections": sections.result(),
        "top_queries": queries.top(),
        "messages": messages,
        "chatter_notes": notes,
        "activities": activities,
        "invoices_with_level": leveled,
        "rss_before_mb": rss_before,
        "rss_peak_mb": _rss_mb(),
        "traced_peak_mb": round(traced_peak / 2**20, 1) if traced_peak else None,
        "rss_by_batch_mb": probe.rss,
        "traced_by_batch_mb": [round(value / 2**20, 1) for value in probe.traced],
        "traced_growth": probe.growth(),
    }


def phase_credit_control(env, params):
    """OCA's credit control run on the same invoices: create + generate_credit_lines()."""
    from odoo import fields

    env = env(su=True)
    company = env.company
    policy = company.credit_policy_id
    receivables = env["account.account"].search(
        [("account_type", "=", "asset_receivable"), ("company_ids", "in", company.ids)]
    )
    policy.account_ids = [fields.Command.set(receivables.ids)]
    env.cr.commit()
    rss_before = _rss_mb()
    with QueryCounter() as queries:
        started = time.perf_counter()
        run = env["credit.control.run"].create({"date": fields.Date.context_today(env.user)})
        if params.get("profile"):
            print("\n=== cProfile: OCA generate_credit_lines() ===")
            _profile(run.generate_credit_lines)
        else:
            run.generate_credit_lines()
        env.flush_all()
        seconds = time.perf_counter() - started
    env.cr.commit()
    levels = Counter(line.policy_level_id.name for line in run.line_ids)
    return {
        "policy": policy.name,
        "seconds": round(seconds, 2),
        "queries": queries.count,
        "sql_seconds": round(queries.seconds, 2),
        "lines": len(run.line_ids),
        "lines_by_level": dict(levels),
        "rss_before_mb": rss_before,
        "rss_peak_mb": _rss_mb(),
    }


def phase_overdue_reminder(env, params):
    """OCA's overdue reminder on the same invoices, driven as an accountant
    drives it: the start wizard (mass interface) proposes one step per
    customer with an overdue invoice, then *Validate* on all the steps writes
    the e-mails (``mail.mail``, queued for Odoo's mail queue, as ours are
    handed to the sandbox), the reminder history and a note on each invoice.

    Its invoices are not attached as PDF (the company option, on by default):
    ours carry a link to the portal, not a PDF either."""
    cr = env.cr
    env = env(su=True)
    env.company.overdue_reminder_attach_invoice = False
    env.cr.commit()
    env = env(user=env.ref("base.user_admin").id, su=False)  # an accountant, with the record rules
    cr.execute("SELECT COALESCE(MAX(id), 0) FROM mail_mail")
    last_mail = cr.fetchone()[0]
    cr.execute("SELECT COALESCE(MAX(id), 0) FROM mail_message")
    last_message = cr.fetchone()[0]
    rss_before = _rss_mb()
    Step = env["overdue.reminder.step"]

    def remind():
        started = time.perf_counter()
        env["overdue.reminder.start"].create({"interface": "mass"}).run()
        steps = Step.search([("user_id", "=", env.uid), ("state", "=", "draft")])
        proposed = time.perf_counter() - started
        context = {"active_model": Step._name, "active_ids": steps.ids}
        env["overdue.reminder.mass.update"].with_context(**context).create({"update_action": "validate"}).run()
        env.flush_all()
        return proposed, len(steps)

    with QueryCounter() as queries:
        started = time.perf_counter()
        if params.get("profile"):
            print("\n=== cProfile: OCA overdue reminder (start, validate) ===")
            proposed, steps = _profile(remind)
        else:
            proposed, steps = remind()
        seconds = time.perf_counter() - started
    env.cr.commit()
    cr.execute(
        """
        SELECT COUNT(a.mail_id), COUNT(DISTINCT a.commercial_partner_id) FILTER (WHERE a.mail_id IS NOT NULL)
          FROM overdue_reminder_action a
         WHERE a.mail_id > %s
        """,
        [last_mail],
    )
    mails, reminded = cr.fetchone()
    cr.execute(
        """
        SELECT COUNT(DISTINCT r.invoice_id) FILTER (WHERE m.move_type = 'out_invoice'),
               COUNT(DISTINCT r.invoice_id) FILTER (WHERE m.move_type = 'out_refund')
          FROM account_invoice_overdue_reminder r JOIN account_move m ON m.id = r.invoice_id
        """
    )
    covered, refunds = cr.fetchone()
    cr.execute("SELECT COUNT(*) FROM mail_message WHERE id > %s AND model = 'account.move'", [last_message])
    notes = cr.fetchone()[0]
    return {
        "seconds": round(seconds, 2),
        "propose_seconds": round(proposed, 2),
        "validate_seconds": round(seconds - proposed, 2),
        "queries": queries.count,
        "sql_seconds": round(queries.seconds, 2),
        "top_queries": queries.top(),
        "steps": steps,
        "mails": mails,
        "customers_reminded": reminded,
        "invoices_covered": covered,
        "credit_notes_listed": refunds,
        "chatter_notes": notes,
        "rss_before_mb": rss_before,
        "rss_peak_mb": _rss_mb(),
    }


PHASES = {
    "build": phase_build,
    "decide": phase_decide,
    "send": phase_send,
    "credit_control": phase_credit_control,
    "overdue_reminder": phase_overdue_reminder,
}

SHELL_STUB = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("apr_benchmark", {path!r})
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
result = bench.PHASES[{phase!r}](env, json.loads({params!r}))
print(bench.RESULT_MARK + json.dumps(result, default=str), flush=True)
"""


# ---------------------------------------------------------------------------
# Outside Odoo: the cluster, the odoo-bin calls, the report.
# ---------------------------------------------------------------------------


def find_oca(path_option):
    """{OCA addon: the addons folder that holds it}, for those of OCA_PHASES found."""
    found = {}
    for folder in filter(None, (path_option or "").split(",")):
        for addon in OCA_PHASES:
            if addon not in found and (Path(folder) / addon / "__manifest__.py").is_file():
                found[addon] = str(Path(folder).resolve())
    return found


class Bench:
    def __init__(self, src, cluster, workdir, args):
        self.src, self.cluster, self.workdir, self.args = src, cluster, workdir, args

    def command(self, *extra, subcommand=None):
        return odoo_env.odoo_command(
            self.src, self.cluster, self.workdir, "-d", DB, "--log-level=warn", *extra, subcommand=subcommand
        )

    def install(self, modules, demo=False):
        started = time.monotonic()
        extra = [] if demo else ["--without-demo=all"]
        cmd = self.command("-i", modules, "--stop-after-init", "--max-cron-threads=0", "--no-http", *extra)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        return round(time.monotonic() - started, 1)

    def phase(self, name, **params):
        """Run one phase in its own odoo-bin shell; echo its output; return its result."""
        print(f"--- {name} ---", flush=True)
        load_before = os.getloadavg()[0]
        params.update(profile=self.args.profile, tracemalloc=self.args.tracemalloc)
        stub = SHELL_STUB.format(path=str(Path(__file__).resolve()), phase=name, params=json.dumps(params))
        cmd = self.command("--no-http", "--max-cron-threads=0", subcommand="shell")
        result = None
        with subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as proc:
            proc.stdin.write(stub)
            proc.stdin.close()
            for line in proc.stdout:
                if line.startswith(RESULT_MARK):
                    result = json.loads(line[len(RESULT_MARK) :])
                else:
                    sys.stdout.write(line)
        if proc.returncode or result is None:
            raise RuntimeError(f"phase {name} failed (exit code {proc.returncode})")
        # the machine is shared: the 1-minute load average before and after, to judge the timings by
        result["load"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
        print(json.dumps(result, indent=1), flush=True)
        return result


def per_10k(value, invoices):
    return value * 10000 / invoices if invoices else 0.0


def report(args, results):
    """The compact table of figures, with the targets."""
    build, decide, send = (results[key] for key in ("build", "decide", "send"))
    credit_control, overdue = results.get("credit_control"), results.get("overdue_reminder")
    rows = []

    def row(label, value, target=""):
        rows.append((label, value, target))

    row("Setup: install the addon", f"{results['install']} s")
    timings = build["timings"]
    row(
        "Data: customers / invoices",
        f"{build['customers']:,} / {build['templates'] + build['copies']:,}"
        f" ({build['templates']} through the ORM, {build['copies']:,} SQL copies)",
    )
    credits = dict(build["credits"])
    row(
        "Data: customers with open credits",
        f"{credits.pop('customers'):,} (" + ", ".join(f"{k} {v}" for k, v in credits.items()) + ")",
    )
    row(
        "Data: build time",
        f"{sum(timings.values()):.1f} s (" + ", ".join(f"{k} {v}s" for k, v in timings.items()) + ")",
    )
    opened = decide["open_invoices"]
    projected = decide["seconds"] * 100000 / opened if opened else 0.0
    verdict = "OK" if projected < TARGET_DECISION_100K else "MISSED"
    row("Decision: open invoices / customers", f"{opened:,} / {decide['customers']:,}")
    row("Decision: batches (customers per batch)", f"{decide['batches']} ({decide['batch_size']})")
    row(
        "Decision: total time / SQL queries",
        f"{decide['seconds']:.2f} s / {decide['queries']:,} (SQL {decide['sql_seconds']:.2f} s)",
        load(decide),
    )
    row(
        "Decision: per 10,000 open invoices",
        f"{per_10k(decide['seconds'], opened):.2f} s / {per_10k(decide['queries'], opened):,.0f} queries",
    )
    row(
        "Decision: queries per batch",
        f"{decide['queries'] / max(decide['batches'], 1):.1f}",
        "grows with batches, not invoices",
    )
    row(
        "Decision: projected for 100,000 open invoices",
        f"{projected:.1f} s",
        f"< {TARGET_DECISION_100K:.0f} s: {verdict}",
    )
    row("Decision: groups", ", ".join(f"{k} {v}" for k, v in sorted(decide["groups"].items())))
    row("Decision: memory (RSS peak / tracemalloc peak)", f"{decide['rss_peak_mb']} MB / {decide['traced_peak_mb']} MB")
    row(
        "Decision: traced memory after 1st / last batch",
        f"{decide['traced_first_batch_mb']} MB / {decide['traced_last_batch_mb']} MB",
        flat_verdict([decide["traced_first_batch_mb"], decide["traced_last_batch_mb"]]),
    )
    sent = send["stats"].get("sent", 0)
    rate = sent / send["seconds"] if send["seconds"] else 0.0
    customer_rate = send["customers_reminded"] / send["seconds"] if send["seconds"] else 0.0
    row(
        "Send: messages queued / sent / failed",
        f"{send['stats'].get('queued', 0):,} / {sent:,} / {send['stats'].get('failed', 0):,}",
    )
    row(
        "Send: run time / SQL queries",
        f"{send['seconds']:.1f} s / {send['queries']:,} (SQL {send['sql_seconds']:.1f} s)",
        load(send),
    )
    row(
        "Send: reminders per second (end to end)",
        f"{rate:.1f}/s",
        f">= {TARGET_RATE:.0f}/s: {'OK' if rate >= TARGET_RATE else 'MISSED'}",
    )
    row(
        "Send: customers reminded / invoices covered",
        f"{send['customers_reminded']:,} / {send['invoices_covered']:,}",
        "invoices: listed in the messages sent",
    )
    row(
        "Send: customers / invoices per second (end to end)",
        f"{customer_rate:.1f}/s / {send['invoices_covered'] / (send['seconds'] or 1):.1f}/s",
    )
    row("Send: chatter notes / activities", f"{send['chatter_notes']:,} / {send['activities']:,}")
    memory = f"{send['rss_before_mb']} MB -> {send['rss_peak_mb']} MB"
    if send.get("traced_peak_mb"):
        memory += f" (tracemalloc peak {send['traced_peak_mb']} MB)"
    row("Send: RSS of the Odoo process, before -> peak", memory)
    by_batch = send.get("rss_by_batch_mb") or []
    if by_batch:
        row(
            "Send: RSS after 1st / 2nd / last batch",
            f"{by_batch[0]} / {by_batch[min(1, len(by_batch) - 1)]} / {by_batch[-1]} MB ({len(by_batch)} batches)",
            flat_verdict(by_batch[1:] or by_batch),
        )
    traced = send.get("traced_by_batch_mb") or []
    if traced:
        row(
            "Send: traced memory after 1st / last batch",
            f"{traced[0]} / {traced[-1]} MB",
            flat_verdict(traced),
        )
        for line in send.get("traced_growth") or []:
            row("Send: traced growth, 1st -> last batch", line)
    if credit_control:
        ratio = credit_control["seconds"] / (decide["seconds"] or 1e-9)
        row("OCA credit control: install", f"{results['credit_control_install']} s")
        row(
            "OCA credit control: generate_credit_lines()",
            f"{credit_control['seconds']:.1f} s / {credit_control['queries']:,} queries"
            f" -> {credit_control['lines']:,} credit lines",
            load(credit_control),
        )
        row(
            "OCA credit control: RSS before -> peak",
            f"{credit_control['rss_before_mb']} -> {credit_control['rss_peak_mb']} MB",
        )
        row(
            "Decision vs credit control's credit lines",
            f"{ratio:.1f}x faster ({decide['seconds']:.2f} s vs {credit_control['seconds']:.1f} s)",
            f">= {TARGET_VS_CREDIT_CONTROL:.0f}x: {'OK' if ratio >= TARGET_VS_CREDIT_CONTROL else 'MISSED'}",
        )
    else:
        row("OCA account_credit_control", f"skipped: {results.get('credit_control_skipped')}")
    if overdue:
        seconds = overdue["seconds"] or 1e-9
        peer_rate = overdue["customers_reminded"] / seconds
        ratio = customer_rate / (peer_rate or 1e-9)
        row("OCA overdue reminder: install", f"{results['overdue_reminder_install']} s")
        row(
            "OCA overdue reminder: propose + validate",
            f"{overdue['seconds']:.1f} s ({overdue['propose_seconds']:.1f} s + {overdue['validate_seconds']:.1f} s)"
            f" / {overdue['queries']:,} queries",
            load(overdue),
        )
        row(
            "OCA overdue reminder: steps / e-mails / customers / invoices",
            f"{overdue['steps']:,} / {overdue['mails']:,} / {overdue['customers_reminded']:,}"
            f" / {overdue['invoices_covered']:,} (+ {overdue['credit_notes_listed']:,} credit notes listed)",
        )
        row(
            "OCA overdue reminder: customers / invoices per second",
            f"{peer_rate:.1f}/s / {overdue['invoices_covered'] / seconds:.1f}/s",
        )
        row("OCA overdue reminder: RSS before -> peak", f"{overdue['rss_before_mb']} -> {overdue['rss_peak_mb']} MB")
        row(
            "Customers reminded per second vs overdue reminder",
            f"{ratio:.1f}x ({customer_rate:.1f}/s vs {peer_rate:.1f}/s)",
            f">= {TARGET_VS_OVERDUE_REMINDER:.0f}x: {'OK' if ratio >= TARGET_VS_OVERDUE_REMINDER else 'MISSED'}",
        )
    else:
        row("OCA account_invoice_overdue_reminder", f"skipped: {results.get('overdue_reminder_skipped')}")

    rows.append(None)  # a rule, then where the time goes
    for phase, figures in (("Decision", decide), ("Send", send)):
        total = figures["seconds"] or 1
        for label, (calls, seconds, queries) in figures.get("sections", {}).items():
            share = f"{100 * seconds / total:.0f}% of the phase (inclusive)"
            row(f"{phase}: in {label}", f"{seconds:.2f} s, {queries:,} queries, {calls:,} calls", share)
        for shape, queries, seconds in figures.get("top_queries", []):
            row(f"{phase}: SQL {seconds:.2f} s in {queries:,} x", shape)

    width = max(len(line[0]) for line in rows if line)
    value_width = min(60, max(len(line[1]) for line in rows if line))
    print()
    print("=" * 120)
    print(f"Payment reminder benchmark: {args.customers:,} customers, {args.invoices:,} invoices")
    print("=" * 120)
    for line in rows:
        if line is None:
            print("-" * 120)
            continue
        label, value, target = line
        print(f"{label:<{width}}  {value:<{value_width}}  {target}".rstrip())
    print("=" * 120)


def load(figures):
    """The machine's load around a phase (1-minute average before -> after)."""
    before, after = figures.get("load") or (None, None)
    return f"load {before} -> {after}" if before is not None else ""


def flat_verdict(values, tolerance=0.10):
    """Whether memory stayed flat across batches: the last value within 10 %,
    or within 20 MB, of the first."""
    if len(values) < 2:
        return "one batch: cannot tell"
    first, last = values[0], values[-1]
    if last <= first * (1 + tolerance) or last - first < 20:
        return "flat across batches: OK"
    per_batch = (last - first) / (len(values) - 1)
    return f"grows by {per_batch:.1f} MB per batch: MISSED"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=2000, help="customers (default 2,000)")
    parser.add_argument("--invoices", type=int, default=20000, help="customer invoices (default 20,000)")
    parser.add_argument(
        "--oca-addons",
        default=os.environ.get("EXTRA_ADDONS"),
        help="addons folders holding OCA's account_credit_control and account_invoice_overdue_reminder"
        " (default: $EXTRA_ADDONS)",
    )
    parser.add_argument("--profile", action="store_true", help="print cProfile tables of the decision and the send")
    parser.add_argument("--tracemalloc", action="store_true", help="trace Python memory during the send (slower)")
    parser.add_argument("--keep", action="store_true", help="keep the cluster and its folder")
    args = parser.parse_args()
    if args.customers < 1 or args.invoices < 100:
        parser.error("need at least 1 customer and 100 invoices")

    src = odoo_env.find_odoo_src()
    odoo_env.check_odoo_version(src)
    results = {}
    oca = find_oca(args.oca_addons)
    extra = [p for p in os.environ.get("EXTRA_ADDONS", "").split(",") if p]
    os.environ["EXTRA_ADDONS"] = ",".join(dict.fromkeys([*extra, *oca.values()]))
    for addon, phase in OCA_PHASES.items():
        if addon not in oca:
            results[f"{phase}_skipped"] = (
                f"{addon} not found in --oca-addons / $EXTRA_ADDONS ({args.oca_addons or 'unset'})"
            )
    workdir = Path(tempfile.mkdtemp(prefix="apr-bench-"))
    if args.keep:
        workdir.chmod(0o755)  # the cluster inside belongs to the postgres user when run as root
    print(f"Odoo {src}; work folder {workdir}", flush=True)
    try:
        with odoo_env.throwaway_cluster(keep_dir=workdir / "pg" if args.keep else None) as cluster:
            bench = Bench(src, cluster, workdir, args)
            print(f"Installing {odoo_env.ADDON} (no demo data)...", flush=True)
            results["install"] = bench.install(odoo_env.ADDON)
            results["build"] = bench.phase("build", customers=args.customers, invoices=args.invoices)
            results["decide"] = bench.phase("decide")
            results["send"] = bench.phase("send")
            for addon, folder in oca.items():
                print(f"Installing {addon} from {folder}...", flush=True)
                results[f"{OCA_PHASES[addon]}_install"] = bench.install(addon)
                results[OCA_PHASES[addon]] = bench.phase(OCA_PHASES[addon])
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc} (Odoo's output is above)", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            pg = workdir / "pg"
            print(
                f"Kept {workdir}: database {DB} in the stopped cluster {pg / 'data'}; start it (as postgres when"
                f" root) with: pg_ctl -D {pg / 'data'} -o \"-k {pg / 'sock'} -c listen_addresses=''\" start",
                flush=True,
            )
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    report(args, results)
    return 0


if __name__ == "__main__":
    sys.exit(odoo_env.main_guard(main))
