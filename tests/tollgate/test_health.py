"""Liveness and readiness: what a load balancer or orchestrator asks, without logging in."""

from __future__ import annotations

import os

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.db.utils import OperationalError
from django.urls import reverse

from tollgate import health

pytestmark = pytest.mark.django_db

CLOSED_PORT = "127.0.0.1:1"  # nothing listens there: a refused connection, at once


@pytest.fixture(autouse=True)
def _migrations_not_yet_seen(monkeypatch):
    """Each test reads the migration state afresh (a process remembers once all were applied)."""
    monkeypatch.setattr(health, "_all_migrations_applied", False)


def test_health_answers_as_before(client):
    response = client.get(reverse("health"))
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_liveness_asks_nothing_else(client, monkeypatch):
    def no_database(*args, **kwargs):
        raise OperationalError("the database is down")

    monkeypatch.setattr(connection, "cursor", no_database)
    response = client.get(reverse("health_live"))
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_ready_without_a_broker_reports_each_check(client, settings):
    settings.CELERY_BROKER_URL = ""
    response = client.get(reverse("health_ready"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True, "detail": ""}
    assert body["checks"]["broker"] == {"ok": True, "detail": "no broker configured: tasks run in-process"}
    assert body["checks"]["migrations"] == {"ok": True, "detail": ""}


def test_not_ready_when_the_database_is_down(client, monkeypatch, settings):
    settings.CELERY_BROKER_URL = ""

    def no_database(*args, **kwargs):
        raise OperationalError('connection to server at "db.internal" (10.1.2.3), port 5432 failed')

    monkeypatch.setattr(connection, "cursor", no_database)
    response = client.get(reverse("health_ready"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {"ok": False, "detail": "unreachable (OperationalError)"}
    assert body["checks"]["migrations"] == {"ok": False, "detail": "database unreachable"}
    assert "10.1.2.3" not in response.content.decode()  # a public probe does not tell where the database lives


def test_not_ready_when_the_redis_broker_does_not_answer(client, settings):
    settings.CELERY_BROKER_URL = f"redis://{CLOSED_PORT}/0"
    response = client.get(reverse("health_ready"))
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["broker"] == {"ok": False, "detail": "unreachable (ConnectionError)"}
    assert checks["database"]["ok"] and checks["migrations"]["ok"]


def test_not_ready_when_another_broker_does_not_answer(client, settings):
    settings.CELERY_BROKER_URL = f"amqp://guest@{CLOSED_PORT}//"
    response = client.get(reverse("health_ready"))
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["detail"] == "unreachable (OperationalError)"


@pytest.mark.redis
def test_ready_with_the_redis_broker_answering(client, settings):
    settings.CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or os.environ["REDIS_URL"]
    response = client.get(reverse("health_ready"))
    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == {"ok": True, "detail": ""}


def test_not_ready_while_a_migration_is_unapplied(client, settings, monkeypatch):
    settings.CELERY_BROKER_URL = ""
    monkeypatch.setattr(health, "_all_migrations_applied", False)  # an earlier request of the suite saw them all
    MigrationRecorder.Migration.objects.filter(app="governance", name="0008_signals").delete()  # rolled back after
    response = client.get(reverse("health_ready"))
    assert response.status_code == 503
    detail = response.json()["checks"]["migrations"]
    assert detail["ok"] is False
    assert detail["detail"].startswith("1 unapplied: governance.0008_signals")
    assert "manage.py migrate" in detail["detail"]


def test_once_all_migrations_are_applied_the_process_remembers(monkeypatch):
    assert health.migrations_check().ok

    def unreadable(*args, **kwargs):
        raise AssertionError("the migration files were read again")

    monkeypatch.setattr("django.db.migrations.executor.MigrationExecutor.__init__", unreadable)
    assert health.migrations_check().ok
