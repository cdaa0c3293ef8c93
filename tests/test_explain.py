"""``normkit explain``: the input rebuilt from the output and the edits, each removed line with its rule."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from rich.console import Console

import normkit
from normkit.cli import cli
from normkit.explain import explain, render

DATA = Path(__file__).parent / "data" / "boilerplate"


def test_explain_rebuilds_the_input_of_the_headline_stage(seed_dir: Path) -> None:
    text = next(seed_dir.iterdir()).read_text(encoding="utf-8")
    doc = normkit.clean(text)
    lines = explain(doc)
    assert [line.text for line in lines] == text.strip("\n").split("\n")
    removed = {line.text: line.edit.rule for line in lines if line.edit and line.text}
    assert removed["3 min read"] == "read-time"
    assert removed["Live Story"] == "widget-label"


def test_every_fixture_round_trips() -> None:
    for path in DATA.glob("*.input.txt"):
        text = path.read_text(encoding="utf-8")
        assert [line.text for line in explain(normkit.clean(text))] == text.strip("\n").split("\n"), path.name


def test_render_plain_marks_removed_lines_and_rules() -> None:
    doc = normkit.clean((DATA / "harbour.input.txt").read_text(encoding="utf-8"))
    console = Console(record=True, width=200, no_color=True, force_terminal=False)
    render(doc, console)
    out = console.export_text()
    assert "- Advertisement   <- boilerplate:advertisement" in out
    assert "  The service will cost the town" in out


def test_cli_on_an_input_file_runs_the_pipeline(seed_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["explain", str(next(seed_dir.iterdir())), "--removed", "--no-color"])
    assert result.exit_code == 0, result.output
    assert "3 min read   <- boilerplate:read-time" in result.output
    assert "The United States accused Iran" not in result.output


def test_cli_on_a_file_normkit_wrote(tmp_path: Path) -> None:
    doc = normkit.clean((DATA / "recipe.input.txt").read_text(encoding="utf-8"), id="recipe")
    written = tmp_path / "documents.jsonl"
    written.write_text(json.dumps(doc.to_dict()) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["explain", str(written), "--id", "recipe", "--no-color"])
    assert result.exit_code == 0, result.output
    assert "Leave a comment   <- boilerplate:" in result.output
    assert "repeated-paragraph" in result.output


def test_cli_colours_on_request(seed_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["explain", str(next(seed_dir.iterdir())), "--color"])
    assert "\x1b[" in result.output
