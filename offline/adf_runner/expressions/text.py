"""Strings as .NET sees them: UTF-16 code units, invariant simple case mapping, case-insensitive search,
culture-aware ordering, `char.IsWhiteSpace` trimming and invariant number parsing.

Python strings count code points and map case with full Unicode rules (`'ß'.upper() == 'SS'`); .NET counts
UTF-16 units (`length('😀') == 2`) and maps one character to one character. Each rule below was checked
against Microsoft's engine (tests/integration/test_expression_differential.py).
"""

from __future__ import annotations

import re
import unicodedata

from offline.adf_runner.errors import ExpressionError

__all__ = [
    "collation_compare",
    "ends_with",
    "find",
    "parse_decimal_number",
    "rfind",
    "starts_with",
    "to_lower",
    "to_upper",
    "trim",
    "utf16_len",
    "utf16_slice",
]


def utf16_len(text: str) -> int:
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _units(text: str) -> list[int]:
    """For each UTF-16 unit, the index of the code point it belongs to (-1 marks a low surrogate)."""
    units: list[int] = []
    for i, ch in enumerate(text):
        units.append(i)
        if ord(ch) > 0xFFFF:
            units.append(-1)
    return units


def utf16_slice(function: str, text: str, start: int, end: int) -> str:
    """`text[start:end]` in UTF-16 units. A cut through a surrogate pair would hand ADF half a character."""
    if text.isascii():
        return text[start:end]
    if start >= end:
        return ""
    units = _units(text)
    for cut in (start, end):
        if 0 < cut < len(units) and units[cut] == -1:
            raise ExpressionError(
                f"not supported locally: {function} would cut the UTF-16 surrogate pair at unit {cut} of `{text}` "
                "(Azure returns half a character)"
            )
    first = units[start] if start < len(units) else len(text)
    last = units[end] if end < len(units) else len(text)
    return text[first:last]


def _code_point_to_unit(text: str, index: int) -> int:
    return index if index < 0 else utf16_len(text[:index])


def _simple(ch: str, mapped: str) -> str:
    # .NET maps one UTF-16 unit to one: no multi-character results ('ß' stays, 'ﬁ' stays, 'İ' stays),
    # and the dotless/dotted Turkish i are left alone by the invariant culture.
    if len(mapped) != 1 or ch in "\u0130\u0131":
        return ch
    return mapped


def _upper(ch: str) -> str:
    mapped = ch.upper()
    if len(mapped) != 1:
        # Python applies the full mapping (ᾳ -> ΑΙ); the simple one, which .NET uses, is the titlecase
        # letter where one exists (ᾳ -> ᾼ).
        title = ch.title()
        mapped = title if len(title) == 1 else ch
    return _simple(ch, mapped)


def to_upper(text: str) -> str:
    return "".join(_upper(ch) for ch in text)


def to_lower(text: str) -> str:
    # Per character, so a final sigma is not special-cased as Python's `str.lower` does.
    return "".join(_simple(ch, ch.lower()) for ch in text)


def _culture_safe(text: str) -> bool:
    """True when a culture-aware, case-insensitive comparison of `text` equals comparing its case-folded
    characters: no ignorable or combining characters, no compatibility variants (ⓐ, ﬁ, ſ), no CR LF pair."""
    if text.isascii():
        return "\r\n" not in text and all(ch >= " " or ch in "\t\n\r" for ch in text) and "\x7f" not in text
    for ch in text:
        category = unicodedata.category(ch)
        if category[0] == "M" or category in ("Cf", "Co", "Cn", "Cs") or (category == "Cc" and ch not in "\t\n\r"):
            return False
        if unicodedata.normalize("NFKD", ch) != unicodedata.normalize("NFD", ch) or 0x1100 <= ord(ch) < 0x1200:
            return False
    return "\r\n" not in text


def _folded(function: str, text: str, search: str) -> tuple[str, str]:
    """Both strings case-folded for `startsWith`/`endsWith`/`indexOf`/`lastIndexOf`, which Microsoft's
    engine runs culture-aware and ignoring case (`indexOf('a', 'ⓐ')` is 0 there). Text where that differs
    from comparing folded characters fails rather than answering differently."""
    for value in (text, search):
        if not _culture_safe(value):
            raise ExpressionError(
                f"not supported locally: {function} of `{value}` (it holds combining, ignorable or compatibility "
                "characters, or CR LF, which ADF compares culture-aware)"
            )
    return to_lower(to_upper(text)), to_lower(to_upper(search))


def starts_with(text: str, prefix: str) -> bool:
    folded, part = _folded("startsWith", text, prefix)
    return folded.startswith(part)


def ends_with(text: str, suffix: str) -> bool:
    folded, part = _folded("endsWith", text, suffix)
    return folded.endswith(part)


def find(text: str, search: str) -> int:
    """`indexOf`, as a UTF-16 index."""
    folded, part = _folded("indexOf", text, search)
    return _code_point_to_unit(text, folded.find(part))


def rfind(text: str, search: str) -> int:
    """`lastIndexOf`, as a UTF-16 index. .NET Core 3.1 answers `length - 1` for an empty search string in a
    non-empty text (measured)."""
    folded, part = _folded("lastIndexOf", text, search)
    if search == "":
        return max(utf16_len(text) - 1, 0)
    return _code_point_to_unit(text, folded.rfind(part))


# .NET `char.IsWhiteSpace` (Unicode Zs/Zl/Zp, U+0009-U+000D, U+0085, U+00A0); Python's `str.strip` also
# strips U+001C-U+001F.
_WHITESPACE = "".join(
    chr(c)
    for c in [*range(0x09, 0x0E), 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000]
)


def trim(text: str) -> str:
    return text.strip(_WHITESPACE)


# Culture-aware ordering (String.Compare, invariant culture, ICU): the primary order of printable ASCII
# measured from Microsoft's engine. Punctuation is not ignorable; letters compare without case first, and
# only then lowercase sorts before uppercase.
_ASCII_ORDER = " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789abcdefghijklmnopqrstuvwxyz"
_PRIMARY = {ch: i for i, ch in enumerate(_ASCII_ORDER)} | {ch.upper(): i for i, ch in enumerate(_ASCII_ORDER) if ch.isalpha()}


def collation_compare(function: str, left: str, right: str) -> int:
    """-1, 0 or 1 as the engine orders two strings in `less`/`greater`. Only printable ASCII is ordered
    locally: beyond it the ICU collation tables would be needed, so other text fails clearly."""
    for text in (left, right):
        if not all(ch in _PRIMARY for ch in text):
            raise ExpressionError(
                f"not supported locally: {function} of strings outside printable ASCII (`{text}`): "
                "ADF orders them by culture-aware collation"
            )
    primary = ([_PRIMARY[ch] for ch in left], [_PRIMARY[ch] for ch in right])
    if primary[0] != primary[1]:
        return -1 if primary[0] < primary[1] else 1
    case = ([ch.isupper() for ch in left], [ch.isupper() for ch in right])
    return 0 if case[0] == case[1] else (-1 if case[0] < case[1] else 1)


# .NET `NumberStyles.Float | AllowThousands` with the invariant culture: surrounding white space, a leading
# sign, `,` group separators anywhere in the integer part, one `.`, an exponent. ASCII digits only.
_NUMBER = re.compile(r"[ \t\n\v\f\r]*([+-]?)([0-9][0-9,]*)?(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?[ \t\n\v\f\r]*", re.ASCII)


def parse_decimal_number(text: str) -> tuple[str, str, str, int] | None:
    """(sign, integer digits, fraction digits, exponent) of a number text .NET parses, or None."""
    match = _NUMBER.fullmatch(text)
    if not match:
        return None
    sign, whole, fraction, exponent = match.group(1), (match.group(2) or "").replace(",", ""), match.group(3) or "", match.group(4)
    if not whole and not fraction:
        return None
    return sign, whole, fraction, int(exponent or 0)
