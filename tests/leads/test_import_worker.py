"""A real Celery worker imports CSV uploads (DESIGN.md decision 12).

The worker runs in this process (``celery.contrib.testing.worker.start_worker``, solo pool) on
the broker the settings give: Redis when ``REDIS_URL`` is set, else the filesystem transport of
the embedded default. Uploads go through the API without eager mode, so the job row is
committed, ``leads.import_leads_csv`` is published after the commit, and the worker claims
the job and writes the leads over its own database connection (hence ``transaction=True``).
"""

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from config.celery import app
from leads import imports
from leads.models import Lead, LeadImport, LeadImportError
from leads.tasks import resume_stalled_imports

DATA = Path(__file__).parent / "data"
WAIT_SECONDS = 60


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


class FinishedTasks:
    """Collects ``(task name, first argument)`` of every task the worker finishes."""

    def __init__(self):
        self.done: set[tuple[str, str]] = set()
        self.changed = threading.Condition()

    def __call__(self, sender=None, task=None, args=None, **kwargs):
        with self.changed:
            self.done.add((task.name, str(args[0]) if args else ""))
            self.changed.notify_all()

    def wait_for(self, name: str, arg: str = "") -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: (name, arg) in self.done, timeout=WAIT_SECONDS), (
                f"{name}({arg}) did not finish within {WAIT_SECONDS}s; finished: {self.done}"
            )


@pytest.fixture
def worker():
    """A worker consuming the ``imports`` queue, and a way to wait for its tasks."""
    finished = FinishedTasks()
    task_postrun.connect(finished, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, queues=["imports"], shutdown_timeout=30):
            yield finished
    finally:
        task_postrun.disconnect(finished)


@pytest.mark.django_db(transaction=True)
def test_worker_imports_an_uploaded_file(api, sales_user, worker):
    upload = SimpleUploadedFile("customers.csv", (DATA / "customers-250-broken.csv").read_bytes())

    response = api.post("/api/v1/leads/csv-import?source=Export", {"file": upload}, format="multipart")

    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    worker.wait_for("leads.import_leads_csv", job_id)

    job = LeadImport.objects.get(pk=job_id)
    assert job.status == LeadImport.Status.COMPLETED
    assert (job.total_rows, job.processed_rows, job.success_count, job.error_count) == (258, 258, 252, 6)
    assert job.started_at and job.finished_at
    assert Lead.objects.filter(import_job_id=job_id, owner=sales_user, source="Export").count() == 252
    assert LeadImportError.objects.filter(job_id=job_id).count() == 6

    body = api.get(f"/api/v1/imports/{job_id}").json()
    assert body["status"] == "completed"
    assert body["progress"]["percent"] == 100.0
    assert body["errors"][0] == {"row": 252, "error": "Missing name: first_name (or name) is empty"}


@pytest.mark.django_db(transaction=True)
def test_beat_job_resumes_a_stalled_import_through_the_worker(worker):
    content = b"first_name,phone\nAnn,+14155552671\nBen,+14155552672\n"
    job = imports.import_create(user=None, file=SimpleUploadedFile("s.csv", content), enqueue=False)
    # Its worker died mid-run: RUNNING with a heartbeat far in the past, nothing imported.
    LeadImport.objects.filter(pk=job.pk).update(status="running",
                                                heartbeat_at=timezone.now() - timedelta(minutes=10))

    resume_stalled_imports.delay()
    worker.wait_for("leads.resume_stalled_imports")
    worker.wait_for("leads.import_leads_csv", str(job.pk))

    job.refresh_from_db()
    assert job.status == LeadImport.Status.COMPLETED
    assert job.success_count == 2
    assert set(Lead.objects.values_list("first_name", flat=True)) == {"Ann", "Ben"}
