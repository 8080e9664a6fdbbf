"""Cost ingestion pages: health figures, run now and its progress page, sources, rules with preview, query counts."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from governance.choices import SignalRunTrigger
from governance.models import SignalRun
from governance.services import policy_set
from portfolio.choices import RunStatus, RunTrigger
from portfolio.costs import tables as cost_tables
from portfolio.models import AllocationRule, CostForecast, CostRecord, CostSource, IngestionRun, MonthlyCost
from tests.factories import InitiativeFactory
from tests.portfolio.costs.export_files import GOOD_EXPORTS, WRONG_EXPORTS, Export, exports, upload_source
from tests.portfolio.costs.factories import CostSourceFactory, IngestionRunFactory, source_added

pytestmark = pytest.mark.django_db

HEALTH_URL = reverse("portfolio:ingestion_health")
RUNS_URL = reverse("portfolio:ingestionrun_list")
SOURCES_URL = reverse("portfolio:costsource_list")
RULES_URL = reverse("portfolio:allocationrule_list")
RULE_NEW_URL = reverse("portfolio:allocationrule_create")
SECRET = "sk-ant-admin01-THIS-IS-A-TEST-SECRET-9f8e7d"
JUNE = date(2025, 6, 1)


def plain_csv(*rows: str) -> bytes:
    return ("date,initiative,key,category,amount,currency,quantity,unit\n" + "\n".join(rows) + "\n").encode()


def june_costs(initiative_external_id: str) -> bytes:
    """A month of oversight, inference and GPU spend: 150 tagged 'search', 25 tagged 'other', 300 named directly."""
    return plain_csv(
        "2025-06-10,,tag:project=search,inference,100.00,USD,,",
        "2025-06-11,,tag:project=search,inference,50.00,USD,,",
        "2025-06-12,,tag:project=other,compute,25.00,USD,4,GPU-hours",
        f"2025-06-30,{initiative_external_id},,oversight,300.00,USD,10,hours",
    )


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def csv_source(db):
    return CostSource.objects.create(name="contracts-csv", type="csv", schedule="monthly")


@pytest.fixture
def api_source(db, monkeypatch):
    monkeypatch.setenv("TOLLGATE_TEST_ANTHROPIC_KEY", SECRET)
    return CostSource.objects.create(
        name="anthropic-admin", type="anthropic", credential_env="TOLLGATE_TEST_ANTHROPIC_KEY",
        settings={"base_url": "http://127.0.0.1:9/", "workspace_ids": ["wrkspc_01"]},
    )


def record(source: CostSource, amount: str, keys: dict[str, str], initiative=None, period: date = JUNE) -> CostRecord:
    value = Decimal(amount)
    return CostRecord.objects.create(
        source=source, period=period, charge_date=period + timedelta(days=9), amount=value, currency="USD",
        amount_reporting=value, category="inference", keys=keys, initiative=initiative,
    )


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def csv_rows(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


# Health page ---------------------------------------------------------------------------------------------------------


def months_ago(count: int) -> date:
    month = timezone.localdate().replace(day=1)
    for _ in range(count):
        month = (month - timedelta(days=1)).replace(day=1)
    return month


@pytest.fixture
def grace_none(admin_user):
    """No grace: last month is owed from the 1st, whatever day the tests run on."""
    policy_set(actor=admin_user, key="ingestion.grace_days", value=0)


def test_health_shows_the_latest_complete_months_spend_and_the_unallocated_gap(login, reviewer, csv_source):
    """The month so far is partial: the headline is last month, the latest that every source has delivered."""
    initiative = InitiativeFactory()
    this_month, last_month, two_ago = months_ago(0), months_ago(1), months_ago(2)
    MonthlyCost.objects.create(initiative=initiative, month=this_month, category="inference", amount=Decimal("77"))
    MonthlyCost.objects.create(initiative=initiative, month=last_month, category="inference", amount=Decimal("900"))
    MonthlyCost.objects.create(initiative=None, month=last_month, category="inference", amount=Decimal("100"))
    MonthlyCost.objects.create(initiative=initiative, month=two_ago, category="compute", amount=Decimal("500.5"))
    record(csv_source, "100", {"tag:project": "nobody"}, period=last_month)

    response = login(reviewer).get(HEALTH_URL)

    assert response.status_code == 200
    headline = response.context["headline"]
    assert headline["month"].start == last_month and headline["previous_month"].start == two_ago
    assert headline["total"] == Decimal("1000")
    assert headline["total_previous"] == Decimal("500.5")
    assert headline["unallocated"] == Decimal("100.00")
    assert headline["share_allocated"] == Decimal("90")
    html = response.content.decode()
    assert "$1,000.00" in html and "$500.50" in html and "90.0%" in html and "$77.00" not in html
    assert 'id="unallocated-spend">$100.00' in html
    assert f"{last_month:%Y-%m} is the latest complete month" in html
    source_row = next(row for row in response.context["table"].rows if row.record == csv_source)
    assert source_row.record.unallocated == Decimal("100")
    # The column names the month it shows (the headline's, not the month so far), and only on this table.
    assert response.context["table"].columns["unallocated"].header == f"Unallocated in {last_month:%Y-%m} (USD)"
    assert cost_tables.SourceHealthTable([]).columns["unallocated"].header == "Unallocated this month (USD)"
    assert "Run now" not in html  # reviewers read; only administrators run sources


def test_health_headline_skips_a_month_only_some_sources_delivered(login, reviewer, csv_source, grace_none):
    """The issue's case: three rows uploaded for a month the other sources have not delivered do not make it the
    headline; each source says which months it misses, and the stale ones are listed first."""
    long_ago = timezone.now() - timedelta(days=400)
    focus = source_added(CostSourceFactory(name="azure-focus", schedule="monthly"), long_ago)
    source_added(csv_source, long_ago)
    three_ago, two_ago, last_month = months_ago(3), months_ago(2), months_ago(1)
    for source in (focus, csv_source):
        IngestionRunFactory(source=source, period=three_ago)
    IngestionRunFactory(source=csv_source, period=two_ago)
    initiative = InitiativeFactory()
    MonthlyCost.objects.create(initiative=initiative, month=three_ago, category="inference",
                               amount=Decimal("189719.87"))
    MonthlyCost.objects.create(initiative=initiative, month=two_ago, category="other", amount=Decimal("1150"))
    MonthlyCost.objects.create(initiative=None, month=two_ago, category="other", amount=Decimal("800"))

    response = login(reviewer).get(HEALTH_URL)

    headline = response.context["headline"]
    assert headline["month"].start == three_ago and headline["total"] == Decimal("189719.87")
    assert [(period.start, owing) for period, owing in headline["incomplete"]] == [
        (two_ago, ["azure-focus"]), (last_month, ["azure-focus", "contracts-csv"])]
    html = response.content.decode()
    assert "$1,950.00" not in html and "$189,719.87" in html
    assert f"Not complete yet: {two_ago:%Y-%m} (not read from azure-focus)" in html
    assert [source.name for source in response.context["stale_sources"]] == ["azure-focus", "contracts-csv"]
    focus_row = next(row for row in response.context["table"].rows if row.record == focus)
    assert focus_row.record.freshness.missing == (two_ago, last_month) and focus_row.record.freshness.late
    assert f"missing {two_ago:%Y-%m}, {last_month:%Y-%m}" in html
    assert html.index('id="stale-sources"') < html.index('id="spend-month"')


def test_health_without_a_complete_month_says_so(login, reviewer, csv_source):
    this_month = months_ago(0)
    MonthlyCost.objects.create(initiative=None, month=this_month, category="compute", amount=Decimal("5"))
    response = login(reviewer).get(HEALTH_URL)
    assert response.context["headline"]["month"] is None
    html = response.content.decode()
    assert "No month is complete yet" in html and 'id="spend-month"' not in html
    assert 'id="stale-sources"' not in html  # a source added this month owes nothing yet


def test_health_falls_back_to_the_latest_month_with_costs(login, reviewer, csv_source):
    """Monthly exports arrive after the month: a month without any cost is not complete either."""
    two_ago, three_ago = months_ago(2), months_ago(3)
    MonthlyCost.objects.create(initiative=InitiativeFactory(), month=two_ago, category="inference",
                               amount=Decimal("880"))
    MonthlyCost.objects.create(initiative=None, month=two_ago, category="compute", amount=Decimal("120"))
    MonthlyCost.objects.create(initiative=None, month=three_ago, category="compute", amount=Decimal("40"))

    response = login(reviewer).get(HEALTH_URL)
    headline = response.context["headline"]
    assert headline["month"].start == two_ago
    assert (headline["total"], headline["unallocated"]) == (Decimal("1000"), Decimal("120.00"))
    assert headline["total_previous"] == Decimal("40")
    html = response.content.decode()
    assert f"unallocated in {two_ago:%Y-%m}" in html
    assert reverse("portfolio:currencyrate_list") in html


def test_health_offers_run_now_with_an_upload_only_for_file_sources(login, admin_user, csv_source, api_source):
    html = login(admin_user).get(HEALTH_URL).content.decode()
    assert html.count(">Run now</button>") == 2
    assert html.count('type="file" name="file"') == 1  # the CSV source; the Anthropic API source reads its API
    assert reverse("portfolio:costsource_run", args=[csv_source.pk]) in html
    assert f'value="{timezone.localdate():%Y-%m}"' in html


def test_nav_shows_cost_ingestion_to_readers_only(login, reviewer, owner):
    assert "Cost ingestion" in login(reviewer).get(HEALTH_URL).content.decode()
    page = login(owner).get(reverse("portfolio:initiative_list")).content.decode()
    assert "Cost ingestion" not in page


# Run now -------------------------------------------------------------------------------------------------------------


def test_run_now_creates_a_user_run_which_executes_and_shows_its_result(
    login, admin_user, csv_source, django_capture_on_commit_callbacks
):
    initiative = InitiativeFactory()
    AllocationRule.objects.create(source=csv_source, key="tag:project", value="search", initiative=initiative)
    upload = SimpleUploadedFile("june.csv", june_costs(initiative.external_id), content_type="text/csv")
    client = login(admin_user)
    # Added when its June export was due: a source added today holding only a month of 2025 leaves the months
    # between unread by anyone, so no month would be complete (and no forecast computed).
    CostSource.objects.filter(pk=csv_source.pk).update(created_at=datetime(2025, 6, 1, 9, tzinfo=UTC))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("portfolio:costsource_run", args=[csv_source.pk]),
                               {"period": "2025-06", "file": upload})

    # The run, queued once after the commit; its success queues the spend forecast's recomputation and the signals'
    # computation in turn.
    assert len(callbacks) == 3 and CostForecast.objects.get().as_of == JUNE
    assert SignalRun.objects.get().trigger == SignalRunTrigger.INGESTION
    run = IngestionRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portfolio:ingestionrun_detail", args=[run.pk])
    assert (run.source, run.period, run.trigger, run.actor) == (csv_source, JUNE, RunTrigger.USER, admin_user)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.rows_written == 4
    assert run.unallocated_amount == Decimal("25.00")
    assert CostRecord.objects.filter(source=csv_source, initiative=initiative).count() == 3

    page = client.get(response["Location"])
    html = page.content.decode()
    assert 'id="run-status">Succeeded' in html
    assert 'http-equiv="refresh"' not in html
    assert 'id="rows-written">4' in html
    assert "$25.00" in html


def test_run_now_of_an_unreachable_provider_without_a_broker_shows_the_failed_run(
    login, admin_user, api_source, django_capture_on_commit_callbacks
):
    """No broker (`make run`): the provider's outage fails the run at once with its error, and the page goes to the
    run as usual. It used to be a 500 page and a run left pending that nothing would ever retry."""
    api_source.settings["backoff"] = 0.001  # its base_url is a closed port: the connection is refused
    api_source.save()
    client = login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portfolio:costsource_run", args=[api_source.pk]), {"period": "2025-06"})

    run = IngestionRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portfolio:ingestionrun_detail", args=[run.pk])
    assert run.status == RunStatus.FAILED and "127.0.0.1:9" in run.error, run.error
    html = client.get(response["Location"]).content.decode()
    assert 'id="run-status">Failed' in html and "run it again" in html
    assert 'http-equiv="refresh"' not in html


def test_the_run_page_refreshes_every_two_seconds_while_pending_or_running(login, reviewer, csv_source):
    pending = IngestionRun.objects.create(source=csv_source, period=JUNE)
    running = IngestionRun.objects.create(source=csv_source, period=JUNE, status=RunStatus.RUNNING,
                                          started_at=timezone.now(), progress=1234)
    client = login(reviewer)

    html = client.get(reverse("portfolio:ingestionrun_detail", args=[pending.pk])).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in html
    assert "Waiting for a worker" in html

    html = client.get(reverse("portfolio:ingestionrun_detail", args=[running.pk])).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in html
    assert 'id="run-status">Running' in html
    assert "1,234 rows so far" in html


def test_a_failed_run_shows_where_it_failed_and_keeps_the_previous_data(
    login, admin_user, csv_source, django_capture_on_commit_callbacks
):
    kept = record(csv_source, "42.00", {"tag:project": "search"})
    bad = plain_csv("2025-06-10,,tag:project=search,inference,twelve,USD,,")
    client = login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portfolio:costsource_run", args=[csv_source.pk]),
                               {"period": "2025-06", "file": SimpleUploadedFile("bad.csv", bad)})

    run = IngestionRun.objects.get()
    assert run.status == RunStatus.FAILED
    html = client.get(response["Location"]).content.decode()
    assert 'id="run-status">Failed' in html
    assert "bad.csv" in html and "row 2" in html  # the error names the file and the row
    assert 'http-equiv="refresh"' not in html
    assert list(CostRecord.objects.all()) == [kept]


def test_run_now_rejects_a_bad_period_and_an_oversized_file_without_creating_a_run(
    login, admin_user, csv_source, settings
):
    settings.INGESTION_MAX_FILE_MB = 0
    url = reverse("portfolio:costsource_run", args=[csv_source.pk])
    client = login(admin_user)

    response = client.post(url, {"period": "2025-13"})
    assert response.status_code == 200
    assert "Period must be YYYY-MM" in " ".join(response.context["form"].errors["period"])

    response = client.post(url, {"period": "2025-06", "file": SimpleUploadedFile("big.csv", b"x" * 2048)})
    assert response.status_code == 200
    assert "big.csv is larger than the 0 MB upload limit" in response.content.decode()
    assert not IngestionRun.objects.exists()


def test_run_now_without_a_file_for_a_source_without_a_path_asks_for_the_file(login, admin_user, csv_source):
    """A run that could only fail in the worker ("give one (--file PATH or an upload)") is not created."""
    url = reverse("portfolio:costsource_run", args=[csv_source.pk])
    client = login(admin_user)
    assert "Required (CSV, gzip CSV)" in client.get(url).content.decode()
    response = client.post(url, {"period": "2025-06"})
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == ["The source contracts-csv has no configured path to read its "
                                                       "export from: upload the export file for the month."]
    assert not IngestionRun.objects.exists()


def stored_files(settings) -> list[Path]:
    media = Path(settings.MEDIA_ROOT)
    return [path for path in media.rglob("*") if path.is_file()] if media.exists() else []


@pytest.mark.parametrize("export", exports(WRONG_EXPORTS))
def test_run_now_refuses_an_export_whose_header_the_source_cannot_read_naming_it_and_stores_nothing(
    login, admin_user, settings, upload_temp, export: Export
):
    source = upload_source(export.source_type)
    response = login(admin_user).post(reverse("portfolio:costsource_run", args=[source.pk]), {
        "period": "2025-06", "file": SimpleUploadedFile(export.name, export.content)})
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["file"]
    (message,) = form.errors["file"]
    assert message.startswith(export.message), message
    assert escape(message) in response.content.decode()
    assert IngestionRun.objects.count() == 0
    assert stored_files(settings) == [] and list(upload_temp.iterdir()) == []


@pytest.mark.parametrize("export", exports(GOOD_EXPORTS))
def test_run_now_accepts_an_export_whose_header_the_source_reads(login, admin_user, settings, upload_temp,
                                                                  export: Export):
    source = upload_source(export.source_type)
    response = login(admin_user).post(reverse("portfolio:costsource_run", args=[source.pk]), {
        "period": "2025-06", "file": SimpleUploadedFile(export.name, export.content)})
    run = IngestionRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portfolio:ingestionrun_detail", args=[run.pk])
    assert (run.source, run.filename) == (source, export.name)
    assert [path.read_bytes() for path in stored_files(settings)] == [export.content]
    assert list(upload_temp.iterdir()) == []


def test_the_run_form_of_an_api_source_has_no_upload(login, admin_user, api_source):
    response = login(admin_user).get(reverse("portfolio:costsource_run", args=[api_source.pk]))
    assert response.status_code == 200
    assert "file" not in response.context["form"].fields


# Runs list -----------------------------------------------------------------------------------------------------------


def make_runs(source: CostSource, user, count: int) -> None:
    for index in range(count):
        IngestionRun.objects.create(
            source=source, period=date(2025, 1 + index % 12, 1), actor=user,
            status=RunStatus.FAILED if index % 3 == 0 else RunStatus.SUCCEEDED, rows_read=index,
        )


def test_runs_list_filters_sorts_and_exports(login, reviewer, admin_user, csv_source, api_source):
    make_runs(csv_source, admin_user, 6)
    make_runs(api_source, None, 2)
    client = login(reviewer)

    response = client.get(RUNS_URL, {"source": csv_source.pk, "status": "failed"})
    records = [row.record for row in response.context["table"].page.object_list]
    assert {r.source for r in records} == {csv_source}
    assert {r.status for r in records} == {"failed"}
    assert len(records) == 2

    response = client.get(RUNS_URL, {"period": "2025-02"})
    assert {r.period for r in (row.record for row in response.context["table"].page.object_list)} == {
        date(2025, 2, 1)}

    response = client.get(RUNS_URL, {"sort": "rows_read"})
    values = [row.record.rows_read for row in response.context["table"].page.object_list]
    assert values == sorted(values)

    rows = csv_rows(client.get(RUNS_URL, {"_export": "csv", "source": api_source.pk}))
    assert rows[0][:3] == ["When", "Source", "Period"]
    assert len(rows) == 3 and rows[1][1] == "anthropic-admin"


@pytest.mark.parametrize("url", [RUNS_URL, SOURCES_URL, RULES_URL, HEALTH_URL])
def test_list_pages_run_a_constant_number_of_queries(login, admin_user, csv_source, url):
    client = login(admin_user)
    initiative = InitiativeFactory()
    make_runs(csv_source, admin_user, 2)
    AllocationRule.objects.create(source=csv_source, key="tag:project", value="a", initiative=initiative)
    few = count_queries(client, url)

    for number in range(6):
        source = CostSource.objects.create(name=f"focus-{number}", type="focus")
        make_runs(source, admin_user, 3)
        AllocationRule.objects.create(source=source, key="namespace", match="prefix", value=f"team-{number}",
                                      initiative=InitiativeFactory())
    many = count_queries(client, url)
    assert many == few


# Sources -------------------------------------------------------------------------------------------------------------


def test_source_detail_shows_settings_and_the_credential_variable_name(login, executive, api_source):
    html = login(executive).get(reverse("portfolio:costsource_detail", args=[api_source.pk])).content.decode()
    assert "<code>TOLLGATE_TEST_ANTHROPIC_KEY</code>" in html
    assert "wrkspc_01" in html and "base_url" in html
    assert reverse("portfolio:costsource_edit", args=[api_source.pk]) not in html  # executives change nothing


def test_secrets_never_appear_on_any_page(login, admin_user, api_source, csv_source):
    run = IngestionRun.objects.create(source=api_source, period=JUNE, status=RunStatus.FAILED,
                                      error="HTTP 401 from /v1/organizations/cost_report")
    client = login(admin_user)
    urls = [
        HEALTH_URL, SOURCES_URL, f"{SOURCES_URL}?_export=csv", RUNS_URL, f"{RUNS_URL}?_export=csv", RULES_URL,
        reverse("portfolio:costsource_detail", args=[api_source.pk]),
        reverse("portfolio:costsource_run", args=[api_source.pk]),
        reverse("portfolio:ingestionrun_detail", args=[run.pk]),
        reverse("admin:portfolio_costsource_change", args=[api_source.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert SECRET not in response.content.decode(), url
    assert "TOLLGATE_TEST_ANTHROPIC_KEY" in client.get(urls[6]).content.decode()


# Adding and editing a source ------------------------------------------------------------------------------------------


def test_an_administrator_adds_a_source_in_the_app_through_the_service(login, admin_user):
    client = login(admin_user)
    assert 'id="add-source"' in client.get(SOURCES_URL).content.decode()
    response = client.post(reverse("portfolio:costsource_create"), {
        "name": "openai-main", "type": "openai", "schedule": "monthly", "credential_env": "OPENAI_ADMIN_KEY",
        "settings": '{"project_ids": ["proj_1"]}', "enabled": "on",
    })
    source = CostSource.objects.get(name="openai-main")
    assert response.status_code == 302 and response["Location"] == reverse("portfolio:costsource_detail",
                                                                           args=[source.pk])
    assert (source.type, source.schedule, source.credential_env, source.settings, source.enabled) == (
        "openai", "monthly", "OPENAI_ADMIN_KEY", {"project_ids": ["proj_1"]}, True)
    entry = LogEntry.objects.get_for_object(source).get()  # the service's one audit row, with who did it
    assert entry.additional_data["event"] == "cost_source_created" and entry.actor == admin_user


def test_an_administrator_edits_a_source_and_the_change_is_audited(login, admin_user, api_source):
    client = login(admin_user)
    url = reverse("portfolio:costsource_edit", args=[api_source.pk])
    assert url in client.get(reverse("portfolio:costsource_detail", args=[api_source.pk])).content.decode()
    form = client.get(url).content.decode()
    assert "TOLLGATE_TEST_ANTHROPIC_KEY" in form and SECRET not in form
    response = client.post(url, {"name": api_source.name, "type": api_source.type, "schedule": "weekly? no",
                                 "credential_env": api_source.credential_env, "settings": "{}", "enabled": "on"})
    assert response.status_code == 200 and "schedule" in response.context["form"].errors  # the model's check
    response = client.post(url, {"name": api_source.name, "type": api_source.type, "schedule": "0 6 * * 1",
                                 "credential_env": api_source.credential_env,
                                 "settings": json.dumps(api_source.settings), "enabled": ""})
    api_source.refresh_from_db()
    assert response.status_code == 302 and api_source.schedule == "0 6 * * 1" and not api_source.enabled
    entry = LogEntry.objects.get_for_object(api_source).latest("pk")
    assert entry.additional_data["event"] == "cost_source_changed" and set(entry.changes_dict) == {"schedule",
                                                                                                  "enabled"}


def test_the_source_form_refuses_a_secret_in_the_settings(login, admin_user):
    response = login(admin_user).post(reverse("portfolio:costsource_create"), {
        "name": "leaky", "type": "openai", "schedule": "daily", "settings": '{"api_key": "sk-live-123"}',
    })
    assert response.status_code == 200 and "settings" in response.context["form"].errors
    assert "sk-live-123" not in str(response.context["form"].errors)
    assert not CostSource.objects.filter(name="leaky").exists()


def test_the_source_form_says_what_a_name_may_hold_and_what_was_wrong(login, admin_user):
    """A source's name is its key (`ingest NAME`, the costs configuration file): a space is refused, saying so."""
    client = login(admin_user)
    page = client.get(reverse("portfolio:costsource_create")).content.decode()
    assert "Letters, digits, dots, hyphens and underscores, e.g. azure-focus." in page
    response = client.post(reverse("portfolio:costsource_create"),
                           {"name": "Azure OpenAI", "type": "openai", "schedule": "daily", "settings": "{}"})
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == [
        "A cost source's name may hold letters, digits, dots, hyphens and underscores only (it is the source's key on "
        "the command line and in the costs configuration file): “Azure OpenAI” has a space."]
    assert "Enter a valid value" not in response.content.decode()
    assert not CostSource.objects.exists()


@pytest.mark.parametrize("role", ["owner", "reviewer", "executive"])
def test_only_administrators_add_or_edit_sources(login, request, role, api_source):
    client = login(request.getfixturevalue(role))
    assert client.get(reverse("portfolio:costsource_create")).status_code == 403
    assert client.post(reverse("portfolio:costsource_edit", args=[api_source.pk]),
                       {"name": "renamed", "type": "openai", "schedule": "daily"}).status_code == 403
    assert not CostSource.objects.filter(name="renamed").exists()


# Allocation rules ----------------------------------------------------------------------------------------------------


@pytest.fixture
def spend(csv_source):
    """Two unallocated 'search' records (150), one 'other' record of another initiative (25)."""
    other = InitiativeFactory(external_id="INV-OTHER")
    AllocationRule.objects.create(source=csv_source, order=10, key="tag:project", value="other", initiative=other)
    record(csv_source, "100.00", {"tag:project": "search-assistant"})
    record(csv_source, "50.00", {"tag:project": "search-bot"})
    record(csv_source, "25.00", {"tag:project": "other"}, initiative=other)
    return other


def rule_data(source: CostSource, initiative, **overrides) -> dict:
    return {"source": source.pk, "order": 0, "key": "tag:project", "match": "regex", "value": "^(search|oth)",
            "initiative": initiative.pk, **overrides}


def test_rule_preview_shows_the_effect_and_writes_nothing(login, admin_user, csv_source, spend):
    target = InitiativeFactory(external_id="INV-SEARCH")
    before = list(CostRecord.objects.order_by("pk").values_list("initiative_id", flat=True))

    response = login(admin_user).post(RULE_NEW_URL, {**rule_data(csv_source, target), "preview": "1"})

    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview["matched_records"] == 3
    assert preview["amount"] == Decimal("175")
    assert preview["currently_unallocated_amount"] == Decimal("150")
    assert preview["taken_from_other_initiatives"] == Decimal("25")
    html = response.content.decode()
    assert 'id="preview-matched">3' in html and "$175.00" in html and "INV-OTHER" in html
    assert AllocationRule.objects.count() == 1
    assert list(CostRecord.objects.order_by("pk").values_list("initiative_id", flat=True)) == before
    assert not MonthlyCost.objects.exists()


def test_saving_a_rule_reallocates_existing_records_and_their_rollups(login, admin_user, csv_source, spend):
    target = InitiativeFactory(external_id="INV-SEARCH")

    response = login(admin_user).post(RULE_NEW_URL, {**rule_data(csv_source, target, match="prefix",
                                                                 value="search"), "save": "1"})

    assert response.status_code == 302
    rule = AllocationRule.objects.get(initiative=target)
    assert (rule.key, rule.match, rule.value) == ("tag:project", "prefix", "search")
    assert CostRecord.objects.filter(initiative=target).count() == 2
    assert CostRecord.objects.filter(initiative__isnull=True).count() == 0
    assert MonthlyCost.objects.get(initiative=target, month=JUNE).amount == Decimal("150.00")


def test_editing_a_rule_reallocates(login, admin_user, csv_source, spend):
    rule = AllocationRule.objects.get()
    data = rule_data(csv_source, spend, match="exact", value="search-bot", order=10)
    response = login(admin_user).post(reverse("portfolio:allocationrule_edit", args=[rule.pk]), {**data, "save": "1"})
    assert response.status_code == 302
    assert set(CostRecord.objects.filter(initiative=spend).values_list("amount", flat=True)) == {Decimal("50")}


def test_a_new_rule_without_an_order_goes_after_the_sources_last_in_its_preview_and_once_saved(
    login, admin_user, csv_source, spend
):
    """As in the API and the README: the page asked for an order the service does not need."""
    client = login(admin_user)
    form = client.get(RULE_NEW_URL).context["form"]
    assert form["order"].value() is None and not form.fields["order"].required
    assert "Leave it empty to put the rule after the source's last one." in form.fields["order"].help_text
    target = InitiativeFactory(external_id="INV-SEARCH")

    # After the order-10 rule, which keeps deciding the 'other' record: the new rule takes nothing from it.
    preview = client.post(RULE_NEW_URL, {**rule_data(csv_source, target, order=""), "preview": "1"}).context["preview"]
    assert (preview["matched_records"], preview["amount"], preview["taken_from_other_initiatives"]) == (
        2, Decimal("150"), Decimal("0"))

    response = client.post(RULE_NEW_URL, {**rule_data(csv_source, target, order=""), "save": "1"})
    assert response.status_code == 302
    assert AllocationRule.objects.get(initiative=target).order == 11
    entry = LogEntry.objects.filter(additional_data__event="allocation_rule_created").get()
    assert entry.changes_dict["order"] == [None, "11"]


@pytest.mark.parametrize(("field", "bad", "message"), [
    ("value", "search(", "Invalid regular expression"),
    ("key", "project", "Unknown key"),
])
def test_a_bad_rule_is_a_form_error_and_saves_nothing(login, admin_user, csv_source, spend, field, bad, message):
    target = InitiativeFactory()
    client = login(admin_user)
    for button in ("preview", "save"):
        response = client.post(RULE_NEW_URL, {**rule_data(csv_source, target, **{field: bad}), button: "1"})
        assert response.status_code == 200
        assert message in " ".join(response.context["form"].errors[field])
        assert response.context["preview"] is None
    assert AllocationRule.objects.count() == 1


def test_rules_list_is_per_source_in_order_with_edit_links_for_admins(login, admin_user, reviewer, csv_source):
    initiative = InitiativeFactory()
    second = AllocationRule.objects.create(source=csv_source, order=20, key="namespace", value="b",
                                           initiative=initiative)
    first = AllocationRule.objects.create(source=csv_source, order=10, key="namespace", value="a",
                                          initiative=initiative)
    response = login(reviewer).get(RULES_URL, {"source": csv_source.pk})
    assert [row.record for row in response.context["table"].page.object_list] == [first, second]
    assert "New rule" not in response.content.decode()
    assert reverse("portfolio:allocationrule_edit", args=[first.pk]) not in response.content.decode()

    html = login(admin_user).get(RULES_URL).content.decode()
    assert reverse("portfolio:allocationrule_edit", args=[first.pk]) in html
    assert "New rule" in html


@pytest.mark.skipif(connection.vendor != "sqlite", reason="only SQLite stores a value beyond its column")
def test_pages_survive_a_run_an_older_version_stored_with_a_total_beyond_its_column(login, admin_user, csv_source):
    """Before the connectors refused such amounts, SQLite kept a run's total of 1e14 in numeric(14, 2); reading it
    back raised InvalidOperation on every page listing the run."""
    run = IngestionRunFactory(source=csv_source)
    MonthlyCost.objects.create(month=JUNE, category="compute", amount=Decimal("1"))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE portfolio_ingestionrun SET unallocated_amount = 100000000000000.0 WHERE id = %s",
                       [run.pk])
        cursor.execute("UPDATE portfolio_monthlycost SET amount = 100000000000000.0")
    client = login(admin_user)

    for url in (HEALTH_URL, RUNS_URL, reverse("portfolio:ingestionrun_detail", args=[run.pk]),
                reverse("portfolio:costsource_detail", args=[csv_source.pk]), "/api/ingestion-runs/",
                f"/api/ingestion-runs/{run.pk}/"):
        assert client.get(url).status_code == 200, url
    assert IngestionRun.objects.get(pk=run.pk).unallocated_amount == Decimal("100000000000000.00")


@pytest.mark.parametrize(("period", "message"), [
    ("1900-01", "The period 1900-01 is before 1990-01: no initiative starts before 1990."),
    ("2999-01", "The period 2999-01 is in the future: the latest month that can be read is "),
])
def test_run_now_refuses_a_period_before_1990_or_in_the_future(login, admin_user, csv_source, period, message):
    response = login(admin_user).post(reverse("portfolio:costsource_run", args=[csv_source.pk]), {"period": period})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["period"])
    assert not IngestionRun.objects.exists()


def test_run_now_replaces_a_month_with_nothing_only_when_ticked_and_says_so(
    login, admin_user, csv_source, django_capture_on_commit_callbacks
):
    InitiativeFactory(external_id="INV-0001")
    client = login(admin_user)
    url = reverse("portfolio:costsource_run", args=[csv_source.pk])
    assert 'name="replace_with_nothing"' in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"period": "2025-06", "file": SimpleUploadedFile("june.csv", june_costs("INV-0001"))})
        refused = client.post(url, {"period": "2025-06", "file": SimpleUploadedFile("empty.csv", plain_csv())})
    assert "they are kept" in client.get(refused["Location"]).content.decode()
    assert CostRecord.objects.filter(source=csv_source).count() == 4

    with django_capture_on_commit_callbacks(execute=True):
        emptied = client.post(url, {"period": "2025-06", "file": SimpleUploadedFile("empty.csv", plain_csv()),
                                    "replace_with_nothing": "on"})
    html = client.get(emptied["Location"]).content.decode()
    assert 'id="run-warning"' in html and "the 4 records read before were replaced with nothing" in html
    assert not CostRecord.objects.filter(source=csv_source).exists()


def test_a_new_sources_settings_start_as_an_empty_object(login, admin_user):
    """Not the text "null", which an administrator would have to clear before typing a JSON object."""
    form = login(admin_user).get(reverse("portfolio:costsource_create")).context["form"]
    assert form["settings"].value() == "{}"


def test_with_no_source_the_cost_pages_link_administrators_to_add_one(login, admin_user, executive):
    add = reverse("portfolio:costsource_create")
    for url in (reverse("portfolio:ingestion_health"), reverse("portfolio:costsource_list")):
        content = login(admin_user).get(url).content.decode()
        assert f'<a href="{add}" id="empty-add-source">add a source</a>' in content
        assert "in the admin or with" not in content
        other = login(executive).get(url).content.decode()
        assert "No cost sources yet: an administrator adds them on the Sources page" in other and add not in other
    health = login(admin_user).get(reverse("portfolio:ingestion_health")).content.decode()
    assert f'id="manage-sources" href="{reverse("portfolio:costsource_list")}"' in health
    assert reverse("admin:portfolio_costsource_changelist") not in health


def test_health_names_the_months_nobody_read_and_a_previous_month_without_data(login, reviewer, csv_source):
    """Findings 1 and 10 of the first-week walk: an old month and the current month with nothing between make no
    month complete, and the page names the gap; a previous month nobody read is "no data", not $0.00."""
    initiative = InitiativeFactory()
    MonthlyCost.objects.create(initiative=initiative, month=months_ago(27), category="other", amount=Decimal("5"))
    MonthlyCost.objects.create(initiative=initiative, month=months_ago(0), category="other", amount=Decimal("9"))
    html = login(reviewer).get(HEALTH_URL).content.decode()
    assert "No month is complete yet" in html
    assert f"No source delivered {months_ago(26):%Y-%m} to {months_ago(1):%Y-%m}" in html

    MonthlyCost.objects.all().delete()
    MonthlyCost.objects.create(initiative=initiative, month=months_ago(1), category="other", amount=Decimal("5"))
    response = login(reviewer).get(HEALTH_URL)
    assert response.context["headline"]["total_previous"] is None
    html = response.content.decode()
    assert f"no data for {months_ago(2):%Y-%m}" in html and f"AI spend in {months_ago(2):%Y-%m}" not in html


# A run's unallocated spend at reading and its month's now -----------------------------------------------------------


def reallocated_run(source: CostSource, admin_user) -> IngestionRun:
    """A June run that left $175 unallocated, then a rule that maps 'search' ($150 of it) to an initiative."""
    from portfolio.costs.services.allocation import allocation_rule_create

    for amount, project in (("100", "search"), ("50", "search"), ("25", "other")):
        record(source, amount, {"tag:project": project})
    run = IngestionRun.objects.create(source=source, period=JUNE, actor=admin_user, status=RunStatus.SUCCEEDED,
                                      rows_read=3, rows_written=3, unallocated_amount=Decimal("175.00"))
    allocation_rule_create(actor=admin_user, source=source, key="tag:project", value="search",
                           initiative=InitiativeFactory())
    return run


def test_a_run_shows_its_unallocated_spend_at_reading_beside_its_months_unallocated_spend_now(
    login, admin_user, csv_source
):
    run = reallocated_run(csv_source, admin_user)
    other = CostSource.objects.create(name="other-csv", type="csv")
    record(other, "999", {"tag:project": "nobody"})  # another source's unallocated spend of June is not this one's
    client = login(admin_user)

    html = client.get(reverse("portfolio:ingestionrun_detail", args=[run.pk])).content.decode()
    assert 'id="run-unallocated">$175.00</span><span class="l">unallocated at reading' in html
    assert 'id="run-unallocated-now">$25.00</span><span class="l">unallocated in 2025-06 of contracts-csv now' in html

    table = client.get(reverse("portfolio:costsource_detail", args=[csv_source.pk])).context["runs_table"]
    row = next(iter(table.rows))
    assert (row.get_cell("unallocated_amount"), row.get_cell("unallocated_now")) == ("$175.00", "$25.00")
    assert table.columns["unallocated_amount"].header == "Unallocated at reading (USD)"

    rows = csv_rows(client.get(RUNS_URL, {"_export": "csv", "source": csv_source.pk}))
    header = rows[0]
    assert header[header.index("Unallocated at reading (USD)") + 1] == "Unallocated now (USD)"
    assert rows[1][header.index("Unallocated at reading (USD)"):][:2] == ["175.00", "25.00"]


def test_a_failed_run_shows_no_counts_nor_unallocated_spend_on_the_pages_and_empty_cells_in_the_csv(
    login, reviewer, csv_source
):
    IngestionRun.objects.create(source=csv_source, period=JUNE, status=RunStatus.FAILED, error="row 3: bad amount")
    client = login(reviewer)
    figures = ("rows_read", "rows_written", "rows_skipped", "unallocated_amount", "unallocated_now")

    for url, name in ((reverse("portfolio:costsource_detail", args=[csv_source.pk]), "runs_table"),
                      (RUNS_URL, "table")):
        row = next(iter(client.get(url).context[name].rows))
        assert [row.get_cell(figure) for figure in figures] == ["—"] * 5

    rows = csv_rows(client.get(RUNS_URL, {"_export": "csv"}))
    header = rows[0]
    assert rows[1][header.index("Status")] == "Failed"
    assert rows[1][header.index("Read"):header.index("Unallocated now (USD)") + 1] == ["", "", "", "", ""]


@pytest.mark.parametrize(("skipped", "by_reason", "shown"), [
    (991, {"not AI spend": 990, "billed in another period": 1},
     ["990 rows skipped (not AI spend)", "1 row skipped (billed in another period)"]),
    (1, {"idle cost, OpenCost __idle__": 1}, ["1 row skipped (idle cost, OpenCost __idle__)"]),
    (3, {}, ["3 rows skipped"]),  # a run from before the reasons were kept
])
def test_a_runs_page_counts_each_reason_for_skipping_rows_once(login, reviewer, csv_source, skipped, by_reason,
                                                               shown):
    run = IngestionRun.objects.create(source=csv_source, period=JUNE, status=RunStatus.SUCCEEDED, rows_read=1000,
                                      rows_skipped=skipped, skipped_by_reason=by_reason)
    response = login(reviewer).get(reverse("portfolio:ingestionrun_detail", args=[run.pk]))
    assert response.context["skipped_reasons"] == shown
    html = response.content.decode()
    assert "not AI spend)</span>" not in html  # the count beside the figure is no longer labelled with one reason
    assert f'<span class="l">row{"s" if skipped != 1 else ""} skipped</span>' in html
