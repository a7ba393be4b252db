"""Parsers of Chinese spreadsheet values: real-world strings, Traditional and full-width forms."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from matcher.domain.schemas import CertGrade, DigitalCert, Education, SkillLevel, TitleLevel
from matcher.ingest.parsing import (
    cell_text,
    is_blank,
    parse_bool,
    parse_cert_grade,
    parse_chinese_number,
    parse_date,
    parse_digital_certs,
    parse_education,
    parse_experience,
    parse_int,
    parse_list,
    parse_salary,
    parse_shortage_level,
    parse_skill_level,
    parse_title_level,
    parse_year,
)

E = Education


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("不限", None),
        ("无", None),
        ("", None),
        (None, None),
        ("学历不限", None),
        ("—", None),
        ("大学本科", E.BACHELOR),
        ("本科", E.BACHELOR),
        ("学士", E.BACHELOR),
        ("本科及以上", E.BACHELOR),
        ("本科及以上学历", E.BACHELOR),
        ("本科以上", E.BACHELOR),
        ("本科或以上", E.BACHELOR),
        ("全日制本科", E.BACHELOR),
        ("统招本科及以上", E.BACHELOR),
        ("本科（学士）", E.BACHELOR),
        ("大學本科", E.BACHELOR),
        ("本科及以上學歷", E.BACHELOR),
        ("ｂａｃｈｅｌｏｒ", E.BACHELOR),
        ("专科（高职）", E.JUNIOR_COLLEGE),
        ("專科（高職）", E.JUNIOR_COLLEGE),
        ("专科(高职)", E.JUNIOR_COLLEGE),
        ("大专", E.JUNIOR_COLLEGE),
        ("大专及以上", E.JUNIOR_COLLEGE),
        ("大专(含)以上", E.JUNIOR_COLLEGE),
        ("高职", E.JUNIOR_COLLEGE),
        ("专科", E.JUNIOR_COLLEGE),
        ("大专/本科", E.JUNIOR_COLLEGE),
        ("硕士研究生", E.MASTER),
        ("硕士", E.MASTER),
        ("研究生", E.MASTER),
        ("硕士研究生及以上", E.MASTER),
        ("碩士研究生及以上", E.MASTER),
        ("研究生及以上学历", E.MASTER),
        ("硕士/博士", E.MASTER),
        ("博士研究生", E.DOCTOR),
        ("博士", E.DOCTOR),
        ("高中", E.SECONDARY),
        ("中专", E.SECONDARY),
        ("中职", E.SECONDARY),
        ("技校", E.SECONDARY),
        ("职高", E.SECONDARY),
        ("高中及以上", E.SECONDARY),
        ("高中/中专", E.SECONDARY),
        ("中专及以上学历", E.SECONDARY),
        ("初中", None),
        ("初中及以上", None),
        (" 本科 ", E.BACHELOR),
        ("　本科　", E.BACHELOR),
    ],
)
def test_parse_education(raw: object, expected: Education | None) -> None:
    assert parse_education(raw) == expected


@pytest.mark.parametrize("raw", ["小学生物", "本科以下", "留学", "MBA在读中", "abc", 3])
def test_parse_education_rejects(raw: object) -> None:
    with pytest.raises(ValueError, match="学历"):
        parse_education(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("5星", 5),
        ("五星", 5),
        ("五星级", 5),
        ("3星级", 3),
        ("三颗星", 3),
        ("★★★", 3),
        ("★★★☆☆", 3),
        ("★", 1),
        ("3", 3),
        ("３", 3),
        ("４星", 4),
        (3.0, 3),
        (2, 2),
        ("3.0", 3),
        ("—", None),
        ("-", None),
        ("", None),
        ("无", None),
        (None, None),
    ],
)
def test_parse_shortage_level(raw: object, expected: int | None) -> None:
    assert parse_shortage_level(raw) == expected


@pytest.mark.parametrize("raw", ["0", "6星", "★★★★★★", "3.5", "很紧缺", True, "☆☆☆"])
def test_parse_shortage_level_rejects(raw: object) -> None:
    with pytest.raises(ValueError, match="紧缺星级"):
        parse_shortage_level(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("8-12万元/年", (6667, 10000)),
        ("8-12萬元/年", (6667, 10000)),
        ("8～12万/年", (6667, 10000)),
        ("6000-9000元/月", (6000, 9000)),
        ("6000—9000元/月", (6000, 9000)),
        ("6000至9000元", (6000, 9000)),
        ("６０００－９０００元／月", (6000, 9000)),
        ("6,000-9,000", (6000, 9000)),
        ("6k-9k", (6000, 9000)),
        ("6-9K", (6000, 9000)),
        ("15-25K", (15000, 25000)),
        ("6K~9K·13薪", (6500, 9750)),
        ("12-15k·14薪", (14000, 17500)),
        ("1.2万/月", (12000, 12000)),
        ("月薪1.2万", (12000, 12000)),
        ("3-5千", (3000, 5000)),
        ("8千-1.2万", (8000, 12000)),
        ("面议", (None, None)),
        ("薪资面议", (None, None)),
        ("", (None, None)),
        (None, (None, None)),
        ("10000元以上", (10000, None)),
        ("10000元及以上", (10000, None)),
        ("8000+", (8000, None)),
        ("5000以下", (None, 5000)),
        ("5000元以内", (None, 5000)),
        ("年薪20万", (16667, 16667)),
        ("年薪20-30万", (16667, 25000)),
        ("20万/年以上", (16667, None)),
        ("8-12万", (6667, 10000)),
        ("8000", (8000, 8000)),
        (8000, (8000, 8000)),
        (8000.0, (8000, 8000)),
        ("200元/天", (4350, 4350)),
        ("税前6000-8000元/月", (6000, 8000)),
    ],
)
def test_parse_salary(raw: object, expected: tuple[int | None, int | None]) -> None:
    assert parse_salary(raw) == expected


@pytest.mark.parametrize("raw", ["800", 800, "8-12", "9000-6000", "很高", "6k-9k·40薪", "1-2-3万"])
def test_parse_salary_rejects(raw: object) -> None:
    with pytest.raises(ValueError, match="薪"):
        parse_salary(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3年以上", 3.0),
        ("3年及以上", 3.0),
        ("三年以上", 3.0),
        ("1-3年", 1.0),
        ("1～3年", 1.0),
        ("3-5年工作经验", 3.0),
        ("3年以上相关工作经验", 3.0),
        ("经验5-10年", 5.0),
        ("不限", 0.0),
        ("经验不限", 0.0),
        ("应届", 0.0),
        ("应届毕业生", 0.0),
        ("應屆生", 0.0),
        ("无", 0.0),
        ("", 0.0),
        (None, 0.0),
        ("半年", 0.5),
        ("半年以上", 0.5),
        ("五年", 5.0),
        ("十年以上", 10.0),
        ("两年", 2.0),
        ("1年半", 1.5),
        ("一年半", 1.5),
        ("6个月", 0.5),
        ("6-12个月", 0.5),
        ("3年以下", 0.0),
        ("3", 3.0),
        ("３年", 3.0),
        (2, 2.0),
        (2.5, 2.5),
    ],
)
def test_parse_experience(raw: object, expected: float) -> None:
    assert parse_experience(raw) == pytest.approx(expected)


@pytest.mark.parametrize("raw", ["很多年", "资深", -1, "三到五个项目"])
def test_parse_experience_rejects(raw: object) -> None:
    with pytest.raises(ValueError, match="工作经验"):
        parse_experience(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("是", True),
        ("否", False),
        ("Y", True),
        ("n", False),
        ("yes", True),
        ("No", False),
        ("true", True),
        ("FALSE", False),
        ("1", True),
        ("0", False),
        (1, True),
        (0.0, False),
        (True, True),
        (False, False),
        ("同意", True),
        ("不同意", False),
        ("有", True),
        ("无", False),
        ("√", True),
        ("×", False),
        ("", None),
        (None, None),
        ("-", None),
        ("ｙｅｓ", True),
        ("同意公开", True),
        ("不公开", False),
    ],
)
def test_parse_bool(raw: object, expected: bool | None) -> None:
    assert parse_bool(raw) is expected


@pytest.mark.parametrize("raw", ["也许", "2", 2, "待定"])
def test_parse_bool_rejects(raw: object) -> None:
    with pytest.raises(ValueError, match="是"):
        parse_bool(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Python、Java、SQL", ["Python", "Java", "SQL"]),
        ("Python，Java,SQL", ["Python", "Java", "SQL"]),
        ("Python；Java;SQL", ["Python", "Java", "SQL"]),
        ("Python/Java｜SQL|Linux", ["Python", "Java", "SQL", "Linux"]),
        ("Python\nJava\r\nSQL", ["Python", "Java", "SQL"]),
        ("  Python 、、 Java ,", ["Python", "Java"]),
        ("Python、Python", ["Python"]),
        ("TCP/IP、C/C++、CI/CD", ["TCP/IP", "C/C++", "CI/CD"]),
        ("Java/Bash", ["Java", "Bash"]),
        (
            "机器学习（深度学习，强化学习）、数据分析",
            ["机器学习（深度学习，强化学习）", "数据分析"],
        ),
        ("Python、Java等", ["Python", "Java"]),
        ("数据采集和分析", ["数据采集和分析"]),
        ("软件工程及相关专业", ["软件工程及相关专业"]),
        ("", []),
        (None, []),
        ("无", ["无"]),
        (["Python", "Java、SQL", ""], ["Python", "Java", "SQL"]),
        ("Ｐｙｔｈｏｎ、大數據", ["Ｐｙｔｈｏｎ", "大數據"]),
    ],
)
def test_parse_list(raw: object, expected: list[str]) -> None:
    assert parse_list(raw) == expected


def test_parse_list_rejects_nested() -> None:
    with pytest.raises(ValueError):
        parse_list([["a"]])


T = TitleLevel


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("初级", T.JUNIOR),
        ("初级职称", T.JUNIOR),
        ("助理工程师", T.JUNIOR),
        ("员级", T.JUNIOR),
        ("中级", T.INTERMEDIATE),
        ("中级职称", T.INTERMEDIATE),
        ("中级以上", T.INTERMEDIATE),
        ("中级及以上职称", T.INTERMEDIATE),
        ("工程师", T.INTERMEDIATE),
        ("中級職稱", T.INTERMEDIATE),
        ("具有中级专业技术职称", T.INTERMEDIATE),
        ("副高", T.DEPUTY_SENIOR),
        ("副高级", T.DEPUTY_SENIOR),
        ("副高级职称", T.DEPUTY_SENIOR),
        ("高级工程师", T.DEPUTY_SENIOR),
        ("高级", T.DEPUTY_SENIOR),
        ("高级职称", T.DEPUTY_SENIOR),
        ("副教授", T.DEPUTY_SENIOR),
        ("正高", T.SENIOR),
        ("正高级", T.SENIOR),
        ("正高级工程师", T.SENIOR),
        ("教授级高工", T.SENIOR),
        ("教授", T.SENIOR),
        ("不限", None),
        ("无", None),
        ("", None),
    ],
)
def test_parse_title_level(raw: object, expected: TitleLevel | None) -> None:
    assert parse_title_level(raw) == expected


@pytest.mark.parametrize("raw", ["高级技师", "特级", "院士级"])
def test_parse_title_level_rejects(raw: object) -> None:
    with pytest.raises(ValueError, match="职称"):
        parse_title_level(raw)


S = SkillLevel


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("学徒工", S.APPRENTICE),
        ("初级工", S.GRADE5),
        ("五级", S.GRADE5),
        ("初级", S.GRADE5),
        ("中级工", S.GRADE4),
        ("四级/中级工", S.GRADE4),
        ("高级工", S.GRADE3),
        ("三级", S.GRADE3),
        ("高级工证书", S.GRADE3),
        ("职业技能等级证书（高级工）", S.GRADE3),
        ("技师", S.TECHNICIAN),
        ("二级(技师)", S.TECHNICIAN),
        ("国家职业资格二级", S.TECHNICIAN),
        ("技师及以上", S.TECHNICIAN),
        ("高级技师", S.SENIOR_TECHNICIAN),
        ("高級技師", S.SENIOR_TECHNICIAN),
        ("一级", S.SENIOR_TECHNICIAN),
        ("特级技师", S.SPECIAL_TECHNICIAN),
        ("首席技师", S.CHIEF_TECHNICIAN),
        ("不限", None),
        ("", None),
    ],
)
def test_parse_skill_level(raw: object, expected: SkillLevel | None) -> None:
    assert parse_skill_level(raw) == expected


def test_parse_skill_level_rejects() -> None:
    with pytest.raises(ValueError, match="技能等级"):
        parse_skill_level("大师")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("初级", CertGrade.JUNIOR),
        ("中级", CertGrade.INTERMEDIATE),
        ("中级证书", CertGrade.INTERMEDIATE),
        ("中级及以上", CertGrade.INTERMEDIATE),
        ("高級", CertGrade.SENIOR),
        ("专业技术等级（中级）", CertGrade.INTERMEDIATE),
        ("", None),
        ("不限", None),
    ],
)
def test_parse_cert_grade(raw: object, expected: CertGrade | None) -> None:
    assert parse_cert_grade(raw) == expected


def test_parse_cert_grade_rejects() -> None:
    with pytest.raises(ValueError, match="证书等级"):
        parse_cert_grade("特级")


def _dc(direction: str, grade: CertGrade) -> DigitalCert:
    return DigitalCert(direction=direction, grade=grade)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "数字技术工程师（大数据）中级；人工智能初级",
            [_dc("大数据", CertGrade.INTERMEDIATE), _dc("人工智能", CertGrade.JUNIOR)],
        ),
        ("數字技術工程師（大數據）中級", [_dc("大数据", CertGrade.INTERMEDIATE)]),
        ("大数据工程技术人员（中级）", [_dc("大数据", CertGrade.INTERMEDIATE)]),
        (
            "智能制造-高级、中级 人工智能",
            [_dc("智能制造", CertGrade.SENIOR), _dc("人工智能", CertGrade.INTERMEDIATE)],
        ),
        ("", []),
        (None, []),
        ([{"direction": "云计算", "grade": "初级"}], [_dc("云计算", CertGrade.JUNIOR)]),
        ("人工智能初级；人工智能初级", [_dc("人工智能", CertGrade.JUNIOR)]),
    ],
)
def test_parse_digital_certs(raw: object, expected: list[DigitalCert]) -> None:
    assert parse_digital_certs(raw) == expected


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ("数字技术工程师（大数据）", "缺少等级"),
        ("中级", "缺少方向"),
        ("大数据初级中级", "多个等级"),
    ],
)
def test_parse_digital_certs_rejects(raw: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        parse_digital_certs(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3", 3),
        (3, 3),
        (3.0, 3),
        ("3.0", 3),
        ("1,000", 1000),
        ("５", 5),
        ("五", 5),
        ("十二", 12),
        ("5人", 5),
        ("10名", 10),
        ("若干", None),
        ("", None),
        (None, None),
        ("不限", None),
    ],
)
def test_parse_int(raw: object, expected: int | None) -> None:
    assert parse_int(raw) == expected


@pytest.mark.parametrize("raw", ["3.5", 3.5, "三五个", True, "abc"])
def test_parse_int_rejects(raw: object) -> None:
    with pytest.raises(ValueError, match="整数"):
        parse_int(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (2025, 2025),
        ("2025", 2025),
        ("2025届", 2025),
        ("2025年6月", 2025),
        ("2025-06", 2025),
        (date(2024, 6, 30), 2024),
        (2025.0, 2025),
        ("", None),
    ],
)
def test_parse_year(raw: object, expected: int | None) -> None:
    assert parse_year(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-01-31", date(2026, 1, 31)),
        ("2026/1/31", date(2026, 1, 31)),
        ("2026.1.31", date(2026, 1, 31)),
        ("2026年1月31日", date(2026, 1, 31)),
        ("２０２６年１月３１日", date(2026, 1, 31)),
        ("20260131", date(2026, 1, 31)),
        ("2026-01-31 00:00:00", date(2026, 1, 31)),
        (46053, date(2026, 1, 31)),
        (46053.0, date(2026, 1, 31)),
        ("46053", date(2026, 1, 31)),
        (datetime(2026, 1, 31, 8, 30), date(2026, 1, 31)),
        (date(2026, 1, 31), date(2026, 1, 31)),
        ("长期有效", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(raw: object, expected: date | None) -> None:
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", ["2026-02-30", "明年", "31/01/2026", -5])
def test_parse_date_rejects(raw: object) -> None:
    with pytest.raises(ValueError, match="日期"):
        parse_date(raw)


def test_helpers() -> None:
    assert parse_chinese_number("二十三") == 23
    assert parse_chinese_number("十") == 10
    assert parse_chinese_number("abc") is None
    assert cell_text(3.0) == "3"
    assert cell_text(None) == ""
    assert cell_text(datetime(2026, 1, 31)) == "2026-01-31"
    assert is_blank("  ") and is_blank("—") and is_blank(None) and not is_blank("无")


def test_errors_are_chinese() -> None:
    for fn, raw in [(parse_education, "xyz"), (parse_salary, "xyz"), (parse_experience, "xyz")]:
        with pytest.raises(ValueError) as info:
            fn(raw)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in str(info.value))
