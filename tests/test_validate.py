"""``normkit validate``: each kind of bad file gives the right location, message and exit code."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import orjson
import pytest
from exporting_helpers import DOCS, export, validate

GOOD = {"id": "a", "text": "body"}


def jsonl(path: Path, *lines: bytes) -> str:
    path.write_bytes(b"".join(lines))
    return str(path)


def test_valid_files_of_every_format_exit_0(tmp_path: Path) -> None:
    for fmt, name in [("jsonl", "d.jsonl"), ("json", "d.json"), ("csv", "d.csv"), ("dolma", "d.dolma.jsonl")]:
        export(fmt, tmp_path / name)
    code, out, err = validate(*(str(p) for p in sorted(tmp_path.iterdir())))
    assert (code, out) == (0, "")
    assert "4 file(s), 12 record(s), 0 error(s)" in err


def test_truncated_jsonl_names_the_last_line(tmp_path: Path) -> None:
    line = orjson.dumps(GOOD) + b"\n"
    path = jsonl(tmp_path / "d.jsonl", line, line, line[:9])
    code, out, _ = validate(path)
    assert code == 1
    assert out.startswith(f"{path}:3: not valid JSON: ")
    assert "the last line has no newline: a truncated file?" in out and out.endswith("(syntax)\n")


def test_a_line_that_is_not_json(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "d.jsonl", orjson.dumps(GOOD) + b"\n", b"hello, world\n", orjson.dumps(GOOD) + b"\n")
    code, out, _ = validate(path)
    assert code == 1
    (error,) = out.splitlines()
    assert error.startswith(f"{path}:2: not valid JSON: unexpected character") and error.endswith("(syntax)")


@pytest.mark.parametrize(
    ("record", "error"),
    [
        ([1, 2], "/: [1, 2] is not of type 'object' (type)"),
        ({"id": "a", "text": 5}, "/text: 5 is not of type 'string' (type)"),
        ({"id": "a", "text": "t", "edits": [{"stage": "s", "action": "ate", "rule": "r"}]}, "/edits/0/action: "),
        ({"text": "t"}, "/: 'id' is a required property (required)"),
    ],
)
def test_a_record_of_the_wrong_type(tmp_path: Path, record: object, error: str) -> None:
    path = jsonl(tmp_path / "d.jsonl", orjson.dumps(GOOD) + b"\n", orjson.dumps(record) + b"\n")
    code, out, _ = validate(path)
    assert code == 1
    assert out.startswith(f"{path}:2: {error}")


def test_a_huge_record_is_checked(tmp_path: Path) -> None:
    huge = {"id": "big", "text": "word " * 4_000_000}  # 20 MB
    path = jsonl(tmp_path / "d.jsonl", orjson.dumps(huge) + b"\n", orjson.dumps({"id": "big", "text": 1}) + b"\n")
    code, out, _ = validate(path)
    assert code == 1
    assert out.splitlines() == [f"{path}:2: /text: 1 is not of type 'string' (type)"]
    array = tmp_path / "d.json"
    array.write_bytes(b"[" + orjson.dumps(huge) + b",\n" + orjson.dumps(huge) + b"]")
    assert validate(str(array))[0] == 0


def test_json_array_errors_name_the_line_the_record_starts_on(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text('[\n  {"id": "a", "text": "]},{"},\n  {"id": "b",\n   "text": 2},\n  {"id": "c", "text": "x"')
    code, out, _ = validate(str(path))
    assert code == 1
    assert out.splitlines() == [
        f"{path}:3: /text: 2 is not of type 'string' (type)",
        f"{path}:5: unexpected end of file inside a record (truncated?) (syntax)",
    ]
    path.write_text('[{"id": "a", "text": "x"}\n\n')
    assert (
        validate(str(path))[1] == f"{path}:3: expected ',' or ']' after a record, the file ends (truncated?) (syntax)\n"
    )
    path.write_text('[{"id": "a", "text": "x"} {"id": "b"}]')
    assert "expected ',' or ']' after a record, found '{'" in validate(str(path))[1]


def test_json_format_prints_one_object_per_error(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "d.jsonl", b'{"id": "a", "text": 5}\n', b"oops\n")
    code, out, _ = validate(path, "--format", "json")
    assert code == 1
    first, second = (json.loads(line) for line in out.splitlines())
    assert first == {
        "file": path,
        "line": 1,
        "pointer": "/text",
        "rule": "type",
        "message": "5 is not of type 'string'",
    }
    assert (second["line"], second["pointer"], second["rule"]) == (2, None, "syntax")


def test_the_schema_comes_from_the_file_name(tmp_path: Path) -> None:
    reject = {"origin": {"path": "x", "line": 1}, "reason": "bad"}
    rejects = jsonl(tmp_path / "rejects.jsonl", orjson.dumps(reject) + b"\n")
    assert validate(rejects)[0] == 0
    assert validate(rejects, "--schema", "document")[0] == 1
    report = tmp_path / "report.json"
    report.write_text('{"normkit_version": "0"}')
    code, out, _ = validate(str(report))
    assert code == 1 and f"{report}:1: /: 'inputs' is a required property (required)" in out


def test_compressed_files_are_read(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl.gz"
    path.write_bytes(gzip.compress(orjson.dumps(GOOD) + b"\n" + orjson.dumps([1]) + b"\n"))
    code, out, _ = validate(str(path))
    assert code == 1 and out.startswith(f"{path}:2: /: [1] is not of type 'object'")
    truncated = tmp_path / "t.jsonl.gz"
    truncated.write_bytes(gzip.compress(orjson.dumps(GOOD) + b"\n" * 1000)[:-12])
    code, out, _ = validate(str(truncated))
    assert code == 1 and "cannot read the file past here" in out


# -- usage errors: exit 2 --------------------------------------------------------------------------------


def test_unknown_format_missing_file_and_unknown_schema_exit_2(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    code, out, err = validate(str(tmp_path / "notes.txt"))
    assert (code, out) == (2, "") and "notes.txt: unknown file format '.txt'" in err
    code, _, err = validate(str(tmp_path / "missing.jsonl"))
    assert code == 2 and "missing.jsonl: no such file" in err
    path = jsonl(tmp_path / "d.jsonl", b"{}\n")
    code, _, err = validate(path, "--schema", "nope")
    assert code == 2 and "unknown schema 'nope'" in err


def test_an_invalid_schema_file_names_the_file_and_pointer(tmp_path: Path) -> None:
    schema = tmp_path / "bad.schema.json"
    schema.write_text(json.dumps({"type": "object", "properties": {"id": {"type": "text"}}}))
    code, out, err = validate(jsonl(tmp_path / "d.jsonl", b"{}\n"), "--schema", str(schema))
    assert (code, out) == (2, "")
    assert f"{schema}: invalid schema at /properties/id/type: " in err


def test_a_ref_to_a_url_is_refused_without_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("network used")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    schema = tmp_path / "remote.schema.json"
    schema.write_text(json.dumps({"properties": {"id": {"$ref": "http://example.com/id.json"}}}))
    code, _, err = validate(jsonl(tmp_path / "d.jsonl", b'{"id": "a"}\n'), "--schema", str(schema))
    assert code == 2
    assert f"{schema}: $ref 'http://example.com/id.json' at /properties/id is not one of normkit's schemas" in err


def test_exporter_output_round_trips_through_validate(tmp_path: Path) -> None:
    records = export("jsonl", tmp_path / "documents.jsonl", docs=DOCS)
    assert len(records) == len(DOCS)
    assert validate(str(tmp_path / "documents.jsonl"), "--schema", "document")[0] == 0


def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("network used")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (  # a remote $dynamicRef: jsonschema follows it lazily, while the first record is checked
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": "https://example.org/feed.schema.json",
                "type": "object",
                "properties": {"text": {"$dynamicRef": "https://schemas.example.net/meta.json#body"}},
            },
            "$dynamicRef 'https://schemas.example.net/meta.json#body' at /properties/text is not one of normkit's",
        ),
        (  # a $dynamicRef to an anchor nobody defines
            {"type": "object", "properties": {"text": {"$dynamicRef": "#nowhere"}}},
            "$dynamicRef '#nowhere' at /properties/text is not one of normkit's schemas",
        ),
        (  # a metaschema somewhere odd: never fetched, never silently replaced by 2020-12
            {"$schema": "https://schemas.example.net/house-dialect.json", "type": "object"},
            "$schema 'https://schemas.example.net/house-dialect.json' is not a JSON Schema dialect normkit knows",
        ),
        ({"$schema": "file:///etc/hostname", "type": "object"}, "$schema 'file:///etc/hostname' is not a JSON Schema"),
        ({"$schema": 2020, "type": "object"}, "$schema must be a string naming a JSON Schema dialect, not 2020"),
        ({"properties": {"id": {"$ref": 7}}}, "invalid schema at /properties/id/$ref: 7 is not of type 'string'"),
    ],
)
def test_a_hostile_schema_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, schema: dict, message: str
) -> None:
    _no_network(monkeypatch)
    path = tmp_path / "hostile.schema.json"
    path.write_text(json.dumps(schema))
    code, out, err = validate(
        jsonl(tmp_path / "d.jsonl", b'{"id": "a", "text": "Tide tables for May."}\n'), "--schema", str(path)
    )
    assert (code, out) == (2, "")
    assert err.startswith("normkit: error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert f"{path}: {message}" in err


def test_a_known_dialect_and_a_local_dynamic_ref_still_validate(tmp_path: Path) -> None:
    schema = tmp_path / "tree.schema.json"
    schema.write_text(
        json.dumps(
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema#",
                "$dynamicAnchor": "node",
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "children": {"type": "array", "items": {"$dynamicRef": "#node"}},
                },
            }
        )
    )
    good = jsonl(tmp_path / "d.jsonl", b'{"id": "root", "children": [{"id": "leaf", "children": []}]}\n')
    assert validate(good, "--schema", str(schema))[0] == 0
    bad = jsonl(tmp_path / "e.jsonl", b'{"id": "root", "children": [{"id": 5}]}\n')
    assert validate(bad, "--schema", str(schema))[0] == 1


def test_a_reference_that_fails_only_while_checking_is_a_schema_error() -> None:
    """A validator whose references were not checked up front (as a lazily followed ``$dynamicRef`` is not)."""
    import jsonschema
    import referencing

    from normkit.errors import SchemaError
    from normkit.validate import CompiledSchema, _retrieve

    schema = {"properties": {"text": {"$ref": "https://schemas.example.net/text.json"}}}
    registry: referencing.Registry = referencing.Registry(retrieve=_retrieve)  # type: ignore[call-arg]
    checker = CompiledSchema("lazy", jsonschema.Draft202012Validator(schema, registry=registry), None)
    with pytest.raises(SchemaError, match=r"reference 'https://schemas.example.net/text.json' is not one of"):
        list(checker.violations({"text": "Low tide at noon."}))


# -- caps: a decompression bomb, a runaway record, a FIFO ---------------------------------------------------------


def test_a_decompression_bomb_is_read_only_up_to_the_ratio_cap(tmp_path: Path) -> None:
    """A small .gz that expands to tens of MB in one line: read up to ``max_compression_ratio``, then a problem."""
    path = tmp_path / "d.jsonl.gz"
    path.write_bytes(gzip.compress(orjson.dumps(GOOD) + b"\n" + b'{"id": "b", "text": "' + b"a" * (40 << 20), 9))
    assert path.stat().st_size < 200_000
    code, out, _ = validate(str(path))
    assert code == 1
    assert out.startswith(f"{path}:2: cannot read the file past here: ")
    assert "expands to more than 100 times its compressed size" in out and out.endswith("(syntax)\n")


def test_a_record_longer_than_the_cap_is_a_problem_at_its_line(tmp_path: Path) -> None:
    from normkit.checkfiles import FileCheck, Readers
    from normkit.plugins import PluginSpec
    from normkit.registry import Registry

    line = orjson.dumps(GOOD) + b"\n"
    long = orjson.dumps({"id": "long", "text": "tide " * 300_000}) + b"\n"  # 1.5 MB, in a 1 MiB cap
    path = jsonl(tmp_path / "d.jsonl", line, line, long, line)
    readers = Readers(Registry.from_plugin_manager(PluginSpec(load_entrypoints=False).build()))
    check = FileCheck(str(path), readers, max_record_bytes=1 << 20)
    problems = [str(problem) for problem in check.problems()]
    assert problems == [
        f"{path}:3: a record longer than {1 << 20} bytes (the most normkit validate reads as one record): not "
        "checked, nor the rest of the file (syntax)"
    ]
    assert check.records == 2
    assert list(FileCheck(str(path), readers).problems()) == [], "the default cap holds a long record"


def test_a_fifo_is_not_a_regular_file_and_is_never_waited_on(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "d.jsonl"
    os.mkfifo(fifo)
    code, out, err = validate(str(fifo))
    assert (code, out) == (2, "")
    assert err == f"normkit: error: {fifo}: not a regular file\n"
