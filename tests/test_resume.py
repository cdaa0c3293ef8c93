"""Resume: done shards are skipped, changed ones redone, a different sharding refused, a killed run finished."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import orjson
import pytest

from normkit import Config, run_batch
from normkit.errors import NormkitError

SLOW = textwrap.dedent(
    """
    import os, time
    from normkit import Stage, hookimpl

    class Slow(Stage):
        name = "slow"

        def process(self, doc):
            time.sleep(float(os.environ.get("SLOW_SECONDS", "0")))
            return doc

    @hookimpl
    def normkit_register_stages(register):
        register(Slow)
    """
)

NO_LEARNING = {"pipeline": ["decode", "whitespace", "headline"]}


def write_inputs(folder: Path, files: int = 3, docs: int = 4) -> list[str]:
    folder.mkdir(exist_ok=True)
    for i in range(files):
        lines = [orjson.dumps({"text": f"File {i} doc {j}.\nShare this\nBody of {j}."}) for j in range(docs)]
        (folder / f"{i}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    return [str(folder)]


def batch(inputs: list[str], out: Path, config: dict | None = None, **run: object) -> dict:
    cfg = Config.from_mapping(config or {}).with_overrides(run={"shard_size": 200, "executor": "inprocess", **run})
    run_batch(inputs, str(out), cfg)
    return orjson.loads((out / "report.json").read_bytes())


def files(out: Path) -> tuple[bytes, bytes]:
    return (out / "documents.jsonl").read_bytes(), (out / "rejects.jsonl").read_bytes()


def test_running_again_skips_every_finished_shard(tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path / "in")
    first = batch(inputs, tmp_path / "out")
    before = files(tmp_path / "out")
    again = batch(inputs, tmp_path / "out")
    assert again["shards"] == {**first["shards"], "done": 0, "skipped": first["shards"]["total"]}
    assert again["documents"] == first["documents"] and again["stages"].keys() == first["stages"].keys()
    assert files(tmp_path / "out") == before


def test_a_changed_configuration_redoes_every_shard(tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path / "in")
    batch(inputs, tmp_path / "out")
    report = batch(inputs, tmp_path / "out", {"pipeline": ["decode", "whitespace", "boilerplate"]})
    assert report["shards"]["skipped"] == 0


def test_changed_normkit_code_or_rules_redo_every_shard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same version number with other rules (a development checkout) must not mix old parts with new."""
    import normkit.batch.resume

    inputs = write_inputs(tmp_path / "in")
    batch(inputs, tmp_path / "out")
    assert batch(inputs, tmp_path / "out")["shards"]["done"] == 0
    monkeypatch.setattr(normkit.batch.resume, "code_digest", lambda: "another boilerplate_rules.toml")
    assert batch(inputs, tmp_path / "out")["shards"]["skipped"] == 0


def test_the_code_digest_follows_code_and_data_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from normkit.batch.resume import _OWN_PACKAGES, packages_digest

    assert set(_OWN_PACKAGES) == {"normkit", "normkit.batch", "normkit.text", "normkit.schemas", "normkit_plugins"}
    package = tmp_path / "digested_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "rules.toml").write_text('exact = ["Share this"]\n')
    (package / "notes.txt").write_text("not code")
    monkeypatch.syspath_prepend(str(tmp_path))
    before = packages_digest(["digested_pkg"])
    (package / "notes.txt").write_text("still not code")
    assert packages_digest(["digested_pkg"]) == before
    (package / "rules.toml").write_text('exact = ["Share this story"]\n')
    assert packages_digest(["digested_pkg"]) != before


def test_only_the_shard_of_a_changed_input_is_redone(tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path / "in")
    batch(inputs, tmp_path / "out", NO_LEARNING)
    (tmp_path / "in" / "1.jsonl").write_bytes(b'{"text": "changed"}\n')
    report = batch(inputs, tmp_path / "out", NO_LEARNING)
    assert (report["shards"]["done"], report["shards"]["skipped"]) == (1, 2)
    assert files(tmp_path / "out") == files(_fresh(inputs, tmp_path / "fresh", NO_LEARNING))


def test_with_learning_a_changed_input_redoes_everything(tmp_path: Path) -> None:
    """What is learned from the batch may change with any input, and every shard's output with it."""
    inputs = write_inputs(tmp_path / "in")
    batch(inputs, tmp_path / "out")
    (tmp_path / "in" / "1.jsonl").write_bytes(b'{"text": "changed"}\n')
    assert batch(inputs, tmp_path / "out")["shards"]["skipped"] == 0


def test_a_different_sharding_is_refused_and_no_resume_starts_over(tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path / "in")
    batch(inputs, tmp_path / "out")
    with pytest.raises(NormkitError, match=r"cut into shards differently \(shard_size changed\).*--no-resume"):
        batch(inputs, tmp_path / "out", shard_size=100)
    report = batch(inputs, tmp_path / "out", shard_size=100, resume=False)
    assert report["shards"]["skipped"] == 0 and report["shards"]["total"] > 3


def test_a_second_run_into_a_folder_in_use_is_refused(tmp_path: Path) -> None:
    from normkit.batch.resume import WorkFolder

    inputs = write_inputs(tmp_path / "in")
    other = WorkFolder.for_output(tmp_path / "out")
    other.lock()  # as a run in another process holds it
    try:
        with pytest.raises(NormkitError, match=r"another normkit run is writing into this folder .*\.normkit/lock"):
            batch(inputs, tmp_path / "out")
        assert not (tmp_path / "out" / "documents.jsonl").exists()
    finally:
        other.close()
    assert batch(inputs, tmp_path / "out")["documents"]["written"] == 12, "free again once the other run ends"


def test_parts_of_inputs_gone_since_are_deleted(tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path / "in")
    batch(inputs, tmp_path / "out", NO_LEARNING)
    (tmp_path / "in" / "2.jsonl").unlink()
    batch(inputs, tmp_path / "out", NO_LEARNING)
    markers = sorted(p.name for p in (tmp_path / "out" / ".normkit" / "parts").glob("*.done.json"))
    assert len(markers) == 2


def _fresh(inputs: list[str], out: Path, config: dict | None = None) -> Path:
    batch(inputs, out, config, resume=False)
    return out


# -- a run killed partway -----------------------------------------------------------------------------


def normkit_run(tmp_path: Path, out: Path) -> list[str]:
    # slow after boilerplate (the learning stage): it runs in the cleaning pass, where parts are committed
    (tmp_path / "normkit.toml").write_text('pipeline = ["decode", "whitespace", "boilerplate", "slow"]\n')
    command = [sys.executable, "-m", "normkit", "run", str(tmp_path / "in.jsonl"), "-o", str(out), "-q"]
    command += ["--config", str(tmp_path / "normkit.toml"), "--plugins-dir", str(tmp_path / "plugins")]
    return [*command, "--shard-size", "2KB", "--workers", "2"]


def test_a_killed_run_resumes_to_the_same_output(tmp_path: Path) -> None:
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "slow.py").write_text(SLOW)
    lines = [orjson.dumps({"text": f"Story {i}.\nRead more\nIt says {i * 7}."}) for i in range(400)]
    (tmp_path / "in.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out"
    slow = {**os.environ, "SLOW_SECONDS": "0.01"}
    killed = subprocess.Popen(normkit_run(tmp_path, out), env=slow, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(list(out.glob(".normkit/parts/*.done.json"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    finished = len(list(out.glob(".normkit/parts/*.done.json")))
    assert 2 <= finished < 10, "the run should have been killed partway"
    assert not (out / "documents.jsonl").exists() and not (out / "report.json").exists()

    resumed = subprocess.run(normkit_run(tmp_path, out), capture_output=True)
    assert resumed.returncode == 0, resumed.stderr
    reference = subprocess.run(normkit_run(tmp_path, tmp_path / "reference"), capture_output=True)
    assert reference.returncode == 0, reference.stderr
    assert files(out) == files(tmp_path / "reference")
    report = orjson.loads((out / "report.json").read_bytes())
    assert report["shards"]["skipped"] >= 2 and report["documents"]["read"] == 400


class _Touch:
    """Unpickling this creates a file: what a planted pickle in an output folder could do."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (Path.write_text, (str(self.path), "pwned"))  # type: ignore[return-value]


def test_learned_state_is_json_and_trusted_only_under_its_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pickle

    from normkit_plugins.stage_boilerplate import BoilerplateStage

    inputs, out = write_inputs(tmp_path / "in", docs=6), tmp_path / "out"
    batch(inputs, out)
    saved = orjson.loads((out / ".normkit" / "learned.json").read_bytes())
    assert set(saved) == {"key", "state"} and set(saved["state"]) == {"boilerplate"}
    expected = files(out), (out / "learned-boilerplate.json").read_bytes()
    observed = []
    monkeypatch.setattr(BoilerplateStage, "observe", lambda self, doc: observed.append(doc.id))

    batch(inputs, out)  # resumed: the saved state is read back, nothing is observed again
    assert not observed and (files(out), (out / "learned-boilerplate.json").read_bytes()) == expected

    (out / ".normkit" / "learned.pickle").write_bytes(pickle.dumps(_Touch(tmp_path / "pwned")))
    (out / ".normkit" / "learned.json").write_bytes(orjson.dumps({"key": saved["key"], "state": {"boilerplate": 1}}))
    batch(inputs, out)  # a state that does not parse as one is learned again; a pickle is never read
    assert observed and not (tmp_path / "pwned").exists()


# -- the run key covers the plugins' code and versions ----------------------------------------------------------

HARBOUR = textwrap.dedent(
    """
    from normkit import Stage, hookimpl
    from harbour_words import WORD

    class Harbour(Stage):
        name = "harbour"

        def process(self, doc):
            return doc.evolve(text=doc.text.replace("Body", WORD))

    @hookimpl
    def normkit_register_stages(register):
        register(Harbour)
    """
)


def _harbour_run(inputs: list[str], out: Path, plugins: Path) -> dict:
    from normkit import PluginSpec

    config = Config.from_mapping({"pipeline": ["decode", "whitespace", "harbour"]})
    config = config.with_overrides(run={"shard_size": 200, "executor": "inprocess"})
    run_batch(inputs, str(out), config, PluginSpec(load_entrypoints=False, plugins_dirs=(str(plugins),)))
    return orjson.loads((out / "report.json").read_bytes())


def test_a_changed_plugins_dir_file_or_package_redoes_every_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key hashed plugin names only: an edited ``--plugins-dir`` stage gave the old output back on resume."""
    inputs, plugins, out = write_inputs(tmp_path / "in"), tmp_path / "plugins", tmp_path / "out"
    plugins.mkdir()
    (plugins / "harbour.py").write_text(HARBOUR)
    package = plugins / "harbour_words"  # the stage's own helper package, beside it in the plugins dir
    package.mkdir()
    (package / "__init__.py").write_text('WORD = "Quay"\n')
    monkeypatch.syspath_prepend(str(plugins))

    first = _harbour_run(inputs, out, plugins)
    assert first["shards"]["done"] == first["shards"]["total"] == 3
    assert _harbour_run(inputs, out, plugins)["shards"]["skipped"] == 3, "nothing changed: every part kept"

    (plugins / "harbour.py").write_text(HARBOUR.replace('"Body"', '"Share this"'))  # the stage's code changed
    changed = _harbour_run(inputs, out, plugins)
    assert (changed["shards"]["done"], changed["shards"]["skipped"]) == (3, 0)
    assert b"\\nQuay\\nBody of 0." in files(out)[0]
    assert changed["documents"]["read"] == changed["documents"]["written"] + changed["documents"]["rejected"] == 12

    import sys

    (package / "__init__.py").write_text('WORD = "Mooring"\n')  # only its package's data changed
    sys.modules.pop("harbour_words", None)
    again = _harbour_run(inputs, out, plugins)
    assert (again["shards"]["done"], again["shards"]["skipped"]) == (3, 0)
    assert b"\\nMooring\\nBody of 0." in files(out)[0] and b"Quay" not in files(out)[0]
    (package / "__pycache__").mkdir(exist_ok=True)
    (package / "__pycache__" / "stale.cpython-311.pyc").write_bytes(b"\0" * 16)  # byte code is not source
    assert _harbour_run(inputs, out, plugins)["shards"]["skipped"] == 3
    sys.modules.pop("harbour_words", None)


def test_the_key_names_every_plugin_distribution_and_its_version(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata
    from types import SimpleNamespace

    from normkit import PluginSpec
    from normkit.plugins import plugins_digest

    def entry_points(version: str) -> list[SimpleNamespace]:
        dist = SimpleNamespace(name="normkit-tides", version=version)
        return [SimpleNamespace(name="tides", value="normkit_tides.plugin", dist=dist)]

    monkeypatch.setenv("NORMKIT_LOAD_PLUGINS", "tides")
    spec = PluginSpec()
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: entry_points("1.0.0"))
    before = plugins_digest(spec)
    assert plugins_digest(spec) == before
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: entry_points("1.0.1"))
    assert plugins_digest(spec) != before, "a new version of an installed plugin redoes the parts"
    assert plugins_digest(PluginSpec(disabled=("tides",))) != plugins_digest(spec)
    monkeypatch.setenv("NORMKIT_LOAD_PLUGINS", "")
    assert plugins_digest(spec) == plugins_digest(PluginSpec(load_entrypoints=False)), "not loaded: not in the key"
