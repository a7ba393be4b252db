"""Job-title clean-up before occupation coding: what a posting adds around the occupation.

Real titles carry salary (``8000+``, ``20/h``, ``6k-8k``), perks (包吃住, 五险一金, 双休), hiring
words (急招, 诚聘, 直招, 公司招聘…), seniority (高级, 资深, 初级, 储备), locations and notes in
brackets, and several jobs joined by ``/``, ``、`` or ``+``. :func:`clean_title` keeps the job
words: brackets dropped (unless nothing else is left), the text after the last 招聘 of a
"company 招聘 job" title, the segments that are not decorations, seniority prefixes removed.
:func:`head_segment` is the first kept segment — the job the posting is mostly about.
"""

from __future__ import annotations

import re
from functools import lru_cache

from matcher.core.textnorm import normalize_text

_BRACKETS = re.compile(r"[（(【\[「<《{][^）)】\]」>》}]*[）)】\]」>》}]?")
_SEPARATORS = re.compile(r"[/／|｜+＋、，,；;:：!！?？~～—\-_*·•&＆\s]+|\.{2,}|…+")
# "某某公司招聘焊工" → 焊工 (a name of at least two characters before the hiring word)
_HIRING = re.compile(r"^[^/／|+＋、，,\s]{2,}?(?:招聘|诚聘|急聘|急招|直招)(?=[\u4e00-\u9fffA-Za-z])")
_SALARY = re.compile(r"\d+(?:\.\d+)?\s*(?:[kKwW千万元]|块)?(?:\s*[-~至到]\s*\d+(?:\.\d+)?\s*(?:[kKwW千万元]|块)?)?"
                     r"(?:\s*/\s*(?:天|月|时|小时|h|H|日|周))?(?:[+以]上?)?")
# phrases that say something about the job, not what the job is: removed wherever they stand
_DECORATION = re.compile(
    "|".join(sorted("""
    包吃包住 包吃住 包食宿 包住宿 包三餐 包两餐 包吃 包住 管吃住 管吃 管住 吃住 提供住宿 提供食宿 有食堂
    五险一金 六险一金 五险 六险 社保 公积金 周末双休 双休 单休 大小周 月休 上几休几 做六休一
    无责底薪 底薪 保底 无责 高提成 提成 奖金 年终奖 带薪年假 带薪培训 带薪 年假 下午茶 团建
    月薪过万 月入过万 月入 过万 高薪 月薪 年薪 日薪 时薪 高福利 福利好 日结 周结 月结 可预支 预支
    可借支 借支 轻松 不加班 纯坐班 坐班 不外出 不销售 不跑业务 无需经验 经验不限 接受小白 可接受小白
    应届生可 接受应届生 学历不限 男女不限 就近安排 就近分配 包车接送 签合同 急招 急聘 诚聘 直招
    期待您的申请 朝九晚五 朝九晚六 早九晚五 早九晚六 早九晚七 朝十晚七 可兼职 可实习
    """.split(), key=len, reverse=True)))
# words that are decorations only when a segment holds nothing else ("薪资核算专员" is a job)
_WEAK = re.compile(r"^(?:薪资|工资|收入|福利|培训|合同|稳定|长期|入职|不限|优先|应届|接送|固定|住宿|补助|补贴|"
                   r"要求|经验|招聘|岗位|全职|兼职|实习|旺季|年龄|上班|下班|可|有|无|需|能|好|高|多|的|一|天)+$")
_PREFIX = re.compile(r"^(?:高级|资深|初级|中级|驻场|驻外|驻店|储备|见习|兼职|全职)+(?=..)")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def _strip_brackets(text: str) -> tuple[str, list[str]]:
    inner = [m.group(0)[1:].rstrip("）)】]」>》}") for m in _BRACKETS.finditer(text)]
    return _BRACKETS.sub(" ", text), inner


def _clean_segments(text: str) -> list[str]:
    out = []
    for seg in _SEPARATORS.split(text):
        seg = _SALARY.sub("", _DECORATION.sub("", seg))
        seg = _PREFIX.sub("", seg)
        if _WEAK.match(seg):
            continue
        if len(_CJK.findall(seg)) >= 2 or _LATIN_WORD.search(seg):
            out.append(seg)
    return out


@lru_cache(maxsize=65536)
def title_segments(text: str) -> tuple[str, ...]:
    """The job words of a title, in order (may be empty for a title of decorations only)."""
    text = normalize_text(text)
    if not text:
        return ()
    base, inner = _strip_brackets(text)
    base = _HIRING.sub("", base.strip())
    kept = _clean_segments(base)
    if not kept:  # "（质检员）" alone keeps its inside
        kept = [s for part in inner for s in _clean_segments(part)]
    return tuple(dict.fromkeys(kept))


def clean_title(text: str) -> str:
    """The title's job words joined by spaces; the normalised title when nothing is left."""
    segs = title_segments(text)
    return " ".join(segs) if segs else normalize_text(text)


def head_segment(text: str) -> str:
    """The first job segment of the title (the normalised title when there is none)."""
    segs = title_segments(text)
    return segs[0] if segs else normalize_text(text)
