"""``normkit explain``: the input rebuilt from the output and the edits, whatever stages made them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

import normkit
from normkit import Document, Edit
from normkit.cli import cli
from normkit.explain import ReplayError, explain, render

DATA = Path(__file__).parent / "data" / "boilerplate"


def rebuilt(doc: Document) -> str:
    return "\n".join(line.text for line in explain(doc))


def shown(doc: Document, *, only_removed: bool = False) -> str:
    console = Console(record=True, width=200, no_color=True, force_terminal=False)
    render(doc, console, only_removed=only_removed)
    return console.export_text()


# -- the default pipeline, end to end ------------------------------------------------------------------


def test_explain_rebuilds_the_input_exactly(seed_dir: Path) -> None:
    text = next(seed_dir.iterdir()).read_text(encoding="utf-8")
    doc = normkit.clean(text)
    lines = explain(doc)
    assert [line.text for line in lines] == text.split("\n")
    removed = {line.text: line.edit.rule for line in lines if line.edit and line.text}
    assert removed["3 min read"] == "read-time"
    assert removed["Live Story"] == "widget-label"


def test_every_fixture_round_trips() -> None:
    for path in DATA.glob("*.input.txt"):
        text = path.read_text(encoding="utf-8")
        assert rebuilt(normkit.clean(text)) == text, path.name


#: invented lines: prose, lines the boilerplate and headline stages remove, blanks and layout damage
PROSE = [
    "The harbour board met on Tuesday to weigh a second ferry for the island route.",
    "Fares would rise by a few pence, the board said, to pay for the new pier.",
    "Residents have until the end of the month to send their views to the council.",
    "Ferry plan approved",
    "\tIndented with a tab, as some exports do.",
    "Caf\u00c3\u00a9 owners welcomed the plan.",  # mojibake that fix_text repairs
]
FURNITURE = ["Share this article", "3 min read", "Advertisement", "Read more", "Subscribe to our newsletter"]
line_texts = st.sampled_from(PROSE + FURNITURE + ["", " ", "\t", "  \t"])
endings = st.sampled_from(["\n", "\n", "\n", "\r\n", "\r", "\u2028", "\x0c"])
trailing = st.sampled_from(["", "", "", " ", "  ", "\t", " \t "])


@st.composite
def documents(draw: st.DrawFn) -> str:
    """An invented document: lines with trailing spaces or tabs, mixed line endings, blank runs."""
    lines = draw(st.lists(st.tuples(line_texts, trailing, endings), max_size=25))
    text = "".join(line + space + end for line, space, end in lines)
    return draw(st.sampled_from(["", "\n", "\n\n", "  \n"])) + text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.sampled_from([None, "", "Ferry plan approved"]))
def test_default_pipeline_then_explain_gives_back_what_the_first_changing_stage_received(
    text: str, title: str | None
) -> None:
    doc = normkit.clean(text, title=title)
    assert rebuilt(doc) == text  # the text arrives as a string: fix_text is the first stage to change it
    data = text.encode("utf-8")
    from_bytes = normkit.clean(data, title=title)
    decoded = normkit.clean(data, title=title, pipeline=["decode"]).text  # what fix_text received
    assert rebuilt(from_bytes) == decoded
    again = Document.from_dict(json.loads(json.dumps(doc.to_dict())))
    assert rebuilt(again) == text, "the written record explains as the document did"


# -- each stage's edits --------------------------------------------------------------------------------


def test_decode_edits_are_informational() -> None:
    doc = normkit.clean("Caf\u00e9 prices rose.\n".encode("cp1252"), pipeline=["decode"])
    (edit,) = doc.edits
    assert edit.action == "decoded" and not edit.replayable
    assert rebuilt(doc) == doc.text == "Caf\u00e9 prices rose.\n"


def test_fix_text_crlf_is_one_trimmed_edit_of_cut_ends() -> None:
    text = "".join(f"Line {n} of the notice.\r\n" for n in range(300))
    doc = normkit.clean(text, pipeline=["fix_text"])
    (edit,) = doc.edits
    assert (edit.action, edit.line, edit.before) == ("trimmed", 1, "\r\n" * 299 + "\r")
    assert rebuilt(doc) == text


def test_fix_text_repairs_are_replaced_lines() -> None:
    text = "Prices\nCaf\u00c3\u00a9 owners met.\nThe end."
    doc = normkit.clean(text, pipeline=["fix_text"])
    (edit,) = doc.edits
    assert (edit.action, edit.line, edit.before, edit.after) == (
        "replaced",
        2,
        "Caf\u00c3\u00a9 owners met.",
        "Caf\u00e9 owners met.",
    )
    assert rebuilt(doc) == text


def test_fix_text_lone_crs_split_lines_in_a_trimmed_edit() -> None:
    text = "First paragraph.\rSecond paragraph.\r\rThird."
    doc = normkit.clean(text, pipeline=["fix_text"])
    assert doc.text == "First paragraph.\nSecond paragraph.\n\nThird."
    (edit,) = doc.edits
    assert (edit.action, edit.line, edit.before) == ("trimmed", 1, "\r\r\r")
    assert rebuilt(doc) == text


def test_whitespace_edits_carry_what_they_replaced() -> None:
    text = "\n\nTitle  \n\n\n\nBody.\t\nMore.\x0cPage two.\n"
    doc = normkit.clean(text, pipeline=["whitespace"])
    assert doc.text == "Title\n\nBody.\nMore.\nPage two."
    assert [(e.action, e.rule, e.line, e.before, e.after) for e in doc.edits] == [
        ("removed", "blank-lines", 1, "\n", ""),
        ("trimmed", "trailing-space", 3, "  ", ""),
        ("removed", "blank-lines", 5, "\n", ""),
        ("trimmed", "line-endings", 7, "\t\n\x0c", ""),
        ("removed", "blank-lines", 9, "", ""),
    ]
    assert rebuilt(doc) == text


def test_headline_and_boilerplate_removals_go_back_at_their_lines() -> None:
    text = (
        "Ferry plan approved\n\nShare this article\nThe harbour board met on Tuesday to weigh a ferry.\nAdvertisement"
    )
    doc = normkit.clean(text, pipeline=["headline", "boilerplate"])
    lines = explain(doc)
    assert [line.text for line in lines] == text.split("\n")
    assert {line.text: f"{line.edit.stage}:{line.edit.rule}" for line in lines if line.removed and line.text} == {
        "Ferry plan approved": "headline:title-line",
        "Share this article": "boilerplate:share-button",
        "Advertisement": "boilerplate:advertisement",
    }


def test_a_line_several_stages_touched_shows_the_last_one() -> None:
    text = "Ferry plan approved\nThe harbour board met on Tuesday to weigh a second ferry.\nAdvertisement   \r\n"
    lines = explain(normkit.clean(text))
    assert lines[2].text == "Advertisement   \r" and lines[2].removed
    assert lines[2].edit is not None and lines[2].edit.stage == "boilerplate"


def test_edits_without_a_line_are_passed_over() -> None:
    """A record written before whitespace edits carried their text: it explains from whitespace's output."""
    title = Edit("title_case", "replaced", "title-case", before="ferry plan", after="Ferry Plan")
    old = Edit("whitespace", "replaced", "whitespace", detail="trailing_space=1")
    removal = Edit("boilerplate", "removed", "advertisement", line=2, before="Advertisement")
    doc = Document(id="d", text="Body.\nMore.", edits=(old, removal, title))
    assert not title.replayable and not old.replayable and removal.replayable
    assert rebuilt(doc) == "Body.\nAdvertisement\nMore."


def test_an_empty_output_rebuilds() -> None:
    doc = normkit.clean("Advertisement\n\n")
    assert doc.text == "" and rebuilt(doc) == "Advertisement\n\n"
    left_one = Document(id="d", text="", edits=(Edit("x", "replaced", "r", line=1, before="\x00"),))
    assert rebuilt(left_one) == "\x00", "a stage may leave one empty line"


@pytest.mark.parametrize(
    "edits",
    [
        (Edit("s", "replaced", "r", line=1, before="a", after="not what the text says"),),
        (Edit("s", "removed", "r", line=9, before="far past the end"),),
        (Edit("s", "trimmed", "r", line=1, before="\n\n\n  "),),
        (Edit("s", "removed", "r", line=1, before="a\nb"), Edit("s", "removed", "r", line=2, before="c")),
    ],
    ids=["after-differs", "past-the-end", "trimmed-past-the-end", "overlap"],
)
def test_inconsistent_edits_are_reported_in_one_line(edits: tuple[Edit, ...]) -> None:
    doc = Document(id="d", text="Body.", edits=edits)
    with pytest.raises(ReplayError, match=r"^s: "):
        explain(doc)
    out = shown(doc).splitlines()
    assert out[1].startswith("cannot rebuild the input: s: ") and len(out) == 3
    assert out[2].split() == ["1", "Body."], "the text as it is, after the one-line reason"


# -- rendering and the command -------------------------------------------------------------------------


def test_render_plain_marks_removed_lines_and_rules() -> None:
    out = shown(normkit.clean((DATA / "harbour.input.txt").read_text(encoding="utf-8")))
    assert "- Advertisement   <- boilerplate:advertisement" in out
    assert "  The service will cost the town" in out


def test_render_marks_changed_lines_and_escapes_control_characters() -> None:
    doc = normkit.clean(
        "Ferry plan approved\nFares rose.\x0cPage two.\nCaf\u00c3\u00a9 owners met.",
        pipeline=["fix_text", "whitespace"],
    )
    out = shown(doc)
    assert "    2 ~ Fares rose.\\x0cPage two.   <- whitespace:line-endings" in out
    assert "    3 ~ Caf\u00c3\u00a9 owners met.   <- fix_text:ftfy" in out
    assert "    1   Ferry plan approved" in out
    assert "~" not in shown(doc, only_removed=True)


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


def test_cli_reads_records_holding_unicode_line_separators(tmp_path: Path) -> None:
    doc = normkit.clean("Ferry plan approved\nFares rose.\u2028Piers too.", pipeline=["whitespace"], id="sep")
    written = tmp_path / "documents.jsonl"
    written.write_text(json.dumps(doc.to_dict(), ensure_ascii=False) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["explain", str(written), "--no-color"])
    assert result.exit_code == 0, result.output
    assert "Fares rose.\\u2028Piers too.   <- whitespace:line-endings" in result.output


def test_cli_colours_on_request(seed_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["explain", str(next(seed_dir.iterdir())), "--color"])
    assert "\x1b[" in result.output
