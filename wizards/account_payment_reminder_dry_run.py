import json

from odoo import _, api, fields, models
from odoo.tools import format_date, formatLang

from ..models.account_payment_reminder_level import CHANNELS
from ..tools.terms import render_terms

SKIP_REASONS = [
    ("excluded", "Customer or invoice excluded"),
    ("plan", "In a payment plan"),
    ("promise", "Promise to pay"),
    ("hold", "On hold"),
    ("opt_out", "Opted out"),
    ("covered", "Covered by credits"),
    ("on_its_way", "Money on its way"),
    ("below_threshold", "Amount under the threshold"),
    ("min_interval", "Minimum interval"),
    ("budget", "Contact budget reached"),
    ("outside_window", "Outside the customer's hours"),
    ("no_gateway", "No gateway for the level's channels"),
    ("failed_before", "Failed before: repair it and retry the failed message"),
]


class AccountPaymentReminderDryRun(models.TransientModel):
    """What would go now: the scheduler's decision, without sending."""

    _name = "account.payment.reminder.dry.run"
    _description = "Payment Reminders: What Would Go Now"

    line_ids = fields.One2many("account.payment.reminder.dry.run.line", "wizard_id", "Decisions", readonly=True)
    run_at = fields.Datetime(readonly=True)
    to_send_count = fields.Integer(compute="_compute_counts")
    has_late_charges = fields.Boolean(compute="_compute_counts")
    skipped_count = fields.Integer(compute="_compute_counts")

    @api.depends("run_at")
    def _compute_display_name(self):
        for wizard in self:
            wizard.display_name = _("What Would Go Now")

    @api.depends("line_ids.skip_reason", "line_ids.late_charge_amount")
    def _compute_counts(self):
        for wizard in self:
            wizard.skipped_count = len(wizard.line_ids.filtered("skip_reason"))
            wizard.to_send_count = len(wizard.line_ids) - wizard.skipped_count
            wizard.has_late_charges = any(wizard.line_ids.mapped("late_charge_amount"))

    @api.model
    def action_open(self):
        wizard = self.create({})
        wizard.action_refresh()
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "current",
            "name": _("What Would Go Now"),
        }

    def action_refresh(self):
        self.ensure_one()
        # sudo: the decision reads every company's policies, like the scheduler; nothing is written
        stats = self.env["account.payment.reminder.run"].sudo()._run(send=False)
        allowed = self.env.companies
        lines = []
        for group in stats["groups"]:
            if group.policy.company_id not in allowed:
                continue
            lines.extend(self._prepare_lines(group))
        # how each customer pays, beside each decision (the stored behaviour, one query)
        summaries = self.env["account.payment.reminder.behaviour"]._get_summaries(
            allowed.ids, {command[2]["partner_id"] for command in lines}
        )
        for command in lines:
            command[2]["behaviour"] = summaries.get((command[2]["company_id"], command[2]["partner_id"]), False)
        self.write({"run_at": fields.Datetime.now(), "line_ids": [fields.Command.clear()] + lines})
        return True

    def _explain(self, group):
        """Why each invoice is in the message: the level it reached now, or
        that it is due and still unpaid; then the credits netted."""
        Level = self.env["account.payment.reminder.level"]
        today = fields.Date.context_today(self)
        lines = []
        for move in group.moves.sorted(lambda m: (group.ref_dates.get(m.id) or m.invoice_date_due, m.id)):
            due = group.ref_dates.get(move.id) or move.invoice_date_due
            days = (today - due).days
            when = (
                _("due in %(days)s days", days=-days)
                if days < 0
                else _("due today")
                if days == 0
                else _("%(days)s days overdue", days=days)
            )
            level = Level.browse(group.new_levels.get(move.id))
            if level:
                lines.append(
                    _("%(invoice)s: reached '%(level)s' (%(when)s)", invoice=move.name, level=level.name, when=when)
                )
            else:
                lines.append(_("%(invoice)s: still unpaid (%(when)s)", invoice=move.name, when=when))
        lines += self.env["account.payment.reminder.run"]._describe_money_on_its_way(group)
        if group.amount_credit:
            lines.append(
                _(
                    "Credits netted: %(amount)s",
                    amount=formatLang(self.env, group.amount_credit, currency_obj=group.policy.currency_id),
                )
            )
            lines += self._describe_payments_in_process(group)
        return "\n".join(lines)

    def _describe_payments_in_process(self, group):
        """The customer's payments registered without a journal entry and not
        matched with an invoice, among the credits netted: money Odoo counts
        as received, though the bank has not confirmed it yet."""
        payments = self.env["account.payment"].search(
            [
                ("partner_id.commercial_partner_id", "=", group.partner.id),
                ("company_id", "=", group.policy.company_id.id),
                ("state", "=", "in_process"),
                ("move_id", "=", False),
                ("payment_type", "=", "inbound"),
                ("partner_type", "=", "customer"),
                ("invoice_ids", "=", False),
            ],
            order="date, id",
        )
        return [
            _(
                "Payment %(name)s of %(date)s %(amount)s in process (registered, not matched with the bank yet): "
                "counted as paid.",
                name=payment.name,
                date=format_date(self.env, payment.date),
                amount=payment.currency_id.format(payment.amount),
            )
            for payment in payments
        ]

    def _prepare_lines(self, group):
        base = {
            "partner_id": group.partner.id,
            "level_id": group.level.id,
            "move_ids": [fields.Command.set(group.moves.ids)],
            "amount": group.amount,
            "amount_credit": group.amount_credit,
            "explanation": self._explain(group),
            "company_id": group.policy.company_id.id,
            "skip_reason": group.skip_reason or False,
            "next_time": group.next_time or False,
            "send_at": group.send_at or False,
            "timing_reason": self._describe_timing(group),
        }
        if group.skip_reason or not group.planned:
            return [fields.Command.create(base)]
        Message = self.env["account.payment.reminder.message"].sudo()
        charges = self._preview_late_charges(group)
        if charges:
            base["late_charge_amount"] = sum(charges.mapped("amount_company"))
        lines = []
        for channel, recipient, address, reason in group.planned:
            vals = dict(base, channel=channel, recipient=address or False, failure=reason or False)
            if address:
                # what the message would list and ask for, as the scheduler records it when it queues it
                preview = Message._new_preview(
                    group.moves,
                    channel,
                    group.level,
                    recipient,
                    address,
                    late_charge_ids=charges,
                    statement_data=json.dumps(group.statement) if group.statement else False,
                    tz=group.recipient_tz,
                )._preview()
                vals.update(
                    subject=preview.get("subject") or False,
                    text=preview.get("body") or False,
                    failure=preview.get("failure_reason") or vals["failure"],
                )
            lines.append(fields.Command.create(vals))
        return lines

    def _describe_timing(self, group):
        """Why this hour and channel (the policy learns them), in the user's language."""
        terms = [terms for terms in (group.hour_terms, group.channel_terms) if terms]
        return ". ".join(render_terms(part, self.env.lang) for part in terms) or False

    def _preview_late_charges(self, group):
        """What the group's level would charge for late payment now (unsaved charges)."""
        if not group.level.charge_late_fees:
            return self.env["account.payment.reminder.late.charge"]
        # sudo: like the decision, the preview reads every invoice of the customer; nothing is written
        return (
            self.env["account.payment.reminder.run"]
            .sudo()
            ._preview_late_fees(group.partner, group.moves, group.level, group.policy, fields.Date.context_today(self))
        )


class AccountPaymentReminderDryRunLine(models.TransientModel):
    _name = "account.payment.reminder.dry.run.line"
    _description = "Payment Reminder Decision"
    _order = "skip_reason desc, partner_id, id"

    wizard_id = fields.Many2one("account.payment.reminder.dry.run", required=True, ondelete="cascade")
    company_id = fields.Many2one("res.company")
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one("res.partner", "Customer")
    level_id = fields.Many2one("account.payment.reminder.level")
    move_ids = fields.Many2many("account.move", "account_payment_reminder_dry_run_line_move_rel", string="Invoices")
    amount = fields.Monetary("To Pay", help="What the message asks for, net of credits, in company currency.")
    amount_credit = fields.Monetary("Credits Netted")
    explanation = fields.Text("Why These Invoices")
    behaviour = fields.Char("How the Customer Pays")
    channel = fields.Selection(CHANNELS)
    recipient = fields.Char()
    subject = fields.Char()
    text = fields.Text()
    failure = fields.Char("Would Fail", help="The message would be recorded as failed, for this reason.")
    skip_reason = fields.Selection(SKIP_REASONS, "Skipped Because")
    next_time = fields.Datetime("Next Possible")
    send_at = fields.Datetime("Goes At", help="It waits for the hour this customer reads its messages.")
    timing_reason = fields.Char("Why This Hour And Channel")
    late_charge_amount = fields.Monetary(
        "Late Charges", help="The late-payment charges the level would make now (company currency)."
    )
