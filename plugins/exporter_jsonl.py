"""The ``jsonl`` exporter: one JSON object per line, the document's own JSON form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

import orjson

from normkit import Exporter, RecordWriter, Register, hookimpl


class JsonlWriter(RecordWriter):
    def write(self, record: Mapping[str, Any]) -> None:
        self.stream.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))


class JsonlExporter(Exporter):
    name = "jsonl"
    schema = "document"
    suffix = ".jsonl"

    def open(self, stream: IO[bytes]) -> RecordWriter:
        return JsonlWriter(stream)


@hookimpl
def normkit_register_exporters(register: Register) -> None:
    register(JsonlExporter)
