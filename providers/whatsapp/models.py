import json

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ...exceptions import ReminderProviderError
from .client import DEFAULT_API_VERSION, DEFAULT_BASE_URL, WhatsAppCloudClient
from .errors import whatsapp_error


class AccountPaymentReminderGateway(models.Model):
    _inherit = "account.payment.reminder.gateway"

    provider = fields.Selection(
        selection_add=[("whatsapp", "WhatsApp Business Cloud API")], ondelete={"whatsapp": "cascade"}
    )
    wa_phone_number_id = fields.Char("Phone Number ID", help="Meta's id of the sending number, not the number.")
    wa_access_token = fields.Char("Access Token", groups="base.group_system", copy=False)
    wa_app_secret = fields.Char(
        "App Secret", groups="base.group_system", copy=False, help="Checks the signature of Meta's webhook calls."
    )
    wa_verify_token = fields.Char(
        "Webhook Verify Token",
        groups="base.group_system",
        copy=False,
        help="The token you type in Meta's App Dashboard when subscribing the webhook.",
    )
    wa_api_version = fields.Char("Graph API Version", default=DEFAULT_API_VERSION)
    wa_base_url = fields.Char("Graph API URL", default=DEFAULT_BASE_URL, groups="base.group_system")


class AccountPaymentReminderProviderWhatsApp(models.AbstractModel):
    _name = "account.payment.reminder.provider.whatsapp"
    _inherit = "account.payment.reminder.provider"
    _description = "Payment Reminder Provider: WhatsApp Business Cloud API"
    _writes_to_database = False  # HTTP only

    @api.model
    def _get_supported_channels(self):
        return {"whatsapp"}

    @api.model
    def _get_webhook_path(self, gateway):
        return f"/payment_reminder/webhook/whatsapp/{gateway.webhook_key}"

    @api.model
    def _client(self, gateway):
        return WhatsAppCloudClient(
            gateway.wa_phone_number_id,
            gateway.wa_access_token,
            api_version=gateway.wa_api_version,
            base_url=gateway.wa_base_url,
            timeout=gateway.timeout,
        )

    @api.model
    def _send(self, gateway, payload):
        client = self._client(gateway)
        if payload.whatsapp_template:
            wamid, sent = client.send_template(
                payload.recipient,
                payload.whatsapp_template,
                payload.whatsapp_lang,
                payload.whatsapp_params,
                button_suffix=payload.whatsapp_button or None,
                tracker=payload.idempotency_key,
            )
        else:
            self._check_whatsapp_free_text(payload, 131047)
            wamid, sent = client.send_text(payload.recipient, payload.body, tracker=payload.idempotency_key)
        return {"provider_message_id": wamid, "payload": json.dumps(sent, ensure_ascii=False, indent=1)}

    @api.model
    def _get_receipt_error(self, code, reason):
        return whatsapp_error(200, {"error": {"code": _int(code), "message": reason}})

    @api.model
    def _check_connection(self, gateway):
        try:
            answer = self._client(gateway).check()
        except ReminderProviderError as error:
            raise UserError(error.message(self.env.lang)) from error
        return _("Connected: %(number)s", number=answer.get("display_phone_number") or gateway.wa_phone_number_id)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
