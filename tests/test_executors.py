"""Executors: the same bytes from every executor, workers that die, and parts that keep failing."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import sys
import textwrap
import threading
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from normkit import Config, PluginSpec, run_batch
from normkit.cli import cli
from normkit.errors import ConfigError
from normkit.validate import iter_violations

#: A stage that kills its own worker process: always on "CRASH", once (per flag file) on "FLAKY".
CRASHY = textwrap.dedent(
    """
    import os, signal
    from pathlib import Path
    from normkit import Stage, hookimpl

    class Crashy(Stage):
        name = "crashy"

        def process(self, doc):
            flag = Path(os.environ["CRASHY_FLAG"])
            if "CRASH" in doc.text or ("FLAKY" in doc.text and not flag.exists()):
                flag.touch()
                os.kill(os.getpid(), signal.SIGKILL)
            return doc

    @hookimpl
    def normkit_register_stages(register):
        register(Crashy)
    """
)


def make_corpus(folder: Path, docs: int = 120) -> list[str]:
    """A large JSONL file (split into ranges), small text files (grouped), a gzip file, and bad lines."""
    folder.mkdir(parents=True)
    lines = []
    for i in range(docs):
        body = "\n".join(f"Paragraph {j} of story {i} tells what happened in the town that week." for j in range(4))
        record = {
            "title": f"Story {i}",
            "text": f"Story {i}\n{body}\nShare this article",
            "url": f"https://s{i % 3}.example/{i}",
        }
        lines.append(orjson.dumps(record) if i % 17 else b"{broken json")
    (folder / "big.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    for i in range(3):
        (folder / f"page{i}.txt").write_text(f"Page {i}\n\nA page about the council meeting number {i}.\n")
    (folder / "more.jsonl.gz").write_bytes(gzip.compress(b'{"text": "compressed one"}\n{"text": "two"}\n'))
    return [str(folder)]


def outputs(folder: Path) -> tuple[bytes, bytes, dict]:
    """The run's output bytes, and what the learning pass selected (hashes and counts per source).

    The sample ``text`` of a learned line is left out: lines that fold to one hash are visited in set order,
    which differs between processes (string hashing), so the sample may be any of them.
    """
    learned = orjson.loads((folder / "learned-boilerplate.json").read_bytes())
    selected = {source: [(e["hash"], e["documents"]) for e in lines] for source, lines in learned["sources"].items()}
    return (folder / "documents.jsonl").read_bytes(), (folder / "rejects.jsonl").read_bytes(), selected


def run(inputs: list[str], out: Path, **options: object) -> dict:
    config = Config().with_overrides(run={"shard_size": 2000, **options})
    result = run_batch(inputs, str(out), config)
    report = orjson.loads((out / "report.json").read_bytes())
    assert list(iter_violations(report, "report")) == []
    assert result.stats.balanced
    return report


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], Path]:
    folder = tmp_path_factory.mktemp("corpus")
    inputs = make_corpus(folder / "in")
    reference = folder / "reference"
    report = run(inputs, reference, executor="inprocess")
    assert report["shards"]["total"] > 4  # the JSONL file was cut into several ranges
    return inputs, reference


def test_pool_gives_the_same_bytes_as_in_process(corpus: tuple[list[str], Path], tmp_path: Path) -> None:
    inputs, reference = corpus
    report = run(inputs, tmp_path / "out", executor="pool", workers=2)
    assert (report["executor"], report["workers"]) == ("pool", 2)
    assert outputs(tmp_path / "out") == outputs(reference)


@pytest.mark.dask
def test_dask_local_cluster_gives_the_same_bytes(corpus: tuple[list[str], Path], tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    inputs, reference = corpus
    report = run(inputs, tmp_path / "out", executor="dask", workers=2)
    assert (report["executor"], report["workers"]) == ("dask", 2)
    assert outputs(tmp_path / "out") == outputs(reference)


@pytest.mark.dask
def test_dask_scheduler_option_reaches_a_running_cluster(corpus: tuple[list[str], Path], tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    inputs, reference = corpus
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        args = ["run", *inputs, "-o", str(tmp_path / "out"), "-q", "--executor", "dask"]
        result = CliRunner().invoke(cli, [*args, "--scheduler", cluster.scheduler_address], catch_exceptions=False)
    assert result.exit_code == 1  # the corpus holds malformed lines, rejected as the reference's are
    report = orjson.loads((tmp_path / "out" / "report.json").read_bytes())
    assert (report["executor"], report["workers"]) == ("dask", 1)  # the cluster's one worker, not the cores
    assert outputs(tmp_path / "out") == outputs(reference)


def test_executor_options_live_in_their_own_table(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("text")
    config = Config.from_mapping({"run": {"executors": {"dask": {"schedular": "tcp://127.0.0.1:1"}}}})
    with pytest.raises(ConfigError, match=r"run.executors.dask: .*'schedular' was unexpected"):
        run_batch([str(tmp_path / "a.txt")], str(tmp_path / "out"), config.with_overrides(run={"executor": "dask"}))
    with pytest.raises(ConfigError, match=r"run.scheduler: this option is now \[run.executors.dask\] scheduler"):
        Config.from_mapping({"run": {"scheduler": "tcp://127.0.0.1:1"}})


def test_dask_without_the_extra_names_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # "import distributed" now raises ImportError
    (tmp_path / "a.txt").write_text("text")
    with pytest.raises(ConfigError, match=r"pip install 'normkit\[dask\]'"):
        run_batch([str(tmp_path / "a.txt")], str(tmp_path / "out"), Config().with_overrides(run={"executor": "dask"}))


def test_unknown_executor_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("text")
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "a.txt"), "-o", str(tmp_path / "o"), "--executor", "x"])
    assert result.exit_code == 2 and "unknown executor 'x' (known: dask, inprocess, pool)" in result.stderr


@pytest.fixture
def crashy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "crashy.py").write_text(CRASHY)
    monkeypatch.setenv("CRASHY_FLAG", str(tmp_path / "crashed-once"))
    return plugins


def crashy_run(plugins: Path, tmp_path: Path, texts: list[str], *extra: str) -> tuple[int, str, dict]:
    (tmp_path / "in").mkdir()
    for i, text in enumerate(texts):
        (tmp_path / "in" / f"{i}.jsonl").write_text(
            f'{{"id": "d{i}", "text": "{text}"}}\n{{"id": "e{i}", "text": "x"}}\n'
        )
    args = ["run", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--plugins-dir", str(plugins), "-q"]
    args += ["--config", str(tmp_path / "normkit.toml"), "--shard-size", "100", "--workers", "2", *extra]
    (tmp_path / "normkit.toml").write_text('pipeline = ["decode", "crashy"]\n')
    result = CliRunner().invoke(cli, args)
    return result.exit_code, result.stderr, orjson.loads((tmp_path / "out" / "report.json").read_bytes())


def test_a_worker_that_dies_once_is_retried(crashy: Path, tmp_path: Path) -> None:
    """The part is split at once: its two halves (a line each) are the retries, and both succeed."""
    code, err, report = crashy_run(crashy, tmp_path, ["fine", "FLAKY", "fine too"])
    assert code == 0, err
    assert "died (exit code -9)" in err
    assert report["shards"] == {"total": 3, "done": 3, "skipped": 0, "retried": 2, "failed": 0}
    assert report["documents"]["written"] == 6


def test_a_document_that_keeps_crashing_is_the_only_one_rejected(crashy: Path, tmp_path: Path) -> None:
    code, _, report = crashy_run(crashy, tmp_path, ["fine", "CRASH", "fine too"], "--retries", "1")
    assert code == 1
    # the part (two lines) is cut in two; the line that kills the worker is tried once more, then rejected
    assert report["shards"] == {"total": 3, "done": 2, "skipped": 0, "retried": 3, "failed": 1}
    assert report["documents"] == {"read": 6, "written": 5, "rejected": 1, "flagged": 0}
    rejects = [orjson.loads(line) for line in (tmp_path / "out" / "rejects.jsonl").read_bytes().splitlines()]
    assert [(r["doc_id"], r["origin"]["line"], r["hook"]) for r in rejects] == [("d1", 1, "executor")]
    assert "failed 2 times on this input" in rejects[0]["reason"] and "died" in rejects[0]["reason"]
    ids = [orjson.loads(line)["id"] for line in (tmp_path / "out" / "documents.jsonl").read_bytes().splitlines()]
    assert ids == ["d0", "e0", "e1", "d2", "e2"]


SLEEPY = textwrap.dedent(
    """
    import time
    from normkit import Stage, hookimpl

    class Sleepy(Stage):
        name = "sleepy"

        def process(self, doc):
            time.sleep(120)
            return doc

    @hookimpl
    def normkit_register_stages(register):
        register(Sleepy)
    """
)


def _marked(mark: str) -> list[int]:
    """The processes whose environment holds ``mark`` (the run's, its fork server's, workers', tracker's)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                environ = (entry / "environ").read_bytes().split(b"\0")
            except OSError:  # gone, or not ours to read
                continue
            if mark.encode() in environ:
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc, parent-death signals")
@pytest.mark.parametrize("start_method", ["fork", "forkserver"])
def test_kill_9_of_a_run_leaves_no_process_behind(tmp_path: Path, start_method: str) -> None:
    """The run is SIGKILLed while its workers sleep in a stage: its fork server, resource tracker and workers
    end with it (a worker kept the fork server's alive pipe open, so all of them outlived the run)."""
    import os
    import signal
    import subprocess
    import time
    import uuid

    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "sleepy.py").write_text(SLEEPY)
    (tmp_path / "normkit.toml").write_text(
        f'pipeline = ["sleepy"]\n[run.executors.pool]\nstart_method = "{start_method}"\n'
    )
    for name in ("a", "b"):
        (tmp_path / f"{name}.jsonl").write_text(f'{{"id": "{name}", "text": "A quiet night on the quay."}}\n')
    mark = f"NORMKIT_TEST_RUN={uuid.uuid4().hex}"
    env = dict(os.environ, NORMKIT_TEST_RUN=mark.split("=", 1)[1])
    args = [sys.executable, "-m", "normkit", "run", str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")]
    args += ["-o", str(tmp_path / "out"), "-q", "--plugins-dir", str(plugins), "--workers", "2"]
    args += ["--config", str(tmp_path / "normkit.toml")]
    run = subprocess.Popen(args, env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 30
        # the run and its worker (forked: the two inputs make one part), or with a fork server, the run, the
        # resource tracker, the server and the worker
        while len(_marked(mark)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(_marked(mark)) >= 2, "the run never started its workers"
        time.sleep(0.5)
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait()
    deadline = time.monotonic() + 5
    while _marked(mark) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = _marked(mark)
    for pid in left:  # not to leave them to the next test either
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    assert not left, f"processes outlived the run: {left}"


def test_workers_import_the_installed_normkit_not_a_folder_named_normkit_in_the_cwd(tmp_path: Path) -> None:
    """The README's ``normkit run seeds/ -o out/`` runs in a source checkout, whose ``normkit/`` folder lacks
    the schema files an install maps in: the pool's fork server must not import it (Python 3.11's does not
    take the parent's sys.path)."""
    import shutil
    import subprocess

    script = shutil.which("normkit") or pytest.skip("the normkit console script is not installed")
    (tmp_path / "normkit").mkdir()
    (tmp_path / "normkit" / "__init__.py").write_text("raise ImportError('the decoy in the current folder')\n")
    (tmp_path / "page.txt").write_text("A headline\n\nThe ferry ran all winter and the islanders were glad of it.\n")
    run = subprocess.run(
        [script, "run", "page.txt", "-o", "out", "-q", "--executor", "pool"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert len((tmp_path / "out" / "documents.jsonl").read_bytes().splitlines()) == 1


#: A script that runs a batch at top level, without ``if __name__ == "__main__":``, as the README's example does.
UNGUARDED = textwrap.dedent(
    """
    import sys
    import normkit

    print("top level ran", flush=True)  # once: the workers must not run the script again
    config = normkit.Config().with_overrides(run={"executor": "pool", "shard_size": 100})
    result = normkit.run_batch(["data/"], "out/", config, workers=2)
    print(result.stats.read, result.stats.written, result.stats.rejected)
    main = sys.modules["__main__"]
    print(main.__file__ == __file__, (main.__spec__ and main.__spec__.name))  # both put back after the start
    """
)


@pytest.mark.parametrize("how", ["script", "module"])
def test_a_batch_at_a_scripts_top_level_runs_in_pool_workers(tmp_path: Path, how: str) -> None:
    """Workers start without importing ``__main__``: neither by path (``python x.py``) nor by name (``-m``)."""
    import subprocess

    (tmp_path / "unguarded").mkdir()
    (tmp_path / "unguarded" / "__init__.py").write_text("")
    (tmp_path / "unguarded" / "batch.py").write_text(UNGUARDED)
    (tmp_path / "data").mkdir()
    for i in range(4):
        (tmp_path / "data" / f"{i}.txt").write_text(f"Notice {i}\n\nThe invented ferry leaves at {i + 6} each day.\n")
    command = ["unguarded/batch.py"] if how == "script" else ["-m", "unguarded.batch"]
    run = subprocess.run([sys.executable, *command], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    spec = "None" if how == "script" else "unguarded.batch"
    assert run.stdout.splitlines() == ["top level ran", "4 4 0", f"True {spec}"]
    report = orjson.loads((tmp_path / "out" / "report.json").read_bytes())
    assert (report["executor"], report["workers"]) == ("pool", 2)


COUNTING = textwrap.dedent(
    """
    import os
    from normkit import Stage, hookimpl

    class Counting(Stage):
        '''Notes the process that builds it: a worker that had to build the pipeline again shows up.'''

        name = "counting"

        def __init__(self, options, context):
            super().__init__(options, context)
            with open(os.environ["NORMKIT_TEST_BUILDS"], "a") as notes:
                notes.write(f"{os.getpid()}\\n")

        def process(self, doc):
            return doc

    @hookimpl
    def normkit_register_stages(register):
        register(Counting)
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork is the Linux default")
def test_every_start_method_gives_the_same_bytes_and_forked_workers_start_warm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool under fork, forkserver and spawn writes the same output; forked workers take the run's pipeline
    as built (no worker builds it again), the others build their own."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "counting.py").write_text(COUNTING)
    inputs = tmp_path / "in"
    inputs.mkdir()
    for number in range(6):
        rows = [{"id": f"{number}-{i}", "text": f"Line {i} of file {number}.\n\nShare this"} for i in range(20)]
        (inputs / f"in{number}.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    spec = PluginSpec(plugins_dirs=(str(plugins),))
    outputs, builders = {}, {}
    for method in ("fork", "forkserver", "spawn"):
        notes = tmp_path / f"builds-{method}.txt"
        monkeypatch.setenv("NORMKIT_TEST_BUILDS", str(notes))
        config = {
            "pipeline": ["decode", "whitespace", "counting", "boilerplate"],
            "run": {"shard_size": 1500, "executors": {"pool": {"start_method": method}}},
        }
        result = run_batch([str(inputs)], str(tmp_path / method), Config.from_mapping(config), spec, workers=2)
        assert result.stats.written == 120
        outputs[method] = (tmp_path / method / "documents.jsonl").read_bytes()
        builders[method] = set(notes.read_text().split())
    assert outputs["fork"] == outputs["forkserver"] == outputs["spawn"]
    assert builders["fork"] == {str(os.getpid())}  # built once, in this process: the workers were forked warm
    assert len(builders["forkserver"]) > 1 and len(builders["spawn"]) > 1


def test_auto_forks_only_while_the_process_has_one_thread() -> None:
    from normkit_plugins.executor_pool import _method

    if not sys.platform.startswith("linux"):
        assert _method("auto") != "fork"
        return
    assert _method("auto") == ("fork" if threading.active_count() == 1 else "forkserver")
    stop = threading.Event()
    helper = threading.Thread(target=stop.wait)
    helper.start()
    try:
        assert _method("auto") == "forkserver"  # forking now could copy a lock the other thread holds
    finally:
        stop.set()
        helper.join()
