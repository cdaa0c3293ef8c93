"""The parquet exporter: an explicit Arrow schema from the JSON Schema, row groups, a schema marker."""

from __future__ import annotations

import builtins
import sys
from pathlib import Path

import pytest
from exporting_helpers import DOCS, export, pipeline_for, validate
from normkit_plugins._arrow import codec_for

from normkit import Document, NormkitError

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def read(path: Path, schema: str = "document") -> list[dict]:
    codec = codec_for(schema)
    return [codec.decode(row) for row in pq.read_table(path).to_pylist()]


def test_round_trip_gives_back_the_documents(tmp_path: Path) -> None:
    path = tmp_path / "documents.parquet"
    export("parquet", path)
    assert [Document.from_dict(r) for r in read(path)] == DOCS
    assert validate(str(path))[0] == 0


def test_the_arrow_schema_comes_from_the_json_schema_not_the_first_record(tmp_path: Path) -> None:
    path = tmp_path / "documents.parquet"
    export("parquet", path, docs=[DOCS[1]])  # title, source, url are all null in this record
    schema = pq.read_schema(path)
    assert schema.field("title").type == pa.string() and schema.field("title").nullable
    assert schema.field("id").type == pa.string() and not schema.field("id").nullable
    assert schema.field("origin").type == pa.struct([pa.field("path", pa.string(), False), ("line", pa.int64())])
    edit = schema.field("edits").type.value_type
    assert edit.field("line").type == pa.int64() and edit.field("before").type == pa.string()
    assert schema.field("metadata").metadata == {b"normkit.json": b"1"}  # an open object is JSON text
    assert schema.metadata[b"normkit.schema"] == b"document"


def test_rows_are_written_in_row_groups(tmp_path: Path) -> None:
    path = tmp_path / "documents.parquet"
    export("parquet", path, docs=DOCS * 3, row_group_size=4)
    assert pq.ParquetFile(path).num_row_groups == 3
    assert [Document.from_dict(r) for r in read(path)] == DOCS * 3


@pytest.mark.parametrize("shape", ["dolma", "hf"])
def test_llm_shapes_round_trip_and_the_marker_picks_the_schema(tmp_path: Path, shape: str) -> None:
    path = tmp_path / "any-name.parquet"  # no marker in the name: the file metadata says which schema
    records = export("parquet", path, shape=shape)
    assert read(path, shape) == records
    assert validate(str(path))[0] == 0
    assert validate(str(path), "--schema", "page")[0] == 1  # no title column: not a page


def test_without_pyarrow_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__
    monkeypatch.delitem(sys.modules, "pyarrow", raising=False)

    def no_pyarrow(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("pyarrow"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(NormkitError, match=r"normkit\[parquet\]"):
        pipeline_for("parquet")
