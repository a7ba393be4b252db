"""Job-fair batch matching (人才对接活动、高校人才直通车): many seekers × many posts at once.

A fair holds posts (demand entries, each with an interview capacity and a booth), registered
seekers (talent profiles, each with an interview limit), optional wishes (a seeker's ranked
posts, an enterprise's must-see or excluded seekers) and time slots per booth. A run:

1. **Candidates**: the cosine of the passage vectors of every (seeker, post); each seeker's
   top-N posts and each post's top-M seekers by cosine, plus every wished and must-see pair,
   minus the excluded ones. The core's two-sided score (``MatchService.score_pair``) runs on
   those pairs only; ineligible pairs (hard requirements) and pairs below ``min_score`` are
   dropped, except must-see pairs, which the enterprise asked for by name.
2. **Assignment**: ``optimal`` = maximum total fit under capacities and limits (must-see pairs
   first), solved exactly; ``stable`` = seeker-proposing deferred acceptance with capacities on
   both sides, whose result has no blocking pair under the preferences used.
3. **Schedule**: a booth time slot for every interview; no seeker in two places at once, no
   booth slot used twice. What cannot be placed is reported with the reason.
4. **Report**: totals, shares, blocking pairs, the welfare gap between the two modes, and the
   distribution of interviews by chain, school and fresh-graduate status.

The algorithms are pure functions over :class:`Pair` lists (no database), the orchestration
(:func:`create_fair`, :func:`run_fair`, ...) works through ``MatchService`` and the fair
repository of :mod:`matcher.storage.fair_repo`.
"""
from matcher.domain.fair import (  # noqa: F401 - the fair package's public names, in one place
    REPORT_DEFINITIONS,
    Assignment,
    BlockingPair,
    BoothInfo,
    BoothSlot,
    FairCreate,
    FairDetail,
    FairPost,
    FairReport,
    FairRunOptions,
    FairRunResult,
    FairRunSummary,
    FairSeeker,
    FairSettings,
    FairSummary,
    FairWish,
    GroupStat,
    PostIn,
    Progress,
    SeekerIn,
    SheetRowError,
    Slot,
    SlotIn,
    WishIn,
    booth_warnings,
    format_clock,
    parse_clock,
)
from matcher.fair.create import (  # noqa: F401 - the fair package's public names, in one place
    create_fair,
    delete_fair,
    get_fair,
    get_run,
    list_fairs,
    list_runs,
)
from matcher.fair.report import (  # noqa: F401 - the fair package's public names, in one place
    fair_report,
)
from matcher.fair.run import (  # noqa: F401 - the fair package's public names, in one place
    Candidates,
    booth_schedule,
    run_fair,
    score_candidates,
    seeker_schedule,
)
from matcher.fair.schedule import (  # noqa: F401 - the fair package's public names, in one place
    ScheduleResult,
    schedule_interviews,
)
from matcher.fair.solve import (  # noqa: F401 - the fair package's public names, in one place
    Instance,
    Pair,
    blocking_pairs,
    check_feasible,
    post_key,
    seeker_key,
    solve_optimal,
    solve_stable,
    total_fit,
)

__all__ = ["Assignment", "BlockingPair", "BoothInfo", "BoothSlot", "Candidates", "FairCreate", "FairDetail", "FairPost", "FairReport", "FairRunOptions", "FairRunResult", "FairRunSummary", "FairSeeker", "FairSettings", "FairSummary", "FairWish", "GroupStat", "Instance", "Pair", "PostIn", "REPORT_DEFINITIONS", "ScheduleResult", "SeekerIn", "SheetRowError", "Slot", "SlotIn", "WishIn", "blocking_pairs", "booth_schedule", "booth_warnings", "check_feasible", "create_fair", "delete_fair", "fair_report", "format_clock", "get_fair", "get_run", "list_fairs", "list_runs", "parse_clock", "run_fair", "schedule_interviews", "score_candidates", "seeker_schedule", "solve_optimal", "solve_stable", "total_fit"]
