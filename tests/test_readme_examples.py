"""Every Python example in README.md runs as written, as a script of its own (``python example.py``).

A script is the strictest way to run one: no ``if __name__ == "__main__":`` guard around ``run_batch``, so
the pool's workers must start without importing the script again (see ``plugins/executor_pool.py``). The
files an example reads are made first, with invented text, in a fresh folder it runs in; what it promises to
write is checked afterwards. Python blocks of docs/*.md that are scripts on their own run the same way;
those naming a module file (``# my_plugins/...``: tests/test_docs_plugins.py runs them through ``normkit``),
a test, or files to read are left to their own tests.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
#: a string that names a file or folder relative to the working directory ("out/", "data/x.txt")
_RELATIVE_PATH = re.compile(r"[\w.-]+/[\w./-]*")


@dataclass
class Needs:
    """What an example reads (made before it runs) and the run_batch outputs it promises (checked after)."""

    files: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)


def python_blocks(path: Path) -> list[str]:
    return _BLOCK.findall(path.read_text(encoding="utf-8"))


def needs(code: str) -> Needs:
    """The literal paths an example passes to ``open(...)`` and to ``run_batch(inputs, output, ...)``."""
    found = Needs()
    for node in ast.walk(ast.parse(code)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if callee == "open" and isinstance(node.args[0], ast.Constant):
            found.files.append(str(node.args[0].value))
        if callee == "run_batch" and len(node.args) >= 2:
            found.inputs += [
                str(item.value) for item in getattr(node.args[0], "elts", []) if isinstance(item, ast.Constant)
            ]
            if isinstance(node.args[1], ast.Constant):
                found.outputs.append(str(node.args[1].value))
    return found


def stands_alone(code: str) -> bool:
    """A docs block that is a script on its own: not a named module file, not a test, every import found,
    and no relative path to read or write."""
    first = code.lstrip().splitlines()[0] if code.strip() else ""
    if re.match(r"#\s*[\w./-]+\.py\b", first) or "def test_" in code or "pytest_plugins" in code:
        return False
    tree = ast.parse(code)
    strings = [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)]
    if any(_RELATIVE_PATH.fullmatch(text) for text in strings):
        return False
    modules = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    modules += [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module]
    return all(importlib.util.find_spec(module.split(".")[0]) is not None for module in modules)


def examples() -> list[pytest.param]:
    found = [pytest.param(code, id=f"README.md-{i}") for i, code in enumerate(python_blocks(ROOT / "README.md"))]
    for page in sorted((ROOT / "docs").glob("*.md")):
        blocks = enumerate(python_blocks(page))
        found += [pytest.param(code, id=f"{page.name}-{i}") for i, code in blocks if stands_alone(code)]
    return found


def make_inputs(needed: Needs, folder: Path) -> int:
    """The files and folders an example reads, with invented text; returns how many documents run_batch gets."""
    for name in needed.files:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("An invented headline\n\nThe invented ferry ran all winter, and the islanders were glad.\n")
    documents = 0
    for name in needed.inputs:
        path = folder / name
        if name.endswith("/") or not path.suffix:
            path.mkdir(parents=True, exist_ok=True)
            for i in range(3):
                text = f"Invented notice {i}\n\nThe invented library opens at {i + 8} on weekdays, said the clerk.\n"
                (path / f"notice{i}.txt").write_text(text)
            documents += 3
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("Invented notice\n\nThe invented library opens at nine on weekdays.\n")
            documents += 1
    return documents


def test_readme_has_the_library_example() -> None:
    assert any("run_batch(" in code for code in python_blocks(ROOT / "README.md"))


@pytest.mark.parametrize("code", examples())
def test_example_runs_as_written(code: str, tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    needed = needs(code)
    documents = make_inputs(needed, tmp_path)
    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr
    for name in needed.outputs:  # what the README says a run leaves in its output folder
        out = tmp_path / name
        assert {"documents.jsonl", "rejects.jsonl", "report.json"} <= {path.name for path in out.iterdir()}
        report = json.loads((out / "report.json").read_text(encoding="utf-8"))
        assert report["documents"]["rejected"] == 0 and (out / "rejects.jsonl").read_bytes() == b""
        assert report["documents"]["written"] == documents
        assert len((out / "documents.jsonl").read_bytes().splitlines()) == documents
