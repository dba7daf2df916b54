"""Letters to print: the letter waits in 'To Print' with its PDF until the
accountant prints the batch (one PDF for every letter selected, from the
reminders' list) and marks the letters sent
(account_payment_reminder_message_document.py). Nothing leaves the
database."""

from odoo import api, fields, models


class AccountPaymentReminderGateway(models.Model):
    _inherit = "account.payment.reminder.gateway"

    provider = fields.Selection(
        selection_add=[("print_batch", "Letters to print")], ondelete={"print_batch": "cascade"}
    )


class AccountPaymentReminderProviderPrintBatch(models.AbstractModel):
    _name = "account.payment.reminder.provider.print_batch"
    _inherit = "account.payment.reminder.provider"
    _description = "Payment Reminder Provider: letters to print"

    @api.model
    def _get_supported_channels(self):
        return {"letter"}

    @api.model
    def _send(self, gateway, payload):
        return {"provider_message_id": f"print-{payload.message_id}", "state": "to_print"}
