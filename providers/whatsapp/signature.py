"""Meta's webhook signature (``X-Hub-Signature-256``), plain Python."""

import hashlib
import hmac

from ..webhook import same_text


def verify_meta_signature(raw_body: bytes, header: str, app_secret: str) -> bool:
    """Meta's ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app_secret, raw body)>``.

    The HMAC is computed over the bytes as received: re-serialised JSON would
    not match.
    """
    if not (raw_body is not None and header and app_secret and header.startswith("sha256=")):
        return False
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return same_text(expected, header.removeprefix("sha256=").strip().lower())
