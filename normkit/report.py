"""Counting what a run did: documents read, written and rejected, and what each stage changed.

Stats are plain, mergeable data so every worker keeps its own and the parent adds them up; the report is
validated against ``schemas/report.schema.json`` before it is written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from normkit.document import Document, Edit, Reject

__all__ = ["RunStats", "StageStats"]


@dataclass
class StageStats:
    """What one stage did over a run."""

    documents_changed: int = 0
    chars_removed: int = 0
    seconds: float = 0.0
    rules: Counter[str] = field(default_factory=Counter)

    def record(self, before: Document, after: Document, new_edits: Sequence[Edit], seconds: float) -> None:
        self.seconds += seconds
        if after is before:  # the stage changed nothing (the usual way to say so): nothing else to count
            return
        if new_edits or before.text != after.text:
            self.documents_changed += 1
        self.chars_removed += max(0, len(before.text) - len(after.text))
        rules = self.rules
        for edit in new_edits:
            rules[edit.rule] = rules.get(edit.rule, 0) + 1  # Counter.update's generator costs more than the loop

    def merge(self, other: StageStats) -> None:
        self.documents_changed += other.documents_changed
        self.chars_removed += other.chars_removed
        self.seconds += other.seconds
        self.rules.update(other.rules)

    def to_dict(self) -> dict[str, Any]:
        return {
            "documents_changed": self.documents_changed,
            "chars_removed": self.chars_removed,
            "seconds": round(self.seconds, 6),
            "rules": dict(sorted(self.rules.items())),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StageStats:
        return cls(data["documents_changed"], data["chars_removed"], data["seconds"], Counter(data["rules"]))


@dataclass
class RunStats:
    """Counts for a run, or for one shard of it; ``merge`` adds a shard's counts in."""

    read: int = 0
    written: int = 0
    rejected: int = 0
    flagged: int = 0
    bytes_in: int = 0
    stages: dict[str, StageStats] = field(default_factory=dict)
    sources: Counter[str] = field(default_factory=Counter)
    reject_reasons: Counter[str] = field(default_factory=Counter)

    def stage(self, name: str) -> StageStats:
        stats = self.stages.get(name)  # not setdefault: it would build a StageStats per call, per document
        if stats is None:
            stats = self.stages[name] = StageStats()
        return stats

    def count(self, outcome: Mapping[str, Any] | Reject) -> None:
        """Count one input's outcome, the only place that does: read once, then written, or rejected (by
        the hook or stage to blame). ``outcome`` is an exporter's record, or a :class:`Reject`."""
        self.read += 1
        if isinstance(outcome, Reject):
            self.rejected += 1
            self.reject_reasons[outcome.hook or outcome.stage or "other"] += 1
        else:
            self.written += 1

    def merge(self, other: RunStats) -> None:
        self.read += other.read
        self.written += other.written
        self.rejected += other.rejected
        self.flagged += other.flagged
        self.bytes_in += other.bytes_in
        self.sources.update(other.sources)
        self.reject_reasons.update(other.reject_reasons)
        for name, stats in other.stages.items():
            self.stage(name).merge(stats)

    @property
    def balanced(self) -> bool:
        """The accounting invariant: every document read was written or rejected, exactly once."""
        return self.read == self.written + self.rejected

    def to_dict(self) -> dict[str, Any]:
        return {
            "documents": {
                "read": self.read,
                "written": self.written,
                "rejected": self.rejected,
                "flagged": self.flagged,
            },
            "bytes_in": self.bytes_in,
            "stages": {name: s.to_dict() for name, s in self.stages.items()},
            "sources": dict(sorted(self.sources.items())),
            "reject_reasons": dict(sorted(self.reject_reasons.items())),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunStats:
        """The inverse of :meth:`to_dict`: a finished part's counts come back from its marker on resume."""
        docs = data["documents"]
        return cls(
            read=docs["read"],
            written=docs["written"],
            rejected=docs["rejected"],
            flagged=docs.get("flagged", 0),
            bytes_in=data["bytes_in"],
            stages={name: StageStats.from_dict(s) for name, s in data["stages"].items()},
            sources=Counter(data["sources"]),
            reject_reasons=Counter(data["reject_reasons"]),
        )
