"""XLSX: the package, checked before openpyxl opens it (central directory, then one streamed pass
over the sheets and shared strings)."""

from __future__ import annotations

import re
import threading
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from matcher.core.errors import InvalidInput
from matcher.ingest.safe_cells import excerpt
from matcher.ingest.table_reader.limits import (
    BROKEN_XLSX,
    EXCEL_MAX_COLUMNS,
    HEADER_ROOM,
    MAX_MERGED,
    MAX_PARTS,
    MAX_RATIO,
    MAX_SHARED_STRINGS,
    MB,
    RATIO_FROM_BYTES,
    SHEET_SECTION_BYTES,
    WHOLE_PART_BYTES,
    PayloadTooLarge,
    ReadLimits,
    size_text,
    too_long,
    too_many_rows,
    where,
)

_CHUNK = 1 * MB
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
        raise InvalidInput(BROKEN_XLSX) from None
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
            raise too_long(limits, self.label)
        if b"mergeCell" in body:
            for c1, r1, c2, r2 in _MERGE_TAG.findall(body):
                if len(part.merges) >= MAX_MERGED:
                    raise PayloadTooLarge(f"{where(self.label)}合并单元格过多（最多 {MAX_MERGED} 处）")
                min_col, min_row = _column_number(c1), int(r1)
                max_col, max_row = (_column_number(c2), int(r2)) if c2 else (min_col, min_row)
                part.merges.append((min_row, min_col, max_row, max_col))
        if not self._fast(body):
            self._exact(body, self.offset)
        self.offset = end = self.offset + len(body)
        if self.open_at is not None and end - self.open_at > limits.cell_xml_bytes:
            raise too_long(limits, self.label)
        if self.sheet and ((self.data_at is None and end > SHEET_SECTION_BYTES)
                           or (self.tail_at is not None and end - self.tail_at > SHEET_SECTION_BYTES)):
            raise PayloadTooLarge(f"{where(self.label)}工作表中表格以外的内容超过 {size_text(SHEET_SECTION_BYTES)}")

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
                        raise too_long(limits, self.label)
                    self.open_at = None
                    continue
                if count:
                    if name == b"si":
                        part.strings += 1
                    else:
                        self.cells += 1
                        if self.cells > EXCEL_MAX_COLUMNS:
                            raise PayloadTooLarge(f"{where(self.label)}有一行的单元格超过 {EXCEL_MAX_COLUMNS} 个")
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
                raise PayloadTooLarge(f"{where(label)}文件解压后超过 {size_text(limits.unpacked_bytes)} 上限，请拆分后再导入")
            if first:
                first = False
                if b"\x00" in chunk[:4096]:  # UTF-16/32 XML: the tag scan assumes an ASCII-compatible encoding
                    raise InvalidInput("Excel 文件的内容编码不受支持（应为 UTF-8）")
            data = carry + chunk
            cut = data.rfind(b"<")  # bodies end before a tag, so every tag in one is complete
            if cut <= 0:
                if len(data) > run:
                    raise too_long(limits, label)
                carry = data
                continue
            scan.take(data[:cut])
            carry = data[cut:]
            if len(carry) > run:
                raise too_long(limits, label)
    if carry:
        scan.take(carry)
    scan.part.unpacked = unpacked
    return scan.part


_SCANNED: dict[tuple[str, int, int, ReadLimits], dict[str, _Part]] = {}  # a fair workbook is read sheet by sheet
_SCANNED_LOCK = threading.Lock()


def scan_xlsx(path: Path, limits: ReadLimits, label: str) -> dict[str, _Part]:
    """Check an XLSX package before openpyxl opens it; return what was found in each streamed part
    (remembered for the few files read last, by path, size and modification time)."""
    try:
        st = Path(path).stat()
        key = (str(Path(path).resolve()), st.st_size, st.st_mtime_ns, limits)
    except OSError:
        raise InvalidInput(BROKEN_XLSX) from None
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
        raise InvalidInput(BROKEN_XLSX) from None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if len(infos) > MAX_PARTS:
            raise InvalidInput(BROKEN_XLSX)
        declared = 0
        for info in infos:
            if info.flag_bits & 0x1:
                raise InvalidInput("Excel 文件已加密，请取消密码保护后再导入")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise InvalidInput("Excel 文件使用了不支持的压缩方式，请用 Excel 或 WPS 另存为 .xlsx 后再导入")
            declared += info.file_size
        if declared > limits.unpacked_bytes:
            raise PayloadTooLarge(f"{where(label)}文件解压后超过 {size_text(limits.unpacked_bytes)} 上限，请拆分后再导入")
        for info in infos:
            if info.file_size > RATIO_FROM_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise PayloadTooLarge(f"{where(label)}Excel 文件的压缩比异常（超过 {MAX_RATIO}:1），疑似压缩炸弹，已拒绝")
        manifest = next((i for i in infos if i.filename == "[Content_Types].xml"), None)
        if manifest is not None and manifest.file_size > WHOLE_PART_BYTES:
            raise PayloadTooLarge(f"{where(label)}Excel 文件中的部件解压后超过 {size_text(WHOLE_PART_BYTES)}")
        try:
            streamed, sheets = _streamed_parts(archive, (i.filename for i in infos))
            for info in infos:
                if (info.filename not in streamed and info.filename.lower().endswith(_XML_SUFFIXES)
                        and info.file_size > WHOLE_PART_BYTES):
                    raise PayloadTooLarge(f"{where(label)}Excel 文件中的部件“{excerpt(info.filename, 40)}”"
                                          f"解压后超过 {size_text(WHOLE_PART_BYTES)}")
            parts: dict[str, _Part] = {}
            left = limits.unpacked_bytes
            for info in infos:
                if info.filename in streamed:
                    part = _scan_part(archive, info, limits, left, label, info.filename in sheets)
                    left -= part.unpacked
                    parts[info.filename] = part
        except (zipfile.BadZipFile, RuntimeError, OSError, EOFError, ValueError, NotImplementedError):
            raise InvalidInput(BROKEN_XLSX) from None
        except Exception as exc:  # zlib.error and the like: a damaged part
            if isinstance(exc, InvalidInput):
                raise
            raise InvalidInput(BROKEN_XLSX) from None
    # before openpyxl: loading a workbook already reads every sheet that lacks a <dimension> whole
    if any(p.rows > limits.rows + HEADER_ROOM for p in parts.values()):
        raise too_many_rows(limits, label, "，含空行和只有格式的行")
    if sum(p.strings for p in parts.values()) > MAX_SHARED_STRINGS:
        raise PayloadTooLarge(f"{where(label)}Excel 文件中不同的文本过多（最多 {MAX_SHARED_STRINGS} 个）")
    return parts

