"""What the first-party exporters share: record shapes (document, Dolma, HF) and their options.

A *shape* is what a record looks like (and so which schema it must pass); a *format* is how records are
written (JSON Lines, one JSON array, Parquet). :class:`ShapedExporter` lets one format write any shape,
chosen with the ``shape`` option, so ``--format dolma`` and ``[output.options] shape = "dolma"`` under
``format = "parquet"`` are the same records.

The dolma and hf shapes have no title field. A title the headline stage took from the first line of a plain
text file goes back there by default (``title = "text"``): a language model should read a page as it was,
headline first. ``"metadata"`` keeps it in ``metadata.title`` only, ``"drop"`` leaves it out.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from normkit import Exporter

from .stage_headline import TITLE_LINE

if TYPE_CHECKING:
    from normkit import Context, Document

__all__ = [
    "SHAPES",
    "TITLE_PLACES",
    "RecordSettings",
    "Shape",
    "ShapedExporter",
    "exporter_options",
    "page_record",
    "title_from_text",
]

#: metadata keys that may hold when a document was created, in order of preference (for Dolma's ``created``).
CREATED_KEYS = ("created", "date_published", "published", "date")
#: where the dolma and hf shapes put the title: back in the text (when it came from there), metadata, nowhere.
TITLE_PLACES = ("text", "metadata", "drop")


@dataclass(frozen=True)
class RecordSettings:
    """Per-run choices that change a record: whether edits and flags go in, the Dolma ``added`` time, and
    where the title goes in the shapes without a title field (one of :data:`TITLE_PLACES`)."""

    edits: bool
    flags: bool
    added: str
    title: str = "text"


@dataclass(frozen=True)
class Shape:
    """One record shape: its schema, the marker in file names (``documents.dolma.jsonl``), and its builder."""

    name: str
    schema: str
    marker: str
    build: Callable[[Document, RecordSettings], dict[str, Any]]
    #: whether edits and flags go in unless the options say otherwise; the LLM-data shapes leave them out.
    history_by_default: bool = False
    #: whether the record has a field of its own for the title (else the ``title`` option says where it goes).
    has_title: bool = False
    #: what a document emptied by cleaning gets unless ``[output] empty`` says (see ``normkit.Exporter.empty``):
    #: an LLM-data shape rejects it, since an empty training record is noise; the document shape flags it.
    empty: str = "flag"


def _document(doc: Document, settings: RecordSettings) -> dict[str, Any]:
    record = doc.to_dict()
    record["title"] = doc.title or None  # a record's "" (it has no title) is written as no title
    if not settings.edits:
        del record["edits"]
    if not settings.flags:
        del record["flags"]
    return record


def _history(doc: Document, settings: RecordSettings) -> dict[str, Any]:
    """Edits and flags for a shape that keeps them under ``metadata``, when the options ask for them."""
    history: dict[str, Any] = {}
    if settings.edits:
        history["edits"] = [e.to_dict() for e in doc.edits]
    if settings.flags:
        history["flags"] = [f.to_dict() for f in doc.flags]
    return history


def title_from_text(doc: Document) -> bool:
    """Whether ``doc``'s title was the first line of its text (a plain text file), as its edits say.

    A record's own title field never was in its text, so only this title can be put back.
    """
    return any(
        e.rule == TITLE_LINE and e.stage == "headline" and e.action == "removed" and e.before.strip() for e in doc.edits
    )


def _title_and_text(doc: Document, settings: RecordSettings) -> tuple[dict[str, Any], str]:
    """The ``metadata`` title entry and the text, for a shape without a title field, as ``settings.title`` says.

    ``"text"``: a title taken from the first line goes back there, a blank line before the body (kept in
    ``metadata`` too, for filtering); ``"metadata"``: ``metadata.title`` only; ``"drop"``: neither.
    """
    title = doc.title or None
    if settings.title == "drop":
        return {}, doc.text
    if settings.title == "text" and title and title_from_text(doc):
        return {"title": title}, f"{title}\n\n{doc.text}" if doc.text else title
    return {"title": title}, doc.text


def _dolma(doc: Document, settings: RecordSettings) -> dict[str, Any]:
    # Dolma's ``created`` is "a best guess when not known": the input's own date, else the time it was added.
    created = next((doc.metadata[k] for k in CREATED_KEYS if isinstance(doc.metadata.get(k), str)), settings.added)
    title, text = _title_and_text(doc, settings)
    metadata = {**doc.metadata, **title, "url": doc.url, **_history(doc, settings)}
    return {
        "id": doc.id,
        "text": text,
        "source": doc.source or "",
        "added": settings.added,
        "created": created,
        "metadata": metadata,
    }


def _hf(doc: Document, settings: RecordSettings) -> dict[str, Any]:
    title, text = _title_and_text(doc, settings)
    metadata = {**doc.metadata, "source": doc.source, **title, "url": doc.url, **_history(doc, settings)}
    return {"text": text, "id": doc.id, "metadata": metadata}


SHAPES: dict[str, Shape] = {
    "document": Shape("document", "document", "", _document, history_by_default=True, has_title=True),
    "dolma": Shape("dolma", "dolma", ".dolma", _dolma, empty="reject"),
    "hf": Shape("hf", "hf", ".hf", _hf, empty="reject"),
}


def page_record(doc: Document) -> dict[str, Any]:
    """The record of the page-like exporters (text, markdown): what a reader of the page sees."""
    return {"id": doc.id, "title": doc.title or None, "text": doc.text, "source": doc.source, "url": doc.url}


_OPTIONS: dict[str, dict[str, Any]] = {
    "shape": {"description": "Record shape.", "enum": sorted(SHAPES)},
    "edits": {"description": "Include every edit (default: yes for document, no for dolma/hf).", "type": "boolean"},
    "flags": {"description": "Include the flags (default: as for edits).", "type": "boolean"},
    "added": {"description": "Dolma's `added` timestamp (default: when the run started).", "type": "string"},
    "title": {
        "description": "dolma/hf: a title taken from a text's first line goes back in the `text` (default), "
        "only in `metadata`, or is dropped.",
        "enum": list(TITLE_PLACES),
    },
}


def exporter_options(*names: str, **extra: dict[str, Any]) -> dict[str, Any]:
    """An ``options_schema`` with the shared options ``names`` (shape, edits, flags, added, title) and ``extra``."""
    properties = {name: _OPTIONS[name] for name in names} | extra
    return {"type": "object", "additionalProperties": False, "properties": properties}


def _now() -> str:
    """UTC now as Dolma writes it: ``2024-01-31T12:00:00.000Z``."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class ShapedExporter(Exporter):
    """An exporter of one format that writes records of any shape in :data:`SHAPES`.

    Subclasses set ``format_suffix`` and ``open``; the ``shape`` option (default ``default_shape``) sets
    this instance's ``schema`` and ``suffix`` (``.dolma.jsonl``), so ``normkit validate`` knows the shape
    of the file from its name.
    """

    default_shape: ClassVar[str] = "document"
    format_suffix: ClassVar[str] = ".jsonl"
    options_schema = exporter_options("shape", "edits", "flags", "added", "title")

    def __init__(self, options: Mapping[str, Any], context: Context) -> None:
        super().__init__(options, context)
        self.shape = SHAPES[self.options.get("shape", self.default_shape)]
        # The shape is an option, so schema and suffix belong to the instance; the engine reads them there.
        self.schema = self.shape.schema
        self.suffix = self.shape.marker + self.format_suffix
        self.empty = self.shape.empty
        edits = self.options.get("edits", self.shape.history_by_default)
        flags, added = self.options.get("flags", edits), self.options.get("added") or _now()
        self.settings = RecordSettings(edits, flags, added, self._title_place())

    def _title_place(self) -> str:
        """The ``title`` option; refused for a shape with a title field, where it would silently do nothing."""
        if "title" in self.options and self.shape.has_title:
            raise ValueError(f"option title is for the shapes without a title field (dolma, hf), not {self.shape.name}")
        return str(self.options.get("title", "text"))

    def to_record(self, doc: Document) -> dict[str, Any]:
        return self.shape.build(doc, self.settings)
