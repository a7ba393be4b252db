"""A synthetic corpus of job texts built from the real taxonomies, and its e5 encoding (cached)."""

from __future__ import annotations

import contextlib
import json
import random
import re
from pathlib import Path
from typing import Any

import numpy as np

# --------------------------------------------------------------------------- synthetic job corpus

CITIES = ["济南", "青岛", "淄博", "枣庄", "东营", "烟台", "潍坊", "济宁", "泰安", "威海", "日照",
          "临沂", "德州", "聊城", "滨州", "菏泽", "北京", "上海", "深圳", "杭州", "南京", "苏州"]
CITY_WEIGHTS = [12, 12, 14, 3, 4, 6, 7, 4, 3, 3, 2, 4, 3, 3, 3, 3, 5, 5, 4, 3, 3, 3]
EDUCATION = ["大专", "本科", "硕士", "博士"]
EDU_WEIGHTS = [30, 55, 13, 2]
MAJORS = ["计算机科学与技术", "软件工程", "数据科学与大数据技术", "人工智能", "电子信息工程",
          "通信工程", "自动化", "机械设计制造及其自动化", "电气工程及其自动化", "材料科学与工程",
          "化学工程与工艺", "应用化学", "物联网工程", "网络工程", "信息安全", "统计学",
          "工业工程", "机械电子工程", "高分子材料与工程", "药学", "生物工程", "车辆工程"]
ROLE_SUFFIX = ["工程师", "高级工程师", "技术员", "开发工程师", "研发工程师", "主管", "专员",
               "实施工程师", "运维工程师", "技术经理"]
FIRM_WORDS = ["华信", "鲁科", "齐能", "瑞泰", "博远", "汇智", "中科", "新元", "海纳", "天润",
              "恒达", "金桥", "宏图", "同创", "东岳", "泰和", "蓝海", "云启", "智联", "正德",
              "万邦", "卓越", "鼎盛", "鸿业", "星河", "晨光", "嘉禾", "宇航", "景行", "凌云"]
FIRM_KINDS = ["科技", "信息技术", "智能装备", "新材料", "软件", "数据服务", "电子", "化工",
              "精密机械", "医药", "新能源", "网络科技"]
DUTIES = ["参与需求分析与方案设计", "负责核心模块开发与测试", "编写技术文档", "配合现场实施与调试",
          "优化系统性能", "参与项目交付与客户培训", "负责设备数据采集与分析", "跟踪行业技术发展",
          "参与质量改进与工艺优化", "维护生产线信息化系统"]
_MARK = re.compile(r"[SL/]+$")


class JobCorpus:
    """Synthetic but realistic Chinese demand entries, talents and seeker queries.

    Built on the project's reference data: CSCO 2022 level-4 occupations (names, definitions,
    tasks), the skill vocabulary (data/skills.json) and the chain registries (data/chains).
    ``n_archetypes`` occupations are the latent "job archetypes"; every generated record knows
    its archetype, which ties its synthetic vector to a real e5 embedding of that archetype.
    """

    def __init__(self, ref: Path, n_archetypes: int, seed: int = 20261121) -> None:
        from matcher.reference.occupations import Taxonomy

        self.rng = random.Random(seed)
        tax = Taxonomy.load(ref / "csco22_occupations.csv")
        occs = [o for o in tax.occupations if o.definition]
        digital = [o for o in occs if o.digital]
        rest = [o for o in occs if not o.digital and o.code[0] in "246"]
        self.rng.shuffle(rest)
        self.archetypes = (digital + rest)[:n_archetypes]
        skills = json.loads((ref / "skills.json").read_text(encoding="utf-8"))["skills"]
        self.skills = [s["name"] for s in skills]
        self.by_direction: dict[str, list[str]] = {}
        for s in skills:
            for d in s.get("directions", []):
                self.by_direction.setdefault(d, []).append(s["name"])
        self.chains: list[dict[str, Any]] = []
        for path in sorted((ref / "chains").glob("*.json")):
            self.chains += json.loads(path.read_text(encoding="utf-8"))["chains"]
        # each archetype gets a stable skill profile and chain affinity
        self.arch_skills: list[list[str]] = []
        self.arch_chains: list[list[dict[str, Any]]] = []
        dirs = sorted(self.by_direction)
        for i, _ in enumerate(self.archetypes):
            r = random.Random(seed + i)
            pool = list(self.by_direction[r.choice(dirs)]) + r.sample(self.skills, 6)
            self.arch_skills.append(list(dict.fromkeys(pool))[:12])
            self.arch_chains.append(r.sample(self.chains, 3))
        self.firms = [f"{c}{w}{k}有限公司" for c in CITIES for w in FIRM_WORDS for k in FIRM_KINDS[:5]]
        self.rng.shuffle(self.firms)

    def name(self, i: int) -> str:
        return _MARK.sub("", self.archetypes[i].name)

    def demand(self, i: int, r: random.Random | None = None) -> dict[str, Any]:
        """A demand entry (as a dict for DemandEntry) of archetype ``i``."""
        r = r or self.rng
        occ = self.archetypes[i]
        name = self.name(i)
        chain = r.choice(self.arch_chains[i])
        kw = r.choice(chain["keywords"]) if chain.get("keywords") else chain["name"]
        sk = self.arch_skills[i]
        req = r.sample(sk, min(len(sk), r.randint(2, 5)))
        pref = r.sample([s for s in sk if s not in req], min(len(sk) - len(req), r.randint(0, 3)))
        roll = r.random()
        if roll < 0.45:
            title = name
        elif roll < 0.75:
            title = f"{kw}{r.choice(ROLE_SUFFIX)}"
        else:
            title = f"{req[0]}{r.choice(ROLE_SUFFIX)}"
        tasks = [t for t in re.split(r"\d+\.", occ.tasks) if t.strip()]
        duty = "；".join(t.strip(" 。") for t in r.sample(tasks, min(len(tasks), 2)))
        edu = r.choices(EDUCATION, EDU_WEIGHTS)[0]
        base = r.choice([5000, 6000, 7000, 8000, 10000, 12000, 15000])
        exp = r.choice([0, 0, 1, 2, 3, 5])
        desc = (f"{occ.definition}岗位职责：{duty}；{r.choice(DUTIES)}。"
                f"任职要求：{edu}及以上学历，{exp or '不限'}{'年以上' if exp else ''}相关工作经验，"
                f"熟悉{'、'.join(req)}。服务于{chain['name']}产业链（{kw}方向）。")
        return {
            "enterprise_name": r.choice(self.firms[:3000]),
            "title": title[:200],
            "occupation_code": occ.code,
            "chain_id": chain["id"],
            "city": r.choices(CITIES, CITY_WEIGHTS)[0],
            "headcount": r.randint(1, 10),
            "education": edu,
            "majors": r.sample(MAJORS, r.randint(0, 3)),
            "required_skills": req,
            "preferred_skills": pref,
            "min_experience_years": exp,
            "salary_min": base,
            "salary_max": base + r.choice([2000, 3000, 5000, 8000]),
            "description": desc,
            "shortage_level": r.choice([None, 2, 3, 4, 5]),
            "fresh_graduates_ok": exp == 0 or r.random() < 0.5,
            "source": "post",
        }

    def talent(self, i: int, r: random.Random | None = None) -> dict[str, Any]:
        """A consenting talent profile (dict for TalentProfile) wishing for archetype ``i``."""
        r = r or self.rng
        sk = self.arch_skills[i]
        skills = r.sample(sk, min(len(sk), r.randint(3, 8))) + r.sample(self.skills, r.randint(0, 2))
        city = r.choices(CITIES, CITY_WEIGHTS)[0]
        exp = r.choice([0, 0, 1, 2, 3, 4, 6, 10])
        major = r.choice(MAJORS)
        return {
            "name": f"候选人{r.randint(1000, 9999)}",
            "education": r.choices(EDUCATION, EDU_WEIGHTS)[0],
            "major": major,
            "skills": list(dict.fromkeys(skills)),
            "experience_years": exp,
            "fresh_graduate": exp == 0,
            "city": city,
            "preferred_cities": r.sample(CITIES, 2),
            "desired_occupations": [self.archetypes[i].code],
            "desired_chains": [c["id"] for c in r.sample(self.arch_chains[i], 1)],
            "salary_min": r.choice([5000, 6000, 8000, 10000]),
            "salary_max": r.choice([12000, 15000, 20000]),
            "summary": f"{major}专业，{exp}年{self.name(i)}相关经验，熟悉{'、'.join(skills[:4])}，"
                       f"希望在{city}从事{self.name(i)}工作。",
            "consent": True,
        }

    def query(self, i: int, r: random.Random | None = None) -> str:
        """A seeker's free-text wish about archetype ``i`` (input of match_text)."""
        r = r or self.rng
        sk = r.sample(self.arch_skills[i], 2)
        city = r.choices(CITIES, CITY_WEIGHTS)[0]
        name = self.name(i)
        chain = r.choice(self.arch_chains[i])["name"]
        templates = [
            f"{city}的{name}岗位，熟悉{sk[0]}和{sk[1]}，{r.choice(EDUCATION[:3])}学历，{r.randint(1, 8)}年经验",
            f"想找{chain}方向的{sk[0]}相关工作，期望薪资{r.choice([8000, 10000, 15000])}元/月",
            f"{name} {sk[0]} {sk[1]} {city}",
            f"应届毕业生，{r.choice(MAJORS)}专业，会{sk[0]}、{sk[1]}，希望在{city}从事{name}工作",
            f"求职{name}，擅长{sk[0]}，做过{chain}相关项目，可接受{city}及周边",
        ]
        return r.choice(templates)


def encode_texts(corpus: JobCorpus, n: int, ref: Path) -> tuple[list[str], str]:
    """One canonical demand text per archetype (archetype i -> text i).

    Their e5 embeddings are both the encoder benchmark's output and the real bases of the
    synthetic vectors, so base i is a real embedding of a posting of archetype i. When
    data/demo/demands.jsonl exists, the description quotes its mean text length for comparison.
    """
    from matcher.domain.schemas import DemandEntry
    from matcher.domain.texts import demand_text

    r = random.Random(11)
    out = []
    for i in range(n):
        d = corpus.demand(i % len(corpus.archetypes), r)
        d["occupation_name"] = corpus.name(i % len(corpus.archetypes))
        out.append(demand_text(DemandEntry.model_validate(d)))
    source = ("canonical demand_text of generated postings, one per archetype (CSCO 2022 level-4 "
              "name/definition/tasks + data/skills.json + data/chains/*.json)")
    demo = ref / "demo" / "demands.jsonl"
    if demo.exists():
        lengths = []
        with demo.open(encoding="utf-8") as fh:
            for line in fh:
                with contextlib.suppress(Exception):
                    lengths.append(len(demand_text(DemandEntry.model_validate(json.loads(line)))))
        if lengths:
            source += (f"; for comparison the {len(lengths)} demo entries in data/demo/demands.jsonl "
                       f"average {np.mean(lengths):.0f} characters")
    return out, source
