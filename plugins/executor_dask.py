"""The ``dask`` executor: parts as tasks on a Dask distributed cluster (``--scheduler ADDRESS``), or on a
``LocalCluster`` of worker processes when no address is given. Needs ``pip install 'normkit[dask]'``.

Workers must see the inputs and the output folder at the same paths (a shared file system): each task reads
its part and writes its part's files itself, and sends back only counts.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from typing import Any

from normkit import ConfigError, Executor, Outcome, Register, Task, hookimpl


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
            }
        },
    }

    def __init__(self, workers: int, options: Mapping[str, Any]) -> None:
        super().__init__(workers, options)
        self.client: Any = None
        self.cluster: Any = None

    def __enter__(self) -> DaskExecutor:
        distributed = _import_distributed()
        address = self.options.get("scheduler")
        if address:
            self.client = distributed.Client(address)
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
        futures = {self.client.submit(task, pure=False): index for index, task in enumerate(tasks)}
        try:
            for future in distributed.as_completed(futures):
                try:
                    yield futures[future], future.result(), None
                except Exception as exc:  # noqa: BLE001 - includes KilledWorker; the batch retries the part
                    yield futures[future], None, exc
        finally:
            self.client.cancel([f for f in futures if not f.done()])

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise ConfigError("the dask executor needs Dask: pip install 'normkit[dask]'") from exc
    return distributed


@hookimpl
def normkit_register_executors(register: Register[type[Executor]]) -> None:
    register(DaskExecutor)
