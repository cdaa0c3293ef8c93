"""Output to object storage (issue 14): a run staged locally, then published to the URL through fsspec,
each object whole or not at all, under a lock object; tested on fsspec's ``memory://`` file system."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import fsspec
import pytest
from click.testing import CliRunner

from normkit.cli import cli
from normkit.publish import Publisher, is_url

PAGE = "Harbour notes\n\nThe ferry crossed the bay twice before noon, carrying more bicycles than anyone recalled.\n"


@pytest.fixture
def url() -> str:
    """A prefix of its own in the process-wide memory file system."""
    return f"memory://bucket-{uuid.uuid4().hex[:8]}/clean"


def inputs(tmp_path: Path, count: int = 3) -> str:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    for number in range(count):
        (folder / f"p{number}.txt").write_text(PAGE.replace("Harbour", f"Harbour {number}"))
    return str(folder)


def run(tmp_path: Path, url: str, *args: str) -> tuple[int, str]:
    argv = ["run", inputs(tmp_path), "-o", url, "--work-dir", str(tmp_path / "stage"), "-q", *args]
    result = CliRunner().invoke(cli, argv, catch_exceptions=False)
    return result.exit_code, result.output


def keys(url: str) -> list[str]:
    fs = fsspec.filesystem("memory")
    root = url.removeprefix("memory://")
    return sorted(key.removeprefix(f"/{root}/") for key in fs.find(root))


def test_a_run_to_a_url_publishes_its_output_folder(tmp_path: Path, url: str) -> None:
    code, output = run(tmp_path, url)
    assert code == 0, output
    assert keys(url) == ["documents.jsonl", "learned-boilerplate.json", "rejects.jsonl", "report.json"]
    with fsspec.open(f"{url}/report.json", "rb") as stream:
        report = json.load(stream)
    assert report["output"] == url and report["documents"]["written"] == 3
    with fsspec.open(f"{url}/documents.jsonl", "rb") as stream:
        assert len(stream.read().splitlines()) == 3


def test_a_rerun_that_changed_nothing_uploads_nothing(
    tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(tmp_path, url)[0] == 0
    sent: list[str] = []
    original = Publisher._put
    monkeypatch.setattr(Publisher, "_put", lambda self, path, rel: (sent.append(rel), original(self, path, rel)))
    assert run(tmp_path, url)[0] == 0
    assert sent == ["report.json"]  # its timings change with every run; the records do not


def test_the_prefix_holds_what_this_run_made_and_nothing_else_is_touched(tmp_path: Path, url: str) -> None:
    fs = fsspec.filesystem("memory")
    for key in ("notes/readme.txt", "report.json.bak", "documents-archive/keep.parquet", "learned-by-me.txt"):
        fs.pipe(f"{url.removeprefix('memory://')}/{key}", b"someone else's")
    assert run(tmp_path, url, "--shards")[0] == 0
    assert "documents/00000.jsonl.zst" in keys(url)
    assert run(tmp_path, url)[0] == 0  # back to one file: the shards go
    assert keys(url) == [
        "documents-archive/keep.parquet",
        "documents.jsonl",
        "learned-boilerplate.json",
        "learned-by-me.txt",
        "notes/readme.txt",
        "rejects.jsonl",
        "report.json",
        "report.json.bak",
    ]


def test_a_lock_held_by_another_run_is_one_line_and_an_expired_one_is_taken(tmp_path: Path, url: str) -> None:
    fs = fsspec.filesystem("memory")
    lock = f"{url.removeprefix('memory://')}/.normkit/lock.json"
    fs.pipe(lock, json.dumps({"owner": "elsewhere:1", "expires": time.time() + 600}).encode())
    code, output = run(tmp_path, url)
    assert code == 2 and "another normkit run (elsewhere:1) is writing here" in output
    assert len(output.strip().splitlines()) == 1 and "documents.jsonl" not in keys(url)
    fs.pipe(lock, json.dumps({"owner": "elsewhere:1", "expires": time.time() - 1}).encode())
    assert run(tmp_path, url)[0] == 0
    assert not fs.exists(lock)  # released at the end
    fs.pipe(lock, b'{"owner": "x", "expires": "soon"}')  # not a lock normkit wrote: it holds nothing
    assert run(tmp_path, url)[0] == 0


def test_an_object_that_cannot_be_published_is_one_line_and_never_half_there(
    tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: object, source: str, target: str) -> None:
        raise PermissionError("access denied")

    monkeypatch.setattr(type(fsspec.filesystem("memory")), "mv", refuse)
    code, output = run(tmp_path, url)
    assert code == 2 and output.startswith(f"normkit: error: {url}/") and "cannot publish" in output
    assert all(".normkit-tmp-" in key for key in keys(url))  # no final object; the lock released
    monkeypatch.undo()
    assert run(tmp_path, url)[0] == 0
    assert not [key for key in keys(url) if ".normkit-tmp-" in key]  # a failed run's temporary keys go


def test_a_backend_that_is_not_installed_names_its_extra(tmp_path: Path) -> None:
    pytest.importorskip("fsspec")
    try:
        import gcsfs  # noqa: F401
    except ImportError:
        code, output = run(tmp_path, "gs://bucket/clean")
        assert code == 2 and "pip install 'normkit[gcs]'" in output and len(output.strip().splitlines()) == 1
    else:  # pragma: no cover - a machine with gcsfs
        pytest.skip("gcsfs is installed here")


@pytest.mark.parametrize(
    ("target", "expected"),
    [("s3://b/k", True), ("memory://x", True), ("file:///tmp/x", False), ("out/", False), ("C:/x", False)],
)
def test_what_counts_as_a_url(target: str, expected: bool) -> None:
    assert is_url(target) is expected
