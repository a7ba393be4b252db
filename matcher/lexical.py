"""Lexical retrieval: jieba tokenisation of Chinese/English text and a BM25 index over it."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Sequence

import numpy as np

from matcher.errors import InvalidInput
from matcher.textnorm import normalize_text

__all__ = ["STOPWORDS", "DOMAIN_WORDS", "BM25Index", "add_words", "tokenize"]

# Function words and boilerplate of job descriptions that carry no matching signal.
STOPWORDS: frozenset[str] = frozenset(
    """
    的 地 得 了 着 过 和 与 及 跟 同 等 在 或 并 且 而 对 为 是 有 以 于 将 把 被 从 之 其 也 就 都
    又 还 能 会 可 个 各 该 此 这 那 些 我 你 他 她 它 们 中 上 下 内 外 由 向 至 到 让 使 如 若
    负责 相关 能力 具备 熟悉 掌握 优先 以上 以下 及以上 以及 或者 并且 进行 能够 良好 一定 具有
    了解 精通 我们 公司 等等 包括 其他 其它 较强 具有 一种 一些 有关 方面 要求 任职 职责 岗位职责
    任职要求 优先考虑 者优先 善于 熟练 熟练掌握 负责人员
    a an and or the of with in for to on at by as is are be from
    """.split()
)

# Domain terms kept whole by jieba in addition to whatever `add_words` registers.
DOMAIN_WORDS: tuple[str, ...] = (
    "大数据",
    "人工智能",
    "云计算",
    "区块链",
    "物联网",
    "工业互联网",
    "数字孪生",
    "智能制造",
    "集成电路",
    "机器学习",
    "深度学习",
    "数据分析",
    "数据挖掘",
    "数据库",
    "数据仓库",
    "网络安全",
    "信息安全",
    "数据安全",
    "自然语言处理",
    "计算机视觉",
    "虚拟现实",
    "增强现实",
    "新能源",
    "新能源汽车",
    "数字化",
    "智能网联",
    "嵌入式",
    "运维",
    "全栈",
    "前端",
    "后端",
    "算法",
    "工程技术人员",
    "数字技术工程师",
)

# Latin/number tokens: python, c++, c#, .net, vue.js, node.js, 5g, tcp, 3.5, k-means
_LATIN = r"\.?[a-z0-9]+[+#]*(?:[.\-][a-z0-9]+[+#]*)*"
_CJK = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+"
_TOKEN = re.compile(f"({_LATIN})|({_CJK})")
_COMPOUND_SPLIT = re.compile(r"[.\-]")

_init_lock = threading.Lock()
_jieba_ready = False


def _jieba():  # noqa: ANN202 - returns the jieba module
    """The jieba module, initialised once, quietly, with the built-in domain words."""
    global _jieba_ready
    import jieba

    if not _jieba_ready:
        with _init_lock:
            if not _jieba_ready:
                jieba.setLogLevel(logging.WARNING)
                logging.getLogger("jieba").setLevel(logging.WARNING)
                jieba.initialize()
                for word in DOMAIN_WORDS:
                    jieba.add_word(word)
                _jieba_ready = True
    return jieba


def add_words(words: Iterable[str]) -> None:
    """Register domain terms (skills, occupation names) so jieba keeps them whole."""
    jieba = _jieba()
    with _init_lock:
        for word in words:
            word = normalize_text(word or "").lower().strip()
            if len(word) >= 2:
                jieba.add_word(word)


def _cjk_tokens(run: str, bigrams: bool) -> list[str]:
    """Search-mode jieba tokens of a Chinese run, optionally plus its character bigrams."""
    out = [t for t in _jieba().lcut_for_search(run) if t.strip()]
    if bigrams and len(run) > 2:
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


def tokenize(text: str, *, bigrams: bool = False) -> list[str]:
    """Lower-cased BM25 tokens of `text`: jieba words of Chinese runs and whole English/number terms."""
    if not text:
        return []
    text = normalize_text(text).lower()
    tokens: list[str] = []
    for match in _TOKEN.finditer(text):
        latin, cjk = match.group(1), match.group(2)
        if latin:
            if latin in STOPWORDS:
                continue
            tokens.append(latin)
            if _COMPOUND_SPLIT.search(latin.lstrip(".")):
                tokens.extend(p for p in _COMPOUND_SPLIT.split(latin) if p and p not in STOPWORDS)
        else:
            tokens.extend(t for t in _cjk_tokens(cjk, bigrams) if t not in STOPWORDS)
    return tokens


class BM25Index:
    """Placeholder."""


_ = (np, InvalidInput, Sequence)
