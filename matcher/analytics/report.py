"""The gap report as a self-contained HTML page (Jinja2, inline CSS, inline SVG charts).

Charts are SVG written here rather than matplotlib images: their text is rendered by the
browser in its own Chinese fonts (the servers this runs on have none), and every number on
the page — in tables and in charts — is a value of the ``GapReport`` passed in, formatted
(integers as they are, rates as percentages with one decimal). There are no axis ticks, so no
number appears that the JSON does not hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from matcher.analytics.models import GapReport, SalaryStat

TEMPLATES = Path(__file__).parent / "templates"
LABEL_CHARS = 14  # longer chart labels are cut (the full name is in the tooltip)


def pct(value: float | None) -> str:
    """A rate as shown on the page: 0.7234 -> "72.3%"; None -> "—"."""
    return "—" if value is None else f"{value * 100:.1f}%"


def _label(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


@dataclass
class Bar:
    label: str
    full: str
    y: float
    width: float  # of the value bar
    text: str  # value label
    back: float | None = None  # width of a background bar (e.g. demand behind met)
    good: bool | None = None


@dataclass
class BarChart:
    """A horizontal bar chart in SVG coordinates."""

    title: str
    bars: list[Bar]
    height: float
    width: float = 760
    left: float = 190  # label column
    plot: float = 470  # bar area
    row: float = 26
    target_x: float | None = None
    target_text: str = ""
    legend: list[tuple[str, str]] = field(default_factory=list)


def _chart(title: str, rows: list[tuple[str, float, str]], *, scale: float, row: float = 26,
           backs: list[float] | None = None, good: list[bool | None] | None = None,
           target: float | None = None, target_text: str = "", legend: list[tuple[str, str]] | None = None
           ) -> BarChart:
    chart = BarChart(title=title, bars=[], height=0, row=row, legend=legend or [])
    top = 30 if target is not None else 10
    for i, (label, value, text) in enumerate(rows):
        chart.bars.append(Bar(
            label=_label(label), full=label, y=top + i * row, width=round(chart.plot * value / scale, 1) if scale else 0,
            text=text, back=round(chart.plot * backs[i] / scale, 1) if backs and scale else None,
            good=good[i] if good else None))
    if target is not None and scale:
        chart.target_x = round(chart.left + chart.plot * target / scale, 1)
        chart.target_text = target_text
    chart.height = top + len(rows) * row + 10
    return chart


def charts(report: GapReport, limit: int = 20) -> dict[str, BarChart | None]:
    """The page's charts, each from values of the report only."""
    out: dict[str, BarChart | None] = {}
    chains = [c for c in report.chains if c.fit_rate is not None]
    chains.sort(key=lambda c: (c.fit_rate, c.key))  # type: ignore[arg-type, return-value]
    chains = chains[:limit]
    out["fit"] = _chart(
        "各产业链适配度（由低到高）", [(c.name, c.fit_rate or 0.0, pct(c.fit_rate)) for c in chains], scale=1.0,
        good=[c.meets_target for c in chains], target=report.target, target_text=f"目标 {pct(report.target)}",
        legend=[("ok", "达到目标"), ("bad", "未达目标")]) if chains else None
    by_gap = sorted(report.chains, key=lambda c: (-c.gap, -c.headcount, c.key))[:limit]
    top_head = max((c.headcount for c in by_gap), default=0)
    out["demand"] = _chart(
        "各产业链需求人数与可满足人数", [(c.name, c.met, f"{c.met} / {c.headcount}") for c in by_gap],
        scale=top_head, backs=[c.headcount for c in by_gap],
        legend=[("met", "可满足人数"), ("back", "需求人数")]) if by_gap and top_head else None
    skills = report.missing_skills[:limit]
    top_pairs = max((s.pairs for s in skills), default=0)
    out["skills"] = _chart(
        "最常欠缺的必备技能（接近合格的人岗对次数）", [(s.skill, s.pairs, str(s.pairs)) for s in skills],
        scale=top_pairs) if skills and top_pairs else None
    training = [t for t in report.training if t.talents_qualified or t.extra_met]
    top_t = max((t.talents_qualified for t in training), default=0)
    out["training"] = _chart(
        "培训方向：可新增合格人才数", [(t.direction, t.talents_qualified, str(t.talents_qualified)) for t in training],
        scale=top_t) if training and top_t else None
    return out


@dataclass
class SalaryRow:
    label: str
    full: str
    y: float
    x10: float
    x25: float
    x50: float
    x75: float
    x90: float
    stat: SalaryStat


@dataclass
class SalaryChart:
    title: str
    rows: list[SalaryRow]
    height: float
    width: float = 760
    left: float = 190
    plot: float = 470
    row: float = 30


def salary_chart(report: GapReport, limit: int = 15) -> SalaryChart | None:
    """Low (p10) to high (p90) offered salary per occupation, p25–p75 as a box, p50 as a tick."""
    stats = report.salary[:limit]
    if not stats:
        return None
    lo = min(s.p10 for s in stats)
    hi = max(s.p90 for s in stats)
    span = (hi - lo) or 1
    chart = SalaryChart(title="工资价位（元/月）：低位数—高位数，方框为 25%—75% 分位，竖线为中位数", rows=[], height=0)

    def x(v: int) -> float:
        return round(chart.left + chart.plot * (v - lo) / span, 1)

    for i, s in enumerate(stats):
        chart.rows.append(SalaryRow(label=_label(s.occupation_name), full=s.occupation_name, y=20 + i * chart.row,
                                    x10=x(s.p10), x25=x(s.p25), x50=x(s.p50), x75=x(s.p75), x90=x(s.p90), stat=s))
    chart.height = 20 + len(stats) * chart.row + 10
    return chart


def _environment() -> Environment:
    # the page is HTML: every value is escaped, whatever the template's file name
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = pct
    return env


def render_gap_html(report: GapReport, nonce: str | None = None) -> str:
    """The report as one HTML page (no external resources) in Chinese; ``nonce`` marks its inline
    style for a Content-Security-Policy that allows no other inline style."""
    template = _environment().get_template("gap_report.html.j2")
    worst = sorted((e for e in report.entries if e.gap > 0), key=lambda e: (-e.gap, -(e.shortage_level or 0), e.id))
    return template.render(r=report, charts=charts(report), salary=salary_chart(report), worst=worst[:20],
                           stars=lambda n: "★" * n if n else "—", nonce=nonce)


def write_gap_report(report: GapReport, path: Path, fmt: str = "html") -> Path:
    """Write the report as HTML or JSON (UTF-8) and return the path."""
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    text = render_gap_html(report) if fmt == "html" else report.model_dump_json(indent=2)
    path.write_text(text, encoding="utf-8")
    return path
