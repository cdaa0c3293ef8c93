"""The ``fix_text`` stage: repairs mojibake and other damage with ftfy, recording what it changed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from normkit import Context, Document, Register, RepairOptions, Stage, hookimpl, line_edits, repair_explained


class FixTextStage(Stage):
    """Options are ftfy's ``TextFixerConfig`` fields plus ``preset`` (``safe``, the default, or ``ftfy``)."""

    name = "fix_text"
    options_schema = {"type": "object"}  # checked by RepairOptions.from_mapping, which names a bad key

    def __init__(self, options: Mapping[str, Any], context: Context) -> None:
        super().__init__(options, context)
        self.repair_options = RepairOptions.from_mapping(options)

    def process(self, doc: Document) -> Document:
        text, steps = repair_explained(doc.text, self.repair_options)
        if text == doc.text:
            return doc
        detail = ", ".join(f"{kind}:{arg}" for kind, arg in steps) or None
        return doc.with_edits(*line_edits(self.name, "ftfy", doc.text, text, detail), text=text)


@hookimpl
def normkit_register_stages(register: Register[type[Stage]]) -> None:
    register(FixTextStage)
