"""Odoo's IAP postal service, as much of it as the tests need: a protocol
for :class:`~..fake_server.FakeProviderServer` (point ``snailmail.endpoint``
at it). Answers are scripted per letter by the recipient's zip code:
``fake.answer(zip, 200, "NO_PRICE_AVAILABLE")`` refuses that letter with
snailmail's error code."""

import json

from ..fake_server import clock


class IapSnailmailFake:
    ROUTES = [("POST", r"/iap/snailmail/1/print", "iap_print")]

    def iap_print(self, _path):
        """JSON-RPC POST /iap/snailmail/1/print (what ``snailmail.letter._snailmail_print_valid_address`` calls)"""
        call = json.loads(self.read_body())
        params = call.get("params") or {}
        self.fake.requests.append({"kind": "snailmail", "json": params, "at": clock()})
        documents = []
        for document in params.get("documents") or []:
            scripted = self.scripted(document["address"]["zip"])
            if scripted:
                documents.append({"letter_id": document["letter_id"], "sent": False, "error": scripted[1]})
            else:
                documents.append(
                    {"letter_id": document["letter_id"], "sent": True, "send_id": f"fake-{document['letter_id']}"}
                )
        result = {"request_code": 200, "total_cost": len(documents), "request": {"documents": documents}}
        return self.reply(200, {"jsonrpc": "2.0", "id": call.get("id"), "result": result})
