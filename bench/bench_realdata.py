#!/usr/bin/env python
"""Issue 16 before/after on real-looking input: a city catalogue, short and stated free-text
queries, ambiguous skill words and major requirements.

A measurement script, not a test. It measures whatever ``matcher`` is on PYTHONPATH with that
checkout's own ``data/`` (so ``PYTHONPATH=/path/to/old/checkout python bench/bench_realdata.py
--label before`` measures the old code), always on this checkout's input files:

- ``data/eval/catalogue_realstyle.csv`` — a 20-row catalogue written by hand in the style of a
  city catalogue (a title row, 年薪均值（万元）, 岗位职责/任职要求, merged enterprise and chain
  cells, a 备注 row), with what each row says in ``catalogue_realstyle.truth.jsonl``;
- ``data/eval/requirement_skills_sample.jsonl`` — 40 hand-written requirement texts;
- a pool of 8 hand-written talent profiles and 4 posts for free-text queries (e5 encoder);
- 20 hand-labelled (major, requirement, covered?) pairs.

Writes ``bench/results/realdata-<label>.json`` and ``.md``.

    python bench/bench_realdata.py --label after
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
HERE = Path(__file__).resolve().parent.parent  # this checkout: the input files
CATALOGUE = HERE / "data" / "eval" / "catalogue_realstyle.csv"
TRUTH = HERE / "data" / "eval" / "catalogue_realstyle.truth.jsonl"
SKILLS = HERE / "data" / "eval" / "requirement_skills_sample.jsonl"

MAJOR_PAIRS = [  # (major, requirement, covered?)
    ("机械设计制造及其自动化", "机械类", True), ("材料成型及控制工程", "机械类", True),
    ("车辆工程", "机械类", True), ("机器人工程", "自动化类", True), ("电气自动化技术", "自动化类", True),
    ("工业机器人技术", "自动化类", True), ("软件工程", "计算机相关专业", True),
    ("数据科学与大数据技术", "计算机相关专业", True), ("网络工程", "计算机类", True),
    ("计算机应用技术", "计算机相关专业", True), ("制药工程", "化工相关专业", True),
    ("药物制剂", "药学类", True), ("会计学", "计算机相关专业", False), ("电子商务", "电子信息类", False),
    ("机械电子工程", "自动化类", False), ("计算数学", "计算机类", False), ("自动化", "计算机类", False),
    ("工商管理", "工业工程类", False), ("市场营销", "机械类", False), ("汉语言文学", "自动化类", False),
]
POOL = [
    ("王会计", "本科", "会计学", ["用友", "金蝶"], "5年制造业企业会计工作经验，负责总账、成本核算与纳税申报，持中级会计师证。", False),
    ("李出纳", "大专", "财务管理", ["Excel高级应用"], "2年出纳工作经验，负责现金与银行日记账。", False),
    ("张开发", "本科", "计算机科学与技术", ["Java", "Spring Boot"], "3年Java后端开发经验，熟悉Spring Boot与微服务。", False),
    ("赵焊工", "高中/中专", "焊接技术与自动化", [], "持焊工证，8年压力容器焊接经验。", False),
    ("钱销售", "大专", "市场营销", ["CRM"], "4年白酒销售业务经验，负责区域客户开发。", False),
    ("孙护士", "大专", "护理", [], "3年三甲医院护理工作经验，持护士执业证书。", False),
    ("郑同学", "大专", "计算机应用技术", ["Python"], "2026届大专应届毕业生，会Python编程。", True),
    ("冯同学", "硕士", "计算机技术", ["Python"], "2026届应届硕士研究生，研究方向机器学习，会Python编程。", True),
]


def catalogue(ref_dir: Path) -> dict[str, Any]:
    """Read the catalogue as an administrator would (no mapping), then import it twice into a
    fresh store with --region 济宁市 (fake encoder: the text features do not matter here)."""
    from matcher.ingest.fields import Mapping
    from matcher.ingest.importer import read_records

    truth = {t["row"]: t for t in map(json.loads, TRUTH.read_text(encoding="utf-8").splitlines())}
    out: dict[str, Any] = {"rows": len(truth)}
    mapping = Mapping(columns={"年薪均值（万元）": "salary", "岗位职责/任职要求": "description"})
    for name, mp in (("no_mapping", None), ("two_line_mapping", mapping)):
        result = read_records(CATALOGUE, "catalogue", mp)
        got = {n: m for n, m in result.records}

        def share(check, got=got) -> float:
            return round(sum(1 for n, t in truth.items() if n in got and check(got[n], t)) / len(truth), 3)
        out[name] = {
            "read_errors": len(result.errors), "error_fields": sorted({e.field for e in result.errors})[:10],
            "rows_read": len(got),
            "salary_right": share(lambda m, t: m.salary_min == t["salary_monthly"]),
            "salary_read_x12": sum(1 for n, t in truth.items() if n in got and got[n].salary_min
                                   and got[n].salary_min > 3 * t["salary_monthly"]),
            "enterprise_right": share(lambda m, t: m.enterprise_name == t["enterprise_name"]),
            "chain_right": share(lambda m, t: m.chain_id == t["chain"]),
            "experience_right": share(lambda m, t: m.min_experience_years == (t["min_experience_years"] or 0)),
            "education_right": share(lambda m, t: (m.education.value if m.education else None) == t["education"]),
        }
    # the service side: region as city, chains, importing again
    from matcher.core.settings import Settings
    from matcher.domain.schemas import Catalogue
    from matcher.wiring import build_service

    with tempfile.TemporaryDirectory() as tmp:
        svc = build_service(Settings(data_dir=Path(tmp), reference_dir=ref_dir, encoder="fake"))
        params = inspect.signature(svc.import_rows).parameters
        cat = Catalogue(region="济宁市", year=2026)
        records = list(result.records)
        kwargs = {"create_chains": True} if "create_chains" in params else {}
        try:
            report = svc.import_rows("catalogue", records, [], catalogue=cat, **kwargs)
            out["imported"] = len(report["ids"])
            out["chains_created"] = len(report.get("created_chains", []))
        except Exception as exc:  # noqa: BLE001 - measured, not handled
            out["imported"] = 0
            out["import_refused"] = type(exc).__name__ + ": " + str(getattr(exc, "detail", exc))[:120]
            # without its chains registered: import without the chain column
            records = [(n, m.model_copy(update={"chain_id": None})) for n, m in records]
            report = svc.import_rows("catalogue", records, [], catalogue=cat)
            out["imported_without_chains"] = len(report["ids"])
        entries = svc.store.list("demand", limit=1000)[0]
        out["entries_with_city"] = sum(1 for e in entries if e.city)
        try:
            svc.import_rows("catalogue", records, [], catalogue=Catalogue(region="济宁市", year=2026, name="再次导入"))
            out["second_import"] = "accepted"
        except Exception as exc:  # noqa: BLE001
            out["second_import"] = "refused: " + type(exc).__name__
        out["entries_after_second_import"] = svc.store.count("demand")
        svc.close()
    return out


def skills(ref_dir: Path) -> dict[str, Any]:
    from matcher.reference.skills import SkillVocab, requirement_skills

    vocab = SkillVocab(json.loads((ref_dir / "skills.json").read_text(encoding="utf-8")))
    tp = npred = ngold = 0
    wrong: dict[str, int] = {}
    for line in SKILLS.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        req, pref = requirement_skills(vocab, item["text"])
        pred, gold = set(req) | set(pref), set(item["gold"])
        tp, npred, ngold = tp + len(pred & gold), npred + len(pred), ngold + len(gold)
        for s in pred - gold:
            wrong[s] = wrong.get(s, 0) + 1
    return {"texts": 40, "precision": round(tp / npred, 3), "recall": round(tp / ngold, 3),
            "false_positives": dict(sorted(wrong.items(), key=lambda kv: -kv[1]))}


def majors() -> dict[str, Any]:
    from matcher.ranking import features as F

    tax = None
    try:
        from matcher.core.settings import PROJECT_ROOT
        from matcher.reference.majors import load_majors
        tax = load_majors(PROJECT_ROOT / "data" / "majors.json")
    except ImportError:
        pass
    right = []
    for major, wanted, covered in MAJOR_PAIRS:
        fit = F.major_fit(major, [wanted], tax) if tax is not None else F.major_fit(major, [wanted])
        right.append((fit >= 0.99) == covered)
    return {"pairs": len(MAJOR_PAIRS), "accuracy": round(sum(right) / len(right), 3),
            "wrong": [f"{m} / {w}" for (m, w, _), ok in zip(MAJOR_PAIRS, right, strict=True) if not ok]}


def free_text(ref_dir: Path) -> dict[str, Any]:
    from matcher.core.settings import Settings
    from matcher.domain.schemas import DemandEntry, TalentProfile
    from matcher.wiring import build_service

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        svc = build_service(Settings(data_dir=Path(tmp), reference_dir=ref_dir, encoder="e5"))
        rows = [(i + 2, TalentProfile(name=n, phone=f"138123456{i:02d}", education=e, major=m, skills=s, summary=t,
                                      city="济南市", fresh_graduate=f, consent=True))
                for i, (n, e, m, s, t, f) in enumerate(POOL)]
        svc.import_rows("talents", rows, [])
        for query, who in (("会计", "王会计"), ("Java后端开发", "张开发"), ("应届硕士", "冯同学")):
            res = svc.match_text(query, "talents", 8)
            names = [m.title for m in res]
            top_score = res[0].score if res else None
            out[query] = {"rank_of_" + who: names.index(who) + 1 if who in names else None,
                          "first": names[0] if names else None,
                          "semantic_of_" + who: next((m.components["semantic"] for m in res if m.title == who), None),
                          "tied_with_first": sum(1 for m in res if m.score == top_score) - 1}
        posts = [DemandEntry(title="Java开发工程师", city="济南市", min_experience_years=3, required_skills=["Java"],
                             description="Java后端开发"),
                 DemandEntry(title="Java开发工程师", city="济南市", min_experience_years=5, required_skills=["Java"],
                             description="Java后端开发"),
                 DemandEntry(title="Java开发工程师", city="青岛市", min_experience_years=3, required_skills=["Java"],
                             description="Java后端开发")]
        svc.import_rows("demands", [(i + 2, p) for i, p in enumerate(posts)], [])
        res = svc.match_text("三年Java经验，想在济南工作", "demands", 5)
        reasons = [r for m in res for r in m.explanation.reasons]
        out["三年Java经验，想在济南工作"] = {
            "first_is_3y_jinan": bool(res) and svc.get("demand", res[0].id).min_experience_years == 3
            and svc.get("demand", res[0].id).city == "济南市",
            "reasons_saying_0_years": sum(1 for r in reasons if "工作经验 0 年" in r),
            "experience_components": [m.components["experience"] for m in res],
            "location_components": [m.components["location"] for m in res]}
        svc.close()
    return out


def markdown(label: str, r: dict[str, Any]) -> str:
    lines = [f"# Issue 16 real-data checks — {label}", "", f"code: `{r['code']}`", "", "```json",
             json.dumps({k: v for k, v in r.items() if k != "code"}, ensure_ascii=False, indent=1), "```", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--label", default="after")
    ap.add_argument("--no-encoder", action="store_true", help="skip the e5 free-text part")
    args = ap.parse_args()
    from matcher.core.settings import PROJECT_ROOT

    ref = PROJECT_ROOT / "data"
    r: dict[str, Any] = {"code": str(PROJECT_ROOT), "catalogue": catalogue(ref), "skills": skills(ref),
                         "majors": majors()}
    if not args.no_encoder:
        r["free_text"] = free_text(ref)
    out = HERE / "bench" / "results" / f"realdata-{args.label}"
    out.with_suffix(".json").write_text(json.dumps(r, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    out.with_suffix(".md").write_text(markdown(args.label, r), encoding="utf-8")
    print(json.dumps(r, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    sys.exit(main())
