"""Migration 0038: the empty business cases that saving the form created are removed where nothing depends on them."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.apps import apps

from portfolio.choices import Stage
from portfolio.models import AuditEntryInitiative, BusinessCase, BusinessCaseVersion
from tests.factories import BusinessCaseFactory, InitiativeFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("portfolio.migrations.0043_remove_empty_business_cases")


def test_empty_cases_of_never_approved_initiatives_are_removed_and_audited(owner):
    empty = BusinessCase.objects.create(initiative=InitiativeFactory(owner=owner))  # as the form made it: all $0.00
    with_figures = BusinessCaseFactory(initiative=InitiativeFactory(owner=owner))
    one_amount = BusinessCase.objects.create(initiative=InitiativeFactory(owner=owner), tco_storage=Decimal("5"))
    one_text = BusinessCase.objects.create(initiative=InitiativeFactory(owner=owner), problem="Keyed by hand.")
    running = BusinessCase.objects.create(initiative=InitiativeFactory(owner=owner, stage=Stage.PILOT))
    versioned_initiative = InitiativeFactory(owner=owner)
    versioned = BusinessCase.objects.create(initiative=versioned_initiative)
    BusinessCaseVersion.objects.create(initiative=versioned_initiative, number=1, figures={}, kpis=[])

    migration.remove_empty_cases(apps, None)

    kept = set(BusinessCase.objects.values_list("pk", flat=True))
    assert kept == {with_figures.pk, one_amount.pk, one_text.pk, running.pk, versioned.pk}
    (entry,) = LogEntry.objects.filter(additional_data__event=migration.EVENT)
    assert (entry.object_id, entry.action, entry.additional_data["initiative"]) == (
        empty.pk, LogEntry.Action.DELETE, empty.initiative_id)
    assert AuditEntryInitiative.objects.get(entry=entry).initiative_id == empty.initiative_id

    migration.restore_empty_cases(apps, None)
    assert BusinessCase.objects.filter(initiative_id=empty.initiative_id).exists()
    migration.remove_empty_cases(apps, None)  # again: the restored one goes, audited once more
    assert not BusinessCase.objects.filter(initiative_id=empty.initiative_id).exists()
