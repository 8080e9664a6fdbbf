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
from portfolio.costs.uploads import LimitedTemporaryFileUploadHandler, upload_too_large_message
from portfolio.models import CostRecord, CostSource, IngestionRun
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
