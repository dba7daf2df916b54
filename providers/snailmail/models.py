"""Odoo's postal service: the letter's PDF goes as a ``snailmail.letter``
through Odoo's own ``snailmail`` module and its IAP credits, recorded on the
oldest invoice it lists (snailmail posts its own note there). Its states and
errors become the message's: 'sent', or a failure with snailmail's reason,
tried again later for credits and outages, else handed to the next channel.
A letter that failed is cancelled in snailmail, so that its own cron never
posts it behind the reminder's back (the reminder's retry makes a new one)."""

from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from ...exceptions import ReminderPermanentError, ReminderRetryableError
from .const import RETRYABLE_ERRORS


class AccountPaymentReminderGateway(models.Model):
    _inherit = "account.payment.reminder.gateway"

    provider = fields.Selection(
        selection_add=[("snailmail", "Odoo postal service (IAP credits)")], ondelete={"snailmail": "cascade"}
    )


class AccountPaymentReminderProviderSnailmail(models.AbstractModel):
    _name = "account.payment.reminder.provider.snailmail"
    _inherit = "account.payment.reminder.provider"
    _description = "Payment Reminder Provider: Odoo postal service"

    @api.model
    def _get_supported_channels(self):
        return {"letter"}

    @api.model
    def _send(self, gateway, payload):
        # sudo: snailmail letters are technical records; the scheduler and the accountant send through them
        letter = (
            self.env["snailmail.letter"]
            .sudo()
            .with_company(payload.company_id)
            .create(
                {
                    "model": "account.move",
                    "res_id": payload.document_id,
                    "partner_id": payload.partner_id,
                    "attachment_id": payload.attachment_ids[0],
                    "company_id": payload.company_id,
                    "user_id": self.env.uid,
                }
            )
        )
        # what snailmail.letter._snailmail_print does, without its commit (commits belong to the dispatch)
        try:
            if letter._is_valid_address(letter):
                letter._snailmail_print_valid_address()
            else:
                letter._snailmail_print_invalid_address()
        except AccessError as error:  # IAP unreachable: snailmail says so with an AccessError
            letter.cancel()
            raise ReminderRetryableError(
                _("Odoo's postal service could not be reached."), code="sn_unreachable", detail=str(error)
            ) from error
        if letter.state == "sent":
            return {"provider_message_id": f"snailmail.letter,{letter.id}", "state": "sent"}
        code = letter.error_code or "UNKNOWN_ERROR"
        letter.cancel()
        labels = dict(self.env["mail.notification"]._fields["failure_type"]._description_selection(self.env))
        error_class = ReminderRetryableError if code in RETRYABLE_ERRORS else ReminderPermanentError
        raise error_class(
            _(
                "Odoo's postal service refused the letter: %(reason)s",
                reason=labels.get(letter._get_failure_type(code)) or code,
            ),
            code=code,
        )
