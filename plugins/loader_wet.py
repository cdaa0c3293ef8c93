"""Loads Common Crawl WET files (``.warc.wet``, ``.warc.wet.gz``): one document per WARC ``conversion`` record.

A WET file is a WARC file whose records hold the text Common Crawl extracted from each page; the engine undoes
the ``.gz`` before this loader sees the stream. Records are read one at a time with fastwarc (``pip install
'normkit[wet]'``), so memory holds one record, never the file. fastwarc was picked over warcio on speed:
``benchmarks/wet_throughput.py`` measures both on the same file (the figures are in ``docs/inputs.md``).

- **conversion** record: a document. ``text`` is the payload, UTF-8 by the WET format (a payload that is not
  valid UTF-8 goes to the ``decode`` stage as bytes, declared UTF-8, so the bad bytes are replaced and flagged);
  ``url`` is ``WARC-Target-URI`` (the engine takes the source from its host); ``id`` is ``WARC-Record-ID``
  without its angle brackets, which Common Crawl makes unique and which stays the same from one run to the next;
  ``metadata`` keeps ``warc_date``, ``warc_record_id``, ``content_length`` and, when present,
  ``warc_identified_content_language`` (Common Crawl's guess, a list such as ``"eng,fra"``: not one language,
  so it keeps the header's name).
- **warcinfo** record: skipped without a word; it describes the file, it is not an input.
- any other record (``response``, ``request``, ``resource``, ``metadata``, ...): one reject saying normkit reads
  text, not HTML: such a record needs a text extractor first.
- a record cut short (a truncated download), one without ``WARC-Target-URI``, or one longer than ``[input]
  max_document_bytes``: one reject each, and reading goes on with the next record.
- a record whose header cannot be parsed: one reject, and the rest of the file is not read. Once one record's
  framing is broken, where the next starts is a guess: fastwarc's lenient mode guesses, and a wrong
  ``Content-Length`` then swallows the next record without a word; a reject that says so keeps the count honest.

A document's origin is the file and the record's number (``line`` = the 1-based record number, the warcinfo
record being record 1); a reject's reason also gives the record's byte offset in the (decompressed) stream.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
from collections.abc import Iterator, Mapping
from typing import IO, TYPE_CHECKING, Any

from normkit import Document, Loader, Origin, Register, Reject, hookimpl, stable_id

from ._extras import import_extra

if TYPE_CHECKING:
    from fastwarc.warc import WarcRecord

#: record types that are neither a document nor the file's header: each is one reject, naming its type
_NOT_TEXT = "normkit reads WET conversion records (text); extract text first"


class WetLoader(Loader):
    """A WET file: documents from its conversion records, rejects for the records normkit cannot read."""

    name = "wet"
    suffixes = (".warc.wet", ".wet")

    def __init__(self, options: Mapping[str, Any], context: Any) -> None:
        super().__init__(options, context)
        self.max_bytes: int = context.config.max_document_bytes
        self.warc: Any = import_extra("fastwarc.warc", "wet", "reading WET files")  # built while the run plans

    def load(self, stream: IO[bytes], path: str, first_line: int = 1) -> Iterator[Document | Reject]:
        source = _Counted(stream)
        records = self.warc.ArchiveIterator(source, parse_http=False, stream_detect=False)
        number = 0
        while True:
            try:
                record = next(records)
            except StopIteration:
                return
            except OSError as exc:  # fastwarc's word for a header it cannot parse; the stream's own errors pass
                if source.error is not None:
                    raise source.error from exc
                yield self._reject(Origin(path, number + 1), f"{_malformed(number + 1)}: {exc}")
                return
            number += 1
            item = self._item(record, path, number)
            if item is not None:
                yield item

    def _item(self, record: WarcRecord, path: str, number: int) -> Document | Reject | None:
        """One record -> a document, a reject, or None (the warcinfo record, which is no input)."""
        kind = str(record.record_type)
        origin = Origin(path, number)
        where = f"record {number}, byte {record.stream_pos}"
        if kind == "warcinfo":
            return None
        if kind != "conversion":
            return self._reject(origin, f"WARC {kind} record: {_NOT_TEXT} ({where})", _record_id(record))
        return self._conversion(record, origin, where)

    def _conversion(self, record: WarcRecord, origin: Origin, where: str) -> Document | Reject:
        headers = record.headers
        record_id = headers.get("WARC-Record-ID") or ""
        doc_id = record_id.strip("<>") or stable_id(origin.path, origin.line)
        declared = (headers.get("Content-Length") or "").strip()
        if not declared.isdigit():  # fastwarc reads "-5" or "abc" as 0, and the payload as the next header
            reason = f"malformed WARC record: Content-Length {declared!r} is not a byte count ({where})"
            return self._reject(origin, reason, doc_id)
        length = record.content_length
        if length > self.max_bytes:  # not read: fastwarc skips the payload on its way to the next record
            reason = f"a record of {length} bytes, longer than input.max_document_bytes = {self.max_bytes} ({where})"
            return self._reject(origin, reason, doc_id)
        payload = record.reader.read()
        if len(payload) < length:
            reason = f"truncated WARC record: {len(payload)} of its {length} bytes ({where})"
            return self._reject(origin, reason, doc_id)
        if not _digest_matches(headers.get("WARC-Block-Digest"), payload) or _holds_a_header(payload):
            reason = f"the record's bytes do not fit its header: a wrong Content-Length? ({where})"
            return self._reject(origin, reason, doc_id)
        url = headers.get("WARC-Target-URI")
        if not url:
            return self._reject(origin, f"malformed WARC conversion record: no WARC-Target-URI ({where})", doc_id)
        metadata: dict[str, Any] = {
            "warc_date": headers.get("WARC-Date"),
            "warc_record_id": record_id or None,
            "content_length": length,
        }
        language = headers.get("WARC-Identified-Content-Language")
        if language:
            metadata["warc_identified_content_language"] = language
        try:
            return Document(id=doc_id, text=payload.decode("utf-8"), url=url, metadata=metadata, origin=origin)
        except UnicodeDecodeError:  # against the format, but seen: the decode stage replaces and flags the bytes
            metadata["declared_encoding"] = "utf-8"
            return Document(id=doc_id, text="", raw=payload, url=url, metadata=metadata, origin=origin)

    def _reject(self, origin: Origin, reason: str, doc_id: str | None = None) -> Reject:
        return Reject(origin, reason, doc_id=doc_id, plugin=self.plugin, hook="load")


def _digest_matches(declared: str | None, payload: bytes) -> bool:
    """Whether ``payload`` has the ``WARC-Block-Digest`` its record declares (``sha1:BASE32``, what Common
    Crawl writes); a record that declares none, or another algorithm, is taken as it is."""
    algorithm, _, value = (declared or "").strip().partition(":")
    if algorithm.lower() != "sha1" or not value:
        return True
    return base64.b32encode(hashlib.sha1(payload).digest()).decode("ascii") == value.strip().upper()


#: a WARC record's header inside a payload: a Content-Length too large took the next record in
_HEADER_INSIDE = re.compile(rb"(?:^|\n)WARC/1\.[01]\r?\n(?:[!-9;-~]+:[^\r\n]*\r?\n){0,20}?WARC-Type:")


def _holds_a_header(payload: bytes) -> bool:
    return b"WARC/1." in payload and _HEADER_INSIDE.search(payload) is not None


def _record_id(record: WarcRecord) -> str | None:
    record_id = (record.headers.get("WARC-Record-ID") or "").strip("<>")
    return record_id or None


def _malformed(number: int) -> str:
    return (
        f"malformed WARC record {number}: its header cannot be parsed, so where the next record starts "
        "is unknown and the rest of the file is not read"
    )


class _Counted(io.RawIOBase):
    """The engine's stream as fastwarc wants it, keeping any error the stream raised.

    fastwarc asks a Python stream for ``tell()`` and panics (a ``BaseException``) when it cannot answer, as a
    decompressed stream cannot: here ``tell`` is the count of bytes handed out. An error of the stream itself
    (a truncated gzip member, the engine's compression-ratio cap) is kept, so the loader re-raises it for the
    engine to report instead of calling it a malformed record.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.handed = 0
        self.error: BaseException | None = None

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.handed

    def read(self, size: int | None = -1) -> bytes:
        try:
            data = self.stream.read(-1 if size is None else size)
        except Exception as exc:
            self.error = exc
            raise
        self.handed += len(data)
        return data

    def readinto(self, target: Any) -> int:
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)


@hookimpl
def normkit_register_loaders(register: Register[type[Loader]]) -> None:
    register(WetLoader)
