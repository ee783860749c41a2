"""``manage.py bench_dashboard`` refuses any database but MySQL/MariaDB (the tests run on SQLite)."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

# On MariaDB the command would run the whole benchmark instead of refusing.
pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="checks the refusal of a non-MySQL database")


def test_refuses_sqlite_with_a_clear_error():
    with pytest.raises(CommandError, match=r"needs MySQL/MariaDB, but DATABASE_URL points at sqlite") as exc:
        call_command("bench_dashboard", "--skip-seed")
    assert "DATABASE_URL=mysql://" in str(exc.value)  # says how to run it instead
