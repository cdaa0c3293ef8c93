"""Pathological input for the boilerplate stage: what one document costs when its lines are built to be slow.

    python benchmarks/pathological.py [--runs 5] [--quick]

Every case is generated here (nothing read from ``../shared``). Each run builds a fresh stage, so the per-line
memos start empty, lets it clean an ordinary page (so its first-use work, such as compiling the per-character
alternations, is not timed), then times ``stage.process`` on the case's document; figures are the median and
the slowest of ``--runs``, in milliseconds, with the flags the document got.

The cases: the red-team line (``courtesy of`` and tab-slash-tab repeats: 9-10 s before the builtin patterns
were bounded); lines aimed at patterns that backtrack (guarded: they run under the per-line timeout); a 1 MB
line, skipped at the default ``max_line_chars`` and matched (every pattern under the timeout) when it is
raised; a document of 100 000 lines; lines of tabs, NBSP and U+2003; and 1 200 lines that each make a user
pattern run out of time, under the per-document ``regex_budget``, beside 40 such lines without it (the
per-line ``regex_timeout`` alone). ``--quick`` shrinks the large cases for a smoke run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from normkit_plugins._boilerplate_rules import AIMED, RED_TEAM

from normkit import Config, Document, Pipeline

SENTENCE = "The harbour board met on Tuesday and agreed to keep the winter ferry running until March."
WARM_UP = "\n".join(
    ["Home", "News", "", SENTENCE, "", "Photo: Jo Rivers/Harbour Gazette", "", SENTENCE, "Share this article"]
)
WORDS = ["ferry", "harbour", "council", "winter", "pier", "tide", "island", "vote", "budget", "crew", "dock", "gull"]


@dataclass
class Case:
    """One document and the stage options it runs under."""

    name: str
    text: Callable[[], str]
    options: dict[str, Any] = field(default_factory=dict)


def _page(*lines: str) -> str:
    return "\n".join([SENTENCE, "", *lines, "", SENTENCE])


def _huge_line(size: int) -> str:
    """A credit label, then words and tab-slash-tab separators to ``size`` characters: every kind of rule meets it."""
    return ("Photo credit: " + "\t/\t".join(WORDS * (size // 20)))[:size]


def _whitespace_lines() -> str:
    """Credit and share labels padded or separated with tabs, NBSP and U+2003 instead of spaces."""
    lines = []
    for space in ("\t", "\xa0", "\u2003"):
        lines += [f"Credit{space * 380}Jo Rivers", f"Photo:{space}" + f"{space}/{space}".join(WORDS * 3)]
        lines += [space.join(["By", "Mara", "Quell", *WORDS]), f"Share{space * 390}", space * 399 + "x"]
    return _page(*lines)


def _many_lines(count: int) -> str:
    """``count`` distinct lines, sentences and short labels mixed, as a very long page would have."""
    rng = random.Random(5)
    lines = []
    for i in range(count):
        words = " ".join(rng.choices(WORDS, k=12 if i % 3 else 3))
        lines.append(f"{words.capitalize()} {i}." if i % 3 else f"{words} {i}")
    return "\n".join(lines)


def cases(quick: bool) -> list[Case]:
    big, many, slow = (100_000, 10_000, 120) if quick else (1_000_000, 100_000, 1_200)
    slow_rule = [{"id": "slow", "pattern": r"(x|xx)+y"}]  # passes the start-up probes, fails on runs of x
    return [
        Case("red-team line (395 chars)", lambda: _page(RED_TEAM)),
        Case(f"{len(AIMED)} lines aimed at backtracking patterns", lambda: _page(*AIMED)),
        Case(f"{big:,}-char line, default max_line_chars", lambda: _page(_huge_line(big))),
        Case(f"{big:,}-char line, max_line_chars raised", lambda: _page(_huge_line(big)), {"max_line_chars": 2 * big}),
        Case(f"{many:,}-line document", lambda: _many_lines(many)),
        Case("tab, NBSP and U+2003 lines", _whitespace_lines),
        Case(f"{slow:,} lines timing out a user pattern", lambda: _page(*["x" * 40] * slow), {"rules": slow_rule}),
        Case(
            "40 such lines, no document budget",
            lambda: _page(*["x" * 40] * 40),
            {"rules": slow_rule, "regex_budget": 1e9},
        ),
    ]


def run_once(case: Case, text: str) -> tuple[float, str]:
    """Seconds ``process`` takes on the document with a fresh (warmed) stage, and the flags it raised."""
    pipeline = Pipeline(Config.from_mapping({"pipeline": ["boilerplate"], "stages": {"boilerplate": case.options}}))
    stage = pipeline.stages[0]
    stage.process(Document(id="warm-up", text=WARM_UP))
    started = time.perf_counter()
    result = stage.process(Document(id=case.name, text=text))
    spent = time.perf_counter() - started
    flags = Counter(flag.code for flag in result.flags if flag.stage == "boilerplate")
    return spent, ", ".join(f"{code} x{count}" for code, count in sorted(flags.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="smaller large cases, for a smoke run")
    args = parser.parse_args()
    print(f"median and slowest of {args.runs} runs, ms for the document")
    print("| case | lines | chars | median ms | slowest ms | flags |\n|---|---|---|---|---|---|")
    for case in cases(args.quick):
        text = case.text()
        runs = [run_once(case, text) for _ in range(args.runs)]
        seconds = [s for s, _ in runs]
        print(
            f"| {case.name} | {text.count(chr(10)) + 1:,} | {len(text):,} | {statistics.median(seconds) * 1e3:.1f} "
            f"| {max(seconds) * 1e3:.1f} | {runs[0][1] or '-'} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
