"""Every schema: 2020-12, a versioned $id, a description on every property, shipped and listed."""

from __future__ import annotations

import importlib.resources
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from normkit.cli import cli
from normkit.errors import SchemaError
from normkit.validate import iter_violations, list_schemas, load_schema, validator_for

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
FILES = sorted(SCHEMAS.glob("*.json"))
GOLDEN = Path(__file__).parent / "data" / "seed.golden.json"


def properties(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every property schema anywhere in ``node``, with its JSON pointer."""
    if isinstance(node, dict):
        for name, prop in (node.get("properties") or {}).items():
            yield f"{path}/properties/{name}", prop
        for key, value in node.items():
            yield from properties(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from properties(value, f"{path}/{index}")


def test_every_schema_file_is_named_schema_json() -> None:
    assert FILES and all(f.name.endswith(".schema.json") for f in FILES)
    assert [f.name.removesuffix(".schema.json") for f in FILES] == list_schemas()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_schema_is_2020_12_with_a_versioned_id(path: Path) -> None:
    schema = json.loads(path.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    name = path.name.removesuffix(".schema.json")
    assert re.fullmatch(rf"https://normkit\.dev/schemas/{name}\.v\d+\.schema\.json", schema["$id"])
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema.get("description") and schema.get("title")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_property_has_a_description(path: Path) -> None:
    missing = [pointer for pointer, prop in properties(json.loads(path.read_text())) if not prop.get("description")]
    assert not missing, f"{path.name}: no description at {missing}"


@pytest.mark.parametrize("name", list_schemas())
def test_every_ref_resolves_inside_normkit(name: str) -> None:
    validator_for(name)  # resolves every $ref eagerly; raises SchemaError otherwise


def test_schemas_ship_inside_the_package() -> None:
    shipped = {f.name for f in importlib.resources.files("normkit.schemas").iterdir()}
    assert {f.name for f in FILES} <= shipped


def test_document_schema_still_accepts_the_golden_record() -> None:
    assert list(iter_violations(json.loads(GOLDEN.read_text()), "document")) == []


def test_normkit_schemas_lists_and_prints() -> None:
    runner = CliRunner()
    listing = runner.invoke(cli, ["schemas"])
    assert listing.exit_code == 0
    # normkit's own, and the boilerplate plugin's learned-boilerplate, in name order
    assert [line.split()[0] for line in listing.stdout.splitlines()] == sorted([*list_schemas(), "learned-boilerplate"])
    shown = runner.invoke(cli, ["schemas", "dolma"])
    assert shown.exit_code == 0 and json.loads(shown.stdout) == load_schema("dolma")
    plugin = runner.invoke(cli, ["schemas", "learned-boilerplate"])
    assert plugin.exit_code == 0 and json.loads(plugin.stdout)["title"] == "normkit learned boilerplate"
    unknown = runner.invoke(cli, ["schemas", "nope"])
    assert unknown.exit_code == 2 and "unknown schema 'nope'" in unknown.stderr


def write(tmp_path: Path, schema: dict[str, Any]) -> str:
    path = tmp_path / "custom.schema.json"
    path.write_text(json.dumps(schema))
    return str(path)


@pytest.mark.parametrize(
    "ref",
    ["http://example.com/x.json", "https://example.com/document.v1.schema.json", "file:///etc/passwd", "nope.json"],
)
def test_a_ref_outside_normkit_is_a_schema_error(tmp_path: Path, ref: str) -> None:
    path = write(tmp_path, {"properties": {"a": {"$ref": ref}}})
    with pytest.raises(SchemaError, match=rf"{re.escape(path)}: \$ref '{re.escape(ref)}' at /properties/a is not"):
        validator_for(path)


def test_a_ref_to_a_normkit_schema_resolves(tmp_path: Path) -> None:
    path = write(tmp_path, {"type": "array", "items": {"$ref": "https://normkit.dev/schemas/document.v1.schema.json"}})
    assert list(iter_violations([{"id": "a", "text": "t"}], path)) == []
    assert [v.pointer for v in iter_violations([{"id": "a", "text": 1}], path)] == ["/0/text"]


def test_an_invalid_schema_names_the_file_and_pointer(tmp_path: Path) -> None:
    path = write(tmp_path, {"properties": {"a": {"minLength": -1}}})
    with pytest.raises(SchemaError, match=rf"{re.escape(path)}: invalid schema at /properties/a/minLength: "):
        load_schema(path)
