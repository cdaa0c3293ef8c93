"""Cheap necessary conditions for whole-line patterns: what a line must hold before a regex is worth running.

A pattern like ``.{3,400}?\\s*\\[...\\]`` costs a scan of the whole line to fail, and most lines fail most rules,
so each builtin rule is given a :class:`Prefilter` derived from its parse tree: substrings that every match
contains (``"["``, ``"cookie"`` or ``"privacy policy"``...) and the lengths a match can have. Derived, not
written by hand, so a prefilter can only say "cannot match" when the regex would say so too; an exact output
is the point (issue 6: speed without changing what is removed).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

# the parser re compiles with, so a prefilter reads a pattern exactly as re does: CPython's private modules,
# behind normkit.text's version guard (the one place that touches them); SRE_EXTRA_CASES: the pairs beyond
# simple lowercase that re matches as case twins (sigma, dotless i...)
from normkit.text import SRE_EXTRA_CASES, sre_compile, sre_parse, sre_sequence
from normkit.text import sre_ops as _c

__all__ = ["DIGIT", "Prefilter", "ambiguous_repeat", "has_digit", "norm", "prefilter", "preload", "safe_prefix"]

#: stands for "any decimal digit" (``\d``, ``[0-9]``) in a requirement group.
DIGIT = "\x00digit"
#: what ``str.lower`` leaves of characters ``re`` matches case-insensitively to an ASCII letter, other than
#: the letter itself: dotted I (lowered to i + a combining dot), dotless i, the long s (checked in the tests).
_ASCII_TWINS = (("i\u0307", "i"), ("\u0131", "i"), ("\u017f", "s"))
_DIGIT = re.compile(r"\d")
#: a requirement keeps at most this many groups: each costs a few ``in`` tests per line.
MAX_GROUPS = 3


def norm(line: str) -> str:
    """The line as requirements are tested: lowered, so a literal the regex matches in any case is found."""
    lowered = line.lower()
    if not lowered.isascii():  # str.translate would be slower: it looks up every character in a dict
        for twin, letter in _ASCII_TWINS:
            if twin in lowered:
                lowered = lowered.replace(twin, letter)
    return lowered


def has_digit(line: str) -> bool:
    """``\\d`` anywhere: memchr-fast for ASCII lines, the regex for the rest (Unicode digits count)."""
    if line.isascii():
        return any(d in line for d in "0123456789")
    return _DIGIT.search(line) is not None


@dataclass(frozen=True)
class Prefilter:
    """Lengths a match may have, and groups of substrings (of the :func:`norm` line): one of each group must occur."""

    min_len: int = 0
    max_len: int = 1 << 62
    groups: tuple[tuple[str, ...], ...] = ()
    #: the lowered characters a match may end with (``DIGIT`` and ``WORD`` stand for classes), or None: any
    last: frozenset[str] | None = None
    #: the pattern scans the line (``.{3,400}?...``, a lookahead): worth gating; else cheap enough to just run
    scans: bool = False
    #: the lowered characters a match may start with, as ``last``
    first: frozenset[str] | None = None

    def admits(self, line: str, normed: str) -> bool:
        """False only when the pattern cannot fullmatch ``line`` (``normed`` is its :func:`norm`)."""
        return self.fits(len(line), line[-1:]) and self.holds(line, normed)

    def fits(self, size: int, last: str) -> bool:
        """The half that needs only the line's length and last character, so callers can work it out per shape."""
        return self.fits_length(size) and self.fits_last(last)

    def fits_length(self, size: int) -> bool:
        return self.min_len <= size <= self.max_len

    def fits_last(self, last: str) -> bool:
        return self.last is None or not last or last.isspace() or _one_of(last, self.last)

    def fits_first(self, first: str) -> bool:
        return self.first is None or not first or first.isspace() or _one_of(first, self.first)

    def holds(self, line: str, normed: str) -> bool:
        """The half that reads the line: one string of each group occurs in it."""
        for group in self.groups:  # map over __contains__: the loop stays in C, no generator frame per string
            if not any(map(normed.__contains__, group)) and not (DIGIT in group and has_digit(line)):
                return False
        return True

    def strongest(self) -> tuple[str, ...] | None:
        """The group rarest in prose: the one whose absence rejects the most lines (None: no groups)."""
        return max(self.groups, key=lambda group: (_strength(frozenset(group)), -len(group))) if self.groups else None


def prefilter(pattern: str, *, ignorecase: bool) -> Prefilter:
    """The prefilter of a whole-line ``pattern`` as compiled by :mod:`re`; an empty one when nothing is known."""
    known = _KNOWN.get((pattern, ignorecase))
    return known[0] if known is not None else _derived_prefilter(pattern, ignorecase)


@lru_cache(maxsize=1 << 10)
def _derived_prefilter(pattern: str, ignorecase: bool) -> Prefilter:
    """:func:`prefilter` worked out from the parse tree. Remembered (a :class:`Prefilter` is frozen): a pipeline
    builds four matchers over the builtin rules, which ask for most rules' prefilters twice."""
    try:
        parsed = _parse(pattern, re.IGNORECASE if ignorecase else 0)
    except re.error:
        return Prefilter()
    items = list(parsed)
    low, high = parsed.getwidth()
    high = min(high, _bounded_by_lookahead(items))
    groups = sorted(_needs(items), key=_strength, reverse=True)[:MAX_GROUPS]
    last, first = _last(items, ignorecase=ignorecase), _first(items, ignorecase=ignorecase)
    return Prefilter(low, high, tuple(tuple(sorted(g)) for g in groups), last, _scans(items), first)


#: single characters rare in prose, so a requirement of one of them says as much as a word does.
_RARE = frozenset("[]©@_|/")


def _strength(group: frozenset[str]) -> int:
    return min(1 if s is DIGIT else 5 if s in _RARE else len(s) for s in group)


#: the stand-in for ``\w`` in a :attr:`Prefilter.last` set.
WORD = "\x00word"


def _one_of(char: str, chars: frozenset[str]) -> bool:
    """Whether ``char`` may be matched by one of ``chars`` (lowered characters, ``WORD`` and ``DIGIT``)."""
    if char.lower() in chars or norm(char) in chars:
        return True
    return (WORD in chars and (char.isalnum() or char == "_")) or (DIGIT in chars and char.isdecimal())


def _scans(items: Sequence[Any]) -> bool:
    """Whether the pattern starts by scanning ahead: a lookahead, or a repeat of any character or a class."""
    while len(items) == 1 and items[0][0] is _c.SUBPATTERN:
        items = list(items[0][1][-1])
    items = [item for item in items if item[0] is not _c.ASSERT_NOT]  # "(?!©)..." still scans what follows
    if not items:
        return False
    op, av = items[0]
    if op is _c.ASSERT:
        return True
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT) and av[1] >= 4:
        body = list(av[2])
        return len(body) > 1 or body[0][0] in (_c.ANY, _c.IN, _c.NOT_LITERAL, _c.SUBPATTERN, _c.BRANCH)
    return False


def _last(items: Sequence[Any], *, ignorecase: bool) -> frozenset[str] | None:
    """The characters a match of the sequence can end with, or None when that is not known (or anything)."""
    return _edge(items, ignorecase=ignorecase, forward=False)


def _first(items: Sequence[Any], *, ignorecase: bool) -> frozenset[str] | None:
    """The characters a match of the sequence can start with, or None when that is not known (or anything)."""
    return _edge(items, ignorecase=ignorecase, forward=True)


def _edge(items: Sequence[Any], *, ignorecase: bool, forward: bool) -> frozenset[str] | None:
    nullable, chars = _seq_edge(items, ignorecase=ignorecase, forward=forward)
    return None if nullable else chars  # a sequence that may match nothing has no edge character of its own


def _seq_edge(items: Sequence[Any], *, ignorecase: bool, forward: bool) -> tuple[bool, frozenset[str] | None]:
    """(may match the empty string, the characters a match can start or end with) for a sequence of items."""
    chars: set[str] = set()
    for op, av in items if forward else reversed(items):
        if op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
            continue  # zero width: the next character read starts (or ends) the match
        nullable, found = _edge_of(op, av, ignorecase=ignorecase, forward=forward)
        if found is None:
            return False, None
        chars |= found
        if not nullable:
            return False, frozenset(chars)
    return True, frozenset(chars)


def _edge_of(op: Any, av: Any, *, ignorecase: bool, forward: bool) -> tuple[bool, frozenset[str] | None]:
    """(may match the empty string, the characters the item can start or end with)."""
    if op is _c.LITERAL:
        return False, frozenset({chr(av).lower()}) if _usable(av) else None
    if op is _c.IN:
        return False, _class_chars(av, ignorecase=ignorecase)
    if op is _c.SUBPATTERN:
        return _seq_edge(list(av[-1]), ignorecase=ignorecase, forward=forward)
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
        nullable, found = _seq_edge(list(av[2]), ignorecase=ignorecase, forward=forward)
        return nullable or av[0] == 0, found
    if op is _c.BRANCH:
        results = [_seq_edge(list(branch), ignorecase=ignorecase, forward=forward) for branch in av[1]]
        if any(found is None for _, found in results):
            return False, None
        return any(n for n, _ in results), frozenset().union(*(found for _, found in results))  # type: ignore[arg-type]
    return False, None


def _class_chars(items: Sequence[Any], *, ignorecase: bool) -> frozenset[str] | None:
    chars: set[str] = set()
    for op, av in items:
        if op is _c.LITERAL and _usable(av):
            chars.add(chr(av).lower())
        elif op is _c.CATEGORY and av is _c.CATEGORY_WORD:
            chars.add(WORD)
        elif op is _c.CATEGORY and av is _c.CATEGORY_DIGIT:
            chars.add(DIGIT)
        elif op is _c.CATEGORY and av is _c.CATEGORY_SPACE:
            continue  # a stripped line never ends in whitespace (admits skips the test on one that does)
        elif op is _c.RANGE and not ignorecase and av[1] - av[0] < 64 and all(map(_usable, range(av[0], av[1] + 1))):
            chars.update(chr(c).lower() for c in range(av[0], av[1] + 1))
        else:
            return None
    return frozenset(chars)


def _bounded_by_lookahead(items: Sequence[Any]) -> int:
    """``(?=.{0,240}$)`` at the start of a pattern bounds the line's length (one more, for a final newline)."""
    while len(items) == 1 and items[0][0] is _c.SUBPATTERN:
        items = list(items[0][1][-1])
    if items and items[0][0] is _c.ASSERT and items[0][1][0] == 1:
        body = list(items[0][1][1])
        if body and body[-1] == (_c.AT, _c.AT_END):
            return int(sre_sequence(body[:-1]).getwidth()[1]) + 1
    return 1 << 62


def _usable(code: int) -> bool:
    """A literal character whose every case-insensitive twin lowers (via :func:`norm`) to its own lowercase.

    ``re`` pairs characters by simple lowercase plus a few extra cases (sigma, dotless i...): those are skipped.
    """
    char = chr(code)
    if char.isascii():
        return True
    lower = char.lower()
    return len(lower) == 1 and ord(lower) not in SRE_EXTRA_CASES and code not in SRE_EXTRA_CASES


def _needs(items: Sequence[Any]) -> list[frozenset[str]]:
    """Groups for a sequence of parse items: every match holds one string of each group."""
    groups: list[frozenset[str]] = []
    run: list[str] = []
    for op, av in items:
        if op is _c.LITERAL and _usable(av):
            run.append(chr(av))
            continue
        if run:
            groups.append(frozenset({"".join(run).lower()}))
            run = []
        groups.extend(_item_needs(op, av))
    if run:
        groups.append(frozenset({"".join(run).lower()}))
    return groups


def _item_needs(op: Any, av: Any) -> list[frozenset[str]]:
    if op is _c.SUBPATTERN:
        return _needs(list(av[-1]))
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
        return _needs(list(av[2])) if av[0] >= 1 else []
    if op is getattr(_c, "ATOMIC_GROUP", None):
        return _needs(list(av))
    if op is _c.ASSERT:  # a lookaround reads text of the line too
        return _needs(list(av[1]))
    if op is _c.BRANCH:
        return _branch_needs(av[1])
    if op is _c.IN:
        return _class_needs(av)
    return []


def _branch_needs(branches: Sequence[Any]) -> list[frozenset[str]]:
    """One of the branches matches: the groups all branches share, and the union of each one's strongest group."""
    needs = [_needs(list(branch)) for branch in branches]
    common = set(needs[0]).intersection(*needs[1:])
    if not all(needs):
        return list(common)
    return [*common, frozenset().union(*(max(groups, key=_strength) for groups in needs))]


def _class_needs(items: Sequence[Any]) -> list[frozenset[str]]:
    """``\\d`` or ``[0-9]`` means a digit; a small set of plain characters means one of them."""
    if items in ([(_c.CATEGORY, _c.CATEGORY_DIGIT)], [(_c.RANGE, (48, 57))]):
        return [frozenset({DIGIT})]
    if 0 < len(items) <= 4 and all(op is _c.LITERAL and _usable(av) for op, av in items):
        return [frozenset(chr(av).lower() for _, av in items)]
    return []


# -- repeats that backtrack catastrophically ----------------------------------------------------------------

#: characters whose runs a repeat may split between its iterations: whitespace of each kind, word characters,
#: and the punctuation of names, credits and lists; a pattern's own literal characters are tried too.
RUN_CHARS = "\t \xa0\u2003aA1_-./,'’&|:;@#+©\x00é"
_LEAVES = frozenset({_c.LITERAL, _c.NOT_LITERAL, _c.ANY, _c.IN})


@lru_cache(maxsize=1 << 10)
def _parse(pattern: str, flags: int) -> Any:
    """The parse tree of a pattern (read only): the prefilter and the repeat check both read it, per rule set."""
    return sre_parse(pattern, flags)


def ambiguous_repeat(pattern: str, *, ignorecase: bool) -> str | None:
    """A character whose runs a repeat of ``pattern`` can split between its iterations in several ways, or None.

    ``(?:\\w+[ ,]*){1,5}`` matches ``aaaa`` as one iteration or as two, three or four; on a line it then fails
    to match, it tries every split before giving up, which takes seconds on a few hundred characters. A repeat
    whose body matches runs of one character of two lengths has that property. It is tested on the compiled
    body, so it is exact for the characters tried (not a proof for all others): cheap enough for start-up.
    """
    known = _KNOWN.get((pattern, ignorecase))
    return known[1] if known is not None else _derived_ambiguous(pattern, ignorecase)


@lru_cache(maxsize=1 << 10)
def _derived_ambiguous(pattern: str, ignorecase: bool) -> str | None:
    """:func:`ambiguous_repeat` worked out by compiling the pattern's repeated bodies."""
    flags = re.IGNORECASE if ignorecase else 0
    try:
        parsed = _parse(pattern, flags)
    except re.error:
        return None
    chars = RUN_CHARS + "".join(sorted(set(_literal_chars(list(parsed)))))
    for body in _repeated_bodies(list(parsed)):
        fullmatch = sre_compile(body, flags).fullmatch
        for char in chars:
            if sum(fullmatch(char * size) is not None for size in (1, 2, 3)) >= 2:
                return char
    return None


def safe_prefix(pattern: str, *, ignorecase: bool) -> Any:
    """``re``'s ``match`` for the pattern's leading items up to its first repeat of a group, or None.

    A necessary condition for a guarded pattern, cheap enough to run on every line: what comes before its
    ambiguous repeat ("by", a capital) rarely matches, and re runs it without the risk the repeat brings.
    """
    flags = re.IGNORECASE if ignorecase else 0
    try:
        items = list(_parse(pattern, flags))
    except re.error:
        return None
    safe = list(itertools.takewhile(lambda item: not _repeated_bodies([item]), items))
    if not safe:
        return None
    return sre_compile(sre_sequence(safe, like=_parse(pattern, flags)), flags).match


def _repeated_bodies(items: Sequence[Any]) -> list[Any]:
    """The bodies (parsed) of repeats that may iterate twice or more, other than of a single character."""
    bodies = []
    for op, av in items:
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
            body = av[2]
            if av[1] >= 2 and not (len(body) == 1 and body[0][0] in _LEAVES):
                bodies.append(body)
            bodies.extend(_repeated_bodies(list(body)))
        else:
            bodies.extend(_repeated_bodies(_children(op, av)))
    return bodies


def _literal_chars(items: Sequence[Any]) -> list[str]:
    """Every character the pattern names (literals, and the members of its classes)."""
    chars = []
    for op, av in items:
        if op is _c.LITERAL:
            chars.append(chr(av))
        elif op is _c.IN:
            chars.extend(chr(code) for kind, code in av if kind is _c.LITERAL)
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
            chars.extend(_literal_chars(list(av[2])))
        else:
            chars.extend(_literal_chars(_children(op, av)))
    return chars


def _children(op: Any, av: Any) -> list[Any]:
    """The items nested in a group, an alternation or a lookaround, as one sequence (empty for the rest)."""
    if op is _c.SUBPATTERN:
        return list(av[-1])
    if op is _c.BRANCH:
        return [item for branch in av[1] for item in branch]
    if op in (_c.ASSERT, _c.ASSERT_NOT):
        return list(av[1])
    if op is getattr(_c, "ATOMIC_GROUP", None):
        return list(av)
    return []


# -- what the builtin rules derive, kept between processes ---------------------------------------------------

#: (pattern, ignorecase) -> its prefilter and ambiguous character, read from the cache by :func:`preload`.
_KNOWN: dict[tuple[str, bool], tuple[Prefilter, str | None]] = {}


def preload(patterns: Iterable[tuple[str, bool]], source: str) -> None:
    """Give :func:`prefilter` and :func:`ambiguous_repeat` their answers for ``patterns`` (the builtin rules, read
    from ``source``, the rules file's text) from a JSON file in the user's cache folder, derived and written there
    when it is missing or unreadable.

    Parsing and probing some fifty patterns is a good share of a one-document run. The file's name and its
    ``key`` hold everything the answers depend on (normkit's version, Python's, the rules file and this module,
    by content), so an edit to any of them reads as a miss; JSON, never pickle, and a file that does not have
    exactly the expected shape is derived anew. Nothing is cached when no cache folder can be written.
    """
    wanted = sorted(set(patterns))
    try:
        key = _cache_key(source)
        path = _cache_folder() / f"prefilters-{key[:24]}.json"
    except (OSError, RuntimeError):  # no home folder, or this module's file cannot be read: nothing is cached
        return
    found = _read_cache(path, key, wanted)
    if found is None:
        found = {entry: (_derived_prefilter(*entry), _derived_ambiguous(*entry)) for entry in wanted}
        _write_cache(path, key, found)
    _KNOWN.update(found)


def _cache_folder() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "normkit"


def _cache_key(source: str) -> str:
    try:
        version = metadata.version("normkit")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a checkout that is not installed
        version = "unknown"
    digest = hashlib.sha256(f"{version}\0{sys.version}\0".encode())
    digest.update(hashlib.sha256(source.encode()).digest())
    digest.update(hashlib.sha256(Path(__file__).read_bytes()).digest())
    return digest.hexdigest()


def _read_cache(
    path: Path, key: str, wanted: list[tuple[str, bool]]
) -> dict[tuple[str, bool], tuple[Prefilter, str | None]] | None:
    """The answers the file holds for exactly ``wanted``, or None (missing, another key, any other shape)."""
    try:
        data = json.loads(path.read_bytes())
        if data["key"] != key:
            return None
        found = dict(_entry(row) for row in data["patterns"])
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None
    return found if sorted(found) == wanted else None


def _entry(row: list[Any]) -> tuple[tuple[str, bool], tuple[Prefilter, str | None]]:
    """One row of the file; ValueError or TypeError for anything that is not what :func:`_row` writes."""
    pattern, ignorecase, min_len, max_len, groups, last, scans, first, ambiguous = row
    if not (isinstance(pattern, str) and isinstance(ignorecase, bool) and isinstance(scans, bool)):
        raise ValueError("not a cached pattern")
    if not (isinstance(min_len, int) and isinstance(max_len, int)) or not isinstance(ambiguous, (str, type(None))):
        raise ValueError("not a cached pattern")
    gate = Prefilter(min_len, max_len, tuple(_strings(group) for group in groups), _chars(last), scans, _chars(first))
    return (pattern, ignorecase), (gate, ambiguous)


def _strings(values: Any) -> tuple[str, ...]:
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise TypeError("not a list of strings")
    return tuple(values)


def _chars(values: Any) -> frozenset[str] | None:
    return None if values is None else frozenset(_strings(values))


def _row(entry: tuple[str, bool], gate: Prefilter, ambiguous: str | None) -> list[Any]:
    min_len, max_len, groups, last, scans, first = astuple(gate)
    listed = [None if chars is None else sorted(chars) for chars in (last, first)]
    return [*entry, min_len, max_len, [list(group) for group in groups], listed[0], scans, listed[1], ambiguous]


def _write_cache(path: Path, key: str, found: dict[tuple[str, bool], tuple[Prefilter, str | None]]) -> None:
    """Write the file whole (a temporary file renamed over it), or not at all: a cache that fails is no error."""
    rows = [_row(entry, *answers) for entry, answers in sorted(found.items())]
    text = json.dumps({"key": key, "patterns": rows}, ensure_ascii=True)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False, encoding="ascii") as out:
            out.write(text)
        os.replace(out.name, path)
    except OSError:
        return
