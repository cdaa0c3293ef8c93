"""Per-stage cost: each stage of the default pipeline (and the learning pass's ``observe``), per document.

    python benchmarks/stages.py [--docs 2000] [--runs 5] [--source FOLDER] [--corpus news|unique]

The documents are the throughput benchmark's (news-like, body lines unique, 3% mojibake; ``--corpus unique``:
every article sentence new). Each run builds a fresh pipeline and empties the plugins' module caches, so
per-line memos start empty as in a real run; each stage gets the documents as the stages
before it left them, the boilerplate stage after a learning pass over all of them. Figures are medians of
``--runs``, in milliseconds a document: the time a run spends in each stage, the rest excluded.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from throughput import CORPORA, DEFAULT_SOURCE

from normkit import Config, Document, Pipeline
from normkit.inputs import assign_source


def timed(step: Callable[[Any], Any], items: Sequence[Any]) -> tuple[float, list[Any]]:
    started = time.perf_counter()
    out = [step(item) for item in items]
    return time.perf_counter() - started, out


def forget_memos() -> None:
    """Empty the per-process caches of the builtin plugins' modules (``functools`` caches: folded lines, line
    hashes...), which outlive a pipeline: a run after the first would find every line of the corpus there."""
    for name, module in list(sys.modules.items()):
        if name.startswith("normkit_plugins"):
            for value in vars(module).values():
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()


def one_run(records: list[dict[str, str]]) -> dict[str, float]:
    """Seconds per stage over ``records`` with a new pipeline and empty memos."""
    forget_memos()
    pipeline = Pipeline(Config.from_mapping({}))
    # with the source key ``normkit run`` gives them
    docs = [
        assign_source(Document(id=r["id"], text=r["text"], title=r["title"], url=r["url"]), ["url"]) for r in records
    ]
    seconds: dict[str, float] = {}
    for stage in pipeline.stages:
        if getattr(stage, "learns", False):  # a Learner that learns; getattr so that older versions compare too
            seconds[f"{stage.name} observe"], _ = timed(stage.observe, docs)
            stage.apply_learned(stage.merge_learned([stage.learned()]))
        seconds[stage.name], docs = timed(stage.process, docs)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="news")
    args = parser.parse_args()
    records = list(CORPORA[args.corpus](args.docs, args.source))
    runs = [one_run(records) for _ in range(args.runs)]
    print(f"{args.docs} documents ({args.corpus}), median of {args.runs} runs, ms a document")
    print("| stage | ms a document |\n|---|---|")
    for name in runs[0]:
        print(f"| {name} | {statistics.median(run[name] for run in runs) / args.docs * 1e3:.3f} |")


if __name__ == "__main__":
    main()
