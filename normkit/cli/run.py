"""``normkit run``: a batch from the command line, with a progress bar on a terminal and a summary."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

import click

from normkit.batch import BatchResult, run_batch
from normkit.batch.report import Progress as RunProgress
from normkit.batch.report import warn
from normkit.batch.tasks import SHOWN_PER_GROUP
from normkit.cli.errors import errors_to_exit_codes
from normkit.config import Config, load_config
from normkit.errors import NormkitError
from normkit.inputs import check_inputs
from normkit.plugins import get_plugin_manager, plugin_options, plugin_spec
from normkit.registry import Registry

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

__all__ = ["run"]


@cache
def _stderr() -> Console:
    """The console of the bar and the summary, made (and rich imported) only when one is shown: ``-q`` needs none."""
    from rich.console import Console

    return Console(stderr=True)


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


class _ComponentOption(click.Option):
    """An option naming a component (``--format``, ``--executor``) whose ``--help`` lists the installed ones,
    plugins' included: asked for only when help is shown, so a run pays nothing for it."""

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        record = super().get_help_record(ctx)
        if record is None:
            return None
        try:
            names = Registry.from_plugin_manager(get_plugin_manager()).names(self.kind)
        except NormkitError:  # a broken plugin: help still shows, without the list
            return record
        return record[0], f"{record[1]} Installed: {', '.join(names)}."


@click.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", required=True, help="Output folder, - for stdout, or a URL (s3://bucket/out/).")
@click.option(
    "--work-dir", type=click.Path(file_okay=False), help="With an output URL: the local staging folder (resume)."
)
@click.option("--format", "fmt", cls=_ComponentOption, kind="exporter", help="Exporter to write with (default: jsonl).")
@click.option(
    "--input-format",
    metavar="auto|text|jsonl|LOADER",
    help="How inputs are read ([input] loader): auto (default) by suffix and content, text (a file is one "
    "document), jsonl (a line is one), or a plugin's loader.",
)
@click.option(
    "--shards",
    "layout",
    flag_value="shards",
    default=None,
    help='Write documents/00000.jsonl.zst, one compressed file per part ([output] layout = "shards").',
)
@click.option(
    "--compression", type=click.Choice(["zst", "gz", "none"]), help="How shards are compressed (default: zst)."
)
@click.option(
    "--annotate",
    is_flag=True,
    default=None,
    help="Keep the text as it arrived; write the spans each stage would remove to attributes/normkit/ (Dolma).",
)
@click.option(
    "--max-file-size", "max_file_bytes", callback=_size, metavar="SIZE", help="Shards: a next file past SIZE (1GB)."
)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Configuration file.")
@click.option("--workers", type=click.IntRange(min=0), help="Worker processes (default, or 0: one per core).")
@click.option(
    "--executor", cls=_ComponentOption, kind="executor", help="How shards run (default: pool; stdin: inprocess)."
)
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
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    metavar="N",
    help="Read only the first N inputs, in input order: a quick look.",
)
@click.option(
    "--rejects",
    "rejects_file",
    type=click.Path(dir_okay=False),
    help="With -o -: write every reject to FILE too (stderr shows a few of each kind, then counts).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
@click.option(
    "--progress-interval",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    envvar="NORMKIT_PROGRESS_INTERVAL",
    help="Off a terminal (a CI or job log): a progress line every SECONDS (0: none).",
)
@plugin_options
@errors_to_exit_codes
def run(
    inputs: tuple[str, ...],
    output: str,
    work_dir: str | None,
    fmt: str | None,
    input_format: str | None,
    layout: str | None,
    compression: str | None,
    annotate: bool | None,
    max_file_bytes: int | None,
    config_path: str | None,
    limit: int | None,
    rejects_file: str | None,
    quiet: bool,
    progress_interval: float,
    plugins_dirs: tuple[str, ...],
    disabled: tuple[str, ...],
    **run_options: Any,
) -> None:
    """Clean INPUTS (files, folders, - for stdin; .gz/.zst/.bz2 too; WET, Parquet) into OUTPUT.

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
    config = config.with_overrides(
        input={"limit": limit},
        output={
            "format": fmt,
            "rejects": rejects_file,
            "layout": layout,
            "compression": compression,
            "annotate": annotate,
            "max_file_bytes": max_file_bytes,
        },
        run={**run_options, "executors": executors, "work_dir": work_dir},
    )
    spec = plugin_spec(config, plugins_dirs, disabled)
    with _progress(quiet, progress_interval) as bar:
        result = run_batch(inputs, output, config, spec, progress=bar)
    if not quiet:
        _print_summary(result)
    _print_reject_kinds(result, output, rejects_file)
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
def _progress(quiet: bool, interval: float) -> Iterator[RunProgress | None]:
    """A live bar on a terminal (documents, MB/s, ETA from the input bytes known up front); off one, a line
    every ``interval`` seconds, so that a CI log or a cluster job's log shows a long run moving."""
    if quiet:
        yield None
        return
    stderr = _stderr()
    if not stderr.is_terminal and not interval:
        yield None
        return
    if not stderr.is_terminal:
        with ProgressLines(interval) as lines:
            yield lines
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[docs]} docs {task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    bar = _Bar(Progress(*columns, console=stderr))
    try:
        yield bar
    finally:
        bar.stop()


class ProgressLines:
    """Progress off a terminal: a line every ``interval`` seconds from a timer thread, also while one long
    part runs; a run shorter than that prints none. A context manager: the thread stops with it. The thread
    starts with the first pass, after the pool's workers are forked (see ``normkit_plugins.executor_pool``)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._tick, name="normkit-progress", daemon=True)
        self.phase, self.total, self.done, self.docs, self.started = "", 0, 0, 0, time.monotonic()

    def __enter__(self) -> ProgressLines:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join()

    def begin(self, phase: str, total_bytes: int) -> None:
        if not self.thread.is_alive() and not self.stopped.is_set():
            self.thread.start()
        with self.lock:
            self.phase, self.total, self.done, self.docs, self.started = phase, total_bytes, 0, 0, time.monotonic()

    def advance(self, documents: int, size: int) -> None:
        with self.lock:
            self.docs += documents
            self.done += size

    def line(self) -> str:
        with self.lock:
            elapsed = max(time.monotonic() - self.started, 1e-9)
            share = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
            return (
                f"{self.phase}: {self.done / 1e6:,.1f} of {self.total / 1e6:,.1f} MB{share}, {self.docs:,} documents, "
                f"{self.docs / elapsed:,.0f} docs/s, {elapsed:,.0f} s"
            )

    def _tick(self) -> None:
        while not self.stopped.wait(self.interval):
            if self.phase:
                warn(self.line())


class _Bar:
    """Feeds the batch's progress (each finished shard) to a rich bar, one bar per pass."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None
        self.docs = 0

    def begin(self, phase: str, total_bytes: int) -> None:
        """The bar's refresh thread starts with the first pass, after the pool's workers are forked."""
        if self.task is None:
            self.progress.start()
        else:
            self.progress.stop_task(self.task)
        self.docs = 0
        self.task = self.progress.add_task(phase, total=total_bytes or None, docs=0, rate="")

    def stop(self) -> None:
        if self.task is not None:
            self.progress.stop()

    def advance(self, documents: int, size: int) -> None:
        if self.task is None:
            return
        self.docs += documents
        self.progress.update(self.task, advance=size, docs=self.docs)
        task = self.progress.tasks[self.task]
        if task.elapsed:
            rate = f"({self.docs / task.elapsed:.0f} docs/s, {task.completed / 1e6 / task.elapsed:.1f} MB/s)"
            self.progress.update(self.task, rate=rate)


def _print_reject_kinds(result: BatchResult, output: str, rejects_file: str | None) -> None:
    """Each kind of reject that stderr showed only a few of, counted: a systematic error is one line
    ("1,905 rejects: [loader_jsonl/load] ... no field 'body'"), not one per record."""
    where = rejects_file or (None if output == "-" else f"{output.rstrip('/')}/rejects.jsonl")
    for group in result.report.get("reject_groups", []):
        if group["count"] > SHOWN_PER_GROUP:
            kept = f"all in {where}" if where else "--rejects FILE keeps them all"
            warn(f"{group['count']:,} rejects: {group['reason']} (the first {SHOWN_PER_GROUP} shown; {kept})")


def _print_summary(result: BatchResult) -> None:
    from rich.table import Table

    stderr = _stderr()
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
