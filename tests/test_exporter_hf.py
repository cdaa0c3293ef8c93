"""The hf exporter: text, id and metadata, as Hugging Face datasets and datatrove read them."""

from __future__ import annotations

from pathlib import Path

import orjson
from exporting_helpers import DOCS, export, validate


def test_round_trip_keeps_text_id_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "documents.hf.jsonl"
    export("hf", path)
    records = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    for record, doc in zip(records, DOCS, strict=True):
        assert list(record) == ["text", "id", "metadata"]
        assert (record["text"], record["id"]) == (doc.text, doc.id)
        meta = record["metadata"]
        assert (meta.pop("source"), meta.pop("title"), meta.pop("url")) == (doc.source, doc.title, doc.url)
        assert meta == doc.metadata
    assert validate(str(path))[0] == 0


def test_a_document_record_in_an_hf_file_is_invalid(tmp_path: Path) -> None:
    path = tmp_path / "documents.hf.jsonl"
    export("jsonl", path)  # document shape under the hf name: validate must say so
    code, out, _ = validate(str(path))
    assert code == 1
    assert f"{path}:1: /: Additional properties are not allowed" in out
    assert out.splitlines()[0].endswith("(additionalProperties)")
