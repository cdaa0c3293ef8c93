"""The cleaning pass: a task per part not finished before, failures narrowed down to the inputs that cause them
(see :mod:`.rounds`), those inputs rejected one by one with the reason, and each part's counts added once.

A part that ran whole writes and marks its own files (or, from a worker that shares no files with this
process, sends them back, and this process writes and marks them as they arrive). A part that was narrowed
(here, or in the learning pass) ran as pieces, each into files of its own: the parent joins them, in input
order, into the part's files. An input given up (it failed every attempt, or the learning pass left it out) is
loaded by a task once more and written as a reject naming the failure; if even that fails, the parent writes
one reject for the piece, read from nowhere (at once for standard input, which cannot be read again). A part
with such rejects is marked done all the same: its rejects, each naming its failure, are its output, and a
resumed run skips it rather than narrow it down again (delete the output folder, or set ``resume = false``, to
try it).

Only the spills the learning pass of this run wrote are read (:attr:`~.learning.Learned.spilled`): one an
earlier run left in the work folder is deleted unread, and the part's input read instead.

The report describes exactly what is assembled: the counts are added up at the end, from the parts kept, so
fail-fast (which keeps the input before its stop, see :class:`~.rounds.Rounds`) never counts a part that is
not in the output.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
from collections import Counter
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path
from typing import IO, Any

from normkit.batch.learning import Learned, LearnedState
from normkit.batch.plan import reads_stdin
from normkit.batch.report import Progress, Tally, warn
from normkit.batch.resume import WorkFolder, mark_done
from normkit.batch.rounds import Leaf, Rounds, stdin_piece
from normkit.batch.tasks import (
    SHOWN_PER_GROUP,
    CleanPart,
    CountItems,
    PartResult,
    PartTooLargeError,
    Piece,
    Setup,
    piece_files,
    reject_line,
)
from normkit.document import Reject
from normkit.errors import DiskFullError, WorkFolderError
from normkit.executors import Budgeted, Task
from normkit.inputs import Part
from normkit.output import open_part
from normkit.pipeline import Pipeline
from normkit.report import RunStats
from normkit.writers import disk_full_stops, open_no_follow

__all__ = ["CleaningPass"]

#: a file a piece of a narrowed part writes (see :func:`~.tasks.piece_files`)
_PIECE_FILE = re.compile(r"[^.]+\.n[01]+\.(?:records|rejects)\.jsonl")


class CleaningPass:
    """The cleaning pass of one run, and where fail-fast stopped it (``stopped``: a part index, or None)."""

    def __init__(
        self, setup: Setup, pipeline: Pipeline, work: WorkFolder, tally: Tally, progress: Progress, fail_fast: bool
    ) -> None:
        self.setup, self.pipeline, self.work = setup, pipeline, work
        self.tally, self.progress, self.fail_fast = tally, progress, fail_fast
        self.stopped: int | None = None
        self.parts: Sequence[Part] = ()
        self.key = ""
        self.spill: str | None = None
        self.spilled: frozenset[int] = frozenset()  # the parts whose spill this run wrote
        self.attempts = 1
        self.cleaning = setup
        self.condemned: dict[tuple[int, str], str] = {}  # pieces the learning pass left out: the reason
        self.results: dict[int, tuple[RunStats, str]] = {}  # part -> its counts and what became of it
        self.leaves: dict[int, list[Leaf]] = {}  # the parts that ended as pieces, or failed
        self.shown: Counter[str] = Counter()  # reject messages printed, by kind

    def run(self, parts: Sequence[Part], learned: Learned, rounds: Rounds) -> set[int]:
        """Clean the parts not finished before; return the indexes of the parts to assemble."""
        self.parts, self.key, self.attempts = parts, learned.key, rounds.attempts
        self.cleaning = dataclasses.replace(self.setup, learned=LearnedState(learned.key, learned.state))
        self.spill, self.spilled = learned.spill, learned.spilled
        self._tidy()
        start = self._start(parts, learned)
        self.progress.begin("cleaning", sum(parts[i].size for i in start))
        cut = rounds.run(self, start, fail_fast=self.fail_fast)
        for index in sorted(self.leaves):
            if cut is None or index <= cut[0]:
                self._join(parts[index], self.leaves[index], rounds)
        self._tidy()
        done = set(self.results) if cut is None else {i for i in self.results if i <= cut[0]}
        if cut is not None:  # fail-fast: keep what precedes the stop, in input order
            self.stopped = cut[0]
        for index in sorted(done):
            stats, outcome = self.results[index]
            if outcome == "skipped":
                self.tally.kept(stats)
            else:
                self.tally.processed(stats, outcome)
        return done

    def _start(self, parts: Sequence[Part], learned: Learned) -> dict[int, list[Piece]]:
        """The pieces to run for each part to clean; the counts of a part an earlier run finished are kept."""
        resumable = not reads_stdin(parts)
        start: dict[int, list[Piece]] = {}
        for part in parts:
            previous = self.work.finished(part, learned.key) if resumable else None
            if previous is not None and self.fail_fast and previous.rejected:
                previous = None  # fail-fast stops at its first reject: done again, the part ends there
            if previous is not None:
                self.results[part.index] = (previous, "skipped")
                continue
            self.work.forget(part)
            if self.spill and part.index not in self.spilled:  # not this run's: never read
                self.work.spill(part, self.spill).unlink(missing_ok=True)
            leaves = learned.pieces.get(part.index)
            if leaves is None:
                start[part.index] = [Piece(part.shards)]
                continue
            for leaf in leaves:
                if leaf.failed:
                    reason = f"the learning pass failed {_times(self.attempts)} on this input: {leaf.error!r}"
                    self.condemned[(part.index, leaf.piece.tag)] = reason
            start[part.index] = [leaf.piece for leaf in leaves]
        return start

    # -- what Rounds asks -------------------------------------------------------------------------

    def task(self, index: int, piece: Piece) -> Task:
        return self._task(index, piece)

    def _task(self, index: int, piece: Piece) -> CleanPart:
        part = self.parts[index]
        files = self.work.files(part)
        reason = self._condemned(index, piece.tag)
        if piece.whole and reason is None:
            spill = self.work.spill(part, self.spill) if self.spill and index in self.spilled else None
            return CleanPart(self.cleaning, part, files, self.key, self.fail_fast, spill)
        files = piece_files(files, piece.tag)
        return CleanPart(self.cleaning, part, files, self.key, self.fail_fast, None, piece, reason)

    def arrived(self, index: int, piece: Piece, result: Any) -> Any:
        """The files a worker that shares none with this process sent back, written here at once."""
        return self._task(index, piece).land(result)

    def count(self, index: int, piece: Piece) -> Task:
        return CountItems(self.cleaning, piece)

    def stops(self, result: Any) -> bool:
        return bool(result.stopped)

    def resolved(self, index: int, leaves: list[Leaf]) -> None:
        """Part ``index`` ended: a whole part that succeeded is done; any other is joined after the rounds."""
        for leaf in leaves:
            if not leaf.failed:
                self._report(leaf.result, leaf.piece)
        if _ran_whole(leaves) and self._condemned(index, "") is None:
            self.results[index] = (leaves[0].result.stats, "done")
        else:
            self.leaves[index] = leaves

    def _condemned(self, index: int, tag: str) -> str | None:
        """Why the piece ``tag`` of part ``index`` is only rejected: the learning pass left it, or the piece it was
        cut from, out (a piece cut for size, :class:`~.tasks.PartTooLargeError`, keeps its reason); None when it
        is cleaned."""
        return next(
            (self.condemned[(index, tag[:n])] for n in range(len(tag), -1, -1) if (index, tag[:n]) in self.condemned),
            None,
        )

    def _report(self, result: PartResult, piece: Piece) -> None:
        """A task's reject messages to stderr, the first few of each kind in the run (the command line counts
        the rest by kind at the end), and its progress."""
        for group, message in result.messages:
            if self.shown[group] < SHOWN_PER_GROUP:
                self.shown[group] += 1
                warn(message)
        self.progress.advance(result.stats.read, piece.size)

    # -- parts that ran as pieces, or failed --------------------------------------------------------

    def _join(self, part: Part, leaves: list[Leaf], rounds: Rounds) -> None:
        """Reject the inputs of the pieces given up, then join the pieces' files into the part's, in order."""
        files = self.work.files(part)
        stats = RunStats()
        outcome, stopped = "done", False
        for leaf in leaves:
            if leaf.failed:
                result = self._condemn(part, leaf, rounds)
                outcome = "failed"
            else:
                result = leaf.result
                outcome = "failed" if self._condemned(part.index, leaf.piece.tag) is not None else outcome
            stats.merge(result.stats)
            stopped = stopped or result.stopped
        if not (len(leaves) == 1 and leaves[0].piece.whole):
            with disk_full_stops(files.records), open_part(files) as (records, rejects):
                for leaf in leaves:
                    pieces = piece_files(files, leaf.piece.tag)
                    _append(pieces.records, records)
                    _append(pieces.rejects, rejects)
        if not stopped:  # given up inputs too: their rejects are the part's output (see the module)
            mark_done(files, part, self.key, stats)
            if self.spill:
                self.work.spill(part, self.spill).unlink(missing_ok=True)
        self.results[part.index] = (stats, outcome)

    def _condemn(self, part: Part, leaf: Leaf, rounds: Rounds) -> PartResult:
        """Each input of a piece given up, written as a reject with the failure; by a task, since loading it may
        be what fails, and else by the parent, as one reject for the piece."""
        stdin = stdin_piece(leaf.piece)
        reason = _reason(leaf, 1 if stdin else rounds.attempts)
        files = piece_files(self.work.files(part), leaf.piece.tag)
        task = CleanPart(self.cleaning, part, files, self.key, self.fail_fast, None, leaf.piece, reason)
        error: BaseException | None = None
        for _attempt in range(0 if stdin else rounds.attempts):  # stdin: what is left of it is not the input
            with closing(rounds.executor.run([Budgeted(task, rounds.timeout or None)])) as outcomes:
                for _, result, error in outcomes:
                    if isinstance(error, (DiskFullError, WorkFolderError)):
                        raise error
                    if error is None:
                        self._report(result, leaf.piece)
                        return task.land(result)
        if stdin:
            how = "standard input cannot be read again to reject its documents one by one"
        else:
            warn(f"part {part.index} ({leaf.piece.describe()}): its inputs cannot be read to reject them: {error!r}")
            how = f"not even reading it worked: {error!r}"
        stats = RunStats(bytes_in=leaf.piece.size)
        reject = Reject(leaf.piece.origin, f"{reason}; {how}", hook="executor")
        stats.count(reject)
        with disk_full_stops(files.rejects), open_part(files) as (_records, rejects):
            rejects.write(reject_line(reject))
        warn(reject.message())
        return PartResult(part.index, stats, stopped=self.fail_fast)

    def _tidy(self) -> None:
        """Delete the pieces' files (joined by now, or left by a killed run) and the temporary files of tasks
        whose worker died or was stopped (each could hold most of a part)."""
        with os.scandir(self.work.parts) as entries:
            for entry in entries:
                leftover = entry.name.startswith(".") and entry.name.endswith(".tmp")
                if (leftover or _PIECE_FILE.fullmatch(entry.name)) and entry.is_file(follow_symlinks=False):
                    Path(entry.path).unlink(missing_ok=True)


def _ran_whole(leaves: list[Leaf]) -> bool:
    """Whether a part ran as one task that succeeded (and wrote and marked its own files)."""
    return len(leaves) == 1 and leaves[0].piece.whole and not leaves[0].failed


def _reason(leaf: Leaf, attempts: int) -> str:
    """What each input of a piece given up is rejected with: too large to send back (one input, at once), or
    the failure of its every attempt."""
    if isinstance(leaf.error, PartTooLargeError):
        return (
            f"its output alone passes {leaf.error.limit:,} bytes, the most a task sends back from a worker that "
            "shares no files with the run ([run.executors.dask] max_result_bytes): not cleaned"
        )
    what = "this input" if leaf.single else leaf.piece.describe()
    return f"failed {_times(attempts)} on {what}: {leaf.error!r}"


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def _append(source: Path, target: IO[bytes]) -> None:
    """The bytes of a piece's file, if it has one, after those of the pieces before it."""
    try:
        stream = open_no_follow(source)  # a link planted in the work folder is refused, not followed
    except FileNotFoundError:  # a piece given up has rejects but no records
        return
    with stream:
        shutil.copyfileobj(stream, target, 1 << 20)
