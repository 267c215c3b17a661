"""Cross-checks of shopper reports against the cameras, their review, shoppers' reliability."""

from __future__ import annotations

from fastapi import APIRouter, Query

from audit_service.authz import Permission
from audit_service.core.types import MAX_ID, IdPath
from audit_service.cross_checks import service
from audit_service.cross_checks.schemas import (
    CrossCheckPage,
    CrossCheckRead,
    CrossCheckReview,
    ShopperRead,
)
from audit_service.deps import ClockDep, Requires, SessionDep
from audit_service.models.performance import CrossCheckStatus

router = APIRouter(prefix="/performance", tags=["cross-checks"])

Reader = Requires(Permission.score_read)
Reviewer = Requires(Permission.crosscheck_review)


@router.get(
    "/cross-checks",
    response_model=CrossCheckPage,
    summary="Shopper reports compared with the cameras, in scope, newest first",
)
def list_cross_checks(
    caller: Reader,
    session: SessionDep,
    status: CrossCheckStatus | None = None,
    outlet_id: int | None = Query(None, ge=1, le=MAX_ID),
    auditor_id: int | None = Query(None, ge=1, le=MAX_ID),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> object:
    return service.list_checks(
        session,
        caller,
        status=status,
        outlet_id=outlet_id,
        auditor_id=auditor_id,
        limit=limit,
        offset=offset,
    )


@router.get("/cross-checks/{check_id}", response_model=CrossCheckRead, summary="One cross-check")
def get_cross_check(check_id: IdPath, caller: Reader, session: SessionDep) -> object:
    return service.get_check(session, caller, check_id)


@router.post(
    "/cross-checks/{check_id}/review",
    response_model=CrossCheckRead,
    summary="Decide a flagged cross-check: the shopper or the camera was right, or unclear",
)
def review_cross_check(
    check_id: IdPath,
    body: CrossCheckReview,
    caller: Reviewer,
    session: SessionDep,
    clock: ClockDep,
) -> object:
    return service.review(session, caller, check_id, body, now=clock())


@router.get(
    "/shoppers",
    response_model=list[ShopperRead],
    summary="Each shopper's reliability from their cross-checks in scope, least reliable first",
)
def list_shoppers(caller: Reader, session: SessionDep) -> object:
    return service.shoppers(session, caller)
