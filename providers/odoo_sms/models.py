"""Odoo SMS: the reminders go out as ``sms.sms`` through Odoo's own ``sms``
module and its IAP credits, many in one IAP call (``sms.sms._send`` sends a
recordset as one batch, grouped by text)."""

from odoo import _, api, fields, models

from ...exceptions import ReminderPermanentError, ReminderRetryableError
from .const import RETRYABLE_FAILURES

BATCH_SIZE = 100  # numbers in one IAP call, as Odoo's sms queue sends them


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
    def _send(self, gateway, payload):
        (result,) = self._send_batch(gateway, [payload])
        if isinstance(result, Exception):
            raise result
        return result

    @api.model
    def _get_batch_size(self):
        return BATCH_SIZE

    @api.model
    def _send_batch(self, gateway, payloads):
        """One IAP call for all ``payloads``: Odoo's ``sms.sms._send`` sends a
        recordset in one request (its texts grouped, each number with its uuid)."""
        if not payloads:
            return []
        # sudo: sms.sms is a technical model that only system users may write
        sms_records = (
            self.env["sms.sms"]
            .sudo()
            .create(
                [
                    {"number": payload.recipient, "body": payload.body, "partner_id": payload.partner_id}
                    for payload in payloads
                ]
            )
        )
        sms_records._send(unlink_failed=False, unlink_sent=False, raise_exception=False)
        labels = dict(self.env["sms.sms"]._fields["failure_type"]._description_selection(self.env))
        results = []
        for sms in sms_records:
            if sms.state == "error":
                error_class = (
                    ReminderRetryableError if sms.failure_type in RETRYABLE_FAILURES else ReminderPermanentError
                )
                results.append(
                    error_class(
                        _(
                            "Odoo SMS refused the message: %(reason)s",
                            reason=labels.get(sms.failure_type) or sms.failure_type,
                        ),
                        code=sms.failure_type,
                    )
                )
            else:
                results.append(
                    {"provider_message_id": sms.uuid, "state": "delivered" if sms.state == "sent" else "sent"}
                )
        return results
