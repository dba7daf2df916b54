from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

CHANNELS = [("whatsapp", "WhatsApp"), ("sms", "SMS"), ("email", "E-mail")]
"""Every channel, in fallback order: the fastest-read first."""


class AccountPaymentReminderLevel(models.Model):
    _name = "account.payment.reminder.level"
    _description = "Payment Reminder Level"
    _order = "policy_id, sequence, id"
    _check_company_auto = True

    policy_id = fields.Many2one("account.payment.reminder.policy", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="policy_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="policy_id.currency_id")
    sequence = fields.Integer(default=10, help="Levels escalate in this order.")
    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    trigger = fields.Selection(
        [
            ("due_date", "Days from due date"),
            ("early_discount", "Days from early-payment discount deadline"),
        ],
        default="due_date",
        required=True,
        help="Early-payment incentive levels only go to invoices whose payment term grants an early "
        "discount that is still available.",
    )
    offset_days = fields.Integer(
        "Days", default=0, help="Negative before the date (courtesy reminder), positive after (overdue)."
    )
    use_email = fields.Boolean("E-mail", default=True)
    use_whatsapp = fields.Boolean("WhatsApp")
    use_sms = fields.Boolean("SMS")
    channel_strategy = fields.Selection(
        [
            ("fallback", "First channel that works"),
            ("all", "Every channel at once"),
        ],
        default="fallback",
        required=True,
        help="First channel that works: WhatsApp, then SMS, then e-mail (among the level's channels); "
        "a channel that cannot reach the customer, or fails for good, hands over to the next.",
    )
    mail_template_id = fields.Many2one(
        "mail.template",
        "E-mail Template",
        domain=[("model", "=", "account.payment.reminder.message")],
    )
    is_final_notice = fields.Boolean("Final Notice")
    activity_type_id = fields.Many2one(
        "mail.activity.type",
        "Schedule Activity",
        help="E.g. a phone call: scheduled on each invoice when this level is reached.",
    )
    activity_user_id = fields.Many2one(
        "res.users",
        "Activity For",
        help="Defaults to the invoice's salesperson, then to the user who runs the scheduler.",
    )
    message_count = fields.Integer(compute="_compute_message_count")

    @api.constrains("use_email", "use_whatsapp", "use_sms")
    def _check_channels(self):
        for level in self:
            if not level._get_channels():
                raise ValidationError(_("Level '%(level)s' needs at least one channel.", level=level.name))

    @api.constrains("use_email", "mail_template_id")
    def _check_templates(self):
        for level in self:
            if level.use_email and not level.mail_template_id:
                raise ValidationError(_("Level '%(level)s' sends e-mail: choose its template.", level=level.name))

    def _compute_message_count(self):
        counts = dict(
            self.env["account.payment.reminder.message"]._read_group(
                [("level_id", "in", self.ids)], ["level_id"], ["__count"]
            )
        )
        for level in self:
            level.message_count = counts.get(level, 0)

    def _get_channels(self):
        """The level's channels, in fallback order."""
        self.ensure_one()
        return [code for code, _label in CHANNELS if self[f"use_{code}"]]

    def _get_date(self, due_date, discount_date=None):
        """The day this level is due for an invoice, or None when it does not apply."""
        self.ensure_one()
        base = discount_date if self.trigger == "early_discount" else due_date
        return base and fields.Date.add(base, days=self.offset_days)

    def action_view_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_payment_reminder.account_payment_reminder_message_action"
        )
        action["domain"] = [("level_id", "=", self.id)]
        return action
