from datetime import timedelta

from odoo.tests import tagged

from .test_portal import ReminderPageCommon


@tagged("post_install", "-at_install")
class TestReminderPageTours(ReminderPageCommon):
    """A customer opens a reminder's link on a phone."""

    browser_size = "390x844"
    touch_enabled = True

    def test_promise_a_date(self):
        self.start_tour(f"/reminder/{self.access.token}", "account_payment_reminder_page_promise")
        promise = self.env["account.payment.reminder.promise"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual((promise.source, promise.date), ("portal", self.today + timedelta(days=7)))

    def test_ask_for_a_plan_and_pay_the_first_instalment(self):
        self.start_tour(f"/reminder/{self.access.token}", "account_payment_reminder_page_plan")
        plan = self.env["account.payment.reminder.plan"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(plan.state, "active")
        transaction = self.env["payment.transaction"].search([("invoice_ids", "in", self.invoice.ids)])
        self.assertEqual(
            (transaction.state, transaction.amount, transaction.provider_id), ("draft", 300.0, self.provider)
        )
        # the bank confirms the payment (its notification), and Odoo books it (what the status page's poll does)
        transaction._set_done()
        transaction._post_process()
        self.assertEqual(plan.line_ids.mapped("state"), ["paid", "pending", "pending"])
        self.start_tour(f"/reminder/{self.access.token}?done=payment", "account_payment_reminder_page_after_payment")

    def test_report_an_invoice_as_paid_with_a_proof(self):
        self.start_tour(f"/reminder/{self.access.token}", "account_payment_reminder_page_paid")
        report = self.env["account.payment.reminder.response"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual((report.kind, report.payment_reference, report.state), ("paid", "BANK-42", "to_review"))
        self.assertEqual(report.attachment_ids.res_id, self.invoice.id)
        self.assertTrue(self.invoice.payment_reminder_hold_until)
