"""The boilerplate stage: rules as data, position, learning from the batch, and what it does with bad input."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from normkit_plugins.stage_boilerplate import BoilerplateStage

import normkit
from normkit import Config, ConfigError, Document, Pipeline, Reject

DATA = Path(__file__).parent / "data" / "boilerplate"
SENTENCE = "The council voted on Tuesday evening to keep its ferry running through the winter months."
OTHER = "Residents of the islands had warned that older people would be cut off from doctors for months."


def pipeline(**options: Any) -> Pipeline:
    return Pipeline(Config.from_mapping({"pipeline": ["boilerplate"], "stages": {"boilerplate": options}}))


def clean(text: str, source: str | None = None, **options: Any) -> Document | Reject:
    return pipeline(**options).process(Document(id="t", text=text, source=source))


def cleaned(text: str, **options: Any) -> Document:
    result = clean(text, **options)
    assert isinstance(result, Document), result
    return result


def stage(pipe: Pipeline) -> BoilerplateStage:
    found = pipe.stages[0]
    assert isinstance(found, BoilerplateStage)
    return found


def replay(text: str, doc: Document) -> list[str]:
    """The input lines minus those the boilerplate edits name: must equal the output lines."""
    gone = {e.line for e in doc.edits if e.stage == "boilerplate" and e.action == "removed"}
    return [line for number, line in enumerate(text.split("\n"), start=1) if number not in gone]


# -- fixtures and the full pipeline ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["harbour", "recipe"])
def test_fixture_cleans_to_its_expected_output(name: str) -> None:
    doc = normkit.clean((DATA / f"{name}.input.txt").read_text(encoding="utf-8"))
    assert doc.text == (DATA / f"{name}.gold.txt").read_text(encoding="utf-8").rstrip("\n")
    assert all(e.rule and e.line for e in doc.edits if e.stage in ("headline", "boilerplate"))


def test_every_removed_line_says_which_rule_removed_it() -> None:
    text = (DATA / "harbour.input.txt").read_text(encoding="utf-8")
    rules = {e.before: e.rule for e in normkit.clean(text).edits if e.stage == "boilerplate" and e.before}
    assert rules["4 min read"] == "read-time"
    assert rules["Advertisement"] == "advertisement"
    assert rules["The ferry leaving the harbour at dawn (Photo: Getty Images)"] == "caption-bracket-credit"
    assert rules["READ MORE: Island school saved after parents' campaign"] == "read-more"
    assert "Most Read" in (removed_detail(text, "New bakery opens on the market square") or "")
    assert rules["By Maria Lindqvist"] == "byline"


def removed_detail(text: str, line: str) -> str | None:
    return next(e.detail for e in normkit.clean(text).edits if e.before == line)


def test_short_lines_between_paragraphs_stay_when_no_rule_claims_them() -> None:
    text = f"{SENTENCE}\n\nThe vote\n\n{OTHER}\n\nKey dates:\n1 May\n2 June\n\n{SENTENCE}"
    assert cleaned(text).text == text


def test_edge_rules_do_not_reach_into_the_body() -> None:
    text = f"{SENTENCE}\n\n{OTHER}\n\nBy the river\n\n{OTHER}\n\n{SENTENCE}"
    assert cleaned(text).text == text
    assert cleaned(f"By Maria Lindqvist\n\n{SENTENCE}\n\n{OTHER}").text == f"{SENTENCE}\n\n{OTHER}"


def test_trailing_section_goes_but_not_when_the_article_continues() -> None:
    tail = "Most read\nStorm damages pier\nNew bakery opens"
    assert cleaned(f"{SENTENCE}\n\n{OTHER}\n\n{tail}").text == f"{SENTENCE}\n\n{OTHER}"
    kept = f"{SENTENCE}\n\nRelated stories\n\n{OTHER}"
    assert "Related" not in cleaned(kept).text and OTHER in cleaned(kept).text


# -- captions, credits, page header and footer -------------------------------------------------------------

CAPTION = "Volunteers sort donated coats in the church hall on Saturday morning."


@pytest.mark.parametrize("credit", ["Photo: Jane Doe", "Image: Harbour Camera Club"])
def test_a_sentence_with_a_credit_under_it_in_its_own_block_is_a_caption(credit: str) -> None:
    doc = cleaned(f"{SENTENCE}\n\n{CAPTION}\n{credit}\n\n{OTHER}")
    assert doc.text == f"{SENTENCE}\n\n{OTHER}"
    rules = {e.before: e.rule for e in doc.edits if e.before}
    assert rules[CAPTION] == "caption-credit"


@pytest.mark.parametrize(
    "text",
    [
        f"{SENTENCE}\n\n{CAPTION}\n\nHarbour Camera Club\n\n{OTHER}",  # the name stands alone: not a credit
        f"{SENTENCE}\n{CAPTION}\nHarbour Camera Club\n\n{OTHER}",  # the pair is part of a longer block
        f"{SENTENCE}\n\n{CAPTION}\n— Jane Doe\n\n{OTHER}",  # a quote's attribution
        f"{SENTENCE}\n\n{CAPTION}\nOpening hours 9 to 5\n\n{OTHER}",  # digits and lowercase words: not a name
    ],
)
def test_a_paragraph_followed_by_something_else_stays(text: str) -> None:
    assert cleaned(text).text == text


def test_a_sentence_ending_on_a_bare_name_stays() -> None:
    """Words after the last full stop may credit a photo or name a quotation's author: weak evidence."""
    text = f"{SENTENCE}\n\nWe will keep the ferry running through the whole winter. Harbour Council\n\n{OTHER}"
    assert cleaned(text).text == text


@pytest.mark.parametrize("name", ["Harbour Camera Club", "Jane Doe/Coastal Courier"])
def test_running_text_over_a_bare_name_stays_with_it(name: str) -> None:
    """A bare name is weak evidence: it may sign a quotation as well as credit a photo, so both lines stay."""
    text = f"{SENTENCE}\n\n{CAPTION}\n{name}\n\n{OTHER}"
    assert cleaned(text).text == text


@pytest.mark.parametrize(
    "line",
    [
        "© Jane Doe Volunteers sort donated coats in the church hall on Saturday.",  # the credit first
        "Jane Doe contributed reporting from the islands.",
    ],
)
def test_caption_and_credit_lines_go_anywhere(line: str) -> None:
    assert cleaned(f"{SENTENCE}\n\n{line}\n\n{OTHER}").text == f"{SENTENCE}\n\n{OTHER}"


def test_a_sentence_ending_on_an_abbreviation_and_a_name_is_not_a_caption() -> None:
    text = f"{SENTENCE}\n\nThe ferry was named after the first harbour master, Capt. Jane Doe\n\n{OTHER}"
    assert cleaned(text).text == text


def test_a_caption_under_the_last_paragraph_does_not_start_the_page_footer() -> None:
    tail = "Opening hours\nMonday to Friday"
    text = f"{SENTENCE}\n\n{OTHER}\n\n{CAPTION} (Photo: Jane Doe)\n\n{tail}"
    assert cleaned(text, model=False).text == f"{SENTENCE}\n\n{OTHER}\n\n{tail}"


def test_an_anywhere_rule_wins_over_an_edge_rule_claiming_the_same_line() -> None:
    # "Photo credit: X" is a labelled credit (edge only) and a credit line (anywhere)
    text = f"{SENTENCE}\n\n{OTHER}\n\nPhoto credit: Harbour Camera Club\n\n{OTHER}\n\n{SENTENCE}"
    assert "Photo credit" not in cleaned(text).text


def test_the_body_starts_after_a_page_header_below_the_standfirst_and_lead_caption() -> None:
    head = f"{OTHER}\n\n{CAPTION}\n\nJane Doe\n\nBy Jane Doe\nNovember 15, 2019\n\n"
    body = f"{SENTENCE}\n\n{OTHER}\n\n{SENTENCE}"
    doc = cleaned(head + body)
    assert doc.text == f"{OTHER}\n\n{CAPTION}\n\n{body}"  # sentences stay; the header's other lines go


def test_dates_in_a_list_are_no_page_header() -> None:
    text = f"{SENTENCE}\n\nKey dates:\n1 May\n2 June\n\n{OTHER}\n\n{SENTENCE}"
    assert cleaned(text).text == text


def test_the_article_ends_before_a_page_footer_near_its_end() -> None:
    footer = "Share on Facebook\nShare on Twitter\n4553\n\nAdd more\n\nToo many posts today. Come back after lunch."
    doc = cleaned(f"{SENTENCE}\n\n{OTHER}\n\n{SENTENCE}\n\n{footer}")
    assert doc.text == f"{SENTENCE}\n\n{OTHER}\n\n{SENTENCE}\n\nToo many posts today. Come back after lunch."


def test_headlines_ending_on_a_quote_are_no_sentences_so_a_link_list_above_the_article_goes() -> None:
    links = "\n\n".join(f"Mayor {verb} Ferry Critics Over ‘Winter Timetable’" for verb in ("Slams", "Meets", "Thanks"))
    doc = cleaned(f"Latest news\n\n{links}\n\nMost read\n\n{SENTENCE}\n\n{OTHER}\n\n{SENTENCE}")
    assert doc.text == f"{SENTENCE}\n\n{OTHER}\n\n{SENTENCE}"


def test_short_exclamations_above_the_article_are_no_list_of_links() -> None:
    lines = "Autumn is here!\n\nThe harbour festival\n\nWhat a day!\n\nThe crowd came early"
    text = f"By Jane Doe\n\n{lines}\n\n{SENTENCE}\n\n{OTHER}"
    assert cleaned(text, model=False).text == f"{lines}\n\n{SENTENCE}\n\n{OTHER}"


def test_a_headline_glued_above_a_read_more_link_is_its_teaser() -> None:
    doc = cleaned(f"{SENTENCE}\n\nFerry Timetable Changes for the Winter\nRead more\n\n{OTHER}")
    assert doc.text == f"{SENTENCE}\n\n{OTHER}"
    kept = f"{SENTENCE}\n{OTHER}\nRead more\n\n{SENTENCE}"  # a sentence above the link stays
    assert cleaned(kept).text == f"{SENTENCE}\n{OTHER}\n\n{SENTENCE}"


@pytest.mark.parametrize(
    "line",
    [
        "Comments are moderated.",
        "Comentários ofensivos serão apagados pelo moderador.",
        "Your comment is too long to post",
    ],
)
def test_comment_form_messages_go(line: str) -> None:
    assert cleaned(f"{SENTENCE}\n\n{line}\n\n{OTHER}").text == f"{SENTENCE}\n\n{OTHER}"


@pytest.mark.parametrize("heading", ["関連記事", "Leia também", "Читайте также", "Lesen Sie auch"])
def test_related_headings_in_other_languages_end_the_article(heading: str) -> None:
    doc = cleaned(f"{SENTENCE}\n\n{OTHER}\n\n{heading}\n\nFerry timetable changes\n\nNew bakery opens")
    assert doc.text == f"{SENTENCE}\n\n{OTHER}"


def test_a_results_table_row_is_not_a_date() -> None:
    text = f"{SENTENCE}\n\nFinal standings:\n1 Kyle Marsh 5040\n2 Martin Truelove 5035\n\n{OTHER}\n\n{SENTENCE}"
    assert cleaned(text).text == text


# -- rules from the configuration ---------------------------------------------------------------------------


def test_config_rules_are_named_config_and_win_over_builtin() -> None:
    rules = [{"id": "promo", "lines": ["Buy the print edition"]}, {"id": "ads", "pattern": "advertisement"}]
    doc = cleaned(f"{SENTENCE}\nBuy the print edition\nAdvertisement\n{OTHER}", rules=rules)
    assert [e.rule for e in doc.edits] == ["config:promo", "config:ads"]


def test_builtin_rules_can_be_disabled_by_id_or_class() -> None:
    text = f"{SENTENCE}\n\n{OTHER}\n\nAdvertisement\n\n3 min read\n\n{OTHER}\n\n{SENTENCE}"
    assert "Advertisement" in cleaned(text, disable=["advertisement"]).text
    assert "3 min read" in cleaned(text, disable=["read-time"]).text
    assert cleaned(text, builtin=False).text == text


def test_unknown_option_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"stages\.boilerplate"):
        pipeline(rulez=[])


def test_rule_that_does_not_compile_names_the_rule() -> None:
    with pytest.raises(ConfigError, match=r"'config:broken'.*does not compile"):
        pipeline(rules=[{"id": "broken", "pattern": "(unclosed"}])


def test_backreferences_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"'config:twice'.*backreferences"):
        pipeline(rules=[{"id": "twice", "pattern": r"(\w+) \1"}])


def test_catastrophic_pattern_is_refused_at_start_up() -> None:
    started = time.perf_counter()
    with pytest.raises(ConfigError, match=r"'config:evil'.*backtracks catastrophically"):
        pipeline(rules=[{"id": "evil", "pattern": r"(a|aa)+b"}])
    assert time.perf_counter() - started < 2


def test_catastrophic_pattern_the_probes_miss_costs_one_line_not_the_run() -> None:
    text = f"{SENTENCE}\n{'x' * 40}\n{OTHER}"
    started = time.perf_counter()
    doc = cleaned(text, rules=[{"id": "slow", "pattern": r"(x|xx)+y"}], regex_timeout=0.01)
    assert time.perf_counter() - started < 2
    assert doc.text == text
    assert [f.code for f in doc.flags] == ["rule-timeout"]


# -- bad input ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "\n\n", "   "])
def test_empty_documents_pass_unchanged(text: str) -> None:
    doc = cleaned(text)
    assert doc.text == text and doc.edits == () and doc.flags == ()


def test_only_boilerplate_is_flagged_by_default() -> None:
    doc = cleaned("Advertisement\nShare this article\nFacebook\n3 min read")
    assert doc.text == ""
    assert [f.code for f in doc.flags] == ["boilerplate-only"]
    assert "4 lines removed" in doc.flags[0].detail


def test_only_boilerplate_is_rejected_when_the_policy_says_so() -> None:
    result = clean("Advertisement\nShare this article", on_empty="reject")
    assert isinstance(result, Reject)
    assert result.reason == "only boilerplate: all 2 lines removed"
    assert result.stage == "boilerplate"


def test_heavy_loss_is_flagged() -> None:
    junk = "\n".join(["Advertisement", "Share this article", "Facebook", "Twitter", "Email", "3 min read"] * 3)
    doc = cleaned(f"{junk}\n\nShort body.", max_removed_share=0.2)
    assert "boilerplate-heavy" in [f.code for f in doc.flags]


def test_hundred_thousand_lines_are_cleaned() -> None:
    """How long it takes is benchmarks/pathological.py's question; here, that nothing is lost."""
    block = [SENTENCE, "", "Advertisement", "", OTHER, "", "Photo: Jane Doe/Getty Images", ""]
    text = "\n".join(block * 12_500)
    result = pipeline().process(Document(id="big", text=text))
    assert isinstance(result, Document)
    assert result.text.count("Advertisement") == 0 and result.text.count(SENTENCE) == 12_500


def test_a_one_megabyte_line_is_kept() -> None:
    huge = ("word " * 200_000).strip() + "."
    doc = cleaned(f"{SENTENCE}\n{huge}\nAdvertisement")
    assert doc.text == f"{SENTENCE}\n{huge}"


# -- properties ---------------------------------------------------------------------------------------------

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=9)
PROSE = st.lists(WORD, min_size=10, max_size=30).map(lambda words: " ".join(words).capitalize() + ".")
JUNK = st.sampled_from(["Advertisement", "Share", "Facebook", "3 min read", "Most read", "Image 2 of 9", "Photo: AP"])
LINE = st.one_of(PROSE, JUNK, WORD, st.just(""))
TEXTS = st.lists(LINE, max_size=30).map("\n".join)
SHARED = pipeline()


@settings(max_examples=150, deadline=None)
@given(TEXTS)
def test_cleaning_twice_changes_nothing(text: str) -> None:
    once = SHARED.process(Document(id="p", text=text))
    assert isinstance(once, Document)
    twice = SHARED.process(Document(id="p", text=once.text))
    assert isinstance(twice, Document)
    assert twice.text == once.text


@settings(max_examples=150, deadline=None)
@given(st.lists(PROSE, min_size=1, max_size=20, unique=True), st.booleans())
def test_ordinary_sentences_are_never_removed(sentences: list[str], blank: bool) -> None:
    text = ("\n\n" if blank else "\n").join(sentences)
    doc = SHARED.process(Document(id="p", text=text))
    assert isinstance(doc, Document)
    assert doc.text == text


@settings(max_examples=150, deadline=None)
@given(TEXTS)
def test_edits_account_exactly_for_the_removed_lines(text: str) -> None:
    doc = SHARED.process(Document(id="p", text=text))
    assert isinstance(doc, Document)
    if not text.strip():
        return
    assert replay(text, doc) == (doc.text.split("\n") if doc.text else [])
    assert all(e.before == text.split("\n")[e.line - 1] for e in doc.edits if e.line)


# -- learning from the batch --------------------------------------------------------------------------------


TOWNS = ["Ystad", "Malmo", "Lund", "Visby", "Kalmar", "Umea", "Lulea", "Boras", "Falun", "Gavle", "Boden", "Kiruna"]


def article(number: int) -> str:
    """A story of the Courier: its own sentences, a camera credit and a prompt every story carries."""
    town = TOWNS[number % len(TOWNS)]
    return (
        f"Harbour cam view {number} of 12\n\nThe council of {town} voted on Tuesday to keep its ferry running.\n\n"
        "Support local journalism for 1 euro a week\n\n"
        f"Residents of {town} had warned that older people would be cut off."
    )


def learned_stage(**options: Any) -> tuple[BoilerplateStage, Any]:
    """A stage that observed ten documents of one source in two shards, merged like the executor does."""
    pipe = pipeline(learn_min_documents=3, learn_min_share=0.5, **options)
    first = stage(pipe)
    states = []
    for shard in (range(5), range(5, 10)):
        for number in shard:
            first.observe(Document(id=str(number), text=article(number), source="courier.example"))
        states.append(first.learned())
    merged = BoilerplateStage.merge_learned(states)
    first.apply_learned(merged)
    return first, merged


def test_lines_repeating_across_a_source_are_learned_with_digits_masked() -> None:
    learner, _ = learned_stage()
    doc = learner.process(Document(id="x", text=article(99), source="courier.example"))
    removed = {e.before: e for e in doc.edits if e.before}
    assert set(removed) == {"Harbour cam view 99 of 12", "Support local journalism for 1 euro a week"}
    assert {e.rule for e in removed.values()} == {"learned"}
    assert "10 documents" in (removed["Harbour cam view 99 of 12"].detail or "")


def test_learning_is_per_source() -> None:
    learner, _ = learned_stage()
    doc = learner.process(Document(id="x", text=article(1), source="other.example"))
    assert doc.edits == ()


def test_learned_state_holds_hashes_and_drains_between_shards() -> None:
    learner, merged = learned_stage()
    assert learner.learned() == {}
    counts = merged["courier.example"]
    assert counts.documents == 10
    assert all(isinstance(key, int) for key in counts.counts)


def test_saved_file_is_reviewable_and_can_be_pinned(tmp_path: Path) -> None:
    learner, merged = learned_stage()
    learner.save_learned(merged, tmp_path)
    saved = json.loads((tmp_path / "learned-boilerplate.json").read_text(encoding="utf-8"))
    lines = saved["sources"]["courier.example"]
    assert sorted((line["text"], line["documents"]) for line in lines) == [
        ("Harbour cam view 0 of 12", 10),
        ("Support local journalism for 1 euro a week", 10),
    ]
    lines[:] = [line for line in lines if line["text"].startswith("Harbour")]
    lines.append({"text": "Residents of Ystad had warned that older people would be cut off.", "documents": 0})
    (tmp_path / "reviewed.json").write_text(json.dumps(saved), encoding="utf-8")
    pinned = pipeline(learned_file=str(tmp_path / "reviewed.json"))
    assert not stage(pinned).learns
    doc = pinned.process(Document(id="x", text=article(12), source="courier.example"))
    assert [e.rule for e in doc.edits if e.before] == ["learned", "learned"]
    assert "Residents of Ystad" not in doc.text and "Support local journalism" in doc.text


def test_unreadable_learned_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(ConfigError, match="learned_file"):
        pipeline(learned_file=str(tmp_path / "bad.json"))


def test_learning_can_be_switched_off() -> None:
    assert not stage(pipeline(learn=False)).learns
    assert stage(pipeline()).learns


# -- folding a line: the fast path for single-spaced lines is the plain fold (issue 15) -------------------------


def _plain_fold(line: str) -> str:
    return " ".join(line.casefold().split()).rstrip(":|").rstrip()


# every kind of whitespace, separators, controls and case pairs that fold to several characters
_FOLD_TEXT = st.text(
    st.sampled_from(" \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u1680\u180e\u2000\u2028\u202f\u3000\u200b:|ßİΣﬁaZ1.")
    | st.characters(),
    max_size=40,
)


@given(_FOLD_TEXT)
def test_fold_is_the_plain_fold(line: str) -> None:
    from normkit_plugins._boilerplate_rules import fold

    assert fold.__wrapped__(line) == _plain_fold(line)


def test_no_printable_character_but_the_space_splits_words() -> None:
    """What the fast path of ``fold`` rests on, checked over every code point."""
    splitting = [c for c in map(chr, range(0x110000)) if len(f"a{c}b".split()) != 1 and c.isprintable()]
    assert splitting == [" "]


# -- the fast matcher finds what the plain alternation finds (issue 6: speed without changing output) ---------


def _plain_match(rules: Any, line: str) -> Any:
    """The matcher before prefilters: one alternation of every pattern, the first branch that fullmatches."""
    from normkit_plugins._boilerplate_rules import SHORT_LINE_WORDS, fold

    rule = rules.exact.get(fold(line))
    if rule is not None:
        return rule
    words = line.count(" ") + 1
    pattern = rules._compile(rules._patterned if words <= SHORT_LINE_WORDS else rules._long)
    found = pattern.fullmatch(line) if pattern is not None else None
    rule = rules._by_group[found.lastgroup] if found else None
    return None if rule is None or (rule.max_words or words) < words else rule


TRICKY = [
    "Protesters gather outside the ministry on Tuesday, calling for reform [Getty]",
    "A chart of the lake. (Survey/Lab/Univ)",
    "Officials met at 9:30 to discuss the budget and the ferry contract for next year",
    "Sign up for our daily newsletter to get the latest news delivered to your ınbox",
    "This website uses cookies to improve your experience; see our privacy policy.",
    "Each comment is checked by a moderator before it shows up here.",
    "The drug was approved after a long trial and comments from doctors around the country. Getty",
    "photos © Studio Name, 2018",
    "Jane Doe contributed reporting from Lagos.",
    "KELVIN SIGN \u212a AND LONG \u017f AND DOTTED \u0130 LETTERS IN A LONG LINE OF SHOUTED TEXT HERE",
    # lines opening with the words of open rules, which are tried by their first character
    "Read more: Harbour town votes to keep its ferry",
    "Image copyright Getty Images",
    "\u212aeywords: ferry, harbour",
    "\u017fhare all sharing options for: Harbour town",
    "Tags: ferry, harbour, council",
    "Updated 12:30 GMT, 18 November",
    "12:30Harbour town votes to keep its ferry",
    "© Jane Doe Harbour town votes to keep its ferry running",
    "“Above: the ferry at dawn",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*TRICKY, "Getty", "[", "(", "©", "@x", "12", "Nov 18", "a"]), max_size=6))
def test_prefiltered_matcher_agrees_with_the_plain_alternation(parts: list[str]) -> None:
    from normkit_plugins._boilerplate_rules import RuleSet, builtin_rules

    rules = RuleSet(builtin_rules())
    line = " ".join(parts).strip()
    if line:
        assert rules.match(line) == _plain_match(rules, line)


def test_prefiltered_matcher_agrees_on_the_fixtures() -> None:
    from normkit_plugins._boilerplate_rules import RuleSet, builtin_rules

    rules = RuleSet(builtin_rules())
    lines = {line.strip() for path in DATA.glob("*.txt") for line in path.read_text(encoding="utf-8").split("\n")}
    for line in sorted({*lines, *TRICKY} - {""}):
        assert rules.match(line) == _plain_match(rules, line), line


def test_norm_finds_every_letter_re_matches_case_insensitively() -> None:
    """Every character ``(?i)x`` matches must hold ``x`` once normed, or a prefilter could wrongly reject it."""
    import re
    import string

    from normkit_plugins._boilerplate_prefilter import norm

    everything = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    for letter in string.ascii_lowercase:
        for twin in set(re.findall(f"(?i){letter}", everything)):
            assert letter in norm(twin), (letter, twin)


def test_observed_samples_are_the_first_text_of_a_line_whatever_the_hash_seed() -> None:
    from normkit_plugins._boilerplate_learn import LineCounter, line_hash

    counter = LineCounter()
    counter.observe("s", ["Image 3 of 12", "image 4 of 12", "IMAGE 5 OF 12"])
    assert counter.drain()["s"].samples == {line_hash("Image 3 of 12"): "Image 3 of 12"}


def _admitted_first(gated: Any, line: str) -> Any:
    """The gated matcher without its per-shape screen: every rule's whole prefilter, then its regex."""
    from normkit_plugins._boilerplate_prefilter import norm

    found = gated.alternation(line)
    until, rule = gated.open[found.lastgroup] if found and found.lastgroup else (gated.end, None)
    for position, candidate, gate, fullmatch in gated.gated:
        if position < until and gate.admits(line, norm(line)) and fullmatch(line):
            return candidate
    return rule


KEYWORDS = ["photo", "©", "/", "credit", "newsletter", "cookie ", "9:30", "editor", "is", "[video]", "Getty", "12"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*KEYWORDS, *TRICKY, "a", "The", ".", ")", "]"]), min_size=1, max_size=8))
def test_shape_screen_never_hides_a_rule_the_prefilters_admit(parts: list[str]) -> None:
    from normkit_plugins._boilerplate_rules import RuleSet, builtin_rules

    rules = RuleSet(builtin_rules())
    line = " ".join(parts).strip()
    for gated in (rules._gated_short, rules._gated_long):
        assert gated.first(line) == _admitted_first(gated, line), line


def test_needed_strings_drop_only_those_holding_a_shorter_one() -> None:
    from normkit_plugins._boilerplate_rules import _minimal

    assert _minimal({"comment", "comments", "your comment", "inbox", "/"}) == ("/", "comment", "inbox")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*KEYWORDS, *TRICKY, "Most read", "Related", "a", "The", "."]), min_size=1, max_size=8))
def test_a_set_within_another_matches_what_it_matches_alone(parts: list[str]) -> None:
    """The section headings skip lines the whole builtin set leaves untouched: the answer must not change."""
    from normkit_plugins._boilerplate_rules import RuleSet, builtin_rules

    rules = builtin_rules()
    sections = [rule for rule in rules if rule.section]
    everything = RuleSet(rules)
    line = " ".join(parts).strip()
    assert RuleSet(sections, within=everything).match(line) == RuleSet(sections).match(line), line


def test_a_set_is_only_within_a_trusted_set_holding_all_its_rules() -> None:
    from normkit_plugins._boilerplate_rules import RuleSet, builtin_rules

    rules = builtin_rules()
    with pytest.raises(ValueError, match="within"):
        RuleSet(rules, within=RuleSet(rules[:3]))


@given(st.text(alphabet=" \t\u00a0\u2003ab.’", max_size=60))
def test_words_are_split_on_any_space(line: str) -> None:
    from normkit_plugins._boilerplate_lines import line_facts

    assert line_facts([line]).words == [len(line.split())]


@given(st.text(alphabet="中文한ไทย，。", min_size=1, max_size=60))
def test_scripts_without_spaces_count_two_characters_a_word(line: str) -> None:
    from normkit_plugins._boilerplate_lines import line_facts

    assert line_facts([line]).words == [max(1, len(line) // 2)]


def test_a_sentence_opening_with_a_date_label_word_is_not_a_timestamp() -> None:
    """A "Published ..." line that is a whole sentence is the article, not its date line."""
    text = "Published aa aa aa aa aa aa aa aa aa."
    assert cleaned(text).text == text
    assert cleaned(f"Updated: 3 Mar 2021 7:05 am\n\n{SENTENCE}").text == SENTENCE


def test_a_learned_line_with_a_trailing_separator_word_is_still_found() -> None:
    """Lines with more words than any learned text are not hashed; a trailing "|" is folded into the hash."""
    learner, _ = learned_stage()
    assert learner.learned_words["courier.example"] == 8 + 1  # "Support local journalism for 1 euro a week"
    text = "Support local journalism for 7 euro a week |\n\nThe council voted on Tuesday to keep its ferry running."
    doc = learner.process(Document(id="x", text=text, source="courier.example"))
    assert [e.rule for e in doc.edits if e.before.startswith("Support")] == ["learned"]


def test_language_probes_read_only_the_head_of_each_stoplist() -> None:
    """The probes are each list's first distinct words, as the whole list orders them; ties go to the longer
    list, whose size is read only when a tie asks for it."""
    from normkit_plugins import _boilerplate_stopwords as stop

    folder = stop._folder()
    assert folder is not None
    for path in sorted(folder.glob("*.txt"))[:20]:
        assert stop._head(path) == list(stop._ranked(path.stem)[: stop.PROBE_WORDS])
    english = [
        "the",
        "of",
        "and",
        "to",
        "in",
        "is",
        "that",
        "it",
        "was",
        "for",
        "on",
        "are",
        "with",
        "as",
        "his",
        "they",
        "at",
        "be",
        "this",
        "from",
    ]
    assert stop.detect_language(english * 3) == "English"  # Simple_English shares these words; its list is shorter
