"""What a run tells its user: progress as parts finish, warnings on stderr, and ``report.json``.

The counts themselves are :class:`~normkit.report.RunStats`, which the pipeline keeps per task; a run adds
them up in a :class:`Tally` (each part's counts once) and builds the report from it here.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from normkit.config import Config
from normkit.executors import Executor
from normkit.inputs import shown_path
from normkit.output import Output
from normkit.plugins import _own_version
from normkit.report import RunStats

__all__ = ["Progress", "Silent", "Tally", "build_report", "warn"]


class Progress(Protocol):
    """What the command line's progress bar needs: the bytes ahead, then each finished part."""

    def begin(self, phase: str, total_bytes: int) -> None: ...

    def advance(self, documents: int, size: int) -> None: ...


class Silent:
    """The progress of a run nobody watches (a library call): the passes report progress unconditionally."""

    def begin(self, phase: str, total_bytes: int) -> None:
        pass

    def advance(self, documents: int, size: int) -> None:
        pass


def warn(message: str) -> None:
    """One line on stderr: a failed attempt or a reject is worth seeing while the run goes on."""
    print(f"normkit: {message}", file=sys.stderr)


@dataclass
class Tally:
    """What a run did, for the report: each part's counts added once, and what became of each part."""

    stats: RunStats = field(default_factory=RunStats)  # the whole output, parts kept from an earlier run too
    fresh: RunStats = field(default_factory=RunStats)  # what this run processed itself: the speeds
    shards: Counter[str] = field(default_factory=Counter)  # parts done, skipped, retried and failed

    def kept(self, stats: RunStats) -> None:
        """A part an earlier run finished: in the output, not in this run's speeds."""
        self.stats.merge(stats)
        self.shards["skipped"] += 1

    def processed(self, stats: RunStats, outcome: str) -> None:
        """A part this run cleaned (``done``) or rejected input by input after every attempt failed (``failed``)."""
        self.stats.merge(stats)
        self.fresh.merge(stats)
        self.shards[outcome] += 1


def build_report(
    *,
    inputs: Sequence[str],
    output: Output,
    config: Config,
    executor: Executor,
    tally: Tally,
    phases: dict[str, float],
    shard_size: int,
    parts: int,
    seconds: float,
) -> dict[str, Any]:
    """``report.json``: what ran, how fast, and the counts (validated against ``report.schema.json``)."""
    fresh, clean = tally.fresh, phases.get("clean", 0.0)
    return {
        "normkit_version": _own_version() or "unknown",
        "inputs": [shown_path(path) for path in inputs],  # a name that is not UTF-8, escaped
        "output": output.target,
        "config": _config_file(config),
        "format": config.output.get("format", "jsonl"),
        "pipeline": config.pipeline,
        "executor": executor.name,
        "workers": executor.workers,
        "seconds": round(seconds, 6),
        "documents_per_second": round(fresh.read / seconds, 3) if seconds else 0.0,
        "mb_per_second": round(fresh.bytes_in / 1e6 / seconds, 3) if seconds else 0.0,
        "clean_mb_per_second": round(fresh.bytes_in / 1e6 / clean, 3) if clean else 0.0,
        "shard_size": shard_size,
        "phases": phases,
        "shards": {"total": parts, **{k: tally.shards[k] for k in ("done", "skipped", "retried", "failed")}},
        **tally.stats.to_dict(),
    }


def _config_file(config: Config) -> str | None:
    """The configuration file a run used, absolute: which settings made an output is then on record (None:
    the defaults, or a configuration built in code)."""
    return str(Path(config.path).absolute()) if config.path is not None else None
