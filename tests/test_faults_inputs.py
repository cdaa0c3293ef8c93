"""Fault injection on the input side (issue 12): planning, decompression caps, JSON Lines corners, regex_timeout.

Every fault test runs a real batch (``run_batch`` or the command line) and checks the accounting from
``report.json`` (read = written + rejected, and both match the files) and that each bad input has exactly one
line in ``rejects.jsonl``, with its reason. All text here is invented for the tests.

The JSON Lines fuzzer runs 120 examples in the suite; a long run sets ``NORMKIT_FUZZ_EXAMPLES`` (and prints
what it tried): ``NORMKIT_FUZZ_EXAMPLES=20000 pytest tests/test_faults_inputs.py -k fuzz -s
--hypothesis-seed=20240512``.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import stat
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import zstandard
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from normkit import Config, ConfigError, Document, Pipeline, Reject, get_plugin_manager, run_batch
from normkit.cli import cli

LIGHT = {"pipeline": ["decode", "whitespace"]}
NOTE = "A short note about the harbour: the ferry left at noon and came back before the rain.\n"
MEM = Path("/proc/self/mem")  # a regular file (to stat) whose read fails with EIO, whoever reads it


def _reads_chmod_000() -> bool:
    """Whether this process reads a file whose mode is 000 anyway: root (CAP_DAC_OVERRIDE) does."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder, "probe")
        probe.write_bytes(b"x")
        probe.chmod(0)
        try:
            probe.open("rb").close()
        except PermissionError:
            return False
        finally:
            probe.chmod(stat.S_IRUSR | stat.S_IWUSR)
        return True


OVERRIDES_PERMISSIONS = _reads_chmod_000()


# -- helpers ------------------------------------------------------------------------------------------


def within(seconds: float, step: Callable[[], Any]) -> Any:
    """``step()``, failing the test if it has not returned after ``seconds`` (a FIFO must never hang a run)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = step()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test below
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"the run did not finish within {seconds}s (blocked on an input?)")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def batch(inputs: list[str], out: Path, config: dict[str, Any] | None = None, workers: int = 1) -> dict[str, Any]:
    """Run a real batch (within a minute) and return its report."""
    configured = Config.from_mapping(config or LIGHT)
    within(60, lambda: run_batch(inputs, str(out), configured, workers=workers))
    return json.loads((out / "report.json").read_text())


def rejects_of(out: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in (out / "rejects.jsonl").read_bytes().splitlines()]


def documents_of(out: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in (out / "documents.jsonl").read_bytes().splitlines()]


def check_accounting(out: Path, expected: list[tuple[str, str]]) -> dict[str, Any]:
    """read = written + rejected, as the report says and as the files hold; each ``(path, reason part)`` in
    ``expected`` is exactly one reject, and there is no other. Returns the report's ``documents``."""
    counts = json.loads((out / "report.json").read_text())["documents"]
    rejects = rejects_of(out)
    assert counts["read"] == counts["written"] + counts["rejected"]
    assert counts["written"] == len(documents_of(out))
    assert counts["rejected"] == len(rejects)
    for path, reason in expected:
        mine = [r for r in rejects if r["origin"]["path"] == path]
        assert len(mine) == 1, (path, rejects)
        assert reason in mine[0]["reason"], (path, mine[0]["reason"])
    assert sorted(r["origin"]["path"] for r in rejects) == sorted(path for path, _ in expected)
    return dict(counts)


def good_files(folder: Path) -> int:
    """Three good inputs (two text files and a JSON Lines file of two records): 4 documents."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "harbour.txt").write_text(NOTE)
    (folder / "market.txt").write_text("Market day\n\nStalls of pears and plums lined the square until dusk.\n")
    records = [{"id": "r1", "text": "The choir sang in the old hall."}, {"id": "r2", "text": "Snow closed the pass."}]
    (folder / "notes.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return 4


def too_deep(parent: Path) -> Path:
    """A folder so deep that its path is longer than PATH_MAX: listing it fails (ENAMETOOLONG), even for root.

    Built one level at a time relative to an open descriptor, as any program can. Returns the first level.
    """
    name = "archive-" + "x" * 240
    fd = os.open(parent, os.O_RDONLY)
    try:
        for _ in range(17):  # 17 * 249 characters: past 4096
            os.mkdir(name, dir_fd=fd)
            deeper = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = deeper
        note = os.open("deep-note.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(note, NOTE.encode())
        os.close(note)
    finally:
        os.close(fd)
    return parent / name


# -- 1. planning never crashes, hangs or loses a file silently -------------------------------------------


@pytest.mark.parametrize("workers", [1, 2])
def test_every_planning_fault_in_a_folder_is_one_reject_and_the_run_goes_on(tmp_path: Path, workers: int) -> None:
    folder = tmp_path / "in"
    good = good_files(folder)
    (folder / "sub").mkdir()
    (folder / "sub" / "lighthouse.txt").write_text("The lighthouse keeper wrote every evening.\n")
    good += 1
    with open(os.fsencode(folder) + b"/caf\xe9-menu.txt", "wb") as latin1_name:  # a name in latin-1, not UTF-8
        latin1_name.write(b"Soup of the day: leek and potato.\n")
    os.symlink("gone.txt", folder / "dangling.txt")
    os.symlink("self.txt", folder / "self.txt")
    os.symlink("pong.txt", folder / "ping.txt")
    os.symlink("ping.txt", folder / "pong.txt")
    os.mkfifo(folder / "queue.txt")
    os.symlink(tmp_path, folder / "mirror")  # a link to a folder (here an ancestor): not followed
    if MEM.exists():
        os.symlink(MEM, folder / "failing-disk.txt")
    expected = [
        (f"{folder}/caf\\xe9-menu.txt", "file name is not UTF-8"),
        (f"{folder}/dangling.txt", "dangling symbolic link: its target 'gone.txt' does not exist"),
        (f"{folder}/self.txt", "symbolic link loop"),
        (f"{folder}/ping.txt", "symbolic link loop"),
        (f"{folder}/pong.txt", "symbolic link loop"),
        (f"{folder}/queue.txt", "not a regular file but a FIFO"),
        (f"{folder}/mirror", "a link to a folder, not followed"),
    ]
    if MEM.exists():
        expected.append((f"{folder}/failing-disk.txt", "cannot read input: Input/output error"))
    executor = "inprocess" if workers == 1 else "pool"  # problems travel to a worker process too
    report = batch([str(folder)], tmp_path / "out", {**LIGHT, "run": {"executor": executor}}, workers=workers)
    assert report["executor"] == executor
    counts = check_accounting(tmp_path / "out", expected)
    assert counts == {"read": good + len(expected), "written": good, "rejected": len(expected), "flagged": 0}
    assert all(r["hook"] == "load" for r in rejects_of(tmp_path / "out"))


def test_a_folder_that_cannot_be_listed_is_a_reject_not_a_silent_gap(tmp_path: Path) -> None:
    """Its files were neither written nor rejected (exit 0); now the folder is one reject."""
    folder = tmp_path / "in"
    good = good_files(folder)
    first = too_deep(folder)
    report = batch([str(folder)], tmp_path / "out")
    rejects = rejects_of(tmp_path / "out")
    assert len(rejects) == 1
    (unlisted,) = rejects
    assert unlisted["origin"]["path"].startswith(str(first)) and len(unlisted["origin"]["path"]) > 4000
    assert "cannot read folder: File name too long; none of its files were read" in unlisted["reason"]
    check_accounting(tmp_path / "out", [(unlisted["origin"]["path"], "cannot read folder")])
    assert report["documents"]["written"] == good


@pytest.mark.skipif(
    OVERRIDES_PERMISSIONS, reason="this process (root) reads chmod 000: the EIO and ENAMETOOLONG tests cover it"
)
def test_chmod_000_file_and_folder_are_rejects(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    good = good_files(folder)
    (folder / "locked.txt").write_text(NOTE)
    (folder / "locked.txt").chmod(0)
    (folder / "private").mkdir()
    (folder / "private" / "diary.txt").write_text(NOTE)
    (folder / "private").chmod(0)
    try:
        batch([str(folder)], tmp_path / "out")
    finally:
        (folder / "private").chmod(stat.S_IRWXU)
        (folder / "locked.txt").chmod(stat.S_IRUSR | stat.S_IWUSR)
    expected = [
        (f"{folder}/locked.txt", "cannot read input: Permission denied"),
        (f"{folder}/private", "cannot read folder: Permission denied"),
    ]
    assert check_accounting(tmp_path / "out", expected)["written"] == good


def test_named_bad_paths_on_the_command_line_are_rejects_with_exit_1(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    good_files(folder)
    os.symlink("gone.txt", folder / "dangling.txt")
    os.symlink("self.txt", folder / "self.txt")
    os.mkfifo(folder / "queue.jsonl")
    named = ["harbour.txt", "missing.txt", "dangling.txt", "self.txt", "queue.jsonl", "notes.jsonl"]
    args = ["run", *(str(folder / name) for name in named), "-o", str(tmp_path / "out"), "-q"]
    result = within(60, lambda: CliRunner().invoke(cli, args, catch_exceptions=False))
    assert result.exit_code == 1, result.stderr
    expected = [
        (f"{folder}/missing.txt", "no such file or directory"),
        (f"{folder}/dangling.txt", "dangling symbolic link"),
        (f"{folder}/self.txt", "symbolic link loop"),
        (f"{folder}/queue.jsonl", "not a regular file but a FIFO (named pipe): pipe it to standard input as '-'"),
    ]
    assert check_accounting(tmp_path / "out", expected) == {"read": 7, "written": 3, "rejected": 4, "flagged": 0}
    for path, _ in expected:
        assert path in result.stderr


def test_byte_ranges_of_a_large_jsonl_file_are_planned_beside_the_faults(tmp_path: Path) -> None:
    """A JSON Lines file cut into many ranges (small shard size) and the planning faults in one folder."""
    folder = tmp_path / "in"
    folder.mkdir()
    lines = [orjson.dumps({"id": f"tide-{i}", "text": f"Tide table entry {i}: high water at {i % 12 + 1} o'clock."})
             for i in range(400)]  # fmt: skip
    (folder / "tides.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    os.mkfifo(folder / "tides-live.jsonl")
    os.symlink("tides-old.jsonl", folder / "tides-archive.jsonl")
    config = {**LIGHT, "run": {"shard_size": 2048}}
    report = batch([str(folder)], tmp_path / "out", config)
    assert report["shards"]["total"] > 10  # the big file was cut into ranges
    expected = [
        (f"{folder}/tides-live.jsonl", "FIFO"),
        (f"{folder}/tides-archive.jsonl", "dangling symbolic link"),
    ]
    assert check_accounting(tmp_path / "out", expected)["written"] == 400
    assert [d["id"] for d in documents_of(tmp_path / "out")] == [f"tide-{i}" for i in range(400)]


# -- 2. decompression has a cap -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """200 MiB of zeros as .txt.gz (about 200 KB) and .txt.zst (about 6 KB), and a .jsonl.gz whose second
    line is a 200 MiB record between two good ones; all made in 1 MiB pieces, never whole in memory."""
    folder = tmp_path_factory.mktemp("bombs")
    zeros = bytes(1 << 20)
    gz = zlib.compressobj(9, zlib.DEFLATED, 31)
    zst = zstandard.ZstdCompressor(level=3).compressobj()
    with open(folder / "zeros.txt.gz", "wb") as a, open(folder / "zeros.txt.zst", "wb") as b:
        for _ in range(200):
            a.write(gz.compress(zeros))
            b.write(zst.compress(zeros))
        a.write(gz.flush())
        b.write(zst.flush())
    line = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(folder / "long-line.jsonl.gz", "wb") as c:
        c.write(line.compress(b'{"id": "before", "text": "The first record is short."}\n{"id": "huge", "text": "'))
        letters = b"a" * (1 << 20)
        for _ in range(200):
            c.write(line.compress(letters))
        c.write(line.compress(b'"}\n{"id": "after", "text": "The last record is short too."}\n'))
        c.write(line.flush())
    return {p.name: p for p in folder.iterdir()}


MEASURE = """
import json, resource, sys, tracemalloc
from normkit import Config, run_batch
inputs, out, config = json.loads(sys.argv[1])
tracemalloc.start()
run_batch(inputs, out, Config.from_mapping(config), workers=1)
peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({"traced_peak": peak, "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""


def measured(inputs: list[str], out: Path, config: dict[str, Any]) -> dict[str, int]:
    """Run a batch in a fresh process: its peak of traced Python memory and its peak RSS, in bytes."""
    env = {**os.environ, "NORMKIT_LOAD_PLUGINS": ""}
    args = [sys.executable, "-c", MEASURE, json.dumps([inputs, str(out), config])]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env, cwd=out.parent, check=True)
    return dict(json.loads(done.stdout.splitlines()[-1]))


@pytest.fixture(scope="module")
def baseline_rss(tmp_path_factory: pytest.TempPathFactory) -> int:
    folder = tmp_path_factory.mktemp("baseline")
    good_files(folder / "in")
    return measured([str(folder / "in")], folder / "out", LIGHT)["maxrss"]


RATIO = "expands to more than 100 times its compressed size (input.max_compression_ratio = 100"
CAPPED = "longer than input.max_document_bytes = 1048576"
LIFTED = {"max_document_bytes": 1 << 20, "max_compression_ratio": 1e6}


@pytest.mark.parametrize(
    ("caps", "reason"),
    [
        ({}, RATIO),  # the defaults alone: the ratio trips after 1 MiB (gzip of zeros is 1000:1, zstd 32000:1)
        (LIFTED, CAPPED),  # the ratio lifted: the document cap stops each text file, and the long line, at 1 MiB
    ],
    ids=["default-caps", "ratio-lifted"],
)
def test_decompression_bombs_are_rejects_in_bounded_memory(
    tmp_path: Path, bombs: dict[str, Path], baseline_rss: int, caps: dict[str, Any], reason: str
) -> None:
    """Three 200 MiB bombs beside good files, in one run in a fresh process: one reject each, naming the cap
    and the file; the good documents (and the records around the long line) are written; memory stays flat."""
    folder = tmp_path / "in"
    good = good_files(folder)
    for name, bomb in bombs.items():
        (folder / name).write_bytes(bomb.read_bytes())
    memory = measured([str(folder)], tmp_path / "out", {**LIGHT, "input": caps})
    counts = check_accounting(tmp_path / "out", [(f"{folder}/{name}", reason) for name in bombs])
    ids = [d["id"] for d in documents_of(tmp_path / "out") if d["id"] in ("before", "huge", "after")]
    if caps:  # the long line is one reject; the records before and after it are read
        assert counts["written"] == good + 2 and ids == ["before", "after"]
        line = next(r for r in rejects_of(tmp_path / "out") if r["origin"]["path"].endswith(".jsonl.gz"))
        assert line["origin"]["line"] == 2
    else:  # the ratio trips inside the long line: the record before it stays
        assert counts["written"] == good + 1 and ids == ["before"]
    for reject in rejects_of(tmp_path / "out"):
        assert reject["origin"]["path"] in reject["reason"]  # the reason names the file too
    # 200 MiB would come out of each bomb uncapped; capped, memory grows by a few MiB at most
    print(f"\nmemory {caps or 'defaults'}: {memory}, baseline rss {baseline_rss}", file=sys.stderr)
    assert memory["traced_peak"] < 40 << 20, memory
    assert memory["maxrss"] - baseline_rss < 80 << 20, (memory, baseline_rss)


def test_the_records_before_a_ratio_trip_stay_and_the_rest_is_one_reject(tmp_path: Path) -> None:
    """A highly repetitive .jsonl.gz with a low ratio cap: what was read stays, the rest is one reject."""
    folder = tmp_path / "in"
    folder.mkdir()
    record = b'{"text": "The bell rang at the hour, as it does every hour, all day long."}\n'
    (folder / "bells.jsonl.gz").write_bytes(gzip.compress(record * 40_000, 9))
    report = batch([str(folder)], tmp_path / "out", {**LIGHT, "input": {"max_compression_ratio": 20}})
    counts = check_accounting(tmp_path / "out", [(f"{folder}/bells.jsonl.gz", "input.max_compression_ratio = 20")])
    assert 0 < counts["written"] < 40_000 and counts["rejected"] == 1
    assert report["documents"]["read"] == counts["written"] + 1


def test_caps_are_configurable_and_checked(tmp_path: Path) -> None:
    config = Config.from_mapping({"input": {"max_document_bytes": 10, "max_compression_ratio": 2.5}})
    assert (config.max_document_bytes, config.max_compression_ratio) == (10, 2.5)
    assert (Config().max_document_bytes, Config().max_compression_ratio) == (64 << 20, 100.0)
    schema = json.loads((Path(__file__).parent.parent / "schemas" / "config.schema.json").read_text())
    props = schema["properties"]["input"]["properties"]
    assert (props["max_document_bytes"]["default"], props["max_compression_ratio"]["default"]) == (64 << 20, 100)
    for bad in ({"max_document_bytes": 0}, {"max_compression_ratio": 0.5}, {"max_document_bytes": "64MB"}):
        with pytest.raises(ConfigError, match=r"input\.max_"):
            Config.from_mapping({"input": bad})
    # a text file over a 10-byte cap, one under it: one reject, one document
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "long.txt").write_text("Eleven byte")
    (folder / "short.txt").write_text("Ten bytes!")
    batch([str(folder)], tmp_path / "out", {**LIGHT, "input": {"max_document_bytes": 10}})
    check_accounting(tmp_path / "out", [(f"{folder}/long.txt", "longer than input.max_document_bytes = 10")])


# -- 3. JSON Lines: BOM, integers beyond 64 bits, duplicate keys ------------------------------------------


def test_a_byte_order_mark_does_not_reject_the_first_record(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    records = b'{"id": "first", "text": "Written by a tool that adds a BOM."}\n{"id": "second", "text": "Fine."}\n'
    (folder / "bom.jsonl").write_bytes(b"\xef\xbb\xbf" + records)
    (folder / "joined.jsonl").write_bytes(records + b"\xef\xbb\xbf" + records)  # two files concatenated
    (folder / "only-bom.jsonl").write_bytes(b"\xef\xbb\xbf\n")  # an empty file saved with a BOM: no record
    batch([str(folder)], tmp_path / "out")
    check_accounting(tmp_path / "out", [])
    assert [d["id"] for d in documents_of(tmp_path / "out")] == ["first", "second"] * 3


def test_integers_beyond_64_bits_are_exact_or_a_reject_never_a_float(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    big, small = 2**70 + 1, -(2**63) - 1
    lines = [
        b'{"id": %d, "text": "A 71-bit id stays digit for digit."}' % big,
        b'{"id": "u64", "text": "64-bit values stay.", "n": 18446744073709551615, "m": -9223372036854775808}',
        b'{"id": "float", "text": "A large float stays a float.", "views": 1e20, "note": "12345678901234567890123"}',
        b'{"id": "meta", "text": "A big integer in metadata.", "counts": {"stars": %d}}' % small,
        b'{"id": "list", "text": "In a list too.", "ids": [1, 2, %d]}' % big,
        b'{"id": "deep", "text": "Deep.", "x": ' + b"[" * 990 + b"%d" % big + b"]" * 990 + b"}",
    ]
    (folder / "numbers.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    batch([str(folder)], tmp_path / "out")
    path = f"{folder}/numbers.jsonl"
    rejects = rejects_of(tmp_path / "out")
    assert [(r["origin"]["line"], r["doc_id"]) for r in rejects] == [(4, "meta"), (5, "list"), (6, "deep")]
    assert all(r["plugin"] == "loader_jsonl" for r in rejects)
    assert "metadata field 'counts' holds an integer beyond 64 bits" in rejects[0]["reason"]
    assert "metadata field 'ids'" in rejects[1]["reason"]
    assert "nested too deep" in rejects[2]["reason"] or "beyond 64 bits" in rejects[2]["reason"]
    assert all(r["origin"]["path"] == path for r in rejects)
    docs = documents_of(tmp_path / "out")
    assert [d["id"] for d in docs] == [str(big), "u64", "float"]
    assert docs[1]["metadata"] == {"n": 18446744073709551615, "m": -9223372036854775808}
    assert docs[2]["metadata"] == {"views": 1e20, "note": "12345678901234567890123"}
    counts = json.loads((tmp_path / "out" / "report.json").read_text())["documents"]
    assert counts == {"read": 6, "written": 3, "rejected": 3, "flagged": 0}


def test_a_repeated_key_keeps_its_last_value_as_documented(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    line = b'{"id": "dup", "text": "The draft.", "lang": "fr", "text": "The final text.", "lang": "en"}\n'
    (folder / "dup.jsonl").write_bytes(line)
    batch([str(folder)], tmp_path / "out")
    check_accounting(tmp_path / "out", [])
    (doc,) = documents_of(tmp_path / "out")
    assert doc["text"] == "The final text." and doc["metadata"] == {"lang": "en"}
    import normkit_plugins.loader_jsonl as loader

    assert "Duplicate keys" in (loader.__doc__ or "") and "keep the last value" in (loader.__doc__ or "")


# -- 4. regex_timeout = 0 ---------------------------------------------------------------------------------


def test_regex_timeout_0_is_a_config_error_naming_the_minimum(tmp_path: Path) -> None:
    (tmp_path / "normkit.toml").write_text(
        '[stages.boilerplate]\nregex_timeout = 0\nrules = [{ id = "greeting", pattern = "abc" }]\n'
    )
    (tmp_path / "in.txt").write_text(NOTE)
    args = ["run", str(tmp_path / "in.txt"), "-o", str(tmp_path / "out"), "--config", str(tmp_path / "normkit.toml")]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 2
    assert "stages.boilerplate.regex_timeout: 0 is less than the minimum of 0.001" in result.stderr
    from normkit_plugins._boilerplate_rules import RuleSet

    with pytest.raises(ValueError, match="more than 0 seconds"):
        RuleSet([], trusted=False, timeout=0)


def test_the_smallest_regex_timeout_matches_a_plain_pattern(tmp_path: Path) -> None:
    """At the minimum, 'abc' is neither catastrophic at start-up nor timed out on a line."""
    folder = tmp_path / "in"
    folder.mkdir()
    body = "".join(f"{NOTE.strip()} It was day {n} of the season, and the quay was busy.\n\n" for n in range(6))
    (folder / "page.txt").write_text("Harbour news\n\nabc\n\n" + body)
    config = {"stages": {"boilerplate": {"regex_timeout": 0.001, "rules": [{"id": "letters", "pattern": "abc"}]}}}
    batch([str(folder)], tmp_path / "out", config)
    check_accounting(tmp_path / "out", [])
    (doc,) = documents_of(tmp_path / "out")
    assert "abc" not in doc["text"].split("\n")
    assert [e["rule"] for e in doc["edits"] if e.get("before") == "abc"] == ["config:letters"]
    assert not [f for f in doc.get("flags", []) if f["code"] == "rule-timeout"]


# -- 5. a fuzzer over the JSON Lines loader ---------------------------------------------------------------

#: NORMKIT_FUZZ_EXAMPLES raises the number of examples for a long run (the suite keeps it small).
FUZZ_EXAMPLES = int(os.environ.get("NORMKIT_FUZZ_EXAMPLES", "120"))
FUZZ_SEEN = {"files": 0, "lines": 0, "documents": 0, "rejects": 0}

json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
    | st.integers(min_value=-(2**80), max_value=2**80),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)  # fmt: skip
records = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.text(max_size=8), st.integers(-(2**90), 2**90)),
        "text": st.one_of(st.text(max_size=40), st.integers(), st.none()),
        "title": st.text(max_size=10),
        "url": st.sampled_from(["https://www.example.org/a", "not a url", "http://[", ""]),
        "meta": json_values,
    },
).map(lambda r: json.dumps(r).encode())
nested = st.integers(1, 1100).map(lambda n: b'{"text": "x", "n": ' + b"[" * n + b"1" + b"]" * n + b"}")
huge_numbers = st.sampled_from([b"9" * n for n in (19, 20, 40, 309, 310, 5000)]).map(
    lambda digits: b'{"text": "count", "n": ' + digits + b', "m": -' + digits + b"}"
)
raw = st.binary(max_size=80)
one_line = st.tuples(
    st.sampled_from([b"", b"\xef\xbb\xbf", b"\xef\xbb", b"\xff\xfe", b" \t"]),
    st.one_of(records, nested, huge_numbers, raw, records.map(lambda b: b[: len(b) // 2])),
).map(lambda parts: (parts[0] + parts[1]).replace(b"\n", b" "))


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(one_line, min_size=1, max_size=8), st.booleans())
def test_fuzz_every_jsonl_line_is_a_document_or_a_reject(lines: list[bytes], end_newline: bool) -> None:
    """Arbitrary bytes per line (invalid UTF-8, BOMs, deep nesting, huge numbers, cut records): the loader and
    the stages after it never raise, and each non-blank line is exactly one document or one reject."""
    pipeline = _fuzz_pipeline()
    data = b"\n".join(lines) + (b"\n" if end_newline else b"")
    loader = pipeline.loader_for("fuzz.jsonl")
    items = list(loader.load(io.BufferedReader(io.BytesIO(data)), "fuzz.jsonl"))  # type: ignore[arg-type]
    expected = [n for n, line in enumerate(lines, 1) if line.removeprefix(b"\xef\xbb\xbf").strip(b" \t\r\n\x0b\x0c")]
    assert [item.origin.line for item in items] == expected
    for item in items:
        assert isinstance(item, Document | Reject)
        outcome = item if isinstance(item, Reject) else pipeline.finish(item)
        assert isinstance(outcome, dict | Reject)
        if isinstance(outcome, dict):
            assert all(-(2**63) <= n < 2**64 for n in _integers(outcome.get("metadata")))  # no output refuses one
    FUZZ_SEEN["files"] += 1
    FUZZ_SEEN["lines"] += len(lines)
    FUZZ_SEEN["documents"] += sum(isinstance(i, Document) for i in items)
    FUZZ_SEEN["rejects"] += sum(isinstance(i, Reject) for i in items)


def _integers(value: Any) -> Iterator[int]:
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is int:
            yield item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


_PIPELINES: dict[str, Pipeline] = {}


def _fuzz_pipeline() -> Pipeline:
    if "p" not in _PIPELINES:
        _PIPELINES["p"] = Pipeline(Config.from_mapping(LIGHT), pm=get_plugin_manager(load_entrypoints=False))
    return _PIPELINES["p"]


@pytest.fixture(scope="module", autouse=True)
def _report_fuzz_counts() -> Iterator[None]:
    yield
    if os.environ.get("NORMKIT_FUZZ_EXAMPLES"):
        print(f"\nfuzz: {FUZZ_SEEN}", file=sys.stderr)
