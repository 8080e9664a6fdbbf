"""Sign-in addresses in the audit trail are personal data: administrators see them (page, CSV, API); CoE reviewers
and executives, who read the rest of the trail, do not."""

from __future__ import annotations

import io
from csv import DictReader

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from portfolio.services import login_lock_clear

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.9"


@pytest.fixture
def unlocked(owner, admin_user):
    attempt = AccessAttempt.objects.create(username=owner.username, ip_address=ADDRESS, user_agent="curl",
                                           http_accept="*/*", path_info="/accounts/login/", failures_since_start=5)
    assert login_lock_clear(actor=admin_user, attempts=[attempt], source="admin") == 1


def csv_rows(client) -> list[dict[str, str]]:
    response = client.get(reverse("governance:audit"), {"_export": "csv", "event": "login_lock_cleared"})
    return list(DictReader(io.StringIO(response.content.decode())))


def api_entries(api_client, user) -> list[dict]:
    api_client.force_authenticate(user)
    response = api_client.get(reverse("governance_api:auditentry-list"), {"event": "login_lock_cleared"})
    return response.json()["results"]


def test_an_administrator_sees_the_address(unlocked, login, api_client, admin_user):
    client = login(admin_user)
    page = client.get(reverse("governance:audit"), {"event": "login_lock_cleared"}).content.decode()
    assert "Sign-in address" in page and ADDRESS in page
    [row] = csv_rows(client)
    assert row["Sign-in address"] == ADDRESS
    [entry] = api_entries(api_client, admin_user)
    assert entry["additional_data"]["ip_address"] == ADDRESS


@pytest.mark.parametrize("role", ["reviewer", "executive"])
def test_reviewers_and_executives_see_no_address(unlocked, login, api_client, request, role):
    user = request.getfixturevalue(role)
    client = login(user)
    page = client.get(reverse("governance:audit"), {"event": "login_lock_cleared"})
    assert page.status_code == 200
    assert "Sign-in address" not in page.content.decode() and ADDRESS not in page.content.decode()
    [row] = csv_rows(client)
    assert "Sign-in address" not in row and ADDRESS not in ",".join(row.values())
    [entry] = api_entries(api_client, user)
    assert "ip_address" not in entry["additional_data"]
    assert entry["additional_data"]["username"]  # the rest of the row is still there
    assert ADDRESS not in str(entry)
