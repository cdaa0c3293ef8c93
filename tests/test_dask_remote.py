"""Dask workers that share no files with the run: they read their inputs by URL and send their parts back.

A real ``LocalCluster`` of two worker processes stands in for a cluster on other machines: each worker gets an
audit hook (``sys.addaudithook``) that refuses, and records, every file operation under the test's guarded
folder, where the run's output goes. The inputs are objects on moto's S3 server on 127.0.0.1 (the fixtures
in ``conftest.py``), read through s3fs by the workers themselves.
"""

from __future__ import annotations

import gzip
import itertools
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from normkit.cli import cli
from normkit.storage import url_fs

distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

# the worker processes cannot import this module: what they run from it (the guard) is sent by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])

pytestmark = pytest.mark.dask

_names = itertools.count()

#: audit events that read, write, move or delete a file or folder by name
_FILE_EVENTS = frozenset(
    {
        "open",
        "os.chmod",
        "os.link",
        "os.listdir",
        "os.mkdir",
        "os.remove",
        "os.rename",
        "os.rmdir",
        "os.scandir",
        "os.symlink",
        "os.truncate",
        "os.utime",
        "shutil.chown",
        "shutil.copyfile",
        "shutil.copymode",
        "shutil.copystat",
        "shutil.copytree",
        "shutil.make_archive",
        "shutil.move",
        "shutil.rmtree",
        "shutil.unpack_archive",
    }
)


class GuardFolder(distributed.WorkerPlugin):
    """In each worker, refuse (``PermissionError``) and record every file operation under ``prefixes``."""

    name = "normkit-test-guard"

    def __init__(self, prefixes: list[str]) -> None:
        self.prefixes = prefixes

    def setup(self, worker: Any) -> None:
        worker.normkit_touched = touched = []
        prefixes = tuple(prefix.rstrip(os.sep) for prefix in self.prefixes)

        def guard(event: str, args: tuple[Any, ...]) -> None:
            if event not in _FILE_EVENTS:
                return
            for arg in args:
                if isinstance(arg, (str, bytes, os.PathLike)):
                    path = os.path.abspath(os.fsdecode(arg))
                    if any(path == prefix or path.startswith(prefix + os.sep) for prefix in prefixes):
                        touched.append((event, path))
                        raise PermissionError(f"test guard: a worker touched {path} ({event})")

        sys.addaudithook(guard)


def _touched(dask_worker: Any) -> list[tuple[str, str]]:
    return list(getattr(dask_worker, "normkit_touched", []))


@pytest.fixture
def guarded(tmp_path: Path) -> Path:
    """The folder the workers may not touch: the runs under test write their output (or staging) here."""
    folder = tmp_path / "guarded"
    folder.mkdir()
    return folder


@pytest.fixture
def cluster(s3_endpoint: str, guarded: Path) -> Iterator[tuple[str, Callable[[], list[tuple[str, str]]]]]:
    """A cluster of two worker processes, started once the S3 environment is set (they inherit it), each
    guarding ``guarded``; its scheduler address, and what the workers touched there so far."""
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local,
        distributed.Client(local) as client,
    ):
        client.register_plugin(GuardFolder(sorted({str(guarded), str(guarded.resolve())})))

        def touched() -> list[tuple[str, str]]:
            return [entry for found in client.run(_touched).values() for entry in found]

        yield local.scheduler_address, touched


def jsonl(*texts: str, prefix: str) -> bytes:
    return b"".join(orjson.dumps({"id": f"{prefix}{i}", "text": text}) + b"\n" for i, text in enumerate(texts))


#: invented pages, sharing a footer line the boilerplate stage removes (and a learning pass to run)
_FOOTER = "Harbour Gazette. All rights reserved. Contact the newsroom."
_PAGES = [
    "The ferry left at dawn, carrying forty passengers and a crate of oranges across the grey bay.",
    "Gulls followed it out past the breakwater, where the lighthouse keeper waved from his ladder.",
    "Rain came by noon, and the market stalls along the quay folded their awnings one by one.",
    "A new bakery opened on Rope Street; its rye loaves were gone before the church bells rang ten.",
]


@pytest.fixture
def bucket(s3_endpoint: str) -> Iterator[str]:
    """A bucket with a crawl of three objects: JSON Lines with one line that is not JSON, gzip, plain text."""
    fs, _ = url_fs("s3://")
    name = f"normkit-remote-{os.getpid()}-{next(_names)}"
    fs.mkdir(name)
    pages = [f"{text}\n{_FOOTER}" for text in _PAGES]
    fs.pipe(f"{name}/crawl/siteA/pages.jsonl", jsonl(*pages[:3], prefix="a") + b'{"id": "a3", "text": \n')
    fs.pipe(f"{name}/crawl/siteB/more.jsonl.gz", gzip.compress(jsonl(pages[3], pages[0], prefix="b")))
    fs.pipe(f"{name}/crawl/siteB/note.txt", f"A short note about the tides.\n{_FOOTER}\n".encode())
    fs.invalidate_cache()
    yield name
    fs.rm(name, recursive=True)


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stderr


def normkit_run(bucket: str, out: str, *extra: str) -> tuple[int, str]:
    """The default pipeline (it learns: the boilerplate stage), one part per object."""
    return invoke("run", f"s3://{bucket}/crawl/", "-o", out, "-q", "--shard-size", "1", *extra)


def outputs(folder: Path) -> dict[str, bytes]:
    """Every output file but the report (it names the executor and the times), by name."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != "report.json" and ".normkit" not in path.parts
    }


def report(folder: Path) -> dict[str, Any]:
    return dict(orjson.loads((folder / "report.json").read_bytes()))


def only_probes(touched: list[tuple[str, str]]) -> bool:
    """Whether the workers tried nothing there but to read the probe the executor asks them about."""
    return all(event == "open" and Path(path).name.startswith(".shared-") for event, path in touched)


def test_remote_workers_touch_nothing_here_and_write_the_same_bytes(
    cluster: tuple[str, Callable[[], list[tuple[str, str]]]], bucket: str, guarded: Path, tmp_path: Path
) -> None:
    address, touched = cluster
    code, err = normkit_run(bucket, str(tmp_path / "ref"), "--executor", "pool", "--workers", "2")
    assert code == 1, err  # the line that is not JSON

    out = guarded / "out"
    code, err = normkit_run(bucket, str(out), "--executor", "dask", "--scheduler", address)
    assert code == 1, err
    assert touched() and only_probes(touched()), "asked, the workers could not read the probe: not shared"
    assert outputs(out) == outputs(tmp_path / "ref")
    assert "learned-boilerplate.json" in outputs(out), "the learning pass ran, without a spill"
    (reject,) = [orjson.loads(line) for line in (out / "rejects.jsonl").read_bytes().splitlines()]
    assert reject["origin"] == {"path": f"s3://{bucket}/crawl/siteA/pages.jsonl", "line": 4}
    first = report(out)
    assert (first["executor"], first["documents"]["written"], first["documents"]["rejected"]) == ("dask", 6, 1)
    assert first["shards"] == {"total": 3, "done": 3, "skipped": 0, "retried": 0, "failed": 0}
    assert not list((out / ".normkit" / "parts").glob("*.spill-*")), "nothing spilled"

    code, err = normkit_run(bucket, str(out), "--executor", "dask", "--scheduler", address)
    assert code == 1, err
    assert report(out)["shards"] == {"total": 3, "done": 0, "skipped": 3, "retried": 0, "failed": 0}
    assert outputs(out) == outputs(tmp_path / "ref")
    assert only_probes(touched())


def _limit_sent(limit: int) -> None:
    """In a worker: send back at most ``limit`` bytes of a part's files."""
    import normkit.batch.tasks

    normkit.batch.tasks.MAX_SENT_BYTES = limit


def test_pieces_of_a_part_too_large_to_send_come_back_one_by_one(
    cluster: tuple[str, Callable[[], list[tuple[str, str]]]], bucket: str, guarded: Path, tmp_path: Path
) -> None:
    """The narrowing's pieces travel back like whole parts, and are joined here into the same bytes."""
    address, touched = cluster
    one_part = ("--shard-size", "64MB")
    code, err = normkit_run(bucket, str(tmp_path / "ref"), "--executor", "pool", *one_part)
    assert code == 1, err
    with distributed.Client(address) as client:
        client.run(_limit_sent, 1000)  # one or two records (the largest: 719 bytes)
    code, err = normkit_run(bucket, str(guarded / "out"), "--executor", "dask", "--scheduler", address, *one_part)
    assert code == 1, err
    assert "PartTooLargeError" in err
    assert outputs(guarded / "out") == outputs(tmp_path / "ref")
    shards = report(guarded / "out")["shards"]
    assert (shards["total"], shards["done"], shards["failed"]) == (1, 1, 0) and shards["retried"] > 2
    assert only_probes(touched())


def test_a_local_input_stops_once_the_workers_are_found_not_to_share(
    cluster: tuple[str, Callable[[], list[tuple[str, str]]]], guarded: Path, tmp_path: Path
) -> None:
    address, touched = cluster
    (tmp_path / "page.txt").write_text("A page on this machine's disk only.\n")
    code, err = invoke(
        "run", str(tmp_path / "page.txt"), "-o", str(guarded / "out"), "--executor", "dask", "--scheduler", address
    )
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "is on this machine" in err and "shared_files = true" in err
    assert only_probes(touched())
    assert not list((guarded / "out").glob("documents*")), "nothing cleaned"


def test_sharded_output_to_s3_from_workers_that_share_nothing(
    cluster: tuple[str, Callable[[], list[tuple[str, str]]]], bucket: str, guarded: Path, tmp_path: Path
) -> None:
    """Told (``shared_files = false``), the executor asks nothing; the staging folder is only the run's."""
    address, touched = cluster
    config = tmp_path / "normkit.toml"
    config.write_text("[run.executors.dask]\nshared_files = false\n")
    code, err = normkit_run(bucket, str(tmp_path / "ref"), "--executor", "pool", "--shards")
    assert code == 1, err
    stage = ("--work-dir", str(guarded / "stage"), "--config", str(config))
    code, err = normkit_run(
        bucket, f"s3://{bucket}/clean/", "--shards", *stage, "--executor", "dask", "--scheduler", address
    )
    assert code == 1, err
    assert touched() == []
    fs, _ = url_fs("s3://")
    fs.invalidate_cache()
    published = {key.split("/clean/", 1)[1]: fs.cat(key) for key in fs.find(f"{bucket}/clean")}
    expected = outputs(tmp_path / "ref")
    assert {name: published[name] for name in expected} == expected
    assert set(published) == {*expected, "report.json"}


def test_a_local_input_for_workers_that_share_nothing_is_one_line(tmp_path: Path) -> None:
    """``shared_files = false``: refused before planning, before a cluster starts or anything is written."""
    (tmp_path / "normkit.toml").write_text("[run.executors.dask]\nshared_files = false\n")
    (tmp_path / "page.txt").write_text("A page on this machine's disk only.\n")
    memory, _ = url_fs("memory://")
    memory.pipe(f"/remote-{os.getpid()}/x.txt", b"A page in this process's memory only.\n")
    for source in (str(tmp_path / "page.txt"), (tmp_path / "page.txt").as_uri(), f"memory://remote-{os.getpid()}/"):
        code, err = invoke("run", source, "-o", str(tmp_path / "out"), "--executor", "dask", "--config", "normkit.toml")
        assert code == 2, err
        assert err.startswith("normkit: error: input ") and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1
        assert "URL they can read" in err and "[run.executors.dask] shared_files = true" in err
    result = CliRunner().invoke(cli, ["run", "-", "-o", "out", "--executor", "dask"], input='{"text": "x"}\n')
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "cannot read stdin" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("source", "on_this_machine"),
    [
        ("crawl/a.jsonl", True),
        ("/abs/crawl/", True),
        ("-", True),
        ("file:///abs/crawl/a.jsonl", True),
        ("simplecache::file:///abs/a.jsonl", True),
        ("memory://crawl/", True),
        ("s3://bucket/crawl/", False),
        ("simplecache::s3://bucket/a.jsonl", False),
        ("gs://bucket/a.jsonl.gz", False),
        ("https://example.org/a.txt", False),
    ],
)
def test_what_workers_elsewhere_cannot_open(source: str, on_this_machine: bool) -> None:
    from normkit.batch.plan import refuse_unshared_inputs
    from normkit.errors import ConfigError
    from normkit.executors import Executor

    elsewhere = Executor(2, {})
    elsewhere.shares_files = False
    refuse_unshared_inputs([source], Executor(2, {}))  # workers that share the files open anything
    if on_this_machine:
        with pytest.raises(ConfigError, match="share no files with this machine"):
            refuse_unshared_inputs(["s3://bucket/other.jsonl", source], elsewhere)
    else:
        refuse_unshared_inputs([source], elsewhere)


ELSEWHERE = '''
from normkit import hookimpl
from normkit_plugins.executor_inprocess import InProcessExecutor


class Elsewhere(InProcessExecutor):
    """In this process, but as if its worker were on another machine: tasks send their files back."""

    name = "elsewhere"
    shares_files = False


@hookimpl
def normkit_register_executors(register):
    register(Elsewhere)
'''


def test_a_part_too_large_to_send_back_is_split_until_its_pieces_fit(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import normkit.batch.tasks

    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "elsewhere.py").write_text(ELSEWHERE)
    common = ("--plugins-dir", str(plugins), "--shard-size", "64MB")  # one part of all three objects
    code, err = normkit_run(bucket, str(tmp_path / "ref"), "--executor", "inprocess", *common)
    assert code == 1, err
    monkeypatch.setattr(normkit.batch.tasks, "MAX_SENT_BYTES", 1000)  # one or two records (the largest: 719 bytes)
    code, err = normkit_run(bucket, str(tmp_path / "out"), "--executor", "elsewhere", *common)
    assert code == 1, err
    assert outputs(tmp_path / "out") == outputs(tmp_path / "ref")
    shards = report(tmp_path / "out")["shards"]
    assert (shards["total"], shards["failed"]) == (1, 0) and shards["retried"] > 2
