"""Twilio's webhook signature (``X-Twilio-Signature``), plain Python."""

import base64
import hashlib
import hmac
from urllib.parse import urlsplit, urlunsplit

from ..webhook import same_text


def twilio_signature(url: str, params: dict, auth_token: str) -> str:
    """Base64 HMAC-SHA1 of the URL followed by the POST parameters sorted by
    name, each as name and value (Twilio's algorithm)."""
    payload = url + "".join(f"{key}{value}" for key, value in sorted(_flatten(params)))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def verify_twilio_signature(url: str, params: dict, header: str, auth_token: str) -> bool:
    """Check ``X-Twilio-Signature`` for a request Twilio made to ``url``.

    Twilio signs the URL it called; behind a proxy the port may be present or
    not, so both forms are accepted, as Twilio's own validator does.
    """
    if not (header and auth_token and url):
        return False
    for candidate in _url_variants(url):
        if same_text(twilio_signature(candidate, params or {}, auth_token), header):
            return True
    return False


def _flatten(params):
    """(name, value) pairs, each value once: a repeated parameter counts all
    its distinct values, in sorted order."""
    pairs = set()
    for key, value in params.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            pairs.add((key, item))
    return pairs


def _url_variants(url):
    """The URL as given, without its port, and with the scheme's default port:
    proxies add or remove ports, and Twilio signs what it called."""
    parts = urlsplit(url)
    variants = [url]
    if parts.port:
        variants.append(urlunsplit(parts._replace(netloc=parts.hostname)))
    else:
        default_port = {"https": 443, "http": 80}.get(parts.scheme)
        if default_port:
            variants.append(urlunsplit(parts._replace(netloc=f"{parts.hostname}:{default_port}")))
    return variants
