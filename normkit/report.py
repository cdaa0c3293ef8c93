"""Counting what a run did: documents read, written and rejected, and what each stage changed.

Stats are plain, mergeable data so every worker keeps its own and the parent adds them up; the report is
validated against ``schemas/report.schema.json`` before it is written.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from normkit.document import Document, Edit, Reject

__all__ = ["RunStats", "StageStats", "reject_group"]

#: how many kinds of reject a count keeps apart: a reason that varies past masking (an exception quoting each
#: document) must not grow a part's marker or the report without bound; the rest are counted together.
MAX_REJECT_GROUPS = 50
OTHER_REASONS = "(other reasons)"
_QUOTED = re.compile(r"'[^'\n]{25,}'|\"[^\"\n]{25,}\"")
_DIGITS = re.compile(r"\d+")


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
    #: rejects counted by what went wrong (:func:`reject_group`), so that 1,905 records without the same
    #: field read as one line, not 1,905
    reject_groups: Counter[str] = field(default_factory=Counter)

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
            self._group(reject_group(outcome), 1)
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
        for group, count in other.reject_groups.items():
            self._group(group, count)
        for name, stats in other.stages.items():
            self.stage(name).merge(stats)

    def _group(self, group: str, count: int) -> None:
        groups = self.reject_groups
        if group not in groups and len(groups) >= MAX_REJECT_GROUPS:
            group = OTHER_REASONS
        groups[group] = groups.get(group, 0) + count

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
            "reject_groups": [{"reason": r, "count": n} for r, n in _by_count(self.reject_groups)],
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
            reject_groups=Counter({g["reason"]: g["count"] for g in data.get("reject_groups", ())}),
        )


def reject_group(reject: Reject) -> str:
    """What a reject says once what varies from document to document is masked: the component to blame and
    the reason, with numbers as ``N`` and long quoted values (a document's own text) as ``'…'``."""
    who = "/".join(p for p in (reject.plugin, reject.hook or reject.stage) if p)
    reason = _DIGITS.sub("N", _QUOTED.sub("'…'", reject.reason))
    return f"[{who}] {reason}" if who else reason


def _by_count(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    """The most frequent first, then by name: the same report for the same counts."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
