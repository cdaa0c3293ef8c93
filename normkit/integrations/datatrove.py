"""normkit as a datatrove pipeline step: :class:`NormkitCleaner` cleans each document datatrove hands it.

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from normkit.integrations.datatrove import NormkitCleaner

    LocalPipelineExecutor(
        [
            JsonlReader("crawl/"),
            NormkitCleaner("normkit.toml", exclusion_writer=JsonlWriter("removed/")),
            JsonlWriter("cleaned/"),
        ],
        tasks=8,
    ).run()

The step is a datatrove filter (``BaseFilter``) because that is how datatrove sends what a step refuses to an
exclusion writer, counts it (``dropped``) and records why (``metadata["filter_reason"]``); a document normkit
keeps is changed in place and passed on. Each document goes through :meth:`normkit.Pipeline.finish` with the
``hf`` record shape, the one ``normkit run --format hf`` writes, so the text is the same as the command's, and
so are the rejects: a stage's, a document emptied by cleaning (``[output] empty``), a record JSON cannot hold.

What maps to what (datatrove -> normkit -> datatrove):

- ``doc.id``, ``doc.text`` -> the document's id and text; the cleaned text replaces ``doc.text``.
- ``metadata["title"]``, ``["url"]``, ``["source"]`` -> the document fields of those names, read as the JSON
  Lines loader reads a record's: a document without a title has none (``""``), and no line of its text is
  taken as one. ``metadata["file_path"]`` (datatrove's readers add it) is the origin rejects name.
- every other metadata key -> normkit's ``metadata``, and back.
- normkit's edits and flags -> ``metadata["normkit_edits"]`` and ``["normkit_flags"]``, lists of plain dicts;
  its title, when there is one, -> ``metadata["title"]``.

What does not apply: the learning pass. Learning repeated lines needs every document of the batch seen once
before any is cleaned, and a datatrove step sees each document once, in a stream. The step turns
``[stages.boilerplate] learn`` off; to apply lines learned elsewhere (a ``normkit run`` over a sample, its
``learned-boilerplate.json`` reviewed), name the file in ``[stages.boilerplate] learned_file``. A third-party
stage that learns is refused when the step is made. ``[input]`` (loaders, size caps), ``[output]`` (except
``empty`` and the ``title`` option) and ``[run]`` are datatrove's business here and are not used.
"""

from __future__ import annotations

import base64
import datetime
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

try:
    from datatrove.pipeline.filters.base_filter import (  # type: ignore[import-not-found, import-untyped, unused-ignore]
        BaseFilter,
    )
except ImportError as exc:  # the one line a user without the extra sees, not a traceback into datatrove
    raise ImportError("normkit.integrations.datatrove needs datatrove: pip install 'normkit[datatrove]'") from exc

from normkit.batch.cache import PipelineCache
from normkit.config import Config, load_config
from normkit.document import Document, Origin, Reject
from normkit.errors import ConfigError
from normkit.inputs import assign_source
from normkit.pipeline import DEFAULT_SOURCE_FROM, Pipeline
from normkit.report import RunStats

__all__ = ["NormkitCleaner", "step_config"]

#: datatrove metadata keys that are normkit document fields (as a JSON Lines record's keys are).
FIELDS = ("title", "url", "source")
#: the origin of a document whose reader recorded no ``file_path``.
NO_PATH = "<datatrove>"

# One pipeline per configuration per process: datatrove deep-copies or unpickles the step for every task, and a
# worker process that runs many tasks should build normkit's plugins and rules once, not once a task.
_PIPELINES: PipelineCache[Pipeline] = PipelineCache(4)


def step_config(config: Config | Mapping[str, Any] | str | os.PathLike[str] | None) -> Config:
    """The configuration the step runs: the user's, with learning off and records in the ``hf`` shape.

    ``None`` is normkit's defaults, not a file searched for from the working directory: a datatrove worker's
    working directory need not be the driver's. The ``hf`` exporter is forced because its record is what a
    datatrove document is (text, id, metadata); edits and flags are asked for so they can be copied back.
    """
    if isinstance(config, Config):
        base = config
    elif isinstance(config, Mapping):
        base = Config.from_mapping(config)
    else:
        base = Config() if config is None else load_config(Path(config))
    data = base.to_mapping()
    if "boilerplate" in base.pipeline:
        data["stages"] = {**base.stages, "boilerplate": {**base.stage_options("boilerplate"), "learn": False}}
    options: dict[str, Any] = {"edits": True, "flags": True}
    if "title" in base.output.get("options", {}):
        options["title"] = base.output["options"]["title"]
    data["output"] = {key: base.output[key] for key in ("empty",) if key in base.output}
    data["output"] |= {"format": "hf", "options": options}
    return Config.from_mapping(data, base.path)


def _build(config: Config) -> Pipeline:
    """A pipeline for ``config``; a stage that still learns (a plugin's) is refused, as it would learn nothing."""
    pipeline = Pipeline(config)
    learning = [stage.name for stage in pipeline.learning_stages()]
    if learning:
        raise ConfigError(
            f"stage {learning[0]!r} learns from the whole batch, which a datatrove step cannot do "
            "(it sees each document once): switch its learning off or leave it out of the pipeline"
        )
    return pipeline


def _pipeline_for(config: Config) -> Pipeline:
    """This process's pipeline for ``config`` (the file's folder is in the key: relative paths resolve there)."""
    return _PIPELINES.get(f"{config.path}\0{config.digest()}", lambda: _build(config))


def _text(value: Any) -> str | None:
    """A metadata value as a document field, as the JSON Lines loader reads one: "" and None are no value."""
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def _jsonable(value: Any) -> Any:
    """A metadata value as JSON can carry it (a reader may give bytes, dates or decimals): bytes as base64,
    dates and times as ISO 8601, anything else JSON has no type for as its string; containers walked."""
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


class NormkitCleaner(BaseFilter):  # type: ignore[misc]  # datatrove ships no type information
    """Clean each document with normkit; send the ones normkit rejects to ``exclusion_writer``, with the reason.

    ``config``: a :class:`normkit.Config`, a mapping shaped like ``normkit.toml``, a path to one (or to a
    ``pyproject.toml``), or None for the defaults. ``edits``: copy every edit into ``metadata["normkit_edits"]``
    (an edit of a removed line carries the line: turn it off to keep the output small).
    """

    name = "🧹 normkit"

    def __init__(
        self,
        config: Config | Mapping[str, Any] | str | os.PathLike[str] | None = None,
        exclusion_writer: Any = None,
        *,
        edits: bool = True,
    ) -> None:
        super().__init__(exclusion_writer)
        self.config = step_config(config)
        self.edits = edits
        # Built now, in the driver, so a bad configuration fails before datatrove starts any task. The pipeline
        # is kept by the process, not the step: the step pickles as its settings, and each worker builds its own.
        _pipeline_for(self.config)

    @property
    def pipeline(self) -> Pipeline:
        """normkit's pipeline in this process, built by the first document that needs it."""
        return _pipeline_for(self.config)

    def filter(self, doc: Any) -> bool:
        """Clean ``doc`` in place and keep it, or mark it with normkit's reason and drop it."""
        counts = RunStats()  # per document: a task's counters must not grow with every source it sees
        outcome = self.pipeline.finish(self._to_normkit(doc), stats=counts)
        if isinstance(outcome, Reject):
            self._drop(doc, outcome)
            return False
        self._update(doc, outcome)
        self._count(counts)
        return True

    def _to_normkit(self, doc: Any) -> Document:
        """The normkit document for a datatrove one: title, url and source from metadata, the rest as metadata."""
        meta: Mapping[str, Any] = doc.metadata
        normkit_doc = Document(
            id=str(doc.id),
            text=doc.text,
            title=_text(meta.get("title")) or "",  # "": a record with no title; no line of its text becomes one
            url=_text(meta.get("url")),
            source=_text(meta.get("source")),
            metadata={key: _jsonable(value) for key, value in meta.items() if key not in FIELDS},
            origin=Origin(str(meta.get("file_path") or NO_PATH)),
        )
        order = self.config.input.get("source_from", DEFAULT_SOURCE_FROM)
        if not meta.get("file_path"):  # no file: the folder a source would be named after is the worker's cwd
            order = [key for key in order if key != "folder"]
        return assign_source(normkit_doc, order)

    def _update(self, doc: Any, record: Mapping[str, Any]) -> None:
        """Put the ``hf`` record back into ``doc``: its text, its metadata, and normkit's edits and flags.

        ``url`` and ``source`` go back only if the document had them (normkit may have derived a source from
        the URL to choose profiles; that is not the document's); a title goes back whenever there is one.
        """
        meta = dict(record["metadata"])
        edits, flags = meta.pop("edits", []), meta.pop("flags", [])
        for key in FIELDS:
            value = meta.pop(key, None)
            if value is None:
                value = doc.metadata.get(key)
            if value is not None and (key == "title" or key in doc.metadata):
                meta[key] = value
        meta["normkit_flags"] = flags
        if self.edits:
            meta["normkit_edits"] = edits
        doc.text = record["text"]
        doc.metadata = meta
        for flag in flags:
            self.stat_update(f"normkit_flag_{flag['code']}")

    def _drop(self, doc: Any, reject: Reject) -> None:
        """Record why normkit refused ``doc`` where datatrove's filters do, and count it by what refused it.

        The reason goes in ``filter_reason`` whole (it names the stage and what it found); the count is by stage
        or hook only, as a reason holds numbers and would make a counter per document.
        """
        doc.metadata["filter_reason"] = reject.reason
        doc.metadata["normkit_rejected_by"] = "/".join(p for p in (reject.plugin, reject.stage or reject.hook) if p)
        self.stat_update(f"dropped_normkit_{reject.stage or reject.hook or 'unknown'}")

    def _count(self, counts: RunStats) -> None:
        """What each stage did to a kept document, as datatrove counters: documents changed, characters removed."""
        for name, stage in counts.stages.items():
            if stage.documents_changed:
                self.stat_update(f"normkit_{name}_changed")
                self.stat_update(f"normkit_{name}_chars_removed", value=stage.chars_removed)
