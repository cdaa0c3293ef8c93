"""The ``csv`` exporter: one row per document under the header ``id,title,source,url,text``.

Cells are quoted when they hold a comma, a quote or a newline (RFC 4180, ``\\r\\n`` between rows), so a
multi-line text stays one cell; an unknown title, source or URL is an empty cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from typing import IO, Any

from normkit import Document, Exporter, ReadRecord, RecordWriter, Register, hookimpl

COLUMNS = ("id", "title", "source", "url", "text")


class CsvWriter(RecordWriter):
    """Formats each row in a small text buffer and writes its bytes: the stream stays the engine's, binary."""

    def __init__(self, stream: IO[bytes]) -> None:
        super().__init__(stream)
        self.buffer = io.StringIO()
        self.rows = csv.writer(self.buffer)
        self._emit(COLUMNS)

    def _emit(self, row: Any) -> None:
        self.rows.writerow(row)
        self.stream.write(self.buffer.getvalue().encode())
        self.buffer.seek(0)
        self.buffer.truncate()

    def write(self, record: Mapping[str, Any]) -> None:
        self._emit([record[column] for column in COLUMNS])


class CsvExporter(Exporter):
    name = "csv"
    schema = "csv"
    suffix = ".csv"

    def to_record(self, doc: Document) -> dict[str, Any]:
        return {
            "id": doc.id,
            "title": doc.title or "",
            "source": doc.source or "",
            "url": doc.url or "",
            "text": doc.text,
        }

    reads = (".csv",)

    @classmethod
    def read(cls, stream: IO[bytes], schema: str) -> Iterator[ReadRecord]:
        return read_rows(stream)

    def open(self, stream: IO[bytes]) -> RecordWriter:
        return CsvWriter(stream)


def read_rows(stream: IO[bytes]) -> Iterator[ReadRecord]:
    """Rows as records keyed by the header; the line is where the row starts (a cell may hold newlines)."""
    # The default limit (128 KiB per cell) would reject a long text; this raises it for the process.
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
    rows = csv.DictReader(text, restkey="(extra cells)")
    start = 2
    try:
        for row in rows:
            repeated = list(row.values()) == rows.fieldnames  # what concatenating two CSV files leaves
            yield ReadRecord(start, error="the header again (files concatenated?)" if repeated else None, record=row)
            start = rows.line_num + 1
    except csv.Error as exc:
        yield ReadRecord(start, error=f"not valid CSV: {exc}")
    finally:
        text.detach()


@hookimpl
def normkit_register_exporters(register: Register[type[Exporter]]) -> None:
    register(CsvExporter)
