"""Loads a whole file as one document, as bytes: the ``decode`` stage turns them into text.

The file, decompressed, is the document, so ``[input] max_document_bytes`` caps the file: a longer one is
one reject naming the cap, and no more than the cap (and one piece) is ever held in memory to find out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import IO, Any

from normkit import Document, Loader, Origin, Register, Reject, hookimpl, stable_id

_PIECE = 1 << 20


class TextLoader(Loader):
    """The fallback loader: any file no other loader claims is one document."""

    name = "text"
    suffixes = ()

    def __init__(self, options: Mapping[str, Any], context: Any) -> None:
        super().__init__(options, context)
        self.max_bytes: int = context.config.max_document_bytes

    def load(self, stream: IO[bytes], path: str, first_line: int = 1) -> Iterator[Document | Reject]:
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
