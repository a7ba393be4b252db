"""Candidate features for re-ranking occupation codes of real job titles (pure numpy/scipy).

Every feature is computed for a whole batch of titles against all level-4 occupations at once
(matrices ``titles × occupations``), so there is no per-title Python loop over candidates:

- ``dense``: e5 cosine of the cleaned title and the occupation (raw, minus the title's best,
  and rescaled between the title's mean and best as the old fused coder did);
- ``bm25``: BM25 of the title's jieba tokens over the occupation's name (×3), definition and
  tasks (raw and divided by the title's best);
- ``name``: character overlap of the title with the occupation's name (share of the name's
  characters / bigrams found in the title; the name's last two characters — its head noun —
  at the title's end);
- ``kNN`` over **exemplars** (real titles labelled with codes): the share of the nearest
  exemplars (by e5 cosine, and by character-bigram cosine) whose label is the occupation, its
  小类 or its 中类, and the best cosine of such an exemplar;
- a learned family prior: how often exemplars with the title's head word (工程师, 业务员, 客服,
  经理…) are labelled with the occupation's 中类 and 大类;
- the alias lexicon (hand-written real title words per occupation or 小类), the digital flag.

The exemplars and the tables learned from them are data (``ExemplarSet``); what is learned
from features is the re-ranker (``models.reranker``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from matcher.core.textnorm import normalize_text
from matcher.retrieval.lexical import tokenize
from matcher.retrieval.titles import clean_title, head_segment

if TYPE_CHECKING:  # scipy is imported where a matrix is built: a command that codes nothing skips it
    from scipy import sparse

FEATURES: tuple[str, ...] = (
    "dense_cos", "dense_gap", "dense_rel", "dense_rank",
    "bm25", "bm25_rel", "bm25_rank",
    "name_chars", "name_bigrams", "name_head", "name_in_title",
    "knn_code", "knn_minor", "knn_mid", "knn_best",
    "lex_code", "lex_minor", "lex_mid", "lex_best",
    "head_mid", "head_major",
    "alias_code", "alias_minor",
    "digital",
)

# head words of job titles, longest first: the last one in a title is its head noun
HEAD_WORDS: tuple[str, ...] = tuple(sorted("""
    工程技术人员 工程师 技术员 技师 技工 普工 操作工 操作员 作业员 学徒 师傅 工人 工
    业务员 业务经理 业务代表 销售代表 销售经理 销售顾问 销售专员 销售主管 销售员 销售 导购 营业员 店员
    客户经理 客户代表 客服专员 客服 专员 顾问 助理 文员 内勤 秘书 前台 主管 经理 总监 主任 总经理 负责人
    组长 班长 领班 店长 厂长 部长 管培生 培训生 实习生 储备干部 干部 运营 策划 设计师 设计 开发 编辑 主播
    老师 教师 讲师 教练 辅导员 教务 医生 护士 药师 会计 出纳 审计 律师 法务 司机 驾驶员 保安 保洁 厨师
    后厨 服务员 收银员 收银 配送员 快递员 分拣员 仓管员 仓管 库管 质检员 质检 检验员 测试 运维 架构师
    分析师 研究员 美工 翻译 采购 跟单 报关员 施工员 资料员 预算员 造价员 安全员 电工 焊工 钳工 机修工
""".split(), key=len, reverse=True))
_HEAD_RE = re.compile("|".join(map(re.escape, HEAD_WORDS)))
_STRIP_SUFFIX = re.compile(r"(?:工程技术人员|专业人员|技术人员|人员)$")


def head_word(title: str) -> str:
    """The last head word in a cleaned title, or "" (e.g. "白酒销售业务员" → 业务员)."""
    found = _HEAD_RE.findall(title)
    return found[-1] if found else ""


def _char_bigrams(text: str) -> list[str]:
    chars = [c for c in text if not c.isspace()]
    return ["".join(chars[i : i + 2]) for i in range(len(chars) - 1)]


class _Hasher:
    """Character and bigram sets as sparse rows of a fixed hashed space (no fitted vocabulary)."""

    def __init__(self, dim: int = 1 << 18) -> None:
        self.dim = dim

    def rows(self, texts: Sequence[str], *, unigrams: bool, bigrams: bool) -> sparse.csr_matrix:
        from scipy import sparse

        indptr, indices = [0], []
        for t in texts:
            grams: set[str] = set()
            if unigrams:
                grams.update(c for c in t if not c.isspace())
            if bigrams:
                grams.update(_char_bigrams(t))
            indices.extend(sorted({_stable_hash(g) % self.dim for g in grams}))
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float32)
        return sparse.csr_matrix((data, np.array(indices, dtype=np.int64), np.array(indptr)),
                                 shape=(len(texts), self.dim))


def _ranks(values: np.ndarray) -> np.ndarray:
    """Each entry's rank in its row (0 for the smallest): ``argsort(argsort(values))`` with one sort."""
    order = np.argsort(values, axis=1)
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(values.shape[1])[None, :].repeat(values.shape[0], axis=0), axis=1)
    return rank


def _stable_hash(s: str) -> int:
    h = 2166136261
    for b in s.encode("utf-8"):
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


class BM25Matrix:
    """BM25 (Lucene variant) of a fixed document set as a sparse term-weight matrix: one sparse
    product scores a batch of queries against every document."""

    def __init__(self, docs: Sequence[Sequence[str]], k1: float = 1.5, b: float = 0.75) -> None:
        from scipy import sparse

        vocab: dict[str, int] = {}
        rows, cols, tfs = [], [], []
        for d, tokens in enumerate(docs):
            # Counter keeps first-seen order: the same term ids, in the same order, as a loop
            for t, n in Counter(tokens).items():
                rows.append(d)
                cols.append(vocab.setdefault(t, len(vocab)))
                tfs.append(n)
        n_docs = len(docs)
        lengths = np.array([len(t) for t in docs], dtype=np.float64)
        avg = lengths.mean() if n_docs else 1.0
        tf = np.array(tfs, dtype=np.float64)
        r = np.array(rows, dtype=np.int64)
        c = np.array(cols, dtype=np.int64)
        df = np.bincount(c, minlength=len(vocab)).astype(np.float64)
        idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5))
        w = idf[c] * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[r] / avg))
        self.vocab = vocab
        self.weights = sparse.csr_matrix((w.astype(np.float32), (c, r)), shape=(len(vocab), n_docs))

    def scores(self, queries: Sequence[Sequence[str]]) -> np.ndarray:
        from scipy import sparse

        indptr, indices = [0], []
        for q in queries:
            indices.extend(sorted({self.vocab[t] for t in q if t in self.vocab}))
            indptr.append(len(indices))
        qm = sparse.csr_matrix((np.ones(len(indices), dtype=np.float32), np.array(indices, dtype=np.int64),
                                np.array(indptr)), shape=(len(queries), len(self.vocab)))
        return np.asarray((qm @ self.weights).todense(), dtype=np.float32)


@dataclass
class ExemplarSet:
    """Real titles labelled with CSCO codes (any level), with their e5 vectors."""

    titles: list[str]
    codes: list[str]
    vectors: np.ndarray

    def subset(self, idx: Sequence[int]) -> ExemplarSet:
        idx = list(idx)
        return ExemplarSet([self.titles[i] for i in idx], [self.codes[i] for i in idx], self.vectors[idx])


def code_prefix(code: str) -> str:
    while code.endswith("-00"):
        code = code[:-3]
    return code


@dataclass
class Taxon:
    """The level-4 occupations as arrays: codes, names, 小类/中类/大类 ids."""

    codes: list[str]
    names: list[str]
    texts: list[str]
    digital: np.ndarray
    minor: np.ndarray = field(init=False)
    mid: np.ndarray = field(init=False)
    major: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        def ids(keys: list[str]) -> tuple[np.ndarray, dict[str, int]]:
            table: dict[str, int] = {}
            return np.array([table.setdefault(k, len(table)) for k in keys]), table

        self.minor, self.minor_ids = ids([c[:7] for c in self.codes])
        self.mid, self.mid_ids = ids([c[:4] for c in self.codes])
        self.major, self.major_ids = ids([c[:1] for c in self.codes])
        self.index = {c: i for i, c in enumerate(self.codes)}
        self._prefix_hits: dict[str, np.ndarray] = {}

    def hits(self, gold: str) -> np.ndarray:
        """Indices of the occupations a gold code (any level) is hit by."""
        if gold in self.index:
            return np.array([self.index[gold]])
        p = code_prefix(gold) + "-"
        found = self._prefix_hits.get(p)
        if found is None:  # coarse codes repeat (every exemplar labelled with a 小类 or 中类)
            found = self._prefix_hits[p] = np.array([i for i, c in enumerate(self.codes) if c.startswith(p)],
                                                    dtype=np.int64)
        return found.copy()


class OccupationFeaturizer:
    """Features of every (title, occupation) pair of a batch; see the module docstring."""

    def __init__(self, taxon: Taxon, occ_vectors: np.ndarray, bm25_docs: Sequence[Sequence[str]],
                 exemplars: ExemplarSet | None = None, aliases: dict[str, list[str]] | None = None,
                 *, k: int = 10, tau: float = 0.02) -> None:
        self.taxon = taxon
        self.occ = np.ascontiguousarray(occ_vectors, dtype=np.float32)
        self.bm25 = BM25Matrix(bm25_docs)
        self.k = k
        self.tau = tau
        self._hasher = _Hasher()
        names = [_STRIP_SUFFIX.sub("", n) or n for n in taxon.names]
        self._stems = names
        uni = self._hasher.rows(names, unigrams=True, bigrams=False)
        bi = self._hasher.rows(names, unigrams=False, bigrams=True)
        self._name_uni = uni.T.tocsr()
        self._name_bi = bi.T.tocsr()
        self._name_uni_n = np.maximum(np.asarray(uni.sum(axis=1)).ravel(), 1)
        self._name_bi_n = np.maximum(np.asarray(bi.sum(axis=1)).ravel(), 1)
        self._by_head: dict[str, list[int]] = {}
        self._by_stem: dict[str, list[int]] = {}
        for j, n in enumerate(names):
            self._by_head.setdefault(n[-2:], []).append(j)
            if len(n) >= 2:
                self._by_stem.setdefault(n, []).append(j)
        self._max_stem = max((len(n) for n in self._by_stem), default=0)
        self._by_name: dict[str, list[int]] = {}
        for j, n in enumerate(taxon.names):
            self._by_name.setdefault(normalize_text(n), []).append(j)
        self._set_aliases(aliases or {})
        self.set_exemplars(exemplars)

    # -- learned-from-data tables ------------------------------------------------------------

    def _set_aliases(self, aliases: dict[str, list[str]]) -> None:
        """``{title word: [codes]}``; a 小类 code counts for its occupations (alias_minor)."""
        self._alias_words = sorted(aliases, key=len, reverse=True)
        self._alias_re = re.compile("|".join(map(re.escape, self._alias_words))) if aliases else None
        self._alias_code: dict[str, np.ndarray] = {}
        self._alias_minor: dict[str, np.ndarray] = {}
        n = len(self.taxon.codes)
        for w, codes in aliases.items():
            exact, group = np.zeros(n, np.float32), np.zeros(n, np.float32)
            for c in codes:
                if c in self.taxon.index:
                    exact[self.taxon.index[c]] = 1
                group[self.taxon.hits(c)] = 1
            self._alias_code[w], self._alias_minor[w] = exact, group

    def set_exemplars(self, ex: ExemplarSet | None) -> None:
        from scipy import sparse

        t = self.taxon
        n_occ = len(t.codes)
        self.ex = ex
        if ex is None or not ex.titles:
            self._ex_code = sparse.csr_matrix((0, n_occ), dtype=np.float32)
            self._ex_minor = self._ex_code
            self._ex_mid = self._ex_code
            self._head_mid: dict[str, np.ndarray] = {}
            self._head_major: dict[str, np.ndarray] = {}
            self._ex_lex = sparse.csr_matrix((0, self._hasher.dim), dtype=np.float32)
            return
        rows_c, cols_c, vals_c = [], [], []
        minor_rows, minor_cols, mid_rows, mid_cols = [], [], [], []
        for e, g in enumerate(ex.codes):
            h = t.hits(g)
            if len(h) == 0:
                continue
            if g in t.index or g.endswith("-00") and g[5:7] != "00":  # occupation or 小类
                rows_c += [e] * len(h)
                cols_c += h.tolist()
                vals_c += [1.0 / len(h)] * len(h)
                minor_rows.append(e)
                minor_cols.append(t.minor[h[0]])
            if g[2:4] != "00":  # at least a 中类
                mid_rows.append(e)
                mid_cols.append(t.mid[h[0]])
        n_ex = len(ex.codes)
        self._ex_code = sparse.csr_matrix((np.array(vals_c, np.float32), (rows_c, cols_c)), shape=(n_ex, n_occ))
        self._ex_minor = sparse.csr_matrix((np.ones(len(minor_rows), np.float32), (minor_rows, minor_cols)),
                                           shape=(n_ex, len(t.minor_ids)))
        self._ex_mid = sparse.csr_matrix((np.ones(len(mid_rows), np.float32), (mid_rows, mid_cols)),
                                         shape=(n_ex, len(t.mid_ids)))
        # family prior: P(中类 | head word), P(大类 | head word), add-one smoothed, as log-odds
        # against the overall share
        heads = [head_word(clean_title(x)) for x in ex.titles]
        mids = np.asarray(self._ex_mid.argmax(axis=1)).ravel()
        has_mid = np.asarray(self._ex_mid.sum(axis=1)).ravel() > 0
        majors = np.array([t.major_ids.get(g[:1], -1) for g in ex.codes])
        n_mid, n_major = len(t.mid_ids), len(t.major_ids)
        base_mid = (np.bincount(mids[has_mid], minlength=n_mid) + 1) / (has_mid.sum() + n_mid)
        ok_major = majors >= 0
        base_major = (np.bincount(majors[ok_major], minlength=n_major) + 1) / (ok_major.sum() + n_major)
        self._head_mid, self._head_major = {}, {}
        head_ids, head_of = np.unique(np.array(heads, dtype=object), return_inverse=True)
        for j, hw in enumerate(head_ids.tolist()):
            if hw == "":
                continue
            sel = head_of == j
            m = sel & has_mid
            p_mid = (np.bincount(mids[m], minlength=n_mid) + base_mid * 5) / (m.sum() + 5)
            self._head_mid[hw] = np.log(p_mid / base_mid).astype(np.float32)[t.mid]
            a = sel & ok_major
            p_major = (np.bincount(majors[a], minlength=n_major) + base_major * 5) / (a.sum() + 5)
            self._head_major[hw] = np.log(p_major / base_major).astype(np.float32)[t.major]
        lex = self._hasher.rows([clean_title(x) for x in ex.titles], unigrams=True, bigrams=True)
        norms = np.sqrt(np.asarray(lex.multiply(lex).sum(axis=1)).ravel())
        self._ex_lex = sparse.diags(1 / np.maximum(norms, 1e-9)).astype(np.float32) @ lex

    # -- features ------------------------------------------------------------------------

    def _knn(self, sims: np.ndarray, exclude: np.ndarray | None) -> tuple[np.ndarray, ...]:
        """Votes of the k nearest exemplars for each occupation / 小类 / 中类, and the best
        similarity of an exemplar labelled with the occupation (or its 小类)."""
        from scipy import sparse

        t = self.taxon
        n_q, n_occ = sims.shape[0], len(t.codes)
        if sims.shape[1] == 0:
            z = np.zeros((n_q, n_occ), np.float32)
            return z, z, z, z
        if exclude is not None:
            sims = sims.copy()
            sims[exclude] = -1.0
        k = min(self.k, sims.shape[1])
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        s = np.take_along_axis(sims, top, axis=1)
        w = np.exp((s - s.max(axis=1, keepdims=True)) / self.tau)
        w /= w.sum(axis=1, keepdims=True)
        rows = np.repeat(np.arange(n_q), k)
        wm = sparse.csr_matrix((w.ravel(), (rows, top.ravel())), shape=(n_q, sims.shape[1]))
        code = np.asarray((wm @ self._ex_code).todense())
        code = np.minimum(code * 1.0, 1.0)
        minor = np.asarray((wm @ self._ex_minor).todense())[:, t.minor]
        mid = np.asarray((wm @ self._ex_mid).todense())[:, t.mid]
        # best similarity among the k neighbours labelled with the occupation or its 小类
        best = np.zeros((n_q, n_occ), np.float32)
        lab = (self._ex_code > 0).astype(np.float32)
        for j in range(k):  # k sparse products, not a loop over titles
            sj = sparse.csr_matrix((s[:, j], (np.arange(n_q), top[:, j])), shape=(n_q, sims.shape[1]))
            best = np.maximum(best, np.asarray((sj @ lab).todense()))
        return code.astype(np.float32), minor.astype(np.float32), mid.astype(np.float32), best

    # One function on purpose (about 70 lines): it fills the feature matrix column by column in the
    # order of FEATURES, over whole batches; split, the column order would be spread over helpers.
    def features(self, titles: Sequence[str], vectors: np.ndarray, *,
                 exclude: Sequence[Sequence[int]] | None = None) -> np.ndarray:
        """Array ``(titles, occupations, len(FEATURES))`` of float32 (see :meth:`columns`)."""
        return np.stack(self.columns(titles, vectors, exclude=exclude), axis=2)

    def candidate_features(self, titles: Sequence[str], vectors: np.ndarray, n: int, *,
                           exclude: Sequence[Sequence[int]] | None = None, extra: np.ndarray | None = None,
                           must: Sequence[Sequence[int]] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(candidates, features)``: each title's ``n`` candidates (:meth:`candidates`; the
        occupations ``must[i]`` put in place of the last ones when missing) and their feature
        rows ``(titles, n, len(FEATURES))`` — the same values as :meth:`features` taken at the
        candidates, without building the whole ``titles × occupations × features`` array."""
        cols = self.columns(titles, vectors, exclude=exclude)
        cand = self._top(self._prescore({k: c for k, c in zip(FEATURES, cols, strict=True)}, extra), n)
        for r, hit in enumerate(must or ()):
            missing = [j for j in hit if j not in cand[r]]
            if missing:
                cand[r, -len(missing):] = missing
        x = np.stack([np.take_along_axis(np.broadcast_to(c, cand.shape[:1] + c.shape[1:]), cand, axis=1)
                      for c in cols], axis=2)
        return cand, x

    def columns(self, titles: Sequence[str], vectors: np.ndarray, *,
                exclude: Sequence[Sequence[int]] | None = None) -> list[np.ndarray]:
        """The features as ``(titles, occupations)`` float32 arrays, in the order of FEATURES.

        ``titles`` are raw titles (cleaned here); ``vectors`` their e5 query vectors (of the
        cleaned text). ``exclude[i]`` lists the exemplars that title ``i`` may not use (itself,
        when training on the exemplars; or the query's own title when evaluating on them).
        """
        from scipy import sparse

        t = self.taxon
        n_q, n_occ = len(titles), len(t.codes)
        clean = [clean_title(x) for x in titles]
        heads = [head_segment(x) for x in titles]
        cos = vectors @ self.occ.T
        top = cos.max(axis=1, keepdims=True)
        mu = cos.mean(axis=1, keepdims=True)
        rel = np.clip((cos - mu) / np.maximum(top - mu, 1e-6), 0, 1)
        rank = _ranks(-cos)
        bm = self.bm25.scores([tokenize(c) for c in clean])
        bm_top = bm.max(axis=1, keepdims=True)
        bm_rank = _ranks(-bm)
        bm_rank = np.where(bm > 0, bm_rank, n_occ)
        # name overlap with the head segment
        hu = self._hasher.rows(heads, unigrams=True, bigrams=False)
        hb = self._hasher.rows(heads, unigrams=False, bigrams=True)
        name_chars = np.asarray((hu @ self._name_uni).todense()) / self._name_uni_n
        name_bi = np.asarray((hb @ self._name_bi).todense()) / self._name_bi_n
        name_head = np.zeros((n_q, n_occ), np.float32)
        name_in = np.zeros((n_q, n_occ), np.float32)
        for i, (h, c) in enumerate(zip(heads, clean, strict=True)):  # dictionary look-ups only
            name_head[i, self._by_head.get(h[-2:], [])] = 1
            for a in range(len(c) - 1):
                for b in range(a + 2, min(len(c), a + self._max_stem) + 1):
                    hit = self._by_stem.get(c[a:b])
                    if hit:
                        name_in[i, hit] = 1
        if exclude is not None and any(len(x) for x in exclude):
            qi = np.concatenate([np.full(len(x), i) for i, x in enumerate(exclude)]).astype(np.int64)
            ei = np.concatenate([np.asarray(x, dtype=np.int64) for x in exclude])
            exclude_pairs = (qi, ei)
        else:
            exclude_pairs = None
        n_ex = 0 if self.ex is None else len(self.ex.titles)
        dsims = vectors @ self.ex.vectors.T if n_ex else np.zeros((n_q, 0), np.float32)
        knn = self._knn(dsims, exclude_pairs)
        lq = self._hasher.rows(clean, unigrams=True, bigrams=True)
        lq = sparse.diags(1 / np.maximum(np.sqrt(np.asarray(lq.sum(axis=1)).ravel()), 1e-9)).astype(np.float32) @ lq
        lsims = np.asarray((lq @ self._ex_lex.T).todense(), dtype=np.float32) if n_ex else np.zeros((n_q, 0), np.float32)
        lex = self._knn(lsims, exclude_pairs)
        head_mid = np.zeros((n_q, n_occ), np.float32)
        head_major = np.zeros((n_q, n_occ), np.float32)
        alias_code = np.zeros((n_q, n_occ), np.float32)
        alias_minor = np.zeros((n_q, n_occ), np.float32)
        for i, c in enumerate(clean):
            hw = head_word(c)
            if hw in self._head_mid:
                head_mid[i] = self._head_mid[hw]
                head_major[i] = self._head_major[hw]
            if self._alias_re is not None:
                for w in set(self._alias_re.findall(c)):
                    np.maximum(alias_code[i], self._alias_code[w], out=alias_code[i])
                    np.maximum(alias_minor[i], self._alias_minor[w], out=alias_minor[i])
        cols = [
            cos, cos - top, rel, np.log1p(rank),
            bm, bm / np.maximum(bm_top, 1e-6), np.log1p(bm_rank),
            name_chars, name_bi, name_head, name_in,
            *knn, *lex,
            head_mid, head_major, alias_code, alias_minor,
            np.broadcast_to(t.digital.astype(np.float32), (n_q, n_occ)),
        ]
        return [np.asarray(c, dtype=np.float32) for c in cols]

    def exact_names(self, titles: Sequence[str]) -> list[list[int]]:
        """For each title, the occupations whose name it is (cleaned title == name)."""
        return [self._by_name.get(clean_title(t), []) for t in titles]

    def candidates(self, feats: np.ndarray, n: int = 50, extra: np.ndarray | None = None) -> np.ndarray:
        """Indices ``(titles, n)`` of each title's candidates: the best by a fixed sum of dense
        cosine, BM25, exemplar votes (dense and lexical), alias hits and name overlap (plus
        ``extra``, e.g. a context's relative similarity)."""
        return self._top(self._prescore({name: feats[:, :, i] for i, name in enumerate(FEATURES)}, extra), n)

    @staticmethod
    def _prescore(f: dict[str, np.ndarray], extra: np.ndarray | None) -> np.ndarray:
        pre = (f["dense_rel"] + 0.5 * f["bm25_rel"] + 2 * f["knn_code"] + f["knn_minor"] + 2 * f["lex_code"]
               + f["lex_minor"] + 2 * f["alias_code"] + f["alias_minor"] + 0.5 * f["name_in_title"])
        if extra is not None:
            pre = pre + extra
        return pre

    @staticmethod
    def _top(pre: np.ndarray, n: int) -> np.ndarray:
        """The first ``n`` of ``np.argsort(-pre, axis=1, kind="stable")``, without sorting whole rows."""
        neg = -pre
        if n >= neg.shape[1]:
            return np.argsort(neg, axis=1, kind="stable")[:, :n]
        kth = np.partition(neg, n - 1, axis=1)[:, n - 1 : n]
        out = np.empty((neg.shape[0], n), dtype=np.int64)
        for r in range(neg.shape[0]):  # the values up to the n-th (ties included), in index order
            idx = np.flatnonzero(neg[r] <= kth[r, 0])
            out[r] = idx[np.argsort(neg[r, idx], kind="stable")[:n]]
        return out
