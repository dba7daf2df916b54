"""Odoo's IAP SMS API, as much of it as the tests need: a protocol for
:class:`~..fake_server.FakeProviderServer` (point ``sms.endpoint`` at it)."""

import json

from ..fake_server import clock


class IapSmsFake:
    ROUTES = [("POST", r"/api/sms/3/send", "iap_send")]

    def iap_send(self, _path):
        """JSON-RPC POST /api/sms/3/send (what ``sms.api._send_sms_batch`` calls)"""
        raw = self.read_body()
        call = json.loads(raw)
        params = call.get("params") or {}
        record = {"kind": "iap", "json": params, "at": clock()}
        self.fake.requests.append(record)
        results = []
        for message in params.get("messages") or []:
            for number in message.get("numbers") or []:
                scripted = self.scripted(number["number"])
                state = scripted[1] if scripted else "success"
                results.append({"uuid": number["uuid"], "state": state, "credit": 1})
        return self.reply(200, {"jsonrpc": "2.0", "id": call.get("id"), "result": results})
