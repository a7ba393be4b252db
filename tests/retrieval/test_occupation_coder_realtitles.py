"""The re-ranked occupation coder on real-looking job titles (real encoder, shipped model).

The cross-validated number on the 2,350 real dev titles is what counts (bench/bench_realtitles.py);
these tests pin families that the plain dense + BM25 coder got wrong, the confidence, the shipped
files and the API.
"""

from __future__ import annotations

import csv
import hashlib

import numpy as np
import pytest

from matcher.core.settings import PROJECT_ROOT
from matcher.domain.schemas import OccupationCandidate
from matcher.evaluation.metrics import code_hits
from matcher.reference.occupations import Taxonomy
from matcher.retrieval.encoders import build_encoder
from matcher.retrieval.occupation_coder import CONFIDENCE_THRESHOLD, OccupationCoder
from matcher.retrieval.occupation_features import FEATURES, ExemplarSet
from matcher.retrieval.occupation_model import (
    exemplar_mask,
    load_aliases,
    load_exclusions,
    load_occupation_model,
    rerank,
    train_reranker,
)

pytestmark = [pytest.mark.slow, pytest.mark.integration]
DATA = PROJECT_ROOT / "data"


@pytest.fixture(scope="module")
def coder(tmp_path_factory) -> OccupationCoder:
    tax = Taxonomy.load(DATA / "csco22_occupations.csv")
    return OccupationCoder(tax, build_encoder("e5"), cache_dir=tmp_path_factory.mktemp("cache"))


# title -> acceptable codes (an occupation, or a group ending -00) and the code it used to get
FAMILIES = [
    ("销售业务员", ["4-01-02-00", "2-06-07-02"], "4-07-01-01"),
    ("外贸业务员", ["2-06-07-01", "4-01-02-00"], "4-07-01-01"),
    ("白酒销售业务员", ["4-01-02-00", "2-06-07-02"], "4-05-01-03"),
    ("市场业务员", ["4-01-02-00", "2-06-07-02"], "4-02-07-07"),
    ("区域经理", ["2-06-07-02", "1-06-01-02", "4-01-02-00"], "5-05-01-02"),
    ("生产经理", ["2-02-30-01", "1-06-01-02", "6-00-00-00"], "5-05-01-02"),
    ("课程顾问", ["4-13-04-00", "4-01-02-01", "2-06-07-02"], "4-08-08-04"),
    ("客服", ["4-04-05-03", "4-07-02-03", "4-01-06-02"], "3-01-02-02"),
    ("Java后端开发工程师", ["2-02-10-03"], "2-02-38-08"),
    ("药物研发工程师", ["2-02-32-00"], "2-05-06-03"),
    ("数据标注员", ["4-04-05-00"], "6-31-03-05"),
    ("急招！高级Java开发工程师（双休+五险一金）", ["2-02-10-03"], None),
    ("电子厂质检员（月7000）包吃住", ["6-31-03-05"], None),
    ("新媒体运营主管", ["4-13-01-05", "4-01-06-02"], None),
    ("连云港泽野机械设备招聘焊工", ["6-18-02-04"], None),
    ("小学语文老师", ["2-08-02-04", "2-08-99-00"], None),
]


def test_known_bad_families_come_out_right(coder):
    got = coder.code([t for t, _, _ in FAMILIES], top_k=3)
    wrong = []
    for (title, ok, bad), cands in zip(FAMILIES, got, strict=True):
        top = cands[0].code
        if not any(code_hits(g, top) for g in ok) or top == bad:
            wrong.append((title, top, cands[0].name))
    assert not wrong, wrong


def test_generic_worker_titles_stay_in_their_family(coder):
    # "DCS操作员" runs a plant's control system; "生产管培生" is a production trainee; neither
    # is transport or online-learning work
    for title, bad in [("DCS操作员", "4-02-05-04"), ("生产管培生", "4-13-04-01"), ("车间主任", "5-05-01-02")]:
        cands = coder.code([title], top_k=1)[0]
        assert cands and cands[0].code != bad, (title, cands)


def test_api_is_unchanged_and_every_code_has_a_confidence(coder):
    res = coder.code(["销售代表", "", "大数据开发工程师"], top_k=5)
    assert len(res) == 3 and res[1] == []
    for cands in (res[0], res[2]):
        assert len(cands) == 5 and all(isinstance(c, OccupationCandidate) for c in cands)
        assert [c.score for c in cands] == sorted((c.score for c in cands), reverse=True)
        assert all(0 <= c.score <= 1 and c.confidence is not None and 0 <= c.confidence <= 1 for c in cands)
    best = coder.best("大数据开发工程师")
    assert best is not None and best.code == res[2][0].code
    assert 0 < CONFIDENCE_THRESHOLD < 1


def test_context_reranks_the_titles_candidates(coder):
    title = "工程师"  # says almost nothing: the post's description decides
    plain = coder.code([title], top_k=10)[0]
    ctx = coder.code([title], top_k=10, context=["负责焊接工艺的制定和焊接质量控制，编写焊接作业指导书"])[0]
    assert plain[0].code != "2-02-07-09" and ctx[0].code == "2-02-07-09", (plain[:3], ctx[:3])
    # no context (None, or an empty one) is the plain ranking
    assert coder.code([title], top_k=10, context=[None])[0] == plain
    assert coder.code([title], top_k=10, context=[""])[0] == plain
    with pytest.raises(ValueError):
        coder.code([title, title], context=["x"])


def test_the_shipped_model_loads_offline_and_matches_its_sources(coder):
    m = load_occupation_model()
    assert m is not None and m.reranker.features == list(FEATURES)
    man = m.reranker.manifest
    assert man["version"] and man["encoder"] == coder.encoder.name
    alias_path = DATA / "occupation_aliases.json"
    # rebuild with scripts/build_occupation_model.py when the aliases or the dev set change
    assert man["sources"]["data/occupation_aliases.json"] == hashlib.sha256(alias_path.read_bytes()).hexdigest()
    assert man["trained_on"]["sha256"] == hashlib.sha256((DATA / "eval" / "real_titles_dev.csv").read_bytes()).hexdigest()
    assert m.aliases == load_aliases(alias_path)
    with (DATA / "eval" / "real_titles_dev.csv").open(encoding="utf-8") as fh:
        rows = [(r["job_name"], r["expected_code"]) for r in csv.DictReader(fh)]
    # every dev title is an exemplar, except the few plainly mislabelled ones the exclusions name
    keep = exemplar_mask([t for t, _ in rows], [c for _, c in rows], load_exclusions(alias_path))
    assert m.titles == [t for (t, _), k in zip(rows, keep, strict=True) if k]
    assert 0 < len(rows) - len(m.titles) < 20 and man["trained_on"]["excluded"] == len(rows) - len(m.titles)
    assert "4-07-01-01" not in {c for (t, c), k in zip(rows, keep, strict=True) if k and "租赁" not in t}
    # the exemplars' vectors ship with it: the coder encoded none of them
    assert (m.directory / m.vectors_file(coder.encoder.name)).exists()
    known = set(coder.taxonomy.by_code)
    assert all(c in known for codes in m.aliases.values() for c in codes)


def test_confidence_is_monotone_with_correctness_on_a_held_out_fold(coder):
    """Train on four fifths of the dev titles, rank the last fifth: the calibrated confidence
    of the top code is higher where the code is right, and its bins are ordered."""
    fz = coder.featurizer
    ex = fz.ex
    n = len(ex.titles)
    rng = np.random.default_rng(1)
    test = np.sort(rng.choice(n, size=n // 5, replace=False))
    train = np.setdiff1d(np.arange(n), test)
    try:
        model = train_reranker(fz, ex.subset(train), fz.taxon.hits)
        model.calib_x, model.calib_y = coder.model.reranker.calib_x, coder.model.reranker.calib_y
        r = rerank(fz, model, [ex.titles[i] for i in test], ex.vectors[test])
    finally:
        fz.set_exemplars(ExemplarSet(ex.titles, ex.codes, ex.vectors))
    conf = model.calibrate(r.share[:, 0])
    right = np.array([r.order[j, 0] in set(fz.taxon.hits(ex.codes[i]).tolist()) for j, i in enumerate(test)])
    assert np.all((conf >= 0) & (conf <= 1))
    assert conf[right].mean() > conf[~right].mean() + 0.15
    low, high = conf < CONFIDENCE_THRESHOLD, conf >= CONFIDENCE_THRESHOLD
    assert right[high].mean() > right[low].mean() + 0.25
    assert right.mean() > 0.45  # far above the plain coder's 0.30 on these titles
