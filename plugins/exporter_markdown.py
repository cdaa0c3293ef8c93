"""The ``markdown`` exporter: each document as a Markdown page, one file each or all in one file.

Each page starts with an HTML comment carrying the id (invisible when rendered, and what splits a single
file back into documents: :func:`split_pages`), then ``# title``, the URL when known, and the body as it is.

Only the exporter writes a page marker. A document cannot forge one: every HTML comment opener (``<!--``)
in a title, URL or text is written with its first ``-`` backslash-escaped (``<!\\--``, which Markdown shows
as the ``<!--`` it was), so the only comments in the file are the markers; a title is one heading line (its
line breaks become spaces), and a URL has its line breaks, blanks and angle brackets percent-encoded.
"""

from __future__ import annotations

import json
import re
import urllib.parse
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

#: a page marker as the exporter writes it, at the start of a line: where a page begins.
_PAGE_MARKER = re.compile(r'^<!-- normkit:id ("(?:[^"\\\n]|\\.)*") -->$', re.MULTILINE)
#: what cannot stand in an autolink ``<...>``: line breaks and other controls, blanks, angle brackets.
_NOT_IN_AUTOLINK = re.compile(r"[\x00-\x20<>\x7f\x85\u2028\u2029]")


def id_comment(doc_id: str) -> str:
    """``<!-- normkit:id "..." -->``; every ``-`` in the id is JSON-escaped so ``-->`` cannot end it early."""
    return "<!-- normkit:id " + json.dumps(doc_id).replace("-", "\\u002d") + " -->"


def escape_markers(text: str) -> str:
    """``text`` with every ``<!--`` written ``<!\\--``: Markdown shows it as written, and the only comments in a
    page, the only text a reader could take for a page marker, are the markers the exporter writes."""
    return text.replace("<!--", "<!\\--")


def render_markdown(record: Mapping[str, Any]) -> bytes:
    parts = [id_comment(record["id"])]
    if record.get("title"):
        parts.append("# " + escape_markers(" ".join(str(record["title"]).splitlines())))
    if record.get("url"):
        url = _NOT_IN_AUTOLINK.sub(lambda m: urllib.parse.quote(m.group()), str(record["url"]))
        parts.append(f"<{escape_markers(url)}>")
    parts.append(escape_markers(record["text"].rstrip("\n")))
    return ("\n\n".join(parts) + "\n").encode()


def split_pages(text: str) -> list[tuple[str, str]]:
    """The pages of a single-file output, as ``(id, page)``: a page starts at a marker line, the only place
    a marker can be (see :func:`escape_markers`); the separator before the next marker is not the page's."""
    starts = list(_PAGE_MARKER.finditer(text))
    pages = []
    for match, following in zip(starts, [*starts[1:], None], strict=True):
        end = len(text) if following is None else following.start()
        page = text[match.start() : end]
        pages.append((str(json.loads(match.group(1))), page.removesuffix(PAGE_BREAK.decode())))
    return pages


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
