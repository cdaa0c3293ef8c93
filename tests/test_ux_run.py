"""A run that never surprises (issue 13): records emptied by cleaning get a policy, rejects of one kind are
counted rather than listed, progress shows off a terminal, ``--limit``, ``--format --help``, and a Dask
scheduler that cannot be reached is one line."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from normkit import Config, run_batch
from normkit.batch.tasks import SHOWN_PER_GROUP
from normkit.cli import cli
from normkit.cli.run import ProgressLines
from normkit.document import Reject
from normkit.report import MAX_REJECT_GROUPS, OTHER_REASONS, RunStats, reject_group

PROSE = "The harbour master counted {} boats leaving before the storm reached the northern quay."


def invoke(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    return path


def lines_of(path: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


# -- documents emptied by cleaning -------------------------------------------------------------------


def emptied_input(tmp_path: Path) -> Path:
    """One document that cleaning empties (a share bar alone) and one of prose."""
    return jsonl(
        tmp_path / "in.jsonl",
        [{"id": "bare", "text": "Share this article"}, {"id": "prose", "text": PROSE.format("forty")}],
    )


def test_an_emptied_document_is_flagged_in_the_document_shape(tmp_path: Path) -> None:
    code, _, err = invoke("run", str(emptied_input(tmp_path)), "-o", "out", "--executor", "inprocess", "-q")
    assert code == 0, err
    by_id = {row["id"]: row for row in lines_of(tmp_path / "out" / "documents.jsonl")}
    assert by_id["bare"]["text"] == ""
    # the stage that emptied it may say why in a flag of its own; "empty" is the one code to filter on
    assert [flag["code"] for flag in by_id["bare"]["flags"]][-1] == "empty"  # type: ignore[index]
    assert by_id["prose"]["flags"] == []
    assert json.loads((tmp_path / "out" / "report.json").read_text())["documents"]["flagged"] == 1


@pytest.mark.parametrize("fmt", ["hf", "dolma"])
def test_an_emptied_document_is_rejected_in_the_llm_shapes(tmp_path: Path, fmt: str) -> None:
    code, _, err = invoke("run", str(emptied_input(tmp_path)), "-o", "out", "--format", fmt, "--executor", "inprocess")
    assert code == 1, err
    (records,) = (tmp_path / "out").glob("documents.*")
    assert [row["id"] for row in lines_of(records)] == ["prose"]
    (reject,) = lines_of(tmp_path / "out" / "rejects.jsonl")
    assert reject["doc_id"] == "bare" and reject["hook"] == "empty"
    assert "no text left after cleaning" in str(reject["reason"])
    assert "no text left after cleaning" in err


def test_output_empty_keep_writes_an_emptied_record_as_it_is(tmp_path: Path) -> None:
    (tmp_path / "normkit.toml").write_text('[output]\nformat = "hf"\nempty = "keep"\n')
    code, _, err = invoke("run", str(emptied_input(tmp_path)), "-o", "out", "--executor", "inprocess", "-q")
    assert code == 0, err
    texts = {row["id"]: row["text"] for row in lines_of(tmp_path / "out" / "documents.hf.jsonl")}
    assert texts == {"bare": "", "prose": PROSE.format("forty")}


def test_a_title_alone_is_an_empty_document(tmp_path: Path) -> None:
    """The dolma/hf shapes would put a title back in the text; the body is what the policy looks at."""
    source = jsonl(tmp_path / "in.jsonl", [{"id": "t", "title": "Tide tables", "text": "Share this article"}])
    code, _, _ = invoke("run", str(source), "-o", "out", "--format", "hf", "--executor", "inprocess", "-q")
    assert code == 1
    assert lines_of(tmp_path / "out" / "rejects.jsonl")[0]["hook"] == "empty"


def test_an_unknown_empty_policy_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "normkit.toml").write_text('[output]\nempty = "drop"\n')
    code, _, err = invoke("run", str(emptied_input(tmp_path)), "-o", "out")
    assert code == 2 and "output.empty" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


# -- rejects of one kind are counted, not listed ------------------------------------------------------


def systematic_errors(tmp_path: Path, bad: int = 12) -> Path:
    """``bad`` records without the text field (a systematic error), then one good record."""
    rows: list[dict[str, object]] = [{"id": f"b{i}", "body": "no text field here"} for i in range(bad)]
    return jsonl(tmp_path / "in.jsonl", [*rows, {"id": "good", "text": PROSE.format("nine")}])


def test_a_systematic_error_shows_a_few_examples_then_one_count(tmp_path: Path) -> None:
    code, _, err = invoke("run", str(systematic_errors(tmp_path)), "-o", "out", "--executor", "inprocess")
    assert code == 1
    examples = [line for line in err.splitlines() if "text field 'text' is missing" in line and " doc b" in line]
    assert len(examples) == SHOWN_PER_GROUP
    (count,) = [line for line in err.splitlines() if line.startswith("normkit: 12 rejects:")]
    assert "[loader_jsonl/load]" in count and "all in out/rejects.jsonl" in count
    assert len(lines_of(tmp_path / "out" / "rejects.jsonl")) == 12
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["reject_groups"] == [{"reason": "[loader_jsonl/load] text field 'text' is missing", "count": 12}]


def test_to_stdout_no_file_is_promised_and_rejects_writes_them_all(tmp_path: Path) -> None:
    source = str(systematic_errors(tmp_path))
    code, out, err = invoke("run", source, "-o", "-", "--executor", "inprocess")
    assert code == 1 and [row["id"] for row in map(orjson.loads, out.splitlines())] == ["good"]
    assert "rejects.jsonl" not in err and "--rejects FILE keeps them all" in err
    code, _, err = invoke("run", source, "-o", "-", "--executor", "inprocess", "--rejects", "all.jsonl")
    assert code == 1 and "all in all.jsonl" in err
    assert [row["doc_id"] for row in lines_of(tmp_path / "all.jsonl")] == [f"b{i}" for i in range(12)]


def test_rejects_option_is_only_for_stdout(tmp_path: Path) -> None:
    code, _, err = invoke("run", str(systematic_errors(tmp_path)), "-o", "out", "--rejects", "r.jsonl")
    assert code == 2 and "--rejects is for -o -" in err


def test_reject_groups_mask_what_varies_and_stay_bounded() -> None:
    first = Reject(None, "line 12: value 'a long sentence quoted from the document itself' is bad", "x", hook="load")
    second = Reject(
        None, "line 907: value 'another long sentence quoted from another document' is bad", "y", hook="load"
    )
    assert reject_group(first) == reject_group(second) == "[load] line N: value '…' is bad"
    assert reject_group(Reject(None, "no field 'body'", "z")) == "no field 'body'"  # a short name stays
    stats = RunStats()
    for number in range(MAX_REJECT_GROUPS + 5):
        stats.count(Reject(None, f"failure kind {chr(65 + number % 26)}{'x' * (number // 26)}", str(number)))
    assert len(stats.reject_groups) == MAX_REJECT_GROUPS + 1 and stats.reject_groups[OTHER_REASONS] == 5
    again = RunStats.from_dict(json.loads(json.dumps(stats.to_dict())))
    assert again.reject_groups == stats.reject_groups


# -- progress off a terminal ---------------------------------------------------------------------------


def test_off_a_terminal_progress_lines_come_at_the_interval(tmp_path: Path) -> None:
    source = str(emptied_input(tmp_path))
    _, _, err = invoke("run", source, "-o", "out", "--executor", "inprocess", "--progress-interval", "0.001")
    assert re.search(r"normkit: (learning|cleaning): [\d.]+ of [\d.]+ MB", err)
    _, _, err = invoke("run", source, "-o", "out2", "--executor", "inprocess")  # shorter than 30 s: no line
    assert " MB" not in err.split("read 2,")[0]
    _, _, err = invoke("run", source, "-o", "out3", "--executor", "inprocess", "--progress-interval", "0")
    assert " MB (" not in err


def test_progress_lines_come_every_interval_while_a_part_runs(capsys: pytest.CaptureFixture[str]) -> None:
    with ProgressLines(0.02) as lines:
        lines.begin("cleaning", 4_000_000)
        lines.advance(1500, 1_000_000)
        time.sleep(0.2)
    err = capsys.readouterr().err.splitlines()
    ticks = [line for line in err if line.startswith("normkit: cleaning: 1.0 of 4.0 MB (25%), 1,500 documents")]
    assert len(ticks) >= 2
    assert not any(t.name == "normkit-progress" for t in threading.enumerate())  # the thread ended


# -- --limit ------------------------------------------------------------------------------------------


def limited_inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    jsonl(folder / "a.jsonl", [{"id": f"a{i}", "text": PROSE.format(i)} for i in range(3)])
    jsonl(folder / "b.jsonl", [{"id": f"b{i}", "text": PROSE.format(i)} for i in range(4)])
    (folder / "c.txt").write_text("A third file.\n\n" + PROSE.format("ten") + "\n")
    return folder


@pytest.mark.parametrize(("limit", "ids"), [(1, ["a0"]), (5, ["a0", "a1", "a2", "b0", "b1"]), (3, ["a0", "a1", "a2"])])
def test_limit_reads_the_first_inputs_in_input_order(tmp_path: Path, limit: int, ids: list[str]) -> None:
    code, _, err = invoke("run", str(limited_inputs(tmp_path)), "-o", "out", "--limit", str(limit), "-q")
    assert code == 0, err
    assert [row["id"] for row in lines_of(tmp_path / "out" / "documents.jsonl")] == ids
    assert json.loads((tmp_path / "out" / "report.json").read_text())["documents"]["read"] == limit


def test_a_limit_past_the_inputs_reads_them_all_and_stdin_stops_at_it(tmp_path: Path) -> None:
    code, _, _ = invoke("run", str(limited_inputs(tmp_path)), "-o", "out", "--limit", "100", "-q")
    assert code == 0 and len(lines_of(tmp_path / "out" / "documents.jsonl")) == 8
    stdin = b"".join(orjson.dumps({"id": f"s{i}", "text": PROSE.format(i)}) + b"\n" for i in range(9))
    code, out, _ = invoke("run", "-", "-o", "-", "--limit", "2", "-q", stdin=stdin)
    assert code == 0 and [orjson.loads(line)["id"] for line in out.splitlines()] == ["s0", "s1"]


def test_limit_through_the_library(tmp_path: Path) -> None:
    folder = limited_inputs(tmp_path)
    result = run_batch([str(folder)], str(tmp_path / "lib"), Config.from_mapping({"input": {"limit": 4}}), workers=1)
    assert result.stats.read == 4 and result.stats.balanced


# -- help lists what is installed; an unreachable scheduler --------------------------------------------


def test_format_and_executor_help_list_the_installed_components() -> None:
    code, out, _ = invoke("run", "--help")
    assert code == 0
    flat = " ".join(out.split())
    assert re.search(r"--format TEXT Exporter to write with \(default: jsonl\)\. Installed: jsonl, .*parquet", flat)
    assert re.search(r"Installed: inprocess, pool", flat)


def test_an_unreachable_scheduler_is_one_line_and_exit_2(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    (tmp_path / "normkit.toml").write_text("[run.executors.dask]\nconnect_timeout = 0.5\n")
    source = str(emptied_input(tmp_path))
    started = time.monotonic()
    code, _, err = invoke("run", source, "-o", "out", "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9")
    assert code == 2, err
    assert time.monotonic() - started < 20
    assert err.startswith("normkit: error: dask scheduler tcp://127.0.0.1:9: no connection")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
