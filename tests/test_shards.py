"""Sharded, compressed output (issue 14): ``documents/00000.jsonl.zst`` and so on, one copy of the data, names
that stay the same under resume, a size cap per file, and a folder that holds only what this run made."""

from __future__ import annotations

import gzip
import json
import os
import random
from pathlib import Path

import orjson
import pytest
import zstandard
from click.testing import CliRunner

from normkit import Config, run_batch, write_review
from normkit.cli import cli

WORDS = (
    *("river", "bridge", "market", "library", "orchard", "harbour", "council", "winter", "ferry", "lantern"),
    *("garden", "quarry", "meadow", "chapel", "station", "tailor", "baker", "ledger", "compass", "timber"),
    *("signal", "copper", "valley", "harvest"),
)
#: Dolma's ``added`` is the run's start unless set: a fixed one makes two runs' records comparable.
FIXED_ADDED = '[output.options]\nadded = "2024-01-01T00:00:00.000Z"\n'


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(12, 20))]
    return " ".join(words).capitalize() + "."


def make_inputs(folder: Path, files: int = 3, per_file: int = 40, seed: int = 5) -> Path:
    """JSON Lines files of varied invented prose, some lines a share bar the cleaner removes."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(files):
        rows = []
        for i in range(per_file):
            text = "\n\n".join(sentence(rng) for _ in range(3))
            if i % 4 == 0:
                text = "Share this article\n\n" + text
            rows.append({"id": f"f{number}-{i}", "text": text})
        (folder / f"part{number}.jsonl").write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    return folder


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["run", *args, "-q", "--shard-size", "4KB"], catch_exceptions=False)
    return result.exit_code, result.stderr


def shard_bytes(folder: Path) -> bytes:
    """The records of every shard, decompressed, in name order (which is input order)."""
    out = b""
    for path in sorted((folder / "documents").iterdir()):
        data = path.read_bytes()
        if path.suffix == ".zst":
            data = zstandard.ZstdDecompressor().decompressobj().decompress(data)
        elif path.suffix == ".gz":
            data = gzip.decompress(data)
        out += data
    return out


@pytest.mark.parametrize("fmt", ["jsonl", "dolma", "hf"])
def test_shards_hold_exactly_the_records_of_the_one_file_layout(tmp_path: Path, fmt: str) -> None:
    inputs = make_inputs(tmp_path / "in")
    (tmp_path / "normkit.toml").write_text(FIXED_ADDED if fmt == "dolma" else "")
    assert run(str(inputs), "-o", "one", "--format", fmt)[0] == 0
    assert run(str(inputs), "-o", "many", "--format", fmt, "--shards")[0] == 0
    (single,) = (tmp_path / "one").glob("documents.*")
    names = sorted(path.name for path in (tmp_path / "many" / "documents").iterdir())
    assert len(names) > 2 and all(name.endswith(f"{single.name.removeprefix('documents')}.zst") for name in names)
    assert names == [f"{i:05d}{single.name.removeprefix('documents')}.zst" for i in range(len(names))]
    assert shard_bytes(tmp_path / "many") == single.read_bytes()


def test_one_copy_of_the_data_once_the_run_is_done(tmp_path: Path) -> None:
    inputs = make_inputs(tmp_path / "in", files=4, per_file=60)
    assert run(str(inputs), "-o", "out", "--shards")[0] == 0
    parts = tmp_path / "out" / ".normkit" / "parts"
    assert not list(parts.glob("*.records.jsonl"))  # the parts' records became the shards
    assert max(path.stat().st_size for path in parts.iterdir()) < 2000  # markers and (empty) rejects only
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["documents"]["written"] == 240


def test_resume_reuses_the_shards_and_redoes_a_missing_one(tmp_path: Path) -> None:
    inputs = make_inputs(tmp_path / "in")
    assert run(str(inputs), "-o", "out", "--shards")[0] == 0
    documents = tmp_path / "out" / "documents"
    before = {path.name: path.read_bytes() for path in documents.iterdir()}
    assert run(str(inputs), "-o", "out", "--shards")[0] == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["shards"]["skipped"] == report["shards"]["total"] and report["documents"]["written"] == 120
    (documents / "00001.jsonl.zst").unlink()
    assert run(str(inputs), "-o", "out", "--shards")[0] == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["shards"]["done"] == 1 and report["documents"]["written"] == 120
    assert {path.name: path.read_bytes() for path in documents.iterdir()} == before


@pytest.mark.parametrize("compression", ["gz", "zst", "none"])
def test_a_size_cap_rolls_a_part_over_into_next_files_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compression: str
) -> None:
    """The cap is checked every ``CHUNK_BYTES`` of records (1 MiB); small here, so that small files roll."""
    monkeypatch.setattr("normkit.shards.CHUNK_BYTES", 300)
    inputs = make_inputs(tmp_path / "in", files=1, per_file=30)
    assert run(str(inputs), "-o", "one")[0] == 0
    args = ["--shards", "--max-file-size", "300", "--compression", compression]
    assert run(str(inputs), "-o", "capped", *args)[0] == 0
    suffix = {"gz": ".jsonl.gz", "zst": ".jsonl.zst", "none": ".jsonl"}[compression]
    names = sorted(path.name for path in (tmp_path / "capped" / "documents").iterdir())
    assert names[:3] == [f"00000{suffix}", f"00000_001{suffix}", f"00000_002{suffix}"]
    assert all(path.stat().st_size < 300 + 1500 for path in (tmp_path / "capped" / "documents").iterdir())
    assert shard_bytes(tmp_path / "capped") == (tmp_path / "one" / "documents.jsonl").read_bytes()


def test_parquet_shards_are_not_wrapped_in_a_compressor(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    inputs = make_inputs(tmp_path / "in")
    assert run(str(inputs), "-o", "out", "--format", "parquet", "--shards")[0] == 0
    paths = sorted((tmp_path / "out" / "documents").iterdir())
    assert paths and all(path.name.endswith(".parquet") for path in paths)
    assert sum(pq.read_table(path).num_rows for path in paths) == 120


def test_a_rerun_leaves_only_what_it_made(tmp_path: Path) -> None:
    inputs = make_inputs(tmp_path / "in")
    assert run(str(inputs), "-o", "out", "--shards")[0] == 0
    documents = tmp_path / "out" / "documents"
    many = len(list(documents.iterdir()))
    (tmp_path / "in" / "part2.jsonl").unlink()  # fewer inputs: fewer parts
    (tmp_path / "elsewhere").write_text("not normkit's")
    os.symlink(tmp_path / "elsewhere", documents / "99999.jsonl.zst")
    code, err = run(str(inputs), "-o", "out", "--shards", "--no-resume")
    assert code == 2 and "99999.jsonl.zst" in err  # a link among the shards: named, never followed nor kept
    assert (tmp_path / "elsewhere").read_text() == "not normkit's"
    (documents / "99999.jsonl.zst").unlink()
    assert run(str(inputs), "-o", "out", "--shards", "--no-resume")[0] == 0
    assert len(list(documents.iterdir())) < many
    assert run(str(inputs), "-o", "out")[0] == 0  # back to one file: the shards go
    assert not documents.exists() and (tmp_path / "out" / "documents.jsonl").is_file()
    assert run(str(inputs), "-o", "out", "--shards")[0] == 0  # and the one file goes for shards
    assert not (tmp_path / "out" / "documents.jsonl").exists()


def test_a_part_with_only_rejects_has_no_shard_and_resumes(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bad.jsonl").write_text('{"id": "x", "body": "no text"}\n')
    make_inputs(folder, files=1, per_file=5)
    code, _ = run(str(folder), "-o", "out", "--shards")
    assert code == 1
    assert run(str(folder), "-o", "out", "--shards")[0] == 1
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["shards"]["skipped"] == report["shards"]["total"]


def test_validate_checks_a_sharded_folder(tmp_path: Path) -> None:
    inputs = make_inputs(tmp_path / "in")
    assert run(str(inputs), "-o", "out", "--shards", "--format", "dolma")[0] == 0
    result = CliRunner().invoke(cli, ["validate", "out"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["-o", "-", "--shards"], "needs an output folder"),
        (["-o", "out", "--shards", "--format", "markdown"], "cannot write shards"),
    ],
)
def test_shards_need_a_folder_and_a_stream_format(tmp_path: Path, args: list[str], said: str) -> None:
    code, err = run(str(make_inputs(tmp_path / "in")), *args)
    assert code == 2 and said in err and len(err.strip().splitlines()) == 1


def test_a_linked_documents_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "target").mkdir()
    os.symlink(tmp_path / "target", tmp_path / "out" / "documents")
    code, err = run(str(make_inputs(tmp_path / "in")), "-o", "out", "--shards")
    assert code == 2 and "link" in err
    assert not list((tmp_path / "target").iterdir())


def test_shards_through_the_library(tmp_path: Path) -> None:
    inputs = make_inputs(tmp_path / "in")
    config = Config.from_mapping({"output": {"layout": "shards", "compression": "none"}, "run": {"shard_size": 4096}})
    result = run_batch([str(inputs)], str(tmp_path / "lib"), config, workers=1)
    assert result.stats.written == 120
    assert all(path.suffix == ".jsonl" for path in (tmp_path / "lib" / "documents").iterdir())


def test_the_review_page_reads_the_shards(tmp_path: Path) -> None:
    """The parts' records are gone once they are shards: ``normkit report`` reads the JSON Lines shards."""
    inputs = make_inputs(tmp_path / "in")
    assert run(str(inputs), "-o", "out", "--shards")[0] == 0
    page = write_review(tmp_path / "out").read_text(encoding="utf-8")
    assert page.count('data-rule="share-button"') >= 1 and "Share this article" in page


def test_fail_fast_with_shards_keeps_the_input_before_the_reject(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    rows = [{"id": "a", "text": "The first record is fine."}, {"id": "b", "body": "no text"}]
    rows.append({"id": "c", "text": "The third comes after the reject."})
    (folder / "x.jsonl").write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    code, err = run(str(folder), "-o", "out", "--shards", "--fail-fast")
    assert code == 1, err
    kept = [orjson.loads(line)["id"] for line in shard_bytes(tmp_path / "out").splitlines()]
    assert kept == ["a"]
    assert [
        orjson.loads(line)["doc_id"] for line in (tmp_path / "out" / "rejects.jsonl").read_bytes().splitlines()
    ] == ["b"]


def test_a_linked_attributes_folder_is_refused_and_nothing_behind_it_is_touched(tmp_path: Path) -> None:
    (tmp_path / "victim" / "normkit").mkdir(parents=True)
    (tmp_path / "victim" / "normkit" / "important.txt").write_text("precious")
    (tmp_path / "out").mkdir()
    os.symlink(tmp_path / "victim", tmp_path / "out" / "attributes")
    code, err = run(str(make_inputs(tmp_path / "in")), "-o", "out", "--shards")
    assert code == 2 and "attributes" in err and len(err.strip().splitlines()) == 1
    assert (tmp_path / "victim" / "normkit" / "important.txt").read_text() == "precious"
