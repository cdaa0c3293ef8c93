"""``--annotate`` (issue 14): every document's text as it arrived, and beside it, line for line, the spans each
stage would remove, in Dolma's attributes format; applying them gives the text a normal run gives."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import orjson
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from normkit import Config, Document, Pipeline
from normkit.annotate import annotated, apply_spans
from normkit.cli import cli

PROSE = (
    "The ferry crossed the bay twice before noon, carrying more bicycles than anyone could remember.",
    "Residents of the harbour street asked the council for a second bench beside the old lighthouse.",
    "A choir from the valley sang in the market hall, and the baker sold out of rye bread by ten.",
    "The library will stay open late on Thursdays through the winter, the librarian said on Monday.",
)
FURNITURE = ("4 min read", "Share this article", "Photo: Sam Poe/Invented Agency", "Related stories")


def page(number: int) -> str:
    lines = [f"Harbour notes {number}", "", PROSE[number % 4], FURNITURE[number % 4], "", PROSE[(number + 1) % 4]]
    return "\n".join([*lines, FURNITURE[(number + 2) % 4], ""])


def write_pages(folder: Path, count: int = 6) -> Path:
    folder.mkdir(parents=True)
    for number in range(count):
        (folder / f"page{number}.txt").write_text(page(number), encoding="utf-8")
    return folder


def run(*args: str) -> int:
    return CliRunner().invoke(cli, ["run", *args, "-q", "--executor", "inprocess"], catch_exceptions=False).exit_code


def gz_lines(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]


def test_annotate_keeps_the_text_and_writes_the_spans_line_for_line(tmp_path: Path) -> None:
    pages = write_pages(tmp_path / "in")
    assert run(str(pages), "-o", "annotated", "--annotate", "--format", "dolma") == 0
    assert run(str(pages), "-o", "cleaned") == 0
    (documents,) = (tmp_path / "annotated" / "documents").iterdir()
    assert documents.name == "00000.dolma.jsonl.gz"  # gzip: what Dolma's mixer reads
    records = gz_lines(documents)
    notes = gz_lines(tmp_path / "annotated" / "attributes" / "normkit" / documents.name)
    assert [r["id"] for r in records] == [n["id"] for n in notes] and len(records) == 6
    rows = (tmp_path / "cleaned" / "documents.jsonl").read_bytes().splitlines()
    cleaned = {row["id"]: row["text"] for row in map(orjson.loads, rows)}
    for record, note in zip(records, notes, strict=True):
        assert record["text"] in {page(number) for number in range(6)}  # as it arrived, title line and all
        assert all(name.startswith("normkit__") for name in note["attributes"])
        assert apply_spans(record["text"], note["attributes"]) == cleaned[record["id"]]


def test_attribute_names_say_stage_and_rule_and_changed_lines_have_their_own(tmp_path: Path) -> None:
    text = "Share this article\nA line   \nEnd."
    doc, note = annotated(PIPELINE.process(Document(id="t", title="", text=text)))
    assert doc.text == text and not doc.edits
    assert note["attributes"] == {
        "normkit__boilerplate__share-button": [[0, 19, 1.0]],  # the line and its newline
        "normkit__whitespace__trailing-space__changed": [[19, 28, 1.0]],  # changed, not removed: a name of its own
    }


def test_a_rerun_reuses_annotated_shards_and_redoes_a_lost_attributes_file(tmp_path: Path) -> None:
    pages = write_pages(tmp_path / "in")
    assert run(str(pages), "-o", "out", "--annotate") == 0
    notes = tmp_path / "out" / "attributes" / "normkit" / "00000.jsonl.gz"
    before = notes.read_bytes()
    assert run(str(pages), "-o", "out", "--annotate") == 0
    assert json.loads((tmp_path / "out" / "report.json").read_text())["shards"]["skipped"] == 1
    notes.unlink()
    assert run(str(pages), "-o", "out", "--annotate") == 0
    assert notes.read_bytes() == before
    assert run(str(pages), "-o", "out", "--shards") == 0  # no longer annotating: its attributes go
    assert not notes.exists()


#: pieces a line may end with or hold: line breaks fix_text rewrites (a lone CR, U+2028, CR CR LF) change the
#: number of lines, which the spans must survive without removing a kept line
ODD_BREAKS = ("\r", "\u2028", "\r\r")
LINES = st.lists(
    st.tuples(st.sampled_from([*PROSE, *FURNITURE, ""]), st.sampled_from(["", "", "", *ODD_BREAKS])).map("".join),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(LINES)
def test_applying_the_spans_gives_the_cleaned_text_and_never_removes_a_kept_sentence(lines: list[str]) -> None:
    """The invariant ``dolma mix`` relies on: the input's text, less the removal spans, is the output's; where
    a stage changed lines (``__changed``), what the removals leave still holds every sentence the output kept."""
    text = "\n".join(lines)
    cleaned = PIPELINE.process(Document(id="p", title="", text=text))
    assert isinstance(cleaned, Document)
    doc, note = annotated(cleaned)
    assert doc.text == text
    applied = apply_spans(doc.text, note["attributes"])
    if not any(name.endswith("__changed") for name in note["attributes"]):
        assert applied == cleaned.text
    for sentence in PROSE:
        assert sentence not in cleaned.text or sentence in applied


PIPELINE = Pipeline(Config.from_mapping({"stages": {"boilerplate": {"learn": False}}}))


def test_normkit_validate_checks_the_attributes_files_against_their_own_schema(tmp_path: Path) -> None:
    pages = write_pages(tmp_path / "in")
    assert run(str(pages), "-o", "out", "--annotate", "--format", "dolma") == 0
    assert CliRunner().invoke(cli, ["validate", "out"]).exit_code == 0
    notes = tmp_path / "out" / "attributes" / "normkit" / "00000.dolma.jsonl.gz"
    notes.write_bytes(gzip.compress(b'{"id": "x", "attributes": {"normkit__a__b": [[5, 2]]}}\n'))
    result = CliRunner().invoke(cli, ["validate", "out"])
    assert result.exit_code == 1 and "00000.dolma.jsonl.gz:1: /attributes/normkit__a__b: [[5, 2]]" in result.output
