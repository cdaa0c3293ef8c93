"""The learning pass: each part observed (map), the parts' states merged in part order (reduce).

It runs only when a stage ``learns``. Its result is cached in the work folder under a key naming the
configuration, plugins, normkit's code and every part's input, so a resumed run does not learn again; the
run key of the cleaning pass includes that key, so a part cleaned with other learned state is redone.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from normkit.batch.report import Progress
from normkit.batch.resume import WorkFolder, run_key
from normkit.batch.rounds import Rounds
from normkit.batch.tasks import Observed, ObservePart, Setup
from normkit.inputs import Part
from normkit.pipeline import Pipeline

__all__ = ["Learned", "LearnedState", "Reducer", "learn", "save_learned_files"]


class Learned(NamedTuple):
    """What the learning pass hands the cleaning pass."""

    state: dict[str, Any]  # by learning stage: the merged state (empty when no stage learns)
    key: str  # the run key, which names the learned state too: what a finished part depends on
    spill: str | None  # the key naming this pass's spill files; None when no stage learns


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
        self.pending[index] = state
        while self.next in self.pending:
            self._merge(self.pending.pop(self.next))
            self.next += 1

    def result(self) -> dict[str, Any]:
        for index in sorted(self.pending):  # after a part that failed for good: the rest, still in order
            self._merge(self.pending.pop(index))
        return self.merged

    def _merge(self, state: Any) -> None:
        self.merged = self.pipeline.merge_learned([self.merged, state]) if self.merged else state


def learn(
    setup: Setup, pipeline: Pipeline, work: WorkFolder, parts: Sequence[Part], rounds: Rounds, progress: Progress
) -> Learned:
    """The learning pass over ``parts``, or its result cached in ``work`` by a run over the same inputs.

    ``pipeline`` is the parent's: it says which stages learn and merges their states.
    """
    base = run_key(setup.config, setup.plugins)
    if not pipeline.learning_stages():
        return Learned({}, base, None)
    inputs = "\n".join(f"{p.name} {p.digest}" for p in parts)
    key = hashlib.blake2b(f"{base}\n{inputs}".encode(), digest_size=16).hexdigest()
    state = _saved(pipeline, work, key)
    if state is None:
        state = _observe(setup, pipeline, work, parts, key, rounds, progress)
    return Learned(state, run_key(setup.config, setup.plugins, key), key)


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
) -> dict[str, Any]:
    """Map and reduce; the state is cached only when every part was observed (one with holes is not worth it)."""
    reducer = Reducer(pipeline)

    def accept(index: int, observed: Observed) -> bool:
        reducer.add(index, observed.states)
        progress.advance(observed.inputs, parts[index].size)
        return False  # the learning pass never stops early

    progress.begin("learning", sum(p.size for p in parts))
    failed = rounds.run({p.index: ObservePart(setup, p, work.spill(p, key)) for p in parts}, accept)
    state = reducer.result()
    if not failed:
        work.save_learned(key, pipeline.learned_to_json(state))
    return state


def save_learned_files(pipeline: Pipeline, state: dict[str, Any], folder: Path) -> None:
    """Each learning stage writes what it learned as a reviewable file in the output folder."""
    for stage in pipeline.learning_stages():
        stage.save_learned(state.get(stage.name), folder)
