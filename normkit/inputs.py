"""Finding input files, opening them (stdin, gzip, zstd), and turning each into documents with a loader.

Every input is accounted for here: a path that does not exist or cannot be opened or decompressed becomes a
:class:`~normkit.document.Reject`, never an exception that stops the batch.
"""

from __future__ import annotations

import fnmatch
import gzip
import io
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import zstandard

from normkit.document import Document, Origin, Reject

__all__ = ["Shard", "assign_source", "discover", "open_binary", "strip_compression"]

COMPRESSION_SUFFIXES = (".gz", ".zst")
_MAGIC = {b"\x1f\x8b": ".gz", b"\x28\xb5\x2f\xfd": ".zst"}


@dataclass(frozen=True)
class Shard:
    """A unit of work: one input file (``-`` for stdin), or a missing path waiting to be rejected."""

    path: str
    missing: bool = False

    @property
    def origin(self) -> Origin:
        return Origin(self.path)


def discover(inputs: Sequence[str], include: Sequence[str] = (), exclude: Sequence[str] = ()) -> list[Shard]:
    """The shards for ``inputs``: files as given, directories walked recursively in a stable order.

    ``include``/``exclude`` globs apply to files found inside directories (matched against the path
    relative to the directory and against the file name), never to files named explicitly.
    """
    shards: list[Shard] = []
    for item in inputs:
        if item == "-":
            shards.append(Shard("-"))
        elif os.path.isdir(item):
            shards.extend(Shard(p) for p in _walk(Path(item), include, exclude))
        else:
            shards.append(Shard(item, missing=not os.path.exists(item)))
    return shards


def _walk(root: Path, include: Sequence[str], exclude: Sequence[str]) -> Iterator[str]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(folder, name)
            rel = path.relative_to(root).as_posix()
            if include and not _matches(rel, name, include):
                continue
            if exclude and _matches(rel, name, exclude):
                continue
            yield str(path)


def _matches(rel: str, name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(name, p) for p in patterns)


def strip_compression(path: str) -> tuple[str, str | None]:
    """``("a.jsonl", ".gz")`` for ``a.jsonl.gz``; the suffix the loader should see, and the compression."""
    lower = path.lower()
    for suffix in COMPRESSION_SUFFIXES:
        if lower.endswith(suffix):
            return path[: -len(suffix)], suffix
    return path, None


@contextmanager
def open_binary(path: str) -> Iterator[IO[bytes]]:
    """Open ``path`` (``-`` is stdin) for reading bytes, undoing gzip/zstd by suffix or magic number."""
    if path == "-":
        yield sys.stdin.buffer
        return
    with open(path, "rb") as raw:
        compression = strip_compression(path)[1]
        if compression is None:
            head = raw.read(4)
            raw.seek(0)
            compression = _MAGIC.get(head[:2]) or _MAGIC.get(head)
        if compression == ".gz":
            with gzip.GzipFile(fileobj=raw) as stream:
                yield stream
        elif compression == ".zst":
            yield io.BufferedReader(_ZstdReader(raw))
        else:
            yield raw


class _ZstdReader(io.RawIOBase):
    """Decompresses every zstd frame of a stream and raises on a truncated one.

    zstandard's own ``stream_reader`` returns a silent EOF for a truncated frame, which would lose the
    rest of the file without a word; here the end of input before the end of a frame is an ``EOFError``.
    """

    def __init__(self, raw: IO[bytes], chunk_size: int = 1 << 17) -> None:
        self.raw, self.chunk_size = raw, chunk_size
        self.dobj = zstandard.ZstdDecompressor().decompressobj()
        self.buffer = memoryview(b"")
        self.in_frame = False

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self.buffer:
            chunk = self.raw.read(self.chunk_size)
            if not chunk:
                if self.in_frame:
                    raise EOFError("compressed data ends in the middle of a zstd frame (truncated file?)")
                return 0
            self.buffer = memoryview(self._feed(chunk))
        size = min(len(target), len(self.buffer))
        target[:size] = self.buffer[:size]
        self.buffer = self.buffer[size:]  # a view: no copy of the rest
        return size

    def _feed(self, chunk: bytes) -> bytes:
        out = []
        while chunk:
            self.in_frame = True
            out.append(self.dobj.decompress(chunk))
            chunk = b""
            if self.dobj.eof:
                self.in_frame = False
                chunk = self.dobj.unused_data
                self.dobj = zstandard.ZstdDecompressor().decompressobj()
        return b"".join(out)


def assign_source(doc: Document, order: Sequence[str]) -> Document:
    """Fill ``doc.source`` from the record, the URL's host, or the input's parent folder, in ``order``."""
    for way in order:
        if way == "record" and doc.source:
            return doc
        if way == "url" and doc.url:
            host = urlsplit(doc.url).hostname
            if host:
                doc.source = host.removeprefix("www.")
                return doc
        if way == "folder" and doc.origin and doc.origin.path != "-":
            doc.source = Path(doc.origin.path).parent.name or None
            if doc.source:
                return doc
    return doc


def missing_reject(shard: Shard) -> Reject:
    return Reject(shard.origin, "no such file or directory", hook="load")
