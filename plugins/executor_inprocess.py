"""The ``inprocess`` executor: every task in this process, one after the other (debugging, tests, stdin).

Only on request, or for standard input: a plugin that crashes the process or calls ``os._exit`` ends the
whole run here, where the ``pool`` executor loses one worker. A task's time budget is kept with a timer
signal (Unix, main thread): the task is interrupted at the next Python instruction, which stops a plugin
looping in Python but not one stuck inside C code.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from normkit import Executor, Outcome, Register, Task, hookimpl


class _Overran(BaseException):
    """Raised in the task by the timer: a BaseException, so no ``except Exception`` in a plugin swallows it."""


class InProcessExecutor(Executor):
    """No pickling and no start-up cost; a task that raises fails alone, as in the other executors."""

    name = "inprocess"

    def run(self, tasks: Sequence[Task]) -> Generator[Outcome, None, None]:
        self.workers = 1
        for index, task in enumerate(tasks):
            try:
                with _budget(self.timeout(task)):
                    result = task()
            except _Overran:
                yield index, None, self.overran(task, "; interrupted")
            except Exception as exc:  # noqa: BLE001 - the batch retries or rejects the part, with the reason
                yield index, None, exc
            else:
                yield index, result, None


@contextmanager
def _budget(seconds: float | None) -> Iterator[None]:
    """Raise :class:`_Overran` in this thread after ``seconds``, where a timer signal can (else no budget)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if seconds is None or not usable or not _timer_free():
        yield
        return

    def overran(signum: int, frame: Any) -> None:
        raise _Overran

    previous = signal.signal(signal.SIGALRM, overran)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _timer_free() -> bool:
    """Whether nobody else in this process uses the timer signal (a test runner's timeout, an application's)."""
    return (
        signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.SIG_IGN)
        and not signal.getitimer(signal.ITIMER_REAL)[0]
    )


@hookimpl
def normkit_register_executors(register: Register[type[Executor]]) -> None:
    register(InProcessExecutor)
