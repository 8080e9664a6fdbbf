"""Uploaded cost exports: streamed to a temporary file on disk in chunks, and stopped at the configured size limit.

Django would keep uploads under FILE_UPLOAD_MAX_MEMORY_SIZE in memory and accept any size; an export can be
gigabytes, so the "run now" page installs this handler instead. Bytes beyond the limit are read off the wire and
dropped (never stored); the page then names the file and the limit (INGESTION_MAX_FILE_MB).
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadhandler import SkipFile, TemporaryFileUploadHandler
from django.http import HttpRequest

from portfolio.costs.services.runs import max_file_bytes


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
