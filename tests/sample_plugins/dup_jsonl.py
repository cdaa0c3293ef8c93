"""A --plugins-dir plugin that clashes with the builtin jsonl exporter's name."""

from __future__ import annotations

from normkit_plugins.exporter_jsonl import JsonlExporter

from normkit import Register, hookimpl


class AnotherJsonl(JsonlExporter):
    name = "jsonl"


@hookimpl
def normkit_register_exporters(register: Register) -> None:
    register(AnotherJsonl)
