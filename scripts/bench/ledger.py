"""The ledger the benchmark measures on: customers with an e-mail, a time zone and a
mobile number, open customer invoices at every stage of the default ladder, and open
credits (credit notes, unreconciled payments, payments without journal entry) for a
few customers; the sandbox gateway and a policy that sends whatever is due now.

Invoices are built fast and honestly: a few hundred template invoices (and the
payments of the paid and partly paid ones) go through the ORM and are posted; the
rest are SQL copies of those templates (moves, lines, reconciliations, followers)
with fresh ids, their own customer and the next numbers of the journal's sequence.
The same seed gives the same ledger in every database.

Runs inside Odoo (``phase_build``); Odoo is imported inside the functions.
"""

import random
import time
from collections import Counter
from datetime import timedelta

from .probes import rss_mb

SEED = 20260101
TEMPLATES_MAX = 300
CREDIT_SHARE = 4  # % of the customers with an open credit (see _create_credits)
BANK_LINE_SHARE = 1  # bank statement lines not reconciled yet, in % of the invoices (see _create_bank_lines)

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
    bank_lines = _create_bank_lines(env, rng, today, max(30, params["invoices"] * BANK_LINE_SHARE // 100))
    timings["bank lines"] = time.monotonic() - started

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
        "bank_lines": bank_lines,
        "timings": {key: round(value, 2) for key, value in timings.items()},
        "checks": checks,
        "rss_mb": rss_mb(),
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


def _create_bank_lines(env, rng, today, count):
    """Bank statement lines of the last days, not reconciled yet, as a bank
    feed leaves them before the accountant matches them: a third from a
    customer (its partner set) for one of its invoices' amount, a third that
    only names an invoice in its label, a third from nobody the ledger knows.
    The decision reads them for money on its way."""
    env.flush_all()
    env.cr.execute(
        """
        SELECT name, commercial_partner_id, payment_reminder_amount_open FROM account_move
         WHERE move_type = 'out_invoice' AND state = 'posted' AND payment_reminder_amount_open > 0
         ORDER BY id
        """
    )
    invoices = env.cr.fetchall()
    journal = env["account.journal"].search([("type", "=", "bank"), ("code", "!=", "BNKNO")], limit=1)
    vals_list, kinds = [], Counter()
    for index in range(count):
        name, partner_id, amount = rng.choice(invoices)
        day = today - timedelta(days=rng.randrange(0, 4))
        kind = ("from the customer", "names an invoice", "unrelated")[index % 3]
        kinds[kind] += 1
        vals = {"journal_id": journal.id, "date": day, "amount": float(amount)}
        if kind == "from the customer":
            vals.update(partner_id=partner_id, payment_ref=f"Transfer {index}")
        elif kind == "names an invoice":
            vals.update(payment_ref=f"PAYMENT {name} THANK YOU")
        else:
            vals.update(payment_ref=f"CARD SETTLEMENT {rng.randrange(10**6)}", amount=round(rng.uniform(5, 5000), 2))
        vals_list.append(vals)
    for start in range(0, count, 500):
        env["account.bank.statement.line"].create(vals_list[start : start + 500])
    return dict(kinds)


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


def open_invoice_count(env):
    env.cr.execute(
        """
        SELECT COUNT(*), COUNT(*) FILTER (WHERE payment_reminder_hold_until IS NULL) FROM account_move
         WHERE move_type = 'out_invoice' AND state = 'posted' AND payment_reminder_amount_open > 0
        """
    )
    return env.cr.fetchone()
