"""The ``boilerplate`` stage: removes lines that scrapers leave around the article, saying which rule fired."""

from __future__ import annotations

import re

from normkit import Document, Edit, Register, Stage, hookimpl

#: rule id -> pattern for a whole (stripped) line.
BUILTIN_RULES: dict[str, str] = {
    "read-time": r"\d+\s*(?:min|mins|minute|minutes)\s+read",
    "widget-label": r"(?:Analysis|Live Story|Live|Advertisement|Opinion)",
    "caption-credit": r".{0,300}\[(?:[A-Z][\w.&/ -]{0,40})\]",
}


class BoilerplateStage(Stage):
    name = "boilerplate"

    def __init__(self, options, context):  # type: ignore[no-untyped-def]
        super().__init__(options, context)
        self.pattern = re.compile("|".join(f"(?P<{k.replace('-', '_')}>{v})" for k, v in BUILTIN_RULES.items()))

    def process(self, doc: Document) -> Document:
        kept: list[str] = []
        edits: list[Edit] = []
        for number, line in enumerate(doc.text.split("\n"), start=1):
            match = self.pattern.fullmatch(line.strip()) if line.strip() else None
            if match:
                rule = (match.lastgroup or "").replace("_", "-")
                edits.append(Edit(self.name, "removed", rule, line=number, before=line))
            else:
                kept.append(line)
        if not edits:
            return doc
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip("\n")
        return doc.evolve(text=text, edits=[*doc.edits, *edits])


@hookimpl
def normkit_register_stages(register: Register) -> None:
    register(BoilerplateStage)
