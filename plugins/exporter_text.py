"""The ``text`` exporter: one ``.txt`` file per document (title, a blank line, then the body)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from normkit import Document, Exporter, FolderWriter, RecordWriter, Register, hookimpl

from ._record_shapes import page_record


def render_text(record: Mapping[str, Any]) -> bytes:
    """The page as plain text; a document without a title is its body alone."""
    body = record["text"] if record["text"].endswith("\n") else record["text"] + "\n"
    head = f"{record['title']}\n\n" if record.get("title") else ""
    return str(head + body).encode()


class TextExporter(Exporter):
    """File names come from ids made safe (see :func:`normkit.safe_filename`)."""

    name = "text"
    schema = "page"
    suffix = ".txt"
    per_document = True

    def to_record(self, doc: Document) -> dict[str, Any]:
        return page_record(doc)

    def open_folder(self, folder: Path) -> RecordWriter:
        return FolderWriter(folder, self.suffix, render_text)


@hookimpl
def normkit_register_exporters(register: Register[type[Exporter]]) -> None:
    register(TextExporter)
