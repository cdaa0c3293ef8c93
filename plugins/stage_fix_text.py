"""The ``fix_text`` stage: repairs mojibake and other damage with ftfy, recording what it changed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from normkit import Context, Document, Register, RepairOptions, Stage, hookimpl, line_edits, repair_explained


class FixTextStage(Stage):
    """Options are ftfy's ``TextFixerConfig`` fields plus ``preset`` (``safe``, the default, or ``ftfy``)."""

    name = "fix_text"
    options_schema = RepairOptions.json_schema()

    def __init__(self, options: Mapping[str, Any], context: Context) -> None:
        super().__init__(options, context)
        self.repair_options = RepairOptions.from_mapping(options)
        self._by_options: dict[tuple[tuple[str, Any], ...], RepairOptions] = {}

    def process(self, doc: Document) -> Document:
        text, steps = repair_explained(doc.text, self._repair_options(doc))
        if text == doc.text:
            return doc
        detail = ", ".join(f"{kind}:{arg}" for kind, arg in steps) or None
        return doc.with_edits(*line_edits(self.name, "ftfy", doc.text, text, detail), text=text)

    def _repair_options(self, doc: Document) -> RepairOptions:
        """The options for the document's source: a profile may set its own over the configuration's."""
        options = self.options_for(doc)
        if options == self.options:
            return self.repair_options
        key = tuple(sorted(options.items()))  # option values are scalars: built once per distinct set
        if key not in self._by_options:
            self._by_options[key] = RepairOptions.from_mapping(options)
        return self._by_options[key]


@hookimpl
def normkit_register_stages(register: Register[type[Stage]]) -> None:
    register(FixTextStage)
