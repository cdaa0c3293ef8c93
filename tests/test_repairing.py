"""Tests for normkit.text.repairing: options and presets, the exact gate, equivalence with ftfy, idempotence."""

from __future__ import annotations

import importlib
import re
import unicodedata

import ftfy
import pytest
from ftfy import badness, fixes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from normkit.text.repairing import Normalization, RepairOptions, repair, repair_explained

# normkit/__init__ re-exports the function repair, which shadows the submodule as an attribute.
repair_module = importlib.import_module("normkit.text.repairing")

SAFE, FTFY = RepairOptions.preset("safe"), RepairOptions.preset("ftfy")
_NORMALIZATIONS: list[Normalization] = ["NFC", "NFD", "NFKC", "NFKD"]


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


def test_the_hint_is_built_from_this_ftfy() -> None:
    """One branch per alternative of BADNESS_RE, anchored on rare non-ASCII characters, not the fallback."""
    hint = repair_module._HINT
    assert hint is not repair_module._ANY_NON_ASCII
    assert len(hint.branches) == len(hint.ascii_free) == badness.BADNESS_RE.pattern.count("|") + 1
    anchors = re.compile(f"[{hint.anchors}]")
    assert not anchors.search("".join(map(chr, range(0x80))))
    assert not anchors.search("вé"), "common lowercase letters are not anchors"
    clean = "“Quoted” ½ cup, © 2024 — für Über Ärger, в доме, Ελληνικά, SÃO PAULO"
    assert repair_module._BAD_HINT.search(clean) is None, "anchors alone are not hits"


def test_ftfy_is_left_untouched() -> None:
    """ftfy runs with a faster is_bad in a namespace of its own: the module itself keeps its functions."""
    assert ftfy.is_bad is badness.is_bad
    assert ftfy.fix_and_explain.__globals__ is vars(ftfy)
    assert repair_module._FIX_AND_EXPLAIN is not ftfy.fix_and_explain
    assert repair_module._FIX_AND_EXPLAIN.__globals__["is_bad"] is repair_module._is_bad


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain ASCII\nlines\n",
        "naïve café, Ελληνικά, Русский, 日本語\n" * 3,
        "AT&T and R&D\n",
        "a\r\nb\r\n",
        "“Quoted” ½ cup, © 2024 — für Über Ärger\n",
    ],
)
def test_clean_text_never_reaches_ftfy(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = ftfy.fix_text(text, SAFE.ftfy_config())
    monkeypatch.setattr(repair_module, "_FIX_AND_EXPLAIN", _no_ftfy)
    assert repair(text) == expected


def test_only_damaged_lines_reach_ftfy(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "clean line\r\ncafÃ© au lait\r\nnaïve “quotes”\r\nAT&amp;T\n"
    seen: list[str] = []

    def spy(segment: str, config: ftfy.TextFixerConfig) -> ftfy.ExplainedText:
        seen.append(segment)
        return ftfy.fix_and_explain(segment, config)

    monkeypatch.setattr(repair_module, "_FIX_AND_EXPLAIN", spy)
    assert repair(text) == ftfy.fix_text(text, SAFE.ftfy_config())
    assert seen == ["cafÃ© au lait\r\n", "AT&amp;T\n"]


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
MOJIBAKE_PARTS += ["&amp;", "&lt;", "&EACUTE;", "&#x41;", "&#39;", "\x1b[31m", "\r", "\u2028", "\x85", "\u3000", "ｶ"]
# cp1252's 0x80-0x9f, and pieces of Cyrillic, Greek, box-drawing and MacRoman mojibake.
MOJIBAKE_PARTS += [*"€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’•–—˜™š›žΒβВГРС═½×²√≈", "вЂ", "β€", "ā€", "Ã ", "ä Ü", "äÜ"]


def mojibake(chars: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """UTF-8 text read as a single-byte codec: the damage ftfy exists to undo."""
    codec = st.sampled_from(["cp1252", "latin-1", "mac_roman", "cp1251", "cp437"])
    return st.tuples(st.text(chars, max_size=25), codec).map(lambda tc: tc[0].encode().decode(tc[1], "replace"))


def texts(breaks: bool) -> st.SearchStrategy[str]:
    chars = st.characters(codec="utf-8", exclude_characters="" if breaks else BREAKS)
    parts = st.sampled_from([p for p in MOJIBAKE_PARTS if breaks or p not in BREAKS])
    # Strings BADNESS_RE matches: every alternative of ftfy's mojibake test, each next to what the hint checks.
    bad = st.from_regex(badness.BADNESS_RE, fullmatch=True).filter(lambda b: breaks or not set(b) & set(BREAKS))
    line = st.one_of(
        st.text(chars),
        st.lists(parts).map("".join),
        mojibake(chars),
        st.lists(mojibake(chars) | st.lists(parts | bad, max_size=4).map("".join)).map("".join),
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
@given(texts(breaks=True))
def test_the_fast_is_bad_agrees_with_ftfy(text: str) -> None:
    assert repair_module._is_bad(text) == badness.is_bad(text)


@PROPERTY
@given(texts(breaks=True), st.sampled_from([SAFE, FTFY]))
def test_the_rebound_ftfy_agrees_with_ftfy(text: str, options: RepairOptions) -> None:
    config = options.ftfy_config()
    assert repair_module._FIX_AND_EXPLAIN(text, config) == ftfy.fix_and_explain(text, config)


@PROPERTY
@given(texts(breaks=True), st.sampled_from([SAFE, FTFY]))
def test_quiet_text_has_no_trigger_and_no_bad_segment(text: str, options: RepairOptions) -> None:
    """The whole-text test (ASCII deleted first) never misses what the per-segment tests would see."""
    gate = repair_module._gate(options)
    if gate.quiet(text):
        segments = [text[a:b] for a, b in repair_module._segments(text, options.max_decode_length)]
        assert not any(map(badness.is_bad, segments))
        assert all(fixes.remove_control_chars(s) == s and fixes.fix_c1_controls(s) == s for s in segments)


@PROPERTY
@given(
    st.text(st.sampled_from("ab\n\u0301\u0323e\u1100\u1161\uac00Å\u212b")),
    st.sampled_from(["NFC", "NFD", "NFKC", "NFKD"]),
)
def test_normalized_text_has_normalized_lines(text: str, form: Normalization) -> None:
    """Why one is_normalized() over the text answers for each line (a segment cut inside a line is not covered)."""
    if unicodedata.is_normalized(form, text):
        assert all(unicodedata.is_normalized(form, line) for line in text.splitlines(keepends=True))


@PROPERTY
@given(st.text(st.sampled_from("ab\n")), st.integers(1, 5))
def test_segment_at_finds_the_segment_ftfy_cuts(text: str, max_length: int) -> None:
    for start, end in repair_module._segments(text, max_length):
        assert all(repair_module._segment_at(text, pos, max_length) == (start, end) for pos in range(start, end))
