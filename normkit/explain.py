"""``normkit explain``: show a document as it arrived, with each removed line marked by the rule that removed it."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from normkit.config import load_config
from normkit.document import Document, Edit, Reject
from normkit.exits import errors_to_exit_codes
from normkit.inputs import discover
from normkit.pipeline import Pipeline

__all__ = ["DEFAULT_STAGES", "ExplainedLine", "explain", "explain_command", "render"]

#: the stages whose removals are put back, last stage first; each one's line numbers refer to its input.
DEFAULT_STAGES: tuple[str, ...] = ("headline", "boilerplate")


@dataclass(frozen=True)
class ExplainedLine:
    """One line of the reconstructed input: kept (``edit`` is None) or removed by ``edit``."""

    text: str
    edit: Edit | None = None

    @property
    def removed(self) -> bool:
        return self.edit is not None


def explain(doc: Document, stages: Sequence[str] = DEFAULT_STAGES) -> list[ExplainedLine]:
    """The lines ``stages`` received, rebuilt from the final text and their removal edits.

    Undoing the stages from the last to the first, each stage's removed lines go back at their line numbers
    (which count lines of that stage's input), so the result is the text the first of them received.
    """
    lines = [ExplainedLine(line) for line in doc.text.split("\n")] if doc.text else []
    for stage in reversed(stages):
        removed = sorted((e for e in doc.edits if e.stage == stage and e.action == "removed" and e.line), key=_line)
        for edit in removed:
            lines.insert(_line(edit) - 1, ExplainedLine(edit.before, edit))
    return lines


def _line(edit: Edit) -> int:
    return edit.line or 0


def render(doc: Document, console: Console, *, only_removed: bool = False) -> None:
    """Print ``doc``: kept lines as they are, removed lines struck through with their rule in the margin."""
    console.print(Text(f"# {doc.id}  {doc.title or ''}".rstrip(), style="bold"))
    for number, line in enumerate(explain(doc), start=1):
        if line.edit is None:
            if not only_removed:
                console.print(Text(f"{number:>5}   {line.text}"), soft_wrap=True)
            continue
        if not line.text.strip() and only_removed:
            continue
        console.print(_removed_line(number, line), soft_wrap=True)
    for flag in doc.flags:
        console.print(Text(f"flag {flag.code} ({flag.stage}): {flag.detail}", style="yellow"))


def _removed_line(number: int, line: ExplainedLine) -> Text:
    assert line.edit is not None
    why = f"{line.edit.stage}:{line.edit.rule}"
    if line.edit.plugin:
        why += f" [{line.edit.plugin}]"
    text = Text(f"{number:>5} - ", style="red")
    text.append(line.text, style="red strike")
    text.append(f"   <- {why}", style="cyan")
    return text


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
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
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
    """Show FILE's documents with every removed line and the rule that removed it.

    FILE is a documents file normkit wrote (JSON Lines with edits); any other input is cleaned first.
    """
    console = Console(force_terminal=color, no_color=color is False, highlight=False)
    for item in _documents(file, config_path):
        if isinstance(item, Reject):
            console.print(Text(f"rejected: {item.message()}", style="bold red"))
        elif doc_id is None or item.id == doc_id:
            render(item, console, only_removed=only_removed)
