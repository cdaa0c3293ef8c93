"""Shared by the exporter tests: awkward documents, and writing them through an exporter as a run would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from normkit import Config, Document, Edit, Flag, Origin, Pipeline, get_plugin_manager
from normkit.cli import cli

DOCS = [
    Document(
        id="news-1",
        title="A headline, with a comma",
        text='First line.\n\nA "quoted" line, with commas\r\nand a CR LF.\n',
        source="example.com",
        url="https://example.com/a?b=1&c=2",
        metadata={"lang": "en", "date": "2024-01-31"},
        origin=Origin("in.jsonl", 1),
        edits=[Edit("headline", "removed", "title-line", line=1, before="A headline, with a comma")],
        flags=[Flag("low-confidence", "decode", "0.4")],
        decoding={"encoding": "utf-8", "confidence": 1.0, "method": "utf-8"},
    ),
    Document(id="b/2", text="Ünïcödé — عربي\ttab; [brackets] {braces} \\ backslash", origin=Origin("in.jsonl", 2)),
    Document(id="CON", title="Only a title", text="", source="feed", origin=Origin("in.jsonl", 3)),
]


def pipeline_for(fmt: str, **options: Any) -> Pipeline:
    config = Config.from_mapping({"output": {"format": fmt, "options": options}})
    return Pipeline(config, pm=get_plugin_manager(load_entrypoints=False))


def export(fmt: str, target: Path, docs: list[Document] = DOCS, **options: Any) -> list[dict[str, Any]]:
    """Validate and write ``docs`` with exporter ``fmt`` to ``target`` (a file, or a folder for per-document
    exporters) the way the engine does; the records written."""
    pipeline = pipeline_for(fmt, **options)
    exporter = pipeline.exporter
    records = [pipeline.export(doc) for doc in docs]
    assert all(isinstance(r, dict) for r in records), records
    if exporter.per_document:
        writer = exporter.open_folder(target)
        _write(writer, records)
    else:
        with target.open("wb") as stream:
            _write(exporter.open(stream), records)
    return records  # type: ignore[return-value]


def _write(writer: Any, records: list[Any]) -> None:
    for record in records:
        writer.write(record)
    writer.close()


def validate(*args: str) -> tuple[int, str, str]:
    """``normkit validate ARGS``: exit code, stdout, stderr."""
    result = CliRunner().invoke(cli, ["validate", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def load_and_export(tmp_path: Path, fmt: str, name: str, content: bytes, **options: Any) -> list[dict[str, Any]]:
    """``content`` as the file ``name``, loaded as ``normkit run`` would, through headline, as ``fmt`` records."""
    path = tmp_path / name
    path.write_bytes(content)
    config = {"pipeline": ["decode", "whitespace", "headline"], "output": {"format": fmt, "options": options}}
    pipeline = Pipeline(Config.from_mapping(config), pm=get_plugin_manager(load_entrypoints=False))
    with path.open("rb") as stream:
        docs = list(pipeline.loader_for(str(path)).load(stream, str(path)))
    records = [pipeline.export(pipeline.process(doc)) for doc in docs]  # type: ignore[arg-type]
    assert all(isinstance(r, dict) for r in records), records
    return records  # type: ignore[return-value]
