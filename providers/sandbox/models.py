import json
import uuid

from odoo import _, api, models

from ...exceptions import ReminderPermanentError
from ...models.account_payment_reminder_level import channel_label


class AccountPaymentReminderProviderSandbox(models.AbstractModel):
    """Records what would be sent and sends nothing; for demos and tests.

    Recipients can ask for a failure, to show fallbacks: an e-mail address in
    the reserved ``.invalid`` domain bounces; a phone number ending in 0000 is
    not on WhatsApp and cannot receive SMS.
    """

    _name = "account.payment.reminder.provider.sandbox"
    _inherit = "account.payment.reminder.provider"
    _description = "Payment Reminder Provider: Sandbox"
    _writes_to_database = False  # it writes nothing anywhere

    @api.model
    def _get_supported_channels(self):
        return {"email", "whatsapp", "sms"}

    @api.model
    def _send(self, gateway, payload):
        recipient = payload.recipient or ""
        if payload.channel == "email" and recipient.endswith(".invalid"):
            raise ReminderPermanentError(_("Mailbox does not exist (sandbox)."), code="sandbox_bounce")
        if payload.channel != "email" and recipient.endswith("0000"):
            raise ReminderPermanentError(
                _(
                    "This number cannot receive %(channel)s messages (sandbox).",
                    channel=channel_label(self.env, payload.channel),
                ),
                code="sandbox_unreachable",
            )
        sent = {
            "channel": payload.channel,
            "to": recipient,
            "subject": payload.subject or None,
            "text": payload.body,
        }
        if payload.whatsapp_template:
            sent.update(
                template=payload.whatsapp_template,
                params=list(payload.whatsapp_params),
                button=payload.whatsapp_button or None,
            )
        return {
            "provider_message_id": f"sandbox-{uuid.uuid4().hex}",
            "segments": payload.segments,
            "payload": json.dumps(sent, ensure_ascii=False, indent=1),
        }
