"""The ``boilerplate`` stage: removes the lines a careful editor would, one Edit per line saying which rule fired.

Rules are data (``boilerplate_rules.toml``, ``[stages.boilerplate] rules``, source profiles, lines learned
from the batch); position decides the rest: see :mod:`normkit_plugins._boilerplate_layout`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from normkit import Context, Document, Flag, Profile, Register, Stage, hookimpl
from normkit.errors import RejectDocument

from ._boilerplate_layout import Layout, ends_sentence, has_words, is_credit_name, word_test
from ._boilerplate_learn import LEARNED_FILE, LearnedLine, LineCounter, line_hash, load_learned, merge, select
from ._boilerplate_learn import save_learned as write_learned
from ._boilerplate_removal import Removal, remove_lines
from ._boilerplate_rules import RULE_SCHEMA, Rule, RuleSet, builtin_rules, rules_from_tables

__all__ = ["BoilerplateStage"]

LEARNED = Rule("learned", cls="learned")
#: unclaimed lines, none a sentence, between the page furniture and the article: a list of links, not text.
MIN_LINK_RUN = 4
#: a bare link label ("Read more", "Continue reading") has no more words than this.
MAX_LINK_LABEL_WORDS = 4
#: a caption says what a picture shows in a sentence of at least this many words.
CAPTION_MIN_WORDS = 4
SCALAR_DEFAULTS: dict[str, Any] = {
    "max_line_chars": 400,
    "body_min_words": 8,
    "article_min_words": 10,
    "sections": True,
    "max_removed_share": 0.5,
    "on_empty": "flag",
    "regex_timeout": 0.05,
    "learn": True,
    "learn_min_documents": 5,
    "learn_min_share": 0.2,
    "learn_max_line_chars": 200,
}


def _options_schema() -> dict[str, Any]:
    number = {"type": "number", "minimum": 0}
    count = {"type": "integer", "minimum": 1}
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "builtin": {"type": "boolean", "description": "Use normkit's builtin rules (default true)."},
            "disable": {"type": "array", "items": {"type": "string"}, "description": "Rule ids or classes to skip."},
            "rules": {"type": "array", "items": RULE_SCHEMA, "description": "Extra rules; edits say config:<id>."},
            "max_line_chars": {**count, "description": "Longer lines are never boilerplate (and never matched)."},
            "body_min_words": {**count, "description": "Words a sentence needs to count as a body paragraph."},
            "article_min_words": {**count, "description": "Words a lone paragraph needs to stop a section cut."},
            "sections": {"type": "boolean", "description": "Cut trailing blocks started by 'Most read' etc."},
            "max_removed_share": {**number, "maximum": 1, "description": "Flag a document losing more text."},
            "on_empty": {"enum": ["flag", "reject"], "description": "What to do when only boilerplate was left."},
            "regex_timeout": {**number, "description": "Seconds a user pattern may spend on one line."},
            "learn": {"type": "boolean", "description": "Learn lines that repeat across a source's documents."},
            "learn_min_documents": {**count, "description": "Documents a line must appear in to be learned."},
            "learn_min_share": {**number, "maximum": 1, "description": "Share of the source's documents, too."},
            "learn_max_line_chars": {**count, "description": "Longer lines are not counted."},
            "learned_file": {"type": "string", "description": "Use this reviewed learned-boilerplate.json."},
        },
    }


class BoilerplateStage(Stage):
    name = "boilerplate"
    options_schema = _options_schema()
    learns = True

    def __init__(self, options: Mapping[str, Any], context: Context) -> None:
        super().__init__(options, context)
        self.settings = {**SCALAR_DEFAULTS, **self.options}
        self.timeout = float(self.settings["regex_timeout"])
        self.config_rules = RuleSet(
            rules_from_tables(self.options.get("rules", ()), prefix="config:"), trusted=False, timeout=self.timeout
        )
        self.builtin = self._builtin(frozenset(self.options.get("disable", ())))
        self.counter = LineCounter(int(self.settings["learn_max_line_chars"]))
        self._profiles: dict[str, RuleSet] = {}
        self._use_learned(load_learned(self.options["learned_file"]) if "learned_file" in self.options else {})
        # an instance attribute: a pinned list or learning switched off means no first pass for this run
        self.learns = bool(self.settings["learn"]) and "learned_file" not in self.options  # type: ignore[misc]
        for profile in context.profiles():  # a broken profile rule is a start-up error, not a per-document one
            self._profile_rules(profile)

    # -- rule sets, built once per process -------------------------------------------------------------

    @lru_cache(maxsize=64)  # noqa: B019 - stages live as long as the process; disable lists are few
    def _builtin(self, disabled: frozenset[str]) -> tuple[RuleSet, RuleSet]:
        """The builtin rules without ``disabled`` ids or classes: all of them, and the section headings."""
        if not self.options.get("builtin", True):
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

    def _rule_sets(self, doc: Document, options: Mapping[str, Any]) -> tuple[list[RuleSet], RuleSet]:
        """Configuration first, then the source's profiles, then the builtin rules: the most specific wins."""
        profiles = self.context.profiles_for(doc.source)
        builtin, sections = self._builtin(frozenset(options.get("disable", ())))
        return [self.config_rules, *(self._profile_rules(p) for p in profiles), builtin], sections

    # -- cleaning --------------------------------------------------------------------------------------

    def process(self, doc: Document) -> Document:
        if not doc.text.strip():
            return doc
        options = {**self.settings, **self.options_for(doc)}
        lines = doc.text.split("\n")
        removals, timeouts = self._removals(doc, lines, options)
        flags = [Flag("rule-timeout", self.name, f"a user pattern ran out of time on line {n}; kept") for n in timeouts]
        if not removals:
            return doc.evolve(flags=[*doc.flags, *flags]) if flags else doc
        kept, edits = remove_lines(self.name, lines, removals)
        result = doc.evolve(text="\n".join(kept), edits=[*doc.edits, *edits], flags=[*doc.flags, *flags])
        self._check_loss(result, doc.text, options)
        return result

    def _removals(
        self, doc: Document, lines: list[str], options: Mapping[str, Any]
    ) -> tuple[dict[int, Removal], list[int]]:
        rule_sets, sections = self._rule_sets(doc, options)
        learned = self.learned_lines.get(doc.source or "", {})
        limit = int(options["max_line_chars"])
        texts = [line.strip() for line in lines]
        matches, timeouts = _matches(texts, rule_sets, learned, limit, self.learned_words.get(doc.source or ""))
        min_words = int(options["body_min_words"])
        # facts about each line, worked out once: whether it ends like a sentence, then (only then) its words
        ends = [ends_sentence(text) for text in texts]
        counted = word_test(doc.text)
        prose = [end and counted(line.rstrip(), min_words) for end, line in zip(ends, lines, strict=True)]
        claimed = [m is not None for m in matches]
        classes = [m.cls if m is not None else None for m in matches]
        paragraph = [p and not c for p, c in zip(prose, claimed, strict=True)]
        layout = Layout(lines, texts, ends, paragraph, claimed, classes)
        removals = _line_removals(layout, matches, learned)
        _caption_blocks(layout, matches, removals)
        _labelled_teasers(layout, matches, prose, removals)
        if any(layout.paragraph):  # position means nothing in a page without an article
            _block_removals(layout, prose, removals, layout.first, layout.last)
            _teaser_blocks(layout, sections, prose, removals, limit)
            _zone_removals(layout, prose, removals, layout.first, layout.last)
        if options["sections"]:
            _cut_trailing_section(layout, sections, removals, int(options["article_min_words"]), limit)
        return removals, timeouts

    def _check_loss(self, result: Document, before: str, options: Mapping[str, Any]) -> None:
        """Flag a heavy loss; an empty result is flagged or rejected as ``on_empty`` says."""
        if not result.text.strip():
            reason = f"only boilerplate: all {len(before.splitlines())} lines removed"
            if options["on_empty"] == "reject":
                raise RejectDocument(reason)
            result.flag("boilerplate-only", self.name, reason)
            return
        lost = 1 - len(result.text) / len(before)
        if lost > float(options["max_removed_share"]):
            result.flag("boilerplate-heavy", self.name, f"removed {lost:.0%} of the text")

    # -- learning from the batch -----------------------------------------------------------------------

    def observe(self, doc: Document) -> None:
        self.counter.observe(doc.source or "", doc.text.split("\n"))

    def learned(self) -> Any:
        return self.counter.drain()

    @classmethod
    def merge_learned(cls, states: list[Any]) -> Any:
        return merge(states)

    def apply_learned(self, state: Any) -> None:
        minimum, share = int(self.settings["learn_min_documents"]), float(self.settings["learn_min_share"])
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
            if all(text and not text.startswith("<line ") for text in texts):
                self.learned_words[source] = max(len(text.split()) for text in texts) + 1

    def save_learned(self, state: Any, folder: Path) -> None:
        minimum, share = int(self.settings["learn_min_documents"]), float(self.settings["learn_min_share"])
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
    learned_words: int | None = None,
) -> tuple[list[Rule | None], list[int]]:
    """The rule claiming each stripped line (None: none does), and the 1-based lines a user pattern timed out on.

    ``learned_words``: the most words a line hashing like a ``learned`` one can have (None: unknown).
    """
    rule_sets = [rule_set for rule_set in rule_sets if rule_set.rules]  # most of the time, only the builtin set
    matches: list[Rule | None] = []
    timeouts: list[int] = []
    for number, text in enumerate(texts, start=1):
        rule = None
        if text and len(text) <= limit:
            try:
                rule = _first_match(rule_sets, text)
            except TimeoutError:
                timeouts.append(number)
            if rule is None and learned and _may_be_learned(text, learned_words) and line_hash(text) in learned:
                rule = LEARNED
        matches.append(rule)
    return matches, timeouts


def _may_be_learned(text: str, most_words: int | None) -> bool:
    """Whether ``text`` has at most ``most_words`` words, splitting no more of it than it takes to know."""
    return most_words is None or len(text.split(None, most_words)) <= most_words


def _first_match(rule_sets: list[RuleSet], line: str) -> Rule | None:
    for rule_set in rule_sets:
        rule = rule_set.match(line)
        if rule is not None:
            return rule
    return None


def _line_removals(
    layout: Layout, matches: list[Rule | None], learned: Mapping[int, LearnedLine]
) -> dict[int, Removal]:
    """Each matched line whose rule may act where the line sits."""
    first, last = layout.first, layout.last
    removals = {}
    for i, rule in enumerate(matches):
        if rule is None or not layout.allows(rule.where, i, first, last):
            continue
        detail = None
        if rule is LEARNED:
            seen = learned[line_hash(layout.texts[i])]
            detail = f"in {seen.documents} documents of this source ({seen.share:.0%})"
        removals[i] = Removal(rule.id, rule.plugin, detail, inside=rule.cls == "caption")
    return removals


def _caption_blocks(layout: Layout, matches: list[Rule | None], removals: dict[int, Removal]) -> None:
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
        if not has_words(layout.lines[i].rstrip(), CAPTION_MIN_WORDS):
            continue
        rule = matches[credit]
        if rule is not None and rule.cls == "caption":
            removals.setdefault(credit, Removal(rule.id, rule.plugin, inside=True))
        elif rule is not None or not is_credit_name(texts[credit]):
            continue
        else:
            detail = f"a credit under the caption on line {i + 1}"
            removals[credit] = Removal("credit-name", detail=detail, inside=True)
        detail = f"a caption: the credit {texts[credit][:60]!r} is under it"
        removals[i] = Removal("caption-credit", detail=detail, inside=True)


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
    layout: Layout, sections: RuleSet, prose: list[bool], removals: dict[int, Removal], limit: int
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


def _cut_trailing_section(
    layout: Layout, sections: RuleSet, removals: dict[int, Removal], min_words: int, limit: int
) -> None:
    """From the first section heading after the body with no article paragraph after it, remove everything."""
    texts = layout.texts
    article_until = layout.last_article_paragraph(min_words)
    for i in range(layout.first + 1, len(texts)):
        stripped = texts[i]
        rule = sections.match(stripped) if stripped and len(stripped) <= limit else None
        if rule is None or (not rule.final and article_until > i):
            continue
        detail = f"in the block that {stripped!r} (line {i + 1}) starts after the article"
        for j in range(i, len(texts)):
            if texts[j] and j not in removals:
                removals[j] = Removal(rule.id, rule.plugin, detail if j != i else None)
        return


@hookimpl
def normkit_register_stages(register: Register) -> None:
    register(BoilerplateStage)
