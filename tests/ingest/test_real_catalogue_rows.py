"""Catalogue rows as real city catalogues write them (issue 16): units in headers, requirements
in the text, merged "same as above" cells, notes under the table, commission in the pay."""

from __future__ import annotations

from pathlib import Path

import pytest

from matcher.domain.schemas import DemandEntry, Education
from matcher.ingest.importer import read_records
from matcher.ingest.parsing import parse_salary
from matcher.ingest.parsing.requirements import (
    education_in_text,
    fresh_graduate_in_text,
    years_in_text,
)


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalogue.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _entries(tmp_path: Path, text: str) -> list[DemandEntry]:
    result = read_records(_csv(tmp_path, text), "catalogue")
    assert result.errors == []
    return [m for _, m in result.records]  # type: ignore[misc]


@pytest.mark.parametrize(
    ("header", "cell", "expected"),
    [
        ("年薪均值（万元）", "4.8", (4000, 4000)),  # not 48,000 元/月
        ("年薪均值（万元）", "12", (10000, 10000)),
        ("年薪（万元）", "6-8", (5000, 6667)),
        ("薪酬（万元）/年", "4.5", (3750, 3750)),  # the period outside the bracket
        ("年薪", "4.8万", (4000, 4000)),  # a unit in the cell, the period in the header
        ("月薪（元）", "4800", (4800, 4800)),
        ("月薪范围（千元/月）", "6-9", (6000, 9000)),
    ],
)
def test_unit_and_period_in_the_header_win(tmp_path: Path, header: str, cell: str,
                                            expected: tuple[int, int]) -> None:
    [entry] = _entries(tmp_path, f"企业名称,岗位名称,{header}\n济宁某药业有限公司,质检员,{cell}\n")
    assert (entry.salary_min, entry.salary_max) == expected


def test_low_yearly_pay_stays_the_lowest(tmp_path: Path) -> None:
    """The 17 rows of the real catalogue below 5万元/年 were read as the best paid."""
    text = ("企业名称,岗位名称,年薪均值（万元）\n"
            "济宁某纺织有限公司,挡车工,4.8\n"
            "济宁某软件有限公司,Java开发工程师,15\n")
    low, high = _entries(tmp_path, text)
    assert low.salary_max is not None and high.salary_min is not None
    assert low.salary_max < high.salary_min


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("5000元/月+提成", (5000, 5000)), ("底薪3000+提成", (3000, 3000)),
     ("6-8k+绩效+年终奖", (6000, 8000)), ("4000-6000元/月＋提成", (4000, 6000)),
     ("底薪4000+高提成", (4000, 4000)), ("保底3000元/月+提成", (3000, 3000))],
)
def test_pay_plus_commission(cell: str, expected: tuple[int, int]) -> None:
    assert parse_salary(cell) == expected


def test_requirements_read_from_the_duty_text(tmp_path: Path) -> None:
    text = ("企业名称,岗位名称,岗位职责/任职要求\n"
            "济宁某机械有限公司,机械设计工程师,\"岗位职责：负责减速机结构设计。任职要求：1. 本科及以上学历，"
            "机械设计制造及其自动化专业；2. 3年以上经验，熟练使用SolidWorks\"\n"
            "济宁某化工有限公司,DCS操作员,\"任职要求：大专以上，化工相关专业，工作经验两年以上\"\n"
            "济宁某物流有限公司,仓库管理员,负责出入库台账\n")
    design, dcs, store = _entries(tmp_path, text)
    assert design.min_experience_years == 3
    assert design.education is Education.BACHELOR
    assert "SolidWorks" in design.description
    assert (dcs.min_experience_years, dcs.education) == (2, Education.JUNIOR_COLLEGE)
    assert (store.min_experience_years, store.education) == (0, None)


def test_a_column_wins_over_the_text(tmp_path: Path) -> None:
    text = ("企业名称,岗位名称,工作经验,学历要求,任职要求\n"
            "济宁某公司,会计,1年,大专,本科及以上学历，5年以上经验\n")
    [entry] = _entries(tmp_path, text)
    assert (entry.min_experience_years, entry.education) == (1, Education.JUNIOR_COLLEGE)


@pytest.mark.parametrize(
    ("text", "years", "education", "fresh"),
    [
        ("三年Java经验，想在济南工作", 3, None, False),
        ("应届硕士", None, Education.MASTER, True),
        ("5年及以上化工行业从业经验", 5, None, False),
        ("1. 本科及以上学历；2. 3年以上经验", 3, Education.BACHELOR, False),  # not "2. 3" = 2.3
        ("本科以上学历，硕士优先", None, Education.BACHELOR, False),
        ("硕士研究生学历优先", None, None, False),  # preferred, not required
        ("熟悉5G技术，带领10人团队", None, None, False),
        ("会计", None, None, False),
    ],
)
def test_requirements_in_text(text: str, years: float | None, education: Education | None, fresh: bool) -> None:
    assert years_in_text(text) == years
    assert education_in_text(text) is education
    assert fresh_graduate_in_text(text) is fresh


def test_commission_in_a_catalogue_cell(tmp_path: Path) -> None:
    text = "企业名称,岗位名称,薪资待遇\n济宁某酒业有限公司,白酒销售业务员,5000元/月+提成\n"
    [entry] = _entries(tmp_path, text)
    assert (entry.salary_min, entry.salary_max) == (5000, 5000)


def test_trailing_note_is_not_an_error(tmp_path: Path) -> None:
    text = ("序号,企业名称,岗位名称,需求人数\n"
            "1,济宁某科技有限公司,数据标注员,5\n"
            "2,济宁某科技有限公司,算法工程师,2\n"
            "备注：1. 薪酬为税前；2. 星级越高越紧缺,,,\n")
    result = read_records(_csv(tmp_path, text), "catalogue")
    assert result.errors == []
    assert [m.title for _, m in result.records] == ["数据标注员", "算法工程师"]
    assert len(result.warnings) == 1 and "第 4 行" in result.warnings[0]


def test_a_note_followed_by_data_is_still_a_row(tmp_path: Path) -> None:
    text = ("企业名称,岗位名称,需求人数\n"
            "说明：以下为新增岗位,,\n"
            "济宁某科技有限公司,算法工程师,2\n")
    result = read_records(_csv(tmp_path, text), "catalogue")
    assert result.errors != []  # the "note" sits inside the table: reported, not silently dropped


def test_same_as_above_cells_are_filled_with_a_warning(tmp_path: Path) -> None:
    text = ("企业名称,所属产业链,岗位名称,需求人数\n"
            "山东某药业股份有限公司,生物医药,QA专员,2\n"
            ",,QC检验员,3\n"
            "同上,,药物研发工程师,1\n"
            "济宁某重工有限公司,高端装备,焊工,10\n"
            ",,电工,2\n")
    result = read_records(_csv(tmp_path, text), "catalogue")
    assert result.errors == []
    got = [(m.enterprise_name, m.chain_id, m.title) for _, m in result.records]
    assert got == [
        ("山东某药业股份有限公司", "生物医药", "QA专员"),
        ("山东某药业股份有限公司", "生物医药", "QC检验员"),
        ("山东某药业股份有限公司", "生物医药", "药物研发工程师"),
        ("济宁某重工有限公司", "高端装备", "焊工"),
        ("济宁某重工有限公司", "高端装备", "电工"),
    ]
    [warning] = result.warnings
    assert "“企业名称”第 3-4、6 行" in warning and "“所属产业链”第 3-4、6 行" in warning


def test_talent_blanks_are_not_filled(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("姓名,城市,学历\n张三,济南市,本科\n李四,,大专\n", encoding="utf-8")
    result = read_records(path, "talents")
    assert result.errors == [] and result.warnings == []
    assert [m.city for _, m in result.records] == ["济南市", None]
