"""Weak labels from a fair run (招聘会匹配结果): outcomes the fairs already have.

A run's interview list is what each seeker was shown: one list per seeker, the seeker's
interviews in the run's order (rank 1 first), recorded as impressions at the run's time with the
pair's features as scored now (the run kept its scores, not the feature rows). A seeker's first
wish among them is recorded as ``applied`` (the seeker wanted the post most) and an enterprise's
must-see as ``shortlisted`` (the enterprise wanted the seeker): source ``fair``, ``detail.weak``
naming the signal. Real, not simulated; weak, since a wish is not an application. A run is taken
once; pairs whose records were deleted since are skipped and counted.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from matcher.core.errors import Conflict, NotFound
from matcher.domain.auth import Principal
from matcher.storage.outcomes_repo import NewEvent, Outcomes, Shown


def weak_labels_from_run(svc: Any, run_id: int, actor: Principal | None = None) -> dict[str, Any]:
    prefix = f"fair-run-{run_id}-"
    with svc.store.session() as s:
        repo = Outcomes(s)
        at, pairs = repo.fair_run(run_id)
        if repo.has_list(prefix):
            raise Conflict(f"匹配结果 {run_id} 的弱标签已导入过")
    by_seeker: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for p in pairs:
        by_seeker[p["talent_id"]].append(p)
    lists, events, skipped = [], [], 0
    for tid, mine in sorted(by_seeker.items()):
        shown = []
        for p in mine:
            try:
                shown.append((p, svc.pair_features(tid, p["demand_id"])))
            except NotFound:
                skipped += 1
        lists.append((f"{prefix}{tid}", [Shown(tid, p["demand_id"], r, p["score"], f)
                                          for r, (p, f) in enumerate(shown, 1)]))
        later = at + dt.timedelta(minutes=1)
        for p, _ in shown:
            if p["wish_rank"] == 1:
                events.append(NewEvent(tid, p["demand_id"], "applied", "fair", at=later,
                                       detail={"weak": "first_wish", "run_id": run_id}))
            if p["must_see"]:
                events.append(NewEvent(tid, p["demand_id"], "shortlisted", "fair", at=later,
                                       detail={"weak": "must_see", "run_id": run_id}))
    with svc.store.session() as s:  # all or nothing
        repo = Outcomes(s)
        n = sum(len(repo.add_impressions("fair", list_id, shown, "weighted", actor, at=at)) for list_id, shown in lists)
        stored = repo.add_events(events, actor)
    kinds: dict[str, int] = defaultdict(int)
    for e in stored:
        kinds[e["kind"]] += 1
    return {"run_id": run_id, "impressions": n, "events": len(stored), "by_kind": dict(kinds), "skipped": skipped,
            "lists": len(lists)}
