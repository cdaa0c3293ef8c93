"""Writing a run's files atomically: each part's records and rejects, then the final files assembled from them.

Every file is written under a hidden temporary name and renamed into place only when complete, so an
interrupted run never leaves a half file that looks complete. Workers write their parts themselves, as JSON
Lines of validated records (records never travel back over a pipe, so the parent's memory does not grow with
the corpus). At the end the parent streams the parts, in part order, through the exporter's one writer: the
final ``documents`` file is byte-identical whichever executor ran and in whatever order the parts finished,
and formats with a header or a trailer (CSV, a JSON array, Parquet) or one file per document come out whole.
Parts reach the writer through ``RecordWriter.copy_lines``: a writer that writes records exactly as the part
files hold them (:func:`encode_record`, one a line) copies the bytes as they are, without parsing them again.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from normkit.components import Exporter, RecordWriter
from normkit.document import Reject
from normkit.errors import NormkitError
from normkit.validate import iter_violations
from normkit.writers import BUFFER_SIZE, atomic_file, encode_record

__all__ = [
    "BUFFER_SIZE",
    "STATE_DIR",
    "Output",
    "PartFiles",
    "atomic_file",
    "encode_record",
    "open_part",
    "write_json",
    "write_record",
    "write_reject",
]

#: the run's own state inside an output folder (finished parts, markers, lock, learned state).
STATE_DIR = ".normkit"
REJECTS_NAME = "rejects.jsonl"
REPORT_NAME = "report.json"


def write_json(path: Path, data: Any, schema: str | None = None) -> None:
    """Write ``data`` as indented JSON, atomically, after checking it against ``schema``."""
    if schema:
        problems = [str(v) for v in iter_violations(data, schema)]
        if problems:
            raise NormkitError(f"{path.name} would not match schema {schema}: {problems[0]}")
    with atomic_file(path) as stream:
        stream.write(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))


def write_reject(stream: IO[bytes], reject: Reject) -> None:
    """Append ``reject`` to a rejects file as one JSON line."""
    stream.write(orjson.dumps(reject.to_dict(), option=orjson.OPT_APPEND_NEWLINE))


class Output:
    """Where a run's records and rejects go: a folder, or stdout (``-``) with rejects on stderr only.

    A ``per_document`` exporter (one file per document) gets a ``documents/`` folder inside the output.
    """

    def __init__(self, target: str, exporter: Exporter) -> None:
        self.target = target
        self.exporter = exporter
        self.folder = None if target == "-" else Path(target)
        if self.folder is None and exporter.per_document:
            raise NormkitError(f"exporter {exporter.name!r} writes one file per document: give an output folder")
        if self.folder and self.folder.exists() and not self.folder.is_dir():
            raise NormkitError(f"output {target}: exists and is not a folder")
        records = "documents" if exporter.per_document else f"documents{exporter.suffix}"
        self.records_path = self.folder / records if self.folder else None
        self.rejects_path = self.folder / REJECTS_NAME if self.folder else None
        self.report_path = self.folder / REPORT_NAME if self.folder else None

    def assemble(self, parts: Sequence[PartFiles]) -> None:
        """Write the parts' records, in part order, through the exporter; concatenate their rejects."""
        records = [p.records for p in parts]
        if self.records_path is None or self.rejects_path is None:
            _export(records, self.exporter.open(sys.stdout.buffer))
            sys.stdout.buffer.flush()
            return
        if self.exporter.per_document:
            _export_folder(records, self.exporter, self.records_path)
        else:
            with atomic_file(self.records_path) as stream:
                _export(records, self.exporter.open(stream))
        with atomic_file(self.rejects_path) as rejects:
            _concatenate([p.rejects for p in parts], rejects)


@dataclass(frozen=True)
class PartFiles:
    """The files of one part: its records (JSON Lines), its rejects, and the marker that says it is done
    (written last: the commit point)."""

    records: Path
    rejects: Path
    marker: Path


@contextmanager
def open_part(files: PartFiles) -> Iterator[tuple[IO[bytes], IO[bytes]]]:
    """The records and rejects streams of one part, both committed only if the block completes."""
    with atomic_file(files.rejects) as rejects, atomic_file(files.records) as records:
        yield records, rejects


def write_record(stream: IO[bytes], record: Mapping[str, Any]) -> None:
    stream.write(encode_record(record))


def _export(paths: Sequence[Path], writer: RecordWriter) -> None:
    for path in paths:
        if path.exists():  # a part that failed for good has rejects but no records
            with path.open("rb") as source:
                writer.copy_lines(source)
    writer.close()


def _export_folder(paths: Sequence[Path], exporter: Exporter, target: Path) -> None:
    """A per-document exporter fills a staging folder, swapped in for ``target`` when complete."""
    staging, old = target.with_name(f".{target.name}.tmp"), target.with_name(f".{target.name}.old")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    _export(paths, exporter.open_folder(staging))
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)


def _concatenate(paths: Sequence[Path], target: IO[bytes]) -> None:
    for path in paths:
        if path.exists():  # a part that failed for good has rejects but no records
            with path.open("rb") as source:
                shutil.copyfileobj(source, target, 1 << 20)
