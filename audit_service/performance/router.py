"""Staff performance: periods, scores (staff, team, outlet), one person's explanation, HR
exports, disputes of findings, the score model's settings. Rules in docs/performance.md."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import Response

from audit_service.authz import Permission
from audit_service.core.errors import InvalidInput
from audit_service.core.types import MAX_ID, IdPath
from audit_service.deps import ClockDep, PrincipalDep, Requires, SessionDep
from audit_service.models import DisputeStatus, PeriodKind
from audit_service.performance import exports, service
from audit_service.performance.periods import Period
from audit_service.performance.schemas import (
    DisputeCreate,
    DisputePage,
    DisputeRead,
    DisputeResolve,
    PeriodRead,
    Recomputed,
    ScorePage,
    SettingsRead,
    SettingsUpdate,
    StaffDetail,
)

router = APIRouter(prefix="/performance", tags=["performance"])

Reader = Requires(Permission.score_read)
Own = Requires(Permission.score_own)
Exporter = Requires(Permission.score_export)
Admin = Requires(Permission.score_settings)
Disputer = Requires(Permission.dispute_raise)
Resolver = Requires(Permission.dispute_resolve)

PeriodQuery = Query(
    None,
    max_length=16,
    description="2026-W48 (ISO week), 2026-11 (month) or 2026-Q4 (quarter); default this month",
)
LevelQuery = Query("staff", pattern="^(staff|team|outlet)$")


def _period(p: Period) -> dict[str, object]:
    return {"kind": p.kind, "key": p.key, "label": p.label, "start": p.starts_at, "end": p.ends_at}


@router.get("/periods", response_model=list[PeriodRead], summary="Recent periods, newest first")
def list_periods(
    caller: PrincipalDep,
    session: SessionDep,
    clock: ClockDep,
    kind: PeriodKind = PeriodKind.month,
    count: int = Query(8, ge=1, le=60),
) -> object:
    if not caller.can(Permission.score_read):
        caller.require(Permission.score_own)
    return [_period(p) for p in service.list_periods(session, kind, count, clock())]


@router.get(
    "/scores",
    response_model=ScorePage,
    summary="A period's scores in scope: staff (ranked), team or outlet",
)
def list_scores(
    caller: Reader,
    session: SessionDep,
    clock: ClockDep,
    period: str | None = PeriodQuery,
    level: str = LevelQuery,
    outlet_id: int | None = Query(None, ge=1, le=MAX_ID),
    region_id: int | None = Query(None, ge=1, le=MAX_ID),
    limit: int = Query(100, ge=1, le=10_000),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> object:
    p = service.period_of(session, period, clock())
    row, total, items = service.list_scores(
        session,
        caller,
        p,
        level=level,
        outlet_id=outlet_id,
        region_id=region_id,
        limit=limit,
        offset=offset,
        now=clock(),
    )
    return {
        "period": {**_period(p), "computed_at": row.computed_at},
        "level": level,
        "total": total,
        "items": items,
    }


@router.get(
    "/staff/{staff_id}",
    response_model=StaffDetail,
    summary="One person's score, trend and every record behind it",
)
def staff_detail(
    staff_id: IdPath,
    caller: PrincipalDep,
    session: SessionDep,
    clock: ClockDep,
    period: str | None = PeriodQuery,
) -> object:
    if not caller.can(Permission.score_read):
        caller.require(Permission.score_own)
    p = service.period_of(session, period, clock())
    return {"period": _period(p), **service.staff_detail(session, caller, staff_id, p, clock())}


@router.get("/me", response_model=StaffDetail, summary="The caller's own score and findings")
def my_page(
    caller: Own, session: SessionDep, clock: ClockDep, period: str | None = PeriodQuery
) -> object:
    p = service.period_of(session, period, clock())
    return {"period": _period(p), **service.my_page(session, caller, p, clock())}


def _export_rows(session, caller, period, clock) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    _, _, items = service.list_scores(
        session,
        caller,
        period,
        level="staff",
        outlet_id=None,
        region_id=None,
        limit=10_000_000,
        offset=0,
        now=clock(),
    )
    return items


@router.get(
    "/exports/scores.csv",
    summary="A period's staff scores in scope as CSV (documented columns)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def export_csv(
    caller: Exporter, session: SessionDep, clock: ClockDep, period: str | None = PeriodQuery
) -> Response:
    p = service.period_of(session, period, clock())
    body = exports.to_csv(p, _export_rows(session, caller, p, clock))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="scores-{p.key}.csv"'},
    )


@router.get(
    "/exports/scores.xlsx",
    summary="A period's staff scores in scope as XLSX (documented columns)",
    response_class=Response,
    responses={200: {"content": {exports.XLSX_TYPE: {}}}},
)
def export_xlsx(
    caller: Exporter, session: SessionDep, clock: ClockDep, period: str | None = PeriodQuery
) -> Response:
    p = service.period_of(session, period, clock())
    body = exports.to_xlsx(p, _export_rows(session, caller, p, clock))
    return Response(
        body,
        media_type=exports.XLSX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="scores-{p.key}.xlsx"'},
    )


@router.post(
    "/periods/{kind}/{key}/recompute",
    response_model=Recomputed,
    summary="Rebuild a period's facts and scores now",
)
def recompute(
    kind: PeriodKind,
    key: str,
    caller: Admin,
    session: SessionDep,
    clock: ClockDep,
    all_facts: bool = Query(
        False, description="Also rebuild every day's facts, not only the days that changed"
    ),
) -> object:
    p = service.period_of(session, key[:16], clock())
    if p.kind is not kind:
        raise InvalidInput(f"key '{key}' names a {p.kind.value}, not a {kind.value}", field="key")
    r = service.recompute(session, p, clock(), all_facts=all_facts)
    return {
        "kind": p.kind,
        "key": p.key,
        "computed_at": r.computed_at,
        "facts": r.facts,
        "scores": r.scores,
        "rebuilt_days": r.rebuilt_days,
        "seconds": round(r.seconds, 3),
    }


@router.get("/settings", response_model=SettingsRead, summary="The score model")
def get_settings(caller: Reader, session: SessionDep) -> object:
    return service.get_settings(session)


@router.put("/settings", response_model=SettingsRead, summary="Change the score model (admin)")
def put_settings(
    body: SettingsUpdate, caller: Admin, session: SessionDep, clock: ClockDep
) -> object:
    return service.update_settings(
        session, caller, body.model_dump(exclude_unset=True, exclude_none=True), clock()
    )


@router.post(
    "/disputes",
    response_model=DisputeRead,
    status_code=201,
    summary="Dispute a finding (staff: their own; outlet manager: in their outlet)",
)
def raise_dispute(
    body: DisputeCreate, caller: Disputer, session: SessionDep, clock: ClockDep
) -> object:
    return service.raise_dispute(
        session,
        caller,
        source_kind=body.source_kind,
        source_id=body.source_id,
        comment=body.comment,
        evidence_ids=body.evidence_ids,
        now=clock(),
    )


@router.get("/disputes", response_model=DisputePage, summary="Disputes in scope, newest first")
def list_disputes(
    caller: PrincipalDep,
    session: SessionDep,
    status: DisputeStatus | None = None,
    outlet_id: int | None = Query(None, ge=1, le=MAX_ID),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> object:
    if not caller.can(Permission.score_read):
        caller.require(Permission.dispute_raise)
    total, items = service.list_disputes(
        session, caller, status=status, outlet_id=outlet_id, limit=limit, offset=offset
    )
    return {"total": total, "items": items}


@router.get("/disputes/{dispute_id}", response_model=DisputeRead, summary="One dispute")
def get_dispute(dispute_id: IdPath, caller: PrincipalDep, session: SessionDep) -> object:
    if not caller.can(Permission.score_read):
        caller.require(Permission.dispute_raise)
    return service.get_dispute(session, caller, dispute_id)


@router.post(
    "/disputes/{dispute_id}/resolve",
    response_model=DisputeRead,
    summary="Uphold (the finding leaves every score) or reject a dispute",
)
def resolve_dispute(
    dispute_id: IdPath,
    body: DisputeResolve,
    caller: Resolver,
    session: SessionDep,
    clock: ClockDep,
) -> object:
    return service.resolve_dispute(
        session, caller, dispute_id, decision=body.decision, comment=body.comment, now=clock()
    )
