"""Twilio Programmable Messaging client (SMS and WhatsApp): plain Python, one
method does the I/O (``_request``)."""

import json

from odoo.tools.translate import LazyTranslate

from ...exceptions import ReminderProviderError
from ..http import NETWORK_CODES, call

_lt = LazyTranslate(__name__, default_lang="en_US")

DEFAULT_BASE_URL = "https://api.twilio.com"

TRANSIENT_CODES = {20429, 14107, 30001, 30003, 63018, 63017, 20500, 20503}
OPT_OUT_CODES = {21610, 63014}
REASONS = {
    21211: _lt("The phone number is not valid for Twilio."),
    21408: _lt("Sending to this country is not enabled on the Twilio account."),
    21608: _lt("Trial accounts can only send to verified numbers."),
    21610: _lt("The customer replied STOP to this number: SMS are blocked until they reply START."),
    21614: _lt("The number cannot receive SMS (not a mobile number)."),
    21635: _lt("The number is a landline: it cannot receive SMS."),
    20003: _lt("Twilio refused the credentials: check the Account SID and Auth Token."),
    20429: _lt("Twilio rate limit reached; retrying later."),
    14107: _lt("Too many messages between these two numbers; retrying later."),
    30003: _lt("The handset is unreachable; retrying later."),
    30005: _lt("Unknown destination handset."),
    30006: _lt("Landline or unreachable carrier."),
    30007: _lt("The carrier filtered the message."),
    63016: _lt("Outside WhatsApp's 24-hour window: only an approved template may be sent."),
    63014: _lt("The customer blocked this business on WhatsApp."),
    63018: _lt("WhatsApp rate limit reached; retrying later."),
}


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
            raise ReminderProviderError(reason, code=error.code, detail=error.detail) from error

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
        raise self.error(answer.get("code") if isinstance(answer, dict) else None, response.status_code, answer)

    @staticmethod
    def error(code, status=None, answer=None):
        """A ReminderProviderError for a Twilio error code (API answer or callback)."""
        try:
            code = int(code) if code not in (None, "") else None
        except (TypeError, ValueError):
            code = None
        message = (answer or {}).get("message") if isinstance(answer, dict) else None
        reason = REASONS.get(code) or _lt("Twilio refused the message (code %s).", code or status)
        return ReminderProviderError(
            reason,
            detail=message or None,
            code=code or f"http_{status}",
            transient=code in TRANSIENT_CODES or (status or 0) >= 500 or status == 429,
            opt_out=code in OPT_OUT_CODES,
        )
