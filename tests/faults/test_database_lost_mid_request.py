"""The PostgreSQL connection of a request dropped while its view writes (a restart, a failover, a terminated
backend): the person gets the site's 503 page (JSON under /api/) with Retry-After, nothing is half-written -- no
run row, no stored upload -- and the next request succeeds on a new connection.

A real server (live_server: a thread per request, each on its own connection, closed after the request as a
production worker's is) rather than the test client, whose requests share the test's connection.
"""

from __future__ import annotations

import json
from unittest import mock

import psycopg
import pytest
import requests
from django.db import connection

from portfolio.choices import SourceType
from portfolio.models import IngestionRun
from portfolio.services import api_token_issue
from tests.factories import PASSWORD
from tests.portfolio.costs.factories import CostSourceFactory
from tests.workers import database_url
from tollgate import jobs

CSV = b"date,initiative,key,category,amount,currency,quantity,unit\n2025-06-01,,namespace=a,compute,1.25,USD,,\n"


def dropping_the_connection():
    """jobs.run_submit, but first this request's backend is terminated from another connection: the run row is
    inserted, its transaction not yet committed, when the connection goes."""
    submit = jobs.run_submit
    dropped: list[int] = []

    def run_submit(run, *, task):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        with psycopg.connect(database_url().replace("postgres://", "postgresql://", 1), autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])
        dropped.append(pid)
        return submit(run, task=task)

    return mock.patch.object(jobs, "run_submit", run_submit), dropped


def logged_in(base: str, user) -> requests.Session:
    session = requests.Session()
    session.get(f"{base}/accounts/login/")
    response = session.post(f"{base}/accounts/login/", data={
        "username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"],
    }, allow_redirects=False)
    assert response.status_code == 302, response.text[:500]
    return session


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media) -> list:
    return [path for path in media.rglob("*") if path.is_file()] if media.exists() else []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_page_whose_connection_drops_answers_503_writes_nothing_and_the_next_request_works(
    live_server, admin_user, media
):
    source = CostSourceFactory(name="contracts", type=SourceType.CSV)
    session = logged_in(live_server.url, admin_user)
    url = f"{live_server.url}/portfolio/costs/sources/{source.pk}/run/"

    def post():
        session.get(url)
        return session.post(url, data={"period": "2025-06", "csrfmiddlewaretoken": session.cookies["csrftoken"]},
                            files={"file": ("june.csv", CSV, "text/csv")}, allow_redirects=False)

    patch, dropped = dropping_the_connection()
    with patch:
        response = post()
    assert dropped, "the view did not reach the write"
    assert response.status_code == 503, response.text[:500]
    assert response.headers["Retry-After"] == "10"
    assert "The database is unavailable for a moment" in response.text and 'id="error-page"' in response.text
    assert not IngestionRun.objects.exists()  # the row died with the connection's transaction
    assert stored_files(media) == []  # and the upload stored for it is gone

    response = post()  # a new connection
    assert response.status_code == 302, response.text[:500]
    run = IngestionRun.objects.get()
    assert response.headers["Location"].endswith(f"/portfolio/costs/runs/{run.pk}/")
    assert [path.read_bytes() for path in stored_files(media)] == [CSV]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_api_call_whose_connection_drops_answers_503_json_and_the_next_call_works(live_server, admin_user):
    source = CostSourceFactory(name="contracts", type=SourceType.CSV, settings={"path": "/exports/contracts.csv"})
    _token, key = api_token_issue(actor=admin_user, user=admin_user, name="fault test", days=30)
    headers = {"Authorization": f"Token {key}"}
    url = f"{live_server.url}/api/ingestion-runs/"

    patch, dropped = dropping_the_connection()
    with patch:
        response = requests.post(url, json={"source": source.pk, "period": "2025-06"}, headers=headers)
    assert dropped
    assert response.status_code == 503, response.text[:500]
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Retry-After"] == "10"
    assert response.json() == {"detail": "The database is unavailable for a moment; nothing was changed. "
                                         "Send the request again shortly."}
    assert not IngestionRun.objects.exists()

    response = requests.post(url, json={"source": source.pk, "period": "2025-06"}, headers=headers)
    assert response.status_code == 201, response.text[:500]
    assert IngestionRun.objects.get().pk == response.json()["id"]


@pytest.mark.django_db
def test_any_other_server_error_keeps_the_500_page_and_answers_json_under_the_api(rf):
    """What is not a lost connection stays a 500 (an error the data or the code caused will not pass on a retry)."""
    from tollgate.views import server_error

    try:
        raise ZeroDivisionError
    except ZeroDivisionError:
        page, api = server_error(rf.get("/portfolio/")), server_error(rf.get("/api/initiatives/"))
    assert page.status_code == 500 and "Something went wrong on our side" in page.content.decode()
    assert "Retry-After" not in page
    assert api.status_code == 500 and api["Content-Type"] == "application/json"
    assert json.loads(api.content)["detail"].startswith("Server error")
