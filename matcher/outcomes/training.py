"""Learning from the stored outcomes: the event log of the store, time splits, and the model
registry under the data directory (``talentmatch model train | evaluate | promote | rollback``).

- **Event log**: every stored impression (a shown pair: features, rank, list, time) and every
  event tied to one (``matcher.storage.outcomes_repo``); times become days since ``ORIGIN``, so
  training windows in manifests and held-out windows compare across runs. Events never tied to a
  shown pair (an imported interview of a pair nobody was shown) have no rank to learn from and
  are counted, not used.
- **Time split** (``models.rerankers.evaluation.time_split``): train on the pairs shown before
  ``cutoff - maturity`` with the labels known at the cut-off; hold out the pairs shown from the
  cut-off on, with everything that followed. The default cut-off leaves the last 30% of the
  impressions for the held-out window.
- **Position bias**: when the training window holds lists shown in random order (the
  simulator's exploration slice), theta(p) = p^-eta is fitted on them and the held-out gains are
  inverse-propensity weighted (``models.rerankers.registry``), else the logged gains are used.
- **Registry**: ``settings.data_dir / "models"`` (``registry.json`` is the pointer to the
  current model; ``models/ID/`` the artifacts with their manifest). ``promote`` first refuses a
  model whose features are not the service's (``matcher.ranking.learned.FEATURES``), then one
  that is not better than the current ranker on the held-out window.

Simulated events (``matcher.outcomes.synthetic``) can be stored (``simulate_into_store``, every
row flagged ``synthetic``) so that all of this works before real users exist.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from matcher.core.errors import Conflict, InvalidInput, NotFound
from matcher.domain.auth import Principal
from matcher.outcomes.features import weights_dict
from matcher.ranking.learned import FEATURES
from models.errors import ArtifactMismatch, ModelError, PromotionRefused, RegistryError
from models.rerankers import registry
from models.rerankers.data import PairTable
from models.rerankers.evaluation import EventLog, time_split
from models.rerankers.labels import EVENTS
from models.rerankers.propensity import fit_position_bias, propensity

ORIGIN = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
HELDOUT_SHARE = 0.3
MATURITY_DAYS = 10.0


def day_of(t: dt.datetime) -> float:
    return (t - ORIGIN).total_seconds() / 86400.0


def time_of(day: float) -> dt.datetime:
    return ORIGIN + dt.timedelta(days=float(day))


@contextmanager
def model_errors() -> Iterator[None]:
    """The models' errors as the service's own (a message and an exit code, a problem response)."""
    try:
        yield
    except PromotionRefused as exc:
        raise Conflict(str(exc)) from None
    except RegistryError as exc:
        raise (NotFound if "不存在" in str(exc) else InvalidInput)(str(exc)) from None
    except (ArtifactMismatch, ModelError, ValueError, KeyError) as exc:
        raise InvalidInput(str(exc).strip("'\"")) from None


@dataclass
class StoredLog:
    log: EventLog
    info: dict[str, Any] = field(default_factory=dict)


def stored_log(svc: Any, *, synthetic: bool = True) -> StoredLog:
    """The store's impressions and events as an ``EventLog`` (``synthetic``: with the simulated ones)."""
    imps, evs = svc.outcomes.training_rows()
    if not synthetic:
        imps = [r for r in imps if not r["synthetic"]]
        evs = [e for e in evs if not e["synthetic"]]
    unusable = [r for r in imps if set(FEATURES) - set(r["features"] or {})]
    imps = [r for r in imps if not set(FEATURES) - set(r["features"] or {})]
    if not imps:
        raise InvalidInput("没有可用于训练的展示记录（impressions）：请先让用户浏览推荐，或运行 talentmatch outcomes simulate")
    row_of = {r["id"]: i for i, r in enumerate(imps)}
    lists = {lid: q for q, lid in enumerate(dict.fromkeys(r["list_id"] for r in imps))}
    cols = {n: np.array([float(r["features"][n]) for r in imps]) for n in FEATURES}
    cols["position"] = np.array([float(r["rank"]) for r in imps])
    meta = {"explore": np.array([bool(r["randomised"]) for r in imps]),
            "synthetic": np.array([bool(r["synthetic"]) for r in imps]),
            "talent_id": np.array([r["talent_id"] for r in imps], dtype=np.int64),
            "demand_id": np.array([r["demand_id"] for r in imps], dtype=np.int64)}
    n = len(imps)
    shown = PairTable(cols, np.array([lists[r["list_id"]] for r in imps]), np.array([day_of(r["shown_at"]) for r in imps]),
                      np.zeros(n), np.zeros(n, dtype=bool), meta)
    linked = [e for e in evs if e["impression_id"] in row_of and e["kind"] in EVENTS]
    log = EventLog(shown, np.array([row_of[e["impression_id"]] for e in linked], dtype=np.int64),
                   np.array([day_of(e["at"]) for e in linked], dtype=np.float64),
                   np.array([e["kind"] for e in linked], dtype=str))
    info = {"impressions": n, "events": len(linked), "events_without_impression": len(evs) - len(linked),
            "impressions_without_features": len(unusable), "synthetic_impressions": int(meta["synthetic"].sum()),
            "lists": len(lists)}
    return StoredLog(log, info)


def default_cutoff(log: EventLog, share: float = HELDOUT_SHARE) -> float:
    """The day from which the last ``share`` of the impressions are shown."""
    return float(np.quantile(log.shown.day, 1.0 - share))


def split(stored: StoredLog, cutoff: float | None, maturity_days: float) -> tuple[PairTable, PairTable, dict[str, Any]]:
    """(train, held-out, what was done) of a time split; held-out with propensities when the
    training window has randomised lists."""
    log = stored.log
    cutoff = default_cutoff(log) if cutoff is None else cutoff
    train, heldout = time_split(log, cutoff, maturity_days=maturity_days)
    info: dict[str, Any] = {"cutoff_day": cutoff, "cutoff": time_of(cutoff).isoformat(timespec="seconds"),
                            "maturity_days": maturity_days, "train_rows": len(train), "heldout_rows": len(heldout)}
    explore = log.shown.meta["explore"] & (log.shown.day < cutoff)
    if explore.sum() >= 50:
        try:
            bias = fit_position_bias(log.shown.columns["position"][explore], log.happened("viewed", cutoff)[explore])
            heldout.meta["propensity"] = propensity(heldout.columns["position"], bias["eta"])
            info["position_bias_eta"] = bias["eta"]
        except ValueError:
            pass
    return train, heldout, info


def registry_root(svc: Any) -> Any:
    return svc.model_root


def train_model(svc: Any, *, kind: str = "logistic", cutoff: float | None = None,
                maturity_days: float = MATURITY_DAYS, seed: int = 0, synthetic: bool = True) -> dict[str, Any]:
    """Train on the training window of the stored outcomes; the model is saved, not promoted."""
    stored = stored_log(svc, synthetic=synthetic)
    train, _, info = split(stored, cutoff, maturity_days)
    if not len(train):
        raise InvalidInput(f"截止时间 {info['cutoff']} 之前（减去 {maturity_days:g} 天成熟期）没有展示记录，无法训练")
    note = (f"含模拟数据（synthetic）{stored.info['synthetic_impressions']} 条展示" if stored.info["synthetic_impressions"]
            else "真实数据")
    with model_errors():
        model_id = registry.train(registry_root(svc), train, kind=kind, feature_names=FEATURES, seed=seed,  # type: ignore[arg-type]
                                  labels_until=info["cutoff_day"], note=note)
    return {"model": model_id, **stored.info, **info}


def _heldout_for(svc: Any, model_id: str, synthetic: bool) -> tuple[PairTable, dict[str, Any]]:
    with model_errors():
        manifest = registry.read_manifest(registry.model_dir(registry_root(svc), model_id))
    window = manifest.get("training_window") or {}
    cutoff = window.get("labels_until")
    if cutoff is None:
        raise InvalidInput(f"模型 {model_id} 的清单没有记录训练截止时间，无法确定留出窗口")
    stored = stored_log(svc, synthetic=synthetic)
    _, heldout, info = split(stored, float(cutoff), MATURITY_DAYS)
    if not len(heldout):
        raise InvalidInput(f"截止时间 {info['cutoff']} 之后没有展示记录：留出窗口为空")
    return heldout, {**stored.info, **info}


def evaluate_model(svc: Any, model_id: str, *, resamples: int = 1000, seed: int = 0,
                   synthetic: bool = True) -> dict[str, Any]:
    """The model against the current ranker (``weighted`` when none is promoted) on the pairs
    shown after its training cut-off: nDCG@10, MAP, AUC with bootstrap intervals."""
    heldout, info = _heldout_for(svc, model_id, synthetic)
    with model_errors():
        report = registry.evaluate(registry_root(svc), model_id, heldout, weights=weights_dict(svc.weights),
                                   resamples=resamples, seed=seed)
    return {**report, "data": info}


def check_features(svc: Any, model_id: str) -> None:
    """Refuse a model the service could not use (other features, other libraries)."""
    with model_errors():
        registry.load_model(registry.model_dir(registry_root(svc), model_id), FEATURES)


def promote_model(svc: Any, model_id: str, *, resamples: int = 1000, seed: int = 0,
                  synthetic: bool = True) -> dict[str, Any]:
    check_features(svc, model_id)
    heldout, info = _heldout_for(svc, model_id, synthetic)
    with model_errors():
        report = registry.promote(registry_root(svc), model_id, heldout, weights=weights_dict(svc.weights),
                                  resamples=resamples, seed=seed)
    return {**report, "data": info}


def rollback_model(svc: Any) -> str | None:
    with model_errors():
        return registry.rollback(registry_root(svc))


def model_status(svc: Any) -> dict[str, Any]:
    root = registry_root(svc)
    reg = registry.read_registry(root)
    active, model = svc.active_model()
    return {"current": reg["current"], "active": active, "calibrated": bool(model is not None and model.calibrated),
            "problem": svc.model_problem, "promoted": reg["promoted"], "models": registry.list_models(root),
            "log": reg["log"][-10:]}


# -- simulated outcomes into the store -------------------------------------------------------

def simulate_into_store(svc: Any, *, seekers: int = 900, per_seeker: int = 40, seed: int = 0,
                        source: str = "random", replace: bool = True, actor: Principal | None = None,
                        now: dt.datetime | None = None) -> dict[str, Any]:
    """SIMULATED seekers and recruiters (``matcher.outcomes.synthetic``) acting over the last
    weeks, stored as impressions and events flagged ``synthetic``.

    ``source="random"``: random plausible pairs with negative ids (no stored record is implied);
    ``"service"``: the service's own rankings of up to ``seekers`` stored talents (slower)."""
    import random

    from matcher.outcomes.synthetic import SimConfig, build_candidates, random_candidates, simulate

    cfg = SimConfig(seed=seed)
    if source == "random":
        cands = random_candidates(seekers, per_seeker, weights_dict(svc.weights), seed=seed)
        talent_ids = -(cands.seeker + 1)
        demand_ids = -cands.post
    elif source == "service":
        ids = sorted(t.id for t in svc.list_records("talent", offset=0, limit=100_000)[0])
        if not ids:
            raise InvalidInput("库中没有人才档案，无法按服务的排序模拟；可改用 --source random")
        pick = sorted(random.Random(seed).sample(ids, min(seekers, len(ids))))
        cands = build_candidates(svc, pick, per_seeker=per_seeker, seed=seed)
        talent_ids, demand_ids = cands.talent_id, cands.post
    else:
        raise InvalidInput("source 只能是 random 或 service")
    log = simulate(cands, cfg)
    now = now or dt.datetime.now(dt.UTC)

    def at(day: float, minute: int = 0) -> dt.datetime:  # the simulation ends now
        return now - dt.timedelta(days=cfg.end - float(day)) + dt.timedelta(minutes=minute)

    shown = log.shown
    cand_row = {}
    for i, (s, p) in enumerate(zip(cands.seeker, cands.post, strict=True)):
        cand_row.setdefault((int(s), int(p)), i)
    imps = []
    for i in range(len(shown)):
        c = cand_row[(int(shown.meta["seeker"][i]), int(shown.meta["post"][i]))]
        imps.append({"talent_id": int(talent_ids[c]), "demand_id": int(demand_ids[c]), "side": "demand",
                     "list_id": f"sim-{seed}-{int(shown.query[i])}", "rank": int(shown.columns["position"][i]),
                     "score": 0.0, "model": "weighted",
                     "features": {n: float(shown.columns[n][i]) for n in FEATURES},
                     "randomised": bool(shown.meta["explore"][i]), "shown_at": at(shown.day[i])})
    events = [{"impression": int(r), "kind": str(k), "at": at(d, 1)}
              for r, d, k in zip(log.event_pair, log.event_day, log.event_kind, strict=True)]
    removed = svc.outcomes.delete_synthetic(actor) if replace else (0, 0)
    n_imp, n_ev = svc.outcomes.add_synthetic(imps, events, actor)
    return {"impressions": n_imp, "events": n_ev, "removed": {"impressions": removed[0], "events": removed[1]},
            "by_kind": log.counts(), "source": source, "seed": seed,
            "first": at(0).isoformat(timespec="seconds"), "last": now.isoformat(timespec="seconds")}
