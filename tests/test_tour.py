from datetime import date

from odoo import fields
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

    def test_send_a_reminder_from_the_customer_form(self):
        accountant = new_test_user(
            self.env,
            login="tour_accountant_2",
            password="tour_accountant_2",
            groups="account.group_account_invoice,base.group_user,base.group_partner_manager",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        # reminded on the due date, a week ago and more: the customer's invoices are due for 'Overdue', the next
        # level, not the final notice
        due = fields.Date.subtract(fields.Date.today(), days=8)
        overdue = self.create_invoice(due=due, amount=750.0)
        disputed = self.create_invoice(due=due, amount=90.0)
        disputed.write(
            {"payment_reminder_hold_until": date(2099, 1, 1), "payment_reminder_hold_reason": "Disputed quantity"}
        )
        self.run_at(f"{due} 09:00")
        self.assertEqual(self.messages_for(overdue).level_id, self.level_due)
        self.start_tour(
            f"/odoo/action-account.res_partner_action_customer/{self.customer.id}",
            "account_payment_reminder_customer_tour",
            login=accountant.login,
        )
        message = self.messages_for(overdue)[-1]
        self.assertEqual((message.trigger, message.user_id, message.state), ("manual", accountant, "sent"))
        self.assertEqual(message.level_id, self.level_overdue)
        self.assertEqual(message.move_ids, overdue, "the invoice on hold is left out")
        self.assertFalse(self.messages_for(disputed))
