"""Governance's side of the spend forecast: the price-decline policy passed to portfolio's service, the `forecast`
command operators' scripts call, and the recomputation queued after ingestion runs, policy changes and nightly."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from governance.services import cost_forecast_refresh, policy_set
from governance.tasks import cost_forecast_refresh_task
from portfolio.choices import RunTrigger, SourceType
from portfolio.costs.connectors.base import Period
from portfolio.costs.services.runs import ingestion_run_create, ingestion_run_execute
from portfolio.models import CostForecast, CostSource
from tests import paths
from tests.factories import InitiativeFactory
from tests.portfolio.costs.factories import CostSourceFactory, CurrencyRateFactory
from tests.portfolio.costs.forecast_data import spend
from tollgate.celery import app

pytestmark = pytest.mark.django_db

CONTRACT_KEYS = {"currency", "months", "total", "lower", "upper", "unallocated", "initiatives", "backtest_mape"}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def costs(db):
    spend(InitiativeFactory(external_id="INV-0001"), [1000.0 + 20 * k for k in range(12)])
    spend(InitiativeFactory(external_id="INV-0002"), [400.0] * 9)
    spend(None, [150.0] * 12)


def forecast_json(*args: str) -> dict:
    out = StringIO()
    call_command("forecast", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_the_command_prints_the_documented_json(costs):
    output = forecast_json("--months", "12")
    assert CONTRACT_KEYS <= set(output)
    assert output["currency"] == "USD"
    assert output["months"][0] == "2026-09" and len(output["months"]) == 12  # after the latest month with costs
    assert set(output["initiatives"]) == {"INV-0001", "INV-0002"}
    assert isinstance(output["backtest_mape"], float)
    assert output["backtest_mape_by_initiative"]["INV-0002"] == 0.0
    for month in range(12):
        parts = sum(Decimal(str(values[month])) for values in output["initiatives"].values())
        assert Decimal(str(output["total"][month])) == parts + Decimal(str(output["unallocated"][month]))
        assert output["lower"][month] <= output["total"][month] <= output["upper"][month]
        for key in ("total", "lower", "upper", "unallocated"):
            value = output[key][month]
            assert isinstance(value, float | int) and round(value, 2) == value  # money: JSON numbers, to the cent


def test_the_command_recomputes_the_stored_snapshot_and_prints_fewer_months(costs):
    output = forecast_json("--months", "3")
    assert output["months"] == ["2026-09", "2026-10", "2026-11"]
    assert all(len(values) == 3 for values in output["initiatives"].values())
    stored = CostForecast.objects.get()
    assert stored.months == 12 and len(stored.payload["months"]) == 12  # pages keep four quarters


def test_the_command_prints_more_months_when_asked(costs):
    assert len(forecast_json("--months", "24")["months"]) == 24


def test_the_jevons_scenario_reads_the_policy(costs, admin_user):
    assert forecast_json()["jevons"]["price_decline_pct"] == 60.0  # the declared default
    policy_set(actor=admin_user, key="forecast.price_decline_pct", value="45")
    assert forecast_json()["jevons"]["price_decline_pct"] == 45.0
    assert CostForecast.objects.get().price_decline_pct == Decimal("45")


def test_the_command_prints_a_readable_table(costs):
    out = StringIO()
    call_command("forecast", "--months", "3", stdout=out)
    text = out.getvalue()
    assert "Spend forecast as of 2026-08 (USD)" in text and "unit price -60% a year" in text
    assert "2026-09" in text and "INV-0001" in text and "backtest MAPE" in text


def test_the_command_refuses_bad_input(db):
    with pytest.raises(CommandError, match="at least 1"):
        call_command("forecast", "--months", "0")
    with pytest.raises(CommandError, match="no cost data"):
        call_command("forecast", "--json")


def test_with_cost_data_but_no_complete_month_the_command_says_so_and_stores_nothing(db):
    spend(InitiativeFactory(external_id="INV-0001"), [1400.0], latest=timezone.localdate().replace(day=1))
    assert forecast_json() == {"as_of": None, "months": [],
                               "message": "No forecast yet: it is computed after the first complete month of cost "
                                          "data."}
    out = StringIO()
    call_command("forecast", stdout=out)
    assert "after the first complete month" in out.getvalue() and not CostForecast.objects.exists()


# When it is recomputed -------------------------------------------------------------------------------------------


def run_plain_csv(source):
    """June 2025 of the plain CSV fixture."""
    run = ingestion_run_create(source=source, period=Period.parse("2025-06"), trigger=RunTrigger.COMMAND)
    return ingestion_run_execute(run=run, path=paths.FIXTURES / "costs" / "plain_costs.csv")


def test_ingestion_runs_queue_one_recomputation_on_commit(django_capture_on_commit_callbacks):
    InitiativeFactory(external_id="INV-0001")
    CurrencyRateFactory(currency="EUR", valid_from=date(2025, 6, 1), rate_to_reporting=Decimal("1.10"))
    source = CostSourceFactory(name="manual", type=SourceType.CSV)
    # Added when its June export was due: a source added today holding only a month of 2025 leaves the months
    # between unread by anyone, so no month would be complete (and no forecast computed).
    CostSource.objects.filter(pk=source.pk).update(created_at=datetime(2025, 6, 1, 9, tzinfo=UTC))
    with django_capture_on_commit_callbacks() as callbacks:
        assert run_plain_csv(source).status == "succeeded"
        assert run_plain_csv(source).status == "succeeded"
    # Two runs in one transaction: one recomputation (the signals queue their own computation beside it).
    refreshes = [c for c in callbacks if getattr(c, "__name__", "") == "_send_cost_forecast_refresh"]
    assert len(refreshes) == 1
    assert not CostForecast.objects.exists()
    refreshes[0]()  # the commit: the task runs (in-process in tests)
    forecast = CostForecast.objects.get()
    assert forecast.as_of == date(2025, 6, 1) and forecast.price_decline_pct == Decimal("60")


def test_a_failed_run_queues_nothing(django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.delenv("TOLLGATE_TEST_MISSING_KEY", raising=False)
    source = CostSourceFactory(name="broken", type=SourceType.CSV, credential_env="TOLLGATE_TEST_MISSING_KEY")
    with django_capture_on_commit_callbacks() as callbacks:
        assert run_plain_csv(source).status == "failed"
    assert callbacks == []


def test_changing_the_decline_policy_queues_a_recomputation(costs, admin_user, django_capture_on_commit_callbacks):
    cost_forecast_refresh()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        policy_set(actor=admin_user, key="forecast.price_decline_pct", value="30")
    assert len(callbacks) == 1
    assert CostForecast.objects.get().payload["jevons"]["price_decline_pct"] == 30.0
    with django_capture_on_commit_callbacks() as callbacks:
        policy_set(actor=admin_user, key="kill.cost_overrun_pct", value="30")
    assert callbacks == []


def test_the_nightly_job_recomputes(costs):
    schedule = app.conf.beat_schedule["cost-forecast-nightly"]
    assert schedule["task"] == cost_forecast_refresh_task.name == "governance.tasks.cost_forecast_refresh_task"
    assert cost_forecast_refresh_task.delay().get() == "2026-08"
    assert CostForecast.objects.count() == 1
