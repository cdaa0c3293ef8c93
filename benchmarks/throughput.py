"""Throughput: ``normkit run`` on 1 and 2 workers against the I/O floor and datatrove, on news-like JSONL.

    python benchmarks/throughput.py [--docs N] [--runs K] [--source FOLDER] [--workdir DIR] [--breakdown]
                                    [--start-methods] [--corpus news|unique]

The corpus is generated (never committed): pages from ``--source`` (default: the boilerplate dev corpus in
``../shared`` beside the checkout, when present; else generated sentences) cycled, each made unique, about
5 KB a document, 3% of them with mojibake. ``--corpus unique`` generates every article sentence afresh
(words drawn from one page's text, so its language and function words) while bylines, reading times, share
bars, photo credits and footers repeat per site, so no per-line memo helps the body: the worst case for the
boilerplate stage. Each run times every variant once, interleaved; figures are medians over the runs:

a. the I/O floor: read, parse, serialize and write the same records with orjson, nothing else;
b. ``normkit run`` with the default pipeline on 1 worker, and c. on 2 workers, as a user runs it;
d. datatrove's comparable pipeline (JsonlReader -> FTFYFormatter -> C4QualityFilter as a line filter ->
   JsonlWriter) on 1 worker, when datatrove is importable;
e. with ``--breakdown``, ``normkit run`` on 1 worker without the boilerplate stage: what that stage costs;
f. with ``--start-methods``, ``normkit run`` on 1 and 2 workers started from a fork server, beside the default
   (forked on Linux): what starting workers warm gives.

Each run also measures the machine's own ceiling for two processes: the same pure-Python loop run twice in a
row, then twice at once. On a shared virtual machine two "cores" rarely give 2x, so normkit's 2-worker speed-up
is reported beside what this machine gives any two CPU-bound processes in the same minute.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson

#: the boilerplate development pages, where the project's checkout has ``shared/`` beside it (never committed)
DEFAULT_SOURCE = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "boilerplate" / "dev"
SPIN = [sys.executable, "-c", "sum(i * i for i in range(25_000_000))"]
NORMKIT = [sys.executable, "-m", "normkit", "run"]
DATATROVE = """
import sys
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.filters import C4QualityFilter
from datatrove.pipeline.formatters import FTFYFormatter
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter
source, out = sys.argv[1], sys.argv[2]
LocalPipelineExecutor(
    [JsonlReader(source, glob_pattern="*.jsonl", compression=None), FTFYFormatter(),
     C4QualityFilter(min_num_sentences=-1), JsonlWriter(out, compression=None)],
    tasks=1, workers=1, logging_dir=out + "-logs",
).run()
"""


# -- the corpus ----------------------------------------------------------------------------------------


def pages(source: Path | None) -> list[str]:
    """Page texts to cycle through: the source folder's ``*.input.txt`` (or ``*.txt``), else generated."""
    if source and source.is_dir():
        files = sorted(source.glob("*.input.txt")) or sorted(source.glob("*.txt"))
        texts = [f.read_text("utf-8", "replace")[:9000] for f in files]
        if texts:
            return [t for t in texts if len(t) > 500] or texts
    rng = random.Random(7)
    words = ["the", "a", "of", "in", "government", "said", "market", "city", "people", "year", "police"]
    return ["\n\n".join(" ".join(rng.choices(words, k=rng.randint(8, 30))) + "." for _ in range(25))]


def documents(count: int, source: Path | None, start: int = 0) -> Iterator[dict[str, str]]:
    """News-like records; body lines are made unique per document, short (boilerplate-like) lines repeat."""
    texts = pages(source)
    vocabulary = sorted({w.strip(".,;:!?\"'()").lower() for t in texts for w in t.split() if w.isalpha()})
    for i in range(start, start + count):
        page, rng = texts[i % len(texts)], random.Random(i)
        # Words, not numbers: boilerplate learning folds digits, so numbered copies would look like boilerplate.
        lines = [
            f"{line} {' '.join(rng.choices(vocabulary, k=4))}." if len(line.split()) >= 8 else line
            for line in page.split("\n")
        ]
        text = "\n".join(lines)
        if i % 33 == 0:  # a few percent of mojibake: UTF-8 bytes read as cp1252
            text = text.encode("utf-8").decode("cp1252", "replace")
        title = next((line for line in lines if line.strip()), "")[:120]
        yield {"id": f"doc-{i}", "url": f"https://www.site{i % 20}.example/news/{i}", "title": title, "text": text}


#: per-site furniture of the ``unique`` corpus (invented): what repeats on every page of a site, formatted with
#: the site's name and number, its author and the page's reading time
FURNITURE_HEAD = (
    "By {author} | {name} Staff",
    "{minutes} min read",
    "Share on Facebook | Share on X | Email | Print",
)
FURNITURE_FOOT = (
    "Sign up for the {name} morning briefing",
    "Related coverage",
    "Comments are closed on this story.",
    "Copyright {name} Media Group. All rights reserved.",
)
AUTHORS = ("Mara Lindqvist", "Tomas Okafor", "Priya Raman", "Jonah Whitfield", "Elena Sokolova")


def unique_documents(count: int, source: Path | None, start: int = 0) -> Iterator[dict[str, str]]:
    """News-like records whose every article sentence is new (words drawn at random), while bylines, reading
    times, share bars, photo credits and footers repeat per site: the per-line memos never help the body."""
    # words drawn from one page's own running text: its language, and function words as often as it has them
    words = [[w.strip(".,;:!?\"'()") for w in t.split() if w.strip(".,;:!?\"'()").isalpha()] for t in pages(source)]
    words = [page for page in words if page] or [["the", "city", "said"]]
    for i in range(start, start + count):
        rng, site, vocabulary = random.Random(i), i % 20, words[i % len(words)]
        name = f"Harbour Ledger {site}"

        def sentence(size: int, rng: random.Random = rng, vocabulary: list[str] = vocabulary) -> str:
            return " ".join(rng.choices(vocabulary, k=size)).capitalize() + "."

        title = sentence(rng.randint(7, 12)).rstrip(".")
        fields = {"name": name, "author": AUTHORS[site % len(AUTHORS)], "minutes": 2 + site % 7}
        body = [" ".join(sentence(rng.randint(10, 24)) for _ in range(rng.randint(2, 4))) for _ in range(14)]
        caption = [sentence(rng.randint(9, 16)), f"Photo: {name} Images"]
        lines = [title, *(line.format(**fields) for line in FURNITURE_HEAD), *body[:3], *caption, *body[3:]]
        lines += [line.format(**fields) for line in FURNITURE_FOOT]
        text = "\n\n".join(lines)
        if i % 33 == 0:  # a few percent of mojibake, as in the news corpus
            text = text.encode("utf-8").decode("cp1252", "replace")
        yield {"id": f"doc-{i}", "url": f"https://www.site{site}.example/news/{i}", "title": title, "text": text}


CORPORA = {"news": documents, "unique": unique_documents}


def write_corpus(path: Path, count: int, source: Path | None, kind: str = "news") -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as stream:
        for record in CORPORA[kind](count, source):
            stream.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
    return path.stat().st_size


# -- the variants ----------------------------------------------------------------------------------------


def io_floor(corpus: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with corpus.open("rb") as source, (out / "documents.jsonl").open("wb") as target:
        for line in source:
            target.write(orjson.dumps(orjson.loads(line), option=orjson.OPT_APPEND_NEWLINE))


def normkit(workers: int, config: Path | None = None) -> Callable[[Path, Path], None]:
    def run(corpus: Path, out: Path) -> None:
        command = [*NORMKIT, str(corpus), "-o", str(out), "--workers", str(workers), "--no-resume", "-q"]
        subprocess.run([*command, "--config", str(config)] if config else command, check=True)

    return run


def without_boilerplate(work: Path) -> Path:
    """A configuration of the default pipeline less its boilerplate stage (``--breakdown``)."""
    from normkit import Config

    stages = [stage for stage in Config.from_mapping({}).pipeline if stage != "boilerplate"]
    path = work / "no-boilerplate.toml"
    path.write_bytes(b"pipeline = " + orjson.dumps(stages) + b"\n")
    return path


def datatrove(corpus: Path, out: Path) -> None:
    subprocess.run([sys.executable, "-c", DATATROVE, str(corpus.parent), str(out)], check=True, capture_output=True)


def ceiling() -> float:
    """Two CPU-bound processes at once against the same two in a row: what two workers could gain at most here."""
    started = time.perf_counter()
    for _ in range(2):
        subprocess.run(SPIN, check=True)
    serial = time.perf_counter() - started
    started = time.perf_counter()
    spinning = [subprocess.Popen(SPIN) for _ in range(2)]
    if any([process.wait() for process in spinning]):  # a list: wait for both before timing
        raise RuntimeError("the CPU ceiling probe failed")
    return serial / (time.perf_counter() - started)


def forkserver(work: Path) -> Path:
    """A configuration that starts pool workers from a fork server, as before issue 15 (``--start-methods``)."""
    path = work / "forkserver.toml"
    path.write_text('[run.executors.pool]\nstart_method = "forkserver"\n')
    return path


def variants(breakdown: Path | None = None, server: Path | None = None) -> dict[str, Callable[[Path, Path], None]]:
    found = {"floor": io_floor, "normkit-1": normkit(1), "normkit-2": normkit(2)}
    if breakdown:
        found["normkit-1-no-boilerplate"] = normkit(1, breakdown)
    if server:
        found["normkit-1-forkserver"] = normkit(1, server)
        found["normkit-2-forkserver"] = normkit(2, server)
    try:
        import datatrove as _  # noqa: F401 - only asks whether it is installed
    except ImportError:
        print("datatrove is not installed: its variant is skipped", file=sys.stderr)
    else:
        found["datatrove-1"] = datatrove
    return found


def measure(
    corpus: Path, work: Path, runs: int, breakdown: Path | None = None, server: Path | None = None
) -> tuple[dict[str, list[float]], list[float]]:
    """Seconds per variant per run, and the machine's two-process ceiling measured in each run."""
    times: dict[str, list[float]] = {name: [] for name in variants(breakdown, server)}
    ceilings: list[float] = []
    for run in range(runs):
        ceilings.append(ceiling())
        print(f"run {run + 1}/{runs} two-process ceiling: {ceilings[-1]:.2f}x", file=sys.stderr)
        for name, variant in variants(breakdown, server).items():
            out = work / f"out-{name}"
            shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(f"{out}-logs", ignore_errors=True)
            started = time.perf_counter()
            variant(corpus, out)
            times[name].append(time.perf_counter() - started)
            print(f"run {run + 1}/{runs} {name}: {times[name][-1]:.2f}s", file=sys.stderr)
    return times, ceilings


def table(times: dict[str, list[float]], ceilings: list[float], size: int, docs: int) -> str:
    medians = {name: statistics.median(values) for name, values in times.items()}
    rows = ["| variant | median s | MB/s | docs/s | vs floor (time) |", "|---|---|---|---|---|"]
    for name, seconds in medians.items():
        ratio = seconds / medians["floor"]
        rows.append(f"| {name} | {seconds:.2f} | {size / 1e6 / seconds:.2f} | {docs / seconds:.0f} | {ratio:.1f}x |")
    rows.append("")
    if "datatrove-1" in medians:
        rows.append(f"- normkit 1 worker vs datatrove 1 worker: {medians['datatrove-1'] / medians['normkit-1']:.2f}x")
        if "normkit-1-no-boilerplate" in medians:
            lean = medians["datatrove-1"] / medians["normkit-1-no-boilerplate"]
            rows.append(f"- normkit 1 worker without the boilerplate stage vs datatrove 1 worker: {lean:.2f}x")
    scaling, limit = medians["normkit-1"] / medians["normkit-2"], statistics.median(ceilings)
    rows.append(f"- normkit 2 workers vs 1 worker: {scaling:.2f}x")
    rows.append(f"- this machine's two-process ceiling: {limit:.2f}x (runs: {', '.join(f'{c:.2f}' for c in ceilings)})")
    rows.append(f"- normkit's 2-worker speed-up as a share of the ceiling: {scaling / limit:.0%}")
    rows.append(f"- normkit 1 worker time / floor time: {medians['normkit-1'] / medians['floor']:.1f}x")
    if "normkit-2-forkserver" in medians:
        old = medians["normkit-1-forkserver"] / medians["normkit-2-forkserver"]
        rows.append(
            f"- with a fork server (before issue 15): 2 workers vs 1 worker {old:.2f}x, {old / limit:.0%} of it"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--workdir", type=Path, help="Where the corpus and outputs go (default: a temp folder).")
    parser.add_argument("--breakdown", action="store_true", help="Also run 1 worker without the boilerplate stage.")
    parser.add_argument("--start-methods", action="store_true", help="Also run 1 and 2 workers from a fork server.")
    parser.add_argument(
        "--corpus",
        choices=sorted(CORPORA),
        default="news",
        help="unique: every article sentence new, furniture per site.",
    )
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="normkit-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus" / f"{args.corpus}.jsonl"
    size = write_corpus(corpus, args.docs, args.source, args.corpus)
    print(f"corpus ({args.corpus}): {args.docs} documents, {size / 1e6:.1f} MB ({size / args.docs / 1e3:.1f} KB each)")
    breakdown = without_boilerplate(work) if args.breakdown else None
    server = forkserver(work) if args.start_methods else None
    print(table(*measure(corpus, work, args.runs, breakdown, server), size, args.docs))
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
