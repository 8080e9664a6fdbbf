"""The nightly check of cost sources: administrators are told, in the app and by e-mail, about each source behind its
schedule, once per source and month owed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from governance.models import StaleSourceAlert
from governance.services import stale_sources_notify
from governance.tasks import stale_sources_notify_task
from reviews.models import Notification
from tests.factories import UserFactory
from tests.portfolio.costs.factories import CostSourceFactory, IngestionRunFactory, source_added
from tollgate.celery import app
from tollgate.roles import Role

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
OCTOBER, NOVEMBER = date(2026, 10, 1), date(2026, 11, 1)


def delivered(source, first: date, last: date) -> None:
    month = first
    while month <= last:
        IngestionRunFactory(source=source, period=month, finished_at=datetime(2026, 10, 2, tzinfo=UTC))
        month = (month + timedelta(days=32)).replace(day=1)


@pytest.fixture
def sources(db):
    """azure-focus read up to September (the issue's case), openai-org up to November, a disabled OpenCost source."""
    added = datetime(2025, 9, 20, tzinfo=UTC)
    focus = source_added(CostSourceFactory(name="azure-focus", schedule="monthly"), added)
    openai = source_added(CostSourceFactory(name="openai-org", type="openai", schedule="monthly"), added)
    opencost = source_added(CostSourceFactory(name="opencost-gpu", type="opencost", enabled=False), added)
    delivered(focus, date(2025, 10, 1), date(2026, 9, 1))
    delivered(openai, date(2025, 10, 1), NOVEMBER)
    return focus, openai, opencost


@pytest.fixture
def superuser(db):
    return UserFactory(username="sam.superuser@example.com", is_superuser=True, is_staff=True)


def test_administrators_are_told_once_per_source_and_month(
    sources, admin_user, superuser, owner, reviewer, django_capture_on_commit_callbacks
):
    focus, _, _ = sources
    with django_capture_on_commit_callbacks(execute=True):
        assert stale_sources_notify(now=NOW) == 1

    message = ("Cost source azure-focus: missing 2026-10, 2026-11; late: 2026-11 was due by 2026-12-04 and is not "
               "read yet.")
    url = reverse("portfolio:costsource_detail", args=[focus.pk])
    assert set(Notification.objects.values_list("user__username", "message", "url")) == {
        (admin_user.username, message, url), (superuser.username, message, url)}  # owners and reviewers: nothing
    assert sorted(m.to[0] for m in mail.outbox) == sorted([admin_user.email, superuser.email])
    assert mail.outbox[0].subject == "Tollgate: cost sources behind their schedule"
    assert message in mail.outbox[0].body and f"{settings.SITE_URL}{url}" in mail.outbox[0].body
    assert set(StaleSourceAlert.objects.values_list("source__name", "month")) == {
        ("azure-focus", OCTOBER), ("azure-focus", NOVEMBER)}

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert stale_sources_notify(now=NOW + timedelta(hours=24)) == 0  # the next night: nothing new
    assert Notification.objects.count() == 2 and mail.outbox == []


def test_a_source_is_told_about_again_when_it_owes_another_month(sources, admin_user):
    stale_sources_notify(now=NOW)
    assert stale_sources_notify(now=datetime(2027, 1, 5, tzinfo=UTC)) == 2  # December now owed by both
    assert set(StaleSourceAlert.objects.values_list("source__name", "month")) == {
        ("azure-focus", OCTOBER), ("azure-focus", NOVEMBER), ("azure-focus", date(2026, 12, 1)),
        ("openai-org", date(2026, 12, 1))}
    assert Notification.objects.filter(user=admin_user).count() == 3


def test_a_late_daily_source_is_told_once_for_the_current_month(sources, admin_user):
    _, openai, _ = sources
    openai.schedule = "daily"
    openai.save()
    IngestionRunFactory(source=openai, period=date(2026, 12, 1), finished_at=datetime(2026, 12, 1, 1, tzinfo=UTC))
    stale_sources_notify(now=datetime(2026, 12, 9, tzinfo=UTC))
    alert = StaleSourceAlert.objects.get(source=openai)
    assert alert.month == date(2026, 12, 1) and "no successful read since 2026-12-01" in alert.reason
    assert alert.recipients == [admin_user.email]
    assert stale_sources_notify(now=datetime(2026, 12, 20, tzinfo=UTC)) == 0


def test_nothing_is_recorded_while_there_is_no_administrator(sources, owner):
    assert stale_sources_notify(now=NOW) == 0
    assert not StaleSourceAlert.objects.exists() and not Notification.objects.exists()


def test_on_time_and_disabled_sources_are_not_reported(sources, admin_user):
    focus, _, _ = sources
    delivered(focus, OCTOBER, NOVEMBER)
    assert stale_sources_notify(now=NOW) == 0
    assert not Notification.objects.exists()


def test_the_check_runs_nightly(sources, admin_user):
    entry = app.conf.beat_schedule["ingestion-stale-sources-nightly"]
    assert entry["task"] == stale_sources_notify_task.name == "governance.tasks.stale_sources_notify_task"
    assert stale_sources_notify_task.delay().get() >= 1  # azure-focus at least: months behind, whatever the date
    assert stale_sources_notify_task.delay().get() == 0


def test_administrators_are_the_admin_group_and_superusers(admin_user, superuser, reviewer):
    from governance.selectors import administrators

    inactive = UserFactory(username="ina.admin@example.com", role=Role.ADMIN, is_active=False)
    assert administrators() == sorted([admin_user, superuser], key=lambda user: user.pk)
    assert inactive not in administrators()
