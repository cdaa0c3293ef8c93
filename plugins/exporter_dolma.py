"""The ``dolma`` exporter: JSON Lines in the Dolma format (id, text, source, added, created, metadata).

The same records as ``jsonl`` with ``shape = "dolma"``, under a name ``--format`` can take; Dolma reads
``.jsonl.gz`` (compression is the engine's). Dolma has no title field: a title taken from the first line of
a plain text file goes back in ``text`` unless the ``title`` option says ``"metadata"`` or ``"drop"``.
"""

from __future__ import annotations

from normkit import Exporter, Register, hookimpl

from ._record_shapes import exporter_options
from .exporter_jsonl import JsonlExporter


class DolmaExporter(JsonlExporter):
    name = "dolma"
    default_shape = "dolma"
    options_schema = exporter_options("edits", "flags", "added", "title")


@hookimpl
def normkit_register_exporters(register: Register[type[Exporter]]) -> None:
    register(DolmaExporter)
