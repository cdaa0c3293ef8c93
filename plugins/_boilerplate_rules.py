"""Boilerplate rules as data: the builtin set, rules from the configuration and profiles, and their matcher."""

from __future__ import annotations

import dataclasses
import enum
import re
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any

import ahocorasick
import regex

from normkit import ConfigError, schema_error

from ._boilerplate_prefilter import (
    DIGIT,
    Prefilter,
    ambiguous_repeat,
    has_digit,
    norm,
    prefilter,
    preload,
    safe_prefix,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "AIMED",
    "RED_TEAM",
    "RULE_SCHEMA",
    "WHERE",
    "Budget",
    "Rule",
    "RuleSet",
    "builtin_rules",
    "fold",
    "rules_from_tables",
]

WHERE = ("any", "edge", "head")
_BACKREF = re.compile(r"\\[1-9]|\(\?P=|\(\?P<|\(\?<[A-Za-z]")
#: lines with more words than this are only tried against rules that allow long lines (captions, notices).
SHORT_LINE_WORDS = 16
#: a credit line an attacker wrote: a caption keyword, then tab-slash-tab runs a credit pattern splits every way.
RED_TEAM = ("courtesy of" + "\t/\t" * 130)[:395]
#: lines aimed at patterns whose repeats split a run of one character many ways (see ``ambiguous_repeat``);
#: the tests and ``benchmarks/pathological.py`` run them through the builtin rules.
AIMED = (
    RED_TEAM,
    "courtesy of" + ("\t" * 30 + "/") * 4 + "!",
    "Photo:" + "\xa0" * 390 + "!",
    "follow us on " + "a" * 380 + "\x00",
    "By " + "A-" * 190 + "!",
    "Tags:" + "\u2003" * 100 + "a" * 294,
)
#: strings that make a backtracking pattern explode within milliseconds if it can; user patterns meet them at
#: start-up.
_PROBES = (*(c * 2000 + "\x00" for c in ("a", "1", " ", "a ", "-", ".", "aA1 ,.")), *AIMED)
#: lines a trusted rule set remembers its answer for: navigation, share bars and credits repeat across a batch.
MEMO_LINES = 1 << 16
#: longer lines meet every builtin pattern under the time limit: a quadratic pattern is slow on thousands of
#: characters. The stage never matches lines over ``max_line_chars`` (400 unless raised), so only then.
GUARD_CHARS = 400

#: the JSON Schema of one rule table, shared by the stage's ``options_schema`` and the profile docs.
RULE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id"],
    "anyOf": [{"required": ["lines"]}, {"required": ["pattern"]}],
    "properties": {
        "id": {"type": "string", "minLength": 1, "description": "Name reported in edits."},
        "class": {"type": "string", "description": "Kind of line (caption, share, ...); disable takes it too."},
        "lines": {"type": "array", "items": {"type": "string"}, "description": "Exact lines (case folded)."},
        "pattern": {"type": "string", "description": "Regular expression matching the whole stripped line."},
        "case": {"type": "boolean", "description": "Match the pattern case-sensitively."},
        "where": {"enum": list(WHERE), "description": "Where in the document the rule may remove a line."},
        "section": {"type": "boolean", "description": "The line heads a trailing block of links."},
        "final": {"type": "boolean", "description": "A section heading after which the article never resumes."},
        "max_words": {"type": "integer", "minimum": 1, "description": "The rule never claims longer lines."},
        "prose": {"type": "boolean", "description": "A builtin rule that may remove a line of running text."},
    },
}


@dataclass(frozen=True)
class Rule:
    """One rule: exact ``lines`` and/or a whole-line ``pattern``, allowed ``where`` in the document."""

    id: str
    cls: str = "custom"
    where: str = "any"
    lines: tuple[str, ...] = ()
    pattern: str | None = None
    case: bool = False
    section: bool = False
    final: bool = False
    max_words: int | None = None
    plugin: str | None = None
    #: the rule may remove a line of running text (see :mod:`normkit_plugins._boilerplate_lines`): only rules
    #: whose evidence is the whole line's shape (a caption with its credit), never a keyword it mentions
    prose: bool = False


@lru_cache(maxsize=1 << 12)  # one document asks for a line's fold up to three times: rules, sections, learned hash
def fold(line: str) -> str:
    """A line as exact rules compare it: case and whitespace folded, a trailing ``:`` or ``|`` dropped.

    Most lines' only whitespace is single spaces between words, and so is already folded: three C scans tell
    (no character ``str.split`` splits at is printable but the space), where splitting a paragraph into words
    and joining them costs twice as much. The learning pass folds every line of every document.
    """
    folded = line.casefold()
    if folded.isprintable() and "  " not in folded and folded[:1] != " " and folded[-1:] != " ":
        return folded.rstrip(":|").rstrip()
    # str.split() and re's \s agree on what is whitespace; the join is several times faster than re.sub
    return " ".join(folded.split()).rstrip(":|").rstrip()


def rules_from_tables(
    tables: Iterable[Mapping[str, Any]], *, prefix: str = "", plugin: str | None = None
) -> list[Rule]:
    """Rules from TOML/JSON tables; ``prefix`` namespaces their ids (``config:``) so edits say where they came from.

    Tables from a profile skip the stage's options check, so each is checked here against ``RULE_SCHEMA`` (by
    msgspec first: jsonschema is imported only to word a table's error).
    """
    tables = list(tables)
    for table in tables:
        error = schema_error(table, RULE_SCHEMA)
        if error is not None:
            name = table.get("id", "?") if isinstance(table, Mapping) else "?"
            raise ConfigError(f"boilerplate rule {prefix}{name}: {error.message}")
    return [
        Rule(
            id=f"{prefix}{table['id']}",
            cls=str(table.get("class", "custom")),
            where=str(table.get("where", "any")),
            lines=tuple(table.get("lines", ())),
            pattern=table.get("pattern"),
            case=bool(table.get("case", False)),
            section=bool(table.get("section", False) or table.get("final", False)),
            final=bool(table.get("final", False)),
            max_words=table.get("max_words"),
            plugin=plugin,
            prose=bool(table.get("prose", False)),
        )
        for table in tables
    ]


@lru_cache(maxsize=1)
def builtin_rules() -> tuple[Rule, ...]:
    """The rules shipped in ``boilerplate_rules.toml``, read once per process, with what their matchers derive
    from each pattern (kept in the user's cache folder: see :func:`preload`)."""
    source = resources.files("normkit_plugins").joinpath("boilerplate_rules.toml").read_text("utf-8")
    rules = tuple(rules_from_tables(tomllib.loads(source)["rules"]))
    preload(((rule.pattern, not rule.case) for rule in rules if rule.pattern), source)
    return rules


def builtin_rule_names() -> frozenset[str]:
    """Every builtin rule id and rule class: what ``disable`` may name."""
    return frozenset(name for rule in builtin_rules() for name in (rule.id, rule.cls))


class Budget:
    """Seconds left for one document's patterns that run under a time limit, all its lines together.

    A per-line timeout alone lets a document of 1,200 lines that each run out of time cost a minute; with a
    budget the lines after it is spent are not matched (kept, and reported like any timed-out line).
    """

    def __init__(self, seconds: float) -> None:
        self.left = seconds

    def allow(self, timeout: float) -> float:
        """The timeout for one more match: ``timeout``, or what is left. Raises TimeoutError when nothing is."""
        if self.left <= 0:
            raise TimeoutError("the document's time for patterns is spent")
        return min(timeout, self.left)

    def spend(self, seconds: float) -> None:
        self.left -= seconds


def _timed(fullmatch: Any, line: str, timeout: float, budgets: Sequence[Budget]) -> Any:
    """``fullmatch`` (a :mod:`regex` one) under ``timeout`` and what each budget has left, charged to all of them."""
    for budget in budgets:
        timeout = budget.allow(timeout)
    started = time.perf_counter()
    try:
        return fullmatch(line, timeout=timeout)
    finally:
        spent = time.perf_counter() - started
        for budget in budgets:
            budget.spend(spent)


class RuleSet:
    """Rules compiled for one look-up per line: a dict for exact lines, one alternation for every pattern.

    Builtin rules are trusted and use :mod:`re`. Rules from the configuration or a plugin use :mod:`regex`
    with a per-line ``timeout``, and are probed at start-up, so a pattern that backtracks catastrophically is
    a configuration error, or at worst costs one line, never a hung run. A builtin pattern with a repeat that
    can split a run of one character in several ways (see :func:`ambiguous_repeat`), and every builtin pattern
    on a line over ``GUARD_CHARS``, runs the untrusted way too. Those timed runs share the :class:`Budget` a
    caller passes for a document.

    A trusted set made ``within`` another trusted set holds some of its rules (the section headings among
    the builtin rules): a line no rule of the larger set touches is skipped without being matched again.
    """

    def __init__(
        self,
        rules: Sequence[Rule],
        *,
        trusted: bool = True,
        timeout: float = 0.05,
        within: RuleSet | None = None,
    ) -> None:
        # rules that may act anywhere are tried first: a line a position-limited rule also claims ("Image
        # copyright EPA" is a labelled credit and an image copyright) must not escape because it sits mid-body
        self.rules = tuple(sorted(rules, key=lambda rule: rule.where != "any"))
        if not timeout > 0:  # regex reads 0 as "out of time at once": every line would time out, even "abc"
            raise ValueError(f"a pattern's timeout must be more than 0 seconds, not {timeout!r}")
        self.timeout = timeout
        self.trusted = trusted
        if within is not None and not (trusted and within.trusted and set(self.rules) <= set(within.rules)):
            raise ValueError("a rule set is only within a trusted set holding all of its rules")
        self.within = within
        self.exact: dict[str, Rule] = {}
        for rule in self.rules:
            for line in rule.lines:
                self.exact.setdefault(fold(line), rule)
        # folding may drop a last word (a trailing "|"), never more: a longer line cannot be an exact line
        self._exact_words = max((len(key.split()) for key in self.exact), default=-1) + 1
        self._patterned = [rule for rule in self.rules if rule.pattern]
        # most rules are for short lines; a sentence of the article only meets the few that are not
        self._long = [r for r in self._patterned if (r.max_words or 1 << 30) > SHORT_LINE_WORDS]
        self._by_group = {f"r{self.rules.index(rule)}": rule for rule in self._patterned}
        # words are counted up to the most any rule allows: past that, the count changes no verdict
        self._most_words = max([SHORT_LINE_WORDS, *(rule.max_words or 0 for rule in self._patterned)])
        self._memo: dict[str, Rule | _Untouched | None] = {}
        if trusted:
            self._gated_short, self._gated_long = _Gated(self._patterned, timeout), _Gated(self._long, timeout)
        else:
            for rule in self._patterned:
                self._check(rule, _body(rule))
            self._pattern, self._long_pattern = self._compile(self._patterned), self._compile(self._long)

    def _compile(self, rules: list[Rule]) -> Any:
        """One alternation of ``rules``, each in a group named after its position (the untrusted matcher)."""
        parts = [f"(?P<r{self.rules.index(rule)}>{_body(rule)})" for rule in rules]
        if not parts:
            return None
        engine = re if self.trusted else regex
        return engine.compile("|".join(parts))

    def _check(self, rule: Rule, body: str) -> None:
        """Fail at start-up, naming the rule, for a pattern that cannot compile, refer to groups, or explode."""
        if _BACKREF.search(rule.pattern or ""):
            raise ConfigError(f"boilerplate rule {rule.id!r}: named groups and backreferences are not supported")
        engine = re if self.trusted else regex
        try:
            compiled = engine.compile(body)
        except (re.error, regex.error) as exc:
            raise ConfigError(f"boilerplate rule {rule.id!r}: pattern does not compile: {exc}") from exc
        if not self.trusted:
            for probe in _PROBES:
                try:
                    compiled.fullmatch(probe, timeout=self.timeout * 4)
                except TimeoutError:
                    raise ConfigError(
                        f"boilerplate rule {rule.id!r}: pattern backtracks catastrophically "
                        f"(over {self.timeout * 4:g}s on a {len(probe)}-character line); simplify it"
                    ) from None

    def match(self, line: str, budget: Budget | None = None) -> Rule | None:
        """The first rule (in order: exact lines, then patterns) that claims the stripped ``line``.

        Raises TimeoutError when an untrusted pattern runs out of time on this line, or, given a ``budget``,
        when a timed pattern does or the budget is spent. A trusted set without a budget (the layout asking
        whether a line heads a section) answers None for a line a guarded pattern runs out of time on.
        """
        if not self.rules:  # the configuration's set, most of the time
            return None
        if not self.trusted:  # not remembered: a timeout depends on the machine's load, not on the line
            return self._match(line, budget)
        try:
            verdict = self._remembered(line, budget)
        except TimeoutError:
            if budget is not None:
                raise
            return None
        return None if verdict is UNTOUCHED else verdict

    def _remembered(self, line: str, budget: Budget | None = None) -> Rule | _Untouched | None:
        """The trusted verdict on ``line``, worked out once per distinct line (up to ``MEMO_LINES`` of them)."""
        memo = self._memo
        known = memo.get(line, _UNKNOWN)  # one look-up: another thread may clear the memo between two
        if known is not _UNKNOWN:
            return known  # type: ignore[return-value]  # _UNKNOWN is the only value that is none of these
        if self.within is not None and self.within._remembered(line, budget) is UNTOUCHED:
            verdict: Rule | _Untouched | None = UNTOUCHED  # none of the larger set's rules, so none of these
        else:
            verdict = self._verdict(line, budget)  # a timeout raises: nothing remembered
        if len(memo) >= MEMO_LINES:
            memo.clear()
        memo[line] = verdict
        return verdict

    def _match(self, line: str, budget: Budget | None = None) -> Rule | None:
        verdict = self._verdict(line, budget)
        return None if verdict is UNTOUCHED else verdict

    def _verdict(self, line: str, budget: Budget | None = None) -> Rule | _Untouched | None:
        """The rule claiming ``line``; None when the first rule matching it allows fewer words; else UNTOUCHED."""
        if len(line.split(None, self._exact_words)) <= self._exact_words:
            rule = self.exact.get(fold(line))
            if rule is not None:
                return rule
        # any whitespace separates words (tabs, NBSP): a line of them is no short line
        words = len(line.split(None, self._most_words))
        short = words <= SHORT_LINE_WORDS
        if self.trusted:
            rule = (self._gated_short if short else self._gated_long).first(line, budget)
        else:
            pattern = self._pattern if short else self._long_pattern
            budgets = (budget,) if budget is not None else ()
            found = _timed(pattern.fullmatch, line, self.timeout, budgets) if pattern is not None else None
            rule = self._by_group[found.lastgroup] if found else None
        if rule is None:
            return UNTOUCHED
        return None if (rule.max_words or words) < words else rule


_UNKNOWN = object()  # not in the memo (None is a verdict: a rule allowing fewer words)


class _Untouched(enum.Enum):
    """A verdict: no exact line and no pattern of the set matches the line, whatever its length."""

    UNTOUCHED = "untouched"


UNTOUCHED = _Untouched.UNTOUCHED


def _body(rule: Rule) -> str:
    return f"(?:{rule.pattern})" if rule.case else f"(?i:{rule.pattern})"


#: (length, last character) shapes a gated set remembers its candidate rules for; lines have few.
MAX_SHAPES = 1 << 14
#: one gated rule as :meth:`_Gated.first` tries it: position, rule, groups (strings, whether a digit counts), regex,
#: and whether that is a :class:`_Guard` (which takes the budget too).
_Candidate = tuple[int, Rule, tuple[tuple[tuple[str, ...], bool], ...], Any, bool]
#: per set of candidates: the candidates, the strings (and whether a digit) screening them, those without groups.
_Shape = tuple[tuple[_Candidate, ...], "_Needles", bool, tuple[_Candidate, ...]]


class _Gated:
    """Trusted patterns in rule order: the first whose regex fullmatches a line, with cheap tests in front.

    Rules whose :class:`Prefilter` knows nothing stay in one alternation, run once; the others are tried one
    by one, but only those before the alternation's winner and only when their prefilter admits the line.
    Alternation in ``re`` tries branches in order, so this finds the same rule the whole alternation would.

    The prefilters are split so that little runs per line. The length and last-character tests depend only
    on the line's shape, so the rules passing them are worked out once per shape (:meth:`_shape`), as a bit
    set, and the rest once per distinct set (:meth:`_screen`): one string set, the union of each candidate's
    strongest group, that a line must touch before any of them can match; most sentences touch none, and
    skip the rules without a Python loop over them.

    Time is bounded two ways. A rule with an ambiguous repeat is gated, whatever its prefilter, and its
    pattern runs under a :class:`_Guard`; a line over ``GUARD_CHARS`` meets every rule that way (:meth:`_long`).
    """

    def __init__(self, rules: Sequence[Rule], timeout: float = 0.05) -> None:
        self.gated: list[tuple[int, Rule, Prefilter, Any]] = []
        self.open: dict[str, tuple[int, Rule]] = {}
        self._open_gates: list[tuple[int, Rule, Prefilter]] = []
        self._ordered: list[tuple[int, Rule, Prefilter, _Guard]] = []
        self._singles: dict[int, _Lazy] = {}  # each open rule alone, for the openers' first lines
        self.timeout = timeout
        for position, rule in enumerate(rules):
            gate = prefilter(rule.pattern or "", ignorecase=not rule.case)
            guard = _Guard(rule, timeout)
            self._ordered.append((position, rule, gate, guard))
            if ambiguous_repeat(rule.pattern or "", ignorecase=not rule.case) is not None:
                self.gated.append((position, rule, gate, guard))
            # open: cheap enough to run as it is, or nothing to screen it by (``first`` serves open rules only)
            elif not gate.scans or dataclasses.replace(gate, first=None) == Prefilter(scans=True):
                self.open[f"r{position}"] = (position, rule)
                self._open_gates.append((position, rule, gate))
                self._singles[position] = _Lazy(_body(rule))
            else:
                self.gated.append((position, rule, gate, _Lazy(_body(rule))))
        self.end = len(rules)
        self._shapes: dict[tuple[int, str], _Shape] = {}
        self._screens: dict[int, _Shape] = {}
        self._openers: dict[str, Any] = {}
        self._alternations: dict[tuple[int, ...], Any] = {}

    @cached_property
    def alternation(self) -> Any:
        """Every open rule in one alternation: what the per-first-character ones must agree with (tests)."""
        return _alternation(self._open_gates)

    def first(self, line: str, budget: Budget | None = None) -> Rule | None:
        if len(line) > GUARD_CHARS:
            return self._long(line, budget)
        opener = self._openers.get(line[:1]) or self._opener(line[:1])
        found = opener(line)
        until, rule = self.open[found.lastgroup] if found and found.lastgroup else (self.end, None)
        shape = (len(line), line[-1:])
        candidates, needed, digit, unscreened = self._shapes.get(shape) or self._shape(shape)
        if not candidates or candidates[0][0] >= until:
            return rule
        normed = norm(line)
        if not needed.found_in(normed) and not (digit and has_digit(line)):
            candidates = unscreened  # the others all miss their strongest group
        for position, gated, groups, fullmatch, guarded in candidates:
            if position >= until:
                break
            for strings, or_digit in groups:
                if not any(map(normed.__contains__, strings)) and not (or_digit and has_digit(line)):
                    break
            else:
                if fullmatch(line, budget) if guarded else fullmatch(line):
                    return gated
        return rule

    def _long(self, line: str, budget: Budget | None) -> Rule | None:
        """The first rule claiming a line over ``GUARD_CHARS``: each admitted one under its guard, in order.

        The guards of one line share one timeout, so a line costs at most that, however many rules it meets.
        """
        normed, first = norm(line), line[:1]
        budgets = [Budget(self.timeout), *([] if budget is None else [budget])]
        for _, rule, gate, guard in self._ordered:
            if gate.fits_first(first) and gate.admits(line, normed) and guard.run(line, budgets):
                return rule
        return None

    def _opener(self, first: str) -> Any:
        """The alternation of the open rules a line starting with ``first`` can match, built once per character.

        Most open rules start with a few words ("read more", "image copyright"), so a line holds at most a few
        of them to try; the rest could not match it, so leaving them out never changes which rule wins.
        """
        if len(self._openers) >= MAX_SHAPES:
            self._openers.clear()
        admitted = [entry for entry in self._open_gates if entry[2].fits_first(first)]
        key = tuple(position for position, _, _ in admitted)
        opener = self._alternations.get(key)
        if opener is None:
            opener = self._alternations[key] = _OneByOne(self, key, admitted) if admitted else _no_match
        self._openers[first] = opener
        return opener

    def _shape(self, shape: tuple[int, str]) -> _Shape:
        """The screen for lines of one (length, last character): that of the gated rules passing both tests."""
        if len(self._shapes) >= MAX_SHAPES:
            self._shapes.clear()
        size, last = shape
        fitting = 0
        for index, (_, _, gate, _) in enumerate(self.gated):
            if gate.fits_length(size) and gate.fits_last(last):
                fitting |= 1 << index
        entry = self._shapes[shape] = self._screens.get(fitting) or self._screen(fitting)
        return entry

    def _screen(self, fitting: int) -> _Shape:
        """The candidates in the bit set ``fitting``, and the strings one of which a line needs to meet any.

        A line holding none of the needed strings (nor a digit, when ``digit``) misses the strongest group of
        every candidate that has groups, leaving only the ``unscreened`` ones: those with none, and the guarded
        ones (open rules until found ambiguous: their words, "by" or "di", are in most lines and would open
        the screen; their guard tests a prefix first). Strings holding a shorter needed string are dropped: the
        shorter one occurs whenever they do, so the test keeps its answer and gets cheaper.
        """
        candidates: list[_Candidate] = []
        unscreened: list[_Candidate] = []
        needed: set[str] = set()
        for index, (position, rule, gate, fullmatch) in enumerate(self.gated):
            if not fitting >> index & 1:
                continue
            candidates.append(_candidate(position, rule, gate, fullmatch))
            strongest = gate.strongest()
            if strongest is None or candidates[-1][4]:
                unscreened.append(candidates[-1])
            else:
                needed.update(strongest)
        entry = (tuple(candidates), _Needles(_minimal(needed - {DIGIT})), DIGIT in needed, tuple(unscreened))
        self._screens[fitting] = entry
        return entry


def _candidate(position: int, rule: Rule, gate: Prefilter, fullmatch: Any) -> _Candidate:
    """A gated rule as :meth:`_Gated.first` tries it; a guard's groups are left out: its prefix, run by re in
    C, says more and costs less than the group tests in Python."""
    if isinstance(fullmatch, _Guard):
        return (position, rule, (), fullmatch, True)
    groups = tuple((tuple(s for s in group if s != DIGIT), DIGIT in group) for group in gate.groups)
    return (position, rule, groups, fullmatch, False)


#: lines an opener tries its rules on one by one before it compiles them into one alternation: compiling costs
#: as much as matching a few thousand lines one rule at a time, and a short run never gets that far.
OPENER_LINES = 256


class _Found:
    """What an opener answers when it tried its rules one by one: the winner's group name, as a match has it."""

    __slots__ = ("lastgroup",)

    def __init__(self, position: int) -> None:
        self.lastgroup = f"r{position}"


class _OneByOne:
    """An opener that tries its rules in order, each compiled alone (and shared by every opener holding it).

    ``re`` tries an alternation's branches in order and each branch here is a whole line, so the first rule
    whose pattern fullmatches the line is the branch the alternation would report: the answer is the same.
    After ``OPENER_LINES`` lines the alternation is compiled, and takes this opener's place.
    """

    __slots__ = ("admitted", "alternation", "gated", "key", "left", "rules")

    def __init__(self, gated: _Gated, key: tuple[int, ...], admitted: list[tuple[int, Rule, Prefilter]]) -> None:
        self.gated, self.key, self.admitted = gated, key, admitted
        self.rules = tuple((gated._singles[position], _Found(position)) for position in key)
        self.left = OPENER_LINES
        self.alternation: Any = None

    def __call__(self, line: str) -> Any:
        if self.left > 0:
            self.left -= 1
            for fullmatch, found in self.rules:
                if fullmatch(line):
                    return found
            return None
        if self.alternation is None:
            self.alternation = self.gated._alternations[self.key] = _alternation(self.admitted)
        self.gated._openers[line[:1]] = self.alternation  # this character's next lines go straight to it
        return self.alternation(line)


class _Needles:
    """Whether a text holds any of some strings, in one pass (Aho-Corasick) however many strings there are.

    A sentence is tested against the strongest strings of some twenty rules; ``in`` tests one string per
    call, which costs more in calls than in reading the line.
    """

    def __init__(self, strings: Sequence[str]) -> None:
        self.strings = tuple(strings)
        self._automaton = ahocorasick.Automaton()
        for string in self.strings:
            self._automaton.add_word(string, len(string))
        if self.strings:
            self._automaton.make_automaton()

    def found_in(self, text: str) -> bool:
        if not self.strings:
            return False
        for _ in self._automaton.iter(text):
            return True
        return False


class _Guard:
    """One builtin pattern run by :mod:`regex` under a timeout: the untrusted way, for a trusted rule.

    For a pattern that may backtrack badly (until it is rewritten) and for very long lines. Compiled the
    first time it runs: most guards never do. :mod:`regex` reads ``\\w`` and case a little more widely than
    :mod:`re` (combining marks, a few case pairs), so a guarded rule may differ on such lines.
    """

    def __init__(self, rule: Rule, timeout: float) -> None:
        self.rule = rule
        self.timeout = timeout

    @cached_property
    def _fullmatch(self) -> Any:
        return regex.compile(_body(self.rule)).fullmatch

    @cached_property
    def _prefix(self) -> Any:
        return safe_prefix(self.rule.pattern or "", ignorecase=not self.rule.case) or _any_line

    def __call__(self, line: str, budget: Budget | None = None) -> bool:
        """Whether the pattern fullmatches ``line``; TimeoutError when it or the ``budget`` runs out of time.

        Most lines fail the pattern's safe prefix, run by re: a guarded rule tried on every short line
        ("by" is in most of them) costs little more than it did in the open alternation.
        """
        return self._prefix(line) is not None and self.run(line, () if budget is None else (budget,))

    def run(self, line: str, budgets: Sequence[Budget]) -> bool:
        return _timed(self._fullmatch, line, self.timeout, budgets) is not None


class _Lazy:
    """A trusted pattern's ``fullmatch``, compiled the first time a line passes its prefilter: in a short run most
    gated rules are never tried, and compiling them all up front is a good share of a one-document run."""

    __slots__ = ("body", "fullmatch")

    def __init__(self, body: str) -> None:
        self.body = body
        self.fullmatch: Any = None

    def __call__(self, line: str) -> Any:
        if self.fullmatch is None:
            self.fullmatch = re.compile(self.body).fullmatch
        return self.fullmatch(line)


def _no_match(line: str) -> None:
    return None


def _any_line(line: str) -> str:
    return line


def _alternation(rules: Sequence[tuple[int, Rule, Prefilter]]) -> Any:
    """One fullmatch of ``rules`` in order, each in a group named after its position (``r3``)."""
    parts = [f"(?P<r{position}>{_body(rule)})" for position, rule, _ in rules]
    return re.compile("|".join(parts)).fullmatch if parts else _no_match


def _minimal(strings: set[str]) -> tuple[str, ...]:
    """The strings no shorter one of the set occurs in: any of ``strings`` occurs in a line iff one of these does."""
    return tuple(sorted(s for s in strings if not any(t != s and t in s for t in strings)))
