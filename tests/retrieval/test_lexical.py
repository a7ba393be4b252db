"""Tokenisation and the BM25 index."""

from __future__ import annotations

import logging
import threading

import numpy as np
import pytest

from matcher.core.errors import InvalidInput
from matcher.retrieval.lexical import BM25Index, Tokenizer, default_tokenizer, tokenize


def test_mixed_chinese_english_tokens() -> None:
    tokens = tokenize("熟悉Python、C++、Java，5G通信优先")
    assert tokens == ["python", "c++", "java", "5g", "通信"]


def test_traditional_and_full_width_are_normalised() -> None:
    simplified = tokenize("大数据开发工程师 Python")
    assert tokenize("大數據開發工程師 Ｐｙｔｈｏｎ") == simplified
    assert tokenize("ＪＡＶＡ　ＳＰＲＩＮＧ") == ["java", "spring"]
    assert "c#" in tokenize("Ｃ＃开发")


def test_compound_english_terms_keep_whole_and_parts() -> None:
    tokens = tokenize("Vue.js / Node.js, ASP.NET, k-means, 3.5年")
    for expected in ("vue.js", "vue", "node.js", "asp.net", "k-means", "means", "3.5"):
        assert expected in tokens
    assert "3" not in tokens and "5" not in tokens


def test_stopwords_punctuation_and_whitespace_dropped() -> None:
    tokens = tokenize("负责 数据仓库的建设与维护，熟悉 ETL 等相关工作。And the Spark!")
    for dropped in ("负责", "的", "与", "熟悉", "等", "相关", "and", "the", "，", "。", " ", "!"):
        assert dropped not in tokens
    for kept in ("数据仓库", "建设", "维护", "etl", "spark"):
        assert kept in tokens
    assert tokenize("") == [] and tokenize("  ，。！  ") == []


def test_search_mode_links_related_titles() -> None:
    a = set(tokenize("大数据开发工程师"))
    b = set(tokenize("大数据工程技术人员"))
    assert {"大数据", "工程"} <= a & b
    assert {"技术", "人员"} <= b


def test_registered_words_stay_whole(caplog: pytest.LogCaptureFixture) -> None:
    term = "数智化协同平台"
    base = default_tokenizer()
    before = base.tokenize(f"负责{term}运维")
    with caplog.at_level(logging.DEBUG, logger="jieba"):
        derived = base.derive([term, "", "x"])
        fresh = Tokenizer([term])  # its own jieba dictionary, loaded quietly
    after = derived.tokenize(f"负责{term}运维")
    assert term not in before and term in after
    assert fresh.tokenize(f"负责{term}运维") == after
    # the base is unchanged: a tokenizer never changes once built
    assert base.tokenize(f"负责{term}运维") == before and base.words == frozenset()
    assert derived.words == frozenset({term})
    assert not [r for r in caplog.records if r.name == "jieba" and r.levelno < logging.WARNING]


def test_bigrams_option() -> None:
    tokens = tokenize("数据标注", bigrams=True)
    assert "数据" in tokens and "据标" in tokens
    assert "据标" not in tokenize("数据标注")


DOCS = {
    11: "大数据开发工程师 Hadoop Spark Hive 数据仓库",
    12: "Java后端开发工程师 Spring MySQL",
    13: "人工智能训练师 数据标注 Python",
    14: "前端开发工程师 Vue.js React",
    15: "工业互联网平台运维 Linux",
}


@pytest.fixture
def index() -> BM25Index:
    idx = BM25Index()
    idx.upsert(list(DOCS), [tokenize(t) for t in DOCS.values()])
    return idx


def test_rare_shared_terms_rank_first(index: BM25Index) -> None:
    hits = index.search(tokenize("Spark Hive 开发"), 5)
    assert hits[0][0] == 11
    assert all(s > 0 for _, s in hits)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert {i for i, _ in hits} == {11, 12, 14}  # 开发 is shared by the development posts
    assert index.search(tokenize("vue"), 3)[0][0] == 14
    assert index.search(tokenize("Python 数据标注"), 1) == index.search(
        tokenize("python 數據標註"), 1
    )


def test_k_limits_results(index: BM25Index) -> None:
    assert len(index.search(tokenize("开发工程师"), 2)) == 2
    with pytest.raises(InvalidInput):
        index.search(["开发"], 0)


def test_upsert_replaces_and_remove(index: BM25Index) -> None:
    assert len(index) == 5 and 12 in index
    index.upsert([12], [tokenize("Go 微服务 Kubernetes")])
    assert len(index) == 5
    assert all(i != 12 for i, _ in index.search(tokenize("Java Spring"), 5))
    assert index.search(tokenize("kubernetes"), 5)[0][0] == 12
    assert index.remove([12, 999]) == 1
    assert index.remove([12]) == 0
    assert 12 not in index and len(index) == 4
    assert index.search(tokenize("kubernetes"), 5) == []
    index.upsert([16], [tokenize("Kubernetes 运维")])
    assert index.search(tokenize("kubernetes"), 5)[0][0] == 16


def test_allowed_filter(index: BM25Index) -> None:
    hits = index.search(tokenize("开发工程师"), 5, allowed={12, 13, 999})
    assert [i for i, _ in hits] == [12]
    assert index.search(tokenize("开发工程师"), 5, allowed=set()) == []
    full = dict(index.search(tokenize("开发工程师"), 5))
    assert hits[0][1] == pytest.approx(full[12])


def test_scores_for(index: BM25Index) -> None:
    query = tokenize("Spark 开发")
    scores = index.scores_for(query, [11, 13, 999, 12])
    assert scores.dtype == np.float32 and scores.shape == (4,)
    assert scores[0] > scores[3] > 0 and scores[1] == 0 and scores[2] == 0
    assert scores[0] == pytest.approx(dict(index.search(query, 5))[11])
    assert index.scores_for(query, []).shape == (0,)
    assert not index.scores_for(["无此词"], [11]).any()


def test_empty_cases() -> None:
    idx = BM25Index()
    assert len(idx) == 0
    assert idx.search(["python"], 5) == []
    assert not idx.scores_for(["python"], [1, 2]).any()
    idx.upsert([1, 2], [[], []])  # documents without tokens are kept but never match
    assert len(idx) == 2 and idx.search(["python"], 5) == []
    idx.upsert([3], [["python"]])
    assert idx.search(["python"], 5) == [(3, pytest.approx(idx.search(["python"], 5)[0][1]))]
    assert idx.search([], 5) == [] and idx.search(["未知", ""], 5) == []
    idx.upsert([], [])
    assert idx.remove([1, 2, 3]) == 3 and idx.search(["python"], 5) == []


def test_bad_input() -> None:
    idx = BM25Index()
    with pytest.raises(InvalidInput):
        idx.upsert([1, 2], [["a"]])
    with pytest.raises(InvalidInput):
        idx.upsert([1, 1], [["a"], ["b"]])
    with pytest.raises(InvalidInput):
        idx.upsert([1], ["python"])  # a string, not a token list
    with pytest.raises(InvalidInput):
        idx.upsert(["x"], [["a"]])
    idx.upsert([1], [["a"]])
    with pytest.raises(InvalidInput):
        idx.search("a", 3)


def test_concurrent_writes_and_searches() -> None:
    idx = BM25Index()
    errors: list[BaseException] = []

    def writer(base: int) -> None:
        try:
            for i in range(20):
                idx.upsert([base + i], [["python", f"t{i}"]])
                idx.search(["python"], 5)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(b,)) for b in (0, 1000, 2000)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(idx) == 60 and len(idx.search(["python"], 200)) == 60


def test_token_cache_round_trip_and_fingerprint(tmp_path) -> None:
    from matcher.retrieval.lexical import load_token_cache, save_token_cache

    lists = {"h1": tokenize("熟悉Python与Spark的大数据工程师"), "h2": [], "h3": ["plc", "编程", "plc"]}
    fp = default_tokenizer().fingerprint()
    path = tmp_path / "tokens.npz"
    save_token_cache(path, lists, fp)
    assert load_token_cache(path, fp) == lists
    assert load_token_cache(path, "another") == {}
    assert load_token_cache(tmp_path / "missing.npz", fp) == {}
    path.write_bytes(b"not an npz")
    assert load_token_cache(path, fp) == {}
    # registering a new word changes what tokenize() returns, hence the fingerprint; the same
    # words give the same fingerprint
    assert default_tokenizer().derive(["一个从未登记过的新技能词"]).fingerprint() != fp
    assert default_tokenizer().derive(["一个从未登记过的新技能词"]).fingerprint() == \
        default_tokenizer().derive(["一个从未登记过的新技能词"]).fingerprint()
    assert default_tokenizer().derive([]).fingerprint() == fp


class _GatedBuild:
    """Wraps ``_Built.build``: once armed, each build signals ``started`` and waits for ``release``
    (a query that waited for it would see the new documents, which the tests rule out)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from matcher.retrieval import lexical

        self.real = lexical._Built.build
        self.started = threading.Event()
        self.release = threading.Event()
        self.armed = False
        monkeypatch.setattr(lexical._Built, "build", classmethod(lambda cls, *a: self(*a)))

    def __call__(self, *args):
        if self.armed:
            self.started.set()
            self.release.wait(60)  # a safety net against a hung test, not a timing condition
        return self.real(*args)


def test_background_rebuild_answers_from_the_old_index_then_swaps(monkeypatch: pytest.MonkeyPatch) -> None:
    gate = _GatedBuild(monkeypatch)
    idx = BM25Index(background=True)
    idx.upsert([1, 2], [["java", "spring"], ["python", "django"]])
    assert [i for i, _ in idx.search(["java"], 5)] == [1]  # the first build: in the query, nothing to answer from
    assert idx.current and idx.rebuilds == 1

    gate.armed = True
    idx.upsert([3], [["java", "kotlin"]])
    idx.remove([2])
    # the rebuild starts in the background; this query is answered by the old index at once
    assert [i for i, _ in idx.search(["java"], 5)] == [1]
    assert gate.started.wait(60)
    assert not idx.current and idx.rebuilds == 1
    assert idx.search(["kotlin"], 5) == []  # written after the old build: not yet searchable
    assert idx.search(["python"], 5) == []  # removed: never returned again, even from the old index
    assert idx.scores_for(["python"], [2]).tolist() == [0.0]
    assert len(idx) == 2

    gate.release.set()
    assert idx.wait(60)
    assert idx.current and idx.rebuilds == 2
    assert sorted(i for i, _ in idx.search(["java"], 5)) == [1, 3]
    assert [i for i, _ in idx.search(["kotlin"], 5)] == [3]


def test_writes_during_a_rebuild_are_picked_up_by_a_following_one(monkeypatch: pytest.MonkeyPatch) -> None:
    gate = _GatedBuild(monkeypatch)
    idx = BM25Index(background=True)
    idx.upsert([1], [["java"]])
    idx.refresh()
    gate.armed = True
    idx.upsert([2], [["go"]])
    assert idx.search(["go"], 5) == []
    assert gate.started.wait(60)
    idx.upsert([3], [["rust"]])  # lands while the rebuild of the earlier snapshot runs
    gate.release.set()
    assert idx.wait(60)
    assert idx.current
    assert [i for i, _ in idx.search(["go"], 5)] == [2] and [i for i, _ in idx.search(["rust"], 5)] == [3]


def test_a_static_index_rebuilds_in_the_query() -> None:
    idx = BM25Index()
    idx.upsert([1], [["java"]])
    idx.search(["java"], 5)
    idx.upsert([2], [["java"]])
    assert sorted(i for i, _ in idx.search(["java"], 5)) == [1, 2] and idx.rebuilds == 2


def test_rjieba_cuts_exactly_as_jieba_on_the_demo_records_and_real_titles() -> None:
    """The default engine (jieba-rs) must give the Python jieba's tokens, under the service's
    own dictionary (skills and occupation names), on every text field of the demo records and
    on the real titles; otherwise it may not replace it."""
    import json
    from pathlib import Path

    from matcher.reference.bundle import ReferenceData

    root = Path(__file__).resolve().parents[2]
    words = ReferenceData.load(root / "data").domain_words()
    fast = Tokenizer(engine="rjieba").derive(words)
    slow = Tokenizer(engine="jieba").derive(words)
    assert fast.engine == "rjieba" and slow.engine == "jieba"
    texts: list[str] = []
    for name in ("demands.jsonl", "talents.jsonl", "enterprises.jsonl"):
        for line in (root / "data" / "demo" / name).read_text(encoding="utf-8").splitlines():
            for value in json.loads(line).values():
                values = value if isinstance(value, list) else [value]
                texts.extend(v for v in values if isinstance(v, str))
    for line in (root / "data" / "eval" / "real_titles_dev.jsonl").read_text(encoding="utf-8").splitlines():
        texts.append(json.loads(line)["query"])
    texts = list(dict.fromkeys(texts))
    assert len(texts) > 10_000
    differ = [t for t in texts if fast.tokenize(t) != slow.tokenize(t)]
    assert differ == []
    # the fingerprint names the engine: token caches made by one are not taken for the other's
    assert fast.fingerprint() != slow.fingerprint()


def test_a_saved_built_index_loads_only_for_the_same_documents_and_key(tmp_path) -> None:
    """save_built / load_built: the loaded index answers exactly as the one built; another key,
    other documents, or an index behind its writes are not used; a damaged copy is rebuilt."""
    docs = {1: ["python", "spark", "数据"], 2: ["java", "后端"], 3: ["python", "机器学习"], 4: []}
    built = BM25Index(background=True)
    built.upsert(list(docs), list(docs.values()))
    built.refresh()
    key = {"fingerprint": "f1", "tokenizer": "t1"}
    assert built.save_built(tmp_path / "bm25", key)
    fresh = BM25Index(background=True)
    fresh.upsert(list(docs), list(docs.values()))
    assert fresh.load_built(tmp_path / "bm25", key) and fresh.current and fresh.rebuilds == 1
    for query in (["python"], ["java", "数据"], ["spark", "python", "机器学习"]):
        assert fresh.search(query, 10) == built.search(query, 10)
        assert fresh.scores_for(query, [1, 2, 3, 4]).tolist() == built.scores_for(query, [1, 2, 3, 4]).tolist()
    assert not BM25Index(background=True).load_built(tmp_path / "bm25", key)  # no documents
    other = BM25Index(background=True)
    other.upsert(list(docs), list(docs.values()))
    assert not other.load_built(tmp_path / "bm25", {**key, "tokenizer": "t2"})
    assert not BM25Index(k1=1.2, background=True).load_built(tmp_path / "bm25", key)
    other.upsert([5], [["c++"]])
    assert not other.load_built(tmp_path / "bm25", key) and not other.current
    built.upsert([5], [["c++"]])  # behind its writes: nothing saved, the old copy stays whole
    assert not built.save_built(tmp_path / "bm25", key)
    (tmp_path / "bm25" / "row_ids.npy").write_bytes(b"not numpy")
    damaged = BM25Index(background=True)
    damaged.upsert(list(docs), list(docs.values()))
    assert not damaged.load_built(tmp_path / "bm25", key) and damaged.search(["python"], 10)  # built instead


def test_built_index_scores_exactly_as_bm25s() -> None:
    """_Built scores a query with numpy from bm25s's score matrix: the same float32 sums as
    bm25s's own get_scores_from_ids, for random documents and queries (repeated terms too)."""
    import random

    import bm25s

    from matcher.retrieval.lexical import _Built

    r = random.Random(1)
    words = [f"w{i}" for i in range(300)] + ["数据", "分析", "python"]
    docs = {i: [r.choice(words) for _ in range(r.randint(0, 30))] for i in range(2000)}
    built = _Built.build(docs, 1.5, 0.75)
    ref = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
    ref.index([t for t in docs.values() if t], show_progress=False)
    compared = 0
    for _ in range(200):
        query = [r.choice(words) for _ in range(r.randint(1, 8))]
        ids = list(dict.fromkeys(built.vocab[t] for t in query if t in built.vocab))
        mine = built.score(query)
        assert (mine is None) == (not ids)
        if ids:
            assert np.array_equal(mine, np.asarray(ref.get_scores_from_ids(ids), dtype=np.float32))
            compared += 1
    assert compared > 150
    assert built.score(["未知词"]) is None


def test_columns_of_common_terms_are_dense_and_score_the_same() -> None:
    """Terms in at least half the documents are added as dense columns: the scores are bit for
    bit bm25s's, for queries mixing them with rare terms, in any order and repeated."""
    import random

    import bm25s

    from matcher.retrieval.lexical import _Built

    r = random.Random(2)
    common = ["负责", "工作", "经验", "团队"]
    words = [f"w{i}" for i in range(400)]
    docs = {i: [w for w in common if r.random() < 0.8] + [r.choice(words) for _ in range(r.randint(0, 25))]
            for i in range(3000)}
    docs[3000] = ["w1", "w1", "w1"]  # a document with none of the common terms
    built = _Built.build(docs, 1.5, 0.75)
    assert {built.vocab[w] for w in common} == set(built.dense)
    assert all(col.dtype == np.float32 and col.shape == (built.num_docs,) for col in built.dense.values())
    ref = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
    ref.index([t for t in docs.values() if t], show_progress=False)
    for _ in range(150):
        query = [r.choice(common + words) for _ in range(r.randint(1, 12))] + r.sample(common, r.randint(0, 4))
        r.shuffle(query)
        ids = list(dict.fromkeys(built.vocab[t] for t in query if t in built.vocab))
        assert np.array_equal(built.score(query), np.asarray(ref.get_scores_from_ids(ids), dtype=np.float32))


def test_the_top_of_many_scores_is_the_set_argpartition_gives():
    """``_top_positions``: the k best of many scores read above a sampled threshold is the very set
    ``argpartition`` gives over all of them; with a tie at the k-th score (which of the tied ones
    is kept is argpartition's choice) or a skewed sample, argpartition itself decides."""
    from matcher.retrieval.lexical import _top_positions

    rng = np.random.default_rng(5)
    cases = [rng.random(100_000).astype(np.float32),  # no ties: the sampled path
             np.round(rng.random(100_000), 2).astype(np.float32),  # ties everywhere
             np.r_[np.zeros(99_000, dtype=np.float32) + 0.5, rng.random(1_000).astype(np.float32) + 1],
             np.sort(rng.random(50_000).astype(np.float32)),  # sorted: the strided sample is skewed
             rng.random(1_000).astype(np.float32)]  # few: argpartition at once
    tied = cases[0].copy()
    top = np.sort(tied)[::-1]
    tied[tied == top[200]] = top[199]  # the 200th and 201st best equal
    cases.append(tied)
    for values in cases:
        for k in (1, 10, 200):
            got = _top_positions(values, k)
            want = np.argpartition(-values, k - 1)[:k]
            assert len(got) == k and set(got.tolist()) == set(want.tolist())
