"""Twilio's webhooks: status callbacks and inbound messages (SMS and
WhatsApp). A request is authenticated by its signature before anything is
read or written."""

import logging

from werkzeug.exceptions import BadRequest, Forbidden

from odoo import http
from odoo.http import request

from ...controllers.main import get_gateway, in_savepoint, webhook_max_content_length
from ..webhook import NUMBER_RE, MalformedPayload
from .const import STATES
from .payloads import twilio_values
from .signature import verify_twilio_signature

_logger = logging.getLogger(__name__)


class PaymentReminderTwilioWebhook(http.Controller):
    def _check_twilio(self, key):
        gateway = get_gateway(key, "twilio")
        params = request.httprequest.form.to_dict(flat=False)
        params = {name: values if len(values) > 1 else values[0] for name, values in params.items()}
        header = request.httprequest.headers.get("X-Twilio-Signature")
        urls = {request.httprequest.url, gateway.get_base_url() + request.httprequest.full_path.rstrip("?")}
        if not any(verify_twilio_signature(url, params, header, gateway.twilio_auth_token) for url in urls):
            _logger.warning("Twilio webhook %s: bad or missing signature, ignored", gateway.id)
            raise Forbidden()
        return gateway, params

    @http.route(
        "/payment_reminder/webhook/twilio/<string:key>/status",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
        max_content_length=webhook_max_content_length,
    )
    def twilio_status(self, key, **_params):
        gateway, params = self._check_twilio(key)
        try:
            sid, sms_sid, status, sms_status, code, reason = twilio_values(
                params, "MessageSid", "SmsSid", "MessageStatus", "SmsStatus", "ErrorCode", "ErrorMessage"
            )
        except MalformedPayload as error:
            _logger.warning("Twilio webhook %s: malformed status callback refused (%s)", gateway.id, error)
            raise BadRequest() from error
        in_savepoint(
            "Twilio receipt",
            request.env["account.payment.reminder.message"].sudo()._process_receipt,
            gateway,
            sid or sms_sid,
            STATES.get(status or sms_status),
            code=code or None,
            reason=reason or None,
        )
        return request.make_response("", [("Content-Type", "text/plain")])

    @http.route(
        "/payment_reminder/webhook/twilio/<string:key>/inbound",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
        max_content_length=webhook_max_content_length,
    )
    def twilio_inbound(self, key, **_params):
        gateway, params = self._check_twilio(key)
        try:
            sender, body, button = twilio_values(params, "From", "Body", "ButtonPayload")
            number = sender.removeprefix("whatsapp:")
            if not NUMBER_RE.match(number):
                raise MalformedPayload("From is not a phone number")
        except MalformedPayload as error:
            _logger.warning("Twilio webhook %s: malformed inbound message refused (%s)", gateway.id, error)
            raise BadRequest() from error
        in_savepoint(
            "Twilio inbound message",
            request.env["account.payment.reminder.message"].sudo()._process_inbound,
            gateway,
            "whatsapp" if sender.startswith("whatsapp:") else "sms",
            number,
            body,
            reply=button or None,
        )
        return request.make_response(
            '<?xml version="1.0" encoding="UTF-8"?><Response></Response>', [("Content-Type", "text/xml")]
        )
