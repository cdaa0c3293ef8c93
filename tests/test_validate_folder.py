"""``normkit validate OUT``: a whole output folder checks, each file against its own schema, plugins' included."""

from __future__ import annotations

import json
import os
from pathlib import Path

import orjson
from click.testing import CliRunner

from normkit.cli import cli

#: a line every page of the source repeats: the boilerplate stage learns it and writes learned-boilerplate.json.
REPEATED = "Get our weekly digest in your inbox"
PLUGIN = """
from collections.abc import Iterator
from typing import IO

from normkit import Exporter, ReadRecord, RecordWriter, Register, hookimpl


class TsvWriter(RecordWriter):
    def write(self, record):
        self.stream.write(f"{record['id']}\\t{record['text']}\\n".encode())


class TsvExporter(Exporter):
    name, schema, suffix = "tsv", "document", ".tsv"
    reads = (".tsv",)

    def open(self, stream):
        return TsvWriter(stream)

    def to_record(self, doc):
        return {"id": doc.id, "text": doc.text.replace("\\n", " ").replace("\\t", " ")}

    @classmethod
    def read(cls, stream: IO[bytes], schema: str) -> Iterator[ReadRecord]:
        for number, line in enumerate(stream, start=1):
            cells = line.decode().rstrip("\\n").split("\\t")
            yield ReadRecord(number, {"id": cells[0], "text": cells[1]} if len(cells) == 2 else cells)


@hookimpl
def normkit_register_exporters(register: Register) -> None:
    register(TsvExporter)
"""


def corpus(folder: Path) -> Path:
    """Eight invented pages of one site, each with its own paragraph and the same digest line."""
    topics = ["bridge", "library", "harbour", "market", "school", "orchard", "railway", "museum"]
    records = [
        {
            "id": f"page-{n}",
            "url": f"https://news.example.org/{topic}",
            "text": f"The {topic} story\n\nThe council met and agreed on a plan for the {topic} at last.\n{REPEATED}\n",
        }
        for n, topic in enumerate(topics)
    ]
    path = folder / "in.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def run(tmp_path: Path, *options: str) -> Path:
    out = tmp_path / "out"
    code, _, err = invoke("run", str(corpus(tmp_path)), "-o", str(out), "-q", *options)
    assert code == 0, err
    return out


def test_an_output_folder_validates_whole(tmp_path: Path) -> None:
    out = run(tmp_path)
    learned = json.loads((out / "learned-boilerplate.json").read_text())
    assert [line["text"] for line in learned["sources"]["news.example.org"]] == [REPEATED]
    code, stdout, err = invoke("validate", str(out))
    assert (code, stdout) == (0, "")
    assert "4 file(s), 10 record(s), 0 error(s)" in err  # documents (8), rejects (0), report, learned file


def test_a_broken_learned_file_is_found_with_its_pointer(tmp_path: Path) -> None:
    out = run(tmp_path)
    learned = json.loads((out / "learned-boilerplate.json").read_text())
    learned["sources"]["news.example.org"][0]["hash"] = "not hex"
    (out / "learned-boilerplate.json").write_text(json.dumps(learned))
    code, stdout, _ = invoke("validate", str(out))
    assert code == 1
    assert stdout == (
        f"{out / 'learned-boilerplate.json'}:1: /sources/news.example.org/0/hash: "
        "'not hex' does not match '^[0-9a-f]{16}$' (pattern)\n"
    )


def test_a_plugin_exporter_reads_its_own_files_back(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "tsv.py").write_text(PLUGIN)
    out = run(tmp_path, "--format", "tsv", "--plugins-dir", str(plugins))
    assert (out / "documents.tsv").is_file()
    code, _, err = invoke("validate", str(out / "documents.tsv"), "--plugins-dir", str(plugins))
    assert code == 0 and "1 file(s), 8 record(s), 0 error(s)" in err
    with (out / "documents.tsv").open("ab") as stream:
        stream.write(b"one cell only\n")
    code, stdout, _ = invoke("validate", str(out / "documents.tsv"), "--plugins-dir", str(plugins))
    assert code == 1 and stdout.startswith(f"{out / 'documents.tsv'}:9: /: ['one cell only'] is not of type")
    code, _, err = invoke("validate", str(out / "documents.tsv"))  # without the plugin nothing reads .tsv
    assert code == 2 and "unknown file format '.tsv'" in err


def test_pages_no_exporter_reads_are_left_out_and_links_are_not_followed(tmp_path: Path) -> None:
    out = run(tmp_path, "--format", "text")
    outside = tmp_path / "elsewhere.jsonl"
    outside.write_text("not json at all\n")
    (out / "planted.jsonl").symlink_to(outside)
    code, _, err = invoke("validate", str(out))
    assert code == 0
    assert "3 file(s), 2 record(s), 0 error(s), 8 file(s) no exporter reads left out" in err


def test_an_empty_folder_or_an_unreadable_file_is_said_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, _, err = invoke("validate", str(tmp_path / "empty"))
    assert code == 2 and err.strip().endswith("no file an exporter reads (is this an output folder?)")
    out = run(tmp_path)
    (out / "documents.jsonl").chmod(0)
    try:
        code, stdout, _ = invoke("validate", str(out / "documents.jsonl"))
    finally:
        (out / "documents.jsonl").chmod(0o644)
    if os.geteuid() != 0:  # root reads any file
        assert code == 1 and "cannot read the file past here" in stdout


def test_schema_applies_to_the_files_named_not_to_what_a_folder_holds(tmp_path: Path) -> None:
    out = run(tmp_path)
    code, _, err = invoke("validate", str(out), "--schema", "dolma")
    assert code == 0 and "4 file(s)" in err, "report.json and the rest keep their own schemas"
    code, stdout, _ = invoke("validate", str(out / "documents.jsonl"), "--schema", "dolma")
    assert code == 1 and "'created' is a required property" in stdout
