"""Prometheus metrics: who may scrape /metrics, and what the figures say about requests, runs, the queue and signals."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from governance.choices import SignalStatus, SignalType
from portfolio.choices import RunStatus
from portfolio.models import ImportRun, IngestionRun
from tests.governance.signals.factories import SignalFactory
from tests.paths import REPO
from tests.portfolio.costs.factories import CostSourceFactory
from tollgate import metrics

pytestmark = pytest.mark.django_db

URL = reverse("metrics")
OUTSIDE = "203.0.113.7"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """(sample name, labels) -> value, from the exposition text."""
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(found, name: str, **labels: str) -> float:
    return found[(name, frozenset(labels.items()))]


def scrape(client, **extra) -> dict:
    response = client.get(URL, **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return samples(response.content.decode())


# Who may scrape ------------------------------------------------------------------------------------------------------


def test_the_local_address_may_scrape_without_login(client):
    assert client.get(URL).status_code == 200  # the test client calls from 127.0.0.1


def test_another_address_is_refused(client):
    response = client.get(URL, REMOTE_ADDR=OUTSIDE)
    assert response.status_code == 403
    assert b"METRICS_ALLOWED_IPS" in response.content and b"tollgate_" not in response.content


def test_a_network_of_prometheus_servers_may_scrape(client, settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "2001:db8::/32"]
    assert client.get(URL, REMOTE_ADDR="10.20.30.40").status_code == 200
    assert client.get(URL, REMOTE_ADDR="2001:db8::5").status_code == 200
    assert client.get(URL, REMOTE_ADDR="::ffff:10.1.1.1").status_code == 200  # IPv4 seen through an IPv6 socket
    assert client.get(URL, REMOTE_ADDR="127.0.0.1").status_code == 403  # the list replaces the default


def test_the_bearer_token_lets_any_address_scrape(client, settings):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    assert client.get(URL, REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer s3cret-scrape-token").status_code == 200
    assert client.get(URL, REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get(URL, REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Basic s3cret-scrape-token").status_code == 403


def test_without_a_token_configured_an_empty_bearer_is_no_key(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get(URL, REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_behind_a_proxy_the_clients_address_is_the_one_the_proxy_gives(client, settings):
    """A proxy on the same host makes every caller 127.0.0.1; with its header configured, the real caller counts."""
    settings.LOGIN_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    assert client.get(URL, REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP=OUTSIDE).status_code == 403
    assert client.get(URL, REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="127.0.0.1").status_code == 200


def test_a_forwarded_for_header_counts_the_address_the_proxy_added_not_the_clients_own(client, settings):
    """A proxy appends the address it saw to X-Forwarded-For: whatever comes before it the client sent itself, so
    "X-Forwarded-For: 127.0.0.1" must not open /metrics (nor give each login guess a fresh address)."""
    from django.test import RequestFactory

    from tollgate.auth import client_address

    settings.LOGIN_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    assert client.get(URL, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"127.0.0.1, {OUTSIDE}").status_code == 403
    assert client.get(URL, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"{OUTSIDE}, 127.0.0.1").status_code == 200
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"1.2.3.4,  {OUTSIDE} ")
    assert client_address(request) == OUTSIDE


def test_a_malformed_allowed_address_says_which_setting(client, settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "not-an-address"]
    with pytest.raises(ImproperlyConfigured, match="METRICS_ALLOWED_IPS"):
        client.get(URL, REMOTE_ADDR=OUTSIDE)


# What it says ---------------------------------------------------------------------------------------------------------


def test_requests_are_counted_by_view_and_status(client, settings):
    settings.CELERY_BROKER_URL = ""
    before = scrape(client)
    key = ("django_http_responses_total_by_status_view_method_total",
           frozenset({"status": "200", "view": "health_live", "method": "GET"}.items()))
    client.get(reverse("health_live"))
    client.get(reverse("health_live"))
    assert scrape(client)[key] == before.get(key, 0) + 2


def _run(model, status, *, seconds=None, **fields):
    now = timezone.now()
    started = now - timedelta(seconds=seconds) if seconds is not None else None
    finished = now if status in (RunStatus.SUCCEEDED, RunStatus.FAILED) else None
    return model.objects.create(status=status, started_at=started, finished_at=finished, **fields)


def test_runs_by_type_and_status_their_rows_and_durations(client, settings):
    settings.CELERY_BROKER_URL = ""
    source = CostSourceFactory()
    june = {"source": source, "period": "2025-06-01"}
    _run(IngestionRun, RunStatus.SUCCEEDED, seconds=3, rows_read=120, rows_written=100, rows_skipped=20, **june)
    _run(IngestionRun, RunStatus.SUCCEEDED, seconds=40, rows_read=10, rows_written=10, **june)
    _run(IngestionRun, RunStatus.FAILED, seconds=7200, rows_read=999, rows_written=0, **june)  # rows not counted
    _run(IngestionRun, RunStatus.FAILED, **june)  # expired before any worker took it: no duration
    _run(IngestionRun, RunStatus.RUNNING, seconds=5, **june)
    _run(IngestionRun, RunStatus.PENDING, **june)
    _run(ImportRun, RunStatus.SUCCEEDED, seconds=0.5, filename="inventory.csv", rows_created=4, rows_updated=2)

    found = scrape(client)

    assert value(found, "tollgate_runs_finished_total", run="ingestion", status="succeeded") == 2
    assert value(found, "tollgate_runs_finished_total", run="ingestion", status="failed") == 2
    assert value(found, "tollgate_runs_active", run="ingestion", status="running") == 1
    assert value(found, "tollgate_runs_active", run="ingestion", status="pending") == 1
    assert value(found, "tollgate_run_rows_total", run="ingestion", kind="read") == 130
    assert value(found, "tollgate_run_rows_total", run="ingestion", kind="written") == 110
    assert value(found, "tollgate_run_rows_total", run="ingestion", kind="skipped") == 20
    assert value(found, "tollgate_run_rows_total", run="import", kind="created") == 4
    assert value(found, "tollgate_runs_finished_total", run="sprawl", status="succeeded") == 0
    assert value(found, "tollgate_runs_finished_total", run="sprawllabelcheck", status="failed") == 0

    def bucket(le: str, run: str = "ingestion") -> float:
        return value(found, "tollgate_run_duration_seconds_bucket", run=run, le=le)

    assert [bucket("1.0"), bucket("5.0"), bucket("60.0"), bucket("3600.0"), bucket("14400.0"), bucket("+Inf")] == [
        0, 1, 2, 2, 3, 3]
    assert value(found, "tollgate_run_duration_seconds_count", run="ingestion") == 3
    assert value(found, "tollgate_run_duration_seconds_sum", run="ingestion") == pytest.approx(7243, abs=0.01)
    assert bucket("1.0", run="import") == 1


def test_signals_by_type_and_status(client, settings):
    settings.CELERY_BROKER_URL = ""
    SignalFactory.create_batch(2, type=SignalType.COST_OVERRUN)
    SignalFactory(type=SignalType.COST_OVERRUN, status=SignalStatus.DISMISSED)
    SignalFactory(type=SignalType.LICENCE_WASTE, status=SignalStatus.ACKNOWLEDGED)

    found = scrape(client)

    assert value(found, "tollgate_signals", type="cost_overrun", status="open") == 2
    assert value(found, "tollgate_signals", type="cost_overrun", status="dismissed") == 1
    assert value(found, "tollgate_signals", type="licence_waste", status="acknowledged") == 1
    assert value(found, "tollgate_signals", type="licence_waste", status="open") == 0  # present at zero


def test_a_scrape_costs_the_same_queries_however_many_runs_and_signals(client, settings):
    settings.CELERY_BROKER_URL = ""
    source = CostSourceFactory()

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            scrape(client)
        return len(captured)

    few = queries()
    for _ in range(5):
        _run(IngestionRun, RunStatus.SUCCEEDED, seconds=2, source=source, period="2025-06-01")
    SignalFactory.create_batch(5)
    # one per run type (import, ingestion, sprawl, sprawl label check, signal), one for the signals
    assert queries() == few == 6


def test_a_failing_collector_costs_only_its_own_figures(client, settings, monkeypatch):
    settings.CELERY_BROKER_URL = ""

    def broken() -> list:
        raise RuntimeError("signal table locked")

    monkeypatch.setitem(metrics._scrape_collectors, "tollgate_signals",
                        metrics.ScrapeGauge("tollgate_signals", "Signals.", ("type", "status"), broken))
    found = scrape(client)
    assert value(found, "tollgate_metrics_collector_up", collector="tollgate_signals") == 0
    assert value(found, "tollgate_metrics_collector_up", collector="runs") == 1
    assert not any(name == "tollgate_signals" for name, _ in found)
    assert value(found, "tollgate_runs_finished_total", run="ingestion", status="failed") == 0


def test_without_a_redis_broker_there_is_no_queue_length(client, settings):
    settings.CELERY_BROKER_URL = ""
    found = scrape(client)
    assert value(found, "tollgate_metrics_collector_up", collector="celery_queue") == 1
    assert not any(name == "tollgate_celery_queue_length" for name, _ in found)


def test_an_unreachable_broker_marks_the_queue_collector_down(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    assert value(scrape(client), "tollgate_metrics_collector_up", collector="celery_queue") == 0


@pytest.mark.redis
def test_the_queue_length_is_read_from_redis(client, settings):
    import redis

    url = os.environ.get("CELERY_BROKER_URL") or os.environ["REDIS_URL"]
    queue = f"tollgate-test-{uuid.uuid4().hex}"
    settings.CELERY_BROKER_URL, settings.CELERY_TASK_DEFAULT_QUEUE = url, queue
    broker = redis.Redis.from_url(url)
    try:
        broker.rpush(queue, "m1", "m2", "m3")
        broker.rpush(f"{queue}\x06\x169", "m4")  # a task sent with a priority waits in a list of its own
        assert value(scrape(client), "tollgate_celery_queue_length", queue=queue) == 4
    finally:
        broker.delete(queue, f"{queue}\x06\x169")
        broker.close()


# Several gunicorn processes ------------------------------------------------------------------------------------------

COUNT_A_REQUEST = """
import django
django.setup()
from django.test import Client
Client().get("/health/live/")
"""


def test_multiprocess_mode_adds_up_every_process(client, settings, tmp_path, monkeypatch):
    """Under gunicorn each worker process counts its own requests into PROMETHEUS_MULTIPROC_DIR; any process's
    /metrics adds them up, beside the figures read at the scrape."""
    settings.CELERY_BROKER_URL = ""
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "SECRET_KEY": "k" * 60,
                   "DJANGO_SETTINGS_MODULE": "tollgate.settings", "PYTHONPATH": str(REPO)}
    for _ in range(2):  # two processes, one request each
        done = subprocess.run([sys.executable, "-c", COUNT_A_REQUEST], cwd=REPO, env=environment,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    found = samples(metrics.metrics_exposition().decode())

    key = ("django_http_responses_total_by_status_view_method_total",
           frozenset({"status": "200", "view": "health_live", "method": "GET"}.items()))
    assert found[key] == 2
    assert value(found, "tollgate_runs_finished_total", run="ingestion", status="succeeded") == 0
