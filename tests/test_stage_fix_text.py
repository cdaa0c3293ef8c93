"""The fix_text stage: its options are checked before anything runs, and a source's profile may set its own."""

from __future__ import annotations

import pytest

from normkit import Config, ConfigError, Document, Pipeline, get_plugin_manager

MOJIBAKE = "The cafÃ© opens at nine."


def pipeline(config: dict) -> Pipeline:
    return Pipeline(
        Config.from_mapping({"pipeline": ["fix_text"], **config}), pm=get_plugin_manager(load_entrypoints=False)
    )


def test_a_misspelt_option_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"stages.fix_text: .*'fix_encodng' was unexpected"):
        pipeline({"stages": {"fix_text": {"fix_encodng": False}}})


def test_the_schema_says_the_defaults_the_code_uses() -> None:
    from normkit_plugins.stage_fix_text import FixTextStage

    properties = FixTextStage.options_schema["properties"]
    assert properties["preset"]["default"] == "safe" and properties["uncurl_quotes"]["default"] is False
    assert properties["fix_encoding"]["default"] is True


def test_a_profile_sets_options_for_its_source_only() -> None:
    profile = {"sources": ["archive.example.org"], "stages": {"fix_text": {"fix_encoding": False}}}
    pipe = pipeline({"profiles": {"archive": profile}})
    fixed = pipe.process(Document(id="a", text=MOJIBAKE, source="news.example.org"))
    kept = pipe.process(Document(id="b", text=MOJIBAKE, source="archive.example.org"))
    assert isinstance(fixed, Document) and fixed.text == "The café opens at nine."
    assert isinstance(kept, Document) and kept.text == MOJIBAKE
