import uuid

from odoo import _, api, fields, models, tools
from odoo.exceptions import ValidationError

from .account_payment_reminder_level import CHANNELS

DEFAULT_RATE_LIMITS = {"whatsapp": 80.0, "twilio": 1.0}  # what each provider allows by default


class AccountPaymentReminderGateway(models.Model):
    """Where messages of a channel go out. One record per account with a
    provider; the provider's behaviour lives in the AbstractModel
    ``account.payment.reminder.provider.<provider>`` (see _get_provider), in
    its folder ``providers/<provider>/``."""

    _name = "account.payment.reminder.gateway"
    _description = "Payment Reminder Gateway"
    _order = "sequence, id"

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    provider = fields.Selection(
        [("mail", "Odoo e-mail"), ("sandbox", "Sandbox (never leaves this machine)")],
        required=True,
        default="mail",
    )
    state = fields.Selection(
        [("disabled", "Disabled"), ("test", "Test"), ("enabled", "Enabled")],
        default="disabled",
        required=True,
        help="Enabled gateways take the channel's traffic; test gateways only serve a channel that has "
        "no enabled gateway (demo, trial accounts). The sandbox can never be enabled.",
    )
    company_id = fields.Many2one("res.company", index=True, help="Empty: serves every company.")
    use_email = fields.Boolean("E-mail")
    use_whatsapp = fields.Boolean("WhatsApp")
    use_sms = fields.Boolean("SMS")
    use_letter = fields.Boolean("Letter")
    supported_channels = fields.Char(compute="_compute_supported_channels")
    timeout = fields.Integer("Timeout (s)", default=10, help="How long to wait for the provider's answer.")
    rate_limit = fields.Float(
        "Messages per Second",
        default=0.0,
        help="SMS count in segments. 0 means no limit beyond what the provider enforces. A new WhatsApp gateway "
        "starts at 80 (Meta's limit per phone number), a Twilio one at 1 (a long code sends one segment a second).",
    )
    recipient_interval = fields.Integer(
        "Seconds Between Two Messages to a Recipient",
        default=0,
        help="WhatsApp refuses bursts to one person (about one message every 6 seconds).",
    )
    webhook_key = fields.Char(
        groups="base.group_system",
        copy=False,
        default=lambda self: uuid.uuid4().hex,
        help="Unguessable part of the webhook URLs of this gateway.",
    )
    webhook_url = fields.Char(
        "Webhook URL",
        compute="_compute_webhook_url",
        groups="base.group_system",
        help="Give this URL to the provider for delivery receipts and replies.",
    )
    message_ids = fields.One2many("account.payment.reminder.message", "gateway_id")

    _sql_constraints = [
        ("timeout_positive", "CHECK(timeout > 0)", "The timeout must be positive."),
        ("rate_limit_positive", "CHECK(rate_limit >= 0)", "The rate limit cannot be negative."),
    ]

    @api.depends("provider")
    def _compute_supported_channels(self):
        for gateway in self:
            channels = gateway._get_provider()._get_supported_channels() if gateway.provider else set()
            gateway.supported_channels = ",".join(code for code, _label in CHANNELS if code in channels)

    def _compute_webhook_url(self):
        for gateway in self:
            path = gateway._get_provider()._get_webhook_path(gateway) if gateway.provider else None
            gateway.webhook_url = path and gateway.get_base_url() + path

    @api.constrains("provider", "state")
    def _check_sandbox_never_enabled(self):
        for gateway in self:
            if gateway.provider == "sandbox" and gateway.state == "enabled":
                raise ValidationError(_("The sandbox never sends anything: it can be in test mode, never enabled."))

    @api.constrains("provider", "use_email", "use_whatsapp", "use_sms", "use_letter")
    def _check_channels(self):
        for gateway in self:
            supported = gateway._get_provider()._get_supported_channels()
            for code, label in CHANNELS:
                if gateway[f"use_{code}"] and code not in supported:
                    raise ValidationError(
                        _(
                            "%(provider)s cannot send %(channel)s messages.",
                            provider=dict(self._fields["provider"].selection)[gateway.provider],
                            channel=label,
                        )
                    )

    def _get_provider(self, code=None):
        """The provider implementation (an AbstractModel) of this gateway.

        :param code: the gateway's provider, when the caller read it already
            (a message's claim): the gateway is not read again
        """
        self.ensure_one()
        return self.env[f"account.payment.reminder.provider.{code or self.provider}"]

    @api.model
    def _get_for_channel(self, company, channel):
        """The gateway that carries ``channel`` for ``company``: the first enabled
        one, else the first in test mode, else an empty recordset."""
        # sudo: gateway records hold credentials; the caller only gets the record to send through.
        return self.sudo().browse(self._get_for_channel_id(company.id, channel))

    @api.model
    @tools.ormcache("company_id", "channel")
    def _get_for_channel_id(self, company_id, channel):
        gateways = self.sudo().search(
            [
                (f"use_{channel}", "=", True),
                ("state", "in", ("test", "enabled")),
                ("company_id", "in", (company_id, False)),
            ]
        )
        enabled = gateways.filtered(lambda g: g.state == "enabled")
        return (enabled or gateways)[:1].id

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()  # _get_for_channel_id
        for vals in vals_list:
            if "rate_limit" not in vals:
                vals["rate_limit"] = DEFAULT_RATE_LIMITS.get(vals.get("provider"), 0.0)
        return super().create(vals_list)

    def write(self, vals):
        self.env.registry.clear_cache()  # _get_for_channel_id
        result = super().write(vals)
        if "company_id" in vals:
            # the record rules are checked before a write: check the new company too, so that no
            # manager makes a gateway shared (or another company's), which they could not create
            self.check_access("write")
        return result

    def unlink(self):
        self.env.registry.clear_cache()  # _get_for_channel_id
        return super().unlink()

    def action_test_connection(self):
        self.ensure_one()
        message = self._get_provider()._check_connection(self)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"type": "success", "message": message or _("The gateway answers."), "sticky": False},
        }
