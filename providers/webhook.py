"""Webhook payloads checked and flattened into plain values (no ORM): the
checks every provider's ``payloads.py`` builds on.

The controllers read what a provider posts only through their provider's
payload functions.

Every level is type-checked: an envelope that is not what the provider
documents raises :class:`MalformedPayload` (the request is refused), and an
item of an unexpected shape inside a valid envelope is set aside with the
reason, so that one malformed item never costs the valid ones of the same
request.
"""

import hmac
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


def check_text(value, name, required=False, max_length=MAX_TEXT_LENGTH):
    if value is None or value == "":
        if required:
            raise MalformedPayload(f"{name} is missing")
        return ""
    if not isinstance(value, str) or len(value) > max_length:
        raise MalformedPayload(f"{name} is not a string")
    return value


def check_object(value, name, required=False):
    if value is None:
        if required:
            raise MalformedPayload(f"{name} is missing")
        return {}
    if not isinstance(value, dict):
        raise MalformedPayload(f"{name} is not an object")
    return value


def check_list(value, name):
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedPayload(f"{name} is not a list")
    return value


def check_code(value):
    if value is None or (isinstance(value, str | int) and not isinstance(value, bool)):
        return value
    raise MalformedPayload("error code is neither a number nor a string")


def same_text(given, expected) -> bool:
    """Constant-time equality of two strings, any characters included
    (``hmac.compare_digest`` raises TypeError on non-ASCII ``str``: a forged
    header must be refused, not crash the request)."""
    return hmac.compare_digest(str(given).encode(), str(expected).encode())
