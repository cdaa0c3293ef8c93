"""Bytes to text: BOM, UTF-16/32 and ISO-2022 checks, strict UTF-8, then chardet."""

from __future__ import annotations

import codecs
import enum
import functools
import re
import threading
import unicodedata
from dataclasses import dataclass, fields
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from chardet import EncodingEra

__all__ = ["BinaryInputError", "DecodeOptions", "Decoded", "EncodingNameError", "decode"]


class BinaryInputError(ValueError):
    """bytes that are not text (executables, images, mostly-NUL)."""


class EncodingNameError(ValueError, LookupError):
    """An unknown or bytes-to-bytes codec name; a LookupError too, as codecs.lookup raises."""


@dataclass(frozen=True)
class Decoded:
    """Text decoded from bytes, and how: what the decode stage records on a document."""

    text: str
    encoding: str  # Python codec name, e.g. "utf-8", "cp1251", "utf-16-le"
    confidence: float  # 0..1 (1.0 for bom/utf-8/ascii/forced)
    method: str  # "bom" | "ascii" | "utf-8" | "detected" | "forced"
    language: str | None = None
    replacements: int = 0  # U+FFFD inserted for bytes that could not be decoded
    # Mixed-encoding files: the codec used for the bytes that were not valid
    # `encoding` (None when every byte decoded, or when they were replaced).
    fallback_encoding: str | None = None

    def as_dict(self) -> dict[str, object]:
        """Everything but the text, JSON-serialisable (for flags and reports)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "text"}


def _chardet() -> ModuleType:
    """chardet, imported when a document first needs it: most are ASCII or UTF-8, and the import costs a
    one-document run (and ``import normkit``) several per cent."""
    import chardet

    return chardet


class _Unread(enum.Enum):
    """The ``encoding_era`` a :class:`DecodeOptions` was given no value for (an enum member: it pickles)."""

    ALL_ERAS = "all eras"


class _EraField:
    """The ``encoding_era`` field: chardet's ``EncodingEra.ALL`` by default, without importing chardet to say so.

    A data descriptor, so the dataclass's ``__init__`` stores what it is given through :meth:`__set__`; the
    default (:meth:`__get__` on the class) is a marker that reads as ``EncodingEra.ALL`` once an instance is
    asked, so equality, ``repr`` and ``dataclasses.replace`` see the value they always did.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}"

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        if instance is None:
            return _Unread.ALL_ERAS  # the field's default
        value = instance.__dict__[self.slot]
        return _chardet().EncodingEra.ALL if value is _Unread.ALL_ERAS else value

    def __set__(self, instance: object, value: EncodingEra) -> None:
        instance.__dict__[self.slot] = value


@dataclass(frozen=True)
class DecodeOptions:
    """How to decode; defaults suit scraped web text of unknown origin."""

    encoding: str | None = None  # forced codec: skips all detection
    min_confidence: float = 0.5  # below -> caller flags it
    max_detect_bytes: int = 200_000  # how much chardet (and the NUL check) looks at
    encoding_era: EncodingEra = _EraField()  # type: ignore[assignment]  # chardet's candidate eras (default ALL)
    include_encodings: tuple[str, ...] | None = None  # restrict chardet's candidates
    exclude_encodings: tuple[str, ...] | None = None
    # Share of NUL bytes (in the first max_detect_bytes) above which input
    # that is not UTF-16/32 is binary; below it, stray NULs stay text.
    max_nul_fraction: float = 0.01
    # Mostly-UTF-8 files with some invalid bytes: "auto" decodes those bytes
    # with the codec chardet picks for them, None replaces them with U+FFFD,
    # any other value is the codec to use.
    mixed_fallback: str | None = "auto"

    def __post_init__(self) -> None:
        # Fail at configuration time, not on the millionth document.
        for name in (self.encoding, self.mixed_fallback):
            if name is not None and name != "auto":
                _text_codec(name)
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be within 0..1, got {self.min_confidence}")
        if self.max_detect_bytes < 1:
            raise ValueError(f"max_detect_bytes must be positive, got {self.max_detect_bytes}")


_DEFAULTS: Final = DecodeOptions()

# Longest first: the UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32", "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32", "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16", "utf-16-be"),
)

# ISO-2022 designations and HZ's shift-in: 7-bit encodings that strict UTF-8
# (and the ASCII fast path) would accept as plain text.  ANSI colour codes
# ("ESC [") do not match, so coloured logs skip chardet.
_ESCAPE_RE: Final = re.compile(rb"\x1b(?:\$[@AB]|\$[()*+][@-Z]|[()][@-Z])|~\{")
_ESCAPE_CODECS: Final = frozenset({"hz", "utf-7"})

# chardet reports the codec it validated, often an extension of a national
# standard (GB18030 for GB2312 text).  When the standard itself decodes every
# byte, the extension adds nothing but table differences (U+2015 vs U+2014 at
# GB2312 A1AA), so the standard is the better guess of what the writer used.
_NARROWER: Final[dict[str, tuple[str, ...]]] = {
    "gb18030": ("gb2312", "gbk"),
    "gbk": ("gb2312",),
    "big5hkscs": ("big5",),
    "cp950": ("big5",),
    "euc_jis_2004": ("euc_jp",),
    "euc_jisx0213": ("euc_jp",),
    "shift_jis_2004": ("shift_jis",),
    "shift_jisx0213": ("shift_jis",),
    "cp949": ("euc_kr",),
    "iso2022_jp_1": ("iso2022_jp",),
    "iso2022_jp_2": ("iso2022_jp",),
    "iso2022_jp_2004": ("iso2022_jp",),
    "iso2022_jp_3": ("iso2022_jp",),
    "iso2022_jp_ext": ("iso2022_jp",),
}
# chardet saw only the first max_detect_bytes; if a later byte does not fit
# its answer, the superset browsers use for that label may.
_WIDER: Final[dict[str, tuple[str, ...]]] = {
    "ascii": ("cp1252",),
    "iso8859-1": ("cp1252",),
    "iso8859-2": ("cp1250",),
    "iso8859-5": ("cp1251",),
    "iso8859-7": ("cp1253",),
    "iso8859-9": ("cp1254",),
    "tis-620": ("cp874",),
    "euc_kr": ("cp949",),
    "gb2312": ("gbk", "gb18030"),
    "gbk": ("gb18030",),
    "big5": ("cp950", "big5hkscs"),
    "shift_jis": ("cp932",),
    "euc_jp": ("euc_jis_2004",),
}

# C0 controls other than whitespace, DEL and C1: rare in text, common when
# arbitrary binary is read as UTF-16/32.
_NON_TEXT: Final = dict.fromkeys([*range(0x09), 0x0B, *range(0x0E, 0x20), *range(0x7F, 0xA0)])
_MAX_NON_TEXT_SHARE: Final = 0.02
# UTF-16 without BOM: at least this share of code units must carry a NUL
# high byte, and all-ASCII data needs far more (else it is NUL-separated
# ASCII such as `find -print0` output); the figures are chardet's.
_UTF16_MIN_NUL_SHARE: Final = 0.03
_UTF16_ASCII_MIN_NUL_SHARE: Final = 0.75

_ERRORS: Final = "normkit.text.decoding"
_state = threading.local()


def _on_decode_error(exc: UnicodeError) -> tuple[str, int]:
    """Replace undecodable bytes, counting them (and using a fallback codec if one is set)."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    _state.spans.append((exc.start, exc.end))
    fallback = getattr(_state, "fallback", None)
    piece = bytes(exc.object[exc.start : exc.end]).decode(fallback, "replace") if fallback else "\ufffd"
    _state.replacements += piece.count("\ufffd")
    return piece, exc.end


codecs.register_error(_ERRORS, _on_decode_error)


def _lenient(data: bytes, codec: str, fallback: str | None = None) -> tuple[str, list[tuple[int, int]], int]:
    """Decode without failing: the text, the undecodable byte spans, and the U+FFFD count."""
    _state.spans, _state.replacements, _state.fallback = [], 0, fallback
    try:
        text = str(data, codec, _ERRORS)
        return text, _state.spans, _state.replacements
    finally:
        _state.spans, _state.fallback = [], None


def _text_codec(name: str) -> str:
    """Canonical Python name of a text codec; ValueError for unknown or bytes-to-bytes codecs."""
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise EncodingNameError(f"unknown encoding {name!r}") from None
    if not getattr(info, "_is_text_encoding", True):
        raise EncodingNameError(f"{name!r} is not a text encoding")
    return info.name


def _strict_or_lenient(data: bytes, codec: str) -> tuple[str, int]:
    """Strict decoding first: it is faster, and most data has nothing to replace."""
    try:
        return str(data, codec), 0
    except UnicodeDecodeError:
        text, _, replaced = _lenient(data, codec)
        return text, replaced


def _decodes(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def decode(data: bytes, options: DecodeOptions | None = None) -> Decoded:
    """Decode bytes of unknown encoding to text.

    Order: forced codec, BOM, UTF-16/32 without BOM (NUL layout), ISO-2022/HZ
    escapes, ASCII, strict UTF-8 (then truncated or mixed UTF-8), chardet.
    The cheap, certain answers come first so that chardet, the slow and
    fallible step, only sees what nothing else explains.

    :raises BinaryInputError: the bytes are not text.  No other exception is
        raised for any input (bad option values fail in DecodeOptions).
    """
    opts = options or _DEFAULTS
    if not isinstance(data, bytes):
        data = bytes(data)
    if opts.encoding is not None:
        return _forced(data, opts.encoding)
    return (
        _from_bom(data)
        or _from_nul_layout(data, opts)
        or _from_escapes(data, opts)
        or _from_utf8(data, opts)
        or _from_chardet(data, opts)
    )


def _forced(data: bytes, name: str) -> Decoded:
    """The caller knows the codec (per-source override, JSONL declaration): trust it."""
    codec = _text_codec(name)
    bom_aware = "utf-8-sig" if codec == "utf-8" else codec  # a UTF-8 BOM is never content
    text, replaced = _strict_or_lenient(data, bom_aware)
    return Decoded(text, codec, 1.0, "forced", replacements=replaced)


def _from_bom(data: bytes) -> Decoded | None:
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            # The BOM-aware codecs drop the BOM without copying the data.
            text, replaced = _strict_or_lenient(data, codec)
            if replaced and codec == "utf-32":
                # FF FE 00 00 may also be a UTF-16-LE BOM followed by U+0000.
                alt = _decodes(data, "utf-16")
                if alt is not None:
                    return Decoded(alt, "utf-16-le", 1.0, "bom")
            return Decoded(text, name, 1.0, "bom", replacements=replaced)
    return None


def _from_nul_layout(data: bytes, opts: DecodeOptions) -> Decoded | None:
    """UTF-16/32 without BOM, told apart from binary by where the NUL bytes sit."""
    if b"\x00" not in data:
        return None
    window = data[: opts.max_detect_bytes]
    codec = _utf32_layout(window) or _utf16_layout(window) or _utf16_without_ascii(window)
    if codec is not None:
        return _decode_unmarked_utf(data, codec)
    share = window.count(0) / len(window)
    if share > opts.max_nul_fraction:
        raise BinaryInputError(
            f"binary input: {share:.1%} of the first {len(window)} bytes are NUL and they do not form UTF-16/32 text"
        )
    return None  # a few stray NULs in text


def _decode_unmarked_utf(data: bytes, codec: str) -> Decoded:
    text, replaced = _strict_or_lenient(data, codec)
    # The structure is near-certain evidence; only undecodable units lower it.
    confidence = 1.0 - replaced / max(1, len(text))
    return Decoded(text, codec, confidence, "detected", replacements=replaced)


def _utf32_layout(window: bytes) -> str | None:
    usable = window[: len(window) - len(window) % 4]
    for codec, lane in (("utf-32-le", 3), ("utf-32-be", 0)):
        column = usable[lane::4]
        if column and column.count(0) == len(column) and _looks_like_text(usable, codec):
            return codec
    return None


def _utf16_layout(window: bytes) -> str | None:
    units = len(window) // 2
    if units == 0:
        return None
    nul_even, nul_odd = window[0::2].count(0), window[1::2].count(0)
    codec = "utf-16-le" if nul_odd > nul_even else "utf-16-be"
    share = max(nul_even, nul_odd) / units
    needed = _UTF16_ASCII_MIN_NUL_SHARE if window.isascii() else _UTF16_MIN_NUL_SHARE
    if share < needed or not _looks_like_text(window, codec):
        return None
    return codec


def _utf16_without_ascii(window: bytes) -> str | None:
    """UTF-16 text with (almost) no ASCII, e.g. Chinese: no NUL layout to see, and chardet calls it binary.

    Accepted only when it is not UTF-8 and exactly one byte order decodes to
    assigned, non-control, non-private characters throughout.
    """
    if len(window) < _UTF16_MIN_BYTES or window.isascii() or _decodes_prefix(window, "utf-8"):
        return None
    fits = [codec for codec in ("utf-16-le", "utf-16-be") if _all_printable(window, codec)]
    return fits[0] if len(fits) == 1 else None


_UTF16_MIN_BYTES: Final = 32
_NOT_TEXT_CATEGORIES: Final = frozenset({"Cc", "Cs", "Co", "Cn"})


def _decodes_prefix(window: bytes, codec: str) -> str | None:
    """The window decoded strictly, allowing it to end mid-character (it is a cut), or None."""
    try:
        return codecs.getincrementaldecoder(codec)().decode(window, final=False)
    except UnicodeDecodeError:
        return None


def _all_printable(window: bytes, codec: str) -> bool:
    text = _decodes_prefix(window, codec)
    if text is None:
        return False
    categories = {unicodedata.category(c) for c in set(text.translate(_WHITESPACE))}
    return not categories & _NOT_TEXT_CATEGORIES


_WHITESPACE: Final = dict.fromkeys(map(ord, "\t\n\r"))


def _looks_like_text(window: bytes, codec: str) -> bool:
    """Decodes strictly (a cut at the window's end aside) to text with few control characters."""
    text = _decodes_prefix(window, codec)
    if not text:
        return False
    non_text = len(text) - len(text.translate(_NON_TEXT))
    return non_text <= _MAX_NON_TEXT_SHARE * len(text)


def _from_escapes(data: bytes, opts: DecodeOptions) -> Decoded | None:
    """ISO-2022 and HZ are 7-bit, so strict UTF-8 would accept them with the escapes as text."""
    # Fast tests first: the regex alone would cost more than UTF-8 decoding.
    # Non-ASCII bytes rule these encodings out (and are then real UTF-8 or legacy).
    if not data.isascii() or (b"\x1b" not in data and b"~{" not in data):
        return None
    if not _ESCAPE_RE.search(data, 0, opts.max_detect_bytes):
        return None
    found = _detect(data, opts)
    if found.get("encoding") is None:
        return None
    codec = _codec_of(found)
    if not (codec.startswith("iso2022") or codec in _ESCAPE_CODECS):
        return None
    return _decode_detected(data, codec, found)


def _from_utf8(data: bytes, opts: DecodeOptions) -> Decoded | None:
    if data.isascii():
        return Decoded(data.decode("ascii"), "ascii", 1.0, "ascii")
    try:
        return Decoded(data.decode("utf-8"), "utf-8", 1.0, "utf-8")
    except UnicodeDecodeError as exc:
        return _truncated_utf8(data, exc) or _mixed_utf8(data, opts)


def _truncated_utf8(data: bytes, exc: UnicodeDecodeError) -> Decoded | None:
    """UTF-8 cut mid-character: the only error is an incomplete sequence at the very end.

    A lone lead byte after pure ASCII is as likely a single-byte encoding
    ("caf\\xe9"), so that case is left to chardet.
    """
    if exc.end != len(data) or exc.reason != "unexpected end of data":
        return None
    if exc.end - exc.start < 2 and not _NON_ASCII_RE.search(data, 0, exc.start):
        return None
    # Everything before exc.start is valid, so "replace" inserts exactly one U+FFFD.
    return Decoded(data.decode("utf-8", "replace"), "utf-8", 1.0, "utf-8", replacements=1)


_NON_ASCII_RE: Final = re.compile(rb"[\x80-\xff]")


def _mixed_utf8(data: bytes, opts: DecodeOptions) -> Decoded | None:
    """Mostly valid UTF-8 with some invalid bytes (pasted legacy text, bad concatenation).

    Legacy-encoded text almost never forms valid multi-byte UTF-8 sequences by
    accident, so it is UTF-8 when the valid sequences outnumber the errors.
    The invalid bytes are decoded with a fallback codec rather than dropped.
    """
    window = data[: min(opts.max_detect_bytes, _MIXED_SAMPLE_BYTES)]
    # The built-in "replace" runs in C; a Python handler per error would crawl
    # through a legacy file where every letter is an error.
    text = window.decode("utf-8", "replace")
    errors = text.count("\ufffd") - window.count(_ENCODED_FFFD)
    ascii_chars = len(window) - len(window.translate(None, _ASCII_BYTES))
    valid = len(text) - ascii_chars - errors  # multi-byte characters
    if valid < max(2, errors):
        return None
    spans = _lenient(window, "utf-8")[1]
    fallback = _mixed_fallback(window, spans, opts)
    text, _, replaced = _lenient(data, "utf-8", fallback)
    return Decoded(text, "utf-8", valid / (valid + errors), "utf-8", replacements=replaced, fallback_encoding=fallback)


_MIXED_SAMPLE_BYTES: Final = 65_536  # ample to tell mostly-UTF-8 from legacy text
# U+FFFD properly encoded: never part of an invalid sequence, since EF is a lead byte.
_ENCODED_FFFD: Final = "\ufffd".encode()
_ASCII_BYTES: Final = bytes(range(0x80))


def _mixed_fallback(window: bytes, spans: list[tuple[int, int]], opts: DecodeOptions) -> str | None:
    if opts.mixed_fallback != "auto":
        return None if opts.mixed_fallback is None else _text_codec(opts.mixed_fallback)
    # The invalid runs alone are too short for chardet's multi-byte models,
    # so only single-byte codecs qualify; too few bytes to tell means cp1252,
    # the usual culprit (and what browsers assume for Latin-1 labels).
    sample = b" ".join(window[start:end] for start, end in _runs(spans))
    if len(sample) < _MIN_FALLBACK_SAMPLE:
        return "cp1252"
    found = _detect(sample, _fallback_detection())
    codec = _codec_of(found)
    # chardet's own floor for a usable answer; short samples rarely score higher.
    sure = float(str(found.get("confidence") or 0.0)) > _chardet().MINIMUM_THRESHOLD
    return codec if sure and codec.startswith(("cp125", "iso8859", "koi8")) else "cp1252"


_MIN_FALLBACK_SAMPLE: Final = 24
_RUN_GAP: Final = 8  # spans this close are one run: "Привет, как" in cp1251 errs byte by byte


def _runs(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge nearby error spans into runs, so chardet sees words rather than lone bytes."""
    runs: list[tuple[int, int]] = []
    for start, end in spans:
        if runs and start - runs[-1][1] <= _RUN_GAP:
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((start, end))
    return runs


@functools.cache
def _fallback_detection() -> DecodeOptions:
    """How the bytes of a mostly-UTF-8 file that are not UTF-8 are detected: among today's web encodings."""
    return DecodeOptions(encoding_era=_chardet().EncodingEra.MODERN_WEB)


def _detect(data: bytes, opts: DecodeOptions) -> dict[str, object]:
    """chardet's answer (encoding None for binary); never raises, per decode()'s contract."""
    try:
        found = _chardet().detect(
            data,
            encoding_era=opts.encoding_era,
            max_bytes=opts.max_detect_bytes,
            prefer_superset=False,  # True turns ISO-8859-5 Russian into cp1251 garbage
            compat_names=False,  # Python codec names
            include_encodings=opts.include_encodings,
            exclude_encodings=opts.exclude_encodings,
        )
    except Exception:  # noqa: BLE001 - a detector bug must not escape decode()
        return {"encoding": "cp1252", "confidence": 0.0}
    return dict(found)


def _codec_of(found: dict[str, object]) -> str:
    """chardet's codec as a canonical Python name; cp1252 (its own no-match answer) if unusable."""
    try:
        return _text_codec(str(found.get("encoding") or "cp1252"))
    except EncodingNameError:
        return "cp1252"


def _from_chardet(data: bytes, opts: DecodeOptions) -> Decoded:
    found = _detect(data, opts)
    if found.get("encoding") is None:
        codec = _utf16_without_ascii(data[: opts.max_detect_bytes])
        if codec is not None:
            return _decode_unmarked_utf(data, codec)
        mime = found.get("mime_type") or "binary data"
        raise BinaryInputError(f"binary input: chardet sees {mime}, not text")
    return _decode_detected(data, _codec_of(found), found)


def _decode_detected(data: bytes, codec: str, found: dict[str, object]) -> Decoded:
    """Decode with chardet's codec, or the narrowest relative of it that takes every byte."""
    confidence = float(str(found.get("confidence") or 0.0))
    language = str(found["language"]) if found.get("language") else None
    for candidate in (*_NARROWER.get(codec, ()), codec, *_WIDER.get(codec, ())):
        text = _decodes(data, candidate)
        if text is not None:
            return Decoded(text, _text_codec(candidate), confidence, "detected", language)
    text, _, replaced = _lenient(data, codec)
    return Decoded(text, codec, confidence, "detected", language, replaced)
