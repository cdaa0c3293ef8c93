"""Writing a run's files atomically: each part's records and rejects, then the final files assembled from them.

Every file is written under a hidden temporary name and renamed into place only when complete, so an
interrupted run never leaves a half file that looks complete. Workers write their parts themselves, as JSON
Lines of validated records (records never travel back over a pipe, so the parent's memory does not grow with
the corpus); workers that share no files with the run send one part's files back at a time, bounded in size,
and the run writes them the same way (see :mod:`normkit.batch.tasks`). At the end the parent streams the
parts, in part order, through the exporter's one writer: the final ``documents`` file is byte-identical
whichever executor ran and in whatever order the parts finished, and formats with a header or a trailer (CSV,
a JSON array, Parquet) or one file per document come out whole. Parts reach the writer through
``RecordWriter.copy_lines``: a writer that writes records exactly as the part files hold them
(:func:`encode_record`, one a line) copies the bytes as they are, without parsing them again.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from normkit.annotate import ATTRIBUTES_FOLDER
from normkit.components import Exporter, RecordWriter
from normkit.document import Reject
from normkit.errors import NormkitError
from normkit.shards import ShardWriter, remove_stale_shards
from normkit.validate import iter_violations
from normkit.writers import (
    BUFFER_SIZE,
    TEMP_NAME,
    atomic_file,
    disk_full_stops,
    encode_record,
    entries,
    is_folder,
    open_no_follow,
    refuse_kinds,
    refuse_links,
    remove_temp_files,
    remove_tree,
)

__all__ = [
    "BUFFER_SIZE",
    "LEARNED_FILE",
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
#: what a records file of any run looks like (``documents.jsonl``, ``documents.dolma.jsonl.gz``): only such a
#: file of another format is removed as stale, never another name a user put beside it.
_RECORDS_FILE = re.compile(r"documents(?:\.[a-z]+)?\.(?:jsonl|ndjson|json|csv|tsv|parquet)(?:\.(?:gz|zst))?")
REPORT_NAME = "report.json"
RECORDS_STEM = "documents"

#: a learning stage's reviewable file in the output folder (the boilerplate stage's ``learned-boilerplate.json``).
LEARNED_FILE = re.compile(r"learned-.+\.json")
#: the files :func:`atomic_file` writes directly in an output folder, in any format: a killed run leaves their
#: temporary files (``.documents.jsonl.XXXXXXXX.tmp``), which the next run removes.
_OWN_FILE = re.compile(rf"{RECORDS_STEM}(?:\..+)?|{re.escape(REJECTS_NAME)}|{re.escape(REPORT_NAME)}|learned-.+\.json")
#: a per-document exporter's staging and old folders (``.documents.tmp``, ``.documents.old``).
_LEFTOVER_FOLDERS = frozenset({f".{RECORDS_STEM}.tmp", f".{RECORDS_STEM}.old"})


def write_json(path: Path, data: Any, schema: str | None = None) -> None:
    """Write ``data`` as indented JSON, atomically, after checking it against ``schema``; a full disk is a
    :class:`~normkit.errors.DiskFullError`."""
    if schema:
        problems = [str(v) for v in iter_violations(data, schema)]
        if problems:
            raise NormkitError(f"{path.name} would not match schema {schema}: {problems[0]}")
    with disk_full_stops(path), atomic_file(path) as stream:
        stream.write(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))


def write_reject(stream: IO[bytes], reject: Reject) -> None:
    """Append ``reject`` to a rejects file as one JSON line."""
    stream.write(orjson.dumps(reject.to_dict(), option=orjson.OPT_APPEND_NEWLINE))


class Output:
    """Where a run's records and rejects go: a folder, or stdout (``-``) with rejects on stderr only.

    A ``per_document`` exporter (one file per document) gets a ``documents/`` folder inside the output.
    """

    def __init__(self, target: str, exporter: Exporter, options: Mapping[str, Any] | None = None) -> None:
        """``options`` is the ``[output]`` table: ``rejects`` (with ``-o -``), and ``layout = "shards"`` with
        its ``compression`` and ``max_file_bytes`` (see :mod:`normkit.shards`)."""
        options = options or {}
        rejects = options.get("rejects")
        self.target = target
        self.exporter = exporter
        self.folder = None if target == "-" else Path(target)
        if self.folder is None and exporter.per_document:
            raise NormkitError(f"exporter {exporter.name!r} writes one file per document: give an output folder")
        if self.folder is not None and rejects is not None:
            raise NormkitError(f"--rejects is for -o - (records on stdout): a folder's rejects go to {REJECTS_NAME}")
        self.shards: ShardWriter | None = None
        if options.get("layout") == "shards" or options.get("annotate"):
            if self.folder is None:
                raise NormkitError("sharded output (--shards) needs an output folder, not -")
            self.shards = ShardWriter.from_options(exporter, self.folder / RECORDS_STEM, dict(options))
        if self.folder and self.folder.exists() and not self.folder.is_dir():
            raise NormkitError(f"output {target}: exists and is not a folder")
        records = RECORDS_STEM if exporter.per_document else f"{RECORDS_STEM}{exporter.suffix}"
        self.records_path = self.folder / records if self.folder else None
        #: with ``-o -``, the rejects go to stderr, counted by kind, and in full to ``rejects`` when given
        self.rejects_path = self.folder / REJECTS_NAME if self.folder else Path(rejects) if rejects else None
        self.report_path = self.folder / REPORT_NAME if self.folder else None

    def refuse_links(self) -> None:
        """Before anything is written: a symbolic link where normkit writes in the folder is an error naming it,
        and so is a thing of the wrong kind there (a folder where it writes a file, a file where it keeps a
        folder), which would otherwise stop the run halfway.

        The folder itself may be a link (the user named it); below it, nothing normkit writes is followed.
        """
        if self.folder is None or not self.folder.is_dir():
            return
        owned = [path for path in entries(self.folder) if self._owns(path.name)]
        refuse_links(*owned)
        per_document = self.exporter.per_document
        folders = {STATE_DIR, *(_LEFTOVER_FOLDERS if per_document else ())}
        if self.shards is not None:
            folders.update({RECORDS_STEM, ATTRIBUTES_FOLDER.split("/")[0]})
        if per_document and self.records_path is not None:
            folders.add(self.records_path.name)
        files = {REJECTS_NAME, REPORT_NAME}
        if not per_document and self.records_path is not None:
            files.add(self.records_path.name)
        refuse_kinds(
            files=[path for path in owned if path.name in files or LEARNED_FILE.fullmatch(path.name)],
            folders=[path for path in owned if path.name in folders],
        )
        if self.records_path is not None and per_document and is_folder(self.records_path):
            # moved aside, then deleted, when the new pages are in: never through a link
            refuse_links(*entries(self.records_path))

    def _owns(self, name: str) -> bool:
        """Whether normkit writes (or removes) ``name`` in the output folder."""
        own = {STATE_DIR, REJECTS_NAME, REPORT_NAME, *_LEFTOVER_FOLDERS}
        if self.records_path is not None:
            own.add(self.records_path.name)
        if self.shards is not None:  # the shards' folder, and Dolma's attributes folder beside it
            own.update({RECORDS_STEM, ATTRIBUTES_FOLDER.split("/")[0]})
        temp = TEMP_NAME.fullmatch(name)
        return name in own or bool(LEARNED_FILE.fullmatch(name)) or bool(temp and _OWN_FILE.fullmatch(temp["name"]))

    def remove_leftovers(self) -> None:
        """Delete what a run killed during assembly left here: :func:`atomic_file`'s temporary files of the
        files normkit writes, and a per-document exporter's staging and old folders. Only those names, never
        a link (see :meth:`refuse_links`), and only while this run holds the folder's lock."""
        if self.folder is None or not self.folder.is_dir():
            return
        remove_temp_files(self.folder, lambda name: bool(_OWN_FILE.fullmatch(name)))
        for name in sorted(_LEFTOVER_FOLDERS):
            if is_folder(self.folder / name):
                remove_tree(self.folder / name)

    def assemble(self, parts: Sequence[PartFiles]) -> None:
        """Write the parts' records, in part order, through the exporter; concatenate their rejects.

        The report of an earlier run goes first: from here on it would no longer describe the files, and a
        run stopped during assembly (a full disk: :class:`~normkit.errors.DiskFullError`) leaves none.
        """
        if self.shards is not None:
            raise NormkitError("a sharded run assembles with assemble_shards")  # a bug, not a user's mistake
        records = [p.records for p in parts]
        if self.records_path is None:
            _export(records, self.exporter.open(sys.stdout.buffer))
            sys.stdout.buffer.flush()
            if self.rejects_path is not None:
                self._write_rejects(parts)
            return
        if self.report_path is not None:
            refuse_links(self.report_path)
            self.report_path.unlink(missing_ok=True)
        with disk_full_stops(self.records_path):
            if self.exporter.per_document:
                _export_folder(records, self.exporter, self.records_path)
            else:
                with atomic_file(self.records_path) as stream:
                    _export(records, self.exporter.open(stream))
        self._write_rejects(parts)
        self._remove_stale_records()

    def assemble_shards(self, parts: Sequence[PartFiles], shards: set[str]) -> None:
        """The sharded layout's end: the parts' records are ``shards`` already (see :mod:`normkit.shards`); the
        rejects are concatenated as in one file, and what an earlier run left in ``documents/`` goes."""
        assert self.shards is not None and self.report_path is not None
        refuse_links(self.report_path)
        self.report_path.unlink(missing_ok=True)
        self._write_rejects(parts)
        assert self.folder is not None
        remove_stale_shards(self.folder, self.shards.folder, shards)
        remove_stale_shards(self.folder, self.shards.attributes, shards if self.shards.annotate else set())
        for path in entries(self.folder) if self.folder is not None else ():
            if _RECORDS_FILE.fullmatch(path.name) and not path.is_symlink() and path.is_file():
                path.unlink(missing_ok=True)  # one file of an earlier run in the other layout

    def _write_rejects(self, parts: Sequence[PartFiles]) -> None:
        assert self.rejects_path is not None
        with disk_full_stops(self.rejects_path), atomic_file(self.rejects_path) as rejects:
            _concatenate([p.rejects for p in parts], rejects)

    def _remove_stale_records(self) -> None:
        """Delete the records an earlier run wrote in another format (``documents.csv`` beside a new
        ``documents.jsonl``, a ``documents/`` folder of pages): the folder holds what this run made, and a
        CI glob over ``documents.*`` must not validate a stale file. Only once the new records are in place,
        and only plain files and folders: a link is left alone."""
        assert self.folder is not None and self.records_path is not None  # assemble returned for stdout
        for path in entries(self.folder):
            ours = path.name == RECORDS_STEM or _RECORDS_FILE.fullmatch(path.name)
            if not ours or path == self.records_path or path.is_symlink():
                continue
            if is_folder(path):
                remove_tree(path)
            elif path.is_file():
                path.unlink(missing_ok=True)
        attributes = self.folder / ATTRIBUTES_FOLDER  # an annotating run's: they describe records now gone
        if not any(link.is_symlink() for link in (attributes.parent, attributes)) and is_folder(attributes):
            remove_tree(attributes)


@dataclass(frozen=True)
class PartFiles:
    """The files of one part: its records (JSON Lines), its rejects, and the marker that says it is done
    (written last: the commit point)."""

    records: Path
    rejects: Path
    marker: Path

    def inside(self, folder: Path) -> PartFiles:
        """The same names in ``folder``: where a worker that shares no files with the run writes them first."""
        return PartFiles(folder / self.records.name, folder / self.rejects.name, folder / self.marker.name)


@contextmanager
def open_part(files: PartFiles) -> Iterator[tuple[IO[bytes], IO[bytes]]]:
    """The records and rejects streams of one part, both committed only if the block completes."""
    with atomic_file(files.rejects) as rejects, atomic_file(files.records) as records:
        yield records, rejects


def write_record(stream: IO[bytes], record: Mapping[str, Any]) -> None:
    stream.write(encode_record(record))


def _export(paths: Sequence[Path], writer: RecordWriter) -> None:
    for path in paths:
        source = _open_part_file(path)
        if source is not None:  # a part that failed for good has rejects but no records
            with source:
                writer.copy_lines(source)
    writer.close()


def _export_folder(paths: Sequence[Path], exporter: Exporter, target: Path) -> None:
    """A per-document exporter fills a staging folder, swapped in for ``target`` when complete."""
    staging, old = target.with_name(f".{target.name}.tmp"), target.with_name(f".{target.name}.old")
    refuse_links(target, staging, old)
    refuse_kinds(folders=[target, staging, old])
    if is_folder(staging):
        remove_tree(staging)
    staging.mkdir(parents=True)
    _export(paths, exporter.open_folder(staging))
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    remove_tree(old)


def _concatenate(paths: Sequence[Path], target: IO[bytes]) -> None:
    for path in paths:
        source = _open_part_file(path)
        if source is not None:  # a part that failed for good has rejects but no records
            with source:
                shutil.copyfileobj(source, target, 1 << 20)


def _open_part_file(path: Path) -> IO[bytes] | None:
    """A part file to read, or None when there is none; a link planted in its place is an error, not followed."""
    try:
        return open_no_follow(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        refuse_links(path)  # ELOOP: name the link
        raise NormkitError(f"{path}: cannot read this part file: {error.strerror or error}") from error
