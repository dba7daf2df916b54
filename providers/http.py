"""The one HTTP call the provider clients make, with the network's failures
turned into retryable provider errors, and the provider's ``Retry-After``."""

import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests

from odoo.tools.translate import LazyTranslate

from ..exceptions import ReminderPermanentError, ReminderRetryableError

_lt = LazyTranslate(__name__, default_lang="en_US")
_logger = logging.getLogger(__name__)

NETWORK_CODES = {"timeout", "connection", "bad_url"}
"""Codes of the failures ``call`` raises itself, before any answer of the provider."""


def call(provider, method, url, timeout, **kwargs):
    """``requests.request`` with a timeout; returns ``(response, JSON answer
    or {})``. A timeout or a network failure raises a
    ReminderRetryableError that says in words what went wrong (the technical
    detail goes to the log); HTTP errors are the caller's."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2] or url.split("/", 1)[0]
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ReminderPermanentError(
            _lt(
                "The address of %(provider)s is not a web address: %(host)s (it must start with https://).",
                provider=provider,
                host=host,
            ),
            code="bad_url",
        )
    try:
        response = requests.request(method, url, timeout=timeout, **kwargs)
    except requests.Timeout as error:
        raise ReminderRetryableError(
            _lt("%(provider)s did not answer within %(seconds)s seconds.", provider=provider, seconds=timeout),
            code="timeout",
        ) from error
    except requests.RequestException as error:
        _logger.info("%s at %s could not be reached: %s", provider, host, error)
        raise ReminderRetryableError(_network_reason(error, provider, host), code="connection") from error
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    return response, answer


def retry_after(response, now=None):
    """The seconds a ``Retry-After`` header asks to wait (a number of
    seconds or an HTTP date), or None when absent or unreadable."""
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return int(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0, int((when - (now or datetime.now(UTC))).total_seconds()))


def _network_reason(error, provider, host):
    """What a network failure means, in words."""
    text = str(error).lower()
    if isinstance(error, requests.exceptions.InvalidURL):
        return _lt("The address of %(provider)s is not valid: check the gateway's URL.", provider=provider)
    if isinstance(error, requests.exceptions.SSLError):
        return _lt(
            "The secure connection to %(provider)s (%(host)s) failed: check its address.", provider=provider, host=host
        )
    if "name or service not known" in text or "name resolution" in text or "nodename nor servname" in text:
        return _lt(
            "The address of %(provider)s (%(host)s) could not be found: check the gateway's URL.",
            provider=provider,
            host=host,
        )
    if "connection refused" in text:
        return _lt(
            "%(provider)s (%(host)s) refused the connection: the service is down or the URL is wrong.",
            provider=provider,
            host=host,
        )
    return _lt(
        "%(provider)s (%(host)s) could not be reached: check the network and the gateway's URL.",
        provider=provider,
        host=host,
    )
