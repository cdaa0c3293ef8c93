"""A third-party plugin: a stage that flags documents mentioning a keyword (enabled via the pipeline)."""

from __future__ import annotations

from normkit import Document, Register, Stage, hookimpl


class KeywordFlagStage(Stage):
    name = "keyword_flag"
    options_schema = {"type": "object", "properties": {"keyword": {"type": "string"}}, "additionalProperties": False}

    def process(self, doc: Document) -> Document:
        keyword = self.options.get("keyword", "Iran")
        if keyword in doc.text:
            return doc.with_flag("keyword", self.name, keyword)
        return doc


@hookimpl
def normkit_register_stages(register: Register) -> None:
    register(KeywordFlagStage)
