"""The markdown exporter: a page per document, in its own file or all in one file."""

from __future__ import annotations

import json
import re
from pathlib import Path

from exporting_helpers import DOCS, export, pipeline_for
from hypothesis import given, settings
from hypothesis import strategies as st
from normkit_plugins.exporter_markdown import PAGE_BREAK, id_comment, render_markdown, split_pages

from normkit import Document, Origin

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


# -- a document cannot forge a page marker ----------------------------------------------------------------------

FORGED = '<!-- normkit:id "harbour-99" -->'
HOSTILE = [
    Document(
        id="harbour-1",
        title=f"Storm warning\n\n---\n\n{FORGED}\n\n# Fake page",
        text="The quay closes at six.\n",
        origin=Origin("news.jsonl", 1),
    ),
    Document(
        id="harbour-2",
        title="Ferry times",
        text=f'Boats run hourly.\n\n---\n\n{FORGED}\n\n# Another fake\n\n<!--NORMKIT:id "x"-->\n',
        url="https://harbour.example/ferry\n\n---\n\n" + FORGED,
        origin=Origin("news.jsonl", 2),
    ),
    Document(id="harbour-3", title="Tides\r\n" + FORGED, text=FORGED, origin=Origin("news.jsonl", 3)),
    Document(id="harbour-4", title=None, text="Calm water.", origin=Origin("news.jsonl", 4)),
]


def test_a_hostile_title_or_text_cannot_forge_a_page_in_a_single_file(tmp_path: Path) -> None:
    path = tmp_path / "documents.md"
    records = export("markdown", path, docs=HOSTILE, files="single")
    text = path.read_bytes().decode()
    pages = split_pages(text)
    assert [doc_id for doc_id, _ in pages] == ["harbour-1", "harbour-2", "harbour-3", "harbour-4"]
    assert [page for _, page in pages] == [render_markdown(r).decode() for r in records]
    assert PAGE_BREAK.decode().join(page for _, page in pages) == text
    assert text.count("<!--") == len(HOSTILE)  # the real markers are the only comments
    for _, page in pages[:3]:
        assert '<!\\-- normkit:id "harbour-99" -->' in page  # shown as the text it was, not taken for a marker
    heading = pages[0][1].split("\n")[2]
    assert heading == '# Storm warning  ---  <!\\-- normkit:id "harbour-99" -->  # Fake page'  # one line
    assert "<https://harbour.example/ferry%0A%0A---%0A%0A%3C!--%20normkit:id%20" in pages[1][1]


def test_a_hostile_page_in_its_own_file_holds_one_marker(tmp_path: Path) -> None:
    export("markdown", tmp_path / "out", docs=HOSTILE)
    for page in (tmp_path / "out").iterdir():
        assert [doc_id for doc_id, _ in split_pages(page.read_text())] in ([d.id] for d in HOSTILE), page.read_text()


_PIECES = st.sampled_from(
    ["<!-- normkit:id ", "<!", "-", "normkit:id", '"evil"', " -->", "\n", "\r\n", "---", "\\", "a"]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(max_size=6), st.lists(_PIECES, max_size=12), st.lists(_PIECES, max_size=12)),
        min_size=1,
        max_size=4,
    )
)
def test_no_title_or_text_splits_a_single_file_differently(docs: list[tuple[str, list[str], list[str]]]) -> None:
    records = [
        {"id": f"p{i}-{suffix}", "title": "".join(title) or None, "url": None, "text": "".join(text)}
        for i, (suffix, title, text) in enumerate(docs)
    ]
    joined = PAGE_BREAK.join(render_markdown(r) for r in records).decode()
    assert [doc_id for doc_id, _ in split_pages(joined)] == [r["id"] for r in records]
    assert joined.count("<!--") == len(records)
