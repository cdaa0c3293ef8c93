"""One document at a time: load -> stages in the configured order -> exporter record, or a Reject.

A :class:`Pipeline` is built once per process (plugins, registry, stage instances, compiled validators) and
then applied to any number of documents. A failure in a loader, a stage or an exporter becomes a
:class:`~normkit.document.Reject` naming the plugin and the stage or hook; the batch goes on. So does a
record that JSON cannot hold (a lone surrogate in its text or edits, metadata nested too deep): each record
is encoded once, here (:class:`Record`), so its failure is charged to it alone. A full disk is no
document's fault: it stops the run (:class:`~normkit.errors.DiskFullError`).
"""

from __future__ import annotations

import functools
import itertools
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from typing import IO, Any

import pluggy

from normkit.components import Context, Exporter, Learner, Loader, Stage, learns
from normkit.config import Config, did_you_mean
from normkit.document import Document, Reject
from normkit.errors import ConfigError, DiskFullError, PluginError, RejectDocument
from normkit.executors import Executor
from normkit.inputs import InputLimitError, Shard, assign_source, strip_compression
from normkit.plugins import PluginSpec
from normkit.registry import Registry
from normkit.report import RunStats
from normkit.spill import read_spilled, write_spill_stats, write_spilled
from normkit.validate import iter_violations, schema_error
from normkit.writers import disk_full_message, encode_record, is_disk_full

__all__ = ["DEFAULT_SOURCE_FROM", "Pipeline", "Record"]

DEFAULT_SOURCE_FROM = ("record", "url", "folder")


class Record(dict[str, Any]):
    """An exporter's record, validated, with ``line``: its bytes as a part file holds them, encoded once."""

    __slots__ = ("line",)

    def __init__(self, record: Mapping[str, Any], line: bytes) -> None:
        super().__init__(record)
        self.line = line


class Pipeline:
    """The configured stages and exporter, ready to process documents in this process."""

    def __init__(
        self,
        config: Config | None = None,
        *,
        plugins: PluginSpec | None = None,
        pm: pluggy.PluginManager | None = None,
    ) -> None:
        self.config = config or Config()
        self.plugin_spec = plugins or PluginSpec(
            plugins_dirs=self.config.plugin_dirs(),
            disabled=tuple(self.config.plugins.get("disable", ())),
        )
        self.pm = pm or self.plugin_spec.build()
        self.registry = Registry.from_plugin_manager(self.pm)
        self.context = Context(self.pm, self.registry, self.config)
        self.stages: list[Stage] = [self._build("stage", name) for name in self.config.pipeline]
        self._check_profiles()
        self._check_stage_tables()
        self.exporter: Exporter = self._build("exporter", self.config.output.get("format", "jsonl"))
        #: what the exporter's records are checked against: a shipped schema's name or a plugin's schema file
        self.schema = self.registry.schema(self.exporter.schema)
        #: ``[output] empty``, else the exporter's own default for its record shape (see :meth:`_emptied`)
        self.empty: str = self.config.output.get("empty", self.exporter.empty)
        #: ``--annotate``: records keep the text as it arrived, and carry their spans (see normkit.annotate)
        self.annotate = bool(self.config.output.get("annotate", False))
        self._loaders: dict[str, Loader] = {}
        self._check_loaders()
        #: the counts of calls that bring no ``stats`` of their own (a library user's loop); a batch task
        #: brings its own, so a pipeline shared by many tasks never carries one task's counts into the next
        self.stats = RunStats()
        #: inputs read by :meth:`observe_shard` since :meth:`observe_reset` (the learning pass's progress)
        self.observed = 0

    def _build(self, kind: str, name: str, options: Mapping[str, Any] | None = None) -> Any:
        """Instantiate a registered component after checking its options against its ``options_schema``."""
        cls = self._registered(kind, name)
        if options is None:
            options = self._options_for(kind, name)
        _check_options(cls, kind, name, options)
        try:
            component = cls(options, self.context)
        except (ConfigError, ValueError) as exc:
            if isinstance(exc, ConfigError) and str(exc).startswith((f"{_SECTIONS[kind]}.{name}", "profiles.")):
                raise  # it names its key already
            raise ConfigError(f"{kind} {name!r}: {exc}") from exc
        component.plugin = self.registry.owner(kind, name)
        return component

    def _check_profiles(self) -> None:
        """A profile's options for a stage are checked like the configuration's, before anything runs, and a
        stage that still declares the old learning attributes without :class:`~normkit.Learner` is named."""
        for stage in self.stages:
            if getattr(type(stage), "learns", False) and not isinstance(stage, Learner):
                raise PluginError(f"stage {stage.name!r} sets learns but is no normkit.Learner", plugin=stage.plugin)
            for profile in self.context.profiles():
                options = profile.options.get(stage.name)
                if options is not None:
                    _check_options(type(stage), "stage", stage.name, options, profile=profile.name)

    def _check_stage_tables(self) -> None:
        """Every ``[stages.<name>]`` table, and every stage a configured profile sets options for, names a
        registered stage that is in the pipeline: a typo or a forgotten stage is an error, not ignored."""
        tables = [(f"stages.{name}", name) for name in self.config.stages]
        for profile in self.context.profiles():
            if profile.plugin == "config":  # a plugin's profile may cover stages this pipeline leaves out
                tables += [(f"profiles.{profile.name}.stages.{name}", name) for name in profile.options]
        known = self.registry.names("stage")
        for key, name in tables:
            if name not in known:
                disabled = self.pm.is_blocked(f"stage_{name}")
                why = f" (its plugin {f'stage_{name}'!r} is disabled)" if disabled else did_you_mean(name, known)
                raise ConfigError(f"{key}: no such stage{why}")
            if name not in self.config.pipeline:
                pipeline = ", ".join(self.config.pipeline) or "empty"
                raise ConfigError(
                    f"{key}: stage {name!r} is not in the pipeline ({pipeline}): "
                    f"add it to pipeline or remove its options"
                )

    def _check_loaders(self) -> None:
        """The loader ``[input] loader`` names and every ``[input.loaders.<name>]`` table are built now, their
        options checked, so a typo fails at start-up rather than in every part of the batch."""
        known = self.registry.names("loader")
        forced = self.config.input.get("loader")
        names = [*self.config.input.get("loaders", {}), *([forced] if forced and forced != "auto" else [])]
        for name in names:
            if name not in known and not self.pm.is_blocked(f"loader_{name}"):
                key = f"input.loaders.{name}" if name != forced else "input.loader"
                raise ConfigError(f"{key}: no such loader {name!r}{did_you_mean(name, known)}")
            if name not in self._loaders:
                self._loaders[name] = self._build("loader", name)

    def _registered(self, kind: str, name: str) -> Any:
        """The class registered as ``name``; a disabled builtin's component still configured is named as such."""
        if self.pm.is_blocked(f"{kind}_{name}") and name not in self.registry.names(kind):
            raise ConfigError(
                f"{kind} {name!r} is configured, but its plugin {f'{kind}_{name}'!r} is disabled: "
                f"enable the plugin or take {name!r} out of the configuration"
            )
        return self.registry.get(kind, name)

    def executor(self, name: str, workers: int) -> Executor:
        """Executor ``name`` for ``workers`` workers, with its ``[run.executors.<name>]`` options checked first."""
        cls = self._registered("executor", name)
        options = dict(self.config.run.get("executors", {}).get(name, {}))
        _check_options(cls, "executor", name, options)
        executor: Executor = cls(workers, options)
        executor.plugin = self.registry.owner("executor", name)
        return executor

    def _options_for(self, kind: str, name: str) -> dict[str, Any]:
        if kind == "stage":
            return self.config.stage_options(name)
        if kind == "exporter":
            return dict(self.config.output.get("options", {}))
        return dict(self.config.input.get("loaders", {}).get(name, {}))

    # -- loading ---------------------------------------------------------------------------------

    def loader_for(self, path: str) -> Loader:
        """The loader named in the configuration, else the one claiming the file's suffix, else the fallback."""
        name = self.config.input.get("loader") or self._loader_name_for(path)
        if name not in self._loaders:
            self._loaders[name] = self._build("loader", name)
        return self._loaders[name]

    def _loader_name_for(self, path: str) -> str:
        plain = strip_compression(path)[0].lower()
        fallback: str | None = None
        for loader in self.registry.all("loader"):
            if not loader.suffixes:
                fallback = fallback or str(loader.name)
            elif plain.endswith(loader.suffixes):
                return str(loader.name)
        if fallback is None:
            raise ConfigError(f"no loader reads {path!r} and no fallback loader is registered")
        return fallback

    def load(self, shard: Shard) -> Iterator[Document | Reject]:
        """Documents (and rejects) from one shard; an unreadable file is one reject, not an exception.

        A shard that planning found cannot be read (missing, a dangling or looping link, a FIFO, a name that
        is not UTF-8, a folder that cannot be listed, ...) carries the reason as ``problem``: one reject. A
        compressed file that expands past ``[input] max_compression_ratio`` is read up to there, and the rest
        is one reject naming the cap.
        """
        if shard.problem is not None:
            yield Reject(shard.origin, shard.problem, hook="load")
            return
        if shard.items is not None:
            yield from itertools.islice(self.load(replace(shard, items=None)), shard.items)
            return
        loader = self.loader_for(shard.path)
        source_from = self.config.input.get("source_from", DEFAULT_SOURCE_FROM)
        try:
            with shard.open(max_ratio=self.config.max_compression_ratio) as stream:
                # Only a loader that reads lines gets byte ranges, and so a first line other than 1.
                first_line = (shard.first_line,) if loader.splits_on_lines else ()
                for item in loader.load(stream, shard.path, *first_line):
                    yield item if isinstance(item, Reject) else assign_source(item, source_from)
        except InputLimitError as exc:  # the engine's cap, not the loader's fault
            yield Reject(shard.origin, str(exc), hook="load")
        except (OSError, EOFError, ValueError) as exc:
            if is_disk_full(exc):  # a loader spilling to a full disk: the run's to stop, not the document's
                raise DiskFullError(disk_full_message(f"loader {loader.name!r}")) from exc
            # gzip/zstd raise these for truncated or corrupt data; what was read before the fault stays.
            yield Reject(shard.origin, f"cannot read input: {exc}", plugin=loader.plugin, hook="load")

    # -- processing ------------------------------------------------------------------------------

    def process(
        self, doc: Document, start: int = 0, stop: int | None = None, stats: RunStats | None = None
    ) -> Document | Reject:
        """Run the configured stages (``start`` to ``stop``) over ``doc``; a stage that raises rejects it.

        What each stage did is counted in ``stats`` (else :attr:`stats`).
        """
        stats = self.stats if stats is None else stats
        for stage in self.stages[start:stop]:
            started = time.perf_counter()
            try:
                result = stage.process(doc)
            except RejectDocument as exc:
                return self._reject(doc, exc.reason, stage)
            except Exception as exc:  # a plugin bug must cost one document, not the batch
                if is_disk_full(exc):  # the disk, not the document: the run stops, nothing is charged
                    raise DiskFullError(disk_full_message(f"stage {stage.name!r}")) from exc
                return self._reject(doc, f"stage raised {exc!r}", stage)
            seconds = time.perf_counter() - started
            new_edits = result.edits[len(doc.edits) :] if result is not doc else ()
            stats.stage(stage.name).record(doc, result, new_edits, seconds)
            doc = result
        return doc

    def _emptied(self, doc: Document) -> Document | Reject:
        """A document with no text left (a title alone does not count) is flagged ``empty`` or rejected, as
        ``[output] empty`` says: an empty record in a training set is noise, and one that goes unremarked
        hides a stage that removed too much. ``normkit explain`` on the input shows what went."""
        detail = "no text left after cleaning"
        if self.empty == "reject":
            reason = f'{detail} ([output] empty = "reject"; "flag" or "keep" writes it)'
            return Reject(doc.origin, reason, doc.id, hook="empty")
        return doc.with_flag("empty", "output", detail)

    def _reject(self, doc: Document, reason: str, stage: Stage) -> Reject:
        return Reject(doc.origin, reason, doc_id=doc.id, stage=stage.name, plugin=stage.plugin)

    def export(self, doc: Document) -> dict[str, Any] | Reject:
        """The exporter's record for ``doc``, validated against its schema; an invalid one is a reject."""
        try:
            record = self.exporter.to_record(doc)
        except Exception as exc:  # noqa: BLE001 - as for stages: one document lost, with the reason
            return Reject(doc.origin, f"exporter raised {exc!r}", doc.id, plugin=self.exporter.plugin, hook="to_record")
        violations = list(iter_violations(record, self.schema))
        if violations:
            reason = "; ".join(f"schema {self.exporter.schema}: {v}" for v in violations[:3])
            return Reject(doc.origin, reason, doc.id, plugin=self.exporter.plugin, hook="to_record")
        return record

    # -- learning from the batch -----------------------------------------------------------------

    def learning_stages(self) -> list[Learner[Any]]:
        return [stage for stage in self.stages if learns(stage)]

    def learning_start(self) -> int:
        """The index of the first learning stage (the number of stages when none learns)."""
        return self._learning_span[0]

    @functools.cached_property
    def _learning_span(self) -> tuple[int, int]:
        """Where the learning stages start, and where they end (after the last one); (n, n) when none."""
        learning = [i for i, stage in enumerate(self.stages) if learns(stage)]
        n = len(self.stages)
        return (learning[0], learning[-1] + 1) if learning else (n, n)

    def observe_shard(
        self, shard: Shard, spill: IO[bytes] | None = None, stats: RunStats | None = None
    ) -> dict[str, Any]:
        """First pass over one shard: each learning stage observes documents as they reach it.

        With ``spill``, each input's outcome before the first learning stage is written there (see
        :mod:`normkit.spill`), then the counts in ``stats`` (else :attr:`stats`) of the stages that ran, for
        :meth:`run_spilled`: the cleaning pass reports them, as it does not run those stages again.
        """
        return self.observe_items(self.load(shard), spill, stats)

    def observe_items(
        self, items: Iterable[Document | Reject], spill: IO[bytes] | None = None, stats: RunStats | None = None
    ) -> dict[str, Any]:
        """:meth:`observe_shard` over loaded ``items`` (a shard's, or some of them when a part is narrowed)."""
        stats = self.stats if stats is None else stats
        between = RunStats()  # stages between learning stages: the cleaning pass runs and counts them again
        start = self.learning_start()
        for item in items:
            self.observed += 1
            outcome = item if isinstance(item, Reject) else self.process(item, stop=start, stats=stats)
            if spill is not None:
                write_spilled(spill, outcome)
            if isinstance(outcome, Document):
                self._observe(outcome, start, between)
        if spill is not None:
            write_spill_stats(spill, stats)
        return {stage.name: stage.learned() for stage in self.learning_stages()}

    def _observe(self, doc: Document, start: int, between: RunStats) -> None:
        """Show ``doc`` to each learning stage as it stands when it reaches that stage.

        Stages after the last learning stage have nothing to show it: they run in the cleaning pass only.
        """
        for index in range(start, self._learning_span[1]):
            stage = self.stages[index]
            if learns(stage):
                stage.observe(doc)  # not guarded: a learning stage that cannot observe is a bug; the part fails
                continue
            # process() catches the documented per-document failures only: RejectDocument, and an exception
            # from this stage's process, which it charges to this one document as a reject naming the stage and
            # plugin. Either ends the document's observation (later learning stages must not learn from a
            # document the stage refused); the cleaning pass runs the stage again and writes the reject.
            outcome = self.process(doc, index, index + 1, between)
            if isinstance(outcome, Reject):
                return
            doc = outcome

    def observe_reset(self) -> None:
        """Forget what the learning stages observed so far (``learned()`` hands it over and clears it)."""
        self.observed = 0
        for stage in self.learning_stages():
            stage.learned()

    def merge_learned(self, states: list[dict[str, Any]]) -> dict[str, Any]:
        """Reduce the per-shard states of every learning stage into one state each."""
        return {
            stage.name: type(stage).merge_learned([s[stage.name] for s in states if stage.name in s])
            for stage in self.learning_stages()
        }

    def learned_to_json(self, learned: dict[str, Any]) -> dict[str, Any]:
        """The merged states as JSON values, by stage, for the output folder's resume state."""
        return {
            stage.name: stage.state_to_json(learned[stage.name])
            for stage in self.learning_stages()
            if stage.name in learned
        }

    def learned_from_json(self, data: dict[str, Any]) -> dict[str, Any]:
        """States read back from :meth:`learned_to_json`'s JSON (ValueError, KeyError or TypeError if malformed)."""
        return {stage.name: type(stage).state_from_json(data[stage.name]) for stage in self.learning_stages()}

    def apply_learned(self, learned: dict[str, Any]) -> None:
        for stage in self.learning_stages():
            if stage.name in learned:
                stage.apply_learned(learned[stage.name])

    def run_shard(self, shard: Shard, stats: RunStats | None = None) -> Iterator[Record | Reject]:
        """Load, process and export one shard, counting each input exactly once in ``stats`` (else :attr:`stats`)."""
        stats = self.stats if stats is None else stats
        if not shard.missing and shard.path != "-":
            stats.bytes_in += shard.size
        return self.run_items(self.load(shard), stats)

    def run_items(self, items: Iterable[Document | Reject], stats: RunStats | None = None) -> Iterator[Record | Reject]:
        """Process and export loaded ``items``, counting each exactly once in ``stats`` (no input bytes)."""
        stats = self.stats if stats is None else stats
        for item in items:
            outcome = item if isinstance(item, Reject) else self.finish(item, stats=stats)
            stats.count(outcome)
            yield outcome

    def run_spilled(self, stream: IO[bytes], stats: RunStats | None = None) -> Iterator[Record | Reject]:
        """The cleaning pass from a spill file: the stages from the first learning stage on, then export."""
        stats = self.stats if stats is None else stats
        start = self.learning_start()
        for item in read_spilled(stream):
            outcome = item if isinstance(item, Reject) else self.finish(item, start, stats)
            stats.count(outcome)
            yield outcome

    def finish(self, doc: Document, start: int = 0, stats: RunStats | None = None) -> Record | Reject:
        """Process (from stage ``start``), export and encode one document: its record, or why there is none."""
        stats = self.stats if stats is None else stats
        result = self.process(doc, start, stats=stats)
        if isinstance(result, Reject):
            return result
        if self.annotate:
            return self._annotated(result, stats)
        if not result.text.strip() and self.empty != "keep":
            result = self._emptied(result)
            if isinstance(result, Reject):
                return result
        stats.sources[result.source or ""] += 1
        stats.flagged += bool(result.flags)
        record = self.export(result)
        return record if isinstance(record, Reject) else self.encode(record, result)

    def _annotated(self, doc: Document, stats: RunStats) -> Record | Reject:
        """The record of ``doc`` with its text as it arrived, its attributes riding along in the part's line
        (the shard writer moves them to their own file). Nothing is removed, so nothing is emptied."""
        from normkit.annotate import ATTRIBUTES_KEY, annotated  # explain's rendering: only when annotating
        from normkit.explain import ReplayError

        try:
            original, attributes = annotated(doc)
        except ReplayError as exc:
            reason = f"annotate: the edits cannot be undone on the text ({exc})"
            return Reject(doc.origin, reason, doc.id, hook="annotate")
        stats.sources[doc.source or ""] += 1
        stats.flagged += bool(doc.flags)
        record = self.export(original)
        if isinstance(record, Reject):
            return record
        attributes["id"] = record.get("id", doc.id)
        encoded = self.encode({**record, ATTRIBUTES_KEY: attributes}, doc)
        return encoded if isinstance(encoded, Reject) else Record(record, encoded.line)

    def encode(self, record: Mapping[str, Any], doc: Document) -> Record | Reject:
        """``record`` with its bytes, or a reject saying which value JSON cannot hold.

        Text carried in edits is held to what text in the output is held to: a lone surrogate in an edit's
        ``before`` (a stage repaired the text, the edit kept the input) rejects the record as one in its text
        would. Nothing is replaced quietly: ``normkit explain`` must be able to trust what an edit says.
        """
        try:
            return Record(record, encode_record(record))
        except (TypeError, ValueError, RecursionError) as exc:  # orjson.JSONEncodeError is a TypeError
            where = unencodable(record) or "?"
            reason = f"record cannot be written as JSON ({exc}): {where}"
            return Reject(doc.origin, reason, doc.id, plugin=self.exporter.plugin, hook="encode")


#: how deep orjson nests containers (the record itself is the first); deeper ones it will not write.
MAX_JSON_DEPTH = 254
_SURROGATE = re.compile("[\ud800-\udfff]")


def unencodable(value: Any, path: str = "record", depth: int = 1) -> str | None:
    """Where in ``value`` is something JSON (as orjson writes it) cannot hold, and what; None if nothing is."""
    if isinstance(value, str):
        found = _SURROGATE.search(value)
        return None if found is None else f"{path} holds a lone surrogate U+{ord(found[0]):04X} at {found.start()}"
    if value is None or isinstance(value, (bool, float)):
        return None
    if isinstance(value, int):
        return None if -(1 << 63) <= value < (1 << 64) else f"{path} holds an integer beyond 64 bits"
    if not isinstance(value, (dict, list, tuple)):
        return f"{path} holds a {type(value).__name__}, which JSON cannot hold"
    if depth > MAX_JSON_DEPTH:
        return f"{path} is nested more than {MAX_JSON_DEPTH} levels deep"
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        if isinstance(value, dict) and not isinstance(key, str):
            return f"{path} has a key that is not a string: {key!r}"
        step = f".{key}" if isinstance(value, dict) else f"[{key}]"
        inner = path + step if depth < 6 else path if path.endswith("...") else f"{path}..."
        found_in = unencodable(item, inner, depth + 1)
        if found_in:
            return found_in
    return None


#: where each kind of component's options live in the configuration.
_SECTIONS = {"stage": "stages", "exporter": "output.options", "loader": "input.loaders", "executor": "run.executors"}


def _check_options(cls: type, kind: str, name: str, options: Any, profile: str | None = None) -> None:
    """``options`` against ``cls.options_schema``; a failure names the key, in the configuration or a profile."""
    schema = getattr(cls, "options_schema", None)
    if not schema:
        return
    value = dict(options) if isinstance(options, Mapping) else options  # a profile's may be any mapping
    error = schema_error(value, schema)
    if error is not None:
        inside = "".join(f".{p}" for p in error.absolute_path)
        key = f"{_SECTIONS[kind]}.{name}" if kind != "exporter" else _SECTIONS[kind]
        if profile is not None:
            key = f"profiles.{profile}.stages.{name}"
        raise ConfigError(f"{key}{inside}: {error.message}")
