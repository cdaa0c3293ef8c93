"""Files a run writes: atomically, records encoded as the engine's part files hold them, and one safe file per
document for the exporters that write a folder (text, markdown).

An output folder is untrusted ground (shared, restored from caches, synced): nothing here writes through a
symbolic link or reads through one, and a full disk is told apart from every other failure
(:func:`disk_full_stops`), because it is the run's to stop, never a document's to be rejected for.

Nothing here knows a format: the exporter plugins decide what a record looks like and how it is rendered.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import orjson

from normkit.components import RecordWriter
from normkit.errors import DiskFullError, NormkitError

__all__ = [
    "NO_FOLLOW",
    "TEMP_NAME",
    "FolderWriter",
    "atomic_file",
    "disk_full_message",
    "disk_full_stops",
    "encode_record",
    "entries",
    "file_digest",
    "file_kind",
    "is_disk_full",
    "is_folder",
    "open_no_follow",
    "refuse_kinds",
    "refuse_links",
    "remove_temp_files",
    "remove_tree",
    "safe_filename",
]

#: write buffer of the files a run writes: records are several KB, so the default 8 KB meant a syscall each.
BUFFER_SIZE = 1 << 20

#: ``open`` flags that refuse a symbolic link as the last component (0 where the platform has none).
NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)

#: the hidden temporary name :func:`atomic_file` gives ``NAME`` while it is written: ``.NAME.XXXXXXXX.tmp``,
#: eight characters from :mod:`tempfile`'s alphabet. A killed run leaves such files; nothing else has this shape.
TEMP_NAME = re.compile(r"\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp")


@contextmanager
def atomic_file(path: Path) -> Iterator[IO[bytes]]:
    """A binary file that appears at ``path`` only if the block completes; a temp file otherwise vanishes.

    The temporary file is created beside ``path`` (``O_EXCL``: never an existing file or link) and renamed
    over it; a rename replaces a link rather than writing where it points, and a link found at ``path`` is
    refused outright (:func:`refuse_links`), before and after the file is written.
    """
    refuse_links(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes 0600 files; outputs get the user's usual mode (by descriptor: the name could be swapped)
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o666 & ~_umask())
        else:  # pragma: no cover - Windows before 3.13
            os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb", buffering=BUFFER_SIZE) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        refuse_links(path)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def refuse_links(*paths: Path) -> None:
    """A one-line :class:`~normkit.errors.NormkitError` naming the first of ``paths`` that is a symbolic link.

    Where normkit keeps state or writes a file inside an output folder, a link would send its writes (or its
    clean-up) somewhere else: it is never followed, never replaced silently, but named so a person looks.
    """
    for path in paths:
        if path.is_symlink():
            raise NormkitError(
                f"{path}: is a symbolic link, where normkit keeps its state or writes a file; normkit never follows "
                "links in an output folder: remove it, or choose another output folder"
            )


def refuse_kinds(*, files: Iterable[Path] = (), folders: Iterable[Path] = ()) -> None:
    """A one-line :class:`~normkit.errors.NormkitError` naming the first path that is there but is not the kind
    of thing normkit writes or keeps there: a folder (or a FIFO, a device) where it writes a file, a file where
    it keeps a folder. Found before anything is written, it is named so a person looks; a missing path is fine,
    and a symbolic link is :func:`refuse_links`' to name.
    """
    for path, want_folder in [*((path, False) for path in files), *((path, True) for path in folders)]:
        try:
            mode = path.lstat().st_mode
        except OSError:
            continue
        if stat.S_ISLNK(mode) or (stat.S_ISDIR(mode) == want_folder and (want_folder or stat.S_ISREG(mode))):
            continue
        found = file_kind(mode)
        wanted = "keeps a folder" if want_folder else "writes a file"
        raise NormkitError(f"{path}: is {found}, where normkit {wanted}; remove it, or choose another output folder")


def file_kind(mode: int) -> str:
    """What a file of ``mode`` (from ``lstat``) is, in words: "a folder", "a FIFO (named pipe)", ..."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISREG(mode):
        return "a file"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "not a regular file"


def entries(folder: Path) -> list[Path]:
    """What ``folder`` holds, sorted by name; nothing when it is missing."""
    try:
        return sorted(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []


def is_folder(path: Path) -> bool:
    """A folder, not a link to one."""
    try:
        return stat.S_ISDIR(path.lstat().st_mode)
    except OSError:
        return False


def is_regular_file(path: Path) -> bool:
    """A regular file, not a link to one (nor a FIFO, a device, a folder)."""
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def remove_tree(path: Path) -> None:
    """Delete a folder normkit made; a link in its place is an error (``rmtree`` never follows one inside), and so
    is a folder that cannot be deleted (one line naming what was in the way)."""
    refuse_links(path)
    problems: list[tuple[str, BaseException]] = []
    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=lambda _function, where, error: problems.append((where, error)))
    else:
        shutil.rmtree(path, onerror=lambda _function, where, info: problems.append((where, info[1])))
    missing = [(where, error) for where, error in problems if not isinstance(error, FileNotFoundError)]
    if missing:
        where, error = missing[0]
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise NormkitError(f"{where}: cannot remove it ({reason}); normkit made it, and must remove it to go on")


def remove_temp_files(folder: Path, owned: Callable[[str], bool]) -> None:
    """Delete the temporary files :func:`atomic_file` left in ``folder`` (a killed run) for the names ``owned``
    accepts: regular files only, never a link, a folder or anything else."""
    for path in entries(folder):
        temp = TEMP_NAME.fullmatch(path.name)
        if temp and owned(temp["name"]) and is_regular_file(path):
            path.unlink(missing_ok=True)


def open_no_follow(path: Path) -> IO[bytes]:
    """``path`` opened for reading, refusing a symbolic link (``OSError`` ``ELOOP``) rather than following it,
    and anything but a regular file (``IsADirectoryError``): a FIFO is opened without waiting for a writer."""
    fd = os.open(path, os.O_RDONLY | NO_FOLLOW | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise IsADirectoryError(errno.EISDIR, "not a regular file", str(path))
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb", buffering=BUFFER_SIZE)
    except BaseException:
        os.close(fd)
        raise


#: what a full disk or a full quota says: the errno, or (a library that lost it, pyarrow) the message.
_FULL_ERRNOS = frozenset(code for code in (errno.ENOSPC, getattr(errno, "EDQUOT", None)) if code is not None)
_FULL_MESSAGES = (os.strerror(errno.ENOSPC), "Disk quota exceeded")


def is_disk_full(error: BaseException) -> bool:
    """Whether ``error``, or an error it was raised from, says the disk (or the quota) is full."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DiskFullError):
            return True
        if isinstance(current, OSError) and (
            current.errno in _FULL_ERRNOS or any(text in str(current) for text in _FULL_MESSAGES)
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


@contextmanager
def disk_full_stops(path: Path | str) -> Iterator[None]:
    """Turn a full disk while writing ``path`` into :class:`~normkit.errors.DiskFullError` (one line, exit 4).

    The files committed so far stay: running the same command again, with room, resumes from them.
    """
    try:
        yield
    except DiskFullError:
        raise
    except Exception as error:
        if not is_disk_full(error):
            raise
        raise DiskFullError(disk_full_message(path)) from error


def disk_full_message(path: Path | str) -> str:
    """The one line a full disk gets: where, that no document pays for it, and how to go on."""
    return (
        f"{path}: no space left on device (or quota exceeded); nothing was charged to documents: free some "
        "space and run the same command again, it resumes from the parts already committed"
    )


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


def file_digest(path: Path) -> dict[str, Any]:
    """The size and BLAKE2b digest of a file, read without following a link: what a part's marker records of
    its files, and what a published output file is compared by."""
    digest, size = hashlib.blake2b(digest_size=16), 0
    with open_no_follow(path) as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return {"bytes": size, "blake2b": digest.hexdigest()}
