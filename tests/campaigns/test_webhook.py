"""The Lead Ads webhook and lead processing, with Graph replayed by a local server."""

import hashlib
import hmac
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns import services
from campaigns.models import LeadAttribution, LeadgenEvent
from campaigns.tasks import process_leadgen, process_leadgen_batch
from crm.models import Interaction
from leads.models import Lead
from tests.campaigns.conftest import APP_SECRET, VERIFY_TOKEN
from tests.campaigns.conftest import path as p
from tests.campaigns.factories import CampaignFactory
from tests.campaigns.replay import DATA, load
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/meta/leadgen"
BODY = (DATA / "webhook_leadgen.json").read_bytes()


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def one_change_body() -> bytes:
    """The documented notification with only its first change (leadgen 123123123123)."""
    data = json.loads(BODY)
    data["entry"][0]["changes"] = data["entry"][0]["changes"][:1]
    return json.dumps(data).encode()


def post(client, body: bytes, signature: str | None):
    headers = {"HTTP_X_HUB_SIGNATURE_256": signature} if signature is not None else {}
    return client.post(URL, data=body, content_type="application/json", **headers)


def test_handshake_echoes_the_challenge(client, meta_settings):
    response = client.get(URL, {"hub.mode": "subscribe", "hub.challenge": "1158201444",
                                "hub.verify_token": VERIFY_TOKEN})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"1158201444"
    assert client.get(URL + "/", {"hub.mode": "subscribe", "hub.challenge": "1",
                                  "hub.verify_token": VERIFY_TOKEN}).status_code == 200


@pytest.mark.parametrize("params", [
    {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "wrong"},
    {"hub.mode": "unsubscribe", "hub.challenge": "1158201444", "hub.verify_token": VERIFY_TOKEN},
    {"hub.challenge": "1158201444"},
])
def test_handshake_refuses_a_wrong_token(client, meta_settings, params):
    assert client.get(URL, params).status_code == 403


def test_handshake_refused_while_no_verify_token_is_configured(client, settings):
    settings.META_VERIFY_TOKEN = ""
    assert client.get(URL, {"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": ""}).status_code == 403


@pytest.mark.parametrize("signature", [
    None,  # missing
    "sha256=" + "0" * 64,  # wrong
    sign(b'{"object": "page", "entry": []}'),  # over a different body
    sign(BODY, secret="another-secret"),
    "sha1=" + hmac.new(APP_SECRET.encode(), BODY, hashlib.sha1).hexdigest(),  # legacy header format
])
def test_bad_or_missing_signature_is_403_and_stores_nothing(client, meta_settings, signature, published,
                                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post(client, BODY, signature)
    assert response.status_code == 403
    assert response.json()["code"] == "invalid_signature"
    assert not LeadgenEvent.objects.exists() and not callbacks and published == []


def test_signed_but_malformed_bodies_are_400(client, meta_settings):
    for body in (b"{not json", b'{"object": "page"}', b"[1, 2]"):
        assert post(client, body, sign(body)).status_code == 400
    assert not LeadgenEvent.objects.exists()


def test_valid_post_stores_every_change_in_one_insert_and_publishes_one_message(
        client, meta_settings, published, django_capture_on_commit_callbacks, django_assert_num_queries):
    # One INSERT … IGNORE for both changes and nothing read back: both rows were new.
    with django_assert_num_queries(1), django_capture_on_commit_callbacks(execute=True):
        response = post(client, BODY, sign(BODY))

    assert response.status_code == 200
    assert response.json() == {"received": 2}
    # One broker message for the POST, fanned out per leadgen id by the worker.
    assert published == [("campaigns.process_leadgen_batch", [["123123123123", "123123123124"]], "meta")]
    assert LeadgenEvent.objects.count() == 2
    event = LeadgenEvent.objects.get(leadgen_id="123123123123")
    assert (event.page_id, event.form_id, event.ad_id, event.status) == (
        "123123123", "12312312312", "12312312312", "pending")
    assert event.created_time.year == 2015
    assert not Lead.objects.exists()  # the lead is fetched by the task, not in the request


def test_a_post_with_one_change_publishes_process_leadgen_itself(client, meta_settings, published,
                                                                django_capture_on_commit_callbacks):
    body = one_change_body()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, body, sign(body))
    assert response.json() == {"received": 1}
    assert published == [("campaigns.process_leadgen", ["123123123123"], "meta")]
    assert list(LeadgenEvent.objects.values_list("leadgen_id", "status")) == [("123123123123", "pending")]


def test_a_redelivery_reads_back_and_queues_only_what_is_not_processed(
        client, meta_settings, published, django_capture_on_commit_callbacks, django_assert_num_queries):
    post(client, BODY, sign(BODY))
    LeadgenEvent.objects.filter(leadgen_id="123123123124").update(status=LeadgenEvent.Status.PROCESSED)

    # INSERT … IGNORE stores nothing new, so one read-back finds the unprocessed id.
    with django_assert_num_queries(2), django_capture_on_commit_callbacks(execute=True):
        again = post(client, BODY, sign(BODY))

    assert again.json() == {"received": 1}
    assert published == [("campaigns.process_leadgen", ["123123123123"], "meta")]
    assert LeadgenEvent.objects.count() == 2
    first = LeadgenEvent.objects.get(leadgen_id="123123123124")
    assert first.status == "processed"  # the redelivery did not reset it


def test_a_batch_of_1000_changes_is_stored_and_queued_as_one_message(client, meta_settings, published,
                                                                      django_capture_on_commit_callbacks):
    # Meta batches up to 1,000 updates in one POST (integrations.md 1a).
    change = json.loads(BODY)["entry"][0]["changes"][0]
    changes = [{**change, "value": {**change["value"], "leadgen_id": 500_000_000 + i}} for i in range(1000)]
    body = json.dumps({"object": "page", "entry": [{"id": "1", "time": 1, "changes": changes}]}).encode()

    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        response = post(client, body, sign(body))

    assert response.json() == {"received": 1000}
    assert LeadgenEvent.objects.count() == 1000
    if connection.vendor == "mysql":  # SQLite caps the parameters of one statement: batches there
        assert len(queries) == 1
    [(task, [ids], queue)] = published
    assert (task, queue, len(ids), ids[0], ids[-1]) == (
        "campaigns.process_leadgen_batch", "meta", 1000, "500000000", "500000999")


def test_the_batch_task_fans_out_one_process_leadgen_per_id(meta_settings, published):
    assert process_leadgen_batch.apply(args=[["1", "2", "3"]]).get() == ["1", "2", "3"]
    assert published == [("campaigns.process_leadgen", [i], "meta") for i in ("1", "2", "3")]


def test_task_creates_the_lead_with_attribution_and_a_redelivery_makes_no_duplicate(
        client, graph, sales_user, published, django_capture_on_commit_callbacks):
    campaign = CampaignFactory(meta_id="120210000000000001", name="Leads - Roofing")
    graph.add(p("123123123123"), (200, load("lead_retrieval.json")))
    post(client, BODY, sign(BODY))

    result = process_leadgen.apply(args=["123123123123"]).get()

    lead = Lead.objects.get()
    assert result == {"leadgen_id": "123123123123", "status": "processed", "lead_id": str(lead.pk),
                      "duplicate": False}
    assert (lead.first_name, lead.last_name, lead.email) == ("Joe", "Example", "joe@example.com")
    assert lead.phone == "+14155552671"
    assert lead.source == "Facebook Ad"
    assert lead.owner == sales_user  # the least-loaded sales user
    assert lead.custom_fields["car_make"] == "Honda"
    assert lead.custom_fields["services_wanted"] == ["roof_repair", "gutters"]
    assert lead.custom_fields["meta_leadgen_id"] == "123123123123"
    attribution = LeadAttribution.objects.get(lead=lead)
    assert attribution.campaign == campaign
    assert (attribution.leadgen_id, attribution.ad_id, attribution.adset_id, attribution.form_id,
            attribution.page_id) == ("123123123123", "12312312312", "120210000000000101", "12312312312", "123123123")
    fields = graph.calls(p("123123123123"))[0]["fields"].split(",")
    assert {"field_data", "campaign_id", "ad_id", "form_id", "created_time"} <= set(fields)

    # Meta redelivers the same notification, and the task runs again: still one lead.
    with django_capture_on_commit_callbacks(execute=True):
        again = post(client, BODY, sign(BODY))
    assert again.status_code == 200 and again.json() == {"received": 1}  # only the unprocessed one
    assert published == [("campaigns.process_leadgen", ["123123123124"], "meta")]
    process_leadgen.apply(args=["123123123123"]).get()
    assert Lead.objects.count() == 1
    assert len(graph.calls(p("123123123123"))) == 1  # a processed event is not fetched again


def test_a_lead_whose_email_exists_is_merged_into_the_live_lead(graph, sales_user):
    existing = LeadFactory(email="Joe@Example.com", owner=sales_user, first_name="Joseph")
    graph.add(p("123123123123"), (200, load("lead_retrieval.json")))

    event = services.leadgen_process("123123123123")

    assert event.duplicate and event.lead == existing
    assert Lead.objects.count() == 1
    entry = Interaction.objects.get(lead=existing, kind="note")
    assert entry.subject == "Facebook Lead Ads form submitted again"
    assert "car_make: Honda" in entry.body and entry.metadata["leadgen_id"] == "123123123123"
    assert LeadAttribution.objects.get(lead=existing).meta_campaign_id == "120210000000000001"
    assert services.leadgen_process("123123123123").status == "processed"  # and again: nothing new
    assert Interaction.objects.filter(lead=existing, kind="note").count() == 1


def test_a_lead_with_a_matching_phone_is_merged(graph):
    existing = LeadFactory(email="", phone="+14155552671")
    data = load("lead_retrieval.json")
    data["field_data"] = [f for f in data["field_data"] if f["name"] != "email"]
    graph.add(p("123123123123"), (200, data))

    assert services.leadgen_process("123123123123").lead == existing


def test_unknown_lead_fails_its_event_without_retry_and_others_still_arrive(client, graph):
    graph.add(p("123123123124"), (200, {**load("lead_retrieval.json"), "id": "123123123124",
                                        "field_data": [{"name": "first_name", "values": ["Ann"]},
                                                       {"name": "last_name", "values": ["Lee"]},
                                                       {"name": "phone_number", "values": ["not a phone"]}]}))
    # 123123123123 is not served: the replay answers Graph's "Unknown path" error (code 100).
    post(client, BODY, sign(BODY))

    first = process_leadgen.apply(args=["123123123123"]).get()
    second = process_leadgen.apply(args=["123123123124"]).get()

    assert first["status"] == "failed"
    assert LeadgenEvent.objects.get(leadgen_id="123123123123").status == "failed"
    assert second["status"] == "processed"
    ann = Lead.objects.get()
    assert (ann.name, ann.phone, ann.custom_fields["phone_as_entered"]) == ("Ann Lee", "", "not a phone")
    assert LeadAttribution.objects.get(lead=ann).campaign is None  # campaign not synced yet: linked later
    assert len(graph.calls(p("123123123123"))) == 1


def test_token_error_while_fetching_a_lead_is_not_retried(graph):
    graph.add(p("123123123123"), (400, load("error_token_190.json")))
    result = process_leadgen.apply(args=["123123123123"]).get()
    assert result["status"] == "failed" and "Session has expired" in result["error"]
    assert LeadgenEvent.objects.get().status == "failed"
    assert len(graph.requests) == 1


def test_rate_limited_lead_fetch_is_retried(graph):
    graph.add(p("123123123123"), (400, load("error_rate_limit_80000.json")), (200, load("lead_retrieval.json")))
    assert process_leadgen.apply(args=["123123123123"]).get()["status"] == "processed"
    assert Lead.objects.count() == 1


def test_pending_events_are_found_for_requeueing(meta_settings):
    from datetime import timedelta

    from django.utils import timezone

    LeadgenEvent.objects.create(leadgen_id="1", received_at=timezone.now() - timedelta(minutes=10))
    LeadgenEvent.objects.create(leadgen_id="2")  # too fresh: its task is probably on its way
    LeadgenEvent.objects.create(leadgen_id="3", status="processed", received_at=timezone.now() - timedelta(hours=1))
    assert services.leadgen_pending() == ["1"]


def test_map_field_data_first_last_and_custom():
    known, custom = services.map_field_data([
        {"name": "first_name", "values": ["Ann"]}, {"name": "last_name", "values": ["Lee"]},
        {"name": "email", "values": ["ann@example.com"]}, {"name": "work_email", "values": ["ann@corp.com"]},
        {"name": "Budget?", "values": ["5k"]}, {"name": "empty", "values": []}, {"values": ["x"]},
    ])
    assert known == {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com"}
    assert custom == {"work_email": "ann@corp.com", "Budget?": "5k"}


def test_signature_is_checked_over_the_raw_bytes_meta_sent(client, meta_settings):
    # Meta signs the escaped-unicode form it sends; re-serialising would change the bytes.
    body = json.dumps(json.loads(BODY)).replace('"page"', '"page"').encode() + b"\n"
    assert post(client, body, sign(BODY)).status_code == 403
    assert post(client, body, sign(body)).status_code == 200
