from odoo import _, api, fields, models

from ...exceptions import ReminderProviderError

# sms.sms failure types that may pass if tried again later
TRANSIENT_FAILURES = {"sms_server", "unknown"}


class AccountPaymentReminderGateway(models.Model):
    _inherit = "account.payment.reminder.gateway"

    provider = fields.Selection(
        selection_add=[("odoo_sms", "Odoo SMS (IAP credits)")], ondelete={"odoo_sms": "cascade"}
    )


class AccountPaymentReminderProviderOdooSms(models.AbstractModel):
    """Sends through Odoo's own ``sms`` module and its IAP credits."""

    _name = "account.payment.reminder.provider.odoo_sms"
    _inherit = "account.payment.reminder.provider"
    _description = "Payment Reminder Provider: Odoo SMS"

    @api.model
    def _get_supported_channels(self):
        return {"sms"}

    @api.model
    def _send(self, gateway, message):
        # sudo: sms.sms is a technical model that only system users may write
        sms = (
            self.env["sms.sms"]
            .sudo()
            .create(
                {
                    "number": message.recipient,
                    "body": message.body,
                    "partner_id": message.recipient_partner_id.id,
                }
            )
        )
        sms._send(unlink_failed=False, unlink_sent=False, raise_exception=False)
        if sms.state == "error":
            label = dict(sms._fields["failure_type"]._description_selection(self.env)).get(sms.failure_type)
            raise ReminderProviderError(
                _("Odoo SMS refused the message: %(reason)s", reason=label or sms.failure_type),
                code=sms.failure_type,
                transient=sms.failure_type in TRANSIENT_FAILURES,
            )
        return {"provider_message_id": sms.uuid, "state": "delivered" if sms.state == "sent" else "sent"}
