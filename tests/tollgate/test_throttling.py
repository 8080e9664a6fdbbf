"""The API's rate limit: per token (per person with a session), 429 with Retry-After naming the token; pages and
other tokens go on."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portfolio.services import api_token_issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_a_minute(settings):
    settings.API_RATE_LIMIT = "3/minute"


def _with(api_client, key):
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api_client


def test_a_token_past_its_limit_is_told_to_wait_and_which_token_it_was(api_client, owner, three_a_minute):
    _token, key = api_token_issue(actor=owner, user=owner, name="Nightly export", days=30)
    client = _with(api_client, key)
    assert [client.get(reverse("api_me")).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/api/initiatives/")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    detail = refused.json()["detail"]
    assert f"Too many requests with the API token 'Nightly export' ({_token.shown_key})" in detail
    assert "at most 3/minute (API_RATE_LIMIT)" in detail and "Expected available in" in detail


def test_each_token_has_its_own_allowance_and_pages_are_not_counted(api_client, client, owner, three_a_minute):
    _first, first = api_token_issue(actor=owner, user=owner, name="Spreadsheet", days=30)
    _second, second = api_token_issue(actor=owner, user=owner, name="BI tool", days=30)
    for _ in range(3):
        _with(api_client, first).get(reverse("api_me"))
    assert _with(api_client, first).get(reverse("api_me")).status_code == 429
    assert _with(api_client, second).get(reverse("api_me")).status_code == 200
    client.force_login(owner)
    assert client.get(reverse("portfolio:initiative_list")).status_code == 200


def test_a_browser_session_is_counted_per_person(client, owner, reviewer, three_a_minute):
    client.force_login(owner)
    assert [client.get(reverse("api_me")).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert str(owner) in client.get(reverse("api_me")).json()["detail"]
    client.force_login(reviewer)
    assert client.get(reverse("api_me")).status_code == 200


def test_no_limit_when_switched_off(api_client, owner, settings):
    settings.API_RATE_LIMIT = ""
    _token, key = api_token_issue(actor=owner, user=owner, name="Loader", days=30)
    assert {_with(api_client, key).get(reverse("api_me")).status_code for _ in range(20)} == {200}


def test_the_token_endpoint_is_not_counted_here(api_client, owner, three_a_minute):
    """Anonymous: a password's failures are django-axes' to count (tests/tollgate/test_login_throttle.py)."""
    answers = [api_client.post(reverse("api_token"), {"username": owner.username, "password": "wrong"}).status_code
               for _ in range(4)]
    assert 429 not in answers


def test_every_counted_answer_says_how_many_requests_are_left(api_client, owner, three_a_minute):
    _token, key = api_token_issue(actor=owner, user=owner, name="Pacer", days=30)
    client = _with(api_client, key)
    answers = [client.get(reverse("api_me")) for _ in range(4)]
    assert [a["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert {a["RateLimit-Limit"] for a in answers} == {"3"}
    assert all(1 <= int(a["RateLimit-Reset"]) <= 60 for a in answers)
    assert answers[-1].status_code == 429


def test_no_rate_headers_where_nothing_is_counted(api_client, client, owner, settings):
    settings.API_RATE_LIMIT = ""
    _token, key = api_token_issue(actor=owner, user=owner, name="Loader", days=30)
    assert "RateLimit-Limit" not in _with(api_client, key).get(reverse("api_me"))
    settings.API_RATE_LIMIT = "3/minute"
    client.force_login(owner)
    assert "RateLimit-Limit" not in client.get(reverse("portfolio:initiative_list"))  # a page


def test_signing_in_again_gives_no_fresh_allowance(api_client, owner, three_a_minute):
    """Tokens obtained with a password share their person's allowance: a loop that obtains a new one each time is
    still held to the limit."""
    from tests.factories import PASSWORD

    counted = []
    for _ in range(2):
        key = api_client.post(reverse("api_token"), {"username": owner.username, "password": PASSWORD}).json()["token"]
        counted.append(_with(api_client, key).get(reverse("api_me")).status_code)
        counted.append(_with(api_client, key).get(reverse("api_me")).status_code)
        api_client.credentials()
    assert counted == [200, 200, 200, 429]
