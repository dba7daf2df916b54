"""Late-payment charges: statutory interest on what was overdue each day, the
fixed compensation once per invoice, charged once, stated in the reminder,
waivable, reported. Figures are worked out by hand in the comments."""

from datetime import date

from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import BaseCase, Form, new_test_user, tagged
from odoo.tools import mute_logger

from ..tools.late_charges import (
    Segment,
    average_base,
    first_late_day,
    fixed_compensation,
    overdue_segments,
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


@tagged("post_install", "-at_install")
class TestLateCharges(PaymentReminderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # about the charges of the levels that charge: an invoice gets the level of its age at once (catch-up)
        cls.policy.catch_up = True
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
        cases = [
            # preset, what the admin completes, rate, scope, fixed, tiers, interest and fee on 2,000.00 over 30 days
            # EU: ECB 2.15 + 8 = 10.15 %: 2000 x 0.1015 x 30 / 365 = 16.68; 40 EUR = 80.00 USD
            ("late_fee_preset_eu", {"late_reference_rate": 2.15}, 10.15, "company", 80.0, [], 16.68, 80.0),
            # France: ECB 2.15 + 10 = 12.15 %: 19.97; 40 EUR = 80.00 USD
            ("late_fee_preset_fr", {"late_reference_rate": 2.15}, 12.15, "company", 80.0, [], 19.97, 80.0),
            # Germany between businesses: base rate 1.27 + 9 = 10.27 %: 16.88; 40 EUR = 80.00 USD
            ("late_fee_preset_de_b2b", {"late_reference_rate": 1.27}, 10.27, "company", 80.0, [], 16.88, 80.0),
            # Germany with consumers: 1.27 + 5 = 6.27 %: 10.31; no fixed sum; consumers only
            ("late_fee_preset_de_consumer", {"late_reference_rate": 1.27}, 6.27, "person", 0.0, [], 10.31, 0.0),
            # United Kingdom: base rate 4 + 8 = 12 %: 19.73; 2,000.00 USD is from 1,000 GBP (1,250.00 USD): 70 GBP
            (
                "late_fee_preset_uk",
                {"late_reference_rate": 4.0},
                12.0,
                "company",
                0.0,
                [(0.0, 50.0), (1250.0, 87.5), (12500.0, 125.0)],
                19.73,
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
            with self.subTest(preset=xmlid):
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
        self.setup_other_currency("GBP", rates=[("2020-01-01", 0.8)])
        with Form(self.policy) as form:
            form.late_fee_preset_id = self.env.ref("account_payment_reminder.late_fee_preset_uk")
            self.assertEqual(form.late_interest_type, "reference")
            self.assertEqual(form.late_interest_margin, 8.0)
            self.assertEqual(len(form.late_fee_tier_ids), 3)
            self.assertIn("31 December", form.late_fee_preset_note)
            self.assertIn("date of the reference rate", form.late_reference_rate_warning)
            form.late_reference_rate = 4.0
            form.late_reference_rate_date = date(2026, 8, 7)
        self.assertEqual(self.policy.late_interest_rate, 12.0)
        self.assertEqual(self.policy._get_late_fee_tiers(), [(0.0, 50.0), (1250.0, 87.5), (12500.0, 125.0)])
        self.assertEqual(self.policy.late_fee_legal_ref, "Late Payment of Commercial Debts (Interest) Act 1998")
        with self.frozen("2027-03-01 09:00"):
            self.policy.invalidate_recordset(["late_reference_rate_warning"])
            self.assertIn("still the one in force", self.policy.late_reference_rate_warning)

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
        self.policy.write({"late_fee_preset_id": preset.id, "late_reference_rate": 2.15})
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
