"""Twilio's REST API (Messages), as much of it as the tests need: a protocol
for :class:`~..fake_server.FakeProviderServer`."""

import base64
import re
import uuid
from urllib.parse import parse_qs

from ..fake_server import clock

TWILIO_SID = "AC00000000000000000000000000000001"
TWILIO_TOKEN = "twilio-test-token"


class TwilioFake:
    ROUTES = [
        ("GET", rf"/2010-04-01/Accounts/{TWILIO_SID}\.json", "twilio_check"),
        ("POST", rf"/2010-04-01/Accounts/{TWILIO_SID}/Messages\.json", "twilio_send"),
    ]

    def _twilio_auth(self):
        expected = base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
        return self.headers.get("Authorization") == f"Basic {expected}"

    def twilio_check(self, path):
        """GET /2010-04-01/Accounts/{AccountSid}.json: the connection test."""
        if not self._twilio_auth():
            return self.reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
        return self.reply(200, {"sid": TWILIO_SID, "friendly_name": "Test account", "status": "active"})

    def twilio_send(self, path):
        """POST /2010-04-01/Accounts/{AccountSid}/Messages.json (form-encoded)"""
        raw = self.read_body()
        form = {key: values[0] for key, values in parse_qs(raw.decode()).items()}
        record = {"kind": "twilio", "path": path, "headers": dict(self.headers), "form": form, "at": clock()}
        self.fake.requests.append(record)
        if not self._twilio_auth():
            return self.reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
        to = form.get("To", "")
        if not re.fullmatch(r"(whatsapp:)?\+\d{8,15}", to):
            return self.reply(400, {"code": 21211, "message": f"The 'To' number {to} is not valid.", "status": 400})
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return self.reply(400, {"code": 21603, "message": "A 'From' phone number is required.", "status": 400})
        scripted = self.scripted(to)
        if scripted:
            return self.reply(*scripted)
        body = form.get("Body", "")
        segments = 1 if len(body) <= 160 else -(-len(body) // 153)
        return self.reply(
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
