"""The field mapping shared by the record loaders (JSON Lines, Parquet), so both take the same options.

``[input.loaders.<name>] fields = {text = "content", ...}`` names the record key (or column) that holds each
document field; everything else in a record goes to ``metadata``. One schema for both keeps the options, their
defaults and the docs in step.
"""

from __future__ import annotations

from typing import Any

DEFAULT_FIELDS = {"id": "id", "text": "text", "title": "title", "url": "url", "source": "source"}

_FIELD = {"type": "string"}


def fields_options_schema(what: str, short: str) -> dict[str, Any]:
    """The ``options_schema`` of a loader whose only option is ``fields``: ``what`` holds a field ("record key",
    "column"), ``short`` declares the encoding ("key", "column")."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "fields": {
                "description": f"Which {what} holds each document field (encoding: the {short} that declares "
                "the encoding of raw text).",
                "type": "object",
                "additionalProperties": False,
                "properties": {name: {**_FIELD, "default": key} for name, key in DEFAULT_FIELDS.items()}
                | {"encoding": _FIELD},
            }
        },
    }


def str_or_none(value: object) -> str | None:
    """A document field from a record value: None for a missing or empty one, else its string."""
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)
