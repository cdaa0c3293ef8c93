"""A fast start: what a run may not need is not imported (jsonschema, fastjsonschema, ftfy, rich, chardet) or
compiled (the builtin rules' regexes), what it needs is worked out once (the builtin rules' prefilters, kept in
a JSON cache), and the shortcuts that make it so give the answers the full machinery would.

Which modules a process loaded is deterministic, so these tests check ``sys.modules`` in a subprocess; the
time itself is measured in ``benchmarks/startup.py``, never asserted here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import ftfy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from normkit.text import repairing

#: libraries a run over valid, clean ASCII documents does without (each is loaded when a document needs it).
DEFERRED = ("jsonschema", "fastjsonschema", "referencing", "ftfy", "rich", "chardet")

ARTICLE = """\
Harbour Lights Return to Merrow Quay

The lamps along Merrow Quay were lit again on Friday after a winter of repairs.
Volunteers from the rowing club painted the railings and replaced the old glass.
"It feels like the town has its evening back," said one of the fishermen mending nets nearby.
The council plans a small market on the quay every second Saturday from May.
"""


def run_code(inputs: Path, out: Path) -> str:
    """Code that runs ``normkit run`` over ``inputs`` in this process (in-process: no worker to look into)."""
    return f"""
        sys.argv = ["normkit", "run", {str(inputs)!r}, "-o", {str(out)!r}, "-q", "--executor", "inprocess"]
        from normkit.cli import main
        main()
    """


def one_article(tmp_path: Path) -> Path:
    """A folder holding one clean ASCII article."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "quay.txt").write_text(ARTICLE, encoding="ascii")
    return inputs


def loaded_after(code: str, tmp_path: Path) -> set[str]:
    """The modules of ``DEFERRED`` (and msgspec) loaded when ``code`` has run in a fresh interpreter."""
    report = tmp_path / "modules.json"
    watched = (*DEFERRED, "msgspec")
    script = textwrap.dedent(f"""
        import atexit, json, sys
        def _report():
            with open({str(report)!r}, "w") as f:
                json.dump([m for m in {watched!r} if m in sys.modules], f)
        atexit.register(_report)
    """) + textwrap.dedent(code)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert report.exists(), done.stderr
    return set(json.loads(report.read_text()))


def test_importing_the_command_line_loads_none_of_the_deferred_libraries(tmp_path: Path) -> None:
    assert loaded_after("import normkit.cli", tmp_path) == set()


def test_a_run_of_a_clean_ascii_document_loads_none_of_them(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert loaded_after(run_code(one_article(tmp_path), out), tmp_path) == {"msgspec"}
    assert (out / "documents.jsonl").read_text().count("\n") == 1


def test_decode_options_default_to_every_era_without_importing_chardet(tmp_path: Path) -> None:
    code = """
        import pickle
        from normkit import DecodeOptions, decode
        options = DecodeOptions()
        assert decode(b"plain ascii", options).text == "plain ascii"
        assert "chardet" not in sys.modules
        copy = pickle.loads(pickle.dumps(options))
        import chardet
        assert options.encoding_era is copy.encoding_era is chardet.EncodingEra.ALL
        assert options == DecodeOptions(encoding_era=chardet.EncodingEra.ALL)
        assert DecodeOptions(encoding_era=chardet.EncodingEra.DOS).encoding_era is chardet.EncodingEra.DOS
    """
    assert "chardet" in loaded_after(code, tmp_path)  # the assertions above ran (a failure leaves no report)


def test_the_prefilter_cache_gives_what_deriving_gives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Written on a miss as JSON, read on a hit; a file that is not exactly what it should be is derived anew."""
    from normkit_plugins import _boilerplate_prefilter as prefilters
    from normkit_plugins._boilerplate_rules import builtin_rules

    wanted = {(rule.pattern, not rule.case) for rule in builtin_rules() if rule.pattern}
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(prefilters, "_KNOWN", {})
    source = "[[rules]]  # any text: the key is its digest"
    prefilters.preload(wanted, source)
    (written,) = (tmp_path / "normkit").glob("prefilters-*.json")
    assert json.loads(written.read_text())["key"] == prefilters._cache_key(source)
    for good in (True, False):
        monkeypatch.setattr(prefilters, "_KNOWN", {})
        prefilters.preload(wanted, source)
        assert set(prefilters._KNOWN) == wanted
        for (pattern, ignorecase), (gate, ambiguous) in prefilters._KNOWN.items():
            assert gate == prefilters._derived_prefilter(pattern, ignorecase), pattern
            assert ambiguous == prefilters._derived_ambiguous(pattern, ignorecase), pattern
        if good:  # then a tampered file: a prefilter that admits nothing it should
            data = json.loads(written.read_text())
            data["patterns"][0][4] = "not a list"
            written.write_text(json.dumps(data))
    assert json.loads(written.read_text())["patterns"][0][4] != "not a list"  # derived anew, and written back


@pytest.mark.parametrize("lines_one_by_one", [0, 1, 3, 1000])
def test_openers_one_by_one_find_what_the_alternation_finds(
    lines_one_by_one: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before and after an opener compiles its alternation, the rule it finds is the alternation's."""
    from normkit_plugins import _boilerplate_rules as rules

    monkeypatch.setattr(rules, "OPENER_LINES", lines_one_by_one)
    gated = rules.RuleSet(rules.builtin_rules())._gated_short
    lines = ["Read more", "read more about the quay", "Share this article", "Photo: Harbour Office", "Advertisement"]
    for line in [*lines, *lines, "The lamps were lit again.", "", "1 of 12", "(c) Merrow Gazette"]:
        found = gated._openers.get(line[:1]) or gated._opener(line[:1])
        expected = gated.alternation(line)
        assert getattr(found(line), "lastgroup", None) == (expected.lastgroup if expected else None), line


def test_gated_patterns_compile_when_first_tried() -> None:
    from normkit_plugins import _boilerplate_rules as rules

    gated = rules.RuleSet(rules.builtin_rules())._gated_short
    lazy = [fullmatch for *_, fullmatch in gated.gated if isinstance(fullmatch, rules._Lazy)]
    assert lazy and all(fullmatch.fullmatch is None for fullmatch in lazy)


def test_an_invalid_option_still_gets_jsonschemas_message(tmp_path: Path) -> None:
    """msgspec only says yes: a no goes to jsonschema, whose message names the key."""
    from normkit import Config, ConfigError, Pipeline

    with pytest.raises(ConfigError, match=r"^stages\.fix_text\.uncurl_quotes: 'yes' is not of type 'boolean'$"):
        Pipeline(Config.from_mapping({"stages": {"fix_text": {"uncurl_quotes": "yes"}}}))


def test_the_ascii_triggers_are_ftfys() -> None:
    """The ASCII text that skips ftfy must hold none of the characters any fixer acts on, by ftfy's own tables."""
    for name, chars in repairing._TRIGGERS.items():
        assert {c for c in chars if c < 0x80} == set(repairing._ASCII_TRIGGERS.get(name, ())), name


ascii_text = st.text(st.characters(max_codepoint=0x7F), max_size=60) | st.sampled_from(
    ["", "plain words", "a & b", "&amp; x", "a\r\nb", "tab\there", "esc\x1b[31m", "del\x7f", "<b>&lt;</b>"]
)


@settings(max_examples=400, deadline=None)
@given(ascii_text, st.sampled_from(["safe", "ftfy"]), st.booleans())
def test_ascii_text_left_alone_without_ftfy_is_what_ftfy_leaves_alone(text: str, preset: str, html: bool) -> None:
    options = repairing.RepairOptions.from_mapping({"preset": preset, "unescape_html": html or "auto"})
    if repairing._ascii_untouched(text, options):
        assert ftfy.fix_text(text, options.ftfy_config(explain=False)) == text
        assert ftfy.fix_and_explain(text, options.ftfy_config()).text == text
