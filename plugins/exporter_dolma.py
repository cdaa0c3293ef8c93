"""The ``dolma`` exporter: JSON Lines in the Dolma format (id, text, source, added, created, metadata).

The same records as ``jsonl`` with ``shape = "dolma"``, under a name ``--format`` can take; Dolma reads
``.jsonl.gz`` (compression is the engine's).
"""

from __future__ import annotations

from normkit_plugins.exporter_jsonl import JsonlExporter

from normkit import Register, hookimpl
from normkit.exporting import exporter_options


class DolmaExporter(JsonlExporter):
    name = "dolma"
    default_shape = "dolma"
    options_schema = exporter_options("edits", "flags", "added")


@hookimpl
def normkit_register_exporters(register: Register) -> None:
    register(DolmaExporter)
