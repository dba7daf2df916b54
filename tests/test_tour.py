from datetime import date

from odoo.tests import HttpCase, new_test_user, tagged

from .common import PaymentReminderCommon


@tagged("post_install", "-at_install")
class TestReminderTour(PaymentReminderCommon, HttpCase):
    def test_send_a_reminder_from_an_overdue_invoice(self):
        accountant = new_test_user(
            self.env,
            login="tour_accountant",
            password="tour_accountant",
            groups="account.group_account_invoice,base.group_user",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        invoice = self.create_invoice(due=date(2026, 1, 31), amount=750.0)
        self.start_tour(
            f"/odoo/action-account.action_move_out_invoice_type/{invoice.id}",
            "account_payment_reminder_send_tour",
            login=accountant.login,
        )
        message = self.messages_for(invoice)
        self.assertEqual((message.trigger, message.user_id, message.state), ("manual", accountant, "sent"))
        self.assertEqual(message.recipient, "ap@azure.example")
