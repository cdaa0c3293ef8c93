"""The ``normkit validate`` and ``normkit schemas`` commands: check files against the schemas, list them.

``validate`` exits 0 when every record of every file is valid, 1 when any is not (each error printed as
``file:line: pointer: message (rule)``, or one JSON object per line with ``--format json``), and 2 on usage
errors: a missing file, an unknown file format, an unknown or invalid schema, a ``$ref`` outside normkit.
"""

from __future__ import annotations

import json
import sys

import click

from normkit.checkfiles import FileCheck, Problem
from normkit.exits import errors_to_exit_codes
from normkit.validate import list_schemas, load_schema, schema_source

__all__ = ["schemas", "validate"]


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--schema", metavar="NAME|PATH", help="Check against this schema instead of the one the file names.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="How to print errors.")
@click.option("-q", "--quiet", is_flag=True, help="No summary line on stderr.")
@errors_to_exit_codes
def validate(files: tuple[str, ...], schema: str | None, fmt: str, quiet: bool) -> None:
    """Check FILES (.jsonl, .json, .csv, .parquet; .gz/.zst too) against normkit's JSON Schemas.

    The schema comes from --schema, else from the file: the schema a Parquet file names in its metadata,
    rejects.jsonl -> reject, report.json -> report, documents.dolma.jsonl -> dolma, *.csv -> csv, and
    document for anything else. Exits 0 when all is valid, 1 when not, 2 on usage errors.
    """
    checks = [FileCheck(path, schema) for path in files]  # usage errors first, before any output
    errors = 0
    for check in checks:
        for problem in check.problems():
            errors += 1
            click.echo(_render(problem, fmt))
    if not quiet:
        records = sum(check.records for check in checks)
        click.echo(f"normkit: {len(checks)} file(s), {records} record(s), {errors} error(s)", err=True)
    sys.exit(1 if errors else 0)


def _render(problem: Problem, fmt: str) -> str:
    return json.dumps(problem.to_dict(), ensure_ascii=False) if fmt == "json" else str(problem)


@click.command()
@click.argument("name", required=False)
@errors_to_exit_codes
def schemas(name: str | None) -> None:
    """List normkit's JSON Schemas, or print schema NAME (e.g. document, dolma, reject)."""
    if name is not None:
        load_schema(name)  # an unknown name is a usage error, an invalid schema too
        click.echo(schema_source(name)[0], nl=False)
        return
    for known in list_schemas():
        schema = load_schema(known)
        click.echo(f"{known:<10} {schema.get('$id', '')}  {schema.get('title', '')}")
