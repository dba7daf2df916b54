"""Meta's webhook: the subscription handshake, delivery receipts and inbound
messages. A request is authenticated by its signature before anything is read
or written."""

import json
import logging

from werkzeug.exceptions import BadRequest, Forbidden

from odoo import http
from odoo.http import request

from ...controllers.main import get_gateway, in_savepoint, webhook_max_content_length
from ..webhook import same_text
from .const import STATES
from .payloads import parse_meta_payload
from .signature import verify_meta_signature

_logger = logging.getLogger(__name__)


class PaymentReminderWhatsAppWebhook(http.Controller):
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
        gateway = get_gateway(key, "whatsapp")
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
        max_content_length=webhook_max_content_length,
    )
    def whatsapp_event(self, key, **_params):
        gateway = get_gateway(key, "whatsapp")
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
            in_savepoint(
                "WhatsApp receipt",
                Message._process_receipt,
                gateway,
                status["id"],
                STATES.get(status["status"]),
                when=status["when"],
                code=status["code"],
                reason=status["reason"],
            )
        for inbound in messages:
            in_savepoint(
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
