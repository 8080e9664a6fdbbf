"""The data migration merging a signal an earlier computation raised afresh beside the row a run had resolved for the
same subject and period (governance/migrations/0024_merge_duplicate_signal_pairs.py), run on rows made here."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.utils import timezone

from governance.choices import SignalStatus
from governance.models import Signal
from reviews.models import Notification
from tests.factories import InitiativeFactory, UserFactory
from tests.governance.signals.factories import SignalFactory

pytestmark = pytest.mark.django_db

AUTOMATIC = "condition no longer holds"


def merge() -> int:
    return import_module("governance.migrations.0024_merge_duplicate_signal_pairs").merge_duplicate_signal_pairs(apps)


def test_a_resolved_and_an_open_row_of_one_subject_and_period_become_the_open_one():
    now = timezone.now()
    first, second = InitiativeFactory(), InitiativeFactory()
    owner = UserFactory()
    resolved = SignalFactory(subject="cost_overrun:NW-0001", period="2026-Q3", status=SignalStatus.RESOLVED,
                             resolution=AUTOMATIC, resolved_at=now - timedelta(days=3),
                             first_seen_at=now - timedelta(days=30))
    resolved.initiatives.add(first)
    live = SignalFactory(subject="cost_overrun:NW-0001", period="2026-Q3", status=SignalStatus.ACKNOWLEDGED,
                         acknowledged_by=owner, first_seen_at=now - timedelta(days=1))
    live.initiatives.add(second)
    link = Notification.objects.create(user=owner, message="A signal", url=resolved.get_absolute_url())
    # Left alone: another period, a person's resolution, a different subject.
    other_period = SignalFactory(subject="cost_overrun:NW-0001", period="2026-Q2", status=SignalStatus.RESOLVED,
                                 resolution=AUTOMATIC)
    by_a_person = SignalFactory(subject="cost_overrun:NW-0002", period="2026-Q3", status=SignalStatus.RESOLVED,
                                resolved_by=owner, resolution="Renegotiated the contract.")
    SignalFactory(subject="cost_overrun:NW-0002", period="2026-Q3")

    assert merge() == 1

    assert not Signal.objects.filter(pk=resolved.pk).exists()
    live.refresh_from_db()
    assert live.status == SignalStatus.ACKNOWLEDGED and live.acknowledged_by == owner
    assert live.first_seen_at == resolved.first_seen_at  # the earliest raised date
    assert set(live.initiatives.all()) == {first, second}
    link.refresh_from_db()
    assert link.url == live.get_absolute_url()
    assert Signal.objects.filter(pk__in=[other_period.pk, by_a_person.pk]).count() == 2
    entry = LogEntry.objects.get(additional_data__event="signal_merged")
    assert entry.object_id == live.pk and entry.actor is None
    assert entry.additional_data["merged_ids"] == [resolved.pk]
    assert "first_seen_at" in entry.changes

    assert merge() == 0  # running it again changes nothing
    assert LogEntry.objects.filter(additional_data__event="signal_merged").count() == 1
