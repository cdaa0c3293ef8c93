"""The decode and fix_text stages: how bytes became text is recorded, and the policies for doubtful input."""

from __future__ import annotations

import pytest

from normkit import ConfigError
from normkit.testing import run_pipeline

DECODE = {"pipeline": ["decode"]}


def test_decoding_is_recorded_on_the_document_and_as_an_edit() -> None:
    (doc,) = run_pipeline(["Привет, как дела? Всё хорошо.".encode("cp1251") * 20], config=DECODE).documents
    assert doc.text.startswith("Привет") and doc.raw is None
    assert doc.decoding["encoding"] == "cp1251" and doc.decoding["method"] == "detected"
    assert [(e.stage, e.action, e.detail) for e in doc.edits] == [("decode", "decoded", "cp1251")]


def test_binary_input_is_rejected_with_the_reason() -> None:
    result = run_pipeline([b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8], config=DECODE)
    (reject,) = result.rejects
    assert reject.reason.startswith("binary input") and reject.stage == "decode"


@pytest.mark.parametrize(("policy", "outcome"), [("keep", "flagged"), ("reject", "rejected")])
def test_replacement_characters_policy(policy: str, outcome: str) -> None:
    config = {"pipeline": ["decode"], "stages": {"decode": {"on_replacement": policy}}}
    result = run_pipeline(["Straße ".encode() * 30 + b"\xc3"], config=config)  # cut in a character
    if outcome == "flagged":
        assert [f.code for f in result.documents[0].flags] == ["replacement_chars"]
    else:
        assert "replacement chars" in result.rejects[0].reason


def test_forced_encoding_from_config_and_unknown_codec() -> None:
    config = {"pipeline": ["decode"], "stages": {"decode": {"encoding": "koi8-r"}}}
    (doc,) = run_pipeline(["мир".encode("koi8-r")], config=config).documents
    assert (doc.text, doc.decoding["method"]) == ("мир", "forced")
    bad = {"pipeline": ["decode"], "stages": {"decode": {"encoding": "no-such-codec"}}}
    with pytest.raises(ConfigError, match=r"stages\.decode\.encoding: unknown encoding 'no-such-codec'"):
        run_pipeline([b"abc"], config=bad)  # a start-up error, not every document rejected


def test_fix_text_records_ftfy_changes_per_line() -> None:
    config = {"pipeline": ["fix_text"]}
    (doc,) = run_pipeline(["Fine line.\nThe Mona Lisa doesnÃ¢â‚¬â„¢t have eyebrows."], config=config).documents
    assert doc.text == "Fine line.\nThe Mona Lisa doesn’t have eyebrows."
    (edit,) = doc.edits
    assert (edit.line, edit.rule, edit.action) == (2, "ftfy", "replaced")
    assert "encode" in (edit.detail or "")


def test_fix_text_bad_option_is_a_config_error_naming_it() -> None:
    with pytest.raises(Exception, match="uncurl_quotez"):
        run_pipeline(["x"], config={"pipeline": ["fix_text"], "stages": {"fix_text": {"uncurl_quotez": True}}})
