"""What ``normkit run`` writes for Hugging Face loads with ``datasets`` as it is, from local files only.

``--format hf`` (JSON Lines) and ``--format parquet`` with ``shape = "hf"`` are both read by ``load_dataset``'s
packaged builders (``json``, ``parquet``) with no loading script and no conversion; the one difference is the
``metadata`` column, a struct in JSON Lines and a JSON string in Parquet (an open object has no Arrow type).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from normkit.cli import cli

datasets = pytest.importorskip("datasets")

PAGES = [
    {
        "id": "allotment-1",
        "title": "Allotment waiting list shrinks",
        "url": "https://gazette.example.net/allotments",
        "text": "2 min read\n\nThe waiting list for allotments in the parish has fallen by half since the council "
        "opened a second site by the railway.\n\nShare this article",
        "section": "community",
    },
    {
        "id": "choir-2",
        "url": "https://gazette.example.net/choir",
        "text": "The village choir sang at the cathedral for the first time in its eighty years, to a full nave."
        "\n\nPhoto: Jane Doe/Agency",
        "section": "arts",
    },
    {
        "id": "bridge-3",
        "title": "Footbridge closes for repairs",
        "text": "The footbridge over the canal will close for six weeks while its timber deck is replaced.",
        "section": "roads",
    },
]
EXPECTED_TEXT = {
    "allotment-1": "The waiting list for allotments in the parish has fallen by half since the council opened a "
    "second site by the railway.",
    "choir-2": "The village choir sang at the cathedral for the first time in its eighty years, to a full nave.",
    "bridge-3": "The footbridge over the canal will close for six weeks while its timber deck is replaced.",
}


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No network and no home cache: the flags as the environment sets them and as the imported modules read
    them (both libraries read the environment once, at import), and a cache folder of the test's own."""
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setattr("datasets.config.HF_DATASETS_OFFLINE", True, raising=False)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True, raising=False)
    return tmp_path / "hf-cache"


def run(tmp_path: Path, *args: str, config: str = "") -> Path:
    """``normkit run`` over :data:`PAGES` with ``args``; the output folder."""
    source = tmp_path / "pages.jsonl"
    source.write_bytes(b"".join(orjson.dumps(page) + b"\n" for page in PAGES))
    (tmp_path / "normkit.toml").write_text(config)
    out = tmp_path / "out"
    command = ["run", str(source), "-o", str(out), "--config", str(tmp_path / "normkit.toml"), "-q", *args]
    result = CliRunner().invoke(cli, [*command, "--executor", "inprocess"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


def check_rows(dataset: Any, metadata_of: Any) -> None:
    """Three rows in input order, the hf columns in order, the cleaned text, and the metadata as it went in."""
    assert dataset.num_rows == len(PAGES)
    assert dataset.column_names == ["text", "id", "metadata"]
    assert dataset["id"] == [page["id"] for page in PAGES]
    for row, page in zip(dataset, PAGES, strict=True):
        assert row["text"] == EXPECTED_TEXT[page["id"]]
        metadata = metadata_of(row["metadata"])
        assert metadata["section"] == page["section"]
        assert metadata["title"] == (page.get("title") or None)
        assert metadata["url"] == page.get("url")


def test_hf_json_lines_load_as_a_dataset(tmp_path: Path, offline: Path) -> None:
    out = run(tmp_path, "--format", "hf")
    files = str(out / "documents.hf.jsonl")
    dataset = datasets.load_dataset("json", data_files=files, split="train", cache_dir=str(offline))
    check_rows(dataset, lambda metadata: metadata)  # a struct: every key of every row, None where absent
    assert set(dataset.features["metadata"]) == {"section", "source", "title", "url"}


def test_hf_parquet_loads_as_a_dataset(tmp_path: Path, offline: Path) -> None:
    pytest.importorskip("pyarrow")
    out = run(tmp_path, config='[output]\nformat = "parquet"\noptions = { shape = "hf" }\n')
    files = str(out / "documents.hf.parquet")
    dataset = datasets.load_dataset("parquet", data_files=files, split="train", cache_dir=str(offline))
    assert dataset.features["metadata"].dtype == "string"  # normkit's JSON string column for an open object
    check_rows(dataset, json.loads)


def test_edits_asked_for_come_along(tmp_path: Path, offline: Path) -> None:
    out = run(tmp_path, "--format", "hf", config="[output.options]\nedits = true\nflags = true\n")
    files = str(out / "documents.hf.jsonl")
    dataset = datasets.load_dataset("json", data_files=files, split="train", cache_dir=str(offline))
    # an edit leaves out the fields it does not use (a blank line's removal has no "before"): read them with get
    edits = [edit for row in dataset for edit in row["metadata"]["edits"]]
    removed = {edit.get("before") for edit in edits if edit["action"] == "removed"}
    assert {"2 min read", "Share this article", "Photo: Jane Doe/Agency"} <= removed


@pytest.mark.parametrize(
    ("builder", "args", "pattern"),
    [
        ("json", ["--format", "hf", "--shards"], "documents/*.hf.jsonl.zst"),
        ("parquet", ["--shards", "--shard-size", "1"], "documents/*.hf.parquet"),
    ],
)
def test_shards_load_as_one_dataset_in_input_order(
    tmp_path: Path, offline: Path, builder: str, args: list[str], pattern: str
) -> None:
    """``documents/00000...``: a glob over the shards is the dataset, rows in input order."""
    pytest.importorskip("pyarrow")
    config = '[output]\nformat = "parquet"\noptions = { shape = "hf" }\n' if builder == "parquet" else ""
    out = run(tmp_path, *args, config=config)
    files = sorted(str(path) for path in out.glob(pattern))
    assert files
    dataset = datasets.load_dataset(builder, data_files=files, split="train", cache_dir=str(offline))
    check_rows(dataset, json.loads if builder == "parquet" else (lambda metadata: metadata))


def test_the_shards_folder_loads_by_name_as_the_train_split(tmp_path: Path, offline: Path) -> None:
    """``load_dataset("OUT/documents")``: datasets infers the Parquet builder from the files and, as their names
    carry no split, puts them all in ``train``, in name order, which is input order."""
    pytest.importorskip("pyarrow")
    config = '[output]\nformat = "parquet"\noptions = { shape = "hf" }\n'
    out = run(tmp_path, "--shards", "--shard-size", "1", config=config)
    assert len(list((out / "documents").glob("*.hf.parquet"))) > 1
    loaded = datasets.load_dataset(str(out / "documents"), cache_dir=str(offline))
    assert list(loaded) == ["train"]
    check_rows(loaded["train"], json.loads)
