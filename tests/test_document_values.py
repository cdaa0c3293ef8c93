"""Documents are values: a stage returns a new document and leaves the one it received as it was."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from normkit import Config, Document, Edit, Flag, Pipeline, get_plugin_manager

EDIT = Edit("test", "removed", "rule", line=1, before="Share")


def test_edits_and_flags_are_tuples_whatever_a_caller_passes() -> None:
    doc = Document(id="d", text="Body.", edits=[EDIT], flags=[Flag("code", "test")])  # type: ignore[arg-type]
    assert doc.edits == (EDIT,) and doc.flags == (Flag("code", "test"),)
    evolved = doc.evolve(edits=[EDIT, EDIT])
    assert evolved.edits == (EDIT, EDIT)
    with pytest.raises(AttributeError):
        evolved.edits.append(EDIT)  # type: ignore[attr-defined]


def test_with_edits_and_with_flag_return_new_documents() -> None:
    doc = Document(id="d", text="Share\nBody.")
    edited = doc.with_edits(EDIT, text="Body.")
    flagged = edited.with_flag("heavy", "test", "removed 50%")
    assert (doc.text, doc.edits, doc.flags) == ("Share\nBody.", (), ())
    assert (edited.text, edited.edits, edited.flags) == ("Body.", (EDIT,), ())
    assert flagged.flags == (Flag("heavy", "test", "removed 50%"),) and flagged.edits == (EDIT,)


def test_a_round_trip_through_json_gives_tuples_back() -> None:
    doc = Document(id="d", text="Body.", edits=(EDIT,), flags=(Flag("code", "test"),))
    assert Document.from_dict(doc.to_dict()) == doc


def _stages() -> list[str]:
    return Pipeline(Config.from_mapping({}), pm=get_plugin_manager(load_entrypoints=False)).registry.names("stage")


TEXTS = st.lists(
    st.sampled_from(
        [
            "Ferry Keeps Running",
            "The harbour council voted on Tuesday to keep the winter ferry running until the end of March.",
            "Share this article",
            "Advertisement",
            "Photo: Jo Rivers/Harbour Gazette",
            "",
            "  trailing spaces  ",
            "The Mona Lisa doesnÃ¢â‚¬â„¢t have eyebrows.",
        ]
    ),
    max_size=12,
).map("\n".join)


@pytest.mark.parametrize("stage", _stages())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS, as_bytes=st.booleans(), title=st.sampled_from([None, "", "Ferry Keeps Running"]))
def test_every_registered_stage_leaves_its_input_as_it_was(stage: str, text: str, as_bytes: bool, title: str) -> None:
    pipe = Pipeline(Config.from_mapping({"pipeline": [stage]}), pm=get_plugin_manager(load_entrypoints=False))
    raw = text.encode("utf-8") if as_bytes and stage == "decode" else None
    doc = Document(id="d", text="" if raw else text, raw=raw, title=title, edits=(EDIT,), metadata={"k": [1]})
    before = copy.deepcopy(doc)
    pipe.process(doc)
    assert doc == before and doc.raw == before.raw
