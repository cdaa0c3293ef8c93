"""Fuzzing the two other doors bad input comes through: a document cleaned and exported, and a file handed
to ``normkit validate``. Neither may raise: a document becomes a record that passes its schema or a reject
with a reason; a file gives problems with their lines, never a traceback. (The JSON Lines loader has its own
fuzzer in ``test_faults_inputs.py``.)

The suite keeps the examples few; a long run sets ``NORMKIT_FUZZ_EXAMPLES`` and ``-s`` prints the counts:
``NORMKIT_FUZZ_EXAMPLES=20000 pytest tests/test_fuzz.py -s``. All text here is generated or invented.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from normkit import Config, Document, Pipeline, Reject, get_plugin_manager
from normkit.checkfiles import FileCheck, Readers
from normkit.registry import Registry
from normkit.validate import iter_violations

EXAMPLES = int(os.environ.get("NORMKIT_FUZZ_EXAMPLES", "100"))
SEEN: Counter[str] = Counter()

#: lines that look like the boilerplate the stages remove, mixed with any text at all (lone surrogates too)
LINES = st.one_of(
    st.sampled_from(["Share this article", "3 min read", "Advertisement", "", "  ", "Most read", "© 2020 Someone"]),
    st.text(st.characters(codec=None), max_size=60),  # any code point, lone surrogates included
    st.text(alphabet=" \t\r\n\u2028\u00a0.!?ÃƒÂ©€", max_size=20),
)
TEXTS = st.lists(LINES, max_size=25).map("\n".join)


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline(Config(), pm=get_plugin_manager(load_entrypoints=False))


@given(text=TEXTS, title=st.none() | st.text(max_size=30), raw=st.booleans())
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_cleaned_document_is_a_valid_record_or_a_reject(
    pipeline: Pipeline, text: str, title: str | None, raw: bool
) -> None:
    data = text.encode("utf-8", "surrogateescape") if raw and text.isascii() else None
    doc = Document(id="fuzz", text="" if data is not None else text, title=title, raw=data)
    outcome = pipeline.finish(doc)
    if isinstance(outcome, Reject):
        assert outcome.reason and "\n" not in outcome.reason.strip()
        SEEN["rejects"] += 1
        return
    assert not list(iter_violations(outcome, pipeline.schema))
    SEEN["records"] += 1


SUFFIXES = [".jsonl", ".json", ".csv"]
PIECES = [b'{"id": "a", "text": "b"}', b"[", b"]", b",", b'"', b"\n", b"{", b"}", b"\xff", b"\x00", b'"id",', b"\r\n"]
CONTENT = st.one_of(st.binary(max_size=300), st.lists(st.sampled_from(PIECES), max_size=30).map(b"".join))


@pytest.fixture(scope="module")
def readers() -> Readers:
    return Readers(Registry.from_plugin_manager(get_plugin_manager(load_entrypoints=False)))


@given(content=CONTENT, suffix=st.sampled_from(SUFFIXES), gz=st.booleans())
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_validate_reports_problems_of_any_bytes_and_never_raises(
    readers: Readers, tmp_path: Path, content: bytes, suffix: str, gz: bool
) -> None:
    import gzip

    path = tmp_path / f"documents{suffix}{'.gz' if gz else ''}"
    path.write_bytes(gzip.compress(content) if gz else content)
    check = FileCheck(str(path), readers)
    problems = list(check.problems())
    assert all(p.path == str(path) and p.message for p in problems)
    SEEN["files"] += 1
    SEEN["problems"] += len(problems)


@pytest.fixture(scope="module", autouse=True)
def _counts() -> Iterator[None]:
    yield
    print(f"\nfuzz: {dict(SEEN)}")
