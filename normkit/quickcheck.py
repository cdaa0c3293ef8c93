"""msgspec's strict "yes" for a JSON Schema: a record it accepts, jsonschema accepts too.

Checking a record with jsonschema interprets the schema on every call; fastjsonschema's compiled code answers
in ~20 µs but takes a tuple for an array. A msgspec type compiled from the schema answers in ~5 µs, in C. It
may only say yes: :mod:`normkit.validate` asks jsonschema whenever it says no, so every message is still
jsonschema's. ``tests/test_validate_fast.py`` checks with hypothesis that its yes is never more lenient.

A schema becomes a msgspec type (a Struct per object with properties) and a walk (:data:`_Walk`) over what
msgspec accepts too widely for JSON Schema: jsonschema takes only a dict for "object" and only a list for
"array", and compares a bound exactly, where msgspec takes any mapping, any tuple or set, and a Decimal as a
float. Anything else is left out: a schema with a keyword not handled here has no quick check at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, Union

__all__ = ["quick_check"]

#: keywords that say nothing about the instance (or are inlined away before this): skipped.
_QUICK_IGNORED = frozenset({"$schema", "$id", "$defs", "$comment", "title", "description", "default"})
#: keywords a quick check takes; a schema with any other keyword (or a ``$ref`` left) gets none.
_QUICK_KEYWORDS = (
    _QUICK_IGNORED
    | {"type", "properties", "required", "additionalProperties", "items", "enum"}
    | {
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "uniqueItems",
        "anyOf",
    }
)
#: bounds a float holds exactly with every integer near them, so msgspec's float compare is jsonschema's.
_EXACT_BOUND = 2**53
_SCALARS: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool, "null": None}

#: what msgspec cannot see of one value: True when it is what the schema means too.
_Walk = Callable[[Any], bool]


class _NotQuickError(Exception):
    """A part of a schema msgspec cannot check exactly: the schema gets no quick check."""


class _Quick:
    """msgspec's strict conversion to a type compiled from a schema, then the walk: a "yes" never too lenient."""

    def __init__(self, type_: Any, walk: _Walk | None) -> None:
        import msgspec

        self.type = type_
        self.walk = walk
        self.convert = msgspec.convert
        self.refused = msgspec.ValidationError

    def check(self, value: Any) -> bool:
        try:
            self.convert(value, self.type)
        except self.refused:
            return False
        except Exception:  # noqa: BLE001  # anything odd inside a record: not a "yes"; the engines explain it
            return False
        return self.walk is None or self.walk(value)


_QUICK_CACHE: dict[int, tuple[Any, Callable[[Any], bool] | None]] = {}
_QUICK_CACHE_SIZE = 256


def quick_check(schema: Any) -> Callable[[Any], bool] | None:
    """A strict "yes" for ``schema`` (True: valid; False: ask jsonschema), or None when it cannot be built.

    Cached by the schema object's identity (an options schema is a class attribute, built once), holding the
    schema so the identity is never reused. For an options table or a configuration, this is what keeps
    jsonschema out of a process whose input is valid.
    """
    if not isinstance(schema, dict):
        return None
    cached = _QUICK_CACHE.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    import msgspec  # when the first record or table is checked: ``normkit --version`` needs none of this

    try:
        type_, walk = _quick(schema)
        msgspec.convert(None, type_)  # msgspec checks a type when first used: an unsupported union raises here
    except msgspec.ValidationError:
        checker: Callable[[Any], bool] | None = _Quick(type_, walk).check
    except (_NotQuickError, TypeError, ValueError):
        checker = None
    else:
        checker = _Quick(type_, walk).check
    if len(_QUICK_CACHE) >= _QUICK_CACHE_SIZE:  # schemas made afresh on every call would otherwise pile up
        _QUICK_CACHE.clear()
    _QUICK_CACHE[id(schema)] = (schema, checker)
    return checker


def _quick(node: Any) -> tuple[Any, _Walk | None]:
    """The msgspec type and the walk for one schema node."""
    if node is True or node == {}:
        return Any, None
    if not isinstance(node, dict) or not set(node) <= _QUICK_KEYWORDS:
        raise _NotQuickError(node)
    if "enum" in node:
        return _quick_enum(node)
    kinds = node.get("type")
    if kinds is None:
        if set(node) - _QUICK_IGNORED:
            raise _NotQuickError(node)  # keywords for some types, without a type: left to the engines
        return Any, None
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if not isinstance(kinds, list) or len(set(kinds) - {"null"}) > 1 or not kinds:
        raise _NotQuickError(node)  # one kind, or one kind or null: a walk then knows which it has
    kind = next((k for k in kinds if k != "null"), "null")
    type_, walk = _quick_kind(kind, node)
    if "null" not in kinds or kind == "null":
        return type_, walk
    return Union[type_, None], (None if walk is None else _or_none(walk))  # noqa: UP007  # a runtime type


def _or_none(walk: _Walk) -> _Walk:
    return lambda value: value is None or walk(value)


def _quick_enum(node: dict[str, Any]) -> tuple[Any, _Walk | None]:
    """Strings become a Literal; other values are compared with their exact type (jsonschema tells 1 from True)."""
    values = node["enum"]
    if set(node) - _QUICK_IGNORED - {"enum", "type"} or not isinstance(values, list) or not values:
        raise _NotQuickError(node)
    if ("type" in node and node["type"] != "string") or not all(isinstance(v, str) for v in values):
        if "type" in node or not all(v is None or isinstance(v, (str, bool)) for v in values):
            raise _NotQuickError(node)
        allowed = frozenset((type(v), v) for v in values)
        return Any, lambda value: (type(value), value) in allowed if _hashable(value) else False
    return Literal[tuple(values)], None


def _hashable(value: Any) -> bool:
    return isinstance(value, (str, bool, type(None), int, float))


def _quick_kind(kind: str, node: dict[str, Any]) -> tuple[Any, _Walk | None]:
    if kind == "object":
        return _quick_object(node)
    if kind == "array":
        return _quick_array(node)
    if kind not in _SCALARS:
        raise _NotQuickError(kind)
    allowed = {"string": {"minLength", "maxLength"}, "integer": {"minimum", "maximum"}}
    allowed["number"] = allowed["integer"]
    constraints = set(node) - _QUICK_IGNORED - {"type"}
    if not constraints <= allowed.get(kind, set()):
        raise _NotQuickError(node)
    if not constraints:
        return _SCALARS[kind], None
    import msgspec

    meta = {"minLength": "min_length", "maxLength": "max_length", "minimum": "ge", "maximum": "le"}
    bounds = {meta[key]: node[key] for key in constraints}
    if not all(_exact_bound(kind, bound) for bound in bounds.values()):
        raise _NotQuickError(node)
    type_ = Annotated[_SCALARS[kind], msgspec.Meta(**bounds)]  # type: ignore[valid-type]  # built at run time
    # msgspec compares a Decimal (or a float subclass) as a float, jsonschema exactly: a bound takes only these
    return type_, (_plain_number if kind == "number" else None)


def _exact_bound(kind: str, bound: Any) -> bool:
    if isinstance(bound, bool) or not isinstance(bound, (int, float)):
        return False
    if kind == "integer":
        return isinstance(bound, int)
    if kind == "number":
        return abs(bound) < _EXACT_BOUND  # 2**53 + 1 as a float is 2**53: at the bound, msgspec would let it by
    return isinstance(bound, int) and bound >= 0


def _plain_number(value: Any) -> bool:
    return isinstance(value, (int, float))


def _quick_object(node: dict[str, Any]) -> tuple[Any, _Walk | None]:
    """A Struct for properties (unknown fields refused when ``additionalProperties`` is false), else a dict."""
    import msgspec

    properties = node.get("properties", {})
    required = node.get("required", [])
    extra = node.get("additionalProperties", True)
    any_of = _required_alternatives(node.get("anyOf"))
    # isinstance, not "in (True, False)": 0 == False, and jsonschema reads a 0 there as a schema, not as false
    if not isinstance(properties, dict) or not isinstance(required, list) or not isinstance(extra, bool):
        if isinstance(extra, bool) or properties or required:
            raise _NotQuickError(node)
        values, walk = _quick(extra)  # a map: every value by one schema
        return dict[str, values], _dict_walk(lambda d: d.values(), walk, any_of)  # type: ignore[valid-type]
    if not properties and not required and extra is True:
        return dict, _dict_walk(lambda d: (), None, any_of)
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    walks: list[tuple[str, _Walk]] = []
    names = [*properties, *(r for r in required if r not in properties)]
    for position, name in enumerate(names):
        type_, walk = _quick(properties.get(name, True))
        field = f"f{position}"  # any key is a field; its Python name is never seen
        fields.append((field, type_) if name in required else (field, type_, msgspec.UNSET))
        if walk is not None:
            walks.append((name, walk))
    rename = {f"f{position}": name for position, name in enumerate(names)}
    struct = msgspec.defstruct("Record", fields, kw_only=True, forbid_unknown_fields=extra is False, rename=rename)
    return struct, _dict_walk(lambda d: (), None, any_of, walks)


def _dict_walk(
    values: Callable[[dict[str, Any]], Any],
    walk: _Walk | None,
    any_of: list[list[str]] | None,
    properties: list[tuple[str, _Walk]] | None = None,
) -> _Walk:
    """An object's walk: a dict (msgspec takes any mapping), with its values, alternatives and properties."""

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return False
        if any_of is not None and not any(all(key in value for key in keys) for keys in any_of):
            return False
        if walk is not None and not all(map(walk, values(value))):
            return False
        return not properties or all(name not in value or inner(value[name]) for name, inner in properties)

    return check


def _required_alternatives(any_of: Any) -> list[list[str]] | None:
    """``anyOf`` of ``required`` lists only (one of these sets of keys), as lists; None when absent."""
    if any_of is None:
        return None
    if not isinstance(any_of, list) or not any_of:
        raise _NotQuickError(any_of)
    alternatives = []
    for alternative in any_of:
        if not isinstance(alternative, dict) or set(alternative) != {"required"}:
            raise _NotQuickError(alternative)
        keys = alternative["required"]
        if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
            raise _NotQuickError(alternative)
        alternatives.append(keys)
    return alternatives


def _quick_array(node: dict[str, Any]) -> tuple[Any, _Walk | None]:
    """A list (msgspec takes a tuple or set too: the walk does not), its items, unique strings when asked."""
    if set(node) - _QUICK_IGNORED - {"type", "items", "uniqueItems"}:
        raise _NotQuickError(node)
    items, walk = _quick(node.get("items", True))
    unique = node.get("uniqueItems", False)
    if unique not in (True, False) or (unique and not _only_strings(node.get("items"))):
        raise _NotQuickError(node)  # a set tells strings apart as jsonschema does; not 1 from 1.0 or True

    def check(value: Any) -> bool:
        if not isinstance(value, list):
            return False
        if unique and len(set(value)) != len(value):
            return False
        return walk is None or all(map(walk, value))

    return list[items], check  # type: ignore[valid-type]


def _only_strings(items: Any) -> bool:
    if not isinstance(items, dict):
        return False
    if "enum" in items:
        return all(isinstance(v, str) for v in items["enum"])
    return items.get("type") == "string"
