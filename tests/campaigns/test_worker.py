"""A real Celery worker (in this process, solo pool, the configured broker) takes a signed Lead
Ads webhook through to a lead with its attribution, and a redelivery to nothing new."""

import threading

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun

from campaigns.models import LeadAttribution, LeadgenEvent
from config.celery import app
from leads.models import Lead
from tests.campaigns.conftest import path as p
from tests.campaigns.factories import CampaignFactory
from tests.campaigns.replay import load
from tests.campaigns.test_webhook import BODY, URL, sign

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
def meta_worker():
    finished = Finished()
    task_postrun.connect(finished, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, queues=["meta"], shutdown_timeout=30):
            yield finished
    finally:
        task_postrun.disconnect(finished)


@pytest.mark.django_db(transaction=True)
def test_webhook_to_lead_through_the_worker(client, graph, meta_worker):
    CampaignFactory(meta_id="120210000000000001")
    graph.add(p("123123123123"), (200, load("lead_retrieval.json")))
    graph.add(p("123123123124"), (200, {**load("lead_retrieval.json"), "id": "123123123124",
                                        "field_data": [{"name": "full_name", "values": ["Ann Lee"]},
                                                       {"name": "email", "values": ["ann@example.com"]}]}))

    response = client.post(URL, data=BODY, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=sign(BODY))
    assert response.status_code == 200
    meta_worker.wait_for("campaigns.process_leadgen", "123123123123")
    meta_worker.wait_for("campaigns.process_leadgen", "123123123124")

    assert set(Lead.objects.values_list("email", flat=True)) == {"joe@example.com", "ann@example.com"}
    assert LeadAttribution.objects.get(lead__email="joe@example.com").campaign.meta_id == "120210000000000001"

    # Meta retries: the same body again creates nothing (both events are processed: nothing is queued).
    again = client.post(URL, data=BODY, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=sign(BODY))
    assert again.json() == {"received": 0}
    assert Lead.objects.count() == 2
    assert set(LeadgenEvent.objects.values_list("status", flat=True)) == {"processed"}
