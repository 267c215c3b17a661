"""Performance rules: keeping a period's facts and scores fresh, reading them within the
caller's scope, the score settings, and disputes of findings."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit_service.authz import Permission, Principal
from audit_service.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from audit_service.models import (
    Dispute,
    DisputeStatus,
    EvidenceItem,
    FactDay,
    PeriodKind,
    Role,
    ScoreFact,
    ScorePeriod,
    ScoreSettings,
    SourceKind,
    Staff,
    StaffRole,
    StaffScore,
)
from audit_service.performance import open_hours, periods
from audit_service.performance import repository as repo
from audit_service.performance import sql as q
from audit_service.performance.periods import Period
from audit_service.performance.staleness import mark_stale

TREND_PERIODS = 6
# A period still running is rebuilt at most this often on read (open findings grow with time;
# only today's facts are redone).
LIVE_REFRESH = timedelta(minutes=5)


# --- settings -------------------------------------------------------------------------------


def get_settings(session: Session) -> ScoreSettings:
    """The organisation's score settings (row id 1), created with the defaults if missing."""
    row = session.get(ScoreSettings, 1)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            session.add(ScoreSettings(id=1))
    except IntegrityError:  # created meanwhile by a concurrent request
        pass
    row = session.get(ScoreSettings, 1)
    assert row is not None
    return row


def update_settings(
    session: Session, principal: Principal, changes: dict[str, Any], now: datetime
) -> ScoreSettings:
    row = get_settings(session)
    weights = {
        k: changes.get(k, getattr(row, k))
        for k in ("weight_audit", "weight_attendance", "weight_queue")
    }
    if sum(weights.values()) <= 0:
        raise InvalidInput(
            "the weights add up to 0; give at least one component a weight above 0",
            field="weight_audit",
        )
    tz = changes.get("period_timezone")
    if tz is not None:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput(
                f"time zone '{tz}' is unknown; use an IANA name such as Asia/Shanghai",
                field="period_timezone",
            ) from None
    for key, value in changes.items():
        setattr(row, key, value)
    row.updated_at, row.updated_by_id = now, principal.user_id
    session.flush()
    # Every materialised period was computed with the old model.
    session.execute(ScorePeriod.__table__.update().values(stale=True))
    return row


def period_of(session: Session, key: str | None, now: datetime) -> Period:
    tz = get_settings(session).period_timezone
    if key is None:
        return periods.containing(PeriodKind.month, now, tz)
    return periods.parse(key, tz)


def list_periods(session: Session, kind: PeriodKind, count: int, now: datetime) -> list[Period]:
    tz = get_settings(session).period_timezone
    return periods.previous(periods.containing(kind, now, tz), count, tz)[::-1]


# --- computing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recomputed:
    period: Period
    computed_at: datetime
    facts: int
    scores: int
    rebuilt_days: int
    seconds: float


def recompute(
    session: Session, period: Period, now: datetime, *, all_facts: bool = False
) -> Recomputed:
    """Rebuild the period's staff scores in SQL (a few statements, no row loops), after the
    facts of its stale days (``all_facts``: of every day)."""
    began = time.perf_counter()
    dialect = q.Dialect(session.get_bind().dialect.name)
    if dialect.name == "postgresql":
        # One rebuild at a time: two racing delete-then-insert passes would double the facts.
        session.execute(text("SELECT pg_advisory_xact_lock(5150)"))
        # Compiling these one-off statements costs more than it saves.
        session.execute(text("SET LOCAL jit = off"))
    row = session.get(ScorePeriod, (period.kind, period.key), with_for_update=True)
    if row is None:
        row = ScorePeriod(kind=period.kind, key=period.key)
        session.add(row)
    row.starts_at, row.ends_at = period.starts_at, period.ends_at
    # Cleared first: an input that changes while this runs marks it stale again.
    row.stale, row.computed_at = False, now
    session.flush()

    rng = {"a": period.starts_at, "b": period.ends_at}
    if all_facts:
        mark_stale(session, period.starts_at, period.ends_at)
    rebuilt_days, facts = build_facts(session, dialect, period.starts_at, period.ends_at, now)
    session.execute(
        delete(StaffScore).where(
            StaffScore.period_kind == period.kind, StaffScore.period_key == period.key
        )
    )
    session.execute(
        q.staff_scores(dialect),
        {
            **rng,
            **model_params(get_settings(session)),
            "first_day": period.first_day,
            "last_day": period.last_day,
            "computed_at": now,
            "period_kind": period.kind.value,
            "period_key": period.key,
        },
    )
    scores = session.scalar(
        select(func.count())
        .select_from(StaffScore)
        .where(StaffScore.period_kind == period.kind, StaffScore.period_key == period.key)
    )
    session.flush()
    return Recomputed(
        period, now, int(facts or 0), int(scores or 0), rebuilt_days, time.perf_counter() - began
    )


def build_facts(
    session: Session, dialect: q.Dialect, start: datetime, end: datetime, now: datetime
) -> tuple[int, int]:
    """Rebuild the facts of the UTC days in [start, end) that are stale or were never built
    (contiguous days in one pass); returns how many days and facts were rebuilt."""
    first = start.astimezone(UTC).date()
    last = (end - timedelta(microseconds=1)).astimezone(UTC).date()
    fresh_days = set(
        session.scalars(
            select(FactDay.day).where(FactDay.day >= first, FactDay.day <= last, ~FactDay.stale)
        )
    )
    todo = [
        first + timedelta(days=i)
        for i in range((last - first).days + 1)
        if first + timedelta(days=i) not in fresh_days
    ]
    facts = 0
    for run in _runs(todo):
        a = datetime.combine(run[0], datetime.min.time(), tzinfo=UTC)
        b = datetime.combine(run[-1] + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        open_hours.ensure(session, a, b)
        rng = {"a": a, "b": b}
        session.execute(q.delete_facts(), rng)
        for statement in q.fact_statements(dialect):
            facts += session.execute(statement, {**rng, "now": now}).rowcount or 0
        session.execute(q.exclude_disputed(), rng)
        session.execute(delete(FactDay).where(FactDay.day >= run[0], FactDay.day <= run[-1]))
        session.execute(insert(FactDay), [{"day": d, "stale": False, "built_at": now} for d in run])
    if dialect.name == "postgresql" and facts > 100_000:
        # Fresh statistics after a large rebuild, or the planner sorts a million rows to group.
        session.execute(text("ANALYZE score_facts"))
    # A finding still open changes with the clock: today's facts are never final.
    today = now.astimezone(UTC).date()
    session.execute(update(FactDay).where(FactDay.day >= today).values(stale=True))
    return len(todo), facts


def _runs(days: list[date]) -> list[list[date]]:
    runs: list[list[date]] = []
    for d in days:
        if runs and runs[-1][-1] + timedelta(days=1) == d:
            runs[-1].append(d)
        else:
            runs.append([d])
    return runs


def model_params(s: ScoreSettings) -> dict[str, float]:
    return {
        "k_a": s.prior_audit,
        "k_t": s.prior_attendance,
        "k_q": s.prior_queue,
        "w_a": s.weight_audit,
        "w_t": s.weight_attendance,
        "w_q": s.weight_queue,
        "min_a": s.min_audit,
        "min_t": s.min_attendance,
        "min_q": s.min_queue,
        "z": s.interval_z,
    }


def fresh(session: Session, period: Period, now: datetime) -> ScorePeriod:
    """The period's materialised row, rebuilt first when missing or stale."""
    row = session.get(ScorePeriod, (period.kind, period.key))
    live = row is not None and row.computed_at is not None and row.computed_at < period.ends_at
    if row is None or row.stale or (live and now - row.computed_at > LIVE_REFRESH):  # type: ignore[operator]
        recompute(session, period, now)
        row = session.get(ScorePeriod, (period.kind, period.key))
    assert row is not None
    return row


# --- reading --------------------------------------------------------------------------------


def _check_level(level: str) -> None:
    if level not in ("staff", "team", "outlet"):
        raise InvalidInput(f"level '{level}' is unknown; use staff, team or outlet", field="level")


def list_scores(
    session: Session,
    principal: Principal,
    period: Period,
    *,
    level: str,
    outlet_id: int | None,
    region_id: int | None,
    limit: int,
    offset: int,
    now: datetime,
) -> tuple[ScorePeriod, int, list[dict[str, Any]]]:
    _check_level(level)
    if outlet_id is not None:
        principal.check_outlet(outlet_id, "outlet", outlet_id)
    row = fresh(session, period, now)
    if level == "staff":
        total, items = repo.staff_rows(
            session,
            principal,
            period,
            outlet_id=outlet_id,
            region_id=region_id,
            limit=limit,
            offset=offset,
        )
        return row, total, items
    dialect = q.Dialect(session.get_bind().dialect.name)
    scope = principal.outlet_ids
    if outlet_id is not None:
        scope = frozenset({outlet_id})
    if region_id is not None:
        in_region = repo.outlets_of_region(session, region_id)
        scope = in_region if scope is None else scope & in_region
    result = (
        session.execute(
            q.group_scores(dialect, level, scope),
            {
                "a": period.starts_at,
                "b": period.ends_at,
                **model_params(get_settings(session)),
                "first_day": period.first_day,
                "last_day": period.last_day,
                "computed_at": now,
            },
        )
        .mappings()
        .all()
    )
    items = repo.group_rows(session, level, [dict(r) for r in result])
    return row, len(items), items[offset : offset + limit]


def _staff_in_view(session: Session, principal: Principal, staff_id: int) -> Staff:
    """Staff callers: themselves, or (an outlet manager) anyone at their outlet."""
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise NotFound("staff", staff_id)
    if principal.is_staff_only:
        if staff_id == principal.staff_id:
            return staff
        me = session.get(Staff, principal.staff_id) if principal.staff_id else None
        if me is None or me.role is not StaffRole.outlet_manager or me.outlet_id != staff.outlet_id:
            raise NotFound("staff", staff_id)
        return staff
    principal.require(Permission.score_read)
    principal.check_outlet(staff.outlet_id, "staff", staff_id)
    return staff


def staff_detail(
    session: Session, principal: Principal, staff_id: int, period: Period, now: datetime
) -> dict[str, Any]:
    staff = _staff_in_view(session, principal, staff_id)
    fresh(session, period, now)
    tz = get_settings(session).period_timezone
    trend = []
    for p in periods.previous(period, TREND_PERIODS, tz):
        if p.starts_at > now:
            continue
        fresh(session, p, now)
        s = session.get(StaffScore, (p.kind, p.key, staff.id))
        trend.append(
            {
                "period": p.key,
                "score": None if s is None else s.score,
                "low": None if s is None else s.low,
                "high": None if s is None else s.high,
                "provisional": True if s is None else s.provisional,
            }
        )
    score = repo.staff_row(session, period, staff.id)
    visible = None if principal.is_staff_only else principal.outlet_ids
    records = repo.staff_records(session, staff.id, period, visible)
    return {"score": score, "trend": trend, "records": records}


def my_page(
    session: Session, principal: Principal, period: Period, now: datetime
) -> dict[str, Any]:
    if principal.staff_id is None:
        raise NotFound("staff record of this account", principal.username)
    return staff_detail(session, principal, principal.staff_id, period, now)


# --- disputes -------------------------------------------------------------------------------


def _source_facts(session: Session, kind: SourceKind, source_id: str) -> list[ScoreFact]:
    return list(
        session.scalars(
            select(ScoreFact).where(ScoreFact.source_kind == kind, ScoreFact.source_id == source_id)
        )
    )


def raise_dispute(
    session: Session,
    principal: Principal,
    *,
    source_kind: SourceKind,
    source_id: str,
    comment: str,
    evidence_ids: list[uuid.UUID],
    now: datetime,
) -> Dispute:
    facts = [f for f in _source_facts(session, source_kind, source_id) if f.finding]
    if not facts:
        raise NotFound("finding", f"{source_kind.value}/{source_id}")
    outlet_id = facts[0].outlet_id
    staff_ids = {f.staff_id for f in facts if f.staff_id is not None}
    if principal.is_staff_only:
        me = session.get(Staff, principal.staff_id) if principal.staff_id else None
        manages = (
            me is not None
            and me.role is StaffRole.outlet_manager
            and any(f.outlet_id == me.outlet_id for f in facts)
        )
        if principal.staff_id not in staff_ids and not manages:
            # Someone else's finding is not theirs to see.
            raise NotFound("finding", f"{source_kind.value}/{source_id}")
    else:
        principal.check_outlet(outlet_id, "finding", f"{source_kind.value}/{source_id}")
    if repo.open_dispute(session, source_kind, source_id) is not None:
        raise Conflict(
            "this finding already has an open dispute; add to it by asking the reviewer, "
            "or wait for its resolution"
        )
    for i, ev_id in enumerate(evidence_ids):
        item = session.get(EvidenceItem, ev_id)
        if item is None or item.outlet_id != outlet_id:
            raise InvalidInput(
                f"evidence {ev_id} is not an evidence item of this finding's outlet; "
                "upload it first (POST /api/v1/evidence) and use the id it returns",
                field=f"evidence_ids[{i}]",
            )
    dispute = Dispute(
        source_kind=source_kind,
        source_id=source_id,
        staff_id=min(staff_ids) if staff_ids else None,
        outlet_id=outlet_id,
        raised_by_id=principal.user_id,
        raised_at=now,
        comment=comment,
        evidence_ids=[str(e) for e in evidence_ids],
    )
    session.add(dispute)
    session.flush()
    return dispute


def get_dispute(session: Session, principal: Principal, dispute_id: int) -> Dispute:
    dispute = session.get(Dispute, dispute_id)
    if dispute is None:
        raise NotFound("dispute", dispute_id)
    if principal.is_staff_only:
        if dispute.raised_by_id != principal.user_id and (
            principal.staff_id is None or dispute.staff_id != principal.staff_id
        ):
            raise NotFound("dispute", dispute_id)
    else:
        principal.check_outlet(dispute.outlet_id, "dispute", dispute_id)
    return dispute


def list_disputes(
    session: Session,
    principal: Principal,
    *,
    status: DisputeStatus | None,
    outlet_id: int | None,
    limit: int,
    offset: int,
) -> tuple[int, list[Dispute]]:
    if outlet_id is not None and not principal.is_staff_only:
        principal.check_outlet(outlet_id, "outlet", outlet_id)
    return repo.disputes(
        session, principal, status=status, outlet_id=outlet_id, limit=limit, offset=offset
    )


def resolve_dispute(
    session: Session,
    principal: Principal,
    dispute_id: int,
    *,
    decision: DisputeStatus,
    comment: str,
    now: datetime,
) -> Dispute:
    if principal.role is Role.staff:
        raise Forbidden("staff cannot resolve disputes")
    dispute = get_dispute(session, principal, dispute_id)
    if decision is DisputeStatus.open:
        raise InvalidInput("decision must be upheld or rejected", field="decision")
    if dispute.status is not DisputeStatus.open:
        raise Conflict(f"dispute {dispute_id} is already {dispute.status.value}")
    dispute.status = decision
    dispute.resolved_by_id, dispute.resolved_at = principal.user_id, now
    dispute.resolution_comment = comment
    facts = _source_facts(session, dispute.source_kind, dispute.source_id)
    for fact in facts:
        fact.excluded = decision is DisputeStatus.upheld
    if facts:
        mark_stale(session, min(f.at for f in facts), max(f.at for f in facts))
    session.flush()
    return dispute
