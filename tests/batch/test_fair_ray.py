"""Fair scoring on a real local Ray cluster (the ``ray_cluster`` fixture): the same candidates,
assignments and report as the in-process run."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from matcher.batch.fair import RayPairScorer, make_shards
from matcher.core.settings import PROJECT_ROOT
from matcher.domain.schemas import DemandEntry, TalentProfile
from matcher.fair.engine import (
    FairCreate,
    FairRunOptions,
    PostIn,
    SeekerIn,
    WishIn,
    create_fair,
    get_run,
    list_runs,
    run_fair,
)
from tests.batch.conftest import demo_rows, settings_env

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ray")]


@pytest.fixture
def fair_service(batch_settings):
    """A fair of 40 demo seekers × 20 demo posts, with wishes, must-see and an exclusion."""
    from matcher.wiring import build_service

    svc = build_service(batch_settings)
    entries = [DemandEntry.model_validate({k: v for k, v in r.items() if k != "enterprise_id"}
                                          | {"valid_until": None, "status": "open"})
               for r in demo_rows("demands.jsonl", 20)]
    talents = [TalentProfile.model_validate(r | {"status": "active"}) for r in demo_rows("talents.jsonl", 40)]
    for t in talents[::5]:
        t.fresh_graduate, t.experience_years = True, 0.0
    for e in entries[::4]:
        e.fresh_graduates_ok, e.min_experience_years = False, 2.0
    wishes = [WishIn(seeker=talents[i].external_id, post=entries[i % 20].external_id, rank=1) for i in range(0, 40, 6)]
    wishes += [WishIn(kind="must_see", seeker=talents[1].external_id, post=entries[3].external_id),
               WishIn(kind="exclude", seeker=talents[2].external_id, post=entries[4].external_id)]
    detail = create_fair(svc, FairCreate(name="Ray 评分对照", posts=[PostIn(entry=e, capacity=3) for e in entries],
                                         seekers=[SeekerIn(profile=t) for t in talents], wishes=wishes))
    yield svc, detail.id
    svc.close()


def _comparable(result):
    report = result.report.model_dump()
    report.pop("timings")
    return report, [a.model_dump() for a in result.assignments]


def test_shards_cover_every_pair_once_with_their_own_records():
    profiles, entries = list("abcde"), list("xyz")
    si, ej = np.array([0, 0, 1, 3, 4, 4, 4]), np.array([0, 2, 1, 1, 0, 1, 2])
    shards = make_shards(profiles, entries, si, ej, np.arange(7.0), 0.3, 3)
    assert [s.index for s in shards] == [0, 1, 2]
    pairs = [(s.profiles[i], s.entries[j], c) for s in shards
             for i, j, c in zip(s.si.tolist(), s.ej.tolist(), s.cos.tolist(), strict=True)]
    assert pairs == [(profiles[i], entries[j], float(k)) for k, (i, j) in enumerate(zip(si, ej, strict=True))]
    assert shards[2].profiles == ["e"] and shards[0].profiles == ["a", "b"]


def test_fair_scored_on_the_cluster_equals_the_in_process_run(ray_cluster, fair_service):
    svc, fair_id = fair_service
    options = FairRunOptions(min_score=0.2, top_n=10, post_top=5, save=False)
    local = run_fair(svc, fair_id, options)
    scorer = RayPairScorer(svc.settings, svc.weights, address=ray_cluster.address, shard_pairs=40)
    on_ray = run_fair(svc, fair_id, options, scorer=scorer)
    assert scorer.used == 2  # both of the cluster's CPUs, several shards each
    assert local.report.candidate_pairs > 3 * 40
    assert _comparable(on_ray) == _comparable(local)
    assert local.report.ineligible_pairs > 0 and local.report.interviews > 0


def test_cli_fair_run_on_the_cluster(ray_cluster, fair_service, batch_settings):
    svc, fair_id = fair_service
    local = run_fair(svc, fair_id, FairRunOptions(save=False))
    env = {**os.environ, **ray_cluster.env, **settings_env(batch_settings), "PYTHONPATH": str(PROJECT_ROOT),
           "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "matcher.cli.main", "fair", "run", str(fair_id), "--executor", "ray",
           "--ray-address", ray_cluster.address, "--workers", "1"]
    done = subprocess.run(cmd, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    run = get_run(svc, list_runs(svc, fair_id)[-1].run_id)
    assert _comparable(run)[1] == _comparable(local)[1]
    bad = subprocess.run([*cmd[:6], "--workers", "2"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode != 0 and "只用于 --executor ray" in bad.stderr + bad.stdout
