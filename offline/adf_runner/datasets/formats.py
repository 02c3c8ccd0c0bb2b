"""Read and write the file formats of ADF datasets: Json, DelimitedText, Parquet (and Binary, bytes as they are).

Sources (Learn): "JSON format" (format-json: file patterns setOfObjects — one object, JSON Lines or concatenated
objects — and arrayOfObjects, read by detection; `filePattern` on write, setOfObjects by default), "Delimited text
format" (format-delimited-text: columnDelimiter `,`, rowDelimiter any of \\r\\n, \\r, \\n on read and \\r\\n on write by
Copy, quoteChar `"`, escapeChar `\\`, firstRowAsHeader false, nullValue '', encodingName UTF-8, compressionCodec;
multi-character or empty delimiters are data-flow only), "Parquet format" (format-parquet: compressionCodec snappy
by default) and "Supported file formats and compression codecs". Values read from delimited text are strings (the
format has no types); a headerless file's columns are Prop_0, Prop_1, ... as ADF names them.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from factory_deploy.json_keys import get_property
from offline.adf_runner.datasets.errors import DatasetAccessError

__all__ = ["FileFormat", "Rows", "file_format", "json_value"]

# Learn, format-delimited-text / format-json: encodingName's allowed values.
ENCODINGS = (
    "UTF-8", "UTF-8 without BOM", "UTF-16", "UTF-16BE", "UTF-32", "UTF-32BE", "US-ASCII", "UTF-7", "BIG5", "EUC-JP",
    "EUC-KR", "GB2312", "GB18030", "JOHAB", "SHIFT-JIS", "CP875", "CP866", "IBM00858", "IBM037", "IBM273", "IBM437",
    "IBM500", "IBM737", "IBM775", "IBM850", "IBM852", "IBM855", "IBM857", "IBM860", "IBM861", "IBM863", "IBM864",
    "IBM865", "IBM869", "IBM870", "IBM01140", "IBM01141", "IBM01142", "IBM01143", "IBM01144", "IBM01145", "IBM01146",
    "IBM01147", "IBM01148", "IBM01149", "ISO-2022-JP", "ISO-2022-KR", "ISO-8859-1", "ISO-8859-2", "ISO-8859-3",
    "ISO-8859-4", "ISO-8859-5", "ISO-8859-6", "ISO-8859-7", "ISO-8859-8", "ISO-8859-9", "ISO-8859-13", "ISO-8859-15",
    "WINDOWS-874", "WINDOWS-1250", "WINDOWS-1251", "WINDOWS-1252", "WINDOWS-1253", "WINDOWS-1254", "WINDOWS-1255",
    "WINDOWS-1256", "WINDOWS-1257", "WINDOWS-1258",
)
# Copy activity's codecs (Learn: snappy and lz4 are data-flow only; ZipDeflate/Tar/TarGzip unpack into folders,
# which this runner does not reproduce).
_COMPRESSIONS = ("gzip", "deflate", "bzip2")
# Learn, format-parquet: compressionCodec none, gzip, snappy (default) or lzo, and Copy does not support LZO. Reading
# takes the codec from the file's metadata, so only writing checks it.
_PARQUET_CODECS = ("none", "gzip", "snappy")
_ROW_DELIMITERS = ("\n", "\r\n", "\r")


@dataclass(frozen=True)
class Rows:
    """What one file holds: column names in order and rows as dicts. Parquet keeps its typed table in `arrow`
    (written back as it is when no mapping changes it)."""

    columns: tuple[str, ...]
    records: tuple[dict[str, Any], ...]
    arrow: Any = None

    def __len__(self) -> int:
        return len(self.records)


class FileFormat:
    """One dataset's format: `read(bytes)` -> Rows, `write(Rows)` -> bytes. `tabular` is False for Binary."""

    tabular = True
    extension = ""

    def read(self, data: bytes, where: str) -> Rows:
        raise NotImplementedError

    def write(self, rows: Rows, where: str) -> bytes:
        raise NotImplementedError


def file_format(kind: str, properties: Mapping[str, Any], format_settings: Mapping[str, Any] | None, dataset: str) -> FileFormat:
    """The format of dataset `dataset` (its evaluated typeProperties) with the activity's formatSettings."""
    settings = format_settings or {}
    if kind == "Json":
        compression = _compression(get_property(properties, "compression"), dataset)
        pattern = get_property(settings, "filePattern") or "setOfObjects"
        if pattern not in ("setOfObjects", "arrayOfObjects"):
            raise DatasetAccessError("Sink", f"dataset `{dataset}`: formatSettings.filePattern {pattern!r} is not "
                                     "setOfObjects or arrayOfObjects")
        return JsonFormat(_encoding(properties, dataset), compression, pattern == "arrayOfObjects")
    if kind == "DelimitedText":
        return _delimited(properties, settings, dataset)
    if kind == "Parquet":
        return ParquetFormat(str(get_property(properties, "compressionCodec") or "snappy"), dataset)
    if kind == "Binary":
        return BinaryFormat(_compression(get_property(properties, "compression"), dataset))
    raise DatasetAccessError("Source", f"dataset `{dataset}`: format `{kind}` is not supported by the local runner")


# --- compression and encoding ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Compression:
    codec: str
    level: int

    @property
    def extension(self) -> str:
        return {"gzip": ".gz", "deflate": ".deflate", "bzip2": ".bz2"}[self.codec]

    def decompress(self, data: bytes, where: str) -> bytes:
        try:
            if self.codec == "gzip":
                return gzip.decompress(data)
            if self.codec == "bzip2":
                return bz2.decompress(data)
            return zlib.decompress(data, -zlib.MAX_WBITS)  # .NET's DeflateStream: raw deflate, no zlib header
        except (OSError, EOFError, ValueError, zlib.error) as exc:
            raise DatasetAccessError("Source", f"{where}: not {self.codec} data ({exc})") from exc

    def compress(self, data: bytes) -> bytes:
        if self.codec == "gzip":
            return gzip.compress(data, compresslevel=self.level, mtime=0)
        if self.codec == "bzip2":
            return bz2.compress(data, compresslevel=self.level)
        packer = zlib.compressobj(self.level, zlib.DEFLATED, -zlib.MAX_WBITS)
        return packer.compress(data) + packer.flush()


def _compression(spec: Any, dataset: str) -> Compression | None:
    """`{"type": "gzip", "level": "Optimal"}` (Json, Binary) or the codec name (DelimitedText's compressionCodec)."""
    if spec is None or spec == "":
        return None
    codec = get_property(spec, "type") if isinstance(spec, Mapping) else spec
    level = get_property(spec, "level") if isinstance(spec, Mapping) else None
    if not isinstance(codec, str) or codec.lower() not in _COMPRESSIONS:
        raise DatasetAccessError("Source", f"dataset `{dataset}`: compression `{codec}` is not supported by the local "
                                 f"runner's Copy and Lookup; supported: {', '.join(_COMPRESSIONS)}")
    return Compression(codec.lower(), 1 if str(level).lower() == "fastest" else 9)


def _encoding(properties: Mapping[str, Any], dataset: str) -> str:
    name = get_property(properties, "encodingName") or "UTF-8"
    canonical = next((e for e in ENCODINGS if e.lower() == str(name).lower()), None)
    if canonical is None:
        raise DatasetAccessError("Source", f"dataset `{dataset}`: encodingName {name!r} is not one ADF allows "
                                 "(Learn, format-delimited-text: UTF-8, UTF-16, ISO-8859-1, WINDOWS-1252, ...)")
    python = {"UTF-8": "utf-8", "UTF-8 without BOM": "utf-8", "UTF-16": "utf-16-le", "UTF-32": "utf-32-le",
              "IBM00858": "cp858"}.get(canonical, canonical.lower())
    try:
        return codecs.lookup(python).name
    except LookupError as exc:
        raise DatasetAccessError("Source", f"dataset `{dataset}`: encodingName {canonical} is not supported locally "
                                 "(Python has no codec for it)") from exc


def _decode(data: bytes, encoding: str, where: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DatasetAccessError("Source", f"{where}: not {encoding} text at byte {exc.start}; set the dataset's "
                                 "encodingName") from exc
    return text.removeprefix("\ufeff")  # a byte order mark marks the encoding, it is not data


# --- JSON -----------------------------------------------------------------------------------------------------


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
        text = _decode(data, self.encoding, where)
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


# --- delimited text -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DelimitedTextFormat(FileFormat):
    column_delimiter: str = ","
    row_delimiter: str | None = None
    quote_char: str = '"'
    escape_char: str = "\\"
    first_row_as_header: bool = False
    null_value: str = ""
    encoding: str = "utf-8"
    compression: Compression | None = None
    skip_line_count: int = 0
    quote_all_text: bool = False
    file_extension: str = ".txt"

    @property
    def extension(self) -> str:  # type: ignore[override]
        return self.file_extension + (self.compression.extension if self.compression else "")

    def read(self, data: bytes, where: str) -> Rows:
        if self.compression:
            data = self.compression.decompress(data, where)
        text = _decode(data, self.encoding, where)
        if self.row_delimiter and self.row_delimiter not in _ROW_DELIMITERS:
            raise DatasetAccessError("Source", f"{where}: rowDelimiter {self.row_delimiter!r} is not supported locally "
                                     "(\\n, \\r\\n or \\r)")
        try:
            lines = _parse_delimited(text, self.column_delimiter, self.quote_char, self.escape_char)
        except ValueError as exc:
            raise DatasetAccessError("Source", f"{where}: malformed delimited text ({exc})") from exc
        lines = lines[self.skip_line_count:]  # skipLineCount counts non-empty rows, before the header
        if self.first_row_as_header:
            if not lines:
                return Rows((), ())
            header, body = lines[0], lines[1:]
            columns = tuple(name if name else f"Prop_{i}" for i, name in enumerate(header))
        else:
            body = lines
            columns = tuple(f"Prop_{i}" for i in range(max((len(line) for line in body), default=0)))
        records = []
        for number, line in enumerate(body, start=1):
            if len(line) > len(columns):
                raise DatasetAccessError("Source", f"{where}: row {number} has {len(line)} columns, the header "
                                         f"{len(columns)}")
            values = [None if v == self.null_value else v for v in line] + [None] * (len(columns) - len(line))
            records.append(dict(zip(columns, values)))
        return Rows(columns, tuple(records))

    def write(self, rows: Rows, where: str) -> bytes:
        lines = [self._line(rows.columns, where)] if self.first_row_as_header else []
        lines += [self._line([None if record.get(c) is None else _text(record.get(c)) for c in rows.columns], where)
                  for record in rows.records]
        ending = self.row_delimiter or "\r\n"  # Copy writes \r\n by default (Learn, format-delimited-text)
        data = "".join(line + ending for line in lines).encode(self.encoding)
        return self.compression.compress(data) if self.compression else data

    def _line(self, values: Sequence[str | None], where: str) -> str:
        return self.column_delimiter.join(self.null_value if v is None else self._value(v, where) for v in values)

    def _value(self, text: str, where: str) -> str:
        """A value quoted when it holds the delimiter, the quote char or a line break (or quoteAllText), with the quote
        and escape chars escaped inside; without a quote char, the escape char escapes the delimiter and itself."""
        quote, escape, delimiter = self.quote_char, self.escape_char, self.column_delimiter
        if not quote:
            if any(c in text for c in "\r\n") or (not escape and delimiter in text):
                raise DatasetAccessError("Sink", f"{where}: the value {text[:40]!r} holds a delimiter or line break and "
                                         "the dataset has no quoteChar to quote it")
            return text.replace(escape, escape + escape).replace(delimiter, escape + delimiter) if escape else text
        if not (self.quote_all_text or any(c in text for c in (delimiter, quote, "\r", "\n"))):
            return text
        body = text.replace(quote, quote + quote) if escape == quote else \
            text.replace(escape, escape + escape).replace(quote, escape + quote)
        return quote + body + quote


def _parse_delimited(text: str, delimiter: str, quote: str, escape: str) -> list[list[str]]:
    """Rows of delimited text as ADF's Copy reads them: a quote char opens a quoted value only at the start of a value,
    the escape char escapes the quote char (or itself) inside a quoted value and is literal elsewhere; with no quote
    char, the escape char escapes the delimiter and itself. Rows end at \\r\\n, \\r or \\n outside quotes; empty lines
    are skipped."""
    rows: list[list[str]] = []
    row: list[str] = []
    value: list[str] = []
    quoted = in_quotes = False
    index, size = 0, len(text)
    while index < size:
        char = text[index]
        following = text[index + 1] if index + 1 < size else ""
        if in_quotes:
            if char == escape and following in (quote, escape) and following and escape != quote:
                value.append(following)
                index += 2
            elif char == quote and escape == quote and following == quote:
                value.append(quote)
                index += 2
            elif char == quote:
                in_quotes = False
                index += 1
            else:
                value.append(char)
                index += 1
            continue
        if quote and char == quote and not value and not quoted:
            in_quotes = quoted = True
        elif not quote and escape and char == escape and following:
            value.append(following)
            index += 1
        elif char == delimiter:
            row.append("".join(value))
            value, quoted = [], False
        elif char in "\r\n":
            if row or value or quoted:
                row.append("".join(value))
                rows.append(row)
            row, value, quoted = [], [], False
            if char == "\r" and following == "\n":
                index += 1
        else:
            value.append(char)
        index += 1
    if in_quotes:
        raise ValueError("a quoted value is not closed before the end of the file")
    if row or value or quoted:
        row.append("".join(value))
        rows.append(row)
    return rows


def _delimited(properties: Mapping[str, Any], settings: Mapping[str, Any], dataset: str) -> DelimitedTextFormat:
    def char(key: str, default: str) -> str:
        value = get_property(properties, key)
        value = default if value is None else value
        if not isinstance(value, str) or len(value) > 1:
            raise DatasetAccessError("Source", f"dataset `{dataset}`: {key} {value!r} must be one character (Learn: "
                                     "multi-character and empty column delimiters are for mapping data flows only)")
        return value

    delimiter = char("columnDelimiter", ",")
    if not delimiter:
        raise DatasetAccessError("Source", f"dataset `{dataset}`: an empty columnDelimiter is for mapping data flows "
                                 "only (Learn, format-delimited-text)")
    quote, escape = char("quoteChar", '"'), char("escapeChar", "\\")
    if not escape and quote:
        raise DatasetAccessError("Source", f"dataset `{dataset}`: an empty escapeChar needs an empty quoteChar too "
                                 "(Learn, format-delimited-text)")
    row = get_property(properties, "rowDelimiter")
    skip = get_property(settings, "skipLineCount") or 0
    extension = get_property(settings, "fileExtension") or ".txt"
    return DelimitedTextFormat(
        column_delimiter=delimiter, row_delimiter=row or None, quote_char=quote, escape_char=escape,
        first_row_as_header=bool(get_property(properties, "firstRowAsHeader") or False),
        null_value=str(get_property(properties, "nullValue") or ""), encoding=_encoding(properties, dataset),
        compression=_compression(get_property(properties, "compressionCodec"), dataset),
        skip_line_count=int(skip), quote_all_text=bool(get_property(settings, "quoteAllText") or False),
        file_extension=str(extension),
    )


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"  # .NET's Boolean.ToString(), as ADF writes a boolean as text
    if isinstance(value, (dict, list)):
        return json.dumps(json_value(value), ensure_ascii=False, separators=(",", ":"))
    converted = json_value(value)
    return converted if isinstance(converted, str) else str(converted)


# --- Parquet and Binary ---------------------------------------------------------------------------------------


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


# --- values ---------------------------------------------------------------------------------------------------


def json_value(value: Any) -> Any:
    """A value as ADF puts it in JSON (activity outputs, JSON files): ISO 8601 dates and times, numbers for decimals."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [json_value(v) for v in value]
    return value
