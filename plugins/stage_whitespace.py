"""The ``whitespace`` stage: one kind of line ending, no trailing spaces, at most one blank line in a row."""

from __future__ import annotations

import re

from normkit import Document, Edit, Register, Stage, hookimpl

_ODD_ENDINGS = ("\r", "\u2028", "\u2029", "\x0b", "\x0c", "\x85")
_LINE_ENDINGS = re.compile(r"\r\n?|[\u2028\u2029\x0b\x0c\x85]")
_SPACES = " \t\u00a0\u3000"
_BLANK_RUNS = re.compile(r"\n{3,}")


class WhitespaceStage(Stage):
    """Layout only, never words: the edit says how many of each change were made, not every space."""

    name = "whitespace"

    def process(self, doc: Document) -> Document:
        # `in` scans are memchr-fast where a regex character class walks every position: most documents
        # need none of these substitutions, so each is guarded by the cheapest exact test.
        text, endings = doc.text, 0
        if any(c in text for c in _ODD_ENDINGS):
            text, endings = _LINE_ENDINGS.subn("\n", text)
        lines = text.split("\n")
        trimmed = [line.rstrip(_SPACES) for line in lines]
        trailing = sum(len(a) != len(b) for a, b in zip(lines, trimmed, strict=True))
        text, blanks = "\n".join(trimmed), 0
        if "\n\n\n" in text:
            text, blanks = _BLANK_RUNS.subn("\n\n", text)
        stripped = text.strip("\n")
        if stripped == doc.text:
            return doc
        counts = {"line_endings": endings, "trailing_space": trailing, "blank_runs": blanks}
        detail = ", ".join(f"{k}={v}" for k, v in counts.items() if v)
        edit = Edit(self.name, "replaced", "whitespace", detail=detail or "leading/trailing blank lines")
        return doc.with_edits(edit, text=stripped)


@hookimpl
def normkit_register_stages(register: Register[type[Stage]]) -> None:
    register(WhitespaceStage)
