"""Common Crawl WET files (issue 14): conversion records become documents, everything else is accounted for.

The WET files are written here with fastwarc's own writer (the reader the loader uses); the texts are invented.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import re
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from normkit.cli import cli

warc = pytest.importorskip("fastwarc.warc")  # the `wet` extra

FERRY = "The ferry left the harbour at dawn.\nGulls followed it past the lighthouse."
BAC = "Le bac a quitté le port à l'aube.\nLes mouettes l'ont suivi jusqu'au phare."
MARKET = "The fish market opens at six.\nStalls sell mackerel, crab and smoked herring."


def record(kind: Any, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    """One WARC record, as fastwarc writes it (WARC-Date, WARC-Record-ID and Content-Length filled in)."""
    rec = warc.WarcRecord()
    rec.init_headers(kind)
    for key, value in (headers or {}).items():
        rec.headers[key] = value
    rec.set_bytes_content(body)
    out = io.BytesIO()
    rec.write(out)
    return out.getvalue()


def conversion(text: str, url: str | None, language: str | None = "eng", record_id: str | None = None) -> bytes:
    headers = {"Content-Type": "text/plain"}
    if url is not None:
        headers["WARC-Target-URI"] = url
    if language:
        headers["WARC-Identified-Content-Language"] = language
    if record_id:
        headers["WARC-Record-ID"] = record_id
    return record(warc.WarcRecordType.conversion, text.encode(), headers)


def wet_file() -> bytes:
    """warcinfo, three conversion records in two languages, a response record holding HTML, a truncated record."""
    html = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><body><p>Tide tables</p></body></html>"
    truncated = conversion("A last page whose download was cut short.", "https://cut.example/last")
    return b"".join(
        [
            record(warc.WarcRecordType.warcinfo, b"software: invented-crawler/1.0\r\nformat: WET\r\n"),
            conversion(
                FERRY,
                "https://www.harbour-news.example/ferry",
                record_id="<urn:uuid:00000000-0000-4000-8000-000000000001>",
            ),
            conversion(BAC, "https://journal.port.example/bac", "fra"),
            record(warc.WarcRecordType.response, html, {"WARC-Target-URI": "https://www.harbour-news.example/tides"}),
            conversion(MARKET, "https://market.example/fish?day=sat", "eng,fra"),
            truncated[: len(truncated) - 20],
        ]
    )


def run(
    *paths: Path, out: Path, extra: tuple[str, ...] = ()
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """``normkit run`` in process; (documents, rejects, report)."""
    args = ["run", *map(str, paths), "-o", str(out), "--executor", "inprocess", "-q", *extra]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output  # 1: some inputs were rejected
    lines = lambda name: [orjson.loads(x) for x in (out / name).read_bytes().splitlines() if x.strip()]  # noqa: E731
    report = json.loads((out / "report.json").read_text())
    docs = report["documents"]
    assert docs["read"] == docs["written"] + docs["rejected"]  # every input accounted for
    return lines("documents.jsonl"), lines("rejects.jsonl"), report


@pytest.mark.parametrize("name", ["crawl.warc.wet", "crawl.warc.wet.gz", "crawl.wet"])
def test_a_wet_file_becomes_documents_and_rejects(tmp_path: Path, name: str) -> None:
    data = wet_file()
    (tmp_path / name).write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    documents, rejects, report = run(tmp_path / name, out=tmp_path / "out")

    assert [d["text"] for d in documents] == [FERRY, BAC, MARKET]
    assert [d["url"] for d in documents] == [
        "https://www.harbour-news.example/ferry",
        "https://journal.port.example/bac",
        "https://market.example/fish?day=sat",
    ]
    assert [d["source"] for d in documents] == ["harbour-news.example", "journal.port.example", "market.example"]
    assert documents[0]["id"] == "urn:uuid:00000000-0000-4000-8000-000000000001"
    assert all(d["id"].startswith("urn:uuid:") for d in documents)
    meta = documents[0]["metadata"]
    assert meta["warc_record_id"] == "<urn:uuid:00000000-0000-4000-8000-000000000001>"
    assert meta["content_length"] == len(FERRY.encode())
    assert meta["warc_date"].startswith("20")
    assert [d["metadata"]["warc_identified_content_language"] for d in documents] == ["eng", "fra", "eng,fra"]
    assert [d["origin"]["line"] for d in documents] == [2, 3, 5]  # the record's number; the warcinfo is 1

    assert len(rejects) == 2  # the warcinfo record is no input: skipped without a word
    response, truncated = rejects
    assert "WARC response record: normkit reads WET conversion records (text); extract text first" in response["reason"]
    assert response["origin"] == {"path": str(tmp_path / name), "line": 4}
    assert "(record 4, byte " in response["reason"]
    assert truncated["reason"].startswith("truncated WARC record")
    assert truncated["origin"]["line"] == 6
    assert report["documents"] == report["documents"] | {"read": 5, "written": 3, "rejected": 2}


def test_a_conversion_record_without_a_url_is_one_reject_and_reading_goes_on(tmp_path: Path) -> None:
    data = conversion(FERRY, None) + conversion(MARKET, "https://market.example/")
    (tmp_path / "a.warc.wet").write_bytes(data)
    documents, rejects, _ = run(tmp_path / "a.warc.wet", out=tmp_path / "out")
    assert [d["text"] for d in documents] == [MARKET]
    assert [r["reason"].split(" (")[0] for r in rejects] == ["malformed WARC conversion record: no WARC-Target-URI"]


def test_a_header_that_cannot_be_parsed_keeps_what_came_before_and_says_the_rest_is_not_read(tmp_path: Path) -> None:
    broken = b"WARC/1.0\r\nWARC-Type: conversion\r\nContent-Length: many\r\n\r\nsome text\r\n\r\n"
    data = conversion(FERRY, "https://a.example/") + broken + conversion(MARKET, "https://b.example/")
    (tmp_path / "a.warc.wet").write_bytes(data)
    documents, rejects, _ = run(tmp_path / "a.warc.wet", out=tmp_path / "out")
    assert [d["text"] for d in documents] == [FERRY]
    assert any("the rest of the file is not read" in r["reason"] for r in rejects)


def test_a_record_past_the_document_cap_is_rejected_unread(tmp_path: Path) -> None:
    long_text = "Waves. " * 400
    (tmp_path / "a.warc.wet").write_bytes(
        conversion(long_text, "https://a.example/") + conversion(FERRY, "https://b.example/")
    )
    (tmp_path / "normkit.toml").write_text("[input]\nmax_document_bytes = 1000\n")
    documents, rejects, _ = run(
        tmp_path / "a.warc.wet", out=tmp_path / "out", extra=("--config", str(tmp_path / "normkit.toml"))
    )
    assert [d["text"] for d in documents] == [FERRY]
    (reject,) = rejects
    assert "longer than input.max_document_bytes = 1000" in reject["reason"]


def test_a_payload_that_is_not_utf8_is_decoded_with_its_bad_bytes_flagged(tmp_path: Path) -> None:
    body = "Caf\u00e9 by the quay.".encode() + b" \xff\xfe broken bytes."
    data = record(warc.WarcRecordType.conversion, body, {"WARC-Target-URI": "https://cafe.example/"})
    (tmp_path / "a.warc.wet").write_bytes(data)
    (doc,), rejects, _ = run(tmp_path / "a.warc.wet", out=tmp_path / "out")
    assert not rejects
    assert doc["text"].startswith("Caf\u00e9 by the quay.") and "\ufffd" in doc["text"]
    assert doc["decoding"]["encoding"] == "utf-8"


def test_a_truncated_gzip_member_is_the_engines_reject_not_a_malformed_record(tmp_path: Path) -> None:
    packed = gzip.compress(wet_file())
    (tmp_path / "a.warc.wet.gz").write_bytes(packed[: len(packed) // 2])
    _, rejects, _ = run(tmp_path / "a.warc.wet.gz", out=tmp_path / "out")
    assert rejects and "cannot read input" in rejects[-1]["reason"]
    assert not any("malformed" in r["reason"] for r in rejects)


def hide_fastwarc(monkeypatch: pytest.MonkeyPatch) -> None:
    """Importing fastwarc fails, as when the extra is not installed."""
    for name in ("fastwarc", "fastwarc.warc"):
        monkeypatch.setitem(sys.modules, name, None)


def test_without_fastwarc_a_wet_input_stops_the_run_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by its suffix, the loader is built while the run plans: one line, exit 2, no output folder."""
    hide_fastwarc(monkeypatch)
    (tmp_path / "a.warc.wet").write_bytes(conversion(FERRY, "https://a.example/"))
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "a.warc.wet"), "-o", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 2, result.output
    assert result.output.strip().count("\n") == 0 and "pip install 'normkit[wet]'" in result.output
    assert not (tmp_path / "out" / "documents.jsonl").exists()


def test_without_fastwarc_naming_the_loader_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hide_fastwarc(monkeypatch)
    (tmp_path / "a.warc.wet").write_bytes(conversion(FERRY, "https://a.example/"))
    args = ["run", str(tmp_path / "a.warc.wet"), "-o", str(tmp_path / "out"), "--input-format", "wet", "-q"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert result.output.strip().count("\n") == 0 and "pip install 'normkit[wet]'" in result.output


def test_a_record_whose_bytes_do_not_fit_its_header_is_rejected(tmp_path: Path) -> None:
    """A block digest that does not match, a Content-Length that took the next record in, one that is no
    count: each a reject saying so, never a document with another record's header in its text."""
    headers = {"Content-Type": "text/plain", "WARC-Target-URI": "https://a.example/one"}
    right = base64.b32encode(hashlib.sha1(FERRY.encode()).digest()).decode()
    fine = record(warc.WarcRecordType.conversion, FERRY.encode(), {**headers, "WARC-Block-Digest": f"sha1:{right}"})
    documents, _, _ = run(_write(tmp_path / "fine.warc.wet", fine), out=tmp_path / "out-fine")
    assert [d["text"] for d in documents] == [FERRY]  # a digest that matches: read as usual
    wrong_digest = record(warc.WarcRecordType.conversion, FERRY.encode(), {**headers, "WARC-Block-Digest": "sha1:AAAA"})
    second = conversion(MARKET, "https://b.example/two")
    head, _, body = second.partition(b"\r\n\r\n")
    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
    swallowing = (
        head.replace(b"Content-Length: %d" % length, b"Content-Length: %d" % (length + 250)) + b"\r\n\r\n" + body
    )
    negative = conversion(BAC, "https://c.example/three").replace(b"Content-Length: ", b"Content-Length: -", 1)
    for name, data in (
        ("digest", wrong_digest),
        ("long", swallowing + conversion(BAC, "https://d.example/")),
        ("neg", negative),
    ):
        (tmp_path / f"{name}.warc.wet").write_bytes(data)
        documents, rejects, _ = run(tmp_path / f"{name}.warc.wet", out=tmp_path / f"out-{name}")
        assert not any("WARC/1." in d["text"] for d in documents)
        assert rejects, name
        assert "do not fit its header" in rejects[0]["reason"] or "not a byte count" in rejects[0]["reason"]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
