"""A local HTTP server standing in for a customer's webhook endpoint (DESIGN.md decision 14).

Per path it answers from a script: a list of status codes used in turn (the last repeats),
an optional delay before answering, or a gate (``threading.Event``) it waits on. Every request
is recorded with its headers and raw body so tests can check signatures.
"""

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    statuses: list[int] = field(default_factory=lambda: [200])
    delay: float = 0.0
    gate: threading.Event | None = None
    served: int = 0


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


class WebhookTarget:
    def __init__(self):
        self.routes: dict[str, Route] = {}
        self.received: list[Received] = []
        self.completed = 0
        self.lock = threading.Lock()
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                route = target.routes.get(self.path, Route(statuses=[404]))
                with target.lock:
                    target.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()},
                                                    body))
                    status = route.statuses[min(route.served, len(route.statuses) - 1)]
                    route.served += 1
                if route.gate is not None:
                    route.gate.wait(timeout=15)
                if route.delay:
                    time.sleep(route.delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.end_headers()
                    self.wfile.write(b"ok" if status < 300 else b"server error")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout)
                with target.lock:
                    target.completed += 1

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def route(self, path: str, **kwargs) -> str:
        self.routes[path] = Route(**kwargs)
        return self.url(path)

    def requests_to(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
