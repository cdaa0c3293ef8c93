"""Benchmark: normkit decode/repair against naive chardet.detect + decode and ftfy.fix_text.

    python benchmarks/bench_decode_repair.py [PATH] [--runs N] [--preset safe|ftfy]

PATH is a folder of files (read as bytes) or a JSONL file with a text field
(encoded as UTF-8); without it, the script generates multi-language text in
several encodings plus some mojibake.  The variants run interleaved within
each run, and each figure is the median over the runs.  Before timing, the
fast repair is checked against ftfy.fix_text (same config) on every document.

The functions ``decode_text``, ``repair_safe`` and ``repair_ftfy`` are the
str-returning adapters for the corpus scorer (``--decoder
benchmarks.bench_decode_repair:decode_text`` with PYTHONPATH at the repo).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import chardet
import ftfy

from normkit.decoding import BinaryInputError, decode
from normkit.repair import RepairOptions, repair

_FTFY = RepairOptions.preset("ftfy")


def decode_text(data: bytes) -> str:
    """normkit.decode as bytes -> str."""
    return decode(data).text


def repair_safe(text: str) -> str:
    """normkit.repair with the default ("safe") options."""
    return repair(text)


def repair_ftfy(text: str) -> str:
    """normkit.repair with preset "ftfy" (ftfy's own defaults)."""
    return repair(text, _FTFY)


# A few sentences per language: enough for chardet's language models.
_SAMPLES = {
    "en": "The committee met on Tuesday to discuss the budget. Residents said the new road "
    "would cut travel time in half, but critics warned about the cost & the noise.",
    "fr": "Le conseil municipal a voté mardi soir le budget de l'année prochaine. Les élus ont "
    "débattu longuement de la rénovation de l'école et du théâtre.",
    "de": "Die Bürgermeisterin eröffnete am Freitag die neue Brücke über den Fluss. Für die "
    "Anwohner bedeutet das kürzere Wege und weniger Verkehr in der Innenstadt.",
    "ru": "В среду городской совет утвердил бюджет на следующий год. Жители района давно ждали "
    "ремонта школы и новой дороги к вокзалу.",
    "el": "Το δημοτικό συμβούλιο ενέκρινε την Τρίτη τον προϋπολογισμό της επόμενης χρονιάς. Οι "
    "κάτοικοι περιμένουν την ανακαίνιση του σχολείου.",
    "zh": "市政府周二公布了明年的预算方案。居民们表示，新修的道路将使通勤时间缩短一半，但也有人担心噪音问题。",
    "ja": "市議会は火曜日に来年度の予算案を可決した。住民は新しい道路で通勤時間が半分になると話しているが、騒音を心配する声もある。",
}
_ENCODINGS = {
    "en": ["utf-8", "ascii"],
    "fr": ["utf-8", "cp1252", "iso8859-1"],
    "de": ["utf-8", "cp1252"],
    "ru": ["utf-8", "cp1251", "koi8-r", "iso8859-5"],
    "el": ["utf-8", "iso8859-7"],
    "zh": ["utf-8", "gb2312", "utf-16"],
    "ja": ["utf-8", "shift_jis", "euc_jp"],
}


def generated() -> list[bytes]:
    """Documents of 2-40 paragraphs: mostly UTF-8, some legacy codecs, some mojibake and CRLF."""
    docs = []
    for n, (lang, sample) in enumerate(sorted(_SAMPLES.items())):
        for k, codec in enumerate(_ENCODINGS[lang]):
            paragraphs = 2 + (7 * n + 13 * k) % 39
            text = "\n\n".join(f"{i}. {sample}" for i in range(paragraphs)) + "\n"
            if codec == "ascii":
                text = text.replace("&", "&amp;")
            docs.append(text.encode(codec, "replace"))
        body = "\n".join([sample] * 20) + "\n"
        docs.extend(body.encode("utf-8") for _ in range(6))  # the common case: clean UTF-8
        docs.append(body.replace("\n", "\r\n").encode("utf-8"))
        if lang in ("fr", "de", "ru", "el"):  # UTF-8 read as cp1252 (or mac_roman), saved as UTF-8
            docs.append(body.encode("utf-8").decode("cp1252", "replace").encode("utf-8"))
            docs.append(body.encode("utf-8").decode("mac_roman").encode("utf-8"))
    return docs


def load(path: Path, field: str) -> list[bytes]:
    if path.is_dir():
        return [p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()]
    with path.open(encoding="utf-8") as lines:
        return [str(json.loads(line)[field]).encode("utf-8") for line in lines if line.strip()]


def naive_decode(data: bytes) -> str:
    encoding = chardet.detect(data)["encoding"]
    return data.decode(encoding, "replace") if encoding else ""


def fast_decode(data: bytes) -> str:
    try:
        return decode(data).text
    except BinaryInputError:
        return ""


def timed(fn: Callable[[Any], object], inputs: list[Any]) -> float:
    start = time.perf_counter()
    for item in inputs:
        fn(item)
    return time.perf_counter() - start


def verify(texts: list[str], options: RepairOptions) -> int:
    """Documents where the fast repair differs from plain ftfy with the same config."""
    config = options.ftfy_config()
    return sum(repair(t, options) != ftfy.fix_text(t, config) for t in texts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path", nargs="?", type=Path, help="folder of files, or JSONL (default: generated)")
    ap.add_argument("--field", default="text", help="JSONL text field")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--preset", choices=["safe", "ftfy"], default="safe")
    args = ap.parse_args(argv)
    docs = load(args.path, args.field) if args.path else generated()
    options = RepairOptions.preset(args.preset)
    config = options.ftfy_config(explain=False)
    texts = [fast_decode(d) for d in docs]
    mb_bytes, mb_text = sum(map(len, docs)) / 1e6, sum(len(t.encode("utf-8", "surrogatepass")) for t in texts) / 1e6
    print(f"{len(docs)} documents, {mb_bytes:.2f} MB; preset {args.preset}; runs {args.runs}")
    for name in ("safe", "ftfy"):
        bad = verify(texts, RepairOptions.preset(name))
        print(f"check: repair == ftfy.fix_text on {len(texts) - bad}/{len(texts)} documents (preset {name})")

    variants: dict[str, tuple[Callable[[Any], object], list[Any], float]] = {
        "decode: normkit": (fast_decode, docs, mb_bytes),
        "decode: chardet": (naive_decode, docs, mb_bytes),
        "repair: normkit": (lambda t: repair(t, options), texts, mb_text),
        "repair: ftfy": (lambda t: ftfy.fix_text(t, config), texts, mb_text),
        "both: normkit": (lambda d: repair(fast_decode(d), options), docs, mb_bytes),
        "both: chardet+ftfy": (lambda d: ftfy.fix_text(naive_decode(d), config), docs, mb_bytes),
    }
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.runs):
        for name, (fn, inputs, _mb) in variants.items():
            seconds[name].append(timed(fn, inputs))
    speed = {name: variants[name][2] / statistics.median(s) for name, s in seconds.items()}
    print("\n| step | normkit MB/s | naive MB/s | speed-up |\n|---|---|---|---|")
    for step, naive in (("decode", "chardet"), ("repair", "ftfy"), ("both", "chardet+ftfy")):
        fast, slow = speed[f"{step}: normkit"], speed[f"{step}: {naive}"]
        print(f"| {step} (vs {naive}) | {fast:.1f} | {slow:.1f} | {fast / slow:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
