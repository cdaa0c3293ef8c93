"""The ``headline`` stage: the title is kept once, in ``title``, and its repeats leave the body."""

from __future__ import annotations

import re

from normkit import Document, Edit, Register, Stage, hookimpl

_FOLD = re.compile(r"[\W_]+", re.UNICODE)


def fold(line: str) -> str:
    """Case, punctuation and whitespace folded away: "U.S. says -- Iran!" ~ "us says iran"."""
    return _FOLD.sub(" ", line.casefold()).strip()


class HeadlineStage(Stage):
    name = "headline"
    options_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"window": {"type": "integer", "minimum": 1, "description": "Lines searched for repeats."}},
    }

    def process(self, doc: Document) -> Document:
        lines = doc.text.split("\n")
        edits: list[Edit] = []
        title = doc.title
        if title is None:
            first = next((i for i, line in enumerate(lines) if line.strip()), None)
            if first is None:
                return doc
            title = lines[first].strip()
            edits.append(Edit(self.name, "removed", "title-line", line=first + 1, before=lines[first]))
            lines[first] = None  # type: ignore[call-overload]
        key = fold(title)
        window = self.options.get("window", 10)
        seen = 0
        for i, line in enumerate(lines):
            if line is None or not line.strip():
                continue
            seen += 1
            if seen > window:
                break
            if key and fold(line) == key:
                edits.append(Edit(self.name, "removed", "title-repeat", line=i + 1, before=line))
                lines[i] = None  # type: ignore[call-overload]
        if not edits:
            return doc
        text = "\n".join(line for line in lines if line is not None).strip("\n")
        return doc.evolve(title=title, text=text, edits=[*doc.edits, *edits])


@hookimpl
def normkit_register_stages(register: Register) -> None:
    register(HeadlineStage)
