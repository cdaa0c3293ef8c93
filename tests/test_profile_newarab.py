"""The New Arab profile, and the seed article it was written for: removed exactly what an editor would."""

from __future__ import annotations

from pathlib import Path

import pluggy
from normkit_plugins import profile_newarab

from normkit import Profile, Register, hookimpl
from normkit.testing import PipelineResult, registered, run_pipeline

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_d44c365b91d9de36.txt"
TITLE = "US says Iran assisting base attacks, confirms advisors in Israel"
REMOVED = [
    TITLE,
    "3 min read",
    'John Kirby said Iran was "actively facilitating" attacks on US military bases in Iraq and other countries [Getty]',
    "Analysis",
    "Live Story",
]


def text_removed_by(result: PipelineResult, rule: str) -> list[str]:
    """Removed lines with text: a removal also takes the blank line it would leave doubled."""
    return [line for line in result.removed_by(rule) if line.strip()]


def seed_lines() -> list[str]:
    return SEED.read_text(encoding="utf-8").split("\n")


def test_seed_is_cleaned_exactly_with_the_profile(normkit_pm: pluggy.PluginManager) -> None:
    result = run_pipeline([SEED.read_text(encoding="utf-8")], pm=normkit_pm, source="newarab.com")
    result.assert_no_loss()
    doc = result.documents[0]
    assert doc.title == TITLE
    assert TITLE not in doc.text
    removed = [e.before for e in doc.edits if e.action == "removed" and e.before and e.rule != "title-line"]
    assert removed == REMOVED
    kept = [line for line in seed_lines()[1:] if line.strip() and line not in REMOVED]
    assert [line for line in doc.text.split("\n") if line.strip()] == kept
    assert "The US has accused Iran" in doc.text and "2,00 children" in doc.text
    assert text_removed_by(result, "newarab:caption-getty") == [REMOVED[2]]
    assert text_removed_by(result, "newarab:widget-label") == ["Analysis", "Live Story"]
    assert {e.plugin for e in doc.edits if e.rule.startswith("newarab:")} == {"profile_newarab"}


def test_seed_is_cleaned_the_same_by_the_builtin_rules_alone() -> None:
    import normkit

    doc = normkit.clean(SEED.read_text(encoding="utf-8"))
    assert doc.title == TITLE
    assert [e.before for e in doc.edits if e.before and e.rule != "title-line"] == REMOVED


def test_profile_matches_the_site_and_its_subdomains() -> None:
    profiles: list[Profile] = []
    profile_newarab.normkit_register_profiles(profiles.append)
    (profile,) = profiles
    assert profile.matches("newarab.com") and profile.matches("www.newarab.com")
    assert not profile.matches("example.com") and not profile.matches(None)


def test_other_sources_do_not_get_the_profile_rules(normkit_pm: pluggy.PluginManager) -> None:
    result = run_pipeline(["Some article.\n\nIn Depth\n\nMore text."], pm=normkit_pm, source="example.com")
    assert result.removed_by("newarab:widget-label") == []


class _Profile:
    """A throwaway source plugin, as a plugin author would write one."""

    @hookimpl
    def normkit_register_profiles(self, register: Register) -> None:
        rules = [{"id": "promo", "lines": ["Get the Courier app"]}]
        register(Profile("courier", ("courier.example",), {"boilerplate": {"rules": rules}}))


def test_a_plugin_profile_contributes_rules_for_its_source(normkit_pm: pluggy.PluginManager) -> None:
    text = ["Headline", "", "A sentence of the article that is long enough to count.", "Get the Courier app"]
    with registered(normkit_pm, _Profile(), name="profile_courier"):
        result = run_pipeline([text], pm=normkit_pm, source="courier.example")
    assert result.removed_by("courier:promo") == ["Get the Courier app"]
    assert [e.plugin for e in result.edits if e.rule == "courier:promo"] == ["profile_courier"]
