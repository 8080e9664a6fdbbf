"""SQLite busy writing a large change (an import holding its write lock past the busy timeout): a request that writes
and meets "database is locked" answers 503 "try again in a minute", not 500; a request that only reads goes on
reading (write-ahead logging, settings.SQLITE_OPTIONS)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError, connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import ConnectionHandler
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


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[list[BaseDatabaseWrapper]]:
    """Two connections to one SQLite file with the settings' options (as two requests of the embedded default have),
    whatever database this run's tests use; a short busy timeout, so a lock met fails at once."""
    options = {**django_settings.SQLITE_OPTIONS, "timeout": 0.2}
    handler = ConnectionHandler({alias: {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "db.sqlite3"),
                                         "OPTIONS": options} for alias in ("default", "reader")})
    try:
        yield [handler["default"], handler["reader"]]
    finally:
        handler.close_all()


def test_a_request_that_only_reads_is_not_held_up_by_a_long_import(embedded):
    """An import writing thousands of rows outgrows SQLite's page cache: with the default rollback journal it then
    locks the whole file until it commits, and a page that only reads met "database is locked" (503). With
    write-ahead logging the reader sees what was committed before the import began; a second writer still waits
    for the lock (and answers 503 after the busy timeout), and everyone sees the import once it commits."""
    writer, reader = embedded
    with writer.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("CREATE TABLE initiative (id INTEGER PRIMARY KEY, description TEXT)")
        cursor.execute("INSERT INTO initiative (description) VALUES ('before the import')")
    writer.set_autocommit(False)  # BEGIN IMMEDIATE: the write lock, held as an import holds it
    with writer.cursor() as cursor:
        cursor.execute("PRAGMA cache_size = 8")  # a few pages: the import spills to the file, as a large one does
        cursor.executemany("INSERT INTO initiative (description) VALUES (%s)", [("x" * 1000,)] * 2000)
    with reader.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM initiative")
        assert cursor.fetchone()[0] == 1
        with pytest.raises(OperationalError, match="locked"):
            cursor.execute("BEGIN IMMEDIATE")  # another request that writes waits, then meets the lock
    writer.commit()
    writer.set_autocommit(True)
    with reader.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM initiative")
        assert cursor.fetchone()[0] == 2001


def test_postgresql_gets_none_of_the_sqlite_options():
    if connection.vendor == "sqlite":
        assert connection.settings_dict["OPTIONS"]["init_command"] == "PRAGMA journal_mode=WAL;"
    else:
        assert not set(django_settings.SQLITE_OPTIONS) & set(connection.settings_dict["OPTIONS"])
