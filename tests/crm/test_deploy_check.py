"""Issue 2: with DEBUG off and the production variables set, ``manage.py check --deploy`` is
clean — Django's security checks and drf-spectacular's schema check alike."""

import os
import subprocess
import sys

from django.conf import settings


def test_check_deploy_is_clean_in_production_settings():
    # The browser tests' DJANGO_ALLOW_ASYNC_UNSAFE is this test process's, not production's.
    env = {
        **{name: value for name, value in os.environ.items() if name != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DEBUG": "false",
        "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-enough-0123456789abcdef",
        "ALLOWED_HOSTS": "crm.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
