#!/usr/bin/env python
"""Generate ``data/demo/fair_demo.xlsx``: a SYNTHETIC job fair built from the demo data set.

The fair (2026年淄博市数字人才对接活动（演示）) takes 40 open posts of Zibo enterprises from
``data/demo/demands.jsonl`` and 150 seekers from ``data/demo/talents.jsonl``, with their full
data and their demo external ids: imported into an empty database it creates them, imported
after ``talentmatch demo`` it reuses the stored records. It has the five sheets of the fair
import (活动, 岗位, 求职者, 意向, 时段), with Chinese headers and values as organisers type them.

Usage::

    python -m scripts.generate_fair_demo [--out data/demo/fair_demo.xlsx] [--seed 20261122]

The output is byte-identical for the same seed and inputs (fixed workbook timestamps).
Before writing, the generator reads its own workbook back through ``matcher.fair.files`` and
checks that every post and seeker round-trips.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import zipfile
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from matcher.domain.schemas import DemandEntry, TalentProfile

PROJECT_ROOT = Path(__file__).resolve().parent.parent


DEFAULT_SEED = 20261122
DEMO = PROJECT_ROOT / "data" / "demo"
N_POSTS = 40
N_SEEKERS = 150
MAX_POSTS_PER_ENTERPRISE = 3
SLOTS = 12  # 09:00-13:00, 20 minutes each
FIXED_TIME = datetime(2026, 6, 1, 0, 0, 0)

FAIR_ROWS = [
    ["项目", "值"],
    ["活动名称", "2026年淄博市数字人才对接活动（演示）"],
    ["日期", "2026-06-18"],
    ["地点", "淄博市人力资源市场（演示）"],
    ["开始时间", "09:00"],
    ["每场时长（分钟）", 20],
    ["每人面试上限", 3],
    ["每岗位面试名额", 4],
]
POST_HEADERS = ["编号", "企业名称", "岗位名称", "职业编码", "所属产业链", "工作地点", "需求人数", "学历要求", "专业要求",
                "技能", "优先技能", "证书要求", "职称要求", "技能等级要求", "工作经验", "薪酬待遇", "岗位描述",
                "接受应届生", "紧缺星级", "发布日期", "截止日期", "面试名额", "展位"]
SEEKER_HEADERS = ["编号", "姓名", "学历", "专业", "毕业院校", "毕业年份", "是否应届", "技能", "证书", "职称",
                  "技能等级", "数字技术工程师证书", "工作年限", "现居住地", "期望城市", "期望职业", "意向产业链",
                  "期望薪资", "个人简介", "同意公开", "面试上限"]


def _list(values: list[str]) -> str:
    return "、".join(values)


def _salary(lo: int | None, hi: int | None) -> str:
    if lo is None and hi is None:
        return ""
    if lo is None or hi is None:
        return f"{lo or hi}元/月"
    return f"{lo}-{hi}元/月"


def _yes(v: bool) -> str:
    return "是" if v else "否"


def post_row(e: DemandEntry, capacity: int, booth: str) -> list[object]:
    return [e.external_id, e.enterprise_name, e.title, e.occupation_code or "", e.chain_id or "", e.city or "",
            e.headcount, e.education.value if e.education else "不限", _list(e.majors), _list(e.required_skills),
            _list(e.preferred_skills), _list(e.required_certificates),
            e.required_title_level.value if e.required_title_level else "",
            e.required_skill_level.value if e.required_skill_level else "",
            e.min_experience_years or "不限", _salary(e.salary_min, e.salary_max), e.description,
            _yes(e.fresh_graduates_ok), e.shortage_level or "", e.valid_from.isoformat() if e.valid_from else "",
            e.valid_until.isoformat() if e.valid_until else "",
            capacity, booth]


def seeker_row(t: TalentProfile, limit: int | None) -> list[object]:
    certs = "；".join(f"{c.direction}{c.grade.value}" for c in t.digital_certs)
    return [t.external_id, t.name, t.education.value if t.education else "", t.major or "", t.school or "",
            t.graduation_year or "", _yes(t.fresh_graduate), _list(t.skills), _list(t.certificates),
            t.title_level.value if t.title_level else "", t.skill_level.value if t.skill_level else "", certs,
            t.experience_years, t.city or "", _list(t.preferred_cities), _list(t.desired_occupations),
            _list(t.desired_chains), _salary(t.salary_min, t.salary_max), t.summary, _yes(t.consent),
            limit if limit is not None else ""]


def load(path: Path, model: type) -> list:
    return [model.model_validate({k: v for k, v in json.loads(line).items() if k != "enterprise_id"})
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def choose(rng: random.Random) -> tuple[list[DemandEntry], list[TalentProfile]]:
    entries = [e for e in load(DEMO / "demands.jsonl", DemandEntry)
               if e.city == "淄博市" and e.status == "open" and e.valid_until and e.valid_until.year >= 2027]
    by_ent: dict[str, list[DemandEntry]] = defaultdict(list)
    for e in entries:
        by_ent[e.enterprise_name or ""].append(e)
    names = sorted(by_ent)
    rng.shuffle(names)
    posts: list[DemandEntry] = []
    for name in names:
        take = by_ent[name][:MAX_POSTS_PER_ENTERPRISE]
        posts += take[: N_POSTS - len(posts)]
        if len(posts) >= N_POSTS:
            break
    talents = [t for t in load(DEMO / "talents.jsonl", TalentProfile) if t.status == "active"]
    local = [t for t in talents if t.city == "淄博市" or "淄博市" in t.preferred_cities]
    fresh = [t for t in talents if t.fresh_graduate and t not in local]
    seekers = rng.sample(local, min(len(local), 100))
    seekers += rng.sample(fresh, N_SEEKERS - len(seekers))
    seekers.sort(key=lambda t: t.external_id or "")
    return posts, seekers


def wishes_for(rng: random.Random, posts: list[DemandEntry], seekers: list[TalentProfile]) -> list[list[object]]:
    rows: list[list[object]] = [["求职者", "岗位", "企业", "类型", "顺序"]]
    for t in seekers:
        if rng.random() >= 0.3:
            continue
        have = set(t.skills)
        fitting = sorted(posts, key=lambda e: (-len(have & set(e.required_skills)),
                                               e.chain_id not in t.desired_chains, e.external_id or ""))
        for rank, e in enumerate(fitting[: rng.randint(1, 3)], start=1):
            rows.append([t.external_id, e.external_id, "", "志愿", rank])
    for e in rng.sample(posts, 6):
        t = rng.choice(seekers)
        rows.append([t.name, e.external_id, "", "必面", ""])
    for e in rng.sample(posts, 4):
        t = rng.choice(seekers)
        rows.append([t.external_id, "", e.enterprise_name, "排除", ""])
    return rows


def build(seed: int) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    rng = random.Random(seed)
    posts, seekers = choose(rng)
    booths: dict[str, str] = {}
    for e in posts:
        booths.setdefault(e.enterprise_name or "", f"A{len(booths) + 1:02d}")
    wb = Workbook()
    ws = wb.active
    ws.title = "活动"
    for row in FAIR_ROWS:
        ws.append(row)
    sheets: dict[str, list[list[object]]] = {
        "岗位": [POST_HEADERS] + [post_row(e, rng.choice([3, 4]), booths[e.enterprise_name or ""]) for e in posts],
        "求职者": [SEEKER_HEADERS] + [seeker_row(t, rng.choice([None, None, 2])) for t in seekers],
        "意向": wishes_for(rng, posts, seekers),
        "时段": [["展位", "时段"]] + [["", f"{9 + (i * 20) // 60:02d}:{(i * 20) % 60:02d}-"
                                              f"{9 + ((i + 1) * 20) // 60:02d}:{((i + 1) * 20) % 60:02d}"]
                                        for i in range(SLOTS)],
    }
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    for ws in wb.worksheets:
        for c in ws[1]:
            c.font = Font(bold=True)
        ws.freeze_panes = "A2"
    wb.properties.creator = "talentmatch scripts/generate_fair_demo.py"
    wb.properties.created = wb.properties.modified = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    return _fixed_zip(buf.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same archive with fixed member timestamps, so the bytes repeat."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time
                stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>" + stamp + rb"\g<2>", body)
            dst.writestr(fixed, body)
    return out.getvalue()


def check(path: Path) -> dict[str, int]:
    """Read the workbook back as a fair: every post and seeker must match its demo record
    (but for the occupation name, derived from the code on import, and the phone, left out)."""
    from matcher.fair.files import read_fair

    ff = read_fair(path)
    demands = {e.external_id: e for e in load(DEMO / "demands.jsonl", DemandEntry)}
    talents = {t.external_id: t for t in load(DEMO / "talents.jsonl", TalentProfile)}
    for p in ff.fair.posts:
        assert p.entry is not None
        want = demands[p.entry.external_id]
        got = p.entry.model_copy(update={"source": want.source, "occupation_name": want.occupation_name})
        assert got == want, f"post {want.external_id} does not round-trip"
    for s in ff.fair.seekers:
        assert s.profile is not None
        want = talents[s.profile.external_id].model_copy(update={"phone": None})
        assert s.profile == want, f"seeker {s.profile.external_id} does not round-trip"
    return {"posts": len(ff.fair.posts), "seekers": len(ff.fair.seekers), "wishes": len(ff.fair.wishes),
            "slots": len(ff.fair.slots)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEMO / "fair_demo.xlsx")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = ap.parse_args(argv)
    data = build(args.seed)
    tmp = args.out.with_suffix(".tmp.xlsx")
    tmp.write_bytes(data)
    try:
        counts = check(tmp)
    finally:
        tmp.unlink(missing_ok=True)
    args.out.write_bytes(data)
    print(f"wrote {args.out}: {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
