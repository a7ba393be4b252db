"""Labelled query files: parsing and validation against the taxonomy and the store."""


from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from matcher.core.errors import ImportRejected, InvalidInput, RowError, TalentMatchError
from matcher.core.textnorm import normalize_text
from matcher.domain.schemas import DemandEntry, TalentProfile
from matcher.evaluation.metrics import MAX_QUERIES, Task
from matcher.ingest.messages import zh_reason
from matcher.ingest.parsing import read_utf8
from matcher.reference.occupations import CODE_RE, Taxonomy


class EvalQuery(BaseModel):
    """One labelled query of an evaluation file."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str | None = Field(default=None, max_length=100)
    query: str | None = Field(default=None, max_length=20_000, validation_alias=AliasChoices("query", "text"))
    profile: TalentProfile | None = None
    entry: DemandEntry | None = None
    side: Literal["demands", "talents"] | None = None
    gold: list[str | int] = Field(default_factory=list, max_length=1000)
    gold_occupations: list[str] = Field(default_factory=list, max_length=1000)
    type: str | None = Field(default=None, max_length=50)
    meta: dict[str, Any] = Field(default_factory=dict)
    _line: int = PrivateAttr(default=0)

    @property
    def line(self) -> int:
        """Line number in the file it was read from (1-based; 0 if not read from a file)."""
        return self._line

    def target_side(self) -> Literal["demands", "talents"]:
        """The side searched: an entry looks for talents, a profile for demands, text as asked."""
        if self.entry is not None:
            return "talents"
        if self.profile is not None:
            return "demands"
        return self.side or "demands"

    def gold_keys(self) -> list[str]:
        """Gold items as candidate keys (``id:N``) and occupation codes, without duplicates."""
        items = [f"id:{g}" if isinstance(g, int) else g for g in self.gold] + list(self.gold_occupations)
        return list(dict.fromkeys(items))


@dataclass
class EvalFileInvalid(ImportRejected):
    """An evaluation file has bad lines; nothing was evaluated."""

    title = "评测文件无效"

    def __post_init__(self) -> None:
        TalentMatchError.__init__(self, f"评测文件中有 {len(self.errors)} 处错误，未进行评测")


def _shown(line: str) -> str:
    return line if len(line) <= 60 else line[:57] + "…"


def parse_eval_lines(text: str) -> tuple[list[EvalQuery], list[RowError]]:
    """Evaluation queries of JSON Lines text (blank lines skipped) and the errors of bad lines."""
    queries: list[EvalQuery] = []
    errors: list[RowError] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        if len(queries) + len(errors) >= MAX_QUERIES:
            raise InvalidInput(f"评测文件超过 {MAX_QUERIES} 条查询，请拆分后再评测")
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(RowError(number, "整行", f"JSON 格式错误（第 {exc.colno} 列）", _shown(line)))
            continue
        if not isinstance(obj, dict):
            errors.append(RowError(number, "整行", "每行应为一个 JSON 对象", _shown(line)))
            continue
        try:
            q = EvalQuery.model_validate(obj)
        except ValidationError as exc:
            for e in exc.errors():
                where = ".".join(str(p) for p in e.get("loc", ())) or "整行"
                errors.append(RowError(number, where, zh_reason(dict(e))))
            continue
        q._line = number
        queries.append(q)
    return queries, errors


def read_eval_file(path: Path) -> tuple[list[EvalQuery], list[RowError]]:
    """Parse an evaluation file (UTF-8 JSON Lines); see :func:`parse_eval_lines`."""
    return parse_eval_lines(read_utf8(path, "评测文件"))


def _known_code(code: str, taxonomy: Taxonomy) -> bool:
    occ = taxonomy.by_code.get(code)
    # a 小类, 中类 or 大类 code (ending -00) stands for any occupation under it
    return occ is not None and (occ.level == 4 or code.endswith("-00"))


def _code_errors(line: int, field: str, codes: Sequence[Any], taxonomy: Taxonomy) -> list[RowError]:
    out = []
    for c in codes:
        if not isinstance(c, str) or not CODE_RE.match(c):
            out.append(RowError(line, field, "职业编码格式应如 2-02-10-03（小类如 2-02-10-00）", str(c)))
        elif not _known_code(c, taxonomy):
            out.append(RowError(line, field, "未知职业编码（应为 CSCO 2022 细类、小类、中类或大类编码）", c))
    return out


def _query_errors(q: EvalQuery, task: Task, taxonomy: Taxonomy) -> list[RowError]:
    n = q.line
    errs: list[RowError] = []
    given = [name for name in ("query", "profile", "entry") if getattr(q, name) is not None]
    if task == "occupations":
        if given != ["query"]:
            errs.append(RowError(n, "query", "职业编码评测每行需要一个 query（自由文本），不能给 profile 或 entry"))
        elif not normalize_text(q.query or ""):
            errs.append(RowError(n, "query", "查询文本不能为空"))
        if q.gold_occupations:
            errs.append(RowError(n, "gold_occupations", "职业编码评测请把标准编码写在 gold 中"))
        if not q.gold:
            errs.append(RowError(n, "gold", "缺少标准答案（gold：CSCO 2022 职业编码列表）"))
        errs += _code_errors(n, "gold", q.gold, taxonomy)
        return errs
    if len(given) != 1:
        errs.append(RowError(n, "query", "请只提供 query、profile、entry 中的一项"))
    elif q.query is not None and not normalize_text(q.query):
        errs.append(RowError(n, "query", "查询文本不能为空"))
    if q.profile is not None and q.side == "talents":
        errs.append(RowError(n, "side", "人才档案（profile）只能检索岗位（side 应为 demands）"))
    if q.entry is not None and q.side == "demands":
        errs.append(RowError(n, "side", "需求条目（entry）只能检索人才（side 应为 talents）"))
    if not q.gold and not q.gold_occupations:
        errs.append(RowError(n, "gold", "缺少标准答案（gold：记录编号；或 gold_occupations：职业编码）"))
    for g in q.gold:
        if isinstance(g, bool) or not isinstance(g, int) or g < 1:
            errs.append(RowError(n, "gold", "匹配评测的 gold 应为正整数记录编号", str(g)))
    errs += _code_errors(n, "gold_occupations", q.gold_occupations, taxonomy)
    return errs


def validate_queries(queries: Sequence[EvalQuery], task: Task, *, taxonomy: Taxonomy,
                     store: Any | None = None, errors: Sequence[RowError] = ()) -> None:
    """Raise :class:`EvalFileInvalid` listing every problem (with the parser's ``errors``):
    missing or malformed gold, unknown occupation codes, ids not in ``store``, repeated ids."""
    all_errors = list(errors)
    seen: dict[str, int] = {}
    for q in queries:
        all_errors += _query_errors(q, task, taxonomy)
        if q.id is not None:
            if q.id in seen:
                all_errors.append(RowError(q.line, "id", f"查询编号与第 {seen[q.id]} 行重复", q.id))
            seen.setdefault(q.id, q.line)
    if task == "match" and store is not None:
        for side in ("demands", "talents"):
            kind = "demand" if side == "demands" else "talent"
            wanted = [q for q in queries if q.target_side() == side]
            ids = sorted({g for q in wanted for g in q.gold if isinstance(g, int) and not isinstance(g, bool)})
            known = set(store.texts(kind, ids)) if ids else set()
            label = "需求条目" if kind == "demand" else "人才档案"
            for q in wanted:
                for g in q.gold:
                    if isinstance(g, int) and not isinstance(g, bool) and g >= 1 and g not in known:
                        all_errors.append(RowError(q.line, "gold", f"编号 {g} 的{label}不存在", str(g)))
    if all_errors:
        all_errors.sort(key=lambda e: e.row)
        raise EvalFileInvalid(all_errors)
    if not queries:
        raise InvalidInput("评测文件中没有查询")
