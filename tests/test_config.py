"""Configuration: found from the working directory up, validated before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from normkit import Config, ConfigError, Pipeline, load_config
from normkit.config import DEFAULT_PIPELINE, find_config_file


def test_defaults_when_no_file(tmp_path: Path) -> None:
    config = load_config()
    assert config.pipeline == list(DEFAULT_PIPELINE)
    assert config.path is None


def test_normkit_toml_is_found_from_a_subfolder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "normkit.toml").write_text('pipeline = ["decode", "whitespace"]\n')
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    (tmp_path / ".git").mkdir()  # the search goes up to a repository's root (docs/configuration.md)
    monkeypatch.chdir(sub)
    assert find_config_file() == tmp_path / "normkit.toml"
    assert load_config().pipeline == ["decode", "whitespace"]


def test_pyproject_tool_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.normkit]\npipeline = ["decode"]\n[tool.normkit.run]\nworkers = 2\n')
    config = load_config()
    assert (config.pipeline, config.run["workers"]) == (["decode"], 2)


def test_pyproject_without_tool_table_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert find_config_file(tmp_path) is None


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("pipelin = []", "(top level): Additional properties are not allowed ('pipelin' was unexpected)"),
        ("[run]\nworkers = -1", "run.workers: -1 is less than the minimum of 0"),
        ('[input]\nsource_from = ["moon"]', "input.source_from.0: 'moon' is not one of"),
        ("pipeline = [", "invalid TOML"),
    ],
)
def test_bad_keys_and_values_are_one_line_errors_naming_them(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert message in str(info.value)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_stage_options_are_checked_against_the_stage_schema(normkit_pm) -> None:
    config = Config.from_mapping({"stages": {"headline": {"windw": 3}}})
    with pytest.raises(ConfigError, match=r"stages\.headline: Additional properties .*'windw'"):
        Pipeline(config, pm=normkit_pm)


def test_reorder_disable_and_override(normkit_pm) -> None:
    config = Config.from_mapping({"pipeline": ["whitespace", "decode"]}).with_overrides(run={"workers": 3})
    pipeline = Pipeline(config, pm=normkit_pm)
    assert [s.name for s in pipeline.stages] == ["whitespace", "decode"]
    assert config.run == {"workers": 3}


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read configuration"):
        load_config(tmp_path / "nope.toml")


def test_digest_changes_with_config() -> None:
    assert Config().digest() == Config().digest()
    assert Config().digest() != Config.from_mapping({"pipeline": ["decode"]}).digest()
