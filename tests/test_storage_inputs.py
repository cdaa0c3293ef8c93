"""Inputs named by URL (issue 14): fsspec's ``memory://`` for the rules, and a real S3 peer on loopback.

The S3 tests start moto's standalone server on 127.0.0.1 and read it through s3fs, as a user with an
S3-compatible store would: the endpoint and the credentials come from environment variables, so the pool's
worker processes, which open their shards themselves, find them too. They are skipped only when moto or s3fs is
not installed.
"""

from __future__ import annotations

import gzip
import itertools
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from conftest import needs_s3

from normkit import Config, run_batch
from normkit.cli import cli
from normkit.errors import ConfigError
from normkit.inputs import NoInputsError, check_inputs, discover, folder_source, plan_parts
from normkit.storage import is_url, object_digest, url_fs

fsspec = pytest.importorskip("fsspec")

_names = itertools.count()


def jsonl(*texts: str, prefix: str = "d") -> bytes:
    return b"".join(orjson.dumps({"id": f"{prefix}{i}", "text": text}) + b"\n" for i, text in enumerate(texts))


def records(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stderr


# -- memory:// : the rules, in process -----------------------------------------------------------------


@pytest.fixture
def memory() -> Iterator[str]:
    """A fresh ``memory://`` root holding a small crawl: two sites, a compressed file at the top, a dotfile."""
    fs = fsspec.filesystem("memory")
    root = f"/crawl{next(_names)}"
    fs.pipe(f"{root}/siteA/note.txt", b"The ferry left at dawn.\n")
    fs.pipe(f"{root}/siteA/.draft.txt", b"Not to be read.\n")
    fs.pipe(f"{root}/siteB/posts.jsonl", jsonl("Gulls followed it out.", "Rain by noon.", prefix="b"))
    fs.pipe(f"{root}/siteB/old/stale.txt", b"An old page.\n")
    fs.pipe(f"{root}/top.jsonl.gz", gzip.compress(jsonl("The harbour at night.", prefix="t")))
    yield f"memory://{root.lstrip('/')}"
    fs.rm(root, recursive=True)


def inprocess(inputs: list[str], out: Path, **input_table: Any) -> dict[str, Any]:
    config = Config.from_mapping({"run": {"executor": "inprocess"}, "input": input_table})
    run_batch(inputs, str(out), config, workers=1)
    return dict(orjson.loads((out / "report.json").read_bytes()))


def test_is_url_tells_urls_from_paths() -> None:
    assert all(map(is_url, ["s3://b/k", "memory://x", "file:///tmp/x", "simplecache::s3://b/k", "hf://d/r"]))
    assert not any(map(is_url, ["-", "data/x.jsonl", "/abs/x", r"C:\data\x.txt", "a:b", "x://"]))


def test_a_memory_prefix_is_walked_like_a_folder(memory: str, tmp_path: Path) -> None:
    report = inprocess([memory + "/"], tmp_path / "out")
    docs = records(tmp_path / "out" / "documents.jsonl")
    by_text = {doc["text"]: doc for doc in docs}
    assert set(by_text) == {
        "The harbour at night.",  # top.jsonl.gz, decompressed; a "folder's" objects before its subfolders
        "The ferry left at dawn.",
        "An old page.",
        "Gulls followed it out.",
        "Rain by noon.",
    }, "the dotfile is passed over"
    assert docs[0]["text"] == "The harbour at night."
    assert by_text["The ferry left at dawn."]["source"] == "siteA"
    assert by_text["An old page."]["source"] == "old"
    assert by_text["Rain by noon."]["origin"] == {"path": f"{memory}/siteB/posts.jsonl", "line": 2}
    assert by_text["The harbour at night."]["source"] == memory.removeprefix("memory://")  # the root's name
    assert report["documents"]["rejected"] == 0


def test_include_and_exclude_globs_match_keys_below_the_prefix(memory: str) -> None:
    def kept(include: tuple[str, ...] = (), exclude: tuple[str, ...] = ()) -> list[str]:
        return [shard.path.removeprefix(memory + "/") for shard in discover([memory], include, exclude)]

    assert kept() == ["top.jsonl.gz", "siteA/note.txt", "siteB/posts.jsonl", "siteB/old/stale.txt"]
    assert kept(include=("*.txt",)) == ["siteA/note.txt", "siteB/old/stale.txt"]
    assert kept(exclude=("old",)) == ["top.jsonl.gz", "siteA/note.txt", "siteB/posts.jsonl"]
    assert kept(include=("/siteB/*.jsonl",)) == ["siteB/posts.jsonl"]
    assert kept(exclude=("/*.gz", "siteA/")) == ["siteB/posts.jsonl", "siteB/old/stale.txt"]


def test_a_missing_url_among_inputs_is_one_reject(memory: str, tmp_path: Path) -> None:
    gone = f"{memory}/siteC/gone.jsonl"
    code, err = invoke(
        "run", f"{memory}/siteA/note.txt", gone, "-o", str(tmp_path / "out"), "-q", "--executor", "inprocess"
    )
    assert code == 1, err
    (reject,) = records(tmp_path / "out" / "rejects.jsonl")
    assert reject["origin"]["path"] == gone and reject["reason"] == "no such file or directory"
    assert [doc["origin"]["path"] for doc in records(tmp_path / "out" / "documents.jsonl")] == [
        f"{memory}/siteA/note.txt"
    ]


def test_nothing_at_a_url_is_no_inputs(memory: str) -> None:
    with pytest.raises(NoInputsError, match=r"'memory://nowhere/x.jsonl' does not exist"):
        check_inputs(["memory://nowhere/x.jsonl"])
    with pytest.raises(NoInputsError, match=r"is a folder with no file matching include = \['\*.parquet'\]"):
        check_inputs([memory], include=["*.parquet"])
    check_inputs(["memory://nowhere/x.jsonl", memory])  # one input exists: the other is a reject


def test_planning_lists_objects_and_reads_none(memory: str) -> None:
    shards = discover([memory])
    fs, _ = url_fs(memory)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("planning asked the store again")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(fs), "open", refuse)
        patch.setattr(type(fs), "info", refuse)
        parts = plan_parts(shards, 1 << 20, lambda path: True)
    assert [shard.path for part in parts for shard in part.shards] == [shard.path for shard in shards]
    assert all(shard.end is None for part in parts for shard in part.shards), "no byte ranges for URLs"
    assert sum(part.size for part in parts) == sum(shard.object_size or 0 for shard in shards) > 0


def test_the_metadata_digest_follows_the_content_not_the_listing() -> None:
    listed = {"Key": "b/k", "ETag": '"e1"', "Size": 5, "size": 5, "StorageClass": "STANDARD", "type": "file"}
    looked_up = {"ETag": '"e1"', "size": 5, "ContentType": "text/plain", "type": "file", "name": "b/k"}
    assert object_digest(listed) == object_digest(looked_up)
    assert object_digest(listed) != object_digest({**listed, "ETag": '"e2"'})


@pytest.mark.parametrize(
    ("url", "source"),
    [
        ("s3://bucket/siteA/x.jsonl", "siteA"),
        ("s3://bucket/x.jsonl", "bucket"),
        ("gs://bucket/a/b/siteB/x.jsonl.gz", "siteB"),
        ("https://example.org/dumps/x.txt?download=1", "dumps"),
        ("memory:///x.txt", "x"),
    ],
)
def test_a_url_gives_its_last_prefix_as_source(url: str, source: str) -> None:
    assert folder_source(url) == source


def test_a_backend_not_installed_is_one_line_naming_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "s3fs", None)  # importing s3fs fails
    monkeypatch.delitem(sys.modules["fsspec.registry"]._registry, "s3", raising=False)  # nor is it imported already
    with pytest.raises(ConfigError, match=r"^s3:// needs s3fs: pip install 'normkit\[s3\]'$"):
        url_fs("s3://bucket/key.jsonl")
    code, err = invoke("run", "s3://bucket/crawl/", "-o", str(tmp_path / "out"))
    assert code == 2
    assert err.strip().splitlines() == ["normkit: error: s3:// needs s3fs: pip install 'normkit[s3]'"]
    assert not (tmp_path / "out").exists()


# -- S3: moto's server on loopback (tests/conftest.py), read through s3fs ----------------------------------


@pytest.fixture
def bucket(s3_endpoint: str) -> Iterator[str]:
    """A new bucket holding a crawl of two sites and one object at the prefix's top."""
    fs, _ = url_fs("s3://")
    name = f"normkit-test-{os.getpid()}-{next(_names)}"
    fs.mkdir(name)
    fs.pipe(f"{name}/crawl/siteA/a.jsonl", jsonl("The ferry left at dawn.", "Gulls followed it out.", prefix="a"))
    fs.pipe(f"{name}/crawl/siteB/b.jsonl.gz", gzip.compress(jsonl("Rain by noon.", prefix="b")))
    fs.pipe(f"{name}/crawl/top.jsonl", jsonl("The harbour at night.", prefix="t"))
    fs.invalidate_cache()
    yield name
    fs.rm(name, recursive=True)


def s3_run(bucket: str, out: Path, *extra: str) -> tuple[int, str, dict[str, Any]]:
    """One part per object; no learning stage, whose state would tie every part to every input."""
    config = out.parent / "normkit.toml"
    config.write_text('pipeline = ["decode", "whitespace", "headline"]\n')
    args = ("run", f"s3://{bucket}/crawl/", f"s3://{bucket}/crawl/siteC/gone.jsonl", "-o", str(out), "-q")
    code, err = invoke(*args, "--config", str(config), "--shard-size", "1", *extra)
    return code, err, dict(orjson.loads((out / "report.json").read_bytes()))


def texts(out: Path) -> dict[str, tuple[str, str]]:
    return {doc["id"]: (doc["text"], doc["source"]) for doc in records(out / "documents.jsonl")}


@needs_s3
def test_s3_prefix_runs_resumes_and_redoes_a_replaced_object(bucket: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, err, report = s3_run(bucket, out, "--executor", "inprocess")
    assert code == 1, err  # the missing key is the one reject
    assert texts(out) == {
        "t0": ("The harbour at night.", "crawl"),
        "a0": ("The ferry left at dawn.", "siteA"),
        "a1": ("Gulls followed it out.", "siteA"),
        "b0": ("Rain by noon.", "siteB"),
    }
    (reject,) = records(out / "rejects.jsonl")
    assert reject["origin"]["path"] == f"s3://{bucket}/crawl/siteC/gone.jsonl"
    assert reject["reason"] == "no such file or directory"
    assert report["shards"]["total"] == 4 and report["shards"]["done"] == 4

    code, err, again = s3_run(bucket, out, "--executor", "inprocess")
    assert (code, again["shards"]["done"], again["shards"]["skipped"]) == (1, 0, 4), err

    fs, _ = url_fs("s3://")
    fs.pipe(f"{bucket}/crawl/siteA/a.jsonl", jsonl("The ferry came back at dusk.", prefix="a"))
    code, err, changed = s3_run(bucket, out, "--executor", "inprocess")
    assert (code, changed["shards"]["done"], changed["shards"]["skipped"]) == (1, 1, 3), err
    assert texts(out)["a0"] == ("The ferry came back at dusk.", "siteA") and "a1" not in texts(out)


@needs_s3
def test_s3_pool_workers_read_the_objects_themselves(bucket: str, tmp_path: Path) -> None:
    code, err, report = s3_run(bucket, tmp_path / "out", "--executor", "pool", "--workers", "2")
    assert code == 1, err
    assert report["documents"]["written"] == 4 and report["documents"]["rejected"] == 1
    assert texts(tmp_path / "out")["b0"] == ("Rain by noon.", "siteB")  # gzip from S3, in a worker


@needs_s3
def test_s3_endpoint_from_fsspec_configuration(s3_endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``FSSPEC_S3_ENDPOINT_URL`` is the other recipe: fsspec's own configuration, read when it is imported."""
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3")
    monkeypatch.setitem(fsspec.config.conf, "s3", {"endpoint_url": s3_endpoint})  # what the variable sets
    shards = discover([f"s3://{bucket}/crawl/siteA/"])
    assert [(shard.path, shard.object_size) for shard in shards] == [
        (
            f"s3://{bucket}/crawl/siteA/a.jsonl",
            len(jsonl("The ferry left at dawn.", "Gulls followed it out.", prefix="a")),
        )
    ]


@needs_s3
def test_s3_in_and_out_publishes_whole_objects_and_nothing_again(bucket: str, tmp_path: Path) -> None:
    """Output to a real S3 protocol server: the shards, rejects and report are published under the prefix,
    no temporary key or lock object is left, and a rerun that changed nothing sends only the report."""
    fs, _ = url_fs("s3://")
    config = tmp_path / "normkit.toml"
    config.write_text('pipeline = ["decode", "whitespace", "headline"]\n')
    args = ("run", f"s3://{bucket}/crawl/", "-o", f"s3://{bucket}/clean/", "-q", "--config", str(config))
    args += ("--shards", "--work-dir", str(tmp_path / "stage"), "--shard-size", "1")
    code, err = invoke(*args)
    assert code == 0, err
    fs.invalidate_cache()
    published = sorted(key.split("/clean/", 1)[1] for key in fs.find(f"{bucket}/clean"))
    assert published == [
        "documents/00000.jsonl.zst",
        "documents/00001.jsonl.zst",
        "documents/00002.jsonl.zst",
        "rejects.jsonl",
        "report.json",
    ]
    report = orjson.loads(fs.cat(f"{bucket}/clean/report.json"))
    assert report["output"] == f"s3://{bucket}/clean/" and report["documents"]["written"] == 4
    before = {key: fs.info(key)["ETag"] for key in fs.find(f"{bucket}/clean")}
    code, err = invoke(*args)
    assert code == 0, err
    fs.invalidate_cache()
    after = {key: fs.info(key)["ETag"] for key in fs.find(f"{bucket}/clean")}
    changed = {key.split("/clean/", 1)[1] for key in after if after[key] != before.get(key)}
    assert changed <= {"report.json"}
