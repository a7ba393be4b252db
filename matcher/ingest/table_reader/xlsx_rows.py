"""XLSX: openpyxl reads the chosen sheet row by row, each row checked before it is used."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from matcher.core.errors import InvalidInput
from matcher.ingest.safe_cells import excerpt
from matcher.ingest.table_reader.limits import (
    BROKEN_XLSX,
    EXCEL_MAX_COLUMNS,
    EXCEL_MAX_ROWS,
    HEADER_ROOM,
    PayloadTooLarge,
    ReadLimits,
    check_file_size,
    check_width,
    too_long,
    too_many_rows,
    too_wide,
    where,
)
from matcher.ingest.table_reader.xlsx_package import scan_xlsx


def _open_workbook(path: Path) -> Any:
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors on a broken file
        raise InvalidInput(BROKEN_XLSX) from None


def xlsx_sheet_names(path: Path, limits: ReadLimits, label: str = "") -> list[str]:
    """The sheet names of a workbook, after the package checks."""
    check_file_size(path, limits)
    scan_xlsx(path, limits, label)
    workbook = _open_workbook(path)
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def xlsx_rows(path: Path, sheet: str | None, fill_merged: bool, limits: ReadLimits,
              label: str = "") -> Iterator[tuple[int, list[object]]]:
    """(row number, values) of one sheet (the first unless named). A vertically merged cell
    repeats its value down its first column when ``fill_merged``."""
    check_file_size(path, limits)
    parts = scan_xlsx(path, limits, label)
    workbook = _open_workbook(path)
    try:
        if sheet is not None:
            if sheet not in workbook.sheetnames:
                names = "、".join(excerpt(n, 31) for n in workbook.sheetnames[:10])
                more = f" 等 {len(workbook.sheetnames)} 个" if len(workbook.sheetnames) > 10 else ""
                raise InvalidInput(f"工作表“{excerpt(sheet, 31)}”不存在；文件中的工作表：{names}{more}")
            worksheet = workbook[sheet]
        else:
            if not workbook.worksheets:
                raise InvalidInput("Excel 文件中没有工作表")
            worksheet = workbook.worksheets[0]
        part = parts.get(getattr(worksheet, "_worksheet_path", ""))
        merges = part.merges if (part is not None and fill_merged) else []
        try:
            yield from _sheet_rows(worksheet, merges, limits, label)
        except InvalidInput:
            raise
        except Exception:
            raise InvalidInput("无法读取 Excel 文件：文件已损坏或内容无法解析") from None
    finally:
        workbook.close()


def _sheet_rows(worksheet: Any, merges: list[tuple[int, int, int, int]], limits: ReadLimits,
                label: str) -> Iterator[tuple[int, list[object]]]:
    # vertical merges by first row: (min_col, max_row); the rows below the first repeat its value
    starts: dict[int, list[tuple[int, int]]] = {}
    spread = 0
    for min_row, min_col, max_row, _max_col in merges:
        if max_row > min_row:
            starts.setdefault(min_row, []).append((min_col, max_row))
            spread += min(max_row, EXCEL_MAX_ROWS) - min_row
    if spread > (limits.rows + HEADER_ROOM) * 20:
        raise PayloadTooLarge(f"{where(label)}合并单元格的范围过大")
    active: list[tuple[int, int, object]] = []  # (min_col, max_row, value of the first row)
    # openpyxl pads a row to its last cell (styled or not): bound the work this can cause
    width_budget = (limits.rows + HEADER_ROOM) * limits.columns * 2
    spent = 0
    data_rows = 0
    worksheet.reset_dimensions()
    for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
        if number > EXCEL_MAX_ROWS:
            raise InvalidInput("无法读取 Excel 文件：行号超出 Excel 的范围，文件已损坏")
        row = list(values)
        spent += len(row)
        if len(row) > EXCEL_MAX_COLUMNS:
            raise InvalidInput("无法读取 Excel 文件：列号超出 Excel 的范围，文件已损坏")
        if len(row) > limits.columns:
            if spent > width_budget:
                raise too_wide(limits, label, number)
            row = check_width(row, limits, label, number)
        blank = True
        for i, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, str):
                if len(v) > limits.cell_chars:
                    raise too_long(limits, label, number, i + 1)
                if blank and v.strip():
                    blank = False
            else:
                blank = False
        if active:
            active = [a for a in active if a[1] >= number]
            for min_col, _max_row, anchor in active:
                if len(row) < min_col:
                    row.extend([None] * (min_col - len(row)))
                current = row[min_col - 1]
                if current is None or (isinstance(current, str) and not current.strip()):
                    row[min_col - 1] = anchor
                    blank = blank and (anchor is None or (isinstance(anchor, str) and not anchor.strip()))
        for min_col, max_row in starts.pop(number, ()):
            active.append((min_col, max_row, row[min_col - 1] if min_col - 1 < len(row) else None))
        if not blank:
            data_rows += 1
            if data_rows > limits.rows + HEADER_ROOM:
                raise too_many_rows(limits, label)
        yield number, row
