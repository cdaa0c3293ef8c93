"""Running a pipeline over many inputs: parts, the learning pass, executors, retries, resume, and the report.

Inputs are cut into parts; an executor plugin runs one task per part. Tasks carry only picklable data (the
configuration, the :class:`~normkit.plugins.PluginSpec`, the learned state); each worker builds its own
pipeline once, writes its part's files itself and sends back counts. The parent retries failed parts,
rejects the inputs of a part that keeps failing, skips parts a previous run finished, and assembles the
final files in part order, so every executor gives the same bytes.

The modules, in the order a run uses them:

- :mod:`.runner`: :func:`run_batch`, one run from start to end, and the executor's choice;
- :mod:`.plan`: the inputs cut into parts, and the shard size;
- :mod:`.resume`: the work folder (finished parts, their markers, the lock) and the run key;
- :mod:`.tasks`: the tasks an executor runs and the worker cache they take the run's pipeline from;
- :mod:`.cache`: the bounded pipeline cache behind the worker cache and :func:`normkit.clean`;
- :mod:`.rounds`: running a pass's tasks, then retrying the failed ones;
- :mod:`.learning`: the learning pass (map, reduce) and the learned state on its way to the tasks;
- :mod:`.cleaning`: the cleaning pass, and the rejection of a part that failed every attempt;
- :mod:`.report`: progress, warnings, the tally of counts and ``report.json``.
"""

from __future__ import annotations

from normkit.batch.cache import PipelineCache
from normkit.batch.learning import LearnedState
from normkit.batch.plan import MAX_SHARD_SIZE, MIN_SHARD_SIZE, auto_shard_size
from normkit.batch.report import Progress
from normkit.batch.rounds import DEFAULT_RETRIES
from normkit.batch.runner import BatchResult, check_accounting, run_batch
from normkit.batch.tasks import MAX_MESSAGES, WORKERS, CleanPart, Observed, ObservePart, PartResult, Setup

__all__ = [
    "DEFAULT_RETRIES",
    "MAX_MESSAGES",
    "MAX_SHARD_SIZE",
    "MIN_SHARD_SIZE",
    "WORKERS",
    "BatchResult",
    "CleanPart",
    "LearnedState",
    "ObservePart",
    "Observed",
    "PartResult",
    "PipelineCache",
    "Progress",
    "Setup",
    "auto_shard_size",
    "check_accounting",
    "run_batch",
]
