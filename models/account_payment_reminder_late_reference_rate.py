"""The statutory reference rates by half-year: the ECB main refinancing rate
(France, Directive 2011/7/EU), the Bundesbank's Basiszinssatz (Germany), the
Bank of England base rate (United Kingdom). Shipped with the published
figures since 2020; accountants add each new half-year's figure."""

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_date

from ..tools.late_charges import half_years

REFERENCE_RATE_SOURCES = [
    ("ecb", "ECB main refinancing rate"),
    ("bundesbank", "Basiszinssatz (Deutsche Bundesbank)"),
    ("boe", "Bank of England base rate"),
]


class AccountPaymentReminderLateReferenceRate(models.Model):
    """One half-year's reference rate of one source, as the law takes it:
    the ECB rate in force on 1 January or 1 July (France L441-10, Directive
    2011/7/EU art. 2 (12)), the Basiszinssatz fixed on those dates (BGB § 247),
    the Bank of England base rate on 31 December or 30 June (Late Payment of
    Commercial Debts (Rate of Interest) (No. 3) Order 2002). Every day of the
    half-year is charged at this rate plus the policy's margin."""

    _name = "account.payment.reminder.late.reference.rate"
    _description = "Late-Payment Reference Rate"
    _order = "source, date_from desc"
    _rec_names_search = ["source", "note"]

    source = fields.Selection(REFERENCE_RATE_SOURCES, required=True, index=True)
    date_from = fields.Date(
        "Half-Year From", required=True, help="1 January or 1 July: the rate applies to the six months from this day."
    )
    rate = fields.Float("Reference Rate (%)", digits=(16, 4), required=True, help="May be negative (Basiszinssatz).")
    note = fields.Char("Source Note", help="Where the figure comes from, e.g. the rate in force since which date.")

    _sql_constraints = [
        ("source_date_unique", "UNIQUE(source, date_from)", "This half-year already has a reference rate."),
    ]

    @api.depends("source", "date_from", "rate")
    def _compute_display_name(self):
        sources = dict(self._fields["source"]._description_selection(self.env))
        for rate in self:
            rate.display_name = f"{sources.get(rate.source, '')} {format_date(self.env, rate.date_from)}: {rate.rate} %"

    @api.constrains("date_from")
    def _check_date_from(self):
        for rate in self:
            if (rate.date_from.month, rate.date_from.day) not in ((1, 1), (7, 1)):
                raise ValidationError(
                    self.env._("A reference rate is set for a half-year: it starts on 1 January or 1 July.")
                )

    @api.model
    def _get_rates(self, source, date_from, date_to):
        """[(first day of the half-year, reference rate)] for the days after
        ``date_from`` up to ``date_to``: one per half-year, in date order.
        Raises when a half-year has no rate (an accountant must enter it)."""
        starts = half_years(date_from, date_to)
        if not starts:
            return []
        # sudo: the published rates are shared reference data, read by the scheduler and previews alike
        known = {
            rate.date_from: rate.rate
            for rate in self.sudo().search(
                [("source", "=", source), ("date_from", ">=", starts[0]), ("date_from", "<=", starts[-1])]
            )
        }
        missing = [start for start in starts if start not in known]
        if missing:
            raise UserError(
                self.env._(
                    "The %(rates)s of the half-year from %(date)s is missing: enter it in Invoicing > "
                    "Configuration > Late-Payment Reference Rates.",
                    rates=dict(self._fields["source"]._description_selection(self.env))[source],
                    date=format_date(self.env, missing[0]),
                )
            )
        return [(start, known[start]) for start in starts]
