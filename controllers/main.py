"""What every provider's webhook shares: the gateway a key names, the body
size cap, one savepoint per item. The routes live in each provider's folder
(``providers/<code>/controllers.py``).

Every request is authenticated by its signature before anything is read or
written; a forged or unsigned request gets 403 and changes nothing. Handlers
answer fast and are idempotent: providers retry and duplicate their calls.
A body larger than WEBHOOK_MAX_BYTES is refused (413) before it is read.
"""

import logging

from werkzeug.exceptions import LengthRequired, NotFound, RequestEntityTooLarge

from odoo.http import request

_logger = logging.getLogger(__name__)

WEBHOOK_MAX_BYTES = 1024 * 1024
"""The largest webhook body read: Meta's, Twilio's and IAP's are a few kilobytes."""


def webhook_max_content_length(_controller):
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


def get_gateway(key, provider):
    """The gateway of ``provider`` whose webhook key is ``key``, else 404."""
    # sudo: webhooks are public; the unguessable key and the signature authenticate the caller
    gateway = (
        request.env["account.payment.reminder.gateway"]
        .sudo()
        .search([("webhook_key", "=", key), ("provider", "=", provider)], limit=1)
    )
    if not key or not gateway:
        raise NotFound()
    return gateway


def in_savepoint(what, process, *args, **kwargs):
    """Apply one item of a webhook in its own savepoint: an item that fails
    is logged and rolled back alone, the others of the request stay."""
    try:
        with request.env.cr.savepoint():
            process(*args, **kwargs)
    except Exception:  # noqa: BLE001 - one bad item never costs the others
        _logger.exception("Payment reminder webhook: %s could not be applied", what)
