"""Shared fixtures; normkit's own testing plugin gives ``normkit_pm``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest_plugins = ["normkit.testing"]

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_d44c365b91d9de36.txt"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests see no plugins from the machine and no normkit.toml from the checkout."""
    monkeypatch.setenv("NORMKIT_LOAD_PLUGINS", "")
    monkeypatch.delenv("NORMKIT_TRACE_PLUGINS", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def seed_dir(tmp_path: Path) -> Path:
    """A folder holding a copy of the seed article."""
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    return folder
