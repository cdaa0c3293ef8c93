"""The exceptions normkit raises, each carrying what a user needs to find the cause."""

from __future__ import annotations

__all__ = [
    "AccountingError",
    "ConfigError",
    "DiskFullError",
    "DuplicateComponentError",
    "LearningIncompleteError",
    "NormkitError",
    "PluginError",
    "RejectDocument",
    "RunInterruptedError",
    "SchemaError",
    "WorkFolderError",
]


class NormkitError(Exception):
    """Base class; the CLI prints ``str(error)`` on one line and exits with ``exit_code``."""

    exit_code = 2


class AccountingError(NormkitError):
    """A run read more or fewer documents than it wrote and rejected: a bug to report, never a result to trust.

    A real exception, not an ``assert``: ``python -O`` must not turn lost documents into a quiet success.
    """

    exit_code = 3


class DiskFullError(NormkitError):
    """The output's disk (or quota) is full. Never charged to documents as rejects: the run stops, what was
    committed stays, and running the same command again (with room) resumes where it stopped."""

    exit_code = 4


class WorkFolderError(NormkitError):
    """A task may not write in the run's work folder (a worker of another user, a read-only mount). Like a
    full disk, never charged to documents: the run stops in one line, and the same command resumes once the
    workers may write there."""


class LearningIncompleteError(NormkitError):
    """The learning pass could not observe every part, even after retries. Cleaning with a state that has
    holes would give output an uninterrupted run would not, so the run stops instead."""

    exit_code = 5


class RunInterruptedError(NormkitError):
    """Ctrl-C (SIGINT) stopped the command. 130 is the shell's convention for a command that
    SIGINT stopped (128 + 2), so a script can tell an interruption from a failure."""

    exit_code = 130


class ConfigError(NormkitError):
    """The configuration (file or options) is invalid; the message names the key or rule."""


class SchemaError(NormkitError):
    """A JSON Schema is missing, invalid, or refers outside normkit's own schemas."""


class DuplicateComponentError(NormkitError):
    """Two plugins registered a component of the same kind under the same name."""

    def __init__(self, kind: str, name: str, first: str, second: str) -> None:
        super().__init__(
            f"{kind} {name!r} is registered by both plugin {first!r} and plugin {second!r}; "
            f"disable one with --disable-plugin"
        )
        self.kind, self.name, self.first, self.second = kind, name, first, second


class PluginError(NormkitError):
    """A plugin failed to load or to run; names the plugin and the hook (or stage)."""

    def __init__(self, message: str, *, plugin: str | None = None, hook: str | None = None) -> None:
        who = "/".join(p for p in (plugin, hook) if p)
        super().__init__(f"[{who}] {message}" if who else message)
        self.plugin, self.hook = plugin, hook


class RejectDocument(Exception):  # noqa: N818 - a signal raised by stages, not an error of normkit's
    """Raised by a stage or loader to send the current document to the rejects with ``reason``.

    Anything else a stage raises is also a rejection, but reported as a plugin failure.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
