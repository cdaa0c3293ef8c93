"""The json exporter: one array, streamed, complete only once the writer is closed."""

from __future__ import annotations

import io
import json
from pathlib import Path

from exporting_helpers import DOCS, export, pipeline_for, validate

from normkit import Document


def test_round_trip_gives_back_the_documents(tmp_path: Path) -> None:
    path = tmp_path / "documents.json"
    export("json", path)
    assert [Document.from_dict(r) for r in json.loads(path.read_text())] == DOCS
    assert validate(str(path))[0] == 0


def test_records_are_streamed_and_close_finishes_the_array() -> None:
    stream = io.BytesIO()
    writer = pipeline_for("json").exporter.open(stream)
    writer.write({"id": "a", "text": "x"})
    writer.write({"id": "b", "text": "y"})
    assert stream.getvalue() == b'[\n{"id":"a","text":"x"},\n{"id":"b","text":"y"}'  # written as it goes
    writer.close()
    assert json.loads(stream.getvalue()) == [{"id": "a", "text": "x"}, {"id": "b", "text": "y"}]


def test_an_empty_run_is_an_empty_array(tmp_path: Path) -> None:
    path = tmp_path / "documents.json"
    export("json", path, docs=[])
    assert json.loads(path.read_text()) == []
    assert validate(str(path))[0] == 0


def test_dolma_shape_in_a_json_file_is_validated_as_dolma(tmp_path: Path) -> None:
    exporter = pipeline_for("json", shape="dolma").exporter
    path = tmp_path / f"documents{exporter.suffix}"
    export("json", path, shape="dolma")
    assert path.name == "documents.dolma.json"
    assert validate(str(path))[0] == 0
