from odoo import api, fields, models

from .account_move import OPEN_INVOICE_DOMAIN


class AccountPaymentReminderDashboard(models.TransientModel):
    """The credit controller's overview: what is overdue by level, who is on
    hold, how the payment plans and promises are doing."""

    _name = "account.payment.reminder.dashboard"
    _description = "Credit Control Overview"

    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    overdue_amount = fields.Monetary("Overdue", compute="_compute_figures")
    overdue_by_level = fields.Html("Overdue by Level", compute="_compute_figures", sanitize=False)
    customers_on_hold = fields.Integer(compute="_compute_figures")
    active_plans = fields.Integer("Plans on Track", compute="_compute_figures")
    broken_plans = fields.Integer(compute="_compute_figures")
    promises_this_week = fields.Integer("Promises Due This Week", compute="_compute_figures")
    messages_this_week = fields.Integer("Messages (7 days)", compute="_compute_figures")
    failed_this_week = fields.Integer("Failed (7 days)", compute="_compute_figures")

    def _overdue_domain(self):
        return OPEN_INVOICE_DOMAIN + [
            ("company_id", "=", self.company_id.id),
            ("invoice_date_due", "<", fields.Date.context_today(self)),
        ]

    def _hold_domain(self):
        today = fields.Date.context_today(self)
        return [
            ("is_company", "=", True),
            "|",
            ("payment_reminder_exclude", "=", True),
            ("payment_reminder_hold_until", ">=", today),
        ]

    @api.depends("company_id")
    def _compute_figures(self):
        Move = self.env["account.move"]
        today = fields.Date.context_today(self)
        week_ago = fields.Datetime.subtract(fields.Datetime.now(), days=7)
        for board in self:
            rows = Move._read_group(
                board._overdue_domain(), ["payment_reminder_level_id"], ["amount_residual_signed:sum"]
            )
            rows = sorted(rows, key=lambda row: row[0].sequence if row[0] else -1)
            board.overdue_amount = sum(amount for _level, amount in rows)
            board.overdue_by_level = self.env["ir.qweb"]._render(
                "account_payment_reminder.dashboard_overdue_by_level",
                {"rows": rows, "currency": board.currency_id},
                minimal_qcontext=True,
            )
            board.customers_on_hold = self.env["res.partner"].search_count(board._hold_domain())
            Plan = self.env["account.payment.reminder.plan"]
            board.active_plans = Plan.search_count([("state", "=", "active"), ("company_id", "=", board.company_id.id)])
            board.broken_plans = Plan.search_count([("state", "=", "broken"), ("company_id", "=", board.company_id.id)])
            board.promises_this_week = self.env["account.payment.reminder.promise"].search_count(
                [
                    ("state", "=", "open"),
                    ("company_id", "=", board.company_id.id),
                    ("date", "<=", fields.Date.add(today, days=7)),
                ]
            )
            Message = self.env["account.payment.reminder.message"]
            recent = [("company_id", "=", board.company_id.id), ("queued_at", ">=", week_ago)]
            board.messages_this_week = Message.search_count(recent)
            board.failed_this_week = Message.search_count(recent + [("state", "=", "failed")])

    @api.model
    def action_open(self):
        board = self.create({})
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": board.id,
            "view_mode": "form",
            "target": "current",
            "name": self.env._("Credit Control"),
        }

    def _open(self, model, domain, name, context=None):
        return {
            "type": "ir.actions.act_window",
            "res_model": model,
            "name": name,
            "view_mode": "list,form",
            "domain": domain,
            "context": context or {},
        }

    def action_open_overdue(self):
        return self._open(
            "account.move",
            self._overdue_domain(),
            self.env._("Overdue Invoices"),
            {"group_by": "payment_reminder_level_id"},
        )

    def action_open_hold(self):
        return self._open("res.partner", self._hold_domain(), self.env._("Customers On Hold"))

    def action_open_plans(self):
        return self._open(
            "account.payment.reminder.plan", [("state", "in", ("active", "broken"))], self.env._("Payment Plans")
        )

    def action_open_promises(self):
        return self._open("account.payment.reminder.promise", [("state", "=", "open")], self.env._("Promises to Pay"))

    def action_open_messages(self):
        return self.env["ir.actions.act_window"]._for_xml_id(
            "account_payment_reminder.account_payment_reminder_message_analysis_action"
        )
