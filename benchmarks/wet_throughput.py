"""WET throughput: ``normkit run`` on a Common Crawl-style WET file beside the same texts as JSON Lines.

    python benchmarks/wet_throughput.py [--mb 100] [--runs 3] [--workdir DIR] [--skip-normkit]

The corpus is generated (never committed): invented English-like pages, random sentences from a generated word
list (with the usual function words), so the text does not compress trivially; about 3 KB a page, spread over a
few hundred hosts, the size of Common Crawl's pages. The same pages are written twice: a ``.warc.wet`` file (a
warcinfo record, then one conversion record a page, written with fastwarc) and a ``.jsonl`` file (id, url, text).

Each run times, interleaved, ``normkit run`` (default pipeline, ``--workers 1``) on each file, and the raw
reading speed of fastwarc and warcio on the WET file (every record's payload read, nothing else); figures are
medians over the runs. MB are MB (10**6 bytes) of page text, the same for both formats, so MB/s compare.
"""

from __future__ import annotations

import argparse
import io
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
from fastwarc.warc import ArchiveIterator, WarcRecord, WarcRecordType

NORMKIT = [sys.executable, "-m", "normkit", "run", "--workers", "1", "-q"]
FUNCTION_WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "it",
    "was",
    "on",
    "with",
    "as",
    "by",
    "at",
    "from",
    "his",
    "her",
    "they",
    "we",
    "this",
    "be",
    "are",
    "or",
    "an",
    "which",
    "not",
    "but",
    "had",
    "has",
    "have",
    "were",
    "their",
    "one",
    "all",
    "there",
    "more",
    "when",
    "can",
    "said",
    "who",
    "will",
    "would",
    "been",
    "no",
    "about",
    "out",
    "up",
]
SYLLABLES = [
    "ar",
    "ba",
    "ben",
    "cal",
    "cor",
    "da",
    "del",
    "dor",
    "el",
    "en",
    "fa",
    "fen",
    "gal",
    "gor",
    "ha",
    "hel",
    "in",
    "jo",
    "ka",
    "kel",
    "la",
    "len",
    "lo",
    "ma",
    "mer",
    "mon",
    "na",
    "nel",
    "no",
    "or",
    "pa",
    "per",
    "pol",
    "ra",
    "ren",
    "ro",
    "sa",
    "sel",
    "sto",
    "ta",
    "ten",
    "tor",
    "ul",
    "va",
    "ver",
    "wen",
    "ya",
    "zor",
    "ing",
    "ly",
    "tion",
    "ment",
    "est",
    "er",
    "ous",
    "ish",
]


# -- the corpus ----------------------------------------------------------------------------------------


def word_list(rng: random.Random, count: int = 6000) -> list[str]:
    """Invented words of one to four syllables: enough of them that the text does not compress trivially."""
    return ["".join(rng.choice(SYLLABLES) for _ in range(rng.choice((1, 2, 2, 3, 3, 4)))) for _ in range(count)]


def sentence(rng: random.Random, words: list[str]) -> str:
    picked = [
        rng.choice(FUNCTION_WORDS) if rng.random() < 0.4 else rng.choice(words) for _ in range(rng.randint(6, 22))
    ]
    return " ".join(picked).capitalize() + rng.choice(".....?!")


def page(rng: random.Random, words: list[str]) -> str:
    """A title line and a few paragraphs, one a line, as WET text is."""
    title = " ".join(rng.choice(words) for _ in range(rng.randint(2, 6))).title()
    paragraphs = [" ".join(sentence(rng, words) for _ in range(rng.randint(1, 6))) for _ in range(rng.randint(3, 12))]
    return "\n".join([title, *paragraphs])


def pages(target: int, seed: int = 14) -> Iterator[tuple[str, str, str]]:
    """(record id, url, text) until ``target`` bytes of text; the same pages for a seed."""
    rng = random.Random(seed)
    words = word_list(rng)
    hosts = [f"www.{rng.choice(words)}{rng.choice(words)}.example" for _ in range(300)]
    written = 0
    while written < target:
        text = page(rng, words)
        written += len(text.encode())
        url = f"https://{rng.choice(hosts)}/{rng.choice(words)}/{rng.randrange(10**6)}.html"
        yield f"<urn:uuid:{uuid.UUID(int=rng.getrandbits(128))}>", url, text


def wet_record(kind: WarcRecordType, body: bytes, headers: dict[str, str]) -> bytes:
    record = WarcRecord()
    record.init_headers(kind)
    for key, value in headers.items():
        record.headers[key] = value
    record.set_bytes_content(body)
    out = io.BytesIO()
    record.write(out)
    return out.getvalue()


def write_corpus(folder: Path, megabytes: float) -> tuple[Path, Path, int, int]:
    """The WET and JSON Lines files, written side by side in one pass; (wet, jsonl, pages, text bytes)."""
    wet, jsonl = folder / "pages.warc.wet", folder / "pages.jsonl"
    count = size = 0
    with wet.open("wb") as w, jsonl.open("wb") as j:
        w.write(wet_record(WarcRecordType.warcinfo, b"software: normkit benchmark\r\n", {}))
        for record_id, url, text in pages(int(megabytes * 1e6)):
            body = text.encode()
            headers = {
                "WARC-Record-ID": record_id,
                "WARC-Target-URI": url,
                "WARC-Identified-Content-Language": "eng",
                "Content-Type": "text/plain",
            }
            w.write(wet_record(WarcRecordType.conversion, body, headers))
            j.write(orjson.dumps({"id": record_id.strip("<>"), "url": url, "text": text}) + b"\n")
            count, size = count + 1, size + len(body)
    return wet, jsonl, count, size


# -- what is timed ---------------------------------------------------------------------------------------


def normkit(corpus: Path, out: Path) -> None:
    shutil.rmtree(out, ignore_errors=True)  # a fresh folder: resume must not skip the work
    subprocess.run([*NORMKIT, str(corpus), "-o", str(out)], check=True)


def read_fastwarc(wet: Path) -> int:
    with wet.open("rb") as stream:
        return sum(1 for r in ArchiveIterator(stream, parse_http=False, stream_detect=False) if r.reader.read())


def read_warcio(wet: Path) -> int:
    from warcio.archiveiterator import ArchiveIterator as WarcioIterator

    with wet.open("rb") as stream:
        return sum(1 for r in WarcioIterator(stream) if r.content_stream().read())


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def measure(wet: Path, jsonl: Path, work: Path, runs: int, with_normkit: bool) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    variants: dict[str, Callable[[], object]] = {
        "read: fastwarc": lambda: read_fastwarc(wet),
        "read: warcio": lambda: read_warcio(wet),
    }
    if with_normkit:
        variants = {
            "normkit run: WET": lambda: normkit(wet, work / "out-wet"),
            "normkit run: JSON Lines": lambda: normkit(jsonl, work / "out-jsonl"),
            **variants,
        }
    for run in range(runs):
        for name, action in variants.items():
            times.setdefault(name, []).append(timed(action))
            print(f"run {run + 1}/{runs}: {name}: {times[name][-1]:.2f} s", file=sys.stderr)
    return times


def table(times: dict[str, list[float]], count: int, size: int) -> str:
    rows = [
        f"{count} pages, {size / 1e6:.1f} MB of text; medians of {len(next(iter(times.values())))} runs",
        "",
        "| what | seconds | documents/s | MB/s of text |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, values in times.items():
        seconds = statistics.median(values)
        rows.append(f"| {name} | {seconds:.2f} | {count / seconds:,.0f} | {size / 1e6 / seconds:.1f} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=100, help="MB of page text to generate (default 100)")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians are reported (default 3)")
    parser.add_argument("--workdir", type=Path, help="where the files go (default: a temporary folder, removed)")
    parser.add_argument("--skip-normkit", action="store_true", help="time only the raw readers")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="normkit-wet-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        wet, jsonl, count, size = write_corpus(work, args.mb)
        print(f"generated in {time.perf_counter() - started:.1f} s: {wet} and {jsonl}", file=sys.stderr)
        print(table(measure(wet, jsonl, work, args.runs, not args.skip_normkit), count, size))
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
