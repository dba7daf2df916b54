from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.translate import LazyTranslate

from .sms_template import describe_encoding

ESCALATION_FIELDS = {"sequence", "offset_days", "trigger", "policy_id"}
"""What decides the order a level escalates in (its sequence is derived from them)."""

CHANNELS = [("letter", "Letter"), ("whatsapp", "WhatsApp"), ("sms", "SMS"), ("email", "E-mail")]
"""Every channel, in fallback order. A letter first: a level that sends
letters means it (a formal notice by post), the other channels are what
goes when it cannot (no postal address, the postal service refuses it);
then the fastest-read first."""

_lt = LazyTranslate(__name__)
CHANNEL_TERMS = {"letter": _lt("Letter"), "whatsapp": _lt("WhatsApp"), "sms": _lt("SMS"), "email": _lt("E-mail")}
"""The channels' names untranslated, for sentences each reader reads in its language (see tools.terms)."""


def channel_label(env, channel):
    """The channel's name in the user's language (E-mail, WhatsApp, SMS)."""
    labels = dict(env["account.payment.reminder.message"]._fields["channel"]._description_selection(env))
    return labels.get(channel, channel)


class AccountPaymentReminderLevel(models.Model):
    _name = "account.payment.reminder.level"
    _description = "Payment Reminder Level"
    _order = "policy_id, sequence, id"
    _check_company_auto = True

    policy_id = fields.Many2one("account.payment.reminder.policy", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="policy_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="policy_id.currency_id")
    sequence = fields.Integer(
        default=10,
        readonly=True,
        help="The level's rank in its policy, set from its days: the early-payment levels first, then the others "
        "from the soonest to the latest. Levels escalate, and are listed, in this order.",
    )
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
        "Days",
        default=0,
        help="Counted in calendar days from the invoice's due date (of its oldest open instalment), or from the "
        "early-discount deadline for an early-payment level, in the customer's time zone: negative before that "
        "date (a courtesy reminder), positive after it (overdue).",
    )
    use_email = fields.Boolean("E-mail", default=True)
    use_whatsapp = fields.Boolean("WhatsApp")
    use_sms = fields.Boolean("SMS")
    use_letter = fields.Boolean(
        "Letter",
        help="A printed letter (a PDF in the customer's language with the company's letterhead), posted by "
        "Odoo's postal service or put in a batch for the accountant to print, as the letter gateway says.",
    )
    attach_statement = fields.Boolean(
        help="The e-mails of this level carry the customer's statement as a PDF (the invoices, credits and "
        "figures of the reminder), when the policy attaches documents.",
    )
    channel_strategy = fields.Selection(
        [
            ("fallback", "First channel that works"),
            ("all", "Every channel at once"),
        ],
        default="fallback",
        required=True,
        help="First channel that works: a letter, then WhatsApp, then SMS, then e-mail (among the level's "
        "channels); "
        "a channel that cannot reach the customer, or fails for good, hands over to the next.",
    )
    channel_order = fields.Char(compute="_compute_channel_order", help="The channels this level tries, in order.")
    mail_template_id = fields.Many2one(
        "mail.template",
        "E-mail Template",
        domain=[("model", "=", "account.payment.reminder.message")],
    )
    sms_template_id = fields.Many2one(
        "sms.template",
        "SMS Template",
        domain=[("model", "=", "account.payment.reminder.message")],
        help="Also the text of WhatsApp messages sent inside the customer's 24-hour window without a template.",
    )
    sms_gsm_only = fields.Boolean(
        "Plain SMS Characters",
        default=True,
        help="Replace typographic quotes, dashes and spaces with plain ones, so that SMS cost fewer segments.",
    )
    whatsapp_template_ids = fields.Many2many(
        "account.payment.reminder.whatsapp.template",
        "account_payment_reminder_level_whatsapp_template_rel",
        "level_id",
        "template_id",
        "WhatsApp Templates",
        help="One per language; the customer's language picks it.",
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
    preview_move_id = fields.Many2one(
        "account.move",
        "Preview For",
        store=False,
        domain=[("move_type", "=", "out_invoice"), ("state", "=", "posted")],
    )
    sms_preview = fields.Text("SMS Preview", compute="_compute_sms_preview")
    sms_preview_info = fields.Char("SMS Segments", compute="_compute_sms_preview")

    # === ESCALATION ORDER === #

    @api.model_create_multi
    def create(self, vals_list):
        levels = super().create(vals_list)
        levels.policy_id._resequence_levels()
        return levels

    def write(self, vals):
        policies = self.policy_id
        result = super().write(vals)
        if ESCALATION_FIELDS & set(vals) and not self.env.context.get("payment_reminder_resequencing"):
            (policies | self.policy_id)._resequence_levels()
        return result

    def _escalation_key(self):
        """Where a level stands on its ladder: the early-payment levels (counted
        from the discount deadline, which comes before the due date) first,
        then the others by their days from the due date, soonest first."""
        self.ensure_one()
        return (self.trigger != "early_discount", self.offset_days, self.id)

    @api.constrains("use_email", "use_whatsapp", "use_sms", "use_letter")
    def _check_channels(self):
        for level in self:
            if not level._get_channels():
                raise ValidationError(_("Level '%(level)s' needs at least one channel.", level=level.name))

    @api.constrains("use_email", "mail_template_id", "use_sms", "sms_template_id", "use_whatsapp", "use_letter")
    def _check_templates(self):
        for level in self:
            if level.use_email and not level.mail_template_id:
                raise ValidationError(_("Level '%(level)s' sends e-mail: choose its template.", level=level.name))
            if level.use_letter and not level.mail_template_id:
                raise ValidationError(
                    _(
                        "Level '%(level)s' sends letters: choose its e-mail template, the letter's text.",
                        level=level.name,
                    )
                )
            if level.use_sms and not level.sms_template_id:
                raise ValidationError(_("Level '%(level)s' sends SMS: choose its template.", level=level.name))
            if level.use_whatsapp and not (level.whatsapp_template_ids or level.sms_template_id):
                raise ValidationError(
                    _("Level '%(level)s' sends WhatsApp messages: choose its templates.", level=level.name)
                )

    def _compute_message_count(self):
        counts = dict(
            self.env["account.payment.reminder.message"]._read_group(
                [("level_id", "in", self.ids)], ["level_id"], ["__count"]
            )
        )
        for level in self:
            level.message_count = counts.get(level, 0)

    @api.depends("preview_move_id", "sms_template_id", "sms_gsm_only")
    def _compute_sms_preview(self):
        for level in self:
            move = level.preview_move_id
            if not (move and level.sms_template_id):
                level.sms_preview = level.sms_preview_info = False
                continue
            Message = self.env["account.payment.reminder.message"]
            preview = Message._new_preview(move, "sms", level=level)._preview()
            body = preview.get("body") or preview.get("failure_reason") or ""
            level.sms_preview = body
            level.sms_preview_info = describe_encoding(level.env, body)

    @api.depends("use_email", "use_whatsapp", "use_sms", "use_letter", "channel_strategy")
    def _compute_channel_order(self):
        for level in self:
            names = [channel_label(self.env, channel) for channel in level._get_channels()]
            if level.channel_strategy == "all":
                level.channel_order = self.env._("%(channels)s, all at once", channels=" + ".join(names))
            else:
                level.channel_order = " → ".join(names)

    def _get_channels(self):
        """The level's channels, in fallback order."""
        self.ensure_one()
        return [code for code, _label in CHANNELS if self[f"use_{code}"]]

    def _get_whatsapp_template(self, lang, company):
        """The level's WhatsApp template for a customer's language: the one made
        for that language, else one without language, else none."""
        self.ensure_one()
        templates = self.whatsapp_template_ids.filtered(
            lambda t: t.active and t.company_id in (company, self.env["res.company"])
        )
        return (
            templates.filtered(lambda t: t.lang == lang)[:1]
            or templates.filtered(lambda t: not t.lang)[:1]
            or templates[:1]
        )

    def action_view_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_payment_reminder.account_payment_reminder_message_action"
        )
        action["domain"] = [("level_id", "=", self.id)]
        return action
