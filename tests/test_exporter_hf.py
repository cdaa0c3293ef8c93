"""The hf exporter: text, id and metadata, as Hugging Face datasets and datatrove read them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from exporting_helpers import DOCS, export, load_and_export, validate


def test_round_trip_keeps_text_id_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "documents.hf.jsonl"
    export("hf", path)
    records = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    texts = [f"{DOCS[0].title}\n\n{DOCS[0].text}", DOCS[1].text, DOCS[2].text]  # a title-line title comes back
    for record, doc, text in zip(records, DOCS, texts, strict=True):
        assert list(record) == ["text", "id", "metadata"]
        assert (record["text"], record["id"]) == (text, doc.id)
        meta = record["metadata"]
        assert (meta.pop("source"), meta.pop("title"), meta.pop("url")) == (doc.source, doc.title, doc.url)
        assert meta == doc.metadata
    assert validate(str(path))[0] == 0


def test_a_document_record_in_an_hf_file_is_invalid(tmp_path: Path) -> None:
    path = tmp_path / "documents.hf.jsonl"
    export("jsonl", path)  # document shape under the hf name: validate must say so
    code, out, _ = validate(str(path))
    assert code == 1
    assert f"{path}:1: /: Additional properties are not allowed" in out
    assert out.splitlines()[0].endswith("(additionalProperties)")


# -- the title: back in the text when it came from there --------------------------------------------

HEADLINE = "Village bakery wins the county bread prize"
STORY = "The bakery on the green took first prize for its rye loaf, baked to a recipe from 1920."


def cleaned(tmp_path: Path, name: str, content: bytes, **options: Any) -> list[dict[str, Any]]:
    return load_and_export(tmp_path, "hf", name, content, **options)


def test_records_without_title_keep_their_text(tmp_path: Path) -> None:
    question = "Q: How many strings does a violin have?\nA: Four."
    content = b"".join(orjson.dumps(row) + b"\n" for row in [{"text": question}, {"text": "fine words"}])
    records = cleaned(tmp_path, "in.jsonl", content)
    assert [r["text"] for r in records] == [question, "fine words"]
    assert [r["metadata"]["title"] for r in records] == [None, None]


def test_a_title_from_the_first_line_comes_back_in_the_text(tmp_path: Path) -> None:
    (record,) = cleaned(tmp_path, "page.txt", f"{HEADLINE}\n\n{STORY}\n".encode())
    assert record["text"] == f"{HEADLINE}\n\n{STORY}"
    assert record["metadata"]["title"] == HEADLINE


def test_a_page_that_was_only_its_title_is_flagged_and_keeps_it(tmp_path: Path) -> None:
    (record,) = cleaned(tmp_path, "note.txt", b"fine words\n", flags=True)
    assert record["text"] == "fine words"
    assert [f["code"] for f in record["metadata"]["flags"]] == ["title-only"]


@pytest.mark.parametrize(("place", "meta"), [("metadata", {"title": HEADLINE}), ("drop", {})])
def test_the_title_option_keeps_it_out_of_the_text(tmp_path: Path, place: str, meta: dict[str, str]) -> None:
    (record,) = cleaned(tmp_path, "page.txt", f"{HEADLINE}\n\n{STORY}\n".encode(), title=place)
    assert record["text"] == STORY
    assert {k: v for k, v in record["metadata"].items() if k == "title"} == meta
