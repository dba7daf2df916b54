"""Meta's Graph API (WhatsApp Cloud API), as much of it as the tests need:
a protocol for :class:`~..fake_server.FakeProviderServer`."""

import base64
import json
import uuid

from ..fake_server import clock

META_TOKEN = "meta-test-token"


class MetaFake:
    ROUTES = [("GET", r"/v[\d.]+/[^/]+", "meta_check"), ("POST", r"/v[\d.]+/[^/]+/messages", "meta_send")]

    @classmethod
    def prepare(cls, fake):
        # the WhatsApp templates approved on the fake account: (name, language) -> number of body parameters
        fake.meta_templates = {}

    def meta_check(self, path):
        """GET /{version}/{phone-number-id}: the connection test."""
        if self.headers.get("Authorization") != f"Bearer {META_TOKEN}":
            return self.reply(401, meta_error(190, "Invalid OAuth access token."))
        self.fake.requests.append({"kind": "check", "path": path})
        return self.reply(200, {"display_phone_number": "+1 555-0100", "id": path.rsplit("/", 1)[1]})

    def meta_send(self, path):
        """POST /{version}/{phone-number-id}/messages"""
        raw = self.read_body()
        try:
            body = json.loads(raw)
        except ValueError:
            return self.reply(400, meta_error(100, "Invalid JSON"))
        record = {"kind": "meta", "path": path, "headers": dict(self.headers), "json": body, "at": clock()}
        self.fake.requests.append(record)
        if self.headers.get("Authorization") != f"Bearer {META_TOKEN}":
            return self.reply(401, meta_error(190, "Error validating access token: Session has expired."))
        if body.get("messaging_product") != "whatsapp" or not str(body.get("to", "")).isdigit():
            return self.reply(400, meta_error(100, "Invalid parameter"))
        scripted = self.scripted(body["to"])
        if scripted:
            return self.reply(*scripted)
        if body.get("type") == "template":
            template = body.get("template") or {}
            key = (template.get("name"), (template.get("language") or {}).get("code"))
            if key not in self.fake.meta_templates:
                return self.reply(404, meta_error(132001, "Template name does not exist in the translation"))
            params = [
                p
                for component in template.get("components") or []
                if component.get("type") == "body"
                for p in component.get("parameters") or []
            ]
            if len(params) != self.fake.meta_templates[key]:
                return self.reply(400, meta_error(132000, "Number of parameters does not match"))
            if any(not str(p.get("text") or "").strip() for p in params):
                return self.reply(400, meta_error(131008, "Required parameter is missing"))
        wamid = "wamid." + base64.b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        return self.reply(
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                "messages": [{"id": wamid, "message_status": "accepted"}],
            },
        )


def meta_error(code, message):
    return {"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Afake"}}
