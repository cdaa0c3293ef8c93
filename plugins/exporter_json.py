"""The ``json`` exporter: one JSON array, streamed record by record, never built in memory."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import IO, Any

import orjson

from normkit import Exporter, ReadRecord, RecordWriter, Register, hookimpl

from ._json_array import read_json
from ._record_shapes import ShapedExporter


class JsonArrayWriter(RecordWriter):
    """Writes ``[`` at once, each record after ``,\\n``, and ``]`` in :meth:`close`, so a file is complete
    exactly when the writer was closed (an engine-side atomic rename then never shows a half array)."""

    def __init__(self, stream: IO[bytes]) -> None:
        super().__init__(stream)
        self.separator = b"\n"
        stream.write(b"[")

    def write(self, record: Mapping[str, Any]) -> None:
        self.stream.write(self.separator + orjson.dumps(record))
        self.separator = b",\n"

    def close(self) -> None:
        self.stream.write(b"\n]\n")


class JsonExporter(ShapedExporter):
    name = "json"
    format_suffix = ".json"

    reads = (".json",)

    @classmethod
    def read(cls, stream: IO[bytes], schema: str) -> Iterator[ReadRecord]:
        return read_json(stream)

    def open(self, stream: IO[bytes]) -> RecordWriter:
        return JsonArrayWriter(stream)


@hookimpl
def normkit_register_exporters(register: Register[type[Exporter]]) -> None:
    register(JsonExporter)
