"""SQLite busy writing a large change (an import holding its write lock past the busy timeout): a request that meets
"database is locked" answers 503 "try again in a minute", not 500."""

from __future__ import annotations

import sys

import pytest
from django.db import OperationalError, connection
from django.test import Client, RequestFactory

from tollgate.views import BUSY_RETRY_AFTER_SECONDS, server_error

pytestmark = pytest.mark.django_db

SQLITE = connection.vendor == "sqlite"
sqlite_only = pytest.mark.skipif(not SQLITE, reason="SQLite's write lock; PostgreSQL has row locks")


@pytest.fixture
def client(executive, settings):
    settings.ROOT_URLCONF = "tests.tollgate.busy_urls"
    client = Client(raise_request_exception=False)
    client.force_login(executive)
    return client


@sqlite_only
@pytest.mark.parametrize("debug", [False, True])
def test_a_page_meeting_the_write_lock_answers_503_busy(client, settings, debug):
    settings.DEBUG = debug  # the middleware answers also where handler500 is not used
    response = client.post("/locked/")
    assert response.status_code == 503
    assert response["Retry-After"] == str(BUSY_RETRY_AFTER_SECONDS)
    html = response.content.decode()
    assert "Tollgate is busy writing a large change; try again in a minute" in html and 'id="error-page"' in html


@sqlite_only
def test_an_api_call_meeting_the_write_lock_answers_503_busy_in_json(client):
    response = client.post("/api/locked/")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith("Tollgate is busy writing a large change; try again in a minute.")


def test_another_database_error_is_still_a_500(client):
    assert client.get("/other/").status_code == 500


@pytest.mark.parametrize("path", ["/accounts/login/", "/api/me/"])
def test_the_error_page_says_busy_for_a_lock_met_outside_the_view(path):
    """handler500: for "database is locked" raised where no view's exception hook sees it (a middleware, the
    session saved on the way out)."""
    request = RequestFactory().post(path)
    try:
        raise OperationalError("database is locked")
    except OperationalError:
        assert sys.exc_info()[1] is not None
        response = server_error(request)
    assert response.status_code == (503 if SQLITE else 500)
