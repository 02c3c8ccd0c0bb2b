"""Compression and text encoding of file datasets, shared by the formats.

Learn: "Supported file formats and compression codecs" and the format pages (format-json, format-delimited-text:
`compression`/`compressionCodec`, `encodingName`). Copy's codecs are gzip, deflate and bzip2 here; snappy and lz4 are
data-flow only, and ZipDeflate/Tar/TarGzip unpack into folders, which this runner does not reproduce.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from factory_deploy.json_keys import get_property
from offline.adf_runner.datasets.errors import DatasetAccessError

__all__ = ["COMPRESSIONS", "ENCODINGS", "Compression", "compression_of", "decode_text", "encoding_of"]

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
COMPRESSIONS = ("gzip", "deflate", "bzip2")


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


def compression_of(spec: Any, dataset: str) -> Compression | None:
    """`{"type": "gzip", "level": "Optimal"}` (Json, Binary) or the codec name (DelimitedText's compressionCodec)."""
    if spec is None or spec == "":
        return None
    codec = get_property(spec, "type") if isinstance(spec, Mapping) else spec
    level = get_property(spec, "level") if isinstance(spec, Mapping) else None
    if not isinstance(codec, str) or codec.lower() not in COMPRESSIONS:
        raise DatasetAccessError("Source", f"dataset `{dataset}`: compression `{codec}` is not supported by the local "
                                 f"runner's Copy and Lookup; supported: {', '.join(COMPRESSIONS)}")
    return Compression(codec.lower(), 1 if str(level).lower() == "fastest" else 9)


def encoding_of(properties: Mapping[str, Any], dataset: str) -> str:
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


def decode_text(data: bytes, encoding: str, where: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DatasetAccessError("Source", f"{where}: not {encoding} text at byte {exc.start}; set the dataset's "
                                 "encodingName") from exc
    return text.removeprefix("\ufeff")  # a byte order mark marks the encoding, it is not data
