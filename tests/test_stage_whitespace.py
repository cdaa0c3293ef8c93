"""The whitespace stage: layout changes only, each counted in one edit; fast paths equal the plain rules."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

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


def test_one_edit_counting_each_kind_of_change() -> None:
    (doc,) = run_pipeline(["\n\nTitle  \r\n\r\n\r\n\r\nBody.\t\n"], config=CONFIG).documents
    assert doc.text == "Title\n\nBody."
    (edit,) = doc.edits
    counts = "line_endings=4, trailing_space=2, blank_runs=1"
    assert (edit.stage, edit.action, edit.detail) == ("whitespace", "replaced", counts)


def test_clean_text_is_left_alone_without_an_edit() -> None:
    (doc,) = run_pipeline(["Title\n\nBody."], config=CONFIG).documents
    assert doc.edits == () and doc.text == "Title\n\nBody."
