"""Building the plugin manager: builtins, entry points, ``--plugins-dir``, blocking and tracing.

Nothing is loaded at import time: :func:`get_plugin_manager` is a factory, and :class:`PluginSpec` is the
picklable recipe that lets a worker process (or a Dask worker) rebuild the same manager by plugin names
instead of pickling it.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import os
import stat
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

import click
import pluggy

from normkit import hookspecs
from normkit.config import did_you_mean
from normkit.errors import ConfigError, PluginError
from normkit.registry import LISTING_ERRORS, components_by_owner, plugin_calls
from normkit.writers import file_kind

if TYPE_CHECKING:
    from normkit.config import Config

F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "COMPONENT_KINDS",
    "DEFAULT_PLUGINS",
    "ENTRYPOINT_GROUP",
    "ESSENTIAL_PLUGINS",
    "PluginSpec",
    "get_plugin_manager",
    "list_plugins",
    "plugin_components",
    "plugin_options",
    "plugin_spec",
    "plugins_digest",
]

ENTRYPOINT_GROUP = "normkit"

#: normkit's own plugins, registered through the same manager as everyone else's (pytest does the same).
#: The plugin's name is the module's last component, which is what --disable-plugin takes.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "normkit_plugins.loader_text",
    "normkit_plugins.loader_jsonl",
    "normkit_plugins.loader_wet",
    "normkit_plugins.loader_parquet",
    "normkit_plugins.stage_decode",
    "normkit_plugins.stage_fix_text",
    "normkit_plugins.stage_whitespace",
    "normkit_plugins.stage_headline",
    "normkit_plugins.stage_boilerplate",
    "normkit_plugins.profile_newarab",
    "normkit_plugins.exporter_jsonl",
    "normkit_plugins.executor_inprocess",
    "normkit_plugins.executor_pool",
    "normkit_plugins.executor_dask",
    "normkit_plugins.exporter_json",
    "normkit_plugins.exporter_dolma",
    "normkit_plugins.exporter_hf",
    "normkit_plugins.exporter_csv",
    "normkit_plugins.exporter_text",
    "normkit_plugins.exporter_markdown",
    "normkit_plugins.exporter_parquet",
)


#: the builtins' plugin names: a --plugins-dir file named like one is refused, naming both files.
_BUILTIN_NAMES = frozenset(module.rsplit(".", 1)[-1] for module in DEFAULT_PLUGINS)

#: builtins a run cannot do without (the fallback loader, the default format and executor): never blocked.
ESSENTIAL_PLUGINS: frozenset[str] = frozenset({"loader_text", "exporter_jsonl", "executor_inprocess"})


@dataclass(frozen=True)
class PluginSpec:
    """How to build a plugin manager; small and picklable so every worker builds the same one."""

    load_entrypoints: bool = True
    plugins_dirs: tuple[str, ...] = ()
    disabled: tuple[str, ...] = ()
    extra: tuple[str, ...] = field(default=())  # importable module names, registered after the rest

    def build(self) -> pluggy.PluginManager:
        return get_plugin_manager(
            load_entrypoints=self.load_entrypoints,
            plugins_dirs=self.plugins_dirs,
            disabled=self.disabled,
            extra=self.extra,
        )


def plugin_options(func: F) -> F:
    """``--plugins-dir`` and ``--disable-plugin``, for every command that builds a plugin manager."""
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


def plugin_spec(config: Config | None, plugins_dirs: tuple[str, ...], disabled: tuple[str, ...]) -> PluginSpec:
    """The spec the command line asks for: the configuration's ``[plugins]`` table, then the options."""
    table: Mapping[str, Any] = config.plugins if config is not None else {}
    return PluginSpec(
        plugins_dirs=(*(config.plugin_dirs() if config is not None else ()), *plugins_dirs),
        disabled=(*table.get("disable", ()), *disabled),
    )


def get_plugin_manager(
    *,
    load_entrypoints: bool = True,
    plugins_dirs: tuple[str, ...] | list[str] = (),
    disabled: tuple[str, ...] | list[str] = (),
    extra: tuple[str, ...] | list[str] = (),
) -> pluggy.PluginManager:
    """A manager with the hookspecs, the builtins, then entry-point and ``--plugins-dir`` plugins.

    ``disabled`` names are blocked before anything registers, so a disabled plugin's hooks are never seen.
    ``NORMKIT_LOAD_PLUGINS`` (a comma list of entry-point names; ``""`` for none) narrows which entry
    points load; ``NORMKIT_TRACE_PLUGINS=1`` prints every hook call to stderr.
    """
    pm = pluggy.PluginManager("normkit")
    pm.add_hookspecs(hookspecs)
    for name in disabled:
        if name in ESSENTIAL_PLUGINS:
            raise PluginError("plugin cannot be disabled: normkit needs it", plugin=name)
        pm.set_blocked(name)
    for module_name in DEFAULT_PLUGINS:
        _register(pm, importlib.import_module(module_name), module_name.rsplit(".", 1)[-1])
    if load_entrypoints:
        _load_entrypoints(pm)
    for directory in plugins_dirs:
        _load_plugins_dir(pm, Path(directory))
    for module_name in extra:
        _register(pm, importlib.import_module(module_name), module_name)
    _check_names(disabled, plugins_dirs, extra, load_entrypoints)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:  # it carries the plugin object; its name is the manager's
        raise PluginError(str(exc), plugin=pm.get_name(exc.plugin)) from exc
    if os.environ.get("NORMKIT_TRACE_PLUGINS"):
        _trace(pm)
    return pm


def _check_names(
    disabled: Sequence[str], plugins_dirs: Sequence[str], extra: Sequence[str], load_entrypoints: bool
) -> None:
    """A disabled name, or a ``NORMKIT_LOAD_PLUGINS`` name, that no plugin has is a typo: a one-line error.

    Checked once everything is registered, against every plugin name there is (builtins, entry points,
    ``--plugins-dir`` files, extra modules), blocked or not: a disabled plugin is never registered.
    """
    entry_points = list(importlib.metadata.entry_points(group=ENTRYPOINT_GROUP))
    names = {*_BUILTIN_NAMES, *extra, *(ep.name for ep in entry_points)}
    names.update(path.stem for directory in plugins_dirs for path in _plugin_files(Path(directory)))
    for name in disabled:
        if name not in names:
            raise ConfigError(
                f"plugins.disable (or --disable-plugin): no plugin named {name!r}{did_you_mean(name, names)}"
            )
    wanted = _wanted_entrypoints() if load_entrypoints else None
    known = {ep.name for ep in entry_points} | {ep.dist.name for ep in entry_points if ep.dist is not None}
    for name in sorted(wanted or ()):
        if name not in known:
            hint = did_you_mean(name, known) or (f" (entry points: {', '.join(sorted(known))})" if known else "")
            raise ConfigError(f"NORMKIT_LOAD_PLUGINS: no plugin entry point named {name!r}{hint}")


def _register(pm: pluggy.PluginManager, plugin: object, name: str) -> None:
    if pm.is_blocked(name):
        return
    try:
        pm.register(plugin, name=name)
    except pluggy.PluginValidationError as exc:
        raise PluginError(str(exc), plugin=name) from exc
    except ValueError as exc:  # the name, or the module under another name, registered already
        other = pm.get_plugin(name)
        where = getattr(other, "__file__", None) or getattr(plugin, "__file__", None) or repr(plugin)
        raise PluginError(f"cannot register {where}: {str(exc).split('=', 1)[0]}", plugin=name) from exc


def _wanted_entrypoints() -> set[str] | None:
    value = os.environ.get("NORMKIT_LOAD_PLUGINS")
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


def _load_entrypoints(pm: pluggy.PluginManager) -> None:
    wanted = _wanted_entrypoints()
    for ep in importlib.metadata.entry_points(group=ENTRYPOINT_GROUP):
        dist = ep.dist.name if ep.dist else None
        if wanted is not None and ep.name not in wanted and dist not in wanted:
            continue
        if pm.is_blocked(ep.name) or pm.get_plugin(ep.name) is not None:
            continue
        try:
            plugin = ep.load()
        except Exception as exc:
            raise PluginError(
                f"error importing entry point {ep.value!r} (distribution {dist!r}): {exc!r}", plugin=ep.name
            ) from exc
        _register(pm, plugin, ep.name)


def _load_plugins_dir(pm: pluggy.PluginManager, directory: Path) -> None:
    if not directory.is_dir():
        raise PluginError(f"plugins dir {directory} (--plugins-dir or [plugins] dirs): not a directory")
    for path in _plugin_files(directory):
        if pm.is_blocked(path.stem) or _loaded_already(pm, path):
            continue
        module = _import_file(path)
        _register(pm, module, path.stem)


def _plugin_files(directory: Path) -> list[Path]:
    """The plugin files of a ``--plugins-dir``: every ``*.py`` directly inside, in name order."""
    return sorted(path for path in directory.glob("*.py") if path.is_file())


def _loaded_already(pm: pluggy.PluginManager, path: Path) -> bool:
    """True when ``path`` itself is loaded already (its folder given twice). A plugin is named by its file's stem:
    a name taken by something else (a builtin, the same file name in another plugins dir, an entry point) is a
    one-line error naming both, before the file is imported."""
    other = pm.get_plugin(path.stem)
    if other is None:
        return False
    where = getattr(other, "__file__", None) or repr(other)
    if Path(where).resolve() == path.resolve():
        return True
    what = "a builtin plugin" if path.stem in _BUILTIN_NAMES else "another plugin"
    raise PluginError(
        f"{path}: plugin name {path.stem!r} is taken by {what} ({where}); rename the file "
        "(a plugin is named after its file) or disable the other with --disable-plugin",
        plugin=path.stem,
    )


def _import_file(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"normkit_plugins_dir.{path.stem}", path)
    if spec is None or spec.loader is None:
        raise PluginError(f"{path}: cannot be imported as a module", plugin=path.stem)
    module = importlib.util.module_from_spec(spec)
    # Registered in sys.modules so classes defined there can be pickled by reference in a worker that
    # loaded the same --plugins-dir.
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[spec.name]
        raise PluginError(f"error importing {path}: {exc!r}", plugin=path.stem) from exc
    return module


def plugins_digest(spec: PluginSpec) -> str:
    """A digest of the plugins a :class:`PluginSpec` loads, by what decides their output, for the run key.

    - every file a ``--plugins-dir`` holds, in any folder below it, by content: the plugin files, their
      packages and helper folders, their data files (``myplugin_rules.json``); never byte code or caches;
    - every plugin distribution (entry point) by distribution name and version, and the entry point itself.

    Only regular files are read (found with ``lstat``, so a FIFO or a device is never opened); a link is read
    through when it leads to a regular file, and anything else there (a dangling link, a FIFO, a socket) is
    named in the key by its path and kind. Blocked names are in the spec already. Computed anew each time (a
    few ms): a plugin file edited between two runs in one process must change the key.
    """
    digest = hashlib.blake2b(digest_size=16)
    for directory in spec.plugins_dirs:
        folder = Path(directory)
        digest.update(f"dir\0{folder.resolve()}\0".encode())
        for path, kind in _dir_files(folder):
            name = path.relative_to(folder).as_posix()
            if kind != "file":
                digest.update(f"{name}\0{kind}\0".encode())
                continue
            data = _read_regular(path)
            if data is None:  # gone, unreadable or swapped for something else since the walk: named, not read
                digest.update(f"{name}\0unreadable\0".encode())
                continue
            digest.update(f"{name}\0{len(data)}\0".encode())
            digest.update(data)
    if spec.load_entrypoints:
        wanted = _wanted_entrypoints()
        for ep in sorted(importlib.metadata.entry_points(group=ENTRYPOINT_GROUP), key=lambda ep: (ep.name, ep.value)):
            dist = ep.dist.name if ep.dist else None
            if (wanted is not None and ep.name not in wanted and dist not in wanted) or ep.name in spec.disabled:
                continue
            version = ep.dist.version if ep.dist else None
            digest.update(f"entry point\0{ep.name}\0{ep.value}\0{dist}\0{version}\0".encode())
    return digest.hexdigest()


#: files of a plugins dir that are not the plugins' own: byte code, caches, version control, editor droppings.
_NOT_PLUGIN_FILES = frozenset({"__pycache__", ".git", ".hg", ".svn", ".mypy_cache", ".pytest_cache", ".ruff_cache"})


def _dir_files(folder: Path) -> list[tuple[Path, str]]:
    """Every file under ``folder`` but byte code and caches, in name order, each with its kind: ``file`` (a
    regular file, or a link to one: safe to read), else what it is (``dangling link``, ``FIFO``...)."""
    if not folder.is_dir():
        return []
    found: list[tuple[Path, str]] = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in _NOT_PLUGIN_FILES)
        for name in [d for d in dirs if Path(root, d).is_symlink()]:  # not walked into: named by where it leads
            found.append((Path(root, name), f"link to a folder: {os.readlink(Path(root, name))}"))
        for name in sorted(names):
            if not name.endswith((".pyc", ".pyo")):
                path = Path(root) / name
                found.append((path, _file_kind(path)))
    return found


def _file_kind(path: Path) -> str:
    """``file`` when ``path`` is a regular file or a link to one; otherwise what it is, in a few words."""
    try:
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            try:
                mode = path.stat().st_mode
            except OSError:
                return f"dangling link to {os.readlink(path)}"
            if not stat.S_ISREG(mode):
                return f"link to {file_kind(mode)}: {os.readlink(path)}"
    except OSError as error:
        return f"unreadable {error.errno}"
    return "file" if stat.S_ISREG(mode) else file_kind(mode)


def _read_regular(path: Path) -> bytes | None:
    """The bytes of ``path`` if it is (still) a regular file; opened without waiting, so a FIFO never hangs."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        with os.fdopen(fd, "rb") as stream:
            fd = -1
            return stream.read()
    except OSError:
        return None
    finally:
        if fd >= 0:
            os.close(fd)


def _trace(pm: pluggy.PluginManager) -> None:
    def before(hook_name: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, Any]) -> None:
        names = ", ".join(impl.plugin_name for impl in impls)
        print(f"normkit: hook {hook_name} -> {names}", file=sys.stderr)

    def after(outcome: Any, hook_name: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, Any]) -> None:
        pass

    pm.add_hookcall_monitoring(before, after)


#: the kinds ``normkit plugins`` lists components by, in the order it lists them.
COMPONENT_KINDS: tuple[str, ...] = ("stage", "exporter", "loader", "executor", "profile", "schema", "command")


def list_plugins(pm: pluggy.PluginManager, *, include_builtins: bool = False) -> list[dict[str, Any]]:
    """One entry per plugin: name, version, whether it is a builtin, the hooks it implements, and the names of
    the components it registers by kind (every kind of :data:`COMPONENT_KINDS`, empty when it has none): the
    hooks alone do not say which stage or format a plugin adds, which is what ``pipeline`` and ``--format``
    take."""
    builtin_names = {m.rsplit(".", 1)[-1] for m in DEFAULT_PLUGINS}
    versions = {
        ep.name: ep.dist.version
        for ep in importlib.metadata.entry_points(group=ENTRYPOINT_GROUP)
        if ep.dist is not None
    }
    owned = plugin_components(pm)
    rows = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda item: item[0]):
        builtin = name in builtin_names
        if plugin is None or (builtin and not include_builtins):  # None: a blocked name
            continue
        version = _own_version() if builtin else versions.get(name)
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        components = {kind: sorted(owned.get(name, {}).get(kind, [])) for kind in COMPONENT_KINDS}
        row = {"name": name, "version": version, "builtin": builtin, "hooks": hooks, "components": components}
        if owned.get(name, {}).get(LISTING_ERRORS):
            row["errors"] = owned[name][LISTING_ERRORS]
        rows.append(row)
    return rows


def plugin_components(pm: pluggy.PluginManager) -> dict[str, dict[str, list[str]]]:
    """Plugin -> kind -> component names: the registry's kinds, and the commands each plugin adds (found by
    handing its ``normkit_register_commands`` a scratch group, so the real command line is left as it is)."""
    owned = components_by_owner(pm)
    for plugin, call in plugin_calls(pm, "normkit_register_commands"):
        scratch = click.Group("normkit")
        call(cli=scratch)
        owned.setdefault(plugin, {})["command"] = list(scratch.commands)
    return owned


def _own_version() -> str | None:
    try:
        return importlib.metadata.version("normkit")
    except importlib.metadata.PackageNotFoundError:
        return None
