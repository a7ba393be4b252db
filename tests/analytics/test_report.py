"""The HTML gap report: self-contained, in Chinese, every number on the page from the JSON."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from matcher.analytics.gap import GapQuery, GapReport, gap_report
from matcher.analytics.report import charts, pct, render_gap_html, write_gap_report
from matcher.core.settings import Settings
from matcher.wiring import build_service
from tests.analytics.test_analytics import BIGDATA, add_catalogue, zibo  # noqa: F401 - the fixture
from tests.conftest import demand, talent
from tests.conftest import run_cli as _run

NUMBER = re.compile(r"\d+(?:\.\d+)?")


class _Text(HTMLParser):
    """The text a reader sees (SVG labels included), without styles, scripts and attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    p = _Text()
    p.feed(html)
    return " ".join(p.parts)


def numbers_from_json(report: GapReport) -> set[str]:
    """Every number the JSON holds (in values and inside strings), plus each rate as a percentage."""
    text = report.model_dump_json()
    allowed = set(NUMBER.findall(text))

    def walk(v):
        if isinstance(v, float) and 0 <= v <= 1:
            allowed.add(f"{v * 100:.1f}")
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(json.loads(text))
    return allowed


@pytest.fixture
def report(service, zibo) -> GapReport:  # noqa: F811
    # a near miss too, so the skills and training sections have rows
    add_catalogue(service, "淄博市", 2025, [
        demand(title="数据仓库工程师", enterprise_name=None, occupation_code=BIGDATA, chain_id="zb-data",
               required_skills=["Python", "Hive", "Kafka"], headcount=2, salary_min=9000, salary_max=13000)],
        name="淄博市2025年目录（补充）")
    return gap_report(service, GapQuery(region="淄博市", year=2025, threshold=0.0))


def test_every_number_on_the_page_comes_from_the_json(report):
    html = render_gap_html(report)
    text = visible_text(html)
    allowed = numbers_from_json(report)
    shown = NUMBER.findall(text)
    assert shown, "the page shows numbers"
    stray = sorted({n for n in shown if n not in allowed})
    assert stray == [], f"numbers not in the JSON: {stray}"


def test_page_states_the_definition_next_to_the_rate(report):
    html = render_gap_html(report)
    text = visible_text(html)
    assert report.definitions["fit_rate"] in text
    assert "适配度 = 可满足人数 ÷ 需求人数（合格阈值 0）" in text
    assert pct(report.overall.fit_rate) in text and "目标 85.0%" in text and "未达标" in text
    # the definition sits in the overview, right under the number
    overview = html[html.index('id="overview"'):html.index('id="chains"')]
    assert pct(report.overall.fit_rate) in overview and report.definitions["fit_rate"] in overview
    for title in ("分产业链", "分职业", "欠缺技能与培训方向", "工资价位", "缺口最大的岗位", "口径与方法"):
        assert title in text


def test_page_is_self_contained(report):
    html = render_gap_html(report)
    assert html.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "<script" not in html and "<link" not in html
    assert html.count("<svg") == sum(1 for c in charts(report).values() if c) + (1 if report.salary else 0)


def test_charts_use_report_values(report):
    c = charts(report)
    fit = c["fit"]
    assert fit is not None and fit.target_text == "目标 85.0%"
    assert [b.text for b in fit.bars] == sorted((pct(g.fit_rate) for g in report.chains),
                                                key=lambda t: float(t.rstrip("%")))
    demand_chart = c["demand"]
    assert [b.text for b in demand_chart.bars] == [f"{g.met} / {g.headcount}" for g in
                                                    sorted(report.chains, key=lambda g: (-g.gap, -g.headcount, g.key))]


def test_empty_report_renders(service):
    r = gap_report(service, GapQuery(region="青岛市", year=2025, demand="posts"))
    html = render_gap_html(r)
    assert "所有岗位的需求都能满足" in html and "需求条目都没有给出薪酬" in html
    assert html.count("<svg") == 0


def test_write_json_and_html(report, tmp_path):
    p = write_gap_report(report, tmp_path / "out" / "r.json", fmt="json")
    assert GapReport.model_validate_json(p.read_text(encoding="utf-8")) == report
    h = write_gap_report(report, tmp_path / "r.html")
    assert h.read_text(encoding="utf-8") == render_gap_html(report)


def test_cli_report_gap_and_salary(tmp_path, monkeypatch, capsys, fake_encoder):
    settings = Settings(data_dir=tmp_path / "var", encoder="fake")
    svc = build_service(settings, encoder=fake_encoder)
    add_catalogue(svc, "淄博市", 2025, [
        demand(title="大数据开发工程师", enterprise_name=None, occupation_code=BIGDATA, headcount=2,
               salary_min=8000, salary_max=12000)])
    svc.add("talent", [talent(name="甲"), talent(name="乙", city="青岛")])
    svc.close()
    monkeypatch.setenv("TALENTMATCH_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TALENTMATCH_ENCODER", "fake")
    code, out, err = _run(monkeypatch, capsys, "report", "gap", "--region", "淄博市", "--year", "2025",
                          "--threshold", "0", "--out", str(tmp_path / "r.html"))
    assert code == 0, err
    assert "适配度 50.0%" in out and "需求 2 人，可满足 1 人，缺口 1 人" in out
    assert "适配度" in (tmp_path / "r.html").read_text(encoding="utf-8")
    code, out, err = _run(monkeypatch, capsys, "report", "gap", "--region", "淄博市", "--year", "2025",
                          "--threshold", "0", "--format", "json", "--out", "-")  # - : to standard output
    assert code == 0, err
    data = json.loads(out)
    assert (data["overall"]["headcount"], data["overall"]["met"], data["overall"]["fit_rate"]) == (2, 1, 0.5)
    code, out, err = _run(monkeypatch, capsys, "report", "salary", "--region", "淄博市", "--year", "2025",
                          "--format", "json")
    assert code == 0, err
    assert json.loads(out)["occupations"][0]["p50"] == 10000
    code, out, err = _run(monkeypatch, capsys, "report", "gap", "--region", "淄博市", "--year", "2030")
    assert code == 2 and "没有 2030 年的急需紧缺人才目录" in err and "Traceback" not in err
    code, out, err = _run(monkeypatch, capsys, "report", "gap", "--region", "火星", "--year", "2025")
    assert code == 2 and "未知地区" in err
