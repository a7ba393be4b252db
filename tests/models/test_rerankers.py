"""Re-rankers: ``weighted`` is the service's formula bit for bit; the learned model trains,
calibrates and beats it on simulated outcomes; artifacts refuse what does not fit; the registry
promotes only a better model and rolls back."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from matcher.core.settings import PROJECT_ROOT, Weights
from matcher.domain.schemas import DemandEntry, TalentProfile
from matcher.outcomes.features import pair_features, weights_dict
from matcher.outcomes.synthetic import SimConfig, random_candidates, simulate
from models.errors import ArtifactMismatch, PromotionRefused, RegistryError
from models.rerankers import (
    COMPONENTS,
    DEFAULT_FEATURES,
    PairTable,
    WeightedReranker,
    calibration_report,
    columns_matrix,
    compare_rankers,
    fit_reranker,
    time_split,
)
from models.rerankers import registry as reg
from models.rerankers.artifacts import load_model, read_manifest, save_model, version_problems
from models.rerankers.labels import grade, grade_events
from models.rerankers.metrics import auc, average_precision, ndcg_at_k
from models.rerankers.propensity import fit_position_bias, propensity

DEMO = PROJECT_ROOT / "data" / "demo"


def _records(name: str, model, n: int) -> list:
    out = []
    with (DEMO / name).open(encoding="utf-8") as f:
        for line in f:
            out.append(model.model_validate(json.loads(line)))
            if len(out) == n:
                break
    return out


def _mutate(rng: random.Random, profile: TalentProfile, entry: DemandEntry) -> tuple[TalentProfile, DemandEntry]:
    """Vary the demo records so that every branch of the scoring is reached."""
    p, e = {}, {}
    if rng.random() < 0.2:
        p["skills"] = []
    if rng.random() < 0.3:
        p["skills"] = profile.skills + rng.sample(entry.required_skills, len(entry.required_skills) // 2 + 1) \
            if entry.required_skills else profile.skills
    if rng.random() < 0.2:
        p["major"] = None
    if rng.random() < 0.2:
        p["experience_years"] = round(rng.uniform(0, 20), 1)
    if rng.random() < 0.15:
        p["salary_min"], p["salary_max"] = None, None
    if rng.random() < 0.2:
        p["preferred_cities"] = []
    if rng.random() < 0.2:
        e["shortage_level"] = rng.randint(1, 5)
    if rng.random() < 0.2:
        e["fresh_graduates_ok"] = False
    if rng.random() < 0.15:
        e["majors"] = []
    return profile.model_copy(update=p), entry.model_copy(update=e)


def test_weighted_is_the_service_formula_bit_for_bit(service):
    """On 600 random pairs under the default and three other weightings, both targets: the
    seeker, employer and total scores of WeightedReranker are == the service's."""
    rng = random.Random(13)
    talents = _records("talents.jsonl", TalentProfile, 200)
    demands = _records("demands.jsonl", DemandEntry, 200)
    weightings = [Weights(),
                  Weights(e_semantic=0.7, e_major=0.0, s_salary=0.45, s_shortage=0.0, employer_share=0.3),
                  Weights(e_required_skills=0.013, s_location=1.7, s_chain=0.33, employer_share=1.0),
                  Weights(**{k: rng.random() for k in Weights.model_fields if k != "employer_share"},
                          employer_share=0.123456789)]
    checked = 0
    for weights in weightings:
        service.weights = weights
        ranker = WeightedReranker(weights_dict(weights))
        rows, expected = [], []
        for _ in range(150):
            profile, entry = _mutate(rng, rng.choice(talents), rng.choice(demands))
            target = rng.choice(["demand", "talent"])
            sc = service.score_pair(profile, entry, rng.uniform(-0.2, 1.0), target=target,
                                    background=rng.choice([0.0, 0.3, 0.75]))
            assert tuple(sc.comp) == COMPONENTS
            rows.append(pair_features(sc))
            expected.append((sc.seeker, sc.employer, sc.score))
        seeker, employer, total = ranker.sides(columns_matrix({k: [r[k] for r in rows] for k in COMPONENTS},
                                                              COMPONENTS))
        for i, (s, e, t) in enumerate(expected):
            assert (seeker[i], employer[i], total[i]) == (s, e, t), (i, rows[i])
        assert np.allclose(ranker.contributions(ranker_matrix(rows)).sum(axis=1), total)
        checked += len(rows)
    assert checked == 600


def ranker_matrix(rows: list[dict[str, float]]) -> np.ndarray:
    return columns_matrix({k: [r[k] for r in rows] for k in COMPONENTS}, COMPONENTS)


# -- labels and metrics ----------------------------------------------------------------------

def test_grades_follow_the_ladder():
    assert grade(["viewed", "applied", "shortlisted", "invited", "interviewed", "offered", "hired"]) == (3, False)
    assert grade(["viewed", "applied", "shortlisted", "invited", "interviewed", "rejected"]) == (2, False)
    assert grade(["viewed", "applied", "shortlisted", "invited", "interviewed", "offered", "declined"]) == (2, False)
    assert grade(["viewed", "applied", "shortlisted"]) == (1, False)
    assert grade(["viewed", "applied", "rejected"]) == (0, True)
    assert grade(["viewed", "applied", "shortlisted", "invited", "no_show"]) == (0, True)
    assert grade(["dismissed"]) == (0, True)
    assert grade(["viewed", "saved"]) == (0, False)
    assert grade([]) == (0, False)
    with pytest.raises(ValueError, match="未知"):
        grade(["liked"])
    # the vectorised form agrees, and counts only events known at a time
    pair = np.array([0, 0, 0, 1, 1, 2])
    day = np.array([1, 3, 9, 1, 2, 5])
    kind = np.array(["applied", "shortlisted", "rejected", "viewed", "dismissed", "applied"])
    g, neg = grade_events(3, pair, day, kind)
    assert g.tolist() == [0, 0, 1] and neg.tolist() == [True, True, False]
    g, neg = grade_events(3, pair, day, kind, until_day=5)
    assert g.tolist() == [1, 0, 0] and neg.tolist() == [False, True, False]


def test_ranking_metrics_by_hand():
    query = np.array([1, 1, 1, 2, 2, 3, 3])
    gains = np.array([0.0, 3.0, 1.0, 1.0, 0.0, 0.0, 0.0])
    scores = np.array([0.9, 0.5, 0.1, 0.2, 0.8, 0.3, 0.1])
    q, nd = ndcg_at_k(scores, gains, query)
    dcg1 = 3 / np.log2(3) + 1 / np.log2(4)
    idcg1 = 3 + 1 / np.log2(3)
    assert q.tolist() == [1, 2, 3]
    assert nd[0] == pytest.approx(dcg1 / idcg1) and nd[1] == pytest.approx(1 / np.log2(3)) and np.isnan(nd[2])
    _, ap = average_precision(scores, gains > 0, query)
    assert ap[0] == pytest.approx((1 / 2 + 2 / 3) / 2) and ap[1] == pytest.approx(0.5) and np.isnan(ap[2])
    assert auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == pytest.approx(0.75)


# -- simulated outcomes, training, calibration -----------------------------------------------

@pytest.fixture(scope="module")
def simulated():
    """A small simulated market (random candidates, no service): 900 seekers, 40 posts each."""
    weights = weights_dict(Weights())
    log = simulate(random_candidates(900, 40, weights, seed=5), SimConfig(seed=5))
    train, heldout = time_split(log, 38, maturity_days=10)
    shown = log.shown
    explore = shown.meta["explore"] & (shown.day < 38)
    bias = fit_position_bias(shown.columns["position"][explore], log.happened("viewed", 38)[explore])
    heldout.meta["propensity"] = propensity(heldout.columns["position"], bias["eta"])
    return weights, log, train, heldout, bias


def test_simulation_is_deterministic_and_position_biased(simulated):
    weights, log, _, _, bias = simulated
    again = simulate(random_candidates(900, 40, weights, seed=5), SimConfig(seed=5))
    assert np.array_equal(again.event_kind, log.event_kind) and np.array_equal(again.event_day, log.event_day)
    assert set(log.counts()) >= {"viewed", "applied", "dismissed", "shortlisted", "invited", "rejected", "hired"}
    assert 0.5 < bias["eta"] < 1.1  # the simulator looks at position p with probability p^-0.8


@pytest.mark.parametrize("kind", ["hgb", "logistic"])
def test_learned_model_is_calibrated_and_beats_weighted(simulated, kind):
    weights, _, train, heldout, _ = simulated
    model = fit_reranker(train, kind=kind, seed=0)
    X = heldout.matrix(model.feature_names)
    p = model.predict_proba(X, heldout.columns["position"])
    assert p.min() >= 0.0 and p.max() <= 1.0
    rel = calibration_report(model, heldout)
    assert rel["ece"] < 0.02  # observed positive rate is ~3%; calibrated within 2 points
    gains = heldout.gains / heldout.meta["propensity"]
    rankers = {kind: model, "weighted": WeightedReranker(weights)}
    report = compare_rankers(rankers, heldout, baseline="weighted", gains=gains, normalise="window", resamples=300)
    delta = report["vs_baseline"][kind]
    assert delta["ndcg_at_10"]["ci95"][0] > 0, delta
    assert delta["auc"]["ci95"][0] > 0, delta
    # hidden truth of the simulator agrees
    oracle = compare_rankers(rankers, heldout, baseline="weighted", gains=heldout.meta["truth_gain"], with_auc=False,
                             resamples=300)
    assert oracle["vs_baseline"][kind]["ndcg_at_10"]["ci95"][0] > 0
    # explanations: contributions per pair and feature, the biggest mover named
    contrib = model.contributions(X[:5])
    assert contrib.shape == (5, len(DEFAULT_FEATURES)) and np.isfinite(contrib).all()
    top = model.top_contributions(X[int(np.argmax(model.score(X)))])
    assert top and all(name in DEFAULT_FEATURES and v > 0 for name, v in top)
    # monotonic: raising a constrained component never lowers the score
    for j, name in enumerate(DEFAULT_FEATURES):
        if name not in ("shortage", "experience_years"):
            up = X[:300].copy()
            up[:, j] = np.minimum(up[:, j] + 0.3, 1.0)
            assert (model.score(up) >= model.score(X[:300]) - 1e-9).all(), name


def test_logistic_weights_follow_seniority(simulated):
    """The simulator's seekers weigh salary more with experience: the logistic model finds it."""
    model = fit_reranker(simulated[2], kind="logistic", seed=0)
    coef = model.manifest()["coefficients"]
    assert coef["ten_years"]["salary"] > coef["graduate"]["salary"] + 0.5
    assert coef["log_position"] < 0
    assert all(v >= 0 for side in ("graduate", "ten_years") for k, v in coef[side].items() if k != "shortage")


# -- artifacts and registry ------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(simulated):
    return fit_reranker(simulated[2], seed=0)


def test_logistic_artifact_round_trip(simulated, tmp_path: Path):
    model = fit_reranker(simulated[2], kind="logistic", seed=0)
    save_model(model, tmp_path / "lr", window=simulated[2].window())
    loaded = load_model(tmp_path / "lr", DEFAULT_FEATURES)
    X = simulated[3].matrix(DEFAULT_FEATURES)[:200]
    assert loaded.kind == "logistic" and np.array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert read_manifest(tmp_path / "lr")["coefficients"]["graduate"].keys() == set(COMPONENTS)


def test_artifact_round_trip_and_refusals(trained, simulated, tmp_path: Path):
    heldout = simulated[3]
    manifest = save_model(trained, tmp_path / "m", window=simulated[2].window(), metrics={"x": float("nan")})
    assert manifest["feature_names"] == list(DEFAULT_FEATURES) and manifest["kind"] == "hgb"
    assert {"scikit-learn", "numpy", "scipy", "joblib", "python"} <= set(manifest["libraries"])
    assert manifest["training_window"]["last_day"] < 38 and manifest["created_at"]
    loaded = load_model(tmp_path / "m", DEFAULT_FEATURES)
    X = heldout.matrix(DEFAULT_FEATURES)[:200]
    assert np.array_equal(loaded.score(X), trained.score(X))
    assert np.array_equal(loaded.predict_proba(X), trained.predict_proba(X))
    with pytest.raises(ArtifactMismatch, match="特征列表"):
        load_model(tmp_path / "m", COMPONENTS)  # the caller has no experience_years
    with pytest.raises(ArtifactMismatch, match="顺序"):
        load_model(tmp_path / "m", tuple(reversed(DEFAULT_FEATURES)))
    # another scikit-learn minor or numpy major: refused before unpickling
    path = tmp_path / "m" / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    for lib, version in (("scikit-learn", "0.24.2"), ("numpy", "1.26.4")):
        changed = {**data, "libraries": {**data["libraries"], lib: version}}
        path.write_text(json.dumps(changed), encoding="utf-8")
        with pytest.raises(ArtifactMismatch, match=lib):
            load_model(tmp_path / "m", DEFAULT_FEATURES)
    path.write_text(json.dumps(data), encoding="utf-8")
    assert version_problems({**data["libraries"], "scikit-learn": "1.2.0"})
    # a changed model file is refused
    (tmp_path / "m" / "model.joblib").write_bytes(b"not a model")
    with pytest.raises(ArtifactMismatch, match="SHA-256"):
        load_model(tmp_path / "m", DEFAULT_FEATURES)


def test_registry_promotes_only_a_better_model_and_rolls_back(simulated, tmp_path: Path):
    weights, _, train, heldout, _ = simulated
    root = tmp_path / "registry"
    assert reg.current(root) is None
    assert isinstance(reg.load_current(root, DEFAULT_FEATURES, weights), WeightedReranker)
    good = reg.train(root, train, seed=0, labels_until=38)
    manifest = read_manifest(root / "models" / good)
    assert manifest["metrics"]["calibration_slice"]["rows"] > 0
    assert manifest["training_window"]["labels_until"] == 38 and manifest["training_window"]["last_day"] < 28
    with pytest.raises(ValueError, match="未知的模型类型"):
        reg.train(root, train, kind="forest")
    # a model trained on shuffled labels is no better than weighted: refused
    rng = np.random.default_rng(0)
    shuffled = train.with_labels(rng.permutation(train.grade), rng.permutation(train.negative))
    bad = reg.train(root, shuffled, seed=0)
    with pytest.raises(PromotionRefused, match="拒绝上线"):
        reg.promote(root, bad, heldout, weights=weights, resamples=300)
    assert reg.current(root) is None
    report = reg.promote(root, good, heldout, weights=weights, resamples=300)
    assert report["baseline"] == "weighted" and report["gains"] == "inverse-propensity"
    assert reg.current(root) == good
    assert reg.load_current(root, DEFAULT_FEATURES, weights).kind == "hgb"
    # the bad model is compared with the current model now, and still refused
    with pytest.raises(PromotionRefused):
        reg.promote(root, bad, heldout, weights=weights, resamples=300)
    # a second good model (other seed) does not beat the first: refused, the first stays
    second = reg.train(root, train, seed=1, params={"max_leaf_nodes": 7})
    with pytest.raises(PromotionRefused):
        reg.promote(root, second, heldout, weights=weights, resamples=300)
    assert reg.current(root) == good
    # held-out data from the training window is refused
    with pytest.raises(RegistryError, match="晚于"):
        reg.evaluate(root, second, train, weights=weights)
    assert reg.rollback(root) is None  # back to weighted
    with pytest.raises(RegistryError, match="回滚"):
        reg.rollback(root)
    actions = [e["action"] for e in reg.read_registry(root)["log"]]
    assert actions.count("promote") == 1 and actions.count("rollback") == 1 and "promote-refused" in actions
    assert len(reg.list_models(root)) == 3


def test_rollback_restores_the_previous_promoted_model(simulated, tmp_path: Path):
    """A stack of two promoted models: rollback makes the first current again, then weighted.
    (The second is pushed onto the stack directly: whether a retrained model beats the first
    is the promotion test's business, not this one's.)"""
    weights, _, train, heldout, _ = simulated
    root = tmp_path / "registry"
    first = reg.train(root, train, seed=0)
    reg.promote(root, first, heldout, weights=weights, resamples=300)
    second = reg.train(root, train, seed=1)
    state = reg.read_registry(root)
    state["promoted"].append(second)
    state["current"] = second
    reg._write_registry(root, state)
    assert reg.rollback(root) == first
    assert reg.current(root) == first
    model = reg.load_current(root, DEFAULT_FEATURES, weights)
    X = heldout.matrix(DEFAULT_FEATURES)[:100]
    assert np.array_equal(model.score(X), load_model(root / "models" / first, DEFAULT_FEATURES).score(X))
    assert reg.rollback(root) is None
    assert isinstance(reg.load_current(root, DEFAULT_FEATURES, weights), WeightedReranker)


def test_pair_table_round_trip(simulated, tmp_path: Path):
    table = simulated[3]
    table.save(tmp_path / "t.npz")
    back = PairTable.load(tmp_path / "t.npz")
    assert np.array_equal(back.grade, table.grade) and set(back.columns) == set(table.columns)
    assert np.array_equal(back.meta["explore"], table.meta["explore"])
