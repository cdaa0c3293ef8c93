"""The text exporter: one .txt per document, named from its id made safe, always inside the folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from exporting_helpers import DOCS, export

from normkit import Document
from normkit.writers import safe_filename

HOSTILE_IDS = [
    "../../etc/passwd",
    "/etc/passwd",
    "C:\\Windows\\system32",
    "CON",
    "nul",
    "COM1",
    "con.txt",
    "LPT9.md",
    ".",
    "..",
    "...",
    "Case",
    "case",
    "CASE",
    "a" * 500,
    "ünï/cödé",
    "tab\tnew\nline",
]


def read_page(path: Path) -> tuple[str | None, str]:
    """Title and body back from a .txt page (the format: title, blank line, body)."""
    title, sep, body = path.read_bytes().decode().partition("\n\n")
    return (title, body.removesuffix("\n")) if sep else (None, title.removesuffix("\n"))


def test_round_trip_title_and_body(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    docs = [d for d in DOCS if d.title]  # without a title the page is only its body
    export("text", folder, docs=docs)
    pages = {path.name: read_page(path) for path in folder.iterdir()}
    assert pages == {safe_filename(d.id, ".txt"): (d.title, d.text.removesuffix("\n")) for d in docs}


def test_a_document_without_title_is_its_body(tmp_path: Path) -> None:
    export("text", tmp_path / "out", docs=[DOCS[1]])
    (page,) = (tmp_path / "out").iterdir()
    assert page.read_bytes().decode() == DOCS[1].text + "\n"


@pytest.mark.parametrize("doc_id", HOSTILE_IDS)
def test_a_hostile_id_gives_a_plain_name(doc_id: str) -> None:
    name = safe_filename(doc_id, ".txt")
    assert "/" not in name and "\\" not in name and not name.startswith(".")
    stem = name.split(".")[0]  # what Windows checks for reserved device names
    assert stem.upper() not in {
        "CON",
        "PRN",
        "AUX",
        "NUL",
        *(f"COM{i}" for i in range(10)),
        *(f"LPT{i}" for i in range(10)),
    }
    assert len(name) < 100


def test_hostile_ids_all_write_inside_the_folder_and_never_overwrite(tmp_path: Path) -> None:
    folder = tmp_path / "deep" / "out"
    docs = [Document(id=doc_id, title="t", text=doc_id) for doc_id in HOSTILE_IDS]
    export("text", folder, docs=docs)
    written = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert all(p.parent == folder for p in written)
    assert len(written) == len(HOSTILE_IDS)  # Case/case/CASE did not overwrite one another
    assert {read_page(p)[1] for p in written} == set(HOSTILE_IDS)
    # on a case-insensitive file system the names must differ by more than case
    assert len({p.name.lower() for p in written}) == len(written)


def test_the_same_id_twice_gives_two_files(tmp_path: Path) -> None:
    docs = [Document(id="dup", title="t", text="one"), Document(id="dup", title="t", text="two")]
    export("text", tmp_path / "out", docs=docs)
    assert sorted(read_page(p)[1] for p in (tmp_path / "out").iterdir()) == ["one", "two"]


def test_a_symlink_in_the_folder_is_not_followed(tmp_path: Path) -> None:
    folder, outside = tmp_path / "out", tmp_path / "outside.txt"
    folder.mkdir()
    outside.write_text("keep")
    (folder / safe_filename("x", ".txt")).symlink_to(outside)
    with pytest.raises(OSError):
        export("text", folder, docs=[Document(id="x", title="t", text="body")])
    assert outside.read_text() == "keep"
