"""Arrow schemas derived from normkit's JSON Schemas, and records to Arrow rows and back.

The Parquet exporter writes columns of an Arrow schema made from the record's JSON Schema, never one
inferred from the first record (which would make a column's type depend on which document came first), and
``normkit validate`` turns Parquet rows back into JSON records with the same mapping:

- ``string``, ``integer``, ``number``, ``boolean`` -> ``string``, ``int64``, ``float64``, ``bool``;
- ``array`` -> ``list<item>``;
- a closed ``object`` (``additionalProperties: false``) -> ``struct`` of its properties;
- anything else (open objects such as ``metadata``, unions of several types) -> a JSON-encoded ``string``
  column, marked with field metadata ``normkit.json = "1"``; Arrow has no type for "any JSON".

A column is nullable unless its property is required and its type does not allow ``null``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from normkit import NormkitError, load_schema

from ._extras import import_extra

__all__ = ["JSON_MARKER", "SCHEMA_KEY", "Codec", "codec_for", "import_pyarrow"]

#: key of the Parquet file metadata naming the normkit schema the rows follow: a record-shape marker.
SCHEMA_KEY = b"normkit.schema"
#: field metadata marking a column that holds JSON text.
JSON_MARKER = {b"normkit.json": b"1"}
_SCALARS = {"string": "string", "integer": "int64", "number": "float64", "boolean": "bool_"}


def import_pyarrow(module: str = "pyarrow") -> Any:
    """``pyarrow`` (or one of its modules), imported on first use; an error naming the extra if missing."""
    return import_extra(module, "parquet", "Parquet")


@dataclass
class Codec:
    """How one JSON Schema node becomes an Arrow type, and how its values go to Arrow and come back."""

    kind: str  # "scalar" | "json" | "list" | "struct"
    arrow_name: str = ""  # for scalars: the pyarrow factory ("string", "int64", ...)
    item: Codec | None = None
    fields: dict[str, tuple[Codec, bool]] = field(default_factory=dict)  # name -> (codec, nullable)
    null_allowed: dict[str, bool] = field(default_factory=dict)  # name -> may the JSON value be null

    def arrow_type(self, pa: Any) -> Any:
        if self.kind == "scalar":
            return getattr(pa, self.arrow_name)()
        if self.kind == "json":
            return pa.string()
        if self.kind == "list":
            assert self.item is not None
            return pa.list_(self.item.arrow_type(pa))
        return pa.struct([self._field(pa, name) for name in self.fields])

    def _field(self, pa: Any, name: str) -> Any:
        codec, nullable = self.fields[name]
        metadata = JSON_MARKER if codec.kind == "json" else None
        return pa.field(name, codec.arrow_type(pa), nullable=nullable, metadata=metadata)

    def arrow_schema(self, pa: Any, metadata: Mapping[bytes, bytes]) -> Any:
        """The Arrow schema of a record codec (a struct): one column per property."""
        return pa.schema([self._field(pa, name) for name in self.fields], metadata=dict(metadata))

    def encode(self, value: Any) -> Any:
        """A JSON value as Arrow takes it: JSON columns become text; keys not in a struct are left out."""
        if value is None or self.kind == "scalar":
            return value
        if self.kind == "json":
            return orjson.dumps(value).decode()
        if self.kind == "list":
            assert self.item is not None
            return [self.item.encode(v) for v in value] if isinstance(value, list) else value
        if not isinstance(value, dict):
            return value
        return {name: codec.encode(value.get(name)) for name, (codec, _) in self.fields.items()}

    def decode(self, value: Any) -> Any:
        """An Arrow value back to JSON: JSON text parsed, and nulls Arrow added for absent keys dropped."""
        if value is None or self.kind == "scalar":
            return value
        if self.kind == "json":
            return _loads(value)
        if self.kind == "list":
            assert self.item is not None
            return [self.item.decode(v) for v in value]
        return {
            name: self.fields[name][0].decode(v) if name in self.fields else v
            for name, v in value.items()
            if v is not None or self.null_allowed.get(name, True)
        }


def _loads(value: Any) -> Any:
    """JSON text parsed; text that is not JSON stays as it is, so the schema reports it, not a crash."""
    if not isinstance(value, str):
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return value


def codec_for(schema_name: str) -> Codec:
    """The codec of a record schema (which must describe an object with properties)."""
    root = load_schema(schema_name)
    codec = _codec(root, root)
    if codec.kind != "struct":
        raise NormkitError(f"schema {schema_name}: only a closed object maps to Parquet columns")
    return codec


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref``; a ref to another schema file is kept as JSON text."""
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return node
    target: Any = root
    for part in ref[2:].split("/"):
        target = target[part]
    return _resolve(target, root)


def _types(node: dict[str, Any]) -> list[str]:
    declared = node.get("type")
    if declared is None and "enum" in node and all(isinstance(v, str) for v in node["enum"]):
        return ["string"]
    return [declared] if isinstance(declared, str) else list(declared or [])


def _codec(node: dict[str, Any], root: dict[str, Any]) -> Codec:
    node = _resolve(node, root)
    types = [t for t in _types(node) if t != "null"]
    if "$ref" in node or len(types) != 1:
        return Codec("json")
    (kind,) = types
    if kind in _SCALARS:
        return Codec("scalar", _SCALARS[kind])
    if kind == "array" and isinstance(node.get("items"), dict):
        return Codec("list", item=_codec(node["items"], root))
    if kind == "object" and node.get("additionalProperties") is False and node.get("properties"):
        return _struct(node, root)
    return Codec("json")


def _struct(node: dict[str, Any], root: dict[str, Any]) -> Codec:
    required = set(node.get("required", ()))
    codec = Codec("struct")
    for name, prop in node["properties"].items():
        allows_null = "null" in _types(_resolve(prop, root)) or not _types(_resolve(prop, root))
        codec.fields[name] = (_codec(prop, root), name not in required or allows_null)
        codec.null_allowed[name] = allows_null
    return codec
