"""Finding, reading and validating the configuration (``normkit.toml`` or ``[tool.normkit]``).

The configuration is validated against ``schemas/config.schema.json`` before anything runs, and each stage
checks its own table against the stage's ``options_schema`` when the pipeline is built, so a misspelt key
fails at start-up with a one-line error naming it, not halfway through a batch.

Without ``--config`` the file is looked for from the working directory up, but never past the project's VCS
root or the home folder (:func:`config_search_folders`): a configuration can load plugin code, so one in a
shared parent folder must not apply to everything beneath it.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from normkit.errors import ConfigError
from normkit.validate import iter_violations

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "DEFAULT_PIPELINE",
    "VCS_MARKERS",
    "Config",
    "config_search_folders",
    "did_you_mean",
    "find_config_file",
    "home_folder",
    "is_vcs_root",
    "load_config",
]

DEFAULT_PIPELINE: tuple[str, ...] = ("decode", "fix_text", "whitespace", "headline", "boilerplate")
#: ``[input] max_document_bytes`` when not set: the most bytes one document may take once decompressed (a
#: line of JSON Lines, a whole text file). The schema (``schemas/config.schema.json``) states the same default.
DEFAULT_MAX_DOCUMENT_BYTES = 64 << 20
#: ``[input] max_compression_ratio`` when not set: how many times its compressed size a file may expand to.
DEFAULT_MAX_COMPRESSION_RATIO = 100


@dataclass
class Config:
    """The validated configuration; sections are plain dicts so they pickle and hash simply."""

    pipeline: list[str] = field(default_factory=lambda: list(DEFAULT_PIPELINE))
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    input: dict[str, Any] = field(default_factory=dict)
    output: dict[str, Any] = field(default_factory=dict)
    run: dict[str, Any] = field(default_factory=dict)
    plugins: dict[str, Any] = field(default_factory=dict)
    profiles: dict[str, Any] = field(default_factory=dict)
    path: str | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], path: str | None = None) -> Config:
        where = path or "config"
        _moved(data, where)
        violations = list(iter_violations(dict(data), "config"))
        if violations:
            first = violations[0]
            key = first.pointer.strip("/").replace("/", ".") or "(top level)"
            raise ConfigError(f"{where}: {key}: {first.message}")
        data = copy.deepcopy(dict(data))
        return cls(
            pipeline=list(data.get("pipeline", DEFAULT_PIPELINE)),
            stages=data.get("stages", {}),
            input=data.get("input", {}),
            output=data.get("output", {}),
            run=data.get("run", {}),
            plugins=data.get("plugins", {}),
            profiles=data.get("profiles", {}),
            path=path,
        )

    def to_mapping(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline,
            "stages": self.stages,
            "input": self.input,
            "output": self.output,
            "run": self.run,
            "plugins": self.plugins,
            "profiles": self.profiles,
        }

    def resolve_path(self, value: str) -> str:
        """A path written in the configuration file: a relative one is taken from the file's folder, not the
        working directory (unchanged when there is no file, or the path is absolute)."""
        if self.path is None or Path(value).is_absolute():
            return value
        return str(Path(self.path).parent / value)

    def plugin_dirs(self) -> tuple[str, ...]:
        """``[plugins] dirs``, each resolved against the configuration file's folder."""
        return tuple(self.resolve_path(directory) for directory in self.plugins.get("dirs", ()))

    def stage_options(self, name: str) -> dict[str, Any]:
        return dict(self.stages.get(name, {}))

    @property
    def max_document_bytes(self) -> int:
        """``[input] max_document_bytes``: a loader rejects a document that is longer once decompressed (a
        JSON Lines line, a whole text file), reading no more of it than that."""
        return int(self.input.get("max_document_bytes", DEFAULT_MAX_DOCUMENT_BYTES))

    @property
    def max_compression_ratio(self) -> float:
        """``[input] max_compression_ratio``: a compressed file that expands to more than this many times the
        compressed bytes read stops being read there (one reject for the rest of the file)."""
        return float(self.input.get("max_compression_ratio", DEFAULT_MAX_COMPRESSION_RATIO))

    def with_overrides(self, **sections: Mapping[str, Any] | list[str] | None) -> Config:
        """A copy with command-line values merged over the file's (None values are ignored)."""
        data = self.to_mapping()
        for section, values in sections.items():
            if values is None:
                continue
            if isinstance(values, list):
                data[section] = values
            else:
                data[section] = {**data.get(section, {}), **{k: v for k, v in values.items() if v is not None}}
        return Config.from_mapping(data, self.path)

    def digest(self) -> str:
        """A hash of everything that can change the output, to tell whether a finished shard is still valid."""
        return hashlib.sha256(json.dumps(self.to_mapping(), sort_keys=True, default=str).encode()).hexdigest()


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean X?)`` when a known name is close to ``name``, else ``""``: for one-line errors."""
    close = difflib.get_close_matches(name, sorted(set(known)), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


#: keys that moved to their component's own table: (section, key) -> where they live now.
MOVED = {
    ("input", "fields"): "[input.loaders.jsonl] fields",
    ("run", "scheduler"): "[run.executors.dask] scheduler",
}


def _moved(data: Mapping[str, Any], where: str) -> None:
    """A key that moved is an error that says where it went, not "additional properties are not allowed"."""
    for (section, key), now in MOVED.items():
        table = data.get(section)
        if isinstance(table, Mapping) and key in table:  # anything else: the schema check names the problem
            raise ConfigError(f"{where}: {section}.{key}: this option is now {now}")


#: what marks the root of a version-controlled project (``.git`` is a file in a worktree or submodule).
VCS_MARKERS: tuple[str, ...] = (".git", ".hg", ".svn", ".jj")


def config_search_folders(start: Path | None = None) -> list[Path]:
    """The folders :func:`find_config_file` looks in, nearest first: ``start`` and its parents, up to and
    including the first that is a VCS root or the home folder; only ``start`` when neither is above it.

    The walk stops where the project ends because the file found may load plugin code (``[plugins] dirs``):
    a ``normkit.toml`` left in a shared parent folder (``/tmp``, ``/srv``) must not run for everyone below it.
    """
    start = (start or Path.cwd()).resolve()
    home = home_folder()
    folders: list[Path] = []
    for folder in (start, *start.parents):
        folders.append(folder)
        if folder == home or is_vcs_root(folder):
            return folders
    return [start]  # under no project and outside home: this folder alone


def is_vcs_root(folder: Path) -> bool:
    """Whether ``folder`` holds a ``.git`` (folder or file), ``.hg``, ``.svn`` or ``.jj``."""
    return any(_exists(folder / marker) for marker in VCS_MARKERS)


def home_folder() -> Path | None:
    """The user's home folder, resolved like the start folder is; None when there is none to be found."""
    try:
        home = Path.home()
    except (RuntimeError, KeyError):  # no $HOME and no passwd entry
        return None
    if str(home) in ("", "."):
        return None
    home = home.resolve()
    # a home of "/" (containers run as a user with no home) would make the search climb to the root
    return None if home == Path(home.anchor) else home


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # a folder we may not look into is no marker
        return False


def find_config_file(start: Path | None = None) -> Path | None:
    """The nearest ``normkit.toml``, or ``pyproject.toml`` with a ``[tool.normkit]`` table, in
    :func:`config_search_folders` (``start``, default the working directory, up to its VCS root or the home
    folder, whichever comes first; ``start`` alone when it is under neither). In one folder ``normkit.toml``
    wins over ``pyproject.toml``."""
    for folder in config_search_folders(start):
        candidate = folder / "normkit.toml"
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _tool_table(_read_toml(pyproject), pyproject) is not None:
            return pyproject
    return None


def load_config(path: str | Path | None = None, *, search: bool = True) -> Config:
    """Load ``path``, or the file :func:`find_config_file` finds from the working directory, or the defaults."""
    if path is None and search:
        path = find_config_file()
    if path is None:
        return Config()
    path = Path(path)
    data: Mapping[str, Any] = _read_toml(path)
    if path.name == "pyproject.toml":
        data = _tool_table(data, path) or {}
    return Config.from_mapping(data, str(path))


def _tool_table(data: Mapping[str, Any], path: Path) -> Mapping[str, Any] | None:
    """``[tool.normkit]`` of a ``pyproject.toml``, None when there is none; one that is not a table is an error."""
    tool = data.get("tool")
    if tool is None:
        return None
    if not isinstance(tool, Mapping):
        raise ConfigError(f"{path}: tool must be a table ([tool.normkit]), not {type(tool).__name__}")
    table = tool.get("normkit")
    if table is not None and not isinstance(table, Mapping):
        raise ConfigError(f"{path}: tool.normkit must be a table ([tool.normkit]), not {type(table).__name__}")
    return table


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
