"""Rows out of a .csv (UTF-8, UTF-8 with BOM, GBK/GB18030) or .xlsx file, one at a time."""

from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

from core.errors import InvalidInput
from core.i18n import N_

SUFFIXES = (".csv", ".xlsx")
_CHUNK = 1 << 20
# An .xlsx is a zip: a few hundred kilobytes can inflate to gigabytes of XML that openpyxl would parse
# for many minutes. The zip's directory says how large each part inflates to before anything is
# read; a real export of 100,000 orders inflates to well under this, at a ratio of 5 to 20.
MAX_XLSX_INFLATED_BYTES = 256 * 1024 * 1024
MAX_XLSX_RATIO = 100
_RATIO_CHECKED_FROM = 1024 * 1024  # tiny parts (styles, empty sheets) compress absurdly well
MAX_ROWS = 200_000


def detect_encoding(path: Path) -> str:
    """utf-8-sig when the whole file decodes as UTF-8 (with or without BOM), else gb18030 (a superset of GBK)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8-sig"


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # openpyxl hands numbers over as floats; their shortest repr is what the sheet shows.
        text = repr(value)
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else str(Decimal(text))
    return str(value)


def _clean(text: str) -> str:
    text = text.strip()
    if text[:1] == "'":
        # Exports prefix numbers with ' (or a tab) so that spreadsheets keep them as text.
        return text.lstrip("'\t").strip()
    return text


def read_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The header, and (line number, {column: text}) for every non-empty row after it."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_rows(path)
    if suffix == ".xlsx":
        return _xlsx_rows(path)
    raise InvalidInput("file", N_("Choose a .csv or .xlsx file."))


def _csv_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    handle = open(path, encoding=detect_encoding(path), newline="")  # noqa: SIM115 - closed by the row generator
    first_line = handle.readline()
    handle.seek(0)
    # Some back offices write tab-separated text under a .csv name.
    reader = csv.reader(handle, csv.excel_tab if first_line.count("\t") > first_line.count(",") else csv.excel)
    try:
        header = [_clean(name) for name in next(reader)]
    except StopIteration:
        handle.close()
        raise InvalidInput("file", N_("The file is empty.")) from None

    width = len(header)

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        with handle:
            last = reader.line_num
            for cells in reader:
                start, last = last + 1, reader.line_num
                if start > MAX_ROWS + 1:
                    raise _too_many_rows()
                if not any(cell.strip() for cell in cells):
                    continue
                if len(cells) < width:
                    cells += [""] * (width - len(cells))
                yield start, dict(zip(header, map(_clean, cells), strict=False))

    return header, rows()


def check_archive(path: Path) -> None:
    """Refuse an .xlsx whose parts would inflate past the limits, from the zip directory alone."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidInput("file", N_("This is not an Excel (.xlsx) file.")) from exc
    inflated = sum(part.file_size for part in parts)
    bomb = any(part.file_size >= _RATIO_CHECKED_FROM and part.file_size > MAX_XLSX_RATIO * max(part.compress_size, 1)
               for part in parts)
    if inflated > MAX_XLSX_INFLATED_BYTES or bomb:
        raise InvalidInput("file", N_("This workbook unpacks to more than %(mb)s MB. Split it into smaller files "
                                      "or save it as .csv."), mb=MAX_XLSX_INFLATED_BYTES // (1024 * 1024))


def _too_many_rows() -> InvalidInput:
    return InvalidInput("file", N_("The file has more than %(n)s rows. Split it into smaller files."), n=MAX_ROWS)


def _xlsx_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    from openpyxl import load_workbook

    check_archive(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a file that is not a workbook
        raise InvalidInput("file", N_("This is not an Excel (.xlsx) file.")) from exc
    sheet = workbook.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    try:
        header = [_clean(_cell_text(value)) for value in next(values)]
    except StopIteration:
        workbook.close()
        raise InvalidInput("file", N_("The file is empty.")) from None

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        try:
            for line, cells in enumerate(values, start=2):
                if line > MAX_ROWS + 1:
                    raise _too_many_rows()
                texts = [_clean(_cell_text(value)) for value in cells]
                if not any(texts):
                    continue
                yield line, {name: texts[i] if i < len(texts) else "" for i, name in enumerate(header) if name}
        finally:
            workbook.close()

    return header, rows()
