"""The data normkit moves around: Document, Edit, Flag, Origin and Reject.

Everything here is plain data with an exact JSON round-trip (``to_dict`` / ``from_dict``), so a document can
cross a process boundary, be written by any exporter and be read back for ``normkit explain``.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import operator
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

__all__ = [
    "LINE_SEPARATORS",
    "REPLAYED_ACTIONS",
    "Document",
    "Edit",
    "Flag",
    "Origin",
    "Reject",
    "end_pieces",
    "line_edits",
]


@dataclass(frozen=True)
class Origin:
    """Where a document came from: a path (or ``-`` for stdin) and, for line-based formats, a 1-based line."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return self.path if self.line is None else f"{self.path}:{self.line}"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Origin:
        return cls(path=data["path"], line=data.get("line"))


#: the actions :attr:`Edit.replayable` edits have: each says how to put a stage's input lines back.
REPLAYED_ACTIONS = frozenset({"removed", "replaced", "trimmed"})
#: the characters besides a newline at which a line may be split (the whitespace stage and ftfy's line-break fix).
LINE_SEPARATORS = "\r\u2028\u2029\x0b\x0c\x85"
_SEPARATOR = re.compile(f"[{LINE_SEPARATORS}]")


@dataclass(frozen=True)
class Edit:
    """One change a stage made, with enough detail to say why a line changed and to put it back.

    ``rule`` names what fired: a builtin rule id, ``config:<name>``, ``learned``, or a plugin's rule.
    ``line`` is the 1-based number of a line in the text the stage *received*, split at newlines (an empty
    text is no lines, or one empty line: both are ""). An edit with a ``line`` and one of these actions
    changed the text there, and says enough for ``normkit explain`` to undo it (:attr:`replayable`):

    - ``removed``: the lines of ``before`` (one, or a run joined by newlines) started at ``line`` and are
      gone.
    - ``replaced``: the lines of ``before`` started at ``line`` and became the lines of ``after``.
    - ``trimmed``: the lines from ``line`` on kept their text and lost their ends. ``before`` holds one end
      per line, joined by newlines ("" for a line in the run left as it was). An end may hold line
      separators (CR, U+2028, form feed, ...; see :func:`end_pieces`) at which its line was split: the line
      became one output line per separator, plus one, each followed in the input by its piece of the end
      (a CR that ends an end and is its only separator is a CR LF's, cut, not a split). Trailing spaces on
      300 lines, or a text in CR LF, make one edit of a few bytes a line, with no line's text in it.

    Every other edit (no ``line``, or another action, such as decode's ``decoded``) is informational: it
    records a decision (an encoding, a title), not a change to the lines, and explain passes over it.
    Edits are kept in pipeline order, so a stage's edits follow those of the stages before it.
    """

    stage: str
    action: str  # "removed" | "replaced" | "trimmed" | "decoded" | "repaired"
    rule: str
    line: int | None = None
    before: str = ""
    after: str = ""
    plugin: str | None = None
    detail: str | None = None

    @property
    def replayable(self) -> bool:
        """Whether this edit changed the text at ``line`` in a way ``normkit explain`` can undo."""
        return self.line is not None and self.action in REPLAYED_ACTIONS

    def to_dict(self) -> dict[str, Any]:
        """Fields that say something: unset ones (None, or "" for before/after) are left out.

        Built by hand rather than with ``dataclasses.asdict``, which deep-copies every value: edits are the
        most numerous objects a run serialises.
        """
        data: dict[str, Any] = {"stage": self.stage, "action": self.action, "rule": self.rule}
        if self.line is not None:
            data["line"] = self.line
        if self.before:
            data["before"] = self.before
        if self.after:
            data["after"] = self.after
        if self.plugin is not None:
            data["plugin"] = self.plugin
        if self.detail is not None:
            data["detail"] = self.detail
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Edit:
        """The inverse of :meth:`to_dict`; other keys are ignored. Spelt out: it runs for every edit spilled."""
        get = data.get
        return cls(
            stage=data["stage"],
            action=data["action"],
            rule=data["rule"],
            line=get("line"),
            before=get("before", ""),
            after=get("after", ""),
            plugin=get("plugin"),
            detail=get("detail"),
        )


@dataclass(frozen=True)
class Flag:
    """A warning that is not an error (low-confidence encoding, most of the text removed, ...)."""

    code: str
    stage: str
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "stage": self.stage, "detail": self.detail}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Flag:
        return cls(code=data["code"], stage=data["stage"], detail=data.get("detail", ""))


@dataclass
class Document:
    """A document on its way through the pipeline: a value that stages copy with changes, never change.

    ``raw`` holds undecoded bytes until the decode stage turns them into ``text``; it is never serialised,
    because a document that still has bytes has not been through the pipeline. ``decoding`` records how the
    bytes became text (encoding, confidence, method). ``edits`` and ``flags`` are tuples: a stage adds to
    them with :meth:`with_edits` and :meth:`with_flag`, which return new documents, so the document a stage
    received (and the pipeline compares against) keeps its history.
    """

    id: str
    text: str = ""
    title: str | None = None
    source: str | None = None
    url: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    origin: Origin | None = None
    edits: tuple[Edit, ...] = ()
    flags: tuple[Flag, ...] = ()
    decoding: dict[str, Any] | None = None
    raw: bytes | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        # lists a caller passes become tuples: nothing appends to a document's history behind its back
        if type(self.edits) is not tuple:
            self.edits = tuple(self.edits)
        if type(self.flags) is not tuple:
            self.flags = tuple(self.flags)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: every field but ``raw``; ``from_dict(to_dict())`` gives an equal document."""
        return {
            "id": self.id,
            "title": self.title,
            "text": self.text,
            "source": self.source,
            "url": self.url,
            "metadata": self.metadata,
            "origin": self.origin.to_dict() if self.origin else None,
            "decoding": self.decoding,
            "edits": [e.to_dict() for e in self.edits],
            "flags": [f.to_dict() for f in self.flags],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        origin = data.get("origin")
        return cls(
            id=data["id"],
            text=data.get("text", ""),
            title=data.get("title"),
            source=data.get("source"),
            url=data.get("url"),
            metadata=dict(data.get("metadata") or {}),
            origin=Origin.from_dict(origin) if origin else None,
            edits=tuple(Edit.from_dict(e) for e in data.get("edits", [])),
            flags=tuple(Flag.from_dict(f) for f in data.get("flags", [])),
            decoding=data.get("decoding"),
        )

    def evolve(self, **changes: Any) -> Document:
        """A copy with ``changes`` applied; stages use it so the input document stays as it was.

        ``dataclasses.replace`` without its per-field work (several stages evolve every document): a shallow
        copy of the fields, as ``replace`` makes, and an unknown field is still a TypeError. A subclass with
        fields or checks of its own gets ``replace`` itself.
        """
        if type(self) is not Document:
            return replace(self, **changes)
        unknown = changes.keys() - _DOCUMENT_FIELDS
        if unknown:
            raise TypeError(f"Document has no field {sorted(unknown)[0]!r}")
        for name in _HISTORY.intersection(changes):
            if type(changes[name]) is not tuple:
                changes[name] = tuple(changes[name])
        copied = object.__new__(type(self))
        copied.__dict__.update(self.__dict__, **changes)
        return copied

    def with_edits(self, *edits: Edit, **changes: Any) -> Document:
        """A copy with ``edits`` added after this document's (and ``changes`` applied, as :meth:`evolve`)."""
        return self.evolve(edits=(*self.edits, *edits), **changes)

    def with_flag(self, code: str, stage: str, detail: str = "") -> Document:
        """A copy with one more flag."""
        return self.evolve(flags=(*self.flags, Flag(code, stage, detail)))


_DOCUMENT_FIELDS = frozenset(f.name for f in fields(Document))
_HISTORY = frozenset({"edits", "flags"})


def line_edits(stage: str, rule: str, before: str, after: str, detail: str | None = None) -> list[Edit]:
    """Edits that turn the text ``before`` into ``after``, each :attr:`~Edit.replayable`, and few.

    Lines are matched up: a line that lost only its end (trailing spaces, a CR, a split at a line
    separator) is ``trimmed``, and neighbouring trimmed lines share one edit, across runs of up to 32
    unchanged lines (two bytes each in JSON, where a new edit costs some seventy); a line that
    went is ``removed``, runs in one edit; any other change is ``replaced``, neighbouring lines in one
    edit. So a text whose lines all end in CR LF or in spaces gets one edit carrying only those ends, and
    only a line whose words changed is stored, before and after. ``rule`` and ``detail`` go on every edit.
    """
    if before == after:
        return []
    old = before.split("\n")  # "" is one empty line here, so that text appearing is a replacement at line 1
    new = after.split("\n") if after else []  # and no lines there: a text that went is removals
    shorter = min(len(old), len(new))
    head = next(itertools.compress(itertools.count(), map(operator.ne, old, new)), shorter)
    tail = next(itertools.compress(itertools.count(), map(operator.ne, reversed(old), reversed(new))), shorter)
    tail = min(tail, shorter - head)
    old_mid, new_mid = old[head : len(old) - tail], new[head : len(new) - tail]
    changes = _match_lines(old_mid, new_mid, head)
    if changes is None:  # lines inserted, or matched out of order: diff them, and match within each block
        changes = _diffed(old, new, head, difflib.SequenceMatcher(None, old_mid, new_mid).get_opcodes())
    return _compacted(stage, rule, detail, changes)


#: the unchanged lines a ``trimmed`` edit spans, as empty ends, rather than start a new edit.
_BRIDGE = 32


def end_pieces(end: str) -> list[str]:
    """One line's end in a ``trimmed`` edit, cut after each line separator: one piece per output line.

    A CR that ends ``end`` and is its only separator is a CR LF's CR (the line's own end, cut), so it
    splits nothing; after other separators it is one more (a text in CRs alone).
    """
    cuts = [match.end() for match in _SEPARATOR.finditer(end)]
    if not cuts or (len(cuts) == 1 and cuts[0] == len(end) and end[-1] == "\r"):
        return [end]
    return [end[start:stop] for start, stop in itertools.pairwise([0, *cuts, len(end)])]


def _line_end(line: str, outputs: Sequence[str]) -> str | None:
    """The end ``line`` lost when it became ``outputs`` (a ``trimmed`` edit's entry), or None if it did not.

    ``line`` must be the outputs in turn, each followed by a piece of the end; all but the last piece end at
    a line separator. The end is checked to cut the same way again, so an entry always replays exactly.
    """
    pos, pieces, last = 0, [], len(outputs) - 1
    for index, out in enumerate(outputs):
        if not line.startswith(out, pos):
            return None
        pos += len(out)
        if index == last:
            pieces.append(line[pos:])
        else:
            match = _SEPARATOR.search(line, pos)
            if match is None:
                return None
            pieces.append(line[pos : match.end()])
            pos = match.end()
    end = "".join(pieces)
    return end if end_pieces(end) == pieces else None


_Change = tuple[int, str, str, str]  # (line in the input, action, before, after): one input line, or a block


def _match_lines(old: Sequence[str], new: Sequence[str], offset: int) -> list[_Change] | None:
    """Changes turning ``old`` into ``new`` line by line, in order; None when a line would have to appear.

    A line equal to the next output line is kept; else it is trimmed if it is that line (or those lines)
    with an end; else removed while more input than output lines are left, else replaced by one line.
    """
    changes: list[_Change] = []
    j = 0
    for i, line in enumerate(old):
        if j < len(new) and line == new[j]:
            j += 1
            continue
        trimmed = _trimmed(line, new, j)
        if trimmed is not None:
            end, count = trimmed
            changes.append((offset + i + 1, "trimmed", end, ""))
            j += count
        elif len(old) - i > len(new) - j:
            changes.append((offset + i + 1, "removed", line, ""))
        else:
            changes.append((offset + i + 1, "replaced", line, new[j]))
            j += 1
    return changes if j == len(new) else None


def _trimmed(line: str, new: Sequence[str], j: int) -> tuple[str, int] | None:
    """(end, output lines taken) when ``line`` is ``new[j:]``'s next lines with an end; the most lines first."""
    if j >= len(new):
        return None
    separators = len(_SEPARATOR.findall(line))
    if not separators or (separators == 1 and line[-1] == "\r"):  # the usual case: no split, one line
        return (line[len(new[j]) :], 1) if line.startswith(new[j]) else None
    most = min(separators + 1, len(new) - j)
    for count in range(most, 0, -1):
        end = _line_end(line, new[j : j + count])
        if end is not None:
            return end, count
    return None


def _diffed(old: Sequence[str], new: Sequence[str], offset: int, opcodes: Sequence[_Opcode]) -> list[_Change]:
    """Changes for each block the diff of ``old[offset:]`` and ``new[offset:]`` found (``opcodes``).

    A block is matched line by line where it can be; else it is one replacement (or removal). Inserted
    lines join the unchanged line above them (below, at the top) in a replacement, and replacements that
    then share a line become one.
    """
    changes: list[_Change] = []
    hunks: list[list[int]] = []  # [i1, i2, j1, j2] of replacements, merged as they overlap
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            continue
        i1, i2, j1, j2 = i1 + offset, i2 + offset, j1 + offset, j2 + offset
        if i1 < i2:
            matched = _match_lines(old[i1:i2], new[j1:j2], i1)
            if matched is not None:
                changes += matched
                continue
        elif i1 > 0:
            i1, j1 = i1 - 1, j1 - 1
        else:
            i2, j2 = i2 + 1, j2 + 1  # old has a line: "" is one
        if hunks and i1 < hunks[-1][1]:  # two insertions took the one unchanged line between them
            hunks[-1][1], hunks[-1][3] = i2, j2
        else:
            hunks.append([i1, i2, j1, j2])
    for i1, i2, j1, j2 in hunks:
        before = "\n".join(old[i1:i2])
        changes.append((i1 + 1, "replaced", before, "\n".join(new[j1:j2])))
    return sorted(changes)


_Opcode = tuple[str, int, int, int, int]


def _compacted(stage: str, rule: str, detail: str | None, changes: Sequence[_Change]) -> list[Edit]:
    """One edit per run: neighbouring removals and replacements, and trimmed lines up to ``_BRIDGE`` apart."""
    runs: list[tuple[int, str, list[str], list[str]]] = []
    next_line = 0  # the input line after the last run
    for line, action, before, after in changes:
        if runs and runs[-1][1] == action:
            gap = line - next_line
            if action == "trimmed" and gap <= _BRIDGE:
                runs[-1][2].extend([""] * gap + [before])
                next_line = line + 1
                continue
            if gap == 0:
                runs[-1][2].append(before)
                runs[-1][3].append(after)
                next_line = line + before.count("\n") + 1
                continue
        runs.append((line, action, [before], [after]))
        next_line = line + before.count("\n") + 1
    return [
        Edit(
            stage,
            action,
            rule,
            line=line,
            before="\n".join(befores),
            after="\n".join(afters) if action == "replaced" else "",
            detail=detail,
        )
        for line, action, befores, afters in runs
    ]


def stable_id(*parts: object) -> str:
    """A short id that is the same for the same origin on every run and machine."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Reject:
    """An input that could not become an output record, and why.

    ``plugin`` and ``hook`` name the component that failed, so a user knows whom to blame; ``stage`` is set
    when a pipeline stage raised or refused the document.
    """

    origin: Origin | None
    reason: str
    doc_id: str | None = None
    stage: str | None = None
    plugin: str | None = None
    hook: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["origin"] = self.origin.to_dict() if self.origin else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reject:
        origin = data.get("origin")
        return cls(
            origin=Origin.from_dict(origin) if origin else None,
            reason=data["reason"],
            doc_id=data.get("doc_id"),
            stage=data.get("stage"),
            plugin=data.get("plugin"),
            hook=data.get("hook"),
        )

    def message(self) -> str:
        """The one-line error: where, which document, which plugin/hook, and why."""
        where = str(self.origin) if self.origin else "<input>"
        parts = [where]
        if self.doc_id:
            parts.append(f"doc {self.doc_id}")
        if self.plugin or self.stage or self.hook:
            who = "/".join(p for p in (self.plugin, self.hook or self.stage) if p)
            parts.append(f"[{who}]")
        return ": ".join([" ".join(parts), self.reason])
