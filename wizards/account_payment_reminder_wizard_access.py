from odoo import api, models


class AccountPaymentReminderWizardAccess(models.AbstractModel):
    """The wall of every reminder wizard: the records a wizard works on (the
    invoices, the customers) are ones its user may read, however they came
    (the list's selection, a default, ids written by hand over RPC).

    The wizards decide, render and preview as the scheduler does, reading
    across the customer's invoices as superuser; without this wall a user of
    another company could hand them any invoice id and read the customer, the
    amounts, the rendered reminder and its page link."""

    _name = "account.payment.reminder.wizard.access"
    _description = "Payment Reminder Wizard Access"

    _payment_reminder_checked_fields = ("move_ids",)
    """The relational fields whose records the user must be able to read."""

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        records._check_payment_reminder_access()
        return records

    def write(self, vals):
        result = super().write(vals)
        if not vals.keys().isdisjoint(self._payment_reminder_checked_fields):
            self._check_payment_reminder_access()
        return result

    def _check_payment_reminder_access(self):
        """Raise AccessError unless the user may read every record the wizard holds."""
        if self.env.su:
            return
        for name in self._payment_reminder_checked_fields:
            # sudo: the ids as stored, those the user may not read included (a read as the user hides them)
            held = self.sudo()[name]._origin
            held.with_env(self.env).check_access("read")
