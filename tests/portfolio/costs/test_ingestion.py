"""Ingestion runs: replace per (source, period) atomically, convert currency, roll up, record every outcome."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.utils import timezone

from governance.selectors import audit_record_q
from portfolio.choices import CostCategory, RunStatus, RunTrigger, SourceType
from portfolio.costs.calculations import Rule
from portfolio.costs.connectors import registry
from portfolio.costs.connectors.base import ConnectorError, CostRow, Period, SeatRow, UsageRow
from portfolio.costs.services.allocation import Allocator
from portfolio.costs.services.runs import ingestion_run_create, ingestion_run_execute
from portfolio.costs.services.schedules import due_periods, ingestion_sources_run_due
from portfolio.costs.services.writer import COST_COLUMNS, SEAT_COLUMNS, USAGE_COLUMNS, _MemoAllocator
from portfolio.costs.tasks import ingestion_run_execute_task
from portfolio.models import (
    CostRecord,
    CostSource,
    IngestionRun,
    LicencePoolActivity,
    MonthlyCost,
    MonthlyTokenUsage,
    SeatActivity,
    UsageRecord,
)
from tests import paths
from tests.factories import InitiativeFactory, LicencePoolFactory
from tests.portfolio.costs.factories import AllocationRuleFactory, CostSourceFactory, CurrencyRateFactory

FIXTURES = paths.FIXTURES / "costs"
JUNE = Period.month(2025, 6)
FIXTURE_AI_TOTAL = Decimal("85.75")  # the five AI rows of focus_1_2.csv


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def source(db):
    return CostSourceFactory(name="azure-focus", type=SourceType.FOCUS)


@pytest.fixture
def search(db):
    return InitiativeFactory(external_id="INV-0001")


def run_file(source, path: Path, period: Period = JUNE) -> IngestionRun:
    run = ingestion_run_create(source=source, period=period, trigger=RunTrigger.COMMAND)
    return ingestion_run_execute(run=run, path=path)


def totals(month: date = JUNE.start) -> dict:
    return {(m.initiative_id, m.category): m.amount for m in MonthlyCost.objects.filter(month=month)}


def test_a_run_writes_records_rolls_up_and_records_counts(source, search):
    AllocationRuleFactory(source=source, key="tag:project", value="search-assistant", initiative=search)

    run = run_file(source, FIXTURES / "focus_1_2.csv")

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert (run.rows_read, run.rows_written, run.rows_skipped) == (9, 5, 4)
    assert run.started_at and run.finished_at and run.error == ""
    assert CostRecord.objects.filter(source=source, period=JUNE.start).count() == 5
    allocated = Decimal("12.50") + Decimal("30.00") - Decimal("5.00")
    assert run.unallocated_amount == FIXTURE_AI_TOTAL - allocated
    assert totals() == {
        (search.pk, CostCategory.INFERENCE): allocated,
        (None, CostCategory.INFERENCE): Decimal("8.25"),
        (None, CostCategory.COMPUTE): Decimal("40.00"),
    }
    record = CostRecord.objects.get(description="GPT-4o input tokens")
    assert (record.amount, record.currency, record.amount_reporting, record.run_id) == (
        Decimal("12.50"), "USD", Decimal("12.50"), run.pk)


def test_reading_the_same_period_twice_replaces_never_double_counts(source):
    first = run_file(source, FIXTURES / "focus_1_2.csv")
    before = totals()
    second = run_file(source, FIXTURES / "focus_1_2.csv")

    assert second.status == RunStatus.SUCCEEDED
    assert CostRecord.objects.filter(source=source).count() == 5
    assert set(CostRecord.objects.values_list("run_id", flat=True)) == {second.pk}
    assert totals() == before and sum(before.values()) == FIXTURE_AI_TOTAL
    assert first.pk != second.pk


def test_records_keep_every_value_the_connector_read(source, search):
    """The write path (COPY on PostgreSQL, one INSERT per batch elsewhere) stores each column as read."""
    AllocationRuleFactory(source=source, key="tag:project", value="search-assistant", initiative=search)
    run = run_file(source, FIXTURES / "focus_1_2.csv")

    records = list(CostRecord.objects.order_by("pk"))
    first, credit = records[0], records[4]
    assert (first.source_id, first.run_id, first.period, first.charge_date) == (
        source.pk, run.pk, JUNE.start, date(2025, 6, 14))
    assert (first.amount, first.amount_reporting, first.billed_amount, first.currency) == (
        Decimal("12.50"), Decimal("12.50"), Decimal("12.50"), "USD")
    assert isinstance(first.amount, Decimal) and first.initiative_id == search.pk
    assert first.keys == {
        "tag:project": "search-assistant", "tag:env": "prod", "billing_account_id": "8611-2201",
        "sub_account_id": "3f2a9c1e-0001", "resource_id": "/subscriptions/3f2a9c1e-0001/accounts/aoai-east",
        "service_name": "Azure OpenAI",
    }
    assert (first.category, first.service_name, first.model, first.description) == (
        CostCategory.INFERENCE, "Azure OpenAI", "gpt-4o", "GPT-4o input tokens")
    assert (first.quantity, first.unit, first.gpu_hours) == (Decimal("5000"), "1000 Tokens", None)
    assert credit.amount == Decimal("-5.00") and credit.quantity is None and credit.initiative_id == search.pk
    assert records[3].keys.get("tag:project") is None and records[3].initiative_id is None


@pytest.mark.parametrize(("model", "columns"), [(CostRecord, COST_COLUMNS), (UsageRecord, USAGE_COLUMNS),
                                                (SeatActivity, SEAT_COLUMNS)])
def test_record_rows_cover_every_column_of_their_model(model, columns):
    assert list(columns) == [f.attname for f in model._meta.concrete_fields if not f.primary_key]


def test_the_memo_allocator_decides_as_the_rules_do():
    rules = [
        Rule.build(key="tag:project", match="exact", value="search", initiative_id=1, rule_id=1),
        Rule.build(key="sub_account_id", match="prefix", value="1234", initiative_id=2, rule_id=2),
        Rule.build(key="tag:project", match="regex", value="^sea", initiative_id=3, rule_id=3),
    ]
    plain = Allocator(rules, {"INV-9": 9})
    memo = _MemoAllocator(plain)
    cases = [
        {"tag:project": "search", "sub_account_id": "1234-5"}, {"tag:project": "seal", "resource_id": "a"},
        {"tag:project": "seal", "resource_id": "b"}, {"sub_account_id": "1234"}, {"sub_account_id": "9"},
        {"initiative": "INV-9", "tag:project": "search"}, {"initiative": "INV-404", "sub_account_id": "12345"}, {},
    ]
    for keys in cases * 2:  # the second time from the memo
        assert memo.allocate(keys) == plain.allocate(keys), keys
    assert [memo.allocate(k) for k in cases] == [1, 3, 3, 2, None, 9, 2, None]


def test_other_sources_and_periods_are_untouched(source):
    other = CostSourceFactory(name="aws-focus", type=SourceType.FOCUS)
    run_file(other, FIXTURES / "focus_1_3.csv")
    run_file(source, FIXTURES / "focus_1_2.csv")
    assert CostRecord.objects.filter(source=other).count() == 5
    assert sum(totals().values()) == FIXTURE_AI_TOTAL * 2


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    good = (FIXTURES / "focus_1_2.csv").read_text()
    files: dict[str, tuple[Path, str]] = {}

    def add(name: str, content: bytes, expected: str) -> None:
        path = tmp_path / name
        path.write_bytes(content)
        files[name] = (path, expected)

    add("empty.csv", b"", "empty.csv: the file is empty")
    data = gzip.compress(good.encode() * 50)
    add("cut.csv.gz", data[: len(data) // 3], "truncated or corrupt")
    add("latin.csv", good.replace("Contoso EA", "Contoso Müller", 1).encode("latin-1"), "latin.csv row 2: the file "
        "is not UTF-8")
    add("nocost.csv", good.replace("EffectiveCost", "Effective_Cost").encode(), "missing mandatory FOCUS column(s): "
        "EffectiveCost")
    add("text.csv", good.replace("30.00,30.00,30.00,30.00", "30.00,thirty,30.00,30.00").encode(),
        "text.csv row 3 column EffectiveCost: 'thirty' is not a number")
    add("blank.csv", good.replace("30.00,30.00,30.00,30.00", "30.00,NULL,30.00,30.00").encode(),
        "blank.csv row 3 column EffectiveCost: the cost is blank")
    add("july.csv", good.replace("2025-06-17T00:00:00Z", "2025-07-17T00:00:00Z").encode(),
        "july.csv row 6 column ChargePeriodStart: charge date 2025-07-17 is outside the period 2025-06")
    add("currency.csv", good.replace("8611-2201,Contoso EA,USD,2025-06-01T00:00:00Z,2025-07-01T00:00:00Z,"
                                     "2025-06-15", "8611-2201,Contoso EA,US$,2025-06-01T00:00:00Z,"
                                     "2025-07-01T00:00:00Z,2025-06-15").encode(),
        "currency.csv row 4 column BillingCurrency: unknown currency 'US$'")
    add("nocurrency.csv", good.replace("8611-2201,Contoso EA,USD,2025-06-01T00:00:00Z,2025-07-01T00:00:00Z,"
                                       "2025-06-15", "8611-2201,Contoso EA,,2025-06-01T00:00:00Z,"
                                       "2025-07-01T00:00:00Z,2025-06-15").encode(),
        "nocurrency.csv row 4 column BillingCurrency: the currency is blank (expected an ISO 4217 code like EUR)")
    add("norate.csv", good.replace("8611-2201,Contoso EA,USD,2025-06-01T00:00:00Z,2025-07-01T00:00:00Z,"
                                   "2025-06-15", "8611-2201,Contoso EA,CHF,2025-06-01T00:00:00Z,"
                                   "2025-07-01T00:00:00Z,2025-06-15").encode(),
        "norate.csv row 4 column BillingCurrency: no exchange rate CHF->USD valid on 2025-06-15")
    return files


@pytest.mark.parametrize("name", ["empty.csv", "cut.csv.gz", "latin.csv", "nocost.csv", "text.csv", "blank.csv",
                                  "july.csv", "currency.csv", "nocurrency.csv", "norate.csv"])
def test_bad_input_fails_the_run_with_a_clear_error_and_keeps_the_previous_data(source, tmp_path, name):
    run_file(source, FIXTURES / "focus_1_2.csv")
    before_records = list(CostRecord.objects.order_by("pk").values_list("pk", "amount"))
    before_totals = totals()
    path, expected = _bad_files(tmp_path)[name]

    run = run_file(source, path)

    assert run.status == RunStatus.FAILED
    assert expected in run.error
    assert run.rows_written == 0 and run.finished_at is not None
    assert list(CostRecord.objects.order_by("pk").values_list("pk", "amount")) == before_records
    assert totals() == before_totals
    assert IngestionRun.objects.get(pk=run.pk).status == RunStatus.FAILED


def test_a_file_over_the_configured_limit_is_refused(source, settings, tmp_path):
    settings.INGESTION_MAX_FILE_MB = 1
    big = tmp_path / "big.csv"
    big.write_bytes((FIXTURES / "focus_1_2.csv").read_bytes() + b"\n" * (1024 * 1024))
    run = run_file(source, big)
    assert run.status == RunStatus.FAILED
    assert "over the 1 MB limit (INGESTION_MAX_FILE_MB)" in run.error
    assert CostRecord.objects.count() == 0


def test_a_correction_of_an_earlier_month_is_booked_to_the_month_it_is_billed_in(source, search, tmp_path):
    """June's export holds a correction of a May charge (ChargeClass Correction, billed in June) and a line billed in
    July: the run replaces June with June's billing, the correction included, and leaves May and July alone."""
    AllocationRuleFactory(source=source, key="tag:project", value="search-assistant", initiative=search)
    may = Period.month(2025, 5)
    run_file(source, _focus_month(tmp_path, "may.csv", "2025-05"), may)
    may_before = totals(may.start)
    header, *rows = (FIXTURES / "focus_1_2.csv").read_text().splitlines()
    correction = rows[0].replace("2025-06-14T00:00:00Z,2025-06-15T00:00:00Z,Usage,NULL,GPT-4o input tokens,12.50,"
                                 "12.50,12.50,12.50",
                                 "2025-05-20T00:00:00Z,2025-05-21T00:00:00Z,Usage,Correction,Correction of May "
                                 "GPT-4o input,-2.00,-2.00,-2.00,-2.00")
    late = rows[1].replace("2025-06-01T00:00:00Z,2025-07-01T00:00:00Z", "2025-07-01T00:00:00Z,2025-08-01T00:00:00Z")
    path = tmp_path / "june.csv"
    path.write_text("\n".join([header, rows[0], late, correction, *rows[2:]]) + "\n")

    run = run_file(source, path)

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.warning == "1 row billed in another period (2025-07) skipped: it belongs to that month's export."
    assert run.skipped_by_reason == {"not AI spend": 4, "billed in another period": 1}
    record = CostRecord.objects.get(source=source, amount=Decimal("-2.00"))
    assert (record.period, record.charge_date, record.initiative) == (JUNE.start, date(2025, 5, 20), search)
    assert totals()[(search.pk, CostCategory.INFERENCE)] == Decimal("12.50") - Decimal("2.00") - Decimal("5.00")
    assert totals(may.start) == may_before


def _focus_month(tmp_path: Path, name: str, month: str) -> Path:
    """The fixture's export moved to another month (billing and charge periods)."""
    path = tmp_path / name
    path.write_text((FIXTURES / "focus_1_2.csv").read_text().replace("2025-07-01", f"{month}-28")
                    .replace("2025-06-", f"{month}-"))
    return path


def test_currency_conversion_uses_the_rate_in_force_on_the_charge_date(tmp_path, search):
    source = CostSourceFactory(name="manual", type=SourceType.CSV)
    CurrencyRateFactory(currency="EUR", valid_from=date(2025, 1, 1), rate_to_reporting=Decimal("1.05"))
    CurrencyRateFactory(currency="EUR", valid_from=date(2025, 6, 10), rate_to_reporting=Decimal("1.10"))
    CurrencyRateFactory(currency="EUR", valid_from=date(2025, 7, 1), rate_to_reporting=Decimal("9.99"))
    path = tmp_path / "eur.csv"
    path.write_text("date,initiative,key,category,amount,currency,quantity,unit\n"
                    "2025-06-05,INV-0001,,maintenance,100.00,EUR,,\n"
                    "2025-06-20,INV-0001,,maintenance,100.00,EUR,,\n")

    run = run_file(source, path)

    assert run.status == RunStatus.SUCCEEDED, run.error
    records = CostRecord.objects.order_by("charge_date")
    assert [(r.amount, r.currency, r.amount_reporting) for r in records] == [
        (Decimal("100.00"), "EUR", Decimal("105.00")), (Decimal("100.00"), "EUR", Decimal("110.00"))]
    assert totals() == {(search.pk, CostCategory.MAINTENANCE): Decimal("215.00")}


def test_a_missing_rate_is_an_error_not_a_silent_one(tmp_path, search):
    source = CostSourceFactory(name="manual", type=SourceType.CSV)
    CurrencyRateFactory(currency="EUR", valid_from=date(2025, 7, 1))  # only later than the charge
    path = tmp_path / "eur.csv"
    path.write_text("date,initiative,key,category,amount,currency,quantity,unit\n"
                    "2025-06-05,INV-0001,,maintenance,100.00,EUR,,\n")
    run = run_file(source, path)
    assert run.status == RunStatus.FAILED
    assert run.error == "eur.csv row 2 column currency: no exchange rate EUR->USD valid on 2025-06-05: add one to " \
                        "the currency rates"
    assert not CostRecord.objects.exists()


def test_plain_csv_allocates_by_initiative_and_by_rules(search):
    source = CostSourceFactory(name="manual", type=SourceType.CSV)
    review = InitiativeFactory(external_id="INV-0002")
    AllocationRuleFactory(source=source, key="tag:project", value="contract-review", initiative=review)
    AllocationRuleFactory(source=source, key="namespace", match="prefix", value="ml-", initiative=review)
    CurrencyRateFactory(currency="EUR", valid_from=date(2025, 6, 1), rate_to_reporting=Decimal("1.10"))

    run = run_file(source, FIXTURES / "plain_costs.csv")

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert totals() == {
        (search.pk, CostCategory.OVERSIGHT): Decimal("3900.00"),
        (review.pk, CostCategory.MAINTENANCE): Decimal("1100.00"),
        (review.pk, CostCategory.COMPUTE): Decimal("812.40"),
        (None, CostCategory.OTHER): Decimal("50.00"),
    }
    assert run.unallocated_amount == Decimal("50.00")
    assert CostRecord.objects.get(category=CostCategory.COMPUTE).gpu_hours == Decimal("96")


def test_a_missing_credential_variable_is_a_clear_error(db, monkeypatch):
    source = CostSourceFactory(name="openai-org", type=SourceType.CSV, credential_env="TOLLGATE_TEST_MISSING_KEY")
    monkeypatch.delenv("TOLLGATE_TEST_MISSING_KEY", raising=False)
    run = run_file(source, FIXTURES / "plain_costs.csv")
    assert run.status == RunStatus.FAILED
    assert "environment variable TOLLGATE_TEST_MISSING_KEY" in run.error and "is not set" in run.error


def test_an_uploaded_file_is_stored_with_the_run_and_read_from_it(source):
    run = ingestion_run_create(source=source, period=JUNE, trigger=RunTrigger.USER, filename="june.csv",
                               content=(FIXTURES / "focus_1_2.csv").read_bytes())
    assert run.file and run.status == RunStatus.PENDING
    run = ingestion_run_execute(run=run)
    assert run.status == RunStatus.SUCCEEDED and run.rows_written == 5


def test_an_error_names_the_file_as_uploaded_not_as_stored(source):
    """A second upload of june.csv is stored under another name (the first holds it); the person reads june.csv."""
    content = (FIXTURES / "focus_1_2.csv").read_bytes()
    ingestion_run_create(source=source, period=JUNE, trigger=RunTrigger.USER, filename="june.csv", content=content)
    run = ingestion_run_create(source=source, period=Period.month(2025, 7), trigger=RunTrigger.USER,
                               filename="june.csv", content=content)
    assert Path(run.file.name).name != "june.csv"
    run = ingestion_run_execute(run=run)
    assert run.status == RunStatus.FAILED and "no row is billed in 2025-07" in run.error
    assert "june.csv row" in run.error and Path(run.file.name).name not in run.error


# Usage and seats from any connector -----------------------------------------------------------------------------------


class SyntheticConnector:
    """A connector of the fixed interface yielding usage and seat rows, standing in for the HTTP connectors."""

    type = "synthetic"
    reads_files = False
    attempts = 0
    fail_transient = 0

    def __init__(self, *, settings, credential=None) -> None:
        self.settings = settings

    def read(self, period: Period, *, path=None) -> Iterator:
        type(self).attempts += 1
        if type(self).attempts <= type(self).fail_transient:
            raise ConnectorError("HTTP 503 from https://api.example.test", location="HTTP 503", transient=True)
        if self.settings.get("malformed"):
            raise ConnectorError("expected JSON, got an HTML page", location="HTTP 200 https://api.example.test")
        if self.settings.get("huge_tokens"):  # two days each within a count's limit, together beyond it
            for day, project in ((14, "proj_search"), (15, "proj_search_b")):
                yield UsageRow(usage_date=date(2025, 6, day), model="gpt-4o", input_tokens=5 * 10**18,
                               keys={"project_id": project})
            return
        yield UsageRow(usage_date=date(2025, 6, 14), model="gpt-4o", input_tokens=1000, output_tokens=200,
                       cached_tokens=100, requests=3, keys={"project_id": "proj_search"})
        yield UsageRow(usage_date=date(2025, 6, 15), model="gpt-4o", input_tokens=500, output_tokens=50, requests=1,
                       keys={"project_id": "proj_other"})
        yield SeatRow(user="jdoe", last_activity=date(2025, 6, 20))
        yield SeatRow(user="asmith", last_activity=date(2025, 4, 2))
        yield SeatRow(user="bnew", last_activity=None)


@pytest.fixture
def synthetic(db, monkeypatch):
    monkeypatch.setitem(registry.CONNECTORS, "csv", f"{__name__}.SyntheticConnector")
    SyntheticConnector.attempts = 0
    SyntheticConnector.fail_transient = 0
    return SyntheticConnector


def test_usage_and_seat_rows_become_records_and_roll_ups(synthetic, search):
    pool = LicencePoolFactory(seats_purchased=10, price_per_seat_month=Decimal("19.00"), initiative=search)
    source = CostSourceFactory(name="api", type=SourceType.CSV, settings={"licence_pool": search.external_id})
    AllocationRuleFactory(source=source, key="project_id", value="proj_search", initiative=search)

    run = ingestion_run_execute(run=ingestion_run_create(source=source, period=JUNE, trigger=RunTrigger.API))

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert (run.rows_read, run.rows_written) == (5, 5)
    assert UsageRecord.objects.count() == 2 and SeatActivity.objects.filter(licence_pool=pool).count() == 3
    tokens = {(t.initiative_id, t.model): (t.input_tokens, t.output_tokens, t.cached_tokens, t.requests)
              for t in MonthlyTokenUsage.objects.filter(month=JUNE.start)}
    assert tokens == {(search.pk, "gpt-4o"): (1000, 200, 100, 3), (None, "gpt-4o"): (500, 50, 0, 1)}
    activity = LicencePoolActivity.objects.get(licence_pool=pool, month=JUNE.start)
    assert (activity.purchased, activity.assigned, activity.active_30d) == (10, 3, 1)
    assert totals()[(search.pk, CostCategory.LICENCES)] == Decimal("190.00")


def test_token_counts_adding_up_beyond_what_a_count_holds_fail_the_run_naming_the_total(synthetic, search):
    source = CostSourceFactory(name="api", type=SourceType.CSV, settings={"huge_tokens": True})
    AllocationRuleFactory(source=source, key="project_id", match="prefix", value="proj_search", initiative=search)

    run = ingestion_run_execute(run=ingestion_run_create(source=source, period=JUNE, trigger=RunTrigger.API))

    assert run.status == RunStatus.FAILED
    assert run.error == ("The 2025-06 input tokens of INV-0001 on gpt-4o would total 10,000,000,000,000,000,000, more "
                         "than a count holds (9,223,372,036,854,775,807); nothing was changed.")
    assert not UsageRecord.objects.exists() and not MonthlyTokenUsage.objects.exists()


def test_seat_rows_need_a_licence_pool(synthetic):
    source = CostSourceFactory(name="api", type=SourceType.CSV)
    run = ingestion_run_execute(run=ingestion_run_create(source=source, period=JUNE))
    assert run.status == RunStatus.FAILED and "licence_pool" in run.error
    assert not UsageRecord.objects.exists()


M365_HEADER = ("Report Refresh Date,Report Period,User Principal Name,Display Name,Last Activity Date,Microsoft Teams "
               "Copilot Last Activity Date,Word Copilot Last Activity Date,Excel Copilot Last Activity Date,PowerPoint "
               "Copilot Last Activity Date,Outlook Copilot Last Activity Date,OneNote Copilot Last Activity Date,Loop "
               "Copilot Last Activity Date,Copilot Chat Last Activity Date")


def m365_report(path: Path, *rows: str) -> Path:
    path.write_text("\n".join([M365_HEADER, *rows]) + "\n", encoding="utf-8-sig")
    return path


def test_a_copilot_user_written_in_two_cases_holds_one_seat(search, tmp_path):
    pool = LicencePoolFactory(seats_purchased=10, initiative=search, tool="Microsoft 365 Copilot")
    source = CostSourceFactory(name="m365", type=SourceType.M365_COPILOT, settings={"licence_pool": "INV-0001"})

    run = run_file(source, m365_report(tmp_path / "usage.csv", "2025-06-30,30,a@x.com,A,2025-06-10,,,,,,,,",
                                       "2025-06-30,30,A@x.com,A,2025-06-11,,,,,,,,"))

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert (run.rows_read, run.rows_written, run.rows_skipped) == (2, 1, 1)
    activity = LicencePoolActivity.objects.get(licence_pool=pool, month=JUNE.start)
    assert (activity.assigned, activity.active_30d) == (1, 1)


def test_a_seat_two_sources_of_a_pool_report_is_counted_once(search, tmp_path):
    """A second report of the same tenant (or a source replacing another, both enabled for a while) names users the
    first one holds: the pool has as many seats as distinct holders, active when either report saw them active."""
    pool = LicencePoolFactory(seats_purchased=10, initiative=search, tool="Microsoft 365 Copilot")
    first, second = (CostSourceFactory(name=name, type=SourceType.M365_COPILOT, settings={"licence_pool": "INV-0001"})
                     for name in ("m365-copilot", "m365-overlap"))
    run_file(first, m365_report(tmp_path / "usage.csv", "2025-06-30,30,a@x.com,A,2025-06-10,,,,,,,,",
                                "2025-06-30,30,b@x.com,B,,,,,,,,,", "2025-06-30,30,c@x.com,C,2025-06-20,,,,,,,,"))

    run = run_file(second, m365_report(tmp_path / "overlap.csv", "2025-06-30,30,A@X.com,A,2025-06-12,,,,,,,,",
                                       "2025-06-30,30,b@x.com,B,2025-06-25,,,,,,,,",
                                       "2025-06-30,30,d@x.com,D,,,,,,,,,"))

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert SeatActivity.objects.filter(licence_pool=pool).count() == 6
    activity = LicencePoolActivity.objects.get(licence_pool=pool, month=JUNE.start)
    assert (activity.assigned, activity.active_30d) == (4, 3)  # a, b, c, d; a, b (in the second report), c


def test_a_copilot_report_with_activity_after_its_refresh_date_fails_and_keeps_the_month(search, tmp_path):
    LicencePoolFactory(seats_purchased=10, initiative=search, tool="Microsoft 365 Copilot")
    source = CostSourceFactory(name="m365", type=SourceType.M365_COPILOT, settings={"licence_pool": "INV-0001"})
    run_file(source, m365_report(tmp_path / "good.csv", "2025-06-30,30,a@x.com,A,2025-06-10,,,,,,,,"))

    run = run_file(source, m365_report(tmp_path / "usage.csv", "2025-06-30,30,b@x.com,B,2025-06-10,,,,,,,,",
                                       "2025-06-30,30,c@x.com,C,2027-09-10,,,,,,,,"))

    assert run.status == RunStatus.FAILED
    assert run.error.startswith("usage.csv, row 3, column 'Last Activity Date': 2027-09-10 is after the report's "
                                "refresh date 2025-06-30")
    assert list(SeatActivity.objects.values_list("user", flat=True)) == ["a@x.com"]  # the month as it was


def test_licence_cost_of_pools_is_rolled_up_each_month(source, search):
    pool = LicencePoolFactory(seats_purchased=250, price_per_seat_month=Decimal("19.00"), initiative=search)
    LicencePoolFactory(seats_purchased=5, price_per_seat_month=Decimal("30.00"), initiative=None)
    month = timezone.localdate().replace(day=1)
    run_file(source, FIXTURES / "focus_1_3.csv", period=JUNE)  # June 2025: before the pool existed
    assert (search.pk, CostCategory.LICENCES) not in totals()

    from portfolio.costs.services.rollups import rollups_recompute

    rollups_recompute(months={month})
    assert totals(month) == {(search.pk, CostCategory.LICENCES): pool.monthly_cost}


# Celery task ---------------------------------------------------------------------------------------------------------


def test_task_runs_a_pending_run_once(source):
    run = ingestion_run_create(source=source, period=JUNE, filename="june.csv",
                               content=(FIXTURES / "focus_1_2.csv").read_bytes())
    assert ingestion_run_execute_task.delay(run.pk).get() == RunStatus.SUCCEEDED
    run.refresh_from_db()
    finished = run.finished_at

    assert ingestion_run_execute_task(run.pk) is None  # redelivered: left alone
    run.refresh_from_db()
    assert run.finished_at == finished and CostRecord.objects.count() == 5
    assert ingestion_run_execute_task(987654) is None


def test_task_never_retries_malformed_data(synthetic):
    source = CostSourceFactory(name="api", type=SourceType.CSV, settings={"malformed": True})
    run = ingestion_run_create(source=source, period=JUNE, trigger=RunTrigger.SCHEDULE)
    assert ingestion_run_execute_task.delay(run.pk).get() == RunStatus.FAILED
    assert synthetic.attempts == 1
    run.refresh_from_db()
    assert "HTML page" in run.error and run.status == RunStatus.FAILED


@pytest.fixture
def retries_in_process():
    """Eager Celery runs a retry in-process only when errors do not propagate (they would end the first attempt)."""
    from tollgate.celery import app

    previous = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = previous


def test_task_retries_transient_errors_then_succeeds(synthetic, search, retries_in_process):
    LicencePoolFactory(initiative=search)
    synthetic.fail_transient = 2
    source = CostSourceFactory(name="api", type=SourceType.CSV, settings={"licence_pool": search.external_id})
    run = ingestion_run_create(source=source, period=JUNE, trigger=RunTrigger.SCHEDULE)
    ingestion_run_execute_task.apply(args=[run.pk])
    run.refresh_from_db()
    assert synthetic.attempts == 3
    assert run.status == RunStatus.SUCCEEDED and UsageRecord.objects.count() == 2


def test_task_gives_up_after_its_retries(synthetic, retries_in_process):
    synthetic.fail_transient = 100
    source = CostSourceFactory(name="api", type=SourceType.CSV)
    run = ingestion_run_create(source=source, period=JUNE, trigger=RunTrigger.SCHEDULE)
    ingestion_run_execute_task.apply(args=[run.pk])
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "HTTP 503" in run.error
    assert synthetic.attempts == ingestion_run_execute_task.max_retries + 1


# Schedules -----------------------------------------------------------------------------------------------------------


def test_due_periods_by_schedule(db):
    now = datetime(2025, 7, 1, 6, 0, tzinfo=UTC)
    daily = CostSourceFactory(name="d", schedule="daily")
    assert [p.label for p in due_periods(daily, now=now, last_scheduled_at=None)] == ["2025-06", "2025-07"]
    assert due_periods(daily, now=now, last_scheduled_at=now) == []
    monthly = CostSourceFactory(name="m", schedule="monthly")
    assert [p.label for p in due_periods(monthly, now=now, last_scheduled_at=None)] == ["2025-06"]
    cron = CostSourceFactory(name="c", schedule="0 5 * * *")
    yesterday = datetime(2025, 6, 30, 5, 0, tzinfo=UTC)
    assert [p.label for p in due_periods(cron, now=now, last_scheduled_at=yesterday)] == ["2025-07"]
    assert due_periods(cron, now=now, last_scheduled_at=datetime(2025, 7, 1, 5, 1, tzinfo=UTC)) == []


def test_beat_job_queues_due_sources_but_not_upload_only_ones(synthetic, django_capture_on_commit_callbacks):
    CostSourceFactory(name="upload-only", type=SourceType.FOCUS)
    api = CostSourceFactory(name="api", type=SourceType.CSV, settings={"malformed": True})
    CostSourceFactory(name="off", type=SourceType.CSV, enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        runs = ingestion_sources_run_due()
    assert {r.source.name for r in runs} == {"api"}
    assert all(r.trigger == RunTrigger.SCHEDULE for r in runs)
    assert ingestion_sources_run_due() == []  # already ran today
    assert api.runs.count() == len(runs)


class ProgressProbe:
    """Yields usage rows and, midway, reads the run's progress from another connection, as the page would."""

    type = "probe"
    reads_files = False
    seen: list[int] = []

    def __init__(self, *, settings, credential=None) -> None:
        self.run_id = settings["run_id"]

    def read(self, period: Period, *, path=None) -> Iterator:
        from django.db import connections

        for day in range(1, 8):
            if day == 6:
                main = connections["default"]
                other = main.__class__(dict(main.settings_dict), main.alias)
                with other.cursor() as cursor:
                    cursor.execute("SELECT progress FROM portfolio_ingestionrun WHERE id = %s", [self.run_id])
                    type(self).seen.append(cursor.fetchone()[0])
                other.close()
            yield UsageRow(usage_date=date(2025, 6, day), model="m", input_tokens=1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_while_the_run_is_open(monkeypatch):
    monkeypatch.setitem(registry.CONNECTORS, "csv", f"{__name__}.ProgressProbe")
    monkeypatch.setattr("portfolio.costs.services.writer.BATCH_SIZE", 2)
    ProgressProbe.seen = []
    source = CostSourceFactory(name="probe", type=SourceType.CSV)
    run = ingestion_run_create(source=source, period=JUNE)
    source.settings = {"run_id": run.pk}
    source.save()
    run.refresh_from_db()
    run = ingestion_run_execute(run=run)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert ProgressProbe.seen == [4]  # two batches of two flushed and reported before the commit
    assert IngestionRun.objects.get(pk=run.pk).progress == 7


class ManyCosts:
    """Yields twelve cost rows; settings can spoil one for the database (a NUL character), bill one in EUR (a rate
    lookup midway) or fail the read midway."""

    type = "many"
    reads_files = False

    def __init__(self, *, settings, credential=None) -> None:
        self.settings = settings

    def read(self, period: Period, *, path=None) -> Iterator:
        for n in range(12):
            if n == self.settings.get("fail_at"):
                raise ConnectorError("the export ends in the middle of a line", location=f"row {n + 2}")
            description = "bad\x00text" if n == self.settings.get("nul_at") else f"line {n}"
            currency = "EUR" if n == self.settings.get("eur_at") else "USD"
            yield CostRow(charge_date=date(2025, 6, 1 + n), amount=Decimal("1.25"), currency=currency,
                          description=description, keys={"tag:project": "search"}, location=f"row {n + 2}")


@pytest.fixture
def many(db, monkeypatch):
    monkeypatch.setitem(registry.CONNECTORS, "csv", f"{__name__}.ManyCosts")
    monkeypatch.setattr("portfolio.costs.services.writer.BATCH_SIZE", 3)  # four batches, written while reading on
    return CostSourceFactory(name="many", type=SourceType.CSV)


def rerun_with(source: CostSource, **settings) -> IngestionRun:
    source.settings = settings
    source.save()
    run = ingestion_run_create(source=source, period=JUNE)
    return ingestion_run_execute(run=run)


def test_a_read_failing_after_batches_were_written_keeps_the_previous_data(many):
    first = rerun_with(many)
    assert first.status == RunStatus.SUCCEEDED, first.error
    assert first.rows_written == 12 and CostRecord.objects.filter(source=many).count() == 12

    failed = rerun_with(many, fail_at=10)

    assert failed.status == RunStatus.FAILED and "row 12: the export ends" in failed.error
    assert set(CostRecord.objects.filter(source=many).values_list("run_id", flat=True)) == {first.pk}
    assert sum(totals().values()) == Decimal("15.00")


@pytest.mark.postgres
def test_a_batch_the_database_refuses_fails_the_run_and_keeps_the_previous_data(many):
    first = rerun_with(many)

    failed = rerun_with(many, nul_at=4)  # PostgreSQL text cannot hold NUL: the second batch's COPY fails

    assert failed.status == RunStatus.FAILED and "0x00" in failed.error
    assert set(CostRecord.objects.filter(source=many).values_list("run_id", flat=True)) == {first.pk}
    assert rerun_with(many).status == RunStatus.SUCCEEDED  # the connection is usable again


@pytest.mark.postgres
def test_a_refused_batch_reports_its_own_error_even_if_a_rate_lookup_follows(many):
    CurrencyRateFactory(currency="EUR", valid_from=date(2025, 1, 1), rate_to_reporting=Decimal("1.10"))
    first = rerun_with(many)

    failed = rerun_with(many, nul_at=4, eur_at=6)  # the EUR rates are read while the refused batch is in flight

    assert failed.status == RunStatus.FAILED and "0x00" in failed.error, failed.error
    assert set(CostRecord.objects.filter(source=many).values_list("run_id", flat=True)) == {first.pk}


def test_rates_read_midway_convert_as_before(many):
    CurrencyRateFactory(currency="EUR", valid_from=date(2025, 1, 1), rate_to_reporting=Decimal("1.10"))
    run = rerun_with(many, eur_at=6)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert sum(totals().values()) == Decimal("15.13")  # 11 x 1.25 + 1.25 x 1.10 = 13.75 + 1.375


def plain(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "big.csv"
    path.write_text("date,initiative,key,category,amount,currency,quantity,unit\n" + "\n".join(rows) + "\n")
    return path


def test_an_amount_too_large_fails_the_run_naming_row_and_column_and_writes_nothing(tmp_path, search):
    source = CostSourceFactory(name="manual", type=SourceType.CSV)
    run = run_file(source, plain(tmp_path, "2025-06-15,,namespace=nowhere,compute,1000000000000.00,USD,,"))

    assert run.status == RunStatus.FAILED
    assert run.error.startswith("big.csv row 2 column amount: '1000000000000.00' is too large")
    assert run.unallocated_amount == 0 and not CostRecord.objects.exists() and not MonthlyCost.objects.exists()


def test_a_run_whose_unallocated_total_is_too_large_fails_naming_it(tmp_path, search):
    source = CostSourceFactory(name="manual", type=SourceType.CSV)
    run_file(source, plain(tmp_path, "2025-06-15,INV-0001,,oversight,10.00,USD,,"))
    row = "2025-06-15,,namespace=nowhere,compute,600000000000.00,USD,,"

    run = run_file(source, plain(tmp_path, row, row))

    assert run.status == RunStatus.FAILED
    assert run.error == ("The run's unallocated spend totals 1,200,000,000,000.00 USD, more than a total holds "
                         "(999,999,999,999.99): check the amounts read")
    assert list(CostRecord.objects.values_list("amount", flat=True)) == [Decimal("10.00")]  # the month as it was
    assert totals() == {(search.pk, CostCategory.OVERSIGHT): Decimal("10.00")}


def test_a_monthly_total_too_large_fails_the_run_naming_it(tmp_path, search):
    source = CostSourceFactory(name="manual", type=SourceType.CSV)
    row = "2025-06-15,INV-0001,,oversight,600000000000.00,USD,,"

    run = run_file(source, plain(tmp_path, row, row))

    assert run.status == RunStatus.FAILED
    assert run.error == ("The 2025-06 oversight cost of INV-0001 would total 1,200,000,000,000.00 USD, more than a "
                         "monthly total holds (999,999,999,999.99); nothing was changed.")
    assert not CostRecord.objects.exists() and not MonthlyCost.objects.exists()


def test_an_amount_too_large_once_converted_fails_the_run(tmp_path, search):
    source = CostSourceFactory(name="manual", type=SourceType.CSV)
    CurrencyRateFactory(currency="EUR", valid_from=date(2025, 6, 1), rate_to_reporting=Decimal("1.10"))

    run = run_file(source, plain(tmp_path, "2025-06-15,INV-0001,,oversight,999999999999.00,EUR,,"))

    assert run.status == RunStatus.FAILED
    assert run.error.startswith("big.csv row 2 (the amount in the reporting currency): '1,099,999,999,998.90 USD' "
                                "is too large")


def test_a_row_naming_an_unknown_initiative_fails_the_run_naming_it(tmp_path, search):
    source = CostSourceFactory(name="manual", type=SourceType.CSV)
    AllocationRuleFactory(source=source, key="namespace", value="ml", initiative=search)

    run = run_file(source, plain(tmp_path, "2025-06-15,INV-0001,,oversight,10,USD,,",
                                 "2025-06-15,NW-9999,namespace=ml,oversight,10,USD,,"))

    assert run.status == RunStatus.FAILED
    assert run.error == "big.csv row 3 column initiative: no initiative NW-9999"
    assert not CostRecord.objects.exists()


# A read that finds nothing, the periods a run may read, and the audit trail of runs ----------------------------------


def test_a_read_of_nothing_over_a_month_that_held_records_fails_and_keeps_them(tmp_path, search):
    source = CostSourceFactory(name="manual", type=SourceType.CSV)
    run_file(source, plain(tmp_path, "2025-06-15,INV-0001,,oversight,10.00,USD,,"))

    run = run_file(source, plain(tmp_path))  # the header alone

    assert run.status == RunStatus.FAILED
    assert run.error == ("No records read for 2025-06 (0 rows read, 0 of them skipped), and manual held 1 records for "
                         "it: they are kept. To replace them with nothing, run it again with \"Replace with nothing\" "
                         "ticked (API: \"replace_with_nothing\": true).")
    assert CostRecord.objects.count() == 1 and totals() == {(search.pk, CostCategory.OVERSIGHT): Decimal("10.00")}


def test_a_focus_file_of_other_spend_only_does_not_empty_the_month(source, tmp_path):
    run_file(source, FIXTURES / "focus_1_2.csv")
    header, *rows = (FIXTURES / "focus_1_2.csv").read_text().splitlines()
    other = tmp_path / "other.csv"
    other.write_text("\n".join([header, *[row for row in rows if "AI and Machine Learning" not in row]]) + "\n")

    run = run_file(source, other)

    assert run.status == RunStatus.FAILED and run.error.startswith("No records read for 2025-06 (4 rows read, 4 of")
    assert CostRecord.objects.count() == 5


def test_a_confirmed_read_of_nothing_empties_the_month_with_a_warning(tmp_path, search):
    source = CostSourceFactory(name="manual", type=SourceType.CSV)
    run_file(source, plain(tmp_path, "2025-06-15,INV-0001,,oversight,10.00,USD,,"))

    run = ingestion_run_create(source=source, period=JUNE, trigger=RunTrigger.COMMAND, replace_with_nothing=True)
    run = ingestion_run_execute(run=run, path=plain(tmp_path))

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.warning == ("No records read for 2025-06 (0 rows read, 0 of them skipped): the 1 records read before "
                           "were replaced with nothing, as confirmed.")
    assert not CostRecord.objects.exists() and totals() == {}


def test_a_read_of_nothing_into_an_empty_month_succeeds_with_a_warning(tmp_path, db):
    run = run_file(CostSourceFactory(name="manual", type=SourceType.CSV), plain(tmp_path))
    assert run.status == RunStatus.SUCCEEDED
    assert run.warning == "No records read for 2025-06 (0 rows read, 0 of them skipped): check the file and the period."


def test_a_run_that_writes_records_has_no_warning(source):
    assert run_file(source, FIXTURES / "focus_1_2.csv").warning == ""


@pytest.mark.parametrize(("period", "message"), [
    ("1900-01", "The period 1900-01 is before 1990-01: no initiative starts before 1990."),
    ("1989-12", "The period 1989-12 is before 1990-01: no initiative starts before 1990."),
    ("2999-01", "The period 2999-01 is in the future: the latest month that can be read is {now}."),
    ("next", "The period {next} is in the future: the latest month that can be read is {now}."),
])
def test_a_period_before_1990_or_in_the_future_is_refused(source, period, message):
    today = timezone.localdate()
    now, following = Period.month(today.year, today.month), Period.month(today.year + (today.month == 12),
                                                                          today.month % 12 + 1)
    period = following.label if period == "next" else period
    with pytest.raises(ValidationError) as caught:
        ingestion_run_create(source=source, period=period)
    assert caught.value.message_dict == {"period": [message.format(now=now.label, next=following.label)]}
    assert not IngestionRun.objects.exists()
    assert ingestion_run_create(source=source, period=now.label).period == now.start  # this month and 1990-01 are fine
    assert ingestion_run_create(source=source, period="1990-01").period == date(1990, 1, 1)


def audit_rows(run: IngestionRun) -> list[tuple]:
    entries = LogEntry.objects.get_for_object(run).order_by("pk")
    return [(e.additional_data["event"], e.actor, e.changes) for e in entries]


def test_a_run_started_by_a_person_and_its_replacement_of_the_month_are_audited(tmp_path, search, admin_user):
    source = CostSourceFactory(name="manual", type=SourceType.CSV)
    first = run_file(source, plain(tmp_path, "2025-06-15,INV-0001,,oversight,10.00,USD,,"))
    assert audit_rows(first) == [("ingestion_run_replaced_month", None, {"records": [0, 1]})]  # the command's run

    run = ingestion_run_create(source=source, period=JUNE, actor=admin_user, filename="june.csv",
                               content=b"date,initiative,key,category,amount,currency,quantity,unit\n"
                                       b"2025-06-15,INV-0001,,oversight,5,USD,,\n2025-06-16,INV-0001,,oversight,5,USD,,\n")
    run = ingestion_run_execute(run=run)

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert audit_rows(run) == [
        ("ingestion_run_started", admin_user, {"source": [None, "manual"], "period": [None, "2025-06"],
                                              "file": [None, "june.csv"], "replace_with_nothing": [None, False]}),
        ("ingestion_run_replaced_month", admin_user, {"records": [1, 2]}),
    ]
    replaced = LogEntry.objects.get_for_object(run).get(additional_data__event="ingestion_run_replaced_month")
    assert replaced.additional_data == {"event": "ingestion_run_replaced_month", "source": "manual",
                                        "period": "2025-06", "filename": "june.csv", "records_replaced": 1,
                                        "records_written": 2}
    assert LogEntry.objects.filter(audit_record_q("costs"), object_id=run.pk).count() == 2  # the audit trail's "costs"


def test_a_failed_run_audits_its_start_and_its_failure_with_the_message(tmp_path, search, admin_user):
    """A failed run had a row for its start alone, labelled "(Pending)" for good: its end is a row too, with the
    failure's message as its reason, and no row names the run by a status it no longer has."""
    source = CostSourceFactory(name="manual", type=SourceType.CSV)
    run = ingestion_run_create(source=source, period=JUNE, actor=admin_user, filename="bad.csv",
                               content=b"date,initiative,key,category,amount,currency,quantity,unit\n"
                                       b"2025-06-15,NW-9999,,oversight,5,USD,,\n")
    run = ingestion_run_execute(run=run)
    assert run.status == RunStatus.FAILED and "NW-9999" in run.error
    assert audit_rows(run) == [
        ("ingestion_run_started", admin_user, {"source": [None, "manual"], "period": [None, "2025-06"],
                                              "file": [None, "bad.csv"], "replace_with_nothing": [None, False]}),
        ("ingestion_run_failed", admin_user, {"status": ["running", "failed"]}),
    ]
    failed = LogEntry.objects.get_for_object(run).get(additional_data__event="ingestion_run_failed")
    assert failed.additional_data["reason"] == run.error
    assert set(LogEntry.objects.get_for_object(run).values_list("object_repr", flat=True)) == {"manual 2025-06"}


def test_a_failure_recorded_apart_from_the_read_is_audited_once(source, admin_user):
    """A run the expiry stops (its worker lost) is audited as failed, once, as a run that failed by itself is."""
    from datetime import timedelta

    from portfolio.costs.services.runs import ingestion_runs_expire_stale

    run = ingestion_run_create(source=source, period=JUNE, actor=admin_user)
    IngestionRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(hours=3))
    assert ingestion_runs_expire_stale() == 1
    assert ingestion_runs_expire_stale() == 0
    assert [event for event, _, _ in audit_rows(run)] == ["ingestion_run_started", "ingestion_run_failed"]
    failed = LogEntry.objects.get_for_object(run).get(additional_data__event="ingestion_run_failed")
    assert failed.changes == {"status": ["pending", "failed"]}
    assert "no worker picked the run up" in failed.additional_data["reason"]
