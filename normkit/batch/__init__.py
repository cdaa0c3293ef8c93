"""Running a pipeline over many inputs: parts, the learning pass, executors, retries, resume, and the report.

Inputs are cut into parts; an executor plugin runs one task per part. Tasks carry only picklable data (the
configuration, the :class:`~normkit.plugins.PluginSpec`, the learned state); each worker builds its own
pipeline once, writes its part's files itself and sends back counts. The parent narrows a failed part down
(pieces of it run again until what fails is one input), rejects only the inputs that keep failing, skips
parts a previous run finished, and assembles the final files in part order, so every executor gives the
same bytes. A full disk stops the run (exit 4); a learning pass with a hole stops it before cleaning (exit 5).

The modules, in the order a run uses them:

- :mod:`.runner`: :func:`run_batch`, one run from start to end, and the executor's choice;
- :mod:`.plan`: the inputs cut into parts, and the shard size;
- :mod:`.resume`: the work folder (finished parts, their markers, the lock) and the run key;
- :mod:`.tasks`: the tasks an executor runs and the worker cache they take the run's pipeline from;
- :mod:`.cache`: the bounded pipeline cache behind the worker cache and :func:`normkit.clean`;
- :mod:`.rounds`: running a pass's tasks, narrowing failures down to inputs, time budgets, fail-fast's cut;
- :mod:`.learning`: the learning pass (map, reduce) and the learned state on its way to the tasks;
- :mod:`.cleaning`: the cleaning pass, the pieces of a narrowed part joined, and the inputs given up rejected;
- :mod:`.report`: progress, warnings, the tally of counts and ``report.json``.
"""

from __future__ import annotations

from normkit.batch.cache import PipelineCache
from normkit.batch.learning import LearnedState
from normkit.batch.plan import MAX_SHARD_SIZE, MIN_SHARD_SIZE, auto_shard_size
from normkit.batch.report import Progress
from normkit.batch.rounds import DEFAULT_RETRIES, DEFAULT_TASK_TIMEOUT
from normkit.batch.runner import BatchResult, check_accounting, run_batch
from normkit.batch.tasks import MAX_MESSAGES, WORKERS, CleanPart, Observed, ObservePart, PartResult, Piece, Setup

__all__ = [
    "DEFAULT_RETRIES",
    "DEFAULT_TASK_TIMEOUT",
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
    "Piece",
    "PipelineCache",
    "Progress",
    "Setup",
    "auto_shard_size",
    "check_accounting",
    "run_batch",
]
