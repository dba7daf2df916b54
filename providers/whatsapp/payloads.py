"""What Meta posts to the webhook (WhatsApp Business Cloud API), checked and
flattened into plain values (no ORM)."""

from ..webhook import (
    MAX_ID_LENGTH,
    NUMBER_RE,
    MalformedPayload,
    check_code,
    check_list,
    check_object,
    check_text,
    parse_timestamp,
)


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
                items = check_list(value.get(key), key)
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
            changes = check_list(check_object(entry, "entry", required=True).get("changes"), "changes")
        except MalformedPayload as error:
            skipped.append(str(error))
            continue
        for change in changes:
            try:
                yield check_object(check_object(change, "change", required=True).get("value"), "value", required=True)
            except MalformedPayload as error:
                skipped.append(str(error))


def _meta_error(errors):
    """(code, reason) of the first error of an ``errors`` list."""
    errors = check_list(errors, "errors")
    if not errors:
        return None, None
    error = check_object(errors[0], "error", required=True)
    details = check_object(error.get("error_data"), "error_data").get("details")
    reason = (
        check_text(details, "error details")
        or check_text(error.get("message"), "error message")
        or check_text(error.get("title"), "error title")
    )
    return check_code(error.get("code")), reason or None


def _meta_status(item, value_error):
    item = check_object(item, "status", required=True)
    code, reason = _meta_error(item.get("errors")) if item.get("errors") else value_error
    return {
        "id": check_text(item.get("id"), "id", required=True, max_length=MAX_ID_LENGTH),
        "status": check_text(item.get("status"), "status", required=True, max_length=64),
        "when": parse_timestamp(item.get("timestamp")),
        "code": code,
        "reason": reason,
    }


def _meta_inbound(item, _value_error):
    item = check_object(item, "message", required=True)
    sender = check_text(item.get("from"), "from", required=True, max_length=32)
    if not NUMBER_RE.match(sender):
        raise MalformedPayload("from is not a phone number")
    text, reply = _meta_text(item)
    when = parse_timestamp(item.get("timestamp"))
    return {"number": "+" + sender.lstrip("+"), "text": text, "reply": reply, "when": when}


def _meta_text(item):
    """(text, quick reply id) of an inbound WhatsApp message."""
    kind = check_text(item.get("type"), "type", max_length=64)
    if kind == "text":
        return check_text(check_object(item.get("text"), "text").get("body"), "body"), None
    if kind == "button":
        button = check_object(item.get("button"), "button")
        text = check_text(button.get("text"), "button text")
        return text, check_text(button.get("payload"), "button payload") or text or None
    if kind == "interactive":
        interactive = check_object(item.get("interactive"), "interactive")
        reply = check_object(interactive.get("button_reply") or interactive.get("list_reply"), "reply")
        title = check_text(reply.get("title"), "reply title")
        return title, check_text(reply.get("id"), "reply id", max_length=MAX_ID_LENGTH) or title or None
    return "", None
