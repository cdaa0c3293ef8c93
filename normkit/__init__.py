"""normkit: turn messy documents into clean, validated records, with every step a plugin.

The public API: the document model, the base classes and ``hookimpl`` for plugins, and the functions
``clean`` (one document), ``decode`` (bytes -> text) and ``repair`` (text -> text); ``Pipeline`` and
``run_batch`` for batches.
"""

from __future__ import annotations

import pluggy

hookimpl = pluggy.HookimplMarker("normkit")

# Imported after hookimpl: first-party plugins import it from here while the package initialises.
from normkit.api import DocumentRejected, clean  # noqa: E402
from normkit.batch import BatchResult, run_batch  # noqa: E402
from normkit.components import Context, Exporter, Loader, Profile, RecordWriter, Register, Stage  # noqa: E402
from normkit.config import Config, load_config  # noqa: E402
from normkit.document import Document, Edit, Flag, Origin, Reject  # noqa: E402
from normkit.errors import ConfigError, NormkitError, PluginError, RejectDocument  # noqa: E402
from normkit.pipeline import Pipeline  # noqa: E402
from normkit.plugins import PluginSpec, get_plugin_manager  # noqa: E402
from normkit.text.decoding import BinaryInputError, Decoded, DecodeOptions, decode  # noqa: E402
from normkit.text.repairing import RepairOptions, repair  # noqa: E402

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
    "Exporter",
    "Flag",
    "Loader",
    "NormkitError",
    "Origin",
    "Pipeline",
    "PluginError",
    "PluginSpec",
    "Profile",
    "RecordWriter",
    "Register",
    "Reject",
    "RejectDocument",
    "RepairOptions",
    "Stage",
    "clean",
    "decode",
    "get_plugin_manager",
    "hookimpl",
    "load_config",
    "repair",
    "run_batch",
]
