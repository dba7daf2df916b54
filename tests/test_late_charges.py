"""Late-payment charges: statutory interest on what was overdue each day, the
fixed compensation once per invoice, charged once, stated in the reminder,
waivable, reported. Figures are worked out by hand in the comments."""

import json
from datetime import date

from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import BaseCase, Form, new_test_user, tagged
from odoo.tools import mute_logger

from ..tools.late_charges import (
    Segment,
    average_base,
    first_late_day,
    fixed_compensation,
    half_years,
    imputed_payments,
    interest_at_rates,
    overdue_segments,
    rate_periods,
    simple_interest,
)
from .common import PaymentReminderCommon

UK_TIERS = [(0.0, 40.0), (1000.0, 70.0), (10000.0, 100.0)]


@tagged("post_install", "-at_install")
class TestLateChargeArithmetic(BaseCase):
    def test_interest_runs_on_what_was_overdue_each_day(self):
        # 1,000.00 due on 31 January, 400.00 paid on 10 February, charged on 2 March at 10 % a year:
        # 1-10 February: 10 days on 1,000.00 -> 1000 x 0.10 x 10 / 365 = 2.7397
        # 11 February - 2 March: 20 days on 600.00 -> 600 x 0.10 x 20 / 365 = 3.2877; together 6.0274
        segments = overdue_segments(
            [(date(2026, 1, 31), 1000.0)], [(date(2026, 2, 10), 400.0)], date(2026, 1, 31), date(2026, 3, 2)
        )
        self.assertEqual(
            segments,
            [
                Segment(date(2026, 1, 31), date(2026, 2, 10), 10, 1000.0),
                Segment(date(2026, 2, 10), date(2026, 3, 2), 20, 600.0),
            ],
        )
        self.assertAlmostEqual(simple_interest(segments, 10.0), 6.0274, places=4)
        # (1000 x 10 + 600 x 20) / 30 = 733.33: the same interest as 30 days on 733.33
        self.assertAlmostEqual(average_base(segments), 733.3333, places=4)

    def test_paid_in_full_stops_the_interest(self):
        # paid on 10 February: 10 days late, as the law's calculators count (10 Feb - 31 Jan)
        segments = overdue_segments(
            [(date(2026, 1, 31), 1000.0)], [(date(2026, 2, 10), 1000.0)], date(2026, 1, 31), date(2026, 3, 2)
        )
        self.assertEqual(segments, [Segment(date(2026, 1, 31), date(2026, 2, 10), 10, 1000.0)])

    def test_grace_days_and_instalments(self):
        # two instalments of 500.00 due 31 January and 28 February, 2 days of grace, 100.00 paid on 10 February:
        # 3-10 February: 8 days on 500.00; 11 February - 2 March: 20 days on 400.00;
        # from 3 March (28 February + 2 days of grace): 900.00
        instalments = [(date(2026, 1, 31), 500.0), (date(2026, 2, 28), 500.0)]
        self.assertEqual(first_late_day(instalments, 2), date(2026, 2, 2))
        segments = overdue_segments(
            instalments, [(date(2026, 2, 10), 100.0)], date(2026, 2, 2), date(2026, 3, 10), grace_days=2
        )
        self.assertEqual(
            segments,
            [
                Segment(date(2026, 2, 2), date(2026, 2, 10), 8, 500.0),
                Segment(date(2026, 2, 10), date(2026, 3, 2), 20, 400.0),
                Segment(date(2026, 3, 2), date(2026, 3, 10), 8, 900.0),
            ],
        )

    def test_a_later_period_starts_where_the_last_one_ended(self):
        instalments = [(date(2026, 1, 31), 1000.0)]
        first = overdue_segments(instalments, [], date(2026, 1, 31), date(2026, 3, 2))
        second = overdue_segments(instalments, [], date(2026, 3, 2), date(2026, 4, 1))
        self.assertEqual([s.days for s in first + second], [30, 30])
        self.assertEqual(overdue_segments(instalments, [], date(2026, 4, 1), date(2026, 4, 1)), [])

    def test_fixed_compensation_tiers(self):
        # United Kingdom: 40 under 1,000; 70 under 10,000; 100 from 10,000
        self.assertEqual(fixed_compensation(999.99, tiers=UK_TIERS), 40.0)
        self.assertEqual(fixed_compensation(1000.0, tiers=UK_TIERS), 70.0)
        self.assertEqual(fixed_compensation(9999.99, tiers=UK_TIERS), 70.0)
        self.assertEqual(fixed_compensation(10000.0, tiers=UK_TIERS), 100.0)
        self.assertEqual(fixed_compensation(5000.0, fixed=40.0), 40.0, "no tiers: the single amount")

    def test_each_day_at_the_rate_of_its_half_year(self):
        # 10,000.00 due 15 June 2025, charged 31 July 2025, France (ECB + 10 points): 16-30 June at 3.15 + 10 =
        # 13.15 %: 10000 x 0.1315 x 15 / 365 = 54.0411; 1-31 July at 2.15 + 10 = 12.15 %: 10000 x 0.1215 x 31 / 365
        # = 103.1918; together 157.2329 (at 12.15 % for all 46 days: 153.12)
        segments = overdue_segments([(date(2025, 6, 15), 10000.0)], [], date(2025, 6, 15), date(2025, 7, 31))
        rates = [(date(2025, 1, 1), 13.15), (date(2025, 7, 1), 12.15)]
        self.assertEqual(half_years(date(2025, 6, 15), date(2025, 7, 31)), [date(2025, 1, 1), date(2025, 7, 1)])
        self.assertEqual(
            rate_periods(segments, rates),
            [
                (date(2025, 6, 15), date(2025, 6, 30), 13.15, [Segment(date(2025, 6, 15), date(2025, 6, 30), 15, 1e4)]),
                (date(2025, 6, 30), date(2025, 7, 31), 12.15, [Segment(date(2025, 6, 30), date(2025, 7, 31), 31, 1e4)]),
            ],
        )
        self.assertAlmostEqual(interest_at_rates(segments, rates), 157.2329, places=4)
        self.assertAlmostEqual(simple_interest(segments, 12.15), 153.1233, places=4)

    def test_costs_then_interest_then_debt(self):
        # BGB § 367: 10,000.00 due 15 January 2025 at 11.27 %, 5,000.00 paid on 14 February, costs 40.00:
        # interest 16 January - 14 February: 10000 x 0.1127 x 30 / 365 = 92.6301; the payment pays 40.00 of costs,
        # 92.6301 of interest, and 4,867.3699 of the debt
        instalments = [(date(2025, 1, 15), 10000.0)]
        rates = [(date(2025, 1, 1), 11.27)]
        [(paid_on, amount)] = imputed_payments(instalments, [(date(2025, 2, 14), 5000.0)], 0, rates, costs=40.0)
        self.assertEqual(paid_on, date(2025, 2, 14))
        self.assertAlmostEqual(amount, 4867.3699, places=4)
        # paid on time, a payment is all debt; what was waived is no longer owed
        self.assertEqual(
            imputed_payments(instalments, [(date(2025, 1, 10), 5000.0)], 0, rates, costs=40.0),
            [(date(2025, 1, 10), 5000.0)],
        )
        [(_day, amount)] = imputed_payments(
            instalments, [(date(2025, 2, 14), 5000.0)], 0, rates, costs=40.0, remitted=[(date(2025, 2, 1), 40.0)]
        )
        self.assertAlmostEqual(amount, 4907.3699, places=4)


@tagged("post_install", "-at_install")
class TestLateCharges(PaymentReminderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Charge = cls.env["account.payment.reminder.late.charge"]
        cls.business = cls.env["res.partner"].create(
            {
                "name": "Deco Addict",
                "is_company": True,
                "email": "ap@deco.example",
                "lang": "en_US",
                "tz": "Europe/Brussels",
            }
        )
        cls.policy.write(
            {
                "late_charges_enabled": True,
                "late_interest_type": "fixed",
                "late_interest_fixed_rate": 10.0,
                "late_fee_fixed": 40.0,
                "late_fee_legal_ref": "Directive 2011/7/EU",
                "late_fee_legal_text": "Interest and 40 per invoice are due under Directive 2011/7/EU.",
            }
        )
        cls.level_final.charge_late_fees = True
        cls.accountant = new_test_user(
            cls.env,
            login="late_charge_accountant",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )

    def assertInChatter(self, record, text):
        self.assertTrue(any(text in str(message.body) for message in record.message_ids), text)

    def charge(self, moves, when, level=None, policy=None):
        return self.Run._charge_late_fees(
            moves.commercial_partner_id[:1], moves, level or self.level_final, policy or self.policy, when
        )

    # === WHAT IS CHARGED === #

    def test_interest_with_partial_payments_on_known_dates(self):
        invoice = self.create_invoice(partner=self.business, due=date(2026, 1, 31), amount=1000.0)
        self.pay(invoice, amount=400.0, when=date(2026, 2, 10))
        charge_invoice, charge = self.charge(invoice, date(2026, 3, 2))
        # 10 days on 1,000.00 and 20 days on 600.00 at 10 %: 2.7397 + 3.2877 = 6.03; and 40.00 once
        self.assertRecordValues(
            charge,
            [
                {
                    "source_move_id": invoice.id,
                    "charge_move_id": charge_invoice.id,
                    "date_from": date(2026, 1, 31),
                    "date_to": date(2026, 3, 2),
                    "days": 30,
                    "rate": 10.0,
                    "base_amount": 733.33,
                    "interest_amount": 6.03,
                    "fee_amount": 40.0,
                    "has_fee": True,
                    "amount": 46.03,
                    "state": "draft",
                }
            ],
        )
        self.assertRecordValues(
            charge_invoice,
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": self.business.id,
                    "state": "draft",
                    "amount_tax": 0.0,
                    "amount_total": 46.03,
                    "invoice_date": date(2026, 3, 2),
                    "payment_reminder_fee_source_ids": invoice.ids,
                }
            ],
        )
        interest_line, fee_line = charge_invoice.invoice_line_ids
        self.assertIn(invoice.name, interest_line.name)
        self.assertIn("30 days at 10.00 %", interest_line.name)
        self.assertIn("10 days on $\xa01,000.00", interest_line.name, "each stretch of days is explained")
        self.assertIn("20 days on $\xa0600.00", interest_line.name)
        self.assertFalse(interest_line.tax_ids | fee_line.tax_ids, "no tax by default")
        self.assertEqual(fee_line.price_unit, 40.0)
        self.assertIn("Directive 2011/7/EU", str(charge_invoice.narration))
        self.assertEqual(invoice.payment_reminder_fee_charge_ids, charge_invoice)
        self.assertInChatter(invoice, "46.03")

    def test_a_posted_charge_invoice_when_the_policy_says_so(self):
        self.policy.late_fee_post = "posted"
        invoice = self.create_invoice(partner=self.business, due=date(2026, 1, 31), amount=1000.0)
        charge_invoice, charge = self.charge(invoice, date(2026, 3, 2))
        self.assertEqual(charge_invoice.state, "posted")
        self.assertEqual(charge.state, "charged")
        # 30 days on 1,000.00 at 10 %: 8.22, and 40.00
        self.assertEqual(charge_invoice.amount_total, 48.22)
        self.assertTrue(charge_invoice.payment_reminder_is_open, "it joins the ladder like any invoice")

    def test_the_four_legal_presets_and_a_contractual_one(self):
        # the presets' amounts are in EUR and GBP; this company keeps its books in USD
        self.setup_other_currency("EUR", rates=[("2020-01-01", 0.5)])  # 1 USD = 0.5 EUR: 40 EUR = 80 USD
        self.setup_other_currency("GBP", rates=[("2020-01-01", 0.8)])  # 1 USD = 0.8 GBP: 40 GBP = 50 USD
        consumer = self.customer  # a person, not a company
        invoices = {
            partner: self.create_invoice(partner=partner, due=date(2026, 1, 31), amount=2000.0)
            for partner in (self.business, consumer)
        }
        ref = self.env.ref
        # the shipped reference rates of the first half of 2026 (ECB 2.15 % on 1 January, Basiszinssatz 1.27 % from
        # 1 January, Bank of England 3.75 % on 31 December 2025); the fixed sums stay in the law's currency
        cases = [
            # preset, what the admin completes, rate, scope, fixed, tiers, interest and fee on 2,000.00 over 30 days
            # EU: ECB 2.15 + 8 = 10.15 %: 2000 x 0.1015 x 30 / 365 = 16.68; 40 EUR = 80.00 USD
            ("late_fee_preset_eu", {}, 10.15, "company", 40.0, [], 16.68, 80.0),
            # France: ECB 2.15 + 10 = 12.15 %: 19.97; 40 EUR = 80.00 USD
            ("late_fee_preset_fr", {}, 12.15, "company", 40.0, [], 19.97, 80.0),
            # Germany between businesses: base rate 1.27 + 9 = 10.27 %: 16.88; 40 EUR = 80.00 USD
            ("late_fee_preset_de_b2b", {}, 10.27, "company", 40.0, [], 16.88, 80.0),
            # Germany with consumers: 1.27 + 5 = 6.27 %: 10.31; no fixed sum; consumers only
            ("late_fee_preset_de_consumer", {}, 6.27, "person", 0.0, [], 10.31, 0.0),
            # United Kingdom: base rate 3.75 + 8 = 11.75 %: 2000 x 0.1175 x 30 / 365 = 19.32 (this test assumed
            # 4 % before; the law's rate of the half-year is 3.75 %); 2,000.00 USD = 1,600 GBP: 70 GBP = 87.50 USD
            (
                "late_fee_preset_uk",
                {},
                11.75,
                "company",
                0.0,
                [(0.0, 40.0), (1000.0, 70.0), (10000.0, 100.0)],
                19.32,
                87.5,
            ),
            # contractual (Indonesia): the terms' 24 % a year and 25.00 per invoice: 39.45 and 25.00
            (
                "late_fee_preset_contract",
                {"late_interest_fixed_rate": 24.0, "late_fee_fixed": 25.0},
                24.0,
                "company",
                25.0,
                [],
                39.45,
                25.0,
            ),
        ]
        Policy = self.env["account.payment.reminder.policy"]
        for xmlid, completed, rate, scope, fixed, tiers, interest, fee in cases:
            with self.subTest(preset=xmlid), self.frozen("2026-03-02 09:00"):
                preset = ref(f"account_payment_reminder.{xmlid}")
                policy = Policy.create(
                    {
                        "name": preset.name,
                        "company_id": self.company.id,
                        "late_charges_enabled": True,
                        "late_fee_preset_id": preset.id,
                        **completed,
                    }
                )
                self.assertEqual(policy.late_interest_rate, rate)
                self.assertEqual(policy.late_fee_currency_id, preset.currency_id or self.company.currency_id)
                self.assertEqual(policy.late_fee_partner_scope, scope)
                self.assertEqual(policy.late_fee_fixed, fixed)
                self.assertEqual(policy._get_late_fee_tiers(), tiers)
                self.assertEqual(policy.late_fee_legal_text, preset.legal_text)
                self.assertTrue(policy.late_fee_legal_ref)
                charged = consumer if scope == "person" else self.business
                spared = self.business if scope == "person" else consumer
                [vals] = self.Run._prepare_late_charges(
                    charged, invoices[charged], self.level_final, policy, date(2026, 3, 2)
                )
                self.assertEqual((vals["interest_amount"], vals["fee_amount"]), (interest, fee))
                self.assertFalse(
                    self.Run._prepare_late_charges(spared, invoices[spared], self.level_final, policy, date(2026, 3, 2))
                )
        self.assertFalse(self.Charge.search([("source_move_id", "in", [m.id for m in invoices.values()])]))

    def test_an_admin_picks_a_preset_in_the_form_and_completes_it(self):
        gbp = self.setup_other_currency("GBP", rates=[("2020-01-01", 0.8)])
        with self.frozen("2026-03-01 09:00"), Form(self.policy) as form:
            form.late_fee_preset_id = self.env.ref("account_payment_reminder.late_fee_preset_uk")
            self.assertEqual(form.late_interest_type, "reference")
            self.assertEqual(form.late_reference_rate_source, "boe")
            self.assertEqual(form.late_interest_margin, 8.0)
            self.assertEqual(len(form.late_fee_tier_ids), 3)
            self.assertIn("31 December", form.late_fee_preset_note)
            self.assertFalse(form.late_reference_rate_warning, "the half-year's rate is shipped")
            self.assertTrue(form.late_charge_paid_late)
            self.assertEqual(form.late_charge_paid_late_since, date(2026, 3, 1))
        # the Bank of England base rate on 31 December 2025, 3.75 %, plus 8 points
        with self.frozen("2026-03-01 09:00"):
            self.policy.invalidate_recordset(["late_interest_rate"])
            self.assertEqual(self.policy.late_interest_rate, 11.75)
        # the tiers stay in pounds, as the Act states them
        self.assertEqual(self.policy.late_fee_currency_id, gbp)
        self.assertEqual(self.policy._get_late_fee_tiers(), [(0.0, 40.0), (1000.0, 70.0), (10000.0, 100.0)])
        self.assertEqual(self.policy.late_fee_legal_ref, "Late Payment of Commercial Debts (Interest) Act 1998")
        with self.frozen("2027-03-01 09:00"):
            self.policy.invalidate_recordset(["late_reference_rate_warning"])
            self.assertIn("half-year from 01/01/2027 is missing", self.policy.late_reference_rate_warning)
        self.policy.late_reference_rate_source = False
        self.policy.invalidate_recordset(["late_reference_rate_warning"])
        self.assertIn("date of the reference rate", self.policy.late_reference_rate_warning)

    def test_fixed_sums_by_tiers(self):
        self.policy.write(
            {
                "late_interest_fixed_rate": 0.0,
                "late_fee_tier_ids": [Command.create({"amount_from": a, "fee": f}) for a, f in UK_TIERS],
            }
        )
        small, middle, large = (
            self.create_invoice(partner=self.business, due=date(2026, 1, 31), amount=amount)
            for amount in (999.99, 1000.0, 25000.0)
        )
        charge_invoice, charges = self.charge(small | middle | large, date(2026, 3, 2))
        self.assertEqual(charges.mapped("fee_amount"), [40.0, 70.0, 100.0])
        self.assertEqual(charges.mapped("interest_amount"), [0.0, 0.0, 0.0])
        self.assertEqual(len(charge_invoice), 1, "one charge invoice per customer and run")
        self.assertEqual(charge_invoice.invoice_line_ids.mapped("price_unit"), [40.0, 70.0, 100.0])
        self.assertEqual(charge_invoice.payment_reminder_fee_source_ids, small | middle | large)

    def test_a_second_charge_covers_only_the_new_days(self):
        invoice = self.create_invoice(partner=self.business, due=date(2026, 1, 31), amount=1000.0)
        _first_invoice, first = self.charge(invoice, date(2026, 3, 2))
        self.assertEqual((first.days, first.interest_amount, first.fee_amount), (30, 8.22, 40.0))
        self.pay(invoice, amount=500.0, when=date(2026, 3, 10))
        second_invoice, second = self.charge(invoice, date(2026, 4, 1))
        # 3-10 March: 8 days on 1,000.00; 11 March - 1 April: 22 days on 500.00
        # (8 x 1000 + 22 x 500) x 0.10 / 365 = 1900 / 365 = 5.21; the compensation was charged already
        self.assertRecordValues(
            second,
            [
                {
                    "date_from": date(2026, 3, 2),
                    "date_to": date(2026, 4, 1),
                    "days": 30,
                    "interest_amount": 5.21,
                    "fee_amount": 0.0,
                    "has_fee": False,
                }
            ],
        )
        self.assertEqual(second_invoice.amount_total, 5.21)
        self.assertEqual(second_invoice.invoice_line_ids.mapped("price_unit"), [5.21])
        # the same day again: nothing left to charge
        self.assertEqual(self.charge(invoice, date(2026, 4, 1)), (self.env["account.move"], self.Charge))

    def test_a_minimum_below_which_nothing_is_charged(self):
        self.policy.write({"late_fee_fixed": 0.0, "late_fee_min_amount": 10.0})
        invoice = self.create_invoice(partner=self.business, due=date(2026, 1, 31), amount=1000.0)
        # 30 days: 8.22, under 10.00
        self.assertEqual(self.charge(invoice, date(2026, 3, 2)), (self.env["account.move"], self.Charge))
        # the days stay chargeable: 60 days, 1000 x 0.10 x 60 / 365 = 16.44
        _charge_invoice, charge = self.charge(invoice, date(2026, 4, 1))
        self.assertEqual((charge.date_from, charge.days, charge.interest_amount), (date(2026, 1, 31), 60, 16.44))

    def test_a_consumer_is_not_charged(self):
        self.assertFalse(self.customer.is_company)
        invoice = self.create_invoice(partner=self.customer, due=date(2026, 1, 31), amount=1000.0)
        self.assertEqual(self.charge(invoice, date(2026, 3, 2)), (self.env["account.move"], self.Charge))
        self.policy.late_fee_partner_scope = "all"
        _charge_invoice, charge = self.charge(invoice, date(2026, 3, 2))
        self.assertEqual(charge.amount, 48.22)

    def test_a_contact_of_a_business_is_charged_as_a_business(self):
        contact = self.env["res.partner"].create({"name": "Deco Accounts", "parent_id": self.business.id})
        invoice = self.create_invoice(partner=contact, due=date(2026, 1, 31), amount=1000.0)
        charge_invoice, _charge = self.charge(invoice, date(2026, 3, 2))
        self.assertEqual(charge_invoice.commercial_partner_id, self.business)

    def test_an_invoice_in_another_currency(self):
        # 1 USD = 2 EUR when invoiced, 4 EUR on the charge date
        eur = self.setup_other_currency("EUR", rates=[("2025-12-01", 2.0), ("2026-03-01", 4.0)])
        invoice = self.create_invoice(partner=self.business, due=date(2026, 1, 31), amount=1000.0, currency=eur)
        charge_invoice, charge = self.charge(invoice, date(2026, 3, 2))
        # interest in the invoice's currency: 1000 x 0.10 x 30 / 365 = 8.22 EUR;
        # 40.00 USD converted on the charge date: 160.00 EUR (not 80.00 at the invoice's rate)
        self.assertRecordValues(
            charge, [{"currency_id": eur.id, "interest_amount": 8.22, "fee_amount": 160.0, "amount": 168.22}]
        )
        self.assertAlmostEqual(charge.amount_company, 42.06, delta=0.01)  # 168.22 / 4
        self.assertEqual((charge_invoice.currency_id, charge_invoice.amount_total), (eur, 168.22))

    def test_no_charge_on_a_charge(self):
        self.policy.late_fee_post = "posted"
        invoice = self.create_invoice(partner=self.business, due=date(2026, 1, 31), amount=1000.0)
        charge_invoice, _charge = self.charge(invoice, date(2026, 3, 2))
        self.assertEqual(charge_invoice.invoice_date_due, date(2026, 3, 2))
        # two months later both are overdue: only the invoice is charged, the charge invoice never
        later_invoice, later = self.charge(invoice | charge_invoice, date(2026, 5, 1))
        self.assertEqual(later.source_move_id, invoice)
        self.assertEqual(later_invoice.payment_reminder_fee_source_ids, invoice)
        self.assertFalse(self.Charge.search([("source_move_id", "=", charge_invoice.id)]))

    # === NEVER TWICE === #

    def test_no_double_charge_when_run_twice_or_at_once(self):
        invoice = self.create_invoice(partner=self.business, due=date(2026, 1, 31), amount=1000.0)
        when = date(2026, 3, 2)
        # two runs decided what to charge before either wrote anything
        decided = self.Run._prepare_late_charges(self.business, invoice, self.level_final, self.policy, when)
        late = self.Run._prepare_late_charges(self.business, invoice, self.level_final, self.policy, when)
        first_invoice, first = self.charge(invoice, when)
        self.assertEqual(len(first), 1)
        self.assertEqual(self.charge(invoice, when), (self.env["account.move"], self.Charge), "run twice")
        self.patch(type(self.Run), "_prepare_late_charges", lambda *args: late)
        with mute_logger("odoo.sql_db"):
            self.assertEqual(self.charge(invoice, when), (self.env["account.move"], self.Charge), "at once")
        self.assertEqual(self.Charge.search([("source_move_id", "=", invoice.id)]), first)
        self.assertEqual(invoice.payment_reminder_fee_charge_ids, first_invoice)
        # the database itself refuses the same days, and the compensation twice
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.Charge.sudo().create(decided).flush_recordset()
        other_days = dict(decided[0], date_from=date(2026, 2, 15), idempotency_key="another key")
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.Charge.sudo().create(other_days).flush_recordset()

    # === IN THE REMINDER, IN THE DRY RUN === #

    def test_the_final_notice_charges_and_says_so(self):
        invoice = self.create_invoice(partner=self.business, due=date(2026, 3, 31), amount=1000.0)
        moves_before = self.env["account.move"].search_count([])
        with self.frozen("2026-04-30 09:00"):
            dry_run = self.env["account.payment.reminder.dry.run"].with_user(self.accountant).create({})
            dry_run.action_refresh()
        line = dry_run.line_ids.filtered(lambda line: invoice in line.move_ids)
        # 30 days on 1,000.00 at 10 %: 8.22, and 40.00: what would be charged, and nothing written
        self.assertEqual((line.level_id, line.late_charge_amount), (self.level_final, 48.22))
        self.assertIn("Late-payment charges", line.text)
        self.assertIn("48.22", line.text)
        self.assertFalse(self.Charge.search([("source_move_id", "=", invoice.id)]))
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)

        self.run_at("2026-04-30 09:00")
        message = self.messages_for(invoice)
        self.assertEqual((message.level_id, message.state), (self.level_final, "sent"))
        charge = message.late_charge_ids
        self.assertEqual((charge.source_move_id, charge.amount), (invoice, 48.22))
        self.assertIn("Late-payment charges", message.body_html)
        self.assertIn("$\xa08.22", message.body_html)
        self.assertIn("$\xa040.00", message.body_html)
        self.assertIn("$\xa048.22", message.body_html)
        self.assertIn("Directive 2011/7/EU", message.body_html, "and the legal basis")
        self.assertEqual(message.late_charge_text, " Late-payment charges: $\xa048.22 (Directive 2011/7/EU).")
        self.assertEqual(charge.charge_move_id.payment_reminder_fee_source_ids, invoice)

        # the next runs charge nothing more for that level
        self.run_at("2026-05-01 09:00")
        self.assertEqual(self.Charge.search([("source_move_id", "=", invoice.id)]), charge)

    def test_levels_that_do_not_charge_say_nothing_about_charges(self):
        invoice = self.create_invoice(partner=self.business, due=date(2026, 3, 31), amount=1000.0)
        self.run_at("2026-04-07 09:00")
        message = self.messages_for(invoice)
        self.assertEqual(message.level_id, self.level_overdue)
        self.assertFalse(message.late_charge_ids)
        self.assertNotIn("Late-payment charges", message.body_html)
        self.assertFalse(self.Charge.search([("source_move_id", "=", invoice.id)]))

    def test_two_charging_levels_charge_the_new_days_only(self):
        self.level_followup.charge_late_fees = True
        invoice = self.create_invoice(partner=self.business, due=date(2026, 3, 31), amount=1000.0)
        self.run_at("2026-04-14 09:00")
        self.run_at("2026-04-30 09:00")
        first, second = self.Charge.search([("source_move_id", "=", invoice.id)], order="date")
        # 14 days: 1000 x 0.10 x 14 / 365 = 3.84 and 40.00; then 16 days: 4.38 and no compensation
        self.assertEqual((first.days, first.interest_amount, first.fee_amount), (14, 3.84, 40.0))
        self.assertEqual((second.days, second.interest_amount, second.fee_amount), (16, 4.38, 0.0))
        self.assertEqual(second.date_from, first.date_to)
        messages = self.messages_for(invoice)
        self.assertEqual(messages.mapped("late_charge_ids"), first | second)

    def test_legal_basis_in_the_customers_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["account_payment_reminder"], ["fr_FR"], overwrite=True)
        preset = self.env.ref("account_payment_reminder.late_fee_preset_eu")
        self.policy.write({"late_fee_preset_id": preset.id})
        with self.frozen("2026-04-30 09:00"):  # the ECB rate of the half-year, 2.15 %, plus 8 points
            self.assertEqual(self.policy.late_interest_rate, 10.15)
        self.business.lang = "fr_FR"
        invoice = self.create_invoice(partner=self.business, due=date(2026, 3, 31), amount=1000.0)
        self.run_at("2026-04-30 09:00")
        message = self.messages_for(invoice)
        self.assertEqual(message.lang, "fr_FR")
        self.assertIn("directive 2011/7/UE", message.body_html)
        self.assertIn("Pénalités de retard", message.body_html)
        self.assertIn("Directive 2011/7/UE", message.with_context(lang="fr_FR").late_charge_text)
        self.assertIn("Intérêts de retard", message.late_charge_ids.charge_move_id.invoice_line_ids[0].name)

    def test_a_charge_that_cannot_be_made_never_stops_the_reminder(self):
        def broken(*args):
            raise ValueError("No income account")

        self.patch(type(self.Run), "_create_late_charge_invoices", broken)
        invoice = self.create_invoice(partner=self.business, due=date(2026, 3, 31), amount=1000.0)
        with mute_logger("odoo.addons.account_payment_reminder.models.account_payment_reminder_run_late_charge"):
            self.run_at("2026-04-30 09:00")
        message = self.messages_for(invoice)
        self.assertEqual((message.state, message.late_charge_ids), ("sent", self.Charge))
        self.assertFalse(self.Charge.search([("source_move_id", "=", invoice.id)]), "nothing half-charged")
        self.assertInChatter(invoice, "No income account")

    # === WAIVERS === #

    def waive(self, record, reason):
        action = record.with_user(self.accountant).action_payment_reminder_waive_late_charges()
        form = Form(self.env[action["res_model"]].with_user(self.accountant).with_context(**action["context"]))
        form.reason = reason
        form.save().action_waive()

    def test_waive_a_draft_from_the_invoice(self):
        invoice = self.create_invoice(partner=self.business, due=date(2026, 1, 31), amount=1000.0)
        charge_invoice, charge = self.charge(invoice, date(2026, 3, 2))
        self.assertTrue(invoice.payment_reminder_can_waive)
        self.waive(invoice, "Good customer, first delay")
        self.assertEqual(charge_invoice.state, "cancel")
        self.assertRecordValues(
            charge, [{"state": "waived", "amount_waived": 48.22, "waive_reason": "Good customer, first delay"}]
        )
        for move in (invoice, charge_invoice):
            self.assertInChatter(move, "Good customer, first delay")
        self.assertFalse(invoice.payment_reminder_can_waive)
        # waived days are not charged again, nor the compensation
        _later_invoice, later = self.charge(invoice, date(2026, 4, 1))
        self.assertEqual((later.date_from, later.days, later.fee_amount), (date(2026, 3, 2), 30, 0.0))

    def test_waive_a_posted_charge_from_the_customer(self):
        self.policy.late_fee_post = "posted"
        invoice = self.create_invoice(partner=self.business, due=date(2026, 1, 31), amount=1000.0)
        charge_invoice, charge = self.charge(invoice, date(2026, 3, 2))
        self.waive(self.business, "Agreed at the phone call")
        credit_note = charge_invoice.reversal_move_ids
        self.assertEqual((credit_note.move_type, credit_note.state), ("out_refund", "posted"))
        self.assertEqual(credit_note.amount_total, 48.22)
        self.assertEqual(charge_invoice.payment_state, "reversed")
        self.assertEqual((charge.state, charge.amount_waived, charge.amount_collected), ("waived", 48.22, 0.0))
        self.assertInChatter(charge_invoice, "Agreed at the phone call")
        self.assertInChatter(invoice, "Agreed at the phone call")

    def test_a_paid_charge_is_not_waived_by_a_credit_note(self):
        self.policy.late_fee_post = "posted"
        invoice = self.create_invoice(partner=self.business, due=date(2026, 1, 31), amount=1000.0)
        charge_invoice, _charge = self.charge(invoice, date(2026, 3, 2))
        self.pay(charge_invoice, when=date(2026, 3, 5))
        with self.assertRaisesRegex(UserError, "already"):
            self.waive(charge_invoice, "Too late")

    # === REPORTING, ACCESS === #

    def test_charged_collected_and_waived_by_month(self):
        self.policy.late_fee_post = "posted"
        paid = self.create_invoice(partner=self.business, due=date(2026, 1, 31), amount=1000.0)
        waived = self.create_invoice(partner=self.customer.copy({"is_company": True}), due=date(2026, 1, 31))
        paid_charge_invoice, _charge = self.charge(paid, date(2026, 3, 2))
        self.charge(waived, date(2026, 3, 2))
        self.pay(paid_charge_invoice, when=date(2026, 3, 20))
        self.waive(waived, "Disputed delivery")
        self.charge(paid, date(2026, 4, 1))  # 30 more days: 8.22, not paid yet
        Charge = self.Charge.with_user(self.accountant)
        groups = Charge._read_group(
            [("source_move_id", "in", (paid | waived).ids)],
            ["date:month"],
            ["amount_company:sum", "amount_collected:sum", "amount_waived:sum"],
        )
        self.assertEqual(
            [(month.month, charged, collected, waived) for month, charged, collected, waived in groups],
            [(3, 96.44, 48.22, 48.22), (4, 8.22, 0.0, 0.0)],
        )

    def test_accountants_read_and_waive_managers_configure(self):
        invoice = self.create_invoice(partner=self.business, due=date(2026, 1, 31), amount=1000.0)
        _charge_invoice, charge = self.charge(invoice, date(2026, 3, 2))
        self.assertEqual(self.Charge.with_user(self.accountant).search([("id", "=", charge.id)]), charge)
        with self.assertRaises(AccessError):
            charge.with_user(self.accountant).write({"amount": 0.0})
        with self.assertRaises(AccessError):
            self.policy.with_user(self.accountant).write({"late_interest_fixed_rate": 50.0})
        with self.assertRaises(AccessError):
            self.env.ref("account_payment_reminder.late_fee_preset_eu").with_user(self.accountant).write(
                {"interest_margin": 1.0}
            )
        manager = new_test_user(
            self.env,
            login="late_charge_manager",
            groups="account.group_account_manager",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        self.policy.with_user(manager).write(
            {"late_interest_fixed_rate": 8.0, "late_fee_tier_ids": [Command.create({"amount_from": 0, "fee": 5})]}
        )
        self.assertEqual(self.policy.late_interest_rate, 8.0)

    def test_charges_of_another_company_are_not_seen(self):
        other = self.env["res.company"].create({"name": "Other Company"})
        invoice = self.create_invoice(partner=self.business, due=date(2026, 1, 31), amount=1000.0)
        _charge_invoice, charge = self.charge(invoice, date(2026, 3, 2))
        charge.sudo().company_id = other  # as if another company had charged it
        self.assertFalse(self.Charge.with_user(self.accountant).search([("id", "=", charge.id)]))
        with self.assertRaises(AccessError):
            charge.with_user(self.accountant).read(["amount"])

    def test_setting_the_total_rate_moves_the_margin(self):
        self.policy.write({"late_interest_type": "reference", "late_reference_rate": 2.15, "late_interest_margin": 8})
        self.assertEqual(self.policy.late_interest_rate, 10.15)
        self.policy.late_interest_rate = 12.15
        self.assertEqual((self.policy.late_reference_rate, self.policy.late_interest_margin), (2.15, 10.0))


@tagged("post_install", "-at_install")
class TestLateChargesByLaw(PaymentReminderCommon):
    """The figures of the statutes, with the shipped reference rates: each
    figure is computed by hand in the comment beside it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Charge = cls.env["account.payment.reminder.late.charge"]
        cls.eur = cls.setup_other_currency("EUR", rates=[("2020-01-01", 0.5)])
        cls.gbp = cls.setup_other_currency("GBP", rates=[("2020-01-01", 0.8)])
        cls.business = cls.env["res.partner"].create(
            {"name": "Deco Addict", "is_company": True, "email": "ap@deco.example", "lang": "en_US"}
        )
        cls.level_final.charge_late_fees = True

    def policy_of(self, preset, company=None, **values):
        policy = self._create_policy(
            company or self.company,
            late_charges_enabled=True,
            late_fee_preset_id=self.env.ref(f"account_payment_reminder.late_fee_preset_{preset}").id,
            **values,
        )
        policy.level_ids.filtered("is_final_notice").charge_late_fees = True
        return policy

    def charge(self, invoice, policy, when):
        level = policy.level_ids.filtered("is_final_notice")
        return self.Run._charge_late_fees(invoice.commercial_partner_id, invoice, level, policy, when)

    # === THE RATE OF EACH HALF-YEAR === #

    def test_a_charge_across_a_rate_change_in_each_jurisdiction(self):
        # 10,000.00 due 15 June 2025, charged 31 July 2025: 15 days (16-30 June) in the first half-year, 31 days
        # (1-31 July) in the second; interest = 10000 x rate x days / 365, each period rounded to the cent
        cases = [
            # France L441-10: ECB on 1 January 2025 3.15 % + 10 = 13.15 %: 10000 x 0.1315 x 15 / 365 = 54.04;
            # ECB on 1 July 2025 2.15 % + 10 = 12.15 %: 10000 x 0.1215 x 31 / 365 = 103.19; total 157.23 (issue 23)
            ("fr", self.business, self.eur, [(13.15, 3.15, 15, 54.04), (12.15, 2.15, 31, 103.19)], 40.0),
            # Directive 2011/7/EU: ECB + 8 = 11.15 % -> 45.82 (45.8219); 10.15 % -> 86.21 (86.2055); total 132.03
            ("eu", self.business, self.eur, [(11.15, 3.15, 15, 45.82), (10.15, 2.15, 31, 86.21)], 40.0),
            # BGB § 288 (2): Basiszinssatz 2.27 % from 1 January 2025 + 9 = 11.27 % -> 10000 x 0.1127 x 15 / 365
            # = 46.32 (46.3151); 1.27 % from 1 July 2025 + 9 = 10.27 % -> 87.22 (87.2247); total 133.54;
            # EUR 40 (§ 288 (5))
            ("de_b2b", self.business, self.eur, [(11.27, 2.27, 15, 46.32), (10.27, 1.27, 31, 87.22)], 40.0),
            # BGB § 288 (1), a consumer: + 5 = 7.27 % -> 29.88 (29.8767); 6.27 % -> 53.25 (53.2521); total 83.13;
            # no fixed sum (the invoice has a calendar due date: the 30 days of § 286 (3) do not apply)
            ("de_consumer", self.customer, self.eur, [(7.27, 2.27, 15, 29.88), (6.27, 1.27, 31, 53.25)], 0.0),
        ]
        for preset, partner, currency, periods, fee in cases:
            with self.subTest(preset=preset):
                policy = self.policy_of(preset)
                invoice = self.create_invoice(partner=partner, due=date(2025, 6, 15), amount=10000.0, currency=currency)
                charge_invoice, charges = self.charge(invoice, policy, date(2025, 7, 31))
                charges = charges.sorted("date_from")
                self.assertRecordValues(
                    charges,
                    [
                        {
                            "date_from": date(2025, 6, 15),
                            "date_to": date(2025, 6, 30),
                            "currency_id": currency.id,
                            "rate": periods[0][0],
                            "reference_rate": periods[0][1],
                            "reference_rate_date": date(2025, 1, 1),
                            "days": periods[0][2],
                            "base_amount": 10000.0,
                            "interest_amount": periods[0][3],
                            "fee_amount": fee,
                        },
                        {
                            "date_from": date(2025, 6, 30),
                            "date_to": date(2025, 7, 31),
                            "currency_id": currency.id,
                            "rate": periods[1][0],
                            "reference_rate": periods[1][1],
                            "reference_rate_date": date(2025, 7, 1),
                            "days": periods[1][2],
                            "base_amount": 10000.0,
                            "interest_amount": periods[1][3],
                            "fee_amount": 0.0,
                        },
                    ],
                )
                interest = round(periods[0][3] + periods[1][3], 2)
                self.assertEqual(charge_invoice.amount_total, round(interest + fee, 2))
                first, second = charge_invoice.invoice_line_ids.filtered(lambda line: "interest" in line.name)
                # each line says which rate: the half-year, the reference rate and the margin
                margin = periods[0][0] - periods[0][1]
                self.assertIn(f"15 days at {periods[0][0]:.2f} % a year", first.name)
                self.assertIn(f"half-year from 01/01/2025: {periods[0][1]:.2f} % + {margin:.2f} points", first.name)
                self.assertIn(f"31 days at {periods[1][0]:.2f} % a year", second.name)
                self.assertIn(f"half-year from 07/01/2025: {periods[1][1]:.2f} % + {margin:.2f} points", second.name)
        # the figure of issue 23: 157.23 in France
        french = self.Charge.search([("policy_id.late_fee_preset_id.country_id.code", "=", "FR")])
        self.assertEqual(round(sum(french.mapped("interest_amount")), 2), 157.23)

        # United Kingdom: the Order fixes the rate for the debt when interest starts to run (SI 2002/1675 art. 4:
        # "the official dealing rate in force on the 30th June ... or the 31st December ... immediately before the
        # day on which statutory interest starts to run"): interest starts on 16 June 2025, Bank Rate on 31 December
        # 2024 4.75 % + 8 = 12.75 % for all 46 days, across 1 July: 10000 x 0.1275 x 46 / 365 = 160.68 (160.6849;
        # with each half-year's rate it would be 52.40 + 104.04 = 156.44); GBP 100 for a debt of GBP 10,000 or more
        policy = self.policy_of("uk")
        self.assertTrue(policy.late_reference_rate_fixed)
        invoice = self.create_invoice(partner=self.business, due=date(2025, 6, 15), amount=10000.0, currency=self.gbp)
        charge_invoice, charge = self.charge(invoice, policy, date(2025, 7, 31))
        self.assertRecordValues(
            charge,
            [
                {
                    "date_from": date(2025, 6, 15),
                    "date_to": date(2025, 7, 31),
                    "days": 46,
                    "rate": 12.75,
                    "reference_rate": 4.75,
                    "reference_rate_date": date(2025, 1, 1),
                    "interest_amount": 160.68,
                    "fee_amount": 100.0,
                }
            ],
        )
        self.assertIn("46 days at 12.75 % a year", charge_invoice.invoice_line_ids[0].name)
        self.assertIn("half-year from 01/01/2025: 4.75 % + 8.00 points", charge_invoice.invoice_line_ids[0].name)
        # a later charge of the same debt keeps the rate: 1-31 August, 31 days: 10000 x 0.1275 x 31 / 365 = 108.29
        _later_invoice, later = self.charge(invoice, policy, date(2025, 8, 31))
        self.assertEqual((later.rate, later.days, later.interest_amount), (12.75, 31, 108.29))

    def test_the_shipped_reference_rates(self):
        Rate = self.env["account.payment.reminder.late.reference.rate"]
        # published half-year figures: ECB MRO on 1 January / 1 July, Basiszinssatz, Bank Rate on 31 Dec / 30 June
        expected = {
            "ecb": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.5, 4.0, 4.5, 4.25, 3.15, 2.15, 2.15],
            "bundesbank": [-0.88] * 6 + [1.62, 3.12, 3.62, 3.37, 2.27, 1.27, 1.27],
            "boe": [0.75, 0.1, 0.1, 0.1, 0.25, 1.25, 3.5, 5.0, 5.25, 5.25, 4.75, 4.25, 3.75],
        }
        for source, figures in expected.items():
            rates = Rate._get_rates(source, date(2019, 12, 31), date(2026, 6, 30))
            self.assertEqual([rate for _since, rate in rates], figures, source)
        # a half-year without its rate is never charged at another one's
        policy = self.policy_of("fr")
        invoice = self.create_invoice(partner=self.business, due=date(2027, 6, 15), amount=1000.0)
        with self.assertRaisesRegex(UserError, "half-year from 01/01/2027 is missing"):
            self.Run._prepare_late_charges(self.business, invoice, self.level_final, policy, date(2027, 7, 31))
        # accountants keep them; billing users read them
        accountant = new_test_user(
            self.env,
            login="rates_accountant",
            groups="account.group_account_user",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        Rate.with_user(accountant).create({"source": "ecb", "date_from": date(2027, 1, 1), "rate": 2.0})
        billing = new_test_user(
            self.env, login="rates_billing", groups="account.group_account_invoice", company_id=self.company.id
        )
        with self.assertRaises(AccessError):
            Rate.with_user(billing).create({"source": "ecb", "date_from": date(2027, 7, 1), "rate": 2.0})
        with self.assertRaises(ValidationError):
            Rate.create({"source": "ecb", "date_from": date(2027, 3, 1), "rate": 2.0})
        # 1,000.00 due 15 June 2027, 46 days to 31 July 2027 at 2.00 + 10 = 12 % in both half-years (now known):
        # one line, 1000 x 0.12 x 46 / 365 = 15.12
        Rate.create({"source": "ecb", "date_from": date(2027, 7, 1), "rate": 2.0})
        vals_list = self.Run._prepare_late_charges(self.business, invoice, self.level_final, policy, date(2027, 7, 31))
        self.assertEqual([vals["interest_amount"] for vals in vals_list], [15.12])

    # === PAID LATE === #

    def test_an_invoice_paid_late_is_charged_once_and_the_next_message_says_so(self):
        self.policy.write(
            {
                "late_charges_enabled": True,
                "late_interest_type": "fixed",
                "late_interest_fixed_rate": 10.0,
                "late_fee_fixed": 40.0,
                "late_charge_paid_late": True,
                "late_charge_paid_late_since": date(2026, 1, 1),
            }
        )
        invoice = self.create_invoice(partner=self.business, due=date(2026, 3, 31), amount=1000.0)
        # paid late in two goes, on their real dates: 400.00 on 10 April, 600.00 on 20 April
        self.pay(invoice, amount=400.0, when=date(2026, 4, 10))
        self.pay(invoice, when=date(2026, 4, 20))
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        other = self.create_invoice(partner=self.business, due=date(2026, 4, 14), amount=500.0)
        self.run_at("2026-04-21 09:00")
        charge = self.Charge.search([("source_move_id", "=", invoice.id)])
        # 1-10 April: 10 days on 1,000.00 -> 1000 x 0.10 x 10 / 365 = 2.7397; 11-20 April: 10 days on 600.00 ->
        # 600 x 0.10 x 10 / 365 = 1.6438; 4.38 and the fixed 40.00 (Directive art. 6; L441-10; § 288 (5) BGB)
        self.assertRecordValues(
            charge,
            [
                {
                    "paid_late": True,
                    "date_from": date(2026, 3, 31),
                    "days": 20,
                    "interest_amount": 4.38,
                    "fee_amount": 40.0,
                    "amount": 44.38,
                }
            ],
        )
        self.assertEqual(charge.charge_move_id.payment_reminder_fee_source_ids, invoice)
        self.assertInChatter(invoice, "paid late")
        # the customer's next message (the other invoice is overdue) states it
        message = self.messages_for(other)
        self.assertEqual(message.late_charge_ids, charge)
        self.assertIn("(paid late)", message.body_html)
        self.assertIn("$\xa044.38", message.body_html)
        # once: the next runs charge nothing more, and say it no more
        self.run_at("2026-04-22 09:00")
        self.run_at("2026-05-25 09:00")
        self.assertEqual(self.Charge.search([("source_move_id", "=", invoice.id)]), charge)
        later = self.messages_for(other) - message
        self.assertTrue(later)
        self.assertNotIn(charge, later.late_charge_ids, "only the final notice's own charge of the other invoice")

    def test_paid_late_only_when_the_policy_says_so(self):
        self.policy.write({"late_charges_enabled": True, "late_interest_type": "fixed", "late_interest_fixed_rate": 10})
        invoice = self.create_invoice(partner=self.business, due=date(2026, 3, 31), amount=1000.0)
        self.pay(invoice, when=date(2026, 4, 20))
        self.run_at("2026-04-21 09:00")
        self.assertFalse(self.Charge.search([("source_move_id", "=", invoice.id)]))
        # on from a date: a payment dated before it is never charged; one on time neither
        self.policy.write({"late_charge_paid_late": True, "late_charge_paid_late_since": date(2026, 4, 21)})
        on_time = self.create_invoice(partner=self.business, due=date(2026, 4, 30), amount=1000.0)
        self.pay(on_time, when=date(2026, 4, 30))
        self.run_at("2026-05-02 09:00")
        self.assertFalse(self.Charge.search([("source_move_id", "in", (invoice | on_time).ids)]))
        for xmlid in ("eu", "fr", "de_b2b", "uk"):
            self.assertTrue(self.env.ref(f"account_payment_reminder.late_fee_preset_{xmlid}").charge_paid_late)
        self.assertFalse(self.env.ref("account_payment_reminder.late_fee_preset_de_consumer").charge_paid_late)

    # === THE FIXED SUMS IN THE LAW'S CURRENCY === #

    def test_uk_tiers_in_pounds_in_a_eur_company_after_the_rate_moved(self):
        eur = self.env.ref("base.EUR")
        company = self.setup_other_company(name="Seller keeping its books in EUR", currency_id=eur.id)["company"]
        # 1 EUR = 0.85 GBP when invoiced, 0.90 GBP when charged
        self.env["res.currency.rate"].create(
            [
                {"currency_id": self.gbp.id, "company_id": company.id, "name": day, "rate": rate}
                for day, rate in (("2026-01-01", 0.85), ("2026-02-15", 0.90))
            ]
            + [{"currency_id": eur.id, "company_id": company.id, "name": "2026-01-01", "rate": 1.0}]
        )
        policy = self.policy_of("uk", company=company)
        self.assertEqual(policy.late_fee_currency_id, self.gbp)
        invoice = self.create_invoice(
            partner=self.business, due=date(2026, 1, 31), amount=999.99, currency=self.gbp, company=company
        )
        _charge_invoice, charge = self.charge(invoice, policy, date(2026, 3, 1))
        # a debt of GBP 999.99 is under GBP 1,000: GBP 40.00 exactly (s. 5A (2A) of the 1998 Act), whatever the
        # EUR rate; interest: Bank Rate on 31 December 2025 3.75 % + 8 = 11.75 %, 1-28 February + 1 March = 29 days:
        # 999.99 x 0.1175 x 29 / 365 = 9.3355 -> 9.34
        self.assertRecordValues(
            charge, [{"currency_id": self.gbp.id, "fee_amount": 40.0, "interest_amount": 9.34, "amount": 49.34}]
        )
        # in the company's books at the charge date: 49.34 / 0.90 = 54.82 EUR
        self.assertAlmostEqual(charge.amount_company, 54.82, places=2)
        # a EUR invoice of the same company: the debt in pounds decides the tier, converted on the charge date
        # (1,120.00 EUR x 0.90 = 1,008.00 GBP: GBP 70, = 70 / 0.90 = 77.78 EUR)
        eur_invoice = self.create_invoice(partner=self.business, due=date(2026, 1, 31), amount=1120.0, company=company)
        self.assertEqual(self.Run._get_late_fee_amount(eur_invoice, policy, date(2026, 3, 1)), 77.78)

    # === WHO PAYS WHAT FIRST === #

    def test_a_german_partial_payment_pays_costs_and_interest_first(self):
        policy = self.policy_of("de_b2b")
        self.assertEqual(policy.late_imputation_order, "costs_interest_principal")
        invoice = self.create_invoice(partner=self.business, due=date(2025, 1, 15), amount=10000.0, currency=self.eur)
        self.pay(invoice, amount=5000.0, when=date(2025, 2, 14))
        # BGB § 367 (1), at 2.27 + 9 = 11.27 % (the base rate from 1 January 2025):
        # 16 January - 14 February, 30 days on 10,000.00: 10000 x 0.1127 x 30 / 365 = 92.63
        # 5,000.00 on 14 February pays 40.00 of costs (§ 288 (5)), 92.63 of interest, 4,867.37 of the debt:
        # 5,132.63 left
        # 15 February - 16 March, 30 days on 5,132.63: 5132.63 x 0.1127 x 30 / 365 = 47.54; interest 140.17
        # (the debt first would give 92.63 + 5000 x 0.1127 x 30 / 365 = 46.32, 138.95)
        [principal_first] = self.Run._prepare_late_charges(
            self.business,
            invoice,
            self.level_final,
            self.policy_of("de_b2b", late_imputation_order="principal"),
            date(2025, 3, 16),
        )
        self.assertEqual(principal_first["interest_amount"], 138.95)
        _charge_invoice, charge = self.charge(invoice, policy, date(2025, 3, 16))
        self.assertRecordValues(
            charge,
            [{"days": 60, "rate": 11.27, "interest_amount": 140.17, "fee_amount": 40.0, "base_amount": 7566.32}],
        )
        segments = json.loads(charge.segments)
        self.assertEqual([days for _from, _to, days, _base in segments], [30, 30])
        self.assertAlmostEqual(segments[1][3], 5132.63, places=2)

    # === A CONSUMER WITHOUT A CALENDAR DUE DATE === #

    def test_a_german_consumer_is_late_30_days_after_the_invoice(self):
        policy = self.policy_of("de_consumer")
        self.assertTrue(policy.late_consumer_30_days)
        self.assertIn("§ 286 (3)", policy.late_fee_preset_note)
        immediate = self.env.ref("account.account_payment_term_immediate")
        invoice = self.create_invoice(
            partner=self.customer,
            due=date(2025, 1, 2),
            amount=1000.0,
            currency=self.eur,
            invoice_date=date(2025, 1, 2),
            invoice_payment_term_id=immediate.id,
        )
        self.assertEqual(invoice.invoice_date_due, date(2025, 1, 2))
        when = date(2025, 3, 3)
        # due at once, no calendar date: late from 30 days after the invoice (BGB § 286 (3)), 2 February - 3 March =
        # 30 days at 2.27 + 5 = 7.27 %: 1000 x 0.0727 x 30 / 365 = 5.98
        [vals] = self.Run._prepare_late_charges(self.customer, invoice, self.level_final, policy, when)
        self.assertEqual((vals["date_from"], vals["days"], vals["interest_amount"]), (date(2025, 2, 1), 30, 5.98))
        # without the option: from the due date, 60 days: 1000 x 0.0727 x 60 / 365 = 11.95
        policy.late_consumer_30_days = False
        [vals] = self.Run._prepare_late_charges(self.customer, invoice, self.level_final, policy, when)
        self.assertEqual((vals["days"], vals["interest_amount"]), (60, 11.95))
        # a fixed calendar due date (20 January, entered on the invoice) counts from that date (§ 286 (2) no. 1):
        # 21 January - 3 March = 42 days: 1000 x 0.0727 x 42 / 365 = 8.37
        policy.late_consumer_30_days = True
        dated = self.create_invoice(
            partner=self.customer,
            due=date(2025, 1, 20),
            amount=1000.0,
            currency=self.eur,
            invoice_date=date(2025, 1, 2),
        )
        [vals] = self.Run._prepare_late_charges(self.customer, dated, self.level_final, policy, when)
        self.assertEqual((vals["days"], vals["interest_amount"]), (42, 8.37))

    def assertInChatter(self, record, text):
        self.assertTrue(any(text in str(message.body) for message in record.message_ids), text)
