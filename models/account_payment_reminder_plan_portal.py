from odoo import _, fields, models


class AccountPaymentReminderPlan(models.Model):
    """Plans customers ask for on the reminder page: outside the policy's
    limits they wait for the accountant's approval."""

    _inherit = "account.payment.reminder.plan"

    state = fields.Selection(
        selection_add=[("pending", "Waiting for Approval"), ("active",)],
        ondelete={"pending": lambda plans: plans.write({"state": "cancelled"})},
    )
    source = fields.Selection(
        [("accountant", "Accountant"), ("portal", "Customer, on the reminder page")],
        default="accountant",
        required=True,
        readonly=True,
    )
    response_ids = fields.One2many("account.payment.reminder.response", "plan_id", "Customer Responses")

    def action_approve(self):
        """Start the plans the customers asked for. Instalments that would now
        be in the past move forward by the days the approval took."""
        today = fields.Date.context_today(self)
        # sudo: the history is written by code only; the accountant could approve the plan (access checked)
        summaries = self.env["account.payment.reminder.message"].sudo()
        for plan in self.filtered(lambda p: p.state == "pending"):
            first = min(plan.line_ids.mapped("date"))
            if first < today:
                delay = today - first
                for line in plan.line_ids:
                    line.date += delay
            plan.state = "active"
            plan.message_post(body=_("Payment plan approved by %(user)s.", user=self.env.user.name))
            plan._close_requests()
            summaries |= plan.sudo()._queue_message("plan_summary", trigger="manual")
        # sent once every plan is approved, in this request's transaction (which commits it with the approval)
        summaries._dispatch()
        return True

    def action_refuse(self):
        """Refuse the plans the customers asked for: reminders resume."""
        for plan in self.filtered(lambda p: p.state == "pending"):
            plan.state = "cancelled"
            plan.message_post(body=_("Payment plan request refused by %(user)s.", user=self.env.user.name))
            plan._close_requests()
        return True

    def _close_requests(self):
        """The customer's request is decided: lift the hold it put on the
        invoices, close its review."""
        requests = self.response_ids.filtered(lambda r: r.state == "to_review")
        requests._release_hold()
        requests.action_mark_reviewed()
        self.activity_feedback(["mail.mail_activity_data_todo"], feedback=_("Decided"))
