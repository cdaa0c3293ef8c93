"""The dolma exporter: Dolma's fields, ``added`` once per run, ``created`` from the input when known."""

from __future__ import annotations

from pathlib import Path

import orjson
from exporting_helpers import DOCS, export, pipeline_for, validate

ADDED = "2024-02-01T00:00:00.000Z"


def test_round_trip_keeps_text_id_source_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "documents.dolma.jsonl"
    export("dolma", path, added=ADDED)
    records = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    for record, doc in zip(records, DOCS, strict=True):
        assert set(record) == {"id", "text", "source", "added", "created", "metadata"}
        assert (record["id"], record["text"], record["source"] or None) == (doc.id, doc.text, doc.source)
        assert record["added"] == ADDED
        meta = record["metadata"]
        assert (meta.pop("title"), meta.pop("url")) == (doc.title, doc.url)
        assert meta == doc.metadata
    assert [r["created"] for r in records] == ["2024-01-31", ADDED, ADDED]
    assert validate(str(path))[0] == 0  # the .dolma marker in the name picks the dolma schema


def test_edits_go_under_metadata_only_when_asked(tmp_path: Path) -> None:
    record = pipeline_for("dolma").export(DOCS[0])
    assert "edits" not in record["metadata"]
    record = pipeline_for("dolma", edits=True).export(DOCS[0])
    assert record["metadata"]["edits"] == [e.to_dict() for e in DOCS[0].edits]
    assert record["metadata"]["flags"] == [f.to_dict() for f in DOCS[0].flags]


def test_added_defaults_to_the_run_start_in_dolma_format() -> None:
    added = pipeline_for("dolma").export(DOCS[1])["added"]
    assert len(added) == len(ADDED) and added.endswith("Z") and added[10] == "T"
