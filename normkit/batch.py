"""Running a pipeline over many inputs: parts, the learning pass, executors, retries, resume, and the report.

Inputs are cut into parts (:func:`~normkit.inputs.plan_parts`); an executor plugin runs one task per part.
Tasks carry only picklable data (the configuration, the :class:`~normkit.plugins.PluginSpec`, the learned
state); each worker builds its own pipeline once, writes its part's files itself and sends back counts.
The parent retries failed parts, rejects the inputs of a part that keeps failing, skips parts a previous
run finished, and assembles the final files in part order, so every executor gives the same bytes.
"""

from __future__ import annotations

import hashlib
import pickle
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from normkit.config import Config
from normkit.document import Document, Reject
from normkit.errors import AccountingError, ConfigError
from normkit.executors import Executor, Task, resolve_workers
from normkit.inputs import Part, discover, plan_parts
from normkit.output import (
    BUFFER_SIZE,
    Output,
    PartFiles,
    atomic_file,
    open_part,
    write_json,
    write_record,
    write_reject,
)
from normkit.pipeline import Pipeline
from normkit.plugins import PluginSpec, _own_version
from normkit.report import RunStats
from normkit.resume import WorkFolder, mark_done, run_key
from normkit.spill import spill_stats

__all__ = ["BatchResult", "PartResult", "Progress", "run_batch"]

#: without ``run.shard_size``: about 64 shards, a power of two between these bounds (see :func:`auto_shard_size`).
MIN_SHARD_SIZE, MAX_SHARD_SIZE = 1 << 20, 1 << 26
DEFAULT_RETRIES = 2
#: reject messages a part sends back for stderr; the rest are in rejects.jsonl.
MAX_MESSAGES = 200


class Progress(Protocol):
    """What the command line's progress bar needs: the bytes ahead, then each finished part."""

    def begin(self, phase: str, total_bytes: int) -> None: ...

    def advance(self, documents: int, size: int) -> None: ...


@dataclass
class PartResult:
    """What a worker sends back for one part: counts and a few reject messages, never the records."""

    index: int
    stats: RunStats
    messages: list[str] = field(default_factory=list)
    stopped: bool = False


@dataclass
class BatchResult:
    stats: RunStats
    seconds: float
    report: dict[str, Any]
    stopped_early: bool = False

    @property
    def exit_code(self) -> int:
        return 1 if self.stats.rejected else 0


# -- worker side: tasks ---------------------------------------------------------------------------


class LearnedState:
    """The learning pass's result on its way to the cleaning tasks: pickled once, unpickled once per process.

    Every cleaning task carries it, so a task stays self-contained (any executor, any retry); but the parent
    pickles it once for all of them (it can be megabytes: line counts per source), and a worker unpickles it
    only for the pipeline that has not applied it yet, not once per task.
    """

    def __init__(self, key: str, state: dict[str, Any]) -> None:
        self.key = key  # names the state: the run key, which includes the learning pass's key
        self._state: dict[str, Any] | None = state
        self._pickled: bytes | None = None

    def state(self) -> dict[str, Any]:
        if self._state is None:
            self._state = pickle.loads(self._pickled or b"")
        return self._state

    def __getstate__(self) -> dict[str, Any]:
        if self._pickled is None:
            self._pickled = pickle.dumps(self._state, protocol=pickle.HIGHEST_PROTOCOL)
        return {"key": self.key, "pickled": self._pickled}

    def __setstate__(self, data: dict[str, Any]) -> None:
        self.key, self._pickled, self._state = data["key"], data["pickled"], None


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


#: this process's pipeline, by run: one run at a time, so old pipelines are not kept alive.
_PIPELINES: dict[str, _RunPipeline] = {}


def _pipeline(setup: Setup) -> Pipeline:
    """This process's pipeline for the run, built once: building loads plugins and compiles rules.

    The same pipeline observes in the learning pass, then cleans with the learned state applied once:
    observing never runs a learning stage's ``process``, and ``learned()`` hands over and clears what was
    observed (``observe_reset`` clears what a failed attempt left), so the cleaning pass sees none of it.
    """
    entry = _PIPELINES.get(setup.run)
    if entry is None:
        entry = _share(setup.run, Pipeline(setup.config, plugins=setup.plugins))
    if setup.learned is not None and entry.learned != setup.learned.key:
        entry.pipeline.observe_reset()
        entry.pipeline.apply_learned(setup.learned.state())
        entry.learned = setup.learned.key
    entry.pipeline.stats = RunStats()
    return entry.pipeline


def _share(run: str, pipeline: Pipeline) -> _RunPipeline:
    """Make ``pipeline`` this process's pipeline for ``run`` (the parent's serves the inprocess executor)."""
    _PIPELINES.clear()
    entry = _PIPELINES[run] = _RunPipeline(pipeline)
    return entry


@dataclass(frozen=True)
class ObservePart:
    """The map step of the learning pass: what the learning stages saw in one part.

    The documents as they reach the first learning stage are spilled to ``spill``, so the cleaning pass
    does not load and run the earlier stages again (see :mod:`normkit.spill`).
    """

    setup: Setup
    part: Part
    spill: Path

    def __call__(self) -> Observed:
        pipeline = _pipeline(self.setup)
        pipeline.observe_reset()  # whatever a failed attempt in this process left behind
        with atomic_file(self.spill) as spill:
            states = [pipeline.observe_shard(shard, spill) for shard in self.part.shards]
        return Observed(pipeline.merge_learned(states), pipeline.observed)


class Observed(NamedTuple):
    """What a part's learning task sends back: the learning stages' states, and the inputs it read (progress)."""

    states: dict[str, Any]
    inputs: int


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
        pipeline = _pipeline(self.setup)
        result = PartResult(self.part.index, pipeline.stats)
        with open_part(self.files) as (records, rejects), ExitStack() as stack:
            for item in self._outcomes(pipeline, stack):
                if not isinstance(item, Reject):
                    write_record(records, item)
                    continue
                write_reject(rejects, item)
                if len(result.messages) < MAX_MESSAGES:
                    result.messages.append(item.message())
                if self.fail_fast:
                    result.stopped = True
                    break
        if not result.stopped:
            mark_done(self.files, self.part, self.key, pipeline.stats)
            if self.spill is not None:
                self.spill.unlink(missing_ok=True)
        return result

    def _outcomes(self, pipeline: Pipeline, stack: ExitStack) -> Iterator[dict[str, Any] | Reject]:
        """From the learning pass's spill when there is one (a resumed run may lack it), else the input."""
        if self.spill is None or not self.spill.exists():
            return (item for shard in self.part.shards for item in pipeline.run_shard(shard))
        with self.spill.open("rb") as stream:
            pipeline.stats.merge(spill_stats(stream))
        pipeline.stats.bytes_in += sum(shard.size for shard in self.part.shards if shard.path != "-")
        return pipeline.run_spilled(stack.enter_context(self.spill.open("rb", buffering=BUFFER_SIZE)))


# -- parent side ----------------------------------------------------------------------------------


def run_batch(
    inputs: Sequence[str],
    output: str,
    config: Config,
    plugins: PluginSpec | None = None,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
) -> BatchResult:
    """Process ``inputs`` into ``output`` (a folder or ``-``); every input ends in the output or the rejects.

    ``workers`` (else ``run.workers``; 0 or None: one per core) and the other ``[run]`` keys choose the
    executor, the shard size, the retries and whether finished parts of an earlier run are kept.
    """
    batch = _Batch(inputs, output, config, plugins, workers, progress)
    try:
        return batch.run()
    finally:
        batch.work.close()
        _PIPELINES.pop(batch.run_id, None)


class _Batch:
    """One run: the plan, the two passes, and what the report says."""

    def __init__(
        self,
        inputs: Sequence[str],
        output: str,
        config: Config,
        plugins: PluginSpec | None,
        workers: int | None,
        progress: Progress | None,
    ) -> None:
        self.started = time.perf_counter()
        self.inputs, self.config, self.progress = list(inputs), config, progress
        self.options = config.run
        self.workers = resolve_workers(workers if workers is not None else self.options.get("workers"))
        self.pipeline = Pipeline(config, plugins=plugins)
        self.run_id = uuid.uuid4().hex  # names this run's pipeline in every process (see _pipeline)
        self.output = Output(output, self.pipeline.exporter)
        self.work = WorkFolder.for_output(self.output.folder)
        self.stats, self.fresh = RunStats(), RunStats()  # the whole output; what this run processed
        self.shards: Counter[str] = Counter()
        self.phases: dict[str, float] = {}
        self.stopped: int | None = None  # the part at which fail-fast stopped the run
        self.shard_size = 0

    def run(self) -> BatchResult:
        self.work.lock()
        _share(self.run_id, self.pipeline)  # run_batch forgets it whatever happens next
        parts = self._timed("plan", self._plan)
        with self._executor(parts) as executor:
            learned, key, learned_key = self._timed("learn", lambda: self._learn(executor, parts))
            done = self._timed("clean", lambda: self._clean(executor, parts, learned, key, learned_key))
        self._timed("assemble", lambda: self.output.assemble([self.work.files(p) for p in parts if p.index in done]))
        seconds = time.perf_counter() - self.started
        report = self._report(executor, len(parts), seconds)
        if self.output.report_path:
            write_json(self.output.report_path, report, schema="report")
        if self.stopped is None:
            check_accounting(self.stats)
        return BatchResult(self.stats, seconds, report, self.stopped is not None)

    def _timed(self, phase: str, step: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        try:
            return step()
        finally:
            self.phases[phase] = round(time.perf_counter() - started, 6)

    # -- planning ---------------------------------------------------------------------------------

    def _plan(self) -> list[Part]:
        include, exclude = self.config.input.get("include", ()), self.config.input.get("exclude", ())
        shards = discover(self.inputs, include, exclude)
        configured = self.options.get("shard_size")
        self.shard_size = int(configured or auto_shard_size(sum(shard.size for shard in shards)))
        parts = plan_parts(shards, self.shard_size, self._splittable)
        sharding = {
            "inputs": self.inputs,
            "include": list(include),
            "exclude": list(exclude),
            "shard_size": configured or "auto",
        }
        self.work.start(sharding, resume=bool(self.options.get("resume", True)))
        self.work.prune(parts)
        return parts

    def _splittable(self, path: str) -> bool:
        """Only loaders that read one record per line (and honour ``first_line``) may get byte ranges."""
        return bool(getattr(self.pipeline.loader_for(path), "splits_on_lines", False))

    def _executor(self, parts: Sequence[Part]) -> Executor:
        name = self.options.get("executor")
        workers = min(self.workers, max(1, len(parts)))
        if any(shard.path == "-" for part in parts for shard in part.shards):
            if name not in (None, "inprocess"):
                raise ConfigError(f"executor {name!r} cannot read stdin: use files, or --executor inprocess")
            name = "inprocess"
        if name is None:  # the default: a process pool, unless one process would do (or the pool is disabled)
            name = "pool" if workers > 1 and "pool" in self.pipeline.registry.names("executor") else "inprocess"
        executor = self.pipeline.registry.get("executor", name)(workers, self.options)
        executor.plugin = self.pipeline.registry.owner("executor", name)
        return executor

    # -- map, reduce, map ---------------------------------------------------------------------------

    def _learn(self, executor: Executor, parts: Sequence[Part]) -> tuple[dict[str, Any], str, str | None]:
        """The learning pass (map: observe each part; reduce: merge), cached in the work folder.

        Returns the learned states, the run key, and the key naming this pass's spill files (None when no
        stage learns)."""
        base = run_key(self.config, self.pipeline.plugin_spec)
        if not self.pipeline.learning_stages():
            return {}, base, None
        inputs = "\n".join(f"{p.name} {p.digest}" for p in parts)
        key = hashlib.blake2b(f"{base}\n{inputs}".encode(), digest_size=16).hexdigest()
        found, learned = self.work.learned(key)
        if not found:
            setup = Setup(self.config, self.pipeline.plugin_spec, self.run_id)
            reduce = _Reducer(self.pipeline)
            tasks = {p.index: ObservePart(setup, p, self.work.spill(p, key)) for p in parts}
            self._begin("learning", parts)
            failed = self._rounds(executor, tasks, lambda i, state: self._observed(reduce, parts[i], i, state))
            learned = reduce.result()
            if not failed:  # a pass with holes is not worth keeping
                self.work.save_learned(key, learned)
        if self.output.folder is not None:
            for stage in self.pipeline.learning_stages():
                stage.save_learned(learned.get(stage.name), self.output.folder)
        return learned, run_key(self.config, self.pipeline.plugin_spec, key), key

    def _observed(self, reduce: _Reducer, part: Part, index: int, observed: Observed) -> bool:
        reduce.add(index, observed.states)
        self._advance(observed.inputs, part.size)
        return False

    def _clean(
        self, executor: Executor, parts: Sequence[Part], learned: dict[str, Any], key: str, learned_key: str | None
    ) -> set[int]:
        """The cleaning pass over the parts not finished before; returns the parts to assemble."""
        resumable = not any(s.path == "-" for p in parts for s in p.shards)
        setup = Setup(self.config, self.pipeline.plugin_spec, self.run_id, LearnedState(key, learned))
        fail_fast = bool(self.options.get("fail_fast", False))
        tasks: dict[int, Task] = {}
        for part in parts:
            previous = self.work.finished(part, key) if resumable else None
            if previous is not None:
                self.stats.merge(previous)
                self.shards["skipped"] += 1
            else:
                self.work.forget(part)
                spill = self.work.spill(part, learned_key) if learned_key else None
                tasks[part.index] = CleanPart(setup, part, self.work.files(part), key, fail_fast, spill)
        self._begin("cleaning", [parts[i] for i in tasks])
        done = {p.index for p in parts if p.index not in tasks}
        failed = self._rounds(executor, tasks, lambda i, result: self._cleaned(done, result))
        for index, error in failed.items():
            self._reject_part(parts[index], error)
            done.add(index)
        if self.stopped is not None:  # fail-fast: keep what precedes the stop, in input order
            done = {i for i in done if i <= self.stopped}
        return done

    def _cleaned(self, done: set[int], result: PartResult) -> bool:
        for message in result.messages:
            _warn(message)
        if len(result.messages) >= MAX_MESSAGES:
            _warn(f"(more rejects of part {result.index} are in rejects.jsonl)")
        self.stats.merge(result.stats)
        self.fresh.merge(result.stats)
        self.shards["done"] += 1
        done.add(result.index)
        self._advance(result.stats.read, result.stats.bytes_in)
        if result.stopped:
            self.stopped = result.index
        return result.stopped

    def _rounds(
        self, executor: Executor, tasks: Mapping[int, Task], accept: Callable[[int, Any], bool]
    ) -> dict[int, BaseException]:
        """Run ``tasks`` (by part index), then the failed ones again, up to ``run.retries`` more times.

        ``accept`` takes each result and returns True to stop everything (fail-fast). Returns the tasks
        that failed every attempt, with their last error.
        """
        retries = int(self.options.get("retries", DEFAULT_RETRIES))
        failed: dict[int, BaseException] = {}
        todo = sorted(tasks)
        for attempt in range(retries + 1):
            if not todo:
                break
            self.shards["retried"] += len(todo) if attempt else 0
            failed = {}
            with closing(executor.run([tasks[i] for i in todo])) as outcomes:
                for position, result, error in outcomes:
                    if error is not None:
                        failed[todo[position]] = error
                        _warn(f"part {todo[position]} failed (attempt {attempt + 1}/{retries + 1}): {error!r}")
                    elif accept(todo[position], result):
                        return {}
            todo = sorted(failed)
        return failed

    def _reject_part(self, part: Part, error: BaseException) -> None:
        """A part that failed every attempt: each of its inputs becomes a reject naming the failure."""
        files = self.work.files(part)
        stats = RunStats(bytes_in=part.size)
        reason = f"part {part.name} failed {int(self.options.get('retries', DEFAULT_RETRIES)) + 1} times: {error!r}"
        with atomic_file(files.rejects) as stream:
            for item in (item for shard in part.shards for item in self.pipeline.load(shard)):
                if isinstance(item, Document):
                    item = Reject(item.origin, reason, doc_id=item.id, hook="executor")
                write_reject(stream, item)
                stats.read += 1
                stats.rejected += 1
                stats.reject_reasons[item.hook or item.stage or "other"] += 1
        files.records.unlink(missing_ok=True)
        _warn(f"{stats.read} inputs of part {part.name} rejected: {reason}")
        self.stats.merge(stats)
        self.fresh.merge(stats)
        self.shards["failed"] += 1

    # -- progress and report ------------------------------------------------------------------------

    def _begin(self, phase: str, parts: Sequence[Part]) -> None:
        if self.progress:
            self.progress.begin(phase, sum(p.size for p in parts))

    def _advance(self, documents: int, size: int) -> None:
        if self.progress:
            self.progress.advance(documents, size)

    def _report(self, executor: Executor, parts: int, seconds: float) -> dict[str, Any]:
        clean = self.phases.get("clean", 0.0)
        return {
            "normkit_version": _own_version() or "unknown",
            "inputs": self.inputs,
            "output": self.output.target,
            "format": self.config.output.get("format", "jsonl"),
            "pipeline": self.config.pipeline,
            "executor": executor.name,
            "workers": executor.workers,
            "seconds": round(seconds, 6),
            "documents_per_second": round(self.fresh.read / seconds, 3) if seconds else 0.0,
            "mb_per_second": round(self.fresh.bytes_in / 1e6 / seconds, 3) if seconds else 0.0,
            "clean_mb_per_second": round(self.fresh.bytes_in / 1e6 / clean, 3) if clean else 0.0,
            "shard_size": self.shard_size,
            "phases": self.phases,
            "shards": {"total": parts, **{k: self.shards[k] for k in ("done", "skipped", "retried", "failed")}},
            **self.stats.to_dict(),
        }


class _Reducer:
    """Merges the parts' learned states as they arrive, in part order (so the result does not depend on
    which worker finished first), holding only the merged state and the parts that arrived early."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.merged: dict[str, Any] = {}
        self.pending: dict[int, Any] = {}
        self.next = 0

    def add(self, index: int, state: Any) -> None:
        self.pending[index] = state
        while self.next in self.pending:
            self._merge(self.pending.pop(self.next))
            self.next += 1

    def result(self) -> dict[str, Any]:
        for index in sorted(self.pending):  # after a part that failed for good: the rest, still in order
            self._merge(self.pending.pop(index))
        return self.merged

    def _merge(self, state: Any) -> None:
        self.merged = self.pipeline.merge_learned([self.merged, state]) if self.merged else state


def auto_shard_size(total: int) -> int:
    """About 64 shards: enough for every core to stay busy and for resume to lose little, few enough that
    per-shard costs (a marker, three fsyncs) stay small. A power of two, so that a slightly changed input
    keeps the same boundaries."""
    size = MIN_SHARD_SIZE
    while size * 2 <= min(total // 64, MAX_SHARD_SIZE):
        size *= 2
    return size


def _warn(message: str) -> None:
    print(f"normkit: {message}", file=sys.stderr)


def check_accounting(stats: RunStats) -> None:
    """Raise :class:`AccountingError` unless every document read was written or rejected, exactly once."""
    if not stats.balanced:
        raise AccountingError(f"accounting broken: {stats.to_dict()['documents']}; please report this as a bug")
