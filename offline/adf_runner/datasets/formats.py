"""Read and write the file formats of ADF datasets: Json, DelimitedText (delimited.py), Parquet and Binary.

Sources (Learn): "JSON format" (format-json: file patterns setOfObjects — one object, JSON Lines or concatenated
objects — and arrayOfObjects, read by detection; `filePattern` on write, setOfObjects by default), "Parquet format"
(format-parquet), "Binary format" (format-binary) and "Supported file formats and compression codecs".
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from factory_deploy.json_keys import get_property
from offline.adf_runner.datasets.delimited import delimited_format
from offline.adf_runner.datasets.errors import DatasetAccessError
from offline.adf_runner.datasets.rows import FileFormat, Rows, json_value
from offline.adf_runner.datasets.text import Compression, compression_of, decode_text, encoding_of

__all__ = ["BinaryFormat", "FileFormat", "JsonFormat", "ParquetFormat", "Rows", "file_format", "json_value"]

# Learn, format-parquet: compressionCodec none, gzip, snappy (default) or lzo, and Copy does not support LZO. Reading
# takes the codec from the file's metadata, so only writing checks it.
_PARQUET_CODECS = ("none", "gzip", "snappy")


def file_format(kind: str, properties: Mapping[str, Any], format_settings: Mapping[str, Any] | None, dataset: str) -> FileFormat:
    """The format of dataset `dataset` (its evaluated typeProperties) with the activity's formatSettings."""
    settings = format_settings or {}
    if kind == "Json":
        compression = compression_of(get_property(properties, "compression"), dataset)
        pattern = get_property(settings, "filePattern") or "setOfObjects"
        if pattern not in ("setOfObjects", "arrayOfObjects"):
            raise DatasetAccessError("Sink", f"dataset `{dataset}`: formatSettings.filePattern {pattern!r} is not "
                                     "setOfObjects or arrayOfObjects")
        return JsonFormat(encoding_of(properties, dataset), compression, pattern == "arrayOfObjects")
    if kind == "DelimitedText":
        return delimited_format(properties, settings, dataset)
    if kind == "Parquet":
        return ParquetFormat(str(get_property(properties, "compressionCodec") or "snappy"), dataset)
    if kind == "Binary":
        return BinaryFormat(compression_of(get_property(properties, "compression"), dataset))
    raise DatasetAccessError("Source", f"dataset `{dataset}`: format `{kind}` is not supported by the local runner")


@dataclass(frozen=True)
class JsonFormat(FileFormat):
    encoding: str = "utf-8"
    compression: Compression | None = None
    array_of_objects: bool = False

    @property
    def extension(self) -> str:  # type: ignore[override]
        return ".json" + (self.compression.extension if self.compression else "")

    def read(self, data: bytes, where: str) -> Rows:
        if self.compression:
            data = self.compression.decompress(data, where)
        text = decode_text(data, self.encoding, where)
        records = _json_documents(text, where)
        columns: dict[str, None] = {}
        for record in records:
            columns.update(dict.fromkeys(record))
        return Rows(tuple(columns), tuple(records))

    def write(self, rows: Rows, where: str) -> bytes:
        documents = [{k: json_value(v) for k, v in record.items()} for record in rows.records]
        if self.array_of_objects:
            text = json.dumps(documents, ensure_ascii=False, separators=(",", ":"))
        else:
            text = "".join(json.dumps(d, ensure_ascii=False, separators=(",", ":")) + "\n" for d in documents)
        data = text.encode(self.encoding)
        return self.compression.compress(data) if self.compression else data


def _json_documents(text: str, where: str) -> list[dict[str, Any]]:
    """One object, JSON Lines or concatenated objects (setOfObjects), or an array of objects (arrayOfObjects)."""
    decoder = json.JSONDecoder()
    documents: list[Any] = []
    index = 0
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            array = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise DatasetAccessError("Source", f"{where}: malformed JSON array at line {exc.lineno} column {exc.colno}: "
                                     f"{exc.msg}") from exc
        documents = list(array)
    else:
        while True:
            while index < len(text) and text[index].isspace():
                index += 1
            if index >= len(text):
                break
            try:
                document, index = decoder.raw_decode(text, index)
            except json.JSONDecodeError as exc:
                raise DatasetAccessError("Source", f"{where}: malformed JSON at line {exc.lineno} column {exc.colno}: "
                                         f"{exc.msg}") from exc
            documents.append(document)
    for position, document in enumerate(documents):
        if not isinstance(document, dict):
            raise DatasetAccessError("Source", f"{where}: JSON document {position} is {type(document).__name__}, not an "
                                     "object (ADF reads objects: setOfObjects or arrayOfObjects)")
    return documents


@dataclass(frozen=True)
class ParquetFormat(FileFormat):
    compression_codec: str = "snappy"
    dataset: str = ""
    extension = ".parquet"

    def read(self, data: bytes, where: str) -> Rows:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(pa.BufferReader(data))
        except (pa.ArrowException, OSError) as exc:
            raise DatasetAccessError("Source", f"{where}: not a Parquet file ({exc})") from exc
        return Rows(tuple(table.column_names), tuple(table.to_pylist()), table)

    def write(self, rows: Rows, where: str) -> bytes:
        import pyarrow as pa
        import pyarrow.parquet as pq

        codec = self.compression_codec.lower()
        if codec not in _PARQUET_CODECS:
            raise DatasetAccessError("Sink", f"dataset `{self.dataset}`: Copy does not write Parquet compressionCodec "
                                     f"`{self.compression_codec}` (Learn, format-parquet: {', '.join(_PARQUET_CODECS)})")
        spaced = next((c for c in rows.columns if any(ch.isspace() for ch in c)), None)
        if spaced is not None:
            raise DatasetAccessError("Sink", f"{where}: column `{spaced}` has white space, which Parquet files do not "
                                     "support (Learn, format-parquet): rename it with a translator mapping")
        table = rows.arrow
        if table is None:
            try:
                table = pa.Table.from_pylist(list(rows.records), schema=_schema(rows))
            except (pa.ArrowException, TypeError, ValueError) as exc:
                raise DatasetAccessError("Sink", f"{where}: the rows do not fit one Parquet schema ({exc}); map the "
                                         "columns with a translator") from exc
        nested = next((f.name for f in table.schema if pa.types.is_nested(f.type)), None)
        if nested is not None:
            raise DatasetAccessError("Sink", f"{where}: column `{nested}` is {table.schema.field(nested).type}; Copy does "
                                     "not write complex Parquet types (MAP, LIST, STRUCT are data-flow only, Learn, "
                                     "format-parquet): map its fields to columns with a translator")
        sink = io.BytesIO()
        pq.write_table(table, sink, compression=codec)
        return sink.getvalue()


def _schema(rows: Rows) -> Any:
    """One Arrow type per column from its values (a column of only nulls is a string column, as ADF writes it)."""
    import pyarrow as pa

    fields = []
    for column in rows.columns:
        values = [r.get(column) for r in rows.records if r.get(column) is not None]
        kind = pa.array(values).type if values else pa.string()
        fields.append(pa.field(column, kind))
    return pa.schema(fields)


@dataclass(frozen=True)
class BinaryFormat(FileFormat):
    """Bytes copied as they are (Learn, format-binary); only decompressed/compressed when the datasets say so."""

    compression: Compression | None = None
    tabular = False

    @property
    def extension(self) -> str:  # type: ignore[override]
        return self.compression.extension if self.compression else ""

    def unpack(self, data: bytes, where: str) -> bytes:
        return self.compression.decompress(data, where) if self.compression else data

    def pack(self, data: bytes) -> bytes:
        return self.compression.compress(data) if self.compression else data
