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
    assert response.json() == {"detail": "Not found."}
