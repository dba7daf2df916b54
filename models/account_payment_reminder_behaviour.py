"""How each customer pays each company, kept by the scheduler.

One row per commercial partner and company, and one per company without a
customer (all its customers together: the figure for a customer without
history). The figures come from ``tools/behaviour.py``; the refresh replaces a
company's rows in batches, a few queries per batch, so that no screen
computes them on view.
"""

import logging

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools.behaviour import EMPTY, company_payment_behaviour, payment_behaviour

_logger = logging.getLogger(__name__)

BATCH_CUSTOMERS = 2000
FIELDS = list(EMPTY)

TRENDS = [("better", "Better"), ("same", "Same"), ("worse", "Worse")]


def days_phrase(env, days):
    """'12 days late', '3 days early', 'on the due date' (rounded)."""
    days = round(days)
    if days > 0:
        return env._("1 day late") if days == 1 else env._("%(days)s days late", days=days)
    if days < 0:
        return env._("1 day early") if days == -1 else env._("%(days)s days early", days=-days)
    return env._("on the due date")


def behaviour_summary(env, figures):
    """One line a credit controller reads before deciding: "Pays 12 days late
    on average (typically 9 days late) · 60 % on time · kept 1 of 4 promises ·
    completed 0 of 1 plans · worse than last quarter"."""
    _ = env._
    parts = []
    if figures["invoices_paid"]:
        parts.append(
            _(
                "Pays %(average)s on average (typically %(typical)s)",
                average=days_phrase(env, figures["days_late_avg"]),
                typical=days_phrase(env, figures["days_late_typical"]),
            )
        )
        parts.append(_("%(share)s %% on time", share=round(figures["on_time_share"] * 100)))
    if figures["promises_made"]:
        parts.append(
            _("kept %(kept)s of %(made)s promises", kept=figures["promises_kept"], made=figures["promises_made"])
        )
    if figures["plans_started"]:
        parts.append(
            _(
                "completed %(completed)s of %(started)s plans",
                completed=figures["plans_completed"],
                started=figures["plans_started"],
            )
        )
    if figures["trend"]:
        parts.append(
            {
                "better": _("better than last quarter"),
                "same": _("as last quarter"),
                "worse": _("worse than last quarter"),
            }[figures["trend"]]
        )
    return " · ".join(parts) or _("No payment history yet")


class AccountPaymentReminderBehaviour(models.Model):
    _name = "account.payment.reminder.behaviour"
    _description = "Customer Payment Behaviour"
    _order = "company_id, partner_id"
    _rec_name = "partner_id"

    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    partner_id = fields.Many2one(
        "res.partner",
        "Customer",
        index=True,
        readonly=True,
        ondelete="cascade",
        help="Empty: all the company's customers together.",
    )
    as_of = fields.Date("Computed On", readonly=True)
    days_late_avg = fields.Float("Average Days Late", digits=(16, 1), readonly=True)
    days_late_typical = fields.Float("Typical Days Late", digits=(16, 1), readonly=True, help="The median.")
    on_time_share = fields.Float("Paid On Time", readonly=True, help="Share of the invoices paid by their due date.")
    invoices_paid = fields.Integer(readonly=True)
    promises_made = fields.Integer(readonly=True, help="Promises whose outcome is known: kept or broken.")
    promises_kept = fields.Integer(readonly=True)
    plans_started = fields.Integer(readonly=True)
    plans_completed = fields.Integer(readonly=True)
    plans_broken = fields.Integer(readonly=True)
    trend = fields.Selection(TRENDS, readonly=True, help="The last quarter against the quarter before.")
    summary = fields.Char(compute="_compute_summary")

    def init(self):
        self.env.cr.execute(
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS account_payment_reminder_behaviour_unique_idx "
                "ON account_payment_reminder_behaviour (company_id, COALESCE(partner_id, 0))"
            )
        )

    @api.depends(*FIELDS)
    def _compute_summary(self):
        for row in self:
            row.summary = behaviour_summary(self.env, {name: row[name] for name in FIELDS})

    def _get_figures(self):
        """The row as the plain dict of tools/behaviour.py (EMPTY for no row)."""
        if not self:
            return dict(EMPTY)
        self.ensure_one()
        return {name: self[name] or (False if name == "trend" else 0) for name in FIELDS}

    # === THE REFRESH === #

    @api.model
    def _cron_refresh(self, stale_only=False):
        """Recompute every company's rows (``stale_only``: only those not
        computed today). Each company in batches of customers."""
        today = fields.Date.context_today(self)
        # sudo: the scheduler works across companies and writes figures the accountants only read
        companies = self.env["res.company"].sudo().search([])
        if stale_only:
            self.env.cr.execute(
                "SELECT company_id FROM account_payment_reminder_behaviour WHERE partner_id IS NULL AND as_of >= %s",
                [today],
            )
            fresh = {company_id for (company_id,) in self.env.cr.fetchall()}
            companies = companies.filtered(lambda company: company.id not in fresh)
        for company in companies:
            try:
                with self.env.cr.savepoint():
                    self._refresh_company(company, today)
            except Exception:  # noqa: BLE001 - the figures of one company never stop the reminders
                _logger.exception("Payment behaviour of company %s could not be refreshed", company.id)
            if self.env["account.move"]._can_commit():
                self.env.cr.commit()  # pylint: disable=invalid-commit  # each company in its own transaction

    @api.model
    def _refresh_company(self, company, as_of=None):
        """Replace ``company``'s rows with the figures known on ``as_of``: all
        its customers together, then batches of ``BATCH_CUSTOMERS`` customers
        (three queries each)."""
        as_of = as_of or fields.Date.context_today(self)
        cr = self.env.cr
        self.env.flush_all()
        cr.execute(
            """
            SELECT commercial_partner_id FROM account_move
             WHERE company_id = %(company)s AND move_type = 'out_invoice' AND state = 'posted'
            UNION
            SELECT partner_id FROM account_payment_reminder_promise WHERE company_id = %(company)s
            UNION
            SELECT partner_id FROM account_payment_reminder_plan WHERE company_id = %(company)s
            """,
            {"company": company.id},
        )
        partner_ids = sorted(partner_id for (partner_id,) in cr.fetchall() if partner_id)
        cr.execute("DELETE FROM account_payment_reminder_behaviour WHERE company_id = %s", [company.id])
        rows = [(None, company_payment_behaviour(self.env, company, as_of))]
        for start in range(0, len(partner_ids), BATCH_CUSTOMERS):
            batch = partner_ids[start : start + BATCH_CUSTOMERS]
            rows.extend(payment_behaviour(self.env, company, batch, as_of).items())
            self._insert_rows(company, as_of, rows)
            rows = []
        self._insert_rows(company, as_of, rows)
        self.invalidate_model()
        return len(partner_ids)

    @api.model
    def _insert_rows(self, company, as_of, rows):
        if not rows:
            return
        uid, now = self.env.uid, fields.Datetime.now()
        columns = ["company_id", "partner_id", "as_of", *FIELDS, "create_uid", "create_date", "write_uid", "write_date"]
        placeholder = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for start in range(0, len(rows), 1000):
            values = [
                SQL(
                    placeholder,
                    company.id,
                    partner_id,
                    as_of,
                    *(figures[name] if name != "trend" else figures[name] or None for name in FIELDS),
                    uid,
                    now,
                    uid,
                    now,
                )
                for partner_id, figures in rows[start : start + 1000]
            ]
            self.env.cr.execute(
                SQL(
                    "INSERT INTO account_payment_reminder_behaviour (%s) VALUES %s",
                    SQL(", ").join(map(SQL.identifier, columns)),
                    SQL(", ").join(values),
                )
            )

    @api.model
    def _get_rows(self, company, partner_ids):
        """{commercial partner id: figures} of the stored rows, and the
        company's figures: what the forecast places the invoices with."""
        rows = self.search_fetch(
            [("company_id", "=", company.id), "|", ("partner_id", "in", list(partner_ids)), ("partner_id", "=", False)],
            FIELDS + ["partner_id"],
        )
        by_partner = {row.partner_id.id: row._get_figures() for row in rows}
        return by_partner, by_partner.pop(False, dict(EMPTY))

    @api.model
    def _get_summaries(self, company_ids, partner_ids):
        """{(company id, commercial partner id): summary} of the stored rows,
        in one query: what the dry run, the promises and the plans show."""
        rows = self.search(
            [("company_id", "in", list(company_ids)), ("partner_id", "in", list(partner_ids))],
        )
        return {(row.company_id.id, row.partner_id.id): row.summary for row in rows}


class AccountPaymentReminderPromise(models.Model):
    _inherit = "account.payment.reminder.promise"

    partner_behaviour = fields.Char(
        "How the Customer Pays", compute="_compute_partner_behaviour", help="The customer's payment behaviour."
    )

    @api.depends("partner_id", "company_id")
    def _compute_partner_behaviour(self):
        _compute_partner_behaviour(self)


class AccountPaymentReminderPlan(models.Model):
    _inherit = "account.payment.reminder.plan"

    partner_behaviour = fields.Char(
        "How the Customer Pays", compute="_compute_partner_behaviour", help="The customer's payment behaviour."
    )

    @api.depends("partner_id", "company_id")
    def _compute_partner_behaviour(self):
        _compute_partner_behaviour(self)


def _compute_partner_behaviour(records):
    """The behaviour summary of each promise's or plan's customer with its company."""
    summaries = records.env["account.payment.reminder.behaviour"]._get_summaries(
        records.company_id.ids, records.partner_id.commercial_partner_id.ids
    )
    for record in records:
        record.partner_behaviour = summaries.get(
            (record.company_id.id, record.partner_id.commercial_partner_id.id)
        ) or records.env._("No payment history yet")
