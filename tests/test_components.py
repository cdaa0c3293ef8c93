"""The base classes' declared API: Options dataclasses, profiles checked at start-up, the Learner protocol,
and byte ranges handed to a loader that splits on lines."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

import normkit
from normkit import (
    Config,
    ConfigError,
    Document,
    Pipeline,
    PluginError,
    Register,
    Stage,
    hookimpl,
    option,
    options_from,
    options_schema,
    run_batch,
)
from normkit.testing import registered


@dataclass(frozen=True)
class EchoOptions:
    marker: str = option("Sponsored", "The marker line.", type="string")
    tags: tuple[str, ...] = option(("a", "b"), "Tags.", type="array", items={"type": "string"})


class Echo(Stage):
    name = "echo"
    options_schema = options_schema(EchoOptions)

    def process(self, doc: Document) -> Document:
        settings = self.settings_for(doc, EchoOptions)
        return doc.evolve(metadata={"marker": settings.marker, "tags": list(settings.tags)})


class Plugin:
    @hookimpl
    def normkit_register_stages(self, register: Register) -> None:
        register(Echo)


def test_the_schema_carries_the_defaults_and_refuses_other_keys() -> None:
    schema = options_schema(EchoOptions)
    assert schema["additionalProperties"] is False
    assert schema["properties"]["marker"] == {
        "description": "The marker line.",
        "type": "string",
        "default": "Sponsored",
    }
    assert schema["properties"]["tags"]["default"] == ["a", "b"]
    assert options_from(EchoOptions, {"tags": ["x"]}, "here") == EchoOptions(tags=("x",))
    with pytest.raises(ConfigError, match=r"^here: .*'colour'"):
        options_from(EchoOptions, {"colour": 1}, "here")


def test_settings_merge_a_source_profile_over_the_configuration(normkit_pm) -> None:
    profile = {"sources": ["paid.example.org"], "stages": {"echo": {"marker": "Advertorial"}}}
    config = Config.from_mapping(
        {"pipeline": ["echo"], "stages": {"echo": {"tags": ["t"]}}, "profiles": {"p": profile}}
    )
    with registered(normkit_pm, Plugin()):
        pipe = Pipeline(config, pm=normkit_pm)
    plain, paid = (pipe.process(Document(id=s, text="x", source=s)) for s in ("news.example.org", "paid.example.org"))
    assert isinstance(plain, Document) and plain.metadata == {"marker": "Sponsored", "tags": ["t"]}
    assert isinstance(paid, Document) and paid.metadata == {"marker": "Advertorial", "tags": ["t"]}


def test_a_typo_in_a_profile_is_a_start_up_error_naming_it(normkit_pm) -> None:
    profile = {"sources": ["paid.example.org"], "stages": {"echo": {"markr": "Advertorial"}}}
    config = Config.from_mapping({"pipeline": ["echo"], "profiles": {"p": profile}})
    with registered(normkit_pm, Plugin()), pytest.raises(ConfigError, match=r"^profiles.p.stages.echo: .*'markr'"):
        Pipeline(config, pm=normkit_pm)


def test_a_stage_with_the_old_learning_attributes_is_named(normkit_pm) -> None:
    class OldLearner(Stage):
        name = "old"
        learns = True  # before normkit.Learner, this was how a stage asked for the first pass

        def process(self, doc: Document) -> Document:
            return doc

    class Old:
        @hookimpl
        def normkit_register_stages(self, register: Register) -> None:
            register(OldLearner)

    with registered(normkit_pm, Old(), "old_plugin"), pytest.raises(PluginError, match=r"no normkit\.Learner"):
        Pipeline(Config.from_mapping({"pipeline": ["old"]}), pm=normkit_pm)


LINES = """
from normkit import Document, Loader, Origin, hookimpl


class Lines(Loader):
    name, suffixes, splits_on_lines = "lines", (".lines",), True

    def load(self, stream, path, first_line=1):
        for number, line in enumerate(stream, start=first_line):
            yield Document(id=f"{path}:{number}", text=line.decode().strip(), origin=Origin(path, number))


@hookimpl
def normkit_register_loaders(register):
    register(Lines)
"""


def test_a_loader_that_splits_on_lines_numbers_each_range_from_its_first_line(tmp_path: Path) -> None:
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "lines.py").write_text(LINES)
    big = tmp_path / "big.lines"
    big.write_text("".join(f"line number {n} of the file\n" for n in range(1, 401)))
    config = Config.from_mapping({"pipeline": [], "plugins": {"dirs": [str(tmp_path / "plugins")]}})
    config = config.with_overrides(run={"shard_size": 2000, "executor": "inprocess"})
    run_batch([str(big)], str(tmp_path / "out"), config)
    report = orjson.loads((tmp_path / "out" / "report.json").read_bytes())
    assert report["shards"]["total"] > 1, "the file was cut into byte ranges"
    records = [orjson.loads(line) for line in (tmp_path / "out" / "documents.jsonl").read_bytes().splitlines()]
    assert [r["origin"]["line"] for r in records] == list(range(1, 401))
    assert all(r["text"] == f"line number {r['origin']['line']} of the file" for r in records)


def test_learner_is_public_and_generic() -> None:
    assert normkit.Learner[int].__origin__ is normkit.Learner  # type: ignore[attr-defined]
