"""Unannounced visits: pick instants at random inside outlets' opening hours, with a lockout.

Pure: the opening intervals, the earlier visits and the random generator come in as arguments,
so the same inputs and seed always give the same plan.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

Interval = tuple[datetime, datetime]  # UTC, start < end


@dataclass(frozen=True)
class PlannedVisit:
    outlet_id: int
    auditor_id: int
    at: datetime


class SchedulingError(ValueError):
    """No plan satisfies the rules (names what to relax)."""


def plan_unannounced(
    *,
    open_intervals: Mapping[int, Sequence[Interval]],
    auditor_ids: Sequence[int],
    visits_per_outlet: int,
    lockout: timedelta,
    earlier: Sequence[tuple[int, int, datetime]],
    rng: random.Random,
) -> list[PlannedVisit]:
    """``visits_per_outlet`` visits for each outlet of ``open_intervals``, at uniformly random
    instants within its open time, each by an auditor who has not been to that outlet within
    ``lockout`` of that instant (counting ``earlier`` (outlet, auditor, at) visits and the plan
    itself). Auditors are balanced: the least-loaded eligible one is chosen, ties at random."""
    if not auditor_ids:
        raise SchedulingError("auditor_ids: give at least one auditor")
    if visits_per_outlet < 1:
        raise SchedulingError("visits_per_outlet: must be at least 1")
    history = list(earlier)
    load = dict.fromkeys(auditor_ids, 0)
    plan: list[PlannedVisit] = []
    for outlet_id in sorted(open_intervals):
        intervals = [(a, b) for a, b in open_intervals[outlet_id] if b > a]
        total = sum((b - a).total_seconds() for a, b in intervals)
        if total <= 0:
            raise SchedulingError(
                f"outlet_ids: outlet {outlet_id} is never open in the window; "
                "widen the window or leave that outlet out"
            )
        for _ in range(visits_per_outlet):
            at = _random_instant(intervals, total, rng)
            eligible = [
                a
                for a in auditor_ids
                if not any(
                    o == outlet_id and who == a and abs(when - at) < lockout
                    for o, who, when in history
                )
            ]
            if not eligible:
                raise SchedulingError(
                    f"lockout: every auditor has visited outlet {outlet_id} within "
                    f"{lockout.days} day(s) of the picked time; add auditors, shorten the "
                    "lockout or ask for fewer visits"
                )
            fewest = min(load[a] for a in eligible)
            auditor = rng.choice(sorted(a for a in eligible if load[a] == fewest))
            load[auditor] += 1
            history.append((outlet_id, auditor, at))
            plan.append(PlannedVisit(outlet_id, auditor, at))
    return sorted(plan, key=lambda p: (p.at, p.outlet_id))


def _random_instant(intervals: Sequence[Interval], total: float, rng: random.Random) -> datetime:
    offset = rng.uniform(0, total)
    for start, end in intervals:
        length = (end - start).total_seconds()
        if offset <= length:
            # Whole minutes: a visit planned at 10:37:12.48 reads as machine-made.
            return (start + timedelta(seconds=offset)).replace(second=0, microsecond=0)
        offset -= length
    return intervals[-1][0]
