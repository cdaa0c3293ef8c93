"""Where a 1-worker run's time goes: py-spy samples of ``normkit run``, summed per phase, per stage and per function.

    pip install py-spy
    python benchmarks/profile_run.py [--docs 10000] [--corpus news|unique] [--source FOLDER] [--rate 200]

The corpus is the throughput benchmark's (``throughput.py``). The run uses the in-process executor, so one
process holds all of its samples; py-spy samples it from outside (``--rate`` per second), which changes its
speed far less than cProfile or a line profiler, whose per-call costs make Python-heavy code look heavier than
it is. A sample counts toward every frame on its stack, so shares nest (a stage's share is inside its phase's).
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from throughput import DEFAULT_SOURCE, write_corpus

#: a phase of the run, by the function its samples are under (the rest is start-up and the report)
PHASES = {
    "plan": "plan_run (plan.py)",
    "learn": "_Batch._learn (runner.py)",
    "clean": "CleaningPass.run (cleaning.py)",
    "assemble": "_Batch._assemble (runner.py)",
}
#: the parts of the boilerplate stage's ``process``, by function
BOILERPLATE_PARTS = {
    "rules (each line against the rules)": "_matches (stage_boilerplate.py)",
    "line facts (words, function words, language)": "line_facts (_boilerplate_lines.py)",
    "layout and model passes": "BoilerplateStage._removals (stage_boilerplate.py)",
    "  of which the line model": "_model_removals (stage_boilerplate.py)",
    "edits": "remove_lines (_boilerplate_removal.py)",
}
#: a frame as py-spy's raw format writes it, ``function (path/file.py:line)``, made ``function (file.py)``
_FRAME = re.compile(r" \((?:.*/)?([^/]*?):\d+\)$")


def samples(raw: Path) -> Iterator[tuple[list[str], int]]:
    """Each distinct stack of py-spy's raw (collapsed) output, outermost first, and its sample count."""
    for line in raw.read_text("utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        yield [_FRAME.sub(r" (\1)", frame) for frame in stack.split(";")], int(count)


def summarise(raw: Path, top: int) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for frames, count in samples(raw):
        total += count
        inclusive.update(dict.fromkeys(set(frames), count))
        own[frames[-1]] += count
    lines = [f"{total} samples", "", "| phase | share |", "|---|---|"]
    phased = sum(inclusive[frame] for frame in PHASES.values())
    lines += [f"| {name} | {inclusive[frame] / total:.1%} |" for name, frame in PHASES.items()]
    lines += [f"| start-up, report, exit | {(total - phased) / total:.1%} |", ""]
    stages = {f: n for f, n in inclusive.items() if re.match(r"\w+Stage\.(process|observe) ", f)}
    lines += ["| stage method | share |", "|---|---|"]
    lines += [f"| {frame} | {n / total:.1%} |" for frame, n in sorted(stages.items(), key=lambda kv: -kv[1])]
    lines += ["", "| boilerplate part | share |", "|---|---|"]
    lines += [f"| {name} | {inclusive[frame] / total:.1%} |" for name, frame in BOILERPLATE_PARTS.items()]
    lines += ["", "| function (own time, C calls included) | share |", "|---|---|"]
    lines += [f"| {frame or '(native code)'} | {n / total:.1%} |" for frame, n in own.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--corpus", choices=["news", "unique"], default="news")
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--rate", type=int, default=200, help="Samples a second.")
    parser.add_argument("--top", type=int, default=25, help="Functions listed by their own time.")
    args = parser.parse_args()
    spy = shutil.which("py-spy")
    if spy is None:
        sys.exit("py-spy is not installed: pip install py-spy")
    with tempfile.TemporaryDirectory(prefix="normkit-profile-") as folder:
        work = Path(folder)
        corpus = work / "corpus" / f"{args.corpus}.jsonl"
        size = write_corpus(corpus, args.docs, args.source, args.corpus)
        print(f"corpus ({args.corpus}): {args.docs} documents, {size / 1e6:.1f} MB")
        raw = work / "profile.txt"
        run = [sys.executable, "-m", "normkit", "run", str(corpus), "-o", str(work / "out"), "--executor"]
        record = [spy, "record", "--format", "raw", "--rate", str(args.rate), "--output", str(raw), "--"]
        subprocess.run([*record, *run, "inprocess", "-q"], check=True, capture_output=True)
        print(summarise(raw, args.top))


if __name__ == "__main__":
    main()
