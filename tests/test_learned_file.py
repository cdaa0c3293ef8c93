"""``OUT/learned-*.json`` describes the run that made the folder: a later run that learned nothing removes it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from normkit import Config, Pipeline
from normkit.batch.learning import save_learned_files
from normkit.cli import cli

PROMPT = "Subscribe to our invented newsletter today"


@pytest.fixture
def pages(tmp_path: Path) -> Path:
    """Six invented pages of one source (their folder), each ending in the same prompt."""
    folder = tmp_path / "harbour"
    folder.mkdir()
    for i in range(6):
        body = f"The harbour master counted {i + 3} invented boats leaving before dawn on the quiet morning tide."
        (folder / f"page{i}.txt").write_text(f"Harbour notes {i}\n\n{body}\n\n{PROMPT}\n")
    return folder


def run(pages: Path, config: str = "") -> tuple[int, str]:
    """``normkit run`` of the pages into ``out/`` (in the test's folder), with ``config`` as its normkit.toml."""
    Path("normkit.toml").write_text(config)
    args = ["run", str(pages), "-o", "out", "-q", "--executor", "inprocess", "--config", "normkit.toml"]
    result = CliRunner().invoke(cli, args)
    return result.exit_code, result.stderr


def learned_texts(path: Path) -> list[str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [entry["text"] for entries in data["sources"].values() for entry in entries]


@pytest.fixture
def learned_run(pages: Path) -> Path:
    """A first run, learning (the default): it writes ``out/learned-boilerplate.json``."""
    code, err = run(pages)
    assert code == 0, err
    learned = Path("out", "learned-boilerplate.json")
    assert PROMPT in learned_texts(learned)
    return learned


def test_a_run_with_learning_switched_off_removes_the_earlier_file(pages: Path, learned_run: Path) -> None:
    code, err = run(pages, "[stages.boilerplate]\nlearn = false\n")
    assert code == 0, err
    assert not learned_run.exists()
    assert Path("out", "documents.jsonl").is_file()


def test_a_run_without_the_learning_stage_removes_the_earlier_file(pages: Path, learned_run: Path) -> None:
    code, err = run(pages, 'pipeline = ["decode", "whitespace"]\n')
    assert code == 0, err
    assert not learned_run.exists()


def test_a_learning_run_rewrites_its_file_and_removes_other_learned_files(pages: Path, learned_run: Path) -> None:
    Path("out", "learned-retired-stage.json").write_text('{"sources": {}}\n')  # a stage this run does not have
    Path("out", "learned-notes.txt").write_text("mine\n")  # not a learned-*.json: never touched
    Path("out", "notes.json").write_text("{}\n")
    code, err = run(pages)
    assert code == 0, err
    assert PROMPT in learned_texts(learned_run)
    assert sorted(p.name for p in Path("out").glob("learned-*")) == ["learned-boilerplate.json", "learned-notes.txt"]
    assert Path("out", "notes.json").read_text() == "{}\n"


def test_a_pinned_list_elsewhere_is_used_and_the_stale_file_goes(pages: Path, learned_run: Path) -> None:
    """Nothing is learned with a pinned list, so nothing is written: the folder keeps no list of another run."""
    reviewed = Path("reviewed.json")
    reviewed.write_bytes(learned_run.read_bytes())
    code, err = run(pages, '[stages.boilerplate]\nlearned_file = "reviewed.json"\n')
    assert code == 0, err
    assert not learned_run.exists()
    assert PROMPT in learned_texts(reviewed)
    texts = [json.loads(line)["text"] for line in Path("out", "documents.jsonl").read_text().splitlines()]
    assert len(texts) == 6 and not any(PROMPT in text for text in texts)  # the pinned lines were removed


def test_a_pinned_list_inside_the_output_folder_is_kept(pages: Path, learned_run: Path) -> None:
    """Pinning the file where the first run left it: it is this run's input, never removed."""
    before = learned_run.read_bytes()
    code, err = run(pages, '[stages.boilerplate]\nlearned_file = "out/learned-boilerplate.json"\n')
    assert code == 0, err
    assert learned_run.read_bytes() == before


def test_a_link_named_like_a_learned_file_is_refused_and_left_alone(pages: Path, learned_run: Path) -> None:
    target = Path("elsewhere.json")
    target.write_text("{}\n")
    link = Path("out", "learned-linked.json")
    link.symlink_to(target.resolve())
    code, err = run(pages, "[stages.boilerplate]\nlearn = false\n")
    assert code == 2 and "learned-linked.json: is a symbolic link" in err
    assert link.is_symlink() and target.read_text() == "{}\n"


def test_removing_earlier_files_leaves_links_and_other_kinds_alone(tmp_path: Path) -> None:
    """Links and folders with a learned file's name are not this run's to delete (the run refuses them
    before it gets here; this is the function's own guard)."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.json").write_text("{}\n")  # an earlier normkit run finished here
    (tmp_path / "target.json").write_text("{}\n")
    os.symlink(tmp_path / "target.json", out / "learned-linked.json")
    (out / "learned-folder.json").mkdir()
    (out / "learned-old.json").write_text("{}\n")
    pipeline = Pipeline(Config.from_mapping({"stages": {"boilerplate": {"learn": False}}}))
    save_learned_files(pipeline, {}, out)
    assert sorted(p.name for p in out.iterdir()) == ["learned-folder.json", "learned-linked.json", "report.json"]
    assert (tmp_path / "target.json").read_text() == "{}\n"


def test_a_folder_no_normkit_run_finished_in_keeps_its_learned_files(tmp_path: Path) -> None:
    """A first run into a folder of one's own: its learned-*.json are not normkit's to remove."""
    out = tmp_path / "mine"
    out.mkdir()
    (out / "learned-notes.json").write_text('{"mine": true}\n')
    pipeline = Pipeline(Config.from_mapping({"stages": {"boilerplate": {"learn": False}}}))
    save_learned_files(pipeline, {}, out)
    assert (out / "learned-notes.json").read_text() == '{"mine": true}\n'
