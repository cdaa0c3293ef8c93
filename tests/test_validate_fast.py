"""fastjsonschema answers "valid?" for schemas of the vetted keywords: it must agree with jsonschema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from normkit.validate import compiled, list_schemas, validator_for

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
    assert compiled(schema).is_valid(record) == validator_for(schema).is_valid(record), record


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
