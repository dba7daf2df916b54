"""Fixtures shared by the tests: a company with its own policy and ladder,
customers in several time zones, and helpers to make invoices and run the
scheduler at a given instant."""

from contextlib import contextmanager
from datetime import date, datetime

from freezegun import freeze_time

from odoo import Command, fields

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from ..providers.fake_server import FakeProviderServer
from ..providers.odoo_sms.fake import IapSmsFake
from ..providers.twilio.fake import TWILIO_SID, TWILIO_TOKEN, TwilioFake
from ..providers.whatsapp.fake import META_TOKEN, MetaFake


class PaymentReminderCommon(AccountTestInvoicingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.company.write({"email": "billing@company.example", "phone": "+1 555 0100"})
        cls.Message = cls.env["account.payment.reminder.message"]
        # the scheduler's internals run as the superuser, like the cron
        cls.Run = cls.env["account.payment.reminder.run"].sudo()
        cls.policy = cls._create_policy(cls.company)
        cls.company.payment_reminder_policy_id = cls.policy
        levels = cls.policy.level_ids.sorted("sequence")
        cls.level_courtesy, cls.level_due, cls.level_overdue, cls.level_followup, cls.level_final = levels
        # e-mail goes through Odoo's own mail queue (which does not leave the machine under tests)
        cls.gateway_mail = cls.env.ref("account_payment_reminder.gateway_mail")
        cls._isolate_from_existing_data()
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Azure Interior",
                "email": "ap@azure.example",
                "tz": "Europe/Brussels",
                "lang": "en_US",
                "country_id": cls.env.ref("base.be").id,
                "mobile": "+32 470 12 34 56",
            }
        )

    @classmethod
    def _isolate_from_existing_data(cls):
        """Each test sees what it creates, on a database installed with demo
        data (as OCA's CI and Odoo's runbot install an addon) or without: the
        shipped Odoo e-mail gateway is the only one on (the demo turns it off
        for its sandbox), and the open invoices already there (the demo's
        customers, dated from the day it was installed) take no part in the
        runs."""
        gateways = cls.env["account.payment.reminder.gateway"].search([("state", "!=", "disabled")])
        (gateways - cls.gateway_mail).write({"state": "disabled"})
        cls.gateway_mail.state = "enabled"
        existing = cls.env["account.move"].search(
            [("move_type", "=", "out_invoice"), ("state", "=", "posted"), ("payment_reminder_exclude", "=", False)]
        )
        existing.write({"payment_reminder_exclude": True})

    @classmethod
    def _create_policy(cls, company, **values):
        """A ladder like the shipped one, with a window open all day every day
        and no interval nor budget, so that each test turns on only the rule it
        is about."""
        template = cls.env.ref
        return cls.env["account.payment.reminder.policy"].create(
            {
                "name": "Test policy",
                "company_id": company.id,
                "min_interval_days": 0,
                "max_messages_per_week": 0,
                "window_start": 0.0,
                "window_end": 24.0,
                "window_sat": True,
                "window_sun": True,
                "default_tz": "UTC",
                "level_ids": [
                    Command.create(
                        {
                            "name": name,
                            "sequence": sequence,
                            "offset_days": offset,
                            "use_email": True,
                            "mail_template_id": template(f"account_payment_reminder.mail_template_{key}").id,
                            "is_final_notice": key == "final",
                        }
                    )
                    for name, key, sequence, offset in (
                        ("Courtesy", "courtesy", 10, -3),
                        ("Due today", "due", 20, 0),
                        ("Overdue", "overdue", 30, 7),
                        ("Second reminder", "followup", 40, 14),
                        ("Final notice", "final", 50, 30),
                    )
                ],
                **values,
            }
        )

    @classmethod
    def _prepare_payment_provider(cls, company):
        """A payment provider in ``company`` that needs no provider addon, built
        as Odoo's payment tests build theirs (``payment.tests.common``): code
        'none', the generic payment method, and a redirect form standing for the
        bank's page, which sends the customer to Odoo's payment status page.
        The bank's confirmation is what a test does with ``_set_done()``;
        payments are booked in the company's bank journal."""
        env = cls.env(su=True)  # payment providers are the administrator's
        method = env.ref("payment.payment_method_unknown")
        form = env["ir.ui.view"].create(
            {"name": "Test bank's page", "type": "qweb", "arch": '<form action="/payment/status" method="get"/>'}
        )
        journal = env["account.journal"].search(
            [("company_id", "=", company.id), ("type", "=", "bank")], order="sequence, id", limit=1
        )
        provider = env["payment.provider"].create(
            {
                "name": f"Test bank ({company.name})",
                "code": "none",
                "state": "test",
                "is_published": True,
                "company_id": company.id,
                "payment_method_ids": [Command.set(method.ids)],
                "redirect_form_view_id": form.id,
                "journal_id": journal.id,
            }
        )
        method.active = True  # once a provider supports it, as payment.tests.common does
        # where the bank's payments are booked: a manual receipt line of the journal, as the provider's own
        env["account.payment.method.line"].create(
            {
                "name": provider.name,
                "payment_method_id": env.ref("account.account_payment_method_manual_in").id,
                "journal_id": journal.id,
                "payment_provider_id": provider.id,
            }
        )
        return provider

    @classmethod
    def create_invoice(cls, partner=None, due=date(2026, 3, 31), amount=1000.0, currency=None, company=None, **values):
        """A posted customer invoice dated a month before ``due``, without taxes."""
        company = company or cls.company
        move = (
            cls.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": (partner or cls.customer).id,
                    "invoice_date": fields.Date.subtract(due, days=30),
                    "invoice_date_due": due,
                    "currency_id": (currency or company.currency_id).id,
                    "invoice_line_ids": [
                        Command.create({"name": "Consulting", "quantity": 1, "price_unit": amount, "tax_ids": []})
                    ],
                    **values,
                }
            )
        )
        move.action_post()
        return move

    def pay(self, invoice, amount=None, when=None):
        """Register a payment (the whole residual by default)."""
        wizard = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create(
                {
                    "amount": amount if amount is not None else invoice.amount_residual,
                    "payment_date": when or invoice.invoice_date_due,
                    "payment_difference_handling": "open",
                }
            )
        )
        wizard.action_create_payments()
        return invoice

    def run_at(self, moment, **kwargs):
        """Run the scheduler at ``moment`` (a naive UTC datetime or a string):
        every scheduled entry, then the ladder (``_run_everything``); a dry
        run (``send=False``) is the ladder's alone."""
        with freeze_time(moment):
            if kwargs.get("send", True):
                return self.Run._run_everything(partner_ids=kwargs.get("partner_ids"))
            return self.Run._run(**kwargs)

    @contextmanager
    def frozen(self, moment):
        with freeze_time(moment):
            yield

    def messages_for(self, invoice):
        return self.Message.search([("move_ids", "in", invoice.ids)], order="id")

    @staticmethod
    def utc(*args):
        return datetime(*args)

    def tracker_for(self, short_url):
        """The link tracker behind a short link (short_url is not searchable)."""
        code = short_url.rstrip("/").rsplit("/", 1)[-1]
        tracker = self.env["link.tracker.code"].search([("code", "=", code)]).link_id
        self.assertEqual(len(tracker), 1, short_url)
        self.assertEqual(tracker.short_url, short_url)
        return tracker


class ChannelCommon(PaymentReminderCommon):
    """WhatsApp through Meta, SMS through Twilio, e-mail as the last resort,
    with a local fake provider server behind both gateways."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the channel tests are about the channels and templates of one level: an invoice gets the level of its
        # age at once, as the policy's catch-up allows (tests/test_ladder.py climbs the ladder one level at a time)
        cls.policy.catch_up = True
        cls.fake = FakeProviderServer(MetaFake, TwilioFake, IapSmsFake).start()
        cls.addClassCleanup(cls.fake.stop)
        ref = cls.env.ref
        for key in ("courtesy", "due", "overdue", "followup", "final"):
            template = ref(f"account_payment_reminder.whatsapp_template_{key}")
            cls.fake.meta_templates[(template.template_name, template.lang_code)] = len(template.param_ids)
        Gateway = cls.env["account.payment.reminder.gateway"]
        cls.gateway_wa = Gateway.create(
            {
                "name": "WhatsApp",
                "provider": "whatsapp",
                "state": "enabled",
                "use_whatsapp": True,
                "wa_phone_number_id": "106540352242922",
                "wa_access_token": META_TOKEN,
                "wa_app_secret": "meta-app-secret",
                "wa_verify_token": "verify-me",
                "wa_base_url": cls.fake.url,
                "timeout": 2,
            }
        )
        cls.gateway_twilio = Gateway.create(
            {
                "name": "Twilio SMS",
                "provider": "twilio",
                "state": "enabled",
                "use_sms": True,
                "twilio_account_sid": TWILIO_SID,
                "twilio_auth_token": TWILIO_TOKEN,
                "twilio_from_number": "+15550100",
                "twilio_whatsapp_from": "+15550101",
                "twilio_base_url": cls.fake.url,
                "timeout": 2,
            }
        )
        for level in cls.policy.level_ids:
            key = {"Courtesy": "courtesy", "Due today": "due", "Overdue": "overdue"}.get(level.name, "followup")
            if level.is_final_notice:
                key = "final"
            level.write(
                {
                    "use_whatsapp": True,
                    "use_sms": True,
                    "use_email": True,
                    "channel_strategy": "fallback",
                    "sms_template_id": ref(f"account_payment_reminder.sms_template_{key}").id,
                    "whatsapp_template_ids": [
                        Command.set(ref(f"account_payment_reminder.whatsapp_template_{key}").ids)
                    ],
                }
            )

    def setUp(self):
        super().setUp()
        self.fake.reset()
