"""Fair batch matching: exact optimum, stability, capacities, schedule, report, and the stored fair."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest

from matcher.core.errors import ImportRejected, InvalidInput, NotFound
from matcher.fair.engine import (
    FairCreate,
    FairRunOptions,
    Instance,
    Pair,
    PostIn,
    SeekerIn,
    Slot,
    SlotIn,
    WishIn,
    blocking_pairs,
    check_feasible,
    create_fair,
    delete_fair,
    fair_report,
    get_fair,
    get_run,
    list_fairs,
    list_runs,
    parse_clock,
    post_key,
    run_fair,
    schedule_interviews,
    score_candidates,
    seeker_key,
    solve_optimal,
    solve_stable,
    total_fit,
)
from tests.conftest import demand, talent

# ---------------------------------------------------------------------------------------------
# helpers: brute force and an independent blocking-pair check
# ---------------------------------------------------------------------------------------------


def feasible(inst: Instance, chosen: tuple[Pair, ...]) -> bool:
    s = Counter(p.seeker for p in chosen)
    q = Counter(p.post for p in chosen)
    return all(n <= inst.limits[k] for k, n in s.items()) and all(n <= inst.capacities[k] for k, n in q.items())


def brute_force(inst: Instance) -> tuple[int, float]:
    """(must-see pairs, total fit) of the lexicographically best feasible subset of pairs."""
    best = (0, 0.0)
    for bits in itertools.product((0, 1), repeat=len(inst.pairs)):
        chosen = tuple(itertools.compress(inst.pairs, bits))
        if feasible(inst, chosen):
            value = (sum(p.must_see for p in chosen), round(total_fit(chosen), 9))
            best = max(best, value)
    return best


def naive_blocking(inst: Instance, matching: list[Pair]) -> set[tuple[int, int]]:
    """Blocking pairs by the definition, written independently of ``blocking_pairs``."""
    held = {(p.seeker, p.post) for p in matching}
    out = set()
    for p in inst.pairs:
        if (p.seeker, p.post) in held:
            continue
        mine = [q for q in matching if q.seeker == p.seeker]
        theirs = [q for q in matching if q.post == p.post]
        seeker_ok = len(mine) < inst.limits[p.seeker] or any(seeker_key(p) < seeker_key(q) for q in mine)
        post_ok = len(theirs) < inst.capacities[p.post] or any(post_key(p) < post_key(q) for q in theirs)
        if seeker_ok and post_ok:
            out.add((p.seeker, p.post))
    return out


def random_instance(rng: random.Random, max_pairs: int = 12, must_see: bool = False,
                    unit: str | None = None) -> Instance:
    seekers = list(range(1, rng.randint(2, 5) + 1))
    posts = list(range(101, 101 + rng.randint(2, 4)))
    all_pairs = [(s, p) for s in seekers for p in posts]
    chosen = rng.sample(all_pairs, min(len(all_pairs), rng.randint(3, max_pairs)))
    pairs = []
    for s, p in chosen:
        a, b = round(rng.random(), 3), round(rng.random(), 3)
        pairs.append(Pair(s, p, round((a + b) / 2, 4), a, b, None, must_see and rng.random() < 0.25))
    limits = {s: 1 if unit == "seekers" else rng.randint(1, 3) for s in seekers}
    caps = {p: 1 if unit == "posts" else rng.randint(1, 3) for p in posts}
    return Instance(limits, caps, pairs)


def lex(inst: Instance, matching: list[Pair]) -> tuple[int, float]:
    return sum(p.must_see for p in matching), round(total_fit(matching), 9)


# ---------------------------------------------------------------------------------------------
# optimal
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(40))
def test_optimal_equals_brute_force(seed: int) -> None:
    inst = random_instance(random.Random(seed), must_see=seed % 2 == 1)
    best = brute_force(inst)
    for solver in ("lp", "flow"):
        m = solve_optimal(inst, solver)  # type: ignore[arg-type]
        check_feasible(inst, m)
        must, total = lex(inst, m)
        assert must == best[0]
        assert total == pytest.approx(best[1], abs=1e-5)


@pytest.mark.parametrize("seed", range(20))
def test_assignment_solver_on_unit_instances(seed: int) -> None:
    inst = random_instance(random.Random(1000 + seed), unit="seekers" if seed % 2 else "posts")
    best = brute_force(inst)
    m = solve_optimal(inst, "assignment")
    check_feasible(inst, m)
    assert lex(inst, m)[1] == pytest.approx(best[1], abs=1e-9)


def test_assignment_solver_refuses_many_to_many() -> None:
    inst = Instance({1: 2}, {10: 2}, [Pair(1, 10, 0.5, 0.5, 0.5)])
    with pytest.raises(InvalidInput, match="assignment"):
        solve_optimal(inst, "assignment")


def test_optimal_scales_past_brute_force_and_solvers_agree() -> None:
    rng = random.Random(7)
    seekers, posts = range(1, 121), range(1001, 1031)
    pairs = [Pair(s, p, round(rng.random(), 4), round(rng.random(), 4), round(rng.random(), 4))
             for s in seekers for p in rng.sample(list(posts), 8)]
    inst = Instance({s: 3 for s in seekers}, {p: rng.randint(3, 10) for p in posts}, pairs)
    lp, flow = solve_optimal(inst, "lp"), solve_optimal(inst, "flow")
    check_feasible(inst, lp)
    check_feasible(inst, flow)
    assert total_fit(lp) == pytest.approx(total_fit(flow), abs=1e-4)


@pytest.mark.parametrize("seed", range(12))
def test_direct_highs_call_equals_linprog(seed: int) -> None:
    """``_highs_ds`` (HiGHS through scipy's bindings, without linprog's wrapper) returns the very
    vector ``linprog(method="highs-ds")`` returns, on instances full of tied scores, so the
    optimal mode picks the same interviews; this fails first if a scipy upgrade changes either."""
    import numpy as np
    from scipy.optimize import linprog

    from matcher.fair.solve import _highs_ds, _incidence, _weights

    rng = random.Random(900 + seed)
    seekers, posts = range(1, rng.randint(2, 150)), range(1001, 1001 + rng.randint(1, 40))
    pairs = [Pair(s, p, sc, sc, sc, None, rng.random() < 0.03)
             for s in seekers for p in rng.sample(list(posts), rng.randint(0, min(12, len(posts))))
             for sc in [rng.choice([0.5, 0.25, round(rng.random(), 2)])]]
    inst = Instance({s: rng.randint(1, 3) for s in seekers}, {p: rng.randint(1, 6) for p in posts}, pairs)
    if not pairs:
        return
    a, b, _, _ = _incidence(inst)
    w = _weights(inst)
    got = _highs_ds(-w, a, b)
    want = linprog(-w, A_ub=a, b_ub=b, bounds=(0, 1), method="highs-ds")
    assert want.status == 0 and got is not None
    assert np.array_equal(got, want.x)


def test_must_see_beats_a_better_score() -> None:
    inst = Instance({1: 1, 2: 1}, {10: 1},
                    [Pair(1, 10, 0.9, 0.9, 0.9), Pair(2, 10, 0.3, 0.3, 0.3, must_see=True)])
    for solver in ("lp", "flow", "assignment"):
        assert [(p.seeker, p.post) for p in solve_optimal(inst, solver)] == [(2, 10)]  # type: ignore[arg-type]
    assert [(p.seeker, p.post) for p in solve_stable(inst)] == [(2, 10)]  # the post ranks must-see first


def test_more_interviews_do_not_beat_more_fit() -> None:
    # one pair of 0.9 beats two pairs of 0.3 + 0.3: the objective is fit, not the count
    inst = Instance({1: 1, 2: 1}, {10: 1, 20: 1},
                    [Pair(1, 10, 0.9, 0.9, 0.9), Pair(1, 20, 0.3, 0.3, 0.3), Pair(2, 10, 0.3, 0.3, 0.3)])
    for solver in ("lp", "flow", "assignment"):
        assert [(p.seeker, p.post) for p in solve_optimal(inst, solver)] == [(1, 10)]  # type: ignore[arg-type]


def test_empty_instance() -> None:
    inst = Instance({1: 3}, {10: 2}, [])
    assert solve_optimal(inst) == [] and solve_stable(inst) == []


# ---------------------------------------------------------------------------------------------
# stable
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(60))
def test_stable_has_no_blocking_pair(seed: int) -> None:
    rng = random.Random(500 + seed)
    inst = random_instance(rng, max_pairs=16)
    if seed % 3 == 0:  # wishes reorder the seekers' lists
        inst.pairs = [Pair(p.seeker, p.post, p.score, p.seeker_score, p.employer_score,
                           rng.choice([None, 1, 2]), p.must_see) for p in inst.pairs]
    m = solve_stable(inst)
    check_feasible(inst, m)
    assert blocking_pairs(inst, m) == []
    assert naive_blocking(inst, m) == set()
    opt = solve_optimal(inst)
    assert {(p.seeker, p.post) for p in blocking_pairs(inst, opt)} == naive_blocking(inst, opt)
    assert total_fit(opt) >= total_fit(m) - 1e-9


def test_optimal_has_a_blocking_pair_where_stable_loses_welfare() -> None:
    # seeker 1 and post 10 like each other best; the optimum still pairs them elsewhere
    inst = Instance({1: 1, 2: 1}, {10: 1, 20: 1}, [
        Pair(1, 10, 0.90, 0.90, 0.90),
        Pair(1, 20, 0.80, 0.80, 0.80),
        Pair(2, 10, 0.85, 0.85, 0.85),
        Pair(2, 20, 0.10, 0.10, 0.10),
    ])
    opt, st = solve_optimal(inst), solve_stable(inst)
    assert sorted((p.seeker, p.post) for p in opt) == [(1, 20), (2, 10)]
    assert sorted((p.seeker, p.post) for p in st) == [(1, 10), (2, 20)]
    assert total_fit(opt) == pytest.approx(1.65) and total_fit(st) == pytest.approx(1.00)
    assert [(p.seeker, p.post) for p in blocking_pairs(inst, opt)] == [(1, 10)]
    assert blocking_pairs(inst, st) == []

    sched = schedule_interviews(st, {10: "A", 20: "B"}, {"A": [Slot(540, 560)], "B": [Slot(540, 560)]})
    rep = fair_report(inst, st, opt, st, sched, mode="stable", solver="da", min_score=0.3, booth_slot_count=2,
                      school_of={1: "山东理工大学", 2: ""}, fresh_of={1: True, 2: False},
                      chain_of_post={10: "人工智能", 20: ""})
    assert (rep.interviews, rep.total_fit, rep.mean_fit) == (2, 1.0, 0.5)
    assert (rep.seeker_share, rep.capacity_fill, rep.slot_fill) == (1.0, 1.0, 1.0)
    assert (rep.blocking_pairs, rep.optimal_blocking_pairs, rep.stable_blocking_pairs) == (0, 1, 0)
    assert (rep.optimal_total, rep.stable_total, rep.welfare_gap) == (1.65, 1.0, 0.65)
    assert rep.welfare_gap_share == round(0.65 / 1.65, 4)
    assert {(g.group, g.interviews) for g in rep.by_chain} == {("人工智能", 1), ("未标注产业链", 1)}
    assert {(g.group, g.seekers, g.seekers_with_interview) for g in rep.by_school} == {
        ("山东理工大学", 1, 1), ("未填写学校", 1, 1)}
    assert {(g.group, g.interviews, g.share) for g in rep.by_fresh} == {("应届毕业生", 1, 1.0), ("非应届", 1, 1.0)}


def test_wish_order_drives_the_stable_choice() -> None:
    # seeker 1 scores post 20 higher, but wished post 10 first
    inst = Instance({1: 1}, {10: 1, 20: 1}, [Pair(1, 10, 0.5, 0.4, 0.6, wish_rank=1), Pair(1, 20, 0.9, 0.9, 0.9)])
    assert [(p.seeker, p.post) for p in solve_stable(inst)] == [(1, 10)]
    assert [(p.seeker, p.post) for p in solve_optimal(inst)] == [(1, 20)]


# ---------------------------------------------------------------------------------------------
# schedule
# ---------------------------------------------------------------------------------------------


def assert_no_clash(pairs: list[Pair], booth_of: dict[int, str], slots: dict[str, list[Slot]], sched) -> None:
    assert set(sched.placed) | set(sched.unscheduled) == {(p.seeker, p.post) for p in pairs}
    assert not set(sched.placed) & set(sched.unscheduled)
    used = Counter((booth_of[post], slot) for (_, post), slot in sched.placed.items())
    assert max(used.values(), default=1) == 1, "a booth slot holds two interviews"
    for (_, post), slot in sched.placed.items():
        assert slot in slots[booth_of[post]], "a slot the booth does not have"
    by_seeker: dict[int, list[Slot]] = {}
    for (s, _), slot in sched.placed.items():
        by_seeker.setdefault(s, []).append(slot)
    for s, lst in by_seeker.items():
        for a, b in itertools.combinations(lst, 2):
            assert not (a.start < b.end and b.start < a.end), f"seeker {s} is in two places at once"


@pytest.mark.parametrize("seed", range(30))
def test_schedule_on_a_common_grid_places_everything_without_clash(seed: int) -> None:
    rng = random.Random(seed)
    grid = [Slot(540 + 20 * i, 560 + 20 * i) for i in range(rng.randint(3, 6))]
    booths = [f"B{i}" for i in range(rng.randint(3, 8))]
    posts = {100 + i: rng.choice(booths) for i in range(12)}
    load_b: Counter[str] = Counter()
    load_s: Counter[int] = Counter()
    pairs = []
    for s, post in itertools.product(range(1, 41), posts):
        b = posts[post]
        if rng.random() < 0.3 and load_b[b] < len(grid) and load_s[s] < 3:
            load_b[b] += 1
            load_s[s] += 1
            pairs.append(Pair(s, post, 0.5, 0.5, 0.5))
    slots = {b: list(grid) for b in booths}
    sched = schedule_interviews(pairs, posts, slots)
    assert_no_clash(pairs, posts, slots, sched)
    assert sched.unscheduled == {}  # König: a grid with load <= slots always fits


def test_schedule_repair_is_exercised_and_correct() -> None:
    repairs = 0
    for seed in range(200):
        rng = random.Random(seed)
        grid = [Slot(540 + 20 * i, 560 + 20 * i) for i in range(3)]
        booths = ["A", "B", "C", "D"]
        posts = {100 + i: booths[i % 4] for i in range(8)}
        load_b: Counter[str] = Counter()
        load_s: Counter[int] = Counter()
        pairs = []
        for s, post in itertools.product(range(1, 9), posts):
            if rng.random() < 0.6 and load_b[posts[post]] < 3 and load_s[s] < 3:
                load_b[posts[post]] += 1
                load_s[s] += 1
                pairs.append(Pair(s, post, 0.5, 0.5, 0.5))
        slots = {b: list(grid) for b in booths}
        sched = schedule_interviews(pairs, posts, slots)
        assert_no_clash(pairs, posts, slots, sched)
        assert sched.unscheduled == {}
        repairs += sched.repairs
    assert repairs > 0  # the greedy pass alone fails on some of these; the path swap fixes them


def test_schedule_repair_uses_a_slot_the_target_booth_lacks() -> None:
    # A (2 slots) and B (1 slot) are equally busy; A goes first and gives seeker 1 the 09:00
    # that B needs; the path swap moves seeker 1 to 09:15 at A and seeker 2 to 09:00
    pairs = [Pair(1, 10, 0.5, 0.5, 0.5), Pair(2, 10, 0.5, 0.5, 0.5), Pair(1, 20, 0.5, 0.5, 0.5)]
    booth_of = {10: "A", 20: "B"}
    slots = {"A": [Slot(540, 555), Slot(555, 570)], "B": [Slot(540, 555)]}
    sched = schedule_interviews(pairs, booth_of, slots)
    assert_no_clash(pairs, booth_of, slots, sched)
    assert sched.placed == {(1, 10): Slot(555, 570), (2, 10): Slot(540, 555), (1, 20): Slot(540, 555)}
    assert sched.repairs == 1


def test_schedule_reports_what_does_not_fit() -> None:
    # booth A: 2 slots, 3 interviews; booths B and C overlap in time (not a grid)
    pairs = [Pair(1, 10, 0.5, 0.5, 0.5), Pair(2, 10, 0.5, 0.5, 0.5), Pair(3, 10, 0.5, 0.5, 0.5),
             Pair(4, 20, 0.5, 0.5, 0.5), Pair(4, 30, 0.5, 0.5, 0.5)]
    booth_of = {10: "A", 20: "B", 30: "C"}
    slots = {"A": [Slot(540, 560), Slot(560, 580)], "B": [Slot(540, 570)], "C": [Slot(550, 580)]}
    sched = schedule_interviews(pairs, booth_of, slots)
    assert_no_clash(pairs, booth_of, slots, sched)
    assert len(sched.placed) == 3
    reasons = sorted(sched.unscheduled.values())
    assert len(reasons) == 2
    assert reasons[0].startswith("展位“A”时段不足（2 个时段，需安排 3 场面试）")
    assert reasons[1] == "该展位剩余时段均与此求职者的其他面试时间冲突"


def test_parse_clock() -> None:
    assert [parse_clock(v) for v in ("9:00", "09:30", "9点30", "14时", "下午2:15", 0.375, "９：０５")] == [
        540, 570, 570, 840, 855, 540, 545]
    for bad in ("25:00", "abc", "", 3, None):
        for _ in range(2):  # texts are cached: a bad one fails every time, with its reason
            with pytest.raises(ValueError, match="时间"):
                parse_clock(bad)
    assert parse_clock(" 9:00 ") == parse_clock("9:00") == 540


# ---------------------------------------------------------------------------------------------
# the stored fair, through the service
# ---------------------------------------------------------------------------------------------


def _fair(**kw) -> FairCreate:
    """Three posts (two enterprises) and five new seekers; seeker 4 is a fresh graduate and
    post p3 is closed to fresh graduates."""
    posts = [
        PostIn(entry=demand(external_id="p1", title="大数据开发工程师", required_skills=["Python", "Spark"]),
               capacity=2, booth="A01"),
        PostIn(entry=demand(external_id="p2", title="数据分析师", required_skills=["SQL", "Python"]), capacity=2,
               booth="A01"),
        PostIn(entry=demand(external_id="p3", title="PLC电气工程师", enterprise_name="淄博电气设备有限公司",
                            required_skills=["PLC", "电气控制"], education="大专", fresh_graduates_ok=False,
                            min_experience_years=3), capacity=1),
    ]
    seekers = [
        SeekerIn(profile=talent(external_id="t1", name="赵一", skills=["Python", "Spark", "SQL"], school="山东理工大学")),
        SeekerIn(profile=talent(external_id="t2", name="钱二", skills=["SQL", "Python"], school="山东理工大学")),
        SeekerIn(profile=talent(external_id="t3", name="孙三", skills=["PLC", "电气控制"], education="大专",
                                experience_years=5), limit=1),
        SeekerIn(profile=talent(external_id="t4", name="李四", skills=["PLC", "Python"], fresh_graduate=True,
                                school="淄博职业学院")),
        SeekerIn(profile=talent(external_id="t5", name="周五", skills=["Spark", "Python"])),
    ]
    base = dict(name="淄博数字人才对接会", posts=posts, seekers=seekers, slot_minutes=15,
                wishes=[WishIn(seeker="t2", post="p2", rank=1), WishIn(seeker="t2", post="p1", rank=2),
                        WishIn(kind="exclude", seeker="t5", post="p1"),
                        WishIn(kind="must_see", seeker="赵一", enterprise="淄博电气设备有限公司")])
    base.update(kw)
    return FairCreate.model_validate(base)


def _counts(service) -> tuple[int, ...]:
    from sqlalchemy import func, select

    from matcher.storage.tables import EnterpriseRow, FairRow

    with service.store.session() as s:
        fairs = s.scalar(select(func.count()).select_from(FairRow))
        ents = s.scalar(select(func.count()).select_from(EnterpriseRow))
    return service.store.count("demand"), service.store.count("talent"), ents, fairs


def test_create_and_run_a_fair(service) -> None:
    detail = create_fair(service, _fair())
    assert detail.created == {"new_posts": 3, "reused_posts": 0, "new_seekers": 5, "reused_seekers": 0}
    assert [p.booth for p in detail.posts] == ["A01", "A01", "淄博电气设备有限公司"]
    assert [p.capacity for p in detail.posts] == [2, 2, 1]
    assert [s.limit for s in detail.seekers] == [3, 3, 1, 3, 3]  # default limit 3
    assert {(b.booth, b.capacity, b.slots, b.first_start, b.last_end) for b in detail.booths} == {
        ("A01", 4, 4, "09:00", "10:00"), ("淄博电气设备有限公司", 1, 1, "09:00", "09:15")}
    entries = service.store.get_many("demand", [p.demand_id for p in detail.posts])
    assert {e.source for e in entries.values()} == {"fair"}
    ids = {p.title: p.demand_id for p in detail.posts}
    tids = {s.name: s.talent_id for s in detail.seekers}
    assert sorted((w.kind, w.talent_id, w.demand_id, w.rank) for w in detail.wishes) == sorted([
        ("seeker", tids["钱二"], ids["数据分析师"], 1), ("seeker", tids["钱二"], ids["大数据开发工程师"], 2),
        ("exclude", tids["周五"], ids["大数据开发工程师"], None),
        ("must_see", tids["赵一"], ids["PLC电气工程师"], None)])

    results = {}
    for mode in ("optimal", "stable"):
        res = run_fair(service, detail.id, FairRunOptions(mode=mode, min_score=0.0))
        results[mode] = res
        pairs = {(a.talent_id, a.demand_id) for a in res.assignments}
        assert (tids["周五"], ids["大数据开发工程师"]) not in pairs  # excluded
        assert (tids["赵一"], ids["PLC电气工程师"]) in pairs  # must-see, though 赵一 lacks PLC
        assert (tids["李四"], ids["PLC电气工程师"]) not in pairs  # fresh graduate: hard requirement
        per_seeker = Counter(a.talent_id for a in res.assignments)
        per_post = Counter(a.demand_id for a in res.assignments)
        assert all(per_seeker[s.talent_id] <= s.limit for s in detail.seekers)
        assert all(per_post[p.demand_id] <= p.capacity for p in detail.posts)
        assert res.report.unscheduled == 0 and all(a.start and a.end for a in res.assignments)
        assert res.report.interviews == len(res.assignments)
        assert res.report.total_fit == pytest.approx(sum(a.score for a in res.assignments), abs=1e-3)
        must = next(a for a in res.assignments if a.must_see)
        assert "企业指定必面" in must.reason
    assert results["stable"].report.blocking_pairs == 0
    opt = results["optimal"].report
    assert opt.optimal_total == results["stable"].report.optimal_total
    assert opt.welfare_gap == pytest.approx(opt.optimal_total - opt.stable_total, abs=1e-3)
    assert opt.welfare_gap >= 0
    # 钱二's first wish is kept by the stable mode
    stable_pairs = {(a.talent_id, a.demand_id): a for a in results["stable"].assignments}
    assert stable_pairs[(tids["钱二"], ids["数据分析师"])].wish_rank == 1
    assert "求职者第 1 志愿" in stable_pairs[(tids["钱二"], ids["数据分析师"])].reason

    # runs are stored and read back as they were
    assert [r.run_id for r in list_runs(service, detail.id)] == [results["optimal"].run_id, results["stable"].run_id]
    again = get_run(service, results["optimal"].run_id)
    assert again.assignments == results["optimal"].assignments
    assert again.report == results["optimal"].report
    assert list_fairs(service)[0].runs == 2


def test_optimal_total_matches_an_independent_solve_of_the_candidates(service) -> None:
    detail = create_fair(service, _fair())
    options = FairRunOptions(min_score=0.0, save=False)
    cand = score_candidates(service, get_fair(service, detail.id), options)
    inst = Instance({s.talent_id: s.limit for s in detail.seekers}, {p.demand_id: p.capacity for p in detail.posts},
                    cand.pairs)
    assert len(cand.pairs) <= 14
    best = brute_force(inst)
    res = run_fair(service, detail.id, options)
    assert res.run_id is None
    assert sum(a.must_see for a in res.assignments) == best[0]
    assert res.report.total_fit == pytest.approx(best[1], abs=1e-3)


def test_min_score_drops_pairs_but_keeps_must_see(service) -> None:
    detail = create_fair(service, _fair())
    res = run_fair(service, detail.id, FairRunOptions(min_score=0.99, save=False))
    assert [(a.seeker_name, a.post_title) for a in res.assignments] == [("赵一", "PLC电气工程师")]
    assert res.report.below_min_pairs > 0


def test_existing_records_are_reused_and_checked(service) -> None:
    [d1, d2] = service.add("demand", [demand(external_id="old-1"), demand(external_id="old-2", status="closed")])
    [t1] = service.add("talent", [talent(external_id="old-t")])
    fair = FairCreate(name="复用", posts=[PostIn(demand_id=d1), PostIn(entry=demand(external_id="old-1", title="改名"))],
                      seekers=[SeekerIn(external_id="old-t"), SeekerIn(talent_id=999)])
    with pytest.raises(ImportRejected) as exc:
        create_fair(service, fair)
    msgs = [str(e) for e in exc.value.errors]
    assert msgs == [f"posts 第 2 项，字段 demand_id：岗位重复（与posts 第 1 项相同）（值：{d1}）",
                    "seekers 第 2 项，字段 talent_id：求职者 999 不存在（值：999）"]
    fair = FairCreate(name="关闭", posts=[PostIn(demand_id=d2)], seekers=[SeekerIn(talent_id=t1)])
    with pytest.raises(ImportRejected, match="1 处错误") as exc:
        create_fair(service, fair)
    assert exc.value.errors[0].reason == f"岗位 {d2} 未在招聘（状态：closed）"
    detail = create_fair(service, FairCreate(name="好", posts=[PostIn(external_id="old-1", capacity=2)],
                                             seekers=[SeekerIn(profile=talent(external_id="old-t", name="别名"))]))
    assert detail.created == {"new_posts": 0, "reused_posts": 1, "new_seekers": 0, "reused_seekers": 1}
    assert [p.demand_id for p in detail.posts] == [d1] and [s.talent_id for s in detail.seekers] == [t1]
    # the row named someone else than the stored profile: reused, but not silently
    assert detail.warnings[0] == (f"seekers 第 1 项：编号“old-t”对应已有人才档案 {t1}，但本行的姓名与之不同；"
                                  "已按编号复用该人才档案，本行其余信息未采用。如为不同的人，请改用新编号")


def test_external_ids_are_matched_in_the_importers_own_numbering(service) -> None:
    from matcher.domain.auth import Principal, Role

    seeker = Principal(role=Role.SEEKER, key_id=5)
    [claimed] = service.add("talent", [talent(external_id="S-1", name="冒用者")], actor=seeker)
    organiser = Principal(role=Role.ORGANISER, key_id=2)
    detail = create_fair(service, FairCreate(name="专场", posts=[PostIn(entry=demand(external_id="P-1"))],
                                             seekers=[SeekerIn(profile=talent(external_id="S-1", name="王五"))]),
                         actor=organiser)
    assert detail.created["new_seekers"] == 1 and detail.seekers[0].talent_id != claimed
    assert not detail.warnings
    again = create_fair(service, FairCreate(name="第二场", posts=[PostIn(external_id="P-1")],
                                            seekers=[SeekerIn(external_id="S-1")]))  # the CLI: staff numbering
    assert again.created == {"new_posts": 0, "reused_posts": 1, "new_seekers": 0, "reused_seekers": 1}
    assert again.seekers[0].talent_id == detail.seekers[0].talent_id
    with pytest.raises(ImportRejected) as exc:  # the claimant's numbering is not searched for others
        create_fair(service, FairCreate(name="第三场", posts=[PostIn(external_id="P-1")],
                                        seekers=[SeekerIn(external_id="S-2")]), actor=organiser)
    assert exc.value.errors[0].field == "external_id"


def test_bad_references_and_slots_are_row_errors(service) -> None:
    fair = _fair(
        wishes=[WishIn(seeker="无此人", post="p1"), WishIn(seeker="t1", post="p9"),
                WishIn(seeker="t1", enterprise="淄博测试科技有限公司"),  # two posts: ambiguous
                WishIn(kind="must_see", seeker="t1", post="p3"), WishIn(kind="exclude", seeker="t1", post="p3")],
        slots=[SlotIn(booth="Z9", start="9:00"), SlotIn(booth="A01", start="10:00", end="9:30"),
               SlotIn(booth="A01", start="9:00"), SlotIn(booth="A01", start="9:10")])
    before = _counts(service)
    with pytest.raises(ImportRejected) as exc:
        create_fair(service, fair)
    got = [(e.sheet, e.row, e.field, e.reason) for e in exc.value.errors]
    assert got == [
        ("wishes", 1, "seeker", "找不到该求职者（应为本次活动求职者的编号、人才ID或姓名）"),
        ("wishes", 2, "post", "找不到该岗位（应为本次活动岗位的编号、需求ID或岗位名称）"),
        ("wishes", 3, "enterprise", "该企业在本次活动中对应 2 个岗位，请指定岗位编号"),
        ("wishes", 4, "kind", "同一企业对同一求职者既标记必面又标记排除"),
        ("slots", 1, "booth", "本次活动中没有该展位"),
        ("slots", 2, "end", "结束时间应晚于开始时间（同一天内）"),
        ("slots", 4, "start", "与展位“A01”的时段 09:00-09:15 重叠"),
    ]
    assert _counts(service) == before


def test_a_failing_write_leaves_nothing(service, monkeypatch) -> None:
    from matcher.storage.fair_repo import FairRepo

    before = _counts(service)
    indexed = len(service.ensure_index("talent").dense)

    def boom(*args, **kw):
        raise RuntimeError("disk full")

    monkeypatch.setattr(FairRepo, "insert", staticmethod(boom))
    with pytest.raises(RuntimeError):
        create_fair(service, _fair())
    assert _counts(service) == before
    assert len(service.ensure_index("talent").dense) == indexed


def test_deleting_records_and_fairs(service) -> None:
    detail = create_fair(service, _fair())
    run = run_fair(service, detail.id, FairRunOptions(min_score=0.0))
    service.delete("demand", detail.posts[0].demand_id)
    after = get_fair(service, detail.id)
    assert [p.demand_id for p in after.posts] == [p.demand_id for p in detail.posts[1:]]
    assert all(w.demand_id != detail.posts[0].demand_id for w in after.wishes)
    assert get_run(service, run.run_id).assignments == run.assignments  # a run is a record of the past
    delete_fair(service, detail.id)
    with pytest.raises(NotFound):
        get_fair(service, detail.id)
    with pytest.raises(NotFound):
        get_run(service, run.run_id)
    assert service.store.count("talent") == 5  # the fair's talents stay in the pool


def test_run_needs_posts_and_seekers(service) -> None:
    with pytest.raises(ImportRejected) as exc:
        create_fair(service, FairCreate(name="空"))
    assert [e.reason for e in exc.value.errors] == ["活动至少需要一个岗位", "活动至少需要一位求职者"]
    with pytest.raises(NotFound):
        run_fair(service, 42)
