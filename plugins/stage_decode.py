"""The ``decode`` stage: raw bytes -> text, recording how (encoding, confidence, method).

Detection goes through the ``normkit_detect_encoding`` hook so a plugin can take over for inputs it knows;
normkit's own implementation (``trylast``) is :func:`normkit.decode`.
"""

from __future__ import annotations

from typing import Any

from normkit import Context, Document, Edit, Register, Stage, hookimpl
from normkit.errors import RejectDocument
from normkit.text import BinaryInputError, Decoded, DecodeOptions, decode

POLICIES = ["keep", "reject"]


class DecodeStage(Stage):
    name = "decode"
    options_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "encoding": {"type": "string", "description": "Decode every document with this codec."},
            "min_confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "on_low_confidence": {"enum": POLICIES},
            "on_replacement": {"enum": POLICIES},
        },
    }

    def process(self, doc: Document) -> Document:
        if doc.raw is None:
            return doc
        options = self.options_for(doc)
        declared = options.get("encoding") or doc.metadata.get("declared_encoding")
        try:
            decoded: Decoded = self.context.pm.hook.normkit_detect_encoding(
                data=doc.raw, declared=declared, context=self.context
            )
        except BinaryInputError as exc:
            raise RejectDocument(f"binary input: {exc}") from None
        edit = Edit(self.name, "decoded", decoded.method, detail=decoded.encoding)
        result = doc.with_edits(edit, text=decoded.text, raw=None, decoding=decoded.as_dict())
        return self._check(result, decoded, options)

    def _check(self, doc: Document, decoded: Decoded, options: dict[str, Any]) -> Document:
        """Flag (or, by policy, reject) a guess too unsure to trust and bytes that could not be decoded."""
        problems = []
        if decoded.confidence < options.get("min_confidence", 0.5):
            problems.append(("low_confidence", "on_low_confidence", f"{decoded.encoding} at {decoded.confidence:.2f}"))
        if decoded.replacements:
            problems.append(("replacement_chars", "on_replacement", f"{decoded.replacements} undecodable bytes"))
        for code, policy, detail in problems:
            if options.get(policy, "keep") == "reject":
                raise RejectDocument(f"{code.replace('_', ' ')}: {detail}")
            doc = doc.with_flag(code, self.name, detail)
        return doc


@hookimpl(trylast=True)
def normkit_detect_encoding(data: bytes, declared: str | None, context: Context) -> Decoded:
    try:
        return decode(data, DecodeOptions(encoding=declared))
    except LookupError as exc:
        raise RejectDocument(f"unknown encoding {declared!r}") from exc


@hookimpl
def normkit_register_stages(register: Register[type[Stage]]) -> None:
    register(DecodeStage)
