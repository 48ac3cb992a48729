"""Spreadsheet-safe CSV cells: text that a spreadsheet would run as a formula is neutralised.

OWASP's CSV-injection advice: a cell that starts with `=`, `+`, `-`, `@`, a tab or a
carriage return is read by Excel, LibreOffice and Google Sheets as a formula
(`=HYPERLINK(...)`, `+cmd|' /C calc'!A0`, `@SUM(...)`); prefixing it with a single
quote makes it text, and the rest of the cell is kept as it was. Numbers (`-3.5`)
and ISO dates are left alone; a cell whose first non-blank character is a trigger
is neutralised too, since some spreadsheets trim leading blanks.
"""

from __future__ import annotations

import csv
import io
import re

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise(value):
    """The cell as a spreadsheet will show it, never as a formula; non-text values unchanged."""
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(TRIGGERS) or value.lstrip(" \u00a0").startswith(TRIGGERS):
        if _NUMBER.fullmatch(value):
            return value
        return "'" + value
    return value


def neutralise_row(row) -> list:
    return [neutralise(cell) for cell in row]


class CsvRewriter:
    """Rewrite a CSV text stream, chunk by chunk, with every cell neutralised.

    Chunks may split a record anywhere (inside a quoted field, a multi-byte
    letter): only complete records are rewritten, the rest waits for the next chunk.
    """

    _SPECIAL = re.compile(r'["\n]')

    def __init__(self):
        import codecs

        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._pending = ""
        self._scanned = 0  # how much of _pending has been scanned for quotes and newlines
        self._quoted = False
        self._boundary = 0  # end of the last complete record in _pending

    def feed(self, data: bytes, final: bool = False) -> bytes:
        self._pending += self._decoder.decode(data, final)
        for match in self._SPECIAL.finditer(self._pending, self._scanned):
            if match.group() == '"':
                self._quoted = not self._quoted
            elif not self._quoted:
                self._boundary = match.end()
        self._scanned = len(self._pending)
        end = len(self._pending) if final else self._boundary
        complete, self._pending = self._pending[:end], self._pending[end:]
        self._scanned -= end
        self._boundary = 0
        if not complete:
            return b""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        for row in csv.reader(io.StringIO(complete, newline="")):
            writer.writerow(neutralise_row(row))
        text = out.getvalue()
        if not complete.endswith("\n") and text.endswith("\r\n"):
            text = text[:-2]
        return text.encode("utf-8")
