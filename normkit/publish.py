"""Output to object storage: a run writes into a local staging folder, then publishes its files to the URL.

``normkit run crawl/ -o s3://bucket/clean/`` runs exactly as into a local folder (resume, the lock, atomic
files, the accounting check), into a staging folder on this machine (``--work-dir``, else one per URL under
the user's cache), and then publishes what the folder holds (records or shards, rejects, report, learned
files, attributes) to the URL through fsspec:

- **Each object appears whole or not at all.** A file is put under a temporary key beside its place, then
  moved there (a rename on a file system, a server-side copy on S3, whose objects are replaced atomically).
  A reader listing the prefix never sees half an object, only, for a moment, a ``*.normkit-tmp-*`` key.
- **Only what changed is sent again.** What was published, with sizes and digests, is kept in the staging
  folder (``.normkit/published.json``); a rerun that changed nothing uploads nothing.
- **The prefix holds what this run made.** normkit's own objects that this run did not make (an earlier
  run's shards, a records file of another format) are deleted after the new ones are in place; any other key
  under the prefix is left alone.
- **One run at a time, best effort.** A lock object (``.normkit/lock.json``: an owner and an expiry) is
  written before the run and deleted after it. Object stores offer no compare-and-swap through fsspec, so two
  runs started in the same second may both take it; an expired lock (a run that was killed) is taken over.

Workers on other machines need not see the staging folder: a Dask cluster whose workers share no files with
this one sends each part's files back and the run writes them here (see :mod:`normkit.executors`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from normkit.errors import NormkitError
from normkit.storage import is_url as storage_is_url
from normkit.storage import url_fs
from normkit.writers import atomic_file, file_digest, open_no_follow

__all__ = ["LOCK_SECONDS", "Publisher", "is_url", "local_path", "staging_folder"]

#: how long a lock object holds before another run may take it over (a run refreshes it as it publishes)
LOCK_SECONDS = 6 * 3600
_STATE = ".normkit"
_MANIFEST = "published.json"
#: the keys a run writes under the URL (relative to it), and their temporary keys: nothing else is touched
_OURS = re.compile(
    r"(?:documents(?:\.[a-z]+)*\.(?:jsonl|ndjson|json|csv|tsv|parquet)(?:\.(?:gz|zst))?"
    r"|documents/[^/]+|attributes/normkit/[^/]+|rejects\.jsonl|report\.json|learned-[^/]+\.json)"
    r"(?:\.normkit-tmp-[0-9a-f]{8})?"
)


def is_url(target: str) -> bool:
    """Whether the output ``target`` names object storage (``s3://``, ``gs://``, ``memory://``...): a
    ``file://`` URL is a local folder, written as one (links refused, files renamed into place)."""
    return storage_is_url(target) and not target.startswith("file://")


def local_path(target: str) -> str:
    """``file:///x`` as the path ``/x``; anything else as it is."""
    return target[len("file://") :] if target.startswith("file://") else target


def staging_folder(url: str, work_dir: str | None = None) -> Path:
    """Where a run to ``url`` stages its output: ``work_dir``, else a folder per URL in the user's cache."""
    if work_dir:
        return Path(work_dir)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "normkit" / "staging" / hashlib.blake2b(url.encode(), digest_size=8).hexdigest()


class Publisher:
    """Publishes a staging folder to ``url``, and holds the URL's lock object meanwhile."""

    def __init__(self, url: str, staging: Path) -> None:
        self.url, self.staging = url.rstrip("/"), staging
        self.fs, self.root = _filesystem(self.url)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    # -- the lock ----------------------------------------------------------------------------------

    @property
    def lock_key(self) -> str:
        return f"{self.root}/{_STATE}/lock.json"

    def lock(self) -> None:
        """Take the URL's lock object, unless another run holds it and it has not expired."""
        held = self._read_lock()
        if held and held["owner"] != self.owner and held["expires"] > time.time():
            until = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(held["expires"]))
            raise NormkitError(
                f"{self.url}: another normkit run ({held.get('owner')}) is writing here (its lock holds until "
                f"{until}); wait for it, or delete {self.lock_key} if that run is gone"
            )
        self._write_lock()
        if (self._read_lock() or {}).get("owner") != self.owner:
            raise NormkitError(f"{self.url}: another normkit run took the lock at the same moment; run again")

    def release(self) -> None:
        if (self._read_lock() or {}).get("owner") == self.owner:
            self.fs.rm(self.lock_key)

    def _read_lock(self) -> dict[str, Any] | None:
        """The lock object's owner and expiry; None when there is none, or it is not one normkit wrote (anyone
        with write access may leave anything there: such a lock holds nothing, and is taken over)."""
        try:
            with self.fs.open(self.lock_key, "rb") as stream:
                data = json.loads(stream.read(1 << 16))
        except (FileNotFoundError, ValueError, OSError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("owner"), str):
            return None
        expires = data.get("expires")
        if not isinstance(expires, (int, float)) or isinstance(expires, bool) or expires != expires:
            return None
        return {"owner": data["owner"], "expires": float(expires)}

    def _write_lock(self) -> None:
        data = {"owner": self.owner, "expires": time.time() + LOCK_SECONDS, "url": self.url}
        with self.fs.open(self.lock_key, "wb") as stream:
            stream.write(json.dumps(data).encode())

    # -- publishing --------------------------------------------------------------------------------

    def publish(self) -> list[str]:
        """Put every output file of the staging folder at the URL (changed ones only), then delete normkit's
        objects there that this run did not make. Returns the relative names published."""
        published = self._manifest()
        current: dict[str, dict[str, Any]] = {}
        for relative, path in self._outputs():
            digest = file_digest(path)
            current[relative] = digest
            if published.get(relative) != digest or not self.fs.exists(f"{self.root}/{relative}"):
                self._put(path, relative)
        self._remove_stale(set(current))
        self._save_manifest(current)
        self._write_lock()  # refreshed: the run is still here
        return sorted(current)

    def _outputs(self) -> Iterator[tuple[str, Path]]:
        """The staging folder's output files (not its ``.normkit`` state, never through a link)."""
        for path in sorted(self.staging.rglob("*")):
            relative = path.relative_to(self.staging).as_posix()
            if relative.split("/")[0] == _STATE or path.is_symlink() or not path.is_file():
                continue
            if _OURS.fullmatch(relative):
                yield relative, path

    def _put(self, path: Path, relative: str) -> None:
        """``path`` at ``relative`` under the URL: put under a temporary key, then moved into place."""
        final = f"{self.root}/{relative}"
        temporary = f"{final}.normkit-tmp-{uuid.uuid4().hex[:8]}"
        try:
            self.fs.put_file(str(path), temporary)
            self.fs.mv(temporary, final)
        except Exception as exc:
            raise NormkitError(f"{self.url}/{relative}: cannot publish: {exc}") from exc

    def _remove_stale(self, keep: set[str]) -> None:
        try:
            found = self.fs.find(self.root)
            prefix = f"{self.root}/"
            for key in found:
                relative = key[len(prefix) :] if key.startswith(prefix) else key
                if _OURS.fullmatch(relative) and relative not in keep:  # a killed run's temporary keys too
                    self.fs.rm(key)
        except FileNotFoundError:
            return
        except Exception as exc:
            raise NormkitError(
                f"{self.url}: published, but an earlier run's objects could not be removed: {exc}"
            ) from exc

    def _manifest(self) -> dict[str, Any]:
        try:
            with open_no_follow(self.staging / _STATE / _MANIFEST) as stream:
                data = json.loads(stream.read())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) and data.get("url") == self.url else {}

    def _save_manifest(self, files: dict[str, dict[str, Any]]) -> None:
        (self.staging / _STATE).mkdir(parents=True, exist_ok=True)
        with atomic_file(self.staging / _STATE / _MANIFEST) as stream:
            stream.write(json.dumps({"url": self.url, **files}).encode())


def _filesystem(url: str) -> tuple[Any, str]:
    """fsspec's file system for ``url`` and the path in it (a backend not installed: one line, exit 2)."""
    fs, root = url_fs(url)
    return fs, root.rstrip("/")
