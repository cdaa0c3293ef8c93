"""Entry-point discovery with a real installed distribution (the ``plugin-install`` tox env installs it).

Skipped where ``normkit-sample-plugin`` is not installed; tox's plugin-install env always installs it.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys

import pytest

try:
    importlib.metadata.distribution("normkit-sample-plugin")
except importlib.metadata.PackageNotFoundError:
    pytest.skip("normkit-sample-plugin is not installed (tox -e plugin-install)", allow_module_level=True)


def plugins_json(*args: str, load: str | None) -> dict[str, dict]:
    env = {k: v for k, v in os.environ.items() if k != "NORMKIT_LOAD_PLUGINS"}
    if load is not None:
        env["NORMKIT_LOAD_PLUGINS"] = load
    out = subprocess.run(
        [sys.executable, "-m", "normkit", "plugins", "--json", *args], env=env, check=True, capture_output=True
    ).stdout
    return {row["name"]: row for row in json.loads(out)}


def test_entry_point_plugin_is_listed_with_its_version_and_hooks() -> None:
    row = plugins_json(load=None)["sample"]
    assert {k: v for k, v in row.items() if k != "components"} == {
        "name": "sample",
        "version": "1.2.3",
        "builtin": False,
        "hooks": ["normkit_register_stages"],
    }
    assert row["components"]["stage"] == ["keyword_flag"] and not row["components"]["exporter"]


def test_load_plugins_env_selects_entry_points() -> None:
    assert "sample" in plugins_json(load="sample")
    assert "sample" in plugins_json(load="normkit-sample-plugin")
    assert plugins_json(load="") == {}


def test_a_load_plugins_name_that_matches_no_entry_point_is_named() -> None:
    env = {**os.environ, "NORMKIT_LOAD_PLUGINS": "sampel"}
    run = subprocess.run(
        [sys.executable, "-m", "normkit", "plugins", "--json"], env=env, capture_output=True, text=True
    )
    assert (
        run.returncode == 2 and "sampel" in run.stderr and "sample" in run.stderr and len(run.stderr.splitlines()) == 1
    )


def test_disable_plugin_blocks_an_entry_point() -> None:
    assert "sample" not in plugins_json("--disable-plugin", "sample", load=None)


def test_entry_point_stage_runs_when_listed_in_the_pipeline(tmp_path) -> None:
    (tmp_path / "normkit.toml").write_text('pipeline = ["whitespace", "keyword_flag"]\n')
    (tmp_path / "in.jsonl").write_text('{"id": "a", "text": "Iran said"}\n')
    env = {k: v for k, v in os.environ.items() if k != "NORMKIT_LOAD_PLUGINS"}
    subprocess.run(
        [sys.executable, "-m", "normkit", "run", "in.jsonl", "-o", "out", "-q"], cwd=tmp_path, env=env, check=True
    )
    record = json.loads((tmp_path / "out" / "documents.jsonl").read_text())
    assert record["flags"] == [{"code": "keyword", "stage": "keyword_flag", "detail": "Iran"}]
