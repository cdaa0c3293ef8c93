"""Planning a run: the inputs cut into parts of about one shard size, and the work folder told how.

The plan is what resume depends on: a part's name and input digest say whether a previous run finished it,
and a run cut differently from the finished parts in the work folder is refused (see :mod:`.resume`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import PurePath

from normkit.batch.resume import WorkFolder
from normkit.config import Config
from normkit.errors import ConfigError, NormkitError
from normkit.executors import Executor
from normkit.inputs import Part, Shard, discover, is_compressed, plan_parts, shown_path, strip_compression
from normkit.pipeline import Pipeline
from normkit.storage import is_url

__all__ = [
    "MAX_SHARD_SIZE",
    "MIN_SHARD_SIZE",
    "Plan",
    "auto_shard_size",
    "cut_by_lines",
    "first_items",
    "plan_run",
    "reads_stdin",
    "refuse_unshared_inputs",
]

#: URL schemes that name this machine's own files or memory: a worker elsewhere would read its own, not these.
_LOCAL_SCHEMES = frozenset({"file", "local", "memory"})

#: without ``run.shard_size``: about 64 shards, a power of two between these bounds (see :func:`auto_shard_size`).
MIN_SHARD_SIZE, MAX_SHARD_SIZE = 1 << 20, 1 << 26


@dataclass(frozen=True)
class Plan:
    """The parts of a run, in input order (``parts[i].index == i``), and the shard size that cut them."""

    parts: list[Part]
    shard_size: int


def plan_run(inputs: Sequence[str], config: Config, pipeline: Pipeline, work: WorkFolder) -> Plan:
    """Cut ``inputs`` into parts, check them against the finished parts in ``work``, and drop stale files.

    The run has checked that there is something to read (:func:`~normkit.inputs.check_inputs`) before it
    made the work folder.
    """
    include, exclude = config.input.get("include", ()), config.input.get("exclude", ())
    shards = discover(list(inputs), include, exclude)
    _build_loaders(shards, pipeline)
    limit = config.input.get("limit")
    if limit is not None:
        shards = first_items(shards, int(limit), pipeline)
    configured = config.run.get("shard_size")
    shard_size = int(configured or auto_shard_size(sum(shard.size for shard in shards)))
    parts = plan_parts(shards, shard_size, lambda path: _splittable(pipeline, path))
    sharding = {
        "inputs": [shown_path(path) for path in inputs],  # a name that is not UTF-8, escaped
        "include": list(include),
        "exclude": list(exclude),
        "shard_size": configured or "auto",
        **({"limit": limit} if limit is not None else {}),
    }
    work.start(sharding, resume=bool(config.run.get("resume", True)))
    work.prune(parts)
    return Plan(parts, shard_size)


def _build_loaders(shards: Sequence[Shard], pipeline: Pipeline) -> None:
    """Build here, once per kind of file, the loader each input will get: one that cannot be built (its extra
    is not installed: ``pip install 'normkit[wet]'``) stops the run in one line, rather than fail in every
    worker and reject each of its files."""
    seen: set[str] = set()
    for shard in shards:
        if shard.problem is not None or shard.path == "-":
            continue
        kind = "".join(PurePath(strip_compression(shard.path)[0].lower()).suffixes[-2:])
        if kind not in seen:
            seen.add(kind)
            pipeline.loader_for(shard.path)


def first_items(shards: Sequence[Shard], limit: int, pipeline: Pipeline) -> list[Shard]:
    """The shards that hold the first ``limit`` inputs (``[input] limit``, ``--limit``), in input order: those
    before the limit whole, the one where it falls cut to its first items, none after.

    Inputs are counted as the loaders yield them, a reject included, so the run reads exactly ``limit``.
    Standard input cannot be read twice to count: it gets what is left of the limit, and ends the plan.
    """
    kept: list[Shard] = []
    left = limit
    for shard in shards:
        if left <= 0:
            break
        if shard.path == "-":
            kept.append(replace(shard, items=left))
            break
        count = sum(1 for _ in itertools.islice(pipeline.load(shard), left + 1))
        kept.append(shard if count <= left else replace(shard, items=left))
        left -= count
    return kept


def _splittable(pipeline: Pipeline, path: str) -> bool:
    """Only loaders that read one record per line (and honour ``first_line``) may get byte ranges."""
    return pipeline.loader_for(path).splits_on_lines


def cut_by_lines(pipeline: Pipeline, path: str) -> bool:
    """Whether a part that failed may be narrowed by cutting ``path`` into byte ranges of whole lines: its
    loader reads a record a line, and it is not compressed (else it is narrowed by counted items). An object
    named by URL is never cut by bytes (planning did not read it): it is narrowed by counted items."""
    if is_url(path):
        return False
    try:
        return _splittable(pipeline, path) and not is_compressed(path)
    except (OSError, NormkitError):  # gone since planning, or no loader: its task says so
        return False


def refuse_unshared_inputs(inputs: Sequence[str], executor: Executor) -> None:
    """Where ``executor``'s workers share no files with this process, every input must be a URL of a store they
    can open themselves: a local path, standard input, or a URL of this machine's files or memory (``file://``,
    ``memory://``) stops the run here, in one line (exit 2), rather than become a reject per file."""
    if executor.shares_files:
        return
    local = next((item for item in inputs if _on_this_machine(item)), None)
    if local is None:
        return
    what = "standard input is" if local == "-" else f"input {shown_path(local)!r} is on this machine"
    table = f"[run.executors.{executor.name}]"
    raise ConfigError(
        f"{what}, but the workers of the {executor.name} executor share no files with this machine: name the "
        f"input by a URL they can read (s3://...), or set {table} shared_files = true if they see the same paths"
    )


def _on_this_machine(item: str) -> bool:
    if item == "-" or not is_url(item):
        return True
    return any(scheme.lower() in _LOCAL_SCHEMES for scheme in item.split("://", 1)[0].split("::"))


def reads_stdin(parts: Sequence[Part]) -> bool:
    """Whether the run reads standard input: only this process can, and such a run cannot resume."""
    return any(shard.path == "-" for part in parts for shard in part.shards)


def auto_shard_size(total: int) -> int:
    """About 64 shards: enough for every core to stay busy and for resume to lose little, few enough that
    per-shard costs (a marker, three fsyncs) stay small. A power of two, so that a slightly changed input
    keeps the same boundaries."""
    size = MIN_SHARD_SIZE
    while size * 2 <= min(total // 64, MAX_SHARD_SIZE):
        size *= 2
    return size
