"""Importing talents, demands and catalogue entries from CSV, XLSX and JSONL files."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from matcher.core.errors import ImportRejected, InvalidInput
from matcher.domain.schemas import CertGrade, DemandEntry, Education, TalentProfile, TitleLevel
from matcher.ingest.fields import Mapping, load_mapping, target_fields
from matcher.ingest.importer import read_records

FIXTURES = Path(__file__).parents[1] / "fixtures" / "import"

DEMAND_CSV = (
    "序号,企业名称,岗位名称,所属产业链,需求人数,学历要求,专业要求,薪酬待遇,紧缺星级,工作经验,任职能力要求,技能\n"
    "1,甲科技公司,数据分析师,新一代信息技术,3,本科及以上,计算机、统计学,8000-12000元/月,★★★★,3年以上,熟悉SQL,SQL、Python\n"
    "2,乙制造公司,工业互联网工程师,智能装备,2.0,大专,,8-12万元/年,五星,1-3年,,PLC；工业互联网\n"
)


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# ---------------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_csv_encodings(tmp_path: Path, encoding: str) -> None:
    path = _write(tmp_path / "demands.csv", DEMAND_CSV, encoding)
    result = read_records(path, "demands")
    assert result.errors == []
    assert result.total_rows == 2
    assert [n for n, _ in result.records] == [2, 3]
    first = result.records[0][1]
    assert isinstance(first, DemandEntry)
    assert first.enterprise_name == "甲科技公司"
    assert first.title == "数据分析师"
    assert first.chain_id == "新一代信息技术"
    assert first.headcount == 3
    assert first.education is Education.BACHELOR
    assert first.majors == ["计算机", "统计学"]
    assert (first.salary_min, first.salary_max) == (8000, 12000)
    assert first.shortage_level == 4
    assert first.min_experience_years == 3
    assert first.description == "熟悉SQL"
    assert first.required_skills == ["SQL", "Python"]
    assert first.source == "post"
    second = result.records[1][1]
    assert isinstance(second, DemandEntry)
    assert second.headcount == 2
    assert (second.salary_min, second.salary_max) == (6667, 10000)
    assert second.required_skills == ["PLC", "工业互联网"]
    assert second.majors == []
    assert result.columns["岗位名称"] == "title"
    assert result.columns["技能"] == "required_skills"
    assert "序号" in result.ignored


def test_bad_encoding(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"title\n\xff\xfe\xff\xff\x80\n")
    with pytest.raises(InvalidInput, match="文件编码无法识别（支持 UTF-8、GB18030）"):
        read_records(path, "demands")


def test_binary_file_with_csv_extension(tmp_path: Path) -> None:
    path = tmp_path / "bin.csv"
    path.write_bytes(b"title\x00\x00\x01\n")
    with pytest.raises(InvalidInput, match="编码"):
        read_records(path, "demands")


def test_field_name_headers_and_tabs(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "d.csv",
        "title\tcity\theadcount\trequired_skills\n运维工程师\t淄博\t4\tLinux/Shell\n",
    )
    result = read_records(path, "demands")
    assert result.errors == []
    entry = result.records[0][1]
    assert isinstance(entry, DemandEntry)
    assert (entry.title, entry.city, entry.headcount, entry.required_skills) == (
        "运维工程师",
        "淄博",
        4,
        ["Linux", "Shell"],
    )


def test_row_numbers_and_all_errors_collected(tmp_path: Path) -> None:
    text = (
        "岗位名称,学历要求,需求人数,紧缺星级,薪资\n"
        "好岗位,本科,1,3,面议\n"
        ",\n"  # a blank line keeps its row number
        "坏岗位一,小学生物,0,9,abc\n"
        "坏岗位二,本科,2,2,9000-6000\n"
        ",博士,1,,\n"
        "好岗位二,硕士,2,1,1.2万/月\n"
    )
    result = read_records(_write(tmp_path / "d.csv", text), "demands")
    assert result.total_rows == 5
    assert [n for n, _ in result.records] == [2, 7]
    got = {(e.row, e.field) for e in result.errors}
    assert got == {
        (4, "学历要求"),
        (4, "需求人数"),
        (4, "紧缺星级"),
        (4, "薪资"),
        (5, "薪资"),
        (6, "岗位名称"),
    }
    by_key = {(e.row, e.field): e for e in result.errors}
    assert by_key[(4, "学历要求")].value == "小学生物"
    assert "学历" in by_key[(4, "学历要求")].reason
    assert by_key[(4, "需求人数")].reason == "不能小于 1"
    assert by_key[(6, "岗位名称")].reason == "必填，不能为空"
    assert "下限" in by_key[(5, "薪资")].reason
    assert str(by_key[(4, "学历要求")]).startswith("第 4 行，字段 学历要求：")


def test_salary_min_greater_than_max_in_separate_columns(tmp_path: Path) -> None:
    text = "岗位名称,salary_min,salary_max\n测试,9000,6000\n"
    result = read_records(_write(tmp_path / "d.csv", text), "demands")
    assert len(result.errors) == 1
    error = result.errors[0]
    assert (error.row, error.field, error.reason) == (2, "salary_min", "薪资下限不能大于上限")


def test_unknown_headers_one_error(tmp_path: Path) -> None:
    text = "岗位名称,学历要球,薪资待遇X,城市\n数据分析师,本科,8k,淄博\n"
    result = read_records(_write(tmp_path / "d.csv", text), "demands")
    assert len(result.errors) == 1
    error = result.errors[0]
    assert error.row == 1
    assert "学历要球" in error.reason and "薪资待遇X" in error.reason
    # the row itself is still read
    assert len(result.records) == 1
    lenient = read_records(tmp_path / "d.csv", "demands", Mapping(ignore_unknown=True))
    assert lenient.errors == []
    assert set(lenient.ignored) == {"学历要球", "薪资待遇X"}


def test_missing_required_column_reported_once(tmp_path: Path) -> None:
    text = "企业名称,城市\n甲,淄博\n乙,济南\n丙,青岛\n"
    result = read_records(_write(tmp_path / "d.csv", text), "demands")
    assert [(e.row, e.field) for e in result.errors] == [(1, "title")]
    assert "岗位名称" in result.errors[0].reason
    assert result.records == []
    assert result.total_rows == 3


def test_duplicate_target_columns(tmp_path: Path) -> None:
    text = "岗位名称,学历,学历要求\n测试,本科,硕士\n"
    result = read_records(_write(tmp_path / "d.csv", text), "demands")
    assert any(
        e.row == 1 and e.field == "学历要求" and "同一字段" in e.reason for e in result.errors
    )


def test_data_without_header(tmp_path: Path) -> None:
    text = "岗位名称,城市\n测试,淄博,多出来的\n"
    result = read_records(_write(tmp_path / "d.csv", text), "demands")
    assert [(e.row, e.field) for e in result.errors] == [(2, "第 3 列")]


def test_header_unit_hint(tmp_path: Path) -> None:
    text = "岗位名称,薪资（万元/年）,期望薪资(元/月)\n测试,8-12,\n"
    path = _write(tmp_path / "d.csv", "岗位名称,薪资（万元/年）\n测试,8-12\n测试2,20以上\n")
    result = read_records(path, "demands")
    assert result.errors == []
    assert [(r.salary_min, r.salary_max) for _, r in result.records] == [
        (6667, 10000),
        (16667, None),
    ]
    del text


def test_talents_csv(tmp_path: Path) -> None:
    text = (
        "姓名,手机,学历,专业,毕业院校,毕业年份,应届,技能,证书,职称,技能等级,数字技术工程师证书,工作经验,"
        "城市,期望城市,期望薪资,同意公开,个人简介\n"
        "张三,13800138000,大學本科,計算機科學與技術,山东理工大学,2025届,是,Python、機器學習,CET-6,中级职称,高级工,"
        "数字技术工程师（大数据）中级；人工智能初级,半年,淄博,淄博、济南,6k-9k,同意,熟悉数据分析\n"
        "李四,,硕士研究生,,,2020,否,,,,,,三年以上,济南,,面议,,\n"
    )
    result = read_records(_write(tmp_path / "t.csv", text), "talents")
    assert result.errors == []
    first = result.records[0][1]
    assert isinstance(first, TalentProfile)
    assert first.name == "张三"
    assert first.phone == "13800138000"
    assert first.education is Education.BACHELOR
    assert first.major == "計算機科學與技術"  # free text is kept as written
    assert first.graduation_year == 2025
    assert first.fresh_graduate is True
    assert first.skills == ["Python", "機器學習"]
    assert first.title_level is TitleLevel.INTERMEDIATE
    assert [(c.direction, c.grade) for c in first.digital_certs] == [
        ("大数据", CertGrade.INTERMEDIATE),
        ("人工智能", CertGrade.JUNIOR),
    ]
    assert first.experience_years == 0.5
    assert first.preferred_cities == ["淄博", "济南"]
    assert (first.salary_min, first.salary_max) == (6000, 9000)
    assert first.consent is True
    assert first.summary == "熟悉数据分析"
    second = result.records[1][1]
    assert isinstance(second, TalentProfile)
    assert second.experience_years == 3
    assert second.consent is False
    assert second.salary_min is None


def test_talent_file_with_demand_headers(tmp_path: Path) -> None:
    result = read_records(_write(tmp_path / "t.csv", "姓名,岗位名称\n张三,工程师\n"), "talents")
    assert len(result.errors) == 1 and "岗位名称" in result.errors[0].reason


# ---------------------------------------------------------------------------------------------
# mapping
# ---------------------------------------------------------------------------------------------


def test_mapping_fixture_catalogue() -> None:
    mapping = load_mapping(FIXTURES / "catalogue_mapping.json", "catalogue")
    result = read_records(FIXTURES / "catalogue_sample.csv", "catalogue", mapping)
    assert result.errors == []
    assert [n for n, _ in result.records] == [2, 3]
    first = result.records[0][1]
    assert isinstance(first, DemandEntry)
    assert first.source == "catalogue"
    assert first.title == "工业互联网工程技术人员"
    assert first.chain_id == "智能装备"
    assert first.city == "淄博市"  # a default
    assert (first.salary_min, first.salary_max) == (8000, 12000)  # unit from the header
    assert first.required_skills == ["工业互联网", "PLC"]
    assert first.required_title_level is TitleLevel.INTERMEDIATE
    assert first.shortage_level == 4
    second = result.records[1][1]
    assert isinstance(second, DemandEntry)
    assert second.headcount == 2
    assert second.required_title_level is None
    assert "填报人" in result.ignored


def test_mapping_null_ignores_and_defaults_fill_blanks(tmp_path: Path) -> None:
    path = _write(tmp_path / "d.csv", "职位,地点,内部备注\n测试,,x\n测试2,济南,y\n")
    mapping = Mapping(
        columns={"职位": "title", "地点": "city", "内部备注": None}, defaults={"city": "淄博"}
    )
    result = read_records(path, "demands", mapping)
    assert result.errors == []
    assert [r.city for _, r in result.records] == ["淄博", "济南"]


def test_catalogue_source_conflict(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.csv", "岗位名称,来源\n测试,招聘会\n测试2,目录\n")
    result = read_records(path, "catalogue")
    assert [(e.row, e.field) for e in result.errors] == [(2, "来源")]
    assert result.records[0][1].source == "catalogue"


def test_load_mapping_unknown_target(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(
        json.dumps({"columns": {"岗位": "titel"}}, ensure_ascii=False), encoding="utf-8"
    )
    with pytest.raises(InvalidInput) as info:
        load_mapping(path)
    assert "titel" in info.value.detail
    assert "title" in info.value.detail and "salary" in info.value.detail


def test_load_mapping_kind_specific(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"columns": {"岗位": "title"}}), encoding="utf-8")
    assert load_mapping(path).columns == {"岗位": "title"}
    assert load_mapping(path, "demands").columns == {"岗位": "title"}
    with pytest.raises(InvalidInput, match="title"):
        load_mapping(path, "talents")
    with pytest.raises(InvalidInput, match="title"):
        read_records(_write(tmp_path / "t.csv", "岗位\nx\n"), "talents", load_mapping(path))


@pytest.mark.parametrize(
    ("content", "match"),
    [("{not json", "不是有效的 JSON"), ("[1, 2]", "JSON 对象"), ('{"colums": {}}', "未知的键")],
)
def test_load_mapping_malformed(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "m.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInput, match=match):
        load_mapping(path)


def test_mapping_bad_default(tmp_path: Path) -> None:
    path = _write(tmp_path / "d.csv", "岗位名称\n测试\n")
    with pytest.raises(InvalidInput, match="默认值"):
        read_records(path, "demands", Mapping(defaults={"education": "幼儿园"}))


def test_target_fields() -> None:
    assert "salary" in target_fields("talents")
    assert "title" in target_fields("demands") and "title" not in target_fields("talents")
    assert "skills" in target_fields("demands")  # alias of required_skills


# ---------------------------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------------------------


def _catalogue_workbook(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "目录"
    ws.append(["2025年淄博市急需紧缺数字人才需求目录"])
    ws.merge_cells("A1:F1")
    ws.append(["企业名称", "岗位名称", "需求人数", "学历要求", "截止日期", "紧缺星级"])
    ws.append(["甲公司", "数据工程师", 3.0, "本科", datetime(2026, 1, 31), 5])
    ws.append([None, "算法工程师", 1, "硕士研究生", "2026年1月31日", "★★★"])
    ws.merge_cells("A3:A4")  # one enterprise, two posts
    ws.append([None, None, None, None, None, None])
    ws.append(["乙公司", "运维工程师", "两", "大专", 46053, None])
    other = wb.create_sheet("说明")
    other.append(["说明"])
    wb.save(path)
    return path


def test_xlsx_title_row_merged_cells_and_types(tmp_path: Path) -> None:
    path = _catalogue_workbook(tmp_path / "目录.xlsx")
    result = read_records(path, "catalogue")
    assert result.errors == []
    assert result.header_row == 2
    assert result.total_rows == 3
    assert [n for n, _ in result.records] == [3, 4, 6]
    entries = [r for _, r in result.records]
    assert all(isinstance(e, DemandEntry) and e.source == "catalogue" for e in entries)
    assert [e.enterprise_name for e in entries] == ["甲公司", "甲公司", "乙公司"]
    assert [e.headcount for e in entries] == [3, 1, 2]
    assert [e.valid_until for e in entries] == [date(2026, 1, 31)] * 3
    assert [e.shortage_level for e in entries] == [5, 3, None]
    assert entries[1].education is Education.MASTER


def test_xlsx_header_row_from_mapping_and_errors(tmp_path: Path) -> None:
    path = _catalogue_workbook(tmp_path / "目录.xlsx")
    result = read_records(
        path, "catalogue", Mapping(header_row=1, ignore_unknown=True, fill_merged=False)
    )
    # the title row is taken as the header: no title column, and columns B-F have no header
    assert [(e.row, e.field) for e in result.errors] == [(1, "title")] + [
        (2, f"第 {i} 列") for i in range(2, 7)
    ]


def test_xlsx_named_sheet(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    first = wb.active
    assert first is not None
    first.append(["无关"])
    sheet = wb.create_sheet("人才")
    sheet.append(["姓名", "学历", "应届"])
    sheet.append(["王五", "本科", "是"])
    sheet.append(["赵六", "博士", "Y"])
    path = tmp_path / "t.xlsx"
    wb.save(path)
    result = read_records(path, "talents", sheet="人才")
    assert result.errors == []
    assert [(n, r.name) for n, r in result.records] == [(2, "王五"), (3, "赵六")]
    assert read_records(path, "talents", Mapping(sheet="人才")).total_rows == 2
    with pytest.raises(InvalidInput, match="工作表“不存在”不存在"):
        read_records(path, "talents", sheet="不存在")


def test_xlsx_cell_errors(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["岗位名称", "需求人数", "工作经验"])
    ws.append(["甲", 2.5, "很多年"])
    ws.append(["乙", 3, "3年以上"])
    path = tmp_path / "d.xlsx"
    wb.save(path)
    result = read_records(path, "demands")
    assert [(e.row, e.field) for e in result.errors] == [(2, "需求人数"), (2, "工作经验")]
    assert result.errors[0].value == "2.5"
    assert [n for n, _ in result.records] == [3]


def test_corrupt_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "bad.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not really a workbook")
    with pytest.raises(InvalidInput, match="Excel"):
        read_records(path, "demands")
    path.write_text("岗位名称\n测试\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="Excel"):
        read_records(path, "demands")


# ---------------------------------------------------------------------------------------------
# JSONL
# ---------------------------------------------------------------------------------------------


def test_jsonl_with_malformed_line(tmp_path: Path) -> None:
    lines = [
        json.dumps(
            {
                "title": "数据分析师",
                "required_skills": ["SQL", "Python"],
                "headcount": 2,
                "salary": "8-12万元/年",
                "education": "本科",
            },
            ensure_ascii=False,
        ),
        '{"title": "坏行", ',
        "",
        json.dumps([1, 2]),
        json.dumps(
            {"岗位名称": "算法工程师", "学历要求": "硕士", "需求人数": "x"}, ensure_ascii=False
        ),
        json.dumps({"title": "运维", "digital_certs_x": 1}, ensure_ascii=False),
        json.dumps(
            {"title": "运维2", "min_experience_years": 2, "valid_until": "2026-12-31"},
            ensure_ascii=False,
        ),
    ]
    path = _write(tmp_path / "d.jsonl", "\n".join(lines) + "\n")
    result = read_records(path, "demands")
    assert result.total_rows == 6
    assert [(e.row, e.field) for e in result.errors] == [
        (2, "整行"),
        (4, "整行"),
        (5, "需求人数"),
        (6, "digital_certs_x"),
    ]
    assert "JSON 格式错误" in result.errors[0].reason
    assert [n for n, _ in result.records] == [1, 6, 7]
    first = result.records[0][1]
    assert isinstance(first, DemandEntry)
    assert (first.salary_min, first.salary_max, first.headcount) == (6667, 10000, 2)
    last = result.records[-1][1]
    assert isinstance(last, DemandEntry)
    assert last.valid_until == date(2026, 12, 31)


def test_jsonl_talents_native_types(tmp_path: Path) -> None:
    row = {
        "name": "张三",
        "education": "本科",
        "skills": ["Python"],
        "fresh_graduate": True,
        "consent": 1,
        "digital_certs": [{"direction": "人工智能", "grade": "中级"}],
        "experience_years": 1.5,
        "salary_min": 6000,
        "salary_max": 9000,
    }
    path = _write(tmp_path / "t.ndjson", json.dumps(row, ensure_ascii=False) + "\n")
    result = read_records(path, "talents")
    assert result.errors == []
    talent = result.records[0][1]
    assert isinstance(talent, TalentProfile)
    assert talent.digital_certs[0].grade is CertGrade.INTERMEDIATE
    assert talent.consent is True and talent.fresh_graduate is True
    assert talent.experience_years == 1.5


# ---------------------------------------------------------------------------------------------
# file-level problems
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["d.xls", "d.txt", "d.json", "d"])
def test_unsupported_extension(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path / name, "岗位名称\n测试\n")
    with pytest.raises(InvalidInput) as info:
        read_records(path, "demands")
    assert (
        ".csv" in info.value.detail
        and ".xlsx" in info.value.detail
        and ".jsonl" in info.value.detail
    )


def test_oversize_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "d.csv", DEMAND_CSV)
    with pytest.raises(InvalidInput, match="文件过大"):
        read_records(path, "demands", max_bytes=100)


def test_too_many_rows(tmp_path: Path) -> None:
    path = _write(tmp_path / "d.csv", "岗位名称\n" + "测试\n" * 11)
    assert read_records(path, "demands", max_rows=11).total_rows == 11
    with pytest.raises(InvalidInput, match="行数超过上限") as exc:
        read_records(path, "demands", max_rows=10)
    assert exc.value.status == 413  # PayloadTooLarge, like every reading limit
    jsonl = _write(tmp_path / "d.jsonl", '{"title": "x"}\n' * 3)
    with pytest.raises(InvalidInput, match="行数超过上限"):
        read_records(jsonl, "demands", max_rows=2)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="不存在"):
        read_records(tmp_path / "nope.csv", "demands")


def test_empty_file(tmp_path: Path) -> None:
    result = read_records(_write(tmp_path / "d.csv", ""), "demands")
    assert (result.records, result.errors, result.total_rows) == ([], [], 0)


def test_raise_for_errors(tmp_path: Path) -> None:
    result = read_records(_write(tmp_path / "d.csv", "岗位名称,学历\n测试,幼儿园\n"), "demands")
    assert not result.ok
    with pytest.raises(ImportRejected) as info:
        result.raise_for_errors()
    assert len(info.value.errors) == 1
    assert "1 处错误" in info.value.detail
