"""Text to text: ftfy's repairs, behind an exact gate that skips what ftfy would leave unchanged.

ftfy and the gate's tables are loaded when a text first needs them: ASCII text holding none of the ASCII
characters a fixer acts on (:data:`_ASCII_TRIGGERS`) and no ``&`` is provably left as it is without them, so a
run of clean ASCII documents never imports ftfy nor compiles the gate's regexes (~50 ms). The module's
constants built from ftfy (``_TRIGGERS``, ``_HINT``, ``_BAD_HINT``, ``_FIX_AND_EXPLAIN``) are built on first use
(:func:`_lazy`); reading one as an attribute builds it too.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields, replace
from types import FunctionType
from typing import TYPE_CHECKING, Any, Final, Literal, cast

from normkit.text._sre import sre_ops as _c
from normkit.text._sre import sre_parse

if TYPE_CHECKING:
    import ftfy

    _FixAndExplain = Callable[[str, ftfy.TextFixerConfig], ftfy.ExplainedText]

__all__ = ["RepairOptions", "repair", "repair_explained"]

Normalization = Literal["NFC", "NFD", "NFKC", "NFKD"]
_NORMALIZATIONS: Final = ("NFC", "NFD", "NFKC", "NFKD")


@dataclass(frozen=True)
class RepairOptions:
    """ftfy's TextFixerConfig options, with defaults that do no harm.

    The defaults undo damage (mojibake, HTML entities outside markup, terminal
    escapes, control characters, odd line breaks, surrogates) but leave
    intended characters alone: no normalization, curly quotes, ligatures and
    fullwidth forms stay.  ``preset("ftfy")`` gives ftfy's own defaults.
    ``explain`` is not an option: :func:`repair_explained` asks for it.
    """

    unescape_html: bool | Literal["auto"] = "auto"
    remove_terminal_escapes: bool = True
    fix_encoding: bool = True
    restore_byte_a0: bool = True
    replace_lossy_sequences: bool = True
    decode_inconsistent_utf8: bool = True
    fix_c1_controls: bool = True
    fix_latin_ligatures: bool = False
    fix_character_width: bool = False
    uncurl_quotes: bool = False
    fix_line_breaks: bool = True
    fix_surrogates: bool = True
    remove_control_chars: bool = True
    normalization: Normalization | None = None
    max_decode_length: int = 1_000_000

    def __post_init__(self) -> None:
        # Options come from config files: check them once, with the field named.
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "unescape_html":
                ok = isinstance(value, bool) or value == "auto"
            elif f.name == "normalization":
                ok = value is None or value in _NORMALIZATIONS
            elif f.name == "max_decode_length":
                ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
            else:
                ok = isinstance(value, bool)
            if not ok:
                raise ValueError(f"RepairOptions.{f.name}: invalid value {value!r}")

    @classmethod
    def preset(cls, name: str) -> RepairOptions:
        """``safe`` (the defaults) or ``ftfy`` (ftfy's full defaults, NFC included)."""
        if name not in _PRESET_NAMES:
            raise ValueError(f"unknown repair preset {name!r}; known: {', '.join(sorted(_PRESET_NAMES))}")
        return cls() if name == "safe" else _presets()[name]  # the safe preset needs nothing of ftfy

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, object]) -> RepairOptions:
        """Options from a config file: field names, plus ``preset`` to start from (default ``safe``)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(mapping) - known - {"preset"})
        if unknown:
            raise ValueError(f"unknown repair option {unknown[0]!r}; known: preset, {', '.join(sorted(known))}")
        base = cls.preset(str(mapping.get("preset", "safe")))
        return replace(base, **{k: v for k, v in mapping.items() if k != "preset"})  # type: ignore[arg-type]

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON Schema of :meth:`from_mapping`'s mapping, with the ``safe`` preset's values as defaults, so
        that a config file is checked (and documented) before anything runs."""
        safe = cls()
        properties: dict[str, Any] = {
            "preset": {"description": "Start from these options.", "enum": sorted(_PRESET_NAMES), "default": "safe"}
        }
        for f in fields(cls):
            properties[f.name] = {**_FIELD_SCHEMAS.get(f.name, {"type": "boolean"}), "default": getattr(safe, f.name)}
            properties[f.name]["description"] = f"ftfy's {f.name}."
        return {"type": "object", "additionalProperties": False, "properties": properties}

    def ftfy_config(self, explain: bool = True) -> ftfy.TextFixerConfig:
        """The equivalent TextFixerConfig.

        ``explain=True`` by default because ftfy ignores restore_byte_a0,
        replace_lossy_sequences and decode_inconsistent_utf8 when it does not
        explain (fix_and_explain then calls fix_encoding without the config).
        """
        import ftfy

        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return ftfy.TextFixerConfig(**values, explain=explain)


#: the JSON Schema of the options that are not plain booleans.
_FIELD_SCHEMAS: Final[dict[str, dict[str, Any]]] = {
    "unescape_html": {"enum": [True, False, "auto"]},
    "normalization": {"enum": [*_NORMALIZATIONS, None]},
    "max_decode_length": {"type": "integer", "minimum": 1},
}

_PRESET_NAMES: Final = ("ftfy", "safe")


@functools.cache
def _presets() -> dict[str, RepairOptions]:
    """The presets by name; ``ftfy`` is read from ftfy's own defaults, so ftfy is imported when one is asked for."""
    import ftfy

    ftfy_defaults = {f: getattr(ftfy.TextFixerConfig(), f) for f in ftfy.TextFixerConfig._fields if f != "explain"}
    return {"safe": RepairOptions(), "ftfy": RepairOptions(**ftfy_defaults)}


def _class_body(codepoints: Iterable[int]) -> str:
    """The inside of a regex character class matching exactly these code points."""
    ranges: list[list[int]] = []
    for cp in sorted(codepoints):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return "".join(_char(a) if a == b else f"{_char(a)}-{_char(b)}" for a, b in ranges)


def _char(codepoint: int) -> str:
    """A code point as a regex escape, valid in and out of classes (surrogates included)."""
    return f"\\U{codepoint:08x}"


def _class_codepoints(pattern: re.Pattern[str]) -> set[int]:
    """Code points of a one-class pattern such as ftfy's quote regexes ("[\\u201c-\\u201f]")."""
    body = pattern.pattern
    if not (body.startswith("[") and body.endswith("]") and "^" not in body and "\\" not in body):
        raise ValueError(f"not a simple character class: {body!r}")
    chars, i = body[1:-1], 0
    out: set[int] = set()
    while i < len(chars):
        if i + 2 < len(chars) and chars[i + 1] == "-":
            out.update(range(ord(chars[i]), ord(chars[i + 2]) + 1))
            i += 3
        else:
            out.add(ord(chars[i]))
            i += 1
    return out


def _build_triggers() -> dict[str, set[int]]:
    """The characters each single-character fixer acts on, taken from ftfy's own
    tables where it has them; a test checks each fixer is the identity on
    every other code point."""
    from ftfy import chardata

    return {
        "remove_terminal_escapes": {0x1B},  # ANSI_RE starts with ESC
        "fix_c1_controls": set(range(0x80, 0xA0)),  # chardata.C1_CONTROL_RE
        "fix_latin_ligatures": set(chardata.LIGATURES),
        "fix_character_width": set(chardata.WIDTH_MAP),
        "uncurl_quotes": _class_codepoints(chardata.SINGLE_QUOTE_RE) | _class_codepoints(chardata.DOUBLE_QUOTE_RE),
        "fix_line_breaks": {0x0D, 0x2028, 0x2029, 0x85},  # fixes.fix_line_breaks
        "fix_surrogates": set(range(0xD800, 0xE000)),
        "remove_control_chars": set(chardata.CONTROL_CHARS),
    }


#: the ASCII characters among each fixer's triggers (``_TRIGGERS``), known without ftfy: what ASCII text must
#: not hold to be left as it is. ``tests/test_startup.py`` checks them against ftfy's tables.
_ASCII_TRIGGERS: Final[dict[str, frozenset[int]]] = {
    "remove_terminal_escapes": frozenset({0x1B}),
    "fix_line_breaks": frozenset({0x0D}),
    "remove_control_chars": frozenset({*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F}),
}


# --- the mojibake hint ------------------------------------------------------------------------
#
# fix_encoding leaves a segment as it is when the segment is ASCII or when
# badness.is_bad() (a search for BADNESS_RE) finds nothing.  That regex runs
# at 5-20 MB/s, too slow to try on every line.  The hint stands in for it:
# per alternative of BADNESS_RE, the rarest element that only matches
# non-ASCII characters (the anchor), and lookarounds for the elements beside
# it.  The regex engine skips to anchor characters at C speed and checks
# the lookarounds only there.  Every match of BADNESS_RE in a segment gives
# a hit at its anchor, in the segment and in any text holding it (the
# lookarounds only read characters of the match), so no hit means no bad
# segment; a hit is only a hint, which is_bad() then confirms or not.
# BADNESS_RE is read through CPython's own parser (normkit.text._sre, the
# version-guarded module).  Worth it: without the hint (every non-ASCII
# segment to is_bad or ftfy) the fix_text stage of benchmarks/stages.py is
# about 13 times slower, a whole pipeline run about 1.8 times.


@dataclass(frozen=True)
class _Hint:
    """Where mojibake may be, as pieces of a regex (see :func:`_anchored`).

    ``anchors``: the inside of a class holding a character of every match.
    ``branches``: per alternative, its anchor then lookarounds for the
    elements beside it.  ``ascii_free``: the same, keeping only the elements
    next to the anchor that match non-ASCII characters alone: those stay
    side by side when the ASCII characters are deleted from the text.
    """

    anchors: str
    branches: tuple[str, ...]
    ascii_free: tuple[str, ...]
    flags: int = 0


_NO_HINT: Final = _Hint("", (), ())
# Exact but slow: without a usable BADNESS_RE, every non-ASCII segment goes to is_bad().
_ANY_NON_ASCII: Final = _Hint("\\x80-\\U0010ffff", ("[\\x80-\\U0010ffff]",), ("[\\x80-\\U0010ffff]",))


def _build_hint(pattern: re.Pattern[str]) -> _Hint:
    """The hint for ``pattern`` (BADNESS_RE), from its parsed form; _ANY_NON_ASCII if its shape is unexpected."""
    if pattern.flags & re.IGNORECASE:
        return _ANY_NON_ASCII  # a non-ASCII literal could then match ASCII letters
    tree = sre_parse(pattern.pattern, pattern.flags)
    top = tree.data[0] if len(tree.data) == 1 else None
    alternatives = top[1][1] if top is not None and top[0] is _c.BRANCH else [tree]
    anchors: set[int] = set()
    branches: list[str] = []
    ascii_free: list[str] = []
    for alternative in alternatives:
        elements = list(alternative.data)
        choices = [(i, chars) for i, (op, av) in enumerate(elements) if (chars := _non_ascii_only(op, av))]
        if not choices:
            return _ANY_NON_ASCII
        at, chars = min(choices, key=lambda choice: _rarity(choice[1]))
        anchors |= chars
        branches.append(_branch(elements, at, ascii_free=False))
        ascii_free.append(_branch(elements, at, ascii_free=True))
    return _Hint(_class_body(anchors), tuple(branches), tuple(ascii_free), pattern.flags & ~re.VERBOSE)


def _branch(elements: list[tuple[Any, Any]], at: int, ascii_free: bool) -> str:
    """Element ``at`` (the anchor), then lookarounds for the elements beside it that can be checked.

    Before the anchor, only one-character elements (a lookbehind has a fixed
    width); ``ascii_free``: on both sides, only non-ASCII-only ones.  Leaving
    elements out only makes the branch match more, never less.
    """
    anchor = _element_text(*elements[at])
    assert anchor is not None  # a LITERAL or IN, by the choice of anchor
    before = _beside(reversed(elements[:at]), ascii_free, one_char=True)[::-1]
    after = _beside(elements[at + 1 :], ascii_free, one_char=False)
    lookbehind = f"(?<={''.join(before)}{anchor})" if before else ""
    lookahead = f"(?={''.join(after)})" if after else ""
    return anchor + lookbehind + lookahead


def _beside(elements: Iterable[tuple[Any, Any]], ascii_free: bool, one_char: bool) -> list[str]:
    """Pattern texts of the leading elements that can be checked, up to the first that cannot."""
    out: list[str] = []
    for op, av in elements:
        one_wide = op in (_c.LITERAL, _c.ANY, _c.IN)
        usable = bool(_non_ascii_only(op, av)) if ascii_free else (one_wide or not one_char)
        text = _element_text(op, av) if usable else None
        if text is None:
            break
        out.append(text)
    return out


def _element_text(op: Any, av: Any) -> str | None:
    """Pattern text for one parsed element; None for kinds not rebuilt here (left out of the hint)."""
    if op is _c.LITERAL:
        return _char(av)
    if op is _c.ANY:
        return "."
    if op is _c.IN:
        body = _joined([_class_item(kind, value) for kind, value in av])
        return None if body is None else f"[{body}]"
    if op is _c.MAX_REPEAT:
        low, high, sub = av
        body = _joined([_element_text(o, a) for o, a in sub.data])
        return None if body is None else f"(?:{body}){{{low},{'' if high == _c.MAXREPEAT else high}}}"
    return None


def _joined(parts: list[str | None]) -> str | None:
    """The parts end to end; None if one is missing."""
    present = [part for part in parts if part is not None]
    return "".join(present) if len(present) == len(parts) else None


def _class_item(kind: Any, value: Any) -> str | None:
    """Pattern text for one item of a parsed class."""
    if kind is _c.LITERAL:
        return _char(value)
    if kind is _c.RANGE:
        return f"{_char(value[0])}-{_char(value[1])}"
    if kind is _c.NEGATE:
        return "^"
    if kind is _c.CATEGORY:
        return next((escape for name, escape in _CATEGORIES.items() if value is getattr(_c, name)), None)
    return None


_CATEGORIES: Final = {
    **{"CATEGORY_DIGIT": "\\d", "CATEGORY_SPACE": "\\s", "CATEGORY_WORD": "\\w"},
    **{"CATEGORY_NOT_DIGIT": "\\D", "CATEGORY_NOT_SPACE": "\\S", "CATEGORY_NOT_WORD": "\\W"},
}


#: Punctuation that ordinary text uses often; with letters, what anchors should avoid.
_EVERYDAY: Final = frozenset(map(ord, "‘’‚“”„«»‹›–—•…©®™€£°·×½¼¾¡¿§¶\u00a0"))


def _rarity(chars: set[int]) -> tuple[int, int]:
    """How often ordinary text would hit a character of ``chars`` (lower is rarer): a static estimate.

    Letters and everyday punctuation count, lowercase letters twice (so "Ђ",
    not "в", anchors "вЂ"); then the smaller set wins.
    """
    common = 0
    for char in chars:
        category = unicodedata.category(chr(char))
        common += 2 if category == "Ll" else int(category.startswith("L") or char in _EVERYDAY)
    return common, len(chars)


def _non_ascii_only(op: Any, av: Any) -> set[int] | None:
    """The characters a LITERAL or positive IN element matches, if all are non-ASCII."""
    if op is _c.LITERAL:
        return {av} if av > 0x7F else None
    if op is not _c.IN:
        return None
    out: set[int] = set()
    for kind, value in av:
        if kind is _c.LITERAL and value > 0x7F:
            out.add(value)
        elif kind is _c.RANGE and value[0] > 0x7F:
            out.update(range(value[0], value[1] + 1))
        else:
            return None
    return out


def _badness_hint() -> _Hint:
    from ftfy import badness

    return _build_hint(badness.BADNESS_RE)


_NEVER: Final = re.compile("(?!)")


def _anchored(triggers: str, hint: _Hint, branches: tuple[str, ...]) -> re.Pattern[str]:
    """A regex hitting every trigger character and every anchor whose branch holds.

    Its shape, "[triggers and anchors](?<=[triggers]|branch|...)", starts
    with a plain class, which lets the regex engine skip to candidates at C
    speed; there, each branch whose first class misses is dismissed at once.
    """
    alternatives = ([f"[{triggers}]"] if triggers else []) + list(branches)
    if not alternatives:
        return _NEVER
    return re.compile(f"[{triggers}{hint.anchors}](?<={'|'.join(alternatives)})", hint.flags)


def _is_bad(text: str) -> bool:
    """badness.is_bad(text), the same answer for every text, but fast on the clean ones the hint rules out."""
    from ftfy import badness

    return _lazy("_BAD_HINT").search(text) is not None and badness.is_bad(text)


def _rebind_fix_and_explain() -> _FixAndExplain:
    """ftfy.fix_and_explain, running ftfy's own code but with :func:`_is_bad` as its is_bad.

    fix_encoding calls is_bad() at every step, and so on the text it has
    just fixed, twice: there BADNESS_RE reads every character (at 5-20 MB/s)
    to find nothing, which is half of ftfy's time on a damaged line.  The
    functions of ftfy's main module are copied into a namespace of their own
    where is_bad is replaced, so ftfy itself is left untouched; if ftfy does
    not look as expected, its own fix_and_explain is used.  The copies share
    ftfy's code objects and read its module-level constants from the copied
    namespace; ftfy's functions assign no globals, so the two never diverge
    (``test_the_rebound_ftfy_agrees_with_ftfy`` checks the results; checked
    with ftfy 6.3).  Worth it: the fix_text stage of benchmarks/stages.py
    takes about 1.5 times as long with ftfy's own fix_and_explain.
    """
    import ftfy
    from ftfy import badness

    original = vars(ftfy)
    if original.get("is_bad") is not badness.is_bad or not isinstance(original.get("fix_and_explain"), FunctionType):
        return ftfy.fix_and_explain
    namespace = dict(original)
    for name, value in original.items():
        if isinstance(value, FunctionType) and value.__globals__ is original:
            copy = FunctionType(value.__code__, namespace, value.__name__, value.__defaults__, value.__closure__)
            copy.__kwdefaults__ = value.__kwdefaults__
            namespace[name] = copy
    namespace["is_bad"] = _is_bad
    return cast("_FixAndExplain", namespace["fix_and_explain"])


#: the module's constants built from ftfy, by name: each on first use (see :func:`_lazy`).
_BUILDERS: Final[dict[str, Callable[[], Any]]] = {
    "_TRIGGERS": _build_triggers,
    "_HINT": _badness_hint,
    "_BAD_HINT": lambda: _anchored("", _lazy("_HINT"), _lazy("_HINT").branches),
    "_FIX_AND_EXPLAIN": _rebind_fix_and_explain,
}


def _lazy(name: str) -> Any:
    """The module constant ``name``, built from ftfy's tables the first time (read from the module's globals, so
    a test may replace it)."""
    value = globals().get(name)
    if value is None:
        value = globals()[name] = _BUILDERS[name]()
    return value


def __getattr__(name: str) -> Any:
    """``repairing._HINT`` and the other constants of :data:`_BUILDERS`, built when first read."""
    if name in _BUILDERS:
        return _lazy(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Gate:
    """Decides, exactly, that ftfy would return a text or segment unchanged (or only with CRLF -> LF).

    fix_and_explain() runs its fixers and returns as soon as one round
    changes nothing.  A round changes nothing when: no HTML entity (the only
    thing unescape_html replaces); ASCII or not is_bad() (fix_encoding's
    first test returns the text as is); none of the characters the other
    enabled fixers act on; and already normalized.
    """

    def __init__(self, options: RepairOptions) -> None:
        triggers = _lazy("_TRIGGERS")
        trigger_set = set().union(*(chars for name, chars in triggers.items() if getattr(options, name)))
        self.triggers = _class_body(trigger_set)
        self.hint = _lazy("_HINT") if options.fix_encoding else _NO_HINT
        self.ascii_bystanders = bytes(b for b in range(0x80) if b not in trigger_set)
        self.entities = bool(options.unescape_html)
        self.auto_entities = options.unescape_html == "auto"
        self.crlf = options.fix_line_breaks
        self.normalization = options.normalization
        self.max_length = options.max_decode_length

    # The regexes are compiled when first searched (~10 ms each): text that is mostly ASCII needs none.

    @functools.cached_property
    def bad_hint(self) -> re.Pattern[str]:
        return _anchored("", self.hint, self.hint.branches)

    @functools.cached_property
    def suspect(self) -> re.Pattern[str]:
        return _anchored(self.triggers, self.hint, self.hint.branches)

    @functools.cached_property
    def suspect_ascii_free(self) -> re.Pattern[str]:
        return _anchored(self.triggers, self.hint, self.hint.ascii_free)

    def whole_text(self, text: str) -> str | None:
        """ftfy.fix_text's result when it is provably the text itself or its CRLF -> LF form."""
        if len(text) > self.max_length and (self.normalization or "\r" in text):
            return None  # a cut inside a long line could split "\r\n" or a normalization unit
        if not (self.crlf and "\r" in text):
            return text if self.settled(text, self.entities) and self.quiet(text) else None
        # "\r" is a trigger: each line's round one turns "\r\n" into "\n", round two must change nothing.
        lf = text.replace("\r\n", "\n")
        if self.settled(lf, self.entities) and self.quiet(lf) and not self.bad_hint.search(text):
            return lf
        return None

    def quiet(self, text: str) -> bool:
        """No trigger character and no segment that is_bad(): the part of the test that reads every character.

        Most text is mostly ASCII and no anchor is, so the first pass reads
        only the non-ASCII characters (and ASCII triggers): the UTF-8 bytes
        with the others deleted, at C speed.  A match's non-ASCII neighbours
        stay side by side there, so no hit there means no hit in the text;
        only a hit, or text that is mostly non-ASCII, costs a pass over it all.
        """
        data = text.encode("utf-8", "surrogatepass")
        if len(data) - len(text) <= len(text) // 4:
            kept = data.translate(None, self.ascii_bystanders)
            if not kept or self.suspect_ascii_free.search(kept.decode("utf-8", "surrogatepass")) is None:
                return True
        return self.suspect.search(text) is None

    def settled(self, text: str, entities: bool) -> bool:
        """Nothing for unescape_html (when ``entities``) or normalization to do."""
        if entities and self.entity_before_markup(text):
            return False
        return not self.normalization or unicodedata.is_normalized(self.normalization, text)

    def entity_before_markup(self, text: str) -> bool:
        """An HTML entity where unescape_html acts.

        With "auto", fix_text stops unescaping at the first segment that holds
        "<", for good: only entities before the first "<" can be unescaped.
        """
        end = text.find("<") if self.auto_entities else -1
        end = len(text) if end < 0 else end
        if text.find("&", 0, end) < 0:
            return False
        from ftfy import chardata

        return chardata.HTML_ENTITY_RE.search(text, 0, end) is not None

    def suspects(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of the segments that may change, in order; all others provably stay as they are."""
        if self.normalization and (len(text) > self.max_length or not self.settled(text, entities=False)):
            return list(_segments(text, self.max_length))  # cut lines, or unnormalized lines to find
        found: set[tuple[int, int]] = set()
        pos = 0
        while (hit := self.suspect.search(text, pos)) is not None:
            span = _segment_at(text, hit.start(), self.max_length)
            found.add(span)
            pos = span[1]
        if self.entities:
            from ftfy import chardata

            end = text.find("<") if self.auto_entities else -1
            for entity in chardata.HTML_ENTITY_RE.finditer(text, 0, len(text) if end < 0 else end):
                found.add(_segment_at(text, entity.start(), self.max_length))
        return sorted(found)

    def segment(self, text: str, entities: bool) -> str | None:
        """fix_and_explain(text)'s result when it is provably text or its CRLF -> LF form.

        ``entities``: whether unescape_html is still on for this segment.  A
        hint of mojibake is enough to leave the segment to ftfy: a segment
        with a hit is nearly always bad, and ftfy tests that first.
        """
        if self.unchanged(text, entities):
            return text
        if self.crlf and text.endswith("\r\n") and "\r" not in text[:-2]:
            lf = text[:-2] + "\n"
            if self.unchanged(lf, entities) and self.bad_hint.search(text) is None:
                return lf
        return None

    def unchanged(self, text: str, entities: bool) -> bool:
        """One round of fix_and_explain(text) would change nothing."""
        return self.settled(text, entities) and self.suspect.search(text) is None


@functools.lru_cache(maxsize=64)
def _gate(options: RepairOptions) -> _Gate:
    return _Gate(options)


_DEFAULTS: Final = RepairOptions()
_CRLF_STEP: Final = ("apply", "fix_line_breaks")


def repair(text: str, options: RepairOptions | None = None) -> str:
    """ftfy.fix_text(text) with these options; the same output, faster on clean text."""
    return _repair(text, options or _DEFAULTS, explain=False)[0]


def repair_explained(text: str, options: RepairOptions | None = None) -> tuple[str, list[tuple[str, str]]]:
    """repair(text) and ftfy's explanation: the steps of each segment (line) ftfy changed.

    For text that is one segment this is exactly ftfy.fix_and_explain's plan;
    otherwise the segments' plans in order, leaving out any plan already
    contained in an earlier one.  [] when the text is unchanged.
    """
    return _repair(text, options or _DEFAULTS, explain=True)


@functools.lru_cache(maxsize=64)
def _ascii_bystanders(options: RepairOptions) -> bytes:
    """The ASCII bytes no enabled fixer acts on."""
    triggers = set().union(*(chars for name, chars in _ASCII_TRIGGERS.items() if getattr(options, name)))
    return bytes(b for b in range(0x80) if b not in triggers)


def _ascii_untouched(text: str, options: RepairOptions) -> bool:
    """ftfy leaves ``text`` as it is, provably, without ftfy: ASCII, no ASCII trigger, no entity to unescape.

    ASCII is never mojibake to fix_encoding and is normalized in every form; every other fixer acts only on its
    trigger characters (the gate's own reasoning, for the one case that needs none of its tables).
    """
    if not text.isascii() or (options.unescape_html and "&" in text):
        return False
    return not text.encode("ascii").translate(None, _ascii_bystanders(options))


def _repair(text: str, options: RepairOptions, explain: bool) -> tuple[str, list[tuple[str, str]]]:
    if _ascii_untouched(text, options):
        return text, []
    gate = _gate(options)
    whole = gate.whole_text(text)
    if whole is not None:
        return whole, ([_CRLF_STEP] if whole != text else [])
    config = options.ftfy_config()
    markup = text.find("<") if config.unescape_html == "auto" else -1
    out: list[str] = []
    plans: list[list[tuple[str, str]]] = []
    done = 0
    for start, end in gate.suspects(text):
        # As ftfy.fix_text: once a segment holds "<", "auto" stops unescaping for good.
        if 0 <= markup < end:
            config = config._replace(unescape_html=False)
        segment = text[start:end]
        fixed, plan = _fix_segment(gate, segment, config)
        out += (text[done:start], fixed)
        done = end
        if explain and plan and not _covered(plan, plans):
            plans.append(plan)
    out.append(text[done:])
    return "".join(out), [step for plan in plans for step in plan]


def _fix_segment(gate: _Gate, segment: str, config: ftfy.TextFixerConfig) -> tuple[str, list[tuple[str, str]]]:
    """fix_and_explain(segment, config) and its plan, without ftfy when the gate can tell."""
    fixed = gate.segment(segment, bool(config.unescape_html))
    if fixed is not None:
        return fixed, ([_CRLF_STEP] if fixed != segment else [])
    fixed, steps = _lazy("_FIX_AND_EXPLAIN")(segment, config)
    return fixed, [(step.action, step.parameter) for step in steps or ()]


def _covered(plan: list[tuple[str, str]], plans: list[list[tuple[str, str]]]) -> bool:
    """The plan already appears, whole and in order, inside an earlier one (so listing it adds nothing)."""
    n = len(plan)
    return any(earlier[i : i + n] == plan for earlier in plans for i in range(len(earlier) - n + 1))


def _segment_at(text: str, pos: int, max_length: int) -> tuple[int, int]:
    """(start, end) of the segment of ftfy.fix_text holding text[pos]: its line, or a max_length piece of it."""
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos) + 1 or len(text)
    if end - start > max_length:
        start += (pos - start) // max_length * max_length
        end = min(end, start + max_length)
    return start, end


def _segments(text: str, max_length: int) -> Iterator[tuple[int, int]]:
    """(start, end) of the pieces ftfy.fix_text fixes independently: lines, cut at max_length."""
    pos, end = 0, len(text)
    while pos < end:
        stop = text.find("\n", pos) + 1 or end
        stop = min(stop, pos + max_length)
        yield pos, stop
        pos = stop
