"""Benchmark: what schema validation costs per record, next to cleaning the document, and file checking.

    python benchmarks/bench_validation.py [--runs N] [--records N] [--folder-records N]

Records are the seed article's golden record (~5 KB, 7 edits) and its Dolma, HF and CSV shapes. Each
figure is the median over the runs of the mean µs per call. Lines:

- ``validate <shape>``: ``normkit.validate.iter_violations`` on a valid record, as ``Pipeline.export`` runs
  it (msgspec's quick yes when the schema allows it);
- ``... without msgspec``: the same with msgspec's quick yes switched off (fastjsonschema answers): what the
  issue's 5% rule weighs msgspec against;
- ``jsonschema only``: the same check with jsonschema's validator alone (the fallback, and what explains a
  failure);
- ``explain invalid``: a record with one bad field, through to the violation (pointer and rule);
- ``clean``: ``normkit.clean`` on the seed article (decode, repair, every stage), per document;
- ``validate file``: ``normkit validate``'s file check on a JSONL file of ``--records`` records, per record;
- ``normkit validate (folder)``: the command itself, as a subprocess, on an output folder of
  ``--folder-records`` records (``documents.jsonl``, ``rejects.jsonl``, ``report.json``), in records a second,
  with and without msgspec (``NORMKIT_BENCH_NO_MSGSPEC``, read by this script's ``--child`` only).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

import normkit
import normkit.validate
from normkit import Config, Document, Pipeline
from normkit.checkfiles import FileCheck, Readers
from normkit.registry import Registry
from normkit.validate import CompiledSchema, compiled, iter_violations, validator_for

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "data" / "seed.golden.json"
SEED = ROOT / "seeds" / "000_d44c365b91d9de36.txt"


def per_call(func: Callable[[], Any], calls: int, runs: int) -> float:
    """Median over ``runs`` of the mean µs per call of ``func``."""
    results = []
    for _ in range(runs):
        started = time.perf_counter()
        for _ in range(calls):
            func()
        results.append((time.perf_counter() - started) / calls * 1e6)
    return statistics.median(results)


def shaped_records(doc: Document) -> dict[str, dict[str, Any]]:
    """The seed's record in every shape, as the exporters make it."""
    shapes = {"document": "jsonl", "dolma": "dolma", "hf": "hf", "csv": "csv"}
    return {
        schema: Pipeline(Config.from_mapping({"output": {"format": fmt}})).exporter.to_record(doc)
        for schema, fmt in shapes.items()
    }


def validate_file(record: dict[str, Any], records: int) -> Callable[[], None]:
    folder = Path(tempfile.mkdtemp())
    path = folder / "documents.jsonl"
    path.write_bytes(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE) * records)

    readers = Readers(Registry.from_plugin_manager(normkit.get_plugin_manager()))

    def check() -> None:
        assert not list(FileCheck(str(path), readers).problems())

    return check


@contextlib.contextmanager
def without_msgspec() -> Iterator[None]:
    """Every schema compiled anew with msgspec's quick yes switched off, for as long as the block runs."""
    original = normkit.validate.quick_check
    normkit.validate.quick_check = lambda schema: None
    compiled.cache_clear()
    try:
        yield
    finally:
        normkit.validate.quick_check = original
        compiled.cache_clear()


def output_folder(golden: dict[str, Any], records: int) -> Path:
    """An output folder as ``normkit run`` leaves it, with ``records`` copies of the seed's record."""
    folder = Path(tempfile.mkdtemp()) / "out"
    subprocess.run(
        [sys.executable, "-m", "normkit", "run", str(SEED.parent), "-o", str(folder), "-q"], check=True, cwd=ROOT
    )
    line = orjson.dumps(golden, option=orjson.OPT_APPEND_NEWLINE)
    (folder / "documents.jsonl").write_bytes(line * records)
    shutil.rmtree(folder / ".normkit")
    return folder


def validate_folder(folder: Path, records: int, runs: int, msgspec: bool) -> float:
    """Records a second of ``normkit validate FOLDER`` (the whole command, start-up included): median of runs."""
    env = {**os.environ, "NORMKIT_BENCH_NO_MSGSPEC": "" if msgspec else "1"}
    argv = [sys.executable, __file__, "--child", str(folder)]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return records / statistics.median(times)


def child(folder: str) -> int:
    """``normkit validate FOLDER`` in this process, msgspec off when the parent says so."""
    from normkit.cli import cli

    with without_msgspec() if os.environ.get("NORMKIT_BENCH_NO_MSGSPEC") else contextlib.nullcontext():
        cli.main(["validate", folder], standalone_mode=False)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--folder-records", type=int, default=50000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child)
    golden = json.loads(GOLDEN.read_text())
    records = shaped_records(Document.from_dict(golden))
    invalid = {**golden, "edits": [*golden["edits"][:-1], {**golden["edits"][-1], "line": "22"}]}
    seed = SEED.read_bytes()
    normkit.clean(seed)  # build the pipeline once, as a batch does

    print(f"record: {len(orjson.dumps(golden))} bytes, {len(golden['edits'])} edits; runs {args.runs}\n")
    print("| step | µs per record |\n|---|---|")
    rows: dict[str, float] = {}
    for schema, record in records.items():
        assert not list(iter_violations(record, schema)), schema
        quick = "msgspec" if compiled(schema).quick else "fastjsonschema" if compiled(schema).fast else "jsonschema"
        rows[f"validate {schema} ({quick})"] = per_call(
            lambda r=record, s=schema: list(iter_violations(r, s)), 2000, args.runs
        )
        slow = CompiledSchema(schema, validator_for(schema), compiled(schema).fast, None)
        rows[f"validate {schema} without msgspec"] = per_call(
            lambda r=record, c=slow: list(c.violations(r)), 2000, args.runs
        )
    validator = validator_for("document")
    rows["validate document (jsonschema only)"] = per_call(lambda: validator.is_valid(golden), 300, args.runs)
    rows["explain invalid document"] = per_call(lambda: list(iter_violations(invalid, "document")), 300, args.runs)
    rows["clean (normkit.clean, whole pipeline)"] = per_call(lambda: normkit.clean(seed), 100, args.runs)
    check = validate_file(golden, args.records)
    rows["validate file (normkit validate, JSONL)"] = per_call(check, 1, args.runs) / args.records
    with without_msgspec():
        rows["validate file without msgspec"] = per_call(check, 1, args.runs) / args.records
    for step, micros in rows.items():
        print(f"| {step} | {micros:,.1f} |")
    clean = rows["clean (normkit.clean, whole pipeline)"]
    validate = next(v for k, v in rows.items() if k.startswith("validate document ("))
    alone = rows["validate document (jsonschema only)"]
    print(f"\nvalidation / clean: {validate / clean:.1%} (jsonschema alone: {alone / clean:.1%})")
    folder = output_folder(golden, args.folder_records)
    with_msgspec = validate_folder(folder, args.folder_records, args.runs, msgspec=True)
    without = validate_folder(folder, args.folder_records, args.runs, msgspec=False)
    print(f"\nnormkit validate (folder of {args.folder_records:,} records, whole command), records/s:")
    print(f"  with msgspec {with_msgspec:,.0f}; without {without:,.0f}; gain {with_msgspec / without - 1:.1%}")
    shutil.rmtree(folder.parent)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
