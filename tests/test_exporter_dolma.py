"""The dolma exporter: Dolma's fields, ``added`` once per run, ``created`` from the input when known."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from exporting_helpers import DOCS, export, load_and_export, pipeline_for, validate
from normkit_plugins.stage_headline import TITLE_LINE
from normkit_plugins.stage_headline import TITLE_LINE as TITLE_LINE_RULE

from normkit import ConfigError

ADDED = "2024-02-01T00:00:00.000Z"
#: the texts written: the first document's title was its first line (a title-line edit), so it comes back
TEXTS = [f"{DOCS[0].title}\n\n{DOCS[0].text}", DOCS[1].text, DOCS[2].text]


def test_round_trip_keeps_text_id_source_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "documents.dolma.jsonl"
    export("dolma", path, added=ADDED)
    records = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    for record, doc, text in zip(records, DOCS, TEXTS, strict=True):
        assert set(record) == {"id", "text", "source", "added", "created", "metadata"}
        assert (record["id"], record["text"], record["source"] or None) == (doc.id, text, doc.source)
        assert record["added"] == ADDED
        meta = record["metadata"]
        assert (meta.pop("title"), meta.pop("url")) == (doc.title, doc.url)
        assert meta == doc.metadata
    assert [r["created"] for r in records] == ["2024-01-31", ADDED, ADDED]
    assert validate(str(path))[0] == 0  # the .dolma marker in the name picks the dolma schema


def test_edits_go_under_metadata_only_when_asked(tmp_path: Path) -> None:
    record = pipeline_for("dolma").export(DOCS[0])
    assert "edits" not in record["metadata"]
    record = pipeline_for("dolma", edits=True).export(DOCS[0])
    assert record["metadata"]["edits"] == [e.to_dict() for e in DOCS[0].edits]
    assert record["metadata"]["flags"] == [f.to_dict() for f in DOCS[0].flags]


def test_added_defaults_to_the_run_start_in_dolma_format() -> None:
    added = pipeline_for("dolma").export(DOCS[1])["added"]
    assert len(added) == len(ADDED) and added.endswith("Z") and added[10] == "T"


# -- the title: back in the text when it came from there --------------------------------------------

HEADLINE = "Lighthouse keepers return to the northern cape"
STORY = "Two keepers moved back into the lighthouse this spring, after ten years of automatic running."


def cleaned(tmp_path: Path, name: str, content: bytes, **options: Any) -> list[dict[str, Any]]:
    return load_and_export(tmp_path, "dolma", name, content, **options)


def test_records_without_title_keep_their_text(tmp_path: Path) -> None:
    question = "Q: What do bees make from nectar?\nA: Honey."
    rows = [{"text": question}, {"text": "fine words"}]
    content = b"".join(orjson.dumps(row) + b"\n" for row in rows)
    records = cleaned(tmp_path, "in.jsonl", content, added=ADDED)
    assert [r["text"] for r in records] == [question, "fine words"]
    assert [r["metadata"]["title"] for r in records] == [None, None]


def test_a_title_from_the_first_line_comes_back_in_the_text(tmp_path: Path) -> None:
    (record,) = cleaned(tmp_path, "page.txt", f"{HEADLINE}\n\n{HEADLINE}\n{STORY}\n".encode())
    assert record["text"] == f"{HEADLINE}\n\n{STORY}"  # the repeat stays out: the headline is there once
    assert record["metadata"]["title"] == HEADLINE


def test_a_page_that_was_only_its_title_is_flagged_and_keeps_it(tmp_path: Path) -> None:
    (record,) = cleaned(tmp_path, "note.txt", b"fine words\n", flags=True)
    assert record["text"] == "fine words"
    assert [f["code"] for f in record["metadata"]["flags"]] == ["title-only"]


def test_a_record_title_is_not_added_to_the_text(tmp_path: Path) -> None:
    content = orjson.dumps({"title": HEADLINE, "text": f"{HEADLINE}\n{STORY}"}) + b"\n"
    (record,) = cleaned(tmp_path, "in.jsonl", content)
    assert (record["text"], record["metadata"]["title"]) == (STORY, HEADLINE)


@pytest.mark.parametrize(("place", "meta"), [("metadata", {"title": HEADLINE}), ("drop", {})])
def test_the_title_option_keeps_it_out_of_the_text(tmp_path: Path, place: str, meta: dict[str, str]) -> None:
    (record,) = cleaned(tmp_path, "page.txt", f"{HEADLINE}\n\n{STORY}\n".encode(), title=place)
    assert record["text"] == STORY
    assert {k: v for k, v in record["metadata"].items() if k == "title"} == meta


def test_the_title_option_is_checked() -> None:
    with pytest.raises(ConfigError, match="title"):
        pipeline_for("dolma", title="footer")
    with pytest.raises(ConfigError, match="without a title field"):
        pipeline_for("jsonl", title="drop")  # the document shape has a title field of its own
    assert pipeline_for("jsonl", shape="dolma", title="drop").exporter.settings.title == "drop"


def test_the_exporter_reads_the_rule_the_headline_stage_writes() -> None:
    assert TITLE_LINE == TITLE_LINE_RULE
