from datetime import date, datetime

from odoo.tests import tagged

from ..models.account_payment_reminder_run import RUN_LOCK_KEY
from .common import PaymentReminderCommon


@tagged("post_install", "-at_install")
class TestReliability(PaymentReminderCommon):
    """Never twice, never lost: idempotency, crashes, concurrent runs."""

    def test_second_run_at_the_same_instant_sends_nothing(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        first = self.run_at("2026-03-31 09:00")
        second = self.run_at("2026-03-31 09:00")
        self.assertEqual(first["sent"], 1)
        self.assertEqual(second["queued"], 0)
        self.assertEqual(second["sent"], 0)
        self.assertEqual(len(self.messages_for(invoice)), 1)

    def test_crash_after_commit_before_send_does_not_duplicate(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        other = self.create_invoice(partner=self.customer.copy({"name": "Other"}), due=date(2026, 3, 31))
        with self.frozen("2026-03-31 09:00"):
            # what a run commits before it calls any provider, then the process dies
            partners = [partner for partner, _count in self.Run._get_candidate_partners()]
            queued = self.Run._apply(self.Run._decide(partners, datetime(2026, 3, 31, 9, 0)))
        self.assertEqual(len(queued), 2)
        self.assertEqual(set(queued.mapped("state")), {"queued"})
        self.assertFalse(queued.mail_id, "nothing reached the mail queue yet")
        # the next run sends each queued message once and queues nothing new
        stats = self.run_at("2026-03-31 10:00")
        self.assertEqual(stats["retried"], 2)
        self.assertEqual(stats["queued"], 0)
        self.assertEqual(self.messages_for(invoice | other), queued)
        self.assertEqual(set(queued.mapped("state")), {"sent"})
        self.assertEqual(len(queued.mail_id), 2)
        self.run_at("2026-03-31 11:00")
        self.assertEqual(len(self.env["mail.mail"].search([("id", "in", queued.mail_id.ids)])), 2)
        self.assertEqual(self.messages_for(invoice | other), queued)

    def test_crash_during_send_is_failed_not_resent(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        with self.frozen("2026-03-31 09:00"):
            partners = [partner for partner, _count in self.Run._get_candidate_partners()]
            message = self.Run._apply(self.Run._decide(partners, datetime(2026, 3, 31, 9, 0)))
            # the provider was being called when the process died
            self.assertTrue(message._claim(datetime(2026, 3, 31, 9, 0)))
        self.assertEqual(message.state, "sending")
        self.run_at("2026-03-31 09:05")
        self.assertEqual(message.state, "sending", "a slow provider call is left alone")
        self.run_at("2026-03-31 09:30")
        self.assertEqual(message.state, "failed")
        self.assertEqual(message.failure_code, "interrupted")
        self.assertIn("not sent again", message.failure_reason)
        self.assertFalse(message.mail_id)
        self.assertEqual(self.messages_for(invoice), message, "and no new message for that level")

    def test_a_second_run_at_once_leaves_the_work_to_the_first(self):
        """Two runs at once (two cron workers, a manual run beside the cron):
        the second returns at once, without a traceback, and sends nothing;
        the next one after the first ended does the work."""
        invoice = self.create_invoice(due=date(2026, 3, 31))
        with self.env.registry.cursor() as other_run:  # another connection: the run already sending
            other_run.execute("SELECT pg_try_advisory_xact_lock(%s)", [RUN_LOCK_KEY])
            self.assertTrue(other_run.fetchone()[0])
            stats = self.run_at("2026-03-31 09:00")
            self.assertTrue(stats["busy"])
            self.assertEqual(stats["sent"], 0)
            self.assertFalse(self.messages_for(invoice))
            dry = self.run_at("2026-03-31 09:00", send=False)
            self.assertEqual(len(dry["groups"]), 1, "the dry run does not wait for the lock")
        stats = self.run_at("2026-03-31 09:00")
        self.assertFalse(stats["busy"])
        self.assertEqual(stats["sent"], 1)

    def test_two_runs_queueing_the_same_reminder_create_one_row(self):
        self.create_invoice(due=date(2026, 3, 31))
        with self.frozen("2026-03-31 09:00"):
            now = datetime(2026, 3, 31, 9, 0)
            partners = [partner for partner, _count in self.Run._get_candidate_partners()]
            # both runs decided before either wrote anything
            groups_a = self.Run._decide(partners, now)
            groups_b = self.Run._decide(partners, now)
            first = self.Run._apply(groups_a)
            second = self.Run._apply(groups_b)
        self.assertEqual(len(first), 1)
        self.assertFalse(second)
        self.assertEqual(self.Message.search_count([("partner_id", "=", self.customer.id)]), 1)

    def test_claim_is_exclusive(self):
        self.create_invoice(due=date(2026, 3, 31))
        with self.frozen("2026-03-31 09:00"):
            partners = [partner for partner, _count in self.Run._get_candidate_partners()]
            message = self.Run._apply(self.Run._decide(partners, datetime(2026, 3, 31, 9, 0)))
            self.assertTrue(message._claim(datetime(2026, 3, 31, 9, 0)))
            self.assertFalse(message._claim(datetime(2026, 3, 31, 9, 0)), "the second sender backs off")

    def test_sandbox_bounce_is_a_failure_with_reason(self):
        sandbox = self.env["account.payment.reminder.gateway"].create(
            {"name": "Sandbox", "provider": "sandbox", "state": "test", "use_email": True}
        )
        self.gateway_mail.state = "disabled"
        bouncing = self.customer.copy({"name": "Gone Ltd", "email": "ap@gone.invalid"})
        invoice = self.create_invoice(partner=bouncing, due=date(2026, 3, 31))
        fine = self.create_invoice(due=date(2026, 3, 31))
        self.run_at("2026-03-31 09:00")
        bounced = self.messages_for(invoice)
        self.assertEqual(bounced.state, "failed")
        self.assertEqual(bounced.gateway_id, sandbox)
        self.assertEqual(bounced.failure_code, "sandbox_bounce")
        sent = self.messages_for(fine)
        self.assertEqual(sent.state, "sent")
        self.assertTrue(sent.provider_message_id.startswith("sandbox-"))
        self.assertIn(fine.name, sent.sudo().provider_payload, "what would have gone out is recorded")

    def test_enabled_gateway_wins_over_test_gateway(self):
        self.env["account.payment.reminder.gateway"].create(
            {"name": "Sandbox", "provider": "sandbox", "state": "test", "use_email": True, "sequence": 1}
        )
        invoice = self.create_invoice(due=date(2026, 3, 31))
        self.run_at("2026-03-31 09:00")
        self.assertEqual(self.messages_for(invoice).gateway_id, self.gateway_mail)

    def test_no_gateway_waits_without_failing(self):
        self.gateway_mail.state = "disabled"
        invoice = self.create_invoice(due=date(2026, 3, 31))
        stats = self.run_at("2026-03-31 09:00")
        self.assertEqual(stats["skipped_no_gateway"], 1)
        self.assertFalse(self.messages_for(invoice))
        self.gateway_mail.state = "enabled"
        self.run_at("2026-03-31 10:00")
        self.assertEqual(self.messages_for(invoice).state, "sent")

    def test_batches_cover_every_customer(self):
        customers = self.env["res.partner"].create(
            [{"name": f"Customer {i}", "email": f"c{i}@example.com"} for i in range(7)]
        )
        invoices = self.env["account.move"]
        for customer in customers:
            invoices |= self.create_invoice(partner=customer, due=date(2026, 3, 31))
        self.patch(type(self.Run), "_batch_size", lambda self: 3)
        stats = self.run_at("2026-03-31 09:00")
        self.assertEqual(stats["sent"], 7)
        self.assertEqual(len(self.Message.search([("move_ids", "in", invoices.ids)])), 7)


BOUNCE = """From: MAILER-DAEMON@mx.azure.example (Mail Delivery System)
To: billing@company.example
Subject: Undelivered Mail Returned to Sender
Message-Id: <20260407090500.4F2A1@mx.azure.example>
Date: Tue, 07 Apr 2026 09:05:00 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="4F2A1.1775552700/mx.azure.example"

--4F2A1.1775552700/mx.azure.example
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.azure.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

--4F2A1.1775552700/mx.azure.example
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.azure.example
Arrival-Date: Tue, 07 Apr 2026 09:04:58 +0000

Final-Recipient: rfc822; ap@azure.example
Original-Recipient: rfc822;ap@azure.example
Action: failed
Status: 5.1.1
Remote-MTA: dns; mail.azure.example
Diagnostic-Code: smtp; 550 5.1.1 <ap@azure.example>: Recipient address rejected: User unknown

--4F2A1.1775552700/mx.azure.example
Content-Type: message/rfc822

From: billing@company.example
To: ap@azure.example
Subject: Overdue invoice
Message-Id: {message_id}
Date: Tue, 07 Apr 2026 09:00:00 +0000

Dear customer,

--4F2A1.1775552700/mx.azure.example--
"""


@tagged("post_install", "-at_install")
class TestEmailBounces(PaymentReminderCommon):
    """A reminder e-mail that bounces back through Odoo's mail gateway is not
    left as sent: it fails with the receiving server's reason."""

    def test_a_bounced_reminder_fails_with_the_servers_reason(self):
        invoice = self.create_invoice(due=date(2026, 3, 31))
        other = self.create_invoice(partner=self.customer.copy({"name": "Other"}), due=date(2026, 3, 31))
        self.run_at("2026-04-07 09:00")
        message, untouched = self.messages_for(invoice), self.messages_for(other)
        self.assertEqual((message.channel, message.state), ("email", "sent"))
        self.assertTrue(message.provider_message_id)
        with self.frozen("2026-04-07 09:05"):
            # as Odoo's incoming mail server (fetchmail) hands every message over
            self.env["mail.thread"].message_process(False, BOUNCE.format(message_id=message.provider_message_id))
        self.assertEqual((message.state, message.failure_code), ("failed", "mail_bounce"))
        self.assertIn("The e-mail bounced", message.failure_reason)
        self.assertIn("550 5.1.1 <ap@azure.example>: Recipient address rejected: User unknown", message.failure_reason)
        self.assertEqual(message.failed_at, datetime(2026, 4, 7, 9, 5))
        self.assertIn("Payment reminder failed", invoice.message_ids[:1].body)
        self.assertEqual(self.customer.message_bounce, 1, "Odoo counts the bounce on the customer as well")
        self.assertEqual(untouched.state, "sent")
        # a bounce of a mail that is no reminder changes nothing
        self.env["mail.thread"].message_process(False, BOUNCE.format(message_id="<1775552400.0-account.move@other>"))
        self.assertEqual(untouched.state, "sent")
