"""Per-stage cost: each stage of the default pipeline (and the learning pass's ``observe``), per document.

    python benchmarks/stages.py [--docs 2000] [--runs 5] [--source FOLDER]

The documents are the throughput benchmark's (news-like, body lines unique, 3% mojibake). Each run builds a
fresh pipeline, so per-line memos start empty as in a real run; each stage gets the documents as the stages
before it left them, the boilerplate stage after a learning pass over all of them. Figures are medians of
``--runs``, in milliseconds a document: the time a run spends in each stage, the rest excluded.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from throughput import DEFAULT_SOURCE, documents

from normkit import Config, Document, Pipeline
from normkit.inputs import assign_source


def timed(step: Callable[[Any], Any], items: Sequence[Any]) -> tuple[float, list[Any]]:
    started = time.perf_counter()
    out = [step(item) for item in items]
    return time.perf_counter() - started, out


def one_run(records: list[dict[str, str]]) -> dict[str, float]:
    """Seconds per stage over ``records`` with a new pipeline."""
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
    args = parser.parse_args()
    records = list(documents(args.docs, args.source))
    runs = [one_run(records) for _ in range(args.runs)]
    print(f"{args.docs} documents, median of {args.runs} runs, ms a document")
    print("| stage | ms a document |\n|---|---|")
    for name in runs[0]:
        print(f"| {name} | {statistics.median(run[name] for run in runs) / args.docs * 1e3:.3f} |")


if __name__ == "__main__":
    main()
