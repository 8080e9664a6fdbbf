"""The production stack of README's Production section, started for real on this machine: a fresh PostgreSQL
database migrated and loaded with the demo company, static files collected with the manifest storage, then gunicorn,
two Celery workers and Celery beat, each in its own process group, on one Redis database.

The commands are the documented ones (tests/production.py reads them from the README), changed only where two
stacks on one machine would collide: gunicorn binds a free loopback port instead of 0.0.0.0:8000, each worker gets a
node name of its own (two workers of one name on one host clash), beat keeps its schedule file in the stack's own
directory, and `python` is this interpreter. The environment is the documented one (DEBUG off, a random SECRET_KEY,
DATABASE_URL, REDIS_URL, CACHE_URL, JSON logs, ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS, the manifest static storage,
PROMETHEUS_MULTIPROC_DIR for the web processes) less the HTTPS settings: no TLS proxy stands in front on loopback, and
a browser (or locust) never sends a Secure cookie back over plain HTTP. The cache shares the broker's Redis database
here (each stack has one database, emptied before and after; nothing clears the cache while it runs).

Used by tests/stack/ (a module-scoped fixture) and bench/load.py (`make bench`). Nothing here imports Django: the
stack's processes do, with their own settings.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import psycopg
import redis

from tests.paths import REPO
from tests.production import documented_command

BIN = Path(sys.executable).parent
STACK_DIR = Path(__file__).resolve().parent
LOCUSTFILE = STACK_DIR / "locustfile.py"
WORKERS = ("worker-a", "worker-b")
# Settings that belong to a TLS-terminating proxy in front (README, Production): left out on loopback.
HTTPS_ONLY = ("SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_PRELOAD",
              "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")
# The test runner's own settings that must not reach the stack: it takes its broker and eagerness from REDIS_URL.
INHERITED_NOT_WANTED = ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CELERY_TASK_ALWAYS_EAGER", "CACHE_URL",
                        "DEBUG", "STATIC_ROOT", "MEDIA_ROOT", "PROMETHEUS_MULTIPROC_DIR", "LOG_LEVEL",
                        "DJANGO_SETTINGS_MODULE", *HTTPS_ONLY)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def with_option(argv: list[str], option: str, value: str) -> list[str]:
    """`argv` with the value of `option` replaced (it must be there: the documented command is the reference)."""
    assert option in argv, f"{option} is not in the documented command {argv}"
    index = argv.index(option) + 1
    return [*argv[:index], value, *argv[index + 1:]]


def executable(argv: list[str]) -> list[str]:
    """The documented command run from this environment: `python` is this interpreter, the rest its scripts."""
    program = sys.executable if argv[0] == "python" else str(BIN / argv[0])
    return [program, *argv[1:]]


def database_url(server_url: str, name: str) -> str:
    """`server_url` (any database on the server) pointing at database `name` instead."""
    return urlunparse(urlparse(server_url)._replace(path=f"/{name}"))


@dataclass
class StackProcess:
    name: str
    argv: list[str]
    log: Path
    popen: subprocess.Popen[bytes]

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def log_records(self) -> list[dict[str, object]]:
        """The JSON log lines (LOG_FORMAT=json); gunicorn's own and a worker's banner are plain text."""
        records = []
        for line in self.log_text().splitlines():
            if line.startswith("{"):
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return records

    def children(self) -> set[int]:
        """Process ids whose parent is this process (a Celery worker's pool, gunicorn's workers)."""
        found = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.popen.pid:
                found.add(int(stat.parent.name))
        return found


@dataclass
class ProductionStack:
    """One stack: `start()` builds and starts it, `stop()` ends every process group and drops the database."""

    server_url: str  # a PostgreSQL URL on the server to use; the stack creates its own database there
    redis_url: str  # the Redis database of this stack (emptied before and after)
    workdir: Path
    database_name: str = field(default_factory=lambda: f"tollgate_stack_{os.getpid()}")
    load_demo: bool = True
    port: int = field(default_factory=free_port)
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(50))
    processes: dict[str, StackProcess] = field(default_factory=dict)
    one_shots: list[subprocess.Popen[bytes]] = field(default_factory=list)  # collectstatic, migrate...
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_url(self) -> str:
        return database_url(self.server_url, self.database_name)

    def env(self) -> dict[str, str]:
        environment = {key: value for key, value in os.environ.items()
                       if key not in INHERITED_NOT_WANTED and not key.startswith("PYTEST_")}
        return {
            **environment,
            "DJANGO_SETTINGS_MODULE": "tollgate.settings",
            "PYTHONPATH": str(REPO),  # this checkout, whatever an editable install points at
            "DEBUG": "0",
            "SECRET_KEY": self.secret_key,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "CACHE_URL": self.redis_url,
            "LOG_FORMAT": "json",
            "ALLOWED_HOSTS": "127.0.0.1",
            "CSRF_TRUSTED_ORIGINS": self.base_url,
            "SITE_URL": self.base_url,
            "STATICFILES_BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage",
            "STATIC_ROOT": str(self.workdir / "staticfiles"),
            "MEDIA_ROOT": str(self.workdir / "media"),
        }

    def commands(self) -> dict[str, list[str]]:
        """The long-running processes: name -> the documented command as started here."""
        web = with_option(documented_command("gunicorn", "tollgate.wsgi"), "--bind", f"127.0.0.1:{self.port}")
        worker = documented_command("celery", "-A", "tollgate", "worker")
        beat = with_option(documented_command("celery", "-A", "tollgate", "beat"), "--schedule",
                           str(self.workdir / "celerybeat-schedule"))
        return {"web": web, **{name: [*worker, "--hostname", f"{name}@%h"] for name in WORKERS}, "beat": beat}

    # Building ---------------------------------------------------------------------------------------------------------

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(database_url(self.server_url, "postgres"), autocommit=True)

    def create_database(self) -> None:
        with self._admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{self.database_name}"')

    def drop_database(self) -> None:
        with self._admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')

    def flush_redis(self) -> None:
        client = redis.Redis.from_url(self.redis_url)
        try:
            client.flushdb()
        finally:
            client.close()

    def manage(self, argv: list[str], *, env: dict[str, str] | None = None, timeout: float = 600) -> None:
        """A one-shot command (migrate, collectstatic, load_demo); its output goes to the stack's log directory."""
        self.begin(argv, env=env)(timeout)

    def begin(self, argv: list[str], *, env: dict[str, str] | None = None) -> Callable[..., None]:
        """Start a one-shot command; the function returned waits for it and raises, with its log, if it failed."""
        name = argv[2] if len(argv) > 2 else argv[-1]
        log = self.workdir / f"{name}.log"
        started = time.monotonic()
        with log.open("wb") as out:
            popen = subprocess.Popen(executable(argv), env=env or self.env(), cwd=REPO, stdout=out,
                                     stderr=subprocess.STDOUT)
        self.one_shots.append(popen)

        def wait(timeout: float = 600) -> None:
            try:
                returncode = popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                popen.kill()
                raise
            self.timings[name] = time.monotonic() - started
            if returncode != 0:
                raise RuntimeError(f"{' '.join(argv)} exited {returncode}:\n{log.read_text()[-3000:]}")

        return wait

    def spawn(self, name: str, argv: list[str], *, env: dict[str, str]) -> StackProcess:
        log = self.workdir / f"{name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(executable(argv), env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        process = StackProcess(name=name, argv=argv, log=log, popen=popen)
        self.processes[name] = process
        return process

    def start(self, *, ready_timeout: float = 120) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.flush_redis()
        self.create_database()
        # collectstatic (the image's build step: hashing and compressing ~50 MB, a minute of one core) needs no
        # database: it runs beside the migration and the demo.
        collect = self.begin(documented_command("python", "manage.py", "collectstatic"))
        self.manage(documented_command("python", "manage.py", "migrate"))
        if self.load_demo:
            # The demo is data loading, not the stack: its follow-up tasks run in-process, not on the workers.
            self.manage(["python", "manage.py", "load_demo"], env={**self.env(), "CELERY_TASK_ALWAYS_EAGER": "1"})
        collect()
        started = time.monotonic()
        for name, argv in self.commands().items():
            env = self.env()
            if name == "web":
                env["PROMETHEUS_MULTIPROC_DIR"] = str(self.workdir / "prometheus")
                # gunicorn's control socket defaults to ~/.gunicorn/gunicorn.ctl, one per user: two stacks on one
                # machine would take each other's. Its own here, through the environment (the command stays as is).
                env["GUNICORN_CMD_ARGS"] = f"--control-socket {self.workdir / 'gunicorn.ctl'}"
            self.spawn(name, argv, env=env)
        self.wait_for(self.ready, timeout=ready_timeout, what="/health/ready/ and both workers")
        self.timings["processes"] = time.monotonic() - started

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/health/ready/", timeout=5) as response:
                if response.status != 200:
                    return False
        except (urllib.error.URLError, OSError):
            return False
        workers = all(" ready." in self.processes[name].log_text() for name in WORKERS)
        return workers and "beat: Starting" in self.processes["beat"].log_text()

    def wait_for(self, condition: Callable[[], object], *, timeout: float, what: str, every: float = 0.5) -> object:
        """Poll `condition` until it is true; a stack process that died meanwhile fails at once, with its log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            self.check_alive()
            time.sleep(every)
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{self.log_tails()}")

    def check_alive(self) -> None:
        dead = {name: p.popen.returncode for name, p in self.processes.items() if p.popen.poll() is not None}
        if dead:
            raise AssertionError(f"stack processes exited: {dead}\n{self.log_tails()}")

    def log_tails(self, chars: int = 2000) -> str:
        return "\n".join(f"--- {name} ({p.log}) ---\n{p.log_text()[-chars:]}" for name, p in self.processes.items())

    # Ending -----------------------------------------------------------------------------------------------------------

    def stop(self, *, drop: bool = True) -> None:
        """TERM each process group (gunicorn and the workers shut down warm), KILL what is left after 20 s."""
        for popen in self.one_shots:  # a start that failed half-way leaves collectstatic running
            if popen.poll() is None:
                popen.kill()
                popen.wait(timeout=10)
        for process in self.processes.values():
            if process.popen.poll() is None:
                os.killpg(process.popen.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes.values():
            try:
                process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:  # the group: a pool child or gunicorn worker that outlived its parent too
                os.killpg(process.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.popen.wait(timeout=10)
        if drop:
            self.drop_database()
            self.flush_redis()

    # Load -------------------------------------------------------------------------------------------------------------

    def run_load(self, *, users: int = 20, seconds: int = 60, classes: tuple[str, ...] = ()) -> LoadResult:
        """locust, headless, on loopback: `users` logged-in users of every role (or of the locustfile's `classes`),
        all started at once, for `seconds`."""
        out = self.workdir / "load"
        out.mkdir(exist_ok=True)
        argv = ["locust", "-f", str(LOCUSTFILE), "--headless", "-u", str(users), "-r", str(users),
                "-t", f"{seconds}s", "--host", self.base_url, "--csv", str(out / "locust"), "--only-summary",
                "--stop-timeout", "10", *classes]
        timings = out / "timings.json"
        env = {**os.environ, "PYTHONPATH": str(REPO), "TOLLGATE_LOAD_TIMINGS": str(timings)}
        started = time.monotonic()
        done = subprocess.run(executable(argv), env=env, cwd=REPO, capture_output=True, text=True,
                              timeout=seconds + 120, check=False)
        elapsed = time.monotonic() - started
        (out / "locust.log").write_text(done.stdout + done.stderr)
        samples = json.loads(timings.read_text()) if timings.exists() else []
        shown = " ".join(argv).replace(str(LOCUSTFILE), str(LOCUSTFILE.relative_to(REPO)))
        return LoadResult.from_samples(samples, command=shown, exit_code=done.returncode,
                                       output=done.stdout + done.stderr, elapsed=elapsed, users=users,
                                       seconds=seconds, load_average=os.getloadavg())


# Load figures ---------------------------------------------------------------------------------------------------------

# The endpoints whose latency is measured (locustfile.py names its requests so); logins are counted, not measured.
ENDPOINTS = ("dashboard", "portfolio list", "initiative page", "api initiatives", "api initiative", "api dashboard")


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between closest ranks (NumPy's default)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class EndpointFigures:
    name: str
    requests: int
    failures: int
    p50_ms: float
    p95_ms: float
    mean_ms: float


@dataclass
class LoadResult:
    command: str
    exit_code: int
    output: str
    elapsed: float
    users: int
    seconds: int
    load_average: tuple[float, float, float]
    endpoints: list[EndpointFigures]
    overall: EndpointFigures
    failures: list[dict[str, object]]  # every failed request: name, status, error
    total_requests: int

    @classmethod
    def from_samples(cls, samples: list[dict[str, object]], **kwargs: object) -> LoadResult:
        failures = [s for s in samples if s["error"]]

        def figures(name: str, chosen: list[dict[str, object]]) -> EndpointFigures:
            times = [float(s["ms"]) for s in chosen]  # type: ignore[arg-type]
            return EndpointFigures(name=name, requests=len(chosen), failures=sum(1 for s in chosen if s["error"]),
                                   p50_ms=percentile(times, 50) if times else 0.0,
                                   p95_ms=percentile(times, 95) if times else 0.0,
                                   mean_ms=statistics.fmean(times) if times else 0.0)

        measured = [s for s in samples if s["name"] in ENDPOINTS]
        return cls(endpoints=[figures(n, [s for s in measured if s["name"] == n]) for n in ENDPOINTS],
                   overall=figures("all of the above", measured), failures=failures,
                   total_requests=len(samples), **kwargs)  # type: ignore[arg-type]

    def table(self) -> str:
        one, five, fifteen = self.load_average
        lines = [f"{self.users} users for {self.seconds} s: {self.total_requests} requests (logins included), "
                 f"{len(self.failures)} failed; load average after the run {one:.2f} {five:.2f} {fifteen:.2f} on "
                 f"{os.cpu_count()} CPUs",
                 f"{'endpoint':<20}{'requests':>10}{'failures':>10}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}"]
        for row in [*self.endpoints, self.overall]:
            lines.append(f"{row.name:<20}{row.requests:>10}{row.failures:>10}{row.p50_ms:>10.0f}{row.p95_ms:>10.0f}"
                         f"{row.mean_ms:>10.0f}")
        return "\n".join(lines)



# Talking to the stack as an API client ------------------------------------------------------------------------------


@dataclass
class Api:
    """A token-authenticated client of the stack's API (what a script would use)."""

    base_url: str
    token: str = ""

    @classmethod
    def login(cls, base_url: str, username: str, password: str) -> Api:
        status, body = cls(base_url).call("POST", "/api/auth/token/", {"username": username, "password": password})
        assert status == 200, (status, body)
        return cls(base_url, token=body["token"])

    def call(self, method: str, path: str, data: dict[str, object] | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            f"{self.base_url}{path}", method=method, data=json.dumps(data).encode() if data is not None else None,
            headers={"Content-Type": "application/json", "Accept": "application/json",
                     **({"Authorization": f"Token {self.token}"} if self.token else {})})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")
