"""Memory: peak RSS of ``normkit run`` over a generated 200 MB and a 2 GB JSONL file should be about the same.

    python benchmarks/memory.py [--sizes 200MB,2GB] [--workers 2] [--pipeline decode,whitespace] [--workdir DIR]

The corpus is the throughput benchmark's news-like documents, written until the size is reached (never
committed). ``normkit run`` is a subprocess; its whole process tree (the parent and every worker) is sampled
with psutil every 50 ms for the peak of the summed RSS and the largest single process; without psutil only
``getrusage(RUSAGE_CHILDREN)`` (the largest single process) is given. ``--pipeline default`` runs the default
pipeline (learning pass included); the lighter default keeps the 2 GB run to minutes on two cores and
measures what the engine holds (shards, parts, assembly), which is what the corpus size could inflate.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson
from throughput import DEFAULT_SOURCE, documents

UNITS = {"MB": 10**6, "GB": 10**9}


def write_corpus(path: Path, size: int) -> int:
    """News-like records until ``size`` bytes; returns the number of documents."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = written = 0
    with path.open("wb") as stream:
        while written < size:
            for record in documents(1000, DEFAULT_SOURCE, start=count):
                written += stream.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
            count += 1000
    return count


class TreeSampler(threading.Thread):
    """Peak RSS of a process and its descendants, summed, and of the largest one."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_sum, self.peak_one, self.done = pid, 0, 0, threading.Event()

    def run(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
            while not self.done.is_set():
                rss = [p.memory_info().rss for p in [root, *root.children(recursive=True)] if _alive(p)]
                self.peak_sum, self.peak_one = max(self.peak_sum, sum(rss)), max(self.peak_one, *rss, 0)
                time.sleep(0.05)
        except psutil.Error:
            return


def _alive(process: object) -> bool:
    import psutil

    try:
        return bool(process.is_running())  # type: ignore[attr-defined]
    except psutil.Error:
        return False


def measure(corpus: Path, out: Path, workers: int, config: Path | None) -> dict[str, float]:
    command = [sys.executable, "-m", "normkit", "run", str(corpus), "-o", str(out), "-q", "--no-resume"]
    command += ["--workers", str(workers), *(["--config", str(config)] if config else [])]
    started = time.perf_counter()
    process = subprocess.Popen(command)
    sampler = None
    try:
        sampler = TreeSampler(process.pid)
        sampler.start()
    except ImportError:
        pass
    process.wait()
    seconds = time.perf_counter() - started
    if sampler:
        sampler.done.set()
        sampler.join()
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    result = {"seconds": seconds, "max_single_rusage_mb": children}
    if sampler:
        result |= {"peak_tree_mb": sampler.peak_sum / 2**20, "peak_single_mb": sampler.peak_one / 2**20}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="200MB,2GB")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pipeline", default="decode,whitespace", help="Stages, or 'default'.")
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="normkit-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    config = None
    if args.pipeline != "default":
        config = work / "normkit.toml"
        config.write_text(f"pipeline = {orjson.dumps(args.pipeline.split(',')).decode()}\n")
    print("| corpus | documents | seconds | peak RSS, tree (MB) | peak RSS, one process (MB) |")
    print("|---|---|---|---|---|")
    for label in args.sizes.split(","):
        size = int(float(label[:-2]) * UNITS[label[-2:].upper()])
        corpus = work / f"corpus-{label}" / "news.jsonl"
        docs = write_corpus(corpus, size)
        figures = measure(corpus, work / f"out-{label}", args.workers, config)
        tree, one = figures.get("peak_tree_mb", float("nan")), figures.get("peak_single_mb", float("nan"))
        print(f"| {label} | {docs} | {figures['seconds']:.0f} | {tree:.0f} | {one:.0f} |", flush=True)
        shutil.rmtree(corpus.parent)
        shutil.rmtree(work / f"out-{label}")
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
