"""The message owns its life: one dispatch loop for messages and their
fallbacks, and commits only where the scheduler makes them."""

import time
from datetime import date
from unittest.mock import patch

import odoo
from odoo import Command
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import config

from ..models.account_payment_reminder_message_dispatch import Claim
from .common import PaymentReminderCommon


@tagged("post_install", "-at_install")
class TestOneDispatchLoop(PaymentReminderCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.policy.catch_up = True
        cls.sandbox = cls.env["account.payment.reminder.gateway"].create(
            {
                "name": "Sandbox",
                "provider": "sandbox",
                "state": "test",
                "use_email": True,
                "use_whatsapp": True,
                "use_sms": True,
                "sequence": 1,
                "rate_limit": 2.0,  # two messages a second
            }
        )
        cls.level_overdue.write(
            {
                "use_whatsapp": True,
                "use_sms": True,
                "use_email": True,
                "channel_strategy": "fallback",
                "sms_template_id": cls.env.ref("account_payment_reminder.sms_template_overdue").id,
                "whatsapp_template_ids": [
                    Command.set(cls.env.ref("account_payment_reminder.whatsapp_template_overdue").ids)
                ],
            }
        )
        cls.gateway_mail.state = "disabled"
        # the sandbox cannot reach a number ending in 0000 on WhatsApp nor by SMS: e-mail is the last resort
        cls.customer.mobile = "+32 470 12 00 00"

    def test_a_failure_falls_back_within_the_same_loop_and_its_rate_limit(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        with self.frozen("2026-04-07 09:00"):
            partners = [partner for partner, _count in self.Run._get_candidate_partners()]
            whatsapp = self.Run._apply(self.Run._decide(partners, self.utc(2026, 4, 7, 9, 0)))
        self.assertEqual((whatsapp.channel, whatsapp.state), ("whatsapp", "queued"))
        started = time.monotonic()  # on the real clock: a frozen one would not see the waits
        handed_over = whatsapp._dispatch()
        elapsed = time.monotonic() - started
        sms, email = self.messages_for(invoice) - whatsapp
        self.assertEqual((whatsapp.state, sms.state, email.state), ("failed", "failed", "sent"))
        self.assertEqual((sms.parent_id, email.parent_id), (whatsapp, sms))
        self.assertEqual(
            handed_over, whatsapp | sms | email, "the fallbacks went through the loop that met the failure"
        )
        # three calls to one gateway at two a second: the fallbacks waited their turn like any message
        self.assertGreaterEqual(elapsed, 0.95)

    def test_a_gateway_disabled_after_the_queueing_sends_nothing(self):
        self.create_invoice(due=date(2026, 3, 31))
        with self.frozen("2026-04-07 09:00"):
            partners = [partner for partner, _count in self.Run._get_candidate_partners()]
            whatsapp = self.Run._apply(self.Run._decide(partners, self.utc(2026, 4, 7, 9, 0)))
        self.assertEqual((whatsapp.gateway_id, whatsapp.state), (self.sandbox, "queued"))
        self.sandbox.state = "disabled"
        whatsapp._dispatch()
        self.assertEqual((whatsapp.state, whatsapp.failure_code), ("failed", "no_gateway"))
        self.assertFalse(whatsapp.provider_message_id, "nothing reached the provider")


@tagged("post_install", "-at_install")
class TestNoCommitInARequest(PaymentReminderCommon):
    """A button, a wizard or a plan approval is one request: it never commits
    partway through, even where a commit would be allowed (outside tests).
    Odoo's test case refuses any commit, so each call below fails if the
    code commits; the flags that make ``_can_commit`` true outside tests are
    set as in production."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = new_test_user(
            cls.env,
            login="lifecycle_accountant",
            groups="account.group_account_manager",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        # outside tests Odoo's mail queue would reach for an SMTP server: the sandbox stands in for it
        cls.gateway_mail.state = "disabled"
        cls.env["account.payment.reminder.gateway"].create(
            {"name": "Sandbox", "provider": "sandbox", "state": "test", "use_email": True, "sequence": 1}
        )

    def as_in_production(self):
        self.startPatcher(patch.dict(config.options, {"test_enable": False}))
        self.startPatcher(patch.object(odoo.modules.module, "current_test", None))
        self.assertTrue(self.env["account.move"]._can_commit(), "commits would be allowed here")

    def test_the_send_wizard_sends_without_committing(self):
        invoice = self.create_invoice(due=date(2026, 3, 20), amount=400.0)
        with self.frozen("2026-04-01 10:00"):
            context = {"active_model": "account.move", "active_ids": invoice.ids}
            form = Form(self.env(user=self.accountant)["account.payment.reminder.send"].with_context(**context))
            wizard = form.save()
            self.as_in_production()
            wizard.action_send()
        self.assertEqual(self.messages_for(invoice).state, "sent")

    def test_retry_and_plan_approval_do_not_commit(self):
        invoice = self.create_invoice(due=date(2026, 3, 20), amount=400.0)
        self.run_at("2026-04-01 10:00")
        message = self.messages_for(invoice)
        message.sudo().write({"state": "failed", "failure_code": "mail_smtp", "failure_reason": "Down."})
        later = self.create_invoice(due=date(2026, 3, 25), amount=400.0)
        with self.frozen("2026-04-02 10:00"):
            plan = self.env["account.payment.reminder.plan"].create(
                {
                    "partner_id": self.customer.id,
                    "company_id": self.company.id,
                    "currency_id": later.currency_id.id,
                    "move_ids": [Command.set(later.ids)],
                    "state": "pending",
                    "line_ids": [
                        Command.create({"date": date(2026, 5, 1), "amount": 200.0}),
                        Command.create({"date": date(2026, 6, 1), "amount": 200.0}),
                    ],
                }
            )
        with self.frozen("2026-04-02 10:00"):
            self.as_in_production()
            message.with_user(self.accountant).action_retry()
            plan.with_user(self.accountant).action_approve()
        self.assertEqual(message.state, "sent")
        self.assertEqual(plan.state, "active")
        self.assertEqual(
            self.Message.search([("plan_id", "=", plan.id)]).mapped("kind"), ["plan_summary"], "the schedule went"
        )

    def test_proposing_a_plan_sends_its_schedule_without_committing(self):
        invoice = self.create_invoice(due=date(2026, 3, 20), amount=900.0)
        with self.frozen("2026-04-05 10:00"):
            form = Form(
                self.env(user=self.accountant)["account.payment.reminder.plan.propose"].with_context(
                    active_model="account.move", active_ids=invoice.ids
                )
            )
            form.instalment_count = 3
            form.first_date = date(2026, 4, 10)
            wizard = form.save()
            self.as_in_production()
            action = wizard.action_create_plan()
        plan = self.env["account.payment.reminder.plan"].browse(action["res_id"])
        self.assertEqual(plan.message_ids_reminder.mapped("state"), ["sent"])


@tagged("post_install", "-at_install")
class TestProviderRates(PaymentReminderCommon):
    def test_each_provider_starts_at_what_it_allows(self):
        Gateway = self.env["account.payment.reminder.gateway"]
        whatsapp = Gateway.create({"name": "WA", "provider": "whatsapp", "use_whatsapp": True})
        twilio = Gateway.create({"name": "SMS", "provider": "twilio", "use_sms": True})
        sandbox = Gateway.create({"name": "Sandbox", "provider": "sandbox", "use_sms": True, "rate_limit": 5.0})
        self.assertEqual((whatsapp.rate_limit, twilio.rate_limit, sandbox.rate_limit), (80.0, 1.0, 5.0))

    def test_an_sms_waits_for_its_segments(self):
        """A long code sends a segment at a time: after an SMS of three
        segments, the next call waits three times as long as after one."""
        sms = self.Message.new({"channel": "sms", "segments": 3})
        claim = Claim(1, "+32470123456", 10.0, 0, (True, None))  # ten segments a second
        last_call = {}
        sms._respect_rate_limit(last_call, claim)
        started = time.monotonic()
        sms._respect_rate_limit(last_call, claim)
        self.assertGreaterEqual(time.monotonic() - started, 0.28)
        self.assertEqual(last_call[1][1], 3)
