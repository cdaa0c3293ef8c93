"""The executor interface: how a batch's tasks run (in this process, a local process pool, a Dask cluster).

An executor is a component registered through ``normkit_register_executors``. It only runs tasks: a task is a
picklable zero-argument callable that rebuilds what it needs (the pipeline, from the configuration and the
:class:`~normkit.plugins.PluginSpec`) in the process that runs it, and writes its own output. Retries,
resume and the report live in :mod:`normkit.batch`, so every executor gets them for free.

Where a task writes depends on :attr:`Executor.shares_files`: workers that see this process's files at the
same paths write their part's files into the run's work folder themselves; workers that do not (a Dask cluster
on other machines) write them to a temporary folder of their own and send the bytes back, and the batch writes
them here. Their inputs must then be URLs they can open themselves.

Every task has a time budget (``[run] task_timeout``): the batch wraps it in a :class:`Budgeted`, and an
executor that can stop a task (the pool kills its worker, in-process raises in the task, Dask abandons it)
stops it when the budget is spent and reports :meth:`Executor.overran` as its error.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

__all__ = ["Budgeted", "Executor", "Outcome", "Task", "TaskTimeoutError", "WorkerLostError", "resolve_workers"]

#: A unit of work: picklable, takes nothing, returns something small and picklable.
Task = Callable[[], Any]

#: What :meth:`Executor.run` yields for each task: its index, its result, and the error that stopped it.
Outcome = tuple[int, Any, "BaseException | None"]


class WorkerLostError(RuntimeError):
    """The process running a task died (killed, out of memory, a crash in C code) before answering."""


class TaskTimeoutError(WorkerLostError):
    """A task ran past its time budget, and the executor stopped it (a pool worker is killed)."""


@dataclass(frozen=True)
class Budgeted:
    """A task with the seconds it may run (``timeout``; None: no budget). Calls the task it wraps."""

    task: Task
    timeout: float | None

    def __call__(self) -> Any:
        return self.task()


class Executor:
    """Runs tasks on workers and reports each one as it finishes, in any order.

    Subclasses set ``name`` (what ``--executor`` takes) and implement :meth:`run`; they start their workers
    lazily or in ``__enter__`` and stop them in :meth:`close`. ``options`` is the executor's own table,
    ``[run.executors.<name>]`` (e.g. ``scheduler`` for Dask), checked against ``options_schema`` first.
    """

    name: ClassVar[str] = ""
    options_schema: ClassVar[dict[str, Any]] = {"type": "object", "properties": {}, "additionalProperties": False}
    #: the plugin that registered this executor: set on each instance by the run that builds it.
    plugin: str | None = None
    #: whether the workers see this process's files at the same paths (the output folder, local inputs). True:
    #: tasks write their parts into the work folder themselves. False: tasks send their parts' files back in
    #: their results, this process writes them, and every input must be a URL the workers can open. An
    #: executor that can only tell once its workers run sets it in :meth:`shares`.
    shares_files: bool = True
    #: the most a task's result may carry back (its part's files) when :attr:`shares_files` is False; None: the
    #: batch's default (:data:`normkit.batch.tasks.MAX_SENT_BYTES`). An executor may take it from its options.
    max_result_bytes: int | None = None

    def __init__(self, workers: int, options: Mapping[str, Any]) -> None:
        self.workers = max(1, workers)
        self.options = dict(options)

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, tasks: Sequence[Task]) -> Generator[Outcome, None, None]:
        """Run every task; yield ``(index, result, None)`` or ``(index, None, error)`` as each one ends.

        Closing the iterator early (fail-fast, Ctrl-C) must abandon the tasks still running.
        """
        raise NotImplementedError

    def close(self) -> None:
        """Stop the workers; called once at the end of the run."""

    def shares(self, folder: Path) -> bool:
        """Whether the workers see, and may write in, ``folder`` (the run's work folder, which exists; an absolute
        path) at the same path. Called once, before :meth:`__enter__` and before anything is planned, so that a
        local input the workers could not open stops the run before its work folder changes; the run then
        tells the executor it enters (:attr:`shares_files`). The default trusts :attr:`shares_files`; an
        executor that cannot know in advance (a cluster it connects to) may look, and sets :attr:`shares_files`
        to what it found."""
        return self.shares_files

    @staticmethod
    def timeout(task: Task) -> float | None:
        """The seconds ``task`` may run before the executor stops it; None when it has no budget."""
        return task.timeout if isinstance(task, Budgeted) else None

    @staticmethod
    def overran(task: Task, how: str = "") -> TaskTimeoutError:
        """The error to report for a task stopped at the end of its budget; ``how`` says how it was stopped."""
        seconds = Executor.timeout(task)
        budget = f" of {seconds:g} s" if seconds is not None else ""
        return TaskTimeoutError(f"task ran past its time budget{budget} ([run] task_timeout){how}")


def resolve_workers(workers: int | None) -> int:
    """``None`` or 0 mean one worker per core."""
    return workers or os.cpu_count() or 1
