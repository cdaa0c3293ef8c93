"""Helpers for testing normkit plugins: an opt-in pytest plugin and plain functions.

Enable the fixtures in a plugin's test suite with ``pytest_plugins = ["normkit.testing"]`` in
``conftest.py``. Then a source-profile or stage test is a few lines::

    def test_my_profile(normkit_pm):
        with registered(normkit_pm, my_plugin):
            result = run_pipeline(["Headline", "", "Body.", "Share this"], pm=normkit_pm, source="example.com")
        result.assert_no_loss()
        assert result.removed_by("my-rule") == ["Share this"]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pluggy
import pytest

from normkit.config import Config
from normkit.document import Document, Edit, Origin, Reject, stable_id
from normkit.pipeline import Pipeline
from normkit.plugins import get_plugin_manager

__all__ = ["PipelineResult", "normkit_pm", "registered", "run_pipeline"]


@pytest.fixture
def normkit_pm() -> pluggy.PluginManager:
    """A fresh plugin manager with normkit's builtins only (no entry points, no environment)."""
    return get_plugin_manager(load_entrypoints=False)


@contextmanager
def registered(pm: pluggy.PluginManager, plugin: object, name: str | None = None) -> Iterator[object]:
    """Register ``plugin`` for the duration of the block, then unregister it whatever happens."""
    pm.register(plugin, name=name)
    try:
        yield plugin
    finally:
        pm.unregister(plugin)


@dataclass
class PipelineResult:
    """Documents and rejects from :func:`run_pipeline`, with helpers for common assertions."""

    inputs: int
    documents: list[Document] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)

    @property
    def edits(self) -> list[Edit]:
        return [edit for doc in self.documents for edit in doc.edits]

    @property
    def flags(self) -> list[str]:
        """Every flag code raised, across documents."""
        return [flag.code for doc in self.documents for flag in doc.flags]

    def removed_by(self, rule: str, *, blank: bool = False) -> list[str]:
        """The text of every line removed by ``rule``, across documents; blank lines only if ``blank``."""
        return [
            e.before for e in self.edits if e.action == "removed" and e.rule == rule and (blank or e.before.strip())
        ]

    def assert_no_loss(self) -> None:
        """Every input became exactly one document or one reject."""
        got = len(self.documents) + len(self.rejects)
        assert got == self.inputs, (
            f"{self.inputs} inputs but {len(self.documents)} documents + {len(self.rejects)} rejects"
        )


def run_pipeline(
    texts: Iterable[str | bytes | Iterable[str]],
    *,
    pm: pluggy.PluginManager | None = None,
    config: Config | Mapping[str, Any] | None = None,
    source: str | None = None,
    url: str | None = None,
    title: str | None = None,
) -> PipelineResult:
    """Run texts (a string, bytes, or a list of lines each) through a pipeline built on ``pm``."""
    cfg = config if isinstance(config, Config) else Config.from_mapping(config or {})
    pipeline = Pipeline(cfg, pm=pm or get_plugin_manager(load_entrypoints=False))
    items = list(texts)
    result = PipelineResult(inputs=len(items))
    for number, item in enumerate(items, start=1):
        raw = item if isinstance(item, bytes) else None
        text = "" if raw is not None else item if isinstance(item, str) else "\n".join(item)  # type: ignore[arg-type]
        doc = Document(stable_id("test", number), text, title, source, url, origin=Origin("<test>", number), raw=raw)
        outcome = pipeline.process(doc)
        (result.rejects if isinstance(outcome, Reject) else result.documents).append(outcome)  # type: ignore[arg-type]
    return result
