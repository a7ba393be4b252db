"""Fair files: import a fair from a workbook or a set of files, export a run's result.

**Import.** A fair is an XLSX workbook with sheets, or a folder (or an explicit set) of CSV,
XLSX or JSONL files, one per table:

| table | sheet / file names | columns |
|---|---|---|
| ``posts`` (required) | 岗位, 招聘岗位, posts | 需求ID (a stored demand entry), or 编号 (external id; stored → reused), or the columns of a new post as in ``talentmatch import demands`` (岗位名称, 企业名称, 学历要求 …); 面试名额, 展位 |
| ``seekers`` (required) | 求职者, 报名人员, seekers | 人才ID, or 编号, or the columns of a new profile as in ``talentmatch import talents`` (姓名, 学历, 毕业院校 …); 面试上限 |
| ``wishes`` | 意向, 志愿, wishes | 求职者 (编号, 人才ID or 姓名), 岗位 (编号, 需求ID or 岗位名称), 企业, 类型 (志愿 / 必面 / 排除), 顺序 |
| ``slots`` | 时段, 面试时段, slots | 展位 (empty = every booth), 开始时间, 结束时间 (or 时段 ``09:00-09:20``) |
| ``fair`` | 活动, 活动信息, fair | two columns 项目 / 值: 活动名称, 日期, 地点, 开始时间, 每场时长（分钟）, 每展位时段数, 每人面试上限, 每岗位面试名额 |

Record columns are read exactly as by the core importer (same header aliases, value parsers
and Chinese reasons); a mapping file maps each table's headers as the core mapping does::

    {"posts": {"columns": {"展台": "booth", "岗位": "title"}, "defaults": {"capacity": 3}},
     "seekers": {"sheet": "报名表", "ignore": ["备注"]}}

Every bad cell becomes a row error with the sheet, row, field and reason; the file is read
completely before anything is reported, and nothing is written unless it is all valid.

**Export.** A run's result as XLSX (sheets 分配结果, 展位日程, 求职者日程, 汇总, 分布统计), as
CSV (one file per sheet, UTF-8 with BOM for Excel) or as one JSON document.

Modules: ``workbook`` (tables, mapping, sources, raw rows), ``sheets`` (column plan, cells,
``read_fair``) and ``export`` (results, template); this module is their public front and creates
a fair from a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from matcher.core.errors import ImportRejected, RowError, TalentMatchError
from matcher.domain.fair import FairCreate, FairDetail
from matcher.fair.create import create_fair
from matcher.fair.export import (
    ExportFormat,
    export_download,
    export_result,
    template_workbook,
    write_result,
)
from matcher.fair.sheets import FairFile, read_fair
from matcher.fair.workbook import TABLES, FairMapping, load_fair_mapping
from matcher.ingest.messages import quoted_names, shorten_errors
from matcher.ingest.table_reader import ReadLimits

if TYPE_CHECKING:  # pragma: no cover
    from matcher.domain.auth import Principal
    from matcher.domain.fair import Progress
    from matcher.service import MatchService

__all__ = [
    "TABLES",
    "ExportFormat",
    "FairFile",
    "FairMapping",
    "export_download",
    "export_result",
    "import_fair_file",
    "load_fair_mapping",
    "read_fair",
    "template_workbook",
    "write_result",
]


def merge_reference_errors(service: MatchService, partial: FairCreate, errors: list[RowError],
                           actor: Principal | None) -> list[RowError]:
    """The reading errors plus what checking the references of the rows that parsed finds
    (unknown ids, wishes naming no one). A wish or a booth that names a row which itself failed
    to parse is not reported twice: such "not found" findings are left out."""
    from matcher.fair.create import fair_repo
    from matcher.fair.resolve import Errors, resolve_fair
    from matcher.storage.records import external_scope

    found = Errors()
    try:
        resolve_fair(service, fair_repo(service), partial, external_scope(actor), found, [])
    except TalentMatchError:
        return errors
    failed_sheets = {e.sheet for e in errors}
    seen = {(e.sheet, e.row, e.field, e.reason) for e in errors}
    extra = [e for e in found.items
             if (e.sheet, e.row, e.field, e.reason) not in seen
             and not (failed_sheets and (e.reason.startswith(("找不到", "本次活动中没有")) or "对应" in e.reason))]
    both = [*errors, *extra]
    order = {sheet: n for n, sheet in enumerate(dict.fromkeys(getattr(e, "sheet", "") for e in both))}
    return shorten_errors(sorted(both, key=lambda e: (order[getattr(e, "sheet", "")], e.row)))


def import_fair_file(service: MatchService, source: Path | None = None, *, files: dict[str, Path] | None = None,
                     mapping: FairMapping | None = None, name: str | None = None,
                     progress: Progress | None = None, actor: Principal | None = None) -> FairDetail:
    """Read a fair file and create the fair (all or nothing); see ``read_fair`` and
    ``matcher.fair.engine.create_fair``."""
    try:
        ff = read_fair(source, files=files, mapping=mapping, name=name,
                       limits=ReadLimits.from_settings(getattr(service, "settings", None)))
    except ImportRejected as exc:
        partial = getattr(exc, "partial", None)
        if partial is not None:  # the references of the rows that parsed: every problem at once
            exc.errors = merge_reference_errors(service, partial, exc.errors, actor)
        raise
    try:
        detail = create_fair(service, ff.fair, progress, actor=actor)
    except ImportRejected as exc:  # references that did not resolve: quote their values short
        shorten_errors(exc.errors)
        raise
    if ff.unused:
        detail.warnings.append("未使用的工作表或文件：" + quoted_names(ff.unused, 10, "个"))
    return detail

