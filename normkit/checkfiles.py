"""Checking output files against normkit's schemas as streams, for ``normkit validate`` and CI.

Memory is bounded by the largest record, never by the file: JSON Lines is read line by line, a JSON array
element by element (a small scanner finds where each element ends, orjson parses it), CSV row by row and
Parquet row group by row group. ``.gz`` and ``.zst`` files are read through the engine's decompressors.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from normkit.arrowschema import SCHEMA_KEY, codec_for, import_pyarrow
from normkit.errors import NormkitError
from normkit.inputs import open_binary, strip_compression
from normkit.validate import compiled, list_schemas

__all__ = ["FORMATS", "FileCheck", "Problem", "file_format", "iter_json_array", "schema_for"]

#: file suffix (after any compression suffix) -> format.
FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".parquet": "parquet"}
#: file stems that name their schema: the files a run writes beside its records.
NAMED = {"rejects": "reject", "report": "report"}


@dataclass(frozen=True)
class Problem:
    """One error in a file: where (line, or row for Parquet; pointer inside the record), the rule, why."""

    path: str
    line: int | None
    rule: str
    message: str
    pointer: str | None = None  # None when the record could not even be read

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        if self.pointer is None:
            return f"{where}: {self.message} ({self.rule})"
        return f"{where}: {self.pointer or '/'}: {self.message} ({self.rule})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "line": self.line,
            "pointer": self.pointer,
            "rule": self.rule,
            "message": self.message,
        }


@dataclass(frozen=True)
class Read:
    """What a reader yields: a record with its line, or why the text at that line is not a record."""

    line: int | None
    record: Any = None
    error: str | None = None


def file_format(path: str) -> str:
    """The format of ``path`` from its suffix (after ``.gz``/``.zst``); an unknown one is a usage error."""
    suffix = Path(strip_compression(path)[0]).suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(sorted(FORMATS))
        raise NormkitError(f"{path}: unknown file format {suffix or '(no suffix)'!r} (known: {known})")
    return FORMATS[suffix]


def schema_for(path: str, fmt: str) -> str:
    """The schema a file's records follow: the Parquet marker, else the file's name, else the format's."""
    if fmt == "parquet":
        marker = _parquet_marker(path)
        if marker:
            return marker
    name = Path(strip_compression(path)[0]).name
    stem, *markers = name.split(".")[:-1]
    if stem in NAMED:
        return NAMED[stem]
    shipped = set(list_schemas())
    # documents.dolma.jsonl -> dolma: the shape marker the exporters put in the name.
    for marker in reversed(markers):
        if marker in shipped:
            return marker
    return "csv" if fmt == "csv" else "document"


@dataclass
class FileCheck:
    """Checks one file; ``records`` counts what was read so far."""

    path: str
    schema: str | None = None
    fmt: str = ""
    records: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if not Path(self.path).is_file():
            raise NormkitError(f"{self.path}: no such file")
        self.fmt = self.fmt or file_format(self.path)
        self.schema = self.schema or schema_for(self.path, self.fmt)
        compiled(self.schema)  # a bad schema is a usage error before any record is read

    def problems(self) -> Iterator[Problem]:
        assert self.schema is not None
        checker = compiled(self.schema)
        for item in self._read():
            if item.error is not None:
                yield Problem(self.path, item.line, "syntax", item.error)
                continue
            self.records += 1
            for violation in checker.violations(item.record):
                yield Problem(self.path, item.line, violation.rule, violation.message, violation.pointer)

    def _read(self) -> Iterator[Read]:
        if self.fmt == "parquet":
            yield from _parquet(self.path, self.schema or "document")
            return
        readers = {"jsonl": _jsonl, "json": _json, "csv": _csv}
        last = 0
        try:
            with open_binary(self.path) as stream:
                for item in readers[self.fmt](stream):
                    last = item.line or last
                    yield item
        except (OSError, EOFError, ValueError) as exc:  # truncated or corrupt .gz/.zst, bad UTF-8 in CSV
            yield Read(last + 1, error=f"cannot read the file past here: {exc}")


# -- JSON Lines ---------------------------------------------------------------------------------------


def _jsonl(stream: IO[bytes]) -> Iterator[Read]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            yield Read(number, orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            truncated = "" if line.endswith(b"\n") else " (the last line has no newline: a truncated file?)"
            yield Read(number, error=f"not valid JSON: {exc}{truncated}")


# -- JSON: one object, or an array read element by element ---------------------------------------------

_WHITESPACE = re.compile(rb"[ \t\r\n]*")
_STRUCTURE = re.compile(rb'["\[\]{}]')
_STRING_REST = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_SCALAR_END = re.compile(rb"[,\]\s]")


class _Window:
    """A window on a byte stream that grows as a value needs and drops what was consumed; counts lines."""

    def __init__(self, stream: IO[bytes], chunk: int = 1 << 20) -> None:
        self.stream, self.chunk = stream, chunk
        self.data, self.pos, self.eof = b"", 0, False
        self.line, self.counted = 1, 0  # newlines in data[:counted] are in self.line

    def more(self) -> bool:
        """Read at least as much as is held (so a huge value costs linear time); False at the end."""
        if self.eof:
            return False
        self.line_at(self.pos)
        self.data, self.counted, self.pos = self.data[self.pos :], 0, 0
        chunk = self.stream.read(max(self.chunk, len(self.data)))
        self.eof = not chunk
        self.data += chunk
        return not self.eof

    def line_at(self, pos: int) -> int:
        self.line += self.data.count(b"\n", self.counted, pos)
        self.counted = pos
        return self.line

    def peek(self) -> bytes:
        """The next byte that is not whitespace (``b""`` at the end), with ``pos`` moved onto it."""
        while True:
            self.pos = _WHITESPACE.match(self.data, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.data) or not self.more():
                return self.data[self.pos : self.pos + 1]

    def value_end(self) -> int | None:
        """Where the JSON value at ``pos`` ends, reading as much as it needs; None if the file ends first."""
        while (end := _value_end(self.data, self.pos)) is None:
            if not self.more():
                starts_scalar = self.data[self.pos : self.pos + 1] not in (b"", b"{", b"[", b'"')
                return len(self.data) if starts_scalar else None
        return end


def _value_end(data: bytes, start: int) -> int | None:
    """The end of the value starting at ``data[start]``, or None when ``data`` ends first.

    Only the structure is tracked (brackets outside strings); orjson then parses the slice and reports any
    other error, with its line.
    """
    first = data[start : start + 1]
    if first == b'"':
        string = _STRING_REST.match(data, start + 1)
        return string.end() if string else None
    if first not in (b"{", b"["):
        scalar = _SCALAR_END.search(data, start)
        return scalar.start() if scalar else None
    depth, pos = 0, start
    while token := _STRUCTURE.search(data, pos):
        if token.group() == b'"':
            string = _STRING_REST.match(data, token.end())
            if string is None:
                return None
            pos = string.end()
            continue
        depth += 1 if token.group() in (b"{", b"[") else -1
        pos = token.end()
        if depth == 0:
            return pos
    return None


def iter_json_array(stream: IO[bytes], chunk: int = 1 << 20) -> Iterator[Read]:
    """The elements of a JSON array, one at a time, each with the line it starts on."""
    window = _Window(stream, chunk)
    if window.peek() != b"[":
        yield Read(window.line_at(window.pos), error="expected a JSON array")
        return
    yield from _elements(window)


def _elements(window: _Window) -> Iterator[Read]:
    window.pos += 1  # past the [
    if window.peek() == b"]":
        window.pos += 1
        yield from _after_array(window)
        return
    while True:
        window.peek()
        line = window.line_at(window.pos)
        end = window.value_end()
        if end is None or end == window.pos:
            truncated = "unexpected end of file inside a record (truncated?)"
            yield Read(line, error=truncated if end is None else "expected a value")
            return
        yield _parse(line, window.data[window.pos : end])
        window.pos = end
        separator = window.peek()
        window.pos += 1
        if separator == b"]":
            yield from _after_array(window)
            return
        if separator != b",":
            found = f"found {separator.decode('latin-1')!r}" if separator else "the file ends (truncated?)"
            yield Read(window.line_at(window.pos - 1), error=f"expected ',' or ']' after a record, {found}")
            return


def _after_array(window: _Window) -> Iterator[Read]:
    if window.peek():
        yield Read(window.line_at(window.pos), error="unexpected data after the end of the array")


def _parse(line: int, data: bytes) -> Read:
    try:
        return Read(line, orjson.loads(data))
    except orjson.JSONDecodeError as exc:
        return Read(line, error=f"not valid JSON: {exc}")


def _json(stream: IO[bytes]) -> Iterator[Read]:
    """An array is its elements; anything else (an object such as report.json) is one record, read whole."""
    window = _Window(stream)
    if window.peek() == b"[":
        yield from _elements(window)
    else:
        yield _parse(window.line_at(window.pos), window.data[window.pos :] + stream.read())


# -- CSV and Parquet ----------------------------------------------------------------------------------


def _csv(stream: IO[bytes]) -> Iterator[Read]:
    """Rows as records keyed by the header; the line is where the row starts (a cell may hold newlines)."""
    # The default limit (128 KiB per cell) would reject a long text; this raises it for the process.
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
    rows = csv.DictReader(text, restkey="(extra cells)")
    start = 2
    try:
        for row in rows:
            repeated = list(row.values()) == rows.fieldnames  # what concatenating two CSV files leaves
            yield Read(start, error="the header again (files concatenated?)") if repeated else Read(start, row)
            start = rows.line_num + 1
    except csv.Error as exc:
        yield Read(start, error=f"not valid CSV: {exc}")
    finally:
        text.detach()


def _parquet_marker(path: str) -> str | None:
    pq = import_pyarrow("pyarrow.parquet")
    try:
        metadata = pq.read_schema(path).metadata or {}
    except Exception:  # noqa: BLE001 - not Parquet: _parquet reports it as a problem of the file
        return None
    marker = metadata.get(SCHEMA_KEY, b"").decode()
    return marker if marker in list_schemas() else None


def _parquet(path: str, schema: str) -> Iterator[Read]:
    """Rows of each row group in turn, turned back into JSON records by the schema's Arrow mapping."""
    pq = import_pyarrow("pyarrow.parquet")
    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a file that is not Parquet
        yield Read(None, error=f"not a Parquet file: {exc}")
        return
    decode: Callable[[Any], Any] = dict  # a schema that does not map to columns: the rows as they are
    with contextlib.suppress(NormkitError):
        decode = codec_for(schema).decode
    row = 0
    for group in range(parquet.num_row_groups):
        for values in parquet.read_row_group(group).to_pylist():
            row += 1
            yield Read(row, decode(values))
