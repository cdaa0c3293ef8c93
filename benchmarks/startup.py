"""Benchmark: how long normkit takes to start, next to the floor of any Python program using its core libraries.

    python benchmarks/startup.py [--runs 7] [--seeds FOLDER] [--no-extra] [--no-bytecode]

Issue #15 asks that a one-document ``normkit run`` take no more than 1.2x ``python -c "import orjson, pluggy"``
plus the run itself. Every command runs as a subprocess of this interpreter, interleaved (a, b, c, a, b, c...)
so a busy machine slows them alike; each figure is the median of ``--runs``, in seconds of wall time and of
CPU time (user and system, the command's and its workers': steadier than wall time on a shared machine):

- (a) ``python -c "import orjson, pluggy"``: the floor;
- (b) ``python -m normkit run SEEDS -o TMP``: a one-document run into a fresh folder (``seeds/``, one file);
  the same with ``--executor inprocess`` too, so what the pool's worker costs is on record (unless ``--no-extra``);
- (c) ``python -m normkit --version`` and ``python -c "import normkit.cli"`` (left out with ``--no-extra``).

Bytecode is cached by default, in a folder of its own (``PYTHONPYCACHEPREFIX``), as it is for an installed
wheel, even where ``PYTHONDONTWRITEBYTECODE`` is set; ``--no-bytecode`` compiles every module from source in
every run instead (a fresh checkout, or a machine that writes no bytecode), which costs normkit far more than
the floor. It prints the ratio b/a, the run's own phases (``report.json``), and the import cost of the heaviest modules
``import normkit.cli`` loads (``-X importtime``, cumulative, one extra run), so a regression names its module.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: the modules whose cumulative import time is worth a line: the libraries normkit may defer, and its layers.
WATCHED = (
    "normkit",
    "normkit.cli",
    "normkit.batch",
    "normkit.batch.report",
    "normkit.validate",
    "normkit.text.repairing",
    "normkit.config",
    "normkit.plugins",
    "normkit.pipeline",
    "jsonschema",
    "fastjsonschema",
    "ftfy",
    "rich",
    "rich.console",
    "click",
    "pluggy",
    "orjson",
    "msgspec",
)


def environment(pycache: Path | None) -> dict[str, str]:
    """This process's environment, with bytecode written to and read from ``pycache`` (none when None)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    if pycache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds of wall time and of CPU time ``argv`` takes to run to completion; a failure stops the benchmark."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def commands(seeds: Path, out: Path, extra: bool) -> dict[str, list[str]]:
    """The commands to time, by label; ``out`` is removed before each run so that none resumes."""
    python = sys.executable
    found = {
        "a: import orjson, pluggy": [python, "-c", "import orjson, pluggy"],
        "b: normkit run (1 document)": [python, "-m", "normkit", "run", str(seeds), "-o", str(out)],
    }
    if extra:
        found["b: normkit run --executor inprocess"] = [
            *found["b: normkit run (1 document)"],
            "--executor",
            "inprocess",
        ]
        found["c: normkit --version"] = [python, "-m", "normkit", "--version"]
        found["c: import normkit.cli"] = [python, "-c", "import normkit.cli"]
    return found


def interleaved(
    cmds: dict[str, list[str]], out: Path, runs: int, env: dict[str, str]
) -> dict[str, tuple[float, float]]:
    """Median wall and CPU seconds of each command over ``runs`` rounds, one of each per round (after one round
    to warm up)."""
    times: dict[str, list[tuple[float, float]]] = {label: [] for label in cmds}
    for round_ in range(runs + 1):
        for label, argv in cmds.items():
            shutil.rmtree(out, ignore_errors=True)
            seconds = timed(argv, env)
            if round_:
                times[label].append(seconds)
    return {
        label: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
        for label, values in times.items()
    }


def import_times(env: dict[str, str], module: str = "normkit.cli") -> dict[str, float]:
    """Cumulative import seconds of the modules in ``WATCHED`` that ``import module`` loads."""
    argv = [sys.executable, "-X", "importtime", "-c", f"import {module}"]
    done = subprocess.run(argv, capture_output=True, text=True, check=True, env=env)
    found: dict[str, float] = {}
    for line in done.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[2].strip() in WATCHED and parts[1].strip().isdigit():
            found[parts[2].strip()] = int(parts[1]) / 1e6
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seeds", type=Path, default=ROOT / "seeds")
    parser.add_argument("--no-extra", action="store_true", help="time only (a) and (b)")
    parser.add_argument("--no-bytecode", action="store_true", help="compile every module from source, every run")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        env = environment(None if args.no_bytecode else Path(tmp) / "pycache")
        cmds = commands(args.seeds, out, not args.no_extra)
        medians = interleaved(cmds, out, args.runs, env)
        shutil.rmtree(out, ignore_errors=True)
        timed(cmds["b: normkit run (1 document)"], env)  # once more, for its report
        phases = json.loads((out / "report.json").read_text())["phases"]
        modules = import_times(env)
    bytecode = "compiled from source every run" if args.no_bytecode else "bytecode cached"
    print(f"python {sys.version.split()[0]}; {bytecode}; medians of {args.runs} interleaved runs\n")
    print("| command | seconds | CPU seconds |\n|---|---|---|")
    for label, (seconds, cpu) in medians.items():
        print(f"| {label} | {seconds:.3f} | {cpu:.3f} |")
    floor, run = medians["a: import orjson, pluggy"], medians["b: normkit run (1 document)"]
    print(f"\nratio b/a: {run[0] / floor[0]:.2f} (CPU: {run[1] / floor[1]:.2f})")
    listed = ", ".join(f"{phase} {seconds:.3f}" for phase, seconds in phases.items())
    print(f"run phases (report.json): {listed}; sum {sum(phases.values()):.3f}")
    print("\n| import normkit.cli: module | cumulative seconds |\n|---|---|")
    for module, seconds in sorted(modules.items(), key=lambda item: -item[1]):
        print(f"| {module} | {seconds:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
