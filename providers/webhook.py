"""Webhook payloads checked and flattened into plain values (no ORM).

The controllers read what a provider posts only through these functions.
Every level is type-checked: an envelope that is not what the provider
documents raises :class:`MalformedPayload` (the request is refused), and an
item of an unexpected shape inside a valid envelope is set aside with the
reason, so that one malformed item never costs the valid ones of the same
request.
"""

import re
from datetime import UTC, datetime

# receipts dated outside these bounds are not receipts (1e20, negative, ms instead of s...)
EARLIEST_TIMESTAMP = 946684800  # 2000-01-01
LATEST_TIMESTAMP = 4102444800  # 2100-01-01
MAX_ID_LENGTH = 512
MAX_TEXT_LENGTH = 10000
NUMBER_RE = re.compile(r"^\+?[0-9]{5,20}$")


class MalformedPayload(ValueError):
    """The payload, or one of its items, is not what the provider documents."""


def parse_timestamp(value):
    """A naive UTC datetime from a Unix timestamp given as an integer or a
    string of digits; None when absent. Raises MalformedPayload otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedPayload(f"timestamp {value!r} is not an integer")
    if not EARLIEST_TIMESTAMP <= value <= LATEST_TIMESTAMP:
        raise MalformedPayload(f"timestamp {value!r} is out of range")
    return datetime.fromtimestamp(value, UTC).replace(tzinfo=None)


def _text(value, name, required=False, max_length=MAX_TEXT_LENGTH):
    if value is None or value == "":
        if required:
            raise MalformedPayload(f"{name} is missing")
        return ""
    if not isinstance(value, str) or len(value) > max_length:
        raise MalformedPayload(f"{name} is not a string")
    return value


def _object(value, name, required=False):
    if value is None:
        if required:
            raise MalformedPayload(f"{name} is missing")
        return {}
    if not isinstance(value, dict):
        raise MalformedPayload(f"{name} is not an object")
    return value


def _list(value, name):
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedPayload(f"{name} is not a list")
    return value


def _code(value):
    if value is None or (isinstance(value, str | int) and not isinstance(value, bool)):
        return value
    raise MalformedPayload("error code is neither a number nor a string")


# === META (WhatsApp Business Cloud API) === #


def parse_meta_payload(payload):
    """Statuses and inbound messages of a Meta webhook payload.

    :returns: ``(statuses, messages, skipped)``: statuses as dicts with ``id``,
        ``status``, ``when``, ``code`` and ``reason``; inbound messages as
        dicts with ``number`` (E.164), ``text``, ``reply`` (a quick reply's
        id) and ``when``; ``skipped`` lists why items were set aside.
    :raises MalformedPayload: when the envelope itself (an object with an
        ``entry`` list) is not what Meta documents.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise MalformedPayload("the payload is not an object with an 'entry' list")
    statuses, messages, skipped = [], [], []
    for value in _meta_values(payload["entry"], skipped):
        try:
            value_error = _meta_error(value.get("errors"))
        except MalformedPayload as error:
            skipped.append(f"value errors: {error}")
            value_error = (None, None)
        for key, parse, found in (("statuses", _meta_status, statuses), ("messages", _meta_inbound, messages)):
            try:
                items = _list(value.get(key), key)
            except MalformedPayload as error:
                skipped.append(str(error))
                continue
            for item in items:
                try:
                    found.append(parse(item, value_error))
                except MalformedPayload as error:
                    skipped.append(f"{key}: {error}")
    return statuses, messages, skipped


def _meta_values(entries, skipped):
    """The ``value`` objects of every change of every entry."""
    for entry in entries:
        try:
            changes = _list(_object(entry, "entry", required=True).get("changes"), "changes")
        except MalformedPayload as error:
            skipped.append(str(error))
            continue
        for change in changes:
            try:
                yield _object(_object(change, "change", required=True).get("value"), "value", required=True)
            except MalformedPayload as error:
                skipped.append(str(error))


def _meta_error(errors):
    """(code, reason) of the first error of an ``errors`` list."""
    errors = _list(errors, "errors")
    if not errors:
        return None, None
    error = _object(errors[0], "error", required=True)
    details = _object(error.get("error_data"), "error_data").get("details")
    reason = (
        _text(details, "error details")
        or _text(error.get("message"), "error message")
        or _text(error.get("title"), "error title")
    )
    return _code(error.get("code")), reason or None


def _meta_status(item, value_error):
    item = _object(item, "status", required=True)
    code, reason = _meta_error(item.get("errors")) if item.get("errors") else value_error
    return {
        "id": _text(item.get("id"), "id", required=True, max_length=MAX_ID_LENGTH),
        "status": _text(item.get("status"), "status", required=True, max_length=64),
        "when": parse_timestamp(item.get("timestamp")),
        "code": code,
        "reason": reason,
    }


def _meta_inbound(item, _value_error):
    item = _object(item, "message", required=True)
    sender = _text(item.get("from"), "from", required=True, max_length=32)
    if not NUMBER_RE.match(sender):
        raise MalformedPayload("from is not a phone number")
    text, reply = _meta_text(item)
    when = parse_timestamp(item.get("timestamp"))
    return {"number": "+" + sender.lstrip("+"), "text": text, "reply": reply, "when": when}


def _meta_text(item):
    """(text, quick reply id) of an inbound WhatsApp message."""
    kind = _text(item.get("type"), "type", max_length=64)
    if kind == "text":
        return _text(_object(item.get("text"), "text").get("body"), "body"), None
    if kind == "button":
        button = _object(item.get("button"), "button")
        text = _text(button.get("text"), "button text")
        return text, _text(button.get("payload"), "button payload") or text or None
    if kind == "interactive":
        interactive = _object(item.get("interactive"), "interactive")
        reply = _object(interactive.get("button_reply") or interactive.get("list_reply"), "reply")
        title = _text(reply.get("title"), "reply title")
        return title, _text(reply.get("id"), "reply id", max_length=MAX_ID_LENGTH) or title or None
    return "", None


# === TWILIO === #


def twilio_values(params, *names):
    """The single string value of each parameter in ``names`` ("" when
    absent). Twilio sends each once: a repeated one is malformed."""
    values = []
    for name in names:
        value = params.get(name)
        if isinstance(value, list):
            if len(value) != 1:
                raise MalformedPayload(f"{name} is repeated")
            value = value[0]
        values.append(_text(value, name))
    return values
