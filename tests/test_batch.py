"""The accounting invariant: every input ends in the output or the rejects, exactly once."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from normkit import Config, run_batch
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
    result = run_batch([str(p) for p in sorted(folder.glob("*.jsonl"))], str(out), Config(), workers=1)
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
                seen.extend(enumerate(stream, start=getattr(stream, "first_line", 1)))
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
