"""Calling fixtures: Celery in eager mode, and a local HTTP server standing in for Vapi/Retell.

The replay server answers each POST with the documented create-call response for its path
(integrations.md) and records what it was sent, so a test can check the request the adapter
built. Nothing of the project is patched: the adapters' base-URL settings point at it.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from config.celery import app

# Create-call answers from integrations.md (Vapi: the Call object; Retell: the call object).
VAPI_CREATED = {"id": "c0ffee00-0000-4000-8000-000000001042", "type": "outboundPhoneCall", "status": "queued",
                "assistantId": "asst-1", "phoneNumberId": "pn-1"}
RETELL_CREATED = {"call_type": "phone_call", "call_id": "Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6",
                  "agent_id": "oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD", "call_status": "registered",
                  "from_number": "+14157774444", "to_number": "+14155552671", "direction": "outbound"}


@pytest.fixture
def eager_celery():
    """Run tasks in-process at once (countdowns ignored)."""
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


class ReplayServer:
    """``responses[path] = (status, body)``; ``requests`` = [(path, headers, json body)]."""

    def __init__(self):
        self.responses: dict[str, tuple[int, dict]] = {
            "/call": (201, VAPI_CREATED),
            "/v2/create-phone-call": (201, RETELL_CREATED),
        }
        self.requests: list[tuple[str, dict, dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                outer.requests.append((self.path, dict(self.headers), body))
                code, answer = outer.responses.get(self.path, (404, {"message": "not found"}))
                data = json.dumps(answer).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def replay(settings):
    """A running replay server with the Vapi and Retell settings pointing at it."""
    with ReplayServer() as server:
        settings.VAPI_BASE_URL = server.url
        settings.RETELL_BASE_URL = server.url
        settings.VAPI_API_KEY = "vapi-test-key"
        settings.VAPI_WEBHOOK_SECRET = "vapi-webhook-secret"
        settings.RETELL_API_KEY = "key_retell_test"
        settings.RETELL_WEBHOOK_KEY = "key_retell_test"
        yield server
