"""CSV a spreadsheet cannot execute: every export (audit, analytics, replay) writes through here.

A cell that begins with =, +, -, @, a tab or a carriage return is read by spreadsheet programs
as a formula (=HYPERLINK(...) can send data away), so it is prefixed with a single quote, as
OWASP's guidance on CSV injection says. Numbers are written as numbers. (defusedcsv 3.0 was
tried: it leaves cells that begin with a tab or a carriage return as they are.)
"""

import csv
from collections.abc import Iterable
from numbers import Number
from typing import Any, TextIO

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    if value is None or isinstance(value, Number):
        return value
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_LEADS) else text


class SafeWriter:
    """csv.writer's writerow/writerows, with every cell neutralised."""

    def __init__(self, out: TextIO):
        self._writer = csv.writer(out)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([neutralise(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out: TextIO) -> SafeWriter:
    return SafeWriter(out)
