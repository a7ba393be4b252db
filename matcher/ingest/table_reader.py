"""Bounded reading of the tables users upload: CSV, XLSX and JSON Lines.

Every table reader of the project (the importer, fair files, chain registries) reads through
this module, so that no file can take minutes or gigabytes before it is refused. Before these
limits a 0.9 MB XLSX that unpacked to one 900 MB cell took 431 s and 10.4 GB, and a 1e6-row
sheet took 46 s to be refused.

**Limits** (``ReadLimits``; settings ``TALENTMATCH_…``, refusals are ``PayloadTooLarge``, 413):

==========================  ==========  =======================================================
file size                   50 MB       ``MAX_UPLOAD_BYTES``: the upload limit of the API
unpacked XLSX               200 MB      ``IMPORT_MAX_UNPACKED_BYTES``: a sheet of 200,000 rows
                                        × 15-25 columns unpacks to 160-200 MB (Excel's shared
                                        strings ≈ 40 bytes a cell, openpyxl's inline strings
                                        55-80); ten times what the demo catalogue needs per row
data rows                   200,000     ``IMPORT_MAX_ROWS``: a province's yearly catalogue or a
                                        city's talent pool is in the tens of thousands
columns                     200         ``IMPORT_MAX_COLUMNS``: the widest table (a profile)
                                        has about 30 fields; counted to the last non-empty cell
cell                        10,000      ``IMPORT_MAX_CELL_CHARS``: the longest field (a post
                                        description) holds 4,000 characters
==========================  ==========  =======================================================

Fixed, internal bounds: an XLSX part that openpyxl parses whole (styles, workbook, relations,
…) may unpack to 16 MB, and so may a sheet's XML before ``<sheetData>`` and after
``</sheetData>`` (8 MB each: openpyxl builds data validations, hyperlinks … whole); a part over
1 MB may not compress better than 200:1 (real sheets compress 5-40:1, a one-character bomb
about 1,000:1); the XML of one cell or shared string, rich-text runs included, is at most
10 bytes a character of the cell limit plus 64 kB; 2,000,000 distinct shared strings; 100,000
merged ranges; Excel's own 1,048,576 rows and 16,384 cells a row; a JSON line of columns × cell
characters.

**How.** XLSX: (1) the central directory is checked before openpyxl opens the file: compression
method, the declared unpacked total, each part's ratio and the size of whole-parsed parts;
(2) the sheets and shared strings are then streamed once through zlib in 1 MB chunks, counting
the bytes really unpacked (``zipfile`` itself never returns more than the declared size and
checks the CRC, so a header that lies ends as a damaged file), the longest run of text between
two tags and the XML of each cell (so openpyxl never builds a huge string), the rows of every sheet
(openpyxl's loading already parses a sheet without a ``<dimension>`` whole) and the shared
strings, and reading the merged ranges; (3) openpyxl reads the chosen sheet in read-only mode,
row by row, and every row is checked (row number, width, cell lengths) before it is used.
CSV: after decoding, a first pass of the ``csv`` module (C speed) checks rows, columns and
cells before any row is used, so a refusal costs no record building. JSONL: lines are counted
and measured first; each object is checked for fields and value lengths.
"""

from __future__ import annotations

import codecs
import csv
import re
import threading
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

from matcher.core.errors import InvalidInput
from matcher.ingest.safe_cells import excerpt

if TYPE_CHECKING:  # pragma: no cover
    from matcher.core.settings import Settings

__all__ = [
    "PayloadTooLarge",
    "ReadLimits",
    "check_file_size",
    "check_record",
    "csv_rows",
    "decode_text",
    "jsonl_lines",
    "read_limited",
    "xlsx_rows",
    "xlsx_sheet_names",
]

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
_CHUNK = 1 * MB

_BROKEN_XLSX = "无法读取 Excel 文件：文件已损坏或不是 .xlsx 格式"


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


def _size(n: int) -> str:
    if n >= MB:
        value, unit = n / MB, "MB"
    elif n >= 1024:
        value, unit = n / 1024, "KB"
    else:
        return f"{n} 字节"
    return f"{value:.1f}".rstrip("0").rstrip(".") + f" {unit}"


def _where(label: str) -> str:
    return f"{excerpt(label, 40)}：" if label else ""


def _too_many_rows(limits: ReadLimits, label: str, extra: str = "") -> PayloadTooLarge:
    return PayloadTooLarge(f"{_where(label)}行数超过上限（最多 {limits.rows} 行{extra}），请拆分后再导入")


def _too_wide(limits: ReadLimits, label: str, row: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"{_where(label)}第 {row} 行的列数超过上限（最多 {limits.columns} 列）")


def _too_long(limits: ReadLimits, label: str, row: int | None = None, col: int | None = None) -> PayloadTooLarge:
    at = f"第 {row} 行第 {col} 列的单元格" if row is not None and col is not None else (
        f"第 {row} 行的单元格" if row is not None else "有单元格")
    return PayloadTooLarge(f"{_where(label)}{at}超过 {limits.cell_chars} 个字符的上限")


# ---------------------------------------------------------------------------------------------
# files and text
# ---------------------------------------------------------------------------------------------


def check_file_size(path: Path, limits: ReadLimits, what: str = "文件") -> int:
    """The size of a file; InvalidInput when it cannot be read, PayloadTooLarge above the limit."""
    try:
        size = Path(path).stat().st_size
    except OSError:
        raise InvalidInput(f"{what}不存在或无法读取：{excerpt(Path(path).name, 60)}") from None
    if size > limits.file_bytes:
        raise PayloadTooLarge(f"{what}过大（{size / MB:.1f} MB），上限为 {_size(limits.file_bytes)}，请拆分后再导入")
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
        raise PayloadTooLarge(f"{what}过大，上限为 {_size(limits.file_bytes)}，请拆分后再导入")
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


_CSV_LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+")


def _csv_lines(text: str) -> Iterator[str]:
    """Lines as ``open(newline="")`` gives them to the csv module (ends kept; \\r, \\n or \\r\\n),
    one at a time."""
    for m in _CSV_LINE.finditer(text):
        yield m.group()


def _lines(text: str) -> Iterator[str]:
    """The lines of a text with their line ends, without holding a list of them all."""
    start, n = 0, len(text)
    while start < n:
        end = text.find("\n", start)
        if end == -1:
            yield text[start:]
            return
        yield text[start:end + 1]
        start = end + 1


# ---------------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------------


def _delimiter(text: str) -> str:
    end = text.find("\n")
    first_line = text if end == -1 else text[:end]
    return max((",", "\t", ";"), key=lambda d: (first_line.count(d), d == ","))


def _is_blank_text(cell: str) -> bool:
    return not cell or cell.isspace()


def _check_width(row: list[Any], limits: ReadLimits, label: str, number: int) -> list[Any]:
    """The row without empty cells past the column limit; PayloadTooLarge when one is not empty."""
    tail = row[limits.columns:]
    if tail.count(None) != len(tail) and not all(
            v is None or (isinstance(v, str) and _is_blank_text(v.strip())) for v in tail):
        raise _too_wide(limits, label, number)
    return row[:limits.columns]


def csv_rows(data: bytes, limits: ReadLimits, label: str = "") -> Iterator[tuple[int, list[object]]]:
    """(row number, cells) of a CSV file, after a first pass has checked every limit."""
    text = decode_text(data)
    delimiter = _delimiter(text)
    if csv.field_size_limit() < limits.cell_chars + 1:
        csv.field_size_limit(limits.cell_chars + 1)
    reader = csv.reader(_csv_lines(text), delimiter=delimiter)
    count = 0
    try:
        for number, row in enumerate(reader, start=1):
            if not row:
                continue
            if max(map(len, row)) > limits.cell_chars:
                col = next(i for i, c in enumerate(row) if len(c) > limits.cell_chars) + 1
                raise _too_long(limits, label, number, col)
            if len(row) > limits.columns:
                _check_width(row, limits, label, number)
            if not all(_is_blank_text(c) for c in row):
                count += 1
                if count > limits.rows + HEADER_ROOM:
                    raise _too_many_rows(limits, label)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise PayloadTooLarge(f"{_where(label)}第 {reader.line_num} 行附近有单元格超过 "
                                  f"{limits.cell_chars} 个字符的上限") from None
        raise InvalidInput(f"{_where(label)}CSV 格式错误（第 {reader.line_num} 行附近）：{exc}") from None
    return _csv_checked(text, delimiter, limits)


def _csv_checked(text: str, delimiter: str, limits: ReadLimits) -> Iterator[tuple[int, list[object]]]:
    for number, row in enumerate(csv.reader(_csv_lines(text), delimiter=delimiter), start=1):
        yield number, (row[:limits.columns] if len(row) > limits.columns else list(row))


# ---------------------------------------------------------------------------------------------
# JSON Lines
# ---------------------------------------------------------------------------------------------


def jsonl_lines(data: bytes, limits: ReadLimits, label: str = "") -> Iterator[tuple[int, str]]:
    """(line number, stripped line) of every non-blank line, after counting and measuring them."""
    text = decode_text(data)
    count = 0
    for number, line in enumerate(_lines(text), start=1):
        if len(line) > limits.line_chars:
            raise PayloadTooLarge(f"{_where(label)}第 {number} 行过长（超过 {limits.line_chars} 个字符）")
        if line.strip():
            count += 1
            if count > limits.rows:
                raise _too_many_rows(limits, label)
    return _jsonl_checked(text)


def _jsonl_checked(text: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(_lines(text), start=1):
        line = line.strip()
        if line:
            yield number, line


def check_record(obj: object, number: int, limits: ReadLimits, label: str = "") -> None:
    """A parsed JSON line: at most ``columns`` fields, no text longer than a cell."""
    if not isinstance(obj, dict):
        return
    if len(obj) > limits.columns:
        raise _too_wide(limits, label, number)

    def texts(value: object, depth: int = 0) -> Iterable[str]:
        if isinstance(value, str):
            yield value
        elif depth < 3 and isinstance(value, list | tuple):
            for v in value:
                yield from texts(v, depth + 1)
        elif depth < 3 and isinstance(value, dict):
            for k, v in value.items():
                yield str(k)
                yield from texts(v, depth + 1)

    for key, value in obj.items():
        for text in (str(key), *texts(value)):
            if len(text) > limits.cell_chars:
                raise _too_long(limits, label, number)


# ---------------------------------------------------------------------------------------------
# XLSX: the package, before openpyxl
# ---------------------------------------------------------------------------------------------

_NS = rb"(?:[A-Za-z_][\w.-]*:)?"
_TOKEN = re.compile(rb"<(/?)" + _NS + rb"(c|si|row|sheetData)(?=[\s/>])[^>]*?(/?)>")
_MERGE_TAG = re.compile(rb"<" + _NS + rb"mergeCell\s[^>]*?\bref\s*=\s*[\"']\$?([A-Za-z]{1,3})\$?(\d{1,7})"
                        rb"(?::\$?([A-Za-z]{1,3})\$?(\d{1,7}))?[\"']")
_STREAMED_TYPES = ("spreadsheetml.worksheet+xml", "spreadsheetml.sharedStrings+xml")
_XML_SUFFIXES = (".xml", ".rels", ".vml")


@dataclass
class _Part:
    """What the streaming pass found in one sheet or shared-strings part."""

    unpacked: int = 0
    rows: int = 0
    strings: int = 0
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # min_row, min_col, max_row, max_col


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def _content_types(archive: zipfile.ZipFile) -> dict[str, str]:
    """Part name → content type, from the package's manifest (streamed; its size is already capped)."""
    types: dict[str, str] = {}
    try:
        with archive.open("[Content_Types].xml") as src:
            for _event, elem in ElementTree.iterparse(src):
                if elem.tag.endswith("Override"):
                    name = (elem.get("PartName") or "").lstrip("/")
                    types[name] = elem.get("ContentType") or ""
                    if len(types) > MAX_PARTS:
                        break
                elem.clear()
    except KeyError:
        pass
    except ElementTree.ParseError:
        raise InvalidInput(_BROKEN_XLSX) from None
    return types


def _streamed_parts(archive: zipfile.ZipFile, names: Iterable[str]) -> tuple[set[str], set[str]]:
    """The parts openpyxl reads piece by piece (sheets and shared strings), and which of them are
    sheets; every other XML part is parsed as one tree and must stay small."""
    types = _content_types(archive)
    streamed, sheets = set(), set()
    for name in names:
        kind = types.get(name)
        if kind is not None:
            if kind.endswith(_STREAMED_TYPES):
                streamed.add(name)
                if kind.endswith(_STREAMED_TYPES[0]):
                    sheets.add(name)
        elif re.fullmatch(r"xl/worksheets/[^/]+\.xml", name):
            streamed.add(name)
            sheets.add(name)
        elif name == "xl/sharedStrings.xml":
            streamed.add(name)
    return streamed, sheets


class _Scan:
    """The streaming checks of one sheet or shared-strings part, fed complete tags in order.

    Bounded here, so that openpyxl never builds a big object: any text between two tags (one
    text node); a cell (``<c>``…``</c>``) or a shared string (``<si>``…``</si>``), whatever
    its runs of rich text; the cells of one row (Excel's 16,384); and, in a sheet, what comes
    before ``<sheetData>`` and after ``</sheetData>`` (openpyxl builds those elements whole)."""

    def __init__(self, limits: ReadLimits, label: str, sheet: bool) -> None:
        self.limits, self.label, self.sheet = limits, label, sheet
        self.part = _Part()
        self.offset = 0  # of the next body
        self.open_at: int | None = None  # an open cell or shared string
        self.cells = 0  # in the current row
        self.data_at: int | None = None  # where <sheetData> starts
        self.tail_at: int | None = None  # where </sheetData> ends

    def take(self, body: bytes) -> None:
        limits, part = self.limits, self.part
        if max(map(len, body.split(b"<"))) > limits.xml_run_bytes:
            raise _too_long(limits, self.label)
        if b"mergeCell" in body:
            for c1, r1, c2, r2 in _MERGE_TAG.findall(body):
                if len(part.merges) >= MAX_MERGED:
                    raise PayloadTooLarge(f"{_where(self.label)}合并单元格过多（最多 {MAX_MERGED} 处）")
                min_col, min_row = _column_number(c1), int(r1)
                max_col, max_row = (_column_number(c2), int(r2)) if c2 else (min_col, min_row)
                part.merges.append((min_row, min_col, max_row, max_col))
        if not self._fast(body):
            self._exact(body, self.offset)
        self.offset = end = self.offset + len(body)
        if self.open_at is not None and end - self.open_at > limits.cell_xml_bytes:
            raise _too_long(limits, self.label)
        if self.sheet and ((self.data_at is None and end > SHEET_SECTION_BYTES)
                           or (self.tail_at is not None and end - self.tail_at > SHEET_SECTION_BYTES)):
            raise PayloadTooLarge(f"{_where(self.label)}工作表中表格以外的内容超过 {_size(SHEET_SECTION_BYTES)}")

    def _fast(self, body: bytes) -> bool:
        """The checks with bytes operations (C speed), for bodies whose tags have no namespace
        prefix and no element near a limit; False leaves the body to ``_exact``."""
        limits, part, base = self.limits, self.part, self.offset
        if b":c" in body or b":row" in body or b":si" in body or b"sheetData" in body:
            return False
        close = b"</c>" if self.sheet else b"</si>"
        pieces = body.split(close)
        if max(map(len, pieces)) > limits.cell_xml_bytes:
            return False
        if self.open_at is not None and len(pieces) > 1 and base + len(pieces[0]) - self.open_at > limits.cell_xml_bytes:
            return False
        if self.sheet:
            rows = body.split(b"<row")
            counts = [r.count(b"<c ") + r.count(b"<c>") + r.count(b"<c/") for r in rows]
            counts[0] += self.cells
            if max(counts) > EXCEL_MAX_COLUMNS:
                return False
            part.rows += len(rows) - 1
        else:
            part.strings += body.count(b"<si>") + body.count(b"<si ") + body.count(b"<si/")
        # the state at the end of the body: what the last piece leaves open
        if len(pieces) > 1:
            self.open_at = None
        self._exact(pieces[-1], base + len(body) - len(pieces[-1]), count=False)
        if self.sheet:
            self.cells = counts[-1]  # cells since the last row began (the first count carries)
        return True

    def _exact(self, body: bytes, base: int, count: bool = True) -> None:
        """The checks tag by tag (any namespace prefix)."""
        limits, part = self.limits, self.part
        for m in _TOKEN.finditer(body):
            closing, name, empty = m.group(1), m.group(2), m.group(3)
            at = base + m.start()
            if name == b"c" or name == b"si":
                if closing:
                    if self.open_at is not None and at - self.open_at > limits.cell_xml_bytes:
                        raise _too_long(limits, self.label)
                    self.open_at = None
                    continue
                if count:
                    if name == b"si":
                        part.strings += 1
                    else:
                        self.cells += 1
                        if self.cells > EXCEL_MAX_COLUMNS:
                            raise PayloadTooLarge(f"{_where(self.label)}有一行的单元格超过 {EXCEL_MAX_COLUMNS} 个")
                self.open_at = None if empty else at
            elif name == b"row":
                if not closing and count:
                    part.rows += 1
                    self.cells = 0
            elif closing:  # </sheetData>
                self.tail_at = base + m.end()
            else:  # <sheetData>
                self.data_at = at
                if empty:
                    self.tail_at = base + m.end()


def _scan_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ReadLimits, budget: int,
               label: str, sheet: bool) -> _Part:
    scan = _Scan(limits, label, sheet)
    run = limits.xml_run_bytes
    carry = b""
    first = True
    unpacked = 0
    with archive.open(info) as stream:
        while True:
            chunk = stream.read(_CHUNK)
            if not chunk:
                break
            unpacked += len(chunk)
            if unpacked > budget:
                raise PayloadTooLarge(f"{_where(label)}文件解压后超过 {_size(limits.unpacked_bytes)} 上限，请拆分后再导入")
            if first:
                first = False
                if b"\x00" in chunk[:4096]:  # UTF-16/32 XML: the tag scan assumes an ASCII-compatible encoding
                    raise InvalidInput("Excel 文件的内容编码不受支持（应为 UTF-8）")
            data = carry + chunk
            cut = data.rfind(b"<")  # bodies end before a tag, so every tag in one is complete
            if cut <= 0:
                if len(data) > run:
                    raise _too_long(limits, label)
                carry = data
                continue
            scan.take(data[:cut])
            carry = data[cut:]
            if len(carry) > run:
                raise _too_long(limits, label)
    if carry:
        scan.take(carry)
    scan.part.unpacked = unpacked
    return scan.part


_SCANNED: dict[tuple[str, int, int, ReadLimits], dict[str, _Part]] = {}  # a fair workbook is read sheet by sheet
_SCANNED_LOCK = threading.Lock()


def _scan_xlsx(path: Path, limits: ReadLimits, label: str) -> dict[str, _Part]:
    """Check an XLSX package before openpyxl opens it; return what was found in each streamed part
    (remembered for the few files read last, by path, size and modification time)."""
    try:
        st = Path(path).stat()
        key = (str(Path(path).resolve()), st.st_size, st.st_mtime_ns, limits)
    except OSError:
        raise InvalidInput(_BROKEN_XLSX) from None
    with _SCANNED_LOCK:
        if key in _SCANNED:
            return _SCANNED[key]
    parts = _scan_package(path, limits, label)
    with _SCANNED_LOCK:
        while len(_SCANNED) >= 4:
            _SCANNED.pop(next(iter(_SCANNED)))
        _SCANNED[key] = parts
    return parts


def _scan_package(path: Path, limits: ReadLimits, label: str) -> dict[str, _Part]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise InvalidInput(_BROKEN_XLSX) from None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if len(infos) > MAX_PARTS:
            raise InvalidInput(_BROKEN_XLSX)
        declared = 0
        for info in infos:
            if info.flag_bits & 0x1:
                raise InvalidInput("Excel 文件已加密，请取消密码保护后再导入")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise InvalidInput("Excel 文件使用了不支持的压缩方式，请用 Excel 或 WPS 另存为 .xlsx 后再导入")
            declared += info.file_size
        if declared > limits.unpacked_bytes:
            raise PayloadTooLarge(f"{_where(label)}文件解压后超过 {_size(limits.unpacked_bytes)} 上限，请拆分后再导入")
        for info in infos:
            if info.file_size > RATIO_FROM_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise PayloadTooLarge(f"{_where(label)}Excel 文件的压缩比异常（超过 {MAX_RATIO}:1），疑似压缩炸弹，已拒绝")
        manifest = next((i for i in infos if i.filename == "[Content_Types].xml"), None)
        if manifest is not None and manifest.file_size > WHOLE_PART_BYTES:
            raise PayloadTooLarge(f"{_where(label)}Excel 文件中的部件解压后超过 {_size(WHOLE_PART_BYTES)}")
        try:
            streamed, sheets = _streamed_parts(archive, (i.filename for i in infos))
            for info in infos:
                if (info.filename not in streamed and info.filename.lower().endswith(_XML_SUFFIXES)
                        and info.file_size > WHOLE_PART_BYTES):
                    raise PayloadTooLarge(f"{_where(label)}Excel 文件中的部件“{excerpt(info.filename, 40)}”"
                                          f"解压后超过 {_size(WHOLE_PART_BYTES)}")
            parts: dict[str, _Part] = {}
            left = limits.unpacked_bytes
            for info in infos:
                if info.filename in streamed:
                    part = _scan_part(archive, info, limits, left, label, info.filename in sheets)
                    left -= part.unpacked
                    parts[info.filename] = part
        except (zipfile.BadZipFile, RuntimeError, OSError, EOFError, ValueError, NotImplementedError):
            raise InvalidInput(_BROKEN_XLSX) from None
        except Exception as exc:  # zlib.error and the like: a damaged part
            if isinstance(exc, InvalidInput):
                raise
            raise InvalidInput(_BROKEN_XLSX) from None
    # before openpyxl: loading a workbook already reads every sheet that lacks a <dimension> whole
    if any(p.rows > limits.rows + HEADER_ROOM for p in parts.values()):
        raise _too_many_rows(limits, label, "，含空行和只有格式的行")
    if sum(p.strings for p in parts.values()) > MAX_SHARED_STRINGS:
        raise PayloadTooLarge(f"{_where(label)}Excel 文件中不同的文本过多（最多 {MAX_SHARED_STRINGS} 个）")
    return parts


# ---------------------------------------------------------------------------------------------
# XLSX: openpyxl, row by row
# ---------------------------------------------------------------------------------------------


def _open_workbook(path: Path) -> Any:
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors on a broken file
        raise InvalidInput(_BROKEN_XLSX) from None


def xlsx_sheet_names(path: Path, limits: ReadLimits, label: str = "") -> list[str]:
    """The sheet names of a workbook, after the package checks."""
    check_file_size(path, limits)
    _scan_xlsx(path, limits, label)
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
    parts = _scan_xlsx(path, limits, label)
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
        raise PayloadTooLarge(f"{_where(label)}合并单元格的范围过大")
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
                raise _too_wide(limits, label, number)
            row = _check_width(row, limits, label, number)
        blank = True
        for i, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, str):
                if len(v) > limits.cell_chars:
                    raise _too_long(limits, label, number, i + 1)
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
                raise _too_many_rows(limits, label)
        yield number, row
