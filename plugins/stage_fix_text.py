"""The ``fix_text`` stage: repairs mojibake and other damage with ftfy, recording what it changed."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from normkit import Context, Document, Register, RepairOptions, Stage, hookimpl, line_edits, repair_explained


class FixTextStage(Stage):
    """Options are ftfy's ``TextFixerConfig`` fields plus ``preset`` (``safe``, the default, or ``ftfy``)."""

    name = "fix_text"
    options_schema = RepairOptions.json_schema()

    def __init__(self, options: Mapping[str, Any], context: Context) -> None:
        super().__init__(options, context)
        self.repair_options = RepairOptions.from_mapping(options)

    def process(self, doc: Document) -> Document:
        text, steps = repair_explained(doc.text, self._repair_options(doc.source))
        if text == doc.text:
            return doc
        detail = ", ".join(f"{kind}:{arg}" for kind, arg in steps) or None
        return doc.with_edits(*line_edits(self.name, "ftfy", doc.text, text, detail), text=text)

    @lru_cache(maxsize=256)  # noqa: B019 - stages live as long as the process; sources are few
    def _repair_options(self, source: str | None) -> RepairOptions:
        """The options for a source's documents: a profile may set its own over the configuration's."""
        options = self._options_for_source(source)
        return self.repair_options if options == self.options else RepairOptions.from_mapping(options)


@hookimpl
def normkit_register_stages(register: Register[type[Stage]]) -> None:
    register(FixTextStage)
