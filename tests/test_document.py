from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from normkit import Document, Edit, Flag, Origin, Reject
from normkit.document import line_edits

texts = st.text(max_size=200)
optional_texts = st.none() | st.text(max_size=50)
edits = st.builds(
    Edit,
    stage=st.sampled_from(["headline", "boilerplate"]),
    action=st.sampled_from(["removed", "replaced"]),
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


def test_line_edits_are_per_line_when_line_count_holds() -> None:
    edits = line_edits("fix_text", "ftfy", "a\nb\nc", "a\nB\nc")
    assert [(e.line, e.before, e.after) for e in edits] == [(2, "b", "B")]
    whole = line_edits("fix_text", "ftfy", "a\nb", "a b")
    assert [(e.line, e.before, e.after) for e in whole] == [(None, "a\nb", "a b")]
