"""Synthetic enterprises, demand entries and talent profiles of the demo data set."""

from __future__ import annotations

import random
from datetime import date, timedelta

from matcher.domain.schemas import DemandEntry, Enterprise, TalentProfile
from scripts.demo_archetypes import (
    ARCHETYPES,
    GENERIC,
    MIN_DEMANDS,
    N_ENTERPRISES,
    N_TALENTS,
    REF_YEAR,
    Archetype,
)
from scripts.demo_vocab import (
    BENEFITS,
    BRAND_CHARS,
    CERT_TALENT_FORMS,
    CHAIN_INDUSTRY_WORDS,
    CITIES,
    COLLEGES,
    COMPOUND_SURNAMES,
    GIVEN_CHARS,
    OUTSIDE_CHAINS,
    OUTSIDE_FULL,
    PHONE_PREFIXES,
    SD_HOME,
    SUFFIXES,
    SURNAMES,
    TECH_SCHOOLS,
    UG_EQUIV,
    UNIVERSITIES_NATIONAL,
    UNIVERSITIES_SD,
    VOCATIONAL_MAJOR,
    city_full,
    round_to,
)
from scripts.generate_demo_ref import RefData, title_spec, to_fullwidth, to_traditional

# ---------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------


def wchoice(rng: random.Random, weights: dict):
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys], k=1)[0]


def pick_edu(rng: random.Random, a: Archetype, shift: int = 0) -> str:
    order = ["高中/中专", "大专", "本科", "硕士", "博士"]
    e = wchoice(rng, a.edu)
    lowest = min(order.index(k) for k in a.edu)
    i = max(lowest, min(len(order) - 1, order.index(e) + shift))
    return order[i]


EDU_FACTOR = {"高中/中专": 0.8, "大专": 0.9, "本科": 1.0, "硕士": 1.2, "博士": 1.45}


def worker_factor(a: Archetype, code: str) -> float:
    """A skilled-worker title inside an engineering archetype pays less than the engineer."""
    return 0.75 if code[0] in "456" and a.code[0] not in "456" else 1.0


def chain_candidates(ref: RefData, city: str) -> list[str]:
    prefix = "zb-" if city == "淄博" else "sd-"
    return [cid for cid in ref.chains if cid.startswith(prefix)]


def archetypes_for_chain(chain_id: str) -> tuple[list[Archetype], list[float]]:
    arch, w = [], []
    for a in ARCHETYPES:
        if a.chains != GENERIC and chain_id in a.chains:
            arch.append(a)
            w.append(3.0)
        elif a.generic:
            arch.append(a)
            w.append(0.7 if a.chains != GENERIC else 1.0)
    return arch, w


def make_enterprises(rng: random.Random, ref: RefData) -> list[dict]:
    weights = {c: v[0] for c, v in CITIES.items()}
    used: set[str] = set()
    out = []
    # every chain gets at least one enterprise: Zibo chains in Zibo, Shandong chains in a
    # plausible home city; the rest are drawn by city weight
    zb = [c for c in ref.chains if c.startswith("zb-")]
    sd = [c for c in ref.chains if c.startswith("sd-")]
    plan: list[tuple[str, str]] = [("淄博", c) for c in zb]
    plan += [(SD_HOME[c][0], c) for c in sd]
    while len(plan) < N_ENTERPRISES:
        city = wchoice(rng, weights)
        if city == "淄博":
            chain_id = rng.choice(zb)
        elif city in OUTSIDE_FULL:
            chain_id = rng.choice(OUTSIDE_CHAINS)
        else:
            home = [c for c in sd if city in SD_HOME[c]]
            chain_id = rng.choice(home if home and rng.random() < 0.85 else sd)
        plan.append((city, chain_id))
    rng.shuffle(plan)
    for i, (city, chain_id) in enumerate(plan, start=1):
        word = rng.choice(CHAIN_INDUSTRY_WORDS[chain_id])
        while True:
            brand = "".join(rng.sample(BRAND_CHARS, 2))
            name = f"{city}{brand}{word}{rng.choice(SUFFIXES)}".replace("科技科技", "科技")
            if name not in used:
                used.add(name)
                break
        chain = ref.chains[chain_id]
        kws = rng.sample(chain["keywords"], 3)
        district = rng.choice(CITIES[city][3])
        desc = (f"{name}位于{city_full(city)}{district}，属于{chain['name']}产业链，"
                f"主要从事{kws[0]}、{kws[1]}及{kws[2]}相关产品研发、生产与服务。")
        ent = Enterprise(id=i, name=name, city=city_full(city), chain_id=chain_id, description=desc)
        out.append(ent.model_dump(mode="json", exclude_none=True) | {"_city": city, "_district": district})
    return out


def sample_required(rng: random.Random, a: Archetype, extra: list[str], n_req: int) -> tuple[list[str], list[str]]:
    # the title's own skills and the archetype's defining skill (core[0]) come first
    rest = [s for s in a.core[1:] if s not in extra]
    pool_core = list(dict.fromkeys(extra + a.core[:1] + rng.sample(rest, len(rest))))
    req = pool_core[:n_req]
    opt = [s for s in a.optional if s not in req]
    while len(req) < n_req and opt:
        s = rng.choice(opt)
        opt.remove(s)
        req.append(s)
    pref = rng.sample(opt, min(len(opt), rng.randint(0, 4)))
    return req, pref


def make_demands(rng: random.Random, ref: RefData, enterprises: list[dict]) -> list[dict]:
    counts = [rng.choice([2, 3, 4, 4, 5, 5, 6, 7]) for _ in enterprises]
    while sum(counts) < MIN_DEMANDS:
        counts[rng.randrange(len(counts))] += 1
    out: list[dict] = []
    n = 0
    for ent, k in zip(enterprises, counts, strict=True):
        arch, w = archetypes_for_chain(ent["chain_id"])
        city = ent["_city"]
        for _ in range(k):
            n += 1
            a = rng.choices(arch, weights=w, k=1)[0]
            title, code, extra = title_spec(a, rng.choice(a.titles))
            worker = code[0] in "456"
            # experience and seniority
            min_exp = rng.choices([0, 1, 2, 3, 5, 8], weights=[30, 15, 18, 20, 12, 5], k=1)[0]
            shown_title = title
            if min_exp >= 5 and not worker and rng.random() < 0.5 and not title.startswith(("高级", "资深")):
                shown_title = rng.choice(["高级", "资深"]) + title
            elif min_exp == 0 and rng.random() < 0.15:
                shown_title = title + "（应届生）"
            edu = pick_edu(rng, a, shift=-1 if rng.random() < 0.25 else 0)
            if worker and edu in ("本科", "硕士", "博士"):
                edu = "大专"
            education = None if rng.random() < 0.08 else edu
            majors = rng.sample(a.majors, min(len(a.majors), rng.randint(1, 3)))
            if edu in ("高中/中专", "大专"):
                majors = list(dict.fromkeys(VOCATIONAL_MAJOR.get(m, m) for m in majors))
            else:
                majors = list(dict.fromkeys(UG_EQUIV.get(m, m) for m in majors))
            if rng.random() < 0.1:
                majors = []
            n_req = rng.randint(2, 6)
            req, pref = sample_required(rng, a, extra, n_req)
            # certificates, titles, skill levels
            certs: list[str] = []
            req_title = None
            req_skill = None
            if a.certs and rng.random() < 0.35:
                certs.append(rng.choice(a.certs))
            if a.direction and not worker and rng.random() < 0.10:
                grade = "中级" if min_exp >= 3 else "初级"
                certs.append(f"数字技术工程师（{a.direction}）{grade}")
            if not worker and min_exp >= 5 and rng.random() < 0.25:
                if rng.random() < 0.5:
                    certs.append("中级以上职称")
                else:
                    req_title = "中级"
            elif not worker and min_exp >= 2 and rng.random() < 0.08:
                certs.append("初级以上职称")
            if worker and rng.random() < 0.45:
                req_skill = "高级工" if min_exp >= 3 else "中级工"
                if min_exp >= 5 and rng.random() < 0.4:
                    req_skill = "技师"
            if rng.random() < 0.05 and education in ("本科", "硕士"):
                certs.append("英语四级")
            base = a.base * worker_factor(a, code) * CITIES[city][2] * EDU_FACTOR[edu] * (1 + 0.07 * min_exp)
            smin = max(2500, round_to(base * rng.uniform(0.85, 1.0)))
            smax = round_to(smin * rng.uniform(1.3, 1.7))
            salary_none = rng.random() < 0.06
            duties = rng.sample(a.duties, 2)
            skill_txt = "、".join(req[:4])
            desc = f"{duties[0]}；{duties[1]}。"
            desc += f"要求熟悉{skill_txt}" + (f"，有{min_exp}年以上相关工作经验" if min_exp else "，欢迎应届毕业生") + "。"
            if rng.random() < 0.7:
                desc += f"公司提供{'、'.join(rng.sample(BENEFITS, 3))}。"
            shortage = rng.choices([1, 2, 3, 4, 5], weights=[1, 2, 4, 3, 2], k=1)[0] if rng.random() < 0.45 else None
            start = date(2026, 1, 1) + timedelta(days=rng.randrange(0, 270))
            until = start + timedelta(days=rng.choice([365, 450, 540, 730]))  # open well beyond the demo date
            status = "closed" if rng.random() < 0.06 else "open"
            headcount = rng.choices([1, 2, 3, 5, 8, 10, 20], weights=[40, 25, 12, 10, 5, 5, 3] if worker else [50, 28, 12, 6, 2, 1, 1], k=1)[0]
            d = DemandEntry(
                external_id=f"demo-d-{n:05d}",
                enterprise_id=ent["id"],
                enterprise_name=ent["name"],
                title=shown_title,
                occupation_code=code,
                occupation_name=ref.occupations[code],
                chain_id=ent["chain_id"],
                city=ent["city"],
                headcount=headcount,
                education=education,
                majors=majors,
                required_skills=req,
                preferred_skills=pref,
                required_certificates=certs,
                required_title_level=req_title,
                required_skill_level=req_skill,
                min_experience_years=float(min_exp),
                salary_min=None if salary_none else smin,
                salary_max=None if salary_none else smax,
                description=desc,
                shortage_level=shortage,
                fresh_graduates_ok=min_exp == 0 or (min_exp == 1 and rng.random() < 0.3),
                source="post",
                valid_from=start,
                valid_until=until,
                status=status,
            )
            # chains are given, never suggested: the suggestion fields stay out of the file
            out.append(d.model_dump(mode="json", exclude_none=True, exclude={"chain_suggested", "chain_confidence"}))
    return out


def skill_alias_map(ref: RefData) -> dict[str, list[str]]:
    # demo_aliases: the aliases the demo data was made with (the vocabulary has changed since)
    return {s["name"]: s.get("demo_aliases", s["aliases"]) for s in ref.skills}


NOISE_SKILLS = ["Excel高级应用", "Git", "Linux", "Python", "SQL", "技术文档写作", "项目管理", "数据分析",
                "AutoCAD", "Photoshop", "短视频剪辑", "MySQL"]


def talent_skills(rng: random.Random, ref: RefData, a: Archetype, extra: list[str], exp: float,
                  aliases: dict[str, list[str]]) -> list[str]:
    p_core = min(0.95, 0.6 + 0.04 * exp)
    skills = [s for s in list(dict.fromkeys(extra + a.core)) if rng.random() < p_core]
    n_opt = min(len(a.optional), rng.randint(1, 3) + int(min(exp, 10) // 3))
    skills += rng.sample(a.optional, n_opt)
    for _ in range(rng.choices([0, 1, 2], weights=[45, 40, 15], k=1)[0]):
        if rng.random() < 0.6:
            s = rng.choice(NOISE_SKILLS)
            if s in aliases:
                skills.append(s)
        else:
            skills.append(rng.choice(ref.skill_names))
    skills = list(dict.fromkeys(skills))
    if len(skills) < 2:
        skills = list(dict.fromkeys(skills + a.core[:2]))
    # some written as aliases / different casing, as people type them
    out = []
    for s in skills:
        r = rng.random()
        if r < 0.08 and aliases.get(s):
            out.append(rng.choice(aliases[s]))
        elif r < 0.11 and s.isascii():
            out.append(s.lower())
        else:
            out.append(s)
    return list(dict.fromkeys(out))


def person_name(rng: random.Random) -> str:
    sur = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.01 else rng.choice(SURNAMES)
    n = 1 if rng.random() < 0.25 else 2
    return sur + "".join(rng.choice(GIVEN_CHARS) for _ in range(n))


def make_talents(rng: random.Random, ref: RefData) -> list[dict]:
    aliases = skill_alias_map(ref)
    arch_w = [a.supply for a in ARCHETYPES]
    city_w = {c: v[1] for c, v in CITIES.items()}
    phones: set[str] = set()
    out = []
    for i in range(1, N_TALENTS + 1):
        a = rng.choices(ARCHETYPES, weights=arch_w, k=1)[0]
        title, code, extra = title_spec(a, rng.choice(a.titles))
        worker = code[0] in "456"
        fresh = rng.random() < 0.30
        edu = pick_edu(rng, a, shift=rng.choice([-1, 0, 0, 0, 0, 1]) if not fresh else rng.choice([0, 0, 0, 1]))
        if edu == "博士" and rng.random() < 0.5:
            edu = "硕士"
        if worker and edu in ("硕士", "博士"):
            edu = "本科"
        if fresh:
            grad = rng.choices([2026, 2025], weights=[7, 3], k=1)[0]
            exp = 0.0
        else:
            exp = float(rng.choices(range(1, 21), weights=[10, 11, 11, 10, 9, 8, 7, 6, 5, 5, 4, 3, 3, 2, 2, 2, 1, 1, 1, 1], k=1)[0])
            if rng.random() < 0.25:
                exp += 0.5
            grad = REF_YEAR - int(exp) - rng.choice([0, 0, 0, 1, 2])
        # major and school
        major = rng.choice(a.majors) if rng.random() < 0.85 else rng.choice(list(VOCATIONAL_MAJOR))
        if edu in ("高中/中专", "大专"):
            major = VOCATIONAL_MAJOR.get(major, major)
        elif major in UG_EQUIV:
            major = UG_EQUIV[major]
        if edu == "高中/中专":
            school = rng.choice(TECH_SCHOOLS)
        elif edu == "大专":
            school = rng.choice(COLLEGES)
        elif edu == "本科":
            school = rng.choice(UNIVERSITIES_SD) if rng.random() < 0.75 else rng.choice(UNIVERSITIES_NATIONAL)
        else:  # postgraduates: research universities
            school = rng.choice(UNIVERSITIES_SD[:13] + UNIVERSITIES_NATIONAL)
        skills = talent_skills(rng, ref, a, extra, exp, aliases)
        # certificates and grades
        certs: list[str] = []
        for c in a.certs:
            if rng.random() < (0.25 + 0.03 * min(exp, 10)):
                certs.append(rng.choice(CERT_TALENT_FORMS.get(c, [c])))
        if edu in ("本科", "硕士", "博士"):
            r = rng.random()
            if r < 0.15:
                certs.append("英语六级（CET-6）")
            elif r < 0.55:
                certs.append("英语四级（CET-4）")
        if rng.random() < 0.25:
            certs.append("机动车驾驶证（C1）")
        title_level = None
        skill_level = None
        if not worker and edu in ("大专", "本科", "硕士", "博士"):
            r = rng.random()
            if exp >= 15 and r < 0.12:
                title_level = "正高级"
            elif exp >= 10 and r < 0.35:
                title_level = "副高级"
            elif exp >= 5 and r < 0.55:
                title_level = "中级"
            elif exp >= 1 and r < 0.35:
                title_level = "初级"
        if worker or (a.code[0] in "456" and rng.random() < 0.3):
            r = rng.random()
            if r < 0.75:
                if exp >= 15 and rng.random() < 0.3:
                    skill_level = "高级技师"
                elif exp >= 8:
                    skill_level = rng.choice(["技师", "高级工", "技师"])
                elif exp >= 3:
                    skill_level = rng.choice(["高级工", "中级工", "高级工"])
                else:
                    skill_level = rng.choice(["初级工", "中级工"])
        digital = []
        if a.direction and rng.random() < (0.18 if not worker else 0.06):
            grade = "初级" if exp < 3 else ("中级" if exp < 9 else rng.choice(["中级", "高级"]))
            digital.append({"direction": a.direction, "grade": grade})
        # place and wishes
        city = wchoice(rng, city_w)
        pref = [city_full(city)] if rng.random() < 0.85 else []
        for _ in range(rng.choices([0, 1, 2], weights=[40, 40, 20], k=1)[0]):
            pref.append(city_full(wchoice(rng, city_w)))
        pref = list(dict.fromkeys(pref))
        desired = [code if rng.random() < 0.7 else title]
        if rng.random() < 0.3:
            t2, c2, _ = title_spec(a, rng.choice(a.titles))
            desired.append(c2 if rng.random() < 0.5 else t2)
        chains_pool = [c for c in ref.chains] if a.chains == GENERIC else list(a.chains)
        zb_first = city == "淄博" or any("淄博" in p for p in pref)
        pool = [c for c in chains_pool if c.startswith("zb-" if zb_first else "sd-")] or chains_pool
        desired_chains = rng.sample(pool, min(len(pool), rng.randint(1, 2))) if rng.random() < 0.6 else []
        sal = (a.base * worker_factor(a, code) * CITIES[city][2] * EDU_FACTOR[edu]
               * (1 + 0.06 * min(exp, 12)) * rng.uniform(0.85, 1.15))
        smin = max(2500, round_to(sal))
        smax = round_to(smin * rng.uniform(1.2, 1.6))
        if rng.random() < 0.08:
            smin = smax = None
        # summary
        top = "、".join(skills[:3])
        if fresh:
            summary = (f"{grad}届{school}{major}专业毕业生，{edu}学历，掌握{top}。"
                       f"{rng.choice(['在校期间参与过相关实训项目', '有企业实习经历', '曾获技能竞赛奖项', '学习能力较强'])}，希望从事{title}相关工作。")
        else:
            summary = (f"{edu}学历，{major}专业，{exp:g}年{title}相关工作经验，熟练掌握{top}。"
                       f"{rng.choice(['负责过多个项目的实施与交付', '具备较强的团队沟通与问题处理能力', '熟悉行业业务流程', '有产线现场工作经验', '愿意长期稳定发展'])}。")
        r = rng.random()
        if r < 0.05:
            summary = to_traditional(summary)
        elif r < 0.10:
            summary = to_fullwidth(summary)
        phone = None
        while phone is None or phone in phones:
            phone = rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        phones.add(phone)
        t = TalentProfile(
            external_id=f"demo-t-{i:05d}",
            name=person_name(rng),
            phone=phone,
            education=edu,
            major=major,
            school=school,
            graduation_year=grad,
            fresh_graduate=fresh,
            skills=skills,
            certificates=certs,
            title_level=title_level,
            skill_level=skill_level,
            digital_certs=digital,
            experience_years=exp,
            city=city_full(city),
            preferred_cities=pref,
            desired_occupations=desired,
            desired_chains=desired_chains,
            salary_min=smin,
            salary_max=smax,
            summary=summary,
            consent=rng.random() < 0.70,
            status="inactive" if rng.random() < 0.03 else "active",
        )
        out.append(t.model_dump(mode="json", exclude_none=True))
    return out
