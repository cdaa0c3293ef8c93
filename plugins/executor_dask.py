"""The ``dask`` executor: parts as tasks on a Dask distributed cluster (``--scheduler ADDRESS``), or on a
``LocalCluster`` of worker processes when no address is given. Needs ``pip install 'normkit[dask]'``.

Whether the workers see this machine's files (``[run.executors.dask] shared_files``) decides where a task
writes. Workers that share the files (the ``LocalCluster`` normkit starts; a cluster on a shared file system)
write their part's files into the run's work folder themselves and send back only counts. Workers that do not
write them to a temporary folder of their own and send the bytes back; the run writes them here, so such
workers need nothing of this machine but inputs named by URL. With a ``scheduler`` and no ``shared_files``,
the workers are asked: each reads a probe file the run wrote in its work folder and writes one of its own there,
and the files are shared only when every worker does both, with the right content.

Tasks with a time budget, and every task of workers that share no files (each result holds a part's files,
which would otherwise pile up in the workers' memory), are submitted a worker's worth at a time, so that a
task's clock starts when it can start; one past its budget is cancelled and reported. Dask cannot stop a task
that is running: the worker that runs it is restarted where the cluster allows it (a ``LocalCluster`` does).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
import time
from collections.abc import Generator, Mapping, Sequence
from pathlib import Path
from typing import Any

from normkit import ConfigError, Executor, Outcome, Register, Task, atomic_file, hookimpl

#: opening a probe never follows a link, nor hangs on a FIFO
_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
#: seconds to wait for a scheduler that ``--scheduler`` names (Dask's own default is 30, then a traceback)
CONNECT_TIMEOUT = 10.0


class DaskExecutor(Executor):
    """Options under ``[run.executors.dask]`` (``--scheduler`` sets ``scheduler``)."""

    name = "dask"
    options_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "scheduler": {
                "description": "Dask scheduler address (tcp://host:8786); without it a LocalCluster is started.",
                "type": "string",
            },
            "connect_timeout": {
                "description": "Seconds to wait for the scheduler before the run stops with one line (exit 2).",
                "type": "number",
                "exclusiveMinimum": 0,
                "default": CONNECT_TIMEOUT,
            },
            "shared_files": {
                "description": (
                    "Whether the workers see this machine's files at the same paths. false: tasks send their "
                    "parts back and every input must be a URL; true: tasks write into the output folder. "
                    "Unset: true for the LocalCluster normkit starts; with a scheduler, the workers are asked."
                ),
                "type": "boolean",
            },
            "max_result_bytes": {
                "description": (
                    "Workers that share no files: the most a task sends back (its part's records and rejects); "
                    "a part with more is cut into pieces that fit. Default 256 MiB."
                ),
                "type": "integer",
                "minimum": 1024,
            },
        },
    }

    def __init__(self, workers: int, options: Mapping[str, Any]) -> None:
        super().__init__(workers, options)
        self.client: Any = None
        self.cluster: Any = None
        shared = self.options.get("shared_files")
        # unset with a scheduler: assumed until the workers are asked (see shares), so nothing is refused early
        self.shares_files = True if shared is None else bool(shared)
        self._ask = shared is None and bool(self.options.get("scheduler"))
        limit = self.options.get("max_result_bytes")
        self.max_result_bytes = int(limit) if limit is not None else None

    @property
    def _connect_timeout(self) -> float:
        return float(self.options.get("connect_timeout", CONNECT_TIMEOUT))

    def __enter__(self) -> DaskExecutor:
        distributed = _import_distributed()
        address = self.options.get("scheduler")
        if address:
            self.client = _connect(distributed, address, self._connect_timeout)
            self.workers = len(self.client.scheduler_info().get("workers", {})) or self.workers
        else:
            # One thread per worker process: stages are CPU-bound Python, threads would share one GIL.
            self.cluster = distributed.LocalCluster(
                n_workers=self.workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
            self.client = distributed.Client(self.cluster)
        return self

    def run(self, tasks: Sequence[Task]) -> Generator[Outcome, None, None]:
        distributed = _import_distributed()
        if self.shares_files and all(self.timeout(task) is None for task in tasks):
            yield from self._run_all(distributed, tasks)
            return
        pending = list(reversed(range(len(tasks))))
        running: dict[Any, tuple[int, float]] = {}  # future -> (index, deadline)
        try:
            while pending or running:
                while pending and len(running) < max(1, self.workers):
                    index = pending.pop()
                    budget = self.timeout(tasks[index])
                    deadline = time.monotonic() + budget if budget is not None else float("inf")
                    running[self.client.submit(tasks[index], pure=False)] = (index, deadline)
                left = min(deadline for _, deadline in running.values()) - time.monotonic()
                timeout = None if left == float("inf") else max(0.0, left)
                try:
                    done, _ = distributed.wait(list(running), timeout=timeout, return_when="FIRST_COMPLETED")
                except TimeoutError:  # Dask's wait raises where concurrent.futures' returns nothing done
                    done = set()
                for future in done:
                    index, _deadline = running.pop(future)
                    yield _outcome(index, future)
                now = time.monotonic()
                for future in [f for f, (_, deadline) in running.items() if deadline <= now]:
                    index, _deadline = running.pop(future)
                    self._stop(future)
                    yield index, None, self.overran(tasks[index], "; cancelled")
        finally:
            self.client.cancel(list(running))

    def _run_all(self, distributed: Any, tasks: Sequence[Task]) -> Generator[Outcome, None, None]:
        futures = {self.client.submit(task, pure=False): index for index, task in enumerate(tasks)}
        try:
            for future in distributed.as_completed(list(futures)):
                yield _outcome(futures.pop(future), future)
        finally:
            self.client.cancel(list(futures))

    def _stop(self, future: Any) -> None:
        """Cancel a task past its budget, and restart the worker still running it where the cluster allows."""
        with contextlib.suppress(Exception):  # best effort: a remote cluster may refuse, or the task just ended
            workers = [w for w, keys in self.client.processing().items() if future.key in keys]
            self.client.cancel([future])
            if workers:
                self.client.restart_workers(workers=workers)

    def shares(self, folder: Path) -> bool:
        """With a scheduler and no ``shared_files``: whether every worker reads the probe written in ``folder`` and
        writes one of its own there. Asked before the run enters the executor: a client of its own, closed after."""
        if self._ask:
            distributed = _import_distributed()
            address = str(self.options["scheduler"])
            with _connect(distributed, address, self._connect_timeout) as client:
                self.shares_files = _workers_see(client, address, folder, self._connect_timeout)
        return self.shares_files

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _outcome(index: int, future: Any) -> Outcome:
    """The task's result, fetched, and the cluster told to forget it: a result can hold a part's files (workers
    that share no files with the run), which must not pile up in the workers' memory until the pass ends."""
    try:
        return index, future.result(), None
    except Exception as exc:  # noqa: BLE001 - includes KilledWorker; the batch retries the part
        return index, None, exc
    finally:
        future.release()


def _workers_see(client: Any, address: str, folder: Path, timeout: float) -> bool:
    """Whether every worker of ``client``'s cluster reads, at the same path, a file with a random token written in
    ``folder`` just now, and writes one of its own there (see :func:`_probe_in_worker`). A worker lost while
    asked, or no answer within ``timeout`` seconds: not known to share (set ``shared_files`` then). No worker
    connected at all is one line (exit 2). What fails here (a full disk, a link planted) is the run's to report."""
    if not client.scheduler_info().get("workers"):
        raise ConfigError(f"no Dask workers connected to {address}: start some, or wait for them, and run again")
    token = secrets.token_hex(16)
    probe = folder / f".shared-{token}.tmp"  # hidden temporary names: a killed run's are removed by the next
    try:
        with atomic_file(probe) as stream:
            stream.write(token.encode())
        try:
            answers = client.run(_probe_in_worker, str(probe), token, on_error="return", callback_timeout=timeout)
        except Exception:  # noqa: BLE001 - a timeout, a scheduler that refuses: not known to share
            return False
        written = [answer for answer in answers.values() if isinstance(answer, str)]
        return len(written) == len(answers) and _written_by_workers(folder, token, written)
    finally:
        probe.unlink(missing_ok=True)
        _remove_probes(folder, token)


def _written_by_workers(folder: Path, token: str, names: list[str]) -> bool:
    """Whether each of ``names`` is a probe a worker wrote in ``folder`` (a regular file, not a link, holding
    ``token``): the workers see the folder this process sees, not one of their own at the same path."""
    expected = re.compile(rf"\.shared-{token}-[0-9a-f]{{16}}\.tmp")
    return all(expected.fullmatch(name) and _holds(str(folder / name), token) for name in names)


def _remove_probes(folder: Path, token: str) -> None:
    """The probes the workers wrote for ``token`` (all of them, also of a worker whose answer was lost)."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if entry.name.startswith(f".shared-{token}-") and entry.is_file(follow_symlinks=False):
                Path(entry.path).unlink(missing_ok=True)


def _probe_in_worker(path: str, token: str) -> str | None:
    """In a worker: whether ``path`` is a regular file (not followed if a link) that holds ``token``, and a new
    file can be made beside it (never through a link, never over another) holding it too; the new file's name,
    or None when either fails (this worker does not share the folder, or may not write in it)."""
    if not _holds(path, token):
        return None
    name = f".shared-{token}-{secrets.token_hex(8)}.tmp"
    try:
        fd = os.open(
            os.path.join(os.path.dirname(path), name), os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NO_FOLLOW, 0o600
        )
        with os.fdopen(fd, "wb") as stream:
            stream.write(token.encode())
    except OSError:  # refused (another user's folder, a read-only mount): this worker may not write there
        return None
    return name


def _holds(path: str, token: str) -> bool:
    """Whether ``path`` is a regular file, not a link, that holds ``token`` and nothing else."""
    try:
        fd = os.open(path, os.O_RDONLY | _NO_FOLLOW)
        with os.fdopen(fd, "rb") as stream:
            return stat.S_ISREG(os.fstat(stream.fileno()).st_mode) and stream.read(len(token) + 1) == token.encode()
    except OSError:  # not there, not readable, or refused
        return False


def _connect(distributed: Any, address: str, timeout: float) -> Any:
    """A client of the scheduler at ``address``; one that cannot be reached in ``timeout`` seconds (a typo, a
    scheduler not started, a firewall) stops the run with one line, before anything is planned."""
    try:
        return distributed.Client(address, timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - a timeout, a bad address, or a peer that is not a Dask scheduler
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(
            f"dask scheduler {address}: no connection ({reason}); is a Dask scheduler listening there? "
            f"([run.executors.dask] connect_timeout = {timeout:g} s)"
        ) from None


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise ConfigError("the dask executor needs Dask: pip install 'normkit[dask]'") from exc
    return distributed


@hookimpl
def normkit_register_executors(register: Register[type[Executor]]) -> None:
    register(DaskExecutor)
