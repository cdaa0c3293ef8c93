"""The jsonl exporter: the document's JSON form per line, edits and flags optional, every shape."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from exporting_helpers import DOCS, export, pipeline_for, validate

from normkit import Document


def read(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_round_trip_gives_back_the_documents(tmp_path: Path) -> None:
    path = tmp_path / "documents.jsonl"
    export("jsonl", path)
    assert [Document.from_dict(r) for r in read(path)] == DOCS
    assert validate(str(path))[0] == 0


@pytest.mark.parametrize("leave_out", ["edits", "flags"])
def test_edits_and_flags_can_be_left_out(tmp_path: Path, leave_out: str) -> None:
    path = tmp_path / "documents.jsonl"
    export("jsonl", path, **{leave_out: False})
    records = read(path)
    assert all(leave_out not in r for r in records)
    assert validate(str(path))[0] == 0


def test_shape_option_changes_schema_and_file_name() -> None:
    exporter = pipeline_for("jsonl", shape="hf").exporter
    assert (exporter.schema, exporter.suffix) == ("hf", ".hf.jsonl")
    assert pipeline_for("jsonl").exporter.suffix == ".jsonl"


def test_unknown_option_is_a_config_error() -> None:
    from normkit import ConfigError

    with pytest.raises(ConfigError, match=r"output\.options"):
        pipeline_for("jsonl", shape="xml")


def test_part_files_are_copied_as_bytes_unless_a_subclass_writes_its_own_way() -> None:
    import io

    from normkit_plugins.exporter_jsonl import JsonlWriter

    from normkit.output import encode_record

    records = [{"id": "a", "text": "é"}, {"id": "b", "text": "x"}]
    part = b"".join(map(encode_record, records))

    class Upper(JsonlWriter):
        def write(self, record: dict) -> None:
            super().write({**record, "text": record["text"].upper()})

    plain, upper = io.BytesIO(), io.BytesIO()
    JsonlWriter(plain).copy_lines(io.BytesIO(part))
    Upper(upper).copy_lines(io.BytesIO(part))
    assert plain.getvalue() == part
    assert [orjson.loads(line)["text"] for line in upper.getvalue().splitlines()] == ["É", "X"]
