"""fastjsonschema answers "valid?" for schemas of the vetted keywords: it must agree with jsonschema; msgspec's
quick "yes" comes first and must never be more lenient than jsonschema."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from normkit.validate import _as_written, compiled, iter_violations, list_schemas, validator_for

GOLDEN = json.loads((Path(__file__).parent / "data" / "seed.golden.json").read_text())
FAST = [name for name in list_schemas() if compiled(name).fast is not None]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(-2, 2)
    | st.sampled_from([1.0, 0.0, -1.0])
    | st.sampled_from(["", "x", "removed", "utf-8", "a" * 3]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(["id", "x", "line"]), children, max_size=3)
    ),
    max_leaves=8,
)


def mutate(record: Any, data: st.DataObject) -> Any:
    """``record`` with one value somewhere replaced by any JSON value (or one key removed)."""
    if not isinstance(record, (dict, list)) or not record or data.draw(st.integers(0, 4)) == 0:
        return data.draw(json_values)
    keys = list(record) if isinstance(record, dict) else list(range(len(record)))
    key = data.draw(st.sampled_from(keys))
    copy = dict(record) if isinstance(record, dict) else list(record)
    if isinstance(copy, dict) and data.draw(st.booleans()):
        del copy[key]
    else:
        copy[key] = mutate(copy[key], data)
    return copy


def agree(schema: str, record: Any) -> None:
    """normkit's answer is jsonschema's on the record as written (orjson writes a tuple as an array)."""
    assert compiled(schema).is_valid(record) == validator_for(schema).is_valid(_as_written(record)), record


def test_the_record_schemas_use_the_fast_path() -> None:
    assert {"document", "dolma", "hf", "csv", "page", "reject", "report"} <= set(FAST)
    assert "config" not in FAST  # uses uniqueItems, which the two libraries treat differently


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_agreement_on_mutations_of_a_valid_document(data: st.DataObject) -> None:
    agree("document", mutate(GOLDEN, data))


@pytest.mark.parametrize("schema", FAST)
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_agreement_on_any_json(schema: str, data: st.DataObject) -> None:
    agree(schema, data.draw(json_values))
    agree(schema, mutate({"id": "a", "text": "t", "title": None, "metadata": {}, "source": "", "url": ""}, data))


@pytest.mark.parametrize(
    "record",
    [
        GOLDEN,
        {**GOLDEN, "id": ""},
        {**GOLDEN, "origin": {"path": "x", "line": True}},
        {**GOLDEN, "origin": {"path": "x", "line": 1.0}},
        {**GOLDEN, "decoding": {**GOLDEN["decoding"], "confidence": 1.5}},
        {**GOLDEN, "edits": [{**GOLDEN["edits"][0], "action": "ate"}]},
        {**GOLDEN, "flags": [{"code": "c"}]},
        {**GOLDEN, "extra": 1},
    ],
)
def test_agreement_on_edge_cases(record: dict) -> None:
    agree("document", record)


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [r for value in node.values() for r in _refs(value)]
    return [r for value in node for r in _refs(value)] if isinstance(node, list) else []


@pytest.mark.parametrize("name", ["document", "hf", "dolma"])
def test_record_schemas_are_compiled_with_their_refs_inlined(name: str) -> None:
    """fastjsonschema builds a function per $ref and names every array item before calling it: inlined, no ref."""
    from normkit.validate import _inlined, load_schema

    schema = load_schema(name)
    assert _refs(schema), "the shipped schema refers to its parts"
    inlined = _inlined(schema)
    assert inlined is not None and not _refs({k: v for k, v in inlined.items() if k != "$defs"})


@pytest.mark.parametrize(
    "schema",
    [
        # a nested resource: its own $id changes what "#/..." means inside it
        {"$id": "https://normkit.dev/x.json", "properties": {"a": {"$id": "inner.json", "$ref": "#/$defs/b"}}},
        # a pointer to nothing
        {"$id": "https://normkit.dev/x.json", "properties": {"a": {"$ref": "#/$defs/missing"}}},
        # a ref with a sibling that constrains
        {"$id": "https://normkit.dev/x.json", "properties": {"a": {"$ref": "#/$defs/b", "type": "string"}}},
        # a cycle
        {"$id": "x.json", "$defs": {"b": {"items": {"$ref": "#/$defs/b"}}}, "items": {"$ref": "#/$defs/b"}},
    ],
)
def test_schemas_the_inliner_cannot_take_whole_are_left_to_fastjsonschema(schema: dict) -> None:
    from normkit.validate import _inlined

    assert _inlined(schema) is None


# -- msgspec's quick yes: never more lenient than jsonschema -------------------------------------------------------

QUICK = [name for name in list_schemas() if compiled(name).quick is not None]

#: values msgspec might take where JSON Schema does not: tuples and sets for lists, 1.0 and True for integers,
#: NaN and infinities, numbers just past a bound, Decimals, and mappings that are not dicts.
awkward_leaves = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.sampled_from([0, 1, -1, 2**53 + 1, 2**64])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([1.0, 0.0, -0.0, 1.5, 1.0000000000000002, 0.9999999999999999, float("nan"), float("inf")])
    | st.decimals(allow_nan=False, places=20, min_value=-2, max_value=2)
    | st.sampled_from(["", "x", "removed", "utf-8", "record", "url", "ok", "decoded", "\ud800", "🌊"])
)
awkward_values = st.recursive(
    awkward_leaves,
    lambda children: (
        st.lists(children, max_size=3)
        | st.lists(children, max_size=3).map(tuple)
        | st.frozensets(st.sampled_from(["a", "b"]), max_size=2)
        | st.dictionaries(st.sampled_from(["id", "x", "line", "path", "text", "code", "stage"]), children, max_size=3)
        | st.dictionaries(st.sampled_from(["id", "text"]), children, max_size=2).map(MappingProxyType)
    ),
    max_leaves=8,
)


def disguise(value: Any, data: st.DataObject) -> Any:
    """``value`` with some lists made tuples, some dicts made read-only mappings, some numbers Decimals."""
    choice = data.draw(st.integers(0, 6))
    if isinstance(value, list):
        items = [disguise(item, data) for item in value]
        return tuple(items) if choice == 0 else items
    if isinstance(value, dict):
        mapped = {key: disguise(item, data) for key, item in value.items()}
        return MappingProxyType(mapped) if choice == 0 else mapped
    if isinstance(value, (int, float)) and not isinstance(value, bool) and choice == 0:
        return Decimal(value) if math.isfinite(value) else value
    if isinstance(value, int) and not isinstance(value, bool) and choice == 1:
        return float(value)
    return value


def never_more_lenient(schema: str, record: Any) -> None:
    quick = compiled(schema).quick
    assert quick is not None
    if quick(record):
        assert validator_for(schema).is_valid(record), record


@pytest.mark.parametrize("schema", QUICK)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_the_quick_yes_is_never_more_lenient_on_any_value(schema: str, data: st.DataObject) -> None:
    never_more_lenient(schema, data.draw(awkward_values))
    base = {"id": "a", "text": "t", "title": None, "metadata": {}, "source": "", "url": "", "edits": [], "flags": []}
    never_more_lenient(schema, disguise(mutate(base, data), data))


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_the_quick_yes_is_never_more_lenient_on_a_document(data: st.DataObject) -> None:
    record = disguise(mutate(mutate(GOLDEN, data), data), data)
    never_more_lenient("document", record)
    agree("document", record)


@pytest.mark.parametrize(
    "record",
    [
        {**GOLDEN, "edits": tuple(GOLDEN["edits"])},
        {**GOLDEN, "flags": ({"code": "c", "stage": "s"},)},
        {**GOLDEN, "origin": {"path": "x", "line": 1.0}},
        {**GOLDEN, "origin": {"path": "x", "line": True}},
        {**GOLDEN, "origin": MappingProxyType({"path": "x"})},
        {**GOLDEN, "decoding": {**GOLDEN["decoding"], "confidence": float("nan")}},
        {**GOLDEN, "decoding": {**GOLDEN["decoding"], "confidence": Decimal("1.00000000000000000001")}},
        {**GOLDEN, "decoding": {**GOLDEN["decoding"], "confidence": 2**60}},
        {**GOLDEN, "edits": [{**GOLDEN["edits"][0], "line": 0}]},
        {**GOLDEN, "extra": 1},
        {key: value for key, value in GOLDEN.items() if key != "id"},
        {**GOLDEN, "metadata": MappingProxyType({})},
    ],
)
def test_the_quick_yes_refuses_what_jsonschema_refuses(record: dict) -> None:
    """msgspec refuses each (1.0 and NaN too, which jsonschema takes: its no sends them to jsonschema)."""
    assert not compiled("document").quick(record)  # type: ignore[misc]
    agree("document", record)


def test_a_tuple_is_judged_as_the_array_it_is_written_as() -> None:
    """msgspec refuses a tuple (as the schema does a Python tuple); the record that reaches the file has an
    array there, so it is valid, and an invalid item inside the tuple is still found, at its pointer."""
    record = {**GOLDEN, "edits": tuple(GOLDEN["edits"]), "flags": ()}
    assert not compiled("document").quick(record)  # type: ignore[misc]
    assert list(iter_violations(record, "document")) == []
    broken = {**GOLDEN, "edits": ({**GOLDEN["edits"][0], "line": 0},)}
    assert [v.pointer for v in iter_violations(broken, "document")] == ["/edits/0/line"]


def test_a_bound_at_two_to_the_53_gets_no_quick_yes_past_it() -> None:
    """2**53 + 1 compares equal to 2**53 as a float: msgspec would let it past a bound of 2**53."""
    from normkit.validate import quick_check

    for schema, value in [({"type": "number", "maximum": 2**53}, 2**53 + 1), ({"minimum": -(2**53)}, -(2**53) - 1)]:
        quick = quick_check({"type": "number", **schema})
        assert quick is None or not quick(value)


def test_additional_properties_given_as_0_is_no_false() -> None:
    """``0 == False`` in Python; a quick check must not read it as "no other keys" (nor as "any keys")."""
    from normkit.validate import quick_check

    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": 0}
    quick = quick_check(schema)
    assert quick is None or not quick({"b": 1})


def test_a_schema_file_is_checked_up_front_under_python_dash_o(tmp_path: Path) -> None:
    """The check of a user's schema file is a statement, not an assert that ``python -O`` strips."""
    import subprocess
    import sys

    bad = tmp_path / "bad.schema.json"
    bad.write_text(json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": 12}))
    code = f"from normkit.validate import compiled\ncompiled({str(bad)!r})"
    result = subprocess.run([sys.executable, "-O", "-c", code], capture_output=True, text=True)
    assert result.returncode != 0 and "SchemaError" in result.stderr, result.stderr


def test_the_record_and_configuration_schemas_have_a_quick_yes() -> None:
    assert {"document", "dolma", "hf", "csv", "page", "reject", "report", "config"} <= set(QUICK)
    assert compiled("document").quick(GOLDEN)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("value", "valid"),
    [(["a", "b"], True), (["a", "a"], False), (("a",), False), ({"a"}, False), ([1, True], False)],
)
def test_unique_strings_are_told_apart_as_jsonschema_does(value: Any, valid: bool) -> None:
    from normkit.validate import quick_check

    schema = {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
    quick = quick_check(schema)
    assert quick is not None and quick(value) is valid


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "string"}},
        {"type": ["integer", "number"]},
        {"type": "string", "pattern": "^a"},
        {"enum": [1, 2]},
        {"type": "number", "maximum": 2**60},
        {"anyOf": [{"type": "string"}, {"type": "null"}]},
    ],
)
def test_schemas_msgspec_cannot_check_exactly_get_no_quick_yes(schema: dict) -> None:
    from normkit.validate import quick_check

    assert quick_check(schema) is None
