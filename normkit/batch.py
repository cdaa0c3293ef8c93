"""Running a pipeline over many inputs: shards, worker processes, the learning pass, and the run report.

Workers never receive a pipeline or a plugin manager: they get the picklable configuration and
:class:`~normkit.plugins.PluginSpec` and build their own, once per process.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from normkit.config import Config
from normkit.document import Reject
from normkit.inputs import Shard, discover
from normkit.output import Output, write_json, write_reject
from normkit.pipeline import Pipeline
from normkit.plugins import PluginSpec
from normkit.report import RunStats

__all__ = ["BatchResult", "ShardResult", "run_batch"]

#: called after each shard with (documents in it, bytes in it); drives the progress bar.
Progress = Callable[[int, int], None]


@dataclass
class ShardResult:
    """What one shard produced, in input order; small enough to send back from a worker."""

    shard: Shard
    items: list[dict[str, Any] | Reject] = field(default_factory=list)
    stats: RunStats = field(default_factory=RunStats)


@dataclass
class BatchResult:
    stats: RunStats
    seconds: float
    report: dict[str, Any]
    stopped_early: bool = False

    @property
    def exit_code(self) -> int:
        return 1 if self.stats.rejected else 0


# -- worker side -------------------------------------------------------------------------------------

_WORKER_PIPELINE: Pipeline | None = None


def _init_worker(config: Config, plugins: PluginSpec, learned: dict[str, Any]) -> None:
    global _WORKER_PIPELINE
    _WORKER_PIPELINE = Pipeline(config, plugins=plugins)
    _WORKER_PIPELINE.apply_learned(learned)


def _worker_process(shard: Shard) -> ShardResult:
    assert _WORKER_PIPELINE is not None, "worker not initialised"
    return process_shard(_WORKER_PIPELINE, shard)


def _worker_observe(shard: Shard) -> dict[str, Any]:
    assert _WORKER_PIPELINE is not None, "worker not initialised"
    return _WORKER_PIPELINE.observe_shard(shard)


def process_shard(pipeline: Pipeline, shard: Shard) -> ShardResult:
    """Run one shard through ``pipeline``; its counts are the shard's alone."""
    pipeline.stats = RunStats()
    items = list(pipeline.run_shard(shard))
    return ShardResult(shard, items, pipeline.stats)


# -- parent side -------------------------------------------------------------------------------------


def run_batch(
    inputs: Sequence[str],
    output: str,
    config: Config,
    plugins: PluginSpec | None = None,
    *,
    workers: int = 1,
    progress: Progress | None = None,
) -> BatchResult:
    """Process ``inputs`` into ``output`` (a folder or ``-``); every input ends in the output or the rejects."""
    started = time.perf_counter()
    pipeline = Pipeline(config, plugins=plugins)
    shards = discover(inputs, config.input.get("include", ()), config.input.get("exclude", ()))
    workers = workers or os.cpu_count() or 1
    target = Output(output, pipeline.exporter)
    stats = RunStats()
    stopped = False
    executor = _executor(workers, min(workers, len(shards)), pipeline, shards)
    with executor as results, target.open() as (writer, rejects):
        for result in results:
            stats.merge(result.stats)
            stopped = _write(result, writer, rejects, config.run.get("fail_fast", False))
            if progress:
                progress(len(result.items), result.stats.bytes_in)
            if stopped:
                break
    seconds = time.perf_counter() - started
    report = build_report(inputs, output, config, stats, seconds, workers)
    if target.report_path:
        write_json(target.report_path, report, schema="report")
    if not stopped:
        assert stats.balanced, f"accounting broken: {stats.to_dict()['documents']}"
    return BatchResult(stats, seconds, report, stopped)


def _write(result: ShardResult, writer: Any, rejects: Any, fail_fast: bool) -> bool:
    """Write a shard's records and rejects in order; True when fail-fast says to stop."""
    for item in result.items:
        if isinstance(item, Reject):
            write_reject(rejects, item)
            if fail_fast:
                return True
        else:
            writer.write(item)
    return False


class _executor:  # noqa: N801 - used as a context manager, reads like a function
    """Shard results in input order: in this process for one worker, else from a process pool."""

    def __init__(self, workers: int, useful: int, pipeline: Pipeline, shards: list[Shard]) -> None:
        self.workers, self.useful, self.pipeline, self.shards = workers, useful, pipeline, shards
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Iterator[ShardResult]:
        learned = self._learn()
        if self.workers <= 1 or self.useful <= 1:
            self.pipeline.apply_learned(learned)
            return (process_shard(self.pipeline, shard) for shard in self.shards)
        self.pool = self._pool(learned)
        return self.pool.map(_worker_process, self.shards)

    def _pool(self, learned: dict[str, Any]) -> ProcessPoolExecutor:
        args = (self.pipeline.config, self.pipeline.plugin_spec, learned)
        return ProcessPoolExecutor(self.useful, initializer=_init_worker, initargs=args)

    def _learn(self) -> dict[str, Any]:
        """The batch's first pass (map: observe each shard; reduce: merge), when a stage learns."""
        if not self.pipeline.learning_stages():
            return {}
        if self.workers <= 1 or self.useful <= 1:
            states = [self.pipeline.observe_shard(shard) for shard in self.shards]
        else:
            with self._pool({}) as pool:
                states = list(pool.map(_worker_observe, self.shards))
        return self.pipeline.merge_learned(states)

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


def build_report(
    inputs: Sequence[str], output: str, config: Config, stats: RunStats, seconds: float, workers: int
) -> dict[str, Any]:
    from normkit.plugins import _own_version

    return {
        "normkit_version": _own_version() or "unknown",
        "inputs": list(inputs),
        "output": output,
        "format": config.output.get("format", "jsonl"),
        "pipeline": config.pipeline,
        "workers": workers,
        "seconds": round(seconds, 6),
        "documents_per_second": round(stats.read / seconds, 3) if seconds else 0.0,
        "mb_per_second": round(stats.bytes_in / 1e6 / seconds, 3) if seconds else 0.0,
        **stats.to_dict(),
    }
