"""A real Celery worker (in this process, solo pool, the configured broker) takes a signed Lead
Ads webhook through to a lead with its attribution, and a redelivery to nothing new; a POST that
arrives while no worker runs waits on the broker and becomes a lead once one starts."""

import threading

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun

from campaigns.models import LeadAttribution, LeadgenEvent
from config.celery import app
from leads.models import Lead
from tests.campaigns.conftest import meta_queue_size, purge_meta_queue
from tests.campaigns.conftest import path as p
from tests.campaigns.factories import CampaignFactory
from tests.campaigns.replay import load
from tests.campaigns.test_webhook import BODY, URL, one_change_body, sign

WAIT_SECONDS = 60


class Finished:
    def __init__(self):
        self.done: list[tuple[str, str]] = []
        self.changed = threading.Condition()

    def __call__(self, sender=None, task=None, args=None, **kwargs):
        with self.changed:
            self.done.append((task.name, str(args[0]) if args else ""))
            self.changed.notify_all()

    def wait_for(self, name: str, arg: str, times: int = 1) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: self.done.count((name, arg)) >= times, timeout=WAIT_SECONDS), (
                f"{name}({arg}) did not finish {times}x within {WAIT_SECONDS}s; finished: {self.done}")


@pytest.fixture
def finished():
    finished = Finished()
    purge_meta_queue()  # leftovers of other runs would be worked first
    task_postrun.connect(finished, weak=False)
    try:
        yield finished
    finally:
        task_postrun.disconnect(finished)


def worker():
    return start_worker(app, pool="solo", perform_ping_check=False, queues=["meta"], shutdown_timeout=30)


@pytest.fixture
def meta_worker(finished):
    with worker():
        yield finished


@pytest.mark.django_db(transaction=True)
def test_webhook_to_lead_through_the_worker(client, graph, meta_worker):
    CampaignFactory(meta_id="120210000000000001")
    graph.add(p("123123123123"), (200, load("lead_retrieval.json")))
    graph.add(p("123123123124"), (200, {**load("lead_retrieval.json"), "id": "123123123124",
                                        "field_data": [{"name": "full_name", "values": ["Ann Lee"]},
                                                       {"name": "email", "values": ["ann@example.com"]}]}))

    response = client.post(URL, data=BODY, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=sign(BODY))
    assert response.status_code == 200
    # One message for the POST; the worker fans it out to one task per leadgen id.
    meta_worker.wait_for("campaigns.process_leadgen_batch", "['123123123123', '123123123124']")
    meta_worker.wait_for("campaigns.process_leadgen", "123123123123")
    meta_worker.wait_for("campaigns.process_leadgen", "123123123124")

    assert set(Lead.objects.values_list("email", flat=True)) == {"joe@example.com", "ann@example.com"}
    assert LeadAttribution.objects.get(lead__email="joe@example.com").campaign.meta_id == "120210000000000001"

    # Meta retries: the same body again creates nothing (both events are processed: nothing is queued).
    again = client.post(URL, data=BODY, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=sign(BODY))
    assert again.json() == {"received": 0}
    assert Lead.objects.count() == 2
    assert set(LeadgenEvent.objects.values_list("status", flat=True)) == {"processed"}


@pytest.mark.django_db(transaction=True)
def test_a_post_while_no_worker_runs_is_kept_and_processed_when_one_starts(client, graph, finished):
    graph.add(p("123123123123"), (200, load("lead_retrieval.json")))
    body = one_change_body()

    response = client.post(URL, data=body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=sign(body))

    assert response.status_code == 200 and response.json() == {"received": 1}
    assert LeadgenEvent.objects.get().status == "pending" and not Lead.objects.exists()
    assert meta_queue_size() == 1  # the task waits on the broker
    with worker():
        finished.wait_for("campaigns.process_leadgen", "123123123123")
    assert Lead.objects.get().email == "joe@example.com"
    assert LeadgenEvent.objects.get().status == "processed"
    assert meta_queue_size() == 0
