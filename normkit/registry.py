"""Which components exist, under which names, and which plugin owns each.

Components are kept as :class:`Registered` records (the component and its owner); nothing is written onto a
registered class, so two pipelines in one process never see each other's stamps. The registry calls every
``normkit_register_*`` implementation one plugin at a time, through pluggy (``subset_hook_caller``, so hook
wrappers, ordering and ``NORMKIT_TRACE_PLUGINS`` see the calls), with a ``register`` callable bound to that
plugin: each component is recorded with its owner and a name clash can name both plugins instead of
silently letting the last one win.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

from normkit.errors import ConfigError, DuplicateComponentError, PluginError, SchemaError
from normkit.validate import is_schema_path, list_schemas

if TYPE_CHECKING:
    import pluggy

    from normkit.components import Exporter, Loader, Profile, SchemaFile, Stage
    from normkit.executors import Executor

__all__ = ["KINDS", "LISTING_ERRORS", "Registered", "Registry", "components_by_owner", "plugin_calls"]

T = TypeVar("T")


@dataclass(frozen=True)
class Registered(Generic[T]):
    """One registered component (a class, or a profile) and the plugin that registered it."""

    component: T
    owner: str


#: component kind -> the hook that registers it.
KINDS: dict[str, str] = {
    "loader": "normkit_register_loaders",
    "stage": "normkit_register_stages",
    "exporter": "normkit_register_exporters",
    "profile": "normkit_register_profiles",
    "executor": "normkit_register_executors",
    "schema": "normkit_register_schemas",
}


class Registry:
    """Components by kind and name, with the plugin that registered each."""

    def __init__(self) -> None:
        self._items: dict[str, dict[str, Registered[Any]]] = {kind: {} for kind in KINDS}

    @classmethod
    def from_plugin_manager(cls, pm: pluggy.PluginManager) -> Registry:
        registry = cls()
        for kind, hook_name in KINDS.items():
            for plugin, call in plugin_calls(pm, hook_name):
                call(register=registry.registrar(kind, plugin))
        return registry

    def registrar(self, kind: str, plugin: str) -> Callable[[Any], None]:
        """The ``register`` callable handed to one plugin's ``normkit_register_<kind>s`` implementation."""

        def register(component: Any) -> None:
            self.add(kind, component, plugin)

        return register

    def add(self, kind: str, component: Any, plugin: str) -> None:
        name = getattr(component, "name", "")
        if not name:
            raise PluginError(f"registered a {kind} without a name: {component!r}", plugin=plugin)
        if kind == "schema" and name in list_schemas():
            raise PluginError(f"registered schema {name!r}, which is one of normkit's own", plugin=plugin)
        if name in self._items[kind]:
            raise DuplicateComponentError(kind, name, self._items[kind][name].owner, plugin)
        if dataclasses.is_dataclass(component) and not isinstance(component, type):
            component = dataclasses.replace(component, plugin=plugin)  # a profile: a value, copied with its owner
        self._items[kind][name] = Registered(component, plugin)

    @overload
    def get(self, kind: Literal["stage"], name: str) -> type[Stage]: ...
    @overload
    def get(self, kind: Literal["loader"], name: str) -> type[Loader]: ...
    @overload
    def get(self, kind: Literal["exporter"], name: str) -> type[Exporter]: ...
    @overload
    def get(self, kind: Literal["executor"], name: str) -> type[Executor]: ...
    @overload
    def get(self, kind: Literal["profile"], name: str) -> Profile: ...
    @overload
    def get(self, kind: Literal["schema"], name: str) -> SchemaFile: ...
    @overload
    def get(self, kind: str, name: str) -> Any: ...

    def get(self, kind: str, name: str) -> Any:
        """The component registered as ``name``; a one-line error listing the known names when there is none."""
        try:
            return self._items[kind][name].component
        except KeyError:
            known = ", ".join(sorted(self._items[kind])) or "none"
            raise ConfigError(f"unknown {kind} {name!r} (known: {known})") from None

    def names(self, kind: str) -> list[str]:
        return list(self._items[kind])

    def all(self, kind: str) -> list[Any]:
        return [record.component for record in self._items[kind].values()]

    def owner(self, kind: str, name: str) -> str:
        return self._items[kind][name].owner

    def schema(self, name: str) -> str:
        """What to validate against for schema ``name``: a plugin's schema file, else normkit's own by name.

        The validators take either, and cache them per process; only this registry knows a plugin's files.
        """
        record = self._items["schema"].get(name)
        if record is not None:
            return str(record.component.path)
        if name in list_schemas() or is_schema_path(name):
            return name
        raise SchemaError(f"unknown schema {name!r} (known: {', '.join(self.schema_names())})")

    def schema_names(self) -> list[str]:
        """normkit's own schemas and the plugins', sorted."""
        return sorted({*list_schemas(), *self._items["schema"]})


#: the key under which :func:`components_by_owner` puts a plugin's registration failures
LISTING_ERRORS = "errors"


def components_by_owner(pm: pluggy.PluginManager) -> dict[str, dict[str, list[str]]]:
    """Plugin -> kind -> the names of the components it registers, in registration order.

    What ``normkit plugins`` lists. Unlike :meth:`Registry.from_plugin_manager`, a name that two plugins
    register is listed under both instead of stopping with an error: the listing is where a clash is looked into.
    """
    found: dict[str, dict[str, list[str]]] = {}
    for kind, hook_name in KINDS.items():
        for plugin, call in plugin_calls(pm, hook_name):
            names = found.setdefault(plugin, {}).setdefault(kind, [])
            try:
                call(register=functools.partial(_append_name, names))
            except PluginError as exc:  # listed with what failed: the listing is where one looks into it
                found[plugin].setdefault(LISTING_ERRORS, []).append(str(exc))
    return found


def _append_name(names: list[str], component: Any) -> None:
    names.append(str(getattr(component, "name", "") or repr(component)))


def plugin_calls(pm: pluggy.PluginManager, hook_name: str) -> Iterator[tuple[str, Callable[..., None]]]:
    """Each plugin implementing ``hook_name``, with a callable that calls that hook on that plugin alone.

    In registration order (pluggy *calls* implementations in reverse): builtins come first, so a clash names
    the builtin as the first owner. Hook wrappers are not plugins' own implementations and are left out. What
    a call raises, other than normkit's own errors, becomes a :class:`PluginError` naming the plugin and hook.
    """
    impls = [i for i in getattr(pm.hook, hook_name).get_hookimpls() if not (i.hookwrapper or i.wrapper)]
    owners = {id(impl.plugin): impl for impl in impls}  # each plugin once, however many impls it has
    for impl in owners.values():
        yield (
            impl.plugin_name,
            functools.partial(_guarded, _caller(pm, hook_name, impl, impls), impl.plugin_name, hook_name),
        )


def _guarded(call: Callable[..., Any], plugin: str, hook_name: str, **kwargs: Any) -> None:
    """``call(**kwargs)``; a failure that is not normkit's own error is one line naming the plugin and hook."""
    try:
        call(**kwargs)
    except (DuplicateComponentError, ConfigError):
        raise
    except Exception as exc:
        raise PluginError(f"failed: {exc!r}", plugin=plugin, hook=hook_name) from exc


def _caller(pm: pluggy.PluginManager, hook_name: str, impl: Any, impls: list[Any]) -> Callable[..., Any]:
    """The hook ``hook_name`` called on ``impl``'s plugin alone, through pluggy when pluggy can single it out.

    ``subset_hook_caller`` leaves out plugins by attribute name and keeps them in a set: a plugin that
    implements the hook under another name (``specname``) or cannot be hashed would be called with the others,
    or not at all. Then its implementations are called directly, in pluggy's order.
    """
    own = [i for i in impls if i.plugin is impl.plugin]
    try:
        call = pm.subset_hook_caller(hook_name, remove_plugins=[i.plugin for i in impls if i.plugin is not impl.plugin])
        called = [i for i in call.get_hookimpls() if not (i.hookwrapper or i.wrapper)]
    except TypeError:  # an unhashable plugin object
        called = []
    if len(called) == len(own) and all(i.plugin is impl.plugin for i in called):
        return call

    def direct(**kwargs: Any) -> None:
        for one in reversed(own):  # pluggy calls the latest registered first
            one.function(**kwargs)

    return direct
