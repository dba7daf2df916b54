from datetime import datetime, time, timedelta

from odoo import Command, api, fields, models

DEMO_LANGUAGES = ["fr_FR", "es_ES", "pt_BR", "id_ID"]


class AccountPaymentReminderDemo(models.AbstractModel):
    """Demo invoices at every stage of the ladder, dated from today, and the
    reminders of the last weeks with their receipts and the payments that
    followed (XML demo data cannot post invoices nor register payments)."""

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

    # (invoice, customer xml id, level xml id, channel, days ago it went, last receipt, days from the message to
    # the payment): the history behind the reports. Every invoice was paid in the end, so that none of them is
    # chased again today; each message speaks its customer's language.
    HISTORY = [
        ("h1", "partner_harbor_demo", "level_overdue", "email", 45, "sent", 2),  # Odoo e-mail gives no receipt
        ("h2", "partner_lumen_demo", "level_overdue", "sms", 40, "delivered", 1),
        ("h3", "partner_copacabana_demo", "level_followup", "whatsapp", 38, "read", 4),
        ("h4", "partner_marina_demo", "level_overdue", "whatsapp", 35, "read", 6),
        ("h5", "partner_andes_demo", "level_overdue", "sms", 30, "delivered", 3),
        ("h6", "partner_fjord_demo", "level_overdue", "email", 28, "sent", 16),  # paid, but not within 14 days
        ("h7", "partner_batik_demo", "level_overdue", "sms", 50, "delivered", None),
        ("h7", "partner_batik_demo", "level_followup", "email", 43, "sent", 5),  # paid after the second reminder
        ("h8", "partner_bounce_demo", "level_overdue", "email", 33, "failed", 20),  # bounced, paid much later
        ("h9", "partner_harbor_demo", "level_overdue", "whatsapp", 21, "read", 1),
    ]

    @api.model
    def _activate_demo_languages(self):
        """The demo customers' languages; the addon's translations are loaded
        for every active language at the end of its installation. English too,
        for the customers who speak it: installed with --load-language (as
        scripts/demo.py does), a database may have it inactive."""
        for code in ["en_US", *DEMO_LANGUAGES]:
            self.env["res.lang"]._activate_lang(code)

    @api.model
    def _create_demo_invoices(self):
        today = fields.Date.context_today(self)
        company = self.env.ref("base.main_company")
        if not self.env["account.journal"].search_count([("type", "=", "sale"), ("company_id", "=", company.id)]):
            return  # no chart of accounts: nothing to invoice with
        self._setup_demo_bank(company)
        for xml_id, days, amount, fate in self.STAGES:
            due = today + timedelta(days=days)
            partner = self.env.ref(f"account_payment_reminder.{xml_id}")
            move = self._create_demo_invoice(company, partner, due, amount)
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

    @api.model
    def _create_demo_history(self):
        """Reminders of the last weeks, through the sandbox and dated back,
        with their delivery and read receipts, and the payments that came
        after them: the reports and the effectiveness figures show something
        true on the first visit."""
        company = self.env.ref("base.main_company")
        if not self.env["account.journal"].search_count([("type", "=", "sale"), ("company_id", "=", company.id)]):
            return
        Message = self.env["account.payment.reminder.message"]
        policy = self.env.ref("account_payment_reminder.policy_default")
        gateway = self.env.ref("account_payment_reminder.gateway_sandbox_demo")
        now = fields.Datetime.now()
        moves = {}
        for index, (invoice_key, xml_id, level_xml_id, channel, days_ago, receipt, paid_after) in enumerate(
            self.HISTORY
        ):
            partner = self.env.ref(f"account_payment_reminder.{xml_id}")
            level = self.env.ref(f"account_payment_reminder.{level_xml_id}")
            at = datetime.combine((now - timedelta(days=days_ago)).date(), time(9, 30 + index))
            if invoice_key not in moves:
                due = at.date() - timedelta(days=level.offset_days)
                moves[invoice_key] = self._create_demo_invoice(company, partner, due, 600.0 + 150 * index)
            move = moves[invoice_key]
            address, _reason = partner._payment_reminder_address(channel, policy=policy)
            message = Message.create(
                {
                    "company_id": company.id,
                    "partner_id": partner.id,
                    "recipient_partner_id": partner.id,
                    "move_ids": [Command.set(move.ids)],
                    "policy_id": policy.id,
                    "level_id": level.id,
                    "channel": channel,
                    "gateway_id": gateway.id,
                    "recipient": address or False,
                    "tz": partner.tz,
                    "amount_due": move.amount_residual_signed,
                    "idempotency_key": f"demo-history:{move.id}:{level.id}:{channel}",
                }
            )
            message._render_contents()
            if receipt == "failed":
                message._apply_status("failed", when=at, code="bounce", reason="550 5.1.1 Mailbox unavailable")
            else:
                message._apply_status("sent", when=at)
                if receipt != "sent":
                    message._apply_status(receipt, when=at + timedelta(minutes=3 if receipt == "delivered" else 25))
            if receipt != "failed":  # a bounced reminder reached nothing: the invoice's level stays
                move.write(
                    {
                        "payment_reminder_level_id": level.id,
                        "payment_reminder_last_date": at,
                        "payment_reminder_level_date": at.date(),
                    }
                )
            self._backdate(message, at)
            if paid_after is not None:
                self._register_demo_payment(move, (at + timedelta(days=paid_after)).date())
        # what the daily effectiveness job would have recorded by now
        Message._cron_update_effectiveness(horizon_days=90)

    def _setup_demo_bank(self, company):
        """Payments booked at once, as with an outstanding receipts account:
        a partial payment leaves the invoice partly paid (without one, Odoo 18
        shows an invoice paid as soon as a payment is registered, whatever its
        amount, until the bank statement is reconciled)."""
        journal = self.env["account.journal"].search([("type", "=", "bank"), ("company_id", "=", company.id)], limit=1)
        line = journal.inbound_payment_method_line_ids[:1]
        if not line or line.payment_account_id:
            return
        Account = self.env["account.account"].with_company(company)
        account = Account.search(
            [("name", "=", "Outstanding Receipts"), ("reconcile", "=", True), ("company_ids", "in", company.id)],
            limit=1,
        )
        if not account:
            # next to the bank account, on a free code (the chart's next one is the bank suspense account)
            code = Account._search_new_account_code(journal.default_account_id.code or "101400")
            account = Account.create(
                {"name": "Outstanding Receipts", "code": code, "account_type": "asset_current", "reconcile": True}
            )
        line.payment_account_id = account

    def _create_demo_invoice(self, company, partner, due, amount):
        move = (
            self.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": due - timedelta(days=30),
                    "invoice_date_due": due,
                    "invoice_line_ids": [
                        Command.create({"name": "Consulting services", "price_unit": amount, "tax_ids": []})
                    ],
                }
            )
        )
        move.action_post()
        return move

    def _register_demo_payment(self, move, when):
        register = self.env["account.payment.register"].with_context(active_model="account.move", active_ids=move.ids)
        register.create({"payment_date": when}).action_create_payments()

    def _backdate(self, message, at):
        """The history's dates: demo data only, never the pipeline's."""
        message.flush_recordset()
        # SQL: these columns are readonly; a demo history is the one place that writes the past
        self.env.cr.execute(
            """
            UPDATE account_payment_reminder_message
               SET queued_at = %(at)s, next_attempt_at = %(at)s, create_date = %(at)s
             WHERE id = %(id)s
            """,
            {"at": at, "id": message.id},
        )
        message.invalidate_recordset(["queued_at", "next_attempt_at", "create_date"])
