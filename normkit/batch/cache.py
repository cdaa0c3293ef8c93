"""A small, bounded cache of what a process builds once and reuses: pipelines, by a key the caller chooses.

Building a :class:`~normkit.pipeline.Pipeline` loads plugins and compiles rules and validators, which costs far
more than running one document through it. Both callers that come back with the same key use this class:
the batch's worker cache (one pipeline per run id per process, see :mod:`normkit.batch.tasks`) and
:func:`normkit.clean` (the pipelines of the last few configurations, by digest).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["PipelineCache"]

V = TypeVar("V")


class PipelineCache(Generic[V]):
    """The values built in this process, by key; the newest ``size`` are kept, the oldest dropped first.

    The bound keeps memory flat when keys keep changing (a loop over configurations, one run after another).
    It is not thread-safe: a process runs one batch task, or one ``clean`` call, at a time.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"a cache keeps at least one value, not {size}")
        self.size = size
        self._values: dict[str, V] = {}

    def get(self, key: str, build: Callable[[], V]) -> V:
        """The value kept for ``key``, else ``build()``, kept from now on."""
        value = self._values.get(key)
        return self.put(key, build()) if value is None else value

    def put(self, key: str, value: V) -> V:
        """Keep ``value`` for ``key`` (a value built elsewhere), dropping the oldest beyond ``size``."""
        self._values.pop(key, None)
        while len(self._values) >= self.size:
            del self._values[next(iter(self._values))]
        self._values[key] = value
        return value

    def forget(self, key: str) -> None:
        """Drop the value for ``key``, if any: its owner is done with it."""
        self._values.pop(key, None)

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __len__(self) -> int:
        return len(self._values)
