"""Delimited text as ADF's Copy reads and writes it (Learn, format-delimited-text): columnDelimiter `,`, rowDelimiter
any of \\r\\n, \\r, \\n on read and \\r\\n on write, quoteChar `"`, escapeChar `\\` (it escapes quotes inside a quoted
value; with an empty quoteChar it escapes the delimiter and itself), firstRowAsHeader false, nullValue '', skipLineCount
(non-empty rows before the header), quoteAllText and fileExtension on write. Multi-character or empty delimiters are
data-flow only. Values read are strings; a headerless file's columns are Prop_0, Prop_1, ... as ADF names them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from factory_deploy.json_keys import get_property
from offline.adf_runner.datasets.errors import DatasetAccessError
from offline.adf_runner.datasets.rows import FileFormat, Rows, json_value
from offline.adf_runner.datasets.text import Compression, compression_of, decode_text, encoding_of

__all__ = ["DelimitedTextFormat", "delimited_format"]

_ROW_DELIMITERS = ("\n", "\r\n", "\r")


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
        text = decode_text(data, self.encoding, where)
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
    return _DelimitedReader(text, delimiter, quote, escape).rows()


class _DelimitedReader:
    """One pass over the text, a character (or an escape pair) at a time. Inside and outside quotes the same character
    means different things, so each has its own step; the row and value being built are the state between steps."""

    def __init__(self, text: str, delimiter: str, quote: str, escape: str) -> None:
        self.text, self.delimiter, self.quote, self.escape = text, delimiter, quote, escape
        self.done: list[list[str]] = []
        self.row: list[str] = []
        self.value: list[str] = []
        self.quoted = False  # the current value was quoted: `""` is an empty value, not an empty line
        self.in_quotes = False

    def rows(self) -> list[list[str]]:
        index = 0
        while index < len(self.text):
            index = self._quoted_step(index) if self.in_quotes else self._plain_step(index)
        if self.in_quotes:
            raise ValueError("a quoted value is not closed before the end of the file")
        self._end_row()
        return self.done

    def _following(self, index: int) -> str:
        return self.text[index + 1] if index + 1 < len(self.text) else ""

    def _quoted_step(self, index: int) -> int:
        """Inside quotes: an escaped quote or escape char, a doubled quote (when the escape char is the quote char),
        the closing quote, or a literal character (delimiters and line breaks included). Returns the next index."""
        char, following, quote, escape = self.text[index], self._following(index), self.quote, self.escape
        if char == escape and following in (quote, escape) and following and escape != quote:
            self.value.append(following)
            return index + 2
        if char == quote and escape == quote and following == quote:
            self.value.append(quote)
            return index + 2
        if char == quote:
            self.in_quotes = False
        else:
            self.value.append(char)
        return index + 1

    def _plain_step(self, index: int) -> int:
        """Outside quotes: an opening quote (only at a value's start), an escape pair (only without a quote char), a
        delimiter, a line break (\\r\\n is one), or a literal character. Returns the next index."""
        char, following = self.text[index], self._following(index)
        if self.quote and char == self.quote and not self.value and not self.quoted:
            self.in_quotes = self.quoted = True
        elif not self.quote and self.escape and char == self.escape and following:
            self.value.append(following)
            index += 1
        elif char == self.delimiter:
            self._end_value()
        elif char in "\r\n":
            self._end_row()
            if char == "\r" and following == "\n":
                index += 1
        else:
            self.value.append(char)
        return index + 1

    def _end_value(self) -> None:
        self.row.append("".join(self.value))
        self.value, self.quoted = [], False

    def _end_row(self) -> None:
        """Ends the row being built; a line with nothing on it (not even a quoted empty value) is skipped, as ADF does."""
        if self.row or self.value or self.quoted:
            self._end_value()
            self.done.append(self.row)
        self.row, self.value, self.quoted = [], [], False


def delimited_format(properties: Mapping[str, Any], settings: Mapping[str, Any], dataset: str) -> DelimitedTextFormat:
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
        null_value=str(get_property(properties, "nullValue") or ""), encoding=encoding_of(properties, dataset),
        compression=compression_of(get_property(properties, "compressionCodec"), dataset),
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
