"""Loads a whole file as one document, as bytes: the ``decode`` stage turns them into text.

The file, decompressed, is the document, so ``[input] max_document_bytes`` caps the file: a longer one is
one reject naming the cap, and no more than the cap (and one piece) is ever held in memory to find out.

In auto mode (no ``[input] loader``, ``--input-format auto``), the fallback looks at the content of standard
input and of ``.json``/``.json.gz``/``.json.zst``/``.json.bz2`` files (Dolma's ``documents/*.json.gz``) before
taking it as text: when it is JSON Lines it hands the stream to the loader that claims ``.jsonl``. Standard
input is JSON Lines when its first non-blank line is a JSON object; a ``.json`` file when its first non-blank
line is one and so is the second, or there is no second (a one-line object). A JSON array, or one
pretty-printed object, stays one text document. At most ``[input] max_document_bytes`` (the first line) and one
more line are read to decide, then replayed in front of the rest of the stream.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from typing import IO, Any

import orjson

from normkit import Document, Loader, Origin, Register, Reject, hookimpl, stable_id

_PIECE = 1 << 20
_SNIFFED_SUFFIXES = (".json", ".json.gz", ".json.zst", ".json.bz2")


class TextLoader(Loader):
    """The fallback loader: any file no other loader claims is one document."""

    name = "text"
    suffixes = ()

    def __init__(self, options: Mapping[str, Any], context: Any) -> None:
        super().__init__(options, context)
        self.max_bytes: int = context.config.max_document_bytes
        self.auto = not context.config.input.get("loader")  # no loader forced: look at stdin and .json content
        self._lines: Loader | None = None

    def load(self, stream: IO[bytes], path: str, first_line: int = 1) -> Iterator[Document | Reject]:
        if self.auto and (path == "-" or path.lower().endswith(_SNIFFED_SUFFIXES)):
            head = _head(stream, self.max_bytes)
            stream = io.BufferedReader(_Replay(b"".join(head), stream), buffer_size=_PIECE)
            lines = self._lines_loader() if _is_json_lines(head, strict=path != "-") else None
            if lines is not None:
                yield from lines.load(stream, path)
                return
        origin = Origin(path)
        doc_id = stable_id(path)
        data = _read_at_most(stream, self.max_bytes + 1)
        if len(data) > self.max_bytes:
            cap = self.max_bytes
            reason = f"the file (decompressed) is longer than input.max_document_bytes = {cap}, in {path}: not read"
            yield Reject(origin, reason, doc_id=doc_id, plugin=self.plugin, hook="load")
            return
        if not data:
            yield Reject(origin, "empty file", doc_id=doc_id, plugin=self.plugin, hook="load")
            return
        yield Document(id=doc_id, origin=origin, raw=data)

    def _lines_loader(self) -> Loader | None:
        """The registered loader that claims ``.jsonl`` (built once, with its ``[input.loaders]`` options)."""
        if self._lines is None:
            registry = self.context.registry
            for cls in registry.all("loader"):
                if ".jsonl" in cls.suffixes:
                    options = self.context.config.input.get("loaders", {}).get(cls.name, {})
                    self._lines = cls(options, self.context)
                    self._lines.plugin = registry.owner("loader", cls.name)
                    break
        return self._lines


def _head(stream: IO[bytes], limit: int) -> list[bytes]:
    """The lines up to and including the second non-blank one, each read up to ``limit`` bytes (and a byte)."""
    lines: list[bytes] = []
    seen = 0
    while seen < 2:
        line = stream.readline(limit + 1)
        if not line:
            break
        lines.append(line)
        if line.strip():
            seen += 1
        if len(line) > limit:
            break
    return lines


def _is_json_lines(head: list[bytes], *, strict: bool) -> bool:
    """Whether the head's first non-blank line is a whole JSON object (and, ``strict``, the second one too)."""
    lines = [line for line in head if line.strip()]
    if not lines:
        return False
    checked = lines if strict else lines[:1]
    return all(_is_object(line) for line in checked)


def _is_object(line: bytes) -> bool:
    try:
        return isinstance(orjson.loads(line.removeprefix(b"\xef\xbb\xbf")), dict)
    except orjson.JSONDecodeError:
        return False


class _Replay(io.RawIOBase):
    """``head``, then the rest of ``stream``: a stream whose first lines were read to look at them."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self.head, self.stream = head, stream

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        source = self.head
        if source:
            size = min(len(target), len(source))
            target[:size] = source[:size]
            self.head = source[size:]
            return size
        data = self.stream.read(len(target))
        target[: len(data)] = data
        return len(data)


def _read_at_most(stream: IO[bytes], limit: int) -> bytes:
    """Up to ``limit`` bytes of ``stream``, read a piece at a time (a large ``read(n)`` allocates ``n`` first)."""
    pieces: list[bytes] = []
    size = 0
    while size < limit:
        piece = stream.read(min(_PIECE, limit - size))
        if not piece:
            break
        pieces.append(piece)
        size += len(piece)
    return b"".join(pieces)


@hookimpl
def normkit_register_loaders(register: Register[type[Loader]]) -> None:
    register(TextLoader)
