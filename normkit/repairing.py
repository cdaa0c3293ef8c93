"""Text to text: ftfy's repairs, behind an exact gate that skips what ftfy would leave unchanged."""

from __future__ import annotations

import functools
import importlib
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields, replace
from types import ModuleType
from typing import Any, Final, Literal

import ftfy
from ftfy import badness, chardata

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
        if name not in _PRESETS:
            raise ValueError(f"unknown repair preset {name!r}; known: {', '.join(sorted(_PRESETS))}")
        return _PRESETS[name]

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, object]) -> RepairOptions:
        """Options from a config file: field names, plus ``preset`` to start from (default ``safe``)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(mapping) - known - {"preset"})
        if unknown:
            raise ValueError(f"unknown repair option {unknown[0]!r}; known: preset, {', '.join(sorted(known))}")
        base = cls.preset(str(mapping.get("preset", "safe")))
        return replace(base, **{k: v for k, v in mapping.items() if k != "preset"})  # type: ignore[arg-type]

    def ftfy_config(self, explain: bool = True) -> ftfy.TextFixerConfig:
        """The equivalent TextFixerConfig.

        ``explain=True`` by default because ftfy ignores restore_byte_a0,
        replace_lossy_sequences and decode_inconsistent_utf8 when it does not
        explain (fix_and_explain then calls fix_encoding without the config).
        """
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return ftfy.TextFixerConfig(**values, explain=explain)


_PRESETS: Final = {
    "safe": RepairOptions(),
    "ftfy": RepairOptions(
        **{f: getattr(ftfy.TextFixerConfig(), f) for f in ftfy.TextFixerConfig._fields if f != "explain"}
    ),
}


def _char_class(codepoints: set[int]) -> str:
    """A regex character class matching exactly these code points."""
    ranges: list[list[int]] = []
    for cp in sorted(codepoints):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return "[" + "".join(f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges) + "]"


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


# The characters each single-character fixer acts on, taken from ftfy's own
# tables where it has them; a test checks each fixer is the identity on
# every other code point.
_TRIGGERS: Final[dict[str, set[int]]] = {
    "remove_terminal_escapes": {0x1B},  # ANSI_RE starts with ESC
    "fix_c1_controls": set(range(0x80, 0xA0)),  # chardata.C1_CONTROL_RE
    "fix_latin_ligatures": set(chardata.LIGATURES),
    "fix_character_width": set(chardata.WIDTH_MAP),
    "uncurl_quotes": _class_codepoints(chardata.SINGLE_QUOTE_RE) | _class_codepoints(chardata.DOUBLE_QUOTE_RE),
    "fix_line_breaks": {0x0D, 0x2028, 0x2029, 0x85},  # fixes.fix_line_breaks
    "fix_surrogates": set(range(0xD800, 0xE000)),
    "remove_control_chars": set(chardata.CONTROL_CHARS),
}

# ftfy tests each segment with is_bad(), whose only anchor is "^[ÃÂ][ ]".  A
# segment may start anywhere in the text (after "\n", or where a line over
# max_decode_length is cut), so the whole-text test drops that anchor: a
# match in any segment is then a match in the text.
_ANCHORED: Final = "^[ÃÂ][ ]"
_BAD_PATTERN: Final = badness.BADNESS_RE.pattern
_WHOLE_TEXT_GATE: Final = _BAD_PATTERN.count("^") - _BAD_PATTERN.count("[^") == 1 and _ANCHORED in _BAD_PATTERN
_BAD_ANYWHERE: Final = re.compile(_BAD_PATTERN.replace(_ANCHORED, "[ÃÂ][ ]"), badness.BADNESS_RE.flags)


def _required_chars(pattern: re.Pattern[str]) -> tuple[set[int], int] | None:
    """Non-ASCII characters one of which every match holds, and the longest match; None if unsure.

    True when each top-level alternative has an element that matches only
    non-ASCII characters (the mojibake characters); checked on the parsed
    pattern, so a new ftfy whose regex breaks the rule turns the shortcut off.
    Every such element is mandatory, so one per alternative is enough: the
    one least likely in ordinary text (see :func:`_rarity`), which keeps
    letters and everyday punctuation out of the set and the gate fast on
    accented, Greek and Cyrillic text.
    """
    parser, c = _sre()
    tree = parser.parse(pattern.pattern, pattern.flags)
    longest = tree.getwidth()[1]
    if len(tree.data) != 1 or tree.data[0][0] is not c.BRANCH or longest >= c.MAXREPEAT:
        return None
    found: set[int] = set()
    for alternative in tree.data[0][1][1]:
        elements = [ch for ch in (_non_ascii_only(op, av, c) for op, av in alternative.data) if ch]
        if not elements:
            return None
        rarest: set[int] = min(elements, key=_rarity)
        found.update(rarest)
    return found, longest


#: Punctuation that ordinary text uses often; with letters, what the required set should avoid.
_EVERYDAY: Final = frozenset(map(ord, "‘’‚“”„«»‹›–—•…©®™€£°·×½¼¾¡¿§¶\u00a0"))


def _rarity(chars: set[int]) -> tuple[int, int]:
    """How often ordinary text would hit a character of ``chars`` (lower is rarer): a static estimate."""
    common = sum(unicodedata.category(chr(c)).startswith("L") or c in _EVERYDAY for c in chars)
    return common, len(chars)


def _sre() -> tuple[ModuleType, ModuleType]:
    """Python's regex parser and its constants (private modules, hence the guarded use)."""
    try:
        return importlib.import_module("re._parser"), importlib.import_module("re._constants")
    except ImportError:  # Python 3.10
        return importlib.import_module("sre_parse"), importlib.import_module("sre_constants")


def _non_ascii_only(op: Any, av: Any, c: ModuleType) -> set[int] | None:
    """The characters a LITERAL or positive IN element matches, if all are non-ASCII."""
    if op is c.LITERAL:
        return {av} if av > 0x7F else None
    if op is not c.IN:
        return None
    out: set[int] = set()
    for kind, value in av:
        if kind is c.LITERAL and value > 0x7F:
            out.add(value)
        elif kind is c.RANGE and value[0] > 0x7F:
            out.update(range(value[0], value[1] + 1))
        else:
            return None
    return out


def _shortcut() -> tuple[re.Pattern[str], re.Pattern[str], int] | None:
    """Regexes to find mojibake characters and to shorten the stretches far from any."""
    required = _required_chars(_BAD_ANYWHERE)
    if required is None:
        return None
    chars, width = required
    mojibake = _char_class(chars)
    other = "[^" + mojibake[1:]
    return re.compile(mojibake), re.compile(f"({other}{{{width}}}){other}+({other}{{{width}}})"), width


_SHORTCUT: Final = _shortcut()


def _bad_anywhere(text: str) -> bool:
    """_BAD_ANYWHERE.search(text), cheaper: the regex runs at 5-20 MB/s, too slow for a gate.

    A match holds a mojibake character and is at most `width` long, so text
    farther than that from every mojibake character can be cut out (a NUL
    keeps the two sides apart) without losing a match.
    """
    if _SHORTCUT is None:
        return _BAD_ANYWHERE.search(text) is not None
    mojibake, far, _ = _SHORTCUT
    if not mojibake.search(text):
        return False
    return _BAD_ANYWHERE.search(far.sub("\\1\x00\\2", text)) is not None


class _Gate:
    """Decides, exactly, that ftfy would return a segment unchanged (or only with CRLF -> LF).

    fix_and_explain() runs its fixers and returns as soon as one round
    changes nothing.  A round changes nothing when: no HTML entity (the only
    thing unescape_html replaces); ASCII or not is_bad() (fix_encoding's
    first test returns the text as is); none of the characters the other
    enabled fixers act on; and already normalized.
    """

    def __init__(self, options: RepairOptions) -> None:
        enabled = {name for name in _TRIGGERS if getattr(options, name)}
        self.triggers = re.compile(_char_class(set().union(*(_TRIGGERS[n] for n in enabled))) if enabled else "(?!)")
        self.entities = bool(options.unescape_html)
        self.auto_entities = options.unescape_html == "auto"
        self.fix_encoding = options.fix_encoding
        self.crlf = options.fix_line_breaks
        self.normalization = options.normalization
        self.max_length = options.max_decode_length

    def unchanged(self, text: str, bad: Callable[[str], bool], entities: bool) -> bool:
        """One round of fix_and_explain(text) would change nothing."""
        return not (
            self.triggers.search(text)
            or (entities and self.entity_before_markup(text))
            or (self.fix_encoding and not text.isascii() and bad(text))
            or (self.normalization and not unicodedata.is_normalized(self.normalization, text))
        )

    def entity_before_markup(self, text: str) -> bool:
        """An HTML entity where unescape_html acts.

        With "auto", fix_text stops unescaping at the first segment that holds
        "<", for good: only entities before the first "<" can be unescaped.
        """
        end = text.find("<") if self.auto_entities else -1
        end = len(text) if end < 0 else end
        return text.find("&", 0, end) >= 0 and chardata.HTML_ENTITY_RE.search(text, 0, end) is not None

    def crlf_only(self, text: str, bad: Callable[[str], bool], entities: bool) -> str | None:
        """Text whose only change is CRLF -> LF: that result, else None.

        Round one: nothing but fix_line_breaks acts (no trigger other than
        the "\\r" of a "\\r\\n", and fix_encoding passes the original); round
        two, on the LF text, changes nothing.
        """
        if not self.crlf or "\r\n" not in text:
            return None
        lf = text.replace("\r\n", "\n")
        if not self.unchanged(lf, bad, entities):
            return None
        if self.fix_encoding and not text.isascii() and bad(text):
            return None
        return lf

    def whole_text(self, text: str) -> str | None:
        """ftfy.fix_text's result when it is provably the text itself or its CRLF -> LF form."""
        if not _WHOLE_TEXT_GATE:
            return None
        if len(text) > self.max_length and (self.normalization or "\r" in text):
            # A cut inside a long line could split "\r\n" or a normalization unit.
            return None
        if self.unchanged(text, _bad_anywhere, self.entities):
            return text
        return self.crlf_only(text, _bad_anywhere, self.entities)

    def segment(self, text: str, entities: bool) -> str | None:
        """fix_and_explain(text)'s result when it is provably text or its CRLF -> LF form.

        ``entities``: whether unescape_html is still on for this segment.
        """
        if self.unchanged(text, badness.is_bad, entities):
            return text
        if text.endswith("\r\n") and "\r" not in text[:-2]:
            return self.crlf_only(text, badness.is_bad, entities)
        return None


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


def _repair(text: str, options: RepairOptions, explain: bool) -> tuple[str, list[tuple[str, str]]]:
    gate = _gate(options)
    whole = gate.whole_text(text)
    if whole is not None:
        return whole, ([_CRLF_STEP] if whole != text else [])
    config = options.ftfy_config()
    out: list[str] = []
    plans: list[list[tuple[str, str]]] = []
    for segment in _segments(text, options.max_decode_length):
        # As ftfy.fix_text: once a segment holds "<", "auto" stops unescaping for good.
        if config.unescape_html == "auto" and "<" in segment:
            config = config._replace(unescape_html=False)
        fixed = gate.segment(segment, bool(config.unescape_html))
        plan = [_CRLF_STEP] if fixed is not None and fixed != segment else []
        if fixed is None:
            fixed, steps = ftfy.fix_and_explain(segment, config)
            plan = [(step.action, step.parameter) for step in steps or ()]
        out.append(fixed)
        if explain and plan and not _covered(plan, plans):
            plans.append(plan)
    return "".join(out), [step for plan in plans for step in plan]


def _covered(plan: list[tuple[str, str]], plans: list[list[tuple[str, str]]]) -> bool:
    """The plan already appears, whole and in order, inside an earlier one (so listing it adds nothing)."""
    n = len(plan)
    return any(earlier[i : i + n] == plan for earlier in plans for i in range(len(earlier) - n + 1))


def _segments(text: str, max_length: int) -> Iterator[str]:
    """The pieces ftfy.fix_text fixes independently: lines, cut at max_length."""
    pos, end = 0, len(text)
    while pos < end:
        stop = text.find("\n", pos) + 1 or end
        stop = min(stop, pos + max_length)
        yield text[pos:stop]
        pos = stop
