"""Production settings refuse to start on a public key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.core.checks.security.base import check_secret_key
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[2]
READ_KEY = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY[:16])"


def start(**env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    environment.update(DJANGO_SETTINGS_MODULE="tollgate.settings", **env)
    # SECRET_KEY="" in the environment wins over a .env of this checkout (settings never overwrite what is set).
    return subprocess.run([sys.executable, "-c", READ_KEY], cwd=ROOT, env=environment, capture_output=True,
                          text=True, timeout=120)


def test_without_a_secret_key_debug_off_refuses_to_start():
    refused = start(SECRET_KEY="", DEBUG="0")
    assert refused.returncode != 0
    assert "SECRET_KEY is not set" in refused.stderr and "secrets.token_urlsafe" in refused.stderr


def test_with_a_key_or_in_development_it_starts():
    assert start(SECRET_KEY="k" * 60, DEBUG="0").stdout.strip() == "k" * 16
    assert start(SECRET_KEY="", DEBUG="1").stdout.strip() == "django-insecure-"


def test_the_development_key_fails_djangos_own_deploy_check():
    from django.conf import settings

    with override_settings(SECRET_KEY="django-insecure-development-key-" + "x" * 32):
        assert [w.id for w in check_secret_key(None)] == ["security.W009"]
    assert settings.SECRET_KEY  # the suite runs on its own key or CI's


def test_an_api_rate_limit_that_is_not_a_rate_refuses_to_start():
    refused = start(SECRET_KEY="", DEBUG="1", API_RATE_LIMIT="600 per minute")
    assert refused.returncode != 0
    assert "API_RATE_LIMIT='600 per minute' is not a rate such as 600/minute" in refused.stderr
    assert start(SECRET_KEY="", DEBUG="1", API_RATE_LIMIT="").returncode == 0  # switched off
    assert start(SECRET_KEY="", DEBUG="1", API_RATE_LIMIT="100/hour").returncode == 0



def test_a_reporting_currency_that_is_not_an_iso_code_refuses_to_start():
    for value in ("", "DOLLARS", "US$", "U S"):
        refused = start(SECRET_KEY="", DEBUG="1", REPORTING_CURRENCY=value)
        assert refused.returncode != 0
        assert f"REPORTING_CURRENCY={value!r} is not an ISO 4217 currency code" in refused.stderr
    assert start(SECRET_KEY="", DEBUG="1", REPORTING_CURRENCY=" eur ").returncode == 0  # EUR
    assert start(SECRET_KEY="", DEBUG="1", REPORTING_CURRENCY="USD").returncode == 0

# Two transactions that each read a row and then write it, at once, as two requests do on the embedded default.
READ_THEN_WRITE = """
import threading, time, django
django.setup()
from django.db import connection, connections, transaction
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE IF NOT EXISTS counter (n INTEGER)")
    cursor.execute("INSERT INTO counter VALUES (0)")
errors = []
def bump():
    try:
        with transaction.atomic(), connections["default"].cursor() as cursor:
            cursor.execute("SELECT n FROM counter")
            time.sleep(0.3)
            cursor.execute("UPDATE counter SET n = n + 1")
    except Exception as exc:
        errors.append(str(exc))
    finally:
        connections.close_all()
threads = [threading.Thread(target=bump) for _ in range(2)]
[t.start() for t in threads]; [t.join() for t in threads]
print(connection.settings_dict["OPTIONS"].get("transaction_mode"), errors)
"""


def test_two_requests_writing_at_once_on_sqlite_queue_rather_than_fail(tmp_path):
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "tollgate.settings", "DEBUG": "1",
                   "DATABASE_URL": f"sqlite:///{tmp_path}/queue.sqlite3"}
    ran = subprocess.run([sys.executable, "-c", READ_THEN_WRITE], cwd=ROOT, env=environment, capture_output=True,
                         text=True, timeout=120)
    assert ran.stdout.strip() == "IMMEDIATE []", ran.stderr
    # Without it (SQLite's deferred transactions) the second writer fails at once: the check above can fail.
    deferred = READ_THEN_WRITE.replace("django.setup()", "from django.conf import settings\ndjango.setup()\n"
                                       "settings.DATABASES['default']['OPTIONS']['transaction_mode'] = 'DEFERRED'")
    environment["DATABASE_URL"] = f"sqlite:///{tmp_path}/deferred.sqlite3"
    ran = subprocess.run([sys.executable, "-c", deferred], cwd=ROOT, env=environment, capture_output=True,
                         text=True, timeout=120)
    assert ran.stdout.strip() == "DEFERRED ['database is locked']", ran.stderr
