"""Reference data the demo generator reads (taxonomy, skills, chains) and text variants (Traditional, full-width)."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

from scripts.demo_archetypes import ARCHETYPES, GENERIC, Archetype

# ---------------------------------------------------------------------------------------
# Reference data
# ---------------------------------------------------------------------------------------


NEWER_SKILLS = frozenset({"质量保证", "GMP"})  # added to data/skills.json after the demo data was made


@dataclass
class RefData:
    occupations: dict[str, str]  # code -> clean name (level 4)
    skills: list[dict]
    skill_names: list[str]
    chains: dict[str, dict]  # id -> chain
    registry_of: dict[str, str]  # id -> registry file stem


def load_refdata(data_dir: Path) -> RefData:
    occ: dict[str, str] = {}
    with (data_dir / "csco22_occupations.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["level"] == "4" and row["code"] not in occ:
                occ[row["code"]] = re.sub(r"[LS/]+$", "", row["name"])
    skills = json.loads((data_dir / "skills.json").read_text(encoding="utf-8"))["skills"]
    # the skills the demo data was made with: later additions would change every draw
    skills = [s for s in skills if s["name"] not in NEWER_SKILLS]
    chains: dict[str, dict] = {}
    registry_of: dict[str, str] = {}
    for path in sorted((data_dir / "chains").glob("*.json")):
        reg = json.loads(path.read_text(encoding="utf-8"))
        for c in reg["chains"]:
            chains[c["id"]] = {**c, "region": reg["region"]}
            registry_of[c["id"]] = path.stem
    return RefData(occ, skills, [s["name"] for s in skills], chains, registry_of)


def check_archetypes(ref: RefData) -> None:
    """Fail early if an archetype names an unknown skill, code or chain."""
    names = set(ref.skill_names)
    for a in ARCHETYPES:
        for s in a.core + a.optional:
            assert s in names, f"{a.key}: unknown skill {s!r}"
        for t in a.titles:
            if isinstance(t, tuple):
                if t[1]:
                    assert t[1] in ref.occupations, f"{a.key}: unknown code {t[1]}"
                for s in t[2] or []:
                    assert s in names, f"{a.key}: unknown skill {s!r}"
        assert a.code in ref.occupations, f"{a.key}: unknown code {a.code}"
        if a.chains != GENERIC:
            for c in a.chains:
                assert c in ref.chains, f"{a.key}: unknown chain {c}"


def title_spec(a: Archetype, t) -> tuple[str, str, list[str]]:
    if isinstance(t, tuple):
        title, code, extra = t
        return title, code or a.code, list(extra or [])
    return t, a.code, []


# ---------------------------------------------------------------------------------------
# Traditional characters (for ~5% of summaries). A fixed character table so the generator
# needs no converter; characters outside it stay Simplified, as in real mixed input.
# ---------------------------------------------------------------------------------------
_S2T_S = (
    "与专业东两个临为习云产从仓仪优会传体储关内写农决划创别务动劳势区华单厂历压参发变台号后员咨响团国图圆场块墙处备夹奖学孪宁"
    "宝实审导尔届岛师带庄庆库应开强征态总愿戏户扫护拟换据数无时术机构枣标档桨梦检楼欧毕气汉沟测济渗游滨潍灾烟热猫玛现电画码硕"
    "离积稳竞筑筹纤约级线练组经结络统维综编缘网职联脚脱腾艺范荐获营蓝虚蚀装规视觉计训讯设证评识词试询语调谱负财责货质贸资赛车"
    "转软轴载较辆辑边达过运连适选逻邮采里铺链销长门问间队阳际隐静项顾预频题飞驱驶驾验鲁鸿齐龙"
)
_S2T_T = (
    "與專業東兩個臨為習雲產從倉儀優會傳體儲關內寫農決劃創別務動勞勢區華單廠歷壓參發變臺號後員諮響團國圖圓場塊牆處備夾獎學孿寧"
    "寶實審導爾屆島師帶莊慶庫應開強徵態總願戲戶掃護擬換據數無時術機構棗標檔槳夢檢樓歐畢氣漢溝測濟滲遊濱濰災煙熱貓瑪現電畫碼碩"
    "離積穩競築籌纖約級線練組經結絡統維綜編緣網職聯腳脫騰藝範薦獲營藍虛蝕裝規視覺計訓訊設證評識詞試詢語調譜負財責貨質貿資賽車"
    "轉軟軸載較輛輯邊達過運連適選邏郵採裡鋪鏈銷長門問間隊陽際隱靜項顧預頻題飛驅駛駕驗魯鴻齊龍"
)
S2T = str.maketrans(dict(zip(_S2T_S, _S2T_T, strict=True)))


def to_traditional(text: str) -> str:
    return text.translate(S2T)


def to_fullwidth(text: str) -> str:
    out = []
    for ch in text:
        o = ord(ch)
        if 0x21 <= o <= 0x7E:
            out.append(chr(o + 0xFEE0))
        elif ch == " ":
            out.append("\u3000")
        else:
            out.append(ch)
    return "".join(out)
