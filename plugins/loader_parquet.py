"""Loads Parquet files (FineWeb-style dumps): one document per row, with the field mapping of JSON Lines.

``[input.loaders.parquet] fields = {text = "content", ...}`` names the column that holds each document field,
with the same option and defaults as ``[input.loaders.jsonl]``; every other column goes to ``metadata``, as
JSON Lines keys do. Needs pyarrow (``pip install 'normkit[parquet]'``).

Rows are read a batch at a time (``ParquetFile.iter_batches``, :data:`BATCH_ROWS` rows, and only the row group
being read is held), so memory stays bounded by a row group, whatever the file's size. A document's origin is
the file and its row (``line`` = the 1-based row number across the whole file).

- A row whose text column is null (or missing from the file) is one reject, as a JSON Lines record without text.
- A text column of binary values holds raw text: the bytes go to the ``decode`` stage, declared by the column
  mapped to ``encoding`` when there is one.
- A text longer than ``[input] max_document_bytes`` is one reject naming the cap.
- Metadata values pyarrow gives as dates, times or decimals become strings (ISO 8601, decimal digits), binary
  values base64 text, so every
  exporter can write them; a missing-or-null mapped field (``title``, ``url``, ...) is no value, as in JSON Lines.
"""

from __future__ import annotations

import base64
import datetime
import decimal
from collections.abc import Iterator, Mapping
from typing import IO, Any

from normkit import Document, Loader, Origin, Register, Reject, hookimpl, stable_id

from ._extras import import_extra
from ._fields import DEFAULT_FIELDS, fields_options_schema, str_or_none

#: rows decoded at a time: a FineWeb row is a few KB, so a batch is a few MB
BATCH_ROWS = 1024
#: text bytes turned into Python objects at a time: a batch is converted in slices of about this much
SLICE_BYTES = 16 << 20
#: text decoded before the compression ratio is checked: a small file is never refused
RATIO_FLOOR = 1 << 20


class ParquetLoader(Loader):
    """Options under ``[input.loaders.parquet]``: ``fields``, which column holds each document field."""

    name = "parquet"
    suffixes = (".parquet",)
    options_schema = fields_options_schema("column", "column")

    def __init__(self, options: Mapping[str, Any], context: Any) -> None:
        super().__init__(options, context)
        self.fields = {**DEFAULT_FIELDS, **self.options.get("fields", {})}
        self.mapped = frozenset(self.fields.values())  # columns that are not metadata
        self.max_bytes: int = context.config.max_document_bytes
        self.max_ratio: float = context.config.max_compression_ratio
        self.pq: Any = import_extra("pyarrow.parquet", "parquet", "reading Parquet")  # built while the run plans
        self.pc: Any = import_extra("pyarrow.compute", "parquet", "reading Parquet")

    def load(self, stream: IO[bytes], path: str, first_line: int = 1) -> Iterator[Document | Reject]:
        """Every row of the file, a batch at a time; pyarrow's errors (not Parquet, truncated) reach the engine.

        Parquet compresses inside, where the engine's ratio cap cannot see: a dictionary-encoded column can
        make a few KB into gigabytes (one long value, referenced by every row). So the text column is read
        as a dictionary where the file stores it so, each row's text length is measured before any value
        becomes a Python string, a row past ``max_document_bytes`` is rejected unread, rows are converted a
        slice of at most :data:`SLICE_BYTES` at a time, and once the text decoded passes
        ``max_compression_ratio`` times the file's size, the rest of the file is one reject.
        """
        budget = max(RATIO_FLOOR, self.max_ratio * _stream_size(stream))
        row = decoded = 0
        with self.pq.ParquetFile(stream, read_dictionary=self._dictionary_columns(stream)) as parquet:
            for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
                lengths = self._lengths(batch)
                for start, stop in _slices(lengths, self.max_bytes):
                    if stop - start == 1 and lengths[start] > self.max_bytes:
                        row += 1
                        yield self._too_long(Origin(path, row), lengths[start])
                        continue
                    decoded += sum(lengths[start:stop])
                    if decoded > budget:
                        yield self._expanded(Origin(path, row + 1), budget)
                        return
                    for record in batch.slice(start, stop - start).to_pylist():
                        row += 1
                        yield self.parse(record, Origin(path, row))

    def _dictionary_columns(self, stream: IO[bytes]) -> list[str]:
        """The text column, when the file stores it dictionary-encoded: read as such, it is never expanded."""
        stream.seek(0)
        metadata = self.pq.ParquetFile(stream).metadata
        stream.seek(0)
        names = [metadata.schema.column(i).name for i in range(metadata.num_columns)]
        text = self.fields["text"]
        if text not in names or metadata.num_row_groups == 0:
            return []
        encodings = metadata.row_group(0).column(names.index(text)).encodings
        return [text] if any("DICTIONARY" in encoding for encoding in encodings) else []

    def _lengths(self, batch: Any) -> list[int]:
        """Each row's text length in bytes (0 where it is null or absent), computed without decoding a value."""
        index = batch.schema.get_field_index(self.fields["text"])
        if index < 0:
            return [0] * batch.num_rows
        column = batch.column(index)
        if hasattr(column, "dictionary"):
            lengths = self.pc.binary_length(column.dictionary).take(column.indices)
        elif _stringlike(column):
            lengths = self.pc.binary_length(column)
        else:
            return [0] * batch.num_rows  # not text: each row's reject says so
        return [length or 0 for length in lengths.to_pylist()]

    def _too_long(self, origin: Origin, size: int) -> Reject:
        cap = self.max_bytes
        return self._reject(origin, f"a text of {size} bytes, longer than input.max_document_bytes = {cap}")

    def _expanded(self, origin: Origin, budget: float) -> Reject:
        reason = (
            f"the file's text expands to more than {budget:,.0f} bytes, input.max_compression_ratio = "
            f"{self.max_ratio:g} times its size: the rest of the file is not read"
        )
        return self._reject(origin, reason)

    def parse(self, record: dict[str, Any], origin: Origin) -> Document | Reject:
        """One row -> a document, or a reject naming the file, row and what is wrong."""
        f = self.fields
        doc_id = str_or_none(record.get(f["id"])) or stable_id(origin.path, origin.line)
        text = record.get(f["text"])
        if not isinstance(text, str | bytes):
            what = "missing" if text is None else f"not a string ({type(text).__name__})"
            return self._reject(origin, f"text field {f['text']!r} is {what}", doc_id)
        if len(text) > self.max_bytes or (len(text) * 4 > self.max_bytes and _size(text) > self.max_bytes):
            cap = self.max_bytes
            return self._reject(origin, f"a text of {_size(text)} bytes, longer than input.max_document_bytes = {cap}")
        metadata = {k: _plain(v) for k, v in record.items() if k not in self.mapped}
        declared = f.get("encoding") and record.get(f["encoding"])
        if isinstance(text, bytes) and declared:
            metadata["declared_encoding"] = declared
        return Document(
            id=doc_id,
            text=text if isinstance(text, str) else "",
            raw=text if isinstance(text, bytes) else None,
            title=str_or_none(record.get(f["title"])) or "",  # "": this record has no title
            url=str_or_none(record.get(f["url"])),
            source=str_or_none(record.get(f["source"])),
            metadata=metadata,
            origin=origin,
        )

    def _reject(self, origin: Origin, reason: str, doc_id: str | None = None) -> Reject:
        return Reject(origin, reason, doc_id=doc_id, plugin=self.plugin, hook="load")


def _slices(lengths: list[int], cap: int) -> Iterator[tuple[int, int]]:
    """Rows ``[start, stop)`` to convert together: about :data:`SLICE_BYTES` of text, and a row past ``cap``
    alone (it is rejected unread)."""
    start, size = 0, 0
    for index, length in enumerate(lengths):
        if length > cap or (size and size + length > SLICE_BYTES):
            if index > start:
                yield start, index
            start, size = index, 0
            if length > cap:
                yield index, index + 1
                start = index + 1
                continue
        size += length
    if start < len(lengths):
        yield start, len(lengths)


def _stringlike(column: Any) -> bool:
    name = str(column.type)
    return name in ("string", "large_string", "binary", "large_binary", "string_view", "binary_view")


def _stream_size(stream: IO[bytes]) -> int:
    position = stream.tell()
    size = stream.seek(0, 2)
    stream.seek(position)
    return size


def _size(text: str | bytes) -> int:
    return len(text) if isinstance(text, bytes) else len(text.encode("utf-8", "surrogatepass"))


def _plain(value: Any) -> Any:
    """A metadata value every exporter can write: dates, times and decimals as strings, nested values walked."""
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | datetime.timedelta):
        return str(value)
    if isinstance(value, bytes):  # a binary column: JSON holds no bytes, so every output gets base64 text
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@hookimpl
def normkit_register_loaders(register: Register[type[Loader]]) -> None:
    register(ParquetLoader)
