"""The ``jsonl`` exporter (the default): one JSON object per line, in any record shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

import orjson

from normkit import RecordWriter, Register, hookimpl
from normkit.exporting import ShapedExporter


class JsonlWriter(RecordWriter):
    def write(self, record: Mapping[str, Any]) -> None:
        self.stream.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))


class JsonlExporter(ShapedExporter):
    """The document's own JSON form by default; ``shape = "dolma"`` or ``"hf"`` for the LLM-data shapes."""

    name = "jsonl"
    format_suffix = ".jsonl"

    def open(self, stream: IO[bytes]) -> RecordWriter:
        return JsonlWriter(stream)


@hookimpl
def normkit_register_exporters(register: Register) -> None:
    register(JsonlExporter)
