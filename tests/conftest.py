"""Shared fixtures: one user per role, an initiative of the owner and one of another owner, and the demo company
(built once per session: tests/demo_company.py).

Tests that need a real service carry a marker (postgres, redis, celery_worker, browser, oidc). Without the
service they skip with the reason printed; in CI (TOLLGATE_REQUIRE_SERVICES=1) a missing service fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from django.conf import settings

from tests.demo_company import DemoCompany, DemoDatabase
from tests.factories import PASSWORD, InitiativeFactory, UserFactory
from tollgate.roles import Role

REQUIRE_SERVICES = os.environ.get("TOLLGATE_REQUIRE_SERVICES") == "1"


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def _missing_service(marker: str) -> str | None:
    """Why a marked test cannot run here, or None when it can."""
    if marker == "postgres":
        if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
            return "needs PostgreSQL: set DATABASE_URL=postgres://... (bash .ci/run does)"
    elif marker in ("redis", "celery_worker"):
        url = os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL") or ""
        if not url.startswith("redis"):
            return f"needs Redis{' and a Celery worker' if marker == 'celery_worker' else ''}: set REDIS_URL"
        if not _reachable(url, 6379):
            return f"Redis at {url} is not reachable"
    elif marker == "browser":
        path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
        if not os.path.exists(path):
            return f"needs Chromium at {path} (apt-get install -y chromium)"
    elif marker == "oidc":
        from tests import oidc

        return oidc.missing()
    return None


def pytest_configure(config):
    """Uploads of the session (the demo company's evidence, tests' attachments) go to a temporary folder, never into
    the checkout's media/; it is removed when the session ends."""
    config._tollgate_media = tempfile.mkdtemp(prefix="tollgate-test-media-")
    settings.MEDIA_ROOT = config._tollgate_media


def pytest_unconfigure(config):
    media = getattr(config, "_tollgate_media", None)
    if media:
        shutil.rmtree(media, ignore_errors=True)


def pytest_runtest_setup(item):
    for marker in ("postgres", "redis", "celery_worker", "browser", "oidc"):
        if item.get_closest_marker(marker) is None:
            continue
        reason = _missing_service(marker)
        if reason is not None:
            if REQUIRE_SERVICES:
                pytest.fail(f"CI requires this service: {reason}", pytrace=False)
            pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # The real hasher is deliberately slow; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: the dashboard's entries are keyed by a fingerprint of the data, which two
    tests' databases could share."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _celery_in_process(request):
    """Tasks run in-process in tests, except those that test a real worker over Redis."""
    from tollgate.celery import app

    if request.node.get_closest_marker("celery_worker"):
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(scope="session")
def _demo_database(django_db_setup, django_db_blocker):
    """The demo company, built once per session into a database of its own (tests/demo_company.py)."""
    with django_db_blocker.unblock():
        database = DemoDatabase()
        database.create()
        company = database.load_demo()
    yield database, company
    with django_db_blocker.unblock():
        database.destroy()


@pytest.fixture
def demo(request, _demo_database, db, django_db_blocker) -> Iterator[DemoCompany]:
    """The Northwind Mutual demo company, as `load_demo` built it; what the test changes is rolled back after it."""
    marker = request.node.get_closest_marker("django_db")
    if {"transactional_db", "live_server"} & set(request.fixturenames) or (marker and marker.kwargs.get("transaction")):
        pytest.fail("the shared demo company lives in a rolled-back transaction, which a live server cannot see")
    database, company = _demo_database
    with django_db_blocker.unblock(), database.lent():
        yield company


@pytest.fixture
def owner(db):
    return UserFactory(username="olivia.owner@example.com", role=Role.OWNER)


@pytest.fixture
def other_owner(db):
    return UserFactory(username="oscar.other@example.com", role=Role.OWNER)


@pytest.fixture
def reviewer(db):
    return UserFactory(username="rita.reviewer@example.com", role=Role.REVIEWER)


@pytest.fixture
def executive(db):
    return UserFactory(username="eve.executive@example.com", role=Role.EXECUTIVE)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="adam.admin@example.com", role=Role.ADMIN)


@pytest.fixture
def initiative(owner):
    return InitiativeFactory(owner=owner)


@pytest.fixture
def other_initiative(other_owner):
    return InitiativeFactory(owner=other_owner)


@pytest.fixture
def login(client):
    """login(user) -> a test client logged in as that user."""

    def _login(user):
        assert client.login(username=user.username, password=PASSWORD)
        return client

    return _login


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def as_user(api_client):
    """as_user(user) -> the API client authenticated as that user (a module may define its own)."""

    def _as(user):
        api_client.force_authenticate(user)
        return api_client

    return _as
