"""Bounded time in the boilerplate stage: builtin patterns stay fast on adversarial lines, timed patterns share a
budget per document, and a pathological line costs milliseconds (issue: bounded time)."""

from __future__ import annotations

import contextlib
import itertools
import re
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
import regex
from normkit_plugins._boilerplate_prefilter import _literal_chars, ambiguous_repeat, prefilter, safe_prefix
from normkit_plugins._boilerplate_rules import AIMED, GUARD_CHARS, Budget, Rule, RuleSet, builtin_rules

from normkit import Config, ConfigError, Document, Pipeline
from normkit.text import sre_ops as _c
from normkit.text import sre_parse

#: CPU seconds one fullmatch of a builtin pattern may take on a probe: a linear match takes microseconds, a
#: catastrophic one seconds; this much leaves room for a loaded two-core CI machine.
CPU_BUDGET = 0.2
#: wall seconds after which a probe is given up (the regex module's timeout; a signal for re).
HANG = 1.0
#: what an attacker repeats: whitespace a count of spaces misses, slashes of credits, word characters, a word
#: with its separator, and runs of whitespace between slashes.
SEPARATORS = (
    *("\t", "\xa0", "\u2003", " ", "/", "\t\t", " \xa0", ", "),
    *("\t/\t", "\xa0/\xa0", " / ", "\u2003/\u2003", "\t" * 8 + "/", "\xa0" * 8 + "/"),
    *("a", "A", "1", "A1 "),
)
#: what a probe ends with: nothing (it may match), or a character the pattern's classes probably refuse, so
#: the match fails at the very end, after trying everything before it.
TAILS = ("", "!", "\x00")
#: probe lengths; a pattern bounded by a lookahead (``(?=.{0,160}$)``) is probed just inside its bound too.
SIZES = (200, 1000)
#: samples kept per parse item and heads kept per pattern: enough to reach each branch, few enough to be quick.
VARIANTS, HEADS = 3, 12
_CATEGORY = {_c.CATEGORY_SPACE: " ", _c.CATEGORY_DIGIT: "1", _c.CATEGORY_WORD: "a"}

# -- adversarial probes, built from each pattern's own literals and separators ------------------------------


def _sample_char(items: Sequence[Any]) -> str:
    """A character a character class matches (its first literal, range start or category)."""
    for op, av in items:
        if op is _c.LITERAL:
            return chr(av)
        if op is _c.RANGE:
            return chr(av[0])
        if op is _c.CATEGORY:
            return _CATEGORY.get(av, "a")
    return "a"


def _item_samples(op: Any, av: Any) -> list[str]:
    """A few short strings one parse item matches (the first branches, the fewest repeats)."""
    if op is _c.LITERAL:
        return [chr(av)]
    if op is _c.NOT_LITERAL:
        return ["b" if chr(av) == "a" else "a"]
    if op is _c.ANY:
        return ["a"]
    if op is _c.IN:
        return [_sample_char(av)]
    if op is _c.SUBPATTERN:
        return _samples(av[-1])
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
        inner = _samples(av[2])
        return [s * max(av[0], 1) for s in inner] if av[0] else ["", inner[0]]
    if op is _c.BRANCH:
        return [_samples(branch)[0] for branch in av[1]]
    return [""]  # zero width: anchors, lookarounds


def _samples(items: Sequence[Any]) -> list[str]:
    """A few strings a sequence of parse items may match, so a probe gets past the pattern's first parts."""
    found = [""]
    for op, av in items:
        tails = _item_samples(op, av)[:VARIANTS]
        found = list(dict.fromkeys(head + tail for head in found for tail in tails))[:VARIANTS]
    return found


def _sequences(items: Sequence[Any]) -> list[list[Any]]:
    """The pattern's top-level alternatives, each a sequence of its own."""
    items = list(items)
    while len(items) == 1 and items[0][0] is _c.SUBPATTERN:
        items = list(items[0][1][-1])
    if len(items) == 1 and items[0][0] is _c.BRANCH:
        return [seq for branch in items[0][1][1] for seq in _sequences(branch)]
    return [items]


def _heads(parsed: Sequence[Any]) -> list[str]:
    """Prefixes that take a line into each part of the pattern: samples of its first 0, 1, 2 ... items."""
    found: dict[str, None] = {"": None}
    for items in _sequences(parsed):
        for end in range(1, len(items) + 1):
            if items[end - 1][0] is _c.LITERAL and end < len(items) and items[end][0] is _c.LITERAL:
                continue  # inside a word
            found.update(dict.fromkeys(_samples(items[:end])))
    heads = list(found)
    return heads[:: max(1, len(heads) // HEADS)][:HEADS]


def _units(pattern: str, parsed: Sequence[Any]) -> list[str]:
    """What a probe repeats: the separators, the pattern's words after a separator, its punctuation after a letter."""
    words = list(dict.fromkeys(re.findall(r"[^\W\d_]{2,}", pattern)))[:6]  # the parser splits shared prefixes
    punctuation = [c for c in dict.fromkeys(_literal_chars(list(parsed))) if not c.isalnum() and not c.isspace()][:8]
    units = [*SEPARATORS, *(s + w for w in [*words, "A1"] for s in ("\t", "\xa0", " ")), *(w + " " for w in words)]
    for mark in punctuation:
        units += [mark, "a" + mark, "A" + mark, mark + "a"]
    return list(dict.fromkeys(units))


def probe_lines(pattern: str, *, ignorecase: bool) -> Iterator[str]:
    """Lines of up to 1000 characters built to make ``pattern`` backtrack: a head reaching into the pattern,
    one unit repeated, and a tail that may make the match fail only at the very end."""
    parsed = sre_parse(pattern, re.IGNORECASE if ignorecase else 0)
    bound = prefilter(pattern, ignorecase=ignorecase).max_len
    sizes = sorted({*SIZES, *([bound - 2] if 3 < bound < max(SIZES) else [])})
    for head, unit, size, tail in itertools.product(_heads(parsed), _units(pattern, parsed), sizes, TAILS):
        body = head + unit * ((size - len(head)) // len(unit) + 1)
        yield body[: size - len(tail)] + tail


@contextlib.contextmanager
def _cpu_limit(seconds: float) -> Iterator[bool]:
    """Interrupt :mod:`re` (it checks for signals as it backtracks) after ``seconds`` of CPU, where signals work."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield False
        return

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError

    previous = signal.signal(signal.SIGVTALRM, expire)
    signal.setitimer(signal.ITIMER_VIRTUAL, seconds)
    try:
        yield True
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, previous)


def _cpu_seconds(run: Any, line: str) -> float:
    """CPU time of ``run(line)``; a run that hangs past ``HANG`` counts as ``HANG``."""
    started = time.process_time()
    try:
        run(line)
    except TimeoutError:
        return max(HANG, time.process_time() - started)
    return time.process_time() - started


def slowest_probe(rule: Rule) -> tuple[float, str]:
    """The first probe a fullmatch of ``rule`` spends over ``CPU_BUDGET`` on (in regex; in re up to
    ``GUARD_CHARS``, the lines re serves), or the slowest probe when none does."""
    body = f"(?:{rule.pattern})" if rule.case else f"(?i:{rule.pattern})"
    in_regex, in_re = regex.compile(body).fullmatch, re.compile(body).fullmatch
    worst = (0.0, "")
    for line in probe_lines(rule.pattern or "", ignorecase=not rule.case):
        spent = _cpu_seconds(lambda text: in_regex(text, timeout=HANG), line)
        if len(line) <= GUARD_CHARS:
            with _cpu_limit(HANG) as limited:
                if limited:
                    spent = max(spent, _cpu_seconds(in_re, line))
        worst = max(worst, (spent, line))
        if spent > CPU_BUDGET:
            break
    return worst


def _probe_params() -> list[Any]:
    """One test per builtin pattern, read from the rule set, so a new rule is probed too."""
    params = []
    for rule in builtin_rules():
        if not rule.pattern:
            continue
        params.append(pytest.param(rule, id=rule.id))
    return params


@pytest.mark.parametrize("rule", _probe_params())
def test_builtin_pattern_stays_fast_on_adversarial_probes(rule: Rule) -> None:
    spent, line = slowest_probe(rule)
    assert spent <= CPU_BUDGET, f"{rule.id}: {spent:.3f}s CPU on {line[:80]!r}... ({len(line)} characters)"


def test_probes_reach_past_a_pattern_head_and_its_separators() -> None:
    credit = r"(?:credits?|courtesy(?: of)?)\s*[^.!?]{1,80}?(?:\s*/\s*[^.!?]{1,40}){0,3}"
    lines = set(probe_lines(credit, ignorecase=True))
    assert ("courtesy" + "\t/\t" * 400)[:999] + "!" in lines  # the red-team line, longer
    assert "credit" + "\xa0" * 193 + "\x00" in lines
    assert ("courtesy" + "\t" * 8 + "/")[:199] + "!" in lines or ("courtesy" + ("\t" * 8 + "/") * 30)[
        :199
    ] + "!" in lines


def test_probes_find_a_catastrophic_pattern() -> None:
    spent, line = slowest_probe(Rule("slow", pattern=r"(?:\w+[ ,]*){1,9}\."))
    assert spent > CPU_BUDGET, line


# -- the guard on builtin patterns ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "run"),
    [
        (r"(?:\s*/\s*[^.!?]{1,40}){0,3}", "/"),
        (r"(?:\w+[ ,/&]*(?:and |or )?){1,5}", "a"),
        (r"by (?:[ ,&|-]+[\w.'-]+){0,14}", "-"),
        (r"(x|xx)+y", "x"),
    ],
)
def test_ambiguous_repeats_are_found(pattern: str, run: str) -> None:
    assert ambiguous_repeat(pattern, ignorecase=True) == run


@pytest.mark.parametrize(
    "pattern",
    [
        r"(?:[\w.'’-]+ ){0,4}[\w.'’-]*\s*@\w{2,30}",
        r"(?!(?:\S+\s+){7}.*[.!?]$)published.{1,120}",
        r"[^.!?/]{1,80}?(?:/[^.!?/]{1,40}){0,3}",
        r"\s*\d+",
    ],
)
def test_repeats_that_split_runs_one_way_are_not(pattern: str) -> None:
    assert ambiguous_repeat(pattern, ignorecase=True) is None


def test_a_builtin_pattern_that_backtracks_runs_under_the_timeout() -> None:
    rules = RuleSet([Rule("rows", pattern=r"rows (?:\w+[ ,]*){1,9}[.!]"), Rule("plain", pattern=r"rows: \d+")])
    line = "rows " + "a" * 300 + "\x00!"  # ends as a match would: the prefilter lets it through
    started = time.process_time()
    assert rules.match(line) is None  # no budget (the layout asking): out of time means no claim
    with pytest.raises(TimeoutError):
        rules.match(line, Budget(1.0))
    assert time.process_time() - started < 4 * CPU_BUDGET
    assert rules.match("rows alpha, beta.").id == "rows"  # type: ignore[union-attr]
    assert rules.match("rows: 12", Budget(0)).id == "plain"  # type: ignore[union-attr]  # re: never timed


def test_a_long_line_meets_every_builtin_pattern_under_the_timeout() -> None:
    tags = [Rule("tags", pattern=r"tags?\s*:?\s*.{0,3000}")]
    short, long = "tags: " + "ferry " * 60, "tags: " + "ferry " * 300
    assert len(short) <= GUARD_CHARS < len(long)
    assert RuleSet(tags).match(short, Budget(0)).id == "tags"  # type: ignore[union-attr]  # re, never timed
    assert RuleSet(tags).match(long, Budget(1.0)).id == "tags"  # type: ignore[union-attr]
    with pytest.raises(TimeoutError):
        RuleSet(tags).match(long, Budget(0))


#: lines a guarded builtin rule (run by regex) must judge as re would: bylines, follow prompts, near misses.
EVERYDAY = [
    "By Mara Quell",
    "By Mara Quell, Staff Writer",
    "By Mara Quell | Harbour Gazette |",
    "Von Hans-Otto Brenner",
    "Par Jean-Luc Ferrand, envoyé spécial",
    "By: Tomas Ilie and Ruth Okafor",
    "By Mara Quell @maraquell",
    "by the old pier the boats waited",
    "Follow us on Twitter and Facebook",
    "Like us on Facebook!",
    "Follow us on Mastodon, Bluesky or Threads.",
    "Follow us on the harbour walk this Sunday and bring a friend",
]


def test_guarded_builtin_rules_answer_as_re_does() -> None:
    guarded = [rule for rule in builtin_rules() if rule.pattern and ambiguous_repeat(rule.pattern, ignorecase=True)]
    for rule in guarded:
        body = f"(?:{rule.pattern})" if rule.case else f"(?i:{rule.pattern})"
        for line in EVERYDAY:
            expected = rule if re.fullmatch(body, line) and len(line.split()) <= (rule.max_words or 99) else None
            assert RuleSet([rule]).match(line, Budget(1.0)) == expected, (rule.id, line)


def test_the_safe_prefix_stops_before_the_first_repeated_group() -> None:
    prefix = safe_prefix(r"by\s+[A-Z]\w*(?:[ ,-]+\w+){0,4}", ignorecase=False)
    assert prefix("by Mara Quell") is not None and prefix("by mara") is None
    assert safe_prefix(r"(?:\w+ ?){1,5}", ignorecase=True) is None  # nothing before it: no filter


@pytest.mark.parametrize("space", ["\t", "\xa0", "\u2003"])
def test_any_whitespace_separates_words_for_max_words(space: str) -> None:
    rules = RuleSet([Rule("credit", pattern=r"credit\s*.{1,200}", max_words=3)])
    assert rules.match(space.join(["Credit", "Jo", "Rivers"])).id == "credit"  # type: ignore[union-attr]
    assert rules.match(space.join(["Credit", "Jo", "Rivers", "Studio"])) is None
    assert rules.match("Credit" + (space + "/") * 120) is None


PATHOLOGICAL = list(AIMED)


@pytest.mark.parametrize("line", PATHOLOGICAL, ids=range(len(PATHOLOGICAL)))
def test_a_pathological_line_costs_milliseconds_in_the_builtin_rules(line: str) -> None:
    rules = RuleSet(builtin_rules())
    started = time.process_time()
    with contextlib.suppress(TimeoutError):  # a guarded pattern ran out of its 0.05 s
        rules.match(line, Budget(1.0))
    assert time.process_time() - started < CPU_BUDGET


# -- the budget per document ---------------------------------------------------------------------------------


def _pipeline(**options: Any) -> Pipeline:
    return Pipeline(Config.from_mapping({"pipeline": ["boilerplate"], "stages": {"boilerplate": options}}))


def test_budget_refuses_once_spent() -> None:
    budget = Budget(0.5)
    assert budget.allow(0.25) == 0.25
    budget.spend(0.375)
    assert budget.allow(0.25) == 0.125  # what is left, not the whole timeout
    budget.spend(0.125)
    with pytest.raises(TimeoutError):
        budget.allow(0.25)


def test_a_document_of_slow_lines_costs_its_budget_not_a_timeout_per_line() -> None:
    lines = ["x" * 40] * 1200
    text = "\n".join(["The ferry ran all winter and the islanders were glad of it, every one of them.", *lines])
    pipe = _pipeline(rules=[{"id": "slow", "pattern": r"(x|xx)+y"}], regex_timeout=0.01, regex_budget=0.1)
    started = time.perf_counter()
    doc = pipe.process(Document(id="t", text=text))
    assert time.perf_counter() - started < 2  # 1,200 per-line timeouts alone would be 12 s
    assert isinstance(doc, Document)
    assert [f.code for f in doc.flags if f.code == "rule-timeout"] == ["rule-timeout"] * 1200
    assert not any(edit.rule == "config:slow" for edit in doc.edits)  # kept by the rules (layout aside)


def test_the_budget_is_per_document() -> None:
    pipe = _pipeline(rules=[{"id": "slow", "pattern": r"(x|xx)+y"}], regex_timeout=0.01, regex_budget=0.05)
    text = "\n".join(["x" * 40] * 30 + ["Share this article"])
    for name in ("a", "b"):
        doc = pipe.process(Document(id=name, text=text))
        assert isinstance(doc, Document)
        timeouts = [flag for flag in doc.flags if flag.code == "rule-timeout"]
        assert len(timeouts) == 31  # the budget runs out on each document, and the last line goes unjudged too


def test_regex_budget_must_be_a_number_of_seconds() -> None:
    with pytest.raises(ConfigError):
        _pipeline(regex_budget=-1)
    assert _pipeline(regex_budget=2.5).stages[0].settings.regex_budget == 2.5  # type: ignore[attr-defined]


def test_the_red_team_line_costs_milliseconds_in_the_stage() -> None:
    pipe = _pipeline()
    text = "\n".join(["The ferry ran all winter and the islanders were glad of it, every one of them.", *PATHOLOGICAL])
    pipe.process(Document(id="warm", text="Share this article"))
    started = time.process_time()
    doc = pipe.process(Document(id="t", text=text))
    assert time.process_time() - started < 2 * CPU_BUDGET
    assert isinstance(doc, Document)


def test_a_zero_document_budget_is_refused_like_a_zero_timeout() -> None:
    with pytest.raises(ConfigError, match=r"regex_budget: 0 is less than the minimum of 0.001"):
        _pipeline(regex_budget=0)
