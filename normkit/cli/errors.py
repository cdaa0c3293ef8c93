"""How the command line turns normkit's errors (:mod:`normkit.errors`) into one line on stderr and an exit code."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from normkit.errors import NormkitError, RunInterruptedError

__all__ = ["errors_to_exit_codes"]

F = TypeVar("F", bound=Callable[..., Any])


def errors_to_exit_codes(func: F) -> F:
    """Turn a NormkitError into a one-line message and its exit code, never a traceback; Ctrl-C is exit 130
    with one line too (click's own handling says "Aborted!" and exits 1, the code of rejected documents)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RunInterruptedError as exc:
            click.echo(f"normkit: {exc}", err=True)
            sys.exit(exc.exit_code)
        except NormkitError as exc:
            click.echo(f"normkit: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("normkit: interrupted", err=True)
            sys.exit(RunInterruptedError.exit_code)

    return wrapper  # type: ignore[return-value]
