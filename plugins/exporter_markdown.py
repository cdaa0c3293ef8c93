"""The ``markdown`` exporter: each document as a Markdown page, one file each or all in one file.

Each page starts with an HTML comment carrying the id (invisible when rendered, and what splits a single
file back into documents), then ``# title``, the URL when known, and the body as it is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from normkit import (
    Context,
    Document,
    Exporter,
    FolderWriter,
    RecordWriter,
    Register,
    hookimpl,
    option,
    options_from,
    options_schema,
)

from ._record_shapes import page_record

#: the separator between two pages of a single file: a thematic break between blank lines.
PAGE_BREAK = b"\n---\n\n"


def id_comment(doc_id: str) -> str:
    """``<!-- normkit:id "..." -->``; every ``-`` in the id is JSON-escaped so ``-->`` cannot end it early."""
    return "<!-- normkit:id " + json.dumps(doc_id).replace("-", "\\u002d") + " -->"


def render_markdown(record: Mapping[str, Any]) -> bytes:
    parts = [id_comment(record["id"])]
    if record.get("title"):
        parts.append(f"# {record['title']}")
    if record.get("url"):
        parts.append(f"<{record['url']}>")
    parts.append(record["text"].rstrip("\n"))
    return ("\n\n".join(parts) + "\n").encode()


class MarkdownWriter(RecordWriter):
    """All pages in one stream, separated by :data:`PAGE_BREAK`."""

    first = True

    def write(self, record: Mapping[str, Any]) -> None:
        self.stream.write((b"" if self.first else PAGE_BREAK) + render_markdown(record))
        self.first = False


@dataclass(frozen=True)
class MarkdownOptions:
    files: str = option(
        "per_document",
        "per_document: one .md file per document; single: every document in one file.",
        enum=["per_document", "single"],
    )


class MarkdownExporter(Exporter):
    name = "markdown"
    schema = "page"
    suffix = ".md"
    per_document = True
    options_schema = options_schema(MarkdownOptions)

    def __init__(self, options: Mapping[str, Any], context: Context) -> None:
        super().__init__(options, context)
        # An option, so it belongs to the instance; the engine reads it there to call open or open_folder.
        self.per_document = options_from(MarkdownOptions, self.options, "output.options").files == "per_document"

    def to_record(self, doc: Document) -> dict[str, Any]:
        return page_record(doc)

    def open(self, stream: IO[bytes]) -> RecordWriter:
        return MarkdownWriter(stream)

    def open_folder(self, folder: Path) -> RecordWriter:
        return FolderWriter(folder, self.suffix, render_markdown)


@hookimpl
def normkit_register_exporters(register: Register[type[Exporter]]) -> None:
    register(MarkdownExporter)
