"""A fast start: what a run may not need is not imported (jsonschema, fastjsonschema, ftfy, rich), and the
shortcuts that make it so give the answers the full machinery would.

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
DEFERRED = ("jsonschema", "fastjsonschema", "referencing", "ftfy", "rich")

ARTICLE = """\
Harbour Lights Return to Merrow Quay

The lamps along Merrow Quay were lit again on Friday after a winter of repairs.
Volunteers from the rowing club painted the railings and replaced the old glass.
"It feels like the town has its evening back," said one of the fishermen mending nets nearby.
The council plans a small market on the quay every second Saturday from May.
"""


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
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "quay.txt").write_text(ARTICLE, encoding="ascii")
    out = tmp_path / "out"
    code = f"""
        sys.argv = ["normkit", "run", {str(inputs)!r}, "-o", {str(out)!r}, "-q", "--executor", "inprocess"]
        from normkit.cli import main
        main()
    """
    assert loaded_after(code, tmp_path) == {"msgspec"}
    assert (out / "documents.jsonl").read_text().count("\n") == 1


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
