"""Queries for evidence items and the access log, filtered by the caller's scope."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload

from audit_service.authz import Principal
from audit_service.models import EvidenceAccess, EvidenceItem, User
from audit_service.organisation.repository import in_scope


def item(session: Session, evidence_id: uuid.UUID) -> EvidenceItem | None:
    return session.scalar(
        select(EvidenceItem)
        .options(joinedload(EvidenceItem.blob))
        .where(EvidenceItem.id == evidence_id)
    )


def item_for(session: Session, sha256: str, outlet_id: int) -> EvidenceItem | None:
    return session.scalar(
        select(EvidenceItem)
        .options(joinedload(EvidenceItem.blob))
        .where(EvidenceItem.sha256 == sha256, EvidenceItem.outlet_id == outlet_id)
    )


def _count(session: Session, query: Select[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def list_items(
    session: Session, principal: Principal, *, outlet_id: int | None, limit: int, offset: int
) -> tuple[list[EvidenceItem], int]:
    q = in_scope(select(EvidenceItem), principal, EvidenceItem.outlet_id)
    if outlet_id is not None:
        q = q.where(EvidenceItem.outlet_id == outlet_id)
    rows = session.scalars(
        q.options(joinedload(EvidenceItem.blob))
        .order_by(EvidenceItem.created_at.desc(), EvidenceItem.id)
        .limit(limit)
        .offset(offset)
    )
    return list(rows), _count(session, q)


def access_log(
    session: Session,
    principal: Principal,
    *,
    evidence_id: uuid.UUID | None,
    user_id: int | None,
    start: datetime | None,
    end: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[tuple[EvidenceAccess, int, str]], int]:
    """Log rows with their item's outlet and the viewer's username, newest first."""
    q = (
        select(EvidenceAccess, EvidenceItem.outlet_id, User.username)
        .join(EvidenceItem, EvidenceItem.id == EvidenceAccess.evidence_id)
        .join(User, User.id == EvidenceAccess.user_id)
    )
    q = in_scope(q, principal, EvidenceItem.outlet_id)
    if evidence_id is not None:
        q = q.where(EvidenceAccess.evidence_id == evidence_id)
    if user_id is not None:
        q = q.where(EvidenceAccess.user_id == user_id)
    if start is not None:
        q = q.where(EvidenceAccess.at >= start)
    if end is not None:
        q = q.where(EvidenceAccess.at < end)
    rows = session.execute(
        q.order_by(EvidenceAccess.at.desc(), EvidenceAccess.id.desc()).limit(limit).offset(offset)
    )
    return [(r[0], r[1], r[2]) for r in rows], _count(session, q)
