"""Benchmark: what schema validation costs per record, next to cleaning the document, and file checking.

    python benchmarks/bench_validation.py [--runs N] [--records N]

Records are the seed article's golden record (~5 KB, 7 edits) and its Dolma, HF and CSV shapes. Each
figure is the median over the runs of the mean µs per call. Lines:

- ``validate <shape>``: ``normkit.validate.iter_violations`` on a valid record, as ``Pipeline.export`` runs
  it (the compiled fastjsonschema check when the schema allows it);
- ``jsonschema only``: the same check with jsonschema's validator alone (the fallback, and what explains a
  failure);
- ``explain invalid``: a record with one bad field, through to the violation (pointer and rule);
- ``clean``: ``normkit.clean`` on the seed article (decode, repair, every stage), per document;
- ``validate file``: ``normkit validate`` on a JSONL file of ``--records`` records, per record.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

import normkit
from normkit import Config, Document, Pipeline
from normkit.checkfiles import FileCheck, Readers
from normkit.registry import Registry
from normkit.validate import compiled, iter_violations, validator_for

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--records", type=int, default=5000)
    args = parser.parse_args(argv)
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
        fast = "fastjsonschema" if compiled(schema).fast else "jsonschema"
        rows[f"validate {schema} ({fast})"] = per_call(
            lambda r=record, s=schema: list(iter_violations(r, s)), 2000, args.runs
        )
    validator = validator_for("document")
    rows["validate document (jsonschema only)"] = per_call(lambda: validator.is_valid(golden), 300, args.runs)
    rows["explain invalid document"] = per_call(lambda: list(iter_violations(invalid, "document")), 300, args.runs)
    rows["clean (normkit.clean, whole pipeline)"] = per_call(lambda: normkit.clean(seed), 100, args.runs)
    check = validate_file(golden, args.records)
    rows["validate file (normkit validate, JSONL)"] = per_call(check, 1, args.runs) / args.records
    for step, micros in rows.items():
        print(f"| {step} | {micros:,.1f} |")
    clean = rows["clean (normkit.clean, whole pipeline)"]
    validate = next(v for k, v in rows.items() if k.startswith("validate document ("))
    alone = rows["validate document (jsonschema only)"]
    print(f"\nvalidation / clean: {validate / clean:.1%} (jsonschema alone: {alone / clean:.1%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
