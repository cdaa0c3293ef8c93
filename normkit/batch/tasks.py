"""The tasks an executor runs, one per part, and the worker cache in which they find the run's pipeline.

A task is picklable and self-contained, so any executor can run it and any retry can repeat it: it carries
the :class:`Setup` and its part, takes this process's pipeline for the run from :data:`WORKERS`, writes its
own files, and sends back only what the parent needs. Each task counts into a :class:`RunStats` of its own
and returns it: the pipeline it shares with the run's other tasks in this process holds no counts of theirs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from normkit.batch.cache import PipelineCache
from normkit.batch.resume import mark_done
from normkit.config import Config
from normkit.document import Reject
from normkit.inputs import Part
from normkit.output import BUFFER_SIZE, PartFiles, atomic_file, open_part, write_record, write_reject
from normkit.pipeline import Pipeline
from normkit.plugins import PluginSpec
from normkit.report import RunStats
from normkit.spill import spill_stats

if TYPE_CHECKING:  # learning.py builds tasks; a task only carries the state
    from normkit.batch.learning import LearnedState

__all__ = ["MAX_MESSAGES", "WORKERS", "CleanPart", "ObservePart", "Observed", "PartResult", "Setup", "WorkerCache"]

#: reject messages a part sends back for stderr; the rest are in rejects.jsonl.
MAX_MESSAGES = 200


@dataclass(frozen=True)
class Setup:
    """How a worker builds the run's pipeline: ``run`` names the run, so each process builds it once.

    ``learned`` is None in the learning pass; the cleaning pass brings the state the pipeline applies.
    """

    config: Config
    plugins: PluginSpec
    run: str
    learned: LearnedState | None = None


@dataclass
class _RunPipeline:
    pipeline: Pipeline
    learned: str | None = None  # the key of the learned state applied: the cleaning pass has begun


class WorkerCache:
    """This process's pipeline for the run it works for: one pipeline per run id per process.

    Lifetime: the first task of a run that reaches a process builds the run's pipeline (loading plugins,
    compiling rules), and the run's later tasks there, of both passes, reuse it. One run at a time: the first
    task of another run replaces it, so an old run's pipeline is never kept alive beside a new one. The parent
    puts its own pipeline in (:meth:`share`), so in-process tasks use it rather than build a second, and takes
    it out (:meth:`forget`) when the run ends; a pool worker's entry ends with its process, a remote Dask
    worker's when the next run's first task arrives.
    """

    def __init__(self) -> None:
        self._runs: PipelineCache[_RunPipeline] = PipelineCache(size=1)

    def share(self, run: str, pipeline: Pipeline) -> None:
        """Make ``pipeline`` this process's pipeline for ``run``."""
        self._runs.put(run, _RunPipeline(pipeline))

    def forget(self, run: str) -> None:
        """Drop the run's pipeline: the run is over, and nothing else should keep it alive."""
        self._runs.forget(run)

    def pipeline(self, setup: Setup) -> Pipeline:
        """The run's pipeline, built once, with the learned state of ``setup`` applied once.

        The same pipeline observes in the learning pass, then cleans with the learned state applied:
        observing never runs a learning stage's ``process``, and ``learned()`` hands over and clears what was
        observed (``observe_reset`` clears what a failed attempt left), so the cleaning pass sees none of it.
        """
        entry = self._runs.get(setup.run, lambda: _RunPipeline(Pipeline(setup.config, plugins=setup.plugins)))
        if setup.learned is not None and entry.learned != setup.learned.key:
            entry.pipeline.observe_reset()
            entry.pipeline.apply_learned(setup.learned.state())
            entry.learned = setup.learned.key
        return entry.pipeline

    def __contains__(self, run: object) -> bool:
        return run in self._runs

    def __len__(self) -> int:
        return len(self._runs)


#: this process's worker cache: a task that arrives in a worker finds the run's pipeline here.
WORKERS = WorkerCache()


class Observed(NamedTuple):
    """What a part's learning task sends back: the learning stages' states, and the inputs it read (progress)."""

    states: dict[str, Any]
    inputs: int


@dataclass(frozen=True)
class ObservePart:
    """The map step of the learning pass: what the learning stages saw in one part.

    The documents as they reach the first learning stage are spilled to ``spill``, so the cleaning pass
    does not load and run the earlier stages again (see :mod:`normkit.spill`). So are the counts of those
    stages, which this task keeps in a :class:`RunStats` of its own: the cleaning task of the part reads them
    back and reports them, once.
    """

    setup: Setup
    part: Part
    spill: Path

    def __call__(self) -> Observed:
        pipeline = WORKERS.pipeline(self.setup)
        pipeline.observe_reset()  # whatever a failed attempt in this process left behind
        stats = RunStats()
        with atomic_file(self.spill) as spill:
            states = [pipeline.observe_shard(shard, spill, stats) for shard in self.part.shards]
        return Observed(pipeline.merge_learned(states), pipeline.observed)


@dataclass
class PartResult:
    """What a cleaning task sends back for one part: its own counts and a few reject messages, never records."""

    index: int
    stats: RunStats
    messages: list[str] = field(default_factory=list)
    stopped: bool = False


@dataclass(frozen=True)
class CleanPart:
    """Load, clean and export one part into its own files, then mark it done."""

    setup: Setup
    part: Part
    files: PartFiles
    key: str
    fail_fast: bool = False
    spill: Path | None = None

    def __call__(self) -> PartResult:
        pipeline = WORKERS.pipeline(self.setup)
        result = PartResult(self.part.index, RunStats())
        with open_part(self.files) as (records, rejects), ExitStack() as stack:
            for item in self._outcomes(pipeline, result.stats, stack):
                if not isinstance(item, Reject):
                    write_record(records, item)
                elif self._stop_at(item, rejects, result):
                    break
        if not result.stopped:
            mark_done(self.files, self.part, self.key, result.stats)
            if self.spill is not None:
                self.spill.unlink(missing_ok=True)
        return result

    def _stop_at(self, reject: Reject, stream: IO[bytes], result: PartResult) -> bool:
        """Write ``reject`` and keep its message for stderr; True when fail-fast stops the part at it."""
        write_reject(stream, reject)
        if len(result.messages) < MAX_MESSAGES:
            result.messages.append(reject.message())
        result.stopped = self.fail_fast
        return result.stopped

    def _outcomes(self, pipeline: Pipeline, stats: RunStats, stack: ExitStack) -> Iterator[dict[str, Any] | Reject]:
        """From the learning pass's spill when there is one (a resumed run may lack it), else the input."""
        if self.spill is None or not self.spill.exists():
            return (item for shard in self.part.shards for item in pipeline.run_shard(shard, stats))
        with self.spill.open("rb") as stream:
            stats.merge(spill_stats(stream))  # the stages the learning pass ran, counted there
        stats.bytes_in += sum(shard.size for shard in self.part.shards if shard.path != "-")
        return pipeline.run_spilled(stack.enter_context(self.spill.open("rb", buffering=BUFFER_SIZE)), stats)
