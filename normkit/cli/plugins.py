"""``normkit plugins``: what is installed, at which version, implementing which hooks."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from normkit.cli.errors import errors_to_exit_codes
from normkit.plugins import get_plugin_manager, list_plugins, plugin_options

__all__ = ["plugins"]


@click.command()
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
