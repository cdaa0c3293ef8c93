"""Resuming a run: the work folder that keeps committed parts, their completion markers, and the sharding check.

A part is done when its records and rejects are committed (atomic renames) and its marker is written, last,
with the digest of its input bytes, the run key (configuration, plugins, normkit version, learned state) and
the size and digest of the part's two files. Re-running the same command skips done parts; a changed
configuration or input redoes the parts concerned; a run cut into shards differently is refused rather than
mixed with the old parts.

The work folder is untrusted ground: it is read as data only (JSON, never a pickle), nothing in it is
followed through a symbolic link (a link there is an error naming it), and a marker is believed only when
its shape, its run key, its input digest and the files it describes all check out; anything else means
"do the part again".
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib
import os
import re
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

from normkit.annotate import ATTRIBUTES_FOLDER
from normkit.config import Config
from normkit.errors import NormkitError
from normkit.inputs import Part
from normkit.output import RECORDS_STEM, STATE_DIR, PartFiles, atomic_file
from normkit.plugins import PluginSpec, _own_version, plugins_digest
from normkit.report import RunStats
from normkit.shards import SHARD_NAME
from normkit.writers import (
    NO_FOLLOW,
    disk_full_stops,
    entries,
    file_digest,
    is_folder,
    open_no_follow,
    refuse_kinds,
    refuse_links,
    remove_temp_files,
    remove_tree,
)

__all__ = ["STATE_DIR", "WorkFolder", "code_digest", "mark_done", "run_key"]

_FORMAT = 2
_PLAN = "plan.json"
_LEARNED = "learned.json"
_OLD_PICKLE = "learned.pickle"  # older versions' learned state: deleted, never read
_LOCK = "lock"
#: the files of a part (records, rejects, marker, spill): ``NAME.records.jsonl``, ``NAME.done.json``...
_PART_FILE = re.compile(r"[^.]+\..+\.jsonl?")
#: the largest marker or plan file read back (they are a few hundred bytes); anything bigger is not ours.
_MAX_SMALL_FILE = 1 << 20


def run_key(config: Config, plugins: PluginSpec, learned: str = "") -> str:
    """What a part's output depends on besides its input bytes.

    The ``[run]`` section is left out: workers, executor or retries never change a record. normkit's own
    code and data count by content, not only by version number: a changed rule file with the same version
    (a development checkout, a patched install) must redo the parts cleaned with the old one. So do the
    plugins: every file loaded from a ``--plugins-dir`` by content, every plugin distribution by name and
    version (:func:`~normkit.plugins.plugins_digest`).
    """
    digest = dataclasses.replace(config, run={}, path=None).digest()
    text = f"{digest}\n{plugins!r}\n{plugins_digest(plugins)}\n{_own_version()}\n{code_digest()}\n{learned}"
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
    """Write the completion marker of ``part``: after this, a re-run skips it.

    The marker names the part's records and rejects files by size and digest, so a resumed run uses only
    the files this marker was written for. A full disk is a :class:`~normkit.errors.DiskFullError`.
    """
    with disk_full_stops(files.marker):
        marker = {
            "format": _FORMAT,
            "part": part.name,
            "shards": [shard.key for shard in part.shards],
            "input": part.digest,
            "run": key,
            "files": {"records": file_digest(files.records), "rejects": file_digest(files.rejects)},
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
        return cls(folder.absolute() / STATE_DIR)  # tasks write here from workers that may not share the cwd

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
        never leaves a stale lock behind. Before anything is written here, a symbolic link anywhere in the
        work folder is refused (:meth:`refuse_links`); once the lock is held, the temporary files a killed
        run left in the work folder are removed.
        """
        if self._lock is not None:
            return
        self.refuse_links()
        with disk_full_stops(self.root):
            try:
                self.root.mkdir(parents=True, exist_ok=True)
            except FileExistsError:
                raise NormkitError(f"{self.root}: exists and is not a folder (normkit keeps its state there)") from None
            if fcntl is None:
                return
            try:
                fd = os.open(self.root / _LOCK, os.O_WRONLY | os.O_CREAT | os.O_APPEND | NO_FOLLOW, 0o666)
            except OSError as error:
                refuse_links(self.root / _LOCK)  # a link planted since the check: named, not followed
                raise NormkitError(f"{self.root / _LOCK}: cannot open the lock: {error.strerror}") from error
        handle = os.fdopen(fd, "ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise NormkitError(
                f"{self.root.parent}: another normkit run is writing into this folder (it holds {self.root / _LOCK});"
                " wait for it to finish, or choose another output folder"
            ) from None
        self._lock = handle
        self._remove_leftovers()

    def refuse_links(self) -> None:
        """A one-line error naming the first symbolic link among the work folder, its files and its parts, or the
        first thing there of the wrong kind (a folder where normkit writes a file, a file where it keeps a folder,
        a FIFO that would hang a read).

        Followed, a link there would make :meth:`prune` delete files elsewhere, the lock create a file
        elsewhere, and the parts be written and read elsewhere. Nothing in ``.normkit`` is anyone else's.
        """
        refuse_links(self.root)
        refuse_kinds(folders=[self.root])
        for folder in (self.root, self.parts):
            if is_folder(folder):
                refuse_links(*entries(folder))
        refuse_kinds(
            files=[self.root / name for name in (_PLAN, _LEARNED, _OLD_PICKLE, _LOCK)],
            folders=[self.parts],
        )
        # the part files a run writes and reads back; hidden names (temporary files) are pruned whatever they are
        refuse_kinds(files=[path for path in entries(self.parts) if _PART_FILE.fullmatch(path.name)])

    def _remove_leftovers(self) -> None:
        """Temporary files of ``plan.json`` and ``learned.json`` a killed run left (parts: :meth:`prune`)."""
        remove_temp_files(self.root, lambda name: name in (_PLAN, _LEARNED))

    def start(self, sharding: dict[str, Any], resume: bool) -> None:
        """Check that finished parts here were cut the same way, then record how this run is cut.

        ``plan.json`` only ever refuses a resume: it is read as data, and one that is not what this version
        writes (damaged, hand-made) is as good as none; the markers decide what is reused.
        """
        plan = self.root / _PLAN
        (self.root / _OLD_PICKLE).unlink(missing_ok=True)  # older versions' learned state: never read
        if not resume:
            if is_folder(self.parts):
                remove_tree(self.parts)
            (self.root / _LEARNED).unlink(missing_ok=True)
        elif self.parts.is_dir() and any(self.parts.glob("*.done.json")):
            before = _read_json(plan)
            earlier = before.get("sharding") if isinstance(before, dict) else None
            if isinstance(earlier, dict) and earlier != sharding:
                raise NormkitError(_refusal(self.root.parent, earlier, sharding))
        with disk_full_stops(plan):
            self.parts.mkdir(parents=True, exist_ok=True)
            with atomic_file(plan) as stream:
                stream.write(orjson.dumps({"format": _FORMAT, "sharding": sharding}, option=orjson.OPT_INDENT_2))

    def finished(self, part: Part, key: str) -> RunStats | None:
        """The counts of ``part`` if a previous run finished it with the same input and run key, and its files
        are the ones its marker describes; None (do it again) for anything else."""
        files = self.files(part)
        data = _read_json(files.marker)
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            return None
        if (data.get("run"), data.get("input"), data.get("part")) != (key, part.digest, part.name):
            return None
        if data.get("shards") != [shard.key for shard in part.shards]:
            return None
        described = data.get("files")
        if not isinstance(described, dict):
            return None
        expected = [(described.get("rejects"), files.rejects)]
        shards = _shard_names(described.get("output"))
        if shards is None:
            expected.append((described.get("records"), files.records))
        else:  # the records became the output's shards (see normkit.shards): those files must be there
            expected += [(_digest_of(entry), self.shards / entry["name"]) for entry in described["output"]]
            if _shard_names(described.get("attributes")) is not None:  # --annotate: and their attributes
                folder = self.root.parent / ATTRIBUTES_FOLDER
                expected += [(_digest_of(entry), folder / entry["name"]) for entry in described["attributes"]]
        for digest, path in expected:
            try:
                if digest != file_digest(path):
                    return None
            except OSError:  # missing, or a link planted since the start: not this marker's file
                return None
        return _stats(data.get("stats"))

    @property
    def shards(self) -> Path:
        """``OUT/documents``: where the sharded layout's files are (see :mod:`normkit.shards`)."""
        return self.root.parent / RECORDS_STEM

    def shards_of(self, part: Part) -> list[str] | None:
        """The names of the shards ``part``'s marker names (its records were turned into them), else None."""
        data = _read_json(self.files(part).marker)
        files = data.get("files") if isinstance(data, dict) else None
        return _shard_names(files.get("output")) if isinstance(files, dict) else None

    def record_shards(self, part: Part, shards: Sequence[Path], attributes: Sequence[Path] = ()) -> None:
        """After ``part``'s records were written as ``shards`` (and, annotating, their ``attributes`` files): its
        marker names them instead, then its records file goes. A crash between the two leaves a marker that
        names the records, which are still there; a part without a marker (cut short by fail-fast) keeps them."""
        files = self.files(part)
        data = _read_json(files.marker)
        if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
            return  # a part fail-fast cut short has no marker: its records stay, and a rerun redoes it
        output = [{"name": path.name, **file_digest(path)} for path in shards]
        data["files"] = {"rejects": data["files"].get("rejects"), "output": output}
        if attributes:
            data["files"]["attributes"] = [{"name": path.name, **file_digest(path)} for path in attributes]
        with disk_full_stops(files.marker), atomic_file(files.marker) as stream:
            stream.write(orjson.dumps(data))
        files.records.unlink(missing_ok=True)

    def forget(self, part: Part) -> None:
        """Remove ``part``'s marker before redoing it, so a crash halfway cannot leave a stale 'done'."""
        self.files(part).marker.unlink(missing_ok=True)

    def prune(self, parts: Sequence[Part]) -> None:
        """Delete the files of parts not in this run's plan (inputs changed since) and temporary files left
        by a killed run (hidden names): nothing else writes here while a run starts. A link is never
        followed (the run refused it at the start: :meth:`refuse_links`)."""
        keep = {part.name for part in parts}
        for path in entries(self.parts):
            if path.name.startswith(".") or path.name.split(".", 1)[0] not in keep:
                refuse_links(path)
                remove_tree(path) if is_folder(path) else path.unlink(missing_ok=True)

    def learned(self, key: str) -> tuple[bool, Any]:
        """``(True, state)`` when a previous run over the same inputs and configuration saved it, as JSON values.

        The folder is untrusted: the file is JSON (never unpickled), and its state is used only under this
        run's key; anything else, or a file that does not parse, means "learn again".
        """
        data = _read_json(self.root / _LEARNED, limit=None)
        if not isinstance(data, dict) or data.get("key") != key:
            return False, None
        return True, data.get("state")

    def save_learned(self, key: str, state: Any) -> None:
        """Keep the learning pass's merged state (JSON values) under ``key``, for a resumed run.

        A state JSON cannot hold (a lone surrogate in a sample line) is not kept: a resumed run learns again.
        """
        path = self.root / _LEARNED
        try:
            data = orjson.dumps({"key": key, "state": state})
        except orjson.JSONEncodeError:
            path.unlink(missing_ok=True)
            return
        with disk_full_stops(path), atomic_file(path) as stream:
            stream.write(data)

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()  # releases the flock
            self._lock = None
        if self.temporary:
            shutil.rmtree(self.root, ignore_errors=True)


def _digest_of(entry: dict[str, Any]) -> dict[str, Any]:
    return {"bytes": entry.get("bytes"), "blake2b": entry.get("blake2b")}


def _shard_names(output: Any) -> list[str] | None:
    """The shard names a marker's ``output`` lists, when it is a list of such entries; else None."""
    if not isinstance(output, list):
        return None
    names = [entry.get("name") if isinstance(entry, dict) else None for entry in output]
    if not all(isinstance(name, str) and SHARD_NAME.fullmatch(name) for name in names):
        return None
    return names  # type: ignore[return-value]


def _read_json(path: Path, limit: int | None = _MAX_SMALL_FILE) -> Any:
    """The JSON value in ``path``, read without following a link; None when there is none to read."""
    try:
        with open_no_follow(path) as stream:
            data = stream.read() if limit is None else stream.read(limit + 1)
    except OSError:
        return None
    if limit is not None and len(data) > limit:
        return None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return None


def _stats(data: Any) -> RunStats | None:
    """A marker's counts, when they are what :meth:`RunStats.to_dict` writes for a finished part (counts that
    are whole numbers, nothing read that was neither written nor rejected); None otherwise."""
    try:
        stats = RunStats.from_dict(data)
        counts = [stats.read, stats.written, stats.rejected, stats.flagged, stats.bytes_in]
        counts += [*stats.sources.values(), *stats.reject_reasons.values(), *stats.reject_groups.values()]
        counts += [n for stage in stats.stages.values() for n in (stage.documents_changed, stage.chars_removed)]
        counts += [*(n for stage in stats.stages.values() for n in stage.rules.values())]
        seconds = [stage.seconds for stage in stats.stages.values()]
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    if not all(type(n) is int and n >= 0 for n in counts) or not stats.balanced:
        return None
    if not all(type(s) in (int, float) and s >= 0 for s in seconds):
        return None
    names = (*stats.sources, *stats.reject_reasons, *stats.reject_groups, *stats.stages)
    if not all(isinstance(name, str) for name in names):
        return None
    return stats


def _refusal(output: Path, before: dict[str, Any], now: dict[str, Any]) -> str:
    what = [k for k in sorted({*before, *now}) if before.get(k) != now.get(k)]
    return (
        f"{output}: holds finished parts of a run cut into shards differently ({', '.join(what)} changed); "
        "use the same inputs and --shard-size to resume, --no-resume to start over, or another output folder"
    )
