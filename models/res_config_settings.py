from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    payment_reminder_policy_id = fields.Many2one(
        related="company_id.payment_reminder_policy_id",
        readonly=False,
        domain="[('company_id', '=', company_id)]",
    )
    payment_reminder_link_days = fields.Integer(related="company_id.payment_reminder_link_days", readonly=False)
