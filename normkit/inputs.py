"""Finding input files, cutting them into shards and parts, and opening them (stdin, gzip, zstd, byte ranges).

Every input is accounted for here: a path that does not exist or cannot be opened or decompressed becomes a
:class:`~normkit.document.Reject`, never an exception that stops the batch. What planning finds wrong with a
path (missing, a dangling or looping link, a FIFO or device, a name that is not UTF-8, a file or folder that
cannot be read) travels on its :class:`Shard` as ``problem`` and becomes one reject with that reason: nothing is
skipped without a line in ``rejects.jsonl``. Nothing here opens a file before ``stat`` has said it is a regular
file, so a FIFO never blocks planning.

A large uncompressed line-based file is cut into byte ranges that end at newlines, so one 50 GB file is many
tasks, not one (issue #6). Decompression is streamed and capped (``[input] max_compression_ratio``): a file that
expands past the cap stops being read with an :class:`InputLimitError`, in bounded memory.

An input named by URL (``s3://bucket/prefix/``, see :mod:`normkit.storage`) is listed, never read, while
planning: one shard per object, its digest taken from the object's metadata.
"""

from __future__ import annotations

import bz2
import errno
import fnmatch
import functools
import gzip
import hashlib
import io
import os
import re
import stat
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import zstandard

from normkit.document import Document, Origin
from normkit.errors import NormkitError
from normkit.storage import is_url, object_digest, open_url, url_fs

__all__ = [
    "InputLimitError",
    "NoInputsError",
    "Part",
    "Shard",
    "assign_source",
    "check_inputs",
    "discover",
    "folder_source",
    "glob_matches",
    "is_compressed",
    "open_binary",
    "plan_parts",
    "shown_path",
    "strip_compression",
]

COMPRESSION_SUFFIXES = (".gz", ".zst", ".bz2")
_MAGIC = {b"\x1f\x8b": ".gz", b"\x28\xb5\x2f\xfd": ".zst"}
#: bytes of a stream's head looked at for a magic number: bzip2's ``BZh``, a block size (1-9), then a block's
#: magic (the digits of pi) or the end-of-stream marker; ``BZh9`` alone is printable text a file may start with
MAGIC_BYTES = 10
_BZIP2 = re.compile(rb"BZh[1-9](?:\x31\x41\x59\x26\x53\x59|\x17\x72\x45\x38\x50\x90)")
_SCAN_CHUNK = 1 << 22
_READ_BUFFER = 1 << 20
#: the compression ratio is checked once a file has expanded past this many bytes: a small file is never refused
RATIO_FLOOR = 1 << 20
#: compressed bytes handed to the zstd decompressor at a time. A zstd block of 128 KiB can be stored in 4 bytes
#: (an RLE block), so one call may expand its input 32768 times: 128 bytes in, at most 4 MiB out. Decompression
#: still runs at over 250 MB/s, far faster than the stages read.
_ZSTD_FEED = 128


class InputLimitError(ValueError):
    """An input over one of the ``[input]`` caps; the message names the cap and the file (the reject's reason)."""


class NoInputsError(NormkitError):
    """Nothing at all to read: every input named is missing (or a glob the shell left unexpanded), or the
    folders (and URL prefixes) hold no file the include/exclude globs keep. A usage error (exit 2), raised
    before anything runs."""


@dataclass(frozen=True)
class Shard:
    """One input file (``-`` for stdin), a path waiting to be rejected, or a byte range of a file.

    ``problem`` is why a path cannot be read, found while planning (``"no such file or directory"``, a FIFO,
    a link loop, ...): :meth:`~normkit.pipeline.Pipeline.load` turns such a shard into one reject with it.
    ``path`` is then what the reject shows: a name that is not UTF-8 has its bytes escaped (``caf\\xe9.txt``).

    A range starts at the beginning of a line (``first_line``, 1-based) and ends just after a newline, so a
    line-based loader reading it sees whole lines and numbers them from ``first_line``.

    A URL (``s3://bucket/key``) is always one whole object. Its size and a digest of its metadata
    (``object_size``, ``object_version``) are taken from the listing that found it, so planning never asks the
    store twice about one object and never reads it.
    """

    path: str
    problem: str | None = None
    start: int = 0
    end: int | None = None  # None: to the end of the file
    first_line: int = 1
    #: only the first ``items`` inputs its loader yields (``--limit``: the shard where the limit falls)
    items: int | None = None
    #: a URL's size in bytes, from the listing (None for a local path: ``stat`` is cheap and current)
    object_size: int | None = None
    #: a URL's metadata digest (:func:`~normkit.storage.object_digest`): what resume compares instead of bytes
    object_version: str | None = None

    @property
    def missing(self) -> bool:
        """Whether this shard is only a reject waiting to be written: there is no file to read (see ``problem``)."""
        return self.problem is not None

    @property
    def origin(self) -> Origin:
        return Origin(self.path)

    @property
    def key(self) -> str:
        """Names the shard across runs: the path, plus the byte range for a piece of a file."""
        key = self.path if self.end is None else f"{self.path}@{self.start}-{self.end}"
        return key if self.items is None else f"{key}#{self.items}"

    @property
    def size(self) -> int:
        """Bytes on disk this shard covers (0 for stdin and for a path that cannot be read)."""
        if self.end is not None:
            return self.end - self.start
        if self.missing or self.path == "-":
            return 0
        if is_url(self.path):
            return self.object_size or 0
        try:
            return os.path.getsize(self.path)
        except OSError:  # gone since it was found: planning reads it and makes it a problem
            return 0

    @contextmanager
    def open(self, max_ratio: float | None = None) -> Iterator[IO[bytes]]:
        """The shard's bytes, decompressed for a whole file; a range's lines are numbered from ``first_line``.

        Only a regular file is opened (a FIFO is refused, never waited on). With ``max_ratio``, a compressed
        file that expands past ``max_ratio`` times the compressed bytes read raises :class:`InputLimitError`
        from ``read`` (checked once past :data:`RATIO_FLOOR` bytes).
        """
        if self.path == "-":
            with _stdin(max_ratio) as stream:
                yield stream
            return
        if is_url(self.path):
            with _url_stream(self.path, max_ratio) as stream:
                yield stream
            return
        with _open_regular(self.path) as raw:
            if self.end is None:
                with _decompressing(raw, self.path, max_ratio) as stream:
                    yield stream
                return
            raw.seek(self.start)
            yield io.BufferedReader(_RangeReader(raw, self.end - self.start), buffer_size=1 << 20)


@dataclass(frozen=True)
class Part:
    """The unit of work and of output: consecutive small shards, or one piece of a large file.

    ``digest`` hashes the bytes of every shard in it, so a finished part is redone only when its input
    changed; ``name`` is deterministic (index and a hash of the shard keys) and names its output files.
    """

    index: int
    shards: tuple[Shard, ...]
    digest: str

    @property
    def name(self) -> str:
        keys = "\n".join(shard.key for shard in self.shards).encode()
        return f"{self.index:06d}-{hashlib.blake2b(keys, digest_size=4).hexdigest()}"

    @property
    def size(self) -> int:
        return sum(shard.size for shard in self.shards)


def discover(inputs: Sequence[str], include: Sequence[str] = (), exclude: Sequence[str] = ()) -> list[Shard]:
    """The shards for ``inputs``: files as given, directories walked recursively in a stable order.

    ``include``/``exclude`` globs apply to files found inside directories, never to files named explicitly.
    They match gitignore-style (see :func:`glob_matches`): ``sub/*`` or ``*.txt`` at any depth, ``/sub/*``
    only at the top of the folder given.

    Nothing is skipped without a shard: a path that cannot be read (missing, a dangling or looping link,
    not a regular file, a name that is not UTF-8), a folder that cannot be listed, and a link to a folder
    inside a walked one (not followed: it could lead back up) each become a shard with its ``problem``.
    Names starting with ``.`` and files the globs leave out are the only ones passed over.

    A URL names an object (one shard) or a prefix, walked like a folder (see :func:`_url_shards`); a backend
    that is not installed stops here with a one-line :class:`~normkit.errors.ConfigError`.
    """
    shards: list[Shard] = []
    for item in inputs:
        if item == "-":
            shards.append(Shard("-"))
        elif is_url(item):
            shards.extend(_url_shards(item, include, exclude))
        elif os.path.isdir(item):
            shards.extend(_walk(Path(item), include, exclude))
        else:
            shards.append(_file_shard(item))
    return shards


def _walk(root: Path, include: Sequence[str], exclude: Sequence[str]) -> Iterator[Shard]:
    unreadable: list[OSError] = []  # os.walk skips a folder it cannot list; it reports it here
    for folder, dirs, files in os.walk(root, onerror=unreadable.append):
        yield from _unlisted(unreadable, root, exclude)
        links: list[str] = []
        kept: list[str] = []
        for name in sorted(dirs):
            if not name.startswith("."):
                (links if os.path.islink(os.path.join(folder, name)) else kept).append(name)
        dirs[:] = kept
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(folder, name)
            rel = path.relative_to(root).as_posix()
            if include and not _matches(rel, include):
                continue
            if exclude and _matches(rel, exclude):
                continue
            yield _file_shard(str(path))
        for name in links:
            path = Path(folder, name)
            if not (exclude and _matches(path.relative_to(root).as_posix(), exclude, is_dir=True)):
                yield _problem(str(path), "a link to a folder, not followed inside a folder: name it as an input")
    yield from _unlisted(unreadable, root, exclude)


def _url_shards(item: str, include: Sequence[str], exclude: Sequence[str]) -> list[Shard]:
    """The shards of a URL: the object it names, or every object under the prefix it names.

    A prefix is walked as a folder is: objects in a stable order (a "folder's" objects before its
    "subfolders"), names starting with ``.`` at any level passed over, the include/exclude globs matched
    against the key relative to the prefix. Each object's URL is the one given plus that relative key, so
    origins and rejects name what the user typed. A URL that names nothing is one reject, as a missing path
    is; so is one the store refuses to answer for (no permission, no such bucket, the network).
    """
    fs, root = url_fs(item)
    try:
        fs.invalidate_cache()  # this run sees the store as it is now, not as an earlier listing in this process saw it
        info = fs.info(root)
        if info.get("type") != "directory":
            return [_object_shard(item, info)]
        found: dict[str, dict[str, Any]] = fs.find(root, detail=True)
    except FileNotFoundError:
        return [_problem(item, _MISSING)]
    except Exception as exc:  # noqa: BLE001 - each backend raises its own errors (botocore, aiohttp, azure): one reject
        return [_problem(item, f"cannot read input: {_strerror(exc) if isinstance(exc, OSError) else exc}")]
    prefix = root.rstrip("/") + "/"
    kept: list[tuple[list[str], Shard]] = []
    for path, entry in found.items():
        rel = path[len(prefix) :] if path.startswith(prefix) else path.lstrip("/")
        parts = rel.split("/")
        if any(part.startswith(".") for part in parts):
            continue
        if (include and not _matches(rel, include)) or (exclude and _matches(rel, exclude)):
            continue
        kept.append((parts, _object_shard(f"{item.rstrip('/')}/{rel}", entry)))
    kept.sort(key=lambda pair: _walk_order(pair[0]))
    return [shard for _, shard in kept]


def _walk_order(parts: Sequence[str]) -> tuple[tuple[int, str], ...]:
    """The order ``os.walk`` gives locally: a folder's files (sorted) before its subfolders (sorted)."""
    return (*((1, name) for name in parts[:-1]), (0, parts[-1]))


def _object_shard(url: str, info: Mapping[str, Any]) -> Shard:
    if info.get("type", "file") != "file":
        return _problem(url, f"not an object but {info.get('type')!r}")
    return Shard(url, object_size=int(info.get("size") or 0), object_version=object_digest(info))


def _unlisted(errors: list[OSError], root: Path, exclude: Sequence[str]) -> Iterator[Shard]:
    """A shard for each folder os.walk could not list (its files would vanish without a word otherwise)."""
    for exc in errors:
        folder = os.fsdecode(exc.filename) if exc.filename is not None else str(root)
        rel = os.path.relpath(folder, root).replace(os.sep, "/")
        if not (exclude and rel != "." and _matches(rel, exclude, is_dir=True)):
            yield _problem(folder, f"cannot read folder: {_strerror(exc)}; none of its files were read")
    errors.clear()


def _file_shard(path: str) -> Shard:
    """A shard for a file path, or a shard carrying why it cannot be read; ``stat`` only, nothing opened."""
    if not _is_utf8(path):
        return _problem(path, "the file name is not UTF-8 (shown with its bytes escaped): rename the file to read it")
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return _problem(path, _stat_problem(path, exc))
    if not stat.S_ISREG(mode):
        return _problem(path, _not_regular(mode))
    return Shard(path)


def _problem(path: str, reason: str) -> Shard:
    return Shard(shown_path(path), problem=reason)


def _stat_problem(path: str, exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "a symbolic link loop: the link leads back to itself (too many levels of symbolic links)"
    if exc.errno == errno.ENOENT and os.path.islink(path):
        try:
            target = shown_path(os.readlink(path))
        except OSError:
            target = "?"
        return f"a dangling symbolic link: its target {target!r} does not exist"
    if exc.errno == errno.ENOENT:
        return "no such file or directory"
    return f"cannot read input: {_strerror(exc)}"


def _not_regular(mode: int) -> str:
    kinds = [
        (stat.S_ISFIFO, "a FIFO (named pipe): pipe it to standard input as '-' instead"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a folder"),
    ]
    kind = next((text for test, text in kinds if test(mode)), "not a file")
    return f"not a regular file but {kind}"


def _strerror(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _is_utf8(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:  # os.fsdecode keeps undecodable bytes as lone surrogates
        return False
    return True


def shown_path(path: str) -> str:
    """``path`` as text any output can hold: the bytes of a name that is not UTF-8 escaped (``\\xe9``)."""
    if _is_utf8(path):
        return path
    try:
        raw = os.fsencode(path)
    except UnicodeEncodeError:  # a surrogate that no file name produced: escape it as it is
        return path.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


def _matches(rel: str, patterns: Sequence[str], *, is_dir: bool = False) -> bool:
    """Whether the file (or folder) at ``rel``, relative to the walked folder, matches one of ``patterns``."""
    return any(glob_matches(p, rel, is_dir=is_dir) for p in patterns)


def glob_matches(pattern: str, rel: str, *, is_dir: bool = False) -> bool:
    """Whether an include/exclude ``pattern`` matches ``rel``, a ``/``-separated path inside an input folder.

    Gitignore-style, matched a path component at a time (``*``, ``?`` and ``[...]`` never cross a ``/``; a
    ``**`` component matches any number of folders):

    - a pattern without a leading ``/`` matches at any depth: ``sub/*`` matches ``sub/x`` and ``siteB/sub/x``,
      ``*.txt`` any ``.txt`` file;
    - a leading ``/`` anchors it at the input folder: ``/sub/*`` matches ``sub/x`` only;
    - a pattern that matches a folder matches everything under it (``sub`` excludes ``siteB/sub/deep/x``);
      a trailing ``/`` matches only folders.
    """
    anchored = pattern.startswith("/")
    only_dirs = pattern.endswith("/")
    wanted = [p for p in pattern.strip("/").split("/") if p]
    if not wanted:
        return False
    parts = rel.split("/")
    # the path itself (a file unless is_dir), then each folder above it: a matched folder covers its contents
    ends = [len(parts)] if is_dir or not only_dirs else []
    ends += range(len(parts) - 1, 0, -1)
    for end in ends:
        starts = [0] if anchored else range(end)
        if any(_components_match(wanted, parts[start:end]) for start in starts):
            return True
    return False


def _components_match(pattern: Sequence[str], parts: Sequence[str]) -> bool:
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_components_match(rest, parts[skip:]) for skip in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], head) and _components_match(rest, parts[1:])


_MISSING = "no such file or directory"


def check_inputs(inputs: Sequence[str], include: Sequence[str] = (), exclude: Sequence[str] = ()) -> None:
    """Raise :class:`NoInputsError` when ``inputs`` hold nothing at all to read; otherwise return.

    The rule: the run needs one input that exists. Standard input (``-``), a file (even one that cannot be
    read: a FIFO, a dangling link, a file without permission) or a folder holding one file the globs keep is
    enough, and then every input that cannot be read, a missing one included, is one reject in
    ``rejects.jsonl`` (planning faults are rejects). When none exists (missing paths and URLs, globs the shell
    left unexpanded, empty folders, include globs that match nothing) the run is a usage error, stopped before
    anything is read or written, and the message names each input and what is wrong with it. The walk stops at
    the first file found, so a large tree costs little here; a URL prefix is listed whole (one request per
    thousand objects on S3). A URL whose backend is not installed stops the run here, in one line.
    """
    said: list[str] = []
    for item in inputs:
        if item == "-":
            return
        if is_url(item):
            shards = _url_shards(item, include, exclude)
            if shards and shards[0].problem != _MISSING:
                return
            said.append(f"{item!r} {'does not exist' if shards else _empty_folder(include, exclude)}")
            continue
        if os.path.isdir(item):
            if any(True for _ in _walk(Path(item), include, exclude)):
                return
            said.append(f"{shown_path(item)!r} {_empty_folder(include, exclude)}")
            continue
        shard = _file_shard(item)
        if shard.problem != _MISSING:
            return
        said.append(f"{shard.path!r} {_why_missing(item)}")
    if not said:
        raise NoInputsError("no inputs found: no input was given")
    raise NoInputsError(f"no inputs found: {'; '.join(said)}")


def _empty_folder(include: Sequence[str], exclude: Sequence[str]) -> str:
    globs = f" matching include = {list(include)}" if include else ""
    globs += f" not excluded by exclude = {list(exclude)}" if exclude else ""
    return f"is a folder with no file{globs}"


def _why_missing(item: str) -> str:
    if any(char in item for char in "*?["):
        return "is a glob that matched nothing (the shell passes a pattern with no match as it is)"
    return "does not exist"


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
        with _stdin() as stream:
            yield stream
        return
    # JSON Lines records are often longer than 8 KB: a large buffer
    with open(path, "rb", buffering=_READ_BUFFER) as raw, _decompressing(raw, path) as stream:
        yield stream


@contextmanager
def _stdin(max_ratio: float | None = None) -> Iterator[IO[bytes]]:
    """Standard input, decompressed when its first bytes are gzip's or zstd's magic number.

    Its head is read (it cannot be seeked back) and replayed in front of the rest of the stream.
    """
    raw = sys.stdin.buffer
    head = b""
    while len(head) < MAGIC_BYTES:
        piece = raw.read(MAGIC_BYTES - len(head))
        if not piece:
            break
        head += piece
    replayed = io.BufferedReader(_Replay(head, raw), buffer_size=_READ_BUFFER)
    with _decompressing(replayed, "-", max_ratio, _magic(head)) as stream:
        yield stream


@contextmanager
def _url_stream(url: str, max_ratio: float | None) -> Iterator[IO[bytes]]:
    """The object at ``url``, decompressed (by suffix or magic number) and capped as a local file is.

    fsspec's files seek, so a Parquet reader gets random access; a stream that cannot go back (HTTP without a
    length) has its head replayed, as standard input does.
    """
    with open_url(url) as raw:
        head = raw.read(MAGIC_BYTES)
        stream: IO[bytes]
        try:
            raw.seek(0)
            stream = io.BufferedReader(_Seekable(raw), buffer_size=_READ_BUFFER)
        except (OSError, ValueError):
            stream = io.BufferedReader(_Replay(head, raw), buffer_size=_READ_BUFFER)
        with _decompressing(stream, url, max_ratio, strip_compression(url)[1] or _magic(head)) as out:
            yield out


class _Seekable(io.RawIOBase):
    """An fsspec file as a raw stream under :class:`io.BufferedReader`, which gives loaders the whole io API:
    fsspec's own files lack some of it (``readline(size)``, which the JSON Lines loader uses to cap a line)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self.raw.seek(offset, whence)

    def tell(self) -> int:
        return self.raw.tell()

    def readinto(self, target: Any) -> int:
        data = self.raw.read(len(target))
        target[: len(data)] = data
        return len(data)


def _magic(head: bytes) -> str | None:
    """The compression whose magic number ``head`` (a stream's first :data:`MAGIC_BYTES` bytes) starts with."""
    return _MAGIC.get(head[:2]) or _MAGIC.get(head[:4]) or (".bz2" if _BZIP2.match(head) else None)


class _Replay(io.RawIOBase):
    """``head``, then the rest of ``raw``: a stream whose first bytes were read to look at them."""

    def __init__(self, head: bytes, raw: IO[bytes]) -> None:
        self.head, self.raw, self.consumed = head, raw, 0

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.consumed  # bytes handed out so far: what the ratio cap compares the decompressed size with

    def readinto(self, target: Any) -> int:
        if self.head:
            size = min(len(target), len(self.head))
            target[:size] = self.head[:size]
            self.head = self.head[size:]
        else:
            data = self.raw.read1(len(target)) if hasattr(self.raw, "read1") else self.raw.read(len(target))
            size = len(data)
            target[:size] = data
        self.consumed += size
        return size


#: ``_decompressing``'s default: find the compression from the suffix, then the magic number
_SNIFF = "sniff"


@contextmanager
def _decompressing(
    raw: IO[bytes], path: str, max_ratio: float | None = None, compression: str | None = _SNIFF
) -> Iterator[IO[bytes]]:
    """``raw`` decompressed (by suffix or magic number); past ``max_ratio``, reading raises InputLimitError.

    bzip2 reads every stream of a file (pbzip2 writes several), and a file cut short raises EOFError, as gzip does.

    ``compression`` given (stdin and URLs, whose head was looked at already; None: not compressed), neither
    suffix nor magic is checked.
    """
    if compression == _SNIFF:
        compression = strip_compression(path)[1]
        if compression is None:
            head = raw.read(MAGIC_BYTES)
            raw.seek(0)
            compression = _magic(head)
    if compression == ".gz":
        with gzip.GzipFile(fileobj=raw) as gz:
            yield _capped(gz, raw.tell, path, max_ratio)  # type: ignore[arg-type]  # GzipFile is a binary stream
    elif compression == ".bz2":
        bz = _Bz2Reader(raw)
        yield _capped(io.BufferedReader(bz, buffer_size=_READ_BUFFER), bz.consumed, path, max_ratio)
    elif compression == ".zst":
        zst = _ZstdReader(raw)
        yield _capped(io.BufferedReader(zst, buffer_size=_READ_BUFFER), zst.consumed, path, max_ratio)
    else:
        yield raw


def _capped(stream: IO[bytes], consumed: Callable[[], int], path: str, max_ratio: float | None) -> IO[bytes]:
    if max_ratio is None:
        return stream
    return io.BufferedReader(_RatioGuard(stream, consumed, path, max_ratio), buffer_size=_READ_BUFFER)


class _RatioGuard(io.RawIOBase):
    """A decompressed stream that raises :class:`InputLimitError` once it has expanded past ``max_ratio``
    times the compressed bytes consumed (``consumed()``), checked past :data:`RATIO_FLOOR` bytes out.

    Reads are as large as the caller asks (a buffer's worth), so a bomb stops after at most one buffer past
    the cap: memory stays bounded whatever the file would expand to.
    """

    def __init__(self, stream: IO[bytes], consumed: Callable[[], int], path: str, max_ratio: float) -> None:
        self.stream, self.consumed, self.path, self.max_ratio = stream, consumed, path, max_ratio
        self.out = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        data = self.stream.read(len(target))
        size = len(data)
        target[:size] = data
        self.out += size
        if self.out > RATIO_FLOOR and self.out > self.max_ratio * max(self.consumed(), 1):
            raise InputLimitError(
                f"{shown_path(self.path)} expands to more than {self.max_ratio:g} times its compressed size "
                f"(input.max_compression_ratio = {self.max_ratio:g}; {self.out} bytes from {self.consumed()}): "
                "the rest of the file is not read"
            )
        return size


class _Decompressor(io.RawIOBase):
    """A raw stream decompressing ``raw``, which counts the compressed bytes it took (for the ratio cap)."""

    def __init__(self, raw: IO[bytes], chunk_size: int) -> None:
        self.raw, self.chunk_size = raw, chunk_size
        self.fed = 0

    def readable(self) -> bool:
        return True

    def consumed(self) -> int:
        """Compressed bytes handed to the decompressor so far."""
        return self.fed


class _Bz2Reader(_Decompressor):
    """Decompresses every bzip2 stream of a file (pbzip2 writes several) and raises where ``bz2.BZ2File`` would
    stop without a word: bytes after a stream that do not start another (a damaged second stream, trailing
    garbage) are an ``OSError``, and a stream cut short an ``EOFError``. Each call expands to at most the
    size asked for, so a bzip2 bomb is read in bounded memory."""

    def __init__(self, raw: IO[bytes], chunk_size: int = 1 << 17) -> None:
        super().__init__(raw, chunk_size)
        self.dobj = bz2.BZ2Decompressor()
        self.in_stream = False

    def readinto(self, target: Any) -> int:
        while True:
            if self.dobj.eof:
                self._next_stream()
            if self.dobj.needs_input:
                chunk = self.raw.read(self.chunk_size)
                if not chunk:
                    if self.in_stream:
                        raise EOFError("compressed data ends in the middle of a bzip2 stream (truncated file?)")
                    return 0
                self.fed += len(chunk)
            else:
                chunk = b""
            self.in_stream = True
            data = self.dobj.decompress(chunk, max_length=len(target))
            if data:
                target[: len(data)] = data
                return len(data)

    def _next_stream(self) -> None:
        """After a stream's end: the next one, from what came after it; else the end of the file."""
        rest = self.dobj.unused_data
        while len(rest) < 3:  # enough to see the next stream's magic
            more = self.raw.read(self.chunk_size)
            if not more:
                break
            self.fed += len(more)
            rest += more
        if rest and not rest.startswith(b"BZh"):
            raise OSError("data after the end of the bzip2 stream is not another stream (damaged or not bzip2)")
        self.dobj, self.in_stream = bz2.BZ2Decompressor(), bool(rest)
        if rest:
            self.dobj.decompress(rest, max_length=0)  # held by the decompressor, read out by readinto


class _ZstdReader(_Decompressor):
    """Decompresses every zstd frame of a stream and raises on a truncated one.

    zstandard's own ``stream_reader`` returns a silent EOF for a truncated frame, which would lose the
    rest of the file without a word; here the end of input before the end of a frame is an ``EOFError``.
    The decompressor is fed :data:`_ZSTD_FEED` bytes at a time, so one call expands to a bounded size even
    for a zstd bomb (zstandard's ``decompressobj`` has no output limit).
    """

    def __init__(self, raw: IO[bytes], chunk_size: int = 1 << 17) -> None:
        super().__init__(raw, chunk_size)
        self.dobj = zstandard.ZstdDecompressor().decompressobj()
        self.buffer = memoryview(b"")
        self.pending = memoryview(b"")  # compressed bytes read but not yet fed
        self.in_frame = False

    def readinto(self, target: Any) -> int:
        while not self.buffer:
            if not self.pending:
                chunk = self.raw.read(self.chunk_size)
                if not chunk:
                    if self.in_frame:
                        raise EOFError("compressed data ends in the middle of a zstd frame (truncated file?)")
                    return 0
                self.pending = memoryview(chunk)
            feed, self.pending = self.pending[:_ZSTD_FEED], self.pending[_ZSTD_FEED:]
            self.fed += len(feed)
            self.buffer = memoryview(self._feed(feed))
        size = min(len(target), len(self.buffer))
        target[:size] = self.buffer[:size]
        self.buffer = self.buffer[size:]  # a view: no copy of the rest
        return size

    def _feed(self, chunk: bytes | memoryview) -> bytes:
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
    """``doc`` with its source from the record, the URL's host, or the input's parent folder, in ``order``."""
    for way in order:
        if way == "record" and doc.source:
            return doc
        if way == "url" and doc.url:
            host = url_host(doc.url)
            if host:
                return doc.evolve(source=host.removeprefix("www."))
        if way == "folder" and doc.origin and doc.origin.path != "-":
            return doc.evolve(source=folder_source(doc.origin.path))
    return doc


@functools.lru_cache(maxsize=1 << 12)
def folder_source(path: str) -> str:
    """The source an input's place gives: the name of the folder holding it, never empty.

    The folder is found from the absolute path (not following links), so ``small.jsonl``, ``./small.jsonl``
    and ``data/small.jsonl`` typed from their folders all give ``data``: the source never depends on how the
    path was typed. A file at the root of the file system has no folder: its name without suffixes is used.

    For a URL the "folder" is the last prefix component above the object: ``s3://bucket/siteA/x.jsonl`` gives
    ``siteA``, an object at the root of a bucket the bucket's name (the host, for ``https://``).
    """
    if is_url(path):
        return _url_folder(path)
    absolute = Path(os.path.abspath(path))
    return absolute.parent.name or absolute.name.split(".")[0] or absolute.name


def _url_folder(url: str) -> str:
    parts = urlsplit(url.split("::")[-1])
    names = [name for name in (parts.netloc, *parts.path.split("/")) if name]
    if len(names) > 1:
        return names[-2]
    if not names:
        return parts.scheme
    return names[0].split(".")[0] or names[0]  # an object with no prefix above it: its name, as at "/"


def url_host(url: str) -> str | None:
    """``urlsplit(url).hostname``, looked up by what comes before the path: the host is all in there.

    urlsplit's netloc ends at the first ``/``, ``?`` or ``#`` after ``//``, so cutting the URL at its third
    ``/`` keeps it whole; the few hosts of a batch are then split once, not once per document.
    """
    return _host("/".join(url.split("/", 3)[:3]))


@functools.lru_cache(maxsize=1 << 12)
def _host(head: str) -> str | None:
    return urlsplit(head).hostname


class _RangeReader(io.RawIOBase):
    """At most ``remaining`` bytes of ``raw`` from where it stands."""

    def __init__(self, raw: IO[bytes], remaining: int) -> None:
        self.raw, self.remaining = raw, remaining

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        size = min(len(target), self.remaining)
        if size <= 0:
            return 0
        got = self.raw.readinto(memoryview(target)[:size])  # type: ignore[attr-defined]
        self.remaining -= got or 0
        return got or 0


# -- planning: shards -> parts ------------------------------------------------------------------------


def plan_parts(shards: Sequence[Shard], part_size: int, splittable: Callable[[str], bool]) -> list[Part]:
    """Cut large splittable files into newline-aligned ranges, then group small shards into parts.

    Every byte is read once here, to hash it (resume must notice a changed input) and to count the lines
    before each range (so origins stay right); blake2b runs at about 0.9 GB/s. A file that cannot be opened
    or read to the end here (a read error, or it is no longer a regular file) becomes one shard with that
    ``problem``, whole: none of its ranges is kept.

    An object named by URL is not read here (it may be far away and large): it stays one shard, and its digest
    is the metadata digest found when it was listed (``object_version``: size, ETag, modification time...).
    """
    pieces: list[tuple[Shard, str]] = []
    for shard in shards:
        if shard.problem is not None or shard.path == "-":
            pieces.append((shard, "stdin" if shard.problem is None else f"problem: {shard.problem}"))
            continue
        if is_url(shard.path):
            pieces.append((shard, f"object: {shard.object_version}"))
            continue
        try:
            whole = shard.items is not None or is_compressed(shard.path)  # items count from the file's start
            split = shard.size > part_size and splittable(shard.path) and not whole
            pieces.extend(_scan(shard, part_size if split else 0))
            continue
        except _NotRegularError as exc:
            problem = _not_regular(exc.mode)
        except OSError as exc:
            problem = f"cannot read input: {_strerror(exc)}"
        pieces.append((replace(shard, problem=problem), f"problem: {problem}"))
    return _group(pieces, part_size)


def _group(pieces: list[tuple[Shard, str]], part_size: int) -> list[Part]:
    parts: list[Part] = []
    batch: list[tuple[Shard, str]] = []
    size = 0
    for shard, digest in pieces:
        if batch and (size + shard.size > part_size or shard.path == "-"):
            parts.append(_part(len(parts), batch))
            batch, size = [], 0
        batch.append((shard, digest))
        size += shard.size
    if batch:
        parts.append(_part(len(parts), batch))
    return parts


def _part(index: int, batch: list[tuple[Shard, str]]) -> Part:
    digest = hashlib.blake2b("\n".join(d for _, d in batch).encode(), digest_size=16).hexdigest()
    return Part(index, tuple(shard for shard, _ in batch), digest)


def is_compressed(path: str) -> bool:
    """Whether ``path`` is compressed, by its suffix or its magic number (a URL: by its suffix only)."""
    if strip_compression(path)[1]:
        return True
    if is_url(path):
        return False
    with _open_regular(path, buffering=-1) as raw:
        head = raw.read(MAGIC_BYTES)
    return _magic(head) is not None


class _NotRegularError(OSError):
    """Opened, but not a regular file (a FIFO that took the place of a file since discovery, ...)."""

    def __init__(self, mode: int) -> None:
        super().__init__(errno.EINVAL, "not a regular file")
        self.mode = mode


def _open_regular(path: str, buffering: int = _READ_BUFFER) -> IO[bytes]:
    """``path`` opened for reading bytes if it is a regular file, else :class:`_NotRegularError`; never blocks.

    The file is opened without blocking (a FIFO with no writer would wait forever) and checked with
    ``fstat`` on the open descriptor, so nothing can swap it between the check and the read.
    """
    nonblocking = getattr(os, "O_NONBLOCK", 0)  # POSIX; elsewhere there are no FIFOs to open by name
    fd = os.open(path, os.O_RDONLY | nonblocking | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _NotRegularError(mode)
        if nonblocking:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb", buffering=buffering)
    except BaseException:
        os.close(fd)
        raise


def _scan(shard: Shard, target: int) -> list[tuple[Shard, str]]:
    """``shard`` hashed; when ``target`` > 0, cut into ranges of about ``target`` bytes ending at newlines."""
    pieces: list[tuple[Shard, str]] = []
    start = pos = newlines = 0
    first_line = 1
    digest = hashlib.blake2b(digest_size=16)
    with _open_regular(shard.path, buffering=-1) as stream:
        for chunk in iter(lambda: stream.read(_SCAN_CHUNK), b""):
            view, offset = memoryview(chunk), 0
            while target:
                cut = chunk.find(b"\n", max(offset, start + target - 1 - pos))
                if cut < 0:
                    break
                digest.update(view[offset : cut + 1])
                newlines += chunk.count(b"\n", offset, cut + 1)
                end = pos + cut + 1
                pieces.append((replace(shard, start=start, end=end, first_line=first_line), digest.hexdigest()))
                start, offset, first_line = end, cut + 1, newlines + 1
                digest = hashlib.blake2b(digest_size=16)
            digest.update(view[offset:])
            newlines += chunk.count(b"\n", offset) if target else 0
            pos += len(chunk)
    if not pieces:
        return [(shard, digest.hexdigest())]
    if pos > start:
        pieces.append((replace(shard, start=start, end=pos, first_line=first_line), digest.hexdigest()))
    return pieces
