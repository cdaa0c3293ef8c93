"""Disk: the output folder after a run, beside the size of the compressed output it holds.

    python benchmarks/output_size.py [--size 1GB] [--workers 2] [--workdir DIR] [--pipeline default]

Issue 14's target: for a 1 GB input, the output folder after a ``--shards`` run is within 10% of the
compressed output's size (one copy of the data: the parts go once they are shards). The one-file layout is
measured beside it, with its parts kept in ``.normkit/parts`` for resume (about 1.7x before this layout).
The corpus is the throughput benchmark's news-like documents (never committed), each article unique.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from memory import UNITS, write_corpus


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())


def run(corpus: Path, out: Path, workers: int, pipeline: str, *extra: str) -> float:
    config = out.with_suffix(".toml")
    config.write_text("" if pipeline == "default" else f"pipeline = {pipeline.split(',')!r}\n".replace("'", '"'))
    command = ["normkit", "run", str(corpus), "-o", str(out), "-q", "--workers", str(workers), "--config", str(config)]
    started = time.perf_counter()
    subprocess.run([*command, *extra], check=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1GB")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pipeline", default="default", help="default, or stage names: decode,whitespace")
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    size = int(float(args.size[:-2]) * UNITS[args.size[-2:].upper()])
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        work = Path(tmp)
        corpus = work / "corpus.jsonl"
        documents = write_corpus(corpus, size)
        print(f"input: {corpus.stat().st_size / 1e6:,.0f} MB, {documents:,} documents", file=sys.stderr)
        rows = []
        for name, extra in (("one file", ()), ("shards (zst)", ("--shards",))):
            out = work / name.split()[0]
            seconds = run(corpus, out, args.workers, args.pipeline, *extra)
            records = out / "documents" if extra else next(out.glob("documents.*"))
            data = folder_bytes(records) if records.is_dir() else records.stat().st_size
            rows.append((name, seconds, data, folder_bytes(out)))
        print("| layout | seconds | records (MB) | output folder (MB) | folder / records |")
        print("|---|---|---|---|---|")
        for name, seconds, data, whole in rows:
            print(f"| {name} | {seconds:.0f} | {data / 1e6:,.1f} | {whole / 1e6:,.1f} | {whole / data:.3f} |")


if __name__ == "__main__":
    main()
