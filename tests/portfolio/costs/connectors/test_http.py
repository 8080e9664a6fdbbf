"""The shared HTTP client against a real local server: retries, errors, redaction and pagination guards."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from portfolio.costs.connectors.base import QUANTITY_LIMIT, ConnectorError
from portfolio.costs.connectors.http import HttpClient, json_decimal, json_int, parse_link_header, retry_after_seconds
from tests.portfolio.costs.connectors.conftest import FAST, ProviderServer, Recorded, Reply, paged

SECRET = "sk-admin-TOPSECRET-123"


def client_for(server: ProviderServer, **settings) -> HttpClient:
    return HttpClient.from_settings(
        {**FAST, **settings},
        base_url=server.url,
        headers={"Authorization": f"Bearer {SECRET}"},
        secrets=[SECRET],
    )


def test_get_json_sends_headers_and_query(provider):
    provider.route("/v1/things", Reply('{"ok": true, "value": 0.10}', content_type="application/json"))

    payload = client_for(provider).get_json("/v1/things", [("group_by", "a"), ("group_by", "b"), ("limit", 31)])

    assert payload["ok"] is True
    assert payload["value"] == Decimal("0.10") and isinstance(payload["value"], Decimal)  # money never via float
    (request,) = provider.requests
    assert request.query == {"group_by": ["a", "b"], "limit": ["31"]}
    assert request.headers["authorization"] == f"Bearer {SECRET}"
    assert "tollgate" in request.headers["user-agent"].lower()


@pytest.mark.parametrize("status", [401, 403, 404, 400])
def test_client_errors_are_not_retried_and_never_echo_the_credential(provider, status):
    provider.route("/v1/things", Reply({"error": {"message": f"Incorrect API key provided: {SECRET}"}}, status=status))

    with pytest.raises(ConnectorError) as caught:
        client_for(provider).get_json("/v1/things", {"limit": 1})

    error = caught.value
    assert error.transient is False
    assert f"HTTP {status}" in str(error)
    assert f"{provider.url}/v1/things?limit=1" in str(error)
    assert "Incorrect API key provided" in str(error)  # the provider's own message helps the admin
    assert SECRET not in str(error)
    assert len(provider.requests) == 1


def test_429_honours_retry_after_then_succeeds(provider):
    provider.route(
        "/v1/things",
        Reply({"error": {"message": "rate limited"}}, status=429, headers={"Retry-After": "1"}),
        Reply({"ok": True}),
    )

    started = time.monotonic()
    assert client_for(provider).get_json("/v1/things") == {"ok": True}

    assert time.monotonic() - started >= 0.9  # waited as told, not the tiny backoff
    assert len(provider.requests) == 2


def test_retry_after_is_capped(provider):
    provider.route("/v1/things", Reply(status=429, headers={"Retry-After": "3600"}), Reply({"ok": True}))

    started = time.monotonic()
    assert client_for(provider, max_retry_after=0.05).get_json("/v1/things") == {"ok": True}
    assert time.monotonic() - started < 2


def test_5xx_then_success(provider):
    provider.route("/v1/things", Reply("bad gateway", status=502), Reply("unavailable", status=503), Reply({"ok": 1}))

    assert client_for(provider).get_json("/v1/things") == {"ok": 1}
    assert len(provider.requests) == 3


def test_persistent_500_is_a_transient_error_after_max_attempts(provider):
    provider.route("/v1/things", Reply({"error": "boom"}, status=500))

    with pytest.raises(ConnectorError) as caught:
        client_for(provider).get_json("/v1/things")

    assert caught.value.transient is True
    assert "HTTP 500" in str(caught.value)
    assert "after 4 attempts" in str(caught.value)
    assert len(provider.requests) == 4


def test_max_attempts_is_a_setting(provider):
    provider.route("/v1/things", Reply(status=503))

    with pytest.raises(ConnectorError):
        client_for(provider, max_attempts=2).get_json("/v1/things")
    assert len(provider.requests) == 2


def test_timeout_is_retried_then_transient(provider):
    provider.route("/slow", Reply({"ok": True}, delay=0.5))

    with pytest.raises(ConnectorError) as caught:
        client_for(provider, timeout=0.1, max_attempts=2).get_json("/slow")

    assert caught.value.transient is True
    assert "network error after 2 attempts" in str(caught.value)
    assert len(provider.requests) == 2


def test_connection_refused_is_transient():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = HttpClient(base_url=f"http://127.0.0.1:{port}", backoff=0.001, max_attempts=2)

    with pytest.raises(ConnectorError) as caught:
        client.get_json("/v1/things")
    assert caught.value.transient is True
    assert f"127.0.0.1:{port}/v1/things" in str(caught.value)


def test_html_page_where_json_was_expected(provider):
    provider.route("/v1/things", Reply("<!DOCTYPE html><html><body>Sign in</body></html>", content_type="text/html"))

    with pytest.raises(ConnectorError) as caught:
        client_for(provider).get_json("/v1/things")

    message = str(caught.value)
    assert caught.value.transient is False
    assert "expected JSON" in message and "text/html" in message
    assert f"{provider.url}/v1/things" in message


def test_redirect_to_another_host_is_not_followed(provider):
    provider.route("/v1/things", Reply(status=302, headers={"Location": "http://evil.invalid/steal"}))

    with pytest.raises(ConnectorError) as caught:
        client_for(provider).get_json("/v1/things")
    assert "HTTP 302" in str(caught.value) and "evil.invalid" in str(caught.value)


def test_redirect_on_the_same_host_is_followed(provider):
    provider.route("/old", Reply(status=301, headers={"Location": "/new"}))
    provider.route("/new", Reply({"moved": True}))

    assert client_for(provider).get_json("/old") == {"moved": True}
    assert provider.requests_to("/new")[0].headers["authorization"] == f"Bearer {SECRET}"


# --- cursor pagination ---------------------------------------------------------------------------------------


def test_cursor_pages_are_followed_to_the_end(provider):
    provider.route(
        "/list",
        paged(
            {
                None: {"data": [1], "has_more": True, "next_page": "c2"},
                "c2": {"data": [2], "has_more": True, "next_page": "c3"},
                "c3": {"data": [3], "has_more": False, "next_page": None},
            }
        ),
    )

    pages = list(client_for(provider).pages_by_cursor("/list", [("limit", 31)]))

    assert [page["data"] for page in pages] == [[1], [2], [3]]
    assert [request.param("page") for request in provider.requests] == [None, "c2", "c3"]
    assert all(request.param("limit") == "31" for request in provider.requests)


def test_repeated_cursor_is_an_error(provider):
    provider.route(
        "/list",
        paged(
            {
                None: {"data": [], "has_more": True, "next_page": "c2"},
                "c2": {"data": [], "has_more": True, "next_page": "c3"},
                "c3": {"data": [], "has_more": True, "next_page": "c2"},
            }
        ),
    )

    with pytest.raises(ConnectorError) as caught:
        list(client_for(provider).pages_by_cursor("/list"))

    assert "cursor repeated (c2)" in str(caught.value)
    assert caught.value.transient is False
    assert len(provider.requests) == 3


def test_a_server_that_never_ends_stops_at_max_pages(provider):
    def endless(request: Recorded) -> Reply:
        number = int(request.param("page") or 0) + 1
        return Reply({"data": [number], "has_more": True, "next_page": str(number)})

    provider.route("/list", endless)

    with pytest.raises(ConnectorError) as caught:
        list(client_for(provider, max_pages=5).pages_by_cursor("/list"))

    assert "more than 5 pages" in str(caught.value)
    assert len(provider.requests) == 5


def test_has_more_without_a_cursor_is_an_error(provider):
    provider.route("/list", Reply({"data": [], "has_more": True, "next_page": None}))

    with pytest.raises(ConnectorError, match="has_more is true but next_page is empty"):
        list(client_for(provider).pages_by_cursor("/list"))


# --- Link header pagination ----------------------------------------------------------------------------------


def link_pages(server: ProviderServer, count: int, *, next_of=lambda number: number + 1) -> None:
    def handler(request: Recorded) -> Reply:
        number = int(request.param("page") or 1)
        headers = {}
        if number < count:
            target = next_of(number)
            headers["Link"] = (
                f'<{server.url}/items?per_page=2&page={target}>; rel="next", '
                f'<{server.url}/items?page={count}>; rel="last"'
            )
        return Reply({"page": number}, headers=headers)

    server.route("/items", handler)


def test_link_header_pages_are_followed(provider):
    link_pages(provider, 3)

    pages = list(client_for(provider).pages_by_link("/items", {"per_page": 2}))

    assert pages == [{"page": 1}, {"page": 2}, {"page": 3}]
    assert [request.param("page") for request in provider.requests] == [None, "2", "3"]


def test_link_header_loop_is_an_error(provider):
    link_pages(provider, 10, next_of=lambda number: 2)

    with pytest.raises(ConnectorError, match="repeats"):
        list(client_for(provider).pages_by_link("/items", {"per_page": 2}))
    assert len(provider.requests) == 2


def test_link_header_to_another_host_is_not_followed(provider):
    link = '<https://elsewhere.invalid/items?page=2>; rel="next"'
    provider.route("/items", Reply({"page": 1}, headers={"Link": link}))

    with pytest.raises(ConnectorError, match="another host"):
        list(client_for(provider).pages_by_link("/items"))


def test_link_header_pages_stop_at_max_pages(provider):
    link_pages(provider, 1000)

    with pytest.raises(ConnectorError, match="more than 4 pages"):
        list(client_for(provider, max_pages=4).pages_by_link("/items"))
    assert len(provider.requests) == 4


# --- pure helpers and settings -------------------------------------------------------------------------------


def test_retry_after_forms():
    now = datetime(2025, 6, 14, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("7") == 7
    assert retry_after_seconds("Sat, 14 Jun 2025 12:00:30 GMT", now=now) == 30
    assert retry_after_seconds("Sat, 14 Jun 2025 11:00:00 GMT", now=now) == 0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_parse_link_header():
    header = '<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=9>; rel="last"'
    assert parse_link_header(header) == {
        "next": "https://api.github.com/x?page=2",
        "last": "https://api.github.com/x?page=9",
    }
    assert parse_link_header(None) == {}


def test_settings_are_validated():
    with pytest.raises(ConnectorError) as caught:
        HttpClient.from_settings({"timeout": "soon"}, base_url="https://api.example.com")
    assert caught.value.location == "settings.timeout"

    with pytest.raises(ConnectorError) as caught:
        HttpClient.from_settings({}, base_url="ftp://api.example.com")
    assert caught.value.location == "settings.base_url"

    client = HttpClient.from_settings({"timeout": "12", "max_pages": 3}, base_url="https://api.example.com")
    assert (client.timeout, client.max_pages, client.max_attempts) == (12.0, 3, 4)
    assert HttpClient.from_settings({}, base_url="https://api.example.com").timeout == 30


def test_json_numbers_beyond_their_column_are_too_large():
    where = "OpenAI costs bucket 2025-06-14"
    assert json_decimal("999999999999.99", field="amount.value", location=where) == Decimal("999999999999.99")
    with pytest.raises(ConnectorError) as caught:
        json_decimal(1e13, field="amount.value", location=where)
    assert caught.value.location == f"{where} amount.value" and "is too large" in caught.value.message
    assert json_decimal(1e13, field="quantity", location=where, limit=QUANTITY_LIMIT) == Decimal("1E+13")
    assert json_int(2**63 - 1, field="input_tokens", location=where) == 2**63 - 1
    with pytest.raises(ConnectorError, match="input_tokens: 9223372036854775808 is too large"):
        json_int(2**63, field="input_tokens", location=where)
