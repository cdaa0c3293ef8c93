"""The data normkit moves around: Document, Edit, Flag, Origin and Reject.

Everything here is plain data with an exact JSON round-trip (``to_dict`` / ``from_dict``), so a document can
cross a process boundary, be written by any exporter and be read back for ``normkit explain``.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

__all__ = ["Document", "Edit", "Flag", "Origin", "Reject"]


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


@dataclass(frozen=True)
class Edit:
    """One change a stage made, with enough detail to say why a line disappeared and to put it back.

    ``line`` is the 1-based line number in the text the stage *received*; ``before`` is the removed or
    replaced text and ``after`` its replacement ("" for a removal). ``rule`` names what fired: a builtin rule
    id, ``config:<name>``, ``learned``, or a plugin's rule.
    """

    stage: str
    action: str  # "removed" | "replaced" | "decoded" | "repaired"
    rule: str
    line: int | None = None
    before: str = ""
    after: str = ""
    plugin: str | None = None
    detail: str | None = None

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
    """Edits for a text-wide replacement: one per changed line when the line count holds (small, and each
    says where), else one edit carrying both texts, so the input can always be restored."""
    old, new = before.split("\n"), after.split("\n")
    if len(old) != len(new):
        return [Edit(stage, "replaced", rule, before=before, after=after, detail=detail)]
    return [
        Edit(stage, "replaced", rule, line=number, before=a, after=b, detail=detail)
        for number, (a, b) in enumerate(zip(old, new, strict=True), start=1)
        if a != b
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
