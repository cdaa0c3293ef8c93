"""Quality of normkit's headline and boilerplate cleaning on labelled pages: token P/R/F1 and line accounting.

    python benchmarks/quality.py FOLDER [FOLDER ...] [--config normkit.toml] [--show N] [--json FILE]

A FOLDER holds pairs ``NAME.input.txt`` (the scraped text; line 1 is the page title) and ``NAME.gold.txt``
(the article body a person marked). Each input goes through the full configured pipeline
(``normkit.clean``) and is scored the way the boilerplate development set's ``score.py`` scores cleaners:

- tokens are Unicode ``\\w+`` runs; precision, recall and F1 compare the bags of output and gold tokens,
  pooled over all cases (the title, kept in ``title``, is not in the output and not in the gold);
- an input line (after line 1, holding a token) is *gold* when at least half its tokens fall in runs of
  three or more tokens that align, in order, with the gold text; the others are *junk*;
- a line is *removed* when fewer than half its tokens align with the output. "gold lines removed" is real
  content lost and should stay at 0; "junk lines removed" is the work done.

``clean_text`` is the ``str -> str`` adapter for ``score.py --py benchmarks.quality:clean_text``.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import normkit
from normkit import Config, load_config

TOKEN = re.compile(r"\w+")
MIN_BLOCK = 3


def clean_text(text: str) -> str:
    """normkit's default pipeline as ``str -> str``."""
    return normkit.clean(text).text


@dataclass
class CaseScore:
    name: str
    tp: int
    fp: int
    fn: int
    gold_lines: int
    junk_lines: int
    gold_removed: list[str] = field(default_factory=list)
    junk_removed: int = 0


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


def body_lines(text: str) -> list[tuple[str, list[str]]]:
    """The input lines after the title line that hold a token, with their tokens."""
    return [(line, tk) for line, tk in ((line, tokens(line)) for line in text.split("\n")[1:]) if tk]


def aligned(lines: list[list[str]], target: list[str], min_block: int) -> list[int]:
    """Per line, how many of its tokens fall in order-preserving runs of ``min_block``+ shared with ``target``."""
    flat = [token for line in lines for token in line]
    owner = [number for number, line in enumerate(lines) for _ in line]
    hits = [0] * len(lines)
    matcher = difflib.SequenceMatcher(None, flat, target, autojunk=False)
    for start, _, size in matcher.get_matching_blocks():
        if size >= min_block:
            for position in range(start, start + size):
                hits[owner[position]] += 1
    return hits


def score_case(name: str, source: str, gold: str, output: str) -> CaseScore:
    texts, lines = zip(*body_lines(source), strict=True) if source.strip() else ((), ())
    lines = list(lines)
    gold_tokens, out_tokens = tokens(gold), tokens(output)
    is_gold = [2 * hit >= len(line) for hit, line in zip(aligned(lines, gold_tokens, MIN_BLOCK), lines, strict=True)]
    removed = [2 * hit < len(line) for hit, line in zip(aligned(lines, out_tokens, 1), lines, strict=True)]
    out_bag, gold_bag = Counter(out_tokens), Counter(gold_tokens)
    tp = sum(min(count, gold_bag[token]) for token, count in out_bag.items())
    return CaseScore(
        name=name,
        tp=tp,
        fp=len(out_tokens) - tp,
        fn=len(gold_tokens) - tp,
        gold_lines=sum(is_gold),
        junk_lines=len(lines) - sum(is_gold),
        gold_removed=[t for t, g, r in zip(texts, is_gold, removed, strict=True) if g and r],
        junk_removed=sum(1 for g, r in zip(is_gold, removed, strict=True) if not g and r),
    )


def score_folder(folder: Path, cleaner: Callable[[str], str]) -> list[CaseScore]:
    scores = []
    for path in sorted(folder.glob("*.input.txt")):
        name = path.name.removesuffix(".input.txt")
        source = path.read_text(encoding="utf-8")
        gold = (folder / f"{name}.gold.txt").read_text(encoding="utf-8")
        scores.append(score_case(name, source, gold, cleaner(source)))
    return scores


def summary(scores: Sequence[CaseScore]) -> dict[str, Any]:
    tp, fp, fn = (sum(getattr(s, key) for s in scores) for key in ("tp", "fp", "fn"))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "cases": len(scores),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "gold_lines_removed": sum(len(s.gold_removed) for s in scores),
        "gold_lines": sum(s.gold_lines for s in scores),
        "junk_lines_removed": sum(s.junk_removed for s in scores),
        "junk_lines": sum(s.junk_lines for s in scores),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="+", type=Path, help="folders of NAME.input.txt / NAME.gold.txt pairs")
    parser.add_argument("--config", help="normkit configuration to clean with (default: the defaults)")
    parser.add_argument("--show", type=int, default=5, help="print up to N lost gold lines per folder")
    parser.add_argument("--json", type=Path, help="write every score to this file")
    args = parser.parse_args(argv)
    config: Config = load_config(args.config, search=False)
    report = {}
    print("| folder | cases | P | R | F1 | gold lines removed | junk lines removed |")
    print("|---|---|---|---|---|---|---|")
    for folder in args.folders:
        scores = score_folder(folder, lambda text: normkit.clean(text, config=config).text)
        total = summary(scores)
        report[str(folder)] = {"overall": total, "cases": [asdict(s) for s in scores]}
        print(
            f"| {folder.name} | {total['cases']} | {total['precision']:.3f} | {total['recall']:.3f} | "
            f"{total['f1']:.3f} | {total['gold_lines_removed']}/{total['gold_lines']} | "
            f"{total['junk_lines_removed']}/{total['junk_lines']} |"
        )
        lost = [(s.name, line) for s in scores for line in s.gold_removed][: args.show]
        for name, line in lost:
            print(f"  lost in {name}: {line[:100]!r}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
