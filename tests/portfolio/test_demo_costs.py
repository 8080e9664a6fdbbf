"""The demo company's cost data: a year read through the real connectors, allocated by rules, some unallocated."""

from __future__ import annotations

import json
import random
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum

from portfolio.choices import RunStatus
from portfolio.demo import costs
from portfolio.models import CostRecord, IngestionRun, MonthlyCost


def test_demo_months_are_the_year_before_the_reference_date() -> None:
    months = costs.demo_months()
    assert [months[0].label, months[-1].label] == ["2025-10", "2026-09"]
    assert len(months) == 12


def test_focus_month_mixes_ai_non_ai_unmapped_and_a_credit() -> None:
    """The generated export holds what the connector must sort out: skipped rows, unmapped tags, a credit."""
    period = costs.demo_months()[-1]
    rows = costs.focus_rows(period, random.Random(1))
    assert len(rows) >= 200
    services = {r["ServiceName"] for r in rows}
    assert {"Azure OpenAI", "Azure Machine Learning", "Virtual Machines"} <= services
    assert any(r["ChargeCategory"] == "Credit" and Decimal(r["EffectiveCost"]) < 0 for r in rows)
    tags = {json.loads(r["Tags"]).get("project") for r in rows if r["Tags"] != "NULL"}
    assert set(costs.UNMAPPED_AZURE_PROJECTS) <= tags
    assert all(period.contains(date.fromisoformat(r["ChargePeriodStart"][:10])) for r in rows)


@pytest.mark.django_db
def test_load_demo_ingests_a_year_of_costs_through_the_connectors() -> None:
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "Costs: 12 months ingested from 2 sources;" in out.getvalue()

    runs = IngestionRun.objects.filter(source__name__in=costs.SOURCE_NAMES)
    assert runs.count() == 24
    assert set(runs.values_list("status", flat=True)) == {RunStatus.SUCCEEDED}
    assert runs.filter(rows_skipped__gt=0, source__name=costs.FOCUS_SOURCE).count() == 12  # non-AI rows skipped

    september = costs.demo_months()[-1].start
    allocated = MonthlyCost.objects.filter(month=september, initiative__isnull=False)
    assert allocated.values("initiative").distinct().count() >= 10
    unallocated = MonthlyCost.objects.filter(month=september, initiative__isnull=True).aggregate(s=Sum("amount"))["s"]
    assert unallocated and unallocated > 0

    report = StringIO()
    call_command("cost_report", "--period", "2026-09", "--json", stdout=report)
    figures = json.loads(report.getvalue())
    assert Decimal(str(figures["unallocated"])) == unallocated
    total_allocated = allocated.aggregate(s=Sum("amount"))["s"]
    assert Decimal(str(figures["total"])) == total_allocated + unallocated
    assert Decimal(str(figures["total"])) == sum(
        (Decimal(str(v)) for v in figures["initiatives"].values()), Decimal(str(figures["unallocated"]))
    )

    before = (IngestionRun.objects.count(), CostRecord.objects.count())
    call_command("load_demo", stdout=StringIO())
    call_command("load_demo", "--sync", stdout=StringIO())
    assert (IngestionRun.objects.count(), CostRecord.objects.count()) == before
