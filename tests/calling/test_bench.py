"""``manage.py bench_calls``: refuses SQLite; on MariaDB two worker processes claim every seeded
lead once (the figures themselves belong in docs/benchmarks.md, not in a timed test)."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from calling.models import Agent, Call
from leads.models import Lead

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(connection.vendor == "mysql", reason="the refusal is for non-MySQL databases")
def test_refuses_a_database_without_row_locks():
    with pytest.raises(CommandError, match="MariaDB/MySQL"):
        call_command("bench_calls", "--leads", "10")
    assert not Agent.objects.exists() and not Lead.objects.exists()


@pytest.mark.skipif(connection.vendor != "mysql", reason="SKIP LOCKED needs MariaDB/MySQL")
def test_two_workers_claim_each_seeded_lead_once_and_clean_up():
    out = io.StringIO()
    call_command("bench_calls", "--leads", "300", "--workers", "2", "--batch", "40", stdout=out)
    text = out.getvalue()
    assert "calls: 300; distinct leads called: 300; handed to the provider (ringing): 300; still due: 0" in text
    assert text.count("worker ") == 2
    # Without --keep the benchmark's agent, leads and calls are gone.
    assert not Agent.objects.exists() and not Lead.objects.exists() and not Call.objects.exists()
