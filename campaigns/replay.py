"""A stand-in Graph API for demos, end-to-end checks and the benchmark (``manage.py meta_replay``).

Serves, in Graph's documented shapes (see shared/reference/integrations.md 1b-1c):

* ``GET /{version}/act_{id}/campaigns`` — ``campaigns`` campaigns, paged by ``limit`` with
  ``paging.next``/``after`` cursors;
* ``GET /{version}/act_{id}/insights`` — one row per campaign per day of ``time_range`` (the last
  ``days`` days before ``until`` have delivery), with ``actions`` (``lead`` plus its components
  ``onsite_conversion.lead_grouped``/``leadgen_grouped``, which must not be added) and
  ``action_values`` (``purchase``/``omni_purchase``), paged by ``limit``;
* ``GET /{version}/{leadgen_id}`` — a Lead Ads lead whose ``field_data`` derives from the id,
  attributed to the first campaign.

Numbers are deterministic (seeded by campaign and date) so two runs agree. Tests replay recorded
payloads from tests/campaigns/data instead; this server is for volume.
"""

import base64
import json
import random
import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

OBJECTIVES = ["OUTCOME_LEADS", "OUTCOME_SALES", "OUTCOME_TRAFFIC"]


def campaign_id(i: int) -> str:
    return f"1202199{i:011d}"


def _cursor(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode()


def _offset(cursor: str | None) -> int:
    try:
        return int(base64.b64decode(cursor or "").decode() or 0)
    except ValueError:
        return 0


def insight_row(i: int, day: date) -> dict:
    rng = random.Random(f"{i}:{day.isoformat()}")
    objective = OBJECTIVES[i % len(OBJECTIVES)]
    spend = round(rng.uniform(20, 140), 2)
    impressions = int(spend / rng.uniform(7, 14) * 1000)
    clicks = int(impressions * rng.uniform(0.01, 0.025))
    link = int(clicks * 0.7)
    row = {"campaign_id": campaign_id(i), "campaign_name": f"Replay campaign {i}", "objective": objective,
           "spend": f"{spend:.2f}", "impressions": str(impressions), "clicks": str(clicks),
           "inline_link_clicks": str(link), "date_start": day.isoformat(), "date_stop": day.isoformat()}
    actions = [{"action_type": "link_click", "value": str(link)}]
    if objective == "OUTCOME_LEADS":
        leads = max(1, int(spend / rng.uniform(15, 35)))
        onsite = max(0, leads - 1)
        actions += [{"action_type": "lead", "value": str(leads)},
                    {"action_type": "onsite_conversion.lead_grouped", "value": str(onsite)},
                    {"action_type": "leadgen_grouped", "value": str(onsite)}]
    if objective == "OUTCOME_SALES":
        value = f"{spend * rng.uniform(1.5, 4.5):.2f}"
        actions += [{"action_type": "purchase", "value": "2"}, {"action_type": "omni_purchase", "value": "2"}]
        row["action_values"] = [{"action_type": "purchase", "value": value},
                                {"action_type": "omni_purchase", "value": value}]
    row["actions"] = actions
    return row


class FakeGraph:
    """``with FakeGraph(campaigns=3, days=30) as graph:`` → ``graph.url`` serves the API."""

    def __init__(self, *, campaigns: int = 3, days: int = 30, until: date | None = None, host: str = "127.0.0.1",
                 port: int = 0):
        self.campaigns, self.days = campaigns, days
        self.until = until or date.today()
        self.requests = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                fake.requests += 1
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                segments = parts.path.strip("/").split("/")
                status, body = fake.answer(segments[1:], query, parts.path)
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.send_header("X-Business-Use-Case-Usage", json.dumps(
                    {"100200300": [{"type": "ads_insights", "call_count": 3, "total_cputime": 2, "total_time": 2,
                                    "estimated_time_to_regain_access": 0}]}))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}"

    def _page(self, items: list, query: dict, path: str) -> dict:
        limit = max(1, min(int(query.get("limit") or 25), 5000))
        offset = _offset(query.get("after"))
        page = items[offset:offset + limit]
        body = {"data": page, "paging": {"cursors": {"before": _cursor(offset), "after": _cursor(offset + len(page))}}}
        if offset + limit < len(items):
            nxt = {k: v for k, v in query.items() if k != "after"}
            nxt["after"] = _cursor(offset + limit)
            body["paging"]["next"] = f"https://graph.facebook.com{path}?{urlencode(nxt)}"
        return body

    def answer(self, segments: list[str], query: dict, path: str) -> tuple[int, dict]:
        if len(segments) == 2 and segments[0].startswith("act_") and segments[1] == "campaigns":
            items = [{"id": campaign_id(i), "name": f"Replay campaign {i}", "status": "ACTIVE",
                      "effective_status": "ACTIVE", "objective": OBJECTIVES[i % len(OBJECTIVES)]}
                     for i in range(self.campaigns)]
            return 200, self._page(items, query, path)
        if len(segments) == 2 and segments[0].startswith("act_") and segments[1] == "insights":
            rng = json.loads(query.get("time_range") or "{}")
            since = date.fromisoformat(rng.get("since", self.until.isoformat()))
            until = date.fromisoformat(rng.get("until", self.until.isoformat()))
            first = max(since, self.until - timedelta(days=self.days - 1))
            last = min(until, self.until)
            rows = []
            day = first
            while day <= last:
                rows += [insight_row(i, day) for i in range(self.campaigns)]
                day += timedelta(days=1)
            return 200, self._page(rows, query, path)
        if len(segments) == 1 and segments[0].isdigit():
            n = int(segments[0]) % 1000
            return 200, {
                "id": segments[0], "created_time": "2026-11-22T08:49:14+0000", "form_id": "900100200300",
                "ad_id": "120219900000000900", "adset_id": "120219900000000800", "campaign_id": campaign_id(0),
                "is_organic": False, "platform": "fb",
                "field_data": [{"name": "full_name", "values": [f"Replay Lead {n}"]},
                               {"name": "email", "values": [f"replay.lead.{segments[0]}@example.com"]},
                               {"name": "phone_number", "values": [f"+1415555{n:04d}"]},
                               {"name": "budget", "values": ["5k-10k"]}],
            }
        return 400, {"error": {"message": f"Unsupported get request. Object with ID '{'/'.join(segments)}' does not "
                               "exist, cannot be loaded due to missing permissions, or does not support this "
                               "operation.", "type": "GraphMethodException", "code": 100, "error_subcode": 33,
                               "fbtrace_id": "AReplay"}}

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
