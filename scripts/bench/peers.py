"""OCA's peers on the same ledger, for comparison: ``account_credit_control``'s
credit line generation (beside our decision) and ``account_invoice_overdue_reminder``'s
wizard driven end to end as an accountant drives it (beside our full run).

Outside Odoo, ``locate`` finds them: in the folders of --oca-addons when given,
else from their pinned 18.0 wheels on the package registry (cached, unpacked into
the run's folder; odoo_env.OCA_WHEELS). Inside Odoo, one phase each.
"""

import time
from collections import Counter
from pathlib import Path

from .probes import QueryCounter, profile, rss_mb

# OCA's peers, each run on the same data: the phase that runs it, by addon
OCA_PHASES = {"account_credit_control": "credit_control", "account_invoice_overdue_reminder": "overdue_reminder"}


def locate(path_option, workdir, offline=False):
    """({OCA addon: addons folder}, {phase: why it is skipped}) for the addons of OCA_PHASES.

    The folders of ``path_option`` (comma-separated) first; an addon not found there comes
    from its wheel, unless ``path_option`` was given (the caller chose where they are)."""
    import odoo_env

    found = {}
    for folder in filter(None, (path_option or "").split(",")):
        for addon in OCA_PHASES:
            if addon not in found and (Path(folder) / addon / "__manifest__.py").is_file():
                found[addon] = str(Path(folder).resolve())
    skipped = {}
    for addon, phase in OCA_PHASES.items():
        if addon in found:
            continue
        if path_option:
            skipped[phase] = f"{addon} not found in --oca-addons / $EXTRA_ADDONS ({path_option})"
            continue
        try:
            found[addon] = str(odoo_env.unpack_oca_addons([addon], Path(workdir) / "oca-addons", offline))
        except odoo_env.SetupError as error:
            skipped[phase] = str(error)
    return found, skipped


# ---------------------------------------------------------------------------
# Inside Odoo


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
    rss_before = rss_mb()
    with QueryCounter() as queries:
        started = time.perf_counter()
        run = env["credit.control.run"].create({"date": fields.Date.context_today(env.user)})
        if params.get("profile"):
            print("\n=== cProfile: OCA generate_credit_lines() ===")
            profile(run.generate_credit_lines)
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
        "rss_peak_mb": rss_mb(),
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
    rss_before = rss_mb()
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
            proposed, steps = profile(remind)
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
        "rss_peak_mb": rss_mb(),
    }
