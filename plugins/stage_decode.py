"""The ``decode`` stage: raw bytes -> text, recording how (encoding, confidence, method).

Detection goes through the ``normkit_detect_encoding`` hook so a plugin can take over for inputs it knows;
normkit's own implementation (``trylast``) is :func:`normkit.decode`.
"""

from __future__ import annotations

import codecs
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from encodings.aliases import aliases
from typing import Any

from normkit import (
    BinaryInputError,
    ConfigError,
    Context,
    Decoded,
    DecodeOptions,
    Document,
    Edit,
    Register,
    RejectDocument,
    Stage,
    decode,
    hookimpl,
    option,
    options_schema,
)

POLICIES = ["keep", "reject"]


@dataclass(frozen=True)
class DecodeStageOptions:
    """``[stages.decode]``."""

    encoding: str | None = option(None, "Decode every document with this codec.", type="string")
    min_confidence: float = option(0.5, "A guess less sure than this is flagged.", type="number", minimum=0, maximum=1)
    on_low_confidence: str = option("keep", "A guess too unsure: keep it with a flag, or reject.", enum=POLICIES)
    on_replacement: str = option("keep", "Bytes that could not be decoded: keep with a flag, or reject.", enum=POLICIES)


class DecodeStage(Stage):
    name = "decode"
    options_schema = options_schema(DecodeStageOptions)

    def __init__(self, options: Mapping[str, Any], context: Context) -> None:
        super().__init__(options, context)
        _check_encoding(self.options.get("encoding"), "stages.decode.encoding")
        for profile in context.profiles():  # a profile's codec too: a typo fails now, not on every document
            table = profile.options.get(self.name, {})
            if isinstance(table, Mapping):
                _check_encoding(table.get("encoding"), f"profiles.{profile.name}.stages.{self.name}.encoding")

    def process(self, doc: Document) -> Document:
        if doc.raw is None:
            return doc
        options = self.settings_for(doc, DecodeStageOptions)
        declared = options.encoding or doc.metadata.get("declared_encoding")
        try:
            decoded: Decoded = self.context.pm.hook.normkit_detect_encoding(
                data=doc.raw, declared=declared, context=self.context
            )
        except BinaryInputError as exc:
            raise RejectDocument(str(exc)) from None  # its message says "binary input: ..." already
        edit = Edit(self.name, "decoded", decoded.method, detail=decoded.encoding)
        result = doc.with_edits(edit, text=decoded.text, raw=None, decoding=decoded.as_dict())
        return self._check(result, decoded, options)

    def _check(self, doc: Document, decoded: Decoded, options: DecodeStageOptions) -> Document:
        """Flag (or, by policy, reject) a guess too unsure to trust and bytes that could not be decoded."""
        problems = []
        if decoded.confidence < options.min_confidence:
            problems.append(
                ("low_confidence", options.on_low_confidence, f"{decoded.encoding} at {decoded.confidence:.2f}")
            )
        if decoded.replacements:
            problems.append(("replacement_chars", options.on_replacement, f"{decoded.replacements} undecodable bytes"))
        for code, policy, detail in problems:
            if policy == "reject":
                raise RejectDocument(f"{code.replace('_', ' ')}: {detail}")
            doc = doc.with_flag(code, self.name, detail)
        return doc


def _check_encoding(encoding: Any, key: str) -> None:
    """``encoding`` names a codec Python knows (or is unset); else a one-line error naming ``key``."""
    if not isinstance(encoding, str):
        return  # unset; a value of another type is the options schema's to name
    try:
        codecs.lookup(encoding)
    except LookupError:
        names = sorted({*aliases, *aliases.values()})
        close = difflib.get_close_matches(encoding.lower().replace("-", "_"), names, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ConfigError(f"{key}: unknown encoding {encoding!r}{hint}") from None


@hookimpl(trylast=True)
def normkit_detect_encoding(data: bytes, declared: str | None, context: Context) -> Decoded:
    try:
        return decode(data, DecodeOptions(encoding=declared))
    except LookupError as exc:
        raise RejectDocument(f"unknown encoding {declared!r}") from exc


@hookimpl
def normkit_register_stages(register: Register[type[Stage]]) -> None:
    register(DecodeStage)
