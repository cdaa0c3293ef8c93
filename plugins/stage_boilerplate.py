"""The ``boilerplate`` stage: removes the lines a careful editor would, one Edit per line saying which rule fired.

Rules are data (``boilerplate_rules.toml``, ``[stages.boilerplate] rules``, source profiles, lines learned
from the batch); position (:mod:`normkit_plugins._boilerplate_layout`) and a line model
(:mod:`normkit_plugins._boilerplate_lines`) decide the rest. A line of running text leaves only on strong
evidence: a whole-line rule marked ``prose``, the batch, a rule of yours or a profile's, a comment thread.
"""

from __future__ import annotations

import difflib
import functools
import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from normkit import (
    ConfigError,
    Context,
    Document,
    Flag,
    Learner,
    Profile,
    Register,
    RejectDocument,
    SchemaFile,
    Stage,
    hookimpl,
    option,
    options_from,
    options_schema,
)

from ._boilerplate_layout import Layout, is_credit_name
from ._boilerplate_learn import (
    LEARNED_FILE,
    LearnedLine,
    LineCounter,
    SourceCounts,
    line_hash,
    load_learned,
    merge,
    select,
    state_from_json,
    state_to_json,
)
from ._boilerplate_learn import save_learned as write_learned
from ._boilerplate_lines import LineFacts, LineModel, feature_rows, line_facts, load_model
from ._boilerplate_removal import Removal, remove_lines, surviving
from ._boilerplate_rules import (
    RULE_SCHEMA,
    Budget,
    Rule,
    RuleSet,
    builtin_rule_names,
    builtin_rules,
    rules_from_tables,
)

__all__ = ["BoilerplateStage"]

LEARNED = Rule("learned", cls="learned")
#: unclaimed lines, none a sentence, between the page furniture and the article: a list of links, not text.
MIN_LINK_RUN = 4
#: a bare link label ("Read more", "Continue reading") has no more words than this.
MAX_LINK_LABEL_WORDS = 4
#: "Label: value": a label of at most three words, a colon, then the value.
_LABELLED = re.compile(r"[^\W\d_][\w'’-]*(?: [\w'’-]+){0,2}\s?:\s+\S.{0,150}")
#: "line 12" in a removal's detail: a later pass numbers the lines of the text it sees (see ``_renumbered``).
_LINE_NUMBER = re.compile(r"\bline (\d+)\b")
#: a caption says what a picture shows in a sentence of at least this many words.
CAPTION_MIN_WORDS = 4
_COUNT: dict[str, Any] = {"type": "integer", "minimum": 1}
_SHARE: dict[str, Any] = {"type": "number", "minimum": 0, "maximum": 1}
#: a time limit of 0 would call every user pattern catastrophic: the smallest one is a millisecond.
_SECONDS: dict[str, Any] = {"type": "number", "minimum": 1e-3}


@dataclass(frozen=True)
class BoilerplateOptions:
    """``[stages.boilerplate]``, and a profile's ``boilerplate`` options merged over it per source."""

    builtin: bool = option(True, "Use normkit's builtin rules.", type="boolean")
    disable: tuple[str, ...] = option((), "Rule ids or classes to skip.", type="array", items={"type": "string"})
    rules: tuple[Mapping[str, Any], ...] = option(
        (), "Extra rules; edits say config:<id>.", type="array", items=RULE_SCHEMA
    )
    max_line_chars: int = option(400, "Longer lines are never boilerplate (and never matched).", **_COUNT)
    body_min_words: int = option(8, "Words a sentence needs to count as a body paragraph.", **_COUNT)
    sections: bool = option(True, "Cut trailing blocks started by 'Most read' etc.", type="boolean")
    max_removed_share: float = option(0.5, "Flag a document losing more text.", **_SHARE)
    on_empty: str = option("flag", "What to do when only boilerplate was left.", enum=["flag", "reject"])
    regex_timeout: float = option(0.05, "Seconds a user pattern may spend on a line (0.001 at least).", **_SECONDS)
    regex_budget: float = option(1.0, "Seconds timed patterns may spend on a document (0.001 at least).", **_SECONDS)
    learn: bool = option(True, "Learn lines that repeat across a source's documents.", type="boolean")
    learn_min_documents: int = option(5, "Documents a line must appear in to be learned.", **_COUNT)
    learn_min_share: float = option(0.2, "Share of the source's documents, too.", **_SHARE)
    learn_max_line_chars: int = option(1000, "Longer lines are not counted.", **_COUNT)
    learned_file: str | None = option(None, "Use this reviewed learned-boilerplate.json.", type="string")
    comments: str = option(
        "drop", "A comment thread under an article: drop it or keep the readers' posts.", enum=["drop", "keep"]
    )
    model: bool = option(True, "Remove lines the line model finds to be furniture.", type="boolean")
    doubled_paragraphs: bool = option(True, "Remove a paragraph repeated right after itself.", type="boolean")


def _check_disable(names: Sequence[str], key: str) -> None:
    """Every name in a ``disable`` list is a builtin rule id or class: a typo is an error, not a rule left on."""
    known = builtin_rule_names()
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ConfigError(f"{key}: no builtin rule or rule class {name!r}{hint}")


class BoilerplateStage(Stage, Learner[dict[str, SourceCounts]]):
    name = "boilerplate"
    options_schema = options_schema(BoilerplateOptions)
    learns = True

    def __init__(self, options: Mapping[str, Any], context: Context) -> None:
        super().__init__(options, context)
        self.settings = settings = options_from(BoilerplateOptions, self.options, "stages.boilerplate")
        _check_disable(settings.disable, "stages.boilerplate.disable")
        for profile in context.profiles():
            disable = profile.options.get(self.name, {}).get("disable", ())
            if isinstance(disable, (list, tuple)):  # anything else: the profile's schema check names it
                _check_disable(disable, f"profiles.{profile.name}.stages.{self.name}.disable")
        self.timeout = settings.regex_timeout
        self.config_rules = RuleSet(
            rules_from_tables(settings.rules, prefix="config:"), trusted=False, timeout=self.timeout
        )
        self.builtin = self._builtin(frozenset(settings.disable))
        self.counter = LineCounter(settings.learn_max_line_chars)
        self._profiles: dict[str, RuleSet] = {}
        learned_file = context.config.resolve_path(settings.learned_file) if settings.learned_file else None
        self._use_learned(load_learned(learned_file) if learned_file else {})
        # an instance attribute: a pinned list or learning switched off means no first pass for this run
        self.learns = settings.learn and not settings.learned_file
        for profile in context.profiles():  # a broken profile rule is a start-up error, not a per-document one
            self._profile_rules(profile)
        # what may remove running text: the batch, a photo caption, whole-line builtin shapes, and every rule
        # the user or a profile wrote (they know their sources)
        yours = [*self.config_rules.rules, *(rule for rules in self._profiles.values() for rule in rules.rules)]
        builtin = [rule.id for rule in builtin_rules() if rule.prose]
        self._strong_rules = frozenset({LEARNED.id, "caption-credit", *builtin, *(rule.id for rule in yours)})

    # -- rule sets, built once per process -------------------------------------------------------------

    @lru_cache(maxsize=64)  # noqa: B019 - stages live as long as the process; disable lists are few
    def _builtin(self, disabled: frozenset[str]) -> tuple[RuleSet, RuleSet]:
        """The builtin rules without ``disabled`` ids or classes: all of them, and the section headings."""
        if not self.settings.builtin:
            return RuleSet(()), RuleSet(())
        rules = [r for r in builtin_rules() if r.id not in disabled and r.cls not in disabled]
        everything = RuleSet(rules)
        return everything, RuleSet([r for r in rules if r.section], within=everything)

    def _profile_rules(self, profile: Profile) -> RuleSet:
        """A profile's rules, compiled the first time a document of its source arrives (or at start-up)."""
        if profile.name not in self._profiles:
            tables = profile.options.get(self.name, {}).get("rules", ())
            rules = rules_from_tables(tables, prefix=f"{profile.name}:", plugin=profile.plugin)
            self._profiles[profile.name] = RuleSet(rules, trusted=False, timeout=self.timeout)
        return self._profiles[profile.name]

    def _rule_sets(self, doc: Document, options: BoilerplateOptions) -> tuple[list[RuleSet], Sections]:
        """Configuration first, then the source's profiles, then the builtin rules: the most specific wins.

        The section headings among them come second, in the same order.
        """
        profiles = self.context.profiles_for(doc.source)
        builtin, sections = self._builtin(frozenset(options.disable))
        rule_sets = [self.config_rules, *(self._profile_rules(p) for p in profiles), builtin]
        return rule_sets, Sections([*(self._sections_of(rule_set) for rule_set in rule_sets[:-1]), sections])

    @lru_cache(maxsize=64)  # noqa: B019 - one per configuration and profile, for the life of the stage
    def _sections_of(self, rule_set: RuleSet) -> RuleSet:
        """The section headings among a configuration's or a profile's rules (timed, as all of theirs are)."""
        return RuleSet([rule for rule in rule_set.rules if rule.section], trusted=False, timeout=self.timeout)

    # -- cleaning --------------------------------------------------------------------------------------

    def process(self, doc: Document) -> Document:
        if not doc.text.strip():
            return doc
        options = self.settings_for(doc, BoilerplateOptions)
        lines = doc.text.split("\n")
        removals, timeouts = self._settled_removals(doc, lines, options)
        flags = [Flag("rule-timeout", self.name, f"a pattern ran out of time on line {n}; kept") for n in timeouts]
        if not removals:
            return doc.evolve(flags=(*doc.flags, *flags)) if flags else doc
        kept, edits = remove_lines(self.name, lines, removals)
        result = doc.with_edits(*edits, text="\n".join(kept), flags=(*doc.flags, *flags))
        return self._check_loss(result, doc.text, options)

    def _settled_removals(
        self, doc: Document, lines: list[str], options: BoilerplateOptions
    ) -> tuple[dict[int, Removal], list[int]]:
        """The removals, judged again on what they leave until nothing more goes, so cleaning is idempotent.

        Neighbours decide some lines (a short line between two removed widgets), so the cleaned text may show
        a line in a new light; a few passes settle it, each on the text the previous one left.
        """
        facts = line_facts(lines)
        rule_sets, sections = self._rule_sets(doc, options)
        learned = self.learned_lines.get(doc.source or "", {})
        budget = Budget(options.regex_budget)  # timed patterns' time for the whole document
        limit, most = options.max_line_chars, self.learned_words.get(doc.source or "")
        # a line's rule is its own business: matched once, whatever the passes
        matches, timeouts = _matches(facts.texts, rule_sets, learned, limit, most, budget)
        judge = functools.partial(self._removals, options=options, sections=sections, learned=learned)
        removals = judge(lines, facts, matches)
        while removals:  # each pass removes a line or ends the loop: at most as many passes as lines
            survivors = surviving(lines, removals)
            kept = [lines[i] for i in survivors]
            more = judge(kept, facts.subset(survivors), [matches[i] for i in survivors])
            if not more:
                break
            removals.update({survivors[i]: _renumbered(why, survivors) for i, why in more.items()})
        return removals, timeouts

    def _removals(
        self,
        lines: list[str],
        facts: LineFacts,
        matches: list[Rule | None],
        *,
        options: BoilerplateOptions,
        sections: Sections,
        learned: Mapping[int, LearnedLine],
    ) -> dict[int, Removal]:
        """What goes of ``lines`` (whose facts and rules are ``facts`` and ``matches``) and why."""
        limit = options.max_line_chars
        texts = facts.texts
        min_words = options.body_min_words
        ends = facts.ends
        sentence = [end and count >= min_words for end, count in zip(ends, facts.words, strict=True)]
        claimed = [m is not None for m in matches]
        classes = [m.cls if m is not None else None for m in matches]
        # the article's span is where its sentences are; running text (function words) anywhere is protected:
        # position alone never removes it
        paragraph = [p and not c for p, c in zip(sentence, claimed, strict=True)]
        prose = [a or b for a, b in zip(sentence, facts.running, strict=True)]
        layout = Layout(lines, texts, ends, paragraph, claimed, classes)
        removals = _line_removals(layout, matches, learned)
        _caption_blocks(layout, matches, facts, removals)
        _labelled_teasers(layout, matches, prose, removals)
        if any(layout.paragraph):  # position means nothing in a page without an article
            _block_removals(layout, prose, removals, layout.first, layout.last)
            _teaser_blocks(layout, sections, prose, removals, limit)
            _zone_removals(layout, prose, removals, layout.first, layout.last)
        if options.sections:
            comments = CommentPolicy(options.comments, any(layout.paragraph))
            _cut_trailing_section(layout, sections, removals, facts.running, comments, limit)
        if options.model:
            _model_removals(facts, removals, load_model())
        _protect_running_text(facts, removals, self._strong_rules, lambda i: _learned_removal(texts[i], learned))
        if options.doubled_paragraphs:
            _doubled_paragraphs(texts, removals)
        return removals

    def _check_loss(self, result: Document, before: str, options: BoilerplateOptions) -> Document:
        """``result``, flagged for a heavy loss; an empty one is flagged or rejected as ``on_empty`` says."""
        if not result.text.strip():
            reason = f"only boilerplate: all {len(before.splitlines())} lines removed"
            if options.on_empty == "reject":
                raise RejectDocument(reason)
            return result.with_flag("boilerplate-only", self.name, reason)
        lost = 1 - len(result.text) / len(before)
        if lost > options.max_removed_share:
            return result.with_flag("boilerplate-heavy", self.name, f"removed {lost:.0%} of the text")
        return result

    # -- learning from the batch -----------------------------------------------------------------------

    def observe(self, doc: Document) -> None:
        self.counter.observe(doc.source or "", doc.text.split("\n"))

    def learned(self) -> dict[str, SourceCounts]:
        return self.counter.drain()

    @classmethod
    def merge_learned(cls, states: list[dict[str, SourceCounts]]) -> dict[str, SourceCounts]:
        return merge(states)

    @classmethod
    def state_to_json(cls, state: dict[str, SourceCounts]) -> Any:
        return state_to_json(state)

    @classmethod
    def state_from_json(cls, data: Any) -> dict[str, SourceCounts]:
        return state_from_json(data)

    def apply_learned(self, state: dict[str, SourceCounts]) -> None:
        minimum, share = self.settings.learn_min_documents, self.settings.learn_min_share
        self._use_learned(select(state or {}, minimum, share))

    def _use_learned(self, lines: dict[str, dict[int, LearnedLine]]) -> None:
        """Look learned lines up by hash; a line with more words than any learned one (plus one) is not hashed.

        A hash covers case, spacing, digits and a trailing ``:`` or ``|``, which may drop a last word, so a line
        hashing like a learned text has at most one word more than it. Without every text, nothing is ruled out.
        """
        self.learned_lines = lines
        self.learned_words: dict[str, int] = {}
        for source, learned in lines.items():
            texts = [line.text for line in learned.values()]
            if all(texts):
                self.learned_words[source] = max(len(text.split()) for text in texts if text) + 1

    def save_learned(self, state: dict[str, SourceCounts], folder: Path) -> None:
        minimum, share = self.settings.learn_min_documents, float(self.settings.learn_min_share)
        settings: dict[str, Any] = {"learn_min_documents": minimum, "learn_min_share": share}
        pruned = {source: seen.pruned for source, seen in (state or {}).items() if seen.pruned}
        if pruned:  # counts there may be short by up to this many documents (memory bound reached)
            settings["pruned"] = pruned
        write_learned(select(state or {}, minimum, share), Path(folder) / LEARNED_FILE, settings)


def _matches(
    texts: list[str],
    rule_sets: list[RuleSet],
    learned: Mapping[int, LearnedLine],
    limit: int,
    learned_words: int | None,
    budget: Budget,
) -> tuple[list[Rule | None], list[int]]:
    """The rule claiming each stripped line (None: none does), and the 1-based lines a user pattern timed out on.

    ``learned_words``: the most words a line hashing like a ``learned`` one can have (None: unknown).
    ``budget``: the time timed patterns have left for the document (``regex_budget``); once it is spent, each
    line left that needs one is kept and reported, at no cost.
    """
    rule_sets = [rule_set for rule_set in rule_sets if rule_set.rules]  # most of the time, only the builtin set
    matches: list[Rule | None] = []
    timeouts: list[int] = []
    for number, text in enumerate(texts, start=1):
        rule = None
        if text and len(text) <= limit:
            try:
                rule = _first_match(rule_sets, text, budget)
            except TimeoutError:
                timeouts.append(number)
        # learned lines may be longer than the rules look at (a teaser paragraph repeated on every page)
        if rule is None and text and learned and _may_be_learned(text, learned_words) and line_hash(text) in learned:
            rule = LEARNED
        matches.append(rule)
    return matches, timeouts


def _may_be_learned(text: str, most_words: int | None) -> bool:
    """Whether ``text`` has at most ``most_words`` words, splitting no more of it than it takes to know."""
    return most_words is None or len(text.split(None, most_words)) <= most_words


def _first_match(rule_sets: list[RuleSet], line: str, budget: Budget | None = None) -> Rule | None:
    for rule_set in rule_sets:
        rule = rule_set.match(line, budget)
        if rule is not None:
            return rule
    return None


def _line_removals(
    layout: Layout, matches: list[Rule | None], learned: Mapping[int, LearnedLine]
) -> dict[int, Removal]:
    """Each matched line whose rule may act where the line sits."""
    first, last = layout.first, layout.last
    removals: dict[int, Removal] = {}
    for i, rule in enumerate(matches):
        if rule is None or not layout.allows(rule.where, i, first, last):
            continue
        batch = _learned_removal(layout.texts[i], learned) if rule is LEARNED else None
        removals[i] = batch or Removal(rule.id, rule.plugin, inside=rule.cls == "caption")
    return removals


def _caption_blocks(layout: Layout, matches: list[Rule | None], facts: LineFacts, removals: dict[int, Removal]) -> None:
    """A block of two lines, a sentence and a credit under it, is a photo caption: both go.

    The credit is a line a caption rule claimed ("Photo: Getty Images") or a bare name ("Berkeley Earth"). A
    paragraph of the article is not followed, in its own block, by a name alone, so the pair says "caption";
    neither line says it alone, which is why the sentence is never removed without its credit.
    """
    texts = layout.texts
    for i in range(len(texts) - 1):
        credit = i + 1
        if not layout.ends[i] or not _own_pair(texts, i) or i in removals:
            continue
        if facts.words[i] < CAPTION_MIN_WORDS:
            continue
        rule = matches[credit]
        if rule is not None and rule.cls == "caption" and layout.allows(rule.where, credit, layout.first, layout.last):
            if facts.running[i] and not rule.prose:
                continue  # "With Associated Press" may sign off a paragraph: only a photo credit says caption
            removals.setdefault(credit, Removal(rule.id, rule.plugin, inside=True))
            caption = "caption-credit"  # a photo credit says so: strong enough for a sentence of running text
        elif rule is not None or not is_credit_name(texts[credit]) or facts.running[i]:
            continue  # a bare name under running text may as well sign a quotation: both stay
        else:
            detail = f"a credit under the caption on line {i + 1}"
            removals[credit] = Removal("credit-name", detail=detail, inside=True)
            caption = "caption-name"
        detail = f"a caption: the credit {texts[credit][:60]!r} is under it"
        removals[i] = Removal(caption, detail=detail, inside=True)


def _labelled_teasers(
    layout: Layout, matches: list[Rule | None], prose: list[bool], removals: dict[int, Removal]
) -> None:
    """A headline glued above a bare "Read more" link is the link's teaser: it goes with the link.

    Only a line that is not a sentence: an article paragraph may end right above such a link and stays.
    """
    texts = layout.texts
    for i, rule in enumerate(matches):
        if rule is None or rule.cls != "related" or i not in removals or len(texts[i].split()) > MAX_LINK_LABEL_WORDS:
            continue
        above = i - 1
        if above < 0 or not texts[above] or above in removals or prose[above] or matches[above] is not None:
            continue
        detail = f"the teaser of the link {texts[i]!r} under it"
        removals[above] = Removal(rule.id, rule.plugin, detail)


def _own_pair(texts: Sequence[str], start: int) -> bool:
    """Lines ``start`` and the next hold text and stand alone, with blank lines (or the text's edges) around."""
    end = start + 1
    return (
        bool(texts[start] and texts[end])
        and (start == 0 or not texts[start - 1])
        and (end + 1 == len(texts) or not texts[end + 1])
    )


def _block_removals(layout: Layout, prose: list[bool], removals: dict[int, Removal], first: int, last: int) -> None:
    """At the edges, lines glued (no blank line between) under a removed widget line belong to the widget.

    "Фото:" then the photographer, "Most popular" then its links: the heading says what the block is.
    """
    texts = layout.texts
    walked = 0  # glued lines already walked under an earlier heading; each line is visited once
    for i in sorted(removals):
        if i < walked or not texts[i] or not layout.allows("edge", i, first, last):
            continue
        heading, j = removals[i], i + 1
        while j < len(texts) and texts[j] and layout.allows("edge", j, first, last):
            if j not in removals and not prose[j]:
                detail = f"in the block under {texts[i][:60]!r} (line {i + 1})"
                removals[j] = Removal(heading.rule, heading.plugin, detail)
            j += 1
        walked = j


def _teaser_blocks(
    layout: Layout, sections: Sections, prose: list[bool], removals: dict[int, Removal], limit: int
) -> None:
    """Under a "Related articles" heading inside the body, the next block when it is only headlines."""
    lines, texts = layout.lines, layout.texts
    for i in [i for i in sorted(removals) if texts[i]]:
        heading = texts[i]
        if len(heading) > limit or sections.match(heading) is None:
            continue
        start = i + 1 + (i + 1 < len(texts) and not texts[i + 1])
        block = list(itertools.takewhile(lambda j: texts[j] and j not in removals, range(start, len(texts))))
        ends = start + len(block)
        if ends < len(texts) and texts[ends]:
            continue  # the block runs into a removed line: not a plain list of headlines
        if block and not any(prose[j] or len(lines[j].split()) > 20 for j in block):
            for j in block:
                removals[j] = Removal(removals[i].rule, removals[i].plugin, f"a headline under {heading[:60]!r}")


def _zone_removals(layout: Layout, prose: list[bool], removals: dict[int, Removal], first: int, last: int) -> None:
    """Lines that are not sentences, inside the runs of boilerplate before and after the article."""
    head = max((i for i in removals if i < first), default=-1)
    # a caption under the last paragraph belongs to the article: it is no sign that the page furniture began
    tail = min((i for i, why in removals.items() if i > last and not why.inside), default=len(layout.lines))
    texts = layout.texts
    run = [i for i in range(head + 1, first) if texts[i]]
    if head >= 0 and len(run) >= MIN_LINK_RUN and not any(layout.ends[i] for i in run):
        head = first  # a list of links under the last widget heading reaches down to the article
    for i in [*range(head), *range(tail + 1, len(texts))]:
        if i in removals or prose[i] or not texts[i]:
            continue
        if i < head:
            removals[i] = Removal(
                "lead-furniture", detail=f"not a sentence, in the page furniture above line {head + 1}"
            )
        else:
            removals[i] = Removal("trail-furniture", detail=f"not a sentence, in the furniture below line {tail + 1}")


@dataclass(frozen=True)
class Sections:
    """The section-heading rules of a document's rule sets, most specific first.

    A heading is a whole short line, so a pattern that runs out of time on one is no heading: no cut.
    """

    rule_sets: Sequence[RuleSet]

    def match(self, line: str) -> Rule | None:
        for rule_set in self.rule_sets:
            try:
                rule = rule_set.match(line)
            except TimeoutError:
                continue
            if rule is not None:
                return rule
        return None


@dataclass(frozen=True)
class CommentPolicy:
    """What a comment thread's heading starts: ``drop`` removes the thread under an article, ``keep`` keeps it.

    A page with no article above the thread *is* the thread (a forum, a mailing list): its posts stay either way.
    """

    mode: str
    has_article: bool

    def drops_thread(self) -> bool:
        return self.mode == "drop" and self.has_article


def _cut_trailing_section(
    layout: Layout,
    sections: Sections,
    removals: dict[int, Removal],
    running: Sequence[bool],
    comments: CommentPolicy,
    limit: int,
) -> None:
    """Under each section heading after the body ("Most read", "Related stories"), the block of links it starts.

    A block ends at the first line of running text: a box in the middle of an article never takes the
    paragraphs after it. Only a comment thread's heading, under an article and with ``comments = "drop"``,
    takes everything below it, readers' paragraphs included.
    """
    texts = layout.texts
    i = layout.first + 1
    while i < len(texts):
        # a heading is no running text: a sentence that names comments or related stories is the article's
        rule = sections.match(texts[i]) if texts[i] and not running[i] and len(texts[i]) <= limit else None
        if rule is None:
            i += 1
            continue
        thread = rule.final and comments.drops_thread()
        detail = f"in the block that {texts[i]!r} (line {i + 1}) starts after the article"
        removals.setdefault(i, Removal(rule.id, rule.plugin))
        i += 1
        while i < len(texts) and (thread or not running[i]):
            if texts[i] and i not in removals:
                removals[i] = Removal(rule.id, rule.plugin, detail, thread=thread)
            i += 1


def _model_removals(facts: LineFacts, removals: dict[int, Removal], model: LineModel) -> None:
    """Lines no rule named that the line model, from their shape and neighbours, is confident are furniture."""
    if not any(facts.running):  # a page without running text (a list, a form, a Q&A): no context to judge by
        return
    rows = feature_rows(facts, lambda i: i not in removals and not facts.running[i])
    for i, row in rows.items():
        probability = model.probability(row)
        if probability > model.threshold:
            removals[i] = Removal("line-model", detail=f"not running text, P(boilerplate) = {probability:.2f}")


def _renumbered(why: Removal, survivors: Sequence[int]) -> Removal:
    """``why`` from a later pass, its "line N" (N counted in what that pass saw) told in the document's lines."""
    if why.detail is None or "line " not in why.detail:
        return why
    detail = _LINE_NUMBER.sub(lambda found: f"line {survivors[int(found.group(1)) - 1] + 1}", why.detail)
    return why._replace(detail=detail)


def _doubled_paragraphs(texts: Sequence[str], removals: dict[int, Removal]) -> None:
    """A paragraph repeated verbatim right after itself, once the lines between them are gone (scrapers double
    blocks, and a share bar between two copies hides the doubling until it goes): the copy goes."""
    previous: str | None = None
    for i, text in enumerate(texts):
        if not text or i in removals:
            continue
        if text == previous and (len(text.split()) >= 3 or len(text) >= 20):
            removals[i] = Removal("repeated-paragraph", detail="the same paragraph as the one before it")
        previous = text


def _learned_removal(text: str, learned: Mapping[int, LearnedLine]) -> Removal | None:
    """The removal of a line learned from the batch (strong evidence), or None."""
    seen = learned.get(line_hash(text)) if learned and text else None
    if seen is None:
        return None
    return Removal(LEARNED.id, detail=f"in {seen.documents} documents of this source ({seen.share:.0%})")


def _protect_running_text(
    facts: LineFacts,
    removals: dict[int, Removal],
    strong: frozenset[str],
    learned: Callable[[int], Removal | None],
) -> None:
    """Running text leaves only on strong evidence: a rule for the whole line, the batch, or a comment thread.

    Keyword rules ("newsletter", "comments", a date) and position (a block, a zone) are weak evidence: a
    paragraph that merely mentions a newsletter, or that follows a "Related" box, stays.
    """
    texts = facts.texts
    for i in [i for i in removals if facts.running[i] or _in_label_list(texts, i)]:
        why = removals[i]
        if not (why.thread or why.rule in strong):
            batch = learned(i)  # a keyword rule claimed it first, but the batch has seen it on many pages
            if batch is None:
                del removals[i]
            else:
                removals[i] = batch


def _in_label_list(texts: Sequence[str], i: int) -> bool:
    """Line ``i`` is one of a glued run of two or more "Label: value" lines ("Venue: the old mill", "Date: 14 June").

    A single "Updated: 3 March" under a headline is a dateline; a run of them is a fact box of the article.
    """
    if ":" not in texts[i] or not _LABELLED.fullmatch(texts[i]):
        return False
    return any(0 <= j < len(texts) and _LABELLED.fullmatch(texts[j]) for j in (i - 1, i + 1))


@hookimpl
def normkit_register_stages(register: Register[type[Stage]]) -> None:
    register(BoilerplateStage)


@hookimpl
def normkit_register_schemas(register: Register[SchemaFile]) -> None:
    register(
        SchemaFile(LEARNED_FILE.removesuffix(".json"), Path(__file__).with_name("learned-boilerplate.schema.json"))
    )
