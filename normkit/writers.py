"""Files a run writes: atomically, records encoded as the engine's part files hold them, and one safe file per
document for the exporters that write a folder (text, markdown).

Nothing here knows a format: the exporter plugins decide what a record looks like and how it is rendered.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import orjson

from normkit.components import RecordWriter

__all__ = ["FolderWriter", "atomic_file", "encode_record", "safe_filename"]

#: write buffer of the files a run writes: records are several KB, so the default 8 KB meant a syscall each.
BUFFER_SIZE = 1 << 20


@contextmanager
def atomic_file(path: Path) -> Iterator[IO[bytes]]:
    """A binary file that appears at ``path`` only if the block completes; a temp file otherwise vanishes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; outputs get the user's usual mode
    try:
        with os.fdopen(fd, "wb", buffering=BUFFER_SIZE) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@functools.lru_cache(maxsize=1)
def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def encode_record(record: Mapping[str, Any]) -> bytes:
    """One line of a part's records file: the record as orjson writes it, and a newline.

    A writer whose ``write`` produces exactly these bytes overrides ``RecordWriter.copy_lines`` to copy the
    part files' bytes through instead of parsing them again.
    """
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_SLUG_LENGTH = 60


def safe_filename(doc_id: str, suffix: str, copy: int = 1) -> str:
    """A file name for ``doc_id`` that is safe anywhere: ``<slug>-<hash><suffix>``.

    The slug keeps ASCII letters, digits, ``_`` and ``-`` (so no separator, no ``..``, no dot that would make
    ``CON.txt`` a reserved name on Windows); the 12 hex digits of SHA-256 over the exact id keep ids that
    differ only in case, or only in what the slug dropped, apart, even on case-insensitive file systems.
    """
    slug = _UNSAFE.sub("_", doc_id).strip("_-")[:_SLUG_LENGTH]
    digest = hashlib.sha256(doc_id.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    stem = f"{slug}-{digest}" if slug else digest
    return f"{stem}-{copy}{suffix}" if copy > 1 else f"{stem}{suffix}"


class FolderWriter(RecordWriter):
    """Writes each record as its own file inside ``folder``, named by :func:`safe_filename`.

    A second record with the same id gets ``-2``, ``-3``...: nothing a run writes is overwritten by the
    same run, and nothing is written outside ``folder`` (names have no separators; symlinks are not
    followed).
    """

    def __init__(self, folder: Path, suffix: str, render: Callable[[Mapping[str, Any]], bytes]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder.resolve()
        self.suffix, self.render = suffix, render
        self.names: set[str] = set()

    def write(self, record: Mapping[str, Any]) -> None:
        self._write_file(self._name_for(str(record["id"])), self.render(record))

    def _name_for(self, doc_id: str) -> str:
        copy = 1
        while (name := safe_filename(doc_id, self.suffix, copy)) in self.names:
            copy += 1
        self.names.add(name)
        return name

    def _write_file(self, name: str, data: bytes) -> None:
        path = self.folder / name
        if path.parent != self.folder:  # cannot happen with safe_filename; kept as the guarantee's last line
            raise ValueError(f"refusing to write {name!r} outside {self.folder}")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        with os.fdopen(os.open(path, flags, 0o644), "wb") as stream:
            stream.write(data)
