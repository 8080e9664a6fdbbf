"""Benchmark: how long `make run` takes from a fresh database to the login page answering, step by step.

    .venv/bin/python bench/startup.py            # port 8765; BENCH_PORT to change it
    nice -n -15 .venv/bin/python bench/startup.py   # as root, ahead of other work: near an idle machine's figures

Runs what `make run` runs after `make setup` (the installed virtualenv), in this checkout, against a new SQLite file
in a temporary folder, with the same environment `make run` gives (no broker: Celery tasks in-process, the scheduled
jobs beside the web server): `manage.py migrate`, `manage.py load_demo`, then `manage.py run_jobs` and
`manage.py runserver --noreload` together, polling /accounts/login/ until it answers 200. Prints each step's wall
time, and the load average before and after (the figures mean little on a busy machine). Target (issue 13):
`load_demo` under 30 s on an idle machine, serving within 90 s of `make run`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
LOGIN_TIMEOUT_S = 300


def _step(label: str, args: list[str], env: dict[str, str]) -> float:
    started = time.monotonic()
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    elapsed = time.monotonic() - started
    print(f"{label:<40} {elapsed:6.1f} s", flush=True)
    return elapsed


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (a local URL)
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def main() -> None:
    port = os.environ.get("BENCH_PORT", "8765")
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="tollgate-startup-") as tmp:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/db.sqlite3", "DEBUG": "1",
               "DJANGO_SETTINGS_MODULE": "tollgate.settings"}
        for name in ("CELERY_BROKER_URL", "REDIS_URL"):
            env.pop(name, None)
        total = _step("migrate", ["migrate", "--noinput"], env)
        total += _step("load_demo", ["load_demo"], env)
        started = time.monotonic()
        jobs = subprocess.Popen([PYTHON, "manage.py", "run_jobs"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        server = subprocess.Popen([PYTHON, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"], cwd=ROOT,
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}/accounts/login/"
            while not _answers(url):
                if time.monotonic() - started > LOGIN_TIMEOUT_S or server.poll() is not None:
                    raise SystemExit(f"the login page did not answer within {LOGIN_TIMEOUT_S} s")
                time.sleep(0.2)
            serving = time.monotonic() - started
            print(f"{'runserver until the login page answers':<40} {serving:6.1f} s")
            print(f"{'total (make run after make setup)':<40} {total + serving:6.1f} s")
        finally:
            for process in (server, jobs):
                process.terminate()
                process.wait(timeout=30)
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
