"""The first-party plugins use normkit as any plugin would: only what ``normkit`` (and its public text
library, ``normkit.text``) exports. Anything else is the engine's, free to change (as httpx's
``tests/test_exported_members.py`` keeps its surface honest)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import normkit
import normkit.text

PLUGINS = Path(__file__).resolve().parent.parent / "plugins"
PUBLIC = {"normkit": set(normkit.__all__) | {"hookimpl"}, "normkit.text": set(normkit.text.__all__)}


def _engine_imports(path: Path) -> list[tuple[int, str, str]]:
    """(line, module, name) for every name a plugin module imports from normkit."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("normkit"):
            found += [(node.lineno, str(node.module), alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name, "*") for a in node.names if a.name.startswith("normkit.")]
    return found


@pytest.mark.parametrize("path", sorted(PLUGINS.glob("*.py")), ids=lambda p: p.name)
def test_plugins_import_only_the_public_api(path: Path) -> None:
    private = [
        f"{path.name}:{line}: {module}.{name}"
        for line, module, name in _engine_imports(path)
        if name not in PUBLIC.get(module, set())
    ]
    assert not private, "plugins may import only what normkit exports"


def test_every_exported_name_exists() -> None:
    for module, names in PUBLIC.items():
        missing = [n for n in names if not hasattr(normkit if module == "normkit" else normkit.text, n)]
        assert not missing, module
