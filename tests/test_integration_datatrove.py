"""normkit inside a real datatrove pipeline: the same documents, text and rejects as ``normkit run``.

Each test that runs datatrove runs its ``LocalPipelineExecutor`` (two tasks, one worker) over JSON Lines
written here, then compares with ``normkit run --format hf`` over the same files: what the step is for is that
moving the cleaning into a datatrove job changes nothing about the result.
"""

from __future__ import annotations

import importlib
import pickle
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

pytest.importorskip("datatrove")

from click.testing import CliRunner
from datatrove.data import Document as DatatroveDocument
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import JsonlReader, ParquetReader
from datatrove.pipeline.writers import JsonlWriter

from normkit import ConfigError, Pipeline
from normkit.cli import cli
from normkit.integrations.datatrove import NormkitCleaner, step_config

# -- invented input: local news with the furniture scrapers bring along --------------------------------------

STORIES = [
    ("Harbour town opens a ferry route", "The council voted on Tuesday to open a ferry route to the island across "
     "the bay, ending a wait of more than ten years.", "The first crossing is planned for the spring, and a ticket "
     "will cost less than the bus fare to the city."),
    ("Beekeepers count a record summer", "Beekeepers in the valley say their hives made more honey this summer "
     "than in any year since the village began keeping records.", "A warm June and a late flowering of the lime "
     "trees are thought to explain the harvest."),
    ("Library stays open later", "The town library will stay open until nine in the evening on weekdays from "
     "next month, after readers asked for more time to study.", "Volunteers from the reading club have offered "
     "to help with the late shifts."),
    ("Cyclists ride for the children's ward", "Forty cyclists rode two hundred miles along the coast at the "
     "weekend to raise money for the children's ward of the county hospital.", "They set off at dawn on "
     "Saturday and crossed the finish line on Sunday afternoon."),
    ("Old mill becomes a museum", "The water mill on the river, closed since the war, has opened its doors again "
     "as a museum of local crafts and trades.", "Visitors can watch the wheel turn and buy flour ground on the "
     "original stones."),
    ("School garden wins a prize", "Pupils at the primary school have won a regional prize for the vegetable "
     "garden they planted behind the gymnasium last year.", "The judges praised the pumpkins and the careful "
     "notes the children kept about the weather."),
]  # fmt: skip
FURNITURE = ("3 min read", "Photo: Jane Doe/Agency", "Share this article")
NEWSLETTER = "Every story from the Riverside Courier, delivered to your door each Friday morning."


def story(number: int, title: str, first: str, second: str, *, footer: str | None = None) -> dict[str, Any]:
    """One scraped page: the body between a read time, a photo credit and a share button."""
    lines = [FURNITURE[0], "", first, "", FURNITURE[1], "", second, "", FURNITURE[2]]
    if footer:
        lines += ["", footer]
    return {
        "id": f"story-{number:02d}",
        "title": title if number % 2 else "",  # half the records carry their headline, half do not
        "url": f"https://courier.example.org/news/{number}",
        "section": "local",
        "text": "\n".join(lines),
    }


def corpus(footer: str | None = None) -> list[dict[str, Any]]:
    """A dozen stories, and two pages normkit refuses: one that is all furniture, one with no text but blanks."""
    pages = [story(n, *STORIES[(n - 1) % len(STORIES)], footer=footer) for n in range(1, 13)]
    pages.insert(5, furniture_page())
    pages.append({"id": "blank", "text": " \n\t\n "})  # datatrove's reader skips only "", so this reaches normkit
    return pages


def furniture_page() -> dict[str, Any]:
    """A page with nothing on it but furniture: the boilerplate stage empties it."""
    return {"id": "furniture-only", "url": "https://courier.example.org/x", "text": "Share this article\n\n3 min read"}


def write_inputs(folder: Path, pages: list[dict[str, Any]]) -> Path:
    """The pages in two files, so that each of datatrove's two tasks gets one."""
    folder.mkdir()
    half = len(pages) // 2
    for name, chunk in (("a.jsonl", pages[:half]), ("b.jsonl", pages[half:])):
        (folder / name).write_bytes(b"".join(orjson.dumps(page) + b"\n" for page in chunk))
    return folder


CONFIG = """\
[stages.boilerplate]
learn = false
on_empty = "reject"

[output]
format = "hf"
options = { edits = true, flags = true }
"""


def read_jsonl(folder: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for path in sorted(folder.glob("*.jsonl")) for line in path.read_bytes().splitlines()]


def normkit_run(inputs: Path, out: Path, config: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """``normkit run`` over ``inputs``: its records by id, and its rejects' reasons by document id."""
    args = ["run", str(inputs), "-o", str(out), "--config", str(config), "--executor", "inprocess", "-q"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 1, result.output  # 1: the run finished, and some documents were rejected
    records = {r["id"]: r for r in read_jsonl(out) if "metadata" in r}
    lines = (out / "rejects.jsonl").read_bytes().splitlines()
    rejects = {r["doc_id"]: r["reason"] for r in map(orjson.loads, lines)}
    return records, rejects


def datatrove_run(inputs: Path, work: Path, step: NormkitCleaner) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """A real datatrove pipeline, reader -> normkit -> writer: its documents and its excluded ones, by id."""
    executor = LocalPipelineExecutor(
        [JsonlReader(str(inputs)), step, JsonlWriter(str(work / "kept"), compression=None)],
        tasks=2,
        workers=1,
        logging_dir=str(work / "logs"),
    )
    stats = executor.run()
    kept = {d["id"]: d for d in read_jsonl(work / "kept")}
    removed = {d["id"]: d for d in read_jsonl(work / "removed")}
    return kept, removed, stats


def cleaner(config: Any, work: Path, **options: Any) -> NormkitCleaner:
    return NormkitCleaner(config, exclusion_writer=JsonlWriter(str(work / "removed"), compression=None), **options)


# -- the comparison ---------------------------------------------------------------------------------------


def test_datatrove_step_gives_what_normkit_run_gives(tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path / "in", corpus())
    config = tmp_path / "normkit.toml"
    config.write_text(CONFIG)
    records, rejects = normkit_run(inputs, tmp_path / "out", config)
    kept, removed, _ = datatrove_run(inputs, tmp_path / "dt", cleaner(str(config), tmp_path / "dt"))

    assert sorted(kept) == sorted(records) == [f"story-{n:02d}" for n in range(1, 13)]
    for doc_id, record in records.items():
        doc = kept[doc_id]
        assert doc["text"] == record["text"]
        assert doc["metadata"]["normkit_edits"] == record["metadata"]["edits"]
        assert doc["metadata"]["normkit_flags"] == record["metadata"]["flags"]
        assert (doc["metadata"].get("title") or None) == record["metadata"]["title"]
        assert doc["metadata"]["url"] == record["metadata"]["url"]
        assert doc["metadata"]["section"] == "local"  # the rest of the metadata goes through untouched
    # the comparison is worth something only if the cleaning did something
    assert not any(line in doc["text"] for doc in kept.values() for line in FURNITURE)

    assert {doc_id: doc["metadata"]["filter_reason"] for doc_id, doc in removed.items()} == rejects
    assert sorted(rejects) == ["blank", "furniture-only"]
    assert removed["furniture-only"]["metadata"]["normkit_rejected_by"] == "stage_boilerplate/boilerplate"
    assert removed["blank"]["metadata"]["normkit_rejected_by"] == "empty"
    assert removed["furniture-only"]["text"] == furniture_page()["text"]  # excluded as it came in


def test_counts_are_datatrove_stats(tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path / "in", corpus())
    step = cleaner({"stages": {"boilerplate": {"on_empty": "reject"}}}, tmp_path / "dt")
    _, _, stats = datatrove_run(inputs, tmp_path / "dt", step)
    (step_stats,) = [s for s in stats.stats if s.name == str(step)]
    counts = {name: stat.total for name, stat in step_stats.stats.items()}
    assert counts["total"] == 14
    assert (counts["forwarded"], counts["dropped"]) == (12, 2)
    assert (counts["dropped_normkit_boilerplate"], counts["dropped_normkit_empty"]) == (1, 1)
    assert counts["normkit_boilerplate_changed"] == 12


@pytest.mark.parametrize(
    ("settings", "name", "reader"),
    [
        ('format = "hf"', "documents.hf.jsonl", JsonlReader),
        ('format = "parquet"\noptions = { shape = "hf" }', "documents.hf.parquet", ParquetReader),
    ],
)
def test_datatrove_reads_what_normkit_run_writes_for_it(tmp_path: Path, settings: str, name: str, reader: Any) -> None:
    """The other way in: clean with ``normkit run``, then read the hf shape with datatrove's own readers."""
    if reader is ParquetReader:
        pytest.importorskip("pyarrow")
    inputs = write_inputs(tmp_path / "in", corpus())
    (tmp_path / "hf.toml").write_text('[output]\nformat = "hf"\n')
    records, _ = normkit_run(inputs, tmp_path / "hf", tmp_path / "hf.toml")
    (tmp_path / "normkit.toml").write_text(f"[output]\n{settings}\n")
    normkit_run(inputs, tmp_path / "out", tmp_path / "normkit.toml")
    docs = list(reader(str(tmp_path / "out"), glob_pattern=name)())
    assert {doc.id: doc.text for doc in docs} == {doc_id: record["text"] for doc_id, record in records.items()}
    assert all(doc.metadata["url"] == records[doc.id]["metadata"]["url"] for doc in docs)  # a dict, from Parquet too


# -- learning: not in a stream, but a learned file applies ------------------------------------------------


def test_learning_is_off_in_the_step() -> None:
    config = step_config({"stages": {"boilerplate": {"learn": True}}})
    assert config.stages["boilerplate"]["learn"] is False
    assert (config.output["format"], config.output["options"]) == ("hf", {"edits": True, "flags": True})


def test_a_learned_file_from_normkit_run_applies_in_the_step(tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path / "in", corpus(footer=NEWSLETTER))
    learned_run = tmp_path / "learn.toml"
    learned_run.write_text('[output]\nformat = "hf"\n')
    normkit_run(inputs, tmp_path / "sample", learned_run)  # learning on: the footer repeats on every page
    assert NEWSLETTER in (tmp_path / "sample" / "learned-boilerplate.json").read_text()

    pinned = tmp_path / "pinned.toml"
    pinned.write_text(f'[stages.boilerplate]\nlearned_file = "{tmp_path / "sample" / "learned-boilerplate.json"}"\n')
    kept, _, _ = datatrove_run(inputs, tmp_path / "dt", cleaner(str(pinned), tmp_path / "dt"))
    without, _, _ = datatrove_run(inputs, tmp_path / "plain", cleaner(None, tmp_path / "plain"))
    assert len(kept) == 12
    assert not any(NEWSLETTER in doc["text"] for doc in kept.values())
    assert all(NEWSLETTER in doc["text"] for doc in without.values())  # no learning without the file
    assert any(e["rule"] == "learned" for doc in kept.values() for e in doc["metadata"]["normkit_edits"])


# -- the step as datatrove handles it ---------------------------------------------------------------------


def test_the_step_pickles_without_its_pipeline() -> None:
    step = NormkitCleaner({"stages": {"whitespace": {}}}, edits=False)
    assert not any(isinstance(value, Pipeline) for value in vars(step).values())
    copy = pickle.loads(pickle.dumps(step))
    body = "A quiet week at the harbour, with calm seas and few boats out."
    doc = DatatroveDocument(text=f"3 min read\n\n{body}  ", id="1")
    assert copy.filter(doc) is True
    assert doc.text == body
    assert doc.metadata == {"normkit_flags": []}  # edits=False: no edits, and no title the document lacked


def test_a_bad_configuration_fails_when_the_step_is_made() -> None:
    with pytest.raises(ConfigError, match="did you mean boilerplate"):
        NormkitCleaner({"stages": {"boilerplat": {}}})


def test_without_datatrove_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "datatrove.pipeline.filters.base_filter", None)  # import fails
    monkeypatch.delitem(sys.modules, "normkit.integrations.datatrove")
    with pytest.raises(ImportError, match=r"pip install 'normkit\[datatrove\]'"):
        importlib.import_module("normkit.integrations.datatrove")


def test_metadata_json_cannot_hold_is_carried_and_no_source_comes_from_the_working_folder() -> None:
    """A reader's bytes and dates go through as base64 and ISO 8601, not as a dropped document; without a
    file path, no source is made up from the worker's working folder."""
    import datetime

    step = NormkitCleaner({"pipeline": ["whitespace"]}, edits=False)
    body = "The harbour office opens at nine on weekdays and at ten on Saturdays."
    when = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.timezone.utc)
    doc = DatatroveDocument(text=body, id="9", metadata={"blob": b"\x00\x01", "fetched": when})
    assert step.filter(doc) is True
    assert doc.metadata["blob"] == "AAE=" and doc.metadata["fetched"] == "2024-05-01T12:00:00+00:00"
    assert "source" not in doc.metadata
