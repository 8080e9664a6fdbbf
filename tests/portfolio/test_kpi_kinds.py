"""KPI kinds: the model's rule for stated KPIs, and the migration that gave existing KPIs the kind their name and
unit suggest (and its reverse)."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from portfolio.choices import KpiKind
from portfolio.models import KPI
from tests.factories import KPIFactory

migration = importlib.import_module("portfolio.migrations.0010_kpi_kind_of_existing_kpis")


@pytest.mark.parametrize(
    ("name", "unit", "kind"),
    [
        ("Containment rate", "%", "ratio"),
        ("Suggestion acceptance", "percent", "ratio"),
        ("CSAT of bot conversations", "", "ratio"),
        ("Relationship NPS", "NPS", "ratio"),
        ("Note quality", "points", "ratio"),
        ("Handler confidence score", "", "ratio"),
        ("Average handle time (e-mail)", "minutes", "per_outcome"),
        ("Handling effort", "minutes per e-mail", "per_outcome"),
        ("Hold time per call", "seconds", "per_outcome"),
        ("Keying time per document", "minutes", "per_outcome"),
        ("Cost per invoice", "USD", "per_outcome"),
        ("Effort", "hours per claim", "per_outcome"),
        ("Tickets deflected", "tickets", "count"),
        ("Quality analyst hours", "hours per month", "count"),
        ("Organic sessions", "per month", "count"),
        ("Recoveries pursued", "USD per month", "count"),
        ("Days to close", "days", "count"),
    ],
)
def test_existing_kpis_are_classified_by_name_and_unit(name, unit, kind):
    assert migration.kind_for(name, unit) == kind


@pytest.mark.django_db
def test_the_migration_sets_every_kpi_and_its_reverse_puts_them_back_to_count():
    rate = KPIFactory(name="Containment rate", unit="%")
    handle = KPIFactory(name="Average handle time", unit="minutes")
    deflected = KPIFactory(name="Tickets deflected", unit="tickets")
    migration.classify(apps, None)
    assert [KPI.objects.get(pk=k.pk).kind for k in (rate, handle, deflected)] == ["ratio", "per_outcome", "count"]
    migration.back_to_count(apps, None)
    assert set(KPI.objects.values_list("kind", flat=True)) == {"count"}


@pytest.mark.django_db
def test_a_stated_kpi_refuses_a_value_per_unit():
    kpi = KPIFactory.build(kind=KpiKind.STATED, value_per_unit=Decimal("2"), initiative=KPIFactory().initiative)
    with pytest.raises(ValidationError) as error:
        kpi.full_clean()
    assert set(error.value.message_dict) == {"value_per_unit"}
    kpi.value_per_unit = None
    kpi.full_clean()
    assert kpi.value_per_unit_label == ""


def test_the_value_per_unit_is_labelled_by_kind():
    labels = {kind: KPI(kind=kind).value_per_unit_label for kind in KpiKind.values}
    assert labels == {"count": "value per unit (USD)", "per_outcome": "value per unit per outcome (USD)",
                      "ratio": "value per point (USD)", "stated": ""}
