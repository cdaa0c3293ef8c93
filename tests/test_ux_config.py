"""A typo in the configuration is a one-line error (exit 2) naming the key, raised when the pipeline is built."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from normkit import Config, ConfigError, Pipeline, load_config
from normkit.cli import cli
from normkit.plugins import get_plugin_manager

PROFILE = {"sources": ["example.org"]}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"stages": {"boilerplat": {}}}, "stages.boilerplat: no such stage (did you mean boilerplate?)"),
        ({"stages": {"fix-text": {}}}, "stages.fix-text: no such stage (did you mean fix_text?)"),
        (
            {"pipeline": ["decode", "whitespace"], "stages": {"headline": {}}},
            "stages.headline: stage 'headline' is not in the pipeline (decode, whitespace)",
        ),
        (
            {"profiles": {"site": {**PROFILE, "stages": {"decode": {"encodng": "utf-8"}}}}},
            "profiles.site.stages.decode: Additional properties are not allowed ('encodng' was unexpected)",
        ),
        (
            {"profiles": {"site": {**PROFILE, "stages": {"whitespac": {}}}}},
            "profiles.site.stages.whitespac: no such stage (did you mean whitespace?)",
        ),
        (
            {"pipeline": ["decode"], "profiles": {"site": {**PROFILE, "stages": {"boilerplate": {}}}}},
            "profiles.site.stages.boilerplate: stage 'boilerplate' is not in the pipeline (decode)",
        ),
        ({"input": {"loaders": {"jsonll": {}}}}, "input.loaders.jsonll: no such loader 'jsonll' (did you mean jsonl?)"),
        ({"input": {"loader": "txt"}}, "input.loader: no such loader 'txt' (did you mean text?)"),
        (
            {"input": {"loaders": {"jsonl": {"feilds": {}}}}},
            "input.loaders.jsonl: Additional properties are not allowed ('feilds' was unexpected)",
        ),
        (
            {"stages": {"boilerplate": {"disable": ["bylines"]}}},
            "stages.boilerplate.disable: no builtin rule or rule class 'bylines' (did you mean byline?)",
        ),
        (
            {"profiles": {"site": {**PROFILE, "stages": {"boilerplate": {"disable": ["captoin"]}}}}},
            "profiles.site.stages.boilerplate.disable: no builtin rule or rule class 'captoin' (did you mean caption?)",
        ),
        ({"stages": {"decode": {"encoding": "cp9999"}}}, "stages.decode.encoding: unknown encoding 'cp9999'"),
        (
            {"profiles": {"site": {**PROFILE, "stages": {"decode": {"encoding": "latin-9x"}}}}},
            "profiles.site.stages.decode.encoding: unknown encoding 'latin-9x'",
        ),
    ],
)
def test_a_typo_fails_when_the_pipeline_is_built(normkit_pm: Any, data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        Pipeline(Config.from_mapping(data), pm=normkit_pm)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_right_names_still_build(normkit_pm: Any) -> None:
    data = {
        "pipeline": ["decode", "whitespace", "boilerplate"],
        "stages": {"decode": {"encoding": "utf-8"}, "boilerplate": {"disable": ["byline"]}},
        "input": {"loaders": {"jsonl": {}}},
        "profiles": {"site": {**PROFILE, "stages": {"boilerplate": {"disable": ["caption"]}}}},
    }
    pipeline = Pipeline(Config.from_mapping(data), pm=normkit_pm)
    assert [stage.name for stage in pipeline.stages] == ["decode", "whitespace", "boilerplate"]


def test_an_unknown_plugin_to_disable_is_an_error_with_a_suggestion() -> None:
    with pytest.raises(ConfigError, match=r"no plugin named 'stage_boilerplat' \(did you mean stage_boilerplate\?\)"):
        get_plugin_manager(load_entrypoints=False, disabled=["stage_boilerplat"])
    get_plugin_manager(load_entrypoints=False, disabled=["stage_headline"])  # a real one still disables


def test_an_unknown_entry_point_to_load_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NORMKIT_LOAD_PLUGINS", "no_such_plugin_anywhere")
    with pytest.raises(
        ConfigError, match="NORMKIT_LOAD_PLUGINS: no plugin entry point named 'no_such_plugin_anywhere'"
    ):
        get_plugin_manager()


@pytest.mark.parametrize(
    ("toml", "args", "message"),
    [
        ("[stages.boilerplat]\n", (), "stages.boilerplat: no such stage (did you mean boilerplate?)"),
        ("", ("--disable-plugin", "stage_decod"), "(did you mean stage_decode?)"),
        ('[stages.decode]\nencoding = "cp9999"\n', (), "unknown encoding 'cp9999'"),
    ],
)
def test_the_command_line_exits_2_before_reading_anything(
    tmp_path: Path, toml: str, args: tuple[str, ...], message: str
) -> None:
    (tmp_path / "normkit.toml").write_text(toml)
    (tmp_path / "in.jsonl").write_text('{"text": "A made-up line of text."}\n')
    argv = ["run", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out"), "--config", str(tmp_path / "normkit.toml")]
    result = CliRunner().invoke(cli, [*argv, *args, "-q"], catch_exceptions=False)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "documents.jsonl").exists()


def test_relative_paths_in_a_config_file_are_taken_from_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "myplugins").mkdir(parents=True)
    shout = Path(__file__).parent / "sample_plugins" / "shout.py"
    (project / "myplugins" / "shout.py").write_text(shout.read_text())
    (project / "reviewed.json").write_text('{"sources": {"example.org": [{"text": "An invented footer line"}]}}')
    (project / "normkit.toml").write_text(
        '[plugins]\ndirs = ["myplugins"]\n[stages.boilerplate]\nlearned_file = "reviewed.json"\n'
    )
    (project / "sub").mkdir()
    (project / ".git").mkdir()  # the search goes up to a repository's root (docs/configuration.md)
    monkeypatch.chdir(project / "sub")
    pipeline = Pipeline(load_config())
    assert "explode" in pipeline.registry.names("stage")
    assert not pipeline.stages[-1].learns  # the reviewed file was read: no learning pass


def test_relative_paths_without_a_config_file_stay_relative_to_the_working_directory() -> None:
    config = Config.from_mapping({"plugins": {"dirs": ["here"]}})
    assert config.plugin_dirs() == ("here",)
    assert Config.from_mapping({}, "/a/b/normkit.toml").resolve_path("/abs") == "/abs"
