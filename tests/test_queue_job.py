"""Sending on OCA queue_job. These tests are collected only where queue_job
is on the addons path (tests/__init__.py) and run in the test pass that
installs it beside the addon (scripts/run_tests.py, tag ``queue_job``); the
other passes leave them out, as queue_job is not a dependency."""

from datetime import date

from odoo.tests import tagged

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.tests.common import trap_jobs

from ..models.account_payment_reminder_message_job import JOB_CUSTOMERS
from .common import ChannelCommon
from .test_channels import _meta_error

OVERDUE = "2026-04-07 09:00"


@tagged("post_install", "-at_install", "queue_job")
class TestSendingOnQueueJob(ChannelCommon):
    def test_queue_job_is_installed_and_used(self):
        self.assertIn("queue.job", self.env)
        self.assertTrue(self.Message._use_queue_job())

    def test_the_scheduler_decides_then_enqueues_bounded_jobs_per_provider(self):
        self.gateway_wa.state = "disabled"
        self.gateway_twilio.state = "disabled"
        customers = self.env["res.partner"].create(
            [{"name": f"Customer {n}", "email": f"ap{n}@customers.example"} for n in range(JOB_CUSTOMERS + 5)]
        )
        invoices = self.env["account.move"]
        for customer in customers:
            invoices |= self.create_invoice(partner=customer, due=date(2026, 3, 31))
        with trap_jobs() as trap:
            stats = self.run_at(OVERDUE)
            messages = self.messages_for(invoices)
            self.assertEqual(stats["queued"], len(customers))
            self.assertEqual(stats["jobs"], 2, "at most JOB_CUSTOMERS customers a job")
            self.assertEqual(set(messages.mapped("state")), {"queued"}, "the scheduler only decided and queued")
            trap.assert_jobs_count(2)
            self.assertEqual(
                sorted(len(job.recordset) for job in trap.enqueued_jobs), [5, JOB_CUSTOMERS], "whole customers a job"
            )
            self.assertEqual({job.channel for job in trap.enqueued_jobs}, {"root.payment_reminder.mail"})
            with self.frozen(OVERDUE):
                trap.perform_enqueued_jobs()
        self.assertEqual(set(messages.mapped("state")), {"sent"})
        self.assertEqual(len(messages.mail_id), len(customers))

    def test_a_job_that_runs_twice_sends_once(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        with trap_jobs() as trap:
            self.run_at(OVERDUE)
            (job,) = trap.enqueued_jobs
            self.assertEqual(job.channel, "root.payment_reminder.whatsapp")
            with self.frozen(OVERDUE):
                job.perform()
                job.perform()  # the runner lost track of it and ran it again
        self.assertEqual(self.messages_for(invoice).state, "sent")
        self.assertEqual(len(self.fake.sent("meta")), 1)

    def test_a_job_checks_again_that_the_customer_still_owes(self):
        paid = self.create_invoice(due=date(2026, 3, 31))
        held = self.create_invoice(partner=self.customer.copy({"name": "Held"}), due=date(2026, 3, 31))
        with trap_jobs() as trap:
            self.run_at(OVERDUE)
            self.pay(paid)  # between the decision and the job
            held.partner_id.payment_reminder_hold_until = date(2026, 4, 30)
            with self.frozen(OVERDUE):
                trap.perform_enqueued_jobs()
        for invoice in (paid, held):
            message = self.messages_for(invoice)
            self.assertEqual((message.state, message.failure_code), ("cancelled", "no_longer_owed"))
            self.assertIn("Not sent", message.failure_reason)
        self.assertFalse(self.fake.sent("meta"), "nothing went")

    def test_a_rate_limit_retries_the_job_after_the_providers_delay(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.fake.answer("+32470123456", 429, _meta_error(130429, "Rate limit hit"))
        with trap_jobs() as trap:
            self.run_at(OVERDUE)
            (job,) = trap.enqueued_jobs
            with self.frozen(OVERDUE):
                # not assertRaises: Odoo's rolls the block back, and what the job wrote before raising stays
                try:
                    job.perform()
                except RetryableJobError as error:
                    retry = error
                else:
                    self.fail("the job should ask to be retried")
        message = self.messages_for(invoice)
        self.assertEqual((message.state, message.failure_code), ("queued", "130429"), "back in the queue")
        delay = (message.next_attempt_at - self.utc(2026, 4, 7, 9, 0)).total_seconds()
        self.assertEqual(retry.seconds, delay, "the job waits as long as the message")
        self.assertTrue(retry.ignore_retry, "a rate limit is not the job's failure")
