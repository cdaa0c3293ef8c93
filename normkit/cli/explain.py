"""``normkit explain FILE``: a documents file normkit wrote, or any input cleaned first, shown line by line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click

from normkit.cli.errors import errors_to_exit_codes
from normkit.config import load_config
from normkit.document import Document, Reject
from normkit.errors import NormkitError
from normkit.explain import render
from normkit.inputs import discover
from normkit.pipeline import Pipeline

__all__ = ["explain_command"]


def _documents(path: str, config_path: str | None) -> Iterator[Document | Reject]:
    """Documents normkit wrote (JSON Lines records with ``edits``), else the input run through the pipeline."""
    records = _read_records(Path(path))
    if records is not None:
        yield from records
        return
    pipeline = Pipeline(load_config(config_path))
    for shard in discover([path]):
        for item in pipeline.load(shard):
            yield item if isinstance(item, Reject) else pipeline.process(item)


def _read_records(path: Path) -> list[Document] | None:
    if path.suffix.lower() not in (".jsonl", ".json", ".ndjson") or not path.is_file():
        return None
    try:
        # split at "\n" only: a record may hold U+2028 or NEL unescaped, which splitlines() would cut at
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
    except ValueError:
        return None
    if not rows or not all(isinstance(row, dict) and "edits" in row and "id" in row for row in rows):
        return None  # an input file in JSON Lines, not a file normkit wrote
    return [Document.from_dict(row) for row in rows]


@click.command("explain")
@click.argument("file", type=click.Path(exists=True))
@click.option("--id", "doc_id", help="Only the document with this id.")
@click.option("--removed", "only_removed", is_flag=True, help="Print only the removed lines.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Configuration for inputs.")
@click.option("--color/--no-color", default=None, help="Colour (default: only on a terminal).")
@errors_to_exit_codes
def explain_command(
    file: str, doc_id: str | None, only_removed: bool, config_path: str | None, color: bool | None
) -> None:
    """Show FILE's documents with every removed or changed line and the rule behind it.

    FILE is a documents file normkit wrote (JSON Lines with edits); any other input is cleaned first.
    """
    from rich.console import Console  # only here: the other commands start without rich
    from rich.text import Text

    console = Console(force_terminal=color, no_color=color is False, highlight=False)
    shown = False
    for item in _documents(file, config_path):
        if isinstance(item, Reject):
            console.print(Text(f"rejected: {item.message()}", style="bold red"))
        elif doc_id is None or item.id == doc_id:
            render(item, console, only_removed=only_removed)
            shown = True
    if doc_id is not None and not shown:
        raise NormkitError(f"{file}: no document with id {doc_id!r}")
