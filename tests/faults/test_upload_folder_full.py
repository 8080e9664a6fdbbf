"""The disk of the upload folder (MEDIA_ROOT) full while someone uploads a cost export or an inventory file: the
page says so on the file field, no partial file is left, no run row is created, and the same upload works once an
administrator has freed space. An upload through the API is refused the same way (400 naming `file`), and a run of a
source's configured path, which stores nothing, goes on working meanwhile.

As root the folder is a real 1 MB tmpfs, filled up to its last 32 KiB, and the upload (200 KB) fails mid-copy with
ENOSPC as it would on a full disk. Where mounting is not permitted (an unprivileged CI runner) the test falls back
to a simulated full disk: the storage's write puts the first 32 KiB in place and then raises OSError(ENOSPC).
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from django.core.files.storage import FileSystemStorage

from portfolio.choices import SourceType
from portfolio.models import ImportRun, IngestionRun
from portfolio.services.inventory_import import HEADER_LINE
from tests.portfolio.costs.factories import CostSourceFactory

ROOM = 32 * 1024
EXPORT = b"date,initiative,key,category,amount,currency,quantity,unit\n" + b"".join(
    f"2025-06-{i % 30 + 1:02d},,namespace=team-{i % 7},compute,1.25,USD,,\n".encode() for i in range(5_000)
)
INVENTORY = (HEADER_LINE + "\n").encode() + b"#" * 200_000 + b"\n"


class FullFolder:
    """MEDIA_ROOT with almost no room left; free() is what the administrator does."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.filler = root / "filler"
        self.mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(root)],
                                      capture_output=True).returncode == 0
        self.simulation = None if self.mounted else mock.patch.object(FileSystemStorage, "_save", _disk_full_save)
        if self.mounted:
            with self.filler.open("wb") as out:
                out.write(b"\0" * (shutil.disk_usage(root).free - ROOM))
            assert shutil.disk_usage(root).free <= ROOM
        else:
            self.simulation.start()

    def free(self) -> None:
        if self.mounted:
            self.filler.unlink()
        else:
            self.simulation.stop()
            self.simulation = None

    def files(self) -> list[Path]:
        return sorted(path for path in self.root.rglob("*") if path.is_file() and path != self.filler)

    def close(self) -> None:
        if self.simulation is not None:
            self.simulation.stop()
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.root)], check=True)


def _disk_full_save(storage: FileSystemStorage, name: str, content) -> str:
    """The simulated full disk: the start of the file is written, then the disk has no room left."""
    path = Path(storage.path(name))
    path.parent.mkdir(parents=True, exist_ok=True)
    content.seek(0)
    with path.open("xb") as out:
        out.write(content.read(ROOM))
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


@pytest.fixture
def full_upload_folder(settings, tmp_path) -> Iterator[FullFolder]:
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    folder = FullFolder(root)
    yield folder
    folder.close()


def upload(name: str, content: bytes) -> io.BytesIO:
    handle = io.BytesIO(content)
    handle.name = name
    return handle


@pytest.mark.django_db
def test_a_cost_export_on_a_full_upload_folder_is_refused_whole_and_works_once_space_is_free(
    client, api_client, admin_user, full_upload_folder
):
    source = CostSourceFactory(name="contracts", type=SourceType.CSV,
                               settings={"path": "/exports/contracts-{period}.csv"})
    client.force_login(admin_user)
    url = f"/portfolio/costs/sources/{source.pk}/run/"

    response = client.post(url, {"period": "2025-06", "file": upload("june.csv", EXPORT)})
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        "The upload folder is full, so june.csv could not be stored; nothing was saved and no run was created. "
        "Try again once an administrator has freed space on the upload folder (MEDIA_ROOT)."
    ]
    assert "The upload folder is full" in response.content.decode()
    assert full_upload_folder.files() == []  # not even the part that fitted
    assert not IngestionRun.objects.exists()

    # The API's upload is refused alike; a run of the source's configured path stores nothing and goes on working.
    api_client.force_authenticate(admin_user)
    response = api_client.post("/api/ingestion-runs/", {"source": source.pk, "period": "2025-06",
                                                        "file": upload("june.csv", EXPORT)}, format="multipart")
    assert response.status_code == 400
    assert response.json()["file"][0].startswith("The upload folder is full, so june.csv could not be stored")
    assert full_upload_folder.files() == [] and not IngestionRun.objects.exists()
    assert api_client.post("/api/ingestion-runs/", {"source": source.pk, "period": "2025-05"},
                           format="json").status_code == 201

    full_upload_folder.free()
    response = client.post(url, {"period": "2025-06", "file": upload("june.csv", EXPORT)})
    assert response.status_code == 302
    run = IngestionRun.objects.get(period__month=6)
    assert [path.read_bytes() for path in full_upload_folder.files()] == [EXPORT]
    assert Path(run.file.path) == full_upload_folder.files()[0]


@pytest.mark.django_db
def test_an_inventory_file_on_a_full_upload_folder_is_refused_whole_and_works_once_space_is_free(
    client, admin_user, full_upload_folder
):
    client.force_login(admin_user)
    data = {"file": upload("inventory.csv", INVENTORY), "dry_run": "on"}
    response = client.post("/portfolio/imports/new/", data)
    assert response.status_code == 200
    assert response.context["form"].errors["file"][0].startswith(
        "The upload folder is full, so inventory.csv could not be stored; nothing was saved and no run was created."
    )
    assert full_upload_folder.files() == []
    assert not ImportRun.objects.exists()

    full_upload_folder.free()
    response = client.post("/portfolio/imports/new/", {"file": upload("inventory.csv", INVENTORY), "dry_run": "on"})
    assert response.status_code == 302
    assert ImportRun.objects.count() == 1
    assert [path.read_bytes() for path in full_upload_folder.files()] == [INVENTORY]
