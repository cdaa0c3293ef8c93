"""The whitespace stage: layout changes only, in few edits that carry what they replaced; fast paths equal
the plain rules."""

from __future__ import annotations

import json
import re

from hypothesis import given
from hypothesis import strategies as st

from normkit.explain import explain
from normkit.testing import run_pipeline

CONFIG = {"pipeline": ["whitespace"]}
layout = st.text(alphabet=st.sampled_from(list("ab \t\n\r\u2028\u2029\x0b\x0c\x85\u00a0\u3000.")), max_size=60)


def reference(text: str) -> str:
    """The stage's rules written the obvious way, to check the fast paths against."""
    text = re.sub(r"\r\n?|[\u2028\u2029\x0b\x0c\x85]", "\n", text)
    text = re.sub(r"[ \t\u00a0\u3000]+$", "", text, flags=re.MULTILINE)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def clean(text: str) -> str:
    return run_pipeline([text], config=CONFIG).documents[0].text


@given(layout)
def test_fast_paths_equal_the_plain_rules(text: str) -> None:
    assert clean(text) == reference(text)


@given(layout)
def test_idempotent(text: str) -> None:
    assert clean(clean(text)) == clean(text)


@given(layout)
def test_explain_gives_the_input_back(text: str) -> None:
    (doc,) = run_pipeline([text], config=CONFIG).documents
    assert all(edit.replayable for edit in doc.edits)
    assert "\n".join(line.text for line in explain(doc)) == text


def test_each_kind_of_change_carries_what_it_replaced() -> None:
    (doc,) = run_pipeline(["\n\nTitle  \r\n\r\n\r\n\r\nBody.\t\n"], config=CONFIG).documents
    assert doc.text == "Title\n\nBody."
    assert [(e.action, e.rule, e.line, e.before) for e in doc.edits] == [
        ("removed", "blank-lines", 1, "\n"),
        ("trimmed", "line-endings", 3, "  \r\n\r"),
        ("removed", "blank-lines", 5, "\r\n\r"),
        ("trimmed", "trailing-space", 7, "\t"),
        ("removed", "blank-lines", 8, ""),
    ]


def test_trailing_spaces_on_300_lines_are_one_small_edit() -> None:
    lines = [f"Paragraph {n} of an invented report on the harbour." for n in range(300)]
    spaced = [line + " " * (1 + n % 3) if n % 4 else line for n, line in enumerate(lines)]
    (doc,) = run_pipeline(["\n".join(spaced)], config=CONFIG).documents
    (edit,) = doc.edits
    assert (edit.action, edit.rule, edit.line) == ("trimmed", "trailing-space", 2)
    assert edit.before.split("\n")[:4] == ["  ", "   ", " ", ""]
    assert len(json.dumps(edit.to_dict())) < 1200, "the cut ends, never the lines"
    assert "\n".join(line.text for line in explain(doc)) == "\n".join(spaced)


def test_a_text_in_crlf_is_one_edit() -> None:
    (doc,) = run_pipeline(["".join(f"Line {n}.\r\n" for n in range(300))], config=CONFIG).documents
    assert [(e.action, e.rule, e.line, e.before) for e in doc.edits] == [
        ("trimmed", "line-endings", 1, "\r\n" * 299 + "\r"),
        ("removed", "blank-lines", 301, ""),
    ]


def test_lines_split_at_separators() -> None:
    (doc,) = run_pipeline(["Fares rose.\u2028Piers too.\n\x0c\nNext page."], config=CONFIG).documents
    assert doc.text == "Fares rose.\nPiers too.\n\nNext page."
    assert [(e.action, e.rule, e.line, e.before, e.after) for e in doc.edits] == [
        ("trimmed", "line-endings", 1, "\u2028", ""),
        ("replaced", "line-separators", 2, "\x0c", ""),  # two blank lines, one kept: ends cannot say that
    ]


def test_clean_text_is_left_alone_without_an_edit() -> None:
    (doc,) = run_pipeline(["Title\n\nBody."], config=CONFIG).documents
    assert doc.edits == () and doc.text == "Title\n\nBody."
