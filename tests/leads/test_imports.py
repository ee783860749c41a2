"""CSV lead import (seed 004 section 6): the service, the API, the command and the pages.

Files are real: the seed's example, the first 250 rows of a messy real export with broken rows
appended (``data/customers-250-broken.csv``), a file of every kind of row error, and byte-exact
variants (BOM, Windows-1252, semicolons, tabs, CRLF, UTF-16) built below. The import runs
through ``leads.imports.import_run`` (what the Celery task calls); the real worker is exercised in
``test_import_worker.py``.
"""

import csv
import io
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leads import imports
from leads.models import Lead, LeadImport, LeadImportError, LeadStageCount
from tests.calling.factories import AgentFactory
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
UPLOAD = "/api/v1/leads/csv-import"
IMPORTS = "/api/v1/imports"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploads land in a temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


def upload(name: str, content: bytes, content_type: str = "text/csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def data_file(name: str) -> SimpleUploadedFile:
    return upload(name, (DATA / name).read_bytes())


def run_import(content: bytes | SimpleUploadedFile, *, user=None, name="leads.csv", **options) -> LeadImport:
    """Create a job and run it the way the task does; returns the finished job."""
    file = content if isinstance(content, SimpleUploadedFile) else upload(name, content)
    job = imports.import_create(user=user, file=file, enqueue=False, **options)
    finished = imports.import_run(job.pk)
    assert finished is not None
    return finished


def errors_of(job: LeadImport) -> dict[int, str]:
    return dict(LeadImportError.objects.filter(job=job).values_list("row", "error"))


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["detail"] and body["code"]
    if code is not None:
        assert body["code"] == code, body
    return body


def post_file(client, content: bytes | SimpleUploadedFile, query: str = "", **fields):
    file = content if isinstance(content, SimpleUploadedFile) else upload("leads.csv", content)
    return client.post(f"{UPLOAD}{query}", {"file": file, **fields}, format="multipart")


# --- Seed 004's example ----------------------------------------------------------------------


def test_seed_example_with_wait_answers_the_seed_body(api, sales_user):
    response = post_file(api, data_file("seed_example.csv"), "?wait=true")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success_count"] == 2
    assert body["error_count"] == 1
    assert body["total_processed"] == 3
    assert body["errors"] == [{"row": 4, "error": "Invalid phone number format: (415) 555-invalid"}]
    assert body["status"] == "completed"
    job = LeadImport.objects.get(pk=body["id"])
    assert job.created_by == sales_user

    john = Lead.objects.get(first_name="John")
    assert john.phone == "+14155552671"
    assert john.phone_verified is True
    assert john.company == "Acme Corp"
    assert john.custom_fields == {"position": "Manager", "notes": "Interested in premium"}
    assert john.schedule_at == datetime(2025, 6, 24, 14, 0, tzinfo=UTC)
    assert john.owner == sales_user  # what you import is yours unless you say otherwise
    assert john.import_job_id == job.pk
    jane = Lead.objects.get(first_name="Jane")
    assert jane.phone == "+14155552672"
    assert jane.schedule_at is None
    assert not Lead.objects.filter(first_name="Bob").exists()
    # Imported leads count in the (owner, status) rollup the lists read.
    assert LeadStageCount.objects.get(owner_id=sales_user.pk, status="new").n == 2


def test_upload_answers_202_and_queues_the_task_after_commit(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = post_file(api, data_file("seed_example.csv"), "?source=Trade+show&region=us")

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued"
    assert body["source"] == "Trade show"
    assert body["region"] == "US"
    assert body["errors_url"].endswith(f"/api/v1/imports/{body['id']}/errors.csv")
    assert len(callbacks) == 1  # import_leads_csv.delay(job id), sent once the job row commits
    assert Lead.objects.count() == 0

    imports.import_run(body["id"])  # what the task runs
    detail = api.get(f"{IMPORTS}/{body['id']}").json()
    assert detail["status"] == "completed"
    assert detail["progress"] == {"rows_done": 3, "rows_total": 3, "percent": 100.0}
    assert (detail["success_count"], detail["error_count"], detail["total_processed"]) == (2, 1, 3)
    assert detail["errors"] == [{"row": 4, "error": "Invalid phone number format: (415) 555-invalid"}]
    assert set(Lead.objects.values_list("source", flat=True)) == {"Trade show"}


def test_options_as_form_fields_and_agent_schedules_calls(manager_api, sales_user):
    agent = AgentFactory().pk
    response = post_file(manager_api, data_file("seed_example.csv"), "?wait=1",
                         agent_id=str(agent), owner=str(sales_user.pk), source="Expo")

    assert response.status_code == 200, response.content
    assert response.json()["agent_id"] == str(agent)
    jane = Lead.objects.get(first_name="Jane")
    assert jane.agent_id == agent
    assert jane.owner == sales_user
    assert jane.source == "Expo"
    assert jane.schedule_at is not None  # seed 004: a lead given to an agent is due now


# --- A messy real export ---------------------------------------------------------------------


def test_real_export_imports_with_row_errors(sales_user):
    job = run_import(data_file("customers-250-broken.csv"), user=sales_user)

    assert job.status == LeadImport.Status.COMPLETED
    assert (job.total_rows, job.processed_rows) == (258, 258)
    assert (job.success_count, job.error_count) == (252, 6)
    first_lead = Lead.objects.get(email="urangel@espinoza-francis.net")
    assert errors_of(job) == {
        252: "Missing name: first_name (or name) is empty",
        253: "Invalid phone number format: call me maybe",
        254: "Duplicate: same email as row 2 of this file",
        255: "Duplicate: same phone number as row 3 of this file",
        256: "Missing phone: a lead needs a phone number (or at least an email)",
        258: "Invalid email address: not-an-email",
    }  # row 257 is blank: skipped, not an error

    assert first_lead.first_name == "Heather"
    assert first_lead.last_name == "Callahan"
    assert first_lead.company == "Mosley-David"
    assert first_lead.phone == "+10437975229"
    assert first_lead.phone_verified is False  # possible but not assigned: kept, flagged
    assert first_lead.custom_fields == {
        "Index": "1", "Customer Id": "EB54EF1154C3A78", "City": "Lake Jeffborough", "Country": "Norway",
        "Phone 2": "915.112.1727", "Subscription Date": "2024-12-15", "Website": "http://www.escobar.org/",
    }
    international = Lead.objects.get(custom_fields__Index="5")  # "001-184-153-9683x1497"
    assert (international.phone, international.phone_extension) == ("+11841539683", "1497")
    london = Lead.objects.get(email="last.row@example.com")
    assert (london.phone, london.phone_extension, london.phone_verified) == ("+442079460958", "12", True)
    mail_only = Lead.objects.get(email="mia.mailonly@example.com")
    assert mail_only.phone == ""
    assert mail_only.company == "Quote, Comma\nand Newline Ltd"


def test_every_kind_of_row_error_is_reported_with_its_row(manager):
    existing = LeadFactory(email="good.row@example.com", phone="+14155550000")
    job = run_import(data_file("row_errors.csv"), user=manager, source="List")

    assert errors_of(job) == {
        3: "Missing name: first_name (or name) is empty",
        4: "Invalid schedule_at: next tuesday (expected ISO 8601, e.g. 2025-06-24T14:00:00Z)",
        5: "Invalid score: high (expected a whole number from 0 to 100)",
        6: "Invalid score: 101 (expected a whole number from 0 to 100)",
        7: "Invalid value: lots (expected an amount such as 1200.50)",
        8: "Invalid status: maybe later (expected one of new, contacted, interested, qualified, proposal, "
           "closed, lost)",
        9: "Duplicate: same email as row 2 of this file",
        10: "Duplicate: same phone number as row 2 of this file",
        11: "Invalid phone number format: 12",
        12: f"Duplicate: a lead with this email already exists ({existing.pk})",
    }
    assert (job.success_count, job.error_count, job.processed_rows) == (1, 10, 11)
    alice = Lead.objects.get(email="alice@example.com")
    assert (alice.first_name, alice.last_name, alice.job_title) == ("Alice", "Able", "CTO")
    assert (alice.status, alice.score, alice.value) == ("qualified", 80, Decimal("1200.50"))
    assert alice.source == "Webinar"  # the row's own source wins over the job's
    assert alice.custom_fields == {"Position": "Board"}  # position stays custom, as in the seed
    assert alice.owner == manager


def test_good_row_details_closed_won_extension_and_date_only():
    job = run_import(
        b"Full Name,Phone Number,Lead Status,Score,Value,schedule_at\n"
        b"Grace van Dyke,415.555.2011 x 42,Closed Won,55.0,\"1.200,50\",2025-07-01\n"
    )
    assert job.success_count == 1, errors_of(job)
    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name) == ("Grace", "van Dyke")
    assert (lead.phone, lead.phone_extension) == ("+14155552011", "42")
    assert (lead.status, lead.score, lead.value) == ("closed", 55, Decimal("1200.50"))
    assert lead.schedule_at == datetime(2025, 7, 1, tzinfo=UTC)


def test_out_of_range_dates_are_row_errors():
    job = run_import(b"first_name,phone,schedule_at\n"
                     b"Old,+14155552671,0001-01-01\n"
                     b"Ok,+14155552672,2030-01-01T09:30:00+02:00\n")
    assert errors_of(job) == {2: "Invalid schedule_at: 0001-01-01 (expected ISO 8601, e.g. 2025-06-24T14:00:00Z)"}
    assert Lead.objects.get().schedule_at == datetime(2030, 1, 1, 7, 30, tzinfo=UTC)


def test_reimporting_the_same_file_creates_nothing(sales_user):
    first = run_import(data_file("seed_example.csv"), user=sales_user)
    before = set(Lead.objects.values_list("pk", flat=True))

    second = run_import(data_file("seed_example.csv"), user=sales_user)

    assert set(Lead.objects.values_list("pk", flat=True)) == before
    assert (second.success_count, second.error_count) == (0, 3)
    john = Lead.objects.get(first_name="John")
    jane = Lead.objects.get(first_name="Jane")
    assert errors_of(second) == {
        2: f"Duplicate: a lead with this phone number already exists ({john.pk})",
        3: f"Duplicate: a lead with this phone number already exists ({jane.pk})",
        4: "Invalid phone number format: (415) 555-invalid",
    }
    assert first.success_count == 2


def test_duplicate_phone_is_per_agent_and_deleted_leads_do_not_count():
    agent_a, agent_b = AgentFactory().pk, AgentFactory().pk
    content = b"first_name,phone\nAnn,+14155552671\n"
    assert run_import(content, agent_id=agent_a).success_count == 1
    assert run_import(content, agent_id=agent_b).success_count == 1  # another agent's queue
    again = run_import(content, agent_id=agent_a)
    assert errors_of(again) == {
        2: "Duplicate: a lead with this phone number already exists for this agent "
           f"({Lead.objects.get(agent_id=agent_a).pk})"
    }
    Lead.objects.filter(agent_id=agent_a).update(deleted_at=timezone.now(), live_email=None)
    assert run_import(content, agent_id=agent_a).success_count == 1


def test_duplicates_across_batches_name_this_file():
    count = imports.BATCH_SIZE + 200
    rows = [f"Lead{i},lead{i}@example.com,+1415555{i:04d}" for i in range(1, count + 1)]
    rows.append("Again,LEAD7@example.com,+14155559999")  # the last row, in the second batch
    content = ("first_name,email,phone\n" + "\n".join(rows) + "\n").encode()

    job = run_import(content)

    assert (job.total_rows, job.success_count, job.error_count) == (count + 1, count, 1)
    seven = Lead.objects.get(email="lead7@example.com")
    assert errors_of(job) == {
        count + 2: f"Duplicate: a lead with this email already exists ({seven.pk}, imported earlier from this file)"
    }


# --- Headers, encodings, separators ----------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param("\ufefffirst_name,phone\r\nZoë,+14155552671\r\n".encode(), "Zoë", id="utf8-bom-crlf"),
        pytest.param("first_name;phone;city\nJosé;+14155552671;Málaga\n".encode("cp1252"), "José",
                     id="cp1252-semicolon"),
        pytest.param("first_name\tphone\nRené\t+14155552671\n".encode("cp1252"), "René", id="cp1252-tab"),
        pytest.param("First Name,Phone\r\nŁukasz “Luke”,+14155552671\r\n".encode(), "Łukasz “Luke”", id="utf8"),
        pytest.param("first_name,phone\nNaïve €uro,+14155552671\n".encode("cp1252"), "Naïve €uro",
                     id="cp1252-euro"),
        pytest.param("first_name,phone\nSøren,+14155552671\n".encode("utf-16"), "Søren", id="utf16"),
        pytest.param(b"first_name,phone\rOld Mac,+14155552671\r", "Old Mac", id="cr-only"),
    ],
)
def test_encodings_and_separators(content, expected):
    job = run_import(content)
    assert job.success_count == 1, errors_of(job)
    lead = Lead.objects.get()
    assert lead.first_name == expected
    assert lead.phone == "+14155552671"


def test_cp1252_cells_keep_their_characters_in_custom_fields():
    run_import("Name;Mobile;Notes\nAnna Berg;+14155552671;Café “special” – 5€\n".encode("cp1252"))
    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name) == ("Anna", "Berg")
    assert lead.custom_fields == {"Notes": "Café “special” – 5€"}


def test_headers_match_ignoring_case_spaces_underscores_and_hyphens():
    content = (
        b" FIRST-NAME ,last name,E-Mail,PHONE_1,Phone 2,company_name,Job Title,Lead Source,Position,Notes,Notes\n"
        b"Ada,Lovelace,ADA@Example.com,+44 20 7946 0000,+44 20 7946 0001,Analytical Engines,Countess,Referral,"
        b"Chair,first,second\n"
    )
    job = run_import(content)
    assert job.success_count == 1, errors_of(job)
    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name, lead.email) == ("Ada", "Lovelace", "ADA@Example.com")
    assert lead.live_email == "ada@example.com"
    assert lead.phone == "+442079460000"
    assert (lead.company, lead.job_title, lead.source) == ("Analytical Engines", "Countess", "Referral")
    assert lead.custom_fields == {"Phone 2": "+44 20 7946 0001", "Position": "Chair", "Notes": "first",
                                  "Notes (2)": "second"}


def test_phone_2_alone_is_custom_and_email_carries_the_row():
    job = run_import(b"Name,Email,Phone 2\nBo Li,bo@example.com,+14155552671\n")
    assert job.success_count == 1
    lead = Lead.objects.get()
    assert lead.phone == ""
    assert lead.custom_fields == {"Phone 2": "+14155552671"}


def test_region_reads_national_numbers():
    job = run_import(b"first_name,phone\nOlivia,020 7946 0958\n", region="gb")
    assert job.success_count == 1, errors_of(job)
    assert Lead.objects.get().phone == "+442079460958"


def test_short_and_long_rows():
    job = run_import(b"first_name,phone,city\nShort,+14155552671\nLong,+14155552672,Paris,extra\n")
    assert job.success_count == 2, errors_of(job)
    assert Lead.objects.get(first_name="Short").custom_fields == {}
    assert Lead.objects.get(first_name="Long").custom_fields == {"city": "Paris", "column_4": "extra"}


@pytest.mark.skipif(connection.vendor != "mysql", reason="MariaDB's collation makes ß equal ss")
def test_insert_race_on_the_email_index_rejects_only_that_row():
    # utf8mb4_unicode_ci treats "straße" and "strasse" as equal, so the unique live_email index
    # refuses the second one although the lookups in Python see two different emails: the
    # batch is retried row by row and only that row becomes an error.
    existing = LeadFactory(email="ann@strasse.de")
    job = run_import("first_name,email\nAnn,ann@straße.de\nBen,ben@example.com\n".encode())
    assert errors_of(job) == {2: f"Duplicate: a lead with this email already exists ({existing.pk})"}
    assert job.success_count == 1
    assert Lead.objects.filter(email="ben@example.com").exists()


# --- Files that are not CSVs: 400 and no job -------------------------------------------------


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("leads.csv", "first_name,phone\nA,+14155552671\n")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "code", "words"),
    [
        pytest.param(PNG, "not_csv", "PNG image", id="png"),
        pytest.param(zip_bytes(), "not_csv", "Excel workbook", id="zip"),
        pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "not_csv", "PDF", id="pdf"),
        pytest.param(b"first_name,phone\nA,\x00\x01\x02\x03\n", "not_csv", "binary", id="nul-bytes"),
        pytest.param(b"", "empty_file", "empty", id="empty"),
        pytest.param(b"\xef\xbb\xbf\r\n  \n", "empty_file", "empty", id="bom-and-blank-lines"),
        pytest.param(b"first_name,phone\n", "no_rows", "no rows", id="header-only"),
        pytest.param(b"John,+14155552671\nJane,+14155552672\n", "missing_columns", "header", id="no-header"),
        pytest.param(b"first_name,company\nJohn,Acme\n", "missing_columns", "phone or email", id="no-phone"),
    ],
)
def test_not_a_csv_is_a_400_and_creates_no_job(api, content, code, words):
    body = assert_error(post_file(api, content), 400, code)
    assert words in body["detail"]
    assert body["errors"]["file"] == [body["detail"]]
    assert LeadImport.objects.count() == 0
    assert Lead.objects.count() == 0


def test_missing_file_is_a_400(api):
    assert_error(api.post(UPLOAD, {}, format="multipart"), 400, "file_required")
    assert_error(api.post(UPLOAD, {"source": "x"}, format="json"), 415)
    assert LeadImport.objects.count() == 0


def test_too_big_is_a_400(api, settings):
    settings.CSV_IMPORT_MAX_BYTES = 20
    body = assert_error(post_file(api, data_file("seed_example.csv")), 400, "file_too_large")
    assert "too big" in body["detail"]
    assert LeadImport.objects.count() == 0


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("?agent_id=not-a-uuid", "invalid_agent_id"),
        ("?region=XX", "invalid_region"),
        ("?region=United+States", "invalid_region"),
        ("?owner=999999", "unknown_owner"),
        ("?owner=alice", "unknown_owner"),
        ("?owner=" + "9" * 40, "unknown_owner"),
        ("?owner=%C2%B2", "unknown_owner"),
        ("?source=" + "s" * 51, "invalid_source"),
    ],
)
def test_bad_options_are_400s(api, query, code):
    assert_error(post_file(api, data_file("seed_example.csv"), query), 400, code)
    assert LeadImport.objects.count() == 0


def test_sales_user_imports_only_for_themselves(api, sales_user, other_sales_user):
    assert_error(post_file(api, data_file("seed_example.csv"), f"?owner={other_sales_user.pk}"), 400,
                 "forbidden_owner")
    assert LeadImport.objects.count() == 0

    mine = post_file(api, data_file("seed_example.csv"), f"?owner={sales_user.pk}")
    assert mine.status_code == 202 and mine.json()["owner_id"] == sales_user.pk
    nobody = post_file(api, data_file("seed_example.csv"), "?owner=unassigned")
    assert nobody.status_code == 202 and nobody.json()["owner_id"] is None


def test_inactive_owner_is_unknown(manager_api):
    ghost = UserFactory(username="ghost", is_active=False)
    assert_error(post_file(manager_api, data_file("seed_example.csv"), f"?owner={ghost.pk}"), 400, "unknown_owner")


# --- Reading jobs: list, detail, errors CSV, visibility --------------------------------------


def test_list_shows_own_imports_and_managers_see_all(api, manager_api, sales_user, other_sales_user):
    mine = run_import(data_file("seed_example.csv"), user=sales_user)
    theirs = run_import(b"first_name,phone\nOlga,+14155550001\n", user=other_sales_user)

    listed = api.get(IMPORTS)
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [str(mine.pk)]
    assert "errors" not in listed.json()["results"][0]
    everyone = manager_api.get(f"{IMPORTS}/?status=completed")
    assert {row["id"] for row in everyone.json()["results"]} == {str(mine.pk), str(theirs.pk)}
    assert manager_api.get(f"{IMPORTS}?status=failed").json()["count"] == 0


def test_another_users_import_is_a_404(api, other_sales_user):
    theirs = run_import(data_file("seed_example.csv"), user=other_sales_user)
    assert_error(api.get(f"{IMPORTS}/{theirs.pk}"), 404, "leadimport_not_found")
    assert_error(api.get(f"{IMPORTS}/{theirs.pk}/errors.csv"), 404)
    assert_error(api.get(f"{IMPORTS}/not-a-uuid"), 404)
    assert_error(api.get(f"{IMPORTS}/{uuid.uuid4()}"), 404)


def test_errors_csv_lists_every_row_error(api, sales_user):
    job = run_import(data_file("row_errors.csv"), user=sales_user)

    response = api.get(f"{IMPORTS}/{job.pk}/errors.csv", HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["row", "error"]
    assert [int(r[0]) for r in rows[1:]] == list(range(3, 12))
    assert rows[1] == ["3", "Missing name: first_name (or name) is empty"]


def test_detail_shows_the_first_100_errors_and_the_csv_has_all(api, sales_user):
    content = "first_name,phone\n" + "".join(f"Bad{i},12\n" for i in range(150))
    job = run_import(content.encode(), user=sales_user)
    body = api.get(f"{IMPORTS}/{job.pk}").json()
    assert body["error_count"] == 150
    assert len(body["errors"]) == 100
    assert body["errors"][0] == {"row": 2, "error": "Invalid phone number format: 12"}
    download = api.get(body["errors_url"])
    assert len(b"".join(download.streaming_content).decode().splitlines()) == 151


def test_list_and_detail_query_counts(api, sales_user, django_assert_max_num_queries):
    job = run_import(data_file("seed_example.csv"), user=sales_user)
    api.get(IMPORTS)  # warm the JWT user cache
    # auth user (at most), count, page of jobs
    with django_assert_max_num_queries(3):
        assert api.get(IMPORTS).status_code == 200
    # auth user (at most), the job, its first 100 errors
    with django_assert_max_num_queries(3):
        assert api.get(f"{IMPORTS}/{job.pk}").status_code == 200


# --- Jobs: claims, resuming, failures ---------------------------------------------------------


def test_a_job_held_by_a_live_worker_is_not_run_twice():
    job = imports.import_create(user=None, file=data_file("seed_example.csv"), enqueue=False)
    LeadImport.objects.filter(pk=job.pk).update(status="running", heartbeat_at=timezone.now())

    assert imports.import_run(job.pk) is None
    assert Lead.objects.count() == 0

    LeadImport.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    assert imports.import_run(job.pk).status == "completed"  # its worker died: taken over
    assert imports.import_run(job.pk) is None  # finished jobs are not run again
    assert imports.import_run(uuid.uuid4()) is None


def test_interrupted_job_resumes_after_its_last_batch():
    first, size = imports.FIRST_BATCH_SIZE, imports.BATCH_SIZE
    total = first + 2 * size + size // 2
    content = ("first_name,phone\n" + "".join(f"L{i},+1415555{i:04d}\n" for i in range(total))).encode()
    job = imports.import_create(user=None, file=upload("big.csv", content), enqueue=False)

    def database_goes_away(progress):
        raise OperationalError("server has gone away")

    with pytest.raises(OperationalError):
        imports.import_run(job.pk, progress=database_goes_away)
    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.total_rows) == ("queued", first, total)  # retry can claim it
    assert Lead.objects.count() == first

    seen = []
    finished = imports.import_run(job.pk, progress=seen.append)

    assert (finished.status, finished.processed_rows, finished.success_count, finished.error_count) == (
        "completed", total, total, 0)
    assert Lead.objects.count() == total
    # Resumed after the first batch's rows, with a small first batch again (the writer idles
    # until it is parsed), then whole ones.
    assert [p.processed_rows for p in seen] == [2 * first, 2 * first + size, 2 * first + 2 * size, total, total]


@pytest.mark.django_db(transaction=True)
def test_a_worker_that_lost_its_claim_stops_without_importing_twice():
    # Outside a test transaction the MySQL import commits from its writer thread, as in production.
    first, size = imports.FIRST_BATCH_SIZE, imports.BATCH_SIZE
    content = ("first_name,phone\n" + "".join(f"L{i},+1415555{i:04d}\n" for i in range(first + size + size // 2))
               ).encode()
    job = imports.import_create(user=None, file=upload("big.csv", content), enqueue=False)

    def another_worker_commits_a_batch(progress):
        # Its heartbeat looked stale, another worker took the job over and moved it on.
        if progress.processed_rows == first:
            LeadImport.objects.filter(pk=job.pk).update(processed_rows=F("processed_rows") + size)

    assert imports.import_run(job.pk, progress=another_worker_commits_a_batch) is None
    assert Lead.objects.count() == first  # the second batch rolled back instead of being imported twice
    assert LeadImport.objects.get(pk=job.pk).status == "running"  # still the other worker's


@pytest.mark.django_db(transaction=True)
def test_duplicates_across_batches_are_caught_while_earlier_batches_are_still_being_written():
    # Outside a test transaction the MySQL import checks batch N+1 while its writer thread may
    # still insert batch N, so a repeat of a row of N must be found in memory, not only in the
    # database. The first ten rows of each batch repeat the phone (or email) of one of the last
    # rows of the batch before.
    first, size = imports.FIRST_BATCH_SIZE, imports.BATCH_SIZE
    rows = [f"L{i},+1415555{i:04d},l{i}@example.com" for i in range(first + 4 * size)]
    repeats = {}
    for start in (first + k * size for k in range(4)):  # the first row of batches 2 to 5
        for j in range(10):
            i, earlier = start + j, start - 1 - j
            rows[i] = (f"Again{i},+1415555{earlier:04d},again{i}@example.com" if j % 2 else
                       f"Again{i},+1415666{i:04d},l{earlier}@example.com")
            repeats[i + 2] = earlier + 2  # CSV row numbers: the header is row 1
    content = ("first_name,phone,email\n" + "\n".join(rows) + "\n").encode()
    job = imports.import_run(imports.import_create(user=None, file=upload("dups.csv", content), enqueue=False).pk)

    assert (job.status, job.success_count, job.error_count) == ("completed", first + 4 * size - 40, 40)
    errors = dict(LeadImportError.objects.filter(job=job).values_list("row", "error"))
    assert set(errors) == set(repeats)
    for row, error in errors.items():
        assert error.startswith("Duplicate: "), error
        # Named as the earlier row while in flight, as the existing lead once committed.
        assert f"as row {repeats[row]} of this file" in error or "imported earlier from this file" in error
    assert Lead.objects.values("phone").distinct().count() == Lead.objects.count() == first + 4 * size - 40


def test_resume_stalled_requeues_dead_and_lost_jobs(django_capture_on_commit_callbacks):
    dead = imports.import_create(user=None, file=data_file("seed_example.csv"), enqueue=False)
    lost = imports.import_create(user=None, file=data_file("seed_example.csv"), enqueue=False)
    busy = imports.import_create(user=None, file=data_file("seed_example.csv"), enqueue=False)
    fresh = imports.import_create(user=None, file=data_file("seed_example.csv"), enqueue=False)
    long_ago = timezone.now() - timedelta(minutes=5)
    LeadImport.objects.filter(pk=dead.pk).update(status="running", heartbeat_at=long_ago)
    LeadImport.objects.filter(pk=lost.pk).update(created_at=long_ago)
    LeadImport.objects.filter(pk=busy.pk).update(status="running", heartbeat_at=timezone.now())

    with django_capture_on_commit_callbacks() as callbacks:
        requeued = imports.import_resume_stalled()

    assert set(requeued) == {str(dead.pk), str(lost.pk)}
    assert len(callbacks) == 2
    assert LeadImport.objects.get(pk=dead.pk).status == "queued"
    assert LeadImport.objects.get(pk=busy.pk).status == "running"
    assert LeadImport.objects.get(pk=fresh.pk).status == "queued"
    assert imports.import_resume_stalled() == []  # just re-queued: not again for 2 minutes
    assert imports.import_run(dead.pk).status == "completed"


def test_unreadable_file_fails_the_job_with_a_reason():
    job = imports.import_create(user=None, file=data_file("seed_example.csv"), enqueue=False)
    job.file.storage.delete(job.file.name)

    finished = imports.import_run(job.pk)

    assert finished.status == "failed"
    assert "can no longer be read" in finished.failure_reason
    assert finished.finished_at is not None


def test_task_runs_the_import(sales_user):
    from leads.tasks import import_leads_csv, resume_stalled_imports

    job = imports.import_create(user=sales_user, file=data_file("seed_example.csv"), enqueue=False)
    result = import_leads_csv.apply(args=[str(job.pk)]).get()
    assert result == {"id": str(job.pk), "status": "completed", "success_count": 2, "error_count": 1,
                      "total_processed": 3}
    assert import_leads_csv.apply(args=[str(job.pk)]).get() is None  # idempotent
    assert resume_stalled_imports.apply().get() == []


# --- manage.py import_leads -------------------------------------------------------------------


def test_management_command_imports_with_progress_and_summary(capsys, sales_user):
    call_command("import_leads", str(DATA / "row_errors.csv"), "--owner", "sam", "--source", "Fair",
                 "--region", "US")

    out, err = capsys.readouterr()
    assert "completed. 2 imported, 9 errors, 11 rows processed" in out
    assert "row 3: Missing name: first_name (or name) is empty" in out
    assert "11/11 rows" in err and "rows/s" in err
    alice, good = Lead.objects.get(first_name="Alice"), Lead.objects.get(first_name="Good")
    assert (alice.owner, alice.source) == (sales_user, "Webinar")
    assert (good.owner, good.source) == (sales_user, "Fair")
    job = LeadImport.objects.get()
    assert (job.owner, job.source, job.created_by) == (sales_user, "Fair", None)


def test_management_command_refuses_bad_input(tmp_path, sales_user):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_leads", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="Unknown owner"):
        call_command("import_leads", str(DATA / "seed_example.csv"), "--owner", "nobody")
    picture = tmp_path / "picture.csv"
    picture.write_bytes(PNG)
    with pytest.raises(CommandError, match="PNG image"):
        call_command("import_leads", str(picture), "--owner", str(sales_user.pk))
    assert LeadImport.objects.count() == 0


# --- The import page ------------------------------------------------------------------------


@pytest.fixture
def browser(client, sales_user):
    client.force_login(sales_user)
    return client


def test_page_upload_detail_progress_and_errors(browser, sales_user):
    form = browser.get(reverse("leads:import_new"))
    assert form.status_code == 200
    assert b'enctype="multipart/form-data"' in form.content

    response = browser.post(reverse("leads:import_new"),
                            {"file": data_file("seed_example.csv"), "owner": sales_user.pk, "source": "Expo"})
    job = LeadImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("leads:import_detail", args=[job.pk])

    detail = browser.get(response["Location"])
    assert detail.status_code == 200
    assert b'hx-trigger="every 1s"' in detail.content  # queued: the partial polls
    assert reverse("leads:import_progress", args=[job.pk]).encode() in detail.content

    imports.import_run(job.pk)
    partial = browser.get(reverse("leads:import_progress", args=[job.pk]), HTTP_HX_REQUEST="true")
    html = partial.content.decode()
    assert partial.status_code == 200
    assert "hx-trigger" not in html  # finished: polling stops
    assert '<progress value="3" max="3">' in html
    assert "Finished: 2 leads imported, 1 row rejected" in html
    assert "Invalid phone number format: (415) 555-invalid" in html
    assert reverse("leads:import_errors_csv", args=[job.pk]) in html

    download = browser.get(reverse("leads:import_errors_csv", args=[job.pk]))
    assert b"".join(download.streaming_content).decode().splitlines() == [
        "row,error", "4,Invalid phone number format: (415) 555-invalid"]
    assert set(Lead.objects.values_list("source", "owner")) == {("Expo", sales_user.pk)}
    assert "Recent imports" in browser.get(reverse("leads:import_new")).content.decode()


def test_page_shows_file_errors_on_the_form(browser):
    response = browser.post(reverse("leads:import_new"), {"file": upload("photo.csv", PNG)})
    assert response.status_code == 400
    assert "it looks like a PNG image" in response.content.decode()
    assert LeadImport.objects.count() == 0


def test_page_sales_user_cannot_pick_another_owner(browser, other_sales_user):
    response = browser.post(reverse("leads:import_new"),
                            {"file": data_file("seed_example.csv"), "owner": other_sales_user.pk})
    assert response.status_code == 400
    assert LeadImport.objects.count() == 0


def test_pages_hide_other_users_imports_and_need_login(client, browser, other_sales_user, manager):
    theirs = run_import(data_file("seed_example.csv"), user=other_sales_user)
    for name in ("import_detail", "import_progress", "import_errors_csv"):
        assert browser.get(reverse(f"leads:{name}", args=[theirs.pk])).status_code == 404
    client.logout()
    assert client.get(reverse("leads:import_new")).status_code == 302
    client.force_login(manager)
    assert client.get(reverse("leads:import_detail", args=[theirs.pk])).status_code == 200


def test_an_unknown_or_inactive_agent_is_refused_before_any_job(api):
    """The import runs the same agent checks as lead_create (calling registers them)."""
    unknown = uuid.uuid4()
    body = assert_error(post_file(api, data_file("seed_example.csv"), f"?agent_id={unknown}"), 400, "unknown_agent")
    assert str(unknown) in body["detail"]
    inactive = AgentFactory(active=False, name="Old Ana")
    body = assert_error(post_file(api, data_file("seed_example.csv"), f"?agent_id={inactive.pk}"), 400,
                        "agent_inactive")
    assert "Old Ana" in body["detail"]
    with pytest.raises(CommandError, match="No calling agent"):
        call_command("import_leads", str(DATA / "seed_example.csv"), "--agent", str(unknown))
    assert LeadImport.objects.count() == 0 and Lead.objects.count() == 0


@pytest.mark.parametrize("content", [
    b"first_name,phone\nA,1\nB,2\n",
    b"first_name,phone\nA,1\nB,2",  # no final line break
    b"first_name,phone\r\nA,1\r\n\r\n,\r\nB,2\r\n",  # CRLF, a blank line, a delimiters-only line
    b"\xef\xbb\xbffirst_name;phone\n\nA;1\n;;\n  \nB;2\n",  # BOM, semicolons, a spaces-only row counts
    b"first_name\tphone\nA\t1\n\n",
    b"first_name,phone\n",
    b"first_name,phone",
    b'first_name,notes\nA,"two\nlines"\nB,x\n',  # quoted line break: parsed instead
    b"first_name,phone\rA,1\rB,2\r",  # old Mac line ends: parsed instead
    b"\nfirst_name,phone\nA,1\n",  # blank first line: parsed instead
])
def test_the_quick_row_count_agrees_with_parsing(content):
    job = LeadImport.objects.create(file=ContentFile(content, name="count.csv"))
    with job.file.open("rb") as fileobj, imports._open_rows(fileobj) as reader:
        next(reader, None)
        parsed = sum(1 for row in reader if any(row))
    assert imports.import_count_rows(job) == parsed
    assert imports.import_count_rows(job, limit=0) == min(parsed, 1)
    with job.file.open("rb") as fileobj:
        quick = imports._count_lines_quickly(fileobj)
    # Only the last three cases need the parser.
    parses = b'"' in content or b"\rA" in content or content.startswith(b"\n")
    assert (quick is None) == parses and quick in (None, parsed)


def test_the_quick_row_count_spans_chunks(settings):
    rows = "".join(f"Lead {i},+1415555{i % 10000:04d}\n" + ("\n" if i % 97 == 0 else "") for i in range(60_000))
    content = ("first_name,phone\n" + rows).encode()
    assert len(content) > 1_000_000  # more than one chunk
    job = LeadImport.objects.create(file=ContentFile(content, name="big.csv"))
    with job.file.open("rb") as fileobj:
        assert imports._count_lines_quickly(fileobj) == 60_000
    assert imports.import_count_rows(job) == 60_000


def test_the_quick_row_count_sees_blank_lines_at_a_chunk_start():
    # The first read ends right after a line feed, so the next chunk's lines start with a blank
    # line (then a delimiters-only one): no line feed before them in that chunk.
    header, first_row_end = b"first_name,phone\n", b",1\n"
    filler = b"x" * (imports.SNIFF_BYTES - len(header) - len(first_row_end))
    content = header + filler + first_row_end + b"\n,\r\nB,2\n"
    assert content[imports.SNIFF_BYTES - 1 : imports.SNIFF_BYTES + 1] == b"\n\n"
    job = LeadImport.objects.create(file=ContentFile(content, name="edge.csv"))
    with job.file.open("rb") as fileobj:
        assert imports._count_lines_quickly(fileobj) == 2
    with job.file.open("rb") as fileobj, imports._open_rows(fileobj) as reader:
        next(reader, None)
        assert sum(1 for row in reader if any(row)) == 2


TRICKY = (
    'first_name,last_name,phone,email,company,notes,score,value,schedule_at,status\n'
    'Zoë,"O\'Brien \\\\ Sons",+1 415 555 0101 x12,zoe@example.com,"Tab\tCo","two\nlines",10,"1,200.50",,contacted\n'
    'Émile,Back\\slash,(415) 555-0102,emile@example.com,Acme 😀,"NULL",,"",2026-12-24T09:30:00Z,\n'
    'Ann,,+44 20 7946 0958,,"",\\N,100,0,2026-12-24,Won\n'
)


def _stored(job) -> list[tuple]:
    skip = {"id", "created_at", "updated_at", "status_changed_at", "import_job"}
    fields = [f.attname for f in Lead._meta.concrete_fields if f.name not in skip]
    return sorted(Lead.objects.filter(import_job=job).values_list(*fields))


@pytest.mark.skipif(connection.vendor != "mysql", reason="LOAD DATA LOCAL is MySQL/MariaDB's")
@pytest.mark.django_db(transaction=True)
def test_load_data_stores_exactly_what_insert_stores(settings):
    # The threaded MySQL import writes batches with LOAD DATA LOCAL (a tab-separated file);
    # quotes, tabs, line breaks, backslashes, "NULL" and "\N" as text, emoji, NULLs, decimals,
    # JSON and dates must land as the INSERT path stores them.
    via_load = imports.import_run(imports.import_create(user=None, file=upload("t.csv", TRICKY.encode()),
                                                        enqueue=False).pk)
    loaded = _stored(via_load)
    Lead.objects.all().delete()
    settings.LEAD_IMPORT_LOAD_DATA = False
    via_insert = imports.import_run(imports.import_create(user=None, file=upload("t.csv", TRICKY.encode()),
                                                          enqueue=False).pk)
    assert (via_load.success_count, via_insert.success_count) == (3, 3)
    assert loaded == _stored(via_insert)
    zoe = Lead.objects.get(email="zoe@example.com")
    assert (zoe.last_name, zoe.company, zoe.custom_fields) == ("O'Brien \\\\ Sons", "Tab\tCo", {"notes": "two\nlines"})
    assert Lead.objects.get(first_name="Ann").custom_fields == {"notes": "\\N"}
    assert Lead.objects.get(first_name="Émile").custom_fields == {"notes": "NULL"}


@pytest.mark.parametrize("values", [
    ("Ann", "Lee", None, True, False, 42, "12.50", '{"a": 1}', "😀 Zoë"),  # nothing to escape
    ("Tab\tCo", "x"), ("two\nlines", None), ("back\\slash", 1), ("\\N", "NULL"), ("cr\r", "nul\x00"),
    ('{"city": "Z\\u00fcrich"}', None, True, False, 7, Decimal("1.50"), "Ann"),  # escaped with every type
])
def test_a_load_data_line_escapes_as_each_value_alone(values):
    # The fast path joins a row's values as they are; a value that needs escaping sends the whole
    # line down the path that escapes each value, which must give what _tsv_field gives each.
    assert imports._tsv_line(values) == "\t".join(imports._tsv_field(value) for value in values)
    assert imports._tsv_line(values).count("\t") == len(values) - 1


@pytest.mark.skipif(connection.vendor != "mysql", reason="index hints are MySQL/MariaDB's")
@pytest.mark.django_db(transaction=True)
def test_duplicates_are_looked_up_through_their_columns_indexes():
    # Mid-import the table outgrows its statistics and MariaDB chose a full scan for a batch's
    # phones: both lookups name their index, and neither sorts.
    content = b"first_name,email,phone\nA,a@example.com,+14155550101\nB,b@example.com,+14155550102\n"
    imports.import_run(imports.import_create(user=None, file=upload("one.csv", content), enqueue=False).pk)
    with CaptureQueriesContext(connection) as queries:
        job = imports.import_run(imports.import_create(user=None, file=upload("one.csv", content), enqueue=False).pk)
    assert (job.success_count, job.error_count) == (0, 2)
    lookups = [q["sql"] for q in queries.captured_queries if " IN (" in q["sql"] and "import_job_id" in q["sql"]]
    assert [("FORCE INDEX (lead_search_email)" in sql, "FORCE INDEX (lead_phone)" in sql) for sql in lookups] in (
        [(True, False), (False, True)], [(True, False)])
    assert not any("ORDER BY" in sql for sql in lookups)


@pytest.mark.skipif(connection.vendor != "mysql", reason="MariaDB's collation makes é equal e")
@pytest.mark.django_db(transaction=True)
def test_a_row_the_database_refuses_is_reported_not_dropped():
    # The check in Python sees two different emails; the unique index (accent-insensitive
    # collation) sees one. LOAD DATA LOCAL would skip the second row silently: the batch is
    # retried row by row and that row reported.
    content = "first_name,email\nA,a@example.com\nB,a@exámple.com\nC,c@example.com\n".encode()
    job = imports.import_run(imports.import_create(user=None, file=upload("dup.csv", content), enqueue=False).pk)
    assert (job.status, job.success_count, job.error_count) == ("completed", 2, 1)
    error = LeadImportError.objects.get(job=job)
    assert error.row == 3 and "already exists" in error.error
    assert sorted(Lead.objects.values_list("first_name", flat=True)) == ["A", "C"]
