from odoo import api, fields, models
from odoo.tools import formatLang


class AccountPaymentReminderMessage(models.Model):
    _inherit = "account.payment.reminder.message"

    late_charge_ids = fields.Many2many(
        "account.payment.reminder.late.charge",
        "account_payment_reminder_message_late_charge_rel",
        "message_id",
        "charge_id",
        string="Late-Payment Charges",
        readonly=True,
        help="The charges this message states (a level that charges late payment).",
    )
    late_charge_text = fields.Char(
        "Late-Payment Charges (Text)",
        compute="_compute_late_charge_text",
        help="One sentence for SMS templates, empty without charges: the total and the legal reference.",
    )

    late_charge_total_display = fields.Char("Late-Payment Charges Total", compute="_compute_late_charge_text")

    @api.depends("late_charge_ids")
    @api.depends_context("lang")
    def _compute_late_charge_text(self):
        for message in self:
            charges = message.late_charge_ids
            total = " + ".join(
                formatLang(self.env, sum(group.mapped("amount")), currency_obj=currency)
                for currency, group in charges.grouped("currency_id").items()
            )
            message.late_charge_total_display = total
            if not charges:
                message.late_charge_text = ""
                continue
            legal_ref = charges.policy_id[:1].late_fee_legal_ref
            if legal_ref:
                text = self.env._(
                    "Late-payment charges: %(amount)s (%(legal_ref)s).", amount=total, legal_ref=legal_ref
                )
            else:
                text = self.env._("Late-payment charges: %(amount)s.", amount=total)
            message.late_charge_text = f" {text}"
