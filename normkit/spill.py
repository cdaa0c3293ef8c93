"""Spill files: the learning pass's documents as they stood before the first learning stage.

A batch with a learning stage reads its input twice. Running the stages before the learning stage twice
would double their cost, so the first pass writes each input's outcome here (a document, or the reject it
became) and the cleaning pass continues from it. A spill file is JSON Lines, written atomically, and ends
with one line of the first pass's stage counts, so the report still covers the stages that ran there.

A spill carries every document the cleaning pass would get from the input, also one whose record cannot be
written as JSON (a lone surrogate, metadata nested too deep): such a line is written by the standard library's
``json`` with ASCII escapes, which reads back exactly, and the exporter's record is judged in the cleaning
pass as it would be without a spill. A document even that cannot carry becomes a reject here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import IO, Any

import orjson

from normkit.document import Document, Reject
from normkit.report import RunStats

__all__ = ["read_spilled", "spill_stats", "write_spill_stats", "write_spilled"]


def write_spilled(stream: IO[bytes], item: Document | Reject) -> None:
    if isinstance(item, Reject):
        entry: dict[str, Any] = {"reject": item.to_dict()}
    else:
        entry = {"document": item.to_dict()}
        if item.raw is not None:  # not decoded yet: latin-1 maps every byte to one code point and back
            entry["raw"] = item.raw.decode("latin-1")
    try:
        line = orjson.dumps(entry, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError:  # orjson.JSONEncodeError: a lone surrogate, or nesting deeper than orjson writes
        line = _ascii_line(entry, item)
    stream.write(line)


def _ascii_line(entry: dict[str, Any], item: Document | Reject) -> bytes:
    """``entry`` as ASCII JSON (lone surrogates as ``\\udXXX`` escapes, read back exactly), else the reject the
    document becomes. Not :func:`normkit.batch.tasks.reject_line`'s escaping, which changes the text so that
    any JSON reader takes the line: a spill must carry a document exactly."""
    try:
        return json.dumps(entry, ensure_ascii=True, separators=(",", ":")).encode("ascii") + b"\n"
    except (TypeError, ValueError, RecursionError) as exc:
        doc_id = item.id if isinstance(item, Document) else item.doc_id
        reject = Reject(item.origin, f"document cannot be carried to the cleaning pass as JSON: {exc}", doc_id)
        return orjson.dumps({"reject": reject.to_dict()}, option=orjson.OPT_APPEND_NEWLINE)


def write_spill_stats(stream: IO[bytes], stats: RunStats) -> None:
    stream.write(orjson.dumps({"stats": stats.to_dict()}, option=orjson.OPT_APPEND_NEWLINE))


def read_spilled(stream: IO[bytes]) -> Iterator[Document | Reject]:
    """The spilled outcomes in input order (the trailing counts line is skipped)."""
    for line in stream:
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:  # a line :func:`_ascii_line` wrote
            entry = json.loads(line)
        if "reject" in entry:
            yield Reject.from_dict(entry["reject"])
        elif "document" in entry:
            doc = Document.from_dict(entry["document"])
            yield doc.evolve(raw=entry["raw"].encode("latin-1")) if "raw" in entry else doc


def spill_stats(stream: IO[bytes], window: int = 1 << 16) -> RunStats:
    """The first pass's counts, from the last line, found from the end (a spill holds a part's documents)."""
    end = stream.seek(0, os.SEEK_END)
    while True:
        start = max(0, end - window)
        stream.seek(start)
        tail = stream.read(end - start)
        cut = tail.rfind(b"\n", 0, len(tail) - 1)  # the newline ending the line before the last
        if cut >= 0 or start == 0:
            return RunStats.from_dict(orjson.loads(tail[cut + 1 :])["stats"])
        window *= 4
