from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError


class AccountPaymentReminderLateChargeWaive(models.TransientModel):
    """Waive late-payment charges: a draft charge invoice is cancelled, a
    posted one is reversed by a credit note; the reason goes to the chatter of
    the charge invoice and of the invoices it charged for. The waived days are
    never charged again."""

    _name = "account.payment.reminder.late.charge.waive"
    _inherit = ["account.payment.reminder.wizard.access"]
    _description = "Waive Late-Payment Charges"

    move_ids = fields.Many2many(
        "account.move",
        "account_payment_reminder_late_charge_waive_move_rel",
        string="Charge Invoices",
        required=True,
        domain="[('payment_reminder_fee_source_ids', '!=', False), ('state', '!=', 'cancel'), "
        "('payment_state', '!=', 'reversed')]",
    )
    reason = fields.Text(required=True, help="Kept in the chatter of the invoices.")

    @api.model
    def _action_open(self, charge_moves):
        if not charge_moves:
            raise UserError(self.env._("There are no late-payment charges to waive."))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Waive Late-Payment Charges"),
            "res_model": self._name,
            "view_mode": "form",
            "target": "new",
            "context": {"default_move_ids": charge_moves.ids},
        }

    def action_waive(self):
        self.ensure_one()
        moves = self.move_ids._get_payment_reminder_waivable()
        paid = moves.filtered(lambda m: m.state == "posted" and m.payment_state != "not_paid")
        if paid:
            raise UserError(
                self.env._(
                    "These charge invoices are already (partly) paid; refund them by hand: %(invoices)s",
                    invoices=", ".join(paid.mapped("name")),
                )
            )
        drafts = moves.filtered(lambda m: m.state == "draft")
        posted = moves - drafts
        drafts.button_cancel()
        today = fields.Date.context_today(self)
        if posted:
            posted._reverse_moves(
                [
                    {
                        "ref": self.env._("Late payment charges waived"),
                        "invoice_date": today,
                        "date": today,
                        "invoice_origin": move.name,
                    }
                    for move in posted
                ],
                cancel=True,
            )
        # sudo: charge records are written by code only; the right to waive is the right to cancel or reverse
        # the charge invoices, exercised above as the user
        moves.sudo().payment_reminder_charged_ids.write({"waived_date": today, "waive_reason": self.reason})
        note = Markup("<p>%s</p>") % self.env._(
            "Late-payment charges waived by %(user)s: %(reason)s", user=self.env.user.name, reason=self.reason
        )
        for move in moves:
            move.message_post(body=note, subtype_xmlid="mail.mt_note")
        sources = moves.payment_reminder_fee_source_ids
        sources._message_log_batch(bodies=dict.fromkeys(sources.ids, note))
        return {"type": "ir.actions.act_window_close"}
