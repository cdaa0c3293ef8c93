"""The ``hf`` exporter: JSON Lines in the shape Hugging Face datasets and datatrove read (text, id, metadata).

The same records as ``jsonl`` with ``shape = "hf"``, under a name ``--format`` can take. The shape has no title
field: a title taken from the first line of a plain text file goes back in ``text`` unless the ``title`` option
says ``"metadata"`` or ``"drop"``.
"""

from __future__ import annotations

from normkit import Exporter, Register, hookimpl

from ._record_shapes import exporter_options
from .exporter_jsonl import JsonlExporter


class HfExporter(JsonlExporter):
    name = "hf"
    default_shape = "hf"
    options_schema = exporter_options("edits", "flags", "title")


@hookimpl
def normkit_register_exporters(register: Register[type[Exporter]]) -> None:
    register(HfExporter)
