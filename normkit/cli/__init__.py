"""The ``normkit`` command line: ``run``, ``explain``, ``validate``, ``schemas``, ``plugins``, ``config`` and
``report`` (one module each in this package), and the commands plugins add.

Exit codes: 0 when every input went through, 1 when some were rejected (or a check failed), 2 on usage and
configuration errors, 3 when the accounting check fails (documents neither written nor rejected: a bug), 4
when the output's disk is full (run again to resume), 5 when the learning pass could not observe every part,
130 when interrupted. A :class:`~normkit.errors.NormkitError` becomes one line on stderr, never a traceback.
"""

from __future__ import annotations

import click

from normkit.cli.config import config_command
from normkit.cli.explain import explain_command
from normkit.cli.plugins import plugins
from normkit.cli.report import report_command
from normkit.cli.run import run
from normkit.cli.validate import schemas, validate
from normkit.errors import NormkitError
from normkit.plugins import get_plugin_manager

__all__ = ["NormkitGroup", "cli", "main"]


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
    """Turn messy documents into clean, validated records.

    \b
    Exit codes:
      0  every input went through
      1  some inputs were rejected (see rejects.jsonl), or validate found errors
      2  usage or configuration error
      3  accounting check failed (a bug: please report it)
      4  the output's disk is full (run the same command again to resume)
      5  the learning pass could not observe every part
      130  interrupted (Ctrl-C); the same command resumes
    """


for command in (run, explain_command, validate, schemas, plugins, config_command, report_command):
    cli.add_command(command)


def main() -> None:
    cli()
