"""Reading a JSON file back for ``normkit validate``: one object, or an array element by element.

Memory is bounded by the largest element, never by the file: a small scanner finds where each element ends
(tracking brackets outside strings only), and orjson parses the slice and reports any other error, with the
line the element starts on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO

import orjson

from normkit import ReadRecord

__all__ = ["iter_json_array", "read_json"]

_WHITESPACE = re.compile(rb"[ \t\r\n]*")
_STRUCTURE = re.compile(rb'["\[\]{}]')
_STRING_REST = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_SCALAR_END = re.compile(rb"[,\]\s]")


class _Window:
    """A window on a byte stream that grows as a value needs and drops what was consumed; counts lines."""

    def __init__(self, stream: IO[bytes], chunk: int = 1 << 20) -> None:
        self.stream, self.chunk = stream, chunk
        self.data, self.pos, self.eof = b"", 0, False
        self.line, self.counted = 1, 0  # newlines in data[:counted] are in self.line

    def more(self) -> bool:
        """Read at least as much as is held (so a huge value costs linear time); False at the end."""
        if self.eof:
            return False
        self.line_at(self.pos)
        self.data, self.counted, self.pos = self.data[self.pos :], 0, 0
        chunk = self.stream.read(max(self.chunk, len(self.data)))
        self.eof = not chunk
        self.data += chunk
        return not self.eof

    def line_at(self, pos: int) -> int:
        self.line += self.data.count(b"\n", self.counted, pos)
        self.counted = pos
        return self.line

    def peek(self) -> bytes:
        """The next byte that is not whitespace (``b""`` at the end), with ``pos`` moved onto it."""
        while True:
            self.pos = _WHITESPACE.match(self.data, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.data) or not self.more():
                return self.data[self.pos : self.pos + 1]

    def value_end(self) -> int | None:
        """Where the JSON value at ``pos`` ends, reading as much as it needs; None if the file ends first."""
        while (end := _value_end(self.data, self.pos)) is None:
            if not self.more():
                starts_scalar = self.data[self.pos : self.pos + 1] not in (b"", b"{", b"[", b'"')
                return len(self.data) if starts_scalar else None
        return end


def _value_end(data: bytes, start: int) -> int | None:
    """The end of the value starting at ``data[start]``, or None when ``data`` ends first.

    Only the structure is tracked (brackets outside strings); orjson then parses the slice and reports any
    other error, with its line.
    """
    first = data[start : start + 1]
    if first == b'"':
        string = _STRING_REST.match(data, start + 1)
        return string.end() if string else None
    if first not in (b"{", b"["):
        scalar = _SCALAR_END.search(data, start)
        return scalar.start() if scalar else None
    depth, pos = 0, start
    while token := _STRUCTURE.search(data, pos):
        if token.group() == b'"':
            string = _STRING_REST.match(data, token.end())
            if string is None:
                return None
            pos = string.end()
            continue
        depth += 1 if token.group() in (b"{", b"[") else -1
        pos = token.end()
        if depth == 0:
            return pos
    return None


def iter_json_array(stream: IO[bytes], chunk: int = 1 << 20) -> Iterator[ReadRecord]:
    """The elements of a JSON array, one at a time, each with the line it starts on."""
    window = _Window(stream, chunk)
    if window.peek() != b"[":
        yield ReadRecord(window.line_at(window.pos), error="expected a JSON array")
        return
    yield from _elements(window)


def _elements(window: _Window) -> Iterator[ReadRecord]:
    window.pos += 1  # past the [
    if window.peek() == b"]":
        window.pos += 1
        yield from _after_array(window)
        return
    while True:
        window.peek()
        line = window.line_at(window.pos)
        end = window.value_end()
        if end is None or end == window.pos:
            truncated = "unexpected end of file inside a record (truncated?)"
            yield ReadRecord(line, error=truncated if end is None else "expected a value")
            return
        yield _parse(line, window.data[window.pos : end])
        window.pos = end
        separator = window.peek()
        window.pos += 1
        if separator == b"]":
            yield from _after_array(window)
            return
        if separator != b",":
            found = f"found {separator.decode('latin-1')!r}" if separator else "the file ends (truncated?)"
            yield ReadRecord(window.line_at(window.pos - 1), error=f"expected ',' or ']' after a record, {found}")
            return


def _after_array(window: _Window) -> Iterator[ReadRecord]:
    if window.peek():
        yield ReadRecord(window.line_at(window.pos), error="unexpected data after the end of the array")


def _parse(line: int, data: bytes) -> ReadRecord:
    try:
        return ReadRecord(line, orjson.loads(data))
    except orjson.JSONDecodeError as exc:
        return ReadRecord(line, error=f"not valid JSON: {exc}")


def read_json(stream: IO[bytes]) -> Iterator[ReadRecord]:
    """An array is its elements; anything else (an object such as report.json) is one record, read whole."""
    window = _Window(stream)
    if window.peek() == b"[":
        yield from _elements(window)
    else:
        yield _parse(window.line_at(window.pos), window.data[window.pos :] + stream.read())
