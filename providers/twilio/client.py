"""Twilio Programmable Messaging client (SMS and WhatsApp): plain Python, one
method does the I/O (``_request``)."""

import json

from odoo.tools.translate import LazyTranslate

from ...exceptions import ReminderPermanentError, ReminderProviderError
from ..http import NETWORK_CODES, call, retry_after
from .errors import REASONS, twilio_error

_lt = LazyTranslate(__name__, default_lang="en_US")

DEFAULT_BASE_URL = "https://api.twilio.com"


class TwilioClient:
    def __init__(self, account_sid, auth_token, base_url=None, timeout=10):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.timeout = timeout

    def send(
        self,
        to,
        body=None,
        from_=None,
        messaging_service_sid=None,
        content_sid=None,
        content_variables=None,
        status_callback=None,
    ):
        """Create a message; returns Twilio's JSON (``sid``, ``status``, ``num_segments``, ``price``).

        ``to`` and ``from_`` are E.164 numbers, prefixed ``whatsapp:`` for WhatsApp.
        A WhatsApp template goes as ``content_sid`` with its variables, without body.
        """
        data = {"To": to}
        if messaging_service_sid:
            data["MessagingServiceSid"] = messaging_service_sid
        if from_:
            data["From"] = from_
        if content_sid:
            data["ContentSid"] = content_sid
            data["ContentVariables"] = json.dumps({str(k): str(v) for k, v in (content_variables or {}).items()})
        else:
            data["Body"] = body or ""
        if status_callback:
            data["StatusCallback"] = status_callback
        return self._request("POST", f"/2010-04-01/Accounts/{self.account_sid}/Messages.json", data), data

    def check(self):
        """Read the account: proves the SID and the token. A refusal raises a
        ReminderProviderError that says what to check."""
        try:
            return self._request("GET", f"/2010-04-01/Accounts/{self.account_sid}.json", None)
        except ReminderProviderError as error:
            if error.code in NETWORK_CODES or error.code == "20003":
                raise
            if error.code in ("http_401", "http_403"):
                reason = REASONS[20003]
            elif error.code in ("http_404", "20404"):
                reason = _lt(
                    "Twilio does not know the Account SID %(sid)s at this address: check the SID and the base URL.",
                    sid=self.account_sid,
                )
            else:
                reason = _lt("Twilio answered the connection test with an error (code %(code)s).", code=error.code)
            raise ReminderPermanentError(reason, code=error.code, detail=error.detail) from error

    def _request(self, method, path, data):
        response, answer = call(
            "Twilio",
            method,
            self.base_url + path,
            self.timeout,
            data=data,
            auth=(self.account_sid, self.auth_token),
        )
        if response.ok:
            return answer
        code = answer.get("code") if isinstance(answer, dict) else None
        raise twilio_error(code, response.status_code, answer, retry_after=retry_after(response))
