"""``normkit plugins``: each plugin's components by kind, in the table and in ``--json``; name typos are errors."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from normkit.cli import cli

SAMPLES = Path(__file__).parent / "sample_plugins"

#: A one-off plugin registering one component of every kind the listing shows but a stage, and a command.
KITCHEN_SINK = textwrap.dedent(
    """
    import click
    from normkit_plugins.exporter_jsonl import JsonlExporter
    from normkit_plugins.executor_inprocess import InProcessExecutor
    from normkit_plugins.loader_text import TextLoader

    from normkit import Profile, hookimpl


    class TildeExporter(JsonlExporter):
        name = "tilde"


    class TildeLoader(TextLoader):
        name = "tilde_text"


    class TildeExecutor(InProcessExecutor):
        name = "tilde_serial"


    @hookimpl
    def normkit_register_exporters(register):
        register(TildeExporter)


    @hookimpl
    def normkit_register_loaders(register):
        register(TildeLoader)


    @hookimpl
    def normkit_register_executors(register):
        register(TildeExecutor)


    @hookimpl
    def normkit_register_profiles(register):
        register(Profile(name="tilde_news", sources=("tilde.example",)))


    @hookimpl
    def normkit_register_commands(cli):
        @cli.command("tilde-count")
        def tilde_count():
            "Count the tildes (an invented command)."
    """
)


def invoke(*args: str) -> Result:
    """``normkit plugins ARGS`` in a wide terminal, so the table's cells are not wrapped."""
    return CliRunner().invoke(cli, ["plugins", *args], env={"COLUMNS": "250"})


@pytest.fixture
def kitchen_sink(tmp_path: Path) -> Path:
    folder = tmp_path / "one_off"
    folder.mkdir()
    (folder / "tilde.py").write_text(KITCHEN_SINK)
    return folder


def test_the_table_lists_each_plugins_components_by_kind() -> None:
    result = invoke("--plugins-dir", str(SAMPLES), "--disable-plugin", "dup_jsonl")
    assert result.exit_code == 0, result.output
    header, row = result.stdout.splitlines()
    assert header.split() == ["plugin", "version", "hooks", "components"]
    assert row.split() == ["shout", "normkit_register_stages", "stage:", "explode"]


def test_json_has_every_kind_with_the_names_registered() -> None:
    result = invoke("--json", "--plugins-dir", str(SAMPLES), "--disable-plugin", "dup_jsonl")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["name"] == "shout" and row["builtin"] is False
    assert row["components"] == {
        "stage": ["explode"],
        "exporter": [],
        "loader": [],
        "executor": [],
        "profile": [],
        "schema": [],
        "command": [],
    }


def test_every_kind_and_commands_are_listed(kitchen_sink: Path) -> None:
    rows = {row["name"]: row for row in json.loads(invoke("--json", "--plugins-dir", str(kitchen_sink)).stdout)}
    assert rows["tilde"]["components"] == {
        "stage": [],
        "exporter": ["tilde"],
        "loader": ["tilde_text"],
        "executor": ["tilde_serial"],
        "profile": ["tilde_news"],
        "schema": [],
        "command": ["tilde-count"],
    }
    table = invoke("--plugins-dir", str(kitchen_sink)).stdout
    expected = "exporter: tilde; loader: tilde_text; executor: tilde_serial; profile: tilde_news; command: tilde-count"
    assert expected in table


def test_listing_a_plugin_leaves_the_command_line_alone(kitchen_sink: Path) -> None:
    invoke("--plugins-dir", str(kitchen_sink))
    assert "tilde-count" not in cli.commands  # its command was added to a scratch group only


def test_builtins_only_with_all() -> None:
    assert invoke("--json").stdout.strip() == "[]"
    rows = {row["name"]: row for row in json.loads(invoke("--json", "--all").stdout)}
    assert rows["stage_boilerplate"]["components"]["stage"] == ["boilerplate"]
    assert rows["stage_boilerplate"]["components"]["schema"] == ["learned-boilerplate"]
    assert rows["exporter_jsonl"]["components"]["exporter"] == ["jsonl"]
    assert rows["executor_pool"]["components"]["executor"] == ["pool"]
    assert rows["profile_newarab"]["components"]["profile"] == ["newarab"]
    assert "stage: boilerplate; schema: learned-boilerplate" in invoke("--all").stdout


def test_a_name_two_plugins_register_is_listed_under_both_with_a_warning() -> None:
    result = invoke("--all", "--json", "--plugins-dir", str(SAMPLES))
    assert result.exit_code == 0
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["dup_jsonl"]["components"]["exporter"] == rows["exporter_jsonl"]["components"]["exporter"] == ["jsonl"]
    warning = "exporter 'jsonl' is registered by both plugin 'exporter_jsonl' and plugin 'dup_jsonl'"
    assert result.stderr.count("\n") == 1 and warning in result.stderr


def test_a_misspelt_disabled_plugin_is_one_line_with_did_you_mean() -> None:
    result = invoke("--disable-plugin", "stage_boilerplat")
    assert result.exit_code == 2
    assert result.stderr == (
        "normkit: error: plugins.disable (or --disable-plugin): no plugin named 'stage_boilerplat' "
        "(did you mean stage_boilerplate?)\n"
    )


def test_a_misspelt_load_plugins_entry_point_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NORMKIT_LOAD_PLUGINS", "no_such_plugin")
    result = invoke()
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "normkit: error: NORMKIT_LOAD_PLUGINS: no plugin entry point named 'no_such_plugin'"
    )
    assert result.stderr.count("\n") == 1


def test_a_plugin_whose_registration_fails_is_listed_with_its_error(tmp_path: Path) -> None:
    """The listing is where a broken plugin is looked into: it is shown, with what failed, not exit 2."""
    (tmp_path / "broken.py").write_text(
        "from normkit import hookimpl\n\n@hookimpl\ndef normkit_register_stages(register):\n"
        "    raise RuntimeError('boom at registration')\n"
    )
    result = CliRunner().invoke(cli, ["plugins", "--plugins-dir", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    (row,) = [row for row in json.loads(result.stdout) if row["name"] == "broken"]
    assert row["errors"] == ["[broken/normkit_register_stages] failed: RuntimeError('boom at registration')"]
