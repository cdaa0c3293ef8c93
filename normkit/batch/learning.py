"""The learning pass: each part observed (map), the parts' states merged in part order (reduce).

It runs only when a stage ``learns``. Its result is cached in the work folder under a key naming the
configuration, plugins, normkit's code and every part's input, so a resumed run does not learn again; the
run key of the cleaning pass includes that key, so a part cleaned with other learned state is redone.

It is all or nothing. A part that fails is narrowed down like any (see :mod:`.rounds`): an input that kills
the observer on every attempt is left out of the learned state, and the cleaning pass rejects it, naming
the failure, without running it (the same stages would meet it there; and every document written is then one
the state was learned from). What cannot be narrowed to single inputs (an error of the task's own files, a
part where nearly everything fails) leaves a hole: the run stops with
:class:`~normkit.errors.LearningIncompleteError` before cleaning anything, so no part is ever cleaned, or kept
for a resume, with a state that has holes. A state that left inputs out is not cached: a resumed run
learns again, and leaves the same ones out.

Where the workers share no files with the run (a Dask cluster elsewhere), nothing is spilled: the spill would
have to travel back and out again, so each cleaning task reads its input a second time instead.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from normkit.batch.report import Progress
from normkit.batch.resume import WorkFolder, run_key
from normkit.batch.rounds import Leaf, Rounds
from normkit.batch.tasks import CountItems, Observed, ObservePart, Piece, Setup
from normkit.errors import LearningIncompleteError
from normkit.executors import Task
from normkit.inputs import Part
from normkit.output import LEARNED_FILE, REPORT_NAME
from normkit.pipeline import Pipeline
from normkit.writers import entries, is_regular_file

__all__ = ["Learned", "LearnedState", "Reducer", "learn", "save_learned_files"]


class Learned(NamedTuple):
    """What the learning pass hands the cleaning pass."""

    state: dict[str, Any]  # by learning stage: the merged state (empty when no stage learns)
    key: str  # the run key, which names the learned state too: what a finished part depends on
    spill: str | None  # the key naming this pass's spill files; None when no stage learns
    #: the parts this pass narrowed, as the pieces it left them in: the cleaning pass starts from them, and
    #: rejects the failed ones (inputs the state was not learned from)
    pieces: dict[int, list[Leaf]]
    #: the parts whose spill this run wrote: the cleaning pass reads no other spill (one left in the work
    #: folder by an earlier run is not trusted, and the input is read instead)
    spilled: frozenset[int] = frozenset()


class LearnedState:
    """The learning pass's result on its way to the cleaning tasks: pickled once, unpickled once per process.

    Every cleaning task carries it, so a task stays self-contained (any executor, any retry); but the parent
    pickles it once for all of them (it can be megabytes: line counts per source), and a worker unpickles it
    only for the pipeline that has not applied it yet, not once per task.
    """

    def __init__(self, key: str, state: dict[str, Any]) -> None:
        self.key = key  # names the state: the run key, which includes the learning pass's key
        self._state: dict[str, Any] | None = state
        self._pickled: bytes | None = None

    def state(self) -> dict[str, Any]:
        """The state, unpickled on first use in this process."""
        if self._state is None:
            self._state = pickle.loads(self._pickled or b"")
        return self._state

    def __getstate__(self) -> dict[str, Any]:
        if self._pickled is None:
            self._pickled = pickle.dumps(self._state, protocol=pickle.HIGHEST_PROTOCOL)
        return {"key": self.key, "pickled": self._pickled}

    def __setstate__(self, data: dict[str, Any]) -> None:
        self.key, self._pickled, self._state = data["key"], data["pickled"], None


class Reducer:
    """Merges the parts' learned states as they arrive, in part order (so the result does not depend on
    which worker finished first), holding only the merged state and the parts that arrived early."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.merged: dict[str, Any] = {}
        self.pending: dict[int, Any] = {}
        self.next = 0

    def add(self, index: int, state: Any) -> None:
        """The state of part ``index`` (None: nothing was learned from it)."""
        self.pending[index] = state
        while self.next in self.pending:
            self._merge(self.pending.pop(self.next))
            self.next += 1

    def result(self) -> dict[str, Any]:
        for index in sorted(self.pending):  # after a part that failed for good: the rest, still in order
            self._merge(self.pending.pop(index))
        return self.merged

    def _merge(self, state: Any) -> None:
        if state is not None:
            self.merged = self.pipeline.merge_learned([self.merged, state]) if self.merged else state


def learn(
    setup: Setup, pipeline: Pipeline, work: WorkFolder, parts: Sequence[Part], rounds: Rounds, progress: Progress
) -> Learned:
    """The learning pass over ``parts``, or its result cached in ``work`` by a run over the same inputs.

    ``pipeline`` is the parent's: it says which stages learn and merges their states.
    """
    base = run_key(setup.config, setup.plugins)
    if not pipeline.learning_stages():
        return Learned({}, base, None, {})
    inputs = "\n".join(f"{p.name} {p.digest}" for p in parts)
    key = hashlib.blake2b(f"{base}\n{inputs}".encode(), digest_size=16).hexdigest()
    state, pieces, spilled = _saved(pipeline, work, key), dict[int, list[Leaf]](), frozenset[int]()
    if state is None:
        state, pieces, spilled = _observe(setup, pipeline, work, parts, key, rounds, progress)
    # the inputs left out name the state too: a part cleaned without them is reused only by a run without them
    left_out = [
        f"{parts[i].name} {leaf.piece.tag}" for i, leaves in sorted(pieces.items()) for leaf in leaves if leaf.failed
    ]
    named = hashlib.blake2b("\n".join([key, *left_out]).encode(), digest_size=16).hexdigest() if left_out else key
    return Learned(state, run_key(setup.config, setup.plugins, named), key, pieces, spilled)


def _saved(pipeline: Pipeline, work: WorkFolder, key: str) -> dict[str, Any] | None:
    """The state a previous run over the same inputs saved under ``key``; None when there is none to trust."""
    found, data = work.learned(key)
    if not found or not isinstance(data, dict):
        return None
    try:
        return pipeline.learned_from_json(data)
    except (ValueError, KeyError, TypeError):  # a damaged or hand-edited file: learn again
        return None


def _observe(
    setup: Setup,
    pipeline: Pipeline,
    work: WorkFolder,
    parts: Sequence[Part],
    key: str,
    rounds: Rounds,
    progress: Progress,
) -> tuple[dict[str, Any], dict[int, list[Leaf]], frozenset[int]]:
    """Map and reduce, narrowing failures; raise :class:`LearningIncompleteError` if a hole is left. The state
    is cached only when it was learned from every input. Also returns the parts whose spill was written."""
    observing = _Observing(setup, pipeline, work, parts, key, progress)
    progress.begin("learning", sum(p.size for p in parts))
    rounds.run(observing, {p.index: [Piece(p.shards)] for p in parts})
    if observing.holes:
        index, leaf = next(iter(sorted(observing.holes.items())))
        raise LearningIncompleteError(
            f"the learning pass could not observe {len(observing.holes)} part(s) even after "
            f"{rounds.attempts} attempts (part {parts[index].name}, {leaf.piece.describe()}: {leaf.error!r}); "
            "cleaning with what it learned from the rest would give other output than a run without the "
            "failure, so nothing was cleaned: fix the cause and run the same command again"
        )
    state = observing.reducer.result()
    if not any(leaf.failed for leaves in observing.pieces.values() for leaf in leaves):
        work.save_learned(key, pipeline.learned_to_json(state))
    return state, observing.pieces, frozenset(observing.spilled)


class _Observing:
    """The learning pass's side of :class:`Rounds`: its tasks, and each part's states merged in input order."""

    def __init__(
        self, setup: Setup, pipeline: Pipeline, work: WorkFolder, parts: Sequence[Part], key: str, progress: Progress
    ) -> None:
        self.setup, self.pipeline, self.work, self.parts = setup, pipeline, work, parts
        self.key, self.progress = key, progress
        self.reducer = Reducer(pipeline)
        self.pieces: dict[int, list[Leaf]] = {}  # the parts narrowed: their leaves
        self.holes: dict[int, Leaf] = {}  # the parts with a failure that is not one input
        self.spilled: set[int] = set()  # the parts observed whole: their spill was written by this run

    def task(self, index: int, piece: Piece) -> Task:
        """A whole part spills for its cleaning task, where the workers share the work folder with this process."""
        part = self.parts[index]
        if piece.whole:
            return ObservePart(self.setup, part, self.work.spill(part, self.key) if self.setup.shared_files else None)
        return ObservePart(self.setup, part, None, piece)

    def count(self, index: int, piece: Piece) -> Task:
        return CountItems(self.setup, piece)

    def stops(self, result: Any) -> bool:
        return False  # the learning pass never stops early

    def arrived(self, index: int, piece: Piece, result: Any) -> Any:
        return result  # states only: nothing to write

    def resolved(self, index: int, leaves: list[Leaf]) -> None:
        states = [leaf.result.states for leaf in leaves if not leaf.failed]
        for leaf in leaves:
            if leaf.failed and not leaf.single:
                self.holes.setdefault(index, leaf)
        if len(leaves) > 1 or leaves[0].failed:
            self.pieces[index] = leaves
        elif self.setup.shared_files:
            self.spilled.add(index)
        merged = states[0] if len(states) == 1 else self.pipeline.merge_learned(states) if states else None
        self.reducer.add(index, merged)
        observed: list[Observed] = [leaf.result for leaf in leaves if not leaf.failed]
        self.progress.advance(sum(o.inputs for o in observed), self.parts[index].size)


def save_learned_files(pipeline: Pipeline, state: dict[str, Any], folder: Path) -> None:
    """Each learning stage writes what it learned as a reviewable file in the output folder, and no other
    ``learned-*.json`` stays there: the folder holds what this run made.

    A file an earlier run learned (the boilerplate stage's ``learned-boilerplate.json``) would otherwise
    outlive a run with learning switched off, with a pinned list (``learned_file``: nothing is learned then),
    or without the stage, and describe lines this run did not learn. So the earlier files go first, then the
    learning stages write theirs: whatever is there afterwards, this run wrote.
    """
    _remove_earlier_learned_files(pipeline, folder)
    for stage in pipeline.learning_stages():
        stage.save_learned(state.get(stage.name), folder)


def _remove_earlier_learned_files(pipeline: Pipeline, folder: Path) -> None:
    """Delete the ``learned-*.json`` files in ``folder``: only plain files (a link is left alone, and the run
    refused one there at its start), and never one the configuration names (a list pinned with ``learned_file``
    may live in the output folder: it is this run's input)."""
    if not is_regular_file(folder / REPORT_NAME):
        return  # no normkit run finished here before: a learned-*.json here is someone else's
    named = _configured_paths(pipeline)
    for path in entries(folder):
        if LEARNED_FILE.fullmatch(path.name) and is_regular_file(path) and _resolved(path) not in named:
            path.unlink(missing_ok=True)


def _configured_paths(pipeline: Pipeline) -> set[Path]:
    """Every string option of a ``[stages.<name>]`` table, a profile's included, as a path resolved like the
    stage resolves it."""
    config = pipeline.config
    tables = [*config.stages.values()]
    for profile in config.profiles.values():
        stages = profile.get("stages", {}) if isinstance(profile, dict) else {}
        tables += [table for table in stages.values() if isinstance(table, dict)]
    values = [value for table in tables for value in table.values() if isinstance(value, str)]
    return {_resolved(Path(config.resolve_path(value))) for value in values}


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a loop, or a path that cannot be resolved: compared as written
        return path.absolute()
