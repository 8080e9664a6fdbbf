"""GPU-hours from the GPU clusters: negative hours (and a malformed OpenCost GPU cost) refused by the connectors with
nothing written, the monthly roll-up per initiative (OpenCost's GPU cost alone, else the records' whole cost; rebuilt
idempotently, filled for existing records by the migration), and where people see it: the initiative's cost panel,
the cost ingestion page and GET /api/initiatives/<id>/costs/."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.db.models import Sum
from django.urls import reverse

from portfolio.choices import CostCategory, RunStatus, RunTrigger, SourceType
from portfolio.costs.connectors.base import Period
from portfolio.costs.services.currency_rates import currency_rate_update
from portfolio.costs.services.rollups import rollups_recompute
from portfolio.costs.services.runs import ingestion_run_create, ingestion_run_execute
from portfolio.models import CostRecord, CostSource, GpuCostBasis, IngestionRun, MonthlyCost, MonthlyGpuUsage
from tests import paths
from tests.factories import InitiativeFactory
from tests.portfolio.costs.connectors.conftest import FAST, ProviderServer, Reply, fixture_json
from tests.portfolio.costs.factories import (
    AllocationRuleFactory,
    CostRecordFactory,
    CostSourceFactory,
    CurrencyRateFactory,
)

pytestmark = pytest.mark.django_db

FIXTURES = paths.FIXTURES / "costs"
JUNE = Period.month(2025, 6)
ALLOCATION = "/allocation/compute"
HEADER = "date,initiative,key,category,amount,currency,quantity,unit\n"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def provider() -> Iterator[ProviderServer]:
    server = ProviderServer()
    yield server
    server.close()


@pytest.fixture
def training(db):
    return InitiativeFactory(external_id="INV-0007", name="Search model training")


@pytest.fixture
def opencost(provider, training):
    source = CostSourceFactory(name="opencost-gpu", type=SourceType.OPENCOST,
                               settings={"base_url": provider.url, **FAST})
    AllocationRuleFactory(source=source, key="namespace", value="ml-training", initiative=training)
    return source


@pytest.fixture
def manual(training):
    source = CostSourceFactory(name="manual", type=SourceType.CSV)
    AllocationRuleFactory(source=source, key="namespace", value="ml-training", initiative=training)
    return source


def run(source, period: Period = JUNE, path: Path | None = None) -> IngestionRun:
    created = ingestion_run_create(source=source, period=period, trigger=RunTrigger.COMMAND)
    return ingestion_run_execute(run=created, path=path)


def plain(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "gpu.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n")
    return path


def gpu_rollup() -> set[tuple[int | None, date, Decimal, Decimal]]:
    return {(row.initiative_id, row.month, row.gpu_hours, row.cost) for row in MonthlyGpuUsage.objects.all()}


def documented_with(name: str, **fields) -> dict:
    payload = fixture_json("opencost/allocation_namespace.json")
    payload["data"][0][name].update(fields)
    return payload


# Negative GPU-hours are refused and nothing is written ----------------------------------------------------------------


def test_negative_opencost_gpu_hours_fail_the_run_and_keep_the_month(provider, opencost, training):
    provider.route(ALLOCATION, Reply(fixture_json("opencost/allocation_namespace.json")))
    assert run(opencost).status == RunStatus.SUCCEEDED
    records, costs, gpu = (set(CostRecord.objects.values_list("pk", flat=True)),
                           set(MonthlyCost.objects.values_list("category", "amount")), gpu_rollup())

    provider.route(ALLOCATION, Reply(documented_with("ml-training", gpuHours=-96)))
    failed = run(opencost)

    assert failed.status == RunStatus.FAILED
    assert failed.error == ("OpenCost step 1 ml-training: gpuHours must not be negative, got -96 (a credit is a "
                            "negative cost, never negative hours)")
    assert set(CostRecord.objects.values_list("pk", flat=True)) == records  # the month as the first run left it
    assert set(MonthlyCost.objects.values_list("category", "amount")) == costs and gpu_rollup() == gpu


@pytest.mark.parametrize(("fields", "message"), [
    ({"gpuCost": -245.76}, "gpuCost must not be negative, got -245.76 (a GPU's cost is never a credit; OpenCost "
                           "corrects it through gpuCostAdjustment)"),
    ({"gpuCost": "n/a"}, "gpuCost must be a number, got 'n/a'"),
])
def test_a_malformed_opencost_gpu_cost_fails_the_run_and_keeps_the_month(provider, opencost, fields, message):
    provider.route(ALLOCATION, Reply(fixture_json("opencost/allocation_namespace.json")))
    assert run(opencost).status == RunStatus.SUCCEEDED
    records, gpu = set(CostRecord.objects.values_list("pk", flat=True)), gpu_rollup()

    provider.route(ALLOCATION, Reply(documented_with("ml-training", **fields)))
    failed = run(opencost)

    assert failed.status == RunStatus.FAILED
    assert failed.error == f"OpenCost step 1 ml-training: {message}"
    assert set(CostRecord.objects.values_list("pk", flat=True)) == records and gpu_rollup() == gpu


def test_negative_csv_gpu_hours_fail_the_run_naming_row_and_column_and_write_nothing(tmp_path, manual):
    failed = run(manual, path=plain(tmp_path, "2025-06-15,,namespace=ml-training,compute,812.40,USD,96,GPU-hours",
                                    "2025-06-16,,namespace=ml-training,compute,-812.40,USD,-96,GPU-hours"))

    assert failed.status == RunStatus.FAILED
    assert failed.error == ("gpu.csv row 3 column quantity: '-96' GPU-hours is negative: a credit or refund is a "
                            "negative amount with the hours it refunds as a positive quantity (or none)")
    assert not CostRecord.objects.exists() and not MonthlyCost.objects.exists()
    assert not MonthlyGpuUsage.objects.exists()


# The monthly roll-up ----------------------------------------------------------------------------------------------


def test_opencost_gpu_hours_roll_up_per_initiative_and_month_at_their_gpu_cost(provider, opencost, training):
    """ml-training: 96 + 48 GPU-hours whose GPU cost is 245.76 + 122.88 (the allocations' totalCost, 272.81 + 131.98,
    adds CPU, memory, storage and network); search-api (no GPU) and __unallocated__ (null) add none."""
    provider.route(ALLOCATION, Reply(fixture_json("opencost/allocation_namespace.json")))

    assert run(opencost).status == RunStatus.SUCCEEDED

    assert gpu_rollup() == {(training.pk, JUNE.start, Decimal("144"), Decimal("368.64"))}
    usage = MonthlyGpuUsage.objects.get()
    assert (usage.price_per_hour, usage.cost_basis) == (Decimal("2.56"), GpuCostBasis.GPU)
    assert CostRecord.objects.filter(initiative=training).aggregate(total=Sum("amount"))["total"] == \
        Decimal("404.79")  # the spend itself is still the whole allocations'


def test_the_gpu_cost_carries_opencosts_adjustment(provider, opencost, training):
    provider.route(ALLOCATION, Reply(documented_with("ml-training", gpuCostAdjustment=-5.76)))

    assert run(opencost).status == RunStatus.SUCCEEDED

    assert gpu_rollup() == {(training.pk, JUNE.start, Decimal("144"), Decimal("362.88"))}


def test_an_opencost_gpu_cost_in_another_currency_is_converted_and_follows_its_rate(provider, training):
    """An EUR cluster at 1.10 USD: 368.64 EUR of GPU cost is 405.50 USD; the rate corrected to 1.20, 442.37."""
    rate = CurrencyRateFactory(currency="EUR", valid_from=date(2025, 1, 1), rate_to_reporting=Decimal("1.10"))
    source = CostSourceFactory(name="opencost-eu", type=SourceType.OPENCOST,
                               settings={"base_url": provider.url, "currency": "EUR", **FAST})
    AllocationRuleFactory(source=source, key="namespace", value="ml-training", initiative=training)
    provider.route(ALLOCATION, Reply(fixture_json("opencost/allocation_namespace.json")))

    assert run(source).status == RunStatus.SUCCEEDED
    assert gpu_rollup() == {(training.pk, JUNE.start, Decimal("144"), Decimal("405.50"))}
    record = CostRecord.objects.get(initiative=training, gpu_hours=96)
    assert (record.gpu_cost, record.gpu_cost_reporting) == (Decimal("245.76"), Decimal("270.336"))

    currency_rate_update(actor=None, rate=rate, rate_to_reporting=Decimal("1.20"))

    assert gpu_rollup() == {(training.pk, JUNE.start, Decimal("144"), Decimal("442.37"))}


def test_an_opencost_credit_lowers_the_gpu_cost_by_its_amount(provider, opencost, training):
    """An allocation refunded (totalCost -272.81) with its gpuCost still positive: the credit lowers the cost by what
    it refunds and adds no hours, as a plain CSV credit does; the second day's 48 GPU-hours at 122.88 remain."""
    provider.route(ALLOCATION, Reply(documented_with("ml-training", totalCost=-272.81)))

    assert run(opencost).status == RunStatus.SUCCEEDED

    usage = MonthlyGpuUsage.objects.get()
    assert (usage.gpu_hours, usage.cost, usage.cost_basis) == (Decimal("48"), Decimal("-149.93"), GpuCostBasis.MIXED)


def test_a_plain_csv_gpu_line_counts_its_whole_cost_and_says_so(tmp_path, manual, training):
    assert run(manual, path=plain(tmp_path, "2025-06-15,,namespace=ml-training,compute,812.40,USD,96,GPU-hours")
               ).status == RunStatus.SUCCEEDED

    usage = MonthlyGpuUsage.objects.get()
    assert (usage.cost, usage.cost_basis) == (Decimal("812.40"), GpuCostBasis.RECORDS)


def test_a_month_of_opencost_and_plain_csv_gpu_lines_is_mixed(tmp_path, provider, opencost, manual, training):
    provider.route(ALLOCATION, Reply(fixture_json("opencost/allocation_namespace.json")))
    run(opencost)
    run(manual, path=plain(tmp_path, "2025-06-20,,namespace=ml-training,compute,812.40,USD,96,GPU-hours"))

    usage = MonthlyGpuUsage.objects.get()
    assert (usage.gpu_hours, usage.cost, usage.cost_basis) == (Decimal("240"), Decimal("1181.04"), GpuCostBasis.MIXED)


def test_the_roll_up_sums_sources_and_months_and_keeps_unallocated_apart(tmp_path, manual, training):
    """The plain CSV fixture's GPU row (96 GPU-hours, 812.40) plus a July file and a namespace no rule maps."""
    InitiativeFactory(external_id="INV-0001")  # the fixture's oversight row names it
    CurrencyRateFactory(currency="EUR", valid_from=date(2025, 6, 1), rate_to_reporting=Decimal("1.10"))
    assert run(manual, path=FIXTURES / "plain_costs.csv").status == RunStatus.SUCCEEDED
    july = Period.month(2025, 7)
    assert run(manual, july, plain(tmp_path, "2025-07-03,,namespace=ml-training,compute,406.20,USD,48,GPU-hours",
                                   "2025-07-04,,namespace=batch,compute,30.00,USD,10,GPU-hours",
                                   "2025-07-05,INV-0007,,oversight,500.00,USD,8,hours")).status == RunStatus.SUCCEEDED

    assert gpu_rollup() == {
        (training.pk, JUNE.start, Decimal("96"), Decimal("812.40")),
        (training.pk, july.start, Decimal("48"), Decimal("406.20")),
        (None, july.start, Decimal("10"), Decimal("30.00")),
    }


def test_a_credit_lowers_the_cost_without_adding_hours(tmp_path, manual, training):
    """A refund of a tenth of the month: its 9.6 hours were counted by the charge, so only the cost goes down."""
    assert run(manual, path=plain(tmp_path, "2025-06-15,,namespace=ml-training,compute,812.40,USD,96,GPU-hours",
                                  "2025-06-30,,namespace=ml-training,compute,-81.24,USD,9.6,GPU-hours",
                                  "2025-06-30,,namespace=ml-training,compute,-10.00,USD,,GPU-hours")).status == \
        RunStatus.SUCCEEDED

    assert gpu_rollup() == {(training.pk, JUNE.start, Decimal("96"), Decimal("731.16"))}
    assert MonthlyGpuUsage.objects.get().price_per_hour == Decimal("7.62")


def test_the_roll_up_is_rebuilt_idempotently(provider, opencost, training):
    provider.route(ALLOCATION, Reply(fixture_json("opencost/allocation_namespace.json")))
    run(opencost)
    first = gpu_rollup()

    rollups_recompute(months=[JUNE.start])
    rollups_recompute(months=[JUNE.start])
    assert run(opencost).status == RunStatus.SUCCEEDED  # the same month read again replaces, never adds

    assert gpu_rollup() == first and MonthlyGpuUsage.objects.count() == 1
    CostRecord.objects.all().delete()
    rollups_recompute(months=[JUNE.start])
    assert not MonthlyGpuUsage.objects.exists()


def test_the_migration_fills_the_roll_up_of_existing_records(training):
    source = CostSourceFactory(name="opencost-gpu", type=SourceType.OPENCOST)
    for amount, hours in (("272.81", "96"), ("131.98", "48"), ("-20.00", "4")):
        CostRecordFactory(source=source, initiative=training, category=CostCategory.COMPUTE,
                          amount=Decimal(amount), gpu_hours=Decimal(hours))
    CostRecordFactory(source=source, initiative=training, amount=Decimal("4.62"), gpu_hours=Decimal("0"))
    CostRecordFactory(source=source, initiative=None, period=date(2025, 7, 1), amount=Decimal("30"),
                      gpu_hours=Decimal("10"))
    migration = importlib.import_module("portfolio.migrations.0035_monthly_gpu_usage")

    migration.fill_gpu_usage(apps, None)

    assert gpu_rollup() == {(training.pk, JUNE.start, Decimal("144"), Decimal("384.79")),
                            (None, date(2025, 7, 1), Decimal("10"), Decimal("30.00"))}


# Where it shows ---------------------------------------------------------------------------------------------------


def test_the_initiative_page_shows_gpu_hours_and_price_per_month(provider, opencost, training, login, executive):
    provider.route(ALLOCATION, Reply(fixture_json("opencost/allocation_namespace.json")))
    run(opencost)

    html = login(executive).get(training.get_absolute_url()).content.decode()

    assert 'id="gpu-months"' in html
    assert '<th class="num">GPU cost</th><th class="num">Per GPU-hour</th>' in html
    assert "<tr><td>2025-06</td><td class=\"num\">144</td><td class=\"num\">$368.64</td>" \
           "<td class=\"num\">$2.56</td></tr>" in html


def test_the_initiative_page_says_when_the_cost_is_the_records_whole_cost(training, login, executive):
    """A month read before the GPU cost was kept, and one of OpenCost and a plain CSV together: the heading says
    neither is the GPU cost alone, and each month says what its cost is."""
    source = CostSourceFactory(name="opencost-gpu", type=SourceType.OPENCOST)
    CostRecordFactory(source=source, initiative=training, period=JUNE.start, category=CostCategory.COMPUTE,
                      amount=Decimal("404.79"), gpu_hours=Decimal("144"))
    july = date(2025, 7, 1)
    CostRecordFactory(source=source, initiative=training, period=july, charge_date=july,
                      category=CostCategory.COMPUTE, amount=Decimal("272.81"), gpu_hours=Decimal("96"),
                      gpu_cost=Decimal("245.76"), gpu_cost_reporting=Decimal("245.76"))
    CostRecordFactory(source=source, initiative=training, period=july, charge_date=july,
                      category=CostCategory.COMPUTE, amount=Decimal("100"), gpu_hours=Decimal("4"))
    rollups_recompute(months=[JUNE.start, july])

    html = login(executive).get(training.get_absolute_url()).content.decode()

    assert '<th class="num">Cost</th><th>What the cost is</th>' in html
    assert "<tr><td>2025-06</td><td class=\"num\">144</td><td class=\"num\">$404.79</td>" \
           "<td>Cost of records with GPU-hours</td><td class=\"num\">$2.81</td></tr>" in html
    assert "<tr><td>2025-07</td><td class=\"num\">100</td><td class=\"num\">$345.76</td><td>GPU cost where the " \
           "source gives it, else the cost of records with GPU-hours</td><td class=\"num\">$3.46</td></tr>" in html


def test_the_initiative_page_has_no_gpu_table_without_gpu_records(tmp_path, manual, training, login, reviewer):
    run(manual, path=plain(tmp_path, "2025-06-05,INV-0007,,oversight,500.00,USD,8,hours"))

    html = login(reviewer).get(training.get_absolute_url()).content.decode()

    assert 'id="tco-months"' in html and 'id="gpu-months"' not in html


def test_the_ingestion_page_lists_the_latest_months_gpu_usage(provider, opencost, training, login, reviewer):
    provider.route(ALLOCATION, Reply(fixture_json("opencost/allocation_namespace.json")))
    # Added when its June export was due: a source added today holding only a month of 2025 leaves the months
    # between unread by anyone, so no month would be complete (and no forecast computed).
    CostSource.objects.filter(pk=opencost.pk).update(created_at=datetime(2025, 6, 1, 9, tzinfo=UTC))
    run(opencost)  # June 2025 is the latest complete month: every enabled source has delivered it

    response = login(reviewer).get(reverse("portfolio:ingestion_health"))

    assert [(row.initiative, row.gpu_hours) for row in response.context["gpu_usage"]] == [(training, Decimal("144"))]
    html = response.content.decode()
    assert "GPU clusters in 2025-06" in html and "INV-0007 Search model training" in html and "$2.56" in html
    assert '<th class="num">GPU cost</th><th class="num">Per GPU-hour</th>' in html


def test_the_costs_api_gives_gpu_hours_cost_and_price(provider, opencost, training, api_client, executive):
    provider.route(ALLOCATION, Reply(fixture_json("opencost/allocation_namespace.json")))
    run(opencost)
    api_client.force_authenticate(executive)

    body = api_client.get(reverse("api:initiative-costs", args=[training.pk]),
                          {"from": "2025-05", "to": "2025-06"}).json()

    assert [(m["month"], m["gpu_hours"], m["gpu_cost"], m["gpu_hour_price"], m["gpu_cost_basis"])
            for m in body["months"]] == [("2025-05", None, None, None, None), ("2025-06", 144.0, 368.64, 2.56, "gpu")]


def test_the_costs_api_says_when_the_gpu_cost_is_the_records_whole_cost(tmp_path, manual, training, api_client,
                                                                       executive):
    run(manual, path=plain(tmp_path, "2025-06-15,,namespace=ml-training,compute,812.40,USD,96,GPU-hours"))
    api_client.force_authenticate(executive)

    body = api_client.get(reverse("api:initiative-costs", args=[training.pk]), {"from": "2025-06", "to": "2025-06"}
                          ).json()

    assert [(m["gpu_cost"], m["gpu_hour_price"], m["gpu_cost_basis"]) for m in body["months"]] == [
        (812.40, 8.46, "records")]
