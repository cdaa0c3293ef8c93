"""Output files: atomic writes, parts assembled in order, per-document exporters, stdout."""

from __future__ import annotations

import os
import stat
import textwrap
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from normkit import Config, PluginSpec, run_batch
from normkit.cli import cli
from normkit.output import atomic_file

#: A per-document exporter: one ``<id>.txt`` file per record.
PAGES = textwrap.dedent(
    """
    from normkit import Exporter, RecordWriter, hookimpl

    class PageWriter(RecordWriter):
        def __init__(self, folder):
            self.folder = folder

        def write(self, record):
            (self.folder / f"{record['id']}.txt").write_text(record["text"])

    class Pages(Exporter):
        name = "pages"
        per_document = True

        def open_folder(self, folder):
            return PageWriter(folder)

    @hookimpl
    def normkit_register_exporters(register):
        register(Pages)
    """
)


def test_atomic_file_leaves_nothing_behind_when_the_block_fails(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), atomic_file(tmp_path / "f.txt") as stream:
        stream.write(b"half")
        raise RuntimeError
    assert list(tmp_path.iterdir()) == []


def test_atomic_files_get_the_usual_mode_not_0600(tmp_path: Path) -> None:
    with atomic_file(tmp_path / "f.txt") as stream:
        stream.write(b"x")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "f.txt").stat().st_mode) == 0o666 & ~umask


def jsonl(folder: Path, files: int = 4) -> Path:
    folder.mkdir()
    for i in range(files):
        (folder / f"{i}.jsonl").write_text("".join(f'{{"id": "d{i}-{j}", "text": "Text {j}."}}\n' for j in range(3)))
    return folder


def test_stdout_gets_every_part_in_input_order(tmp_path: Path) -> None:
    inputs = jsonl(tmp_path / "in")
    result = CliRunner().invoke(cli, ["run", str(inputs), "-o", "-", "-q", "--shard-size", "100"])
    assert result.exit_code == 0, result.stderr
    ids = [orjson.loads(line)["id"] for line in result.stdout_bytes.splitlines()]
    assert ids == [f"d{i}-{j}" for i in range(4) for j in range(3)]


def test_per_document_exporter_writes_a_documents_folder(tmp_path: Path) -> None:
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "pages.py").write_text(PAGES)
    inputs = jsonl(tmp_path / "in")
    run = {"shard_size": 100, "executor": "inprocess"}
    config = Config().with_overrides(pipeline=["decode"], output={"format": "pages"}, run=run)
    spec = PluginSpec(load_entrypoints=False, plugins_dirs=(str(tmp_path / "plugins"),))
    for _ in range(2):  # the second run resumes: every shard is skipped, the folder is rebuilt the same
        result = run_batch([str(inputs)], str(tmp_path / "out"), config, spec)
        assert result.report["shards"]["total"] == 4
        names = sorted(p.name for p in (tmp_path / "out" / "documents").iterdir())
        assert names == sorted(f"d{i}-{j}.txt" for i in range(4) for j in range(3))
    assert result.report["shards"]["skipped"] == 4
    assert (tmp_path / "out" / "documents" / "d2-1.txt").read_text() == "Text 1."


def test_a_rerun_in_another_format_leaves_only_its_own_records(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("A short page with one sentence that is long enough to keep.\n")
    out = tmp_path / "out"
    for fmt in ("csv", "text", "jsonl"):
        result = CliRunner().invoke(cli, ["run", str(tmp_path / "a.txt"), "-o", str(out), "-q", "--format", fmt])
        assert result.exit_code == 0, result.stderr
    (tmp_path / "elsewhere.csv").write_text("kept")
    (out / "documents.old.csv").symlink_to(tmp_path / "elsewhere.csv")  # a link is never followed, nor removed
    CliRunner().invoke(cli, ["run", str(tmp_path / "a.txt"), "-o", str(out), "-q", "--format", "json"])
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert [n for n in names if n.startswith("documents")] == ["documents.json", "documents.old.csv"]
    assert (tmp_path / "elsewhere.csv").read_text() == "kept"
