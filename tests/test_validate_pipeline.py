"""An exporter cannot emit invalid output: a bad record becomes a reject with pointer and rule, never a line.

This module is itself the deliberately broken exporter plugin, registered by the tests below.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson
from normkit_plugins.exporter_jsonl import JsonlExporter

from normkit import Config, Document, Pipeline, PluginSpec, Register, Reject, hookimpl, run_batch
from normkit.testing import registered


class BrokenExporter(JsonlExporter):
    """Its records break the document schema: text is a number."""

    name = "broken"

    def to_record(self, doc: Document) -> dict[str, Any]:
        return {**super().to_record(doc), "text": len(doc.text)}


@hookimpl
def normkit_register_exporters(register: Register) -> None:
    register(BrokenExporter)


CONFIG = Config.from_mapping({"output": {"format": "broken"}})


def test_pipeline_export_rejects_with_pointer_and_rule(normkit_pm: Any) -> None:
    with registered(normkit_pm, sys.modules[__name__], name="broken_plugin"):
        reject = Pipeline(CONFIG, pm=normkit_pm).export(Document(id="d1", text="hello"))
    assert isinstance(reject, Reject)
    assert reject.reason == "schema document: /text: 5 is not of type 'string' (type)"
    assert (reject.doc_id, reject.plugin, reject.hook) == ("d1", "broken_plugin", "to_record")


def test_a_run_sends_the_invalid_record_to_rejects_and_writes_nothing(tmp_path: Path, seed_dir: Path) -> None:
    out = tmp_path / "out"
    result = run_batch([str(seed_dir)], str(out), CONFIG, PluginSpec(load_entrypoints=False, extra=(__name__,)))
    assert result.exit_code == 1
    assert (out / "documents.jsonl").read_bytes() == b""
    (reject,) = [orjson.loads(line) for line in (out / "rejects.jsonl").read_bytes().splitlines()]
    assert reject["reason"].startswith("schema document: /text: ")
    assert reject["reason"].endswith("is not of type 'string' (type)")
    assert (reject["plugin"], reject["hook"]) == (__name__, "to_record")
