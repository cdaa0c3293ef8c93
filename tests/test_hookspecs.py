"""Meta-tests: every hook is documented in its docstring and in docs/plugins.md, and has a test here."""

from __future__ import annotations

import inspect
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import normkit
from normkit import Context, Decoded, Loader, Profile, Register, Stage, hookimpl, hookspecs
from normkit.cli import NormkitGroup
from normkit.registry import KINDS, Registry
from normkit.testing import registered, run_pipeline

DOCS = (Path(__file__).parent.parent / "docs" / "plugins.md").read_text()
HOOKS = {name: f for name, f in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("normkit_")}


def _signature(func: object) -> str:
    return f"{func.__name__}{inspect.signature(func)}".replace("'", "")  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_hook_is_documented_with_its_signature(name: str) -> None:
    func = HOOKS[name]
    assert func.__doc__ and func.__doc__.splitlines()[0].startswith("Called"), "first line says when it is called"
    assert f"`{_signature(func)}`" in DOCS


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_hook_has_a_test(name: str) -> None:
    assert f"test_hook_{name}" in globals()


def test_public_api_is_exactly_all() -> None:
    public = {n for n in dir(normkit) if not n.startswith("_") and not inspect.ismodule(getattr(normkit, n))}
    assert public - {"annotations"} == set(normkit.__all__)  # annotations: the __future__ import


def test_every_register_hook_has_a_kind() -> None:
    assert set(KINDS.values()) == {
        n for n in HOOKS if n.startswith("normkit_register_") and n != "normkit_register_commands"
    }


class Upper(Stage):
    name = "upper"

    def process(self, doc):
        return doc.evolve(text=doc.text.upper())


class LinesLoader(Loader):
    name = "lines"
    suffixes = (".lines",)

    def load(self, stream, path):
        for number, line in enumerate(stream, start=1):
            yield normkit.Document(
                id=f"{path}:{number}", text=line.decode().strip(), origin=normkit.Origin(path, number)
            )


class Components:
    @hookimpl
    def normkit_register_stages(self, register: Register) -> None:
        register(Upper)

    @hookimpl
    def normkit_register_loaders(self, register: Register) -> None:
        register(LinesLoader)

    @hookimpl
    def normkit_register_profiles(self, register: Register) -> None:
        register(Profile("shouty", ("loud.example",), {"decode": {"encoding": "cp1251"}}))

    @hookimpl
    def normkit_register_executors(self, register: Register) -> None:
        register(type("NullExecutor", (), {"name": "null-executor"}))

    @hookimpl
    def normkit_register_exporters(self, register: Register) -> None:
        from normkit_plugins.exporter_jsonl import JsonlExporter

        register(type("Jsonl2", (JsonlExporter,), {"name": "jsonl2"}))


def test_hook_normkit_register_stages(normkit_pm) -> None:
    with registered(normkit_pm, Components(), "components"):
        result = run_pipeline(["abc"], pm=normkit_pm, config={"pipeline": ["upper"]})
    assert result.documents[0].text == "ABC"


def test_hook_normkit_register_loaders(normkit_pm, tmp_path: Path) -> None:
    (tmp_path / "x.lines").write_bytes(b"one\ntwo\n")
    with registered(normkit_pm, Components(), "components"):
        pipeline = normkit.Pipeline(normkit.Config.from_mapping({"pipeline": []}), pm=normkit_pm)
        docs = list(pipeline.load(normkit.inputs.Shard(str(tmp_path / "x.lines"))))
    assert [d.text for d in docs] == ["one", "two"] and pipeline.loader_for("a.lines.gz").plugin == "components"


def test_hook_normkit_register_profiles(normkit_pm) -> None:
    with registered(normkit_pm, Components(), "components"):
        result = run_pipeline(
            ["\xef\xf0\xe8\xe2\xe5\xf2".encode("latin-1")],
            pm=normkit_pm,
            source="www.loud.example",
            config={"pipeline": ["decode"]},
        )
    assert result.documents[0].text == "привет"
    assert result.documents[0].decoding["method"] == "forced"


def test_hook_normkit_register_executors(normkit_pm) -> None:
    with registered(normkit_pm, Components(), "components"):
        assert Registry.from_plugin_manager(normkit_pm).owner("executor", "null-executor") == "components"


def test_hook_normkit_register_exporters(normkit_pm) -> None:
    with registered(normkit_pm, Components(), "components"):
        assert Registry.from_plugin_manager(normkit_pm).owner("exporter", "jsonl2") == "components"


SHORT_SCHEMA = """{"type": "object", "required": ["id", "text"],
  "properties": {"id": {"type": "string"}, "text": {"type": "string", "maxLength": 12}}}"""


def test_hook_normkit_register_schemas(normkit_pm, tmp_path: Path) -> None:
    (tmp_path / "short.schema.json").write_text(SHORT_SCHEMA)

    class Short(normkit.Exporter):
        name, schema = "short", "short"

        def to_record(self, doc: normkit.Document) -> dict[str, str]:
            return {"id": doc.id, "text": doc.text}

    class Schemas:
        @hookimpl
        def normkit_register_exporters(self, register: Register) -> None:
            register(Short)

        @hookimpl
        def normkit_register_schemas(self, register: Register) -> None:
            register(normkit.SchemaFile("short", tmp_path / "short.schema.json"))

    with registered(normkit_pm, Schemas(), "schemas"):
        pipeline = normkit.Pipeline(normkit.Config.from_mapping({"output": {"format": "short"}}), pm=normkit_pm)
    fits, too_long = (pipeline.export(normkit.Document(id="a", text=text)) for text in ("tiny", "far too long a text"))
    assert pipeline.registry.owner("schema", "short") == "schemas" and "short" in pipeline.registry.schema_names()
    assert fits == {"id": "a", "text": "tiny"}
    assert isinstance(too_long, normkit.Reject) and "schema short: /text:" in too_long.reason


def test_a_plugin_cannot_replace_a_schema_of_normkit(normkit_pm, tmp_path: Path) -> None:
    class Impostor:
        @hookimpl
        def normkit_register_schemas(self, register: Register) -> None:
            register(normkit.SchemaFile("document", tmp_path / "document.schema.json"))

    with registered(normkit_pm, Impostor(), "impostor"), pytest.raises(normkit.PluginError, match="impostor"):
        Registry.from_plugin_manager(normkit_pm)


class Detector:
    @hookimpl
    def normkit_detect_encoding(self, data: bytes, declared: str | None, context: Context) -> Decoded | None:
        if data.startswith(b"KOI8:"):
            return Decoded(data[5:].decode("koi8-r"), "koi8-r", 1.0, "forced")
        return None  # everything else: the next implementation (normkit's own) decides


def test_hook_normkit_detect_encoding(normkit_pm) -> None:
    with registered(normkit_pm, Detector()):
        result = run_pipeline(
            [b"KOI8:" + "мир".encode("koi8-r"), b"plain"], pm=normkit_pm, config={"pipeline": ["decode"]}
        )
    assert [d.text for d in result.documents] == ["мир", "plain"]
    assert [d.decoding["encoding"] for d in result.documents] == ["koi8-r", "ascii"]


def test_hook_normkit_register_commands(monkeypatch: pytest.MonkeyPatch, normkit_pm) -> None:
    class Commands:
        @hookimpl
        def normkit_register_commands(self, cli: click.Group) -> None:
            @cli.command()
            def hello() -> None:
                click.echo("hello from a plugin")

    normkit_pm.register(Commands())
    monkeypatch.setattr("normkit.cli.get_plugin_manager", lambda **_: normkit_pm)
    group = NormkitGroup(commands={})
    result = CliRunner().invoke(group, ["hello"])
    assert result.output == "hello from a plugin\n"
