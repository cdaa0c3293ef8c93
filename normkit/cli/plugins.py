"""``normkit plugins``: what is installed, at which version, implementing which hooks, registering what."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import click
import pluggy

from normkit.cli.errors import errors_to_exit_codes
from normkit.errors import DuplicateComponentError, PluginError
from normkit.plugins import COMPONENT_KINDS, get_plugin_manager, list_plugins, plugin_options
from normkit.registry import Registry

__all__ = ["plugins"]


@click.command()
@click.option("--all", "include_builtins", is_flag=True, help="Include normkit's own plugins.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@plugin_options
@errors_to_exit_codes
def plugins(include_builtins: bool, as_json: bool, plugins_dirs: tuple[str, ...], disabled: tuple[str, ...]) -> None:
    """List the installed plugins: versions, the hooks each implements and the components it registers."""
    pm = get_plugin_manager(plugins_dirs=plugins_dirs, disabled=disabled)
    rows = list_plugins(pm, include_builtins=include_builtins)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        from rich.console import Console  # only for a table: --json and the other commands start without rich
        from rich.markup import escape
        from rich.table import Table

        table = Table("plugin", "version", box=None)
        for heading in ("hooks", "components"):  # long names wrap at any character rather than lose their end
            table.add_column(heading, overflow="fold")
        for row in rows:
            components = "; ".join([describe(row["components"]), *(f"error: {e}" for e in row.get("errors", []))])
            cells = (row["name"], row["version"] or "", ", ".join(row["hooks"]), components.strip("; "))
            table.add_row(*map(escape, cells))  # text, not rich markup: an error names "[plugin/hook]"
        Console().print(table if rows else "no plugins installed (use --all to list normkit's own)")
    _warn_clash(pm)


def describe(components: Mapping[str, Sequence[str]]) -> str:
    """``stage: boilerplate; exporter: jsonl``: each kind the plugin registers something of, in listing order."""
    kinds = [kind for kind in COMPONENT_KINDS if components.get(kind)]
    return "; ".join(f"{kind}: {', '.join(components[kind])}" for kind in kinds)


def _warn_clash(pm: pluggy.PluginManager) -> None:
    """A name two plugins register stops every run: the listing still shows both, and says so on stderr."""
    try:
        Registry.from_plugin_manager(pm)
    except (DuplicateComponentError, PluginError) as exc:
        click.echo(f"normkit: warning: {exc}", err=True)
