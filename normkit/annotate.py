"""Annotate without deleting: the text as it arrived, and the spans each stage would remove or change.

Dolma's "attributes" (and the "score first, apply later" of Dolma and NeMo Curator users): ``--annotate``
writes every document with its text as it was, and beside it, line for line in a file of the same name under
``attributes/normkit/``, what normkit would have done::

    {"id": "...", "source": "...", "attributes": {"normkit__boilerplate__read-time": [[120, 131, 1.0]]}}

A span is ``[start, end, score]`` in characters (code points, as Python and Dolma's mixer count them) of the
document's ``text``. A removed line's span takes its newline with it, so that ``dolma mix`` with
``span_replacement`` (replacement ``""``) gives the text a normal run gives. Lines a stage changed rather
than removed (whitespace trimmed, mojibake repaired) are ``normkit__<stage>__<rule>__changed``: applying
those with an empty replacement would delete text, so they have names of their own. Rules carry no
probability; the score is 1.0.

Every document is checked: its text less its removal spans must be the text a normal run writes, up to
whitespace. Where it is not (a repair changed characters, or the number of lines next to lines a later stage
removed, and the edits cannot say which characters went), every span of the document is named ``__changed``,
so that no removal a user applies can take a sentence the cleaned text kept.
"""

from __future__ import annotations

from typing import Any

from normkit.document import Document
from normkit.explain import ExplainedLine, explain

__all__ = ["ATTRIBUTES_FOLDER", "ATTRIBUTES_KEY", "annotated", "apply_spans"]

#: where the attributes files are, beside ``documents/``: Dolma's ``attributes/<name>/``.
ATTRIBUTES_FOLDER = "attributes/normkit"
#: the key under which a part's line carries its document's attributes until its shard is written, where the
#: attributes go to their own file (never into the output's records).
ATTRIBUTES_KEY = "__normkit_attributes"
SCORE = 1.0
#: the suffix of the names of spans a stage changed rather than removed, which must not be cut out
CHANGED = "__changed"


def annotated(doc: Document) -> tuple[Document, dict[str, Any]]:
    """``doc`` with its text as it arrived (its edits spent: they are now the spans), and its attributes
    record. Raises :class:`~normkit.explain.ReplayError` when the edits cannot be undone on the text."""
    lines = explain(doc)
    text = "\n".join(line.text for line in lines)
    tail = _trailing_removals(lines)
    spans: dict[str, list[list[Any]]] = {}
    start = 0
    for number, line in enumerate(lines):
        end = start + len(line.text)
        if line.edit is not None:
            first, stop = _span(line, start, end, before=number >= tail and number > 0)
            _add(spans.setdefault(_name(line), []), first, min(stop, len(text)))
        start = end + 1
    if not _consistent(text, spans, doc.text):  # the edits do not map to removals cleanly: none may be applied
        spans = {name if name.endswith(CHANGED) else f"{name}{CHANGED}": found for name, found in spans.items()}
    record = {"id": doc.id, "source": doc.source or "", "attributes": spans}
    return doc.evolve(text=text, edits=()), record


def _consistent(text: str, spans: dict[str, list[list[Any]]], cleaned: str) -> bool:
    """Whether cutting the removal spans out of ``text`` leaves the cleaned text, up to whitespace (which the
    ``__changed`` spans of trimmed lines account for): then no removal takes what the cleaned text kept."""
    return _words(apply_spans(text, spans)) == _words(cleaned)


def _words(text: str) -> str:
    return " ".join(text.split())


def _trailing_removals(lines: list[ExplainedLine]) -> int:
    """Where the removed lines that end the text begin (``len(lines)`` when the last line stays)."""
    tail = len(lines)
    while tail > 0 and lines[tail - 1].removed:
        tail -= 1
    return tail


def _name(line: ExplainedLine) -> str:
    assert line.edit is not None
    name = f"normkit__{line.edit.stage}__{line.edit.rule}"
    return name if line.removed else f"{name}{CHANGED}"


def _span(line: ExplainedLine, start: int, end: int, *, before: bool) -> tuple[int, int]:
    """A changed line's characters; a removed line's with its newline: the one after it, or, in the removed
    lines that end the text, the one before it (so that the text left ends as the cleaned one does)."""
    if not line.removed:
        return start, end
    return (start - 1, end) if before else (start, end + 1)


def _add(spans: list[list[Any]], start: int, stop: int) -> None:
    """A span, joined to the one before it when they touch: a block of removed lines is one span."""
    if spans and spans[-1][1] >= start:
        spans[-1][1] = max(spans[-1][1], stop)
    else:
        spans.append([start, stop, SCORE])


def apply_spans(text: str, attributes: dict[str, list[list[Any]]], *, changed: bool = False) -> str:
    """``text`` without the spans of ``attributes`` (the removals; with ``changed``, the changed lines too):
    what ``dolma mix`` makes of a document with ``span_replacement`` to ``""`` on every normkit attribute."""
    cut = sorted(
        (start, stop)
        for name, spans in attributes.items()
        if name.startswith("normkit__") and (changed or not name.endswith(CHANGED))
        for start, stop, _score in spans
    )
    kept, position = [], 0
    for start, stop in cut:
        if start > position:
            kept.append(text[position:start])
        position = max(position, stop)
    kept.append(text[position:])
    return "".join(kept)
