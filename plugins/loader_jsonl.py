"""Loads JSON Lines: one document per line, with a configurable field mapping.

Fields named in the mapping become document fields; every other field goes to ``metadata``. A text field
may hold a string, or (with an ``encoding`` field) raw text that the ``decode`` stage decodes.

A record has a title field even when it is missing or empty: its ``title`` is then ``""`` (no title), never
None (not known, as for a plain text file), so the ``headline`` stage takes no line of its text as a title.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import IO, Any

import orjson

from normkit import Document, Loader, Origin, Register, Reject, hookimpl, stable_id

DEFAULT_FIELDS = {"id": "id", "text": "text", "title": "title", "url": "url", "source": "source"}


_FIELD = {"type": "string"}


class JsonlLoader(Loader):
    """Options under ``[input.loaders.jsonl]``: ``fields``, which record key holds each document field."""

    name = "jsonl"
    suffixes = (".jsonl", ".ndjson", ".jsonlines")
    #: one record per line: the engine may hand this loader a byte range of a large file.
    splits_on_lines = True
    options_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "fields": {
                "description": "Which record key holds each document field (encoding: the key that declares "
                "the encoding of raw text).",
                "type": "object",
                "additionalProperties": False,
                "properties": {name: {**_FIELD, "default": key} for name, key in DEFAULT_FIELDS.items()}
                | {"encoding": _FIELD},
            }
        },
    }

    def __init__(self, options: Mapping[str, Any], context: Any) -> None:
        super().__init__(options, context)
        self.fields = {**DEFAULT_FIELDS, **self.options.get("fields", {})}
        self.mapped = frozenset(self.fields.values())  # record keys that are not metadata

    def load(self, stream: IO[bytes], path: str, first_line: int = 1) -> Iterator[Document | Reject]:
        for number, line in enumerate(stream, start=first_line):
            if not line.isspace():  # what strip() would empty, without copying the line
                yield self.parse(line, Origin(path, number))

    def parse(self, line: bytes, origin: Origin) -> Document | Reject:
        """One line -> a document, or a reject naming the file, line and what is wrong."""
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            return self._reject(origin, f"malformed JSON: {exc}")
        if not isinstance(record, dict):
            return self._reject(origin, f"a JSON object is expected, got {type(record).__name__}")
        f = self.fields
        doc_id = _str_or_none(record.get(f["id"])) or stable_id(origin.path, origin.line)
        text = record.get(f["text"])
        if not isinstance(text, str):
            what = "missing" if text is None else f"not a string ({type(text).__name__})"
            return self._reject(origin, f"text field {f['text']!r} is {what}", doc_id)
        metadata = {k: v for k, v in record.items() if k not in self.mapped}
        declared = f.get("encoding") and record.get(f["encoding"])
        if declared:  # raw text smuggled through JSON as latin-1 code points: the bytes go back to the decoder
            metadata["declared_encoding"] = declared
        return Document(
            id=doc_id,
            text="" if declared else text,
            raw=text.encode("latin-1", "replace") if declared else None,
            title=_str_or_none(record.get(f["title"])) or "",  # "": this record has no title
            url=_str_or_none(record.get(f["url"])),
            source=_str_or_none(record.get(f["source"])),
            metadata=metadata,
            origin=origin,
        )

    def _reject(self, origin: Origin, reason: str, doc_id: str | None = None) -> Reject:
        return Reject(origin, reason, doc_id=doc_id, plugin=self.plugin, hook="load")


def _str_or_none(value: object) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


@hookimpl
def normkit_register_loaders(register: Register[type[Loader]]) -> None:
    register(JsonlLoader)
