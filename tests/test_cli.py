"""The command line: exit codes, outputs, the report and the rejects file."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from normkit.cli import cli
from normkit.validate import iter_violations

SAMPLES = Path(__file__).parent / "sample_plugins"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def read_jsonl(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_run_writes_documents_rejects_and_a_valid_report(seed_dir: Path, tmp_path: Path) -> None:
    code, _, err = invoke("run", str(seed_dir), "-o", str(tmp_path / "out"))
    assert code == 0, err
    out = tmp_path / "out"
    (record,) = read_jsonl(out / "documents.jsonl")
    assert record["title"].startswith("US says Iran")
    assert read_jsonl(out / "rejects.jsonl") == []
    report = json.loads((out / "report.json").read_text())
    assert list(iter_violations(report, "report")) == []
    assert report["documents"] == {"read": 1, "written": 1, "rejected": 0, "flagged": 0}
    assert report["stages"]["boilerplate"]["documents_changed"] == 1
    assert "read 1, written 1, rejected 0" in err


def test_bad_inputs_go_to_rejects_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "empty.txt").write_bytes(b"")
    (tmp_path / "in" / "binary.txt").write_bytes(b"\x7fELF\x00\x00\x00\x01" * 64)
    (tmp_path / "in" / "good.txt").write_text("Title\n\nA sentence of the body.\n")
    (tmp_path / "in" / "x.jsonl").write_text('{"text": "fine"}\nnot json\n{"id": "no-text"}\n')
    code, _, err = invoke("run", str(tmp_path / "in"), str(tmp_path / "missing.txt"), "-o", str(tmp_path / "out"))
    assert code == 1
    rejects = read_jsonl(tmp_path / "out" / "rejects.jsonl")
    reasons = sorted(r["reason"].split(":")[0] for r in rejects)
    assert reasons == [
        "binary input",
        "empty file",
        "malformed JSON",
        "no such file or directory",
        "text field 'text' is missing",
    ]
    assert f"{tmp_path / 'in' / 'x.jsonl'}:2: malformed JSON" in err.replace(" [jsonl/load]", "") or "x.jsonl:2" in err
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["documents"] == {"read": 7, "written": 2, "rejected": 5, "flagged": 0}


def test_stdout_output(seed_dir: Path) -> None:
    code, out, _ = invoke("run", str(seed_dir), "-o", "-", "-q")
    assert code == 0
    assert orjson.loads(out)["title"].startswith("US says Iran")


def test_fail_fast_stops_at_the_first_reject(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_text('{"text": "a"}\nbad\n{"text": "b"}\n')
    code, _, _ = invoke("run", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out"), "--fail-fast")
    assert code == 1
    assert len(read_jsonl(tmp_path / "out" / "documents.jsonl")) == 1


def test_config_error_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text("pipeline = 3\n")
    code, _, err = invoke("run", "x", "-o", str(tmp_path / "out"), "--config", str(tmp_path / "bad.toml"))
    assert code == 2
    assert err.strip().count("\n") == 0 and "pipeline: 3 is not of type 'array'" in err


def test_usage_error_exit_2() -> None:
    assert invoke("run")[0] == 2


def test_plugins_dir_stage_via_config_and_plugin_failures(tmp_path: Path) -> None:
    (tmp_path / "normkit.toml").write_text('pipeline = ["decode", "whitespace", "explode"]\n')
    (tmp_path / "in.jsonl").write_text(
        '{"id": "a", "text": "ok"}\n{"id": "b", "text": "BOOM"}\n{"id": "c", "text": "REJECTME"}\n'
    )
    code, _, err = invoke(
        "run", "in.jsonl", "-o", "out", "--plugins-dir", str(SAMPLES), "--disable-plugin", "dup_jsonl", "-q"
    )
    assert code == 1
    assert "in.jsonl:2 doc b [shout/explode]: stage raised RuntimeError('kaboom')" in err
    assert "in.jsonl:3 doc c [shout/explode]: asked to be rejected" in err


def test_plugins_command_lists_json(tmp_path: Path) -> None:
    code, out, _ = invoke("plugins", "--all", "--json", "--plugins-dir", str(SAMPLES))
    assert code == 0
    rows = {row["name"]: row for row in json.loads(out)}
    assert rows["shout"]["hooks"] == ["normkit_register_stages"] and rows["shout"]["builtin"] is False
    assert rows["loader_text"]["builtin"] is True


@pytest.mark.parametrize("workers", ["1", "2"])
def test_workers_give_the_same_output(tmp_path: Path, workers: str) -> None:
    (tmp_path / "in").mkdir()
    for i in range(5):
        (tmp_path / "in" / f"{i}.jsonl").write_text(
            "".join(f'{{"id": "{i}-{j}", "text": "Body {j}."}}\n' for j in range(3))
        )
    code, _, _ = invoke("run", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--workers", workers, "-q")
    assert code == 0
    ids = [r["id"] for r in read_jsonl(tmp_path / "out" / "documents.jsonl")]
    assert ids == [f"{i}-{j}" for i in range(5) for j in range(3)]


def test_help_lists_every_exit_code() -> None:
    out = CliRunner().invoke(cli, ["--help"]).stdout
    assert all(f"  {code}  " in out for code in range(6))


@pytest.mark.parametrize("output", ["afile/sub", "/proc/normkit-cannot-write-here"])
def test_an_output_folder_that_cannot_be_made_is_one_line_and_exit_2(tmp_path: Path, output: str) -> None:
    (tmp_path / "afile").write_text("a file, not a folder")
    (tmp_path / "a.txt").write_text("A short page with one sentence that is long enough to keep.\n")
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "a.txt"), "-o", output, "-q"], catch_exceptions=False)
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1


def test_scheduler_without_the_dask_executor_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("A short page.\n")
    result = CliRunner().invoke(
        cli, ["run", str(tmp_path / "a.txt"), "-o", str(tmp_path / "o"), "--scheduler", "tcp://x:1"]
    )
    assert result.exit_code == 2 and "--executor dask" in result.stderr and not (tmp_path / "o").exists()


def test_explain_an_id_that_is_not_there_says_so(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("A short page with one sentence that is long enough to keep.\n")
    CliRunner().invoke(cli, ["run", str(tmp_path / "a.txt"), "-o", str(tmp_path / "o"), "-q"], catch_exceptions=False)
    result = CliRunner().invoke(cli, ["explain", str(tmp_path / "o" / "documents.jsonl"), "--id", "nope"])
    assert result.exit_code == 2 and "no document with id 'nope'" in result.stderr
