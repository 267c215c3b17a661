"""Corrective actions: list (overdue ones too), fix with evidence, verify or reopen."""

from __future__ import annotations

from fastapi import APIRouter, Query

from audit_service.authz import Permission
from audit_service.core.types import MAX_ID, IdPath
from audit_service.corrective_actions import service
from audit_service.corrective_actions.schemas import ActionFix, ActionRead, ActionVerify
from audit_service.deps import ClockDep, Requires, SessionDep
from audit_service.models.audits import ActionStatus

router = APIRouter(prefix="/corrective-actions", tags=["corrective actions"])

Reader = Requires(Permission.action_read)
Fixer = Requires(Permission.action_fix)
Verifier = Requires(Permission.action_verify)


@router.get(
    "",
    response_model=list[ActionRead],
    summary="Corrective actions in scope, by due date (staff: assigned to them)",
)
def list_actions(
    caller: Reader,
    session: SessionDep,
    clock: ClockDep,
    status: ActionStatus | None = None,
    outlet_id: int | None = Query(None, ge=1, le=MAX_ID),
    overdue: bool = Query(False, description="Only open actions past their due date"),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> object:
    return service.list_actions(
        session,
        caller,
        status=status,
        outlet_id=outlet_id,
        overdue=overdue,
        limit=limit,
        offset=offset,
        now=clock(),
    )


@router.get("/{action_id}", response_model=ActionRead, summary="One corrective action")
def get_action(action_id: IdPath, caller: Reader, session: SessionDep, clock: ClockDep) -> object:
    return service.to_read(session, service.get_action(session, caller, action_id), clock())


@router.post(
    "/{action_id}/fix",
    response_model=ActionRead,
    summary="Mark an open action fixed, with a note and photos of the fix",
)
def fix_action(
    action_id: IdPath, body: ActionFix, caller: Fixer, session: SessionDep, clock: ClockDep
) -> object:
    action = service.fix(session, caller, action_id, body, now=clock())
    return service.to_read(session, action, clock())


@router.post(
    "/{action_id}/verify",
    response_model=ActionRead,
    summary="Verify a fixed action (accept=false reopens it)",
)
def verify_action(
    action_id: IdPath, body: ActionVerify, caller: Verifier, session: SessionDep, clock: ClockDep
) -> object:
    action = service.verify(session, caller, action_id, body, now=clock())
    return service.to_read(session, action, clock())
