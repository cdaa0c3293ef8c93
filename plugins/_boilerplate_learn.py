"""Lines learned from a batch: per source, short lines that recur in many documents are boilerplate.

Memory is bounded by hashes: the first pass counts blake2b-8 hashes of normalised lines (case and spaces
folded, digits masked so "Image 3 of 12" and "Image 4 of 12" are one line) per source, once per document.
A short text sample is kept for a hash only while a per-state budget lasts or once it repeats, so the
reviewable file can show the lines without the state holding the corpus.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from normkit import ConfigError, atomic_file

from ._boilerplate_prefilter import has_digit
from ._boilerplate_rules import fold

__all__ = [
    "LEARNED_FILE",
    "LearnedLine",
    "LineCounter",
    "line_hash",
    "load_learned",
    "merge",
    "save_learned",
    "select",
    "state_from_json",
    "state_to_json",
]

LEARNED_FILE = "learned-boilerplate.json"
_DIGITS = re.compile(r"\d+")
_ASCII_DIGITS = b"0123456789"
#: line_hash caches whole results, so a line it has not seen is new to fold's cache too: skip that one.
_fold = getattr(fold, "__wrapped__", fold)


@lru_cache(maxsize=1 << 16)  # share bars and navigation repeat in every document of a source
def line_hash(line: str) -> int:
    """The 8-byte hash a line is counted and looked up by: blake2b of the line folded, digit runs masked.

    Most lines a run sees are new (body lines), so the miss matters: for ASCII the digit test is on the
    bytes the hash needs anyway (``bytes.translate`` is one C pass, ``has_digit`` ten ``in`` scans).
    """
    folded = _fold(line)
    if folded.isascii():
        data = folded.encode()
        if len(data.translate(None, _ASCII_DIGITS)) != len(data):
            data = _DIGITS.sub("0", folded).encode()
    else:
        data = (_DIGITS.sub("0", folded) if has_digit(folded) else folded).encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest())


@dataclass
class SourceCounts:
    """What one state knows about one source: documents seen, documents per line hash, some line texts."""

    documents: int = 0
    counts: Counter[int] = field(default_factory=Counter)
    samples: dict[int, str] = field(default_factory=dict)
    #: 0 while counts are exact; else the largest count ever dropped to keep memory bounded (see _bound).
    pruned: int = 0


def state_to_json(state: Mapping[str, SourceCounts]) -> dict[str, Any]:
    """A state as JSON values: hashes as 16 hex digits, pairs in the order counted (ties keep it later)."""
    return {
        source: {
            "documents": seen.documents,
            "pruned": seen.pruned,
            "counts": [[f"{key:016x}", count] for key, count in seen.counts.items()],
            "samples": [[f"{key:016x}", text] for key, text in seen.samples.items()],
        }
        for source, seen in state.items()
    }


def state_from_json(data: Mapping[str, Any]) -> dict[str, SourceCounts]:
    """:func:`state_to_json`'s JSON back; ValueError, KeyError or TypeError when it is not that."""
    if not isinstance(data, Mapping) or not all(isinstance(seen, Mapping) for seen in data.values()):
        raise TypeError("a learned state is an object of objects, by source")
    return {
        str(source): SourceCounts(
            int(seen["documents"]),
            Counter({int(key, 16): int(count) for key, count in seen["counts"]}),
            {int(key, 16): str(text) for key, text in seen["samples"]},
            int(seen["pruned"]),
        )
        for source, seen in data.items()
    }


#: distinct lines counted per source before the rarest are dropped: memory is bounded by this, not the corpus.
MAX_LINES_PER_SOURCE = 20_000


@dataclass(frozen=True)
class LearnedLine:
    """A learned line: its text (None when only its hash was kept), and how many documents held it."""

    text: str | None
    documents: int
    share: float


class LineCounter:
    """The observing side: counts each short line once per document, per source."""

    def __init__(self, max_chars: int = 200, sample_budget: int = 20_000) -> None:
        self.max_chars = max_chars
        self.sample_budget = sample_budget
        self.sources: dict[str, SourceCounts] = {}

    def observe(self, source: str, lines: Iterable[str]) -> None:
        seen = self.sources.get(source)
        if seen is None:
            seen = self.sources[source] = SourceCounts()
        seen.documents += 1
        counts, samples = seen.counts, seen.samples
        for key, line in _document_lines(lines, self.max_chars).items():
            count = counts[key] = counts.get(key, 0) + 1  # not += 1: Counter's __missing__ is Python code
            if key not in samples and (count > 1 or len(samples) < self.sample_budget):
                samples[key] = line

    def drain(self) -> dict[str, SourceCounts]:
        """The state since the last drain; the executor merges drained states, so none is counted twice."""
        state, self.sources = self.sources, {}
        return state


def _document_lines(lines: Iterable[str], max_chars: int) -> dict[int, str]:
    """The document's distinct short lines by hash, each counted once: digits are masked before the count,
    so the rows of one table ("Round 1: 3 points", "Round 2: 6 points") are one line of one document."""
    distinct: dict[int, str] = {}
    # dict.fromkeys, not a set: the first text kept for a hash must not depend on the process's hash seed
    for line in dict.fromkeys(map(str.strip, lines)):
        if line and len(line) <= max_chars:
            distinct.setdefault(line_hash(line), line)
    return distinct


def merge(states: Iterable[Mapping[str, SourceCounts] | None]) -> dict[str, SourceCounts]:
    """Sum the counts of several states; keep a sample only for lines seen more than once."""
    merged: dict[str, SourceCounts] = {}
    for state in states:
        for source, seen in (state or {}).items():
            into = merged.setdefault(source, SourceCounts())
            into.documents += seen.documents
            into.pruned = max(into.pruned, seen.pruned)
            into.counts.update(seen.counts)
            for key, text in seen.samples.items():
                into.samples.setdefault(key, text)
    for into in merged.values():
        into.samples = {k: t for k, t in into.samples.items() if into.counts[k] > 1}
        _bound(into)
    return merged


def _bound(seen: SourceCounts, limit: int = MAX_LINES_PER_SOURCE) -> None:
    """Keep at most ``limit`` distinct lines: drop the rarest (about half), remembering the largest count
    dropped. A learned line must be in ``min_share`` of the source's documents, so with a limit far above
    ``1 / min_share`` times the distinct short lines of a document the lines dropped are one-offs (body
    lines), and a line's count can be short by at most ``pruned`` (said in the learned file)."""
    if len(seen.counts) <= limit:
        return
    threshold = sorted(seen.counts.values())[len(seen.counts) - limit // 2 - 1]
    seen.counts = Counter({key: count for key, count in seen.counts.items() if count > threshold})
    seen.samples = {key: text for key, text in seen.samples.items() if key in seen.counts}
    seen.pruned = max(seen.pruned, threshold)


def select(
    state: Mapping[str, SourceCounts], min_documents: int, min_share: float
) -> dict[str, dict[int, LearnedLine]]:
    """Per source, the lines seen in at least ``min_documents`` documents and ``min_share`` of them."""
    learned: dict[str, dict[int, LearnedLine]] = {}
    for source, seen in state.items():
        if seen.documents < 2:  # a line of a lone document repeats nothing
            continue
        lines = {
            key: LearnedLine(seen.samples.get(key), count, round(count / seen.documents, 4))
            for key, count in seen.counts.items()
            if count >= min_documents and count >= min_share * seen.documents
        }
        if lines:
            learned[source] = lines
    return learned


def save_learned(learned: Mapping[str, Mapping[int, LearnedLine]], path: Path, settings: Mapping[str, Any]) -> None:
    """Write the reviewable file: per source, each line's text, hash and how many documents held it."""
    data = {
        "normkit": "learned-boilerplate",
        "version": 1,
        "settings": dict(settings),
        "sources": {
            source: [
                {"text": line.text, "hash": f"{key:016x}", "documents": line.documents, "share": line.share}
                for key, line in sorted(lines.items(), key=lambda item: -item[1].documents)
            ]
            for source, lines in sorted(learned.items())
        },
    }
    with atomic_file(path) as stream:  # a reader of the folder never sees half a file
        stream.write((json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))


def load_learned(path: str | Path) -> dict[str, dict[int, LearnedLine]]:
    """Read a reviewed file back; an entry's ``text`` wins over its ``hash``, so lines can be added by hand."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        sources = data["sources"]
        return {
            source: {_entry_hash(entry): _entry_line(entry) for entry in entries} for source, entries in sources.items()
        }
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"stages.boilerplate.learned_file: cannot read {path}: {exc}") from exc


def _entry_hash(entry: Mapping[str, Any]) -> int:
    text = _text_of(entry)
    return line_hash(text) if text else int(entry["hash"], 16)


def _entry_line(entry: Mapping[str, Any]) -> LearnedLine:
    return LearnedLine(_text_of(entry), int(entry.get("documents", 0)), float(entry.get("share", 0.0)))


def _text_of(entry: Mapping[str, Any]) -> str | None:
    """An entry's text; None for a hash-only line (files written before hash-only lines had a null text
    held ``"<line HASH>"`` there, and are read the same way)."""
    text = entry.get("text") or None
    return None if text is None or text.startswith("<line ") else str(text)
