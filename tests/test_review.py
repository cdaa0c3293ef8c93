"""``normkit report``: the review page, checked as text and, in a real headless Chromium, as a person sees it."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import normkit.review
from normkit.cli import cli
from normkit.cli.report import report_command
from normkit.errors import NormkitError
from normkit.review import write_review

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOPICS = ["the ferry timetable", "a pottery fair", "the orchard harvest", "night market stalls", "a choir rehearsal"]


def _write_inputs(root: Path) -> Path:
    """Invented pages: one folder whose pages share bars (so the learning pass learns them), one of notes."""
    inputs = root / "inputs"
    (inputs / "harbourtimes").mkdir(parents=True)
    (inputs / "notes").mkdir()
    for number in range(6):
        topic = TOPICS[number % len(TOPICS)]
        body = "\n\n".join(
            f"Part {part} on {topic}: the organisers said {topic} drew a crowd of neighbours, and they plan "
            f"another round next month if the weather holds and the hall stays free."
            for part in range(3)
        )
        extra = "\n\nA reader wrote <script>alert(1)</script> in the guest book, the organisers said.\n"
        text = (
            f"Weekly column on {topic}\n4 min read\nShare this article\n\n{body}"
            f"{extra if number == 2 else ''}\n\nPhoto: Sam Rivers/Harbour Desk\nFiled under Harbour Life\n"
        )
        (inputs / "harbourtimes" / f"page{number}.txt").write_text(text, encoding="utf-8")
    (inputs / "notes" / "n1.txt").write_text(
        "Gull count <img src=x onerror=alert(2)>\nThirty gulls sat on the pier rail this morning, more than "
        "any week since spring, a volunteer counted.\n",
        encoding="utf-8",
    )
    (inputs / "notes" / "empty.txt").write_text("", encoding="utf-8")
    return inputs


@pytest.fixture(scope="module")
def output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One output folder for the module: a real ``normkit run`` (in process, so it takes a moment)."""
    root = tmp_path_factory.mktemp("review")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NORMKIT_LOAD_PLUGINS", "")
        patch.chdir(root)
        inputs = _write_inputs(root)
        result = CliRunner().invoke(cli, ["run", str(inputs), "-o", str(root / "out"), "-q", "--executor", "inprocess"])
    assert result.exit_code == 1, result.output  # the empty page is rejected
    return root / "out"


@pytest.fixture
def folder(output: Path, tmp_path: Path) -> Path:
    """A copy of the output folder a test may change (links copied as links)."""
    return Path(shutil.copytree(output, tmp_path / "out", symlinks=True))


def _report(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    return data


def test_default_path_and_headline_counts(folder: Path) -> None:
    result = CliRunner().invoke(report_command, [str(folder)])
    assert result.exit_code == 0, result.output
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert result.stdout.strip() == str(folder / "report.html")
    for name, count in _report(folder)["documents"].items():
        assert f'data-metric="{name}" data-count="{count}"' in page
    assert "http://" not in page.split("<body>")[0] and "<link" not in page  # nothing to load: all inline


def test_document_text_is_shown_as_text_never_markup(folder: Path) -> None:
    page = write_review(folder).read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "<script>alert" not in page and "<img" not in page
    assert page.count("<script") == 1  # the page's own, allowed by its hash in the Content-Security-Policy


def test_learned_lines_per_source_with_counts(folder: Path) -> None:
    learned = json.loads((folder / "learned-boilerplate.json").read_text(encoding="utf-8"))
    page = write_review(folder).read_text(encoding="utf-8")
    lines = learned["sources"]["harbourtimes"]
    assert lines and 'data-source="harbourtimes"' in page
    for line in lines:
        assert f'<tr class="learned-line" data-count="{line["documents"]}"><td class="mono">{line["text"]}' in page


def test_not_an_output_folder_is_one_line_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(report_command, [str(tmp_path)])
    assert result.exit_code == 2 and "no report.json" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "report.html").exists()
    (tmp_path / "report.json").write_text("{not json", encoding="utf-8")
    result = CliRunner().invoke(report_command, [str(tmp_path)])
    assert result.exit_code == 2 and "not valid JSON" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "report.html").exists()


def test_a_linked_part_file_is_named_not_followed(folder: Path, tmp_path: Path) -> None:
    parts = folder / ".normkit" / "parts"
    records = next(parts.glob("*.records.jsonl"))
    planted = tmp_path / "planted.jsonl"
    shutil.copy(records, planted)
    planted.write_text(planted.read_text(encoding="utf-8").replace("Part 0", "PLANTED ELSEWHERE"), encoding="utf-8")
    records.unlink()
    os.symlink(planted, records)
    with pytest.raises(NormkitError, match="symbolic link"):
        write_review(folder)
    assert not (folder / "report.html").exists()
    result = CliRunner().invoke(report_command, [str(folder), "-o", str(tmp_path / "page.html")])
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "page.html").exists()


def test_a_linked_parts_folder_is_named_not_followed(folder: Path, tmp_path: Path) -> None:
    parts = folder / ".normkit" / "parts"
    shutil.move(parts, tmp_path / "parts")
    os.symlink(tmp_path / "parts", parts)
    with pytest.raises(NormkitError, match="symbolic link"):
        write_review(folder)


def test_a_linked_report_is_named_not_followed(folder: Path, tmp_path: Path) -> None:
    shutil.move(folder / "report.json", tmp_path / "report.json")
    os.symlink(tmp_path / "report.json", folder / "report.json")
    result = CliRunner().invoke(report_command, [str(folder)])
    assert result.exit_code == 2 and "symbolic link" in result.stderr and not (folder / "report.html").exists()


def test_edits_that_do_not_fit_show_the_output_with_a_note(folder: Path) -> None:
    records = next((folder / ".normkit" / "parts").glob("*.records.jsonl"))
    rows = [json.loads(line) for line in records.read_text(encoding="utf-8").splitlines()]
    rows[0]["text"] = "a text the edits were not made on"
    records.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    page = write_review(folder).read_text(encoding="utf-8")
    assert page.count('data-replay="failed"') == 1 and "a text the edits were not made on" in page


def test_long_documents_show_their_edits_with_context(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(normkit.review, "MAX_DOCUMENT_LINES", 6)
    monkeypatch.setattr(normkit.review, "CONTEXT_LINES", 0)
    page = write_review(folder).read_text(encoding="utf-8")
    assert "unchanged lines not shown" in page and "more lines not shown" in page


def _documents(page: str) -> list[str]:
    return re.findall(r'<article class="doc" id="[^"]+" data-doc="([^"]+)" data-removed="(\d+)"', page)


def test_documents_bound_is_respected_and_the_choice_is_deterministic(folder: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(report_command, [str(folder), "--documents", "2", "-o", str(tmp_path / "a.html")])
    assert result.exit_code == 0, result.output
    first = (tmp_path / "a.html").read_text(encoding="utf-8")
    shown = _documents(first)
    assert len(shown) == 2 and all(int(removed) > 0 for _, removed in shown)  # edited documents first
    assert write_review(folder, tmp_path / "b.html", documents=2).read_text(encoding="utf-8") == first
    assert _documents(write_review(folder, tmp_path / "c.html", documents=0).read_text(encoding="utf-8")) == []
    everything = write_review(folder, tmp_path / "d.html").read_text(encoding="utf-8")
    assert len(_documents(everything)) == _report(folder)["documents"]["written"]


def test_samples_per_rule_are_bounded(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(normkit.review, "SAMPLES_PER_RULE", 2)
    page = write_review(folder).read_text(encoding="utf-8")
    groups = page.split('<div class="rule-samples"')[1:]
    assert groups and all(group.count('<li class="sample"') <= 2 for group in groups)
    assert any(group.count('<li class="sample"') == 2 for group in groups)


# --- in a real browser ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium through Playwright; skipped when missing, unless NORMKIT_REQUIRE_BROWSER=1."""
    required = os.environ.get("NORMKIT_REQUIRE_BROWSER") == "1"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if required:
            pytest.fail("NORMKIT_REQUIRE_BROWSER=1 but playwright is not installed (pip install normkit[browser])")
        pytest.skip("playwright is not installed")
    if not CHROMIUM.exists():
        if required:
            pytest.fail(f"NORMKIT_REQUIRE_BROWSER=1 but {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is missing")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


def test_the_page_in_a_browser(browser: Any, folder: Path, tmp_path: Path) -> None:
    from playwright.sync_api import Route, expect

    report = _report(folder)
    page_path = write_review(folder)
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    requests: list[str] = []
    refused: list[str] = []
    errors: list[str] = []

    def only_files(route: Route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    context.route("**/*", only_files)
    page = context.new_page()
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(page_path.as_uri())

    for name in ("read", "written", "rejected", "flagged"):
        metric = page.locator(f'[data-metric="{name}"]')
        assert metric.get_attribute("data-count") == str(report["documents"][name])
        assert metric.locator(".num").inner_text() == f"{report['documents'][name]:,}"
    for stage, stats in report["stages"].items():
        for rule, count in stats["rules"].items():
            bar = page.locator(f'#rules .bar[data-stage="{stage}"][data-rule="{rule}"]')
            assert bar.get_attribute("data-count") == str(count)
            assert bar.locator(".num").inner_text() == f"{count:,}"

    sample = page.locator('#samples li.sample[data-stage="boilerplate"][data-rule="share-button"]').first
    link = sample.locator("a.doc-link")
    href = link.get_attribute("href")
    assert href is not None and href.startswith("#doc-")
    link.click()
    assert page.evaluate("location.hash") == href
    document = page.locator(f"article{href}")
    expect(document).to_be_visible()
    assert page.evaluate("document.querySelector(':target').id") == href[1:]
    row = document.locator(".row.focus")
    expect(row).to_be_in_viewport()
    assert row.get_attribute("class") == "row removed focus"
    assert row.get_attribute("data-rule") == "share-button"
    assert row.locator(".why").inner_text() == "boilerplate:share-button"
    assert row.locator(".text").inner_text() == sample.locator(".sample-text").inner_text() == "Share this article"
    assert "line-through" in row.locator(".text").evaluate("e => getComputedStyle(e).textDecorationLine")

    shot = tmp_path / "review.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 1000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert refused == [] and all(url.startswith("file://") for url in requests), requests
    assert errors == []  # a Content-Security-Policy violation (the script refused) would show here
    context.close()


def test_a_format_without_edits_says_why_nothing_is_shown_before_and_after(tmp_path: Path) -> None:
    """The hf shape leaves the edits out: the page says so rather than show documents with nothing marked."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("A title\n\n3 min read\nThe ferry left the harbour at dawn with twelve cars.\n")
    result = CliRunner().invoke(cli, ["run", str(folder), "-o", str(tmp_path / "out"), "--format", "hf", "-q"])
    assert result.exit_code == 0, result.output
    page = write_review(tmp_path / "out").read_text(encoding="utf-8")
    assert 'data-missing="edits"' in page
