"""Cost ingestion API: sources (credential by name only), rules (re-allocation, 400 on bad input), runs (run now)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portfolio.choices import RunStatus, RunTrigger, SourceType
from portfolio.costs.api import views as cost_api_views
from portfolio.models import AllocationRule, CostRecord, CostSource, IngestionRun, MonthlyCost
from tests import paths
from tests.factories import InitiativeFactory
from tests.portfolio.costs.export_files import GOOD_EXPORTS, WRONG_EXPORTS, Export, exports, upload_source
from tests.portfolio.costs.factories import CostSourceFactory, CurrencyRateFactory

pytestmark = pytest.mark.django_db

SOURCES = reverse("api:costsource-list")
RULES = reverse("api:allocationrule-list")
RUNS = reverse("api:ingestionrun-list")
SECRET = "sk-admin-OPENAI-TEST-SECRET-0c1d2e3f"
JUNE = date(2025, 6, 1)


class RejectingOpenAI(BaseHTTPRequestHandler):
    """Answers like the OpenAI API does to a wrong admin key: 401 with an error object."""

    seen_keys: list[str] = []

    def do_GET(self) -> None:
        type(self).seen_keys.append(self.headers.get("Authorization", ""))
        body = json.dumps({"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error",
                                     "code": "invalid_api_key"}}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def openai_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), RejectingOpenAI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def openai_source(db, monkeypatch, openai_server):
    monkeypatch.setenv("TOLLGATE_TEST_OPENAI_ADMIN_KEY", SECRET)
    return CostSource.objects.create(name="openai-org", type="openai", credential_env="TOLLGATE_TEST_OPENAI_ADMIN_KEY",
                                     settings={"base_url": openai_server})


@pytest.fixture
def csv_source(db, tmp_path):
    (tmp_path / "costs-2025-06.csv").write_text(
        "date,initiative,key,category,amount,currency,quantity,unit\n"
        "2025-06-03,,namespace=ml-search,compute,80.00,USD,8,GPU-hours\n"
        "2025-06-04,,namespace=ml-other,compute,20.00,USD,2,GPU-hours\n"
    )
    return CostSource.objects.create(name="gpu-csv", type="csv",
                                     settings={"path": str(tmp_path / "costs-{period}.csv")})


def as_user(api_client, user):
    api_client.force_authenticate(user)
    return api_client


def unallocated_records(source: CostSource, *amounts: str) -> None:
    for number, amount in enumerate(amounts):
        CostRecord.objects.create(
            source=source, period=JUNE, charge_date=JUNE, amount=Decimal(amount), currency="USD",
            amount_reporting=Decimal(amount), category="compute", keys={"namespace": f"ml-search-{number}"},
        )


# Sources -------------------------------------------------------------------------------------------------------------


def test_viewers_read_sources_with_the_credential_name_never_the_secret(api_client, executive, openai_source):
    client = as_user(api_client, executive)
    listing = client.get(SOURCES)
    detail = client.get(reverse("api:costsource-detail", args=[openai_source.pk]))

    assert listing.status_code == detail.status_code == 200
    assert detail.json()["credential_env"] == "TOLLGATE_TEST_OPENAI_ADMIN_KEY"
    assert detail.json()["credential_configured"] is True
    for response in (listing, detail, client.get(SOURCES, {"format": "json", "type": "openai"})):
        assert SECRET not in response.content.decode()


def test_admin_creates_a_source_naming_its_credential_variable(api_client, admin_user):
    response = as_user(api_client, admin_user).post(SOURCES, {
        "name": "anthropic-admin", "type": "anthropic", "credential_env": "ANTHROPIC_ADMIN_KEY",
        "settings": {"workspace_ids": ["wrkspc_01"]}, "schedule": "daily",
    }, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["credential_configured"] is False
    assert CostSource.objects.get(name="anthropic-admin").credential_env == "ANTHROPIC_ADMIN_KEY"


@pytest.mark.parametrize(("payload", "field"), [
    ({"credential_env": SECRET}, "credential_env"),  # a key pasted where the variable's name goes
    ({"settings": {"api_key": SECRET}}, "settings"),
    ({"schedule": "every tuesday"}, "schedule"),
    ({"schedule": "99 99 * * *"}, "schedule"),  # five fields, but celery could never run it
    ({"schedule": "61 25 32 13 8"}, "schedule"),
])
def test_a_source_refuses_secrets_and_bad_input(api_client, admin_user, payload, field):
    response = as_user(api_client, admin_user).post(SOURCES, {"name": "x", "type": "openai", **payload},
                                                    format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert SECRET not in response.content.decode()
    assert not CostSource.objects.exists()


@pytest.mark.parametrize(("name", "what"), [("Azure OpenAI", "a space"), ("azure/openai", "“/”")])
def test_the_api_says_what_a_source_name_may_hold_and_what_was_wrong(api_client, admin_user, name, what):
    response = as_user(api_client, admin_user).post(SOURCES, {"name": name, "type": "openai"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"name": [
        "A cost source's name may hold letters, digits, dots, hyphens and underscores only (it is the source's key on "
        f"the command line and in the costs configuration file): “{name}” has {what}."]}
    assert not CostSource.objects.exists()
    assert as_user(api_client, admin_user).post(SOURCES, {"name": "azure_openai.eu-1", "type": "openai"},
                                                format="json").status_code == 201


def test_only_admins_write_sources(api_client, reviewer, openai_source):
    client = as_user(api_client, reviewer)
    assert client.post(SOURCES, {"name": "x", "type": "csv"}, format="json").status_code == 403
    url = reverse("api:costsource-detail", args=[openai_source.pk])
    assert client.patch(url, {"enabled": False}, format="json").status_code == 403


# Rules ---------------------------------------------------------------------------------------------------------------


def test_creating_updating_and_deleting_a_rule_reallocates(api_client, admin_user, csv_source):
    unallocated_records(csv_source, "80.00", "20.00")
    initiative = InitiativeFactory(external_id="INV-ML")
    client = as_user(api_client, admin_user)

    response = client.post(RULES, {"source": csv_source.pk, "key": "namespace", "match": "prefix",
                                   "value": "ml-search", "initiative": initiative.pk}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["initiative_external_id"] == "INV-ML"
    assert CostRecord.objects.filter(initiative=initiative).count() == 2
    assert MonthlyCost.objects.get(initiative=initiative, month=JUNE).amount == Decimal("100.00")

    url = reverse("api:allocationrule-detail", args=[response.json()["id"]])
    assert client.patch(url, {"match": "exact", "value": "ml-search-1"}, format="json").status_code == 200
    assert list(CostRecord.objects.filter(initiative=initiative).values_list("amount", flat=True)) == [
        Decimal("20")]

    assert client.delete(url).status_code == 204
    assert not CostRecord.objects.filter(initiative__isnull=False).exists()
    assert MonthlyCost.objects.get(initiative=None, month=JUNE).amount == Decimal("100.00")


@pytest.mark.parametrize(("payload", "field"), [
    ({"match": "regex", "value": "ml-(search"}, "value"),
    ({"key": "cluster"}, "key"),
])
def test_a_bad_rule_is_a_400_and_changes_nothing(api_client, admin_user, csv_source, payload, field):
    unallocated_records(csv_source, "5.00")
    initiative = InitiativeFactory()
    body = {"source": csv_source.pk, "key": "namespace", "match": "exact", "value": "ml", "initiative": initiative.pk,
            **payload}
    response = as_user(api_client, admin_user).post(RULES, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not AllocationRule.objects.exists()


def test_a_bad_regex_in_a_patch_is_a_400(api_client, admin_user, csv_source):
    rule = AllocationRule.objects.create(source=csv_source, key="namespace", match="regex", value="^ml",
                                         initiative=InitiativeFactory())
    response = as_user(api_client, admin_user).patch(reverse("api:allocationrule-detail", args=[rule.pk]),
                                                     {"value": "[unclosed"}, format="json")
    assert response.status_code == 400
    rule.refresh_from_db()
    assert rule.value == "^ml"


def test_viewers_list_rules_but_cannot_write_them(api_client, reviewer, csv_source):
    AllocationRule.objects.create(source=csv_source, key="namespace", value="a", initiative=InitiativeFactory())
    client = as_user(api_client, reviewer)
    assert client.get(RULES).json()["count"] == 1
    assert client.post(RULES, {}, format="json").status_code == 403


# Runs ----------------------------------------------------------------------------------------------------------------


def test_admin_runs_a_source_through_the_api(api_client, admin_user, csv_source, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(api_client, admin_user).post(RUNS, {"source": csv_source.pk, "period": "2025-06"},
                                                        format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["period"] == "2025-06" and body["trigger"] == "api" and body["status"] == "pending"
    run = IngestionRun.objects.get(pk=body["id"])
    assert (run.trigger, run.actor, run.status) == (RunTrigger.API, admin_user, RunStatus.SUCCEEDED)
    assert run.rows_written == 2 and run.unallocated_amount == Decimal("100.00")

    detail = api_client.get(reverse("api:ingestionrun-detail", args=[run.pk])).json()
    assert detail["status"] == "succeeded" and detail["rows_written"] == 2


def test_a_failed_api_run_records_the_error_without_the_secret(
    api_client, admin_user, openai_source, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(api_client, admin_user).post(RUNS, {"source": openai_source.pk, "period": "2025-06"},
                                                        format="json")
    run = IngestionRun.objects.get(pk=response.json()["id"])
    assert run.status == RunStatus.FAILED
    assert "HTTP 401" in run.error
    assert RejectingOpenAI.seen_keys[-1] == f"Bearer {SECRET}"  # the key went to the provider, and only there
    body = api_client.get(reverse("api:ingestionrun-detail", args=[run.pk])).content.decode()
    assert "HTTP 401" in body and SECRET not in body


def test_a_run_of_an_unreachable_provider_without_a_broker_is_a_201_and_fails_at_once(
    api_client, admin_user, django_capture_on_commit_callbacks
):
    """No broker (`make run`): the run executes in the request and nothing could retry it later, so the provider's
    outage fails it with its error. It used to be a 500 (Celery's Retry escaped) and a run left pending for ever."""
    source = CostSource.objects.create(name="opencost-gpu", type="opencost",
                                       settings={"base_url": "http://127.0.0.1:9/", "backoff": 0.001})  # refused
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(api_client, admin_user).post(RUNS, {"source": source.pk, "period": "2025-06"},
                                                        format="json")

    assert response.status_code == 201, response.content
    run = IngestionRun.objects.get(pk=response.json()["id"])
    assert run.status == RunStatus.FAILED and run.finished_at is not None
    assert "127.0.0.1:9" in run.error and "Will retry" not in run.error
    assert run.error.endswith("The previous data is unchanged; run it again.")
    assert not IngestionRun.objects.filter(status__in=[RunStatus.PENDING, RunStatus.RUNNING]).exists()


@pytest.mark.parametrize("payload", [{}, {"source": 999999, "period": "2025-06"}, {"period": "June"}])
def test_a_bad_run_request_is_a_400(api_client, admin_user, csv_source, payload):
    response = as_user(api_client, admin_user).post(RUNS, payload, format="json")
    assert response.status_code == 400
    assert not IngestionRun.objects.exists()


def test_only_admins_start_runs_and_runs_cannot_be_edited(api_client, reviewer, admin_user, csv_source):
    assert as_user(api_client, reviewer).post(RUNS, {"source": csv_source.pk, "period": "2025-06"},
                                              format="json").status_code == 403
    run = IngestionRun.objects.create(source=csv_source, period=JUNE)
    url = reverse("api:ingestionrun-detail", args=[run.pk])
    client = as_user(api_client, admin_user)
    assert client.patch(url, {"status": "succeeded"}, format="json").status_code == 405
    assert client.delete(url).status_code == 405


def test_runs_filter_by_source_status_and_period(api_client, reviewer, csv_source, openai_source):
    IngestionRun.objects.create(source=csv_source, period=JUNE, status=RunStatus.FAILED)
    IngestionRun.objects.create(source=csv_source, period=date(2025, 7, 1), status=RunStatus.SUCCEEDED)
    IngestionRun.objects.create(source=openai_source, period=JUNE, status=RunStatus.FAILED)
    client = as_user(api_client, reviewer)
    assert client.get(RUNS, {"source": csv_source.pk}).json()["count"] == 2
    assert client.get(RUNS, {"status": "failed", "period": "2025-06"}).json()["count"] == 2
    assert client.get(RUNS, {"period": "2025-07"}).json()["results"][0]["source_name"] == "gpu-csv"


@pytest.mark.parametrize("url", [SOURCES, RULES, RUNS])
def test_list_endpoints_run_a_constant_number_of_queries(api_client, admin_user, url):
    client = as_user(api_client, admin_user)

    def populate(count: int, offset: int) -> None:
        for number in range(offset, offset + count):
            source = CostSource.objects.create(name=f"src-{number}", type="csv")
            AllocationRule.objects.create(source=source, key="namespace", value=f"n{number}",
                                          initiative=InitiativeFactory())
            IngestionRun.objects.create(source=source, period=JUNE, actor=admin_user)

    populate(2, 0)
    client.get(url)  # the first request caches the user's role groups
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    populate(8, 2)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_deletes_of_a_rule_give_one_204_and_one_404(admin_user):
    """The second waits for the first's row lock, then finds nothing: 404, never a 500."""
    from django.db import connections
    from rest_framework.test import APIClient

    from tests.factories import InitiativeFactory
    from tests.portfolio.costs.factories import AllocationRuleFactory

    rule = AllocationRuleFactory(initiative=InitiativeFactory())
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def delete() -> None:
        client = APIClient()
        client.force_authenticate(admin_user)
        barrier.wait()
        try:
            statuses.append(client.delete(reverse("api:allocationrule-detail", args=[rule.pk])).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=delete) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [204, 404]
    assert not AllocationRule.objects.filter(pk=rule.pk).exists()


def test_a_record_deleted_meanwhile_is_a_404_naming_it():
    from tollgate.ui.errors import api_exception_handler

    response = api_exception_handler(AllocationRule.DoesNotExist("AllocationRule matching query does not exist."), {})
    assert response is not None and response.status_code == 404
    assert "AllocationRule no longer exists" in str(response.data["detail"])


def test_a_run_request_for_a_period_in_the_future_or_before_1990_is_a_400(api_client, admin_user, csv_source):
    client = as_user(api_client, admin_user)
    response = client.post(RUNS, {"source": csv_source.pk, "period": "2999-01"}, format="json")
    assert response.status_code == 400
    assert response.json()["period"][0].startswith("The period 2999-01 is in the future")
    response = client.post(RUNS, {"source": csv_source.pk, "period": "1900-01"}, format="json")
    assert response.json()["period"] == ["The period 1900-01 is before 1990-01: no initiative starts before 1990."]
    assert not IngestionRun.objects.exists()


def test_an_api_run_may_replace_a_month_with_nothing_when_it_says_so(
    api_client, admin_user, csv_source, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(api_client, admin_user).post(
            RUNS, {"source": csv_source.pk, "period": "2025-06", "replace_with_nothing": True}, format="json")
    assert response.status_code == 201, response.json()
    run = IngestionRun.objects.get(pk=response.json()["id"])
    assert run.replace_with_nothing is True
    body = api_client.get(reverse("api:ingestionrun-detail", args=[run.pk])).json()
    assert body["replace_with_nothing"] is True and "warning" in body


# Runs with an uploaded export (as "Run now" on the source's page) -----------------------------------------------------


FIXTURES = paths.FIXTURES / "costs"


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def uploaded_csv_source(db) -> CostSource:
    """A plain CSV source without a configured path: its exports are uploaded."""
    return CostSourceFactory(name="contracts-csv", type=SourceType.CSV)


@pytest.fixture
def focus_source(db) -> CostSource:
    return CostSourceFactory(name="azure-focus", type=SourceType.FOCUS)


def upload(path: Path, name: str | None = None, content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes() if content is None else content)


def stored_files(media: Path) -> list[Path]:
    return [path for path in media.rglob("*") if path.is_file()] if media.exists() else []


def test_admin_uploads_a_csv_export_which_is_read_as_run_now_reads_it(
    api_client, admin_user, uploaded_csv_source, media, monkeypatch, django_capture_on_commit_callbacks
):
    seen = []
    real_submit = cost_api_views.ingestion_run_submit
    monkeypatch.setattr(cost_api_views, "ingestion_run_submit", lambda **kwargs: seen.append(kwargs["content"])
                        or real_submit(**kwargs))
    initiative = InitiativeFactory(external_id="INV-0001")
    CurrencyRateFactory(currency="EUR", rate_to_reporting=Decimal("1.10"))
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(api_client, admin_user).post(RUNS, {
            "source": uploaded_csv_source.pk, "period": "2025-06", "file": upload(FIXTURES / "plain_costs.csv"),
        }, format="multipart")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["filename"], body["trigger"], body["source_name"]) == ("plain_costs.csv", "api", "contracts-csv")
    assert isinstance(seen[0], TemporaryUploadedFile)  # streamed to disk, as the page's upload is
    run = IngestionRun.objects.get(pk=body["id"])
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert (run.rows_read, run.rows_written, run.actor) == (4, 4, admin_user)
    assert CostRecord.objects.get(initiative=initiative).amount_reporting == Decimal("3900.00")
    assert CostRecord.objects.get(keys={"tag:project": "contract-review"}).amount_reporting == Decimal("1100.00")
    started = LogEntry.objects.get(object_pk=str(run.pk), additional_data__event="ingestion_run_started")
    assert started.additional_data["filename"] == "plain_costs.csv" and started.actor == admin_user
    assert [path.name for path in stored_files(media)] == ["plain_costs.csv"]


def test_admin_uploads_a_focus_export(api_client, admin_user, focus_source, media,
                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(api_client, admin_user).post(RUNS, {
            "source": focus_source.pk, "period": "2025-06", "file": upload(FIXTURES / "focus_1_2.csv"),
        }, format="multipart")

    assert response.status_code == 201, response.json()
    run = IngestionRun.objects.get(pk=response.json()["id"])
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert (run.filename, run.rows_read, run.rows_written, run.rows_skipped) == ("focus_1_2.csv", 9, 5, 4)
    assert run.unallocated_amount == Decimal("85.75")  # the five AI rows; no rule maps them yet


def test_a_malformed_upload_fails_its_run_naming_row_and_column_and_the_month_is_kept(
    api_client, admin_user, focus_source, media, django_capture_on_commit_callbacks
):
    """As on the page, the export is read by the worker: the run fails with file, row and column, nothing written."""
    client = as_user(api_client, admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(RUNS, {"source": focus_source.pk, "period": "2025-06", "file": upload(FIXTURES / "focus_1_2.csv")},
                    format="multipart")
    kept = set(CostRecord.objects.values_list("pk", flat=True))
    bad = (FIXTURES / "focus_1_2.csv").read_bytes().replace(b"30.00,30.00,30.00,30.00", b"30.00,abc,30.00,30.00")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RUNS, {"source": focus_source.pk, "period": "2025-06",
                                      "file": upload(FIXTURES / "focus_1_2.csv", "bad.csv", bad)}, format="multipart")

    assert response.status_code == 201, response.json()
    detail = client.get(reverse("api:ingestionrun-detail", args=[response.json()["id"]])).json()
    assert detail["status"] == "failed"
    assert detail["error"] == "bad.csv row 3 column EffectiveCost: 'abc' is not a number"
    assert len(kept) == 5 and set(CostRecord.objects.values_list("pk", flat=True)) == kept


@pytest.mark.parametrize("fmt", ["json", "multipart"])
def test_a_file_source_without_a_path_and_no_file_is_a_400_naming_file(api_client, admin_user, uploaded_csv_source,
                                                                       media, fmt):
    response = as_user(api_client, admin_user).post(RUNS, {"source": uploaded_csv_source.pk, "period": "2025-06"},
                                                    format=fmt)
    assert response.status_code == 400
    assert response.json() == {"file": ["The source contracts-csv has no configured path to read its export from: "
                                         "upload the export file for the month."]}
    assert not IngestionRun.objects.exists()


def test_a_copilot_report_source_without_a_path_needs_the_file_and_one_with_a_path_does_not(
    api_client, admin_user, media
):
    client = as_user(api_client, admin_user)
    uploaded = CostSourceFactory(name="m365", type=SourceType.M365_COPILOT, settings={"licence_pool": "INV-0001"})
    dropped = CostSourceFactory(name="m365-drop", type=SourceType.M365_COPILOT,
                                settings={"licence_pool": "INV-0001", "path": "/exports/copilot-{period}.csv"})
    assert "file" in client.post(RUNS, {"source": uploaded.pk, "period": "2025-06"}, format="json").json()
    assert client.post(RUNS, {"source": dropped.pk, "period": "2025-06"}, format="json").status_code == 201


@pytest.mark.parametrize(("name", "content", "message"), [
    ("empty.csv", b"", "empty.csv is empty."),
    ("huge.csv", b"date\n" + b"\n" * (1024 * 1024), "huge.csv is larger than the 1 MB upload limit"),
])
def test_an_empty_or_oversized_upload_is_a_400_naming_it_and_nothing_is_stored(
    api_client, admin_user, uploaded_csv_source, media, settings, name, content, message
):
    settings.INGESTION_MAX_FILE_MB = 1
    response = as_user(api_client, admin_user).post(RUNS, {
        "source": uploaded_csv_source.pk, "period": "2025-06", "file": SimpleUploadedFile(name, content),
    }, format="multipart")
    assert response.status_code == 400
    assert list(response.json()) == ["file"] and response.json()["file"][0].startswith(message)
    assert not IngestionRun.objects.exists() and stored_files(media) == []


@pytest.mark.parametrize("export", exports(WRONG_EXPORTS))
def test_an_upload_whose_header_the_source_cannot_read_is_a_400_naming_it_and_nothing_is_stored(
    api_client, admin_user, media, upload_temp, export: Export
):
    """The wrong file is refused at once, with the message its run would have failed with; only its header is read."""
    source = upload_source(export.source_type)
    response = as_user(api_client, admin_user).post(RUNS, {
        "source": source.pk, "period": "2025-06", "file": SimpleUploadedFile(export.name, export.content),
    }, format="multipart")
    assert response.status_code == 400
    assert list(response.json()) == ["file"]
    (message,) = response.json()["file"]
    assert message.startswith(export.message), message
    assert IngestionRun.objects.count() == 0
    assert stored_files(media) == [] and list(upload_temp.iterdir()) == []


@pytest.mark.parametrize("export", exports(GOOD_EXPORTS))
def test_an_upload_whose_header_the_source_reads_is_a_201_with_its_run(
    api_client, admin_user, media, upload_temp, export: Export
):
    source = upload_source(export.source_type)
    response = as_user(api_client, admin_user).post(RUNS, {
        "source": source.pk, "period": "2025-06", "file": SimpleUploadedFile(export.name, export.content),
    }, format="multipart")
    assert response.status_code == 201, response.json()
    run = IngestionRun.objects.get()
    assert (run.pk, run.source, run.filename) == (response.json()["id"], source, export.name)
    assert [path.read_bytes() for path in stored_files(media)] == [export.content]
    assert list(upload_temp.iterdir()) == []  # moved into storage


def test_a_file_for_a_source_reading_an_api_is_a_400(api_client, admin_user, openai_source, media):
    response = as_user(api_client, admin_user).post(RUNS, {
        "source": openai_source.pk, "period": "2025-06", "file": upload(FIXTURES / "plain_costs.csv"),
    }, format="multipart")
    assert response.status_code == 400
    assert response.json() == {"file": ["The source openai-org reads its provider's API, not a file: send no file."]}
    assert not IngestionRun.objects.exists()


def test_a_bad_period_with_an_upload_is_a_400_and_nothing_is_stored(api_client, admin_user, uploaded_csv_source,
                                                                    media):
    response = as_user(api_client, admin_user).post(RUNS, {
        "source": uploaded_csv_source.pk, "period": "2999-01", "file": upload(FIXTURES / "plain_costs.csv"),
    }, format="multipart")
    assert response.status_code == 400 and list(response.json()) == ["period"]
    assert not IngestionRun.objects.exists() and stored_files(media) == []


@pytest.mark.parametrize("role", ["owner", "reviewer", "executive"])
def test_only_admins_upload_exports(api_client, uploaded_csv_source, media, request, role):
    response = as_user(api_client, request.getfixturevalue(role)).post(RUNS, {
        "source": uploaded_csv_source.pk, "period": "2025-06", "file": upload(FIXTURES / "plain_costs.csv"),
    }, format="multipart")
    assert response.status_code == 403
    assert not IngestionRun.objects.exists() and stored_files(media) == []


def test_the_schema_offers_the_upload_as_a_file(api_client, admin_user):
    schema = as_user(api_client, admin_user).get(reverse("schema"), {"format": "json"}).json()
    body = schema["paths"]["/api/ingestion-runs/"]["post"]["requestBody"]["content"]
    components = schema["components"]["schemas"]
    multipart = components[body["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]]
    as_json = components[body["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert multipart["properties"]["file"] == {**multipart["properties"]["file"], "type": "string",
                                               "format": "binary"}
    assert set(multipart["required"]) == set(as_json["required"]) == {"source", "period"}
    assert "file" not in as_json["properties"]


def test_the_schema_says_a_file_the_source_cannot_read_is_a_400(api_client, admin_user):
    schema = as_user(api_client, admin_user).get(reverse("schema"), {"format": "json"}).json()
    post = schema["paths"]["/api/ingestion-runs/"]["post"]
    assert "400" in post["responses"]
    assert "header the source does not read" in post["description"]
    assert "missing mandatory FOCUS column(s)" in post["description"]


def test_a_run_gives_its_unallocated_spend_at_reading_and_its_months_now(api_client, admin_user, csv_source):
    from tests.portfolio.costs.test_views import reallocated_run

    run = reallocated_run(csv_source, admin_user)
    failed = IngestionRun.objects.create(source=csv_source, period=JUNE, status=RunStatus.FAILED, error="HTTP 500")
    client = as_user(api_client, admin_user)

    body = client.get(reverse("api:ingestionrun-detail", args=[run.pk])).json()
    assert (body["unallocated_amount"], body["unallocated_now"]) == ("175.00", "25.00")
    assert client.get(reverse("api:ingestionrun-detail", args=[failed.pk])).json()["unallocated_now"] is None

    with CaptureQueriesContext(connection) as ctx:  # one subquery in the list's query, not one query per run
        listed = client.get(RUNS, {"source": csv_source.pk}).json()["results"]
    assert {r["id"]: r["unallocated_now"] for r in listed} == {run.pk: "25.00", failed.pk: None}
    assert len([q for q in ctx.captured_queries if "portfolio_costrecord" in q["sql"]]) == 1

    schema = client.get(reverse("schema"), {"format": "json"}).json()
    fields = schema["components"]["schemas"]["IngestionRun"]["properties"]
    assert "at reading" in fields["unallocated_amount"]["description"]


def test_a_failed_run_has_no_figures(api_client, admin_user, csv_source):
    failed = IngestionRun.objects.create(source=csv_source, period=JUNE, status=RunStatus.FAILED, error="HTTP 500")
    body = as_user(api_client, admin_user).get(reverse("api:ingestionrun-detail", args=[failed.pk])).json()
    assert [body[name] for name in ("rows_read", "rows_written", "rows_skipped", "unallocated_amount",
                                    "unallocated_now")] == [None] * 5
    assert body["error"] == "HTTP 500"
