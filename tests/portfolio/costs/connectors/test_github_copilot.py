"""GitHub Copilot seats connector against a local server paging with Link headers, as GitHub does."""

from __future__ import annotations

from datetime import date

import pytest

from portfolio.costs.connectors.base import ConnectorError, Period
from portfolio.costs.connectors.github_copilot import GitHubCopilotConnector
from tests.portfolio.costs.connectors.conftest import FAST, Recorded, Reply, fixture_json

TOKEN = "ghp_SECRETtoken0123456789"
JUNE = Period.month(2025, 6)
SEATS = "/orgs/contoso/copilot/billing/seats"


def serve_seat_pages(provider) -> None:
    def handler(request: Recorded) -> Reply:
        if request.param("page") in (None, "1"):
            page_2 = f"{provider.url}{SEATS}?per_page=100&page=2"
            link = f'<{page_2}>; rel="next", <{page_2}>; rel="last"'
            return Reply(fixture_json("github/seats_page1.json"), headers={"Link": link})
        return Reply(
            fixture_json("github/seats_page2.json"),
            headers={"Link": f'<{provider.url}{SEATS}?per_page=100&page=1>; rel="prev"'},
        )

    provider.route(SEATS, handler)


def connector(provider, **settings) -> GitHubCopilotConnector:
    settings = {"base_url": provider.url, "org": "contoso", **FAST, **settings}
    return GitHubCopilotConnector(settings=settings, credential=TOKEN)


def test_reads_all_seat_pages(provider):
    serve_seat_pages(provider)
    reader = connector(provider)

    seats = list(reader.read(JUNE))

    assert [seat.user for seat in seats] == ["jdoe", "former-contractor", "new-hire", "asmith"]
    assert (reader.rows_read, reader.rows_skipped) == (5, 1)  # the seat without an assignee is skipped
    first, second = provider.requests_to(SEATS)
    assert first.param("per_page") == "100" and first.param("page") is None
    assert second.param("page") == "2"


def test_seat_rows_are_normalised(provider):
    serve_seat_pages(provider)

    jdoe, former, new_hire, asmith = connector(provider).read(JUNE)

    assert (jdoe.assigned, jdoe.last_activity, jdoe.keys) == (True, date(2025, 6, 13), {"team": "search-team"})
    assert former.assigned is False  # pending cancellation date already passed
    assert former.keys == {}  # assigned directly, no assigning_team
    assert (new_hire.assigned, new_hire.last_activity, new_hire.keys) == (True, None, {})
    assert asmith.assigned is True  # cancellation pending in the future: still holds the seat
    assert asmith.last_activity == date(2025, 6, 12)  # 23:59:59+02:00 is 21:59:59 UTC
    assert asmith.keys == {"team": "platform"}


def test_sends_token_and_api_version(provider):
    serve_seat_pages(provider)

    list(connector(provider).read(JUNE))

    for request in provider.requests_to(SEATS):
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert request.headers["x-github-api-version"] == "2022-11-28"
        assert request.headers["accept"] == "application/vnd.github+json"


def test_enterprise_seats(provider):
    provider.route("/enterprises/contoso-ent/copilot/billing/seats", Reply(fixture_json("github/seats_page2.json")))

    seats = list(
        GitHubCopilotConnector(
            settings={"base_url": provider.url, "enterprise": "contoso-ent", **FAST}, credential=TOKEN
        ).read(JUNE)
    )
    assert [seat.user for seat in seats] == ["asmith"]


@pytest.mark.parametrize("status", [401, 403, 404])
def test_client_errors_name_the_status(provider, status):
    body = {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
    provider.route(SEATS, Reply(body, status=status))

    with pytest.raises(ConnectorError) as caught:
        list(connector(provider).read(JUNE))

    assert caught.value.transient is False
    assert f"HTTP {status}" in str(caught.value) and "Bad credentials" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_secondary_rate_limit_is_retried(provider):
    provider.route(
        SEATS,
        Reply({"message": "API rate limit exceeded"}, status=429, headers={"Retry-After": "0"}),
        Reply(fixture_json("github/seats_page2.json")),
    )

    assert [seat.user for seat in connector(provider).read(JUNE)] == ["asmith"]


def test_link_that_loops_is_an_error(provider):
    provider.route(
        SEATS,
        lambda request: Reply(
            fixture_json("github/seats_page2.json"),
            headers={"Link": f'<{provider.url}{SEATS}?per_page=100&page=2>; rel="next"'},
        ),
    )

    with pytest.raises(ConnectorError, match="repeats"):
        list(connector(provider).read(JUNE))


def test_org_is_required():
    with pytest.raises(ConnectorError) as caught:
        list(GitHubCopilotConnector(settings={}, credential=TOKEN).read(JUNE))
    assert caught.value.location == "settings.org"
