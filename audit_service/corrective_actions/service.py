"""Corrective actions: opened on approval for failed items, fixed by the outlet, verified.

Overdue is computed, not stored: an open action whose due date (outlet-local) has passed.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from audit_service.audits import repository as audits_repo
from audit_service.authz import Principal
from audit_service.checklists.definition import ChecklistDefinition
from audit_service.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from audit_service.corrective_actions import repository as repo
from audit_service.corrective_actions.schemas import ActionFix, ActionRead, ActionVerify
from audit_service.models import ActionStatus, Audit, CorrectiveAction, EvidenceItem, Outlet


def _today(session: Session, outlet_id: int, now: datetime) -> date:
    outlet = session.get(Outlet, outlet_id)
    tz = ZoneInfo(outlet.timezone if outlet else "UTC")
    return now.astimezone(tz).date()


def to_read(session: Session, action: CorrectiveAction, now: datetime) -> ActionRead:
    return ActionRead(
        id=action.id,
        audit_id=action.audit_id,
        outlet_id=action.outlet_id,
        item=action.item,
        critical=action.critical,
        title=action.title,
        assignee_staff_id=action.assignee_staff_id,
        assignee=action.assignee.name if action.assignee else None,
        due_on=action.due_on,
        overdue=action.status is ActionStatus.open
        and action.due_on < _today(session, action.outlet_id, now),
        status=action.status,
        created_at=action.created_at,
        fix_note=action.fix_note,
        fix_evidence_ids=[uuid.UUID(e) for e in action.fix_evidence_ids],
        fixed_at=action.fixed_at,
        verified_at=action.verified_at,
        verify_comment=action.verify_comment,
    )


def open_for_audit(
    session: Session, audit: Audit, defn: ChecklistDefinition, *, now: datetime
) -> list[CorrectiveAction]:
    """One action per failed item (critical failures and items under ``action_below``),
    assigned to the outlet's manager, due ``action_due_days`` after approval."""
    outlet = session.get(Outlet, audit.outlet_id)
    assert outlet is not None
    day = now.astimezone(ZoneInfo(outlet.timezone)).date()
    managers = audits_repo.outlet_managers(session, outlet.id, day)
    labels = {item.name: item for _, item in defn.items()}
    opened = []
    for row in audit.items:
        if not row.failed or repo.for_audit_item(session, audit.id, row.item) is not None:
            continue
        item = labels[row.item]
        code = f"[{item.standard}] " if item.standard else ""
        action = CorrectiveAction(
            audit_id=audit.id,
            outlet_id=audit.outlet_id,
            item=row.item,
            critical=row.critical,
            title=f"{code}{item.label.en} / {item.label.zh}"[:500],
            assignee_staff_id=managers[0].id if managers else None,
            due_on=day + timedelta(days=defn.action_due_days),
            status=ActionStatus.open,
            created_at=now,
        )
        session.add(action)
        opened.append(action)
    session.flush()
    return opened


def list_actions(
    session: Session,
    principal: Principal,
    *,
    status: ActionStatus | None,
    outlet_id: int | None,
    overdue: bool,
    limit: int,
    offset: int,
    now: datetime,
) -> list[ActionRead]:
    # Outlets share one time zone per deployment in practice; the UTC date is a safe bound
    # for the query, and ``to_read`` decides per outlet.
    rows = repo.list_actions(
        session,
        principal,
        status=status,
        outlet_id=outlet_id,
        overdue_on=(now + timedelta(days=1)).date() if overdue else None,
        limit=limit,
        offset=offset,
    )
    out = [to_read(session, a, now) for a in rows]
    return [a for a in out if a.overdue] if overdue else out


def get_action(session: Session, principal: Principal, action_id: int) -> CorrectiveAction:
    action = repo.action(session, principal, action_id)
    if action is None:
        raise NotFound("corrective action", action_id)
    return action


def fix(
    session: Session, principal: Principal, action_id: int, body: ActionFix, *, now: datetime
) -> CorrectiveAction:
    action = get_action(session, principal, action_id)
    if principal.is_staff_only and action.assignee_staff_id != principal.staff_id:
        raise Forbidden(f"corrective action {action_id} is assigned to someone else")
    if action.status is not ActionStatus.open:
        raise Conflict(f"corrective action {action_id} is {action.status.value}, not open")
    problems = []
    for i, evidence_id in enumerate(body.evidence_ids):
        item = session.get(EvidenceItem, evidence_id)
        if item is None or item.outlet_id != action.outlet_id:
            path = f"evidence_ids.{i}"
            problems.append((path, f"{path}: evidence {evidence_id} is not a photo of this outlet"))
    if problems:
        raise InvalidInput.many(problems)
    action.status = ActionStatus.fixed
    action.fix_note = body.note
    action.fix_evidence_ids = [str(e) for e in body.evidence_ids]
    action.fixed_at = now
    action.fixed_by_id = principal.user_id
    session.flush()
    return action


def verify(
    session: Session, principal: Principal, action_id: int, body: ActionVerify, *, now: datetime
) -> CorrectiveAction:
    action = get_action(session, principal, action_id)
    if action.status is not ActionStatus.fixed:
        raise Conflict(
            f"corrective action {action_id} is {action.status.value}; only a fixed action is "
            "verified or reopened"
        )
    action.verify_comment = body.comment
    if body.accept:
        action.status = ActionStatus.verified
        action.verified_at = now
        action.verified_by_id = principal.user_id
    else:
        action.status = ActionStatus.open
        action.fixed_at = None
    session.flush()
    return action
