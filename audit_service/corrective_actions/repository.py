"""Queries for corrective actions, filtered by scope."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from audit_service.authz import Principal
from audit_service.models import ActionStatus, CorrectiveAction
from audit_service.organisation.repository import in_scope


def visible(query: Select, principal: Principal) -> Select:  # type: ignore[type-arg]
    """Staff see the actions assigned to them; everyone else the actions of their outlets."""
    if principal.is_staff_only:
        if principal.staff_id is None:
            return query.where(false())
        return query.where(CorrectiveAction.assignee_staff_id == principal.staff_id)
    return in_scope(query, principal, CorrectiveAction.outlet_id)


def list_actions(
    session: Session,
    principal: Principal,
    *,
    status: ActionStatus | None,
    outlet_id: int | None,
    overdue_on: date | None,
    limit: int,
    offset: int,
) -> list[CorrectiveAction]:
    query = visible(select(CorrectiveAction), principal)
    if status is not None:
        query = query.where(CorrectiveAction.status == status)
    if outlet_id is not None:
        query = query.where(CorrectiveAction.outlet_id == outlet_id)
    if overdue_on is not None:
        query = query.where(
            CorrectiveAction.status == ActionStatus.open, CorrectiveAction.due_on < overdue_on
        )
    query = query.order_by(CorrectiveAction.due_on, CorrectiveAction.id).limit(limit).offset(offset)
    return list(session.scalars(query))


def action(session: Session, principal: Principal, action_id: int) -> CorrectiveAction | None:
    return session.scalar(
        visible(select(CorrectiveAction).where(CorrectiveAction.id == action_id), principal)
    )


def action_ids_of(session: Session, audit_id: int) -> list[int]:
    return list(
        session.scalars(
            select(CorrectiveAction.id)
            .where(CorrectiveAction.audit_id == audit_id)
            .order_by(CorrectiveAction.id)
        )
    )


def for_audit_item(session: Session, audit_id: int, item: str) -> CorrectiveAction | None:
    return session.scalar(
        select(CorrectiveAction).where(
            CorrectiveAction.audit_id == audit_id, CorrectiveAction.item == item
        )
    )
