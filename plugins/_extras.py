"""Importing what an optional extra installs (pyarrow, fastwarc): once, when a component first needs it, with
a one-line error naming the extra when it is missing.

Components are built while a run plans (loaders for each kind of input, the exporter), so a missing extra
stops the run before anything is written, exit 2, rather than fail in every worker.
"""

from __future__ import annotations

import importlib
from typing import Any

from normkit import ConfigError

__all__ = ["import_extra"]


def import_extra(module: str, extra: str, needed_for: str) -> Any:
    """``module``, or a :class:`~normkit.ConfigError`: "``needed_for`` needs ..., pip install 'normkit[extra]'"."""
    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.split(".")[0]
        raise ConfigError(
            f"{needed_for} needs {package}, which is not installed: pip install 'normkit[{extra}]'"
        ) from None
