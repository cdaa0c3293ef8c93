"""The ``whitespace`` stage: one kind of line ending, no trailing spaces, at most one blank line in a row.

Its edits carry what they changed, so ``normkit explain`` can put its input back, and stay small: they
are :func:`normkit.line_edits`'s. Spaces and CRs cut from line ends are ``trimmed`` edits holding only
the cut ends, one edit for a run of lines (a text with trailing spaces on 300 lines, or one in CR LF, gets
one edit of a few bytes a line, not 300 edits each with its line); blank lines that go are ``removed``, one
edit a run; only a line split at a line separator it cannot describe as ends is ``replaced``, with its text.
"""

from __future__ import annotations

import re
from dataclasses import replace

from normkit import Document, Edit, Register, Stage, hookimpl, line_edits

_ODD_ENDINGS = ("\r", "\u2028", "\u2029", "\x0b", "\x0c", "\x85")
_LINE_ENDINGS = re.compile(r"\r\n?|[\u2028\u2029\x0b\x0c\x85]")
_SPACES = " \t\u00a0\u3000"
_BLANK_RUNS = re.compile(r"\n{3,}")


class WhitespaceStage(Stage):
    """Layout only, never words. Rules: ``trailing-space`` and ``line-endings`` (trimmed line ends),
    ``blank-lines`` (removed), ``line-separators`` (a line split where its ends cannot say it)."""

    name = "whitespace"

    def process(self, doc: Document) -> Document:
        # `in` scans are memchr-fast where a regex character class walks every position: most documents
        # need none of these substitutions, so each is guarded by the cheapest exact test.
        text = doc.text
        if any(c in text for c in _ODD_ENDINGS):
            text = _LINE_ENDINGS.sub("\n", text)
        text = "\n".join([line.rstrip(_SPACES) for line in text.split("\n")])
        if "\n\n\n" in text:
            text = _BLANK_RUNS.sub("\n\n", text)
        stripped = text.strip("\n")
        if stripped == doc.text:
            return doc
        edits = [_named(edit) for edit in line_edits(self.name, "whitespace", doc.text, stripped)]
        return doc.with_edits(*edits, text=stripped)


_ENDINGS = frozenset(_ODD_ENDINGS)
_RULES = {"removed": "blank-lines", "replaced": "line-separators"}


def _named(edit: Edit) -> Edit:
    """``edit`` with the rule that says what changed."""
    rule = _RULES.get(edit.action)
    if rule is None:  # trimmed
        rule = "line-endings" if not _ENDINGS.isdisjoint(edit.before) else "trailing-space"
    return replace(edit, rule=rule)


@hookimpl
def normkit_register_stages(register: Register[type[Stage]]) -> None:
    register(WhitespaceStage)
