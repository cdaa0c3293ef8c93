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
    """Whether the workers tried something there (asked, they read the probe), and nothing but that."""
    return bool(touched) and all(event == "open" and Path(path).name.startswith(".shared-") for event, path in touched)


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


def test_pieces_of_a_part_too_large_to_send_come_back_one_by_one(
    cluster: tuple[str, Callable[[], list[tuple[str, str]]]], bucket: str, guarded: Path, tmp_path: Path
) -> None:
    """The pieces of a part cut for size travel back like whole parts, and are joined here into the same bytes;
    a cut is no failure: no attempt counted, nothing retried."""
    address, touched = cluster
    one_part = ("--shard-size", "64MB")
    code, err = normkit_run(bucket, str(tmp_path / "ref"), "--executor", "pool", *one_part)
    assert code == 1, err
    config = tmp_path / "normkit.toml"
    config.write_text("[run.executors.dask]\nmax_result_bytes = 1024\n")  # a record or two (the largest: 719 bytes)
    dask = ("--executor", "dask", "--scheduler", address, "--config", str(config))
    code, err = normkit_run(bucket, str(guarded / "out"), *dask, *one_part)
    assert code == 1, err
    assert "it is cut into smaller pieces" in err and "PartTooLargeError" not in err and "attempt" not in err
    assert outputs(guarded / "out") == outputs(tmp_path / "ref")
    assert report(guarded / "out")["shards"] == {"total": 1, "done": 1, "skipped": 0, "retried": 0, "failed": 0}
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
    try:
        for source in (str(tmp_path / "page.txt"), (tmp_path / "page.txt").as_uri(), f"memory://remote-{os.getpid()}/"):
            code, err = invoke(
                "run", source, "-o", str(tmp_path / "out"), "--executor", "dask", "--config", "normkit.toml"
            )
            assert code == 2, err
            assert err.startswith("normkit: error: input ") and "Traceback" not in err
            assert len(err.strip().splitlines()) == 1
            assert "URL they can read" in err and "[run.executors.dask] shared_files = true" in err
    finally:
        memory.rm(f"/remote-{os.getpid()}", recursive=True)
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


@pytest.fixture
def elsewhere(tmp_path: Path) -> tuple[str, ...]:
    """The options that run tasks with the ``elsewhere`` executor, one part of all the bucket's objects."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "elsewhere.py").write_text(ELSEWHERE)
    return ("--plugins-dir", str(plugins), "--shard-size", "64MB")


def test_a_part_too_large_to_send_back_is_cut_until_its_pieces_fit(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, elsewhere: tuple[str, ...]
) -> None:
    import normkit.batch.tasks

    code, err = normkit_run(bucket, str(tmp_path / "ref"), "--executor", "inprocess", *elsewhere)
    assert code == 1, err
    monkeypatch.setattr(normkit.batch.tasks, "MAX_SENT_BYTES", 1000)  # one or two records (the largest: 719 bytes)
    code, err = normkit_run(bucket, str(tmp_path / "out"), "--executor", "elsewhere", *elsewhere)
    assert code == 1, err
    assert outputs(tmp_path / "out") == outputs(tmp_path / "ref")
    assert "it is cut into smaller pieces" in err and "failed (attempt" not in err
    shards = report(tmp_path / "out")["shards"]
    assert (shards["total"], shards["failed"], shards["retried"]) == (1, 0, 0)


def test_one_input_too_large_to_send_back_is_rejected_at_once(
    s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, elsewhere: tuple[str, ...]
) -> None:
    import normkit.batch.tasks

    fs, _ = url_fs("s3://")
    name = f"normkit-big-{os.getpid()}-{next(_names)}"
    fs.mkdir(name)
    texts = [f"A short page about the harbour, number {i}." for i in range(6)]
    texts[3] = " ".join(["The tide came in over the long flat sands of the bay."] * 40)  # 2 KB alone
    fs.pipe(f"{name}/crawl/pages.jsonl", jsonl(*texts, prefix="p"))
    fs.invalidate_cache()
    try:
        monkeypatch.setattr(normkit.batch.tasks, "MAX_SENT_BYTES", 1000)
        code, err = normkit_run(name, str(tmp_path / "out"), "--executor", "elsewhere", *elsewhere)
    finally:
        fs.rm(name, recursive=True)
    assert code == 1, err
    assert "attempt" not in err and "item 4 of" not in err, "no notice of a cut for the one input"
    (reject,) = [orjson.loads(line) for line in (tmp_path / "out" / "rejects.jsonl").read_bytes().splitlines()]
    assert reject["doc_id"] == "p3", reject
    assert reject["reason"].startswith("its output alone passes 1,000 bytes, the most a task sends back")
    assert "max_result_bytes" in reject["reason"] and "\n" not in reject["reason"]
    written = [orjson.loads(line)["id"] for line in (tmp_path / "out" / "documents.jsonl").read_bytes().splitlines()]
    assert written == ["p0", "p1", "p2", "p4", "p5"]
    assert report(tmp_path / "out")["shards"]["retried"] == 0


def test_a_full_temporary_folder_of_a_worker_fails_its_task_not_the_run(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, elsewhere: tuple[str, ...]
) -> None:
    """The worker's disk is not the run's: the task is tried again, and nothing is charged to documents."""
    import errno

    import normkit.batch.tasks

    code, err = normkit_run(bucket, str(tmp_path / "ref"), "--executor", "inprocess", *elsewhere)
    assert code == 1, err
    plain = normkit.batch.tasks._plain_part
    full = iter([True])

    def first_full(files: Any) -> Any:
        if next(full, False):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(files.records))
        return plain(files)

    monkeypatch.setattr(normkit.batch.tasks, "_plain_part", first_full)
    code, err = normkit_run(bucket, str(tmp_path / "out"), "--executor", "elsewhere", *elsewhere)
    assert code == 1, err
    assert "temporary folder" in err and "is full" in err
    assert outputs(tmp_path / "out") == outputs(tmp_path / "ref")
    assert report(tmp_path / "out")["shards"] == {"total": 1, "done": 1, "skipped": 0, "retried": 1, "failed": 0}


def test_workers_that_see_the_folder_write_in_place(
    cluster: tuple[str, Callable[[], list[tuple[str, str]]]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asked, workers that read and write the work folder share it: a local input is fine, and they write their
    parts there. The output is named relative to this process's folder, which is not the workers': the probe
    and the tasks get the absolute path. (The input is named by its absolute path: a relative one would be
    opened by each worker relative to its own folder.)"""
    address, touched = cluster  # its workers were started in tmp_path (conftest.py)
    here = tmp_path / "here"
    (here / "crawl").mkdir(parents=True)
    for i, text in enumerate(_PAGES):
        (here / "crawl" / f"{i}.txt").write_text(f"{text}\n{_FOOTER}\n")
    monkeypatch.chdir(here)
    code, err = invoke("run", str(here / "crawl"), "-o", "ref", "-q", "--shard-size", "1", "--executor", "pool")
    assert code == 0, err
    code, err = invoke(
        "run", str(here / "crawl"), "-o", "out", "-q", "--shard-size", "1", "--executor", "dask", "--scheduler", address
    )
    assert code == 0, err
    assert outputs(here / "out") == outputs(here / "ref")
    assert report(here / "out")["shards"]["done"] == 4
    assert not list((here / "out" / ".normkit" / "parts").glob(".shared-*")), "the probes are gone"
    assert not (tmp_path / "out").exists()
    assert touched() == []


def test_no_worker_connected_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "page.txt").write_text("A page.\n")
    with distributed.LocalCluster(n_workers=0, dashboard_address=None) as local:
        args = ("run", str(tmp_path / "page.txt"), "-o", str(tmp_path / "out"), "--executor", "dask")
        code, err = invoke(*args, "--scheduler", local.scheduler_address)
    assert code == 2, err
    assert err.strip() == f"normkit: error: no Dask workers connected to {local.scheduler_address}: start some, " + (
        "or wait for them, and run again"
    )
    assert not (tmp_path / "out" / ".normkit" / "plan.json").exists(), "asked before planning"


class RefuseWrites(distributed.WorkerPlugin):
    """In each worker, refuse writing under ``prefix`` as a folder of another user, or a read-only mount,
    does: reading is allowed (tests run as root, where a folder's mode stops no write)."""

    name = "normkit-test-read-only"

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def setup(self, worker: Any) -> None:
        prefix = self.prefix

        def guard(event: str, args: tuple[Any, ...]) -> None:
            if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
                path, mode, flags = os.path.abspath(os.fsdecode(args[0])), args[1], args[2] or 0
                writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or flags & (
                    os.O_WRONLY | os.O_RDWR | os.O_CREAT
                )
                if writing and path.startswith(prefix + os.sep):
                    raise PermissionError(13, "Permission denied", path)
            elif event in ("os.rename", "os.mkdir", "os.remove") and isinstance(args[0], (str, bytes, os.PathLike)):
                path = os.path.abspath(os.fsdecode(args[0]))
                if path.startswith(prefix + os.sep):
                    raise PermissionError(13, "Permission denied", path)

        sys.addaudithook(guard)


def _one_worker() -> Any:
    return distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None)


def test_workers_that_may_not_write_in_the_work_folder_do_not_share_it(tmp_path: Path) -> None:
    """Workers that read the work folder but may not write there: asked, they do not share it (a local input
    is refused before planning); told they do, the run stops in one line, charging no document, and the same
    command resumes once they may write."""
    read_only = tmp_path / "read-only"
    (read_only / "out").mkdir(parents=True)
    (tmp_path / "page.txt").write_text(f"{_PAGES[0]}\n{_FOOTER}\n")
    shared = tmp_path / "shared.toml"
    shared.write_text("[run.executors.dask]\nshared_files = true\n")
    args = ("run", str(tmp_path / "page.txt"), "-o", str(read_only / "out"), "--executor", "dask")
    with _one_worker() as local, distributed.Client(local) as client:
        client.register_plugin(RefuseWrites(str(read_only)))
        code, err = invoke(*args, "--scheduler", local.scheduler_address)
        assert code == 2 and "is on this machine" in err, err
        assert not (read_only / "out" / ".normkit" / "plan.json").exists(), "refused before planning"
        assert not list((read_only / "out" / ".normkit" / "parts").iterdir()), "the probes are gone"
        code, err = invoke(*args, "--scheduler", local.scheduler_address, "--config", str(shared))
        assert code == 2, err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
        assert "a worker may not write in the run's work folder (Permission denied)" in err
        assert not list((read_only / "out" / ".normkit" / "parts").glob("*.done.json")), "no part given up"
    with _one_worker() as local:  # workers that may write there
        code, err = invoke(*args, "--scheduler", local.scheduler_address, "--config", str(shared))
    assert code == 0, err
    assert report(read_only / "out")["shards"]["done"] == 1
    assert not (read_only / "out" / "rejects.jsonl").read_bytes()


def test_workers_that_share_no_files_get_a_task_at_a_time_each(
    cluster: tuple[str, Callable[[], list[tuple[str, str]]]],
    bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without a time budget too: each result holds a part's files, which must not pile up on the workers."""
    from normkit_plugins.executor_dask import DaskExecutor

    def everything_at_once(*args: Any) -> Any:
        raise AssertionError("every task submitted at once")

    monkeypatch.setattr(DaskExecutor, "_run_all", everything_at_once)
    address, _touched = cluster
    config = tmp_path / "normkit.toml"
    config.write_text("[run]\ntask_timeout = 0\n[run.executors.dask]\nshared_files = false\n")
    code, err = normkit_run(
        bucket, str(tmp_path / "out"), "--executor", "dask", "--scheduler", address, "--config", str(config)
    )
    assert code == 1, err
    assert report(tmp_path / "out")["shards"]["done"] == 3


def _worker_folder_here() -> tuple[str | None, str]:
    from distributed import get_worker

    from normkit.batch import tasks

    return tasks._worker_folder(), get_worker().local_directory


def test_a_task_in_a_dask_worker_writes_in_the_worker_s_own_folder(
    cluster: tuple[str, Callable[[], list[tuple[str, str]]]],
) -> None:
    """A killed worker's folder is removed by its nanny: the system's temporary folder would keep its files."""
    address, _touched = cluster
    with distributed.Client(address) as client:
        found, local = client.submit(_worker_folder_here, pure=False).result()
    assert found == local
