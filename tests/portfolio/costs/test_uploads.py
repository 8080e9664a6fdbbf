"""Uploads of the "run now" page stream to disk in chunks and stop at INGESTION_MAX_FILE_MB, naming file and limit."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.core.files.uploadhandler import SkipFile
from django.test import Client
from django.urls import reverse

from portfolio.choices import RunStatus
from portfolio.costs import views as cost_views
from portfolio.costs.connectors.plain_csv import PlainCsvConnector
from portfolio.costs.forms import RunNowForm
from portfolio.costs.uploads import LimitedTemporaryFileUploadHandler, upload_too_large_message
from portfolio.models import CostRecord, CostSource, IngestionRun
from tests import paths
from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
HEADER = b"date,initiative,key,category,amount,currency,quantity,unit\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def csv_source(db) -> CostSource:
    return CostSource.objects.create(name="contracts-csv", type="csv", schedule="monthly")


def padded_csv(size: int, initiative: str) -> bytes:
    """A valid plain CSV of about `size` bytes: one real line, then blank lines the connector skips."""
    body = HEADER + f"2025-06-10,{initiative},,oversight,120.00,USD,4,hours\n".encode()
    return body + b"\n" * max(0, size - len(body))


def test_an_upload_goes_to_disk_in_chunks_and_is_moved_into_storage(login, admin_user, csv_source, monkeypatch,
                                                                     django_capture_on_commit_callbacks):
    """Even a small file arrives as a temporary file on disk (not in memory), and the run reads it from storage."""
    seen = []
    real_submit = cost_views.ingestion_run_submit

    def spy(**kwargs):
        seen.append(kwargs["content"])
        return real_submit(**kwargs)

    monkeypatch.setattr(cost_views, "ingestion_run_submit", spy)
    initiative = InitiativeFactory(external_id="INV-7")
    content = padded_csv(300 * 1024, "INV-7")  # under Django's 5 MB in-memory threshold
    with django_capture_on_commit_callbacks(execute=True):
        response = login(admin_user).post(reverse("portfolio:costsource_run", args=[csv_source.pk]),
                                          {"period": "2025-06", "file": SimpleUploadedFile("june.csv", content)})
    assert response.status_code == 302
    assert isinstance(seen[0], TemporaryUploadedFile)
    run = IngestionRun.objects.get()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert Path(run.file.path).read_bytes() == content
    assert CostRecord.objects.get().initiative == initiative


def test_an_upload_over_the_limit_is_refused_naming_the_file_and_the_limit(login, admin_user, csv_source, settings):
    settings.INGESTION_MAX_FILE_MB = 1
    response = login(admin_user).post(reverse("portfolio:costsource_run", args=[csv_source.pk]), {
        "period": "2025-06", "file": SimpleUploadedFile("huge-export.csv", padded_csv(MB + 1, "INV-7"))})
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["file"])
    assert "huge-export.csv is larger than the 1 MB upload limit" in errors
    assert "INGESTION_MAX_FILE_MB" in errors
    assert "period" not in response.context["form"].errors  # the rest of the form was still read
    assert not IngestionRun.objects.exists()
    assert not list((Path(settings.MEDIA_ROOT)).rglob("*.csv"))


def test_an_upload_of_exactly_the_limit_is_accepted(login, admin_user, csv_source, settings,
                                                    django_capture_on_commit_callbacks):
    settings.INGESTION_MAX_FILE_MB = 1
    InitiativeFactory(external_id="INV-7")
    with django_capture_on_commit_callbacks(execute=True):
        response = login(admin_user).post(reverse("portfolio:costsource_run", args=[csv_source.pk]), {
            "period": "2025-06", "file": SimpleUploadedFile("exact.csv", padded_csv(MB, "INV-7"))})
    assert response.status_code == 302
    assert IngestionRun.objects.get().status == RunStatus.SUCCEEDED


def test_the_handler_drops_the_file_once_it_passes_the_limit(tmp_path):
    handler = LimitedTemporaryFileUploadHandler(None, limit=100)
    handler.new_file("file", "big.csv", "text/csv", None)
    temporary = Path(handler.file.temporary_file_path())
    handler.receive_data_chunk(b"x" * 60, 0)
    assert temporary.exists()
    with pytest.raises(SkipFile):
        handler.receive_data_chunk(b"x" * 60, 60)
    assert handler.refused == ["big.csv"]
    assert not temporary.exists()  # the partial file is gone

    handler.new_file("file", "small.csv", "text/csv", None)  # the next file starts counting from zero
    handler.receive_data_chunk(b"y" * 90, 0)
    assert handler.file_complete(90).read() == b"y" * 90


def test_messages_read_well_for_small_and_large_limits():
    assert upload_too_large_message("a.csv", None, 500 * MB).startswith(
        "a.csv is larger than the 500 MB upload limit (more than 500.0 MB)")
    assert "the 2,048 bytes upload limit (3,000 bytes)" in upload_too_large_message("b.csv", 3000, 2048)


def test_the_run_form_still_checks_csrf(admin_user, csv_source):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post(reverse("portfolio:costsource_run", args=[csv_source.pk]),
                           {"period": "2025-06", "file": BytesIO(HEADER)})
    assert response.status_code == 403
    assert not IngestionRun.objects.exists()


def test_only_the_header_of_an_upload_is_checked_before_its_run(login, admin_user, csv_source):
    """Megabytes of rows the run will refuse (bytes that are not text) are not read at upload: they are the run's."""
    content = HEADER + b"\xff" * (3 * MB)
    response = login(admin_user).post(reverse("portfolio:costsource_run", args=[csv_source.pk]),
                                      {"period": "2025-06", "file": SimpleUploadedFile("june.csv", content)})
    assert response.status_code == 302
    assert Path(IngestionRun.objects.get().file.path).read_bytes() == content


def test_an_upload_held_in_memory_is_checked_from_a_copy_that_is_removed(csv_source, monkeypatch, tmp_path):
    """The form also takes an upload Django kept in memory: its header is checked from a temporary copy, gone after,
    and the upload is left to be read from its start."""
    copies = tmp_path / "copies"
    copies.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(copies))
    focus = (paths.FIXTURES / "costs" / "focus_1_2.csv").read_bytes()

    form = RunNowForm({"period": "2025-06"}, {"file": SimpleUploadedFile("azure.csv", focus)}, source=csv_source)
    assert not form.is_valid()
    assert form.errors["file"] == ["azure.csv row 1: missing column(s): date, category, amount, initiative or key"]

    good = padded_csv(1024, "INV-7")
    form = RunNowForm({"period": "2025-06"}, {"file": SimpleUploadedFile("june.csv", good)}, source=csv_source)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["file"].read() == good
    assert list(copies.iterdir()) == []


def test_a_header_check_that_breaks_leaves_the_file_to_its_run(login, admin_user, csv_source, monkeypatch, caplog):
    """The check only answers early; a bug in it is logged and the run, which reads every row, has the last word."""
    def broken(cls, path):
        raise RuntimeError("unexpected")

    monkeypatch.setattr(PlainCsvConnector, "check_header", classmethod(broken))
    response = login(admin_user).post(reverse("portfolio:costsource_run", args=[csv_source.pk]),
                                      {"period": "2025-06", "file": SimpleUploadedFile("june.csv", HEADER)})
    assert response.status_code == 302 and IngestionRun.objects.count() == 1
    assert "The header check of june.csv (source contracts-csv) failed" in caplog.text


def test_an_empty_file_on_the_page_is_refused_naming_it(login, admin_user, csv_source):
    """As the API says it: the person may have picked one of several exports, and needs to know which was empty."""
    response = login(admin_user).post(reverse("portfolio:costsource_run", args=[csv_source.pk]),
                                      {"period": "2025-06", "file": SimpleUploadedFile("empty.csv", b"")})
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == ["empty.csv is empty."]
    assert not IngestionRun.objects.exists()
