"""Faults in the batch engine: one bad input costs one document, and nothing else is lost or escapes.

Each test runs a real batch with a fault in it (a record JSON cannot hold, a plugin that kills its worker,
segfaults, hangs or spins, a full disk, a learning pass that cannot finish, fail-fast with parts finishing out
of order), asserts ``read = written + rejected`` from ``report.json``, and compares the bytes with a run
without the fault: the same inputs, with each faulty document refused by the same stage instead
(``FAULTS_REFUSE=1``), so that line numbers and what the learning pass saw stay the same.
"""

from __future__ import annotations

import gzip
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from normkit import Config, run_batch
from normkit.cli import cli

#: A stage that fails in every way a plugin can, on a marker in the text; with FAULTS_REFUSE=1 it refuses the
#: document instead (the undisturbed run). DISKFULL_* make fsync fail in worker processes, for one file.
FAULTS = textwrap.dedent(
    """
    import ctypes, errno, multiprocessing, os, signal, time
    from normkit import RejectDocument, Stage, hookimpl

    KILLERS = ("<exit>", "<kill>", "<segv>", "<hang>", "<spin>")

    class Faulty(Stage):
        name = "faulty"

        def process(self, doc):
            text = doc.text
            if any(marker in text for marker in KILLERS):
                if os.environ.get("FAULTS_REFUSE") == "1":
                    raise RejectDocument("refused")
                if "<exit>" in text:
                    os._exit(1)
                if "<kill>" in text:
                    os.kill(os.getpid(), signal.SIGKILL)
                if "<segv>" in text:
                    ctypes.string_at(0)
                if "<hang>" in text:
                    time.sleep(3600)
                while True:  # <spin>: a loop in Python, which only a timer can interrupt in-process
                    pass
            if "<slow>" in text:
                time.sleep(0.4)
            if "<enospc>" in text:
                raise OSError(errno.ENOSPC, "No space left on device")
            return doc

    def fsync(fd, _fsync=getattr(os.fsync, "real", os.fsync)):
        match = os.environ.get("DISKFULL_MATCH")  # "a|b": a worker's file whose path holds a and b
        if match and multiprocessing.parent_process() is not None:
            path = os.readlink(f"/proc/self/fd/{fd}")
            if all(part in path for part in match.split("|")):
                code = int(os.environ.get("DISKFULL_ERRNO", errno.ENOSPC))
                raise OSError(code, os.strerror(code))
        return _fsync(fd)

    fsync.real = getattr(os.fsync, "real", os.fsync)
    os.fsync = fsync

    @hookimpl
    def normkit_register_stages(register):
        register(Faulty)
    """
)

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/fd")


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "faults.py").write_text(FAULTS)
    for name in ("FAULTS_REFUSE", "DISKFULL_MATCH", "DISKFULL_ERRNO"):
        monkeypatch.delenv(name, raising=False)
    return folder


BOATS = ("ferry", "tug", "trawler", "yacht", "barge", "dinghy", "schooner")
PLACES = ("north quay", "old pier", "fish market", "lighthouse", "dry dock")
WEATHER = ("rain", "fog", "storm")
CATCH = ("cod", "herring", "mackerel", "crab")


def story(i: int, marker: str = "") -> str:
    """A page of a local news site: a headline, two paragraphs of its own, and the site's boilerplate."""
    return (
        f"Harbour notes {i}\n"
        f"The {BOATS[i % 7]} left the {PLACES[i % 5]} at noon and came back before the {WEATHER[i % 3]}. {marker}\n"
        f"Fishermen said the {CATCH[i % 4]} this week was better than the {CATCH[(i + 1) % 4]} before it.\n"
        "Subscribe to our newsletter\nShare this article"
    )


def corpus(folder: Path, markers: dict[str, dict[int, str]], stories: int = 30) -> list[str]:
    """``a.jsonl`` (``stories`` pages), ``b.jsonl.gz`` (8 pages), ``c.txt`` and ``d.txt``; ``markers`` puts a
    marker into the text of page ``i`` of a file (``{"a": {17: "<exit>"}}``)."""
    folder.mkdir(parents=True)

    def records(name: str, count: int) -> bytes:
        pages = [
            orjson.dumps({"id": f"{name}{i}", "text": story(i, markers.get(name, {}).get(i, "")), "source": "port"})
            for i in range(count)
        ]
        return b"\n".join(pages) + b"\n"

    (folder / "a.jsonl").write_bytes(records("a", stories))
    (folder / "b.jsonl.gz").write_bytes(gzip.compress(records("b", 8)))
    for name in ("c", "d"):
        marker = markers.get(name, {}).get(0, "")
        (folder / f"{name}.txt").write_text(
            f"Council minutes {name}\n\nThe council met and agreed on the budget. {marker}\n"
        )
    return [str(folder)]


def config(plugins: Path, pipeline: list[str] | None = None, **run: Any) -> Config:
    stages = pipeline or ["decode", "fix_text", "whitespace", "headline", "boilerplate", "faulty"]
    cfg = Config.from_mapping({"pipeline": stages, "plugins": {"dirs": [str(plugins)]}})
    cfg.run.update(run)  # task_timeout too, which the configuration schema may not list yet
    return cfg


def batch(inputs: list[str], out: Path, cfg: Config, **kwargs: Any) -> dict[str, Any]:
    """A run; its report, after checking the accounting against the files on disk."""
    run_batch(inputs, str(out), cfg, **kwargs)
    return checked(out)


def checked(out: Path) -> dict[str, Any]:
    """``report.json``, once ``read = written + rejected`` holds in it and it counts exactly the lines on disk."""
    report: dict[str, Any] = orjson.loads((out / "report.json").read_bytes())
    docs = report["documents"]
    assert docs["read"] == docs["written"] + docs["rejected"]
    assert docs["written"] == len((out / "documents.jsonl").read_bytes().splitlines())
    assert docs["rejected"] == len((out / "rejects.jsonl").read_bytes().splitlines())
    return report


def rejects(out: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in (out / "rejects.jsonl").read_bytes().splitlines()]


def where(out: Path) -> list[tuple[str, int | None, str | None]]:
    return [(Path(r["origin"]["path"]).name, r["origin"]["line"], r["doc_id"]) for r in rejects(out)]


def learned(out: Path) -> dict[str, Any]:
    """What the learning pass selected; a line's sample text may be any line of the same hash (set order)."""
    data = orjson.loads((out / "learned-boilerplate.json").read_bytes())
    return {source: [(e["hash"], e["documents"]) for e in lines] for source, lines in data["sources"].items()}


def undisturbed(inputs: list[str], out: Path, cfg: Config, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The same run with every faulty document refused by the stage, as a plugin would refuse a bad one."""
    with monkeypatch.context() as patch:
        patch.setenv("FAULTS_REFUSE", "1")
        return batch(inputs, out, cfg)


# -- a record JSON cannot hold ----------------------------------------------------------------------------------


def test_a_record_json_cannot_hold_costs_that_record_alone(tmp_path: Path, plugins: Path) -> None:
    """Metadata nested 300 levels deep (orjson reads it, but writes 254 at most), and a lone surrogate that
    fix_text repaired in the text but that the edit keeps in ``before``: each is one reject, with the reason."""
    deep: Any = {"leaf": 1}
    for _ in range(300):
        deep = {"inner": deep}
    lines = [orjson.dumps({"id": f"g{i}", "text": story(i)}) for i in range(20)]
    page = {"id": "deep", "text": "Odd page\nIts metadata goes down and down.", "tree": deep}
    lines.insert(10, json.dumps(page).encode())  # orjson writes 254 levels at most
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    (folder / "b.txt").write_bytes(b"Odd note\n\nA line with a broken emoji +2D0- in UTF-7.\n")  # U+D83D alone
    (folder / "c.txt").write_bytes(b"Quay note\n\nThe quay was quiet all day.\n")
    cfg = Config.from_mapping({"stages": {"decode": {"encoding": "utf-7"}}, "run": {"executor": "inprocess"}})
    report = batch([str(folder)], tmp_path / "out", cfg)
    assert report["documents"] == {"read": 23, "written": 21, "rejected": 2, "flagged": report["documents"]["flagged"]}
    assert report["shards"]["failed"] == 0
    found = rejects(tmp_path / "out")
    assert [(r["doc_id"], r["hook"]) for r in found] == [("deep", "encode"), (found[1]["doc_id"], "encode")]
    assert "record.metadata.tree.inner.inner" in found[0]["reason"] and "254 levels" in found[0]["reason"]
    assert "record.edits[1].before holds a lone surrogate U+D83D" in found[1]["reason"]
    assert found[1]["origin"]["path"].endswith("b.txt")

    # the same pages, with metadata JSON can hold and without the broken emoji: all written, the rest the same
    lines[10] = orjson.dumps({**page, "tree": {"leaf": 1}})
    (folder / "a.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    (folder / "b.txt").write_bytes(b"Odd note\n\nA line with a broken emoji +AD8- in UTF-7.\n")  # "?"
    batch([str(folder)], tmp_path / "ref", cfg)
    written = (tmp_path / "out" / "documents.jsonl").read_bytes().splitlines()
    reference = (tmp_path / "ref" / "documents.jsonl").read_bytes().splitlines()
    assert len(reference) == 23 and b'"id":"deep"' in reference[10] and b'/b.txt"' in reference[21]
    assert reference[:10] + reference[11:21] + reference[22:] == written


# -- a worker that dies, the default executor -------------------------------------------------------------------


def test_documents_that_kill_their_worker_are_the_only_ones_lost(
    tmp_path: Path, plugins: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``os._exit`` on line 18 of a JSON Lines file (narrowed by byte ranges), a segfault on the 7th record of
    a gzip file (narrowed by counted items) and SIGKILL on a text file, all in one part, with the default
    executor: the three documents are rejected, with the reason, and every other byte is as without them."""
    markers = {"a": {17: "<exit>"}, "b": {6: "<segv>"}, "c": {0: "<kill>"}}
    inputs = corpus(tmp_path / "in", markers)
    cfg = config(plugins, retries=1)
    report = batch(inputs, tmp_path / "out", cfg)
    assert (report["executor"], report["workers"], report["shards"]["total"]) == ("pool", 1, 1)
    assert report["documents"]["rejected"] == 3 and report["documents"]["read"] == 40
    assert [r[:2] for r in where(tmp_path / "out")] == [("a.jsonl", 18), ("b.jsonl.gz", 7), ("c.txt", None)]
    reasons = [r["reason"] for r in rejects(tmp_path / "out")]
    assert "failed 2 times on this input: WorkerLostError" in reasons[0] and "exit code 1" in reasons[0]
    assert "exit code -11" in reasons[1] and "exit code -9" in reasons[2]

    undisturbed(inputs, tmp_path / "ref", cfg, monkeypatch)
    assert (tmp_path / "out" / "documents.jsonl").read_bytes() == (tmp_path / "ref" / "documents.jsonl").read_bytes()
    assert where(tmp_path / "out") == where(tmp_path / "ref")
    assert not list((tmp_path / "out" / ".normkit" / "parts").glob("*.n*")), "the pieces were joined"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=20).map(lambda b: b.replace(b"\n", b"")), min_size=1, max_size=25), st.booleans())
def test_narrowing_by_lines_covers_every_line_once_with_its_number(lines: list[bytes], end_nl: bool) -> None:
    """A part narrowed down to single lines: the pieces, in tag order, read each line once, numbered right."""
    import io
    import tempfile

    from normkit.batch.rounds import split
    from normkit.batch.tasks import Piece
    from normkit.inputs import Shard

    data = b"\n".join(lines) + (b"\n" if end_nl else b"")
    assume(not data.startswith((b"\x1f\x8b", b"\x28\xb5\x2f\xfd")))  # compressed: never cut by bytes
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.jsonl"
        path.write_bytes(data)
        todo, leaves = [Piece((Shard(str(path)),))], []
        while todo:
            piece = todo.pop()
            halves = split(piece, lambda _: True)
            assert not isinstance(halves, str)
            if halves is None:
                leaves.append(piece)
            else:
                assert [h.tag for h in halves] == [piece.tag + "0", piece.tag + "1"]
                todo += halves
        seen = []
        for piece in sorted(leaves, key=lambda p: p.tag):
            with piece.shards[0].open() as stream:
                seen.extend(enumerate(stream, start=piece.shards[0].first_line))
    assert seen == list(enumerate(io.BytesIO(data).readlines(), start=1))
    assert len(leaves) == max(1, len(io.BytesIO(data).readlines()))


def test_the_default_executor_is_a_worker_process_except_for_stdin(tmp_path: Path) -> None:
    from normkit import Pipeline
    from normkit.batch.runner import choose_executor
    from normkit.inputs import Part, Shard

    pipeline = Pipeline(Config())
    one = [Part(0, (Shard(str(tmp_path / "a.jsonl")),), "digest")]
    assert choose_executor(pipeline, one, 4, Config()).name == "pool"
    assert choose_executor(pipeline, [Part(0, (Shard("-"),), "stdin")], 4, Config()).name == "inprocess"


# -- time budgets -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("executor", "marker", "budget"), [("pool", "<hang>", 1.5), ("inprocess", "<spin>", 1.0)], ids=["pool", "inprocess"]
)
def test_a_task_past_its_budget_is_stopped_and_the_document_that_hangs_rejected(
    tmp_path: Path, plugins: Path, monkeypatch: pytest.MonkeyPatch, executor: str, marker: str, budget: float
) -> None:
    """A stage that sleeps for an hour (pool: the worker is killed) or loops in Python (in-process: the timer
    interrupts it): the part runs past ``[run] task_timeout``, is narrowed down, and the one document that
    hangs is rejected as having run past its budget."""
    folder = tmp_path / "in"
    folder.mkdir()
    texts = [story(i, marker if i == 2 else "") for i in range(4)]
    (folder / "a.jsonl").write_bytes(
        b"".join(orjson.dumps({"id": f"a{i}", "text": t}) + b"\n" for i, t in enumerate(texts))
    )
    cfg = config(plugins, executor=executor, retries=0, task_timeout=budget)
    report = batch([str(folder)], tmp_path / "out", cfg)
    assert where(tmp_path / "out") == [("a.jsonl", 3, "a2")]
    assert "TaskTimeoutError('task ran past its time budget" in rejects(tmp_path / "out")[0]["reason"]
    assert report["documents"] == {"read": 4, "written": 3, "rejected": 1, "flagged": report["documents"]["flagged"]}
    undisturbed([str(folder)], tmp_path / "ref", cfg, monkeypatch)
    assert (tmp_path / "out" / "documents.jsonl").read_bytes() == (tmp_path / "ref" / "documents.jsonl").read_bytes()


# -- the learning pass ------------------------------------------------------------------------------------------


def test_a_document_that_kills_the_learning_pass_is_left_out_of_the_state_and_rejected(
    tmp_path: Path, plugins: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stage runs before the boilerplate stage learns, so the worker dies in the learning pass: the document
    is left out of what was learned, rejected by the cleaning pass without being run again, and the state
    (not cached: a resumed run learns again) is the one learned without it."""
    inputs = corpus(tmp_path / "in", {"a": {9: "<kill>"}})
    cfg = config(plugins, ["decode", "faulty", "whitespace", "headline", "boilerplate"], retries=0)
    report = batch(inputs, tmp_path / "out", cfg)
    assert where(tmp_path / "out") == [("a.jsonl", 10, "a9")]
    assert "the learning pass failed once on this input: WorkerLostError" in rejects(tmp_path / "out")[0]["reason"]
    assert report["documents"]["read"] == 40 and report["shards"]["failed"] == 1
    assert not (tmp_path / "out" / ".normkit" / "learned.json").exists()

    undisturbed(inputs, tmp_path / "ref", cfg, monkeypatch)
    assert (tmp_path / "out" / "documents.jsonl").read_bytes() == (tmp_path / "ref" / "documents.jsonl").read_bytes()
    assert learned(tmp_path / "out") == learned(tmp_path / "ref")


@linux_only
def test_a_learning_pass_with_a_hole_stops_the_run_and_nothing_is_cleaned_with_it(
    tmp_path: Path, plugins: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An I/O error writing a part's spill is no input's fault: it is not narrowed, the part fails every attempt,
    and the run stops (exit 5) before cleaning anything, rather than clean with a state that has holes."""
    inputs = corpus(tmp_path / "in", {})
    args = ["run", *inputs, "-o", str(tmp_path / "out"), "-q", "--shard-size", "600", "--retries", "1"]
    with monkeypatch.context() as patch:
        patch.setenv("DISKFULL_MATCH", "000002-|.spill-")
        patch.setenv("DISKFULL_ERRNO", "5")  # EIO
        result = CliRunner().invoke(cli, [*args, "--plugins-dir", str(plugins)])
    assert result.exit_code == 5, result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("normkit: error: the learning pass could not observe") and "OSError(5" in last
    assert not list((tmp_path / "out" / ".normkit" / "parts").glob("*.done.json")), "no part cleaned with holes"
    assert not (tmp_path / "out" / "documents.jsonl").exists()

    result = CliRunner().invoke(cli, [*args, "--plugins-dir", str(plugins)])
    report = checked(tmp_path / "out")
    assert result.exit_code == 0 and report["shards"]["skipped"] == 0
    reference = CliRunner().invoke(cli, ["run", *inputs, "-o", str(tmp_path / "ref"), "-q", "--shard-size", "600"])
    assert reference.exit_code == 0
    assert (tmp_path / "out" / "documents.jsonl").read_bytes() == (tmp_path / "ref" / "documents.jsonl").read_bytes()
    assert learned(tmp_path / "out") == learned(tmp_path / "ref")


# -- fail-fast ------------------------------------------------------------------------------------------------------


def test_fail_fast_keeps_a_prefix_of_the_input_however_the_parts_finish(tmp_path: Path, plugins: Path) -> None:
    """Parts before the first reject are slow and those after it fast, so the later ones finish first: the
    output is still exactly the input before the reject (and the reject), and the report counts those lines."""
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(8):
        texts = [story(10 * n + i, "<slow>" if n == 0 else "") for i in range(3)]
        lines = [orjson.dumps({"id": f"p{n}-{i}", "text": t}) for i, t in enumerate(texts)]
        if n == 3:
            lines[1] = b"{a broken record"
        (folder / f"p{n}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    sizes = [path.stat().st_size for path in folder.iterdir()]
    shard_size = max(sizes)  # one file a part: none is cut, no two fit together
    assert 2 * min(sizes) > shard_size
    cfg = config(plugins, shard_size=shard_size, executor="pool")
    full = batch([str(folder)], tmp_path / "full", cfg, workers=2)
    assert full["shards"]["total"] == 8
    expected = (tmp_path / "full" / "documents.jsonl").read_bytes().splitlines()[:10]  # p0..p2, and p3-0
    fast = config(plugins, shard_size=shard_size, executor="pool", fail_fast=True)
    for attempt in range(2):  # the code before this test failed it 8 times out of 8
        out = tmp_path / f"ff{attempt}"
        result = run_batch([str(folder)], str(out), fast, workers=2)
        assert result.stopped_early and result.exit_code == 1
        report = checked(out)
        assert (out / "documents.jsonl").read_bytes().splitlines() == expected
        assert where(out) == [("p3.jsonl", 2, None)]
        assert report["documents"] == {
            "read": 11,
            "written": 10,
            "rejected": 1,
            "flagged": report["documents"]["flagged"],
        }


def test_fail_fast_stops_at_a_document_that_kills_its_worker(
    tmp_path: Path, plugins: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed on line 6 of 12, with fail-fast: the part is narrowed down to that line, its reject is
    the last line of the output, and the lines before it are written as without the fault."""
    folder = tmp_path / "in"
    folder.mkdir()
    texts = [story(i, "<exit>" if i == 5 else "") for i in range(12)]
    (folder / "a.jsonl").write_bytes(
        b"".join(orjson.dumps({"id": f"a{i}", "text": t}) + b"\n" for i, t in enumerate(texts))
    )
    cfg = config(plugins, fail_fast=True, retries=0)
    result = run_batch([str(folder)], str(tmp_path / "out"), cfg)
    assert result.stopped_early
    report = checked(tmp_path / "out")
    assert report["documents"]["read"] == 6 and where(tmp_path / "out") == [("a.jsonl", 6, "a5")]
    undisturbed([str(folder)], tmp_path / "ref", config(plugins, retries=0), monkeypatch)
    reference = (tmp_path / "ref" / "documents.jsonl").read_bytes().splitlines()
    assert (tmp_path / "out" / "documents.jsonl").read_bytes().splitlines() == reference[:5]


# -- a full disk ----------------------------------------------------------------------------------------------------


def _run_out_of_disk(
    tmp_path: Path, plugins: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[str], list[str], Result]:
    """A run whose worker finds the disk full committing part 3's records: its inputs, the arguments to run it
    again, and the result (exit 4)."""
    inputs = corpus(tmp_path / "in", {})
    args = ["run", *inputs, "-o", str(tmp_path / "out"), "-q", "--shard-size", "600", "--workers", "2"]
    with monkeypatch.context() as patch:
        patch.setenv("DISKFULL_MATCH", "000003-|.records.jsonl")
        full = CliRunner().invoke(cli, [*args, "--plugins-dir", str(plugins)])
    assert full.exit_code == 4, full.output
    return inputs, args, full


@linux_only
def test_a_full_disk_in_a_worker_stops_the_run_and_a_resume_completes(
    tmp_path: Path, plugins: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC committing one part's files in a worker: no input is charged for it, the run stops with one line
    (exit 4), the parts committed stay, and running the same command again finishes the same bytes."""
    inputs, args, full = _run_out_of_disk(tmp_path, plugins, monkeypatch)
    lines = full.stderr.strip().splitlines()
    assert lines[-1].startswith("normkit: error: ") and "no space left on device" in lines[-1]
    assert not any("rejected" in line or "inputs of part" in line for line in lines)
    parts = tmp_path / "out" / ".normkit" / "parts"
    committed = len(list(parts.glob("*.done.json")))
    assert committed >= 2, "with two workers, parts 0 and 1 were committed before part 3 started"
    assert not (tmp_path / "out" / "rejects.jsonl").exists()

    resumed = CliRunner().invoke(cli, [*args, "--plugins-dir", str(plugins)])
    assert resumed.exit_code == 0, resumed.output
    report = checked(tmp_path / "out")
    assert report["shards"]["skipped"] == committed and report["documents"]["rejected"] == 0
    reference = CliRunner().invoke(cli, ["run", *inputs, "-o", str(tmp_path / "ref"), "-q", "--shard-size", "600"])
    assert reference.exit_code == 0
    for name in ("documents.jsonl", "rejects.jsonl"):
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "ref" / name).read_bytes(), name
    assert learned(tmp_path / "out") == learned(tmp_path / "ref")


def test_a_stage_that_finds_the_disk_full_stops_the_run_and_charges_no_document(tmp_path: Path, plugins: Path) -> None:
    from normkit.errors import DiskFullError

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_bytes(
        b"".join(orjson.dumps({"text": story(i, "<enospc>" * (i == 1))}) + b"\n" for i in range(3))
    )
    with pytest.raises(DiskFullError, match="stage 'faulty': no space left on device") as raised:
        run_batch([str(folder)], str(tmp_path / "out"), config(plugins, executor="inprocess"))
    assert raised.value.exit_code == 4
    assert not (tmp_path / "out" / "rejects.jsonl").exists()


# -- review of issue 12: stdin, the failure cap, spills, resuming given-up inputs ------------------------------------


def test_stdin_has_no_time_budget_and_is_read_once(tmp_path: Path, plugins: Path) -> None:
    """A slow stage on standard input with a short ``--task-timeout``: stopping the task and trying again would
    read the stream where the stopped attempt left it (documents lost, the rest rejected with false reasons),
    so a part reading stdin runs without a budget, once, and every document is written."""
    (tmp_path / "normkit.toml").write_text('pipeline = ["decode", "faulty"]\n[input]\nloader = "jsonl"\n')
    lines = [orjson.dumps({"id": f"s{i}", "text": f"Slow tide report {i}. <slow>"}) for i in range(6)]
    args = ["run", "-", "-o", str(tmp_path / "out"), "-q", "--plugins-dir", str(plugins)]
    args += ["--config", str(tmp_path / "normkit.toml"), "--task-timeout", "1"]
    result = CliRunner().invoke(cli, args, input=b"\n".join(lines) + b"\n")
    assert result.exit_code == 0, result.output
    report = checked(tmp_path / "out")
    assert report["documents"]["read"] == report["documents"]["written"] == 6
    ids = [orjson.loads(line)["id"] for line in (tmp_path / "out" / "documents.jsonl").read_bytes().splitlines()]
    assert ids == [f"s{i}" for i in range(6)]


def test_a_few_killers_among_thousands_are_narrowed_to_each_in_the_learning_pass(tmp_path: Path, plugins: Path) -> None:
    """Six lines of 2000 kill the worker while the boilerplate stage learns: narrowing each one down costs more
    than 64 failed tasks, which must not make the lines still cut in two "holes" (exit 5): the failure cap
    counts only splits that narrowed nothing down, and a single line is given up as one input whatever the cap."""
    folder = tmp_path / "in"
    folder.mkdir()
    killers = {150, 480, 777, 1203, 1650, 1999}
    (folder / "log.jsonl").write_bytes(
        b"".join(
            orjson.dumps({"id": f"l{i}", "text": f"Tide log {i}\nLow water at dawn.{' <exit>' * (i in killers)}"})
            + b"\n"
            for i in range(2000)
        )
    )
    cfg = config(plugins, ["decode", "faulty", "boilerplate"], workers=1)
    report = batch([str(folder)], tmp_path / "out", cfg)
    assert [r[1] for r in where(tmp_path / "out")] == sorted(i + 1 for i in killers)
    assert all("on this input: WorkerLostError" in r["reason"] for r in rejects(tmp_path / "out"))
    assert report["documents"]["read"] == 2000 and report["documents"]["written"] == 1994


@linux_only
def test_a_spill_left_by_an_earlier_run_is_not_read_back(
    tmp_path: Path, plugins: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run stops (a full disk) with the learned state saved and spills of parts it did not clean left in the
    work folder; someone edits them. The resumed run must not carry the edited text into documents.jsonl."""
    inputs, args, _ = _run_out_of_disk(tmp_path, plugins, monkeypatch)
    spills = list((tmp_path / "out" / ".normkit" / "parts").glob("*.spill-*.jsonl"))
    assert spills, "the parts not cleaned left their spills"
    for spill in spills:
        spill.write_bytes(spill.read_bytes().replace(b"Fishermen said", b"SMUGGLED TEXT"))

    resumed = CliRunner().invoke(cli, [*args, "--plugins-dir", str(plugins)])
    assert resumed.exit_code == 0, resumed.output
    assert b"SMUGGLED" not in (tmp_path / "out" / "documents.jsonl").read_bytes()
    reference = CliRunner().invoke(cli, ["run", *inputs, "-o", str(tmp_path / "ref"), "-q", "--shard-size", "600"])
    assert reference.exit_code == 0
    assert (tmp_path / "out" / "documents.jsonl").read_bytes() == (tmp_path / "ref" / "documents.jsonl").read_bytes()


def test_a_part_with_an_input_given_up_is_done_and_a_resume_skips_it(tmp_path: Path, plugins: Path) -> None:
    """The input that kills its worker is rejected with the reason; the part is marked done with that reject as
    its output, so running the same command again skips it instead of narrowing it down again."""
    inputs = corpus(tmp_path / "in", {"a": {17: "<exit>"}})
    (tmp_path / "normkit.toml").write_text('pipeline = ["decode", "whitespace", "boilerplate", "faulty"]\n')
    args = ["run", *inputs, "-o", str(tmp_path / "out"), "--plugins-dir", str(plugins), "--retries", "1"]
    args += ["--config", str(tmp_path / "normkit.toml")]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 1, first.output
    assert "failed (attempt" in first.stderr
    before = {name: (tmp_path / "out" / name).read_bytes() for name in ("documents.jsonl", "rejects.jsonl")}

    second = CliRunner().invoke(cli, args)
    assert second.exit_code == 1, second.output
    assert "failed (attempt" not in second.stderr, "the part was narrowed down again"
    report = checked(tmp_path / "out")
    assert report["shards"]["skipped"] == report["shards"]["total"] == 1
    assert report["documents"]["rejected"] == 1
    assert {name: (tmp_path / "out" / name).read_bytes() for name in before} == before
