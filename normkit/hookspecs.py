"""Every hook normkit calls, in the order a run meets them.

A plugin is any module or object with functions decorated ``@normkit.hookimpl`` whose names match these.
An implementation may accept a subset of a hook's arguments, so arguments can be added later without
breaking plugins. Components (loaders, stages, exporters, profiles, executors) arrive through the
``normkit_register_*`` hooks: normkit calls each plugin's implementation with a ``register`` callable that
records every component with the plugin that owns it, so errors and edits can name it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from normkit.components import Context, Exporter, Loader, Profile, Register, SchemaFile, Stage
    from normkit.executors import Executor
    from normkit.text.decoding import Decoded

hookspec = pluggy.HookspecMarker("normkit")

# -------------------------------------------------------------------------------------------------
# Registration: called once per plugin when the plugin manager is built (and again in each worker).
# -------------------------------------------------------------------------------------------------


@hookspec
def normkit_register_loaders(register: Register[type[Loader]]) -> None:
    """Called once per plugin at start-up to add loaders.

    :param register: call ``register(LoaderClass)`` for each :class:`normkit.Loader` subclass; its
        ``name`` must be unique across plugins and its ``suffixes`` say which files it reads.
    """


@hookspec
def normkit_register_stages(register: Register[type[Stage]]) -> None:
    """Called once per plugin at start-up to add pipeline stages.

    :param register: call ``register(StageClass)`` for each :class:`normkit.Stage` subclass. A stage runs
        only when its ``name`` is listed in the configured ``pipeline``.
    """


@hookspec
def normkit_register_exporters(register: Register[type[Exporter]]) -> None:
    """Called once per plugin at start-up to add output formats.

    :param register: call ``register(ExporterClass)`` for each :class:`normkit.Exporter` subclass; its
        ``name`` is what ``--format`` selects and its ``schema`` names the JSON Schema every record must pass.
    """


@hookspec
def normkit_register_profiles(register: Register[Profile]) -> None:
    """Called once per plugin at start-up to add source profiles.

    :param register: call ``register(Profile(...))`` for each :class:`normkit.Profile`: a name, the source
        keys or URL hosts it applies to, and per-stage options (e.g. extra boilerplate rules) merged over
        the configuration for documents of those sources.
    """


@hookspec
def normkit_register_executors(register: Register[type[Executor]]) -> None:
    """Called once per plugin at start-up to add executors (how shards are run: in-process, pool, ...).

    :param register: call ``register(ExecutorClass)`` for each executor; ``--executor NAME`` selects one.
    """


@hookspec
def normkit_register_schemas(register: Register[SchemaFile]) -> None:
    """Called once per plugin at start-up to add JSON Schemas: for an exporter's records, or for a file a
    stage writes beside them (the boilerplate stage's ``learned-boilerplate.json``).

    :param register: call ``register(SchemaFile(name, path))`` for each schema shipped with the plugin
        (``Path(__file__).with_name("mine.schema.json")``). ``name`` is what an exporter's ``schema``,
        ``normkit validate --schema`` and ``normkit schemas`` call it; ``normkit validate`` also checks a
        file named ``<name>.json`` or ``<name>.jsonl`` in an output folder against it. A ``$ref`` may name
        normkit's own schemas (``document.schema.json``); nothing is fetched from the network.
    """


# -------------------------------------------------------------------------------------------------
# Processing: called while documents flow.
# -------------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def normkit_detect_encoding(data: bytes, declared: str | None, context: Context) -> Decoded | None:
    """Called by the ``decode`` stage for each document that arrives as bytes.

    :param data: the raw bytes.
    :param declared: an encoding the record or configuration declares, or None.
    :param context: the run's context (configuration, plugin manager).
    :returns: a :class:`normkit.text.decoding.Decoded`, or None to let the next implementation decide.
        firstresult: stops at the first non-None result. normkit's own (chardet-based) implementation is
        ``trylast``, so a plugin can take over detection for the inputs it knows.
    """


# -------------------------------------------------------------------------------------------------
# Command line.
# -------------------------------------------------------------------------------------------------


@hookspec
def normkit_register_commands(cli: click.Group) -> None:
    """Called when the ``normkit`` command starts, to add subcommands.

    :param cli: the top-level click group; add commands with ``@cli.command()``.
    """
