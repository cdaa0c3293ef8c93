"""The ``pool`` executor: long-lived worker processes on this machine, one task each at a time (the default).

Unlike :class:`concurrent.futures.ProcessPoolExecutor`, which fails every pending task when one worker dies,
each worker here has its own pipe: a worker that dies costs exactly the task it was running, which the batch
retries, and a fresh worker takes its place. Workers are spawned (not forked), so they rebuild everything
from the picklable task, as a Dask worker would.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import pickle
import signal
import sys
from collections.abc import Generator, Mapping, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from normkit import Executor, Outcome, Register, Task, WorkerLostError, hookimpl


class PoolExecutor(Executor):
    name = "pool"

    def __init__(self, workers: int, options: Mapping[str, Any]) -> None:
        super().__init__(workers, options)
        self.context = multiprocessing.get_context("spawn")
        self.idle: list[_Worker] = []

    def run(self, tasks: Sequence[Task]) -> Generator[Outcome, None, None]:
        pending = list(reversed(range(len(tasks))))
        busy: dict[_Worker, int] = {}
        try:
            while pending or busy:
                while pending and len(busy) < self.workers:
                    worker = self._worker()
                    index = pending.pop()
                    worker.send(tasks[index])
                    busy[worker] = index
                for worker in _ready(busy):
                    index = busy.pop(worker)
                    result, error = worker.outcome()
                    if worker.alive():
                        self.idle.append(worker)
                    yield index, result, error
        finally:
            for worker in busy:  # abandoned: fail-fast, Ctrl-C, or the caller stopped reading
                worker.kill()

    def _worker(self) -> _Worker:
        """An idle worker that is still alive (the OOM killer may have visited), else a new one."""
        while self.idle:
            worker = self.idle.pop()
            if worker.alive():
                return worker
            worker.kill()
        return _Worker(self.context)

    def close(self) -> None:
        for worker in self.idle:
            worker.stop()
        self.idle.clear()


class _Worker:
    """One spawned process and the pipe it receives tasks and answers on."""

    def __init__(self, context: Any) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child,), daemon=True, name="normkit-worker")
        self.process.start()
        child.close()  # so the parent sees EOF when the worker dies

    def send(self, task: Task) -> None:
        self.conn.send_bytes(pickle.dumps(task, protocol=pickle.HIGHEST_PROTOCOL))

    def outcome(self) -> tuple[Any, BaseException | None]:
        try:
            ok, payload = pickle.loads(self.conn.recv_bytes())
        except (EOFError, OSError):
            self.conn.close()
            self.process.join(5)
            return None, WorkerLostError(f"worker process {self.process.pid} died (exit code {self.process.exitcode})")
        return (payload, None) if ok else (None, payload)

    def alive(self) -> bool:
        return self.process.is_alive() and not self.conn.closed

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()

    def stop(self) -> None:
        self.conn.close()  # the worker reads EOF and returns
        self.process.join(5)
        if self.process.is_alive():
            self.kill()


def _ready(busy: dict[_Worker, int]) -> list[_Worker]:
    """Workers that answered or died; a dead worker's pipe reads as EOF, so waiting on pipes is enough."""
    by_conn = {worker.conn: worker for worker in busy}
    return [by_conn[conn] for conn in wait(list(by_conn)) if isinstance(conn, Connection)]


def _serve(conn: Connection) -> None:
    """The worker's loop: run each task it receives and send back ``(ok, result or error)``."""
    _die_with_parent()
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            answer: tuple[bool, Any] = (True, pickle.loads(data)())
        except Exception as exc:  # noqa: BLE001 - sent to the parent, which retries or rejects the part
            answer = (False, exc)
        conn.send_bytes(_dumps(answer))


def _dumps(answer: tuple[bool, Any]) -> bytes:
    try:
        return pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # noqa: BLE001 - an unpicklable error still reaches the parent, as text
        return pickle.dumps((False, RuntimeError(f"{answer[1]!r} (unpicklable: {exc})")))


def _die_with_parent() -> None:
    """On Linux, a worker is killed with its parent (``kill -9`` of ``normkit run`` leaves no orphans)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG


@hookimpl
def normkit_register_executors(register: Register[type[Executor]]) -> None:
    register(PoolExecutor)
