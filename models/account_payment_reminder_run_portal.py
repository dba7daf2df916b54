from odoo import models


class AccountPaymentReminderRun(models.AbstractModel):
    _inherit = "account.payment.reminder.run"

    def _plan_channels(self, group, channels=None, strategy=None, memo=None):
        """The customer's preferred channel (chosen on the reminder page) goes
        first among the level's channels."""
        if channels is None and group.level:
            channels = group.partner._payment_reminder_sort_channels(group.level._get_channels())
        return super()._plan_channels(group, channels=channels, strategy=strategy, memo=memo)
