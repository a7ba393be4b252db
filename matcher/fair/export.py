"""Fair results out: XLSX (sheets 分配结果, 展位日程, 求职者日程, 未安排面试, 汇总, 分布统计), CSV (one file per
sheet, UTF-8 with BOM for Excel), JSON; one downloadable file; the empty workbook to fill in."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from matcher.core.errors import InvalidInput
from matcher.domain.fair import (
    REPORT_DEFINITIONS,
    FairRunResult,
)
from matcher.fair.run import booth_schedule, seeker_schedule
from matcher.ingest.safe_cells import csv_row, xlsx_write_rows


def _yes(v: bool) -> str:
    return "是" if v else "否"


ASSIGNMENT_HEADERS: list[tuple[str, Callable[[Any], Any]]] = [
    ("展位", lambda a: a.booth),
    ("开始时间", lambda a: a.start or "未排期"),
    ("结束时间", lambda a: a.end or ""),
    ("求职者ID", lambda a: a.talent_id),
    ("姓名", lambda a: a.seeker_name or ""),
    ("学校", lambda a: a.school or ""),
    ("应届", lambda a: _yes(a.fresh_graduate)),
    ("岗位ID", lambda a: a.demand_id),
    ("岗位", lambda a: a.post_title),
    ("企业", lambda a: a.enterprise or ""),
    ("产业链", lambda a: a.chain_name or a.chain_id or ""),
    ("综合匹配度", lambda a: _pct0(a.score)),
    ("求职方得分", lambda a: _pct0(a.seeker_score)),
    ("用人方得分", lambda a: _pct0(a.employer_score)),
    ("志愿序号", lambda a: a.wish_rank or ""),
    ("企业必面", lambda a: _yes(a.must_see)),
    ("匹配理由", lambda a: a.reason),
    ("未排期原因", lambda a: a.unscheduled_reason or ""),
]
BOOTH_HEADERS = ["展位", "开始时间", "结束时间", "企业", "岗位", "岗位ID", "求职者ID", "姓名", "学校", "综合匹配度"]
SEEKER_HEADERS = ["求职者ID", "姓名", "学校", "应届", "开始时间", "结束时间", "展位", "企业", "岗位", "岗位ID",
                  "综合匹配度", "匹配理由"]


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def _pct0(x: float) -> str:
    """A score as the pages show it: a whole percentage."""
    return f"{x * 100:.0f}%"


SOLVER_NAMES = {"lp": "线性规划（精确最优）", "flow": "最小费用流（精确最优）", "assignment": "指派算法",
                "deferred-acceptance": "延迟接受算法"}
UNMATCHED_HEADERS = ["求职者ID", "姓名", "学校", "应届", "面试安排", "原因"]


def unmatched_rows(result: FairRunResult) -> list[list[Any]]:
    """The 未安排面试 sheet: every registered seeker without an interview, and why."""
    return [[u.talent_id, u.name or "", u.school or "", _yes(u.fresh_graduate), "未安排面试", u.reason]
            for u in result.report.unmatched]


def summary_rows(result: FairRunResult) -> list[list[Any]]:
    """The 汇总 sheet: metric, value, definition."""
    r = result.report
    mode = "最优（总匹配度最大）" if r.mode == "optimal" else "稳定（延迟接受）"
    d = REPORT_DEFINITIONS
    rows: list[list[Any]] = [
        ["活动", result.fair_name, f"活动编号 {result.fair_id}；匹配结果编号 {result.run_id or '未保存'}"],
        ["模式", mode, d["最优模式"] if r.mode == "optimal" else d["稳定模式"]],
        ["求解方法", SOLVER_NAMES.get(r.solver, r.solver), ""],
        ["最低匹配度", _pct0(r.min_score), d["低于门槛"]],
        ["报名求职者", r.seekers, ""],
        ["岗位", r.posts, ""],
        ["岗位面试名额合计", r.capacity, ""],
        ["展位时段合计", r.booth_slots, ""],
        ["候选组合", r.candidate_pairs, d["候选组合"]],
        ["已评分组合", r.scored_pairs, ""],
        ["不合格组合", r.ineligible_pairs, d["不合格组合"]],
        ["低于门槛的组合", r.below_min_pairs, d["低于门槛"]],
        ["面试场数", r.interviews, ""],
        ["总匹配度", round(r.total_fit, 2), d["总匹配度"]],
        ["平均匹配度", _pct0(r.mean_fit), d["平均匹配度"]],
        ["获得面试的求职者", r.seekers_with_interview, ""],
        ["未安排面试的求职者", r.seekers - r.seekers_with_interview, "名单与原因见“未安排面试”表"],
        ["获得面试的求职者占比", _pct(r.seeker_share), d["获得面试的求职者占比"]],
        ["面试名额填充率", _pct(r.capacity_fill), d["面试名额填充率"]],
        ["已排期面试", r.scheduled, ""],
        ["未排期面试", r.unscheduled, "见分配结果表“未排期原因”列"],
        ["展位时段占用率", _pct(r.slot_fill), d["展位时段占用率"]],
        ["稳定性：双方都更愿意彼此的组合", r.blocking_pairs, d["稳定性"]],
        ["最优模式总匹配度", round(r.optimal_total, 2),
         f"面试 {r.optimal_interviews} 场，双方都更愿意彼此的组合 {r.optimal_blocking_pairs} 对"],
        ["稳定模式总匹配度", round(r.stable_total, 2),
         f"面试 {r.stable_interviews} 场，双方都更愿意彼此的组合 {r.stable_blocking_pairs} 对"],
        ["总匹配度差距（最优 − 稳定）", round(r.welfare_gap, 2), d["总匹配度差距"]],
        ["总匹配度差距占比", _pct(r.welfare_gap_share), ""],
        ["企业必面组合", r.must_see_pairs, f"已安排 {r.must_see_met} 个"],
        ["填写志愿的求职者", r.seekers_with_wishes, f"第一志愿获得面试 {r.first_wish_met} 人"],
    ]
    rows += [["提示", w, ""] for w in r.warnings]
    if "total" in r.timings:
        rows.append(["计算用时", f"{r.timings['total']:.1f} 秒", ""])
    return rows


def distribution_rows(result: FairRunResult) -> list[list[Any]]:
    r = result.report
    out: list[list[Any]] = []
    for label, groups in (("产业链", r.by_chain), ("学校", r.by_school), ("应届状态", r.by_fresh)):
        for g in groups:
            if label == "产业链":  # a post attribute: registered seekers do not belong to a chain
                out.append([label, g.group, "", g.seekers_with_interview, g.interviews, ""])
            else:
                out.append([label, g.group, g.seekers, g.seekers_with_interview, g.interviews, _pct(g.share)])
    return out


DISTRIBUTION_HEADERS = ["分组方式", "分组", "报名求职者", "获得面试的求职者", "面试场数", "获得面试占比"]


def _sheets(result: FairRunResult) -> list[tuple[str, list[str], list[list[Any]]]]:
    col = dict(ASSIGNMENT_HEADERS)
    by_booth = booth_schedule(result)
    return [
        ("分配结果", [h for h, _ in ASSIGNMENT_HEADERS], [[f(a) for _, f in ASSIGNMENT_HEADERS] for a in by_booth]),
        ("展位日程", BOOTH_HEADERS, [[col[h](a) for h in BOOTH_HEADERS] for a in by_booth]),
        ("求职者日程", SEEKER_HEADERS, [[col[h](a) for h in SEEKER_HEADERS] for a in seeker_schedule(result)]),
        ("未安排面试", UNMATCHED_HEADERS, unmatched_rows(result)),
        ("汇总", ["指标", "数值", "说明"], summary_rows(result)),
        ("分布统计", DISTRIBUTION_HEADERS, distribution_rows(result)),
    ]


_WIDTHS = {"匹配理由": 60, "未排期原因": 30, "原因": 60, "说明": 70, "岗位": 22, "企业": 26, "学校": 20, "数值": 24,
           "指标": 22, "分组": 24}


def _xlsx_bytes(result: FairRunResult) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, headers, rows in _sheets(result):
        ws = wb.create_sheet(title)
        ws.freeze_panes = "A2"
        for i, h in enumerate(headers, start=1):
            ws.column_dimensions[get_column_letter(i)].width = _WIDTHS.get(h, 12)
        # names, schools and titles are typed by users: text cells are never written as formulas
        xlsx_write_rows(ws, [headers], font=bold)
        xlsx_write_rows(ws, rows)
    wb.properties.creator = "talentmatch"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _csv_bytes(headers: list[str], rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(csv_row(headers))
    w.writerows(csv_row(r) for r in rows)  # risky text gets a leading ' (formula injection)
    return buf.getvalue().encode("utf-8-sig")


def _json_bytes(result: FairRunResult) -> bytes:
    doc = result.model_dump(mode="json")
    doc["definitions"] = REPORT_DEFINITIONS
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")


ExportFormat = Literal["xlsx", "csv", "json"]


def export_result(result: FairRunResult, fmt: ExportFormat) -> dict[str, bytes]:
    """The files of a result: file-name suffix → content. XLSX and JSON are one file (suffix
    ""); CSV is one file per sheet: "" for 分配结果, "_展位日程", "_求职者日程", "_未安排面试", "_汇总",
    "_分布统计"."""
    if fmt == "xlsx":
        return {"": _xlsx_bytes(result)}
    if fmt == "json":
        return {"": _json_bytes(result)}
    if fmt == "csv":
        return {("" if n == 0 else f"_{title}"): _csv_bytes(headers, rows)
                for n, (title, headers, rows) in enumerate(_sheets(result))}
    raise InvalidInput(f"不支持的导出格式：{fmt}（应为 xlsx、csv 或 json）")


def write_result(result: FairRunResult, out: Path, fmt: ExportFormat | None = None) -> list[Path]:
    """Write a result to ``out`` (format from the suffix unless given); returns the files written.
    CSV writes ``out`` (分配结果) and ``<stem>_展位日程.csv`` etc. beside it."""
    out = Path(out)
    fmt = fmt or out.suffix.lower().lstrip(".")  # type: ignore[assignment]
    if fmt not in ("xlsx", "csv", "json"):
        raise InvalidInput(f"无法从文件名“{out.name}”判断导出格式：请用 .xlsx、.csv 或 .json")
    out.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix, data in export_result(result, fmt).items():  # type: ignore[arg-type]
        path = out if not suffix else out.with_name(f"{out.stem}{suffix}{out.suffix}")
        path.write_bytes(data)
        written.append(path)
    return written


# =============================================================================================
# template
# =============================================================================================


MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "csv": "application/zip", "json": "application/json"}


def export_download(result: FairRunResult, fmt: ExportFormat, stem: str) -> tuple[bytes, str, str]:
    """One downloadable file of a result: (content, media type, file name). CSV's several
    files come zipped."""
    import io

    files = export_result(result, fmt)
    if fmt == "csv":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for suffix, data in files.items():
                z.writestr(f"{stem}{suffix}.csv", data)
        return buf.getvalue(), MEDIA_TYPES["csv"], f"{stem}-csv.zip"
    return files[""], MEDIA_TYPES[fmt], f"{stem}.{fmt}"


def template_workbook() -> bytes:
    """An empty fair workbook with the sheets and headers an organiser fills in, and an example row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "活动"
    xlsx_write_rows(ws, (["项目", "值"], ["活动名称", "2026年淄博市数字人才对接活动"], ["日期", "2026-06-18"],
                         ["地点", "淄博市人力资源市场"], ["开始时间", "09:00"], ["每场时长（分钟）", 20],
                         ["每展位时段数", 12], ["每人面试上限", 3], ["每岗位面试名额", 5]))
    sheets = {
        "岗位": (["编号", "需求ID", "企业名称", "岗位名称", "学历要求", "专业要求", "技能", "工作地点", "薪酬待遇",
                 "面试名额", "展位"],
                [["F-P-001", "", "淄博示例科技有限公司", "大数据开发工程师", "本科", "计算机科学与技术", "Python、Spark",
                  "淄博市", "8000-12000元/月", 5, "A01"]]),
        "求职者": (["编号", "人才ID", "姓名", "学历", "专业", "毕业院校", "是否应届", "技能", "现居住地", "面试上限"],
                  [["F-T-001", "", "张三", "本科", "计算机科学与技术", "山东理工大学", "是", "Python、SQL", "淄博市", 3]]),
        "意向": (["求职者", "岗位", "企业", "类型", "顺序"], [["F-T-001", "F-P-001", "", "志愿", 1]]),
        "时段": (["展位", "开始时间", "结束时间"], [["A01", "09:00", "09:20"]]),
    }
    for title, (headers, rows) in sheets.items():
        ws = wb.create_sheet(title)
        xlsx_write_rows(ws, [headers], font=Font(bold=True))
        xlsx_write_rows(ws, rows)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
