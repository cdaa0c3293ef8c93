"""One run from start to end: lock the work folder, plan, choose the executor, learn, clean, assemble, report.

The run's state is explicit and its own: the parent's pipeline (shared with in-process tasks through the
worker cache, and taken out again when the run ends), the work folder, the tally of counts and the phase
timings. Nothing of it outlives :func:`run_batch`.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from normkit.batch.cleaning import CleaningPass
from normkit.batch.learning import Learned, learn, save_learned_files
from normkit.batch.plan import Plan, cut_by_lines, plan_run, reads_stdin, refuse_unshared_inputs
from normkit.batch.report import Progress, Silent, Tally, build_report
from normkit.batch.resume import WorkFolder
from normkit.batch.rounds import DEFAULT_RETRIES, DEFAULT_TASK_TIMEOUT, Rounds
from normkit.batch.tasks import WORKERS, Setup
from normkit.config import Config
from normkit.errors import AccountingError, ConfigError, DiskFullError, NormkitError, RunInterruptedError
from normkit.executors import Executor, resolve_workers
from normkit.inputs import Part, check_inputs
from normkit.output import REPORT_NAME, STATE_DIR, Output, write_json
from normkit.pipeline import Pipeline
from normkit.plugins import PluginSpec
from normkit.publish import Publisher, is_url, local_path, staging_folder
from normkit.report import RunStats
from normkit.writers import disk_full_message, disk_full_stops, is_disk_full

__all__ = ["BatchResult", "check_accounting", "choose_executor", "run_batch"]

T = TypeVar("T")


@dataclass
class BatchResult:
    """What a run returns: the counts of the whole output, the report, and whether fail-fast stopped it."""

    stats: RunStats
    seconds: float
    report: dict[str, Any]
    stopped_early: bool = False

    @property
    def exit_code(self) -> int:
        return 1 if self.stats.rejected else 0


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
    executor, the shard size, the retries and whether finished parts of an earlier run are kept. An ``output``
    URL (``s3://bucket/clean/``) is staged in a local folder, then published (see :mod:`normkit.publish`).
    """
    if is_url(output):
        return _run_to_url(inputs, output, config, plugins, workers, progress)
    batch = _Batch(inputs, local_path(output), config, plugins, workers, progress)
    try:
        return batch.run()
    except KeyboardInterrupt:
        raise RunInterruptedError(_interrupted(batch.output)) from None
    except OSError as error:  # a full disk anywhere in the parent stops the run; no document is charged for it
        if is_disk_full(error):
            raise DiskFullError(disk_full_message(error.filename or output)) from error
        # the last line of defence: any other failure of the file system is one line naming the path, not a
        # traceback (the folder's checks at the start name what they can before anything is written)

        where = f"{error.filename} -> {error.filename2}" if error.filename2 else error.filename or output
        raise NormkitError(f"{where}: {error.strerror or error}; the run stopped here") from error
    finally:
        batch.work.close()
        WORKERS.forget(batch.setup.run)


def _run_to_url(
    inputs: Sequence[str],
    url: str,
    config: Config,
    plugins: PluginSpec | None,
    workers: int | None,
    progress: Progress | None,
) -> BatchResult:
    """The run into the URL's staging folder (``[run] work_dir``), then its files published under the URL's
    lock; nothing is published when the run stops with an error."""
    check_inputs(inputs, config.input.get("include", ()), config.input.get("exclude", ()))
    publisher = Publisher(url, staging_folder(url, config.run.get("work_dir")))
    publisher.lock()
    try:
        result = run_batch(inputs, str(publisher.staging), config, plugins, workers=workers, progress=progress)
        result.report["output"] = url
        write_json(publisher.staging / REPORT_NAME, result.report, schema="report")
        publisher.publish()
    finally:
        publisher.release()
    return result


def _interrupted(output: Output) -> str:
    """What an interrupted run leaves: the parts it committed, which the same command takes up again."""
    if output.folder is None:
        return "interrupted: nothing was written to stdout's end (a run to stdout does not resume)"
    return f"interrupted: the parts finished so far stay in {output.folder / STATE_DIR}; the same command resumes"


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
        self.inputs, self.config, self.progress = list(inputs), config, progress or Silent()
        self.workers = resolve_workers(workers if workers is not None else config.run.get("workers"))
        self.pipeline = Pipeline(config, plugins=plugins)
        # the run id names this run's pipeline in every process (see WorkerCache)
        self.setup = Setup(config, self.pipeline.plugin_spec, uuid.uuid4().hex)
        self.output = Output(output, self.pipeline.exporter, config.output)
        self.work = WorkFolder.for_output(self.output.folder)
        self.tally = Tally()
        self.phases: dict[str, float] = {}

    def run(self) -> BatchResult:
        # nothing at all to read is a usage error (exit 2) before anything, even OUT/.normkit, is made
        check_inputs(self.inputs, self.config.input.get("include", ()), self.config.input.get("exclude", ()))
        asked = self._refuse_unreachable_inputs()  # and so is an input the workers cannot open
        self.output.refuse_links()  # a link planted where normkit writes: an error, before anything is written
        self.work.lock()  # refuses links in .normkit as well, then removes the temp files a killed run left there
        self.output.remove_leftovers()  # and those of a run killed during assembly
        shared = self._find_shared(asked)  # before planning: a refused input leaves the work folder as it was
        WORKERS.share(self.setup.run, self.pipeline)  # in-process tasks use it; run_batch forgets it
        plan = self._timed("plan", lambda: plan_run(self.inputs, self.config, self.pipeline, self.work))
        fail_fast = bool(self.config.run.get("fail_fast", False))
        # the pool forks its workers on entering (the pipeline shared above goes with them); they are stopped,
        # all at once, only after assembly, so that their stopping overlaps nothing the run still waits for
        with choose_executor(self.pipeline, plan.parts, self.workers, self.config) as executor:
            executor.shares_files = shared
            self.setup = dataclasses.replace(self.setup, shared_files=shared, sent_limit=executor.max_result_bytes)
            cleaning = CleaningPass(self.setup, self.pipeline, self.work, self.tally, self.progress, fail_fast)
            rounds = make_rounds(executor, self.config, self.tally, self.pipeline)
            learned = self._timed("learn", lambda: self._learn(plan.parts, rounds))
            done = self._timed("clean", lambda: cleaning.run(plan.parts, learned, rounds))
            self._timed("assemble", lambda: self._assemble(plan.parts, done))
        return self._finish(plan, executor, cleaning.stopped)

    def _refuse_unreachable_inputs(self) -> Executor:
        """A local path for workers that share no files with this process is one line (exit 2), before anything
        is written. The executor is built only to be asked (:attr:`~normkit.executors.Executor.shares_files`):
        not entered, it starts nothing; it is returned, to be asked again by :meth:`_find_shared`."""
        stdin = "-" in self.inputs
        executor = self.pipeline.executor(executor_name(self.pipeline, self.config, stdin), 1)
        refuse_unshared_inputs(self.inputs, executor)
        return executor

    def _find_shared(self, executor: Executor) -> bool:
        """Whether the workers see, and may write in, the work folder decides where tasks write (see
        :mod:`.tasks`). Asked once the folder is locked, before planning: an executor that found out only now
        that they do not (a cluster it asked) may still meet a local input here, and stop the run before the
        plan, the prune or ``resume = false`` change anything."""
        with disk_full_stops(self.work.parts):
            self.work.parts.mkdir(parents=True, exist_ok=True)
        shared = executor.shares(self.work.parts.absolute())
        refuse_unshared_inputs(self.inputs, executor)
        return shared

    def _timed(self, phase: str, step: Callable[[], T]) -> T:
        """Run one phase and keep its time for the report, even when it fails partway."""
        started = time.perf_counter()
        try:
            return step()
        finally:
            self.phases[phase] = round(time.perf_counter() - started, 6)

    def _learn(self, parts: Sequence[Part], rounds: Rounds) -> Learned:
        """The learning pass, and what it learned written for review (also when cached by an earlier run)."""
        learned = learn(self.setup, self.pipeline, self.work, parts, rounds, self.progress)
        if self.output.folder is not None:
            save_learned_files(self.pipeline, learned.state, self.output.folder)
        return learned

    def _assemble(self, parts: Sequence[Part], done: set[int]) -> None:
        """The output files from the parts' files, in part order: the same bytes whatever ran the tasks."""
        finished = [part for part in parts if part.index in done]
        if self.output.shards is None:
            self.output.assemble([self.work.files(part) for part in finished])
            return
        names: set[str] = set()
        for part in finished:  # each part's records become its shards, and go (one copy of the data)
            shards = self.work.shards_of(part)
            if shards is None:
                writer = self.output.shards
                paths = writer.write(self.work.files(part).records, part.index)
                notes = [writer.attributes / path.name for path in paths] if writer.annotate else []
                self.work.record_shards(part, paths, notes)
                shards = [path.name for path in paths]
            names.update(shards)
        self.output.assemble_shards([self.work.files(part) for part in finished], names)

    def _finish(self, plan: Plan, executor: Executor, stopped: int | None) -> BatchResult:
        """Write the report, then check the accounting (fail-fast too: the report counts what was kept)."""
        seconds = time.perf_counter() - self.started
        report = build_report(
            inputs=self.inputs,
            output=self.output,
            config=self.config,
            executor=executor,
            tally=self.tally,
            phases=self.phases,
            shard_size=plan.shard_size,
            parts=len(plan.parts),
            seconds=seconds,
        )
        if self.output.report_path:
            write_json(self.output.report_path, report, schema="report")
        check_accounting(self.tally.stats)
        return BatchResult(self.tally.stats, seconds, report, stopped is not None)


def choose_executor(pipeline: Pipeline, parts: Sequence[Part], workers: int, config: Config) -> Executor:
    """``run.executor``, else a process pool, even of one worker; stdin can be read in this process only.

    The pool is the default for a small batch too: a plugin that segfaults or calls ``os._exit`` then costs
    a worker (and the input that killed it, see :mod:`.rounds`), never the run. Its price is small where workers
    are forked with the pipeline built (Linux): 20-30 ms on a one-document run; a spawned worker (macOS,
    Windows) imports normkit and builds the pipeline again, about 0.3 s.
    ``inprocess`` runs only when asked for, when standard input is read, or when the pool is disabled.
    """
    workers = min(workers, max(1, len(parts)))
    return pipeline.executor(executor_name(pipeline, config, reads_stdin(parts)), workers)


def executor_name(pipeline: Pipeline, config: Config, stdin: bool) -> str:
    """The executor :func:`choose_executor` builds: ``run.executor``, else the pool, else in-process; in-process
    for a run that reads standard input (``stdin``)."""
    name = config.run.get("executor")
    if stdin:
        if name not in (None, "inprocess"):
            raise ConfigError(f"executor {name!r} cannot read stdin: use files, or --executor inprocess")
        return "inprocess"
    if name is None:
        return "pool" if "pool" in pipeline.registry.names("executor") else "inprocess"
    return str(name)


def make_rounds(executor: Executor, config: Config, tally: Tally, pipeline: Pipeline) -> Rounds:
    """How the passes run their tasks: ``[run] retries`` and ``[run] task_timeout`` (seconds; 0: no budget)."""
    timeout = config.run.get("task_timeout", DEFAULT_TASK_TIMEOUT)
    return Rounds(
        executor,
        int(config.run.get("retries", DEFAULT_RETRIES)),
        tally,
        timeout=float(timeout) if timeout else None,
        lines=lambda path: cut_by_lines(pipeline, path),
    )


def check_accounting(stats: RunStats) -> None:
    """Raise :class:`AccountingError` unless every document read was written or rejected, exactly once."""
    if not stats.balanced:
        raise AccountingError(f"accounting broken: {stats.to_dict()['documents']}; please report this as a bug")
