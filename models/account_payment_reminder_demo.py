from datetime import timedelta

from odoo import Command, api, fields, models


class AccountPaymentReminderDemo(models.AbstractModel):
    """Demo invoices at every stage of the ladder, dated from today (XML demo
    data cannot post invoices nor register payments)."""

    _name = "account.payment.reminder.demo"
    _description = "Payment Reminder Demo Data"

    # (customer xml id, days from today to the due date, amount, what happens next)
    STAGES = [
        ("partner_lumen_demo", 10, 1800.0, None),  # not yet: nothing to send
        ("partner_lumen_demo", 3, 640.0, None),  # courtesy reminder
        ("partner_harbor_demo", 0, 2450.0, None),  # due today
        ("partner_marina_demo", -7, 980.0, None),  # overdue
        ("partner_marina_demo", -8, 420.0, None),  # overdue too: grouped with the one above
        ("partner_copacabana_demo", -14, 3100.0, "partial"),  # second reminder, partly paid
        ("partner_batik_demo", -31, 5200.0, None),  # final notice
        ("partner_harbor_demo", -20, 760.0, "paid"),  # paid: never reminded
        ("partner_nomail_demo", -9, 310.0, None),  # no e-mail address: fails with a reason
        ("partner_bounce_demo", -9, 275.0, None),  # bounces in the sandbox
        ("partner_dispute_demo", -15, 1500.0, "hold"),  # on hold (dispute)
        ("partner_fjord_demo", -20, 2400.0, "plan"),  # in a payment plan: the ladder waits
        ("partner_andes_demo", -10, 880.0, "promise"),  # promised to pay next week
    ]

    @api.model
    def _create_demo_invoices(self):
        today = fields.Date.context_today(self)
        company = self.env.ref("base.main_company")
        if not self.env["account.journal"].search_count([("type", "=", "sale"), ("company_id", "=", company.id)]):
            return  # no chart of accounts: nothing to invoice with
        for xml_id, days, amount, fate in self.STAGES:
            due = today + timedelta(days=days)
            move = (
                self.env["account.move"]
                .with_company(company)
                .create(
                    {
                        "move_type": "out_invoice",
                        "partner_id": self.env.ref(f"account_payment_reminder.{xml_id}").id,
                        "invoice_date": due - timedelta(days=30),
                        "invoice_date_due": due,
                        "invoice_line_ids": [
                            Command.create({"name": "Consulting services", "price_unit": amount, "tax_ids": []})
                        ],
                    }
                )
            )
            move.action_post()
            if fate in ("partial", "paid"):
                register = self.env["account.payment.register"].with_context(
                    active_model="account.move", active_ids=move.ids
                )
                register.create(
                    {
                        "amount": amount / 2 if fate == "partial" else amount,
                        "payment_date": min(today, due + timedelta(days=5)),
                        "payment_difference_handling": "open",
                    }
                ).action_create_payments()
            elif fate == "plan":
                self.env["account.payment.reminder.plan"].create(
                    {
                        "partner_id": move.partner_id.id,
                        "move_ids": [Command.set(move.ids)],
                        "line_ids": [
                            Command.create({"date": today + timedelta(days=5 + 30 * index), "amount": amount / 3})
                            for index in range(3)
                        ],
                    }
                )
            elif fate == "promise":
                self.env["account.payment.reminder.promise"].create(
                    {
                        "partner_id": move.partner_id.id,
                        "move_ids": [Command.set(move.ids)],
                        "date": today + timedelta(days=7),
                    }
                )
            elif fate == "hold":
                move.write(
                    {
                        "payment_reminder_hold_until": today + timedelta(days=20),
                        "payment_reminder_hold_reason": "Customer disputes the delivered quantity",
                    }
                )
