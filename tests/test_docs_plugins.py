"""docs/plugins.md shows one runnable example per hook: every example is run here through the ``normkit`` command.

Each ```python block of the page whose first line is ``# <dir>/<file>.py`` is written to ``tmp_path/<dir>/<file>.py``
(with the ```json file a block is introduced as, and the page's ``normkit.toml``), then the CLI runs with
``--plugins-dir tmp_path/<dir>`` on small invented input and the tests look at what it wrote.
"""

from __future__ import annotations

import ast
import codecs
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import normkit
import normkit.text
from normkit import hookspecs
from normkit.cli import cli

DOCS = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"
HOOKS = sorted(n for n, f in inspect.getmembers(hookspecs, inspect.isfunction) if n.startswith("normkit_"))
PUBLIC = {"normkit": set(normkit.__all__), "normkit.text": set(normkit.text.__all__)}

_PYTHON = re.compile(r"^```python\n(# (?P<path>[\w-]+/[\w-]+\.py)\n.*?)^```$", re.M | re.S)
#: a JSON file is introduced by the line before its block: "Saved beside it as `my_plugins/x.schema.json`:"
_JSON = re.compile(r"`(?P<path>[\w-]+/[\w.-]+\.json)`:\n\n```json\n(?P<body>.*?)^```$", re.M | re.S)
_TOML = re.compile(r"^```toml\n(# normkit\.toml\n.*?)^```$", re.M | re.S)


def _files() -> dict[str, str]:
    """Every file the page shows in full, by its path relative to the folder the examples live in."""
    text = DOCS.read_text("utf-8")
    files = {m["path"]: m[1] for m in _PYTHON.finditer(text)}
    files |= {m["path"]: m["body"] for m in _JSON.finditer(text)}
    files |= {"normkit.toml": m[1] for m in _TOML.finditer(text)}  # noqa: B035 - the page has one
    return files


FILES = _files()
EXAMPLES = {path: source for path, source in FILES.items() if path.startswith("my_plugins/")}


@pytest.fixture
def plugins(tmp_path: Path) -> Path:
    """The examples of docs/plugins.md saved as ``tmp_path/my_plugins``, what ``--plugins-dir`` is given."""
    for path, source in FILES.items():
        if path != "normkit.toml":
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / path).write_text(source, "utf-8")
    return tmp_path / "my_plugins"


def normkit_cli(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def by_id(output: Path) -> dict[str, dict[str, Any]]:
    return {doc["id"]: doc for doc in records(output / "documents.jsonl")}


BODY = [
    "The harbour reopened on Monday after six weeks of repairs to the old stone quay.",
    "Ferries to the islands run every hour again, and the first one left full at seven.",
]


# -- the page itself ------------------------------------------------------------------------------------------


def test_the_examples_are_found() -> None:
    assert set(EXAMPLES) >= {
        "my_plugins/tsv_loader.py",
        "my_plugins/sponsored.py",
        "my_plugins/tsv_exporter.py",
        "my_plugins/tsv_schema.py",
        "my_plugins/tsv-row.schema.json",
        "my_plugins/news_example.py",
        "my_plugins/serial_log.py",
        "my_plugins/inkwell_charset.py",
        "my_plugins/edit_stats.py",
    }
    assert "normkit.toml" in FILES and "tests/test_sponsored.py" in FILES


def _implemented_hooks(source: str) -> set[str]:
    return {node.name for node in ast.walk(ast.parse(source)) if isinstance(node, ast.FunctionDef)} & set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_an_example(hook: str) -> None:
    """A hook added to normkit/hookspecs.py without an example on the page fails here."""
    assert any(hook in _implemented_hooks(source) for path, source in EXAMPLES.items() if path.endswith(".py"))


@pytest.mark.parametrize("path", sorted(p for p in FILES if p.endswith(".py")))
def test_examples_import_only_the_public_api(path: str) -> None:
    allowed = {**PUBLIC, "normkit.testing": {"registered", "run_pipeline"}} if path.startswith("tests/") else PUBLIC
    for node in ast.walk(ast.parse(FILES[path])):
        if isinstance(node, ast.Import):
            engine = [alias.name for alias in node.names if alias.name.startswith("normkit")]
            assert not engine, f"{path}: import {engine}"
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("normkit"):
            assert node.module in allowed, f"{path}: from {node.module} import ..."
            assert {a.name for a in node.names} <= allowed[node.module], f"{path}: not exported by {node.module}"


@pytest.mark.parametrize("path", sorted(p for p in EXAMPLES if p.endswith(".py")))
def test_examples_are_short(path: str) -> None:
    assert len(EXAMPLES[path].splitlines()) <= 50, "an example should fit on a screen"


# -- one test per hook, each through the command line ---------------------------------------------------------


def test_loader_reads_tsv(plugins: Path, tmp_path: Path) -> None:
    """normkit_register_loaders: rows become documents (escapes undone, extra columns in metadata); a short
    row is a reject naming the plugin and its line."""
    (tmp_path / "feed.tsv").write_text(
        "id\ttitle\ttext\tsection\n"
        f"h1\tHarbour reopens\t{BODY[0]}\\n{BODY[1]}\tlocal\n"
        "\n"
        f"w1\tRain ahead\t{BODY[0]} It\\tends\\\\here.\tweather\n"
        "x1\tno text cell\n",
        "utf-8",
    )
    result = normkit_cli("run", "feed.tsv", "-o", "out", "--plugins-dir", plugins, "-q")
    assert result.exit_code == 1, result.output  # one row rejected
    docs = by_id(tmp_path / "out")
    assert set(docs) == {"h1", "w1"}
    assert docs["h1"]["text"] == "\n".join(BODY) and docs["h1"]["title"] == "Harbour reopens"
    assert docs["h1"]["metadata"] == {"section": "local"}
    assert docs["h1"]["origin"] == {"path": "feed.tsv", "line": 2}
    assert docs["w1"]["text"] == f"{BODY[0]} It\tends\\here." and docs["w1"]["origin"]["line"] == 4
    [reject] = records(tmp_path / "out" / "rejects.jsonl")
    assert reject["plugin"] == "tsv_loader" and reject["hook"] == "load" and reject["origin"]["line"] == 5
    assert reject["reason"].startswith("2 cells under the header")


def test_stage_drops_sponsored_lines(plugins: Path, tmp_path: Path) -> None:
    """normkit_register_stages: with the page's normkit.toml, marker lines go, each an Edit naming the plugin."""
    (tmp_path / "normkit.toml").write_text(FILES["normkit.toml"], "utf-8")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(f"Harbour reopens\n\nSponsored\n{BODY[0]}\n\n{BODY[1]}\n", "utf-8")
    (tmp_path / "in" / "b.txt").write_text(f"Rain ahead\n\n{BODY[0]}\n\nPAID POST\n{BODY[1]}\n", "utf-8")
    (tmp_path / "in" / "c.txt").write_text(f"Quiet day\n\n{BODY[0]}\n\n{BODY[1]}\n", "utf-8")
    result = normkit_cli("run", "in", "-o", "out", "--config", "normkit.toml", "--plugins-dir", plugins, "-q")
    assert result.exit_code == 0, result.output
    docs = {doc["title"]: doc for doc in records(tmp_path / "out" / "documents.jsonl")}
    assert docs["Harbour reopens"]["text"] == f"{BODY[0]}\n\n{BODY[1]}"
    assert docs["Rain ahead"]["text"] == f"{BODY[0]}\n\n{BODY[1]}"
    removed = {title: [e for e in doc["edits"] if e["stage"] == "drop_sponsored"] for title, doc in docs.items()}
    assert removed["Harbour reopens"] == [
        {"stage": "drop_sponsored", "action": "removed", "rule": "sponsored", "line": 1, "before": "Sponsored"}
        | {"plugin": "sponsored"}
    ]
    assert [e["before"] for e in removed["Rain ahead"]] == ["PAID POST"]  # a configured marker, in any case
    assert removed["Quiet day"] == []
    report = json.loads((tmp_path / "out" / "report.json").read_text("utf-8"))
    assert report["pipeline"][4] == "drop_sponsored" and report["stages"]["drop_sponsored"]["documents_changed"] == 2


def test_exporter_writes_tsv_that_validate_reads_back(plugins: Path, tmp_path: Path) -> None:
    """normkit_register_exporters: --format tsv writes escaped rows; `normkit validate` reads them back with
    the exporter's `read` (exit 0), and a row with the wrong number of cells is a syntax error (exit 1)."""
    (tmp_path / "in.jsonl").write_text(
        json.dumps({"id": "h1", "title": "Harbour reopens", "text": "\n".join(BODY)})
        + "\n"
        + json.dumps({"id": "w1", "title": "", "text": f"{BODY[0]}\tA tab\\and a backslash."})
        + "\n",
        "utf-8",
    )
    result = normkit_cli("run", "in.jsonl", "-o", "out", "--format", "tsv", "--plugins-dir", plugins, "-q")
    assert result.exit_code == 0, result.output
    written = (tmp_path / "out" / "documents.tsv").read_text("utf-8")
    assert written.splitlines() == [
        "id\ttitle\ttext",
        f"h1\tHarbour reopens\t{BODY[0]}\\n{BODY[1]}",
        f"w1\t\t{BODY[0]}\\tA tab\\\\and a backslash.",
    ]
    assert not (tmp_path / "out" / "documents.jsonl").exists()

    checked = normkit_cli("validate", "out", "--plugins-dir", plugins)
    assert checked.exit_code == 0, checked.output
    assert "normkit: 4 file(s), 4 record(s), 0 error(s)" in checked.stderr  # tsv rows, rejects, report, learned

    with (tmp_path / "out" / "documents.tsv").open("a", encoding="utf-8") as tsv:
        tsv.write("z1\tOnly two cells\n")
    broken = normkit_cli("validate", "out/documents.tsv", "--plugins-dir", plugins, "--format", "json")
    assert broken.exit_code == 1
    assert [json.loads(line) for line in broken.stdout.splitlines()] == [
        {
            "file": "out/documents.tsv",
            "line": 4,
            "pointer": None,
            "rule": "syntax",
            "message": "2 cells, the header has 3",
        }
    ]


def test_schema_checks_tsv_rows(plugins: Path, tmp_path: Path) -> None:
    """normkit_register_schemas: `tsv-row` is listed and printed; a document whose row breaks it is rejected at
    export, and `normkit validate` finds a broken row in a file."""
    listed = normkit_cli("schemas", "--plugins-dir", plugins)
    assert listed.exit_code == 0 and re.search(r"^tsv-row\s+A row of the tsv exporter$", listed.stdout, re.M)
    shown = normkit_cli("schemas", "tsv-row", "--plugins-dir", plugins)
    assert json.loads(shown.stdout)["required"] == ["id", "title", "text"]

    (tmp_path / "in.jsonl").write_text(
        json.dumps({"id": "h1", "title": "Harbour reopens", "text": BODY[0]})
        + "\n"
        + json.dumps({"id": "e1", "title": "Nothing to say", "text": ""})
        + "\n",
        "utf-8",
    )
    result = normkit_cli("run", "in.jsonl", "-o", "out", "--format", "tsv", "--plugins-dir", plugins, "-q")
    assert result.exit_code == 1
    [reject] = records(tmp_path / "out" / "rejects.jsonl")
    assert reject["doc_id"] == "e1" and reject["plugin"] == "tsv_exporter"
    assert reject["reason"].startswith("schema tsv-row: /text:")
    rows = (tmp_path / "out" / "documents.tsv").read_text("utf-8").splitlines()
    assert rows[1:] == [f"h1\tHarbour reopens\t{BODY[0]}"]

    with (tmp_path / "out" / "documents.tsv").open("a", encoding="utf-8") as tsv:
        tsv.write("\tNo id\tSome text.\n")
    broken = normkit_cli("validate", "out/documents.tsv", "--plugins-dir", plugins)
    assert broken.exit_code == 1
    assert broken.stdout == "out/documents.tsv:3: /id: '' should be non-empty (minLength)\n"


def test_profile_applies_to_news_example_org(plugins: Path, tmp_path: Path) -> None:
    """normkit_register_profiles: the profile's rules remove the site's furniture on news.example.org and its
    subdomains, each edit naming the profile's rule and the plugin; another site keeps those lines."""
    furniture = ["Ledger Plus: forty years of the archive for members", "Filed by the Ledger desk"]
    text = "\n".join([BODY[0], furniture[0], BODY[1], furniture[1]])
    urls = {
        "n1": "https://news.example.org/2031/04/harbour",
        "n2": "https://www.news.example.org/2031/04/ferries",
        "o1": "https://other.example.net/2031/04/harbour",
    }
    lines = [json.dumps({"id": key, "url": url, "title": "Harbour reopens", "text": text}) for key, url in urls.items()]
    (tmp_path / "crawl.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    result = normkit_cli("run", "crawl.jsonl", "-o", "out", "--plugins-dir", plugins, "-q")
    assert result.exit_code == 0, result.output
    docs = by_id(tmp_path / "out")
    for key in ("n1", "n2"):
        assert docs[key]["text"] == "\n".join(BODY)
        removed = [(e["rule"], e["before"], e.get("plugin")) for e in docs[key]["edits"] if e["stage"] == "boilerplate"]
        assert removed == [
            ("news-example:archive-pitch", furniture[0], "news_example"),
            ("news-example:desk-tag", furniture[1], "news_example"),
        ]
    assert docs["o1"]["source"] == "other.example.net" and docs["o1"]["text"] == text


def test_executor_runs_and_logs_each_task(plugins: Path, tmp_path: Path) -> None:
    """normkit_register_executors: `--executor serial` runs the batch (its tasks logged on stderr) and the
    report names it."""
    (tmp_path / "in").mkdir()
    for name in ("a", "b"):
        (tmp_path / "in" / f"{name}.txt").write_text(f"Story {name}\n\n{BODY[0]}\n\n{BODY[1]}\n", "utf-8")
    result = normkit_cli("run", "in", "-o", "out", "--executor", "serial", "--plugins-dir", plugins)
    assert result.exit_code == 0, result.output
    logged = re.findall(r"^serial: task (\d+)/(\d+) done in \d+\.\d\ds$", result.stderr, re.M)
    assert logged and all(1 <= int(i) <= int(n) for i, n in logged)
    assert "executor serial, 1 workers" in " ".join(result.stderr.split())  # the summary, however rich wraps it
    report = json.loads((tmp_path / "out" / "report.json").read_text("utf-8"))
    assert report["executor"] == "serial" and report["workers"] == 1
    assert report["documents"]["written"] == 2 and sorted(d["title"] for d in by_id(tmp_path / "out").values()) == [
        "Story a",
        "Story b",
    ]


def test_encoding_detector_reads_the_inkwell_marker(plugins: Path, tmp_path: Path) -> None:
    """normkit_detect_encoding: a file with the marker is decoded with the codec it names (and loses the
    marker line); files without it, or with an encoding configured, are left to normkit's own detection."""
    title, body = "Погода на неделю", "Завтра в городе будет тепло и солнечно, а к выходным пройдут дожди."
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "inkwell.txt").write_bytes(
        b"%INKWELL charset=koi8-r\n" + f"{title}\n\n{body}\n".encode("koi8-r")
    )
    (tmp_path / "in" / "plain.txt").write_text(f"Harbour reopens\n\n{BODY[0]}\n", "utf-8")
    result = normkit_cli("run", "in", "-o", "out", "--plugins-dir", plugins, "-q")
    assert result.exit_code == 0, result.output
    docs = {Path(doc["origin"]["path"]).name: doc for doc in records(tmp_path / "out" / "documents.jsonl")}
    inkwell = docs["inkwell.txt"]
    assert (inkwell["title"], inkwell["text"]) == (title, body)  # the marker line is not text
    assert (inkwell["decoding"]["encoding"], inkwell["decoding"]["method"]) == ("koi8-r", "forced")
    assert inkwell["edits"][0] == {"stage": "decode", "action": "decoded", "rule": "forced", "detail": "koi8-r"}
    assert docs["plain.txt"]["decoding"]["method"] == "ascii"  # normkit's own detection

    (tmp_path / "latin.toml").write_text('[stages.decode]\nencoding = "latin-1"\n', "utf-8")
    forced = normkit_cli(
        "run", "in/inkwell.txt", "-o", "out2", "--config", "latin.toml", "--plugins-dir", plugins, "-q"
    )
    assert forced.exit_code == 0, forced.output
    [doc] = records(tmp_path / "out2" / "documents.jsonl")
    assert codecs.lookup(doc["decoding"]["encoding"]).name == "iso8859-1"  # as configured, not the marker's
    assert doc["title"] == "%INKWELL charset=koi8-r"


def test_command_edit_stats(plugins: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """normkit_register_commands: `normkit edit-stats OUTPUT` counts a run's edits by stage and rule.

    The CLI adds plugin commands from ``get_plugin_manager()`` (installed plugins) the first time it looks a
    command up; here that manager is the one ``--plugins-dir`` builds, as if the example were installed.
    """
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(f"Story a\n\nSponsored\n{BODY[0]}\n\nSponsored\n{BODY[1]}\n", "utf-8")
    (tmp_path / "in" / "b.txt").write_text(f"Story b\n\nSponsored\n{BODY[0]}\nSponsored\n\nSponsored\n", "utf-8")
    (tmp_path / "normkit.toml").write_text('pipeline = ["decode", "whitespace", "headline", "drop_sponsored"]\n')
    ran = normkit_cli("run", "in", "-o", "out", "--config", "normkit.toml", "--plugins-dir", plugins, "-q")
    assert ran.exit_code == 0, ran.output

    pm = normkit.get_plugin_manager(load_entrypoints=False, plugins_dirs=[str(plugins)])
    monkeypatch.setattr("normkit.cli.get_plugin_manager", lambda **_: pm)
    monkeypatch.setattr(cli, "commands", dict(cli.commands))  # the command goes away with the test
    monkeypatch.setattr(cli, "_loaded", False)
    result = normkit_cli("edit-stats", "out")
    assert result.exit_code == 0, result.output
    counts = [line.split() for line in result.stdout.splitlines()]
    assert counts[0] == ["5", "drop_sponsored/sponsored"] and ["2", "decode/ascii"] in counts
    assert [int(count) for count, _ in counts] == sorted((int(count) for count, _ in counts), reverse=True)
    assert normkit_cli("edit-stats", "out", "--top", "1").stdout == "     5  drop_sponsored/sponsored\n"
    assert "edit-stats" in normkit_cli("--help").stdout


def test_testing_example_passes(plugins: Path, tmp_path: Path) -> None:
    """The "Testing a plugin" example, run by pytest as the page says: conftest.py, then `python -m pytest`."""
    (tmp_path / "tests" / "conftest.py").write_text('pytest_plugins = ["normkit.testing"]\n', "utf-8")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_sponsored.py"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
