"""A local HTTP server that speaks just enough of the providers' protocols for
the addon's real client code to run against it: Meta's Graph API (WhatsApp
Cloud API), Twilio's REST API (Messages) and Odoo's IAP SMS API.

Tests script its answers per recipient: an HTTP status, a JSON body, a delay.
Everything it receives is kept in ``requests`` for assertions.
"""

import base64
import json
import os
import re
import threading
import time
import uuid
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

META_TOKEN = "meta-test-token"
TWILIO_SID = "AC00000000000000000000000000000001"
TWILIO_TOKEN = "twilio-test-token"


class FakeProviderServer:
    def __init__(self):
        self.requests = []
        self.script = defaultdict(deque)  # recipient -> deque of (status, body, delay)
        # the WhatsApp templates approved on the fake account: (name, language) -> number of body parameters
        self.meta_templates = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self):
        host, port = self._server.server_address
        return f"http://{host}:{port}"

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def reset(self):
        self.requests.clear()
        self.script.clear()

    def answer(self, recipient, status, body=None, delay=0.0):
        """Script the next answer for messages to ``recipient`` (E.164 digits,
        with or without '+' and 'whatsapp:')."""
        self.script[_digits(recipient)].append((status, body, delay))

    def sent(self, kind=None):
        """The message requests received, optionally of one kind: meta, twilio, iap."""
        return [r for r in self.requests if r["kind"] != "check" and (kind is None or r["kind"] == kind)]


def _clock():
    """Wall-clock seconds that freezegun does not freeze (tests freeze time)."""
    return os.times().elapsed


def _digits(number):
    return re.sub(r"\D", "", number or "")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep the test log clean
        pass

    @property
    def fake(self):
        return self.server.fake

    def _reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _read(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _scripted(self, recipient):
        queue = self.fake.script.get(_digits(recipient))
        if queue:
            status, body, delay = queue.popleft()
            if delay:
                time.sleep(delay)
            if status:
                return status, body
        return None

    def do_GET(self):
        path = urlsplit(self.path).path
        if re.fullmatch(r"/v[\d.]+/[^/]+", path):
            if self.headers.get("Authorization") != f"Bearer {META_TOKEN}":
                return self._reply(401, _meta_error(190, "Invalid OAuth access token."))
            self.fake.requests.append({"kind": "check", "path": path})
            return self._reply(200, {"display_phone_number": "+1 555-0100", "id": path.rsplit("/", 1)[1]})
        if re.fullmatch(rf"/2010-04-01/Accounts/{TWILIO_SID}\.json", path):
            if not self._twilio_auth():
                return self._reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
            return self._reply(200, {"sid": TWILIO_SID, "friendly_name": "Test account", "status": "active"})
        return self._reply(404, {"error": "not found"})

    def do_POST(self):
        path = urlsplit(self.path).path
        raw = self._read()
        if re.fullmatch(r"/v[\d.]+/[^/]+/messages", path):
            return self._meta(path, raw)
        if path == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json":
            return self._twilio(path, raw)
        if path == "/api/sms/3/send":
            return self._iap(raw)
        return self._reply(404, {"error": "not found"})

    # Meta Graph API: POST /{version}/{phone-number-id}/messages
    def _meta(self, path, raw):
        try:
            body = json.loads(raw)
        except ValueError:
            return self._reply(400, _meta_error(100, "Invalid JSON"))
        record = {"kind": "meta", "path": path, "headers": dict(self.headers), "json": body, "at": _clock()}
        self.fake.requests.append(record)
        if self.headers.get("Authorization") != f"Bearer {META_TOKEN}":
            return self._reply(401, _meta_error(190, "Error validating access token: Session has expired."))
        if body.get("messaging_product") != "whatsapp" or not str(body.get("to", "")).isdigit():
            return self._reply(400, _meta_error(100, "Invalid parameter"))
        scripted = self._scripted(body["to"])
        if scripted:
            return self._reply(*scripted)
        if body.get("type") == "template":
            template = body.get("template") or {}
            key = (template.get("name"), (template.get("language") or {}).get("code"))
            if key not in self.fake.meta_templates:
                return self._reply(404, _meta_error(132001, "Template name does not exist in the translation"))
            params = [
                p
                for component in template.get("components") or []
                if component.get("type") == "body"
                for p in component.get("parameters") or []
            ]
            if len(params) != self.fake.meta_templates[key]:
                return self._reply(400, _meta_error(132000, "Number of parameters does not match"))
            if any(not str(p.get("text") or "").strip() for p in params):
                return self._reply(400, _meta_error(131008, "Required parameter is missing"))
        wamid = "wamid." + base64.b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        return self._reply(
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                "messages": [{"id": wamid, "message_status": "accepted"}],
            },
        )

    def _twilio_auth(self):
        expected = base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
        return self.headers.get("Authorization") == f"Basic {expected}"

    # Twilio: POST /2010-04-01/Accounts/{AccountSid}/Messages.json (form-encoded)
    def _twilio(self, path, raw):
        form = {key: values[0] for key, values in parse_qs(raw.decode()).items()}
        record = {"kind": "twilio", "path": path, "headers": dict(self.headers), "form": form, "at": _clock()}
        self.fake.requests.append(record)
        if not self._twilio_auth():
            return self._reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
        to = form.get("To", "")
        if not re.fullmatch(r"(whatsapp:)?\+\d{8,15}", to):
            return self._reply(400, {"code": 21211, "message": f"The 'To' number {to} is not valid.", "status": 400})
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return self._reply(400, {"code": 21603, "message": "A 'From' phone number is required.", "status": 400})
        scripted = self._scripted(to)
        if scripted:
            return self._reply(*scripted)
        body = form.get("Body", "")
        segments = 1 if len(body) <= 160 else -(-len(body) // 153)
        return self._reply(
            201,
            {
                "sid": "SM" + uuid.uuid4().hex,
                "status": "queued",
                "to": to,
                "from": form.get("From"),
                "body": body,
                "num_segments": str(segments),
                "price": None,
                "error_code": None,
            },
        )

    # Odoo IAP SMS: JSON-RPC POST /api/sms/3/send
    def _iap(self, raw):
        call = json.loads(raw)
        params = call.get("params") or {}
        record = {"kind": "iap", "json": params, "at": _clock()}
        self.fake.requests.append(record)
        results = []
        for message in params.get("messages") or []:
            for number in message.get("numbers") or []:
                scripted = self._scripted(number["number"])
                state = scripted[1] if scripted else "success"
                results.append({"uuid": number["uuid"], "state": state, "credit": 1})
        return self._reply(200, {"jsonrpc": "2.0", "id": call.get("id"), "result": results})


def _meta_error(code, message):
    return {"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Afake"}}
