"""The ``csv`` exporter: one row per document under the header ``id,title,source,url,text``.

Cells are quoted when they hold a comma, a quote or a newline (RFC 4180, ``\\r\\n`` between rows), so a
multi-line text stays one cell; an unknown title, source or URL is an empty cell.

A spreadsheet opening the file runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (and
strips a leading tab or CR before looking): CSV formula injection. By default such a cell is written with a
``'`` in front, which spreadsheets read as "text" (:func:`neutralise`); ``[output.options] formulas = "keep"``
writes cells as they are. The prefix can be taken off again exactly (:func:`restore`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from normkit import (
    Context,
    Document,
    Exporter,
    ReadRecord,
    RecordWriter,
    Register,
    hookimpl,
    option,
    options_from,
    options_schema,
)

COLUMNS = ("id", "title", "source", "url", "text")

#: what a spreadsheet takes for the start of a formula, or strips before looking for one (tab, CR).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """``cell`` with a ``'`` in front when a spreadsheet would run it as a formula.

    A cell that already looks neutralised (``'=...``, ``''=...``) gets one too, so :func:`restore` is exact:
    it takes one ``'`` off every cell of the form ``'+`` then one of :data:`FORMULA_STARTS`, and no other.
    """
    if cell.lstrip("'").startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def restore(cell: str) -> str:
    """The cell as the document had it, from a cell :func:`neutralise` wrote."""
    if cell.startswith("'") and cell.lstrip("'").startswith(FORMULA_STARTS):
        return cell[1:]
    return cell


@dataclass(frozen=True)
class CsvOptions:
    formulas: str = option(
        "escape",
        "escape: a cell that starts with =, +, -, @, a tab or a CR (a spreadsheet formula) gets a ' in front, "
        "which spreadsheets show as text; keep: cells are written as they are.",
        enum=["escape", "keep"],
    )


class CsvWriter(RecordWriter):
    """Formats each row in a small text buffer and writes its bytes: the stream stays the engine's, binary."""

    def __init__(self, stream: IO[bytes], *, escape: bool = True) -> None:
        super().__init__(stream)
        self.buffer = io.StringIO()
        self.rows = csv.writer(self.buffer)
        self.escape = escape
        self._emit(COLUMNS)

    def _emit(self, row: Any) -> None:
        self.rows.writerow(row)
        self.stream.write(self.buffer.getvalue().encode())
        self.buffer.seek(0)
        self.buffer.truncate()

    def write(self, record: Mapping[str, Any]) -> None:
        cells = [record[column] for column in COLUMNS]
        self._emit([neutralise(cell) for cell in cells] if self.escape else cells)


class CsvExporter(Exporter):
    name = "csv"
    schema = "csv"
    suffix = ".csv"
    options_schema = options_schema(CsvOptions)

    def __init__(self, options: Mapping[str, Any], context: Context) -> None:
        super().__init__(options, context)
        self.escape = options_from(CsvOptions, self.options, "output.options").formulas == "escape"

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
        return CsvWriter(stream, escape=self.escape)


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
