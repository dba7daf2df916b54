from datetime import timedelta

from odoo import api, fields, models

CONSUMER_DAYS = 30  # BGB § 286 (3): a consumer is late 30 days after the due date and the invoice


class AccountMove(models.Model):
    _inherit = "account.move"

    payment_reminder_fee_source_ids = fields.Many2many(
        "account.move",
        "account_move_payment_reminder_fee_rel",
        "charge_move_id",
        "source_move_id",
        string="Charges For",
        copy=False,
        readonly=True,
        help="The overdue invoices this invoice charges late-payment interest and compensation for. A charge "
        "invoice is reminded like any invoice, but never charged itself.",
    )
    payment_reminder_fee_charge_ids = fields.Many2many(
        "account.move",
        "account_move_payment_reminder_fee_rel",
        "source_move_id",
        "charge_move_id",
        string="Late-Payment Charge Invoices",
        copy=False,
        readonly=True,
    )
    payment_reminder_late_charge_ids = fields.One2many(
        "account.payment.reminder.late.charge", "source_move_id", "Late-Payment Charges", readonly=True
    )
    payment_reminder_charged_ids = fields.One2many(
        "account.payment.reminder.late.charge", "charge_move_id", "Charges Invoiced", readonly=True
    )
    payment_reminder_late_charge_count = fields.Integer(compute="_compute_payment_reminder_late_charge_count")
    payment_reminder_can_waive = fields.Boolean(compute="_compute_payment_reminder_can_waive")

    @api.depends("payment_reminder_late_charge_ids", "payment_reminder_charged_ids")
    def _compute_payment_reminder_late_charge_count(self):
        for move in self:
            move.payment_reminder_late_charge_count = len(
                move.payment_reminder_late_charge_ids | move.payment_reminder_charged_ids
            )

    @api.depends("payment_reminder_fee_source_ids", "payment_reminder_fee_charge_ids.state", "state", "payment_state")
    def _compute_payment_reminder_can_waive(self):
        for move in self:
            move.payment_reminder_can_waive = bool(move._get_payment_reminder_waivable())

    def _get_payment_reminder_waivable(self):
        """The charge invoices that waiving from these invoices would cancel
        or reverse: themselves when they are charge invoices, else those that
        charge them; neither cancelled nor reversed yet."""
        charges = self.filtered("payment_reminder_fee_source_ids") | self.payment_reminder_fee_charge_ids
        return charges.filtered(lambda m: m.state != "cancel" and m.payment_state != "reversed")

    def _get_payment_reminder_paid_share(self):
        """Which share of the invoice is paid (0 to 1), for the collected amounts."""
        self.ensure_one()
        if self.state != "posted" or not self.amount_total_signed:
            return 0.0
        if self.payment_state in ("paid", "in_payment"):
            return 1.0
        return max(0.0, min(1.0, 1.0 - self.amount_residual_signed / self.amount_total_signed))

    def _get_payment_reminder_instalments(self):
        """[(due date, amount)] of the invoice, in its currency."""
        self.ensure_one()
        lines = self.line_ids.filtered(lambda line: line.display_type == "payment_term")
        return [(line.date_maturity or self.invoice_date_due, line.amount_currency) for line in lines]

    def _get_payment_reminder_late_instalments(self, policy, consumer):
        """[(due date, amount)] from which late payment counts under
        ``policy``: the instalments; for a consumer under a policy that waits
        30 days (BGB § 286 (3)), when the invoice has no fixed calendar due
        date, 30 days after the later of the due date and the invoice date."""
        self.ensure_one()
        instalments = self._get_payment_reminder_instalments()
        if not (consumer and policy.late_consumer_30_days) or self._has_payment_reminder_calendar_due():
            return instalments
        invoice_date = self.invoice_date or self.date
        return [(max(due, invoice_date) + timedelta(days=CONSUMER_DAYS), amount) for due, amount in instalments]

    def _has_payment_reminder_calendar_due(self):
        """Whether the invoice is due on a fixed calendar date (BGB § 286 (2)
        no. 1): a due date entered on the invoice, after the invoice date. A
        payment term counted from the invoice, or payment at once, is not."""
        self.ensure_one()
        return bool(
            not self.invoice_payment_term_id
            and self.invoice_date
            and self.invoice_date_due
            and self.invoice_date_due > self.invoice_date
        )

    def _get_payment_reminder_paid_history(self):
        """{invoice id: [(date, amount)]}: what was paid on each invoice and
        when, in invoice currency: the payments and credit notes reconciled
        with it (on their accounting date), and the payments registered without
        a journal entry (on their date; see _get_payment_reminder_open_amount)."""
        history = {move.id: [] for move in self}
        open_amounts = self._get_payment_reminder_open_amount()
        for move in self:
            partials, _exchange_moves = move._get_reconciled_invoices_partials()
            for _partial, amount, counterpart in partials:
                if amount:
                    history[move.id].append((counterpart.date, amount))
            unbooked = move.amount_residual - open_amounts[move.id]
            if move.currency_id.compare_amounts(unbooked, 0.0) > 0:
                dates = move.matched_payment_ids.filtered(
                    lambda p: not p.move_id and p.state in ("in_process", "paid")
                ).mapped("date")
                history[move.id].append((max(dates, default=fields.Date.context_today(self)), unbooked))
        return history

    def action_payment_reminder_waive_late_charges(self):
        """Waive the late-payment charges of these invoices (or these charge
        invoices), with a reason."""
        return self.env["account.payment.reminder.late.charge.waive"]._action_open(
            self._get_payment_reminder_waivable()
        )

    def action_view_payment_reminder_late_charges(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_payment_reminder.account_payment_reminder_late_charge_action"
        )
        action["domain"] = ["|", ("source_move_id", "=", self.id), ("charge_move_id", "=", self.id)]
        action["context"] = {"create": False}
        return action
