"""What the first bytes of a text table say: its encoding, its separator, its decimal mark.

Analysts' files come from Excel and from European locales as often as from pandas:
Windows-1252 text, ';' between fields and '1,5' for one and a half. Standard library only.
"""

from __future__ import annotations

import codecs
import csv
import io
import re

SAMPLE_BYTES = 1 << 16
SAMPLE_ROWS = 200
SEPARATORS = ",;\t|"
# Tried in order when no encoding is given: most files are UTF-8; a byte that is not
# makes it Excel's Windows-1252, or else Latin-1, which decodes any byte.
AUTO_ENCODINGS = ("utf-8", "cp1252", "latin-1")
# Excel's "Unicode text" is UTF-16 with a byte-order mark; no other encoding starts so.
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# A number with a decimal comma and no thousands separator: 1,5  -0,25  ,5
_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d*,\d+\s*$")


def encodings_to_try(sample: bytes) -> list[str]:
    """The encodings the sample may be in, likeliest first (the file may still prove one
    wrong after the sample)."""
    if sample.startswith(UTF16_BOMS):
        return ["utf-16"]
    return [name for name in AUTO_ENCODINGS if undecodable(sample, name) is None]


def undecodable(sample: bytes, encoding: str) -> str | None:
    """Where `sample` is not in `encoding` ('byte 0xe9 in line 2'), or None if it is."""
    try:
        decode(sample, encoding)
    except UnicodeDecodeError as err:
        line = sample.count(b"\n", 0, err.start) + 1
        return f"byte 0x{sample[err.start]:02x} in line {line}"
    return None


def decode(sample: bytes, encoding: str) -> str:
    """The sample's complete lines as text (its last line may be cut short)."""
    # incremental: a character cut in two at the sample's end is not an error
    text = codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    text = text.removeprefix("\ufeff")  # UTF-8's byte-order mark, as Excel writes it
    end = text.rfind("\n")
    return text[: end + 1] if end >= 0 else text


def sniff_separator(text: str, default: str) -> str:
    """The format's own separator where it splits the sample's rows evenly; else the one
    csv.Sniffer finds among , ; tab |, checked the same way; else the default."""
    if _splits_evenly(text, default):
        return default
    try:
        found = csv.Sniffer().sniff(text, delimiters=SEPARATORS).delimiter
    except csv.Error:  # e.g. a table of one column: nothing separates anything
        return default
    return found if _splits_evenly(text, found) else default


def decimal_comma_columns(text: str, separator: str) -> list[str]:
    """Columns with numbers like '1,5' in the sample; only where ',' does not separate."""
    if separator == ",":
        return []
    header, *body = _rows(text, separator) or [[]]
    found = {i for row in body for i, value in enumerate(row) if _DECIMAL_COMMA.match(value)}
    return [header[i] for i in sorted(found) if i < len(header)]


def _rows(text: str, separator: str) -> list[list[str]]:
    """The sample's non-blank rows as csv parses them (quotes respected)."""
    reader = csv.reader(io.StringIO(text), delimiter=separator)
    try:
        return [row for row, _ in zip(reader, range(SAMPLE_ROWS)) if row]
    except csv.Error:  # e.g. a NUL byte: let the real reader say what is wrong
        return []


def _splits_evenly(text: str, separator: str) -> bool:
    """True when the header has 2+ fields and every sampled row as many."""
    rows = _rows(text, separator)
    return bool(rows) and len(rows[0]) > 1 and all(len(row) == len(rows[0]) for row in rows)
