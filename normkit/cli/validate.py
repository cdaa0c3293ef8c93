"""The ``normkit validate`` and ``normkit schemas`` commands: check files against the schemas, list them.

``validate`` exits 0 when every record of every file is valid, 1 when any is not (each error printed as
``file:line: pointer: message (rule)``, or one JSON object per line with ``--format json``), and 2 on usage
errors: a missing file, an unknown file format, an unknown or invalid schema, a ``$ref`` outside normkit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from normkit.checkfiles import FileCheck, Problem, Readers, files_to_check
from normkit.cli.errors import errors_to_exit_codes
from normkit.config import load_config
from normkit.errors import NormkitError
from normkit.plugins import plugin_options, plugin_spec
from normkit.registry import Registry
from normkit.validate import load_schema, schema_source

__all__ = ["schemas", "validate"]

_CONFIG = click.option(
    "--config", "config_path", type=click.Path(dir_okay=False), help="Configuration whose [plugins] to load."
)


def _registry(config_path: str | None, plugins_dirs: tuple[str, ...], disabled: tuple[str, ...]) -> Registry:
    """The components of the plugins a run would load (the configuration's ``[plugins]`` and the options):
    exporters read files back, plugins add schemas."""
    return Registry.from_plugin_manager(plugin_spec(load_config(config_path), plugins_dirs, disabled).build())


def _checks(targets: tuple[str, ...], readers: Readers, schema: str | None) -> tuple[list[FileCheck], int]:
    """A check per file (``--schema`` for the files named, never for what a folder holds: its report and
    rejects have schemas of their own), and how many files of folders no exporter reads."""
    checks, skipped = [], 0
    for target in targets:
        paths, left_out = files_to_check(target, readers)
        if Path(target).is_dir() and not paths:
            raise NormkitError(f"{target}: no file an exporter reads (is this an output folder?)")
        checks += [FileCheck(path, readers, None if Path(target).is_dir() else schema) for path in paths]
        skipped += len(left_out)
    return checks, skipped


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--schema", metavar="NAME|PATH", help="Check against this schema instead of the one the file names.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="How to print errors.")
@click.option("-q", "--quiet", is_flag=True, help="No summary line on stderr.")
@_CONFIG
@plugin_options
@errors_to_exit_codes
def validate(
    files: tuple[str, ...],
    schema: str | None,
    fmt: str,
    quiet: bool,
    config_path: str | None,
    plugins_dirs: tuple[str, ...],
    disabled: tuple[str, ...],
) -> None:
    """Check FILES (.jsonl, .json, .csv, .parquet, a plugin exporter's files; .gz/.zst too) against their
    JSON Schemas. A folder (an output folder) means every file in it that an exporter reads back; one with
    none is a usage error.

    The schema comes from --schema, else from the file: the schema a Parquet file names in its metadata,
    rejects.jsonl -> reject, report.json -> report, learned-boilerplate.json -> learned-boilerplate,
    documents.dolma.jsonl -> dolma, and else the schema of the exporter that reads the file (*.csv -> csv,
    document for JSON). Exits 0 when all is valid, 1 when not, 2 on usage errors.
    """
    checks, skipped = _checks(files, Readers(_registry(config_path, plugins_dirs, disabled)), schema)
    errors = 0  # the checks are built first: usage errors come before any output
    for check in checks:
        for problem in check.problems():
            errors += 1
            click.echo(_render(problem, fmt))
    if not quiet:
        records = sum(check.records for check in checks)
        left_out = f", {skipped} file(s) no exporter reads left out" if skipped else ""
        click.echo(f"normkit: {len(checks)} file(s), {records} record(s), {errors} error(s){left_out}", err=True)
    sys.exit(1 if errors else 0)


def _render(problem: Problem, fmt: str) -> str:
    return json.dumps(problem.to_dict(), ensure_ascii=False) if fmt == "json" else str(problem)


@click.command()
@click.argument("name", required=False)
@_CONFIG
@plugin_options
@errors_to_exit_codes
def schemas(
    name: str | None, config_path: str | None, plugins_dirs: tuple[str, ...], disabled: tuple[str, ...]
) -> None:
    """List the JSON Schemas (normkit's and the plugins'), or print schema NAME (e.g. document, reject)."""
    registry = _registry(config_path, plugins_dirs, disabled)
    if name is not None:
        load_schema(registry.schema(name))  # an unknown name is a usage error, an invalid schema too
        click.echo(schema_source(registry.schema(name))[0], nl=False)
        return
    for known in registry.schema_names():
        schema = load_schema(registry.schema(known))
        click.echo(f"{known:<20} {schema.get('$id', '')}  {schema.get('title', '')}")
