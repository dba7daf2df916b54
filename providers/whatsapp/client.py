"""WhatsApp Business Cloud API (Meta Graph API) client: plain Python, one
method does the I/O (``_request``); the payload shapes Meta documents."""

from odoo.tools.translate import LazyTranslate

from ...exceptions import ReminderPermanentError, ReminderProviderError, ReminderRetryableError
from ..http import NETWORK_CODES, call, retry_after
from .errors import whatsapp_error

_lt = LazyTranslate(__name__, default_lang="en_US")

DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v21.0"


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
            raise ReminderPermanentError(reason, code=error.code, detail=error.detail) from error

    def _send(self, payload):
        answer = self._request("POST", f"/{self.phone_number_id}/messages", payload)
        try:
            return answer["messages"][0]["id"], payload
        except (KeyError, IndexError, TypeError) as error:
            raise ReminderRetryableError(_lt("WhatsApp answered without a message id."), code="bad_answer") from error

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
        raise whatsapp_error(response.status_code, answer, retry_after=retry_after(response))
