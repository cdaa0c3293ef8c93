"""Sharded output: each part's records become compressed files in ``OUT/documents/``, and the part goes.

The layout datatrove and Dolma write and Hugging Face ``datasets`` loads: ``documents/00000.jsonl.zst``,
``00001.jsonl.zst``... one file per part (more when a part's output passes ``[output] max_file_bytes``:
``00000_001.jsonl.zst``), named by the part's index, so the names are deterministic and the same when a run
resumes. Lexical order is input order. Each file is complete in its format (a CSV file has its header, a
Parquet file its footer), written atomically through the exporter's own writer.

There is one copy of the data: once a part's files are in place its marker names them (size and digest) and
the part's records file in ``.normkit/parts`` is deleted, so a finished output folder takes the size of the
compressed output, plus rejects, report and markers. A resumed run reuses a part whose files still match its
marker, as it reuses a part's records in the one-file layout.
"""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import orjson
import zstandard

from normkit.annotate import ATTRIBUTES_FOLDER, ATTRIBUTES_KEY
from normkit.components import Exporter, RecordWriter
from normkit.errors import ConfigError
from normkit.writers import (
    atomic_file,
    disk_full_stops,
    entries,
    is_folder,
    open_no_follow,
    refuse_kinds,
    refuse_links,
    remove_tree,
)

__all__ = ["COMPRESSIONS", "SHARD_NAME", "ShardWriter", "remove_stale_shards"]

#: ``[output] compression``: the suffix each adds to a shard's name (``none``: no compression).
COMPRESSIONS = {"zst": ".zst", "gz": ".gz", "none": ""}
#: what a shard's name looks like: the part's index, the roll-over number past the first file, the suffixes.
SHARD_NAME = re.compile(r"\d{5,}(?:_\d{3,})?\.[a-z.]+")
#: bytes of a part's records (whole lines) between two checks of the size cap
CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class ShardWriter:
    """Writes one part's records as that part's shards in ``folder`` (``OUT/documents``).

    ``compression`` applies to the formats that are a byte stream of text (JSON Lines, a JSON array, CSV);
    an exporter whose files are compressed inside (Parquet: ``compressible = False``) gets none.
    """

    exporter: Exporter
    folder: Path
    compression: str = "zst"
    max_bytes: int | None = None
    #: ``--annotate``: each record's line carries its attributes (see :mod:`normkit.annotate`), written line
    #: for line to a file of the same name in ``attributes/normkit/``
    annotate: bool = False

    @classmethod
    def from_options(cls, exporter: Exporter, folder: Path, options: dict[str, Any]) -> ShardWriter:
        """``annotate`` defaults to gzip: Dolma's mixer reads gzip only."""
        if exporter.per_document:
            raise ConfigError(f"exporter {exporter.name!r} writes one file per document: it cannot write shards")
        annotate = bool(options.get("annotate", False))
        compression = str(options.get("compression", "gz" if annotate else "zst"))
        cap = options.get("max_file_bytes")
        return cls(exporter, folder, compression, int(cap) if cap else None, annotate)

    @property
    def attributes(self) -> Path:
        """``OUT/attributes/normkit``: Dolma's place for a tagger's attributes beside ``OUT/documents``."""
        return self.folder.parent / ATTRIBUTES_FOLDER

    def name(self, index: int, roll: int) -> str:
        """``00007.jsonl.zst``, then ``00007_001.jsonl.zst``... for part 7."""
        suffix = COMPRESSIONS[self.compression] if self.exporter.compressible else ""
        stem = f"{index:05d}" if roll == 0 else f"{index:05d}_{roll:03d}"
        return f"{stem}{self.exporter.suffix}{suffix}"

    def write(self, records: Path, index: int) -> list[Path]:
        """The shards of part ``index`` from its records file (one record a line, as the engine encodes it);
        with ``annotate``, each has its attributes file of the same name in :attr:`attributes`."""
        for folder in (self.folder, *((self.attributes.parent, self.attributes) if self.annotate else ())):
            refuse_links(folder)
            refuse_kinds(folders=[folder])
            folder.mkdir(exist_ok=True)
        written: list[Path] = []
        if not records.exists() or records.stat().st_size == 0:
            return written  # every input of the part was rejected: no empty shard
        with open_no_follow(records) as source:
            while True:
                path = self.folder / self.name(index, len(written))
                more = self._write_one(source, path)
                written.append(path)
                if not more:
                    return written

    def _write_one(self, source: IO[bytes], path: Path) -> bool:
        """Records from ``source`` into ``path`` until the source ends (False) or the cap is passed (True)."""
        with ExitStack() as files:
            stream, size = files.enter_context(self._open(path))
            notes = files.enter_context(self._open(self.attributes / path.name))[0] if self.annotate else None
            writer = self.exporter.open(stream)
            more = False
            for chunk in _chunks(source):
                if notes is None:
                    writer.copy_lines(chunk)
                else:
                    _split(chunk, writer, notes)
                if self.max_bytes is None:
                    continue
                stream.flush()  # a compressor's buffer out to the file, so that its size is what is counted
                if size() >= self.max_bytes:
                    more = bool(source.peek(1)) if hasattr(source, "peek") else True
                    break
            writer.close()
        return more

    @contextmanager
    def _open(self, path: Path) -> Iterator[tuple[IO[bytes], Callable[[], int]]]:
        """``path`` written atomically through the compressor: the stream, and the bytes on disk so far."""
        refuse_links(path)
        with disk_full_stops(path), atomic_file(path) as raw, self._compressed(raw) as opened:
            yield opened

    @contextmanager
    def _compressed(self, raw: IO[bytes]) -> Iterator[tuple[IO[bytes], Callable[[], int]]]:
        """The stream the exporter writes to, and how many bytes have reached the file so far."""
        counted = _Counting(raw)
        sink = cast("IO[bytes]", counted)
        kind = self.compression if self.exporter.compressible else "none"
        with ExitStack() as stack:
            if kind == "zst":
                stream = cast("IO[bytes]", stack.enter_context(_zstd(sink)))
            elif kind == "gz":  # mtime 0 and no name: the same records give the same bytes
                gz = stack.enter_context(gzip.GzipFile(fileobj=sink, mode="wb", mtime=0, filename=""))
                stream = cast("IO[bytes]", gz)
            else:
                stream = sink
            yield stream, lambda: counted.count


def _zstd(sink: IO[bytes]) -> Any:
    return zstandard.ZstdCompressor(level=3).stream_writer(sink, closefd=False)


class _Counting(io.RawIOBase):
    """A write-only stream that counts the bytes it passes on to ``raw`` (the size on disk, for the cap).
    Closing it leaves ``raw`` open: the atomic file commits it."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self.raw, self.count = raw, 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        size = self.raw.write(data)
        self.count += size
        return size

    def flush(self) -> None:
        if not self.closed:
            self.raw.flush()


def _split(chunk: IO[bytes], writer: RecordWriter, notes: IO[bytes]) -> None:
    """Each record to ``writer`` and its attributes, taken out of it, to ``notes``: line for line."""
    for line in chunk:
        record = orjson.loads(line)
        notes.write(orjson.dumps(record.pop(ATTRIBUTES_KEY), option=orjson.OPT_APPEND_NEWLINE))
        writer.write(record)


def _chunks(source: IO[bytes]) -> Iterator[IO[bytes]]:
    """``source`` as streams of whole lines, about :data:`CHUNK_BYTES` each."""
    while True:
        lines = source.readlines(CHUNK_BYTES)
        if not lines:
            return
        yield io.BytesIO(b"".join(lines))


def remove_stale_shards(root: Path, folder: Path, keep: set[str]) -> None:
    """Delete what an earlier run left in ``folder`` (``OUT/documents``, ``OUT/attributes/normkit``) that this
    run did not write: shards of parts no longer in the plan, another layout's pages, attributes of a run that
    annotated. No link is followed: one in place of the folder or a folder above it, up to the output folder
    ``root``, or planted among the shards (where a ``documents/*`` glob would read it as data), is an error
    naming it."""
    below = folder.relative_to(root).parts
    for depth in range(1, len(below) + 1):
        refuse_links(root.joinpath(*below[:depth]))
    if not is_folder(folder):
        return
    refuse_kinds(folders=[folder])
    for path in entries(folder):
        if path.name in keep:
            continue
        refuse_links(path)
        if is_folder(path):
            remove_tree(path)
        else:
            path.unlink(missing_ok=True)
