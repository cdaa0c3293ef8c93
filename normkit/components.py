"""The base classes a plugin subclasses to add a loader, a stage or an exporter.

A component is registered through a ``normkit_register_*`` hook as a *class* (or any factory with the same
call signature); the pipeline instantiates it once per process with its options, so heavy state such as
compiled patterns is built once, not per document.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeGuard, TypeVar, cast

import orjson

from normkit.errors import ConfigError

if TYPE_CHECKING:
    import pluggy

    from normkit.config import Config
    from normkit.document import Document, Reject
    from normkit.registry import Registry

__all__ = [
    "EMPTY_POLICIES",
    "Context",
    "Exporter",
    "Learner",
    "Loader",
    "Profile",
    "ReadRecord",
    "RecordWriter",
    "Register",
    "SchemaFile",
    "Stage",
    "learns",
    "option",
    "options_from",
    "options_schema",
]

C = TypeVar("C", contravariant=True)
T = TypeVar("T")


class Register(Protocol[C]):
    """The ``register`` argument of a ``normkit_register_<kind>s`` hook: ``register(component)`` adds one.

    Typed per kind in the hook specs (``Register[type[Stage]]``, ``Register[Profile]``, ...), so a type checker
    catches a stage registered as an exporter; at run time it is a plain callable.
    """

    def __call__(self, component: C, /) -> None: ...


#: An options schema that accepts no options at all.
NO_OPTIONS: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}
#: what ``[output] empty`` may say of a document emptied by cleaning: written as it is, written with the flag
#: ``empty``, or sent to the rejects with the reason.
EMPTY_POLICIES = ("keep", "flag", "reject")


def option(default: Any, description: str, **schema: Any) -> Any:
    """One field of a component's ``Options`` dataclass: its default, what it means, and the JSON Schema of
    its values (``type``, ``enum``, ``minimum``...).

    The default is written into the schema (:func:`options_schema`), so the code, the schema (which a typo
    in the configuration is checked against) and the docs cannot disagree on it. A list default is a tuple:
    options are values, shared by every document.
    """
    metadata = {"schema": {"description": description, **schema}, "default": default}
    return field(default=default, metadata=metadata)


def options_schema(options: type[Any]) -> dict[str, Any]:
    """The JSON Schema of an ``Options`` dataclass made with :func:`option`: no key but its fields."""
    properties = {}
    for item in fields(options):
        schema, default = dict(item.metadata["schema"]), item.metadata["default"]
        if default is not None:
            schema["default"] = list(default) if isinstance(default, tuple) else default
        properties[item.name] = schema
    return {"type": "object", "additionalProperties": False, "properties": properties}


def options_from(options: type[T], values: Mapping[str, Any], where: str) -> T:
    """``values`` (checked against the schema already) as an ``options`` instance; lists become tuples."""
    try:
        return options(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})
    except TypeError as exc:  # a key no field has: a profile's options are merged after the schema check
        raise ConfigError(f"{where}: {exc}") from None


@dataclass
class Context:
    """What a component may need beyond its own options: the plugin manager (to call hooks such as
    ``normkit_detect_encoding``), the registry, the whole configuration, and state shared by a batch
    (``shared``, e.g. boilerplate lines learned in a first pass)."""

    pm: pluggy.PluginManager
    registry: Registry
    config: Config
    shared: dict[str, Any] = field(default_factory=dict)

    def profiles_for(self, source: str | None) -> list[Profile]:
        """Profiles that apply to ``source``: registered by plugins, then those in the configuration."""
        return [p for p in self.profiles() if p.matches(source)]

    def profiles(self) -> list[Profile]:
        if "_profiles" not in self.shared:
            configured = [
                Profile(name, tuple(table.get("sources", ())), table.get("stages", {}), plugin="config")
                for name, table in self.config.profiles.items()
            ]
            self.shared["_profiles"] = [*self.registry.all("profile"), *configured]
        return list(self.shared["_profiles"])


class Stage:
    """One step of the pipeline: ``Document -> Document``.

    Subclasses set ``name`` and, when they take options, ``options_schema`` (a JSON Schema for the
    ``[stages.<name>]`` table, checked before anything runs). ``process`` must not mutate its input; it
    returns ``doc.evolve(...)`` with an :class:`~normkit.document.Edit` for every change, or raises
    :class:`~normkit.errors.RejectDocument` to reject the document with a reason.
    """

    name: ClassVar[str] = ""
    options_schema: ClassVar[dict[str, Any]] = NO_OPTIONS
    #: the plugin that registered this stage: set on each instance by the pipeline that builds it.
    plugin: str | None = None

    def __init__(self, options: Mapping[str, Any], context: Context) -> None:
        self.options = dict(options)
        self.context = context

    def process(self, doc: Document) -> Document:
        raise NotImplementedError

    def options_for(self, doc: Document) -> dict[str, Any]:
        """This stage's options for ``doc``: the configured ones with its source's profiles merged over."""
        return self._options_for_source(doc.source)

    def _options_for_source(self, source: str | None) -> dict[str, Any]:
        cache: dict[str | None, dict[str, Any]] = self.__dict__.setdefault("_options_by_source", {})
        if source not in cache:
            options = dict(self.options)
            for profile in self.context.profiles_for(source):
                options.update(profile.options.get(self.name, {}))
            cache[source] = options
        return cache[source]

    def settings_for(self, doc: Document, options: type[T]) -> T:
        """:meth:`options_for` as this stage's ``options`` dataclass, defaults filled in: built once per source.

        The caches belong to the instance (not an ``lru_cache`` on the method, which would keep every stage
        ever built alive): sources are few, and a stage lives as long as its pipeline.
        """
        cache: dict[tuple[str | None, type], Any] = self.__dict__.setdefault("_settings_by_source", {})
        key = (doc.source, options)
        if key not in cache:
            where = f"stages.{self.name} for source {doc.source!r}"
            cache[key] = options_from(options, self._options_for_source(doc.source), where)
        settings: T = cache[key]
        return settings


S = TypeVar("S")


class Learner(Generic[S]):
    """What a stage implements to learn from the whole batch before cleaning it, with a state of type ``S``:
    ``class MyStage(Stage, Learner[MyState])``.

    The executor feeds every document (as it stands when it reaches this stage) to :meth:`observe` in each
    worker (map), combines the workers' :meth:`learned` states with :meth:`merge_learned` (reduce, in part
    order), and hands the result to every instance through :meth:`apply_learned` before the cleaning pass.
    States must be small (counts of hashes, not texts), so memory is bounded by what is counted, not by the
    corpus. A process keeps one pipeline, so the same instances serve both passes: :meth:`learned` hands over
    and clears what was observed.

    The merged state is kept in the output folder, so that a resumed run need not learn again. An output
    folder is untrusted ground: the state is written as JSON (:meth:`state_to_json`) and read back with
    :meth:`state_from_json` only under the run's key, never unpickled. The default keeps a state that is JSON
    already (numbers, strings, lists, string-keyed dicts) as it is.
    """

    name: ClassVar[str]
    #: whether this instance learns: an option may switch learning off for a run (no first pass then).
    learns: bool = True

    def observe(self, doc: Document) -> None:
        """First pass: take note of ``doc``."""
        raise NotImplementedError

    def learned(self) -> S:
        """This instance's state after the :meth:`observe` calls since the last call; clears it."""
        raise NotImplementedError

    @classmethod
    def merge_learned(cls, states: list[S]) -> S:
        """Combine the states of several instances (workers or parts) into one."""
        raise NotImplementedError

    def apply_learned(self, state: S) -> None:
        """Use the combined state for the cleaning pass."""
        raise NotImplementedError

    def save_learned(self, state: S, folder: Path) -> None:
        """Write the combined state as a reviewable file in the run's output ``folder`` (optional)."""

    @classmethod
    def state_to_json(cls, state: S) -> Any:
        """``state`` as JSON values, for the output folder's resume state."""
        return state

    @classmethod
    def state_from_json(cls, data: Any) -> S:
        """A state from :meth:`state_to_json`'s JSON; may raise ValueError, KeyError or TypeError on bad data."""
        return cast("S", data)


def learns(stage: object) -> TypeGuard[Learner[Any]]:
    """Whether ``stage`` takes part in the learning pass: a :class:`Learner` that has not switched it off."""
    return isinstance(stage, Learner) and stage.learns


class Loader:
    """Turns one input stream into documents (or rejects, for records that cannot be read).

    The engine opens files, undoes ``.gz``/``.zst`` compression and picks the loader whose ``suffixes``
    match the file name (after the compression suffix); the loader only parses.
    """

    name: ClassVar[str] = ""
    #: file suffixes this loader claims, lower case with the dot; ``()`` means "the fallback for anything".
    suffixes: ClassVar[tuple[str, ...]] = ()
    #: True for a loader that reads one record per line: the engine may then cut a large file into byte
    #: ranges that start and end on line boundaries, and gives ``load`` each range with its ``first_line``.
    splits_on_lines: ClassVar[bool] = False
    options_schema: ClassVar[dict[str, Any]] = NO_OPTIONS
    #: the plugin that registered this component: set on each instance by the pipeline that builds it.
    plugin: str | None = None

    def __init__(self, options: Mapping[str, Any], context: Context) -> None:
        self.options = dict(options)
        self.context = context

    def load(self, stream: IO[bytes], path: str, first_line: int = 1) -> Iterator[Document | Reject]:
        """Yield documents read from ``stream``; ``path`` is the display name (``-`` for stdin).

        ``first_line`` is the number of the stream's first line in the file, so origins stay right. Only a
        loader with ``splits_on_lines`` is given it (any other is called with two arguments).
        """
        raise NotImplementedError


class RecordWriter:
    """Writes validated records to one open binary stream; returned by :meth:`Exporter.open`."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream

    def write(self, record: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Write any trailer (e.g. a closing bracket); the engine closes and commits the file."""

    def copy_lines(self, source: IO[bytes]) -> None:
        """Write the records of an engine part file: one a line, as :func:`normkit.encode_record` encodes them.

        The engine assembles the output through this method. By default each line is parsed and handed to
        ``write``; a writer whose ``write`` would produce exactly those bytes (the JSON Lines writer) copies
        them instead, without parsing every record again.
        """
        for line in source:
            self.write(orjson.loads(line))


@dataclass(frozen=True)
class ReadRecord:
    """What an exporter's :meth:`~Exporter.read` yields: a record and the line (or row) where it starts, or
    why the text there is not a record (``error``), so ``normkit validate`` can point at it."""

    line: int | None
    record: Any = None
    error: str | None = None


class Exporter:
    """Turns documents into records of one JSON Schema and writes them.

    ``schema`` names a schema (``document`` -> ``document.schema.json``, shipped with normkit or registered
    by a plugin); every record is validated against it before ``RecordWriter.write`` sees it, so an exporter
    cannot emit invalid output. An exporter that can read its files back says which in ``reads``: then
    ``normkit validate`` checks them with its :meth:`read`, and the engine holds no table of formats.
    """

    name: ClassVar[str] = ""
    # schema, suffix and per_document may be set per instance from options (a record shape, one file or many).
    schema: str = "document"
    suffix: str = ".jsonl"
    #: True for exporters that write one file per document (text, markdown): the engine calls
    #: ``open_folder`` with a folder instead of ``open`` with a stream.
    per_document: bool = False
    #: what becomes of a document with no text left after cleaning when ``[output] empty`` does not say (one
    #: of :data:`EMPTY_POLICIES`): ``flag`` writes it with the flag ``empty``; a shape meant for training a
    #: language model, where an empty record is only noise, says ``reject``. Set per instance from options.
    empty: str = "flag"
    #: whether ``[output] compression`` may wrap this exporter's files (a byte stream of text: JSON Lines, CSV);
    #: a format compressed inside (Parquet) says False, and its shards are written as they are.
    compressible: bool = True
    options_schema: ClassVar[dict[str, Any]] = NO_OPTIONS
    #: the plugin that registered this component: set on each instance by the pipeline that builds it.
    plugin: str | None = None

    def __init__(self, options: Mapping[str, Any], context: Context) -> None:
        self.options = dict(options)
        self.context = context

    def to_record(self, doc: Document) -> dict[str, Any]:
        """The record for ``doc``; by default the document's own JSON form."""
        return doc.to_dict()

    def open(self, stream: IO[bytes]) -> RecordWriter:
        """A writer for a stream exporter; records go to ``stream`` in order."""
        raise NotImplementedError

    def open_folder(self, folder: Path) -> RecordWriter:
        """A writer for a ``per_document`` exporter; each record becomes a file inside ``folder``."""
        raise NotImplementedError

    # -- reading files back, for ``normkit validate`` (optional) -------------------------------------------

    #: suffixes (lower case, with the dot, after any ``.gz``/``.zst``) of the files whose records :meth:`read`
    #: reads back; ``()`` when this exporter's files are not read back. Several exporters may claim a suffix
    #: (``jsonl``, ``dolma``, ``hf``): ``validate`` uses the first registered.
    reads: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def read(cls, stream: IO[bytes], schema: str) -> Iterator[ReadRecord]:
        """The records of a file in this format, in order; ``schema`` is the one they will be checked against
        (a format without types of its own, such as Parquet's columns, may need it to rebuild records).

        Memory should be bounded by the largest record, not by the file: ``validate`` runs in CI on big output.
        """
        raise NotImplementedError

    @classmethod
    def schema_in(cls, stream: IO[bytes]) -> str | None:
        """The schema a file names inside itself (Parquet's metadata), or None to go by the file's name."""
        return None


@dataclass(frozen=True)
class SchemaFile:
    """A JSON Schema a plugin ships, registered through ``normkit_register_schemas``: ``name`` is how
    exporters and ``normkit validate`` call it, ``path`` the file."""

    name: str
    path: Path
    plugin: str | None = None


@dataclass(frozen=True)
class Profile:
    """What normkit knows about one source (a site, a feed): options merged over the configuration for its
    documents, per stage, e.g. ``{"boilerplate": {"rules": [...]}}``.

    ``sources`` are source keys or URL hosts; ``example.com`` also matches ``www.example.com`` and
    ``news.example.com``, so a profile follows a site across its subdomains.
    """

    name: str
    sources: tuple[str, ...]
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    plugin: str | None = None

    def matches(self, source: str | None) -> bool:
        if not source:
            return False
        source = source.lower()
        return any(source == s or source.endswith("." + s) for s in self.sources)
