"""Fault injection on the output folder, issue 12: the folder is untrusted ground, and a fault costs no document.

Each attack runs the real command (``normkit run`` in-process through click, or as a subprocess where a
process must die), then checks what the issue promises: a link where normkit writes is a one-line error
before anything is written and its target is untouched; hostile state is read as data and believed only
under the run's key; a killed assembly leaves nothing that survives the next run; a full disk is exit 4
with no traceback and no report, and the next run completes. Where a run completes, ``read = written +
rejected`` (report.json ``documents``) and the files equal those of an undisturbed run, byte for byte.
"""

from __future__ import annotations

import errno
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from normkit.cli import cli

# -- the input: harbour news, with the site furniture the boilerplate stage learns --------------------------

TOWNS = ["Kirkwall", "Stromness", "Lerwick", "Scalloway"]
EVENTS = [
    "The evening ferry was held for an hour while the swell eased past the breakwater.",
    "Fishermen landed a record catch of mackerel before the storm warning was lifted.",
    "The harbour master asked owners to double the lines on boats moored along the east pier.",
    "A new pontoon for visiting yachts opens in June, with power and fresh water on every berth.",
    "Divers inspected the old slipway and found the timbers sound after a century of tides.",
]


def write_news(folder: Path, files: int = 3, docs: int = 6) -> list[str]:
    """JSON Lines news pages from a few towns; every page carries the same menu and footer lines."""
    folder.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        lines = []
        for d in range(docs):
            town, event = TOWNS[(f + d) % len(TOWNS)], EVENTS[(f * docs + d) % len(EVENTS)]
            text = (
                f"Home | News | Tides | Contact\n{town}: {event}\n"
                f"Reporters in {town} said the day ended calm, with {d + 3} boats still out at dusk.\n"
                "Share this story\nCopyright Island Harbour News"
            )
            lines.append(orjson.dumps({"id": f"news-{f}-{d}", "title": f"{town} harbour, day {d + 1}", "text": text}))
        (folder / f"news-{f}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    return [str(folder)]


def run(inputs: list[str], out: Path, *extra: str) -> tuple[int, str]:
    """``normkit run`` in this process (so monkeypatches apply), one process, small shards: several parts."""
    args = ["run", *inputs, "-o", str(out), "-q", "--shard-size", "1KB", "--executor", "inprocess", *extra]
    result = CliRunner().invoke(cli, args)
    return result.exit_code, result.stderr


def report(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads((out / "report.json").read_bytes())
    return data


def balanced(out: Path) -> dict[str, int]:
    """The report's document counts, after checking that every document read was written or rejected."""
    docs: dict[str, int] = report(out)["documents"]
    assert docs["read"] == docs["written"] + docs["rejected"], docs
    return docs


def outputs(out: Path) -> dict[str, bytes]:
    """The files a run leaves for its user (not the work folder), by name; a per-document folder by page."""
    found = {}
    for path in sorted(out.rglob("*")):
        relative = path.relative_to(out).as_posix()
        if relative.startswith(".normkit") or relative == "report.json" or path.is_dir():
            continue
        found[relative] = path.read_bytes()
    return found


def snapshot(folder: Path) -> dict[str, Any]:
    """Everything under ``folder`` without following links: contents of files, targets of links, mtimes."""
    if not folder.exists() and not folder.is_symlink():
        return {}
    found: dict[str, Any] = {}
    for root, dirs, names in os.walk(folder):
        for name in [*dirs, *names]:
            path = Path(root) / name
            key = path.relative_to(folder).as_posix()
            if path.is_symlink():
                found[key] = ("link", os.readlink(path))
            elif path.is_file():
                found[key] = ("file", path.read_bytes(), path.stat().st_mtime_ns)
            else:
                found[key] = ("dir",)
    return found


@pytest.fixture
def news(tmp_path: Path) -> list[str]:
    return write_news(tmp_path / "in")


@pytest.fixture
def reference(tmp_path: Path, news: list[str]) -> dict[str, dict[str, bytes]]:
    """Undisturbed runs' files, by format, made on first use."""
    made: dict[str, dict[str, bytes]] = {}

    class Made(dict):  # type: ignore[type-arg]
        def __missing__(self, fmt: str) -> dict[str, bytes]:
            out = tmp_path / f"reference-{fmt}"
            code, err = run(news, out, "--format", fmt)
            assert code == 0, err
            balanced(out)
            self[fmt] = outputs(out)
            return self[fmt]

    return Made(made)


# -- 1. symbolic links inside the output folder ------------------------------------------------------------------


def _victim(tmp_path: Path) -> Path:
    """Someone else's folder a planted link points into."""
    victim = tmp_path / "someone-else"
    victim.mkdir()
    (victim / "thesis.tex").write_text("\\chapter{Tides}\nSix months of work.\n")
    (victim / "notes.txt").write_text("Buy rope.\n")
    return victim


def _first_part(out: Path) -> str:
    return sorted((out / ".normkit" / "parts").glob("*.done.json"))[0].name.removesuffix(".done.json")


#: (where the link goes, what it points at: a folder or a file of the victim, whether a first run came before)
LINKS = [
    (".normkit/parts", "dir", True),  # prune deleted every file there; the parts were written there
    (".normkit", "dir", False),
    (".normkit/lock", "missing", True),  # an empty file was created at the target
    (".normkit/plan.json", "file", True),
    (".normkit/learned.json", "file", True),
    (".normkit/parts/{part}.records.jsonl", "file", True),  # its bytes would be copied into documents.jsonl
    (".normkit/parts/{part}.done.json", "file", True),
    ("learned-boilerplate.json", "file", True),  # overwritten in place
    ("documents.jsonl", "file", True),
    ("rejects.jsonl", "file", False),
    ("report.json", "file", True),
    (".documents.jsonl.k3x9q2zb.tmp", "file", True),  # a leftover's name: never followed, never deleted
]


@pytest.mark.parametrize(("where", "kind", "after_a_run"), LINKS, ids=[link[0] for link in LINKS])
def test_a_link_where_normkit_writes_is_refused_before_anything_is_written(
    tmp_path: Path, news: list[str], reference: dict[str, dict[str, bytes]], where: str, kind: str, after_a_run: bool
) -> None:
    out, victim = tmp_path / "out", _victim(tmp_path)
    if after_a_run:
        assert run(news, out)[0] == 0
    out.mkdir(exist_ok=True)
    link = out / where.format(part=_first_part(out) if "{part}" in where else "")
    if link.is_dir() and not link.is_symlink():
        import shutil

        shutil.rmtree(link)
    else:
        link.unlink(missing_ok=True)
    target = {"dir": victim, "file": victim / "thesis.tex", "missing": victim / "created-by-normkit"}[kind]
    link.symlink_to(target)
    victim_before, out_before = snapshot(victim), snapshot(out)

    code, err = run(news, out)
    assert code == 2
    assert err == f"normkit: error: {link}: is a symbolic link, where normkit keeps its state or writes a file; " + (
        "normkit never follows links in an output folder: remove it, or choose another output folder\n"
    )
    assert snapshot(victim) == victim_before, "the link's target is untouched"
    assert snapshot(out) == out_before, "nothing was written before the error"

    link.unlink()
    code, err = run(news, out)
    assert code == 0, err
    assert balanced(out)["read"] == 18
    assert outputs(out) == reference["jsonl"]
    assert snapshot(victim) == victim_before


@pytest.mark.parametrize("where", [".documents.tmp", "documents/{page}"])
def test_a_link_in_a_per_document_folder_is_refused(
    tmp_path: Path, news: list[str], reference: dict[str, dict[str, bytes]], where: str
) -> None:
    out, victim = tmp_path / "out", _victim(tmp_path)
    assert run(news, out, "--format", "text")[0] == 0
    page = sorted((out / "documents").iterdir())[0]
    link = out / where.format(page=page.name)
    link.unlink(missing_ok=True)
    link.symlink_to(victim)
    victim_before = snapshot(victim)
    code, err = run(news, out, "--format", "text")
    assert code == 2 and err.startswith(f"normkit: error: {link}: is a symbolic link") and err.count("\n") == 1
    assert snapshot(victim) == victim_before
    link.unlink()
    assert run(news, out, "--format", "text")[0] == 0
    assert balanced(out)["read"] == 18 and outputs(out) == reference["text"]


PLANTER = textwrap.dedent(
    """
    import os
    from pathlib import Path
    from normkit import Stage, hookimpl

    class Planter(Stage):
        '''Plants a link at PLANT_LINK (pointing to PLANT_TARGET) while the run is cleaning: after the start check.'''
        name = "planter"

        def process(self, doc):
            link = os.environ.get("PLANT_LINK")
            if link and not os.path.lexists(link):
                Path(link).symlink_to(os.environ["PLANT_TARGET"])
            return doc

    @hookimpl
    def normkit_register_stages(register):
        register(Planter)
    """
)


@pytest.mark.parametrize("name", ["documents.jsonl", "rejects.jsonl", "learned-boilerplate.json"])
def test_a_link_planted_during_the_run_is_refused_when_normkit_writes_there(
    tmp_path: Path, news: list[str], monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """The start check cannot see a link planted later: the write itself refuses it (and a rename never
    writes through one)."""
    plugins, out, victim = tmp_path / "plugins", tmp_path / "out", _victim(tmp_path)
    plugins.mkdir()
    (plugins / "planter.py").write_text(PLANTER)
    (tmp_path / "normkit.toml").write_text(
        'pipeline = ["decode", "whitespace", "headline", "planter", "boilerplate"]\n'
    )
    extra = ("--plugins-dir", str(plugins), "--config", str(tmp_path / "normkit.toml"))
    assert run(news, tmp_path / "reference", *extra)[0] == 0
    monkeypatch.setenv("PLANT_LINK", str(out / name))
    monkeypatch.setenv("PLANT_TARGET", str(victim / "thesis.tex"))
    victim_before = snapshot(victim)
    out.mkdir()
    code, err = run(news, out, *extra)
    assert code == 2 and err.startswith(f"normkit: error: {out / name}: is a symbolic link") and err.count("\n") == 1
    assert snapshot(victim) == victim_before
    assert not (out / "report.json").exists()

    monkeypatch.delenv("PLANT_LINK")
    (out / name).unlink()
    assert run(news, out, *extra)[0] == 0
    assert balanced(out)["read"] == 18 and outputs(out) == outputs(tmp_path / "reference")


def test_atomic_file_replaces_nothing_through_a_link(tmp_path: Path) -> None:
    from normkit import NormkitError, atomic_file

    victim = _victim(tmp_path)
    link = tmp_path / "report.json"
    link.symlink_to(victim / "thesis.tex")
    before = snapshot(victim)
    with pytest.raises(NormkitError, match="is a symbolic link"), atomic_file(link) as stream:
        stream.write(b"{}")
    assert snapshot(victim) == before and link.is_symlink()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == [], "no temp file left"


# -- 2. nothing unpickled, nothing believed from the folder without the run's key ------------------------------


class _Touch:
    """Unpickling this creates a file: what a planted pickle in an output folder could do."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (Path.write_text, (str(self.path), "pwned"))  # type: ignore[return-value]


def _tamper(out: Path, how: str, tmp_path: Path) -> None:
    work = out / ".normkit"
    part = _first_part(out)
    marker_path = work / "parts" / f"{part}.done.json"
    marker = orjson.loads(marker_path.read_bytes())
    records = work / "parts" / f"{part}.records.jsonl"
    forged = orjson.dumps({"id": "forged", "text": "Send your bank details to the harbour office."}) + b"\n"
    if how == "plan: a list":
        (work / "plan.json").write_bytes(b"[1, 2, 3]")
    elif how == "plan: not JSON":
        (work / "plan.json").write_bytes(b"\x80\x81 not json" * 1000)
    elif how == "plan: 2 MB":
        (work / "plan.json").write_bytes(b'{"sharding": {"shard_size": "' + b"9" * (2 << 20) + b'"}}')
    elif how == "plan: sharding not a table":
        (work / "plan.json").write_bytes(b'{"format": 2, "sharding": "all of it"}')
    elif how == "marker: null":
        marker_path.write_bytes(b"null")
    elif how == "marker: a pickle":
        marker_path.write_bytes(pickle.dumps(_Touch(tmp_path / "pwned")))
    elif how == "marker: negative counts":
        marker["stats"]["documents"].update(read=-5, written=-5)
        marker_path.write_bytes(orjson.dumps(marker))
    elif how == "marker: counts as text":
        marker["stats"]["documents"]["read"] = "6"
        marker_path.write_bytes(orjson.dumps(marker))
    elif how == "marker: unbalanced counts":
        marker["stats"]["documents"]["read"] += 1
        marker_path.write_bytes(orjson.dumps(marker))
    elif how == "marker: stats missing":
        del marker["stats"]
        marker_path.write_bytes(orjson.dumps(marker))
    elif how == "marker: another part's":
        other = sorted((work / "parts").glob("*.done.json"))[1]
        marker_path.write_bytes(other.read_bytes())
    elif how == "part: a forged record appended":
        records.write_bytes(records.read_bytes() + forged)
    elif how == "part: records replaced, marker kept":
        records.write_bytes(forged)
    elif how == "part: records missing":
        records.unlink()
    elif how == "part: not JSON, marker rewritten by hand":
        records.write_bytes(b"\x00\x01 garbage, not records\n")
        marker["files"]["records"] = {"bytes": 1, "blake2b": "0" * 32}
        marker_path.write_bytes(orjson.dumps(marker))
    elif how == "learned.pickle":
        (work / "learned.pickle").write_bytes(pickle.dumps(_Touch(tmp_path / "pwned")))
    elif how == "learned.json: a pickle":
        (work / "learned.json").write_bytes(pickle.dumps(_Touch(tmp_path / "pwned")))
    elif how == "learned.json: another key":
        saved = orjson.loads((work / "learned.json").read_bytes())
        (work / "learned.json").write_bytes(orjson.dumps({"key": "0" * 32, "state": saved["state"]}))
    else:  # pragma: no cover
        raise AssertionError(how)


HOSTILE_STATE = [
    "plan: a list",
    "plan: not JSON",
    "plan: 2 MB",
    "plan: sharding not a table",
    "marker: null",
    "marker: a pickle",
    "marker: negative counts",
    "marker: counts as text",
    "marker: unbalanced counts",
    "marker: stats missing",
    "marker: another part's",
    "part: a forged record appended",
    "part: records replaced, marker kept",
    "part: records missing",
    "part: not JSON, marker rewritten by hand",
    "learned.pickle",
    "learned.json: a pickle",
    "learned.json: another key",
]


@pytest.mark.parametrize("how", HOSTILE_STATE)
def test_hostile_state_in_the_work_folder_is_data_and_checked(
    tmp_path: Path, news: list[str], reference: dict[str, dict[str, bytes]], how: str
) -> None:
    out = tmp_path / "out"
    assert run(news, out)[0] == 0
    _tamper(out, how, tmp_path)
    code, err = run(news, out)
    assert code == 0, err
    assert "Traceback" not in err
    assert outputs(out) == reference["jsonl"], "the tampered part was done again, not believed"
    assert balanced(out) == report(tmp_path / "reference-jsonl")["documents"]
    assert b"forged" not in (out / "documents.jsonl").read_bytes()
    assert not (tmp_path / "pwned").exists(), "nothing was unpickled"
    shards = report(out)["shards"]
    if how.startswith(("marker", "part")):
        assert shards["done"] >= 1 and shards["skipped"] == shards["total"] - shards["done"]


# -- 5. a run killed during assembly leaves temp files the next run removes --------------------------------------

SLOW_EXPORTERS = textwrap.dedent(
    """
    import os
    import time

    from normkit import RecordWriter, hookimpl
    from normkit_plugins.exporter_jsonl import JsonlExporter
    from normkit_plugins.exporter_text import TextExporter


    class Slow(RecordWriter):
        '''Writes each record through the exporter's own writer, SLOW_ASSEMBLY seconds apart.'''

        def __init__(self, inner):
            super().__init__(getattr(inner, "stream", None))
            self.inner = inner

        def write(self, record):
            time.sleep(float(os.environ.get("SLOW_ASSEMBLY", "0")))
            self.inner.write(record)

        def close(self):
            self.inner.close()


    class SlowJsonl(JsonlExporter):
        name = "slowjsonl"

        def open(self, stream):
            return Slow(super().open(stream))


    class SlowText(TextExporter):
        name = "slowtext"

        def open_folder(self, folder):
            return Slow(super().open_folder(folder))


    @hookimpl
    def normkit_register_exporters(register):
        register(SlowJsonl)
        register(SlowText)
    """
)


@pytest.mark.parametrize(("fmt", "leftover"), [("slowjsonl", ".documents.jsonl.*.tmp"), ("slowtext", ".documents.tmp")])
def test_sigkill_during_assembly_leaves_nothing_the_next_run_keeps(tmp_path: Path, fmt: str, leftover: str) -> None:
    inputs = write_news(tmp_path / "in", files=4, docs=15)
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "slow.py").write_text(SLOW_EXPORTERS)

    def command(out: Path) -> list[str]:
        base = [sys.executable, "-m", "normkit", "run", *inputs, "-o", str(out), "-q", "--format", fmt]
        return [*base, "--plugins-dir", str(plugins), "--shard-size", "2KB", "--executor", "inprocess"]

    out = tmp_path / "out"
    killed = subprocess.Popen(command(out), env={**os.environ, "SLOW_ASSEMBLY": "0.05"}, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not list(out.glob(leftover)) and time.monotonic() < deadline:
        time.sleep(0.02)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    left = list(out.glob(leftover))
    assert left, "the run should have been killed during assembly"
    assert not (out / "report.json").exists()
    bystanders = [out / ".documents.jsonl.tmp", out / "notes.abcd1234.tmp", out / ".thesis.tex.k3x9q2zb.tmp"]
    for path in bystanders:  # not names normkit's atomic writes produce: never deleted
        path.write_text("mine\n")

    resumed = subprocess.run(command(out), capture_output=True)
    assert resumed.returncode == 0, resumed.stderr
    assert not list(out.glob(leftover)) and not list(out.glob(".documents*.old"))
    assert all(path.read_text() == "mine\n" for path in bystanders)
    for path in bystanders:
        path.unlink()
    assert report(out)["shards"]["skipped"] == report(out)["shards"]["total"], "every part was committed before"
    reference = subprocess.run(command(tmp_path / "reference"), capture_output=True)
    assert reference.returncode == 0, reference.stderr
    assert balanced(out)["read"] == 60
    assert outputs(out) == outputs(tmp_path / "reference")


def test_leftovers_of_every_kind_are_removed_and_nothing_else(
    tmp_path: Path, news: list[str], reference: dict[str, dict[str, bytes]]
) -> None:
    out = tmp_path / "out"
    assert run(news, out)[0] == 0
    leftovers = [
        ".documents.jsonl.k3x9q2zb.tmp",
        ".documents.csv.a1b2c3d4.tmp",  # an earlier run in another format
        ".rejects.jsonl.zz_0a9b8.tmp",
        ".report.json.q1w2e3r4.tmp",
        ".learned-boilerplate.json.m4n5b6v7.tmp",
        ".normkit/.plan.json.p0o9i8u7.tmp",
        ".normkit/.learned.json.y6t5r4e3.tmp",
        ".normkit/parts/.000000-deadbeef.records.jsonl.abcdefgh.tmp",
    ]
    kept = [".documents.jsonl.tmp", ".documents.jsonl.TOOLONG99.tmp", "documents.jsonl.k3x9q2zb.tmp", ".x.k3x9q2zb.tmp"]
    for name in [*leftovers, *kept]:
        (out / name).write_bytes(b'{"half": "a record cut in the mid')
    (out / ".documents.tmp").mkdir()
    (out / ".documents.tmp" / "page.txt").write_text("half a page")
    (out / ".documents.old").mkdir()
    assert run(news, out)[0] == 0
    assert [name for name in leftovers if (out / name).exists()] == []
    assert not (out / ".documents.tmp").exists() and not (out / ".documents.old").exists()
    assert [name for name in kept if (out / name).exists()] == kept
    assert balanced(out)["read"] == 18
    assert {k: v for k, v in outputs(out).items() if k not in kept} == reference["jsonl"]


# -- 6. a full disk during assembly, the report or a marker: exit 4, nothing charged to documents ----------------


def _full_disk_at(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Every ``fsync`` of a file whose (temporary) name is ``.NAME.*.tmp`` fails with ENOSPC, as a full disk
    makes the data of a file fail to reach it; any other file is written as usual."""
    real = os.fsync

    def fsync(fd: int) -> None:
        target = os.readlink(f"/proc/self/fd/{fd}")
        if Path(target).name.startswith(f".{name}."):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to name the file being synced")
@pytest.mark.parametrize(
    ("fmt", "name"),
    [
        ("jsonl", "documents.jsonl"),
        ("csv", "documents.csv"),
        ("jsonl", "rejects.jsonl"),
        ("jsonl", "report.json"),
        ("jsonl", "learned-boilerplate.json"),
        ("jsonl", "plan.json"),
        ("jsonl", "learned.json"),
    ],
)
def test_a_full_disk_stops_the_run_with_exit_4_and_a_resume_completes(
    tmp_path: Path, news: list[str], monkeypatch: pytest.MonkeyPatch, fmt: str, name: str
) -> None:
    Path(news[0], "wire.jsonl").write_bytes(b'{"id": "wire-1", "text": 5}\nnot json at all\n')  # two rejects
    code, err = run(news, tmp_path / "undisturbed", "--format", fmt)
    assert code == 1, err
    out = tmp_path / "out"
    with monkeypatch.context() as patch:
        _full_disk_at(patch, name)
        code, err = run(news, out, "--format", fmt)
    assert code == 4, err
    error = [line for line in err.splitlines() if line.startswith("normkit: error: ")]  # after the rejects' lines
    assert error == err.splitlines()[-1:] and "Traceback" not in err
    assert "no space left on device" in error[0] and "run the same command again" in error[0]
    assert not (out / "report.json").exists(), "no report claims a run that did not finish"
    assert not list(out.rglob(f".{name}.*.tmp")), "the temporary file went with the error"
    if (out / "rejects.jsonl").exists():
        assert b"No space" not in (out / "rejects.jsonl").read_bytes(), "a full disk is never a document's fault"

    code, err = run(news, out, "--format", fmt)  # with room again
    assert code == 1, err  # the two bad records are rejected, as in the undisturbed run
    assert balanced(out) == report(tmp_path / "undisturbed")["documents"]
    assert report(out)["documents"]["read"] == 20
    assert outputs(out) == outputs(tmp_path / "undisturbed")


def test_a_full_disk_while_writing_pages_is_exit_4_and_resumes(
    tmp_path: Path, news: list[str], reference: dict[str, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from normkit.writers import FolderWriter

    out, written = tmp_path / "out", []
    real = FolderWriter._write_file

    def write_file(self: FolderWriter, name: str, data: bytes) -> None:
        if len(written) >= 5:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.folder / name))
        written.append(name)
        real(self, name, data)

    with monkeypatch.context() as patch:
        patch.setattr(FolderWriter, "_write_file", write_file)
        code, err = run(news, out, "--format", "text")
    assert code == 4 and err.count("\n") == 1 and "Traceback" not in err and f"{out / 'documents'}: no space" in err
    assert not (out / "report.json").exists() and not (out / "documents").exists()
    assert run(news, out, "--format", "text")[0] == 0
    assert not (out / ".documents.tmp").exists()
    assert balanced(out)["read"] == 18 and outputs(out) == reference["text"]


def test_a_full_disk_as_a_library_loses_the_errno_is_still_a_full_disk(
    tmp_path: Path, news: list[str], reference: dict[str, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyarrow raises ``OSError("... No space left on device")`` without an errno, from inside a writer."""
    from normkit_plugins.exporter_jsonl import JsonlWriter

    def copy_lines(self: JsonlWriter, source: Any) -> None:
        raise RuntimeError("the writer gave up") from OSError("IOError: write failed: No space left on device")

    out = tmp_path / "out"
    with monkeypatch.context() as patch:
        patch.setattr(JsonlWriter, "copy_lines", copy_lines)
        code, err = run(news, out)
    assert code == 4 and f"{out / 'documents.jsonl'}: no space left on device" in err and err.count("\n") == 1
    assert run(news, out)[0] == 0
    assert balanced(out)["read"] == 18 and outputs(out) == reference["jsonl"]


def test_a_full_disk_while_marking_a_part_done_is_a_disk_full_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from normkit.batch.resume import WorkFolder, mark_done
    from normkit.errors import DiskFullError
    from normkit.inputs import Part, Shard
    from normkit.output import open_part
    from normkit.report import RunStats

    work = WorkFolder(tmp_path / ".normkit")
    source = tmp_path / "news.jsonl"
    source.write_text('{"id": "a", "text": "Calm."}\n')
    part = Part(index=0, shards=(Shard(path=str(source)),), digest="0f" * 8)
    files = work.files(part)
    with open_part(files) as (records, _):
        records.write(b'{"id": "a", "text": "Calm."}\n')
    _full_disk_at(monkeypatch, files.marker.name)
    with pytest.raises(DiskFullError, match=rf"{files.marker.name}: no space left on device"):
        mark_done(files, part, "key", RunStats(read=1, written=1))
    assert sorted(p.name for p in files.marker.parent.iterdir()) == [files.records.name, files.rejects.name]


# -- 7. the wrong kind of thing where normkit writes: one line, exit 2, before anything is written ----------------

#: (where, what is planted there, what the error says it found and where normkit expected what)
WRONG_KINDS = [
    ("report.json", "dir", "is a folder, where normkit writes a file"),
    ("rejects.jsonl", "dir", "is a folder, where normkit writes a file"),
    ("documents.jsonl", "dir", "is a folder, where normkit writes a file"),
    ("learned-boilerplate.json", "dir", "is a folder, where normkit writes a file"),
    (".normkit/learned.json", "dir", "is a folder, where normkit writes a file"),
    (".normkit/plan.json", "dir", "is a folder, where normkit writes a file"),
    (".normkit/learned.pickle", "dir", "is a folder, where normkit writes a file"),
    (".normkit/parts/{part}.records.jsonl", "dir", "is a folder, where normkit writes a file"),
    (".normkit/parts/{part}.records.jsonl", "fifo", "is a FIFO (named pipe), where normkit writes a file"),
    (".normkit/parts", "file", "is a file, where normkit keeps a folder"),
    (".normkit", "file", "is a file, where normkit keeps a folder"),
]


@pytest.mark.parametrize(("where", "kind", "said"), WRONG_KINDS, ids=[f"{w[0]}-{w[1]}" for w in WRONG_KINDS])
def test_the_wrong_kind_of_thing_where_normkit_writes_is_one_line_before_anything_is_written(
    tmp_path: Path, news: list[str], where: str, kind: str, said: str
) -> None:
    out = tmp_path / "out"
    assert run(news, out)[0] == 0
    path = out / where.format(part=_first_part(out) if "{part}" in where else "")
    if path.is_dir():
        import shutil

        shutil.rmtree(path)
    path.unlink(missing_ok=True)
    {"dir": path.mkdir, "file": lambda: path.write_text("a note\n"), "fifo": lambda: os.mkfifo(path)}[kind]()
    before = {key: value for key, value in snapshot(out).items() if key != ".normkit/lock"}

    def hung(*_args: object) -> None:
        raise AssertionError(f"the run waited on {path}")

    args = ["run", *news, "-o", str(out), "-q", "--shard-size", "1KB", "--executor", "inprocess"]
    previous = signal.signal(signal.SIGALRM, hung)  # a FIFO read as a part file would wait for a writer forever
    signal.alarm(60)
    try:
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert result.exit_code == 2
    assert result.stderr == f"normkit: error: {path}: {said}; remove it, or choose another output folder\n"
    assert {key: value for key, value in snapshot(out).items() if key != ".normkit/lock"} == before


def test_a_file_where_a_per_document_exporter_stages_its_pages_is_one_line(tmp_path: Path, news: list[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / ".documents.tmp").write_text("not a folder\n")
    args = ["run", *news, "-o", str(out), "-q", "--format", "text", "--executor", "inprocess"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stderr == (
        f"normkit: error: {out / '.documents.tmp'}: is a file, where normkit keeps a folder; remove it, "
        "or choose another output folder\n"
    )


def test_any_other_failure_of_the_file_system_is_one_line_naming_the_path(
    tmp_path: Path, news: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last line of defence in ``run_batch``: an OSError no check foresaw is a NormkitError, not a traceback."""
    import normkit.batch.runner

    def refused(path: Path, *_args: Any, **_kwargs: Any) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    monkeypatch.setattr(normkit.batch.runner, "write_json", refused)
    out = tmp_path / "out"
    args = ["run", *news, "-o", str(out), "-q", "--executor", "inprocess"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 2
    denied = os.strerror(errno.EACCES)
    assert result.stderr == f"normkit: error: {out / 'report.json'}: {denied}; the run stopped here\n"
