"""The cleaning pass: a task per part not finished before, each part's counts added once, and the inputs
of a part that failed every attempt rejected one by one, so that every input still ends somewhere."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from normkit.batch.learning import Learned, LearnedState
from normkit.batch.plan import reads_stdin
from normkit.batch.report import Progress, Tally, warn
from normkit.batch.resume import WorkFolder
from normkit.batch.rounds import Rounds
from normkit.batch.tasks import MAX_MESSAGES, CleanPart, PartResult, Setup
from normkit.document import Document, Reject
from normkit.executors import Task
from normkit.inputs import Part
from normkit.output import atomic_file, write_reject
from normkit.pipeline import Pipeline
from normkit.report import RunStats

__all__ = ["CleaningPass"]


class CleaningPass:
    """The cleaning pass of one run, and where fail-fast stopped it (``stopped``: a part index, or None).

    ``pipeline`` is the parent's: it loads the inputs of a part that failed every attempt, to reject them.
    """

    def __init__(
        self, setup: Setup, pipeline: Pipeline, work: WorkFolder, tally: Tally, progress: Progress, fail_fast: bool
    ) -> None:
        self.setup, self.pipeline, self.work = setup, pipeline, work
        self.tally, self.progress, self.fail_fast = tally, progress, fail_fast
        self.stopped: int | None = None

    def run(self, parts: Sequence[Part], learned: Learned, rounds: Rounds) -> set[int]:
        """Clean the parts not finished before; return the indexes of the parts to assemble."""
        tasks = self._tasks(parts, learned)
        self.progress.begin("cleaning", sum(parts[i].size for i in tasks))
        done = {p.index for p in parts if p.index not in tasks}
        failed = rounds.run(tasks, lambda _, result: self._cleaned(done, result))
        for index, error in failed.items():
            self._reject_part(parts[index], f"part {parts[index].name} failed {rounds.attempts} times: {error!r}")
            done.add(index)
        if self.stopped is not None:  # fail-fast: keep what precedes the stop, in input order
            done = {i for i in done if i <= self.stopped}
        return done

    def _tasks(self, parts: Sequence[Part], learned: Learned) -> dict[int, Task]:
        """A task for each part to clean; the counts of a part an earlier run finished are kept instead."""
        resumable = not reads_stdin(parts)
        setup = dataclasses.replace(self.setup, learned=LearnedState(learned.key, learned.state))
        tasks: dict[int, Task] = {}
        for part in parts:
            previous = self.work.finished(part, learned.key) if resumable else None
            if previous is not None:
                self.tally.kept(previous)
                continue
            self.work.forget(part)
            spill = self.work.spill(part, learned.spill) if learned.spill else None
            files = self.work.files(part)
            tasks[part.index] = CleanPart(setup, part, files, learned.key, self.fail_fast, spill)
        return tasks

    def _cleaned(self, done: set[int], result: PartResult) -> bool:
        """Take a part's result: its messages to stderr, its counts into the tally; True stops the run."""
        for message in result.messages:
            warn(message)
        if len(result.messages) >= MAX_MESSAGES:
            warn(f"(more rejects of part {result.index} are in rejects.jsonl)")
        self.tally.processed(result.stats, "done")
        done.add(result.index)
        self.progress.advance(result.stats.read, result.stats.bytes_in)
        if result.stopped:
            self.stopped = result.index
        return result.stopped

    def _reject_part(self, part: Part, reason: str) -> None:
        """A part that failed every attempt: each of its inputs becomes a reject naming the failure."""
        files = self.work.files(part)
        stats = RunStats(bytes_in=part.size)
        with atomic_file(files.rejects) as stream:
            for item in (item for shard in part.shards for item in self.pipeline.load(shard)):
                if isinstance(item, Document):
                    item = Reject(item.origin, reason, doc_id=item.id, hook="executor")
                write_reject(stream, item)
                stats.count(item)
        files.records.unlink(missing_ok=True)
        warn(f"{stats.read} inputs of part {part.name} rejected: {reason}")
        self.tally.processed(stats, "failed")
