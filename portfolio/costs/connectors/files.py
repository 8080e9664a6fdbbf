"""Reading cost export files: gzip-compressed or not, by suffix or by their first bytes; CSV records numbered as an
editor numbers them (header first as row 1, blank lines included); every problem names the file and row.

`csv_header` reads the header row alone, at most HEADER_LIMIT bytes of the file: the connectors check it before
their rows, and an upload is checked with it before its run is created (portfolio.costs.uploads), so both say the
same thing about a wrong file without the upload reading an export of hundreds of megabytes."""

from __future__ import annotations

import codecs
import csv
import gzip
import zlib
from collections import Counter
from collections.abc import Generator, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from portfolio.costs.connectors.base import ConnectorError

GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
HEADER_LIMIT = 1 << 20  # bytes read to find the header row: far more than an export's header, far less than its rows


def file_kind(path: Path) -> str:
    """'parquet', 'gzip' or 'csv', by suffix or, failing that, by the file's first bytes."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return "parquet"
    if suffix == ".gz":
        return "gzip"
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head == PARQUET_MAGIC:
        return "parquet"
    return "csv"


@contextmanager
def open_binary(path: Path) -> Iterator[BinaryIO]:
    """Open an export, gzip-compressed or not, as bytes; a missing or empty file is an error."""
    if not path.exists():
        raise ConnectorError("file not found", location=path.name)
    if path.stat().st_size == 0:
        raise ConnectorError("the file is empty", location=path.name)
    handle: BinaryIO = gzip.open(path, "rb") if file_kind(path) == "gzip" else path.open("rb")  # type: ignore[assignment]
    try:
        yield handle
    finally:
        handle.close()


def _lines(handle: Iterable[bytes], name: str) -> Iterator[str]:
    """Strict UTF-8 lines (a BOM is allowed), decoded one by one so an error names its line."""
    number = 0
    try:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8):]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ConnectorError(
                    f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x}); export it as UTF-8",
                    location=f"{name} row {number}",
                ) from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ConnectorError(
            f"the gzip file is truncated or corrupt ({exc})", location=f"{name} row {number + 1}"
        ) from None


def check_unique_columns(header: list[str], filename: str) -> None:
    """ConnectorError naming the columns a header holds twice: a reader keeps one of the two cells by name, so the
    other would be ignored without a word (or read blank). Unnamed columns (a trailing comma) are left alone."""
    counts = Counter(name for name in header if name)
    twice = [name for name, count in counts.items() if count > 1]
    if twice:
        raise ConnectorError(f"duplicate column(s): {', '.join(twice)}: keep one of each",
                             location=f"{filename} row 1")


def separator_hint(header: list[str]) -> str:
    """For a header missing expected columns: a hint when it seems to use another separator than the comma (a
    spreadsheet's ';' export, a tab-separated file), whose whole header then reads as one column."""
    for separator, name in ((";", "';'"), ("\t", "a tab")):
        if any(separator in cell for cell in header):
            return f"; the file seems to use {name} as separator: save it comma-separated (a comma is expected)"
    return ""


def _head_lines(handle: BinaryIO, name: str) -> Iterator[bytes]:
    """The file's lines while they fit in its first HEADER_LIMIT bytes; a header row not ended by then is refused
    (a binary file may hold no line break for megabytes, which would otherwise be read as one line)."""
    remaining = HEADER_LIMIT
    while line := handle.readline(remaining):
        remaining -= len(line)
        if not remaining and not line.endswith(b"\n"):
            raise ConnectorError(f"not a CSV file: no line ends within its first {HEADER_LIMIT // 1024 // 1024} MB",
                                 location=f"{name} row 1")
        yield line


def csv_header(path: Path) -> list[str]:
    """The header row (the first record) of a CSV or gzip CSV, as csv_records would give it, reading only as far as
    it goes; errors name the file and row 1 as csv_records' do."""
    with open_binary(path) as handle:
        reader = csv.reader(_lines(_head_lines(handle, path.name), path.name))
        try:
            header = next(reader)
        except StopIteration:
            raise ConnectorError("the file is empty", location=path.name) from None
        except csv.Error as exc:
            raise ConnectorError(f"malformed CSV: {exc}", location=f"{path.name} row 1") from None
    if any("\x00" in cell for cell in header):  # valid UTF-8 and accepted by the csv module, never in a header
        raise ConnectorError("not a CSV file: its header row holds NUL bytes (a binary file?)",
                             location=f"{path.name} row 1")
    return header


def csv_records(path: Path) -> Generator[tuple[int, list[str]], None, None]:
    """(row number, cells) of a CSV or gzip CSV file, header first as row 1; decoding and gzip errors name the row."""
    with open_binary(path) as handle:
        reader = csv.reader(_lines(handle, path.name))
        number = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise ConnectorError(f"malformed CSV: {exc}", location=f"{path.name} row {number + 1}") from None
            number += 1
            yield number, cells
        if number == 0:
            raise ConnectorError("the file is empty", location=path.name)
