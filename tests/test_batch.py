"""The accounting invariant: every input ends in the output or the rejects, exactly once."""

from __future__ import annotations

from pathlib import Path

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from normkit import Config, run_batch

good = st.builds(lambda t: orjson.dumps({"text": t}), st.text(min_size=1, max_size=80))
bad = st.sampled_from([b"{not json", b"[]", b'{"text": 3}', b'{"id": "x"}', b'"just a string"', b"\xff\xfe junk"])
lines = st.lists(st.one_of(good, bad), min_size=1, max_size=25)
files = st.lists(lines, min_size=1, max_size=4)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files)
def test_every_input_is_written_or_rejected_exactly_once(tmp_path: Path, batch: list[list[bytes]]) -> None:
    folder = tmp_path / f"in{abs(hash(str(batch)))}"
    folder.mkdir()
    for i, content in enumerate(batch):
        (folder / f"{i}.jsonl").write_bytes(b"\n".join(content) + b"\n")
    out = folder / "out"
    result = run_batch([str(p) for p in sorted(folder.glob("*.jsonl"))], str(out), Config(), workers=1)
    written = out.joinpath("documents.jsonl").read_bytes().splitlines()
    rejected = out.joinpath("rejects.jsonl").read_bytes().splitlines()
    origins = [orjson.loads(r)["origin"] for r in written] + [orjson.loads(r)["origin"] for r in rejected]
    expected = [{"path": str(folder / f"{i}.jsonl"), "line": n + 1} for i, c in enumerate(batch) for n in range(len(c))]
    key = lambda o: (o["path"], o["line"])  # noqa: E731
    assert sorted(origins, key=key) == sorted(expected, key=key)
    stats = result.stats
    assert (stats.read, stats.written, stats.rejected) == (len(expected), len(written), len(rejected))
