"""The accounting invariant: every input ends in the output or the rejects, exactly once."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from normkit import BatchResult, Config, run_batch
from normkit.batch import MAX_SHARD_SIZE, MIN_SHARD_SIZE, auto_shard_size
from normkit.inputs import Shard, discover, plan_parts

good = st.builds(lambda t: orjson.dumps({"text": t}), st.text(min_size=1, max_size=80))
bad = st.sampled_from([b"{not json", b"[]", b'{"text": 3}', b'{"id": "x"}', b'"just a string"', b"\xff\xfe junk"])
lines = st.lists(st.one_of(good, bad), min_size=1, max_size=25)
files = st.lists(lines, min_size=1, max_size=4)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files)
def test_every_input_is_written_or_rejected_exactly_once(tmp_path: Path, batch: list[list[bytes]]) -> None:
    folder = tmp_path / f"in{abs(hash(str(batch)))}"
    folder.mkdir()
    for i, content in enumerate(batch):
        (folder / f"{i}.jsonl").write_bytes(b"\n".join(content) + b"\n")
    out = folder / "out"
    config = Config().with_overrides(run={"executor": "inprocess"})  # the executors agree: test_executors.py
    result = run_batch([str(p) for p in sorted(folder.glob("*.jsonl"))], str(out), config, workers=1)
    written = out.joinpath("documents.jsonl").read_bytes().splitlines()
    rejected = out.joinpath("rejects.jsonl").read_bytes().splitlines()
    origins = [orjson.loads(r)["origin"] for r in written] + [orjson.loads(r)["origin"] for r in rejected]
    expected = [{"path": str(folder / f"{i}.jsonl"), "line": n + 1} for i, c in enumerate(batch) for n in range(len(c))]
    key = lambda o: (o["path"], o["line"])  # noqa: E731
    assert sorted(origins, key=key) == sorted(expected, key=key)
    stats = result.stats
    assert (stats.read, stats.written, stats.rejected) == (len(expected), len(written), len(rejected))


# -- shards: byte ranges of a large JSONL file, small files grouped ------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")), min_size=1, max_size=40),
    st.integers(1, 120),
    st.integers(1, 64),
    st.booleans(),
)
def test_ranges_cover_every_line_once_with_its_number(
    lines: list[bytes], target: int, chunk: int, end_nl: bool
) -> None:
    import tempfile

    import normkit.inputs

    data = b"\n".join(lines) + (b"\n" if end_nl else b"")
    assume(not data.startswith((b"\x1f\x8b", b"\x28\xb5\x2f\xfd")))  # a gzip/zstd magic: read as compressed
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.jsonl"
        path.write_bytes(data)
        previous, normkit.inputs._SCAN_CHUNK = normkit.inputs._SCAN_CHUNK, chunk
        try:
            parts = plan_parts([Shard(str(path))], target, lambda _: True)
        finally:
            normkit.inputs._SCAN_CHUNK = previous
        seen = []
        for shard in (shard for part in parts for shard in part.shards):
            with shard.open() as stream:
                seen.extend(enumerate(stream, start=shard.first_line))
    assert seen == list(enumerate(io.BytesIO(data).readlines(), start=1))
    assert [p.index for p in parts] == list(range(len(parts)))


def test_split_file_gives_the_same_records_and_origins_as_one_shard(tmp_path: Path) -> None:
    lines = [orjson.dumps({"text": f"Line {i} of the file."}) if i % 7 else b"{bad" for i in range(60)]
    (tmp_path / "big.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    config = Config.from_mapping({"pipeline": ["decode", "whitespace"]})
    whole = run_batch([str(tmp_path / "big.jsonl")], str(tmp_path / "whole"), config, workers=1)
    split = run_batch(
        [str(tmp_path / "big.jsonl")],
        str(tmp_path / "split"),
        config.with_overrides(run={"shard_size": 200}),
        workers=1,
    )
    assert whole.report["shards"]["total"] == 1 and split.report["shards"]["total"] > 5
    for name in ("documents.jsonl", "rejects.jsonl"):
        assert (tmp_path / "whole" / name).read_bytes() == (tmp_path / "split" / name).read_bytes()
    assert split.stats.bytes_in == (tmp_path / "big.jsonl").stat().st_size


def test_small_files_are_grouped_and_compressed_files_never_split(tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"{i}.txt").write_text("x" * 40)
    (tmp_path / "c.jsonl.gz").write_bytes(gzip.compress(b"".join(orjson.dumps({"text": i**7}) for i in range(50))))
    parts = plan_parts(discover([str(tmp_path)]), 100, lambda _: True)
    names = [[Path(s.path).name for s in p.shards] for p in parts]
    assert names == [["0.txt", "1.txt"], ["2.txt", "3.txt"], ["4.txt"], ["c.jsonl.gz"]]
    assert all(s.end is None for p in parts for s in p.shards)
    assert len({p.name for p in parts}) == len(parts)


def test_auto_shard_size_is_a_power_of_two_between_bounds() -> None:
    assert auto_shard_size(0) == MIN_SHARD_SIZE
    assert auto_shard_size(2 * 10**9) == 16 << 20
    assert auto_shard_size(10**13) == MAX_SHARD_SIZE


def test_fail_fast_keeps_the_shards_before_the_stop(tmp_path: Path) -> None:
    for i in range(4):
        (tmp_path / f"{i}.jsonl").write_text('{"text": "a"}\n' + ("bad\n" if i == 2 else '{"text": "b"}\n'))
    config = Config.from_mapping({"pipeline": ["decode"], "run": {"fail_fast": True, "shard_size": 20}})
    result = run_batch([str(tmp_path)], str(tmp_path / "out"), config, workers=1)
    assert result.stopped_early and result.exit_code == 1
    assert len((tmp_path / "out" / "documents.jsonl").read_bytes().splitlines()) == 5


class RecordedProgress:
    """A stand-in for the command line's bar: what each pass announced and advanced."""

    def __init__(self) -> None:
        self.phases: dict[str, list[int]] = {}

    def begin(self, phase: str, total_bytes: int) -> None:
        self.phases[phase] = [total_bytes, 0, 0]

    def advance(self, documents: int, size: int) -> None:
        current = self.phases[list(self.phases)[-1]]
        current[1] += documents
        current[2] += size


@pytest.mark.parametrize("executor", ["inprocess", "pool"])
def test_both_passes_report_documents_and_bytes_as_parts_finish(tmp_path: Path, executor: str) -> None:
    """The bar shows docs/s, MB/s and an ETA from these: the learning pass counts documents too."""
    data = tmp_path / "in.jsonl"
    data.write_bytes(b"".join(orjson.dumps({"text": f"Doc {i}.\nShare this"}) + b"\n" for i in range(300)))
    progress = RecordedProgress()
    config = Config().with_overrides(run={"shard_size": 2048, "executor": executor})
    run_batch([str(data)], str(tmp_path / "out"), config, workers=2, progress=progress)
    size = data.stat().st_size
    assert progress.phases == {"learning": [size, 300, size], "cleaning": [size, 300, size]}


def test_lost_documents_are_an_error_even_under_python_dash_o() -> None:
    """The accounting check is an exception with its own exit code, not an assert that -O would remove."""
    from normkit.batch import check_accounting
    from normkit.errors import AccountingError
    from normkit.report import RunStats

    check_accounting(RunStats(read=3, written=2, rejected=1))
    with pytest.raises(AccountingError, match="accounting broken") as raised:
        check_accounting(RunStats(read=3, written=1, rejected=1))
    assert raised.value.exit_code == 3


# -- state: the worker cache, each task's own counts, and what the learning pass may swallow -----------------


def test_the_pipeline_cache_keeps_the_newest_and_builds_each_key_once() -> None:
    from normkit.batch import PipelineCache

    cache: PipelineCache[list[str]] = PipelineCache(size=2)
    built: list[str] = []

    def build(key: str) -> list[str]:
        built.append(key)
        return [key]

    for key in ("a", "b", "a", "c", "a"):
        cache.get(key, lambda key=key: build(key))
    assert built == ["a", "b", "c", "a"], "a stayed until c came, the third key, then went first"
    assert "c" in cache and "a" in cache and "b" not in cache and len(cache) == 2


def test_each_cleaning_task_counts_its_own_part_and_no_run_outlives_run_batch(tmp_path: Path) -> None:
    from normkit import Pipeline
    from normkit.batch import WORKERS, CleanPart, LearnedState, Setup
    from normkit.output import PartFiles

    (tmp_path / "in").mkdir()
    for i, docs in enumerate((2, 3)):
        lines = b"".join(orjson.dumps({"text": f"doc {n}"}) + b"\n" for n in range(docs))
        (tmp_path / "in" / f"{i}.jsonl").write_bytes(lines)
    config = Config.from_mapping({"pipeline": ["decode", "whitespace"]})
    pipeline = Pipeline(config)
    parts = plan_parts(discover([str(tmp_path / "in")]), 1, lambda _: False)
    setup = Setup(config, pipeline.plugin_spec, "a run", LearnedState("key", {}))
    WORKERS.share("a run", pipeline)
    try:
        results = []
        for part in parts:
            files = PartFiles(*(tmp_path / f"{part.name}.{kind}" for kind in ("records", "rejects", "done")))
            results.append(CleanPart(setup, part, files, "key")())
    finally:
        WORKERS.forget("a run")
    assert [(r.stats.read, r.stats.written) for r in results] == [(2, 2), (3, 3)]
    assert pipeline.stats.read == 0 and not pipeline.stats.stages, "nothing counted behind the caller's back"

    run_batch([str(tmp_path / "in")], str(tmp_path / "out"), config.with_overrides(run={"executor": "inprocess"}))
    assert len(WORKERS) == 0, "the run's pipeline is forgotten when run_batch returns"


LEARNERS = """
import normkit
from normkit import RejectDocument, Stage, hookimpl


class Learner(Stage, normkit.Learner):

    def __init__(self, options, context):
        super().__init__(options, context)
        self.seen = 0

    def observe(self, doc):
        if "OBSERVE-BUG" in doc.text:
            raise KeyError("a bug in observe")
        self.seen += 1

    def learned(self):
        seen, self.seen = self.seen, 0
        return seen

    @classmethod
    def merge_learned(cls, states):
        return sum(states)

    def apply_learned(self, state):
        self.total = state

    def process(self, doc):
        return doc

    def save_learned(self, state, folder):
        (folder / f"{self.name}.seen").write_text(str(state))


class First(Learner):
    name = "first"


class Second(Learner):
    name = "second"


class Picky(Stage):
    name = "picky"

    def process(self, doc):
        if "REFUSE" in doc.text:
            raise RejectDocument("refused")
        if "BOOM" in doc.text:
            raise RuntimeError("kaboom")
        return doc


@hookimpl
def normkit_register_stages(register):
    for stage in (First, Second, Picky):
        register(stage)
"""


def learners_run(tmp_path: Path, texts: list[str]) -> tuple[BatchResult, Path]:
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "learners.py").write_text(LEARNERS)
    (tmp_path / "in.jsonl").write_bytes(b"".join(orjson.dumps({"text": t}) + b"\n" for t in texts))
    config = Config.from_mapping(
        {
            "pipeline": ["first", "picky", "second"],
            "plugins": {"dirs": [str(tmp_path / "plugins")]},
            "run": {"executor": "inprocess", "retries": 0},
        }
    )
    out = tmp_path / "out"
    return run_batch([str(tmp_path / "in.jsonl")], str(out), config), out


def test_a_document_a_stage_refuses_between_learning_stages_is_not_learned_from_and_rejected_once(
    tmp_path: Path,
) -> None:
    """The learning pass catches only the per-document failures the cleaning pass charges to one document."""
    result, out = learners_run(tmp_path, ["fine", "REFUSE this", "BOOM here", "fine too"])
    assert ((out / "first.seen").read_text(), (out / "second.seen").read_text()) == ("4", "2")
    rejects = [orjson.loads(line) for line in (out / "rejects.jsonl").read_bytes().splitlines()]
    assert [(r["origin"]["line"], r["stage"], r["reason"]) for r in rejects] == [
        (2, "picky", "refused"),
        (3, "picky", "stage raised RuntimeError('kaboom')"),
    ]
    assert (result.stats.read, result.stats.written, result.stats.rejected) == (4, 2, 2)


def test_a_learning_stage_that_cannot_observe_fails_its_part_out_loud(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug in ``observe`` is no per-document failure: it fails the part out loud, the part is narrowed down
    to the document that triggers it, and that document alone is left out of the state and rejected, with
    the error. The state, learned without it, is not cached: a resumed run learns again."""
    result, out = learners_run(tmp_path, ["fine", "OBSERVE-BUG", "fine too"])
    assert "part 0 failed (attempt 1/1): KeyError('a bug in observe')" in capsys.readouterr().err
    assert ((out / "first.seen").read_text(), (out / "second.seen").read_text()) == ("2", "2")
    assert not (out / ".normkit" / "learned.json").exists()
    rejects = [orjson.loads(line) for line in (out / "rejects.jsonl").read_bytes().splitlines()]
    assert [(r["origin"]["line"], r["hook"]) for r in rejects] == [(2, "executor")]
    assert "the learning pass failed once on this input: KeyError('a bug in observe')" in rejects[0]["reason"]
    assert (result.stats.read, result.stats.written, result.stats.rejected) == (3, 2, 1)


class _Inline:
    """An executor that runs each task here, in order, and reports what it raised."""

    def run(self, tasks: list[object]) -> object:
        for index, task in enumerate(tasks):
            try:
                yield index, task(), None  # type: ignore[operator]
            except Exception as error:  # noqa: BLE001 - reported, as an executor does
                yield index, None, error


class _TooLarge:
    """A pass over one object of 100 inputs of 300 bytes each but input 42, too large alone, where a task may
    send back 1000 bytes: every piece of more than three inputs stops with PartTooLargeError."""

    def __init__(self) -> None:
        self.ran: list[tuple[int, int] | None] = []
        self.leaves: list[object] = []

    def task(self, index: int, piece: object) -> object:
        from normkit.batch.tasks import PartTooLargeError

        def run() -> tuple[int, int]:
            window = piece.window  # type: ignore[attr-defined]
            self.ran.append(window)
            if window is None or window[1] - window[0] > 3 or window[0] <= 42 < window[1]:
                raise PartTooLargeError(1200, 4, 1000)
            return window  # type: ignore[no-any-return]

        return run

    def count(self, index: int, piece: object) -> object:
        return lambda: 100

    def stops(self, result: object) -> bool:
        return False

    def arrived(self, index: int, piece: object, result: object) -> object:
        return result

    def resolved(self, index: int, leaves: list[object]) -> None:
        self.leaves = leaves


@pytest.mark.parametrize("cap", [0, 64])
def test_a_piece_too_large_to_send_is_cut_at_once_never_retried(monkeypatch: pytest.MonkeyPatch, cap: int) -> None:
    """Cut into as many windows as the output read so far says (not halved over and over), none tried twice,
    nothing counted as a retry, even for a part past the cap of failures; one input too large alone is given up
    at once."""
    import normkit.batch.rounds as rounds
    from normkit.batch.report import Tally
    from normkit.batch.tasks import PartTooLargeError, Piece

    monkeypatch.setattr(rounds, "MAX_FAILURES", cap)
    tally, work = Tally(), _TooLarge()
    runner = rounds.Rounds(_Inline(), 2, tally, timeout=None)  # type: ignore[arg-type]
    runner.run(work, {0: [Piece((Shard("s3://bucket/big.jsonl", object_size=30_000),))]})  # type: ignore[arg-type]
    windows = [leaf.piece.window for leaf in work.leaves]  # type: ignore[attr-defined]
    assert windows[0] == (0, 2) and windows[-1] == (97, 100)  # 100 inputs * 1.2 / (0.8 * 1000): 38 windows
    assert [w[1] for w in windows[:-1]] == [w[0] for w in windows[1:]], "contiguous, in input order"
    assert len(work.ran) == len(set(work.ran)), "no piece tried twice"
    failed = [leaf for leaf in work.leaves if leaf.failed]  # type: ignore[attr-defined]
    assert [(leaf.piece.window, leaf.single, type(leaf.error)) for leaf in failed] == [
        ((42, 43), True, PartTooLargeError)
    ]
    assert tally.shards["retried"] == 0


def test_the_pieces_of_a_condemned_piece_cut_for_size_stay_condemned() -> None:
    from normkit.batch.cleaning import CleaningPass

    cleaning = CleaningPass.__new__(CleaningPass)
    cleaning.condemned = {(0, "01"): "the learning pass failed 3 times on this input"}
    assert cleaning._condemned(0, "01") == cleaning._condemned(0, "010011") == cleaning.condemned[(0, "01")]
    assert cleaning._condemned(0, "00") is None and cleaning._condemned(0, "") is None
    assert cleaning._condemned(1, "01") is None
