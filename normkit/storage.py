"""Inputs named by URL (``s3://``, ``gs://``, ``az://``, ``hf://``, ``http(s)://``, ``memory://``, ``file://``).

Everything that touches fsspec for reading inputs goes through here, so the rest of normkit asks three plain
questions: is this a URL (:func:`is_url`), which file system and path does it name (:func:`url_fs`), and what
are its bytes (:func:`open_url`). fsspec and its backends are imported only when a URL is met: a run over
local files pays nothing, and a worker process reads its backend's configuration (``FSSPEC_S3_...``,
``AWS_...``) from the environment it was given, not from one a parent process imported fsspec under.

A backend that is not installed is one line naming the extra to install (:class:`~normkit.errors.ConfigError`,
exit 2), never a traceback from fsspec. See ``docs/storage.md``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import IO, Any

from normkit.errors import ConfigError

__all__ = ["is_url", "object_digest", "open_url", "url_fs"]

#: ``scheme://``, or fsspec's chained form (``simplecache::s3://``); a drive letter (``C:\``) has no ``//``
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]+(::[A-Za-z][A-Za-z0-9+.\-]+)*://")

#: protocol -> (the package fsspec needs for it, normkit's extra that installs it)
_BACKENDS = {
    "s3": ("s3fs", "s3"),
    "s3a": ("s3fs", "s3"),
    "gs": ("gcsfs", "gcs"),
    "gcs": ("gcsfs", "gcs"),
    "az": ("adlfs", "azure"),
    "abfs": ("adlfs", "azure"),
    "abfss": ("adlfs", "azure"),
    "http": ("aiohttp", "http"),
    "https": ("aiohttp", "http"),
    "hf": ("huggingface_hub", "hf"),
}

#: metadata keys (lower-cased) that change when an object's content does, whichever backend gave them: S3's
#: ETag, VersionId and LastModified, GCS's md5Hash, crc32c and generation, Azure's etag and last_modified, an
#: HTTP server's ETag, Content-MD5, Digest and Last-Modified, the Hub's blob_id and lfs, a local file's mtime
_IDENTITY = frozenset(
    {
        "size",
        "etag",
        "versionid",
        "version_id",
        "lastmodified",
        "last_modified",
        "last-modified",
        "md5hash",
        "crc32c",
        "generation",
        "content-md5",
        "content_md5",
        "digest",
        "checksum",
        "blob_id",
        "lfs",
        "mtime",
        "ino",
        "updated",
        "created",
    }
)


def is_url(path: str) -> bool:
    """Whether ``path`` names an object through fsspec (``s3://bucket/key``) rather than a local path or ``-``."""
    return _URL.match(path) is not None


def _protocol(url: str) -> str:
    """The protocol fsspec opens ``url`` with: ``s3`` for ``s3://b/k``, the innermost one of a chained URL."""
    return url.split("://", 1)[0].rsplit("::", 1)[-1].lower()


def url_fs(url: str) -> tuple[Any, str]:
    """fsspec's file system for ``url`` and the path inside it (``("bucket/key")`` for ``s3://bucket/key``).

    fsspec caches file systems by their options, so calling this once per object costs a dictionary lookup.
    A backend that is not installed, or a protocol fsspec does not know, is a one-line ConfigError.
    """
    try:
        import fsspec.core  # type: ignore[import-untyped, import-not-found, unused-ignore]
    except ImportError:  # pragma: no cover - fsspec is one of normkit's dependencies
        raise ConfigError(f"{_scheme(url)} needs fsspec: pip install fsspec") from None
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except ImportError:
        raise ConfigError(_missing_backend(url)) from None
    except ValueError as exc:
        if "Protocol not known" not in str(exc):
            raise
        raise ConfigError(f"{url!r}: fsspec knows no storage for {_scheme(url)}") from None
    return fs, str(path)


def open_url(url: str) -> IO[bytes]:
    """``url`` opened read-only, as bytes, with its metadata looked up afresh.

    fsspec keeps listings in memory for the life of a file system; a long-lived process (a worker, a second run
    in the same interpreter) would otherwise open an object that was replaced with the old size and read it cut
    short. Dropping the object's cached entry costs a metadata request, once per object.
    """
    fs, path = url_fs(url)
    fs.invalidate_cache(path)
    stream: IO[bytes] = fs.open(path, "rb")
    return stream


def object_digest(info: Mapping[str, Any]) -> str:
    """A digest of what ``info`` (``fs.info``/``fs.find(detail=True)``) says that changes with the content.

    Planning never reads an object to hash it: its size and the version its backend reports (ETag, checksum,
    generation, modification time) stand for its bytes, so resume redoes a part whose object was replaced. The
    same object listed (``find``) or looked up (``info``) may carry different keys, so only the identity keys are
    kept; with none but the size (an HTTP server sending no ETag or Last-Modified), a replaced object of the
    same size is not noticed.
    """
    kept = {key.lower(): value for key, value in info.items() if key.lower() in _IDENTITY}
    text = json.dumps(kept, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _scheme(url: str) -> str:
    return f"{_protocol(url)}://"


def _missing_backend(url: str) -> str:
    name = _protocol(url)
    package, extra = _BACKENDS.get(name, (None, None))
    if package is None:
        return f"{_scheme(url)} needs a storage backend that is not installed (see fsspec's list of implementations)"
    return f"{_scheme(url)} needs {package}: pip install 'normkit[{extra}]'"
