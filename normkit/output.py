"""Writing a run's files atomically: the exporter's records, ``rejects.jsonl`` and ``report.json``.

Each file is written under a hidden temporary name in the output folder and renamed into place only when
the run finishes, so an interrupted run never leaves a half file that looks complete.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import orjson

from normkit.components import Exporter, RecordWriter
from normkit.document import Reject
from normkit.errors import NormkitError
from normkit.validate import iter_violations

__all__ = ["Output", "atomic_file", "write_json"]

REJECTS_NAME = "rejects.jsonl"
REPORT_NAME = "report.json"


@contextmanager
def atomic_file(path: Path) -> Iterator[IO[bytes]]:
    """A binary file that appears at ``path`` only if the block completes; a temp file otherwise vanishes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any, schema: str | None = None) -> None:
    """Write ``data`` as indented JSON, atomically, after checking it against ``schema``."""
    if schema:
        problems = [str(v) for v in iter_violations(data, schema)]
        if problems:
            raise NormkitError(f"{path.name} would not match schema {schema}: {problems[0]}")
    with atomic_file(path) as stream:
        stream.write(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))


class Output:
    """Where a run's records and rejects go: a folder, or stdout (``-``) with rejects on stderr."""

    def __init__(self, target: str, exporter: Exporter) -> None:
        self.target = target
        self.exporter = exporter
        self.folder = None if target == "-" else Path(target)
        self.records_path = self.folder / f"documents{exporter.suffix}" if self.folder else None
        self.rejects_path = self.folder / REJECTS_NAME if self.folder else None
        self.report_path = self.folder / REPORT_NAME if self.folder else None
        if self.folder and self.folder.exists() and not self.folder.is_dir():
            raise NormkitError(f"output {target}: exists and is not a folder")

    @contextmanager
    def open(self) -> Iterator[tuple[RecordWriter, IO[bytes] | None]]:
        """The record writer and the rejects stream (None for stdout runs), committed together at the end."""
        if self.records_path is None or self.rejects_path is None:
            writer = self.exporter.open(sys.stdout.buffer)
            yield writer, None
            writer.close()
            sys.stdout.buffer.flush()
            return
        with atomic_file(self.records_path) as records, atomic_file(self.rejects_path) as rejects:
            writer = self.exporter.open(records)
            yield writer, rejects
            writer.close()


def write_reject(stream: IO[bytes] | None, reject: Reject) -> None:
    """Append ``reject`` to ``rejects.jsonl``; every reject is also one line on stderr."""
    print(f"normkit: {reject.message()}", file=sys.stderr)
    if stream is not None:
        stream.write(orjson.dumps(reject.to_dict(), option=orjson.OPT_APPEND_NEWLINE))
