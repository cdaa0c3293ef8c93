"""Inputs are read as the user meant (issue 13): no inputs is an error, ``--input-format`` and content sniffing,
a source that does not depend on how the path was typed, and gitignore-style include/exclude globs."""

from __future__ import annotations

import gzip
import io
import json
import sys
from pathlib import Path

import orjson
import pytest
import zstandard
from click.testing import CliRunner

from normkit import Config, Document, Pipeline, run_batch
from normkit.cli import cli
from normkit.inputs import NoInputsError, discover, folder_source, glob_matches

LINES = b'{"id": "r1", "text": "The ferry left at dawn."}\n\n{"id": "r2", "text": "Gulls followed it out."}\n'


def invoke(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def records(out: str) -> list[dict]:
    return [orjson.loads(line) for line in out.splitlines() if line.strip()]


# -- 1. no inputs is an error -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "said"),
    [
        (["nope.jsonl"], "'nope.jsonl' does not exist"),
        (["memory://nowhere/key.jsonl"], "'memory://nowhere/key.jsonl' does not exist"),
        (["data/*.jsonl"], "glob that matched nothing"),
        (["empty"], "'empty' is a folder with no file"),
    ],
)
def test_nothing_to_read_is_exit_2_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: list[str], said: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    code, _, err = invoke("run", *given, "-o", "out")
    assert code == 2, err
    assert "no inputs found" in err and said in err
    assert not (tmp_path / "out").exists()


def test_include_globs_that_match_nothing_are_no_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "note.txt").write_text("A note.\n")
    (tmp_path / "normkit.toml").write_text('[input]\ninclude = ["*.jsonl"]\n')
    code, _, err = invoke("run", "in", "-o", "out", "--config", "normkit.toml")
    assert code == 2 and "no inputs found" in err and "include" in err
    with pytest.raises(NoInputsError, match="no inputs found"):  # the library says the same
        run_batch(["in"], str(tmp_path / "lib"), Config.from_mapping({"input": {"include": ["*.jsonl"]}}), workers=1)
    assert not (tmp_path / "lib" / "documents.jsonl").exists()


def test_a_missing_file_beside_one_that_exists_stays_a_reject(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("here.txt").write_text("Harbour notes.\n")
    code, _, err = invoke("run", "here.txt", "gone.txt", "-o", "out", "-q")
    assert code == 1, err
    (reject,) = records(Path("out/rejects.jsonl").read_text())
    assert "no such file or directory" in json.dumps(reject)


# -- 2. --input-format and sniffing -------------------------------------------------------------------


@pytest.mark.parametrize("pack", [lambda b: b, gzip.compress, lambda b: zstandard.ZstdCompressor().compress(b)])
def test_stdin_json_lines_are_sniffed_and_decompressed(pack) -> None:  # type: ignore[no-untyped-def]
    code, out, err = invoke("run", "-", "-o", "-", "-q", stdin=pack(LINES))
    assert code == 0, err
    assert [r["id"] for r in records(out)] == ["r1", "r2"]
    assert [r["origin"]["line"] for r in records(out)] == [1, 3]


def test_input_format_text_keeps_stdin_one_document() -> None:
    code, out, err = invoke("run", "-", "-o", "-", "-q", "--input-format", "text", stdin=LINES)
    assert code == 0, err
    assert len(records(out)) == 1


def test_input_format_jsonl_reads_any_suffix_as_lines(tmp_path: Path) -> None:
    (tmp_path / "dump.txt").write_bytes(LINES)
    code, out, err = invoke("run", str(tmp_path / "dump.txt"), "-o", "-", "-q", "--input-format", "jsonl")
    assert code == 0, err
    assert [r["id"] for r in records(out)] == ["r1", "r2"]


def test_input_format_auto_overrides_a_configured_loader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("normkit.toml").write_text('[input]\nloader = "text"\n')
    Path("a.jsonl").write_bytes(LINES)
    code, out, _ = invoke("run", "a.jsonl", "-o", "-", "-q", "--config", "normkit.toml", "--input-format", "auto")
    assert code == 0 and len(records(out)) == 2


@pytest.mark.parametrize(
    ("name", "data", "documents"),
    [
        ("c.json.gz", gzip.compress(LINES), 2),  # Dolma's documents/*.json.gz
        ("c.json", LINES, 2),
        ("one.json", b'{"text": "A single line object."}\n', 1),
        ("array.json", b'[{"text": "a"},\n {"text": "b"}]\n', 1),  # stays text: one document
        ("pretty.json", b'{\n  "text": "pretty"\n}\n', 1),
    ],
)
def test_json_files_holding_json_lines_are_read_as_lines(
    tmp_path: Path, name: str, data: bytes, documents: int
) -> None:
    (tmp_path / name).write_bytes(data)
    code, out, err = invoke("run", str(tmp_path / name), "-o", "-", "-q")
    assert code == 0, err
    got = records(out)
    assert len(got) == documents
    if name.startswith("c."):
        assert [r["text"] for r in got] == ["The ferry left at dawn.", "Gulls followed it out."]
    elif name != "one.json":
        assert got[0]["origin"].get("line") is None  # the whole file, as text


# -- 3. the source key --------------------------------------------------------------------------------


def test_the_folder_source_does_not_depend_on_how_the_path_was_typed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, normkit_pm
) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    data.mkdir()
    (data / "small.txt").write_text("A quay in the rain.\n")
    pipeline = Pipeline(Config.from_mapping({"pipeline": ["decode"]}), pm=normkit_pm)
    sources = set()
    for cwd, typed in [
        (data, "small.txt"),
        (data, "./small.txt"),
        (tmp_path, "data/small.txt"),
        (data, "../data/small.txt"),
    ]:
        monkeypatch.chdir(cwd)
        (shard,) = discover([typed])
        (doc,) = pipeline.load(shard)
        assert isinstance(doc, Document)
        sources.add(doc.source)
    assert sources == {"data"}
    assert folder_source("/top.jsonl") == "top"  # a file at the root: never empty


# -- 4. gitignore-style globs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("sub/*", "siteB/sub/x", True),
        ("sub/*", "sub/x", True),
        ("/sub/*", "siteB/sub/x", False),
        ("/sub/*", "sub/x", True),
        ("sub", "siteB/sub/deep/x", True),
        ("sub/", "siteB/sub/x", True),
        ("sub/", "siteB/sub", False),  # a file named sub: the trailing slash wants a folder
        ("*.txt", "a/b/c.txt", True),
        ("*.txt", "a/b/c.jsonl", False),
        ("a/*.txt", "a/b/c.txt", False),  # * never crosses a /
        ("a/**/*.txt", "a/b/c.txt", True),
        ("a/**/*.txt", "a/c.txt", True),
    ],
)
def test_glob_matching_is_gitignore_style(pattern: str, path: str, matches: bool) -> None:
    assert glob_matches(pattern, path) is matches


def test_exclude_sub_excludes_it_at_any_depth(tmp_path: Path) -> None:
    for rel in ["siteA/keep.txt", "siteB/sub/x.txt", "sub/y.txt", "siteB/subway/z.txt"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("text\n")
    kept = sorted(Path(s.path).relative_to(tmp_path).as_posix() for s in discover([str(tmp_path)], (), ["sub/*"]))
    assert kept == ["siteA/keep.txt", "siteB/subway/z.txt"]
    anchored = discover([str(tmp_path)], (), ["/sub/*"])
    assert sorted(Path(s.path).relative_to(tmp_path).as_posix() for s in anchored) == [
        "siteA/keep.txt",
        "siteB/sub/x.txt",
        "siteB/subway/z.txt",
    ]


def test_stdin_is_decompressed_in_the_library(monkeypatch: pytest.MonkeyPatch, normkit_pm) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(gzip.compress(b"Plain words from a pipe."))))
    pipeline = Pipeline(Config.from_mapping({"pipeline": ["decode"]}), pm=normkit_pm)
    (doc,) = pipeline.load(discover(["-"])[0])
    assert isinstance(doc, Document) and doc.raw == b"Plain words from a pipe."


def test_the_library_makes_nothing_in_the_output_folder_when_there_is_nothing_to_read(tmp_path: Path) -> None:
    with pytest.raises(NoInputsError, match="does not exist"):
        run_batch([str(tmp_path / "missing.txt")], str(tmp_path / "out"), Config())
    assert not (tmp_path / "out").exists(), "not even OUT/.normkit"
