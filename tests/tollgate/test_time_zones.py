"""Pages show times in the signed-in person's time zone; the API with a token keeps the server's."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from celery import shared_task
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from portfolio.services import api_token_issue, profile_notifications_set
from reviews.models import Notification
from tollgate.time_zones import SESSION_KEY

pytestmark = pytest.mark.django_db

AT = datetime(2027, 1, 15, 23, 30, tzinfo=UTC)


def _notification_time(client) -> str:
    page = client.get(reverse("reviews:notification_list")).content.decode()
    assert "Your cycle opened" in page
    return "2027-01-16 08:30" if "2027-01-16 08:30" in page else "2027-01-15 23:30" if "2027-01-15 23:30" in page \
        else "neither"


@pytest.fixture
def notified(owner):
    Notification.objects.create(user=owner, message="Your cycle opened", created_at=AT)
    return owner


def test_a_person_sees_times_in_their_own_time_zone(client, notified):
    client.force_login(notified)
    assert _notification_time(client) == "2027-01-15 23:30"  # the server's, UTC
    response = client.post(reverse("account_notifications"), {"notification_email": "each",
                                                               "time_zone": "Asia/Tokyo"}, follow=True)
    page = response.content.decode()
    assert "times shown in Asia/Tokyo" in page and "Dates and times are now shown in Asia/Tokyo." in page
    now_there = timezone.localtime(timezone.now(), timezone.get_fixed_timezone(9 * 60)).strftime("%Y-%m-%d")
    assert f"it is {now_there}" in page.split('id="time-zone-now"', 1)[1]
    assert _notification_time(client) == "2027-01-16 08:30"  # without signing in again
    # and back to the server's
    back = client.post(reverse("account_notifications"), {"notification_email": "daily", "time_zone": ""},
                       follow=True).content.decode()
    assert "Dates and times are now shown in UTC, the server&#x27;s time zone." in back
    assert _notification_time(client) == "2027-01-15 23:30"
    unchanged = client.post(reverse("account_notifications"), {"notification_email": "each", "time_zone": ""},
                            follow=True).content.decode()
    assert "Dates and times are now" not in unchanged
    assert timezone.get_current_timezone_name() == settings.TIME_ZONE  # nothing stays active after a request


def test_the_zone_is_read_on_signing_in_not_on_every_page(client, notified, django_assert_max_num_queries):
    profile_notifications_set(actor=notified, user=notified, email="each", time_zone="Asia/Tokyo")
    client.force_login(notified)
    assert _notification_time(client) == "2027-01-16 08:30"
    assert client.session[SESSION_KEY] == "Asia/Tokyo"
    with django_assert_max_num_queries(50) as page:
        assert client.get(reverse("portfolio:initiative_list")).status_code == 200
    assert not [q for q in page.captured_queries if "portfolio_profile" in q["sql"]]
    fresh = type(client)()  # signing in reads it: the first page needs no lookup either
    fresh.force_login(notified)
    assert fresh.session[SESSION_KEY] == "Asia/Tokyo"
    session = fresh.session  # a session from before the zone was kept in it: looked up once
    del session[SESSION_KEY]
    session.save()
    assert _notification_time(fresh) == "2027-01-16 08:30" and fresh.session[SESSION_KEY] == "Asia/Tokyo"


def test_a_zone_the_server_no_longer_knows_falls_back_to_the_server_s(client, notified):
    client.force_login(notified)
    session = client.session
    session[SESSION_KEY] = "Atlantis/Capital"
    session.save()
    assert _notification_time(client) == "2027-01-15 23:30"


def test_an_api_token_answers_in_the_server_s_zone_a_session_in_the_person_s(client, api_client, owner):
    profile_notifications_set(actor=owner, user=owner, email="each", time_zone="Asia/Tokyo")
    _token, key = api_token_issue(actor=owner, user=owner, name="Spreadsheet", days=30)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    expiry = api_client.get(reverse("api_me")).json()["token"]["expiry"]
    assert expiry.endswith(("Z", "+00:00")), expiry
    client.force_login(owner)
    assert "times shown in Asia/Tokyo" in client.get(reverse("account")).content.decode()


@shared_task(name="tests.tollgate.zone_seen")
def zone_seen() -> str:
    return timezone.get_current_timezone_name()


def test_a_job_run_inside_someone_s_request_computes_in_the_server_s_zone():
    """In-process (no broker), a job runs inside the request of a person whose pages show Tokyo; its "today" and
    months must be the server's, as on a worker, and the request's zone comes back after it."""
    with timezone.override(ZoneInfo("Asia/Tokyo")):
        assert zone_seen.delay().get() == settings.TIME_ZONE
        assert timezone.get_current_timezone_name() == "Asia/Tokyo"
    assert zone_seen.delay().get() == settings.TIME_ZONE


def test_the_account_page_offers_cities_not_old_aliases_but_keeps_one_chosen_before(client, owner):
    client.force_login(owner)
    page = client.get(reverse("account")).content.decode()
    assert '<option value="Asia/Tokyo">' in page and '<option value="US/Eastern"' not in page
    profile_notifications_set(actor=owner, user=owner, email="each", time_zone="US/Eastern")
    assert '<option value="US/Eastern" selected>' in client.get(reverse("account")).content.decode()
