"""Formula injection (OWASP "CSV injection") in every spreadsheet export.

Names, schools, post titles and enterprise names are typed by seekers and enterprises. A value
such as ``=HYPERLINK(...)`` must reach a spreadsheet as text: in XLSX a string cell (never an
``<f>`` formula), in CSV a cell with a leading ``'``. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from matcher.fair.engine import FairRunOptions, FairRunResult, run_fair
from matcher.fair.files import export_download, export_result, import_fair_file, template_workbook

PAYLOADS = [
    "=1+1",
    '=HYPERLINK("http://x","y")',
    "=cmd|' /C calc'!A0",
    "@SUM(9,9)",
    "+1",
    "-1+1",
    "\t=1+1",
    "\r=1+1",
]
RISKY = ("=", "+", "-", "@", "\t", "\r")


def _fair_folder(root: Path) -> Path:
    """A fair whose seekers, schools, posts, enterprises and the fair itself carry payloads."""
    root.mkdir()
    posts = [["编号", "企业名称", "岗位名称", "学历要求", "技能", "工作地点", "面试名额", "展位"]]
    seekers = [["编号", "姓名", "学历", "毕业院校", "是否应届", "技能", "现居住地", "面试上限"]]
    for i, p in enumerate(PAYLOADS):
        posts.append([f"P{i}", f"{p}企业", p + "工程师", "本科", "Python、SQL", "淄博市", 3, f"A{i:02d}"])
        seekers.append([f"S{i}", p + "张", "本科", p + "大学", "是", "Python、SQL", "淄博市", 3])
    tables = {"岗位.csv": posts, "求职者.csv": seekers,
              "活动.csv": [["项目", "值"], ["活动名称", "=HYPERLINK(\"http://x\",\"活动\")"],
                          ["每场时长（分钟）", 20]]}
    for name, rows in tables.items():
        buf = io.StringIO()
        csv.writer(buf).writerows(rows)
        (root / name).write_text(buf.getvalue(), encoding="utf-8")
    return root


@pytest.fixture
def hostile_result(service, tmp_path: Path) -> FairRunResult:
    detail = import_fair_file(service, _fair_folder(tmp_path / "fair"))
    result = run_fair(service, detail.id, FairRunOptions(min_score=0.0))
    assert result.assignments
    # the payloads really reach the export (else the test proves nothing)
    names = {a.seeker_name for a in result.assignments}
    assert any(n and n.startswith("=") for n in names)
    assert any(a.post_title.startswith("@") for a in result.assignments)
    return result


def _sheet_xml(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/worksheets/")}


def _assert_no_formula(data: bytes) -> None:
    sheets = _sheet_xml(data)
    assert sheets
    for name, xml in sheets.items():
        assert not re.search(r"<(\w+:)?f[\s>/]", xml), f"formula element in {name}"
        assert 't="f"' not in xml and "t='f'" not in xml


def _strings(data: bytes) -> list[tuple[str, str, object]]:
    """(sheet, coordinate, value) of every cell, read back with openpyxl (full mode)."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    out = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                out.append((ws.title, c.coordinate, c.value))
    return out


def test_xlsx_export_writes_payloads_as_text(hostile_result: FairRunResult) -> None:
    data = export_result(hostile_result, "xlsx")[""]
    _assert_no_formula(data)
    cells = _strings(data)
    values = [v for _, _, v in cells if isinstance(v, str)]
    # the payloads are kept verbatim (as text), not dropped or altered
    for p in ("=1+1张", "@SUM(9,9)工程师", "=cmd|' /C calc'!A0大学", "-1+1张"):
        assert p in values, p
    # numbers are still numbers
    numbers = [v for _, _, v in cells if isinstance(v, int | float) and not isinstance(v, bool)]
    assert numbers
    # a risky text cell carries the quote-prefix style (Excel keeps it text when edited)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    risky = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str) and c.value.startswith(RISKY)]
    assert risky and all(c.quotePrefix for c in risky)


def test_csv_export_quotes_risky_cells(hostile_result: FairRunResult) -> None:
    files = export_result(hostile_result, "csv")
    seen = 0
    for suffix, data in files.items():
        for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")):
            for cell in row:
                assert not cell.startswith(RISKY), (suffix, cell)
                if cell.startswith("'") and cell[1:2] in RISKY:
                    seen += 1
    assert seen >= len(PAYLOADS) * 2  # names, schools, titles ... of every payload
    # the zipped download is the same CSV
    blob, media, _ = export_download(hostile_result, "csv", "r")
    assert media == "application/zip"
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        for n in z.namelist():
            for row in csv.reader(io.StringIO(z.read(n).decode("utf-8-sig"), newline="")):
                assert not any(c.startswith(RISKY) for c in row)


def test_csv_keeps_negative_numbers_and_plain_text(tmp_path: Path) -> None:
    from matcher.ingest.safe_cells import csv_cell, xlsx_value

    assert csv_cell(-1) == -1 and csv_cell(-0.5) == -0.5 and csv_cell(3) == 3
    assert csv_cell("淄博") == "淄博" and csv_cell("") == "" and csv_cell(None) is None
    for p in PAYLOADS:
        assert csv_cell(p) == "'" + p
    assert xlsx_value(-1) == -1


def test_xlsx_downloads_and_template_have_no_formula(hostile_result: FairRunResult) -> None:
    blob, _, _ = export_download(hostile_result, "xlsx", "r")
    _assert_no_formula(blob)
    _assert_no_formula(template_workbook())
