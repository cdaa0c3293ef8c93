"""The JSON array scanner behind ``normkit validate``: same values as json.loads, read in bounded memory."""

from __future__ import annotations

import io
import json

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st
from normkit_plugins._json_array import iter_json_array

tricky_text = st.text(alphabet=st.sampled_from('ab "\\/[]{},:\n\té€😀'), max_size=20)
scalars = (
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False)
)
values = st.recursive(
    scalars | tricky_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(tricky_text, children, max_size=4),
    max_leaves=20,
)


class CountingStream(io.RawIOBase):
    """A stream that records how much was asked of it."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos, self.largest = data, 0, 0

    def read(self, size: int = -1) -> bytes:
        self.largest = max(self.largest, size)
        chunk = self.data[self.pos : self.pos + size]
        self.pos += len(chunk)
        return chunk


@settings(max_examples=200, deadline=None)
@given(st.lists(values, max_size=6), st.integers(1, 9), st.sampled_from([None, 2]))
def test_elements_match_json_loads_whatever_the_chunk_size(items: list, chunk: int, indent: int | None) -> None:
    text = json.dumps(items, indent=indent, ensure_ascii=False).encode()
    read = list(iter_json_array(CountingStream(text), chunk=chunk))
    assert [r.error for r in read] == [None] * len(items)
    assert [r.record for r in read] == [orjson.loads(json.dumps(v)) for v in items]


@given(st.lists(values, min_size=1, max_size=6))
def test_each_element_has_the_line_it_starts_on(items: list) -> None:
    text = b"[" + b",\n".join(json.dumps(v).encode() for v in items) + b"]"
    assert [r.line for r in iter_json_array(io.BytesIO(text), chunk=3)] == list(range(1, len(items) + 1))


def test_reading_is_incremental_and_bounded_by_the_largest_record() -> None:
    record = orjson.dumps({"id": "x", "text": "y" * 1000})
    data = b"[" + b",".join([record] * 20_000) + b"]"  # 20 MB
    stream = CountingStream(data)
    elements = iter_json_array(stream, chunk=1 << 16)
    next(elements)
    assert stream.pos <= 1 << 16  # the first record came before the rest of the file was read
    assert sum(1 for _ in elements) == 19_999
    assert stream.largest <= 1 << 17  # never more than a chunk (plus what a pending record needs)


def test_a_record_bigger_than_a_chunk_is_read_whole() -> None:
    big = {"id": "big", "text": "[{" * 100_000}
    data = b"[" + orjson.dumps(big) + b"]"
    (read,) = iter_json_array(CountingStream(data), chunk=1024)
    assert read.record == big


def test_not_an_array() -> None:
    (read,) = iter_json_array(io.BytesIO(b'{"id": 1}'))
    assert read.error == "expected a JSON array"
