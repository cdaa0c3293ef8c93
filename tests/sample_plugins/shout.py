"""A one-off --plugins-dir plugin: an exporter that upper-cases titles and a stage that raises on demand."""

from __future__ import annotations

from normkit import Document, Register, RejectDocument, Stage, hookimpl


class ExplodeStage(Stage):
    """Raises for documents containing "BOOM", rejects those containing "REJECTME"."""

    name = "explode"

    def process(self, doc: Document) -> Document:
        if "BOOM" in doc.text:
            raise RuntimeError("kaboom")
        if "REJECTME" in doc.text:
            raise RejectDocument("asked to be rejected")
        return doc


@hookimpl
def normkit_register_stages(register: Register) -> None:
    register(ExplodeStage)
