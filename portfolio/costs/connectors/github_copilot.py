"""GitHub Copilot seat assignments with last activity (FORMATS.md section 4).

GitHub returns no prices: a licence pool's cost is seats purchased x the contract price, which the ingestion
pipeline records. This connector only says who holds a seat and when they last used it. The seat list is a
snapshot of today, so the period does not filter it.

Settings: `org` (or `enterprise` for the enterprise-wide list), `base_url` (default https://api.github.com),
plus the HTTP client's (see portfolio.costs.connectors.http). The credential is a token with `manage_billing:copilot`
or `read:org`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote

from portfolio.costs.connectors.base import SKIPPED_NO_ASSIGNEE, ConnectorBase, ConnectorError, Period, Row, SeatRow
from portfolio.costs.connectors.http import HttpClient, json_date, json_objects

DEFAULT_BASE_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
PER_PAGE = 100  # GitHub's maximum; its default is 50


class GitHubCopilotConnector(ConnectorBase):
    """Copilot seats of an organisation (or enterprise), one SeatRow per assignee."""

    type: ClassVar[str] = "github_copilot"
    reads_files: ClassVar[bool] = False


    def seats_path(self) -> str:
        org, enterprise = self.settings.get("org"), self.settings.get("enterprise")
        if org:
            return f"/orgs/{quote(str(org), safe='')}/copilot/billing/seats"
        if enterprise:
            return f"/enterprises/{quote(str(enterprise), safe='')}/copilot/billing/seats"
        raise ConnectorError("the GitHub organisation is required", location="settings.org")

    def read(self, period: Period, *, path: Path | None = None) -> Iterator[Row]:
        seats_path = self.seats_path()
        if not self.credential:
            raise ConnectorError("a GitHub token is required", location="credential")
        client = HttpClient.from_settings(
            self.settings,
            base_url=str(self.settings.get("base_url") or DEFAULT_BASE_URL),
            headers={
                "Authorization": f"Bearer {self.credential}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
            },
            secrets=[self.credential],
        )
        today = datetime.now(tz=UTC).date()
        number = 0
        for page_number, page in enumerate(client.pages_by_link(seats_path, {"per_page": PER_PAGE}), start=1):
            if not isinstance(page, dict):
                raise ConnectorError("expected an object {total_seats, seats}", location=f"GET {seats_path}")
            for seat in json_objects(page, "seats", location=f"GET {seats_path} page {page_number}"):
                number += 1
                self.rows_read += 1
                location = f"GitHub Copilot seat {number}"
                assignee = seat.get("assignee")
                login = assignee.get("login") if isinstance(assignee, dict) else None
                if not login:
                    self.skip(SKIPPED_NO_ASSIGNEE)
                    continue
                cancellation = json_date(
                    seat.get("pending_cancellation_date"), field="pending_cancellation_date", location=location
                )
                team = seat.get("assigning_team")
                slug = team.get("slug") if isinstance(team, dict) else None
                yield SeatRow(
                    user=str(login),
                    assigned=cancellation is None or cancellation >= today,
                    last_activity=json_date(seat.get("last_activity_at"), field="last_activity_at", location=location),
                    keys={"team": str(slug)} if slug else {},
                    location=f"{location} ({login})",
                )
