"""Tests for normkit.repairing: options and presets, the exact gate, equivalence with ftfy, idempotence."""

from __future__ import annotations

import importlib

import ftfy
import pytest
from ftfy import fixes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from normkit.repairing import RepairOptions, repair, repair_explained

# normkit/__init__ re-exports the function repair, which shadows the submodule as an attribute.
repair_module = importlib.import_module("normkit.repairing")

SAFE, FTFY = RepairOptions.preset("safe"), RepairOptions.preset("ftfy")


# --- options --------------------------------------------------------------------------------


def test_presets() -> None:
    assert RepairOptions() == SAFE
    assert SAFE.normalization is None and not SAFE.uncurl_quotes and SAFE.unescape_html == "auto"
    assert FTFY.ftfy_config(explain=False) == ftfy.TextFixerConfig(explain=False)
    with pytest.raises(ValueError, match="known: ftfy, safe"):
        RepairOptions.preset("aggressive")


def test_from_mapping() -> None:
    assert RepairOptions.from_mapping({}) == SAFE
    options = RepairOptions.from_mapping({"preset": "ftfy", "uncurl_quotes": False})
    assert options.normalization == "NFC" and not options.uncurl_quotes
    with pytest.raises(ValueError, match="'uncurl'"):
        RepairOptions.from_mapping({"uncurl": True})


@pytest.mark.parametrize(
    "bad", [{"normalization": "NFX"}, {"unescape_html": "yes"}, {"fix_encoding": 1}, {"max_decode_length": 0}]
)
def test_bad_values_name_the_option(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        RepairOptions.from_mapping(bad)


def test_every_ftfy_option_but_explain_is_settable() -> None:
    fields = set(RepairOptions.__dataclass_fields__)
    assert fields == set(ftfy.TextFixerConfig._fields) - {"explain"}


# --- the gate -------------------------------------------------------------------------------

SINGLE_CHARACTER_FIXERS = {
    "remove_terminal_escapes": fixes.remove_terminal_escapes,
    "fix_c1_controls": fixes.fix_c1_controls,
    "fix_latin_ligatures": fixes.fix_latin_ligatures,
    "fix_character_width": fixes.fix_character_width,
    "uncurl_quotes": fixes.uncurl_quotes,
    "fix_line_breaks": fixes.fix_line_breaks,
    "fix_surrogates": fixes.fix_surrogates,
    "remove_control_chars": fixes.remove_control_chars,
}


@pytest.mark.parametrize("name", sorted(SINGLE_CHARACTER_FIXERS))
def test_each_fixer_is_the_identity_outside_its_trigger_characters(name: str) -> None:
    """What makes the gate exact: no enabled fixer can act on a segment without its triggers."""
    others = "".join(chr(cp) for cp in range(0x110000) if cp not in repair_module._TRIGGERS[name])
    assert SINGLE_CHARACTER_FIXERS[name](others) == others


def test_the_whole_text_gate_is_active_for_this_ftfy() -> None:
    """ftfy's badness regex has one anchor, which the whole-text gate drops, and bounded alternatives."""
    assert repair_module._WHOLE_TEXT_GATE
    assert repair_module._SHORTCUT is not None


@pytest.mark.parametrize(
    "text",
    ["", "plain ASCII\nlines\n", "naïve café, Ελληνικά, Русский, 日本語\n" * 3, "AT&T and R&D\n", "a\r\nb\r\n"],
)
def test_clean_text_never_reaches_ftfy(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = ftfy.fix_text(text)
    monkeypatch.setattr(ftfy, "fix_and_explain", _no_ftfy)
    assert repair(text) == expected


def _no_ftfy(*args: object, **kwargs: object) -> None:
    raise AssertionError("ftfy should not be called")


# --- results --------------------------------------------------------------------------------

MOJIBAKE = [
    ("The Mona Lisa doesnÃ¢â‚¬â„¢t have eyebrows.", "The Mona Lisa doesn’t have eyebrows."),
    ("Ã¢â‚¬Å“Quoted textÃ¢â‚¬Â\x9d", "“Quoted text”"),
    ("cafÃ© au lait", "café au lait"),
    ("ÐŸÑ€Ð¸Ð²ÐµÑ‚", "Привет"),
]


@pytest.mark.parametrize(("text", "fixed"), MOJIBAKE)
def test_mojibake_is_fixed_like_ftfy(text: str, fixed: str) -> None:
    assert repair(text) == ftfy.fix_encoding(text) == fixed
    assert repair(text, FTFY) == ftfy.fix_text(text)


@pytest.mark.parametrize(
    "text", ["naïve café", "Größe: 5 µm ± 2 °C", "“curly” ﬁne ＦＵＬＬ", "e\u0301", "<b>&amp;</b>"]
)
def test_safe_defaults_keep_intended_characters(text: str) -> None:
    assert repair(text) == text


def test_unescape_auto_stops_for_good_after_markup_like_ftfy() -> None:
    text = "a &amp; b\n<p>c &amp; d</p>\ne &amp; f\n"
    assert repair(text) == ftfy.fix_text(text) == "a & b\n<p>c &amp; d</p>\ne &amp; f\n"


def test_repair_explained() -> None:
    assert repair_explained("clean\n") == ("clean\n", [])
    one = "cafÃ© au lait"
    assert repair_explained(one) == ftfy.fix_and_explain(one, SAFE.ftfy_config())
    text, steps = repair_explained("cafÃ©\r\nthÃ©\r\nok\r\n")
    assert text == "café\nthé\nok\n"
    # Three segments, one plan: the third's CRLF step is part of the first's.
    assert steps == [("encode", "latin-1"), ("decode", "utf-8"), ("apply", "fix_line_breaks")]
    assert repair_explained("a\r\nb") == ("a\nb", [("apply", "fix_line_breaks")])


def test_long_lines_are_cut_like_ftfy() -> None:
    options = RepairOptions(max_decode_length=5)
    text = "abcdÃ©fgh\r\nÃ© ok"
    assert repair(text, options) == ftfy.fix_text(text, options.ftfy_config())


def test_ftfy_is_not_idempotent_when_a_fix_creates_a_line_break() -> None:
    """ftfy fixes line by line; turning U+2028 into "\\n" makes a new line that a second pass fixes.

    repair() matches ftfy here rather than hiding it; the idempotence
    property below therefore leaves out line-break characters.
    """
    text = "\x80\u2028ð\x80\x80\ufffd"
    once = repair(text)
    assert once == ftfy.fix_text(text) and repair(once) != once


# --- properties ----------------------------------------------------------------------------

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BREAKS = "\r\n\u2028\u2029\x85"
MOJIBAKE_PARTS = list("aé Ã©â€™¢œžŸ\xa0Â&;<>#x0123\x1b[m\x9d\x81\ufeff\ud83d\udca9ﬁ“”＠\u0301")
MOJIBAKE_PARTS += ["&amp;", "&lt;", "&EACUTE;", "&#x41;", "&#39;", "\x1b[31m"]


def mojibake(chars: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """UTF-8 text read as a single-byte codec: the damage ftfy exists to undo."""
    codec = st.sampled_from(["cp1252", "latin-1", "mac_roman", "cp1251", "cp437"])
    return st.tuples(st.text(chars, max_size=25), codec).map(lambda tc: tc[0].encode().decode(tc[1], "replace"))


def texts(breaks: bool) -> st.SearchStrategy[str]:
    chars = st.characters(codec="utf-8", exclude_characters="" if breaks else BREAKS)
    parts = st.sampled_from([p for p in MOJIBAKE_PARTS if breaks or p not in BREAKS])
    line = st.one_of(
        st.text(chars),
        st.lists(parts).map("".join),
        mojibake(chars),
        st.lists(mojibake(chars) | st.lists(parts, max_size=4).map("".join)).map("".join),
    )
    separator = st.sampled_from(["\n", "\r\n", "\r", "\u2028"] if breaks else ["\n"])
    return st.lists(st.tuples(line, separator), max_size=4).map(lambda ls: "".join(a + b for a, b in ls))


OPTIONS = st.builds(
    RepairOptions,
    unescape_html=st.sampled_from([True, False, "auto"]),
    normalization=st.sampled_from([None, "NFC", "NFD", "NFKC", "NFKD"]),
    max_decode_length=st.sampled_from([1_000_000, 7, 3]),
    **{
        name: st.booleans()
        for name in RepairOptions.__dataclass_fields__
        if name not in ("unescape_html", "normalization", "max_decode_length")
    },
)


@PROPERTY
@given(texts(breaks=True), OPTIONS | st.sampled_from([SAFE, FTFY]))
def test_fast_repair_equals_plain_ftfy(text: str, options: RepairOptions) -> None:
    expected = ftfy.fix_text(text, options.ftfy_config())
    assert repair(text, options) == expected
    assert repair_explained(text, options)[0] == expected


@PROPERTY
@given(texts(breaks=False), st.sampled_from([SAFE, FTFY]))
def test_repair_is_idempotent_without_line_break_characters(text: str, options: RepairOptions) -> None:
    once = repair(text, options)
    assert repair(once, options) == once


@PROPERTY
@given(st.lists(texts(breaks=True) | st.sampled_from(["x" * 40, " " * 9, "日本語" * 5])).map("".join))
def test_badness_shortcut_agrees_with_the_regex(text: str) -> None:
    expected = repair_module._BAD_ANYWHERE.search(text) is not None
    assert repair_module._bad_anywhere(text) == expected
