"""Interview scheduling: a booth time slot for every interview, no seeker in two places at once."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from matcher.domain.fair import Slot
from matcher.fair.solve import Pair

if TYPE_CHECKING:  # pragma: no cover
    pass



# =============================================================================================
# scheduling
# =============================================================================================


@dataclass
class ScheduleResult:
    placed: dict[tuple[int, int], Slot] = field(default_factory=dict)  # (seeker, post) -> slot
    unscheduled: dict[tuple[int, int], str] = field(default_factory=dict)  # -> reason
    repairs: int = 0  # interviews placed by an alternating-path swap after the greedy pass


def _overlaps(a: Slot, b: Slot) -> bool:
    return a.start < b.end and b.start < a.end


def _clean_grid(slots: Iterable[Slot]) -> list[Slot] | None:
    """The distinct slots, sorted, if any two are equal or disjoint; None otherwise."""
    distinct = sorted(set(slots))
    for a, b in zip(distinct, distinct[1:], strict=False):
        if b.start < a.end:
            return None
    return distinct


def schedule_interviews(pairs: Sequence[Pair], booth_of: dict[int, str],
                        slots: dict[str, Sequence[Slot]]) -> ScheduleResult:
    """A booth slot for every interview: a booth slot holds one interview, and a seeker's
    interviews never overlap in time.

    The interviews form a bipartite multigraph seekers × booths and a schedule is an edge
    colouring by time slots. A greedy pass (busiest booths first, earliest slot free at both
    ends) is followed, when all slots form a grid (any two equal or disjoint), by the
    alternating-path (Kempe chain) repair of König's edge-colouring proof: for an interview
    left over, with slot ``a`` free at its booth and ``c`` free for its seeker, swap ``a``/``c``
    along the path starting at the seeker (when every booth on it has both slots). With one
    grid for every booth, at most ``len(grid)`` interviews per booth and per seeker,
    everything is placed. Whatever still does not fit is returned in ``unscheduled`` with the
    reason.
    """
    res = ScheduleResult()
    by_booth: dict[str, list[Pair]] = defaultdict(list)
    seeker_load: Counter[int] = Counter(p.seeker for p in pairs)
    for p in pairs:
        by_booth[booth_of[p.post]].append(p)
    booth_slots = {b: sorted(set(slots.get(b, ()))) for b in by_booth}
    grid = _clean_grid(s for lst in booth_slots.values() for s in lst)

    def pressure(b: str) -> float:
        return len(by_booth[b]) / max(len(booth_slots[b]), 1)

    seeker_busy: dict[int, list[Slot]] = defaultdict(list)
    booth_used: dict[str, dict[Slot, tuple[int, int]]] = defaultdict(dict)
    leftovers: list[Pair] = []
    for b in sorted(by_booth, key=lambda b: (-pressure(b), b)):
        todo = sorted(by_booth[b], key=lambda p: (-seeker_load[p.seeker], p.seeker, p.post))
        for p in todo:
            for slot in booth_slots[b]:
                if slot in booth_used[b]:
                    continue
                if any(_overlaps(slot, o) for o in seeker_busy[p.seeker]):
                    continue
                booth_used[b][slot] = (p.seeker, p.post)
                seeker_busy[p.seeker].append(slot)
                res.placed[(p.seeker, p.post)] = slot
                break
            else:
                leftovers.append(p)
    if grid is not None and leftovers:
        leftovers = _kempe_repair(leftovers, grid, booth_of, booth_slots, booth_used, res)
    for p in leftovers:
        b = booth_of[p.post]
        n_slots, load = len(booth_slots[b]), len(by_booth[b])
        if n_slots == 0:
            reason = f"展位“{b}”没有面试时段"
        elif load > n_slots and len(booth_used[b]) >= n_slots:
            reason = f"展位“{b}”时段不足（{n_slots} 个时段，需安排 {load} 场面试）"
        else:
            reason = "该展位剩余时段均与此求职者的其他面试时间冲突"
        res.unscheduled[(p.seeker, p.post)] = reason
    return res


def _kempe_repair(leftovers: list[Pair], grid: list[Slot], booth_of: dict[int, str],
                  booth_slots: dict[str, list[Slot]], booth_used: dict[str, dict[Slot, tuple[int, int]]],
                  res: ScheduleResult) -> list[Pair]:
    """Place leftovers by swapping two slots along an alternating path (grid slots only)."""
    seeker_at: dict[int, dict[Slot, tuple[int, int]]] = defaultdict(dict)
    for (s, post), slot in res.placed.items():
        seeker_at[s][slot] = (s, post)
    still: list[Pair] = []
    for p in leftovers:
        b = booth_of[p.post]
        free_b = [t for t in booth_slots[b] if t not in booth_used[b]]
        free_s = [t for t in grid if t not in seeker_at[p.seeker]]
        done = False
        for a in free_b:
            for c in free_s:
                path = _alternating_path(p.seeker, a, c, booth_of, booth_used, seeker_at)
                if path is None or any(
                        new not in booth_slots[booth_of[post]] for (_, post), _, new in path):
                    continue
                if any(booth_of[post] == b for (_, post), _, _ in path):
                    continue  # cannot happen on a proper colouring; kept as a guard
                for key, old, _ in path:
                    del booth_used[booth_of[key[1]]][old]
                    del seeker_at[key[0]][old]
                for key, _, new in path:
                    booth_used[booth_of[key[1]]][new] = key
                    seeker_at[key[0]][new] = key
                    res.placed[key] = new
                assert a not in seeker_at[p.seeker] and a not in booth_used[b]
                booth_used[b][a] = (p.seeker, p.post)
                seeker_at[p.seeker][a] = (p.seeker, p.post)
                res.placed[(p.seeker, p.post)] = a
                res.repairs += 1
                done = True
                break
            if done:
                break
        if not done:
            still.append(p)
    return still


def _alternating_path(seeker: int, a: Slot, c: Slot, booth_of: dict[int, str],
                      booth_used: dict[str, dict[Slot, tuple[int, int]]],
                      seeker_at: dict[int, dict[Slot, tuple[int, int]]]
                      ) -> list[tuple[tuple[int, int], Slot, Slot]] | None:
    """The a/c alternating path from ``seeker`` (which holds ``a`` and is free at ``c``), as
    (interview, old slot, new slot) steps; None if it does not end (cannot on a proper colouring)."""
    steps: list[tuple[tuple[int, int], Slot, Slot]] = []
    seen: set[tuple[int, int]] = set()
    at_seeker, vertex, cur, other = True, seeker, a, c
    while True:
        used = seeker_at[vertex] if at_seeker else booth_used[vertex]  # type: ignore[index]
        key = used.get(cur)
        if key is None:
            return steps
        if key in seen:
            return None
        seen.add(key)
        steps.append((key, cur, other))
        vertex = booth_of[key[1]] if at_seeker else key[0]
        at_seeker = not at_seeker
        cur, other = other, cur
