"""``normkit config``: the effective configuration and the file it came from, like ruff's ``--show-settings``.

The pipeline is built on the way, so every key is checked as ``normkit run`` checks it: ``normkit config`` is
also the quickest way to find a typo (exit 2, one line naming the key). The TOML printed is itself a valid
``normkit.toml`` holding what a run would use.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import click

from normkit.cli.errors import errors_to_exit_codes
from normkit.components import Stage
from normkit.config import (
    Config,
    config_search_folders,
    find_config_file,
    home_folder,
    is_vcs_root,
    load_config,
)
from normkit.pipeline import Pipeline
from normkit.plugins import plugin_options, plugin_spec

__all__ = ["config_command", "effective_config", "to_toml"]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


# -- the effective configuration -------------------------------------------------------------------


def effective_config(config: Config, pipeline: Pipeline) -> dict[str, Any]:
    """The file's values over the defaults: each stage's options with its schema's defaults filled in (the
    values a run starts from, before any profile), the rest of the sections as given. None values are left
    out, as TOML has no null: the JSON shows what the TOML does."""
    stages = zip(config.pipeline, pipeline.stages, strict=True)
    settings: dict[str, Any] = {
        "pipeline": list(config.pipeline),
        "stages": {name: stage_options(stage) for name, stage in stages},
        "input": config.input,
        "output": {"format": "jsonl", **config.output},
        "run": config.run,
        "plugins": config.plugins,
        "profiles": config.profiles,
    }
    return {key: _without_none(value) for key, value in settings.items()}


def _without_none(value: Any) -> Any:
    """``value`` with None left out at every depth."""
    if isinstance(value, Mapping):
        return {key: _without_none(item) for key, item in value.items() if item is not None}
    if isinstance(value, (list, tuple)):
        return [_without_none(item) for item in value if item is not None]
    return value


def stage_options(stage: Stage) -> dict[str, Any]:
    """``stage.options`` over the ``default`` of each property in its class's ``options_schema``."""
    properties: Mapping[str, Any] = type(stage).options_schema.get("properties", {})
    defaults = {key: prop["default"] for key, prop in properties.items() if "default" in prop}
    return {**defaults, **stage.options}


def _load(config_path: str | None) -> tuple[Config, list[Path]]:
    """The configuration, and the folders searched for it (none when ``--config`` named the file)."""
    if config_path is not None:
        return load_config(config_path), []
    return load_config(find_config_file(), search=False), config_search_folders()


def _where(config: Config, searched: list[Path]) -> str:
    """Where the configuration came from, for the first line: the file, or how far the search went and why
    it stopped there."""
    if config.path is not None:
        return str(Path(config.path).absolute())
    first, last = searched[0], searched[-1]
    if is_vcs_root(last):
        stop = "repository root"
    elif last == home_folder():
        stop = "home folder"
    else:
        stop = "in no repository and outside the home folder"
    span = f"only {first}" if first == last else f"from {first} up to {last}"
    return f"none found (defaults), searched {span} ({stop})"


# -- TOML ------------------------------------------------------------------------------------------


def to_toml(data: Mapping[str, Any]) -> str:
    """``data`` as TOML that :mod:`tomllib` reads back to the same mapping (None values left out).

    A small emitter rather than a dependency: configuration values are strings, numbers, booleans, lists and
    tables, and nothing else needs writing. Lists are inline arrays, tables in a list inline tables.
    """
    return "\n".join(_table((), data)).lstrip("\n") + "\n"


def _table(path: tuple[str, ...], table: Mapping[str, Any]) -> Iterator[str]:
    """A table's ``[header]`` and its key/value lines, then its subtables (TOML needs them in that order)."""
    values = {k: v for k, v in table.items() if v is not None and not isinstance(v, Mapping)}
    tables = {k: v for k, v in table.items() if isinstance(v, Mapping)}
    if path and (values or not tables):
        yield ""
        yield f"[{'.'.join(_key(part) for part in path)}]"
    for key, value in values.items():
        yield f"{_key(key)} = {_value(value)}"
    for key, sub in tables.items():
        yield from _table((*path, key), sub)


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _value(value: Any) -> str:
    """One value inline: a string, boolean, number, array or inline table."""
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # 1.5, 1e+16, inf, nan: all TOML
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()  # TOML's own date, time and date-time literals
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(item) for item in value if item is not None) + "]"
    if isinstance(value, Mapping):
        pairs = ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items() if v is not None)
        return "{ " + pairs + " }" if pairs else "{}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML: {value!r}")


def _string(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, except that TOML wants DEL escaped too."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


# -- the command -----------------------------------------------------------------------------------


@click.command("config")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Configuration file (default: found).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of TOML.")
@plugin_options
@errors_to_exit_codes
def config_command(
    config_path: str | None, as_json: bool, plugins_dirs: tuple[str, ...], disabled: tuple[str, ...]
) -> None:
    """Print the effective configuration and the file it came from; check it as a run would (exit 2 on errors).

    Without --config the file is looked for from the working directory up to the repository root or the home
    folder: the nearest normkit.toml, or pyproject.toml with a [tool.normkit] table.
    """
    config, searched = _load(config_path)
    pipeline = Pipeline(config, plugins=plugin_spec(config, plugins_dirs, disabled))
    settings = effective_config(config, pipeline)
    if as_json:
        where = {"from": str(searched[0]), "up_to": str(searched[-1])} if config.path is None else None
        file = str(Path(config.path).absolute()) if config.path is not None else None
        click.echo(
            json.dumps({"file": file, "searched": where, "config": settings}, indent=2, ensure_ascii=False, default=str)
        )
        return
    click.echo(f"# configuration: {_where(config, searched)}\n")
    click.echo(to_toml(settings), nl=False)
