"""The ``jsonl`` exporter (the default): one JSON object per line, in any record shape."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from typing import IO, Any

import orjson

from normkit import Exporter, RecordWriter, Register, hookimpl
from normkit.exporting import ShapedExporter
from normkit.output import encode_record


class JsonlWriter(RecordWriter):
    """Writes each record as the engine's part files hold it (:func:`~normkit.output.encode_record`)."""

    def write(self, record: Mapping[str, Any]) -> None:
        self.stream.write(encode_record(record))

    def copy_lines(self, source: IO[bytes]) -> None:
        """Records already encoded as :meth:`write` would encode them: the final file takes the bytes.

        A subclass that writes records its own way gets each of them through its ``write``.
        """
        if type(self).write is not JsonlWriter.write:
            for line in source:
                self.write(orjson.loads(line))
            return
        shutil.copyfileobj(source, self.stream, 1 << 20)


class JsonlExporter(ShapedExporter):
    """The document's own JSON form by default; ``shape = "dolma"`` or ``"hf"`` for the LLM-data shapes."""

    name = "jsonl"
    format_suffix = ".jsonl"

    def open(self, stream: IO[bytes]) -> RecordWriter:
        return JsonlWriter(stream)


@hookimpl
def normkit_register_exporters(register: Register[type[Exporter]]) -> None:
    register(JsonlExporter)
