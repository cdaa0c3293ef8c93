"""The markdown exporter: a page per document, in its own file or all in one file."""

from __future__ import annotations

import json
import re
from pathlib import Path

from exporting_helpers import DOCS, export, pipeline_for
from normkit_plugins.exporter_markdown import PAGE_BREAK, id_comment

_PAGE = re.compile(r'<!-- normkit:id ("[^\n]*") -->\n\n(?:# ([^\n]*)\n\n)?(?:<([^\n]*)>\n\n)?(.*)', re.DOTALL)


def parse(page: str) -> tuple[str, str | None, str | None, str]:
    """id, title, url and body back from one rendered page."""
    match = _PAGE.fullmatch(page)
    assert match, page
    doc_id, title, url, body = match.groups()
    return json.loads(doc_id), title, url, body.removesuffix("\n")


def expected() -> list[tuple[str, str | None, str | None, str]]:
    return [(d.id, d.title, d.url, d.text.rstrip("\n")) for d in DOCS]


def test_one_file_per_document_round_trip(tmp_path: Path) -> None:
    assert pipeline_for("markdown").exporter.per_document
    export("markdown", tmp_path / "out")
    pages = [parse(p.read_bytes().decode()) for p in (tmp_path / "out").iterdir()]
    assert sorted(pages, key=str) == sorted(expected(), key=str)


def test_single_file_round_trip(tmp_path: Path) -> None:
    assert not pipeline_for("markdown", files="single").exporter.per_document
    path = tmp_path / "documents.md"
    export("markdown", path, files="single")
    pages = path.read_bytes().decode().split(PAGE_BREAK.decode())
    assert [parse(page) for page in pages] == expected()


def test_an_id_cannot_close_the_comment_early() -> None:
    comment = id_comment("x --> <script>")
    assert comment.count("-->") == 1 and comment.endswith("-->")
    assert json.loads(comment.removeprefix("<!-- normkit:id ").removesuffix(" -->")) == "x --> <script>"
