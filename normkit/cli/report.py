"""``normkit report OUT``: the review page of a run's output folder, one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path

import click

from normkit.cli.errors import errors_to_exit_codes
from normkit.review import DEFAULT_DOCUMENTS, REVIEW_NAME, write_review

__all__ = ["report_command"]


@click.command("report")
@click.argument("out", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    "target",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Where to write the page (default: OUT/{REVIEW_NAME}).",
)
@click.option(
    "--documents",
    type=click.IntRange(min=0),
    default=DEFAULT_DOCUMENTS,
    show_default=True,
    help="Documents shown before and after (those with removed lines first).",
)
@errors_to_exit_codes
def report_command(out: Path, target: Path | None, documents: int) -> None:
    """Write an HTML page for reviewing the run whose output folder is OUT.

    The page shows the counts per stage, rule, source and flag, the rejects grouped by reason, lines each rule
    removed, the lines learned per source, and a sample of documents before and after with every removal
    marked. It is one file that loads nothing: open it in any browser, or send it to a reviewer.
    """
    path = write_review(out, target, documents=documents)
    click.echo(str(path))
