"""The demo company's cost data: a year read through the real connectors, allocated by rules, some unallocated."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

from django.core.management import call_command
from django.db.models import Sum

from portfolio.choices import CostCategory, RunStatus, SourceType
from portfolio.costs.connectors.anthropic import AnthropicConnector
from portfolio.costs.connectors.base import CostRow, Period, SeatRow, UsageRow
from portfolio.costs.connectors.m365_copilot import M365CopilotConnector
from portfolio.costs.connectors.opencost import OpenCostConnector
from portfolio.models import (
    CostRecord,
    CostSource,
    IngestionRun,
    LicencePool,
    LicencePoolActivity,
    MonthlyCost,
    MonthlyTokenUsage,
    SeatActivity,
    UsageRecord,
)
from tollgate.demo import costs, providers


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


def test_anthropic_reports_follow_the_documented_shape() -> None:
    """Amounts are cent strings per workspace and description; the default workspace is null; usage has API keys."""
    period = costs.demo_months()[-1]
    cost_report, usage_report = providers.anthropic_reports(period, random.Random(1))
    assert len(cost_report["data"]) == 30 and cost_report["has_more"] is False
    bucket = cost_report["data"][0]
    assert bucket["starting_at"] == "2026-09-01T00:00:00Z" and bucket["ending_at"] == "2026-09-02T00:00:00Z"
    result = bucket["results"][0]
    assert Decimal(result["amount"]) == Decimal(result["amount"]).quantize(Decimal("0.01"))
    assert result["currency"] == "USD" and result["description"].startswith("Claude")
    workspaces = {r["workspace_id"] for r in bucket["results"]}
    assert None in workspaces and providers.ANTHROPIC_SANDBOX in workspaces
    assert set(providers.anthropic_workspaces()) & workspaces
    usage = usage_report["data"][0]["results"]
    assert all(r["api_key_id"] is None for r in usage if r["workspace_id"] is None)  # Workbench use has no key
    assert all(r["api_key_id"].startswith("apikey_01") for r in usage if r["workspace_id"] is not None)


def test_opencost_response_has_a_map_per_day_with_idle_and_shared_namespaces() -> None:
    period = costs.demo_months()[-1]
    response = providers.opencost_response(period, random.Random(1))
    assert response["code"] == 200 and len(response["data"]) == 30
    day = response["data"][0]
    assert {"__idle__", *providers.OPENCOST_UNMAPPED} <= set(day)
    allocation = next(a for name, a in day.items() if name in providers.opencost_namespaces())
    parts = ("cpuCost", "gpuCost", "ramCost", "pvCost", "networkCost")
    assert round(sum(allocation[p] for p in parts), 2) == allocation["totalCost"]
    assert allocation["gpuHours"] > 0 and allocation["window"]["start"] == "2026-09-01T00:00:00Z"


def test_copilot_rollouts_fill_their_pools_over_the_year() -> None:
    months = costs.demo_months()
    github = providers.seat_months(providers.GITHUB_POOL, months)
    assert github[0].label == "2025-12" and github[-1] == months[-1]  # from the month the rollout started
    first = providers.github_seat_pages(github[0], months, 640, random.Random(1))
    last = providers.github_seat_pages(github[-1], months, 640, random.Random(1))
    assert first[0]["total_seats"] < last[0]["total_seats"] <= 640
    assert all(len(page["seats"]) <= providers.GITHUB_PAGE for page in last) and len(last) > 1
    logins = [seat["assignee"]["login"] for page in last for seat in page["seats"]]
    assert len(set(logins)) == len(logins)


def test_demo_files_and_responses_read_cleanly_through_the_connectors(tmp_path, monkeypatch) -> None:
    """The generated M365 export is read by the real connector; the API bodies parse as the connectors expect."""
    months = costs.demo_months()
    period = months[-1]
    path = providers.write_m365_report(tmp_path, period, months, 2400, random.Random(1))
    seats = list(M365CopilotConnector(settings={}).read(period, path=path))
    assert 2000 < len(seats) <= 2400 and all(isinstance(s, SeatRow) for s in seats)
    active = [s for s in seats if s.last_activity and s.last_activity >= period.end - timedelta(days=30)]
    assert 0.3 < len(active) / len(seats) < 0.45  # bought for everyone, used by a third: the licence-waste signal
    assert providers.M365_COLUMNS[0] == path.read_text(encoding="utf-8-sig").split(",", 1)[0]

    cost_report, usage_report = providers.anthropic_reports(period, random.Random(1))
    opencost = providers.opencost_response(period, random.Random(1))
    served = {"/v1/organizations/cost_report": cost_report, "/v1/organizations/usage_report/messages": usage_report,
              "/allocation/compute": opencost}
    api = costs._DemoApi()
    with api.running():
        api.bodies = served
        settings = {"base_url": api.url, "max_attempts": 1}
        anthropic_rows = list(AnthropicConnector(settings=settings, credential="demo").read(period))
        opencost_connector = OpenCostConnector(settings=settings)
        opencost_rows = list(opencost_connector.read(period))
    assert {type(r) for r in anthropic_rows} == {CostRow, UsageRow}
    anthropic_cost = sum((r.amount for r in anthropic_rows if isinstance(r, CostRow)), Decimal("0"))
    cents = sum(Decimal(r["amount"]) for bucket in cost_report["data"] for r in bucket["results"])
    assert anthropic_cost == cents / 100
    assert {r.keys["workspace_id"] for r in anthropic_rows} >= {"default", providers.ANTHROPIC_SANDBOX}
    assert opencost_connector.rows_skipped == 30  # one idle allocation a day
    assert all(r.category == CostCategory.COMPUTE and r.gpu_hours is not None for r in opencost_rows)


def test_load_demo_ingests_a_year_of_costs_through_the_connectors(demo) -> None:
    # What load_demo printed when it built the company for this session.
    assert "Costs: 12 months ingested from 6 sources;" in demo.output
    assert "Latest month 2026-09:" in demo.output

    # Every source type has its own demo source, with a successful run for each month it was live.
    sources = CostSource.objects.filter(name__in=costs.SOURCE_NAMES)
    assert set(sources.values_list("type", flat=True)) == set(SourceType.values) - {SourceType.CSV}
    runs = IngestionRun.objects.filter(source__name__in=costs.SOURCE_NAMES)
    assert set(runs.values_list("status", flat=True)) == {RunStatus.SUCCEEDED}
    per_source = {name: runs.filter(source__name=name).count() for name in costs.SOURCE_NAMES}
    assert per_source == {costs.FOCUS_SOURCE: 12, costs.OPENAI_SOURCE: 12, costs.ANTHROPIC_SOURCE: 12,
                          costs.OPENCOST_SOURCE: 12, costs.GITHUB_SOURCE: 10, costs.M365_SOURCE: 12}
    assert runs.filter(rows_skipped__gt=0, source__name=costs.FOCUS_SOURCE).count() == 12  # non-AI rows skipped
    for run in runs.filter(source__name=costs.OPENCOST_SOURCE):  # one idle allocation a day, read and skipped
        assert run.rows_skipped == Period.month(run.period.year, run.period.month).days
    assert all(run.rows_written > 0 for run in runs)

    september = costs.demo_months()[-1].start
    allocated = MonthlyCost.objects.filter(month=september, initiative__isnull=False)
    assert allocated.values("initiative").distinct().count() >= 30
    unallocated = MonthlyCost.objects.filter(month=september, initiative__isnull=True).aggregate(s=Sum("amount"))["s"]
    total = MonthlyCost.objects.filter(month=september).aggregate(s=Sum("amount"))["s"]
    # About 8% since the licence pools charge every month of the year (their seats are a tenth of the spend).
    assert Decimal("5") <= unallocated * 100 / total <= Decimal("15"), "unallocated spend must be clearly visible"
    for name in (costs.ANTHROPIC_SOURCE, costs.OPENCOST_SOURCE, costs.OPENAI_SOURCE, costs.FOCUS_SOURCE):
        source_unallocated = CostRecord.objects.filter(source__name=name, period=september, initiative__isnull=True)
        assert source_unallocated.aggregate(s=Sum("amount_reporting"))["s"] > 0, name
    assert CostRecord.objects.filter(source__name=costs.OPENCOST_SOURCE, gpu_hours__gt=0).exists()
    assert UsageRecord.objects.filter(source__name=costs.ANTHROPIC_SOURCE, initiative__isnull=False).exists()
    assert MonthlyTokenUsage.objects.filter(month=september, model__startswith="claude-").exists()

    # The Copilot rollouts: seat activity per month, and seats x price as the licence cost of their initiatives.
    for tool, spec_source in ((providers.GITHUB_POOL, costs.GITHUB_SOURCE), (providers.M365_POOL, costs.M365_SOURCE)):
        pool = LicencePool.objects.filter(tool=tool).order_by("pk").first()
        activity = LicencePoolActivity.objects.get(licence_pool=pool, month=september)
        assert activity.purchased == pool.seats_purchased
        assert 0 < activity.active_30d < activity.assigned <= activity.purchased
        assert SeatActivity.objects.filter(source__name=spec_source, licence_pool=pool, period=september).count() == (
            activity.assigned)
        licence = MonthlyCost.objects.get(initiative=pool.initiative, month=september, category=CostCategory.LICENCES)
        assert licence.amount == pool.seats_purchased * pool.price_per_seat_month
    first, last = (LicencePoolActivity.objects.filter(licence_pool__tool=providers.M365_POOL, month=m).get()
                   for m in (costs.demo_months()[0].start, september))
    assert first.assigned < last.assigned  # the rollout's waves

    report = StringIO()
    call_command("cost_report", "--period", "2026-09", "--json", stdout=report)
    figures = json.loads(report.getvalue())
    assert figures["currency"] == "USD"
    assert Decimal(str(figures["unallocated"])) == unallocated
    total_allocated = allocated.aggregate(s=Sum("amount"))["s"]
    assert Decimal(str(figures["total"])) == total_allocated + unallocated == total
    assert Decimal(str(figures["total"])) == sum(
        (Decimal(str(v)) for v in figures["initiatives"].values()), Decimal(str(figures["unallocated"]))
    )
    by_initiative = dict(allocated.values("initiative__external_id").annotate(s=Sum("amount"))
                         .values_list("initiative__external_id", "s"))
    assert {k: Decimal(str(v)) for k, v in figures["initiatives"].items()} == by_initiative

    before = (IngestionRun.objects.count(), CostRecord.objects.count(), UsageRecord.objects.count(),
              SeatActivity.objects.count(), list(MonthlyCost.objects.values_list("pk", "amount")))
    call_command("load_demo", stdout=StringIO())
    call_command("load_demo", "--sync", stdout=StringIO())
    assert (IngestionRun.objects.count(), CostRecord.objects.count(), UsageRecord.objects.count(),
            SeatActivity.objects.count(), list(MonthlyCost.objects.values_list("pk", "amount"))) == before
