from datetime import date, timedelta

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged

from .common import PaymentReminderCommon


@tagged("post_install", "-at_install")
class TestCreditControlTour(PaymentReminderCommon, HttpCase):
    def test_follow_a_figure_of_the_overview_to_its_list(self):
        accountant = new_test_user(
            self.env,
            login="credit_control_tour",
            password="credit_control_tour",
            groups="account.group_account_invoice,base.group_user",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        customer = self.env["res.partner"].create({"name": "Tour Overdue Customer", "email": "ap@tour.example"})
        today = date.today()
        older = self.create_invoice(partner=customer, due=today - timedelta(days=40), amount=300.0)
        self.create_invoice(partner=customer, due=today - timedelta(days=10), amount=200.0)
        self.create_invoice(partner=customer, due=today + timedelta(days=10), amount=50.0)  # not due
        self.env["account.payment.reminder.promise"].create(
            {
                "partner_id": customer.id,
                "company_id": self.company.id,
                "move_ids": [Command.set(older.ids)],
                "date": today + timedelta(days=3),
            }
        )
        self.start_tour(
            "/odoo/action-account_payment_reminder.account_payment_reminder_credit_control_action",
            "account_payment_reminder_credit_control_tour",
            login=accountant.login,
        )
