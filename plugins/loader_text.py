"""Loads a whole file as one document, as bytes: the ``decode`` stage turns them into text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from normkit import Document, Loader, Origin, Register, Reject, hookimpl, stable_id


class TextLoader(Loader):
    """The fallback loader: any file no other loader claims is one document."""

    name = "text"
    suffixes = ()

    def load(self, stream: IO[bytes], path: str, first_line: int = 1) -> Iterator[Document | Reject]:
        data = stream.read()
        origin = Origin(path)
        doc_id = stable_id(path)
        if not data:
            yield Reject(origin, "empty file", doc_id=doc_id, plugin=self.plugin, hook="load")
            return
        yield Document(id=doc_id, origin=origin, raw=data)


@hookimpl
def normkit_register_loaders(register: Register[type[Loader]]) -> None:
    register(TextLoader)
