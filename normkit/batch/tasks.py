"""The tasks an executor runs, one per part, and the worker cache in which they find the run's pipeline.

A task is picklable and self-contained, so any executor can run it and any retry can repeat it: it carries
the :class:`Setup` and its part, takes this process's pipeline for the run from :data:`WORKERS`, writes its
own files, and sends back only what the parent needs. Each task counts into a :class:`RunStats` of its own
and returns it: the pipeline it shares with the run's other tasks in this process holds no counts of theirs.

A worker that shares no files with the parent (``Setup.shared_files`` False: a Dask cluster elsewhere) never
touches the work folder: a cleaning task writes its files in a temporary folder of its own and sends their
bytes back (:class:`SentFiles`, at most ``Setup.sent_limit``; a part with more is cut, see :mod:`.rounds`),
and the parent writes them where a sharing worker would have and marks the part (:meth:`CleanPart.land`). That
temporary folder is the Dask worker's own folder when there is one (the worker's nanny removes it if the worker
is killed), else the system's; a full disk there fails the task (retried), it is no reason to stop the run.

A worker that shares the work folder but is refused writing there (another user, a read-only mount) stops the
run with :class:`~normkit.errors.WorkFolderError`: like a full disk, that is never a document's fault.

A task reads its whole part, or, once the part failed, a :class:`Piece` of it: the batch narrows a failure
down to the inputs that cause it (see :mod:`.rounds`). A piece writes files of its own, which the parent
joins into the part's. A full disk (or quota) anywhere in a task is a :class:`~normkit.errors.DiskFullError`,
never a document's fault.
"""

from __future__ import annotations

import errno
import itertools
import math
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple

import orjson

from normkit.batch.cache import PipelineCache
from normkit.batch.resume import mark_done
from normkit.config import Config
from normkit.document import Document, Origin, Reject
from normkit.errors import WorkFolderError
from normkit.inputs import Part, Shard
from normkit.output import PartFiles, atomic_file, open_part
from normkit.pipeline import Pipeline, Record
from normkit.plugins import PluginSpec
from normkit.report import RunStats, reject_group
from normkit.spill import spill_stats
from normkit.writers import disk_full_stops, encode_record, is_disk_full, open_no_follow

if TYPE_CHECKING:  # learning.py builds tasks; a task only carries the state
    from normkit.batch.learning import LearnedState

__all__ = [
    "MAX_MESSAGES",
    "MAX_SENT_BYTES",
    "SHOWN_PER_GROUP",
    "WORKERS",
    "CleanPart",
    "CountItems",
    "ObservePart",
    "Observed",
    "PartResult",
    "PartTooLargeError",
    "Piece",
    "SentFiles",
    "Setup",
    "WorkerCache",
    "WorkerTempFullError",
    "piece_files",
    "reject_line",
    "writes_stop",
]

#: reject messages a part sends back for stderr, in all and of one kind (:func:`~normkit.report.reject_group`):
#: a systematic error shows a few examples, then its count at the end; every reject is in the rejects file.
MAX_MESSAGES = 200
SHOWN_PER_GROUP = 3
#: the most a cleaning task sends back (records and rejects) when its worker shares no files with the parent,
#: unless the executor sets another (``[run.executors.dask] max_result_bytes``): four times the largest part
#: the plan makes on its own (64 MB of input, :data:`~.plan.MAX_SHARD_SIZE`), so a part goes back whole unless
#: it is one large object, compresses very well, or ``shard_size`` was set higher.
MAX_SENT_BYTES = 1 << 28
#: what a cut for size aims at, of the limit: the inputs are not all alike, and a piece that overflows again
#: costs the work done before it stopped.
SIZE_MARGIN = 0.8
#: errors of the work folder's files no input causes and no retry cures: the run stops (WorkFolderError).
_REFUSED = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})


class PartTooLargeError(RuntimeError):
    """A piece's files grew past what its task may send back (``limit`` bytes): no input is to blame, it is
    cut into pieces that fit (see :mod:`.rounds`). ``written`` bytes came of the first ``items`` inputs read,
    which estimates how many pieces are needed (:meth:`pieces`)."""

    def __init__(self, written: int, items: int, limit: int) -> None:
        super().__init__(written, items, limit)  # the arguments: it is rebuilt from them when sent back
        self.written, self.items, self.limit = written, items, limit

    def __str__(self) -> str:
        return (
            f"its records and rejects passed {self.limit:,} bytes after {self.items:,} "
            f"input{'s' if self.items != 1 else ''}, the most a task sends back from a worker that shares no files "
            "with the run"
        )

    def pieces(self, count: int) -> int:
        """Into how many windows ``count`` inputs (like those read so far) are cut to fit: at least two."""
        estimate = count * self.written / max(1, self.items)
        return max(2, min(count, math.ceil(estimate / (self.limit * SIZE_MARGIN))))


class WorkerTempFullError(OSError):
    """The temporary folder of a worker that shares no files with the run is full: that worker's trouble, not
    the run's (nor a document's). An ``OSError``, so the piece is retried as it is (see :mod:`.rounds`)."""


@dataclass(frozen=True)
class Setup:
    """How a worker builds the run's pipeline: ``run`` names the run, so each process builds it once.

    ``learned`` is None in the learning pass; the cleaning pass brings the state the pipeline applies.
    ``shared_files``: whether the workers see the parent's files (the executor's
    :attr:`~normkit.executors.Executor.shares_files`); if not, tasks send their files back, at most
    ``sent_limit`` bytes (None: :data:`MAX_SENT_BYTES`, read when the task runs).
    """

    config: Config
    plugins: PluginSpec
    run: str
    learned: LearnedState | None = None
    shared_files: bool = True
    sent_limit: int | None = None


@dataclass
class _RunPipeline:
    pipeline: Pipeline
    learned: str | None = None  # the key of the learned state applied: the cleaning pass has begun


class WorkerCache:
    """This process's pipeline for the run it works for: one pipeline per run id per process.

    Lifetime: the first task of a run that reaches a process builds the run's pipeline (loading plugins,
    compiling rules), and the run's later tasks there, of both passes, reuse it. One run at a time: the first
    task of another run replaces it, so an old run's pipeline is never kept alive beside a new one. The parent
    puts its own pipeline in (:meth:`share`), so in-process tasks use it rather than build a second, and takes
    it out (:meth:`forget`) when the run ends; a pool worker's entry ends with its process, a remote Dask
    worker's when the next run's first task arrives.
    """

    def __init__(self) -> None:
        self._runs: PipelineCache[_RunPipeline] = PipelineCache(size=1)

    def share(self, run: str, pipeline: Pipeline) -> None:
        """Make ``pipeline`` this process's pipeline for ``run``."""
        self._runs.put(run, _RunPipeline(pipeline))

    def forget(self, run: str) -> None:
        """Drop the run's pipeline: the run is over, and nothing else should keep it alive."""
        self._runs.forget(run)

    def pipeline(self, setup: Setup) -> Pipeline:
        """The run's pipeline, built once, with the learned state of ``setup`` applied once.

        The same pipeline observes in the learning pass, then cleans with the learned state applied:
        observing never runs a learning stage's ``process``, and ``learned()`` hands over and clears what was
        observed (``observe_reset`` clears what a failed attempt left), so the cleaning pass sees none of it.
        """
        entry = self._runs.get(setup.run, lambda: _RunPipeline(Pipeline(setup.config, plugins=setup.plugins)))
        if setup.learned is not None and entry.learned != setup.learned.key:
            entry.pipeline.observe_reset()
            entry.pipeline.apply_learned(setup.learned.state())
            entry.learned = setup.learned.key
        return entry.pipeline

    def __contains__(self, run: object) -> bool:
        return run in self._runs

    def __len__(self) -> int:
        return len(self._runs)


#: this process's worker cache: a task that arrives in a worker finds the run's pipeline here.
WORKERS = WorkerCache()


@dataclass(frozen=True)
class Piece:
    """What one task reads of its part: all of it, or a piece once the part failed (see :mod:`.rounds`).

    ``shards`` are some of the part's shards, or one of them cut to a byte range of whole lines. ``window``
    keeps the items ``[start, stop)`` the one shard's loader yields (an input that cannot be cut by bytes: a
    compressed file, a format that is not a record a line). ``tag`` places the piece in the narrowing: ``""``
    for the whole part, then ``0`` or ``1`` for each halving, so that pieces sorted by tag are in input order.
    ``weight`` is its share of the part's input, for its time budget.
    """

    shards: tuple[Shard, ...]
    window: tuple[int, int] | None = None
    tag: str = ""
    weight: float = 1.0

    @property
    def whole(self) -> bool:
        return not self.tag

    @property
    def size(self) -> int:
        """The input bytes this piece accounts for: a windowed shard's bytes go with its first window."""
        if self.window is not None:
            return self.shards[0].size if self.window[0] == 0 else 0
        return sum(shard.size for shard in self.shards)

    @property
    def origin(self) -> Origin:
        """Where the piece starts: what a reject says when not even its inputs can be read."""
        shard = self.shards[0]
        return Origin(shard.path, shard.first_line if shard.end is not None else None)

    def describe(self) -> str:
        if len(self.shards) > 1:
            return f"{len(self.shards)} inputs, {self.shards[0].path} to {self.shards[-1].path}"
        shard = self.shards[0]
        if self.window is not None:
            first, last = self.window[0] + 1, self.window[1]
            return f"item {first} of {shard.path}" if first == last else f"items {first}-{last} of {shard.path}"
        if shard.end is not None:
            return f"{shard.path} from line {shard.first_line} (bytes {shard.start}-{shard.end})"
        return shard.path

    def loaded(self, pipeline: Pipeline) -> Iterator[Iterator[Document | Reject]]:
        """The inputs of each shard in turn, as its loader yields them (only the window's, for a window)."""
        for shard in self.shards:
            items = pipeline.load(shard)
            yield items if self.window is None else itertools.islice(items, *self.window)


def piece_files(files: PartFiles, tag: str) -> PartFiles:
    """Where a piece of a narrowed part writes; the parent joins the pieces into the part's ``files``."""
    stem = files.records.name.removesuffix(".records.jsonl")
    base = f"{stem}.n{tag}" if tag else stem
    return PartFiles(
        records=files.records.with_name(f"{base}.records.jsonl"),
        rejects=files.records.with_name(f"{base}.rejects.jsonl"),
        marker=files.records.with_name(f"{base}.done.json"),
    )


def reject_line(reject: Reject) -> bytes:
    """One line of a rejects file. A reject is always written: text JSON cannot hold (a lone surrogate in a
    reason a plugin wrote) is escaped in it (``\\ud83d``), not allowed to fail the part."""
    data = reject.to_dict()
    try:
        return orjson.dumps(data, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError:  # orjson.JSONEncodeError
        return orjson.dumps(_escaped(data), option=orjson.OPT_APPEND_NEWLINE)


def _escaped(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_escaped(k): _escaped(v) for k, v in value.items()}
    return value


class Observed(NamedTuple):
    """What a part's learning task sends back: the learning stages' states, and the inputs it read (progress)."""

    states: dict[str, Any]
    inputs: int


@dataclass(frozen=True)
class ObservePart:
    """The map step of the learning pass: what the learning stages saw in one part.

    The documents as they reach the first learning stage are spilled to ``spill``, so the cleaning pass
    does not load and run the earlier stages again (see :mod:`normkit.spill`). So are the counts of those
    stages, which this task keeps in a :class:`RunStats` of its own: the cleaning task of the part reads them
    back and reports them, once.

    A piece of a narrowed part (``piece``) observes without a spill: its cleaning task reads the input. So does
    every part when the workers share no files with the parent (``spill`` None).
    """

    setup: Setup
    part: Part
    spill: Path | None
    piece: Piece | None = None

    def __call__(self) -> Observed:
        with disk_full_stops(self.spill or self.part.name), writes_stop(self.spill):
            pipeline = WORKERS.pipeline(self.setup)
            pipeline.observe_reset()  # whatever a failed attempt in this process left behind
            stats = RunStats()
            piece = self.piece or Piece(self.part.shards)
            if self.spill is None or not piece.whole:
                states = [pipeline.observe_items(items, None, stats) for items in piece.loaded(pipeline)]
            else:
                with atomic_file(self.spill) as spill:
                    states = [pipeline.observe_items(items, spill, stats) for items in piece.loaded(pipeline)]
            return Observed(pipeline.merge_learned(states), pipeline.observed)


@dataclass(frozen=True)
class CountItems:
    """How many inputs the loader yields from a piece: a shard that cannot be cut by bytes is then cut by
    position (see :mod:`.rounds`). Runs in a worker, as loading may be what kills one."""

    setup: Setup
    piece: Piece

    def __call__(self) -> int:
        pipeline = WORKERS.pipeline(self.setup)
        return sum(1 for items in self.piece.loaded(pipeline) for _ in items)


@dataclass(frozen=True)
class SentFiles:
    """A part's files as a worker that shares no files with the parent sends them back, to be written there."""

    records: bytes
    rejects: bytes

    @classmethod
    def read(cls, files: PartFiles) -> SentFiles:
        return cls(files.records.read_bytes(), files.rejects.read_bytes())

    def write(self, files: PartFiles) -> None:
        """Into ``files``, atomically (never through a link): as if the task had written them there."""
        with open_part(files) as (records, rejects):
            records.write(self.records)
            rejects.write(self.rejects)


@dataclass
class PartResult:
    """What a cleaning task sends back for one part: its own counts and a few reject messages, never records
    (except ``files``: those of a worker that shares no files with the parent, until the parent wrote them)."""

    index: int
    stats: RunStats
    #: (kind of reject, its one-line message): at most :data:`SHOWN_PER_GROUP` of a kind
    messages: list[tuple[str, str]] = field(default_factory=list)
    stopped: bool = False
    files: SentFiles | None = None


@dataclass(frozen=True)
class CleanPart:
    """Load, clean and export one part into its own files, then mark it done.

    With ``piece``, only that piece of the part, into the piece's files (:func:`piece_files`), unmarked: the
    parent joins the pieces and marks the part. With ``condemned`` (a reason), the piece's inputs are only
    loaded and each written as a reject with that reason: a piece that failed every attempt.

    In a worker that shares no files with the parent, the files go to a temporary folder and back in the
    result; the parent's :meth:`land` writes them into ``files`` and marks the part.
    """

    setup: Setup
    part: Part
    files: PartFiles
    key: str
    fail_fast: bool = False
    spill: Path | None = None
    piece: Piece | None = None
    condemned: str | None = None

    def __call__(self) -> PartResult:
        if not self.setup.shared_files:
            return self._clean_to_send()
        with disk_full_stops(self.files.records), writes_stop(self.files.records):
            result = self._clean(self.files, None, open_part)
            self._commit(result)
            return result

    def _clean_to_send(self) -> PartResult:
        """The part's files written in a temporary folder of this worker's, read back into the result, and the
        folder removed: nothing of the parent's work folder is touched here. A full disk there fails the task."""
        root = _worker_folder()
        try:
            with tempfile.TemporaryDirectory(prefix="normkit-part-", dir=root) as folder:
                files = self.files.inside(Path(folder))
                result = self._clean(files, self.setup.sent_limit or MAX_SENT_BYTES, _plain_part)
                result.files = SentFiles.read(files)
                return result
        except OSError as error:
            if not is_disk_full(error):
                raise
            where = root or tempfile.gettempdir()
        # raised outside the handler: the disk-full error is not its context, which would stop the run
        raise WorkerTempFullError(f"the worker's temporary folder {where} is full; the task is tried again")

    def land(self, result: PartResult) -> PartResult:
        """In the parent: the files a worker sent back written into ``files`` and the part marked, as a worker
        that shares the files would have done; the bytes are dropped from ``result`` then."""
        sent, result.files = result.files, None
        if sent is not None:
            with disk_full_stops(self.files.records):
                sent.write(self.files)
                self._commit(result)
        return result

    def _commit(self, result: PartResult) -> None:
        """A whole part cleaned to its end is done: marked, and its spill (read now) deleted."""
        whole = self.piece is None or self.piece.whole
        if not result.stopped and whole and self.condemned is None:
            mark_done(self.files, self.part, self.key, result.stats)
            if self.spill is not None:
                self.spill.unlink(missing_ok=True)

    def _clean(self, files: PartFiles, limit: int | None, opened: _Opener) -> PartResult:
        """Into ``files``, as ``opened`` opens them; past ``limit`` bytes written, :class:`PartTooLargeError`."""
        pipeline = WORKERS.pipeline(self.setup)
        piece = self.piece or Piece(self.part.shards)
        result = PartResult(self.part.index, RunStats())
        written = 0
        with opened(files) as (records, rejects), ExitStack() as stack:
            for items, item in enumerate(self._outcomes(pipeline, piece, result.stats, stack), 1):
                if isinstance(item, Reject):
                    written += self._reject(item, rejects, result)
                    if result.stopped:
                        break
                else:  # encoded once, by the pipeline, where a failure is charged to the record alone
                    line = item.line if isinstance(item, Record) else encode_record(item)
                    records.write(line)
                    written += len(line)
                if limit is not None and written > limit:
                    raise PartTooLargeError(written, items, limit)
        return result

    def _reject(self, reject: Reject, stream: IO[bytes], result: PartResult) -> int:
        """Write ``reject`` and keep its message for stderr; fail-fast stops the part at it (``result.stopped``).
        Returns the bytes written."""
        line = reject_line(reject)
        stream.write(line)
        group = reject_group(reject)
        if len(result.messages) < MAX_MESSAGES and sum(g == group for g, _ in result.messages) < SHOWN_PER_GROUP:
            result.messages.append((group, reject.message()))
        result.stopped = self.fail_fast
        return len(line)

    def _outcomes(
        self, pipeline: Pipeline, piece: Piece, stats: RunStats, stack: ExitStack
    ) -> Iterator[Record | Reject]:
        """From the learning pass's spill when there is one (a resumed run may lack it; a worker that shares no
        files with the parent never has one), else the input."""
        if self.condemned is not None:
            stats.bytes_in += piece.size
            return self._condemn(pipeline, piece, self.condemned, stats)
        spill = self.spill if self.setup.shared_files else None
        if not piece.whole or spill is None or not spill.exists():
            stats.bytes_in += piece.size
            return pipeline.run_items(itertools.chain.from_iterable(piece.loaded(pipeline)), stats)
        with open_no_follow(spill) as stream:
            stats.merge(spill_stats(stream))  # the stages the learning pass ran, counted there
        stats.bytes_in += piece.size
        return pipeline.run_spilled(stack.enter_context(open_no_follow(spill)), stats)

    @staticmethod
    def _condemn(pipeline: Pipeline, piece: Piece, reason: str, stats: RunStats) -> Iterator[Reject]:
        for items in piece.loaded(pipeline):
            for item in items:
                outcome = item if isinstance(item, Reject) else Reject(item.origin, reason, item.id, hook="executor")
                stats.count(outcome)
                yield outcome


#: how a cleaning task opens its part's two files: the records, the rejects
_Opener = Callable[[PartFiles], AbstractContextManager[tuple[IO[bytes], IO[bytes]]]]


@contextmanager
def _plain_part(files: PartFiles) -> Iterator[tuple[IO[bytes], IO[bytes]]]:
    """A part's files in a worker's own temporary folder: nothing else looks there and the folder is deleted
    after, so they need neither the hidden name and rename nor the sync of the work folder's files."""
    with open(files.records, "wb") as records, open(files.rejects, "wb") as rejects:
        yield records, rejects


def _worker_folder() -> str | None:
    """The local folder of the Dask worker this task runs in (removed with the worker, also when it is killed),
    else None: the system's temporary folder. Dask is looked for only where it is already imported."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return None
    try:
        return str(distributed.get_worker().local_directory)
    except (ValueError, AttributeError):  # not in a worker (a task run in the client's process)
        return None


@contextmanager
def writes_stop(path: Path | None) -> Iterator[None]:
    """A task refused writing in the work folder (``path``'s folder: another user's, a read-only mount) stops
    the run with :class:`~normkit.errors.WorkFolderError`, one line: no document is to blame, no retry cures it."""
    try:
        yield
        return
    except OSError as error:
        if path is None or error.errno not in _REFUSED or not _inside(error.filename, path.parent):
            raise
        reason = error.strerror or str(error)
    raise WorkFolderError(
        f"{path.parent}: a worker may not write in the run's work folder ({reason}); nothing was charged to "
        "documents: let the workers write there (the same user, a writable mount), or, for workers on other "
        "machines, set [run.executors.dask] shared_files = false"
    )


def _inside(name: object, folder: Path) -> bool:
    if not isinstance(name, (str, bytes, os.PathLike)):
        return False
    return os.path.dirname(os.path.abspath(os.fsdecode(name))) == os.path.abspath(folder)
