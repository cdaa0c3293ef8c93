"""The ``inprocess`` executor: every task in this process, one after the other (debugging, tests, stdin)."""

from __future__ import annotations

from collections.abc import Generator, Sequence

from normkit import Executor, Outcome, Register, Task, hookimpl


class InProcessExecutor(Executor):
    """No pickling and no start-up cost; a task that raises fails alone, as in the other executors."""

    name = "inprocess"

    def run(self, tasks: Sequence[Task]) -> Generator[Outcome, None, None]:
        self.workers = 1
        for index, task in enumerate(tasks):
            try:
                result = task()
            except Exception as exc:  # noqa: BLE001 - the batch retries or rejects the part, with the reason
                yield index, None, exc
            else:
                yield index, result, None


@hookimpl
def normkit_register_executors(register: Register[type[Executor]]) -> None:
    register(InProcessExecutor)
