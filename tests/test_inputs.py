"""Loaders and inputs: text files, folders, JSON Lines, stdin, compression, and every bad input."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

from normkit import Config, ConfigError, Document, Pipeline, Reject, get_plugin_manager
from normkit.inputs import discover


@pytest.fixture
def pipeline(normkit_pm) -> Pipeline:
    return Pipeline(Config.from_mapping({"pipeline": ["decode", "whitespace"]}), pm=normkit_pm)


def load_all(pipeline: Pipeline, *paths: str | Path, **input_config: object) -> list[Document | Reject]:
    pipeline.config.input.update(input_config)
    shards = discover([str(p) for p in paths], input_config.get("include", ()), input_config.get("exclude", ()))
    return [item for shard in shards for item in pipeline.load(shard)]


def jsonl_pipeline(fields: dict[str, str]) -> Pipeline:
    config = Config.from_mapping({"input": {"loaders": {"jsonl": {"fields": fields}}}})
    return Pipeline(config, pm=get_plugin_manager(load_entrypoints=False))


def test_the_old_input_fields_key_says_where_it_went() -> None:
    with pytest.raises(ConfigError, match=r"input.fields: this option is now \[input.loaders.jsonl\] fields"):
        Config.from_mapping({"input": {"fields": {"id": "doc_id"}}})


def test_a_misspelt_field_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"input.loaders.jsonl.fields: .*'tittle' was unexpected"):
        jsonl_pipeline({"tittle": "headline"}).loader_for("x.jsonl")


def test_folder_is_walked_recursively_with_include_and_exclude(tmp_path: Path, pipeline: Pipeline) -> None:
    for rel in ["a/x.txt", "a/b/y.txt", "a/b/z.md", "a/.hidden.txt", "a/skip/w.txt"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("hello")
    items = load_all(pipeline, tmp_path / "a", include=["*.txt"], exclude=["skip/*"])
    assert [Path(d.origin.path).name for d in items] == ["x.txt", "y.txt"]


def test_text_file_id_is_stable_and_source_is_the_folder(tmp_path: Path, pipeline: Pipeline) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "doc.txt").write_bytes(b"caf\xc3\xa9")
    (first,) = load_all(pipeline, tmp_path / "site" / "doc.txt")
    (second,) = load_all(pipeline, tmp_path / "site" / "doc.txt")
    assert first.id == second.id and first.raw == b"caf\xc3\xa9" and first.source == "site"


def test_jsonl_field_mapping_metadata_and_url_source(tmp_path: Path, pipeline: Pipeline) -> None:
    path = tmp_path / "in.jsonl"
    record = {"doc_id": 7, "body": "Text.", "headline": "T", "link": "https://www.example.com/a", "lang": "en"}
    path.write_bytes(orjson.dumps(record) + b"\n")
    fields = {"id": "doc_id", "text": "body", "title": "headline", "url": "link"}
    (doc,) = load_all(jsonl_pipeline(fields), path)
    assert (doc.id, doc.text, doc.title, doc.source) == ("7", "Text.", "T", "example.com")
    assert doc.metadata == {"lang": "en"} and doc.origin.line == 1


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"text": "ok"', "malformed JSON"),
        (b"[1, 2]", "a JSON object is expected, got list"),
        (b'{"id": "x"}', "text field 'text' is missing"),
        (b'{"id": "x", "text": 5}', "text field 'text' is not a string (int)"),
    ],
)
def test_bad_jsonl_lines_are_rejected_with_file_and_line(
    tmp_path: Path, pipeline: Pipeline, line: bytes, reason: str
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"text": "good"}\n' + line + b"\n\n" + b'{"text": "good too"}\n')
    items = load_all(pipeline, path)
    assert [type(i).__name__ for i in items] == ["Document", "Reject", "Document"]
    reject = items[1]
    assert reject.origin.line == 2 and reason in reject.reason
    assert reject.message().startswith(f"{path}:2")


def test_missing_and_empty_files_are_rejects(tmp_path: Path, pipeline: Pipeline) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    missing, empty = load_all(pipeline, tmp_path / "nope.txt", tmp_path / "empty.txt")
    assert "no such file" in missing.reason and "empty file" in empty.reason


@pytest.mark.parametrize("suffix", [".gz", ".zst"])
def test_compressed_jsonl_and_text(tmp_path: Path, pipeline: Pipeline, suffix: str) -> None:
    compress = gzip.compress if suffix == ".gz" else zstandard.ZstdCompressor().compress
    (tmp_path / f"a.jsonl{suffix}").write_bytes(compress(b'{"text": "one"}\n{"text": "two"}\n'))
    (tmp_path / f"b.txt{suffix}").write_bytes(compress(b"three"))
    items = load_all(pipeline, tmp_path / f"a.jsonl{suffix}", tmp_path / f"b.txt{suffix}")
    assert [i.text or i.raw for i in items] == ["one", "two", b"three"]


@pytest.mark.parametrize("suffix", [".gz", ".zst"])
def test_unreadable_compressed_file_is_a_reject_naming_it(tmp_path: Path, pipeline: Pipeline, suffix: str) -> None:
    compress = gzip.compress if suffix == ".gz" else zstandard.ZstdCompressor().compress
    data = compress(b'{"text": "one"}\n' * 1000)
    path = tmp_path / f"bad.jsonl{suffix}"
    path.write_bytes(data[: len(data) // 2])
    items = load_all(pipeline, path)
    assert isinstance(items[-1], Reject) and "cannot read input" in items[-1].reason
    assert items[-1].origin.path == str(path)
    assert all(isinstance(i, Document) for i in items[:-1])


def test_stdin(monkeypatch: pytest.MonkeyPatch, pipeline: Pipeline) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"from stdin")))
    (doc,) = load_all(pipeline, "-")
    assert doc.raw == b"from stdin" and doc.origin.path == "-"


def test_jsonl_declared_encoding_field_decodes_raw_text(tmp_path: Path, pipeline: Pipeline) -> None:
    """Raw bytes carried as latin-1 code points plus a declared encoding: the decode stage uses it."""
    raw = "Привет, мир".encode("cp1251")
    record = {"id": "r", "text": raw.decode("latin-1"), "charset": "cp1251"}
    (tmp_path / "in.jsonl").write_bytes(orjson.dumps(record) + b"\n")
    (doc,) = load_all(jsonl_pipeline({"encoding": "charset"}), tmp_path / "in.jsonl")
    assert doc.raw == raw and "charset" not in doc.metadata
    decoded = pipeline.process(doc)
    assert decoded.text == "Привет, мир"
    assert (decoded.decoding["encoding"], decoded.decoding["method"]) == ("cp1251", "forced")


URL_PARTS = st.sampled_from(
    [
        "https:",
        "http:",
        "",
        "//",
        "/",
        "www.Example.com",
        "user@host",
        ":8080",
        "?q=/x",
        "#a/b",
        "[::1]",
        "[",
        "news",
        "a.b",
    ]
)


@given(st.lists(URL_PARTS, max_size=7).map("".join))
def test_url_host_is_urlsplit_hostname(url: str) -> None:
    """url_host cuts the URL before its path and caches by that head: the answer (or error) must not change."""
    from urllib.parse import urlsplit

    from normkit.inputs import url_host

    def outcome(get: object) -> object:
        try:
            return get(url)  # type: ignore[operator]
        except ValueError as exc:
            return type(exc)

    assert outcome(url_host) == outcome(lambda u: urlsplit(u).hostname)


# -- issue 12: planning faults, caps and JSON Lines corners, close up (the batch-level tests are in
# test_faults_inputs.py) ------------------------------------------------------------------------------


def _soon(step):  # type: ignore[no-untyped-def]
    """``step()`` in a thread, failing if it takes over 30 s: a FIFO must never block planning."""
    import threading

    box: dict[str, object] = {}
    thread = threading.Thread(target=lambda: box.setdefault("value", step()), daemon=True)
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "blocked"
    return box["value"]


def test_planning_rejects_a_file_that_changed_since_discovery_and_still_cuts_ranges(tmp_path: Path) -> None:
    import os

    from normkit.inputs import plan_parts

    lines = b"".join(orjson.dumps({"text": f"Entry {i} of the ship's log."}) + b"\n" for i in range(40))
    for name in ("log.jsonl", "gone.jsonl", "swapped.jsonl"):
        (tmp_path / name).write_bytes(lines)
    shards = discover([str(tmp_path / n) for n in ("log.jsonl", "gone.jsonl", "swapped.jsonl")])
    (tmp_path / "gone.jsonl").unlink()
    (tmp_path / "swapped.jsonl").unlink()
    os.mkfifo(tmp_path / "swapped.jsonl")  # a FIFO where a file was: opened without blocking, refused
    parts = _soon(lambda: plan_parts(shards, 256, lambda _: True))
    pieces = [shard for part in parts for shard in part.shards]
    problems = {Path(s.path).name: s.problem for s in pieces if s.problem}
    assert problems == {
        "gone.jsonl": "cannot read input: No such file or directory",
        "swapped.jsonl": "not a regular file but a FIFO (named pipe): pipe it to standard input as '-' instead",
    }
    ranges = [s for s in pieces if s.path.endswith("log.jsonl")]
    assert len(ranges) > 5 and sum(s.size for s in ranges) == len(lines)
    assert all(s.size == 0 and s.missing for s in pieces if s.problem)


def test_a_name_that_is_not_utf8_is_shown_escaped(tmp_path: Path) -> None:
    import os

    from normkit.inputs import shown_path

    raw = os.fsencode(tmp_path) + b"/na\xefve.txt"
    with open(raw, "wb") as fh:
        fh.write(b"text")
    (shard,) = discover([str(tmp_path)])
    assert shard.path == f"{tmp_path}/na\\xefve.txt" and "not UTF-8" in (shard.problem or "")
    assert shown_path("plain/name.txt") == "plain/name.txt"


def test_a_zstd_bomb_is_decompressed_a_bounded_piece_at_a_time() -> None:
    """zstd stores 128 KiB of zeros in 4 bytes: fed whole, 6 KB of input would come out as 200 MB at once."""
    import io
    import tracemalloc

    from normkit.inputs import _decompressing

    compressor = zstandard.ZstdCompressor().compressobj()
    data = b"".join(compressor.compress(bytes(1 << 20)) for _ in range(64)) + compressor.flush()
    assert len(data) < 4096
    tracemalloc.start()
    try:
        with _decompressing(io.BytesIO(data), "zeros.zst") as stream:
            total = sum(len(piece) for piece in iter(lambda: stream.read(1 << 20), b""))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total == 64 << 20 and peak < 16 << 20


def test_the_ratio_cap_leaves_small_and_ordinary_files_alone() -> None:
    import io

    from normkit.inputs import InputLimitError, _decompressing

    small = gzip.compress(bytes(1 << 19))  # 1000:1, but only 512 KiB out: under the floor
    with _decompressing(io.BytesIO(small), "small.gz", max_ratio=2) as stream:
        assert len(stream.read()) == 1 << 19
    big = gzip.compress(bytes(4 << 20))
    expected = r"big.gz expands to more than 2 times .*input.max_compression_ratio"
    with pytest.raises(InputLimitError, match=expected), _decompressing(io.BytesIO(big), "big.gz", 2) as stream:
        stream.read()


@pytest.mark.parametrize("cap", [1, 8, 30])
def test_the_per_line_cap_is_exact_at_the_boundary(tmp_path: Path, cap: int) -> None:
    """A line of ``cap`` bytes (newline not counted) is read; one byte more is a reject; the next line is read."""
    pipeline = Pipeline(Config.from_mapping({"pipeline": [], "input": {"max_document_bytes": cap}}))
    loader = pipeline.loader_for("x.jsonl")
    at, over = b"x" * cap, b"y" * (cap + 1)
    import io

    stream = io.BufferedReader(io.BytesIO(at + b"\n" + over + b"\n" + at + b"\n" + over))  # type: ignore[arg-type]
    items = list(loader.load(stream, "x.jsonl"))
    assert [(i.origin.line, "longer than input.max_document_bytes" in getattr(i, "reason", "")) for i in items] == [
        (1, False),
        (2, True),
        (3, False),
        (4, True),
    ]


@pytest.mark.parametrize(("size", "kept"), [(16, True), (17, False)])
def test_the_text_cap_is_exact_at_the_boundary(tmp_path: Path, size: int, kept: bool) -> None:
    (tmp_path / "note.txt").write_bytes(b"n" * size)
    pipeline = Pipeline(Config.from_mapping({"pipeline": [], "input": {"max_document_bytes": 16}}))
    (item,) = load_all(pipeline, tmp_path / "note.txt")
    assert isinstance(item, Document) is kept


def test_a_bom_is_dropped_and_a_big_id_kept_exact(tmp_path: Path, pipeline: Pipeline) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"id": 340282366920938463463374607431768211457, "text": "Sixteen bytes of id."}\n')
    (doc,) = load_all(pipeline, path)
    assert doc.id == "340282366920938463463374607431768211457" and doc.origin.line == 1
