"""The WSGI entry point gunicorn serves (config/wsgi.py)."""

import os
import subprocess
import sys

from django.conf import settings


def test_the_wsgi_module_loads_the_app_and_freezes_what_it_loaded():
    """A fresh process: the application loads, and what loading it created is frozen out of
    the cyclic collector's reach (gc.freeze), so a full collection no longer walks it."""
    env = {name: value for name, value in os.environ.items() if name != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    script = ("import gc; assert gc.get_freeze_count() == 0; import config.wsgi as w; "
              "print(callable(w.application), gc.get_freeze_count())")
    result = subprocess.run([sys.executable, "-c", script], cwd=settings.BASE_DIR, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    loaded, frozen = result.stdout.split()
    assert loaded == "True"
    assert int(frozen) > 10_000, frozen  # the settings, apps and models: ~110,000 objects
