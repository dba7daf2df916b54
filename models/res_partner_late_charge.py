from odoo import models


class ResPartner(models.Model):
    _inherit = "res.partner"

    def action_payment_reminder_waive_late_charges(self):
        """Waive the customer's late-payment charges that are still due, with a reason."""
        self.ensure_one()
        charges = self.env["account.move"].search(
            [
                ("commercial_partner_id", "=", self.commercial_partner_id.id),
                ("payment_reminder_fee_source_ids", "!=", False),
                ("state", "!=", "cancel"),
                ("payment_state", "!=", "reversed"),
            ]
        )
        return self.env["account.payment.reminder.late.charge.waive"]._action_open(charges)
