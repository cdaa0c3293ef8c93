"""The seed article, end to end through ``normkit run``: the golden record, and why each line went."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from normkit.cli import cli

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_d44c365b91d9de36.txt"
GOLDEN = Path(__file__).parent / "data" / "seed.golden.json"
TITLE = "US says Iran assisting base attacks, confirms advisors in Israel"
REMOVED = [
    TITLE,  # the repeat; the first line became the title
    "3 min read",
    'John Kirby said Iran was "actively facilitating" attacks on US military bases in Iraq and other countries [Getty]',
    "Analysis",
    "Live Story",
]


@pytest.fixture
def record(tmp_path: Path) -> dict:
    """Run exactly the README's command in a folder holding seeds/, and read the one record."""
    shutil.copytree(SEED.parent, tmp_path / "seeds")
    result = CliRunner().invoke(cli, ["run", "seeds/", "-o", "out/", "-q"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    lines = (tmp_path / "out" / "documents.jsonl").read_text().splitlines()
    assert len(lines) == 1
    return json.loads(lines[0])


def test_seed_matches_the_golden_record(record: dict) -> None:
    if os.environ.get("NORMKIT_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    assert record == json.loads(GOLDEN.read_text())


def test_title_once_and_every_other_line_verbatim(record: dict) -> None:
    assert record["title"] == TITLE
    assert TITLE not in record["text"]
    source_lines = [line for line in SEED.read_text().splitlines()[1:] if line.strip()]
    expected = list(source_lines)
    for line in REMOVED:
        expected.remove(line)
    assert [line for line in record["text"].splitlines() if line.strip()] == expected
    assert "including at least 2,00 children." in record["text"]  # the source's typo stays: no content edits


def test_every_removed_line_has_an_edit_naming_its_rule(record: dict) -> None:
    # blank lines left behind by a removal are removed too, each with an edit: they are not content
    removals = [e for e in record["edits"] if e["action"] == "removed" and e.get("before", "").strip()]
    assert sorted(e["before"] for e in removals) == sorted([TITLE, *REMOVED])
    assert all(e["rule"] and e["stage"] in {"headline", "boilerplate"} for e in removals)
