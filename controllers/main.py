"""Webhooks: delivery receipts and inbound replies from Meta and Twilio.

Every request is authenticated by its signature before anything is read or
written; a forged or unsigned request gets 403 and changes nothing. Handlers
answer fast and are idempotent: providers retry and duplicate their calls.
A body larger than WEBHOOK_MAX_BYTES is refused (413) before it is read.
"""

import json
import logging

from werkzeug.exceptions import BadRequest, Forbidden, LengthRequired, NotFound, RequestEntityTooLarge

from odoo import http
from odoo.http import request

from odoo.addons.sms.controllers.main import SmsController

from ..providers.twilio.signature import same_text, verify_meta_signature, verify_twilio_signature
from ..providers.webhook import NUMBER_RE, MalformedPayload, parse_meta_payload, twilio_values

_logger = logging.getLogger(__name__)

TWILIO_STATES = {
    "accepted": "sent",
    "queued": "sent",
    "sending": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "undelivered": "failed",
    "failed": "failed",
}
META_STATES = {"sent": "sent", "delivered": "delivered", "read": "read", "failed": "failed"}
SMS_TO_REMINDER_STATES = {"process": "sent", "pending": "sent", "sent": "delivered"}
"""Odoo's sms.sms states (what IAP_TO_SMS_STATE_SUCCESS gives) as reminder states."""
WEBHOOK_MAX_BYTES = 1024 * 1024
"""The largest webhook body read: Meta's, Twilio's and IAP's are a few kilobytes."""


def _webhook_max_content_length(_controller):
    """The routes' ``max_content_length``: Odoo asks for it before it reads
    the body, so a body that announces more than WEBHOOK_MAX_BYTES is
    refused here (413) without a byte of it read. A chunked body, which
    announces no size, is refused too (411): the providers always send a
    Content-Length, and a proxy in front of Odoo turns a chunked body into
    a sized one; so no read is ever longer than the cap."""
    httprequest = request.httprequest
    length = httprequest.content_length
    if length is None and "chunked" in httprequest.headers.get("Transfer-Encoding", "").lower():
        _logger.warning("Payment reminder webhook %s: chunked body without a length refused", httprequest.path)
        raise LengthRequired()
    if length and length > WEBHOOK_MAX_BYTES:
        _logger.warning("Payment reminder webhook %s: body of %s bytes refused", httprequest.path, length)
        raise RequestEntityTooLarge()
    return WEBHOOK_MAX_BYTES


class PaymentReminderWebhook(http.Controller):
    def _get_gateway(self, key, provider):
        # sudo: webhooks are public; the unguessable key and the signature authenticate the caller
        gateway = (
            request.env["account.payment.reminder.gateway"]
            .sudo()
            .search([("webhook_key", "=", key), ("provider", "=", provider)], limit=1)
        )
        if not key or not gateway:
            raise NotFound()
        return gateway

    # === META (WhatsApp Business Cloud API) === #

    @http.route(
        "/payment_reminder/webhook/whatsapp/<string:key>",
        type="http",
        auth="public",
        methods=["GET"],
        csrf=False,
        save_session=False,
    )
    def whatsapp_verify(self, key, **params):
        """Meta's subscription handshake: echo the challenge if the token matches."""
        gateway = self._get_gateway(key, "whatsapp")
        token = params.get("hub.verify_token") or ""
        if (
            params.get("hub.mode") != "subscribe"
            or not gateway.wa_verify_token
            or not same_text(token, gateway.wa_verify_token)
        ):
            _logger.warning("WhatsApp webhook %s: verification refused", gateway.id)
            raise Forbidden()
        return request.make_response(params.get("hub.challenge") or "", [("Content-Type", "text/plain")])

    @http.route(
        "/payment_reminder/webhook/whatsapp/<string:key>",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
        max_content_length=_webhook_max_content_length,
    )
    def whatsapp_event(self, key, **_params):
        gateway = self._get_gateway(key, "whatsapp")
        raw = request.httprequest.get_data()
        if not verify_meta_signature(
            raw, request.httprequest.headers.get("X-Hub-Signature-256"), gateway.wa_app_secret
        ):
            _logger.warning("WhatsApp webhook %s: bad or missing signature, ignored", gateway.id)
            raise Forbidden()
        try:
            statuses, messages, skipped = parse_meta_payload(json.loads(raw))
        except (ValueError, RecursionError) as error:  # MalformedPayload, not JSON, or nested beyond reason
            _logger.warning("WhatsApp webhook %s: malformed payload refused (%s)", gateway.id, error)
            raise BadRequest() from error
        if skipped:
            _logger.warning("WhatsApp webhook %s: malformed items skipped: %s", gateway.id, "; ".join(skipped)[:1000])
        Message = request.env["account.payment.reminder.message"].sudo()
        for status in statuses:
            _in_savepoint(
                "WhatsApp receipt",
                Message._process_receipt,
                gateway,
                status["id"],
                META_STATES.get(status["status"]),
                when=status["when"],
                code=status["code"],
                reason=status["reason"],
            )
        for inbound in messages:
            _in_savepoint(
                "WhatsApp inbound message",
                Message._process_inbound,
                gateway,
                "whatsapp",
                inbound["number"],
                inbound["text"],
                reply=inbound["reply"],
                when=inbound["when"],
            )
        return request.make_response("OK", [("Content-Type", "text/plain")])

    # === TWILIO === #

    def _check_twilio(self, key):
        gateway = self._get_gateway(key, "twilio")
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
        max_content_length=_webhook_max_content_length,
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
        _in_savepoint(
            "Twilio receipt",
            request.env["account.payment.reminder.message"].sudo()._process_receipt,
            gateway,
            sid or sms_sid,
            TWILIO_STATES.get(status or sms_status),
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
        max_content_length=_webhook_max_content_length,
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
        _in_savepoint(
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


class PaymentReminderSmsController(SmsController):
    """Odoo SMS delivery reports also move the reminders sent through Odoo SMS.

    Only the statuses Odoo's own ``sms`` module knows from IAP move a
    reminder; anything else is logged and changes nothing. The request only
    records: a fallback is left to the scheduler.
    """

    @http.route(max_content_length=_webhook_max_content_length)
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
                _in_savepoint(
                    "Odoo SMS receipt", Message._process_receipt, gateways, uuid, state, code=iap_status, reason=reason
                )
        return result


def _in_savepoint(what, process, *args, **kwargs):
    """Apply one item of a webhook in its own savepoint: an item that fails
    is logged and rolled back alone, the others of the request stay."""
    try:
        with request.env.cr.savepoint():
            process(*args, **kwargs)
    except Exception:  # noqa: BLE001 - one bad item never costs the others
        _logger.exception("Payment reminder webhook: %s could not be applied", what)


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
