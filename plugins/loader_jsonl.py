"""Loads JSON Lines: one document per line, with a configurable field mapping.

Fields named in the mapping become document fields; every other field goes to ``metadata``. A text field
may hold a string, or (with an ``encoding`` field) raw text that the ``decode`` stage decodes.

A record has a title field even when it is missing or empty: its ``title`` is then ``""`` (no title), never
None (not known, as for a plain text file), so the ``headline`` stage takes no line of its text as a title.

What the loader does with the awkward corners of JSON, each tested in ``tests/test_faults_inputs.py``:

- **Size.** A line longer than ``[input] max_document_bytes`` (64 MiB unless set) is one reject naming the cap;
  the loader reads at most that much of it and skips the rest in small pieces, so memory stays bounded
  however long the line (a decompression bomb of one line), and the next line is read as usual.
- **A UTF-8 byte order mark** at the start of a line (the file's first line, written by some Windows tools,
  or a file concatenated after another) is dropped: RFC 8259 lets a parser ignore it, and orjson refuses it.
- **Integers beyond 64 bits** (below -2**63 or above 2**64 - 1) are kept exact, never turned into floats as
  orjson would: a line where orjson's result holds a float that large is parsed again with the standard
  library, which keeps every integer exact. An exact value in a document field (``id``, ``url``, ``source``,
  ``title``) becomes its exact decimal string, so a 128-bit id survives digit for digit. In ``metadata`` it
  makes the line a reject naming the field: no output can carry it (orjson writes 64-bit integers at most,
  Parquet's columns are int64), and turning it into a string would change the column's type from one record
  to the next; quote it in the input to keep it as text.
- **Duplicate keys** in one object keep the last value, as orjson, Python's ``json`` and most JSON tools do
  (RFC 8259 leaves it to the parser). They are not flagged: finding them would mean parsing every line twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import IO, Any

import orjson

from normkit import Document, Loader, Origin, Register, Reject, hookimpl, stable_id

from ._fields import DEFAULT_FIELDS, fields_options_schema
from ._fields import str_or_none as _str_or_none

_BOM = b"\xef\xbb\xbf"
#: a float at least this large may be an integer orjson could not hold (it reads -2**63 .. 2**64 - 1 exactly)
_INT64 = float(2**63)
_SKIP_CHUNK = 1 << 20


class JsonlLoader(Loader):
    """Options under ``[input.loaders.jsonl]``: ``fields``, which record key holds each document field."""

    name = "jsonl"
    suffixes = (".jsonl", ".ndjson", ".jsonlines")
    #: one record per line: the engine may hand this loader a byte range of a large file.
    splits_on_lines = True
    options_schema = fields_options_schema("record key", "key")

    def __init__(self, options: Mapping[str, Any], context: Any) -> None:
        super().__init__(options, context)
        self.fields = {**DEFAULT_FIELDS, **self.options.get("fields", {})}
        self.mapped = frozenset(self.fields.values())  # record keys that are not metadata
        self.max_bytes: int = context.config.max_document_bytes

    def load(self, stream: IO[bytes], path: str, first_line: int = 1) -> Iterator[Document | Reject]:
        cap = self.max_bytes
        for number, line in enumerate(iter(lambda: stream.readline(cap + 1), b""), start=first_line):
            if len(line) > cap and not line.endswith(b"\n"):  # more than ``cap`` bytes before the newline
                skipped = len(line) + _skip_line(stream)
                reason = f"a line of {skipped} bytes, longer than input.max_document_bytes = {cap}, in {path}: not read"
                yield self._reject(Origin(path, number), reason)
                continue
            if line.startswith(_BOM):
                line = line[len(_BOM) :]
            if line and not line.isspace():  # what strip() would empty, without copying the line
                yield self.parse(line, Origin(path, number))

    def parse(self, line: bytes, origin: Origin) -> Document | Reject:
        """One line -> a document, or a reject naming the file, line and what is wrong."""
        if line.startswith(_BOM):
            line = line[len(_BOM) :]
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            return self._reject(origin, f"malformed JSON: {exc}")
        if not isinstance(record, dict):
            return self._reject(origin, f"a JSON object is expected, got {type(record).__name__}")
        f = self.fields
        exact = _may_hold_big_integers(record)
        if exact:
            named = record.get(f["id"])
            reparsed = self._exact(line, origin, named if isinstance(named, str) and named else None)
            if isinstance(reparsed, Reject):
                return reparsed
            record = reparsed
        doc_id = _str_or_none(record.get(f["id"])) or stable_id(origin.path, origin.line)
        text = record.get(f["text"])
        if not isinstance(text, str):
            what = "missing" if text is None else f"not a string ({type(text).__name__})"
            return self._reject(origin, f"text field {f['text']!r} is {what}", doc_id)
        metadata = {k: v for k, v in record.items() if k not in self.mapped}
        declared = f.get("encoding") and record.get(f["encoding"])
        if declared:  # raw text smuggled through JSON as latin-1 code points: the bytes go back to the decoder
            metadata["declared_encoding"] = declared
        big = _big_integer_field(metadata) if exact else None
        if big is not None:
            return self._reject(
                origin,
                f"metadata field {big!r} holds an integer beyond 64 bits: no output can keep it exact; "
                "quote it in the input to keep it as text",
                doc_id,
            )
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

    def _exact(self, line: bytes, origin: Origin, doc_id: str | None) -> dict[str, Any] | Reject:
        """The line parsed by the standard library, whose integers are exact (orjson has read it as valid)."""
        try:
            record = json.loads(line.decode("utf-8"))  # valid UTF-8: orjson read it
        except RecursionError:
            return self._reject(origin, "an integer beyond 64 bits nested too deep to read it exactly", doc_id)
        except ValueError as exc:  # an integer of more digits than Python converts (sys.get_int_max_str_digits)
            return self._reject(origin, f"an integer that cannot be read exactly: {exc}", doc_id)
        return record  # type: ignore[no-any-return]  # a dict: orjson read the same line as one

    def _reject(self, origin: Origin, reason: str, doc_id: str | None = None) -> Reject:
        return Reject(origin, reason, doc_id=doc_id, plugin=self.plugin, hook="load")


def _skip_line(stream: IO[bytes]) -> int:
    """Read past the rest of the current line, a piece at a time; the number of bytes skipped."""
    skipped = 0
    while True:
        piece = stream.readline(_SKIP_CHUNK)
        skipped += len(piece)
        if not piece or piece.endswith(b"\n"):
            return skipped


def _may_hold_big_integers(record: dict[str, Any]) -> bool:
    """Whether orjson's ``record`` holds a float of at least 2**63 in size: maybe an integer it could not hold.

    Walked without recursion: orjson reads objects nested 1024 deep, deeper than Python's recursion limit.
    """
    stack: list[Any] = [record]
    while stack:
        container = stack.pop()
        for value in container.values() if type(container) is dict else container:
            kind = type(value)
            if kind is float:
                if abs(value) >= _INT64:
                    return True
            elif kind is dict or kind is list:
                stack.append(value)
    return False


def _big_integer_field(metadata: Mapping[str, Any]) -> str | None:
    """The first metadata key whose value is, or holds, an integer outside -2**63 .. 2**64 - 1."""
    for key, top in metadata.items():
        stack: list[Any] = [top]
        while stack:
            value = stack.pop()
            kind = type(value)
            if kind is int:
                if not -(2**63) <= value < 2**64:
                    return key
            elif kind is dict:
                stack.extend(value.values())
            elif kind is list:
                stack.extend(value)
    return None


@hookimpl
def normkit_register_loaders(register: Register[type[Loader]]) -> None:
    register(JsonlLoader)
