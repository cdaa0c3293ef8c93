"""The headline stage: the title kept once, its repeats and doubled paragraphs removed, each with an edit."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from normkit_plugins.stage_headline import fold, is_repeat, title_keys

from normkit import Config, Document, Pipeline

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
    assert doc.edits == []


def test_title_quoted_after_the_article_started_is_kept() -> None:
    text = f"{BODY}\n\n{TITLE}\n\nMore text of the article, long enough to be a sentence."
    assert headline(text, title=TITLE).text == text


def test_paragraph_doubled_by_the_scraper_is_removed_once() -> None:
    doc = headline(f"{BODY}\n\n{BODY}\n\nThe end of the story, told in a sentence.", title="x")
    assert doc.text.count(BODY) == 1
    assert [e.rule for e in doc.edits if e.before] == ["repeated-paragraph"]


def test_short_repeated_lines_are_not_paragraphs() -> None:
    text = "Yes\nYes\n\nA table of answers, where the same short value repeats."
    assert headline(text, title="x").text == text


def test_empty_document_is_left_alone() -> None:
    doc = headline("")
    assert doc.text == "" and doc.edits == []


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
