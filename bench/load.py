"""HTTP side of the benchmark: a gunicorn it starts and always stops, and ``wrk`` runs it parses.

:class:`Gunicorn` runs ``.venv/bin/gunicorn config.wsgi`` with production-like settings
(DEBUG off, persistent DB connections, warnings-only logs) and the ``/_bench/`` ceiling views
on; it is a context manager whose exit terminates the whole process group it started (SIGTERM,
then SIGKILL after a bounded wait). :func:`run_wrk` runs one ``wrk --latency`` load and
:func:`parse_wrk` turns its report into numbers.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings


class LoadError(Exception):
    """The server or the load generator misbehaved; the message says how."""


CPU_PROBE_STEPS = 5_000_000


def cpu_probe(repeat: int = 3) -> float:
    """Seconds (best of ``repeat``) this process takes to add up ``CPU_PROBE_STEPS`` integers
    in a plain Python loop: the machine's single-core speed for Python, printed beside the
    figures so runs on different machines (or one VM at different hours, which here moved
    by up to 2.5x) can be compared. The best run leaves out other work's interruptions."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        total = 0
        for step in range(CPU_PROBE_STEPS):
            total += step
        best = min(best, time.perf_counter() - started)
    return best


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_env(database_url: str) -> dict:
    """The environment the benchmark's gunicorn runs with (the issue's production-like setup)."""
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "BENCH_ENDPOINTS": "true",
        "CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
        "JWT_ACCESS_MINUTES": "240",  # a 1M-lead run must not outlive its tokens
        "PYTHONUNBUFFERED": "1",
    })
    return env


class Gunicorn:
    """``with Gunicorn(database_url) as server:`` — ``server.url(path)`` while it runs.

    The master is started in its own session, so stopping it signals exactly the processes
    this object started (its process group), never anything else.
    """

    def __init__(self, database_url: str, *, workers: int = 2, start_timeout: float = 60.0, log_path=None,
                 threads: int = 1, env: dict | None = None):
        self.database_url = database_url
        self.workers = workers
        self.threads = threads  # > 1: gunicorn's gthread worker with this many threads per process
        self.env = env or {}  # added to gunicorn_env()
        self.start_timeout = start_timeout
        self.port = free_port()
        self.log_path = Path(log_path or Path(settings.VAR_DIR) / "bench" / "gunicorn.log")
        self.proc: subprocess.Popen | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self):
        binary = Path(sys.executable).with_name("gunicorn")
        if not binary.exists():
            found = shutil.which("gunicorn")
            if not found:
                raise LoadError("gunicorn is not installed in this virtualenv (pip install -e '.[dev]')")
            binary = Path(found)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(
            [str(binary), "config.wsgi", "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}",
             "--log-level", "warning", "--timeout", "60",
             *(["--threads", str(self.threads)] if self.threads > 1 else [])],
            cwd=settings.BASE_DIR, env={**gunicorn_env(self.database_url), **self.env}, stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise LoadError(f"gunicorn exited with {self.proc.returncode}; see {self.log_path}")
            try:
                status, _ = http_get(self.url("/_bench/ping"), timeout=2)
                if status == 200:
                    return
                raise LoadError(f"/_bench/ping answered {status}: is BENCH_ENDPOINTS wired in config/urls.py?")
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        raise LoadError(f"gunicorn did not answer within {self.start_timeout:.0f}s; see {self.log_path}")

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM the gunicorn process group, SIGKILL it if still there after ``timeout``."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(5)
        # Workers left behind by a killed master still carry the group id.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._log.close()


def http_get(url: str, headers: dict | None = None, timeout: float = 30) -> tuple[int, bytes]:
    """``(status, body)`` for a GET; HTTP errors are returned, not raised."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def login(base_url: str, username: str, password: str) -> str:
    """An access token from ``POST /api/v1/auth/login`` (the real login, as the SPA does)."""
    body = json.dumps({"username": username, "password": password}).encode()
    request = urllib.request.Request(base_url + "/api/v1/auth/login", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise LoadError(f"login as {username} failed: {exc.code} {exc.read()[:200]!r}") from None
    token = payload.get("access") or payload.get("access_token")
    if not token:
        raise LoadError(f"login as {username} returned no access token: {payload}")
    return token


@dataclass
class WrkResult:
    """One wrk run: throughput, latency percentiles (ms) and failures."""

    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int = 0
    socket_errors: int = 0  # connect/read/write errors
    timeouts: int = 0  # requests wrk gave up on: they are missing from the latency figures

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors + self.timeouts


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not match:
        raise LoadError(f"cannot read wrk duration {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    """Numbers from ``wrk --latency`` output (its human-readable report)."""
    def grab(pattern: str, default=None):
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            if default is not None:
                return default
            raise LoadError(f"wrk output lacks {pattern!r}:\n{output}")
        return match

    pct = {p: _ms(grab(rf"^\s*{p}%\s+(\S+)\s*$").group(1)) for p in (50, 75, 90, 99)}
    done = grab(r"^\s*(\d+) requests in ([\d.]+\w+),")
    latency_max = grab(r"^\s*Latency\s+\S+\s+\S+\s+(\S+)")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", output)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return WrkResult(
        requests=int(done.group(1)),
        seconds=_ms(done.group(2)) / 1000,
        rps=float(grab(r"^Requests/sec:\s+([\d.]+)").group(1)),
        p50_ms=pct[50], p75_ms=pct[75], p90_ms=pct[90], p99_ms=pct[99],
        max_ms=_ms(latency_max.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(g) for g in sock.groups()[:3]) if sock else 0,
        timeouts=int(sock.group(4)) if sock else 0,
    )


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if not found:
        raise LoadError("wrk is not installed: apt-get install -y wrk (Debian/Ubuntu package 'wrk')")
    return found


WRK_TIMEOUT_S = 30


def run_wrk(url: str, *, headers: dict | None = None, duration: float = 10, threads: int = 2,
            connections: int = 8, script: str | None = None) -> WrkResult:
    """One ``wrk -tT -cC -dDs --latency`` run against ``url``; bounded by a subprocess timeout.
    ``script`` is a wrk Lua script (e.g. one that varies the path per request).

    wrk's per-request timeout is raised to :data:`WRK_TIMEOUT_S` so slow endpoints are measured
    rather than dropped from the percentiles (a timed-out request is counted, not timed).
    """
    cmd = [wrk_binary(), f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency",
           "--timeout", f"{WRK_TIMEOUT_S}s"]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        if script:
            lua.write(script)
            lua.flush()
            cmd += ["-s", lua.name]
        cmd.append(url)
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + WRK_TIMEOUT_S + 60,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise LoadError(f"wrk did not finish within {duration + WRK_TIMEOUT_S + 60:.0f}s") from None
    if done.returncode != 0:
        raise LoadError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)
