"""``normkit run``: a batch from the command line, with a progress bar on a terminal and a summary."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from normkit.batch import BatchResult, run_batch
from normkit.cli.errors import errors_to_exit_codes
from normkit.config import Config, load_config
from normkit.inputs import check_inputs
from normkit.plugins import plugin_options, plugin_spec

__all__ = ["run"]

stderr = Console(stderr=True)

_SIZE_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}


def _size(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    """``64MB``, ``1GiB`` or a number of bytes."""
    if value is None:
        return None
    text = value.strip().upper().replace(" ", "")
    digits = text.rstrip("KMGIB")
    try:
        size = int(float(digits) * _SIZE_UNITS[text[len(digits) :]])
    except (KeyError, ValueError):
        raise click.BadParameter(f"{value!r} is not a size such as 64MB, 1GiB or 1000000") from None
    if size < 1:
        raise click.BadParameter("must be at least one byte")
    return size


@click.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", required=True, help="Output folder, or - for stdout.")
@click.option("--format", "fmt", help="Exporter to write with (default: jsonl).")
@click.option(
    "--input-format",
    metavar="auto|text|jsonl|LOADER",
    help="How inputs are read ([input] loader): auto (default) by suffix and content, text (a file is one "
    "document), jsonl (a line is one), or a plugin's loader.",
)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Configuration file.")
@click.option("--workers", type=click.IntRange(min=0), help="Worker processes (default, or 0: one per core).")
@click.option("--executor", help="How shards run: pool (default), inprocess, dask, or a plugin's executor.")
@click.option("--scheduler", metavar="ADDRESS", help="Dask scheduler address; without it a LocalCluster starts.")
@click.option(
    "--shard-size", callback=_size, metavar="SIZE", help="Input bytes per shard, e.g. 64MB (default: about 64 shards)."
)
@click.option(
    "--retries", type=click.IntRange(min=0), help="Retries of a document that fails a worker before rejecting it (2)."
)
@click.option(
    "--task-timeout",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="Time budget of a shard's task (600; 0: none); past it the worker is stopped and the failure narrowed down.",
)
@click.option("--resume/--no-resume", default=None, help="Skip shards a previous run finished (default: resume).")
@click.option("--fail-fast", is_flag=True, default=None, help="Stop at the first rejected document.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
@plugin_options
@errors_to_exit_codes
def run(
    inputs: tuple[str, ...],
    output: str,
    fmt: str | None,
    input_format: str | None,
    config_path: str | None,
    quiet: bool,
    plugins_dirs: tuple[str, ...],
    disabled: tuple[str, ...],
    **run_options: Any,
) -> None:
    """Clean INPUTS (files, folders, - for stdin; .gz/.zst too) into OUTPUT.

    Writes documents.<format>, rejects.jsonl and report.json in the OUTPUT folder; finished shards are kept
    in OUTPUT/.normkit so that running the same command again resumes where it stopped.
    """
    config = _with_input_format(load_config(config_path), input_format)
    # nothing to read is a usage error before the output folder is touched (run_batch checks it too)
    check_inputs(inputs, config.input.get("include", ()), config.input.get("exclude", ()))
    scheduler = run_options.pop("scheduler")
    if scheduler is not None and (run_options.get("executor") or config.run.get("executor")) != "dask":
        raise click.UsageError("--scheduler is the Dask executor's: add --executor dask")
    executors = _with_scheduler(config, scheduler)
    config = config.with_overrides(output={"format": fmt}, run={**run_options, "executors": executors})
    spec = plugin_spec(config, plugins_dirs, disabled)
    with _progress(quiet) as bar:
        result = run_batch(inputs, output, config, spec, progress=bar)
    if not quiet:
        _print_summary(result)
    sys.exit(result.exit_code)


def _with_input_format(config: Config, input_format: str | None) -> Config:
    """``--input-format`` as ``[input] loader``; ``auto`` removes the key (by suffix, and by content for stdin
    and ``.json`` files). An unknown loader name is the pipeline's one-line error."""
    if input_format is None:
        return config
    data = config.to_mapping()
    table = {key: value for key, value in data.get("input", {}).items() if key != "loader"}
    if input_format != "auto":
        table["loader"] = input_format
    return Config.from_mapping({**data, "input": table}, config.path)


def _with_scheduler(config: Config, scheduler: str | None) -> dict[str, Any] | None:
    """The ``[run.executors]`` tables with ``--scheduler`` as the Dask executor's ``scheduler`` (None: as they are)."""
    if scheduler is None:
        return None
    executors = dict(config.run.get("executors", {}))
    return {**executors, "dask": {**executors.get("dask", {}), "scheduler": scheduler}}


@contextmanager
def _progress(quiet: bool) -> Iterator[_Bar | None]:
    """A live bar on a terminal (documents, MB/s, ETA from the input bytes known up front); nothing otherwise."""
    if quiet or not stderr.is_terminal:
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[docs]} docs {task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=stderr) as progress:
        yield _Bar(progress)


class _Bar:
    """Feeds the batch's progress (each finished shard) to a rich bar, one bar per pass."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None
        self.docs = 0

    def begin(self, phase: str, total_bytes: int) -> None:
        if self.task is not None:
            self.progress.stop_task(self.task)
        self.docs = 0
        self.task = self.progress.add_task(phase, total=total_bytes or None, docs=0, rate="")

    def advance(self, documents: int, size: int) -> None:
        if self.task is None:
            return
        self.docs += documents
        self.progress.update(self.task, advance=size, docs=self.docs)
        task = self.progress.tasks[self.task]
        if task.elapsed:
            rate = f"({self.docs / task.elapsed:.0f} docs/s, {task.completed / 1e6 / task.elapsed:.1f} MB/s)"
            self.progress.update(self.task, rate=rate)


def _print_summary(result: BatchResult) -> None:
    docs = result.report["documents"]
    stderr.print(
        f"read {docs['read']}, written {docs['written']}, rejected {docs['rejected']}, "
        f"flagged {docs['flagged']} in {result.seconds:.2f}s "
        f"({result.report['mb_per_second']:.1f} MB/s, executor {result.report['executor']}, "
        f"{result.report['workers']} workers)"
    )
    shards = result.report["shards"]
    if shards["skipped"] or shards["retried"] or shards["failed"]:
        stderr.print(
            f"shards: {shards['done']} done, {shards['skipped']} skipped (finished before), "
            f"{shards['retried']} retried, {shards['failed']} failed"
        )
    table = Table("stage", "documents changed", "characters removed", box=None)
    for name, stage in result.report["stages"].items():
        table.add_row(name, str(stage["documents_changed"]), str(stage["chars_removed"]))
    stderr.print(table)
