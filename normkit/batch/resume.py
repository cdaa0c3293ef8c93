"""Resuming a run: the work folder that keeps committed parts, their completion markers, and the sharding check.

A part is done when its records and rejects are committed (atomic renames) and its marker is written, last,
with the digest of its input bytes and the run key (configuration, plugins, normkit version, learned state).
Re-running the same command skips done parts; a changed configuration or input redoes the parts concerned;
a run cut into shards differently is refused rather than mixed with the old parts.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: runs into one folder are not locked there
    fcntl = None  # type: ignore[assignment]

import orjson

from normkit.config import Config
from normkit.errors import NormkitError
from normkit.inputs import Part
from normkit.output import STATE_DIR, PartFiles, atomic_file
from normkit.plugins import PluginSpec, _own_version
from normkit.report import RunStats

__all__ = ["STATE_DIR", "WorkFolder", "code_digest", "mark_done", "run_key"]

_FORMAT = 1
_PLAN = "plan.json"
_LEARNED = "learned.json"
_LOCK = "lock"


def run_key(config: Config, plugins: PluginSpec, learned: str = "") -> str:
    """What a part's output depends on besides its input bytes.

    The ``[run]`` section is left out: workers, executor or retries never change a record. normkit's own
    code and data count by content, not only by version number: a changed rule file with the same version
    (a development checkout, a patched install) must redo the parts cleaned with the old one.
    """
    digest = dataclasses.replace(config, run={}, path=None).digest()
    text = f"{digest}\n{plugins!r}\n{_own_version()}\n{code_digest()}\n{learned}"
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


#: normkit's packages whose files decide what a run writes: the engine, its schemas, the builtin plugins.
_OWN_PACKAGES = ("normkit", "normkit.batch", "normkit.text", "normkit.schemas", "normkit_plugins")
_OWN_SUFFIXES = frozenset({".py", ".toml", ".json"})


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of the source and data files of normkit's own packages, as installed (a few ms, once)."""
    return packages_digest(_OWN_PACKAGES)


def packages_digest(names: Sequence[str]) -> str:
    """A digest of the ``.py``, ``.toml`` and ``.json`` files directly in each of the packages ``names``."""
    digest = hashlib.blake2b(digest_size=16)
    for name in names:
        folder = Path(importlib.import_module(name).__file__ or "").parent
        for path in sorted(p for p in folder.iterdir() if p.suffix in _OWN_SUFFIXES and p.is_file()):
            digest.update(f"{name}/{path.name}\0{path.stat().st_size}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def mark_done(files: PartFiles, part: Part, key: str, stats: RunStats) -> None:
    """Write the completion marker of ``part``: after this, a re-run skips it."""
    marker = {
        "format": _FORMAT,
        "part": part.name,
        "shards": [shard.key for shard in part.shards],
        "input": part.digest,
        "run": key,
        "stats": stats.to_dict(),
    }
    with atomic_file(files.marker) as stream:
        stream.write(orjson.dumps(marker))


class WorkFolder:
    """``OUTPUT/.normkit``: ``plan.json``, the learned state, and ``parts/`` with each part's files and marker.

    For a stdout run it is a temporary folder, removed at the end (such runs do not resume).
    """

    def __init__(self, root: Path, *, temporary: bool = False) -> None:
        self.root, self.temporary = root, temporary
        self.parts = root / "parts"
        self._lock: IO[bytes] | None = None

    @classmethod
    def for_output(cls, folder: Path | None) -> WorkFolder:
        if folder is None:
            return cls(Path(tempfile.mkdtemp(prefix="normkit-")), temporary=True)
        return cls(folder / STATE_DIR)

    def files(self, part: Part) -> PartFiles:
        base = self.parts / part.name
        return PartFiles(
            records=base.with_name(base.name + ".records.jsonl"),
            rejects=base.with_name(base.name + ".rejects.jsonl"),
            marker=base.with_name(base.name + ".done.json"),
        )

    def spill(self, part: Part, key: str) -> Path:
        """Where the learning pass keyed ``key`` spills ``part`` (the key keeps another pass's spill unused)."""
        return self.parts / f"{part.name}.spill-{key[:16]}.jsonl"

    def lock(self) -> None:
        """Hold ``.normkit/lock`` until :meth:`close`: a second run into the same folder is refused, not mixed in.

        Two runs would commit parts over each other's and prune what the other just wrote. The lock is an
        advisory ``flock``, released by the kernel when the process ends however it ends, so a killed run
        never leaves a stale lock behind.
        """
        if fcntl is None or self._lock is not None:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        handle = (self.root / _LOCK).open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise NormkitError(
                f"{self.root.parent}: another normkit run is writing into this folder (it holds {self.root / _LOCK});"
                " wait for it to finish, or choose another output folder"
            ) from None
        self._lock = handle

    def start(self, sharding: dict[str, Any], resume: bool) -> None:
        """Check that finished parts here were cut the same way, then record how this run is cut."""
        plan = self.root / _PLAN
        (self.root / "learned.pickle").unlink(missing_ok=True)  # older versions' learned state: never read
        if not resume:
            shutil.rmtree(self.parts, ignore_errors=True)
            (self.root / _LEARNED).unlink(missing_ok=True)
        elif plan.exists() and any(self.parts.glob("*.done.json")):
            before = orjson.loads(plan.read_bytes())
            if before.get("sharding") != sharding:
                raise NormkitError(_refusal(self.root.parent, before.get("sharding", {}), sharding))
        self.parts.mkdir(parents=True, exist_ok=True)
        with atomic_file(plan) as stream:
            stream.write(orjson.dumps({"format": _FORMAT, "sharding": sharding}, option=orjson.OPT_INDENT_2))

    def finished(self, part: Part, key: str) -> RunStats | None:
        """The counts of ``part`` if a previous run finished it with the same input and run key."""
        marker = self.files(part).marker
        try:
            data = orjson.loads(marker.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        if data.get("format") != _FORMAT or data.get("input") != part.digest or data.get("run") != key:
            return None
        return RunStats.from_dict(data["stats"])

    def forget(self, part: Part) -> None:
        """Remove ``part``'s marker before redoing it, so a crash halfway cannot leave a stale 'done'."""
        self.files(part).marker.unlink(missing_ok=True)

    def prune(self, parts: Sequence[Part]) -> None:
        """Delete the files of parts not in this run's plan (inputs changed since) and temporary files left
        by a killed run (hidden names): nothing else writes here while a run starts."""
        keep = {part.name for part in parts}
        for path in self.parts.iterdir():
            if path.name.startswith(".") or path.name.split(".", 1)[0] not in keep:
                shutil.rmtree(path) if path.is_dir() else path.unlink()

    def learned(self, key: str) -> tuple[bool, Any]:
        """``(True, state)`` when a previous run over the same inputs and configuration saved it, as JSON values.

        The folder is untrusted: the file is JSON (never unpickled), and its state is used only under this
        run's key; anything else, or a file that does not parse, means "learn again".
        """
        try:
            data = orjson.loads((self.root / _LEARNED).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return False, None
        if not isinstance(data, dict) or data.get("key") != key:
            return False, None
        return True, data.get("state")

    def save_learned(self, key: str, state: Any) -> None:
        """Keep the learning pass's merged state (JSON values) under ``key``, for a resumed run.

        A state JSON cannot hold (a lone surrogate in a sample line) is not kept: a resumed run learns again.
        """
        try:
            data = orjson.dumps({"key": key, "state": state})
        except orjson.JSONEncodeError:
            (self.root / _LEARNED).unlink(missing_ok=True)
            return
        with atomic_file(self.root / _LEARNED) as stream:
            stream.write(data)

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()  # releases the flock
            self._lock = None
        if self.temporary:
            shutil.rmtree(self.root, ignore_errors=True)


def _refusal(output: Path, before: dict[str, Any], now: dict[str, Any]) -> str:
    what = [k for k in sorted({*before, *now}) if before.get(k) != now.get(k)]
    return (
        f"{output}: holds finished parts of a run cut into shards differently ({', '.join(what)} changed); "
        "use the same inputs and --shard-size to resume, --no-resume to start over, or another output folder"
    )
