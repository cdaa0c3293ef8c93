"""The ``parquet`` exporter: columns of an Arrow schema derived from the record's JSON Schema, in row groups.

Needs pyarrow (``pip install 'normkit[parquet]'``), imported when the exporter is built, so normkit runs
without it. Rows are buffered up to ``row_group_size`` records or ``row_group_bytes`` of text, then written
as one row group: memory is bounded by a row group, not by the run. The file metadata names the record's
schema (``normkit.schema``), which is how ``normkit validate`` knows the shape of a Parquet file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from normkit import (
    Context,
    Exporter,
    NormkitError,
    ReadRecord,
    RecordWriter,
    Register,
    hookimpl,
    option,
    options_from,
    options_schema,
)

from ._arrow import SCHEMA_KEY, Codec, codec_for, import_pyarrow
from ._record_shapes import ShapedExporter, exporter_options

COMPRESSIONS = ["zstd", "snappy", "gzip", "brotli", "none"]


@dataclass(frozen=True)
class ParquetOptions:
    """The Parquet exporter's own options, beside the record ones (shape, edits, flags, added)."""

    row_group_size: int = option(10_000, "Most records in one row group.", type="integer", minimum=1)
    row_group_bytes: int = option(64 << 20, "Most bytes of text in one row group.", type="integer", minimum=1)
    compression: str = option("zstd", "Parquet codec.", enum=COMPRESSIONS)


class ParquetWriter(RecordWriter):
    def __init__(self, stream: IO[bytes], exporter: ParquetExporter) -> None:
        super().__init__(stream)
        self.pa, self.codec = exporter.pa, exporter.codec
        self.schema = exporter.arrow_schema
        self.max_rows, self.max_bytes = exporter.parquet.row_group_size, exporter.parquet.row_group_bytes
        self.writer = exporter.pq.ParquetWriter(stream, self.schema, compression=exporter.parquet.compression)
        self.rows: list[dict[str, Any]] = []
        self.size = 0

    def write(self, record: Mapping[str, Any]) -> None:
        self.rows.append(self.codec.encode(record))
        self.size += len(record.get("text", ""))
        if len(self.rows) >= self.max_rows or self.size >= self.max_bytes:
            self._flush()

    def _flush(self) -> None:
        if self.rows:
            self.writer.write_table(self.pa.Table.from_pylist(self.rows, schema=self.schema))
            self.rows, self.size = [], 0

    def close(self) -> None:
        """Write the last row group and the footer; the stream itself stays open for the engine."""
        self._flush()
        self.writer.close()


class ParquetExporter(ShapedExporter):
    name = "parquet"
    format_suffix = ".parquet"
    compressible = False  # its column chunks are compressed inside (``compression``): no .zst around the file
    options_schema = exporter_options(
        "shape",
        "edits",
        "flags",
        "added",
        **options_schema(ParquetOptions)["properties"],
    )

    def __init__(self, options: Mapping[str, Any], context: Context) -> None:
        super().__init__(options, context)
        self.pa = import_pyarrow()
        self.pq = import_pyarrow("pyarrow.parquet")
        own = {key: value for key, value in self.options.items() if key in ParquetOptions.__dataclass_fields__}
        self.parquet = options_from(ParquetOptions, own, "output.options")
        self.codec: Codec = codec_for(self.schema)
        self.arrow_schema = self.codec.arrow_schema(self.pa, {SCHEMA_KEY: self.schema.encode()})

    def open(self, stream: IO[bytes]) -> RecordWriter:
        return ParquetWriter(stream, self)

    reads = (".parquet",)

    @classmethod
    def schema_in(cls, stream: IO[bytes]) -> str | None:
        """The record shape the writer put in the file's metadata (``normkit.schema``)."""
        pq = import_pyarrow("pyarrow.parquet")
        try:
            metadata = pq.read_schema(stream).metadata or {}
        except Exception:  # noqa: BLE001 - not Parquet: read() reports it as a problem of the file
            return None
        return metadata.get(SCHEMA_KEY, b"").decode() or None

    @classmethod
    def read(cls, stream: IO[bytes], schema: str) -> Iterator[ReadRecord]:
        """Rows of each row group in turn, turned back into JSON records by the schema's Arrow mapping."""
        pq = import_pyarrow("pyarrow.parquet")
        try:
            parquet = pq.ParquetFile(stream)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a file that is not Parquet
            yield ReadRecord(None, error=f"not a Parquet file: {exc}")
            return
        decode: Callable[[Any], Any] = dict  # a schema that does not map to columns: the rows as they are
        with contextlib.suppress(NormkitError):
            decode = codec_for(schema).decode
        with parquet:
            rows = (
                values
                for group in range(parquet.num_row_groups)
                for values in parquet.read_row_group(group).to_pylist()
            )
            for row, values in enumerate(rows, start=1):
                yield ReadRecord(row, decode(values))


@hookimpl
def normkit_register_exporters(register: Register[type[Exporter]]) -> None:
    register(ParquetExporter)
