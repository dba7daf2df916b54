"""WhatsApp Business Cloud API (Meta Graph API) client: plain Python, one
method does the I/O (``_request``)."""

from odoo.tools.translate import LazyTranslate

from ...exceptions import ReminderProviderError
from ..http import NETWORK_CODES, call

_lt = LazyTranslate(__name__, default_lang="en_US")

DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v21.0"

TRANSIENT_CODES = {1, 2, 4, 80007, 130429, 131000, 131016, 131056, 131057}
OPT_OUT_CODES = {131050}
REASONS = {
    130429: _lt("WhatsApp rate limit reached for this number; retrying later."),
    131056: _lt("Too many messages to this customer in a short time; retrying later."),
    131057: _lt("The WhatsApp account is in maintenance; retrying later."),
    131026: _lt("The number is not on WhatsApp (or cannot receive this message)."),
    131047: _lt("More than 24 hours since the customer last wrote: only an approved template may be sent."),
    131050: _lt("The customer stopped messages from this business on WhatsApp."),
    131030: _lt("The number is not in the test account's allowed list."),
    131009: _lt("A parameter of the message is invalid."),
    132000: _lt("The number of template parameters does not match the approved template."),
    132001: _lt("The template does not exist in this language or is not approved."),
    132005: _lt("A template parameter is too long."),
    132012: _lt("A template parameter has the wrong format."),
    132015: _lt("The template is paused by Meta because of low quality."),
    132016: _lt("The template is permanently disabled by Meta."),
    190: _lt("The WhatsApp access token is invalid or expired: ask an administrator to renew it."),
}


class WhatsAppCloudClient:
    def __init__(self, phone_number_id, token, api_version=None, base_url=None, timeout=10):
        self.phone_number_id = phone_number_id
        self.token = token
        self.api_version = api_version or DEFAULT_API_VERSION
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.timeout = timeout

    def send_template(self, to, name, lang, body_params=(), button_suffix=None, tracker=None):
        """Send an approved template; returns the ``wamid`` of the message.

        :param to: E.164 number (with or without ``+``)
        :param body_params: the ``{{1}}..{{n}}`` texts, in order
        :param button_suffix: the dynamic end of the URL button, if any
        :param tracker: echoed back in status webhooks (up to 512 characters)
        """
        components = []
        if body_params:
            components.append(
                {"type": "body", "parameters": [{"type": "text", "text": str(value)} for value in body_params]}
            )
        if button_suffix:
            components.append(
                {
                    "type": "button",
                    "sub_type": "url",
                    "index": "0",
                    "parameters": [{"type": "text", "text": button_suffix}],
                }
            )
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to.lstrip("+"),
            "type": "template",
            "template": {"name": name, "language": {"code": lang}, "components": components},
        }
        if tracker:
            payload["biz_opaque_callback_data"] = tracker[:512]
        return self._send(payload)

    def send_text(self, to, text, tracker=None):
        """Send free-form text: only inside the customer's 24-hour window."""
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to.lstrip("+"),
            "type": "text",
            "text": {"body": text, "preview_url": True},
        }
        if tracker:
            payload["biz_opaque_callback_data"] = tracker[:512]
        return self._send(payload)

    def check(self):
        """Read the phone number's profile: proves the token and the id. A
        refusal raises a ReminderProviderError that says what to check."""
        try:
            return self._request("GET", f"/{self.phone_number_id}", None)
        except ReminderProviderError as error:
            if error.code in NETWORK_CODES or error.code == "190":
                raise
            if error.code in ("http_401", "http_403", "10", "200"):
                reason = _lt(
                    "WhatsApp refused the access token (or it lacks the whatsapp_business_messaging permission)."
                )
            elif error.code in ("http_404", "100", "803"):
                reason = _lt(
                    "WhatsApp does not know the phone number ID %(id)s at this address: check the ID (App Dashboard, "
                    "WhatsApp > API Setup) and the base URL.",
                    id=self.phone_number_id,
                )
            else:
                reason = _lt("WhatsApp answered the connection test with an error (code %(code)s).", code=error.code)
            raise ReminderProviderError(reason, code=error.code, detail=error.detail) from error

    def _send(self, payload):
        answer = self._request("POST", f"/{self.phone_number_id}/messages", payload)
        try:
            return answer["messages"][0]["id"], payload
        except (KeyError, IndexError, TypeError) as error:
            raise ReminderProviderError(
                _lt("WhatsApp answered without a message id."), code="bad_answer", transient=True
            ) from error

    def _request(self, method, path, payload):
        response, answer = call(
            "WhatsApp",
            method,
            f"{self.base_url}/{self.api_version}{path}",
            self.timeout,
            json=payload,
            headers={"Authorization": f"Bearer {self.token}"},
        )
        if response.ok:
            return answer
        raise self._error(response.status_code, answer)

    @staticmethod
    def _error(status, answer):
        error = answer.get("error") if isinstance(answer, dict) else None
        error = error if isinstance(error, dict) else {}
        code = error.get("code")
        detail = (error.get("error_data") or {}).get("details") or error.get("message") or ""
        reason = REASONS.get(code) or _lt("WhatsApp refused the message (code %s).", code or status)
        return ReminderProviderError(
            reason,
            detail=detail or None,
            code=code or f"http_{status}",
            transient=code in TRANSIENT_CODES or status >= 500 or status == 429,
            opt_out=code in OPT_OUT_CODES,
        )
