"""Refusals, missing pages and errors are pages in the site's layout, and a refusal is one line in the log."""

from __future__ import annotations

import io
import logging

import pytest
from django.test import Client
from django.urls import reverse

from tollgate.logging import RefusalsInOneLine

pytestmark = pytest.mark.django_db


def test_a_refusal_is_a_page_in_the_layout_that_says_where_to_go(client, executive):
    client.force_login(executive)
    response = client.get(reverse("portfolio:initiative_create"))
    assert response.status_code == 403
    html = response.content.decode()
    assert 'id="error-page"' in html and "You may not do this" in html and 'class="topbar"' in html
    assert "You may not add an initiative." in html and "ask an administrator to give you the role" in html


def test_a_missing_page_is_a_page_in_the_layout(client, executive):
    client.force_login(executive)
    response = client.get("/portfolio/nowhere/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "This page does not exist" in html and "/portfolio/nowhere/" in html


def test_a_server_error_is_a_page_in_the_layout(executive, settings):
    settings.ROOT_URLCONF = "tests.tollgate.failing_urls"
    client = Client(raise_request_exception=False)
    client.force_login(executive)
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    # A page's write may have committed before the error (pages are not one transaction, API writes are): the page
    # asks to look before sending again, rather than promising nothing was written.
    assert "look whether it is there before sending it again" in html and "half-written" not in html


def test_a_refusal_is_logged_as_one_line_without_its_traceback(client, executive):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RefusalsInOneLine())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        client.force_login(executive)
        client.get(reverse("portfolio:initiative_create"))
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "Forbidden" in output and "Traceback" not in output
    assert output.count("\n") == 1


def test_a_missing_api_path_answers_json_like_the_rest_of_the_api(api_client, executive):
    """A URL under /api/ that no route matches (a non-numeric id) answered the site's HTML page; API clients and the
    schema expect JSON from every API path."""
    api_client.force_authenticate(executive)
    response = api_client.get("/api/initiatives/not-a-number/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "No initiative with id 'not-a-number'."}


@pytest.mark.parametrize("debug", [False, True])
def test_every_missing_api_path_is_json_naming_the_path_even_with_debug_on(api_client, admin_user, settings, debug):
    """/api/governance/, /api/reviews/x/ and a method on a path that only lists answered Django's HTML page (its debug
    page with DEBUG on, as in development)."""
    settings.DEBUG = debug
    api_client.force_authenticate(admin_user)
    for method, path in [("get", "/api/nowhere/"), ("get", "/api/reviews/nothing-here/"),
                         ("patch", "/api/governance/audit-entries/1/"), ("delete", "/api/governance/audit-entries/1/")]:
        response = getattr(api_client, method)(path)
        assert response.status_code == 404 and response["Content-Type"] == "application/json", (method, path)
        assert response.json() == {"detail": f"Nothing at {path}: it is not an endpoint of the API. GET /api/ lists "
                                             "the endpoints (dashboard, me, governance, reviews and the portfolio's "
                                             "records)."}
    assert api_client.get("/portfolio/nowhere/")["Content-Type"].startswith("text/html")  # pages keep their page


def test_a_missing_record_is_named_with_the_id_asked_for(api_client, admin_user, initiative):
    api_client.force_authenticate(admin_user)
    assert api_client.get("/api/business-cases/abc/").json() == {"detail": "No business case with id 'abc'."}
    assert api_client.get("/api/business-cases/9999/").json() == {"detail": "No business case with id '9999'."}
    assert api_client.get("/api/governance/initiatives/9999/scores/").json() == {
        "detail": "No initiative with id '9999'."}
    assert api_client.get("/api/reviews/reports/77/").json() == {"detail": "No value report with id '77'."}
    # A 404 with words of its own keeps them.
    assert api_client.get("/api/governance/policies/no.such/").json() == {"detail": "No such policy."}


def test_a_method_no_action_answers_is_405_naming_those_it_does_even_for_an_administrator(api_client, admin_user):
    """POST /api/governance/signals/recompute/ (there is no such action) answered 403 "You may not do this." to
    everyone: the role check asked for a permission of an action that does not exist."""
    api_client.force_authenticate(admin_user)
    response = api_client.post("/api/governance/signals/recompute/")
    assert response.status_code == 405
    assert response.json() == {"detail": "POST is not an action of /api/governance/signals/recompute/; it answers "
                                         "GET."}
    assert api_client.delete("/api/initiatives/").status_code == 405


def test_the_api_root_lists_every_family_and_each_family_its_endpoints(api_client, executive):
    api_client.force_authenticate(executive)
    root = api_client.get("/api/").json()
    for key, path in [("dashboard", "/api/dashboard/"), ("me", "/api/me/"), ("governance", "/api/governance/"),
                      ("reviews", "/api/reviews/"), ("initiatives", "/api/initiatives/"), ("schema", "/api/schema/")]:
        assert root[key] == f"http://testserver{path}", key
    governance = api_client.get(root["governance"]).json()
    assert governance["signals"] == "http://testserver/api/governance/signals/"
    assert governance["initiative-scores"] == "http://testserver/api/governance/initiatives/{id}/scores/"
    reviews = api_client.get(root["reviews"]).json()
    assert reviews["reports"] == "http://testserver/api/reviews/reports/"
