"""The headline stage: the title kept once, its repeats removed, each with an edit.

A record (JSON Lines) loses no line unless it repeats its title; a plain text file's first line may become
the title; a text left empty is flagged.
"""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from normkit_plugins.stage_headline import TITLE_LINE, fold, is_repeat, title_keys

from normkit import Config, Document, Pipeline, get_plugin_manager

TITLE = "Harbour town votes to keep its ferry running"
BODY = "The council voted on Tuesday evening to keep its ferry running through the winter months."


def headline(text: str, title: str | None = None, **options: object) -> Document:
    pipeline = Pipeline(Config.from_mapping({"pipeline": ["headline"], "stages": {"headline": options}}))
    result = pipeline.process(Document(id="t", text=text, title=title))
    assert isinstance(result, Document)
    return result


def test_fold_ignores_case_punctuation_and_spacing() -> None:
    assert fold("U.S. says -- Iran!") == fold("us  says iran")


@given(st.text(st.sampled_from("aZ9_ .'’-|\t\x1cß İ\u00a0é—“") | st.characters(), max_size=30))
def test_fold_on_bytes_is_the_regex_fold(line: str) -> None:
    """The ASCII fast path folds exactly as the regex does (joiners dropped, runs of ``[\\W_]`` to one space)."""
    expected = re.sub(r"[\W_]+", " ", re.sub(r"[.'’]", "", line.casefold())).strip()
    assert fold(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        TITLE,
        TITLE.upper(),
        f"{TITLE} | The Coastal Courier",
        f"{TITLE} - Coastal Courier",
        f"{TITLE} — Courier",
        f"{TITLE} The Coastal Courier",
        f"  {TITLE}!  ",
    ],
)
def test_repeat_variants_are_recognised(line: str) -> None:
    assert is_repeat(line, title_keys(TITLE, 5), 5)


def test_a_longer_sentence_starting_with_the_title_is_not_a_repeat() -> None:
    line = f"{TITLE} was the question put to councillors by angry residents on Tuesday"
    assert not is_repeat(line, title_keys(TITLE, 5), 5)


def test_title_from_the_record_and_its_repeat_removed() -> None:
    doc = headline(f"{TITLE} | Courier\n{BODY}", title=TITLE)
    assert doc.title == TITLE
    assert doc.text == BODY
    assert [(e.rule, e.line, e.before) for e in doc.edits] == [("title-repeat", 1, f"{TITLE} | Courier")]


def test_first_line_becomes_the_title_and_leaves_the_text() -> None:
    doc = headline(f"{TITLE}\n\n{TITLE}\n{BODY}")
    assert doc.title == TITLE
    assert doc.text == BODY
    assert [e.rule for e in doc.edits if e.before] == ["title-line", "title-repeat"]


def test_title_split_over_two_lines() -> None:
    doc = headline(f"Harbour town votes\nto keep its ferry running\n{BODY}", title=TITLE)
    assert doc.text == BODY
    assert all(e.detail == "the title split over two lines" for e in doc.edits)


def test_a_sentence_as_first_line_is_not_taken_as_title() -> None:
    doc = headline(f"{BODY}\n\nAnother sentence of the article follows here, as articles go.")
    assert doc.title is None
    assert doc.edits == ()


def test_title_quoted_after_the_article_started_is_kept() -> None:
    text = f"{BODY}\n\n{TITLE}\n\nMore text of the article, long enough to be a sentence."
    assert headline(text, title=TITLE).text == text


def test_empty_document_is_left_alone() -> None:
    doc = headline("")
    assert doc.text == "" and doc.edits == ()


def test_window_limits_the_search() -> None:
    lines = [f"Line {n} of the header" for n in range(5)]
    doc = headline("\n".join([*lines, TITLE]), title=TITLE, window=3)
    assert TITLE in doc.text


def test_a_first_line_ending_in_a_full_stop_is_the_title_when_the_page_repeats_it() -> None:
    title = "Ferry fares are going up. Here is why islanders should not worry."
    doc = headline(f"{title}\n\nTravel\n\n{title}\n\n{BODY}")
    assert doc.title == title
    assert doc.text == f"Travel\n\n{BODY}"


def test_a_first_sentence_that_does_not_come_back_is_not_a_title() -> None:
    text = f"{BODY}\n\nMore text of the article, long enough to be a sentence."
    doc = headline(text)
    assert doc.title is None
    assert doc.text == text


# -- records (JSON Lines) and plain text files ---------------------------------------------------------


def load_and_clean(tmp_path: Path, name: str, content: bytes) -> list[Document]:
    """``content`` as the file ``name``, read by the loader ``normkit run`` picks, through headline."""
    path = tmp_path / name
    path.write_bytes(content)
    config = Config.from_mapping({"pipeline": ["decode", "whitespace", "headline"]})
    pipeline = Pipeline(config, pm=get_plugin_manager(load_entrypoints=False))
    with path.open("rb") as stream:
        loaded = list(pipeline.loader_for(str(path)).load(stream, str(path)))
    results = [pipeline.process(doc) for doc in loaded if isinstance(doc, Document)]
    assert all(isinstance(doc, Document) for doc in results) and len(results) == len(loaded)
    return results  # type: ignore[return-value]


def records(tmp_path: Path, *rows: dict[str, str]) -> list[Document]:
    return load_and_clean(tmp_path, "in.jsonl", b"".join(orjson.dumps(row) + b"\n" for row in rows))


def test_a_record_without_title_keeps_every_line() -> None:
    text = "Short opening line\n\nSecond paragraph of the record, which is a sentence."
    doc = headline(text, title="")  # "": a record that has no title, as the JSON Lines loader says
    assert (doc.text, doc.title, doc.edits, doc.flags) == (text, "", (), ())


def test_jsonl_records_without_title_lose_no_line(tmp_path: Path) -> None:
    question = "Q: Which planet has the shortest year?\nA: Mercury, at 88 days."
    docs = records(tmp_path, {"text": question}, {"text": "fine words"}, {"text": question, "title": ""})
    assert [doc.text for doc in docs] == [question, "fine words", question]
    assert all(doc.title == "" and doc.edits == () and doc.flags == () for doc in docs)


def test_a_record_with_a_title_still_loses_its_repeats(tmp_path: Path) -> None:
    (doc,) = records(tmp_path, {"title": TITLE, "text": f"{TITLE} - Courier\n\n{BODY}"})
    assert (doc.title, doc.text) == (TITLE, BODY)
    assert [e.rule for e in doc.edits if e.before] == ["title-repeat"]


def test_the_first_line_of_a_plain_text_file_becomes_the_title(tmp_path: Path) -> None:
    (doc,) = load_and_clean(tmp_path, "page.txt", f"{TITLE}\n\n{BODY}\n".encode())
    assert (doc.title, doc.text) == (TITLE, BODY)
    assert [e.rule for e in doc.edits if e.stage == "headline" and e.before] == [TITLE_LINE]
    assert doc.flags == ()


def test_a_text_left_empty_is_flagged(tmp_path: Path) -> None:
    (plain,) = load_and_clean(tmp_path, "note.txt", b"fine words\n")
    (record,) = records(tmp_path, {"title": TITLE, "text": f"{TITLE}\n\n{TITLE} | Courier"})
    for doc in (plain, record):
        assert doc.text == ""
        assert [(f.code, f.stage) for f in doc.flags] == [("title-only", "headline")]
        assert "empty text" in doc.flags[0].detail
    assert plain.title == "fine words"


def test_the_flag_goes_on_a_copy() -> None:
    """Immutable input: the flags list of the document handed in is not the one that grows."""
    original = Document(id="t", text=TITLE)
    result = Pipeline(Config.from_mapping({"pipeline": ["headline"]})).process(original)
    assert isinstance(result, Document) and result.flags and original.flags == () and original.text == TITLE
