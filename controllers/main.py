"""Webhooks: delivery receipts and inbound replies from Meta and Twilio.

Every request is authenticated by its signature before anything is read or
written; a forged or unsigned request gets 403 and changes nothing. Handlers
answer fast and are idempotent: providers retry and duplicate their calls.
"""

import hmac
import json
import logging
from datetime import datetime

from werkzeug.exceptions import BadRequest, Forbidden, NotFound

from odoo import http
from odoo.http import request

from odoo.addons.sms.controllers.main import SmsController

from ..tools.signatures import verify_meta_signature, verify_twilio_signature

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
IAP_STATES = {"delivered": "delivered", "sent": "sent", "success": "sent", "processing": "sent"}
META_STATES = {"sent": "sent", "delivered": "delivered", "read": "read", "failed": "failed"}


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
            or not _same(token, gateway.wa_verify_token)
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
            payload = json.loads(raw)
            changes = [change["value"] for entry in payload["entry"] for change in entry.get("changes", [])]
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            _logger.warning("WhatsApp webhook %s: malformed payload (%s)", gateway.id, error)
            raise BadRequest() from error
        Message = request.env["account.payment.reminder.message"].sudo()
        for value in changes:
            if not isinstance(value, dict):
                continue
            for status in value.get("statuses") or []:
                errors = status.get("errors") or value.get("errors") or []
                error = errors[0] if errors else {}
                Message._process_receipt(
                    gateway,
                    status.get("id"),
                    META_STATES.get(status.get("status")),
                    when=_from_timestamp(status.get("timestamp")),
                    code=error.get("code"),
                    reason=(error.get("error_data") or {}).get("details") or error.get("message") or error.get("title"),
                )
            for inbound in value.get("messages") or []:
                text, reply = _whatsapp_text(inbound)
                Message._process_inbound(
                    gateway,
                    "whatsapp",
                    "+" + str(inbound.get("from") or "").lstrip("+"),
                    text,
                    reply=reply,
                    when=_from_timestamp(inbound.get("timestamp")),
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
    )
    def twilio_status(self, key, **_params):
        gateway, params = self._check_twilio(key)
        status = params.get("MessageStatus") or params.get("SmsStatus")
        request.env["account.payment.reminder.message"].sudo()._process_receipt(
            gateway,
            params.get("MessageSid") or params.get("SmsSid"),
            TWILIO_STATES.get(status),
            code=params.get("ErrorCode"),
            reason=params.get("ErrorMessage"),
        )
        return request.make_response("", [("Content-Type", "text/plain")])

    @http.route(
        "/payment_reminder/webhook/twilio/<string:key>/inbound",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def twilio_inbound(self, key, **_params):
        gateway, params = self._check_twilio(key)
        sender = params.get("From") or ""
        channel = "whatsapp" if sender.startswith("whatsapp:") else "sms"
        request.env["account.payment.reminder.message"].sudo()._process_inbound(
            gateway,
            channel,
            sender.removeprefix("whatsapp:"),
            params.get("Body") or "",
            reply=params.get("ButtonPayload") or None,
        )
        return request.make_response(
            '<?xml version="1.0" encoding="UTF-8"?><Response></Response>', [("Content-Type", "text/xml")]
        )


class PaymentReminderSmsController(SmsController):
    """Odoo SMS delivery reports also move the reminders sent through Odoo SMS."""

    @http.route()
    def update_sms_status(self, message_statuses):
        result = super().update_sms_status(message_statuses)
        Message = request.env["account.payment.reminder.message"].sudo()
        for status in message_statuses:
            iap_status = status.get("sms_status")
            state = IAP_STATES.get(iap_status, "failed")
            for uuid in status.get("uuids") or []:
                Message._process_receipt(None, uuid, state, code=iap_status, reason=iap_status)
        return result


def _same(given, expected):
    return hmac.compare_digest(str(given), str(expected))


def _from_timestamp(value):
    try:
        return datetime.utcfromtimestamp(int(value))
    except (TypeError, ValueError):
        return None


def _whatsapp_text(inbound):
    """(text, quick reply id) of an inbound WhatsApp message."""
    kind = inbound.get("type")
    if kind == "text":
        return (inbound.get("text") or {}).get("body") or "", None
    if kind == "button":
        button = inbound.get("button") or {}
        return button.get("text") or "", button.get("payload") or button.get("text")
    if kind == "interactive":
        interactive = inbound.get("interactive") or {}
        reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
        return reply.get("title") or "", reply.get("id") or reply.get("title")
    return "", None
