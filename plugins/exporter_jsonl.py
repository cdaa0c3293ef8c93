"""The ``jsonl`` exporter (the default): one JSON object per line, in any record shape."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from typing import IO, Any

import orjson

from normkit import Exporter, ReadRecord, RecordWriter, Register, encode_record, hookimpl

from ._record_shapes import ShapedExporter


class JsonlWriter(RecordWriter):
    """Writes each record as the engine's part files hold it (:func:`normkit.encode_record`)."""

    def write(self, record: Mapping[str, Any]) -> None:
        self.stream.write(encode_record(record))

    def copy_lines(self, source: IO[bytes]) -> None:
        """Records already encoded as :meth:`write` would encode them: the final file takes the bytes.

        A subclass that writes records its own way gets each of them through its ``write``.
        """
        if type(self).write is not JsonlWriter.write:
            super().copy_lines(source)
            return
        shutil.copyfileobj(source, self.stream, 1 << 20)


class JsonlExporter(ShapedExporter):
    """The document's own JSON form by default; ``shape = "dolma"`` or ``"hf"`` for the LLM-data shapes."""

    name = "jsonl"
    format_suffix = ".jsonl"

    reads = (".jsonl", ".ndjson")

    @classmethod
    def read(cls, stream: IO[bytes], schema: str) -> Iterator[ReadRecord]:
        """One record a line; a blank line is skipped, as the loader skips it."""
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                yield ReadRecord(number, orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                truncated = "" if line.endswith(b"\n") else " (the last line has no newline: a truncated file?)"
                yield ReadRecord(number, error=f"not valid JSON: {exc}{truncated}")

    def open(self, stream: IO[bytes]) -> RecordWriter:
        return JsonlWriter(stream)


@hookimpl
def normkit_register_exporters(register: Register[type[Exporter]]) -> None:
    register(JsonlExporter)
