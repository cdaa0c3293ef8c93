"""The learning pass's spill: continuing from it gives exactly what running every stage again gives."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest

from normkit import Config, Pipeline
from normkit.inputs import Shard

PAGE = (
    "Headline {n}\n\nHeadline {n}\n3 min read\n"
    "A sentence of the body number {n}, long enough to count.\n\nShare this article"
)


def corpus(tmp_path: Path) -> Shard:
    lines = [orjson.dumps({"id": str(n), "text": PAGE.format(n=n), "source": "site.example"}) for n in range(8)]
    lines += [b"not json", orjson.dumps({"id": "short", "text": "Just one line.", "source": "site.example"})]
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return Shard(str(path))


def test_cleaning_from_the_spill_equals_cleaning_from_the_input(tmp_path: Path, normkit_pm) -> None:
    shard = corpus(tmp_path)
    observer = Pipeline(Config(), pm=normkit_pm)
    assert observer.learning_stages(), "the default pipeline learns boilerplate from the batch"
    spill = io.BytesIO()
    learned = observer.merge_learned([observer.observe_shard(shard, spill)])

    direct, spilled = Pipeline(Config(), pm=normkit_pm), Pipeline(Config(), pm=normkit_pm)
    for pipeline in (direct, spilled):
        pipeline.apply_learned(learned)
    expected = list(direct.run_shard(shard))
    spill.seek(0)
    got = list(spilled.run_spilled(spill))
    assert got == expected
    assert any(e["rule"] == "learned" for record in got if isinstance(record, dict) for e in record["edits"])

    spill.seek(0)
    from normkit.spill import spill_stats

    spilled.stats.merge(spill_stats(spill))
    early = [s.name for s in direct.stages[: direct.learning_start()]]
    for name in early:
        assert spilled.stats.stages[name].to_dict() | {"seconds": 0} == direct.stats.stages[name].to_dict() | {
            "seconds": 0
        }
    assert (spilled.stats.read, spilled.stats.rejected) == (direct.stats.read, direct.stats.rejected) == (10, 1)


def test_undecoded_bytes_survive_the_spill() -> None:
    from normkit import Document
    from normkit.spill import read_spilled, write_spilled

    stream = io.BytesIO()
    write_spilled(stream, Document(id="a", raw=bytes(range(256))))
    stream.seek(0)
    (doc,) = read_spilled(stream)
    assert doc.raw == bytes(range(256))


@pytest.mark.parametrize("window", [1, 7, 1 << 16])
@pytest.mark.parametrize("lines", [0, 1, 40])
def test_the_counts_line_is_found_from_the_end_whatever_the_window(window: int, lines: int) -> None:
    """spill_stats reads backwards in growing windows: a last line longer than the window is still read whole."""
    from normkit.report import RunStats
    from normkit.spill import spill_stats, write_spill_stats

    stats = RunStats(read=3, written=2, rejected=1)
    stream = io.BytesIO()
    for n in range(lines):
        stream.write(orjson.dumps({"document": {"id": str(n), "text": "x" * n}}) + b"\n")
    write_spill_stats(stream, stats)
    assert spill_stats(stream, window=window).to_dict() == stats.to_dict()
