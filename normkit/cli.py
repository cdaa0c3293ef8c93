"""The ``normkit`` command line: ``run``, ``plugins``, and the commands plugins add.

Exit codes: 0 when every input went through, 1 when some were rejected (or a check failed), 2 on usage and
configuration errors. A :class:`~normkit.errors.NormkitError` becomes one line on stderr, never a traceback.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from normkit.batch import BatchResult, run_batch
from normkit.config import Config, load_config
from normkit.errors import NormkitError
from normkit.plugins import PluginSpec, get_plugin_manager, list_plugins

__all__ = ["cli", "main"]

F = TypeVar("F", bound=Callable[..., Any])
stderr = Console(stderr=True)


def plugin_options(func: F) -> F:
    """``--plugins-dir`` and ``--disable-plugin``, shared by every command that builds a plugin manager."""
    func = click.option(
        "--plugins-dir",
        "plugins_dirs",
        multiple=True,
        type=click.Path(exists=True, file_okay=False),
        help="Load every .py file in DIR as a plugin (repeatable).",
    )(func)
    return click.option(
        "--disable-plugin", "disabled", multiple=True, metavar="NAME", help="Do not load plugin NAME (repeatable)."
    )(func)


def plugin_spec(config: Config, plugins_dirs: tuple[str, ...], disabled: tuple[str, ...]) -> PluginSpec:
    return PluginSpec(
        plugins_dirs=(*config.plugins.get("dirs", ()), *plugins_dirs),
        disabled=(*config.plugins.get("disable", ()), *disabled),
    )


def errors_to_exit_codes(func: F) -> F:
    """Turn a NormkitError into a one-line message and its exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except NormkitError as exc:
            click.echo(f"normkit: error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


class NormkitGroup(click.Group):
    """Adds the commands plugins register through ``normkit_register_commands`` when first asked."""

    _loaded = False

    def _load_plugin_commands(self) -> None:
        if not self._loaded:
            self._loaded = True
            try:
                get_plugin_manager().hook.normkit_register_commands(cli=self)
            except NormkitError as exc:
                click.echo(f"normkit: warning: plugin commands not loaded: {exc}", err=True)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            self._load_plugin_commands()
        return super().get_command(ctx, cmd_name)


@click.group(cls=NormkitGroup)
@click.version_option(package_name="normkit")
def cli() -> None:
    """Turn messy documents into clean, validated records."""


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", required=True, help="Output folder, or - for stdout.")
@click.option("--format", "fmt", help="Exporter to write with (default: jsonl).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Configuration file.")
@click.option("--workers", type=click.IntRange(min=0), help="Worker processes (0: one per core).")
@click.option("--fail-fast", is_flag=True, default=None, help="Stop at the first rejected document.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
@plugin_options
@errors_to_exit_codes
def run(
    inputs: tuple[str, ...],
    output: str,
    fmt: str | None,
    config_path: str | None,
    workers: int | None,
    fail_fast: bool | None,
    quiet: bool,
    plugins_dirs: tuple[str, ...],
    disabled: tuple[str, ...],
) -> None:
    """Clean INPUTS (files, folders, - for stdin; .gz/.zst too) into OUTPUT.

    Writes documents.<format>, rejects.jsonl and report.json in the OUTPUT folder.
    """
    config = load_config(config_path).with_overrides(
        output={"format": fmt}, run={"workers": workers, "fail_fast": fail_fast}
    )
    spec = plugin_spec(config, plugins_dirs, disabled)
    with _progress(quiet) as advance:
        result = run_batch(inputs, output, config, spec, workers=config.run.get("workers", 1), progress=advance)
    if not quiet:
        _print_summary(result)
    sys.exit(result.exit_code)


@contextmanager
def _progress(quiet: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A live bar of documents and MB/s on a terminal; nothing otherwise."""
    if quiet or not stderr.is_terminal:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[docs]} docs"))
    with Progress(*columns, TextColumn("{task.fields[mb]:.1f} MB"), TimeElapsedColumn(), console=stderr) as bar:
        task = bar.add_task("normkit run", total=None, docs=0, mb=0.0)

        def advance(documents: int, size: int) -> None:
            fields = bar.tasks[task].fields
            bar.update(task, docs=fields["docs"] + documents, mb=fields["mb"] + size / 1e6)

        yield advance


def _print_summary(result: BatchResult) -> None:
    docs = result.report["documents"]
    stderr.print(
        f"read {docs['read']}, written {docs['written']}, rejected {docs['rejected']}, "
        f"flagged {docs['flagged']} in {result.seconds:.2f}s"
    )
    table = Table("stage", "documents changed", "characters removed", box=None)
    for name, stage in result.report["stages"].items():
        table.add_row(name, str(stage["documents_changed"]), str(stage["chars_removed"]))
    stderr.print(table)


@cli.command()
@click.option("--all", "include_builtins", is_flag=True, help="Include normkit's own plugins.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@plugin_options
@errors_to_exit_codes
def plugins(include_builtins: bool, as_json: bool, plugins_dirs: tuple[str, ...], disabled: tuple[str, ...]) -> None:
    """List the installed plugins, their versions and the hooks each implements."""
    pm = get_plugin_manager(plugins_dirs=plugins_dirs, disabled=disabled)
    rows = list_plugins(pm, include_builtins=include_builtins)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table("plugin", "version", "hooks", box=None)
    for row in rows:
        table.add_row(row["name"], row["version"] or "", ", ".join(row["hooks"]))
    Console().print(table if rows else "no plugins installed (use --all to list normkit's own)")


def main() -> None:
    cli()
