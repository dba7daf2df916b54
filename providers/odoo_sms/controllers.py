import logging

from odoo import http
from odoo.http import request

from odoo.addons.sms.controllers.main import SmsController

from ...controllers.main import in_savepoint, webhook_max_content_length
from .const import SMS_TO_REMINDER_STATES

_logger = logging.getLogger(__name__)


class PaymentReminderSmsController(SmsController):
    """Odoo SMS delivery reports also move the reminders sent through Odoo SMS.

    Only the statuses Odoo's own ``sms`` module knows from IAP move a
    reminder; anything else is logged and changes nothing. The request only
    records: a fallback is left to the scheduler.
    """

    @http.route(max_content_length=webhook_max_content_length)
    def update_sms_status(self, message_statuses):
        result = super().update_sms_status(message_statuses)
        # sudo: delivery reports are public; Odoo's sms module authenticates them (uuids are unguessable)
        gateways = (
            request.env["account.payment.reminder.gateway"]
            .sudo()
            .with_context(active_test=False)
            .search([("provider", "=", "odoo_sms")])
        )
        Message = request.env["account.payment.reminder.message"].sudo()
        for status in message_statuses:
            iap_status = status["sms_status"]  # checked by super()
            state, reason = _iap_state(request.env, iap_status)
            if not state:
                _logger.info("Odoo SMS delivery report %r is not a status IAP documents: ignored", iap_status)
                continue
            for uuid in status["uuids"]:
                in_savepoint(
                    "Odoo SMS receipt", Message._process_receipt, gateways, uuid, state, code=iap_status, reason=reason
                )
        return result


def _iap_state(env, iap_status):
    """(reminder state, reason) for an IAP status that Odoo's sms module
    documents (its IAP_TO_SMS_STATE_SUCCESS, IAP_TO_SMS_FAILURE_TYPE and
    DELIVERY_ERRORS), else (None, None)."""
    Sms = env["sms.sms"]
    if iap_status in Sms.IAP_TO_SMS_STATE_SUCCESS:
        return SMS_TO_REMINDER_STATES.get(Sms.IAP_TO_SMS_STATE_SUCCESS[iap_status]), None
    failure_type = Sms.IAP_TO_SMS_FAILURE_TYPE.get(iap_status) or f"sms_{iap_status}"
    if iap_status in Sms.IAP_TO_SMS_FAILURE_TYPE or failure_type in Sms.DELIVERY_ERRORS:
        labels = dict(env["mail.notification"]._fields["failure_type"]._description_selection(env))
        return "failed", labels.get(failure_type) or iap_status
    return None, None
