"""Running a pass's tasks in rounds, and narrowing a failure down to the inputs that cause it.

Every part's task runs once. A task fails when it raises, its worker dies, or it runs past its time budget
(``[run] task_timeout``). A part that failed is not run whole again: it is split in two :class:`Piece` s (its
shards in halves; one shard's byte range at the newline nearest its middle; the items of a shard that cannot
be cut by bytes, by position, once a task has counted them), and the pieces run in the next round, split
again if they fail, until what still fails is one input (a line, an item, a file). That input is tried
``run.retries`` more times, then given up: the pass rejects it, with the error, and nothing else. A part is
split at once rather than retried whole: a transient failure costs the same either way (the two halves
succeed), and a document that kills every worker is found without paying for the whole part again.

What no input can cause is not narrowed: an :class:`OSError` of the task's own files is retried as the piece
it is, then given up whole. Nor is a part narrowed past :data:`MAX_FAILURES` unproductive splits, splits of
which both halves failed too (a plugin that kills the worker on every document would otherwise cost a task
per document); a split that leaves the failure in one half is what narrowing is for, and costs nothing
against the cap, so a part with a few bad inputs among thousands is narrowed to each of them. A piece that is
one input (:func:`split` returns None) is given up as that one input, whatever the cap. A full disk stops
everything at once (:class:`~normkit.errors.DiskFullError`): it is never charged to documents; so does a work
folder the workers may not write in (:class:`~normkit.errors.WorkFolderError`).

A piece whose files are too large to be sent back from a worker that shares no files with the run
(:class:`~.tasks.PartTooLargeError`) failed no attempt: no input is to blame. It is cut at once, never tried
as it is again, counts nothing against the cap or the report's retries, and gets a notice of its own: a group
of objects in halves; one object (its inputs counted first) or a window of its inputs into as many windows as
the output seen so far says are needed (:meth:`~.tasks.PartTooLargeError.pieces`). One input whose output is
too large alone is given up at once, and rejected with that reason.

A task's result is handed to the pass as it arrives (:meth:`Work.arrived`), so that the files a worker sent
back are written at once, and no more than one task's files are held here.

Each piece gets a time budget: the whole part ``task_timeout``, a piece twice its share of the part's input
(so a part that was merely slow succeeds once halved), at least ``min(task_timeout, 30)`` seconds.

Standard input can be read once: a part that reads it has no time budget (a retry would read the stream where
the stopped attempt left it, and lose what that attempt read) and exactly one attempt; it is never split.

Fail-fast (``fail_fast``) cuts the run at the first reject in input order (:attr:`Rounds.cut`): what comes
before it runs to the end, whatever finished first, and what comes after it is abandoned, so the output is a
prefix of the input however the tasks were scheduled.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from typing import IO, Any, Protocol

from normkit.batch.report import Tally, warn
from normkit.batch.tasks import PartTooLargeError, Piece
from normkit.errors import DiskFullError, WorkFolderError
from normkit.executors import Budgeted, Executor, Task
from normkit.inputs import Shard
from normkit.writers import disk_full_message, is_disk_full

__all__ = ["DEFAULT_RETRIES", "DEFAULT_TASK_TIMEOUT", "MAX_FAILURES", "Leaf", "Rounds", "Work", "split", "stdin_piece"]

DEFAULT_RETRIES = 2
#: ``[run] task_timeout`` when not set: the seconds a whole part's task may run (a piece: see the module).
DEFAULT_TASK_TIMEOUT = 600.0
#: the least a piece's budget is, in seconds (but never more than ``task_timeout``).
MIN_PIECE_BUDGET = 30.0
#: unproductive splits (both halves failed) after which a part is narrowed no further: what still fails and
#: is more than one input is given up as it is.
MAX_FAILURES = 64
_CHUNK = 1 << 20

#: the position of a piece in input order: its part's index, then its tag.
Key = tuple[int, str]


@dataclass(frozen=True)
class Leaf:
    """How one piece of a part ended: the task's ``result``, or the ``error`` of its last attempt.

    ``single`` (when it failed): the piece is one input, narrowed as far as it goes; else narrowing stopped
    for another reason (an error no input causes, too many failures), and the piece may hold many.
    """

    piece: Piece
    result: Any = None
    error: BaseException | None = None
    single: bool = False

    @property
    def failed(self) -> bool:
        return self.error is not None


class Work(Protocol):
    """What a pass tells :class:`Rounds`: its tasks, and what to do with a part once its pieces ended."""

    def task(self, index: int, piece: Piece) -> Task:
        """The task that runs ``piece`` of part ``index``."""
        ...

    def count(self, index: int, piece: Piece) -> Task:
        """A task that returns how many inputs ``piece`` (one shard) holds."""
        ...

    def stops(self, result: Any) -> bool:
        """Whether a task's result stops the run there (fail-fast)."""
        ...

    def arrived(self, index: int, piece: Piece, result: Any) -> Any:
        """The result of the task that ran ``piece`` of part ``index``, as it arrives here; what to keep of it."""
        ...

    def resolved(self, index: int, leaves: list[Leaf]) -> None:
        """Part ``index`` ended as ``leaves``, in input order (cut at :attr:`Rounds.cut` for fail-fast)."""
        ...


@dataclass
class _Job:
    index: int
    piece: Piece
    failures: int = 0  # attempts at this piece that failed
    retry: bool = False  # not the part's first task: the report's "retried"
    counting: _Job | None = None  # a count of this failed piece's inputs, to cut it by position
    error: BaseException | None = None  # the last error (of the piece, for a count)

    @property
    def key(self) -> Key:
        return (self.index, self.piece.tag)


class Rounds:
    """Runs a pass's tasks on the run's executor, narrowing failures; counts the retries in the run's tally.

    ``lines(path)`` says whether a file can be cut into byte ranges of whole lines (its loader reads a record
    a line and it is not compressed).
    """

    def __init__(
        self,
        executor: Executor,
        retries: int,
        tally: Tally,
        *,
        timeout: float | None = DEFAULT_TASK_TIMEOUT,
        lines: Callable[[str], bool] = lambda path: False,
    ) -> None:
        self.executor, self.retries, self.tally = executor, retries, tally
        self.timeout, self.lines = timeout, lines
        self.fail_fast = False
        self.cut: Key | None = None
        self._work: Work | None = None
        self._open: dict[int, set[str]] = {}  # by part, the tags of its pieces still to end
        self._leaves: dict[int, list[Leaf]] = {}  # by part, its pieces that ended
        self._failures: Counter[int] = Counter()  # by part, its unproductive splits
        self._halves: Counter[tuple[int, str]] = Counter()  # by split piece, its halves that failed

    @property
    def attempts(self) -> int:
        return self.retries + 1

    def run(self, work: Work, start: Mapping[int, Sequence[Piece]], *, fail_fast: bool = False) -> Key | None:
        """Run the pieces of each part in ``start`` (the whole part, or where an earlier pass left it), narrowing
        what fails, and hand each part's leaves to ``work.resolved``; return the fail-fast cut, if any."""
        self.fail_fast, self.cut, self._work = fail_fast, None, work
        self._open, self._leaves, self._failures, self._halves = {}, {}, Counter(), Counter()
        todo = [_Job(index, piece) for index in sorted(start) for piece in start[index]]
        for job in todo:
            self._open.setdefault(job.index, set()).add(job.piece.tag)
            self._leaves.setdefault(job.index, [])
        for index in [i for i in start if not start[i]]:
            self._resolve(index)
        while todo:
            todo = self._round([job for job in todo if not self._beyond(job.key)])
        return self.cut

    def _round(self, jobs: list[_Job]) -> list[_Job]:
        """One task for each job; the jobs of the next round (retries, pieces, counts)."""
        if not jobs:
            return []
        self.tally.shards["retried"] += sum(job.retry and job.counting is None for job in jobs)
        tasks = [Budgeted(self._task(job), self._budget(job)) for job in jobs]
        running = set(range(len(jobs)))
        following: list[_Job] = []
        with closing(self.executor.run(tasks)) as outcomes:
            for position, result, error in outcomes:
                running.discard(position)
                job = jobs[position]
                if self._beyond(job.key):
                    continue
                if isinstance(error, WorkFolderError):  # the run stops: no document is charged
                    raise error
                if error is not None and is_disk_full(error):  # likewise
                    raise error if isinstance(error, DiskFullError) else DiskFullError(disk_full_message("a task"))
                following += self._failed(job, error) if error is not None else self._succeeded(job, result)
                if self.cut is not None and not any(jobs[p].key <= self.cut for p in running):
                    break  # fail-fast: everything before the cut has ended; the tasks after it are abandoned
        return [job for job in following if not self._beyond(job.key)]

    @property
    def work(self) -> Work:
        if self._work is None:
            raise RuntimeError("Rounds.run has not started")
        return self._work

    def _task(self, job: _Job) -> Task:
        if job.counting is not None:
            return self.work.count(job.index, job.piece)
        return self.work.task(job.index, job.piece)

    def _budget(self, job: _Job) -> float | None:
        if not self.timeout or stdin_piece(job.piece):  # stopped, it could not be read again
            return None
        if job.piece.whole:
            return self.timeout
        floor = min(self.timeout, MIN_PIECE_BUDGET)
        return min(self.timeout, max(floor, 2 * self.timeout * job.piece.weight))

    def _succeeded(self, job: _Job, result: Any) -> list[_Job]:
        if job.counting is not None:  # the failed piece's inputs were counted: cut it by position
            failed = job.counting
            if isinstance(failed.error, PartTooLargeError):
                return self._cut_for_size(failed, failed.error, (0, int(result)))
            pieces = _windows(failed.piece, (0, int(result)), 2)
            if pieces:
                return self._replace(failed, pieces)
            return self._again(failed, failed.error or RuntimeError("failed"), single=True)
        result = self.work.arrived(job.index, job.piece, result)
        if self.work.stops(result):  # first: the part may end with this piece, and must end at it
            self._stop_at(job.key)
        self._end(job, Leaf(job.piece, result))
        return []

    def _failed(self, job: _Job, error: BaseException) -> list[_Job]:
        if job.counting is not None:  # counting its inputs failed: loading them is what fails
            warn(f"part {job.index} ({job.piece.describe()}): counting its inputs failed: {error!r}")
            job.failures += 1
            if job.failures < self.attempts:
                return [replace(job, retry=True)]
            return self._give_up(job.counting, job.counting.error or error, single=True)
        if isinstance(error, PartTooLargeError):
            return self._too_large(job, error)
        job.failures += 1
        if job.failures == 1 and job.piece.tag:  # both halves of a split failed: it narrowed nothing down
            self._halves[(job.index, job.piece.tag[:-1])] += 1
            if self._halves[(job.index, job.piece.tag[:-1])] == 2:
                self._failures[job.index] += 1
        where = f" ({job.piece.describe()})" if not job.piece.whole else ""
        attempts = self._attempts(job)
        warn(f"part {job.index}{where} failed (attempt {job.failures}/{attempts}): {error!r}")
        job.error = error
        if isinstance(error, OSError):  # no input causes it: retried as it is, then given up whole
            return self._again(job, error, single=False)
        pieces = split(job.piece, self.lines)
        if pieces is None:  # one input, narrowed as far as it goes
            return self._again(job, error, single=True)
        if self._failures[job.index] >= MAX_FAILURES:  # it fails nearly everywhere: narrowed no further
            return self._again(job, error, single=False)
        if isinstance(pieces, str):  # "count": its inputs are counted, then it is cut by position
            return [_Job(job.index, job.piece, retry=True, counting=job)]
        return self._replace(job, pieces)

    def _too_large(self, job: _Job, error: PartTooLargeError) -> list[_Job]:
        """``job``'s piece cut for size (see the module): nothing is counted against it, its part, or the report."""
        job.error = error
        if job.piece.window is not None:
            return self._cut_for_size(job, error, job.piece.window)
        pieces = split(job.piece, self.lines)
        if pieces is None:
            return self._give_up(job, error, single=True)
        self._cut_notice(job, error)
        if isinstance(pieces, str):  # one object: its inputs are counted, then it is cut into windows
            return [_Job(job.index, job.piece, counting=job, error=error)]
        return self._replace(job, pieces, retry=False)

    def _cut_for_size(self, job: _Job, error: PartTooLargeError, window: tuple[int, int]) -> list[_Job]:
        """``window`` of ``job``'s one shard in as many windows as ``error`` estimates; one input: given up."""
        pieces = _windows(job.piece, window, error.pieces(window[1] - window[0]))
        if pieces is None:
            return self._give_up(job, error, single=True)
        if job.piece.window is not None:  # else the notice came before its inputs were counted
            self._cut_notice(job, error)
        return self._replace(job, pieces, retry=False)

    @staticmethod
    def _cut_notice(job: _Job, error: PartTooLargeError) -> None:
        where = f" ({job.piece.describe()})" if not job.piece.whole else ""
        warn(f"part {job.index}{where}: {error}; it is cut into smaller pieces")

    def _attempts(self, job: _Job) -> int:
        """How many times ``job``'s piece may run: standard input can be read only once."""
        return 1 if stdin_piece(job.piece) else self.attempts

    def _again(self, job: _Job, error: BaseException, single: bool) -> list[_Job]:
        """The piece as it is, once more if it has attempts left; else given up."""
        if job.failures < self._attempts(job):
            return [_Job(job.index, job.piece, job.failures, retry=True, error=error)]
        return self._give_up(job, error, single)

    def _give_up(self, job: _Job, error: BaseException, single: bool) -> list[_Job]:
        if self.fail_fast:  # its inputs will be rejects: the first reject in input order stops the run
            self._stop_at(job.key)
        self._end(job, Leaf(job.piece, error=error, single=single))
        return []

    def _replace(self, job: _Job, pieces: Sequence[Piece], retry: bool = True) -> list[_Job]:
        """``job``'s piece is cut into ``pieces``, which run in its place (``retry``: counted as retries)."""
        tags = self._open[job.index]
        tags.discard(job.piece.tag)
        tags.update(piece.tag for piece in pieces)
        return [_Job(job.index, piece, retry=retry) for piece in pieces]

    def _end(self, job: _Job, leaf: Leaf) -> None:
        tags = self._open.get(job.index)
        if tags is None or job.piece.tag not in tags:
            return
        tags.discard(job.piece.tag)
        self._leaves[job.index].append(leaf)
        if not tags:
            self._resolve(job.index)

    def _resolve(self, index: int) -> None:
        leaves = sorted(self._leaves.pop(index, []), key=lambda leaf: leaf.piece.tag)
        self._open.pop(index, None)
        self.work.resolved(index, [leaf for leaf in leaves if not self._beyond((index, leaf.piece.tag))])

    def _stop_at(self, key: Key) -> None:
        """Fail-fast: nothing after ``key`` in input order is run, or kept."""
        if self.cut is not None and self.cut <= key:
            return
        self.cut = key
        for index in [i for i in self._open if i > key[0]]:
            del self._open[index], self._leaves[index]
        tags = self._open.get(key[0])
        if tags is not None:
            tags.difference_update({tag for tag in tags if tag > key[1]})
            if not tags:
                self._resolve(key[0])

    def _beyond(self, key: Key) -> bool:
        return self.cut is not None and key > self.cut


def stdin_piece(piece: Piece) -> bool:
    """Whether ``piece`` reads standard input, which can be read only once."""
    return any(shard.path == "-" for shard in piece.shards)


def split(piece: Piece, lines: Callable[[str], bool]) -> list[Piece] | str | None:
    """``piece`` in two, in input order; ``"count"`` when its one shard must be counted to be cut by position;
    None when it is one input (a line, an item, a file that can be read only whole, a missing file)."""
    shards = piece.shards
    if len(shards) > 1:
        middle = len(shards) // 2
        return _halves(piece, (shards[:middle], None), (shards[middle:], None))
    shard = shards[0]
    if piece.window is not None:
        start, stop = piece.window
        middle = (start + stop) // 2
        return _halves(piece, (shards, (start, middle)), (shards, (middle, stop))) if stop - start > 1 else None
    if shard.missing or shard.path == "-":
        return None
    if not lines(shard.path):
        return "count"
    cut = _cut_at_a_line(shard)
    return None if cut is None else _halves(piece, ((cut[0],), None), ((cut[1],), None))


def _windows(piece: Piece, window: tuple[int, int], count: int) -> list[Piece] | None:
    """The inputs ``window`` of ``piece``'s one shard in ``count`` windows, as even as they go; None when it is
    one input or none."""
    start, stop = window
    count = min(count, stop - start)
    if count < 2:
        return None
    bounds = [start + (stop - start) * i // count for i in range(count + 1)]
    return _halves(piece, *((piece.shards, (bounds[i], bounds[i + 1])) for i in range(count)))


def _halves(piece: Piece, *cuts: tuple[tuple[Shard, ...], tuple[int, int] | None]) -> list[Piece]:
    """The pieces ``cuts`` of ``piece`` (two: its halves), tagged in input order (digits of one width, so that
    they sort so), each weighing its share of the input."""
    width = max(1, (len(cuts) - 1).bit_length())
    pieces = [Piece(shards, window, piece.tag + format(i, f"0{width}b")) for i, (shards, window) in enumerate(cuts)]
    shares = [_share(cut) for cut in pieces]
    total = sum(shares)
    return [
        replace(cut, weight=piece.weight * (share / total if total else 1 / len(pieces)))
        for cut, share in zip(pieces, shares, strict=True)
    ]


def _share(piece: Piece) -> float:
    if piece.window is not None:
        return float(piece.window[1] - piece.window[0])
    return float(sum(shard.size for shard in piece.shards))


def _cut_at_a_line(shard: Shard) -> tuple[Shard, Shard] | None:
    """``shard`` (a file, or a byte range of one) cut after the newline nearest its middle into two byte ranges
    of whole lines, the second numbered on from the first; None when it holds one line."""
    try:
        end = shard.end if shard.end is not None else os.path.getsize(shard.path)
        with open(shard.path, "rb") as stream:
            middle = (shard.start + end) // 2
            after = _find(stream, max(shard.start, middle - 1), end - 1)  # a newline that leaves a line after it
            before = _find(stream, shard.start, max(shard.start, middle - 1), last=True)
            found = [n for n in (after, before) if n is not None]
            if not found:
                return None
            cut = min(found, key=lambda newline: abs(newline + 1 - middle)) + 1
            lines = _count(stream, shard.start, cut)
    except OSError:  # gone or unreadable since planning: its task says so, as one input
        return None
    first = replace(shard, start=shard.start, end=cut)
    return first, replace(shard, start=cut, end=end, first_line=shard.first_line + lines)


def _find(stream: IO[bytes], start: int, stop: int, last: bool = False) -> int | None:
    """The position of the first (``last``: the last) newline in bytes ``[start, stop)`` of ``stream``."""
    if last:
        position = stop
        while position > start:
            begin = max(start, position - _CHUNK)
            stream.seek(begin)
            found = stream.read(position - begin).rfind(b"\n")
            if found >= 0:
                return begin + found
            position = begin
        return None
    position = start
    while position < stop:
        stream.seek(position)
        chunk = stream.read(min(_CHUNK, stop - position))
        if not chunk:
            return None
        found = chunk.find(b"\n")
        if found >= 0:
            return position + found
        position += len(chunk)
    return None


def _count(stream: IO[bytes], start: int, stop: int) -> int:
    """Newlines in bytes ``[start, stop)`` of ``stream``."""
    stream.seek(start)
    lines, left = 0, stop - start
    while left > 0:
        chunk = stream.read(min(_CHUNK, left))
        if not chunk:
            break
        lines += chunk.count(b"\n")
        left -= len(chunk)
    return lines
