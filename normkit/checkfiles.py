"""Checking output files against their schemas as streams, for ``normkit validate`` and CI.

The engine knows no format: each exporter says which files it reads back (``reads``) and reads them
(:meth:`~normkit.Exporter.read`), so a plugin's format can be validated as the builtins' are. Memory is
bounded by the largest record, never by the file, as long as the readers stream (the builtins do: JSON
Lines line by line, a JSON array element by element, CSV row by row, Parquet row group by row group).
``.gz`` and ``.zst`` files are read through the engine's decompressors, under the input side's caps: a file
that expands past ``[input] max_compression_ratio`` (default) times its compressed size is read up to there
("cannot read the file past here: ..."), and a record longer than :data:`MAX_RECORD_BYTES` is a problem at its
line, so a decompression bomb or a runaway line costs a bounded amount of memory. Only regular files are read:
a FIFO is never waited on.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from normkit.components import Exporter, ReadRecord
from normkit.config import DEFAULT_MAX_COMPRESSION_RATIO, DEFAULT_MAX_DOCUMENT_BYTES
from normkit.errors import NormkitError
from normkit.inputs import InputLimitError, Shard, open_binary, strip_compression
from normkit.output import STATE_DIR
from normkit.validate import compiled

if TYPE_CHECKING:
    from normkit.registry import Registry

__all__ = ["FileCheck", "Problem", "Readers", "files_to_check"]

#: the longest record read as one: a document of up to ``[input] max_document_bytes`` (default), with room for
#: what a record holds beside its text (the text before and after each edit, JSON escapes).
MAX_RECORD_BYTES = 4 * DEFAULT_MAX_DOCUMENT_BYTES

#: file stems that name their schema: the files a run writes beside its records.
NAMED = {"rejects": "reject", "report": "report"}
#: a file in a folder of this name's subfolder holds Dolma attributes (``--annotate``), whatever its name says
ATTRIBUTES_FOLDER, ATTRIBUTES_SCHEMA = "attributes", "attributes"


@dataclass(frozen=True)
class Problem:
    """One error in a file: where (line, or row for Parquet; pointer inside the record), the rule, why."""

    path: str
    line: int | None
    rule: str
    message: str
    pointer: str | None = None  # None when the record could not even be read

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        if self.pointer is None:
            return f"{where}: {self.message} ({self.rule})"
        return f"{where}: {self.pointer or '/'}: {self.message} ({self.rule})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "line": self.line,
            "pointer": self.pointer,
            "rule": self.rule,
            "message": self.message,
        }


class Readers:
    """The registered exporters that read files back, by file suffix, and the schemas they can be checked
    against (normkit's own and the plugins')."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.by_suffix: dict[str, type[Exporter]] = {}
        for exporter in registry.all("exporter"):
            for suffix in exporter.reads:
                self.by_suffix.setdefault(suffix, exporter)  # the first registered: builtins come first

    def reader_for(self, path: str) -> type[Exporter] | None:
        return self.by_suffix.get(Path(strip_compression(path)[0]).suffix.lower())

    def reader(self, path: str) -> type[Exporter]:
        """The exporter that reads ``path``; an unknown suffix is a usage error naming the known ones."""
        found = self.reader_for(path)
        if found is None:
            suffix = Path(strip_compression(path)[0]).suffix.lower()
            known = ", ".join(sorted(self.by_suffix))
            raise NormkitError(f"{path}: unknown file format {suffix or '(no suffix)'!r} (known: {known})")
        return found

    def schema_for(self, path: str, reader: type[Exporter]) -> str:
        """The schema a file's records follow: the one the file names inside (Parquet's metadata), else its
        folder's (``attributes/<tagger>/``: Dolma attributes), else its name's (``rejects.jsonl``,
        ``learned-boilerplate.json``, the ``dolma`` in ``documents.dolma.jsonl``), else the reader's own."""
        known = set(self.registry.schema_names())
        inside = self._schema_inside(path, reader)
        if inside in known:
            return str(inside)
        if ATTRIBUTES_FOLDER in Path(path).parent.parts[:-1]:  # Dolma's attributes/<tagger>/<documents name>
            return ATTRIBUTES_SCHEMA
        stem, *markers = Path(strip_compression(path)[0]).name.split(".")[:-1]
        for name in (NAMED.get(stem), stem, *reversed(markers)):
            if name in known:
                return str(name)
        return reader.schema

    @staticmethod
    def _schema_inside(path: str, reader: type[Exporter]) -> str | None:
        """What the file says of itself, if its reader looks inside; a file that cannot be opened says nothing
        here, and its reading reports why."""
        if reader.schema_in.__func__ is Exporter.schema_in.__func__:  # type: ignore[attr-defined]
            return None
        try:
            with open_binary(path) as stream:
                return reader.schema_in(stream)
        except (OSError, EOFError, ValueError):
            return None


def files_to_check(target: str, readers: Readers) -> tuple[list[str], list[str]]:
    """The files to check for ``target`` and those left out: a file is itself; a folder (an output folder)
    is every file inside that an exporter reads, in name order, without following links or entering
    ``.normkit``; the rest (a text exporter's ``.txt`` pages) is returned as left out."""
    path = Path(target)
    if not path.is_dir():
        return [target], []
    found: list[str] = []
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d != STATE_DIR and not (Path(root) / d).is_symlink())
        found += [str(Path(root) / f) for f in sorted(files) if not (Path(root) / f).is_symlink()]
    readable = [f for f in found if readers.reader_for(f) and not Path(f).name.startswith(".")]
    chosen = set(readable)
    return readable, [f for f in found if f not in chosen]


@dataclass
class FileCheck:
    """Checks one file; ``records`` counts what was read so far."""

    path: str
    readers: Readers
    #: the schema asked for (``--schema``); None to find it from the file.
    asked: str | None = None
    records: int = field(default=0, init=False)

    #: a compressed file that expands past this many times its compressed size is read only up to there.
    max_ratio: float = DEFAULT_MAX_COMPRESSION_RATIO
    #: bytes read for one record at most; a longer record is a problem at its line, and reading stops there.
    max_record_bytes: int = MAX_RECORD_BYTES

    def __post_init__(self) -> None:
        try:
            mode = os.stat(self.path).st_mode
        except OSError:
            raise NormkitError(f"{self.path}: no such file") from None
        if not stat.S_ISREG(mode):
            raise NormkitError(f"{self.path}: not a regular file")
        self.reader = self.readers.reader(self.path)
        self.schema = self.asked or self.readers.schema_for(self.path, self.reader)
        self.schema_ref = self.readers.registry.schema(self.schema)  # a plugin's schema is a file
        compiled(self.schema_ref)  # a bad schema is a usage error before any record is read

    def problems(self) -> Iterator[Problem]:
        checker = compiled(self.schema_ref)
        for item in self._read():
            if item.error is not None:
                yield Problem(self.path, item.line, "syntax", item.error)
                continue
            self.records += 1
            for violation in checker.violations(item.record):
                yield Problem(self.path, item.line, violation.rule, violation.message, violation.pointer)

    def _read(self) -> Iterator[ReadRecord]:
        last = 0
        try:
            with Shard(self.path).open(max_ratio=self.max_ratio) as raw:
                guard = _RecordGuard(raw, self.max_record_bytes)
                stream = io.BufferedReader(guard, buffer_size=_GUARD_BUFFER)
                for item in self.reader.read(stream, self.schema_ref):
                    last = item.line or last
                    guard.record_read()
                    yield item
        except _RecordTooLongError:
            yield ReadRecord(
                last + 1,
                error=f"a record longer than {self.max_record_bytes} bytes (the most normkit validate reads as one "
                "record): not checked, nor the rest of the file",
            )
        except (OSError, EOFError, ValueError) as exc:  # truncated or corrupt .gz/.zst, bad UTF-8 in CSV, a bomb
            yield ReadRecord(last + 1, error=f"cannot read the file past here: {exc}")


#: read ahead above the record guard: small, so a record is measured to within this many bytes.
_GUARD_BUFFER = 1 << 16


class _RecordTooLongError(InputLimitError):
    """More than the cap read for one record."""


class _RecordGuard(io.RawIOBase):
    """A stream that raises :class:`_RecordTooLongError` once more than ``cap`` bytes are read between two records
    (:meth:`record_read`). A seek starts the count again: a reader that seeks (Parquet) reads by pieces."""

    def __init__(self, stream: IO[bytes], cap: int) -> None:
        self.stream, self.cap, self.since = stream, cap, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self.stream.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.since = 0
        return self.stream.seek(offset, whence)

    def tell(self) -> int:
        return self.stream.tell()

    def record_read(self) -> None:
        self.since = 0

    def readinto(self, target: Any) -> int:
        view = memoryview(target).cast("B")
        data = self.stream.read(len(view))
        view[: len(data)] = data
        self.since += len(data)
        if self.since > self.cap:
            raise _RecordTooLongError(f"more than {self.cap} bytes for one record")
        return len(data)
