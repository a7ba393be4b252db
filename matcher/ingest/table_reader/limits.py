"""The reading limits (``ReadLimits``), the fixed internal bounds, the refusal (``PayloadTooLarge``,
413) and its messages, and the checks every reader shares: file size, bounded reading, decoding,
row width."""

from __future__ import annotations

import codecs
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matcher.core.errors import InvalidInput
from matcher.ingest.safe_cells import excerpt

if TYPE_CHECKING:  # pragma: no cover
    from matcher.core.settings import Settings

MB = 1024 * 1024
HEADER_ROOM = 10  # title and header rows above the data, not counted as data rows
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
WHOLE_PART_BYTES = 16 * MB  # parts openpyxl parses as one tree
SHEET_SECTION_BYTES = 8 * MB  # a sheet's XML before <sheetData> and after </sheetData> (built whole)
MAX_RATIO = 200
RATIO_FROM_BYTES = 1 * MB
MAX_SHARED_STRINGS = 2_000_000
MAX_MERGED = 100_000
MAX_PARTS = 10_000

BROKEN_XLSX = "无法读取 Excel 文件：文件已损坏或不是 .xlsx 格式"


class PayloadTooLarge(InvalidInput):
    """A file above a reading limit (size, unpacked size, rows, columns, cell length): 413."""

    status = 413
    title = "文件过大"


@dataclass(frozen=True)
class ReadLimits:
    file_bytes: int = 50 * MB
    unpacked_bytes: int = 200 * MB
    rows: int = 200_000
    columns: int = 200
    cell_chars: int = 10_000

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> ReadLimits:
        if settings is None:
            from matcher.core.settings import load_settings

            settings = load_settings()
        return cls(file_bytes=settings.max_upload_bytes, unpacked_bytes=settings.import_max_unpacked_bytes,
                   rows=settings.import_max_rows, columns=settings.import_max_columns,
                   cell_chars=settings.import_max_cell_chars)

    def but(self, **changes: int | None) -> ReadLimits:
        """These limits with some replaced (``None`` keeps the current value)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def xml_run_bytes(self) -> int:
        """The longest stretch of sheet XML without a tag: a cell of ``cell_chars`` characters
        takes at most 10 bytes a character (a numeric character reference), plus its tag."""
        return self.cell_chars * 10 + 4096

    @property
    def cell_xml_bytes(self) -> int:
        """The longest XML of one cell or shared string, with its runs of rich text."""
        return self.cell_chars * 10 + 64 * 1024

    @property
    def line_chars(self) -> int:
        """The longest JSON line: every column at the longest cell."""
        return self.columns * self.cell_chars


def size_text(n: int) -> str:
    if n >= MB:
        value, unit = n / MB, "MB"
    elif n >= 1024:
        value, unit = n / 1024, "KB"
    else:
        return f"{n} 字节"
    return f"{value:.1f}".rstrip("0").rstrip(".") + f" {unit}"


def where(label: str) -> str:
    return f"{excerpt(label, 40)}：" if label else ""


def too_many_rows(limits: ReadLimits, label: str, extra: str = "") -> PayloadTooLarge:
    return PayloadTooLarge(f"{where(label)}行数超过上限（最多 {limits.rows} 行{extra}），请拆分后再导入")


def too_wide(limits: ReadLimits, label: str, row: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"{where(label)}第 {row} 行的列数超过上限（最多 {limits.columns} 列）")


def too_long(limits: ReadLimits, label: str, row: int | None = None, col: int | None = None) -> PayloadTooLarge:
    at = f"第 {row} 行第 {col} 列的单元格" if row is not None and col is not None else (
        f"第 {row} 行的单元格" if row is not None else "有单元格")
    return PayloadTooLarge(f"{where(label)}{at}超过 {limits.cell_chars} 个字符的上限")


def check_file_size(path: Path, limits: ReadLimits, what: str = "文件") -> int:
    """The size of a file; InvalidInput when it cannot be read, PayloadTooLarge above the limit."""
    try:
        size = Path(path).stat().st_size
    except OSError:
        raise InvalidInput(f"{what}不存在或无法读取：{excerpt(Path(path).name, 60)}") from None
    if size > limits.file_bytes:
        raise PayloadTooLarge(f"{what}过大（{size / MB:.1f} MB），上限为 {size_text(limits.file_bytes)}，请拆分后再导入")
    return size


def read_limited(path: Path, limits: ReadLimits, what: str = "文件") -> bytes:
    """The bytes of a file no larger than the limit (checked while reading, too)."""
    check_file_size(path, limits, what)
    try:
        with open(path, "rb") as fh:
            data = fh.read(limits.file_bytes + 1)
    except OSError:
        raise InvalidInput(f"{what}不存在或无法读取：{excerpt(Path(path).name, 60)}") from None
    if len(data) > limits.file_bytes:  # it grew after stat
        raise PayloadTooLarge(f"{what}过大，上限为 {size_text(limits.file_bytes)}，请拆分后再导入")
    return data


def decode_text(data: bytes) -> str:
    """Text of a file in UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030."""
    candidates = ["utf-8-sig", "gb18030"]
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        candidates.insert(0, "utf-16")
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text
    raise InvalidInput("文件编码无法识别（支持 UTF-8、GB18030）")


def is_blank_text(cell: str) -> bool:
    return not cell or cell.isspace()


def check_width(row: list[Any], limits: ReadLimits, label: str, number: int) -> list[Any]:
    """The row without empty cells past the column limit; PayloadTooLarge when one is not empty."""
    tail = row[limits.columns:]
    if tail.count(None) != len(tail) and not all(
            v is None or (isinstance(v, str) and is_blank_text(v.strip())) for v in tail):
        raise too_wide(limits, label, number)
    return row[:limits.columns]
