"""Uploaded cost exports: streamed to a temporary file on disk in chunks, and stopped at the configured size limit.

Django would keep uploads under FILE_UPLOAD_MAX_MEMORY_SIZE in memory and accept any size; an export can be
gigabytes, so "run now" (the page and POST /api/ingestion-runs/) installs this handler instead. Bytes beyond the
limit are read off the wire and dropped (never stored); the answer then names the file and the limit
(INGESTION_MAX_FILE_MB). `run_upload_error` is what both doors check before a run is created: the file is there,
within the limit, and its header is one the source's connector reads (a CSV's header row, a Parquet file's schema;
never its rows, which the run reads).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.core.files.uploadhandler import SkipFile, TemporaryFileUploadHandler
from django.http import HttpRequest

from portfolio.costs.connectors.base import ConnectorError
from portfolio.costs.connectors.registry import connector_class
from portfolio.costs.selectors import source_reads_files, source_uploaded_by_hand
from portfolio.costs.services.runs import max_file_bytes
from portfolio.models import CostSource

logger = logging.getLogger(__name__)


def run_upload_error(source: CostSource, upload: UploadedFile | None) -> str | None:
    """What is wrong with the export given (or not) to a run of `source`, or None.

    A file source without a configured `path` reads only what is uploaded: a run without a file would only fail in
    the worker, so it is refused before it is created. A source reading its provider's API takes no file.
    """
    if upload is None:
        if source_reads_files(source) and source_uploaded_by_hand(source):
            return (f"The source {source.name} has no configured path to read its export from: upload the export "
                    "file for the month.")
        return None
    if not source_reads_files(source):
        return f"The source {source.name} reads its provider's API, not a file: send no file."
    limit = max_file_bytes()
    if upload.size is not None and upload.size > limit:  # another upload handler let it through whole
        return upload_too_large_message(upload.name, upload.size, limit)
    if not upload.size:
        return f"{upload.name} is empty."
    return export_header_error(source, upload)


def export_header_error(source: CostSource, upload: UploadedFile) -> str | None:
    """What the header of the export (a CSV's header row, a Parquet file's schema) shows to be wrong for the source's
    connector, or None: the connector's own check, so the message is the one the run would fail with (missing columns
    by name, not UTF-8, not a CSV file), naming the file as uploaded. Only the header is read, however large the
    file."""
    check = getattr(connector_class(source.type), "check_header", None)
    if check is None:
        return None
    with export_on_disk(upload) as path:
        try:
            check(path)
        except ConnectorError as exc:
            return str(exc).replace(path.name, os.path.basename(upload.name or "") or "The file")
        except Exception:  # a broken check is no reason to refuse the file: its run reads it and says what is wrong
            logger.exception("The header check of %s (source %s) failed; the run will read the file", upload.name,
                             source.name)
    return None


@contextmanager
def export_on_disk(upload: UploadedFile) -> Iterator[Path]:
    """The upload as a file the connector can open: the temporary file it streamed to, else (an upload held in memory,
    at most FILE_UPLOAD_MAX_MEMORY_SIZE) a temporary copy, removed afterwards. Either keeps the name's suffix, by which
    the connectors tell Parquet, gzip and JSON apart."""
    if isinstance(upload, TemporaryUploadedFile):
        yield Path(upload.temporary_file_path())
        return
    with tempfile.NamedTemporaryFile(suffix=Path(upload.name or "").suffix) as copy:
        for chunk in upload.chunks():
            copy.write(chunk)
        copy.flush()
        upload.seek(0)
        yield Path(copy.name)


def size_label(size: int) -> str:
    """1.5 MB, 0.2 MB, or bytes below a tenth of a megabyte (a tiny test limit still reads sensibly)."""
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 / 10 else f"{size:,} bytes"


def upload_too_large_message(name: str | None, size: int | None, limit: int) -> str:
    observed = f" ({'more than ' if size is None else ''}{size_label(size if size is not None else limit)})"
    return (f"{name or 'The file'} is larger than the {limit_label(limit)} upload limit{observed}; nothing was stored. "
            "Split the export, or ask an administrator to raise INGESTION_MAX_FILE_MB.")


def limit_label(limit: int) -> str:
    return f"{limit // 1024 // 1024} MB" if limit % (1024 * 1024) == 0 else size_label(limit)


class LimitedTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    """Each file goes to disk chunk by chunk (64 KiB); a file that passes `limit` bytes is dropped and remembered."""

    def __init__(self, request: HttpRequest | None = None, *, limit: int | None = None) -> None:
        super().__init__(request)
        self.limit = max_file_bytes() if limit is None else limit
        self.received = 0
        self.refused: list[str | None] = []  # names of the files dropped for their size

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.refused.append(self.file_name)
            self.upload_interrupted()  # closes and removes the partial temporary file
            raise SkipFile(f"{self.file_name} is over the upload limit")
        return super().receive_data_chunk(raw_data, start)


def stream_uploads_to_disk(request: HttpRequest) -> LimitedTemporaryFileUploadHandler:
    """Install the limited disk handler on `request` (before anything reads request.POST or request.FILES)."""
    handler = LimitedTemporaryFileUploadHandler(request)
    request.upload_handlers = [handler]
    return handler
