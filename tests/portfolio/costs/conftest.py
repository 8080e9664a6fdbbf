"""Fixtures the cost tests share."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def upload_temp(settings, tmp_path) -> Path:
    """Where an upload streams to while its request lasts (Django's temporary file)."""
    folder = tmp_path / "upload-temp"
    folder.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    return folder
