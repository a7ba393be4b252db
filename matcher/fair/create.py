"""Creating a fair (its items resolved by ``matcher.fair.resolve``, stored all or nothing) and the
fair repository's reads and deletes over the service."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from matcher.core.errors import ImportRejected
from matcher.domain.fair import (
    FairCreate,
    FairDetail,
    FairRunResult,
    FairRunSummary,
    FairSummary,
    Progress,
    format_clock,
)
from matcher.fair.resolve import Errors, Item, Resolved, resolve_fair

if TYPE_CHECKING:  # pragma: no cover
    from matcher.domain.auth import Principal
    from matcher.service import MatchService
    from matcher.storage.fair_repo import FairRepo


def fair_repo(service: MatchService) -> FairRepo:
    from matcher.storage.fair_repo import FairRepo  # the database layer loads on first use

    return FairRepo(service.store)


def list_fairs(service: MatchService) -> list[FairSummary]:
    """Every fair, newest first."""
    return fair_repo(service).list()


def get_fair(service: MatchService, fair_id: int) -> FairDetail:
    """A fair with its posts, seekers, wishes, booth slots and booth loads; NotFound if none."""
    return fair_repo(service).get(fair_id)


def delete_fair(service: MatchService, fair_id: int, *, actor: Principal | None = None) -> None:
    """Delete a fair with its runs (the posts and talents it created stay in the pool)."""
    fair_repo(service).delete(fair_id, actor=actor)


def list_runs(service: MatchService, fair_id: int) -> list[FairRunSummary]:
    return fair_repo(service).list_runs(fair_id)


def get_run(service: MatchService, run_id: int) -> FairRunResult:
    return fair_repo(service).get_run(run_id)



# -- creating a fair ---------------------------------------------------------------------------


def create_fair(service: MatchService, fair: FairCreate, progress: Progress | None = None, *,
                actor: Principal | None = None) -> FairDetail:
    """Validate a fair and store it with the posts and talents it creates, in one transaction.

    Existing records are referenced by id or external id (a row with full data whose external
    id is already stored in the actor's numbering reuses that record, with a warning if the
    row names someone else); other rows become new demand entries (source ``fair``) or talent
    profiles, whose external ids belong to the actor's numbering. Every problem is collected and raised together as
    ImportRejected with the sheet (or list), row, field and reason; then nothing is written.
    """
    errors = Errors()
    if not fair.posts:
        errors.add(("posts", 0), "posts", "活动至少需要一个岗位")
    if not fair.seekers:
        errors.add(("seekers", 0), "seekers", "活动至少需要一位求职者")
    if progress:
        progress("校验", 0, 1)
    from matcher.storage.records import external_scope

    repo = fair_repo(service)
    merged: list[str] = []
    items = resolve_fair(service, repo, fair, external_scope(actor), errors, merged)
    if errors.items:
        raise ImportRejected(errors.sorted())
    if progress:
        progress("校验", 1, 1)
    new_posts = [it for it in items.posts if it.record is not None]
    new_seekers = [it for it in items.seekers if it.record is not None]
    fair_id = _store(service, repo, fair, items, new_posts, new_seekers, progress, actor)
    detail = repo.get(fair_id)
    detail.warnings = merged + detail.warnings
    detail.created = {"new_posts": len(new_posts), "reused_posts": len(items.posts) - len(new_posts),
                      "new_seekers": len(new_seekers), "reused_seekers": len(items.seekers) - len(new_seekers)}
    return detail


def _store(service: MatchService, repo: FairRepo, fair: FairCreate, items: Resolved, new_posts: list[Item],
           new_seekers: list[Item], progress: Progress | None, actor: Principal | None) -> int:
    """Write the new records and the fair in one unit of work; returns the fair id."""
    posts, seekers = items.posts, items.seekers

    def write(session: Any, ids: dict[str, list[int]]) -> int:
        for it, i in zip(new_posts, ids.get("demand", []), strict=True):
            it.stored_id = i
        for it, i in zip(new_seekers, ids.get("talent", []), strict=True):
            it.stored_id = i
        return repo.insert(
            session, fair,
            posts=[(it.stored_id, it.amount, it.booth) for it in posts],  # type: ignore[misc]
            seekers=[(it.stored_id, it.amount) for it in seekers],  # type: ignore[misc]
            wishes=[(kind, seekers[s].stored_id, posts[p].stored_id, rank)  # type: ignore[misc]
                    for kind, s, p, rank in items.wishes],
            slots=[(b, format_clock(s.start), format_clock(s.end)) for b, lst in items.slots.items() for s in lst])

    done = [0]

    def encoded(n: int) -> None:  # the encoder reports increments
        done[0] += n
        if progress:
            progress("编码", done[0], len(new_posts) + len(new_seekers))

    return service.add_records_with(
        {"demand": [it.record for it in new_posts], "talent": [it.record for it in new_seekers]},  # type: ignore[misc]
        write, progress=encoded if progress else None, actor=actor)
