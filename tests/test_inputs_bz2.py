"""bzip2 inputs (issue 14), read like gzip and zstd: by suffix, by magic number, on stdin, under the ratio cap."""

from __future__ import annotations

import bz2
import json
import random
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from normkit.cli import cli
from normkit.inputs import is_compressed, strip_compression

LINES = b'{"id": "b1", "text": "The tide turned at four."}\n\n{"id": "b2", "text": "Boats swung on their moorings."}\n'


def run(*args: str, stdin: bytes | None = None) -> tuple[int, list[dict[str, Any]], str]:
    result = CliRunner().invoke(cli, ["run", *args, "-q"], input=stdin, catch_exceptions=False)
    return result.exit_code, [orjson.loads(x) for x in result.stdout.splitlines() if x.strip()], result.stderr


def test_the_bz2_suffix_is_a_compression_suffix() -> None:
    assert strip_compression("crawl/part-0.jsonl.bz2") == ("crawl/part-0.jsonl", ".bz2")
    assert strip_compression("A.JSONL.BZ2") == ("A.JSONL", ".bz2")


@pytest.mark.parametrize(
    "name",
    [
        "part.jsonl.bz2",  # by suffix
        "part.jsonl",  # by magic number: compressed, without saying so
        "part.json.bz2",  # JSON Lines recognised by content, as .json.gz is
    ],
)
def test_bz2_json_lines_are_read_transparently(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(bz2.compress(LINES))
    assert is_compressed(str(path))  # planning never cuts it into byte ranges
    code, records, err = run(str(path), "-o", "-")
    assert code == 0, err
    assert [r["id"] for r in records] == ["b1", "b2"]
    assert [r["origin"]["line"] for r in records] == [1, 3]


def test_a_bz2_text_file_is_one_document(tmp_path: Path) -> None:
    (tmp_path / "note.txt.bz2").write_bytes(bz2.compress(b"Harbour notes\n\nThe crane was repaired on Friday.\n"))
    code, records, err = run(str(tmp_path / "note.txt.bz2"), "-o", "-")
    assert code == 0, err
    assert [r["text"] for r in records] == ["The crane was repaired on Friday."]


def test_every_stream_of_a_multi_stream_file_is_read(tmp_path: Path) -> None:
    """pbzip2 and ``cat a.bz2 b.bz2`` write several streams in one file."""
    second = b'{"id": "b3", "text": "The pier lights came on."}\n'
    (tmp_path / "cat.jsonl.bz2").write_bytes(bz2.compress(LINES) + bz2.compress(second))
    code, records, err = run(str(tmp_path / "cat.jsonl.bz2"), "-o", "-")
    assert code == 0, err
    assert [r["id"] for r in records] == ["b1", "b2", "b3"]


def test_stdin_bz2_is_recognised_by_its_magic_number() -> None:
    code, records, err = run("-", "-o", "-", stdin=bz2.compress(LINES))
    assert code == 0, err
    assert [r["id"] for r in records] == ["b1", "b2"]


def test_a_truncated_bz2_file_keeps_what_was_read_and_is_one_reject(tmp_path: Path) -> None:
    rng = random.Random(14)  # words that vary: bzip2 emits a block once it is whole, so several blocks are needed
    words = ["tide", "gull", "quay", "rope", "sail", "mast", "buoy", "crab"]
    data = b"".join(
        orjson.dumps({"id": f"t{i}", "text": " ".join(f"{rng.choice(words)}{rng.randrange(999)}" for _ in range(12))})
        + b"\n"
        for i in range(60_000)  # 7 MB: the engine reads 1 MiB at a time, and a read cut short is lost
    )
    packed = bz2.compress(data)
    (tmp_path / "cut.jsonl.bz2").write_bytes(packed[: len(packed) * 3 // 4])
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "cut.jsonl.bz2"), "-o", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 1, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())["documents"]
    assert report["read"] == report["written"] + report["rejected"] and report["rejected"] == 1
    assert 30_000 < report["written"] < 60_000
    (reject,) = [orjson.loads(x) for x in (tmp_path / "out" / "rejects.jsonl").read_bytes().splitlines()]
    assert "cannot read input" in reject["reason"]


def test_a_bz2_bomb_stops_at_the_ratio_cap(tmp_path: Path) -> None:
    record = b'{"text": "The bell rang at the hour, as it does every hour, all day long."}\n'
    (tmp_path / "bells.jsonl.bz2").write_bytes(bz2.compress(record * 40_000, 9))
    (tmp_path / "normkit.toml").write_text("[input]\nmax_compression_ratio = 20\n")
    args = [
        "run",
        str(tmp_path / "bells.jsonl.bz2"),
        "-o",
        str(tmp_path / "out"),
        "--config",
        str(tmp_path / "normkit.toml"),
    ]
    result = CliRunner().invoke(cli, [*args, "-q", "--executor", "inprocess"])
    assert result.exit_code == 1, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())["documents"]
    assert 0 < report["written"] < 40_000 and report["rejected"] == 1
    (reject,) = [orjson.loads(x) for x in (tmp_path / "out" / "rejects.jsonl").read_bytes().splitlines()]
    assert "input.max_compression_ratio = 20" in reject["reason"]


@pytest.mark.parametrize(
    "damage",
    [
        lambda second: b"XX" + second[2:],  # the second stream's magic overwritten
        lambda second: second + b"trailing bytes that are no stream",
    ],
    ids=["damaged-second-stream", "trailing-garbage"],
)
def test_bytes_after_a_stream_that_are_no_stream_are_a_reject_not_a_silent_end(tmp_path: Path, damage: Any) -> None:
    """bz2.BZ2File ends the file quietly there; gzip raises. Both are a reject now: nothing is lost unsaid."""
    first = bz2.compress(LINES)
    second = bz2.compress(b'{"id": "b3", "text": "The lighthouse keeper logged the storm."}\n')
    (tmp_path / "two.jsonl.bz2").write_bytes(first + damage(second))
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "two.jsonl.bz2"), "-o", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 1, result.output
    (reject,) = [orjson.loads(x) for x in (tmp_path / "out" / "rejects.jsonl").read_bytes().splitlines()]
    assert "not another stream" in reject["reason"]


def test_text_that_starts_like_the_bzip2_magic_is_text(tmp_path: Path) -> None:
    (tmp_path / "note.txt").write_text("BZh9 is how a bzip2 file begins, said the archivist to the apprentice.\n")
    assert not is_compressed(str(tmp_path / "note.txt"))
    code, records, _ = run(str(tmp_path / "note.txt"), "-o", "-", "--executor", "inprocess")
    assert code == 0 and "BZh9 is how" in (records[0]["title"] or "") + records[0]["text"]
