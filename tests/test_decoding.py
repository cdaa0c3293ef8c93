"""Tests for normkit.text.decoding: each decode path, binary input, edge cases, and properties over any bytes."""

from __future__ import annotations

import codecs
import json
import time
import zlib

import chardet
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from normkit.text.decoding import BinaryInputError, Decoded, DecodeOptions, EncodingNameError, decode

SENTENCES = {
    "ru": [
        "В среду городской совет утвердил бюджет на следующий год.",
        "Жители района давно ждали ремонта школы и новой дороги к вокзалу.",
        "По словам мэра, строительство начнётся весной и займёт два года.",
        "Критики считают, что деньги лучше потратить на больницу.",
    ],
    "fr": [
        "Le conseil municipal a voté mardi soir le budget de l'année prochaine.",
        "Les élus ont débattu longuement de la rénovation de l'école et du théâtre.",
        "Selon le maire, les travaux commenceront au printemps et dureront deux ans.",
        "Les critiques préfèrent financer l'hôpital, déjà très fréquenté.",
    ],
    "el": [
        "Το δημοτικό συμβούλιο ενέκρινε την Τρίτη τον προϋπολογισμό της επόμενης χρονιάς.",
        "Οι κάτοικοι περιμένουν εδώ και χρόνια την ανακαίνιση του σχολείου.",
        "Σύμφωνα με τον δήμαρχο, τα έργα θα ξεκινήσουν την άνοιξη.",
        "Οι επικριτές προτιμούν να δοθούν τα χρήματα στο νοσοκομείο.",
    ],
    "zh": [
        "市政府周二公布了明年的预算方案。",
        "居民们表示，新修的道路将使通勤时间缩短一半。",
        "但也有人担心施工带来的噪音问题。",
        "市长说，工程将于明年春天开始，预计持续两年。",
    ],
    "ja": [
        "市議会は火曜日に来年度の予算案を可決した。",
        "住民は新しい道路で通勤時間が半分になると話している。",
        "一方で、工事の騒音を心配する声もある。",
        "市長によると、工事は来年の春に始まり、二年かかる見込みだ。",
    ],
    "tw": [
        "市政府週二公布了明年的預算方案。",
        "居民們表示，新修的道路將使通勤時間縮短一半。",
        "但也有人擔心施工帶來的噪音問題。",
        "市長說，工程將於明年春天開始，預計持續兩年。",
    ],
    "ko": [
        "서울시는 화요일에 내년도 예산안을 발표했다.",
        "주민들은 새 도로가 출퇴근 시간을 절반으로 줄여 줄 것이라고 말했다.",
        "하지만 공사 소음을 걱정하는 목소리도 있다.",
        "시장은 공사가 내년 봄에 시작되어 이 년 동안 계속될 것이라고 밝혔다.",
    ],
}
LEGACY = {
    "ru": ["cp1251", "koi8-r", "iso8859-5", "cp866", "mac-cyrillic"],
    "fr": ["cp1252"],
    "el": ["iso8859-7", "cp1253"],
    "zh": ["gb2312", "gb18030"],
    "tw": ["big5"],
    "ja": ["shift_jis", "euc_jp", "iso2022_jp"],
    "ko": ["euc_kr", "iso2022_kr"],
}


def text_of(lang: str, repeat: int = 3) -> str:
    return " ".join(SENTENCES[lang] * repeat)


def expect(decoded: Decoded, text: str, method: str, encoding: str) -> None:
    assert (decoded.text, decoded.method, decoded.encoding) == (text, method, encoding)


# --- the cheap, certain paths -------------------------------------------------------------------


def test_empty_bytes_are_empty_ascii_text() -> None:
    expect(decode(b""), "", "ascii", "ascii")


def test_ascii_and_utf8_take_the_fast_path() -> None:
    expect(decode(b"plain text\n"), "plain text\n", "ascii", "ascii")
    text = text_of("fr")
    decoded = decode(text.encode())
    expect(decoded, text, "utf-8", "utf-8")
    assert decoded.confidence == 1.0 and decoded.replacements == 0


@pytest.mark.parametrize(
    ("codec", "name"),
    [("utf-8-sig", "utf-8"), ("utf-16", "utf-16-le"), ("utf-16-be", "utf-16-be"), ("utf-32", "utf-32-le")],
)
def test_bom_is_honoured_and_stripped(codec: str, name: str) -> None:
    text = text_of("ru", 1)
    data = text.encode(codec)
    if codec == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    expect(decode(data), text, "bom", name)


@pytest.mark.parametrize(
    ("bom", "name"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
    ],
)
def test_a_file_of_only_a_bom_is_empty_text(bom: bytes, name: str) -> None:
    expect(decode(bom), "", "bom", name)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
@pytest.mark.parametrize("lang", ["fr", "zh"])
def test_utf16_and_utf32_without_bom(codec: str, lang: str) -> None:
    """Strict UTF-8 would accept NUL-interleaved ASCII; the NUL layout says otherwise."""
    text = text_of(lang, 1)
    expect(decode(text.encode(codec)), text, "detected", codec)


def test_utf16_with_almost_no_ascii_is_still_found() -> None:
    text = "".join(SENTENCES["zh"]).replace("一", "")  # no NUL byte at all
    expect(decode(text.encode("utf-16-le")), text, "detected", "utf-16-le")


@pytest.mark.parametrize(("lang", "codec"), [("ja", "iso2022_jp"), ("ko", "iso2022_kr"), ("zh", "hz")])
def test_seven_bit_escape_encodings_are_not_taken_for_ascii(lang: str, codec: str) -> None:
    text = text_of(lang, 1)
    expect(decode(text.encode(codec)), text, "detected", codec)


def test_ansi_colour_codes_stay_ascii_without_chardet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chardet, "detect", _no_chardet)
    expect(decode(b"\x1b[31mred\x1b[0m"), "\x1b[31mred\x1b[0m", "ascii", "ascii")


# --- damaged UTF-8 ----------------------------------------------------------------------------


def test_utf8_cut_mid_character_keeps_utf8() -> None:
    data = "Привет, мир".encode()[:-1]
    decoded = decode(data)
    expect(decoded, "Привет, ми\ufffd", "utf-8", "utf-8")
    assert decoded.replacements == 1


def test_lone_trailing_lead_byte_after_ascii_is_left_to_chardet() -> None:
    assert decode(b"Bienvenue au caf\xe9").method == "detected"


def test_mixed_encodings_decode_invalid_runs_with_a_fallback() -> None:
    head = text_of("fr", 2) + " "
    tail = "Voilà une phrase française, très élégante et déjà écrite."
    decoded = decode(head.encode() + tail.encode("cp1252"))
    assert (decoded.text, decoded.encoding, decoded.fallback_encoding) == (head + tail, "utf-8", "cp1252")
    assert decoded.replacements == 0 and 0.5 < decoded.confidence < 1.0


def test_mixed_encodings_detect_a_cyrillic_fallback() -> None:
    head, tail = text_of("ru", 2) + " ", "Привет, как дела у тебя сегодня"
    decoded = decode(head.encode() + tail.encode("cp1251"))
    assert (decoded.text, decoded.fallback_encoding) == (head + tail, "cp1251")


def test_mixed_encodings_without_fallback_count_replacements() -> None:
    data = text_of("fr").encode() + " caf\xe9 d\xe9j\xe0 ".encode("cp1252")
    decoded = decode(data, DecodeOptions(mixed_fallback=None))
    assert decoded.replacements == 3 and decoded.text.endswith(" caf\ufffd d\ufffdj\ufffd ")


# --- chardet --------------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "codec"), [(lang, codec) for lang, cs in LEGACY.items() for codec in cs])
def test_legacy_encodings_round_trip(lang: str, codec: str) -> None:
    text = text_of(lang)
    decoded = decode(text.encode(codec))
    assert decoded.text == text
    assert decoded.method == "detected" and decoded.confidence > 0


def test_iso_8859_5_is_not_turned_into_windows_1251() -> None:
    """chardet's prefer_superset=True would report cp1251 and garble the text."""
    decoded = decode(text_of("ru").encode("iso8859-5"))
    assert decoded.encoding == "iso8859-5" and decoded.language == "ru"


def test_narrowest_codec_that_takes_every_byte_is_reported() -> None:
    """chardet says GB18030; GB2312 decodes it all and maps A1AA to U+2015 as GB2312 text means."""
    text = text_of("zh") + "\u2015"
    assert decode(text.encode("gb2312")).encoding == "gb2312"


def test_include_encodings_restricts_chardet() -> None:
    data = text_of("ru").encode("cp1251")
    assert decode(data, DecodeOptions(include_encodings=("koi8-r",))).encoding == "koi8-r"


# --- forced codecs --------------------------------------------------------------------------


def test_forced_encoding_skips_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chardet, "detect", _no_chardet)
    data = "Привет".encode("cp1251")
    decoded = decode(data, DecodeOptions(encoding="windows-1251"))
    expect(decoded, "Привет", "forced", "cp1251")
    assert decoded.confidence == 1.0
    assert decode(codecs.BOM_UTF8 + b"x", DecodeOptions(encoding="utf-8")).text == "x"
    assert decode(b"caf\xe9", DecodeOptions(encoding="utf-8")).replacements == 1


@pytest.mark.parametrize("name", ["no-such-codec", "hex", "rot13"])
def test_bad_forced_codec_fails_at_configuration(name: str) -> None:
    with pytest.raises(EncodingNameError) as info:
        DecodeOptions(encoding=name)
    assert isinstance(info.value, ValueError) and isinstance(info.value, LookupError)


@pytest.mark.parametrize("bad", [{"min_confidence": 1.5}, {"max_detect_bytes": 0}])
def test_bad_option_values_are_rejected(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        DecodeOptions(**bad)  # type: ignore[arg-type]


# --- binary ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
        b"\x7fELF\x02\x01\x01" + bytes(200) + b"\x02\x00>\x00",
        bytes(5000),
        b"hello\x00world",
        zlib.compress(text_of("fr").encode()),
        bytes((i * 7919) % 251 for i in range(4096)),
    ],
    ids=["png", "elf", "all-nul", "nul-in-ascii", "zlib", "noise"],
)
def test_binary_input_is_rejected_with_a_reason(data: bytes) -> None:
    with pytest.raises(BinaryInputError, match="binary input: "):
        decode(data)


def test_stray_nul_in_long_text_is_kept() -> None:
    text = text_of("fr", 4) + "\x00"
    assert decode(text.encode()).text == text
    with pytest.raises(BinaryInputError):
        decode(text.encode(), DecodeOptions(max_nul_fraction=0.0))


# --- size and serialisation ------------------------------------------------------------------


def test_100_mb_single_line_is_fast_and_never_sees_chardet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chardet, "detect", _no_chardet)
    data = "Résumé of a naïve café, ".encode() * 4_000_000  # 100 MB, no line break
    start = time.perf_counter()
    decoded = decode(data)
    assert decoded.method == "utf-8" and len(decoded.text) == 96_000_000
    assert time.perf_counter() - start < 5.0  # ~0.2 s; a chardet pass or copies would show


def test_as_dict_is_json_without_text() -> None:
    decoded = decode(text_of("ru").encode("koi8-r"))
    record = json.loads(json.dumps(decoded.as_dict()))
    assert "text" not in record and record["encoding"] == "koi8-r" and record["language"] == "ru"


def _no_chardet(*args: object, **kwargs: object) -> None:
    raise AssertionError("chardet should not be called")


# --- properties ----------------------------------------------------------------------------

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Text as documents hold it: no C0 controls but whitespace (NUL, ESC and friends
# are binary or escape-sequence evidence by design) and no leading U+FEFF (a BOM).
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cc",)) | st.sampled_from("\t\n\r")).filter(
    lambda t: not t.startswith("\ufeff")
)
PIECES = st.sampled_from(
    [b"\x00", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf", b"\x1b$B", b"\x1b(B", b"~{", b"\xe2\x82", b"\xc3", b"a"]
)


@FAST
@given(st.binary(max_size=600) | st.lists(PIECES | st.binary(max_size=8)).map(b"".join))
def test_any_bytes_decode_or_are_binary(data: bytes) -> None:
    try:
        decoded = decode(data)
    except BinaryInputError:
        return
    assert isinstance(decoded.text, str) and 0.0 <= decoded.confidence <= 1.0
    json.dumps(decoded.as_dict())


@FAST
@given(TEXT)
def test_utf8_round_trips(text: str) -> None:
    assert decode(text.encode("utf-8")).text == text


@FAST
@given(TEXT, st.sampled_from(["utf-16", "utf-32", "utf-8-sig"]))
def test_utf_with_bom_round_trips(text: str, codec: str) -> None:
    assert decode(text.encode(codec)).text == text


@FAST
@given(st.sampled_from(sorted(LEGACY)).flatmap(lambda lang: st.tuples(st.just(lang), st.permutations(SENTENCES[lang]))))
def test_legacy_text_long_enough_round_trips(case: tuple[str, list[str]]) -> None:
    lang, sentences = case
    text = " ".join(sentences * 2)
    for codec in LEGACY[lang]:
        assert decode(text.encode(codec)).text == text, codec
