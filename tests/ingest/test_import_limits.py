"""Bounded reading of uploaded tables: XLSX bombs, huge sheets, wide rows, long cells, and
short echoes of bad values in error messages (CSV, XLSX, JSONL; importer, fair files,
chain registries; and through the API upload routes).

No timed assertions here: refusal speed is measured in bench/bench_import_limits.py. "Refused
early" is asserted by counting the records built before the refusal (none).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import openpyxl
import pytest

from matcher.core.errors import ImportRejected, InvalidInput
from matcher.core.settings import PROJECT_ROOT
from matcher.ingest.importer import read_records

MiB = 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
              b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
SHEET_TAIL = b"</sheetData></worksheet>"


def _col(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def row_xml(r: int, values: Iterable[object], first_col: int = 1) -> bytes:
    cells = []
    for i, v in enumerate(values):
        ref = f"{_col(first_col + i)}{r}"
        if isinstance(v, int | float):
            cells.append(f'<c r="{ref}"><v>{v}</v></c>')
        else:
            cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{v}</t></is></c>')
    return f'<row r="{r}">{"".join(cells)}</row>'.encode()


def raw_xlsx(path: Path, sheets: dict[str, Iterable[bytes]], dimension: str | None = None,
             wrap: tuple[bytes, bytes] | None = None) -> Path:
    """An XLSX whose sheet XML is streamed from chunks (fast; a bomb stays a small file).

    The package parts come from a real openpyxl workbook with the same sheet names. Without
    ``dimension`` (a range such as "A1:J1000") the sheets have no <dimension>, as crafted files."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title in sheets:
        wb.create_sheet(title)
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if not info.filename.startswith("xl/worksheets/sheet"):
                dst.writestr(info.filename, src.read(info.filename))
        for n, chunks in enumerate(sheets.values(), start=1):
            with dst.open(f"xl/worksheets/sheet{n}.xml", "w", force_zip64=True) as f:
                head, tail = wrap or (SHEET_HEAD, SHEET_TAIL)
                if dimension:
                    head = head.replace(b"<sheetData>", f'<dimension ref="{dimension}"/><sheetData>'.encode())
                f.write(head)
                for chunk in chunks:
                    f.write(chunk)
                f.write(tail)
    return path


def bomb_chunks(size: int, header: Iterable[object] = ("岗位名称",)) -> Iterator[bytes]:
    """A header row, then one cell holding ``size`` bytes of one character."""
    yield row_xml(1, header)
    yield b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
    block = b"a" * MiB
    left = size
    while left > 0:
        yield block[: min(left, MiB)]
        left -= MiB
    yield b"</t></is></c></row>"


def rows_chunks(n: int, header: Iterable[object] = ("岗位名称",)) -> Iterator[bytes]:
    yield row_xml(1, header)
    batch = []
    for r in range(2, n + 2):
        batch.append(row_xml(r, [f"岗位{r}"]))
        if len(batch) == 1000:
            yield b"".join(batch)
            batch = []
    yield b"".join(batch)


@pytest.fixture(scope="module")
def bomb_201(tmp_path_factory) -> Path:
    """A fair-shaped workbook whose first sheet holds 201 MB of one character (a 0.2 MB file)."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.xlsx"
    return raw_xlsx(path, {"岗位": bomb_chunks(201 * MiB), "求职者": [row_xml(1, ["姓名"])]})


@pytest.fixture
def built(monkeypatch) -> list[int]:
    """Counts the records the importer builds (a refusal before any is an early refusal)."""
    from matcher.ingest.plan import ColumnPlan

    calls = [0]
    original = ColumnPlan.build

    def counting(self, *a, **kw):
        calls[0] += 1
        return original(self, *a, **kw)

    monkeypatch.setattr(ColumnPlan, "build", counting)
    return calls


def _too_large(exc: pytest.ExceptionInfo) -> str:
    err = exc.value
    assert isinstance(err, InvalidInput)
    assert err.status == 413, err.detail
    assert len(err.detail) <= 120, err.detail
    return err.detail


# ---------------------------------------------------------------------------------------------
# settings
# ---------------------------------------------------------------------------------------------


def test_limits_come_from_settings(monkeypatch) -> None:
    from matcher.core.settings import load_settings
    from matcher.ingest.table_reader import ReadLimits

    limits = ReadLimits.from_settings(load_settings())
    assert (limits.unpacked_bytes, limits.rows, limits.columns, limits.cell_chars) == (200 * MiB, 200_000, 200,
                                                                                       10_000)
    monkeypatch.setenv("TALENTMATCH_IMPORT_MAX_ROWS", "7")
    monkeypatch.setenv("TALENTMATCH_IMPORT_MAX_CELL_CHARS", "99")
    limits = ReadLimits.from_settings()
    assert (limits.rows, limits.cell_chars) == (7, 99)


# ---------------------------------------------------------------------------------------------
# XLSX bombs
# ---------------------------------------------------------------------------------------------


def test_declared_unpacked_size_is_refused_before_openpyxl(bomb_201: Path, monkeypatch) -> None:
    path = bomb_201
    assert path.stat().st_size < 2 * MiB

    def no_openpyxl(*a, **kw):
        raise AssertionError("openpyxl opened a bomb")

    monkeypatch.setattr(openpyxl, "load_workbook", no_openpyxl)
    with pytest.raises(InvalidInput) as exc:
        read_records(path, "demands")
    detail = _too_large(exc)
    assert "解压后" in detail and "200 MB" in detail


def _run_child(code: str, tmp_path: Path) -> dict:
    """Run code in a fresh interpreter capped at 2 GB of address space; it prints one JSON line."""
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(code), encoding="utf-8")
    out = subprocess.run([sys.executable, str(script)], cwd=PROJECT_ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


CHILD = """
    import json, resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (2 * 1024 ** 3, 2 * 1024 ** 3))
    from pathlib import Path
    import openpyxl
    from matcher.core.errors import TalentMatchError
    from matcher.ingest.importer import read_records
    def hwm():  # peak RSS of this process since exec, in kB (ru_maxrss keeps the parent's)
        return int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])
    before = hwm()
    try:
        read_records(Path({path!r}), "demands")
        outcome, detail, status = "accepted", "", 0
    except TalentMatchError as exc:
        outcome, detail, status = type(exc).__name__, exc.detail, exc.status
    except MemoryError:
        outcome, detail, status = "MemoryError", "", 0
    peak = hwm()
    print(json.dumps({{"outcome": outcome, "detail": detail, "status": status, "grew_mb": (peak - before) / 1024}}))
"""


def test_one_huge_cell_under_the_size_cap_is_refused_with_bounded_memory(tmp_path: Path) -> None:
    # 150 MB of one character in one cell: under the 200 MB cap, so the streaming checks must stop it
    path = raw_xlsx(tmp_path / "cell.xlsx", {"岗位": bomb_chunks(150 * MiB)})
    res = _run_child(CHILD.format(path=str(path)), tmp_path)
    assert res["status"] in (413, 422), res
    assert len(res["detail"]) <= 120 and "aaaaaaaaaa" not in res["detail"], res
    assert res["grew_mb"] < 64, res


def lie_about_size(path: Path, declared: int) -> None:
    """Rewrite the sheet's uncompressed size in the central directory (what readers trust)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        start = z.start_dir  # offset of the central directory
    name = b"xl/worksheets/sheet1.xml"
    i = data.find(b"PK\x01\x02", start)
    while i != -1 and bytes(data[i + 46:i + 46 + int.from_bytes(data[i + 28:i + 30], "little")]) != name:
        i = data.find(b"PK\x01\x02", i + 4)
    assert i != -1 and int.from_bytes(data[i + 24:i + 28], "little") != 0xFFFFFFFF
    data[i + 24:i + 28] = declared.to_bytes(4, "little")
    path.write_bytes(bytes(data))


def test_a_zip_header_that_lies_about_the_size_is_caught_while_streaming(tmp_path: Path) -> None:
    # the sheet unpacks to 64 MB but its headers say 40 kB: reading must stop at what was declared
    # (zipfile returns no more than the declared size, then the CRC fails: a damaged file)
    path = raw_xlsx(tmp_path / "liar.xlsx", {"岗位": bomb_chunks(64 * MiB)})
    lie_about_size(path, 40_000)
    with zipfile.ZipFile(path) as z:
        assert sum(i.file_size for i in z.infolist()) < MiB
    res = _run_child(CHILD.format(path=str(path)), tmp_path)
    assert res["status"] in (413, 422), res
    assert res["grew_mb"] < 64, res


def test_compression_ratio_is_guarded(tmp_path: Path) -> None:
    # 20 MB that compresses about 1000:1 (real sheets compress 5-40:1)
    path = raw_xlsx(tmp_path / "ratio.xlsx", {"岗位": bomb_chunks(20 * MiB)})
    with pytest.raises(InvalidInput) as exc:
        read_records(path, "demands")
    assert "压缩比" in _too_large(exc)


# ---------------------------------------------------------------------------------------------
# rows, columns, cells
# ---------------------------------------------------------------------------------------------


def test_many_rows_xlsx_refused_before_any_record(tmp_path: Path, monkeypatch, built) -> None:
    monkeypatch.setenv("TALENTMATCH_IMPORT_MAX_ROWS", "100")
    path = raw_xlsx(tmp_path / "rows.xlsx", {"岗位": rows_chunks(5_000)})

    def no_openpyxl(*a, **kw):  # loading parses a sheet without <dimension> whole: refuse before
        raise AssertionError("openpyxl opened the file")

    monkeypatch.setattr(openpyxl, "load_workbook", no_openpyxl)
    with pytest.raises(InvalidInput) as exc:
        read_records(path, "demands")
    assert "行数超过上限" in _too_large(exc) and "100" in exc.value.detail
    assert built[0] == 0


def test_many_rows_csv_and_jsonl_refused_before_any_record(tmp_path: Path, monkeypatch, built) -> None:
    monkeypatch.setenv("TALENTMATCH_IMPORT_MAX_ROWS", "100")
    csv_path = tmp_path / "rows.csv"
    csv_path.write_text("岗位名称\n" + "".join(f"岗位{i}\n" for i in range(5_000)), encoding="utf-8")
    with pytest.raises(InvalidInput) as exc:
        read_records(csv_path, "demands")
    assert "行数超过上限" in _too_large(exc)
    jsonl = tmp_path / "rows.jsonl"
    jsonl.write_text("".join(json.dumps({"title": f"岗位{i}"}) + "\n" for i in range(5_000)), encoding="utf-8")
    with pytest.raises(InvalidInput) as exc:
        read_records(jsonl, "demands")
    assert "行数超过上限" in _too_large(exc)
    assert built[0] == 0
    # the exact limit still counts data rows only (a header and title rows are free)
    ok = tmp_path / "ok.csv"
    ok.write_text("标题行\n岗位名称,企业名称\n" + "岗位,企业\n" * 100, encoding="utf-8")
    assert read_records(ok, "demands").total_rows == 100


def test_many_columns_refused(tmp_path: Path) -> None:
    csv_path = tmp_path / "wide.csv"
    csv_path.write_text(",".join(f"列{i}" for i in range(300)) + "\n" + ",".join("x" * 300) + "\n",
                        encoding="utf-8")
    with pytest.raises(InvalidInput) as exc:
        read_records(csv_path, "demands")
    assert "列数超过上限" in _too_large(exc) and "200" in exc.value.detail
    # one cell far to the right (column XFD) makes openpyxl pad the row to 16,384 values
    path = raw_xlsx(tmp_path / "wide.xlsx", {"岗位": [row_xml(1, ["岗位名称"]), row_xml(2, ["岗位"]),
                                                    row_xml(3, ["x"], first_col=16_384)]})
    with pytest.raises(InvalidInput) as exc:
        read_records(path, "demands")
    assert "列数超过上限" in _too_large(exc)
    # trailing empty (formatted) cells are not columns
    trailing = tmp_path / "trailing.csv"
    trailing.write_text("岗位名称" + "," * 400 + "\n岗位" + "," * 400 + "\n", encoding="utf-8")
    assert read_records(trailing, "demands").total_rows == 1


def test_long_cell_refused_and_not_echoed(tmp_path: Path) -> None:
    long = "长" * 20_000
    csv_path = tmp_path / "long.csv"
    csv_path.write_text(f"岗位名称,企业名称\n岗位,{long}\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as exc:
        read_records(csv_path, "demands")
    detail = _too_large(exc)
    assert "10000" in detail and "长长长长长" not in detail and "第 2 行" in detail
    # beyond the csv module's own field limit (131,072) too
    csv_path.write_text(f"岗位名称\n{'x' * 200_000}\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as exc:
        read_records(csv_path, "demands")
    assert "10000" in _too_large(exc)
    xlsx = raw_xlsx(tmp_path / "long.xlsx", {"岗位": [row_xml(1, ["岗位名称"]), row_xml(2, [long])]})
    with pytest.raises(InvalidInput) as exc:
        read_records(xlsx, "demands")
    assert "10000" in _too_large(exc)
    # shared strings (what Excel writes) are checked too
    wb = openpyxl.Workbook()
    wb.active.append(["岗位名称"])
    wb.active.append([long])
    wb.save(tmp_path / "shared.xlsx")
    with pytest.raises(InvalidInput) as exc:
        read_records(tmp_path / "shared.xlsx", "demands")
    assert "10000" in _too_large(exc)
    jsonl = tmp_path / "long.jsonl"
    jsonl.write_text(json.dumps({"title": long}, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as exc:
        read_records(jsonl, "demands")
    assert "10000" in _too_large(exc)


def test_a_cell_of_exactly_the_limit_is_read(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TALENTMATCH_IMPORT_MAX_CELL_CHARS", "300")
    path = tmp_path / "ok.csv"
    path.write_text(f"岗位名称,任职要求\n岗位,{'熟' * 300}\n", encoding="utf-8")
    result = read_records(path, "demands")
    assert result.total_rows == 1 and not result.errors


# ---------------------------------------------------------------------------------------------
# short echoes of bad values
# ---------------------------------------------------------------------------------------------


def test_row_errors_quote_a_short_excerpt(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    bad = "学" * 5_000
    header = "头" * 3_000
    path.write_text(f"岗位名称,学历要求,{header}\n岗位,{bad},x\n", encoding="utf-8")
    result = read_records(path, "demands")
    assert result.errors
    for e in result.errors:
        assert e.value is None or len(e.value) <= 51, e
        assert len(e.reason) <= 300 and len(e.field) <= 51, e
        assert len(str(e)) <= 450
    assert any(e.value and e.value.endswith("…") for e in result.errors)


def test_fair_row_errors_quote_a_short_excerpt(service, tmp_path: Path) -> None:
    from matcher.fair.files import import_fair_file

    path = tmp_path / "fair.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "岗位"
    wb.active.append(["编号", "企业名称", "岗位名称", "面试名额"])
    wb.active.append(["P1", "淄博某公司", "数据分析师", "多" * 4_000])
    ws = wb.create_sheet("求职者")
    ws.append(["编号", "姓名", "学历"])
    ws.append(["S1", "张三", "本科"])
    ws = wb.create_sheet("意向")
    ws.append(["求职者", "岗位", "类型", "时" * 3_000])
    ws.append(["S1", "P1", "类" * 4_000, "x"])
    wb.save(path)
    with pytest.raises(ImportRejected) as exc:
        import_fair_file(service, path)
    assert len(exc.value.errors) >= 2
    for e in exc.value.errors:
        assert e.value is None or len(e.value) <= 51, e
        assert len(e.reason) <= 300 and len(e.field) <= 51, e


def test_fair_workbook_limits(service, tmp_path: Path, monkeypatch, bomb_201: Path) -> None:
    from matcher.fair.files import import_fair_file, read_fair

    with pytest.raises(InvalidInput) as exc:
        import_fair_file(service, bomb_201)
    assert "200 MB" in _too_large(exc)
    monkeypatch.setenv("TALENTMATCH_IMPORT_MAX_ROWS", "50")
    path = raw_xlsx(tmp_path / "rows.xlsx", {"岗位": rows_chunks(1_000), "求职者": [row_xml(1, ["姓名"])]})
    with pytest.raises(InvalidInput) as exc:
        read_fair(path)
    assert "行数超过上限" in _too_large(exc)
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "岗位.csv").write_text("岗位名称\n岗位\n", encoding="utf-8")
    (folder / "求职者.jsonl").write_text(json.dumps({"姓名": "长" * 20_000}, ensure_ascii=False) + "\n",
                                      encoding="utf-8")
    with pytest.raises(InvalidInput) as exc:
        read_fair(folder)
    assert "10000" in _too_large(exc)


def test_registry_reader_limits(tmp_path: Path, bomb_201: Path) -> None:
    from matcher.ingest.registries import read_registry_file

    path = tmp_path / "reg.csv"
    path.write_text("编号,名称,地区\n" + "".join(f"c{i},链{i},淄博市\n" for i in range(5_000)), encoding="utf-8")
    with pytest.raises(InvalidInput) as exc:
        read_registry_file(path)
    assert exc.value.status == 413 and len(exc.value.detail) <= 120
    path.write_text(f"编号,名称,地区\nc1,{'链' * 20_000},淄博市\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as exc:
        read_registry_file(path)
    assert "10000" in _too_large(exc)
    path.write_text(f"编号,名称,地区\n{'坏' * 5_000},链,淄博市\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as rej:
        read_registry_file(path)
    assert all(e.value is None or len(e.value) <= 51 for e in rej.value.errors)
    bomb = tmp_path / "reg.xlsx"
    bomb.write_bytes(bomb_201.read_bytes())
    with pytest.raises(InvalidInput) as exc:
        read_registry_file(bomb)
    assert "200 MB" in _too_large(exc)
    big = tmp_path / "big.json"
    big.write_text(json.dumps([{"id": f"c{i}", "name": f"链{i}", "region": "淄博市"} for i in range(200_000)]),
                   encoding="utf-8")
    with pytest.raises(InvalidInput) as exc:
        read_registry_file(big)
    assert exc.value.status == 413


def test_mapping_file_size_is_bounded(tmp_path: Path) -> None:
    from matcher.ingest.fields import load_mapping

    path = tmp_path / "m.json"
    path.write_text(json.dumps({"columns": {f"列{i}": "title" for i in range(100_000)}}, ensure_ascii=False),
                    encoding="utf-8")
    with pytest.raises(InvalidInput) as exc:
        load_mapping(path, "demands")
    assert _too_large(exc)


# ---------------------------------------------------------------------------------------------
# through the API
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def client(service, settings):
    from fastapi.testclient import TestClient

    from api.app import create_app

    key = service.store.create_key("admin")[0]
    with TestClient(create_app(settings, service)) as c:
        c.headers["Authorization"] = f"Bearer {key}"
        yield c


def _problem(r, statuses: tuple[int, ...] = (413,)) -> dict:
    assert r.status_code in statuses, r.text[:500]
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert len(body["detail"]) <= 120, body
    assert len(r.content) < 4_000
    return body


def test_api_catalogue_upload_bomb_and_long_values(client, service, tmp_path: Path, monkeypatch) -> None:
    # the route reads with the limits of the service's settings
    monkeypatch.setattr(service.settings, "import_max_unpacked_bytes", 8 * MiB)
    bomb = raw_xlsx(tmp_path / "bomb.xlsx", {"目录": bomb_chunks(20 * MiB)})
    r = client.post("/v1/catalogues", data={"region": "淄博市", "year": "2026"},
                    files={"file": ("目录.xlsx", bomb.read_bytes(), XLSX)})
    body = _problem(r)
    assert "解压后" in body["detail"] and "8 MB" in body["detail"]
    # a bad value of 5,000 characters comes back as a short excerpt
    bad = f"岗位名称,学历要求\n数据分析师,{'学' * 5_000}\n".encode()
    r = client.post("/v1/catalogues", data={"region": "淄博市", "year": "2026"},
                    files={"file": ("目录.csv", bad, "text/csv")})
    body = _problem(r, (422,))
    assert body["errors"] and all(len(e["value"] or "") <= 51 for e in body["errors"])
    # a cell above the cell limit
    long = f"岗位名称\n{'长' * 20_000}\n".encode()
    body = _problem(client.post("/v1/catalogues", data={"region": "淄博市", "year": "2026"},
                                files={"file": ("目录.csv", long, "text/csv")}))
    assert "10000" in body["detail"]


def test_api_fair_upload_bomb_and_many_rows(client, service, tmp_path: Path, monkeypatch) -> None:
    # a fair import reads its limits from the service's settings
    monkeypatch.setattr(service.settings, "import_max_unpacked_bytes", 8 * MiB)
    bomb = raw_xlsx(tmp_path / "bomb.xlsx", {"岗位": bomb_chunks(20 * MiB), "求职者": [row_xml(1, ["姓名"])]})
    body = _problem(client.post("/v1/fairs/import", files={"file": ("fair.xlsx", bomb.read_bytes(), XLSX)}))
    assert "8 MB" in body["detail"]
    monkeypatch.setattr(service.settings, "import_max_rows", 50)
    rows = raw_xlsx(tmp_path / "rows.xlsx", {"岗位": rows_chunks(1_000), "求职者": [row_xml(1, ["姓名"])]})
    body = _problem(client.post("/v1/fairs/import", files={"file": ("fair.xlsx", rows.read_bytes(), XLSX)}))
    assert "行数超过上限" in body["detail"]
    assert client.get("/health").status_code == 200


def test_a_long_cell_is_stopped_in_the_package_scan_before_openpyxl(tmp_path: Path, monkeypatch) -> None:
    # 3 MB of letters that barely compress (ratio ~1.3): only the streaming scan can stop it
    import random
    import tracemalloc

    rnd = random.Random(7)
    text = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(3 * MiB))
    path = raw_xlsx(tmp_path / "cell.xlsx", {"岗位": [row_xml(1, ["岗位名称"]), row_xml(2, [text])]})

    def no_openpyxl(*a, **kw):
        raise AssertionError("openpyxl opened the file")

    monkeypatch.setattr(openpyxl, "load_workbook", no_openpyxl)
    tracemalloc.start()
    try:
        with pytest.raises(InvalidInput) as exc:
            read_records(path, "demands")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "10000" in _too_large(exc)
    assert peak < 16 * MiB, peak


def _noise(n: int) -> bytes:
    """n letters that barely compress."""
    import base64
    import os

    return base64.b64encode(os.urandom(n))[:n].replace(b"+", b"a").replace(b"/", b"b")


def test_a_cell_of_many_short_runs_is_stopped_in_the_scan(tmp_path: Path, monkeypatch) -> None:
    # rich text: 400 runs of 9,000 characters, each text node short, one cell of 3.6 M characters
    # (random letters: the ratio guard must not be what stops it)
    runs = [b"<r><t>" + _noise(9_000) + b"</t></r>" for _ in range(400)]
    cell = [row_xml(1, ["岗位名称"]), b'<row r="2"><c r="A2" t="inlineStr"><is>', *runs, b"</is></c></row>"]
    path = raw_xlsx(tmp_path / "runs.xlsx", {"岗位": cell})

    def no_openpyxl(*a, **kw):
        raise AssertionError("openpyxl opened the file")

    monkeypatch.setattr(openpyxl, "load_workbook", no_openpyxl)
    with pytest.raises(InvalidInput) as exc:
        read_records(path, "demands")
    assert "10000" in _too_large(exc)


def test_a_row_of_too_many_cells_and_a_huge_tail_are_stopped_in_the_scan(tmp_path: Path, monkeypatch) -> None:
    def no_openpyxl(*a, **kw):
        raise AssertionError("openpyxl opened the file")

    monkeypatch.setattr(openpyxl, "load_workbook", no_openpyxl)
    wide = [row_xml(1, ["岗位名称"]), b'<row r="2">', *(b'<c r="A2" s="1"/>' for _ in range(20_000)), b"</row>"]
    with pytest.raises(InvalidInput) as exc:
        read_records(raw_xlsx(tmp_path / "wide.xlsx", {"岗位": wide}), "demands")
    assert "16384" in _too_large(exc)
    # openpyxl builds what follows <sheetData> whole (data validations, hyperlinks ...)
    rules = b"".join(f'<dataValidation sqref="A{i}"/>'.encode() for i in range(400_000))
    tail = b"</sheetData><dataValidations>" + rules + b"</dataValidations></worksheet>"
    path = raw_xlsx(tmp_path / "tail.xlsx", {"岗位": [row_xml(1, ["岗位名称"])]}, wrap=(SHEET_HEAD, tail))
    with pytest.raises(InvalidInput) as exc:
        read_records(path, "demands")
    assert "8 MB" in _too_large(exc)


def test_sheets_with_a_namespace_prefix_are_read_and_checked(tmp_path: Path) -> None:
    ns = b'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    head = b'<?xml version="1.0" encoding="UTF-8"?><x:worksheet ' + ns + b"><x:sheetData>"
    tail = b"</x:sheetData></x:worksheet>"

    def row(r: int, text: str) -> bytes:
        return (f'<x:row r="{r}"><x:c r="A{r}" t="inlineStr"><x:is><x:t>{text}</x:t></x:is></x:c></x:row>').encode()

    path = raw_xlsx(tmp_path / "prefixed.xlsx", {"岗位": [row(1, "岗位名称"), row(2, "数据分析师")]}, wrap=(head, tail))
    result = read_records(path, "demands")
    assert [r.title for _, r in result.records] == ["数据分析师"]
    runs = b"".join(b"<x:r><x:t>" + _noise(9_000) + b"</x:t></x:r>" for _ in range(400))
    bomb = [row(1, "岗位名称"), b'<x:row r="2"><x:c r="A2" t="inlineStr"><x:is>' + runs + b"</x:is></x:c></x:row>"]
    with pytest.raises(InvalidInput) as exc:
        read_records(raw_xlsx(tmp_path / "prefixed-bomb.xlsx", {"岗位": bomb}, wrap=(head, tail)), "demands")
    assert "10000" in _too_large(exc)
