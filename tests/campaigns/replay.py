"""A local HTTP server that replays Meta Graph API payloads (DESIGN.md decision 14).

Routes map a path (``/v21.0/act_123/insights``) to a list of responses served in turn (the
last one repeats); a response is ``(status, body, headers)`` with ``body`` a dict (JSON) or
bytes. An optional ``match`` function on the query picks between routes of the same path
(e.g. by ``after`` cursor). Every request is recorded as ``(path, query dict)``.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

DATA = Path(__file__).parent / "data"


def load(name: str):
    """A recorded payload from tests/campaigns/data (JSON)."""
    return json.loads((DATA / name).read_text())


class Route:
    def __init__(self, responses, match=None):
        self.responses = list(responses)
        self.match = match
        self.served = 0

    def next(self):
        response = self.responses[min(self.served, len(self.responses) - 1)]
        self.served += 1
        return response


class GraphReplay:
    """Start with ``with GraphReplay() as graph:``; ``graph.url`` is the base URL for META_GRAPH_URL."""

    def __init__(self):
        self.routes: dict[str, list[Route]] = {}
        self.requests: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        replay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                with replay.lock:
                    replay.requests.append((parts.path, query))
                    route = replay._route(parts.path, query)
                    response = route.next() if route else (404, {"error": {
                        "message": f"Unknown path {parts.path}", "type": "GraphMethodException", "code": 100}}, {})
                status, body, headers = (list(response) + [{}])[:3]
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(raw)))
                for name, value in headers.items():
                    self.send_header(name, value if isinstance(value, str) else json.dumps(value))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _route(self, path, query):
        for route in self.routes.get(path, []):
            if route.match is None or route.match(query):
                return route
        return None

    def add(self, path: str, *responses, match=None) -> Route:
        """Serve ``responses`` (``(status, body[, headers])``) in turn at ``path``."""
        route = Route(responses, match)
        self.routes.setdefault(path, []).append(route)
        # Specific matchers are tried before catch-alls.
        self.routes[path].sort(key=lambda r: r.match is None)
        return route

    def calls(self, path: str) -> list[dict]:
        return [q for p, q in self.requests if p == path]

    def __enter__(self):
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
