"""The one-call library API: ``normkit.clean(text_or_bytes, **options) -> Document``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from normkit.batch.cache import PipelineCache
from normkit.config import Config
from normkit.document import Document, Origin, Reject, stable_id
from normkit.errors import NormkitError
from normkit.pipeline import Pipeline
from normkit.report import RunStats

__all__ = ["DocumentRejected", "clean"]

# Building a pipeline loads plugins and compiles patterns; one per distinct configuration is kept (the
# last few, by digest), so calling clean() in a loop costs the stages' work only.
_MAX_PIPELINES = 8
_PIPELINES: PipelineCache[Pipeline] = PipelineCache(_MAX_PIPELINES)


class DocumentRejected(NormkitError):  # noqa: N818 - reads as what happened: "document rejected"
    """``clean`` could not produce a document; ``reject`` says why and which stage or plugin refused it."""

    exit_code = 1

    def __init__(self, reject: Reject) -> None:
        super().__init__(reject.message())
        self.reject = reject


def clean(
    data: str | bytes,
    *,
    title: str | None = None,
    url: str | None = None,
    source: str | None = None,
    id: str | None = None,  # noqa: A002 - the document field's name
    config: Config | Mapping[str, Any] | None = None,
    pipeline: Sequence[str] | None = None,
    **stage_options: Mapping[str, Any],
) -> Document:
    """Clean one document with the configured pipeline and return it; raise :class:`DocumentRejected`.

    ``config`` is a :class:`Config` or a mapping in the shape of ``normkit.toml``; ``pipeline`` replaces its
    stage list (the configuration's options for stages it leaves out are left out too: a configuration
    holds options only for stages that run); any other keyword is a stage name with that stage's options,
    e.g. ``clean(text, fix_text={"preset": "ftfy"})``.
    """
    cfg = config if isinstance(config, Config) else Config.from_mapping(config or {})
    if pipeline is not None or stage_options:
        stages = {**cfg.stages, **{k: dict(v) for k, v in stage_options.items()}}
        if pipeline is not None:
            stages = {name: options for name, options in stages.items() if name in pipeline}
        mapping = {**cfg.to_mapping(), "stages": stages}
        if pipeline is not None:
            mapping["pipeline"] = list(pipeline)
        cfg = Config.from_mapping(mapping, cfg.path)
    runner = _PIPELINES.get(cfg.digest(), lambda: Pipeline(cfg))
    raw, text = (data, "") if isinstance(data, bytes) else (None, data)
    doc = Document(
        id=id or stable_id(data[:4096]),
        text=text,
        raw=raw,
        title=title,
        url=url,
        source=source,
        origin=Origin("<clean>"),
    )
    result = runner.process(doc, stats=RunStats())  # clean() reports no counts: none pile up in the cache
    if isinstance(result, Reject):
        raise DocumentRejected(result)
    return result
