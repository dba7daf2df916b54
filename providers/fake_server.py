"""A local HTTP server for the tests that speaks the protocols of the
providers it is given (each provider's ``fake.py``), so that the addon's real
client code runs against it.

Tests script its answers per recipient: an HTTP status, a JSON body, a delay,
headers. Everything it receives is kept in ``requests`` for assertions.
Not imported by the addon: only the tests use it.
"""

import json
import os
import re
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class FakeProviderServer:
    """One server for several providers: ``FakeProviderServer(MetaFake, TwilioFake)``.

    :param protocols: handler mixins, each with ``ROUTES``, a list of
        ``(HTTP method, path regex, handler method name)``, and optionally a
        ``prepare(fake)`` class method that adds the provider's own state
    """

    def __init__(self, *protocols):
        self.requests = []
        self.script = defaultdict(deque)  # recipient -> deque of (status, body, delay, headers)
        handler = type("FakeHandler", (*protocols, FakeHandler), {})
        for protocol in protocols:
            if hasattr(protocol, "prepare"):
                protocol.prepare(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
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

    def answer(self, recipient, status, body=None, delay=0.0, headers=None):
        """Script the next answer for messages to ``recipient`` (E.164 digits,
        with or without '+' and 'whatsapp:'), with extra response ``headers``
        (a ``Retry-After``) if given."""
        self.script[digits(recipient)].append((status, body, delay, headers or {}))

    def sent(self, kind=None):
        """The message requests received, optionally of one kind (meta, twilio, iap)."""
        return [r for r in self.requests if r["kind"] != "check" and (kind is None or r["kind"] == kind)]


def clock():
    """Wall-clock seconds that freezegun does not freeze (tests freeze time)."""
    return os.times().elapsed


def digits(number):
    return re.sub(r"\D", "", number or "")


class FakeHandler(BaseHTTPRequestHandler):
    """Routes each request to the protocol mixin whose ``ROUTES`` match it."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep the test log clean
        pass

    @property
    def fake(self):
        return self.server.fake

    def reply(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        self.end_headers()
        try:
            self.wfile.write(data)
        except BrokenPipeError:  # the client gave up waiting (a test of a slow answer)
            self.close_connection = True

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def scripted(self, recipient):
        """The scripted ``(status, body, headers)`` for ``recipient``, or None."""
        queue = self.fake.script.get(digits(recipient))
        if queue:
            status, body, delay, headers = queue.popleft()
            if delay:
                time.sleep(delay)
            if status:
                return status, body, headers
        return None

    def _route(self, method):
        path = urlsplit(self.path).path
        for cls in type(self).__mro__:
            for verb, pattern, name in cls.__dict__.get("ROUTES", ()):
                if verb == method and re.fullmatch(pattern, path):
                    return getattr(self, name)(path)
        if method == "POST":
            self.read_body()
        return self.reply(404, {"error": "not found"})

    def do_GET(self):
        return self._route("GET")

    def do_POST(self):
        return self._route("POST")
