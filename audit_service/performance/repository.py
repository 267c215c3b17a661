"""Performance queries: score rows with their names, the records behind a score, disputes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from audit_service.authz import Principal
from audit_service.models import (
    Dispute,
    DisputeStatus,
    Outlet,
    Region,
    ScoreFact,
    SourceKind,
    Staff,
    StaffScore,
)
from audit_service.organisation.repository import in_scope
from audit_service.performance.periods import Period

COMPONENTS = ("audit", "attendance", "queue")


def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), 4)


def _component(row: Any, name: str) -> dict[str, Any]:
    n = getattr(row, f"{name}_n")
    return {
        "n": _r(n),
        "raw": _r(getattr(row, f"{name}_raw")),
        "score": _r(getattr(row, f"{name}_score")),
        "low": _r(getattr(row, f"{name}_low")),
        "high": _r(getattr(row, f"{name}_high")),
    }


def _staff_query(period: Period):  # type: ignore[no-untyped-def]
    lead = aliased(Staff)
    return (
        select(StaffScore, Staff, lead.name, Outlet.code, Outlet.name, Region.code, Region.name)
        .join(Staff, Staff.id == StaffScore.staff_id)
        .join(Outlet, Outlet.id == StaffScore.outlet_id)
        .join(Region, Region.id == StaffScore.region_id)
        .outerjoin(lead, lead.id == StaffScore.team_lead_id)
        .where(StaffScore.period_kind == period.kind, StaffScore.period_key == period.key)
    )


def _staff_dict(row: Any) -> dict[str, Any]:
    score, staff, lead_name, o_code, o_name, r_code, r_name = row
    comps = {c: _component(score, c) for c in COMPONENTS}
    return {
        "staff_id": staff.id,
        "employee_no": staff.employee_no,
        "name": staff.name,
        "role": staff.role.value,
        "team_lead_id": score.team_lead_id,
        "team": lead_name,
        "outlet_id": score.outlet_id,
        "outlet_code": o_code,
        "outlet": o_name,
        "region_id": score.region_id,
        "region_code": r_code,
        "region": r_name,
        "components": comps,
        "score": _r(score.score),
        "low": _r(score.low),
        "high": _r(score.high),
        "n_observations": score.n_observations,
        "provisional": score.provisional,
        "rank_outlet": score.rank_outlet,
        "outlet_size": score.outlet_size,
        "rank_region": score.rank_region,
        "region_size": score.region_size,
        "percentile_region": _r(score.percentile_region),
    }


def staff_rows(
    session: Session,
    principal: Principal,
    period: Period,
    *,
    outlet_id: int | None,
    region_id: int | None,
    limit: int,
    offset: int,
) -> tuple[int, list[dict[str, Any]]]:
    q = in_scope(_staff_query(period), principal, StaffScore.outlet_id)
    if outlet_id is not None:
        q = q.where(StaffScore.outlet_id == outlet_id)
    if region_id is not None:
        q = q.where(StaffScore.region_id == region_id)
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    q = (
        q.order_by(StaffScore.score.is_(None), StaffScore.score.desc(), Staff.employee_no)
        .limit(limit)
        .offset(offset)
    )
    return total, [_staff_dict(r) for r in session.execute(q)]


def staff_row(session: Session, period: Period, staff_id: int) -> dict[str, Any] | None:
    row = session.execute(_staff_query(period).where(StaffScore.staff_id == staff_id)).first()
    return None if row is None else _staff_dict(row)


def outlets_of_region(session: Session, region_id: int) -> frozenset[int]:
    return frozenset(session.scalars(select(Outlet.id).where(Outlet.region_id == region_id)))


def group_rows(session: Session, level: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Names for team (lead) or outlet rows computed by ``sql.group_scores``."""
    ids = [r["group_id"] for r in rows]
    if level == "team":
        names = (
            {s.id: s for s in session.scalars(select(Staff).where(Staff.id.in_(ids)))}
            if ids
            else {}
        )
    else:
        names = (
            {o.id: o for o in session.scalars(select(Outlet).where(Outlet.id.in_(ids)))}
            if ids
            else {}
        )
    out = []
    for r in rows:
        obj = names.get(r["group_id"])
        comps = {}
        for short, name in zip(("a", "t", "q"), COMPONENTS, strict=True):
            comps[name] = {
                "n": _r(r[f"{short}_n"]),
                "raw": _r(r[f"{short}_raw"]),
                "score": _r(r[f"{short}_s"]),
                "low": _r(r[f"{short}_lo"]),
                "high": _r(r[f"{short}_hi"]),
                "provisional": bool(r[f"{short}_prov"]),
            }
        item: dict[str, Any] = {
            "components": comps,
            "score": _r(r["score"]),
            "low": _r(r["low"]),
            "high": _r(r["high"]),
            "n_observations": int(r["n_observations"]),
            "provisional": bool(r["provisional"]),
            "rank": r["rank"],
        }
        if level == "team":
            item.update(
                staff_id=r["group_id"],
                name=getattr(obj, "name", None),
                employee_no=getattr(obj, "employee_no", None),
                outlet_id=getattr(obj, "outlet_id", None),
            )
        else:
            item.update(
                outlet_id=r["group_id"],
                outlet=getattr(obj, "name", None),
                outlet_code=getattr(obj, "code", None),
                region_id=getattr(obj, "region_id", None),
            )
        out.append(item)
    return out


_LINKS = {
    SourceKind.audit_item: "/api/v1/audits/{audit_id}",
    SourceKind.vision_event: "/api/v1/vision/events/{source_id}",
    SourceKind.queue_wait: "/api/v1/vision/waits/{source_id}",
    SourceKind.shift: "/api/v1/shifts/{source_id}",
}


def staff_records(
    session: Session, staff_id: int, period: Period, outlet_ids: frozenset[int] | None
) -> list[dict[str, Any]]:
    """Every fact of the staff member in the period (excluded ones too), with its dispute."""
    latest = (
        select(Dispute.source_kind, Dispute.source_id, func.max(Dispute.id).label("dispute_id"))
        .group_by(Dispute.source_kind, Dispute.source_id)
        .subquery()
    )
    q = (
        select(ScoreFact, Dispute.id, Dispute.status)
        .outerjoin(
            latest,
            and_(
                latest.c.source_kind == ScoreFact.source_kind,
                latest.c.source_id == ScoreFact.source_id,
            ),
        )
        .outerjoin(Dispute, Dispute.id == latest.c.dispute_id)
        .where(
            ScoreFact.staff_id == staff_id,
            ScoreFact.at >= period.starts_at,
            ScoreFact.at < period.ends_at,
        )
        .order_by(ScoreFact.at, ScoreFact.id)
    )
    if outlet_ids is not None:
        q = q.where(ScoreFact.outlet_id.in_(outlet_ids))
    out = []
    for fact, dispute_id, dispute_status in session.execute(q):
        link = _LINKS[fact.source_kind].format(audit_id=fact.audit_id, source_id=fact.source_id)
        out.append(
            {
                "id": fact.id,
                "component": fact.component.value,
                "source_kind": fact.source_kind.value,
                "source_id": fact.source_id,
                "attribution": fact.attribution.value,
                "at": fact.at,
                "outlet_id": fact.outlet_id,
                "counter_id": fact.counter_id,
                "shift_id": fact.shift_id,
                "audit_id": fact.audit_id,
                "observed": _r(fact.observed),
                "good": _r(fact.good),
                "finding": fact.finding,
                "excluded": fact.excluded,
                "link": link,
                "evidence_id": fact.evidence_id,
                "dispute": None
                if dispute_id is None
                else {"id": dispute_id, "status": dispute_status.value},
            }
        )
    return out


def open_dispute(session: Session, kind: SourceKind, source_id: str) -> Dispute | None:
    return session.scalar(
        select(Dispute).where(
            Dispute.source_kind == kind,
            Dispute.source_id == source_id,
            Dispute.status == DisputeStatus.open,
        )
    )


def disputes(
    session: Session,
    principal: Principal,
    *,
    status: DisputeStatus | None,
    outlet_id: int | None,
    limit: int,
    offset: int,
) -> tuple[int, list[Dispute]]:
    q = select(Dispute)
    if principal.is_staff_only:
        mine = Dispute.raised_by_id == principal.user_id
        if principal.staff_id is not None:
            mine = mine | (Dispute.staff_id == principal.staff_id)
        q = q.where(mine)
    else:
        q = in_scope(q, principal, Dispute.outlet_id)
    if status is not None:
        q = q.where(Dispute.status == status)
    if outlet_id is not None:
        q = q.where(Dispute.outlet_id == outlet_id)
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = session.scalars(q.order_by(Dispute.id.desc()).limit(limit).offset(offset))
    return total, list(rows)
