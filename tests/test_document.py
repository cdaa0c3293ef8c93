from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from normkit import Document, Edit, Flag, Origin, Reject
from normkit.document import end_pieces, line_edits
from normkit.explain import explain

texts = st.text(max_size=200)
optional_texts = st.none() | st.text(max_size=50)
edits = st.builds(
    Edit,
    stage=st.sampled_from(["headline", "boilerplate"]),
    action=st.sampled_from(["removed", "replaced", "trimmed", "decoded"]),
    rule=st.text(min_size=1, max_size=20),
    line=st.none() | st.integers(min_value=1, max_value=10_000),
    before=texts,
    after=texts,
    plugin=optional_texts,
    detail=optional_texts,
)
documents = st.builds(
    Document,
    id=st.text(min_size=1, max_size=20),
    text=texts,
    title=optional_texts,
    source=optional_texts,
    url=optional_texts,
    metadata=st.dictionaries(st.text(max_size=10), st.integers() | st.text(max_size=10), max_size=3),
    origin=st.none() | st.builds(Origin, path=st.text(min_size=1, max_size=30), line=st.none() | st.integers(1, 99)),
    edits=st.lists(edits, max_size=4),
    flags=st.lists(st.builds(Flag, code=st.text(min_size=1, max_size=10), stage=st.just("decode")), max_size=2),
)


@given(documents)
def test_json_form_round_trips_exactly(doc: Document) -> None:
    assert Document.from_dict(json.loads(json.dumps(doc.to_dict()))) == doc


@given(documents, texts, optional_texts)
def test_evolve_is_dataclasses_replace(doc: Document, text: str, title: str | None) -> None:
    evolved = doc.evolve(text=text, title=title, raw=b"x")
    assert evolved == dataclasses.replace(doc, text=text, title=title, raw=b"x") and evolved.raw == b"x"
    assert evolved is not doc and evolved.edits is doc.edits, "a shallow copy, as replace makes"
    assert doc.evolve() == doc


def test_evolve_refuses_an_unknown_field() -> None:
    with pytest.raises(TypeError, match="'txt'"):
        Document(id="a").evolve(txt="b")


def test_raw_bytes_are_never_serialised() -> None:
    doc = Document(id="a", raw=b"\xff")
    assert "raw" not in doc.to_dict()


def test_reject_message_names_file_line_document_and_plugin() -> None:
    reject = Reject(Origin("in.jsonl", 7), "stage raised ValueError()", doc_id="d1", stage="explode", plugin="shout")
    assert reject.message() == "in.jsonl:7 doc d1 [shout/explode]: stage raised ValueError()"
    assert Reject.from_dict(json.loads(json.dumps(reject.to_dict()))) == reject


def test_line_edits_replace_changed_lines_neighbours_in_one_edit() -> None:
    edits = line_edits("fix_text", "ftfy", "a\nb\nc\nd", "a\nB\nC\nd")
    assert [(e.action, e.line, e.before, e.after) for e in edits] == [("replaced", 2, "b\nc", "B\nC")]


def test_line_edits_trim_ends_in_one_edit_across_unchanged_lines() -> None:
    before = "\n".join(["one  ", "two", "three\r", *["same"] * 32, "four "])
    after = "\n".join(["one", "two", "three", *["same"] * 32, "four"])
    edits = line_edits("whitespace", "w", before, after)
    assert [(e.action, e.line, e.before) for e in edits] == [("trimmed", 1, "  \n\n\r" + "\n" * 33 + " ")]
    gap = "\n" * 33  # more unchanged lines than an edit is worth spanning
    far = line_edits("whitespace", "w", before.replace("four", gap + "four"), after.replace("four", gap + "four"))
    assert [(e.line, e.before) for e in far] == [(1, "  \n\n\r"), (69, " ")]


def test_line_edits_when_the_line_count_changes() -> None:
    """Never the whole text in one edit: lines that went are removed, split lines trimmed at separators,
    and lines that appeared are replaced together with the line above them."""
    assert [(e.action, e.line, e.before) for e in line_edits("s", "r", "a\n\n\n\nb\n", "a\n\nb")] == [
        ("removed", 3, "\n"),
        ("removed", 6, ""),
    ]
    assert [(e.action, e.line, e.before) for e in line_edits("s", "r", "x\ry\rz", "x\ny\nz")] == [
        ("trimmed", 1, "\r\r")
    ]
    appeared = line_edits("s", "r", "a\nc", "a\nb\nc")
    assert [(e.action, e.line, e.before, e.after) for e in appeared] == [("replaced", 1, "a", "a\nb")]
    assert [(e.action, e.line, e.before, e.after) for e in line_edits("s", "r", "", "x")] == [("replaced", 1, "", "x")]
    assert [(e.action, e.line, e.before) for e in line_edits("s", "r", "a\nb", "")] == [("removed", 1, "a\nb")]


def test_end_pieces_split_after_separators_but_a_crlf_cr() -> None:
    assert end_pieces("  ") == ["  "]
    assert end_pieces(" \r") == [" \r"]  # a CR LF's CR: cut, one line
    assert end_pieces("\x0c") == ["\x0c", ""]
    assert end_pieces(" \u2028\t") == [" \u2028", "\t"]
    assert end_pieces("\r\r") == ["\r", "\r", ""]  # a text in CRs alone


def test_only_line_changes_are_replayable() -> None:
    assert Edit("s", "removed", "r", line=1).replayable
    assert Edit("s", "trimmed", "r", line=3, before=" ").replayable
    assert not Edit("decode", "decoded", "bom", detail="utf-8").replayable
    assert not Edit("title_case", "replaced", "r", before="a", after="A").replayable  # no line: about the title


lines_text = st.text(alphabet=st.sampled_from(list("ab \t\n\r\u2028\x0c\x85\u00e9\u00c3\x00")), max_size=40)


@given(lines_text, lines_text)
def test_line_edits_always_replay_exactly(before: str, after: str) -> None:
    edits = line_edits("s", "r", before, after)
    assert all(edit.replayable for edit in edits)
    rebuilt = explain(Document(id="d", text=after, edits=tuple(edits)))
    assert "\n".join(line.text for line in rebuilt) == before
