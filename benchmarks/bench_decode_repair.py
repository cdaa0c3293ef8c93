"""Benchmark: normkit decode/repair against naive chardet.detect + decode and ftfy.fix_text.

    python benchmarks/bench_decode_repair.py [PATH] [--runs N] [--preset safe|ftfy]

PATH is a folder of files (read as bytes) or a JSONL file with a text field
(encoded as UTF-8); without it, the script generates multi-language text in
several encodings plus some mojibake.  The variants run interleaved within
each run, and each figure is the median over the runs, for all documents
and per kind (decode path, and whether repair changes the text).  Before timing, the
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
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import chardet
import ftfy

from normkit.text.decoding import BinaryInputError, decode
from normkit.text.repairing import RepairOptions, repair

_FTFY = RepairOptions.preset("ftfy")


def decode_text(data: bytes) -> str:
    """normkit.decode as bytes -> str."""
    return decode(data).text


def repair_safe(text: str) -> str:
    """normkit.text.repairing with the default ("safe") options."""
    return repair(text)


def repair_ftfy(text: str) -> str:
    """normkit.text.repairing with preset "ftfy" (ftfy's own defaults)."""
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
    "ja": "市議会は火曜日に来年度の予算案を可決した。住民は新しい道路で通勤時間が半分になると話しているが、"
    "騒音を心配する声もある。",
}
_ENCODINGS = {
    "en": ["ascii"],
    "fr": ["cp1252", "iso8859-1"],
    "de": ["cp1252"],
    "ru": ["cp1251", "koi8-r", "iso8859-5"],
    "el": ["iso8859-7"],
    "zh": ["gb2312", "utf-16"],
    "ja": ["shift_jis", "euc_jp"],
}


def generated() -> list[bytes]:
    """Per language: 12 clean UTF-8 documents (the common case), one with CRLF line ends,
    one per legacy codec, and for alphabetic scripts two mojibake ones (UTF-8 read as cp1252
    or mac_roman, saved as UTF-8)."""
    docs = []
    for lang, sample in sorted(_SAMPLES.items()):
        sizes = [2 + (7 * i + len(lang)) % 30 for i in range(12)]
        docs.extend(_paragraphs(sample, n).encode("utf-8") for n in sizes)
        docs.append(_paragraphs(sample, 10).replace("\n", "\r\n").encode("utf-8"))
        docs.extend(_paragraphs(sample, 10).encode(codec) for codec in _ENCODINGS[lang])
        if lang in ("fr", "de", "ru", "el"):
            utf8 = _paragraphs(sample, 10).encode("utf-8")
            docs.append(utf8.decode("cp1252", "replace").encode("utf-8"))
            docs.append(utf8.decode("mac_roman").encode("utf-8"))
    return docs


def _paragraphs(sample: str, count: int) -> str:
    return "\n\n".join(f"{i}. {sample}" for i in range(count)) + "\n"


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


def kind(data: bytes, options: RepairOptions) -> str:
    """Where a document's time goes: decode path (fast or chardet) and whether repair changes it."""
    try:
        decoded = decode(data)
    except BinaryInputError:
        return "binary"
    path = "UTF-8/ASCII" if decoded.method in ("ascii", "utf-8") else "BOM/UTF-16/legacy"
    return f"{path}, {'repaired' if repair(decoded.text, options) != decoded.text else 'clean'}"


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
    sizes, text_sizes = [len(d) for d in docs], [len(t.encode("utf-8", "surrogatepass")) for t in texts]
    kinds = [kind(d, options) for d in docs]
    print(f"{len(docs)} documents, {sum(sizes) / 1e6:.2f} MB; preset {args.preset}; runs {args.runs}")
    for name in ("safe", "ftfy"):
        bad = verify(texts, RepairOptions.preset(name))
        print(f"check: repair == ftfy.fix_text on {len(texts) - bad}/{len(texts)} documents (preset {name})")

    variants: dict[str, tuple[Callable[[Any], object], list[Any], list[int]]] = {
        "decode: normkit": (fast_decode, docs, sizes),
        "decode: chardet": (naive_decode, docs, sizes),
        "repair: normkit": (lambda t: repair(t, options), texts, text_sizes),
        "repair: ftfy": (lambda t: ftfy.fix_text(t, config), texts, text_sizes),
        "both: normkit": (lambda d: repair(fast_decode(d), options), docs, sizes),
        "both: chardet+ftfy": (lambda d: ftfy.fix_text(naive_decode(d), config), docs, sizes),
    }
    seconds = {name: [[0.0] * len(docs) for _ in range(args.runs)] for name in variants}
    for run in range(args.runs):
        for name, (fn, inputs, _sizes) in variants.items():
            per_doc = seconds[name][run]
            for i, item in enumerate(inputs):
                start = time.perf_counter()
                fn(item)
                per_doc[i] = time.perf_counter() - start
    print_table("all documents", range(len(docs)), variants, seconds)
    for group in sorted(set(kinds)):
        members = [i for i, k in enumerate(kinds) if k == group]
        print_table(f"{group} ({len(members)} documents)", members, variants, seconds)
    return 0


def print_table(title: str, members: Iterable[int], variants: dict[str, Any], seconds: dict[str, Any]) -> None:
    """MB/s per variant: total bytes of the members over the median (across runs) of their total time."""
    members = list(members)
    speed = {}
    for name, (_fn, _inputs, sizes) in variants.items():
        total = statistics.median(sum(run[i] for i in members) for run in seconds[name])
        speed[name] = sum(sizes[i] for i in members) / 1e6 / total if total else float("inf")
    print(f"\n{title}\n\n| step | normkit MB/s | naive MB/s | speed-up |\n|---|---|---|---|")
    for step, naive in (("decode", "chardet"), ("repair", "ftfy"), ("both", "chardet+ftfy")):
        fast, slow = speed[f"{step}: normkit"], speed[f"{step}: {naive}"]
        print(f"| {step} (vs {naive}) | {fast:.1f} | {slow:.1f} | {fast / slow:.1f}x |")


if __name__ == "__main__":
    sys.exit(main())
