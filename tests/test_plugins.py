"""Plugin discovery, blocking, name clashes, and errors that name the plugin and hook."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from normkit import Config, ConfigError, Document, Pipeline, PluginError, Register, Stage, hookimpl
from normkit.errors import DuplicateComponentError
from normkit.plugins import DEFAULT_PLUGINS, get_plugin_manager, list_plugins
from normkit.registry import Registry
from normkit.testing import registered, run_pipeline

SAMPLES = Path(__file__).parent / "sample_plugins"
BROKEN = Path(__file__).parent / "sample_plugins_broken"


def test_builtins_are_registered_through_the_plugin_manager(normkit_pm) -> None:
    names = {name for name, _ in normkit_pm.list_name_plugin()}
    assert {m.rsplit(".", 1)[-1] for m in DEFAULT_PLUGINS} <= names
    registry = Registry.from_plugin_manager(normkit_pm)
    assert {"decode", "fix_text", "whitespace", "headline", "boilerplate"} <= set(registry.names("stage"))
    assert registry.owner("stage", "decode") == "stage_decode"


def test_plugins_dir_adds_components() -> None:
    pm = get_plugin_manager(load_entrypoints=False, plugins_dirs=[str(SAMPLES)], disabled=["dup_jsonl"])
    registry = Registry.from_plugin_manager(pm)
    assert registry.owner("stage", "explode") == "shout"


def test_disabled_plugin_is_not_registered() -> None:
    pm = get_plugin_manager(load_entrypoints=False, disabled=["stage_boilerplate"])
    assert "boilerplate" not in Registry.from_plugin_manager(pm).names("stage")


def test_two_components_with_one_name_is_an_error_naming_both_plugins() -> None:
    pm = get_plugin_manager(load_entrypoints=False, plugins_dirs=[str(SAMPLES)])
    with pytest.raises(DuplicateComponentError, match="'exporter_jsonl' and plugin 'dup_jsonl'"):
        Registry.from_plugin_manager(pm)


def test_plugin_import_failure_names_the_file(tmp_path: Path) -> None:
    shutil.copy(BROKEN / "broken_import.py", tmp_path)
    with pytest.raises(PluginError, match=r"\[broken_import\].*a_module_that_does_not_exist"):
        get_plugin_manager(load_entrypoints=False, plugins_dirs=[str(tmp_path)])


def test_misspelt_hook_fails_at_start_up(tmp_path: Path) -> None:
    shutil.copy(BROKEN / "misspelt_hook.py", tmp_path)
    with pytest.raises(PluginError, match="normkit_register_stage") as raised:
        get_plugin_manager(load_entrypoints=False, plugins_dirs=[str(tmp_path)])
    assert raised.value.plugin == "misspelt_hook"  # the error names the plugin that misspelt it


def test_missing_plugins_dir_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PluginError, match="not a directory"):
        get_plugin_manager(load_entrypoints=False, plugins_dirs=[str(tmp_path / "nope")])


class Explode(Stage):
    name = "explode"

    def process(self, doc: Document) -> Document:
        if "BOOM" in doc.text:
            raise RuntimeError("kaboom")
        return doc


class ExplodePlugin:
    @hookimpl
    def normkit_register_stages(self, register: Register) -> None:
        register(Explode)


def test_a_stage_that_raises_rejects_only_that_document_naming_plugin_stage_and_id(normkit_pm) -> None:
    config = {"pipeline": ["whitespace", "explode"]}
    with registered(normkit_pm, ExplodePlugin(), name="exploder"):
        result = run_pipeline(["fine", "BOOM here", "fine too"], pm=normkit_pm, config=config)
    result.assert_no_loss()
    assert len(result.documents) == 2
    (reject,) = result.rejects
    assert (reject.plugin, reject.stage, reject.origin.line) == ("exploder", "explode", 2)
    assert "kaboom" in reject.message() and reject.doc_id in reject.message()


def test_unknown_stage_in_pipeline_is_a_config_error_listing_known(normkit_pm) -> None:
    with pytest.raises(Exception, match=r"unknown stage 'nope'.*boilerplate"):
        Pipeline(Config.from_mapping({"pipeline": ["nope"]}), pm=normkit_pm)


def test_list_plugins_reports_hooks_and_versions(normkit_pm) -> None:
    assert list_plugins(normkit_pm) == []  # builtins only shown with --all
    rows = {row["name"]: row for row in list_plugins(normkit_pm, include_builtins=True)}
    assert rows["stage_decode"]["builtin"] is True
    assert "normkit_detect_encoding" in rows["stage_decode"]["hooks"]


def test_load_plugins_env_empty_means_no_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NORMKIT_LOAD_PLUGINS", "")
    pm = get_plugin_manager()
    builtin = {m.rsplit(".", 1)[-1] for m in DEFAULT_PLUGINS}
    assert {name for name, _ in pm.list_name_plugin()} == builtin


def test_trace_plugins_prints_hook_calls(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("NORMKIT_TRACE_PLUGINS", "1")
    Registry.from_plugin_manager(get_plugin_manager(load_entrypoints=False))
    pm = get_plugin_manager(load_entrypoints=False)
    pm.hook.normkit_detect_encoding(data=b"abc", declared=None, context=None)
    assert "normkit: hook normkit_detect_encoding -> stage_decode" in capsys.readouterr().err


def test_a_disabled_plugins_stage_left_in_the_pipeline_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match=r"stage 'boilerplate' is configured, but its plugin 'stage_boilerplate'"):
        Pipeline(Config.from_mapping({"plugins": {"disable": ["stage_boilerplate"]}}))
    pipe = Pipeline(Config.from_mapping({"plugins": {"disable": ["stage_boilerplate"]}, "pipeline": ["whitespace"]}))
    assert [stage.name for stage in pipe.stages] == ["whitespace"]


@pytest.mark.parametrize("name", ["loader_text", "exporter_jsonl", "executor_inprocess"])
def test_essential_builtins_cannot_be_disabled(name: str) -> None:
    with pytest.raises(PluginError, match=rf"\[{name}\] plugin cannot be disabled"):
        get_plugin_manager(load_entrypoints=False, disabled=[name])


def test_registration_goes_through_pluggy_so_tracing_sees_it() -> None:
    pm = get_plugin_manager(load_entrypoints=False)
    seen: list[str] = []
    undo = pm.add_hookcall_monitoring(lambda name, impls, kwargs: seen.append(name), lambda *args: None)
    try:
        Registry.from_plugin_manager(pm)
    finally:
        undo()
    assert "normkit_register_stages" in seen and "normkit_register_exporters" in seen


def test_the_registry_writes_nothing_onto_a_registered_class() -> None:
    pipeline = Pipeline(Config.from_mapping({}), pm=get_plugin_manager(load_entrypoints=False))
    stage_class = type(pipeline.stages[0])
    assert "plugin" not in vars(stage_class)  # the owner is on the instance the pipeline built
    assert pipeline.stages[0].plugin == pipeline.registry.owner("stage", stage_class.name) == "stage_decode"


class _TwoImpls:
    """A plugin implementing one register hook twice: once by name, once through ``specname``."""

    @hookimpl
    def normkit_register_stages(self, register: Register) -> None:
        register(type("FirstStage", (Stage,), {"name": "first_of_two", "process": lambda self, doc: doc}))

    @hookimpl(specname="normkit_register_stages")
    def register_more(self, register: Register) -> None:
        register(type("SecondStage", (Stage,), {"name": "second_of_two", "process": lambda self, doc: doc}))


class _OnlySpecname:
    @hookimpl(specname="normkit_register_stages")
    def stages(self, register: Register) -> None:
        register(type("SpecStage", (Stage,), {"name": "by_specname", "process": lambda self, doc: doc}))


@pytest.mark.parametrize(
    ("plugin", "names"),
    [(_TwoImpls(), {"first_of_two", "second_of_two"}), (_OnlySpecname(), {"by_specname"})],
)
def test_every_implementation_of_a_register_hook_registers_once_under_its_plugin(
    plugin: object, names: set[str]
) -> None:
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(plugin, name="odd_plugin")
    registry = Registry.from_plugin_manager(pm)
    assert {name for name in registry.names("stage") if registry.owner("stage", name) == "odd_plugin"} == names


def test_a_run_with_the_pool_disabled_uses_one_process(tmp_path: Path) -> None:
    from normkit import run_batch

    for n in range(3):
        (tmp_path / f"{n}.txt").write_text(f"Headline {n}\n\nA sentence of the article, number {n}.\n")
    config = Config.from_mapping({"plugins": {"disable": ["executor_pool"]}})
    result = run_batch([str(tmp_path)], str(tmp_path / "out"), config, workers=2)
    assert (result.stats.read, result.stats.written) == (3, 3)


# -- plugin file names: a name taken is a one-line error naming both files ------------------------------------

TIDE_STAGE = """
from normkit import Stage, hookimpl


class Tide(Stage):
    name = "tide"

    def process(self, doc):
        return doc.evolve(text=doc.text.replace("high water", "HIGH WATER"))


@hookimpl
def normkit_register_stages(register):
    register(Tide)
"""


def _cli(*args: str) -> tuple[int, str]:
    from click.testing import CliRunner

    from normkit.cli import cli

    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stderr


def test_a_plugin_file_named_like_a_builtin_is_an_error_naming_both(tmp_path: Path) -> None:
    import normkit_plugins.stage_boilerplate

    (tmp_path / "stage_boilerplate.py").write_text(TIDE_STAGE)
    with pytest.raises(PluginError) as raised:
        get_plugin_manager(load_entrypoints=False, plugins_dirs=[str(tmp_path)])
    message = str(raised.value)
    assert str(tmp_path / "stage_boilerplate.py") in message and normkit_plugins.stage_boilerplate.__file__ in message
    assert "is taken by a builtin plugin" in message and "\n" not in message

    (tmp_path / "in.jsonl").write_text('{"id": "t1", "text": "At high water the quay floods."}\n')
    code, err = _cli("run", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out"), "--plugins-dir", str(tmp_path))
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err and "stage_boilerplate" in err


def test_the_same_file_name_in_two_plugin_dirs_is_an_error_naming_both(tmp_path: Path) -> None:
    first, second = tmp_path / "team", tmp_path / "mine"
    for folder in (first, second):
        folder.mkdir()
        (folder / "tide.py").write_text(TIDE_STAGE)
    with pytest.raises(PluginError) as raised:
        get_plugin_manager(load_entrypoints=False, plugins_dirs=[str(first), str(second)])
    assert f"{second / 'tide.py'}: plugin name 'tide' is taken by another plugin ({first / 'tide.py'})" in str(
        raised.value
    )
    code, err = _cli("plugins", "--plugins-dir", str(first), "--plugins-dir", str(second))
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err


def test_the_same_plugin_dir_given_twice_loads_it_once(tmp_path: Path) -> None:
    (tmp_path / "tide.py").write_text(TIDE_STAGE)
    pm = get_plugin_manager(load_entrypoints=False, plugins_dirs=[str(tmp_path), str(tmp_path / ".")])
    assert Registry.from_plugin_manager(pm).owner("stage", "tide") == "tide"


def test_a_plugin_file_named_like_a_standard_module_shadows_nothing(tmp_path: Path) -> None:
    import json

    (tmp_path / "json.py").write_text(TIDE_STAGE)
    pm = get_plugin_manager(load_entrypoints=False, plugins_dirs=[str(tmp_path)])
    assert Registry.from_plugin_manager(pm).owner("stage", "tide") == "json"
    import sys

    assert sys.modules["json"] is json and json.loads("[1]") == [1]


# -- plugins_digest: what a plugins dir holds is in the run key, and nothing there can crash or hang it ---------


def _plugins_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "myplugin.py").write_text("RULES = 'myplugin_rules.json'\n")
    (folder / "myplugin_rules.json").write_text('{"drop": ["Follow us on the lighthouse feed"]}\n')
    (folder / "helpers").mkdir()  # a helper folder without __init__.py (a namespace package, or data)
    (folder / "helpers" / "words.txt").write_text("gull\ntern\n")
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "myplugin.cpython-311.pyc").write_bytes(b"\x00compiled")
    return folder


def _digest(folder: Path) -> str:
    from normkit.plugins import PluginSpec, plugins_digest

    return plugins_digest(PluginSpec(load_entrypoints=False, plugins_dirs=(str(folder),)))


@pytest.mark.parametrize("edited", ["myplugin_rules.json", "helpers/words.txt"])
def test_a_data_file_beside_a_plugin_is_in_the_key(tmp_path: Path, edited: str) -> None:
    folder = _plugins_dir(tmp_path)
    before = _digest(folder)
    assert _digest(folder) == before
    (folder / edited).write_text((folder / edited).read_text() + "puffin\n")
    assert _digest(folder) != before


def test_byte_code_and_caches_are_not_in_the_key(tmp_path: Path) -> None:
    folder = _plugins_dir(tmp_path)
    before = _digest(folder)
    (folder / "__pycache__" / "myplugin.cpython-311.pyc").write_bytes(b"\x00compiled again")
    (folder / "helpers" / "old.pyc").write_bytes(b"\x00")
    assert _digest(folder) == before


def test_a_dangling_link_in_a_plugins_dir_is_named_in_the_key_not_a_traceback(tmp_path: Path) -> None:
    folder = _plugins_dir(tmp_path)
    before = _digest(folder)
    (folder / "helpers" / "gone.json").symlink_to(tmp_path / "nowhere.json")
    with_link = _digest(folder)
    assert with_link != before
    (folder / "helpers" / "gone.json").unlink()
    (folder / "helpers" / "gone.json").symlink_to(tmp_path / "elsewhere.json")
    assert _digest(folder) != with_link, "where it points is in the key"


def test_a_fifo_in_a_plugins_dir_neither_hangs_nor_crashes(tmp_path: Path) -> None:
    import os
    import threading

    folder = _plugins_dir(tmp_path)
    before = _digest(folder)
    os.mkfifo(folder / "helpers" / "pipe.json")
    os.mkfifo(folder / "pipe_plugin.py")
    result: list[str] = []
    worker = threading.Thread(target=lambda: result.append(_digest(folder)), daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():  # unblock the reader so the test process can end, then fail
        for fifo in (folder / "helpers" / "pipe.json", folder / "pipe_plugin.py"):
            with open(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK), "wb"):
                pass
        pytest.fail("plugins_digest hung on a FIFO")
    assert result and result[0] != before
