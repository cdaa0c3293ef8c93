"""Where the configuration is looked for (never past the project), ``normkit config``, its TOML, and the report's
``config``."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from normkit import Config, Pipeline
from normkit.cli.config import config_command, to_toml
from normkit.config import VCS_MARKERS, config_search_folders, find_config_file, is_vcs_root
from normkit.validate import iter_violations

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

PLUGIN = """
from typing import ClassVar
from normkit import Document, Register, Stage, hookimpl

class ShoutStage(Stage):
    name = "shout"
    options_schema: ClassVar = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"volume": {"description": "How loud.", "type": "integer", "default": 11}},
    }

    def process(self, doc: Document) -> Document:
        return doc

@hookimpl
def normkit_register_stages(register: Register) -> None:
    register(ShoutStage)
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home folder of the test's own (``Path.home()`` reads ``$HOME``), and a tmp_path under no repository."""
    if any(is_vcs_root(folder) for folder in tmp_path.resolve().parents):
        pytest.skip("the temporary folder is inside a repository")
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    return folder


def make(folder: Path, *names: str) -> Path:
    """``folder`` (and its parents), with a ``.git`` folder in it when ``.git`` is among ``names``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).mkdir()
    return folder


def write_config(folder: Path, text: str = 'pipeline = ["decode"]\n') -> Path:
    path = folder / "normkit.toml"
    path.write_text(text)
    return path


# -- discovery -------------------------------------------------------------------------------------


def test_found_in_the_working_folder(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = make(home / "project")
    path = write_config(project)
    monkeypatch.chdir(project)
    assert find_config_file() == path.resolve()


@pytest.mark.parametrize("marker", VCS_MARKERS)
def test_found_in_a_parent_inside_a_repository(home: Path, tmp_path: Path, marker: str) -> None:
    repo = make(tmp_path / "work" / "repo", marker)  # outside home: the repository alone bounds the walk
    path = write_config(repo)
    assert find_config_file(make(repo / "a" / "b")) == path.resolve()


def test_a_git_file_marks_a_worktree_root(home: Path, tmp_path: Path) -> None:
    worktree = make(tmp_path / "worktree")
    (worktree / ".git").write_text("gitdir: /elsewhere/.git/worktrees/w\n")
    write_config(tmp_path)  # above the worktree: not looked at
    path = write_config(worktree)
    assert find_config_file(make(worktree / "src")) == path.resolve()
    path.unlink()
    assert find_config_file(worktree / "src") is None


def test_not_found_above_the_repository_root(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(home)
    repo = make(home / "shared" / "repo", ".git")
    monkeypatch.chdir(make(repo / "sub"))
    assert find_config_file() is None
    assert config_search_folders() == [(repo / "sub").resolve(), repo.resolve()]


def test_not_found_above_home(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(tmp_path)
    monkeypatch.chdir(make(home / "notes"))
    assert find_config_file() is None
    assert config_search_folders()[-1] == home.resolve()
    path = write_config(home)  # home itself is looked in
    assert find_config_file() == path.resolve()


def test_outside_home_and_any_repository_only_the_start_folder(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = make(tmp_path / "job")
    write_config(job)
    monkeypatch.chdir(make(job / "run"))
    assert find_config_file() is None
    assert config_search_folders() == [(job / "run").resolve()]
    path = write_config(job / "run")
    assert find_config_file() == path.resolve()


def test_pyproject_counts_only_with_a_tool_normkit_table(home: Path) -> None:
    repo = make(home / "repo", ".git")
    write_config(repo)
    sub = make(repo / "pkg")
    (sub / "pyproject.toml").write_text('[project]\nname = "invented"\n')
    assert find_config_file(sub) == (repo / "normkit.toml").resolve()
    (sub / "pyproject.toml").write_text('[project]\nname = "invented"\n[tool.normkit]\npipeline = ["decode"]\n')
    assert find_config_file(sub) == (sub / "pyproject.toml").resolve()


# -- normkit config --------------------------------------------------------------------------------


def invoke(*args: str) -> Result:
    return CliRunner().invoke(config_command, list(args), catch_exceptions=False)


def test_prints_the_file_and_its_values_over_the_defaults(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make(home / "repo", ".git")
    path = write_config(repo, 'pipeline = ["decode", "headline"]\n[stages.headline]\nwindow = 3\n[run]\nworkers = 2\n')
    monkeypatch.chdir(make(repo / "sub"))
    result = invoke()
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"# configuration: {path.resolve()}"
    shown = tomllib.loads(result.stdout)
    assert shown["pipeline"] == ["decode", "headline"]
    assert shown["stages"]["headline"]["window"] == 3  # the file's
    assert shown["stages"]["headline"]["max_title_words"] == 30  # the stage's default
    assert set(shown["stages"]) == {"decode", "headline"}
    assert (shown["run"], shown["output"]) == ({"workers": 2}, {"format": "jsonl"})


def test_the_toml_printed_is_a_configuration_that_means_the_same(tmp_path: Path) -> None:
    first = invoke()
    assert first.exit_code == 0, first.stderr
    (tmp_path / "shown.toml").write_text(first.stdout)
    again = invoke("--config", "shown.toml")
    assert again.exit_code == 0, again.stderr
    assert again.stdout.splitlines()[0] == f"# configuration: {(tmp_path / 'shown.toml').resolve()}"
    assert tomllib.loads(again.stdout) == tomllib.loads(first.stdout)


def test_json_has_the_file_and_the_same_values(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[output]\nformat = "dolma"\n')
    toml, as_json = invoke("--config", str(path)), invoke("--config", str(path), "--json")
    data = json.loads(as_json.stdout)
    assert (data["file"], data["searched"]) == (str(path), None)
    assert data["config"] == tomllib.loads(toml.stdout)
    assert data["config"]["output"] == {"format": "dolma"}


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("repo", "searched from {cwd} up to {repo} (repository root)"),
        ("home", "searched from {cwd} up to {home} (home folder)"),
        ("none", "searched only {cwd} (in no repository and outside the home folder)"),
    ],
)
def test_none_found_says_where_the_search_stopped(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch, where: str, expected: str
) -> None:
    top = {"repo": make(tmp_path / "repo", ".git"), "home": home, "none": tmp_path / "job"}[where]
    cwd = make(top / "sub").resolve()
    monkeypatch.chdir(cwd)
    result = invoke()
    line = expected.format(cwd=cwd, repo=top.resolve(), home=home.resolve())
    assert result.stdout.splitlines()[0] == f"# configuration: none found (defaults), {line}"
    data = json.loads(invoke("--json").stdout)
    up_to = cwd if where == "none" else top.resolve()
    assert data["file"] is None and data["searched"] == {"from": str(cwd), "up_to": str(up_to)}


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[stages.boilerplat]\n", "stages.boilerplat: no such stage (did you mean boilerplate?)"),
        ("[stages.headline]\nwindw = 3\n", "stages.headline: Additional properties are not allowed"),
        ("pipelin = []\n", "(top level): Additional properties are not allowed ('pipelin' was unexpected)"),
        ("pipeline = [\n", "invalid TOML"),
    ],
)
def test_a_typo_is_a_one_line_error_and_exit_2(tmp_path: Path, toml: str, message: str) -> None:
    write_config(tmp_path, toml)
    result = invoke("--config", "normkit.toml")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("normkit: error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_missing_file_is_exit_2() -> None:
    result = invoke("--config", "nowhere.toml")
    assert result.exit_code == 2 and "cannot read configuration" in result.stderr


def test_plugin_options_show_a_plugin_stage_defaults(tmp_path: Path) -> None:
    (make(tmp_path / "myplugins") / "shout.py").write_text(PLUGIN)
    write_config(tmp_path, 'pipeline = ["decode", "shout"]\n')
    result = invoke("--config", "normkit.toml", "--plugins-dir", "myplugins")
    assert result.exit_code == 0, result.stderr
    assert tomllib.loads(result.stdout)["stages"]["shout"] == {"volume": 11}
    unknown = invoke("--config", "normkit.toml")
    assert unknown.exit_code == 2 and "'shout'" in unknown.stderr


def test_disable_plugin_is_applied(tmp_path: Path) -> None:
    write_config(tmp_path, 'pipeline = ["decode", "headline"]\n')
    result = invoke("--config", "normkit.toml", "--disable-plugin", "stage_headline")
    assert result.exit_code == 2 and "stage_headline" in result.stderr


# -- the TOML emitter ------------------------------------------------------------------------------


def test_toml_keys_strings_and_tables() -> None:
    data: dict[str, Any] = {
        "plain": "x",
        "needs quotes": 'a "b" \\ c\n\t\x00\x7f é ☃ 🙂',
        "": True,
        "a.b": -0.0,
        "big": 1e16,
        "small": 1.5e-7,
        "n": -(2**63),
        "items": ["one", "two"],
        "rows": [{"pattern": "^Invented$", "why": "made up"}, {}],
        "nested": [[1, 2], ["x"]],
        "skip": None,
        "table": {"x": 1, "sub": {"y": "z"}, "empty": {}},
        "only": {"subtables": {"k": False}},
    }
    text = to_toml(data)
    assert "skip" not in text and '"needs quotes" = ' in text and '"a.b" = ' in text
    assert "[only]" not in text and "[only.subtables]" in text
    expected = {k: v for k, v in data.items() if v is not None}
    assert tomllib.loads(text) == expected


def test_toml_of_nothing_is_empty() -> None:
    assert tomllib.loads(to_toml({})) == {}


def test_toml_refuses_what_it_cannot_write() -> None:
    with pytest.raises(TypeError, match="cannot write object"):
        to_toml({"x": object()})


# TOML strings hold any Unicode but lone surrogates (which no TOML file can give Python either)
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
SCALARS = (
    TEXT
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.lists(TEXT, max_size=4)
)
TABLES = st.recursive(
    st.dictionaries(TEXT, SCALARS, max_size=4), lambda inner: st.dictionaries(TEXT, SCALARS | inner, max_size=4)
)


@settings(max_examples=200, deadline=None)
@given(TABLES)
def test_toml_reads_back_to_the_same_mapping(data: dict[str, Any]) -> None:
    assert tomllib.loads(to_toml(data)) == data


def test_floats_keep_their_value() -> None:
    for value in (0.1, 1 / 3, 5e-324, 1.7976931348623157e308, -2.5):
        assert tomllib.loads(to_toml({"v": value}))["v"] == value
    assert math.isinf(tomllib.loads(to_toml({"v": math.inf}))["v"])


# -- report.json -----------------------------------------------------------------------------------


def test_the_report_names_the_configuration_file(tmp_path: Path) -> None:
    from normkit.cli import cli

    (tmp_path / "in.txt").write_text("An invented title\n\nAn invented sentence of body text for the test.\n")
    path = write_config(make(tmp_path / "conf"), 'pipeline = ["decode", "whitespace"]\n')  # not found: --config
    argv = ["run", "in.txt", "-q", "--executor", "inprocess"]
    for extra, expected in (([], None), (["--config", "conf/normkit.toml"], str(path.resolve()))):
        result = CliRunner().invoke(cli, [*argv, "-o", f"out{len(extra)}", *extra], catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
        report = json.loads((tmp_path / f"out{len(extra)}" / "report.json").read_text())
        assert report["config"] == expected
        assert list(iter_violations(report, "report")) == []


def test_the_report_schema_takes_reject_groups() -> None:
    report: dict[str, Any] = {
        "normkit_version": "0",
        "inputs": [],
        "output": "out",
        "config": None,
        "documents": {"read": 1, "written": 0, "rejected": 1},
        "stages": {},
        "seconds": 0.1,
        "reject_groups": [{"reason": "empty file", "count": 1}],
    }
    assert list(iter_violations(report, "report")) == []
    report["reject_groups"] = [{"reason": "empty file", "count": 0}]
    assert [v.pointer for v in iter_violations(report, "report")] == ["/reject_groups/0/count"]
    report["reject_groups"], report["config"] = [], 3
    assert [v.pointer for v in iter_violations(report, "report")] == ["/config"]


def test_a_pipeline_builds_from_the_effective_configuration() -> None:
    shown = tomllib.loads(invoke().stdout)
    assert [stage.name for stage in Pipeline(Config.from_mapping(shown)).stages] == shown["pipeline"]


def test_the_readme_example_configuration_is_valid_as_written(tmp_path: Path) -> None:
    """Copied as it stands, the README's ``normkit.toml`` passes every check ``normkit run`` makes."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    (block,) = [b.split("```")[0] for b in readme.split("```toml\n")[1:] if b.startswith("pipeline")]
    (tmp_path / "normkit.toml").write_text(block)
    (tmp_path / "my_plugins").mkdir()
    result = CliRunner().invoke(config_command, ["--config", str(tmp_path / "normkit.toml")])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("home", ["/", ""])
def test_a_home_at_the_root_does_not_open_the_whole_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: str
) -> None:
    """Containers run as a user without a home have HOME=/ (or empty): the search must not climb to /."""
    (tmp_path / "normkit.toml").write_text('pipeline = ["decode"]\n')
    (tmp_path / "job").mkdir()
    monkeypatch.setenv("HOME", home)
    monkeypatch.chdir(tmp_path / "job")
    assert find_config_file() is None


def test_a_pyproject_whose_tool_is_not_a_table_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text('tool = "normkit"\n')
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(config_command, [])
    assert result.exit_code == 2 and "tool must be a table" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_dates_in_a_configuration_are_printed_as_toml_and_json(tmp_path: Path) -> None:
    """TOML has dates; a table no component checks here (an executor's, built only when it runs) may hold one."""
    (tmp_path / "normkit.toml").write_text("[run.executors.dask]\nscheduler = 1979-05-27T07:32:00Z\n")
    config = str(tmp_path / "normkit.toml")
    result = CliRunner().invoke(config_command, ["--config", config])
    assert result.exit_code == 0, result.output
    assert "scheduler = 1979-05-27T07:32:00+00:00" in result.output
    as_json = CliRunner().invoke(config_command, ["--config", config, "--json"])
    assert as_json.exit_code == 0 and "1979-05-27 07:32:00+00:00" in as_json.output
