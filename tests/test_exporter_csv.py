"""The csv exporter: id,title,source,url,text with newlines and quotes kept inside quoted cells."""

from __future__ import annotations

import csv
from pathlib import Path

from exporting_helpers import DOCS, export, validate


def test_round_trip_keeps_every_column_and_newline(tmp_path: Path) -> None:
    path = tmp_path / "documents.csv"
    export("csv", path)
    with path.open(newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == len(DOCS)
    for row, doc in zip(rows, DOCS, strict=True):
        assert list(row) == ["id", "title", "source", "url", "text"]
        assert row["text"] == doc.text  # \n and \r\n inside the cell survive
        assert [row[k] or None for k in ("id", "title", "source", "url")] == [doc.id, doc.title, doc.source, doc.url]
    assert validate(str(path))[0] == 0


def test_a_row_with_a_missing_cell_is_reported_on_its_first_line(tmp_path: Path) -> None:
    path = tmp_path / "documents.csv"
    path.write_text('id,title,source,url,text\na,,,,"two\nlines"\nb,,,\n', encoding="utf-8")
    code, out, _ = validate(str(path))
    assert code == 1
    assert out.splitlines() == [f"{path}:4: /text: None is not of type 'string' (type)"]


def test_a_repeated_header_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "documents.csv"
    export("csv", path)
    path.write_bytes(path.read_bytes() * 2)  # two part files joined byte for byte
    code, out, _ = validate(str(path))
    assert code == 1
    assert out.splitlines() == [f"{path}:9: the header again (files concatenated?) (syntax)"]
