"""Parquet inputs (issue 14): a row is a document, with the field mapping of JSON Lines; files written here."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from normkit.cli import cli

pa = pytest.importorskip("pyarrow")  # the `parquet` extra
pq = pytest.importorskip("pyarrow.parquet")

PAGES = [
    "The lifeboat crew trained on the slipway all morning.",
    None,  # a row without text: one reject
    "Fog kept the fishing fleet in port until noon.",
    "The harbour master posted the new mooring fees.",
    "Two seals were seen basking on the outer breakwater.",
]


def write(path: Path, **columns: list[Any]) -> None:
    """A Parquet file of two-row row groups, so the rows cross row groups (and batches)."""
    pq.write_table(pa.table(columns), path, row_group_size=2)


def run(path: Path, out: Path, config: str | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    args = ["run", str(path), "-o", str(out), "--executor", "inprocess", "-q"]
    if config is not None:
        (out.parent / "normkit.toml").write_text(config)
        args += ["--config", str(out.parent / "normkit.toml")]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output  # 1: some inputs were rejected
    report = json.loads((out / "report.json").read_text())["documents"]
    assert report["read"] == report["written"] + report["rejected"]  # every input accounted for
    lines = lambda name: [orjson.loads(x) for x in (out / name).read_bytes().splitlines() if x.strip()]  # noqa: E731
    return lines("documents.jsonl"), lines("rejects.jsonl")


def test_rows_become_documents_with_the_default_fields_and_the_rest_in_metadata(tmp_path: Path) -> None:
    write(
        tmp_path / "dump.parquet",
        id=[f"p{i}" for i in range(5)],
        text=PAGES,
        url=[f"https://www.coast{i % 2}.example/n/{i}" for i in range(5)],
        dump=["CC-MAIN-2026-01"] * 5,
        language_score=[0.9, 0.8, 0.95, 0.7, 0.99],
        token_count=[11, 0, 9, 8, 9],
        date=[datetime.date(2026, 1, i + 1) for i in range(5)],
    )
    documents, rejects = run(tmp_path / "dump.parquet", tmp_path / "out")
    assert [d["text"] for d in documents] == [p for p in PAGES if p]
    assert [d["id"] for d in documents] == ["p0", "p2", "p3", "p4"]
    assert [d["source"] for d in documents] == ["coast0.example", "coast0.example", "coast1.example", "coast0.example"]
    assert documents[1]["metadata"] == {
        "dump": "CC-MAIN-2026-01",
        "language_score": 0.95,
        "token_count": 9,
        "date": "2026-01-03",  # a date column as ISO 8601: every exporter writes it
    }
    assert [d["origin"]["line"] for d in documents] == [1, 3, 4, 5]  # the row, 1-based, across row groups
    assert all(d["title"] is None for d in documents)
    (reject,) = rejects
    assert reject["reason"] == "text field 'text' is missing"
    assert reject["origin"] == {"path": str(tmp_path / "dump.parquet"), "line": 2} and reject["doc_id"] == "p1"


def test_the_field_mapping_is_the_json_lines_one(tmp_path: Path) -> None:
    write(
        tmp_path / "fineweb.parquet",
        content=[p or "" for p in PAGES[:1]] * 3,
        doc=["a", "b", "c"],
        link=["https://a.example/", "https://b.example/", None],
        headline=["Crew training", "", None],
        site=["coastguard", None, None],
    )
    mapping = 'text = "content", id = "doc", url = "link", title = "headline", source = "site"'
    config = f"[input.loaders.parquet]\nfields = {{{mapping}}}\n"
    documents, rejects = run(tmp_path / "fineweb.parquet", tmp_path / "out", config)
    assert not rejects
    assert [d["id"] for d in documents] == ["a", "b", "c"]
    assert [d["url"] for d in documents] == ["https://a.example/", "https://b.example/", None]
    assert [d["source"] for d in documents] == ["coastguard", "b.example", tmp_path.name]  # record, host, folder
    assert documents[0]["title"] == "Crew training"
    assert all(d["metadata"] == {} for d in documents)  # every column was mapped


def test_a_row_of_another_text_type_is_rejected_and_an_unknown_option_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "n.parquet", text=[1, 2])
    _, rejects = run(tmp_path / "n.parquet", tmp_path / "out")
    assert [r["reason"] for r in rejects] == ["text field 'text' is not a string (int)"] * 2
    (tmp_path / "bad.toml").write_text('[input.loaders.parquet]\nfields = {body = "content"}\n')
    args = ["run", str(tmp_path / "n.parquet"), "-o", str(tmp_path / "o2"), "--config", str(tmp_path / "bad.toml")]
    result = CliRunner().invoke(cli, [*args, "--input-format", "parquet"])
    assert result.exit_code == 2 and "body" in result.output


def test_binary_text_goes_to_the_decoder_with_its_declared_encoding(tmp_path: Path) -> None:
    write(tmp_path / "raw.parquet", text=["Caf\u00e9 au port".encode("cp1252")], charset=["cp1252"])
    config = '[input.loaders.parquet]\nfields = {encoding = "charset"}\n'
    (doc,), _ = run(tmp_path / "raw.parquet", tmp_path / "out", config)
    assert doc["text"] == "Caf\u00e9 au port" and doc["decoding"]["encoding"] == "cp1252"


def test_a_file_that_is_not_parquet_is_one_reject(tmp_path: Path) -> None:
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 this is not a parquet file")
    documents, rejects = run(tmp_path / "broken.parquet", tmp_path / "out")
    assert not documents and len(rejects) == 1 and "cannot read input" in rejects[0]["reason"]


def test_a_dictionary_that_expands_past_the_ratio_cap_stops_the_file_in_bounded_memory(tmp_path: Path) -> None:
    """A few KB of Parquet whose rows all point at one long dictionary value: the rows before the cap are
    documents, the rest of the file is one reject naming input.max_compression_ratio, nothing is expanded."""
    value = "The same invented sentence repeats to fill a long dictionary value. " * 3000  # about 200 KB
    table = pa.table({"id": [f"r{i}" for i in range(400)], "text": pa.array([value] * 400).dictionary_encode()})
    path = tmp_path / "bomb.parquet"
    pq.write_table(table, path, compression="zstd")
    assert path.stat().st_size < 20_000  # 80 MB of text in a few KB
    documents, rejects = run(path, tmp_path / "out")
    assert len(documents) < 10
    assert [r["reason"] for r in rejects][-1].startswith("the file's text expands to more than")
    assert "input.max_compression_ratio = 100" in rejects[-1]["reason"]


def test_a_row_past_the_document_cap_is_rejected_unread_and_its_neighbours_are_read(tmp_path: Path) -> None:
    write(tmp_path / "rows.parquet", id=["a", "b", "c"], text=["Short one.", "x" * 5000, "Short two."])
    documents, rejects = run(tmp_path / "rows.parquet", tmp_path / "out", "[input]\nmax_document_bytes = 1000\n")
    assert [d["id"] for d in documents] == ["a", "c"]
    assert rejects[0]["origin"]["line"] == 2 and "longer than input.max_document_bytes = 1000" in rejects[0]["reason"]


def test_a_binary_metadata_column_is_carried_as_base64(tmp_path: Path) -> None:
    write(tmp_path / "blob.parquet", id=["a", "b"], text=["One sentence.", "Another one."], blob=[b"\x00\xff", b"ok"])
    documents, rejects = run(tmp_path / "blob.parquet", tmp_path / "out")
    assert not rejects
    assert [d["metadata"]["blob"] for d in documents] == ["AP8=", "b2s="]
