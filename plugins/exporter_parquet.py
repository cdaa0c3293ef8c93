"""The ``parquet`` exporter: columns of an Arrow schema derived from the record's JSON Schema, in row groups.

Needs pyarrow (``pip install 'normkit[parquet]'``), imported when the exporter is built, so normkit runs
without it. Rows are buffered up to ``row_group_size`` records or ``row_group_bytes`` of text, then written
as one row group: memory is bounded by a row group, not by the run. The file metadata names the record's
schema (``normkit.schema``), which is how ``normkit validate`` knows the shape of a Parquet file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from normkit import Context, Exporter, RecordWriter, Register, hookimpl
from normkit.arrowschema import SCHEMA_KEY, Codec, codec_for, import_pyarrow
from normkit.exporting import ShapedExporter, exporter_options

ROW_GROUP_SIZE = 10_000
ROW_GROUP_BYTES = 64 << 20


class ParquetWriter(RecordWriter):
    def __init__(self, stream: IO[bytes], exporter: ParquetExporter) -> None:
        super().__init__(stream)
        self.pa, self.codec = exporter.pa, exporter.codec
        self.schema = exporter.arrow_schema
        self.max_rows = exporter.options.get("row_group_size", ROW_GROUP_SIZE)
        self.max_bytes = exporter.options.get("row_group_bytes", ROW_GROUP_BYTES)
        compression = exporter.options.get("compression", "zstd")
        self.writer = exporter.pq.ParquetWriter(stream, self.schema, compression=compression)
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
    options_schema = exporter_options(
        "shape",
        "edits",
        "flags",
        "added",
        row_group_size={"description": "Most records in one row group.", "type": "integer", "minimum": 1},
        row_group_bytes={"description": "Most bytes of text in one row group.", "type": "integer", "minimum": 1},
        compression={"description": "Parquet codec.", "enum": ["zstd", "snappy", "gzip", "brotli", "none"]},
    )

    def __init__(self, options: Mapping[str, Any], context: Context) -> None:
        super().__init__(options, context)
        self.pa = import_pyarrow()
        self.pq = import_pyarrow("pyarrow.parquet")
        self.codec: Codec = codec_for(self.schema)
        self.arrow_schema = self.codec.arrow_schema(self.pa, {SCHEMA_KEY: self.schema.encode()})

    def open(self, stream: IO[bytes]) -> RecordWriter:
        return ParquetWriter(stream, self)


@hookimpl
def normkit_register_exporters(register: Register[type[Exporter]]) -> None:
    register(ParquetExporter)
