"""Running a pass's tasks in rounds: every task once, then the failed ones again, up to ``run.retries`` times.

A task fails when it raises or its worker dies; a retry runs it again from its part's input, which is why
tasks are self-contained. What to do with a result, and whether to stop everything (fail-fast), is the
pass's to say; what to do with a part that failed every attempt too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from typing import Any

from normkit.batch.report import Tally, warn
from normkit.executors import Executor, Task

__all__ = ["DEFAULT_RETRIES", "Accept", "Rounds"]

DEFAULT_RETRIES = 2

#: takes a task's part index and result; returns True to stop every task (fail-fast).
Accept = Callable[[int, Any], bool]


class Rounds:
    """Runs tasks, by part index, on the run's executor; counts the retries in the run's tally."""

    def __init__(self, executor: Executor, retries: int, tally: Tally) -> None:
        self.executor, self.retries, self.tally = executor, retries, tally

    @property
    def attempts(self) -> int:
        return self.retries + 1

    def run(self, tasks: Mapping[int, Task], accept: Accept) -> dict[int, BaseException]:
        """Run ``tasks``, then the failed ones again; return those that failed every attempt, with the last error.

        Returns nothing failed once ``accept`` asks to stop: the tasks still running are abandoned.
        """
        failed: dict[int, BaseException] = {}
        todo = sorted(tasks)
        for attempt in range(self.attempts):
            if not todo:
                break
            self.tally.shards["retried"] += len(todo) if attempt else 0
            failed, stop = self._round(tasks, todo, attempt, accept)
            if stop:
                return {}
            todo = sorted(failed)
        return failed

    def _round(
        self, tasks: Mapping[int, Task], todo: Sequence[int], attempt: int, accept: Accept
    ) -> tuple[dict[int, BaseException], bool]:
        """One attempt at each task of ``todo``: the ones that failed, and whether ``accept`` stopped the run."""
        failed: dict[int, BaseException] = {}
        with closing(self.executor.run([tasks[i] for i in todo])) as outcomes:
            for position, result, error in outcomes:
                index = todo[position]
                if error is not None:
                    failed[index] = error
                    warn(f"part {index} failed (attempt {attempt + 1}/{self.attempts}): {error!r}")
                elif accept(index, result):
                    return failed, True
        return failed, False
