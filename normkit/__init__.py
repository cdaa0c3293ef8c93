"""normkit: turn messy documents into clean, validated records, with every step a plugin.

The public API: the document model, the base classes and ``hookimpl`` for plugins, and the functions
``clean`` (one document), ``decode`` (bytes -> text) and ``repair`` (text -> text); ``Pipeline`` and
``run_batch`` for batches.

Everything a plugin may use is exported here (``tests/test_public_api.py`` checks that ``normkit_plugins``
imports nothing else from normkit): the other modules are the engine's and may change without notice.
"""

from __future__ import annotations

import pluggy

hookimpl = pluggy.HookimplMarker("normkit")

# Imported after hookimpl: first-party plugins import it from here while the package initialises.
from normkit.api import DocumentRejected, clean  # noqa: E402
from normkit.batch import BatchResult, run_batch  # noqa: E402
from normkit.components import (  # noqa: E402
    Context,
    Exporter,
    Learner,
    Loader,
    Profile,
    ReadRecord,
    RecordWriter,
    Register,
    SchemaFile,
    Stage,
    option,
    options_from,
    options_schema,
)
from normkit.config import Config, load_config  # noqa: E402
from normkit.document import Document, Edit, Flag, Origin, Reject, line_edits, stable_id  # noqa: E402
from normkit.errors import ConfigError, NormkitError, PluginError, RejectDocument, SchemaError  # noqa: E402
from normkit.executors import Executor, Outcome, Task, WorkerLostError  # noqa: E402
from normkit.pipeline import Pipeline  # noqa: E402
from normkit.plugins import PluginSpec, get_plugin_manager  # noqa: E402
from normkit.review import write_review  # noqa: E402
from normkit.text.decoding import BinaryInputError, Decoded, DecodeOptions, decode  # noqa: E402
from normkit.text.repairing import RepairOptions, repair, repair_explained  # noqa: E402
from normkit.validate import load_schema, schema_error  # noqa: E402
from normkit.writers import FolderWriter, atomic_file, encode_record, safe_filename  # noqa: E402

__all__ = [
    "BatchResult",
    "BinaryInputError",
    "Config",
    "ConfigError",
    "Context",
    "DecodeOptions",
    "Decoded",
    "Document",
    "DocumentRejected",
    "Edit",
    "Executor",
    "Exporter",
    "Flag",
    "FolderWriter",
    "Learner",
    "Loader",
    "NormkitError",
    "Origin",
    "Outcome",
    "Pipeline",
    "PluginError",
    "PluginSpec",
    "Profile",
    "ReadRecord",
    "RecordWriter",
    "Register",
    "Reject",
    "RejectDocument",
    "RepairOptions",
    "SchemaError",
    "SchemaFile",
    "Stage",
    "Task",
    "WorkerLostError",
    "atomic_file",
    "clean",
    "decode",
    "encode_record",
    "get_plugin_manager",
    "hookimpl",
    "line_edits",
    "load_config",
    "load_schema",
    "option",
    "options_from",
    "options_schema",
    "repair",
    "repair_explained",
    "run_batch",
    "safe_filename",
    "schema_error",
    "stable_id",
    "write_review",
]
