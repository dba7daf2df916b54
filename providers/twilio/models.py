import json

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ...exceptions import ReminderProviderError
from .client import DEFAULT_BASE_URL, TwilioClient
from .errors import twilio_error


class AccountPaymentReminderGateway(models.Model):
    _inherit = "account.payment.reminder.gateway"

    provider = fields.Selection(selection_add=[("twilio", "Twilio (SMS and WhatsApp)")], ondelete={"twilio": "cascade"})
    twilio_account_sid = fields.Char("Account SID")
    twilio_auth_token = fields.Char("Auth Token", groups="base.group_system", copy=False)
    twilio_from_number = fields.Char("SMS Sender", help="E.164 number or alphanumeric sender id.")
    twilio_whatsapp_from = fields.Char("WhatsApp Sender", help="The E.164 number registered for WhatsApp.")
    twilio_messaging_service_sid = fields.Char("Messaging Service SID")
    twilio_base_url = fields.Char("Twilio API URL", default=DEFAULT_BASE_URL, groups="base.group_system")


class AccountPaymentReminderProviderTwilio(models.AbstractModel):
    _name = "account.payment.reminder.provider.twilio"
    _inherit = "account.payment.reminder.provider"
    _description = "Payment Reminder Provider: Twilio"
    _writes_to_database = False  # HTTP only

    @api.model
    def _get_supported_channels(self):
        return {"sms", "whatsapp"}

    @api.model
    def _get_webhook_path(self, gateway):
        return f"/payment_reminder/webhook/twilio/{gateway.webhook_key}"

    @api.model
    def _client(self, gateway):
        return TwilioClient(
            gateway.twilio_account_sid,
            gateway.twilio_auth_token,
            base_url=gateway.twilio_base_url,
            timeout=gateway.timeout,
        )

    @api.model
    def _send(self, gateway, payload):
        client = self._client(gateway)
        callback = gateway.get_base_url() + self._get_webhook_path(gateway) + "/status"
        if payload.channel == "sms":
            answer, sent = client.send(
                payload.recipient,
                body=payload.body,
                from_=gateway.twilio_from_number or None,
                messaging_service_sid=gateway.twilio_messaging_service_sid or None,
                status_callback=callback,
            )
        else:
            if payload.whatsapp_template and payload.twilio_content_sid:
                kwargs = {
                    "content_sid": payload.twilio_content_sid,
                    "content_variables": {
                        str(index): value for index, value in enumerate(payload.whatsapp_params, start=1)
                    },
                }
            else:
                self._check_whatsapp_free_text(payload, "63016")
                kwargs = {"body": payload.body}
            answer, sent = client.send(
                f"whatsapp:{payload.recipient}",
                from_=f"whatsapp:{gateway.twilio_whatsapp_from}",
                status_callback=callback,
                **kwargs,
            )
        price = answer.get("price")
        return {
            "provider_message_id": answer.get("sid"),
            "segments": int(answer.get("num_segments") or 0) or None,
            "cost": abs(float(price)) if price not in (None, "") else 0.0,
            "payload": json.dumps(sent, ensure_ascii=False, indent=1),
        }

    @api.model
    def _get_receipt_error(self, code, reason):
        return twilio_error(code, answer={"message": reason})

    @api.model
    def _check_connection(self, gateway):
        try:
            answer = self._client(gateway).check()
        except ReminderProviderError as error:
            raise UserError(error.message(self.env.lang)) from error
        return _("Connected: %(name)s", name=answer.get("friendly_name") or gateway.twilio_account_sid)
