"""The ``pool`` executor: long-lived worker processes on this machine, one task each at a time (the default,
even for one worker: a plugin that crashes or calls ``os._exit`` then costs a worker, not the run).

Unlike :class:`concurrent.futures.ProcessPoolExecutor`, which fails every pending task when one worker dies,
each worker here has its own pipe: a worker that dies costs exactly the task it was running, which the batch
retries, and a fresh worker takes its place. A task that runs past its time budget has its worker killed, and
is reported as such.

How workers start (``[run.executors.pool] start_method``):

- ``fork`` (``auto`` on Linux, while the run's process has one thread): a worker is a copy of the run's
  process, with normkit imported and the run's pipeline built (shared in :data:`~normkit.batch.tasks.WORKERS`
  before the executor starts), so it takes its first task at once, at no extra CPU. All of them start when
  the executor is entered, before any pass reports progress: the command line starts its progress thread only
  then, because forking a process with other threads can copy a lock another thread held.
- ``forkserver`` (``auto`` elsewhere where there is one, or on Linux once a thread exists: a library caller's,
  a replacement for a dead worker while a progress bar runs): a fresh interpreter that imported normkit once
  forks the workers, which then build the run's pipeline from the picklable task, as a Dask worker would
  (about 0.1 s to start rather than 0.35 s spawned).
- ``spawn`` (macOS and Windows, where fork is unsafe or missing, or when asked): a fresh interpreter each.

Every start method gives the same bytes (tested). A worker takes the run's environment variables and
folder. Neither the fork server nor a spawned worker imports the run's ``__main__`` (see
:func:`_main_hidden`): a script that calls ``run_batch`` at top level, without ``if __name__ ==
"__main__":``, works as written.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
import weakref
from collections.abc import Generator, Iterator, Mapping, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from normkit import Executor, NormkitError, Outcome, Register, Task, WorkerLostError, hookimpl

from . import _forkserver_path
from ._forkserver_path import SYS_PATH_VARIABLE

START_METHODS = ("auto", "fork", "forkserver", "spawn")


class PoolExecutor(Executor):
    """Options under ``[run.executors.pool]``: ``start_method`` (see the module)."""

    name = "pool"
    options_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "start_method": {
                "description": "How workers start: auto (fork on Linux while the run has one thread, else a fork "
                "server, else spawn), fork, forkserver or spawn.",
                "enum": list(START_METHODS),
                "default": "auto",
            }
        },
    }

    def __init__(self, workers: int, options: Mapping[str, Any]) -> None:
        super().__init__(workers, options)
        self.start_method = str(self.options.get("start_method", "auto"))
        self.idle: list[_Worker] = []

    def __enter__(self) -> PoolExecutor:
        """Fork the workers now, while the run's process has one thread (see the module)."""
        if _method(self.start_method) == "fork":
            self.idle = [_Worker(_context("fork")) for _ in range(self.workers)]
        return self

    def run(self, tasks: Sequence[Task]) -> Generator[Outcome, None, None]:
        pending = list(reversed(range(len(tasks))))
        busy: dict[_Worker, int] = {}
        deadlines: dict[_Worker, float] = {}  # the workers whose task has a time budget
        try:
            while pending or busy:
                while pending and len(busy) < self.workers:
                    worker = self._worker()
                    index = pending.pop()
                    worker.send(tasks[index])
                    busy[worker] = index
                    budget = self.timeout(tasks[index])
                    if budget is not None:
                        deadlines[worker] = time.monotonic() + budget
                wait_for = max(0.0, min(deadlines.values()) - time.monotonic()) if deadlines else None
                for worker in _ready(busy, wait_for):
                    if worker.hello():  # it started; its answer is still to come
                        continue
                    index = busy.pop(worker)
                    deadlines.pop(worker, None)
                    result, error = worker.outcome()
                    if worker.alive():
                        self.idle.append(worker)
                    yield index, result, error
                now = time.monotonic()
                for worker in [w for w, deadline in deadlines.items() if deadline <= now and w in busy]:
                    index = busy.pop(worker)
                    del deadlines[worker]
                    worker.kill()  # the only way to stop a task stuck in a plugin
                    yield index, None, self.overran(tasks[index], f"; worker process {worker.process.pid} killed")
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
        return _Worker(_context(_method(self.start_method)))

    def close(self) -> None:
        """Stop every idle worker at once: each is told to stop (its pipe closes), then all are waited for."""
        for worker in self.idle:
            worker.conn.close()
        for worker in self.idle:
            worker.stop()
        self.idle.clear()


class _Worker:
    """One spawned process and the pipe it receives tasks and answers on."""

    def __init__(self, context: Any) -> None:
        self.conn, child = context.Pipe()
        _PARENT_ENDS.add(self.conn)
        environ = dict(os.environ)  # a fork server's children would inherit its own, from when it started
        self.process = context.Process(target=_serve, args=(child, environ), daemon=True, name="normkit-worker")
        with _main_hidden():
            self.process.start()
        child.close()  # so the parent sees EOF when the worker dies
        self.ready = False

    def hello(self) -> bool:
        """Whether what the worker sent is the hello it sends once it runs. A worker that dies before is no
        task's fault, nor any document's: the run stops, naming the likely cause."""
        if self.ready:
            return False
        try:
            self.conn.recv_bytes()
        except (EOFError, OSError):
            self.conn.close()
            self.process.join(5)
            raise NormkitError(
                f"a worker process could not start (exit code {self.process.exitcode}; its error is above)"
            ) from None
        self.ready = True
        return True

    def send(self, task: Task) -> None:
        data = pickle.dumps(task, protocol=pickle.HIGHEST_PROTOCOL)
        with contextlib.suppress(OSError):  # a worker that died already: its pipe reads as EOF, reported then
            self.conn.send_bytes(data)

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


def _ready(busy: dict[_Worker, int], timeout: float | None) -> list[_Worker]:
    """Workers that answered or died within ``timeout`` seconds (None: wait for one); a dead worker's pipe
    reads as EOF, so waiting on pipes is enough."""
    by_conn = {worker.conn: worker for worker in busy}
    return [by_conn[conn] for conn in wait(list(by_conn), timeout) if isinstance(conn, Connection)]


def _method(asked: str) -> str:
    """The start method for a worker starting now: ``asked``, or for ``auto`` what the module says."""
    available = multiprocessing.get_all_start_methods()
    if asked != "auto":
        if asked not in available:
            raise NormkitError(f"start method {asked!r} is not available here (only {', '.join(available)})")
        return asked
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in available else "spawn"


def _context(method: str) -> Any:
    """The multiprocessing context of ``method``; a fork server imports normkit once, with the run's path."""
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        os.environ[SYS_PATH_VARIABLE] = json.dumps(sys.path)  # read by _forkserver_path, imported first
        context.set_forkserver_preload([_forkserver_path.__name__, "normkit", __name__])
    return context


#: the run's ends of the workers' pipes: a forked worker closes its copies at once, else a worker told to stop
#: (its pipe closed by the run) would wait for EOF until every later worker had exited too.
_PARENT_ENDS: weakref.WeakSet[Connection] = weakref.WeakSet()

#: one worker start at a time hides ``__main__``: two overlapping ones could restore each other's hidden state.
_HIDING = threading.Lock()


@contextlib.contextmanager
def _main_hidden() -> Iterator[None]:
    """While a worker (and, with the first, the fork server) starts, ``__main__`` shows no file and no spec.

    multiprocessing hands a new process the parent's main module to import again (``init_main_from_path``
    from ``__main__.__file__``, ``init_main_from_name`` from ``__main__.__spec__``: see
    ``multiprocessing.spawn.get_preparation_data``), which re-runs a script's top level: a script calling
    ``run_batch`` without ``if __name__ == "__main__":`` would start a batch in every worker, and die there.
    A worker needs nothing from ``__main__``: its tasks are normkit's classes, and it rebuilds the plugins from
    names and folders (so a plugin defined in the script itself reaches them only from a module or a plugins
    folder of its own). Without a file or a spec, ``get_preparation_data`` (3.10 to 3.13) names no main module
    and the process starts from multiprocessing's own. Both are put back as soon as the process has started.
    """
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    with _HIDING:
        saved: dict[str, Any] = {key: main.__dict__[key] for key in ("__file__", "__spec__") if key in main.__dict__}
        main.__dict__.pop("__file__", None)
        main.__spec__ = None  # read with getattr(main.__spec__, "name", None): it must exist
        try:
            yield
        finally:
            main.__dict__.pop("__spec__", None)
            main.__dict__.update(saved)


def _serve(conn: Connection, environ: dict[str, str]) -> None:
    """The worker's loop: run each task it receives and send back ``(ok, result or error)``.

    Ctrl-C reaches the whole process group; the parent alone answers it (exit 130, one line) and stops the
    workers, so a worker ignores SIGINT rather than print a traceback of the task it was in.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for inherited in list(_PARENT_ENDS):  # forked: the other workers' pipes, which would keep them from EOF
        inherited.close()
    _PARENT_ENDS.clear()
    _die_with_parent()
    _drop_server_lifeline()
    if os.environ != environ:
        os.environ.clear()
        os.environ.update(environ)
    conn.send_bytes(b"")  # hello: the worker runs
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
    """On Linux, a worker is killed with its parent, the fork server (which ends with the run: see
    :func:`_drop_server_lifeline`), or the run itself when spawned: ``kill -9`` of ``normkit run`` leaves no
    orphans."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG


def _drop_server_lifeline() -> None:
    """Close the fork server's "alive" pipe, which a forked worker inherits from the run.

    The fork server exits when that pipe reaches EOF, that is when the run's process is gone, and a worker
    dies with the fork server (:func:`_die_with_parent`). A worker that kept the pipe open would keep the
    server alive, and with it itself and the resource tracker: ``kill -9`` of ``normkit run`` left orphans.
    """
    with contextlib.suppress(Exception):
        from multiprocessing import forkserver

        server = getattr(forkserver, "_forkserver", None)
        fd = getattr(server, "_forkserver_alive_fd", None)
        if isinstance(fd, int) and multiprocessing.parent_process() is not None:
            setattr(server, "_forkserver_alive_fd", None)  # noqa: B010 - a private attribute, absent in some versions
            os.close(fd)


@hookimpl
def normkit_register_executors(register: Register[type[Executor]]) -> None:
    register(PoolExecutor)
