"""Queries for cameras and the counters their zones point at, filtered by scope."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit_service.authz import Principal
from audit_service.models import Camera, Counter
from audit_service.organisation.repository import in_scope


def list_cameras(
    session: Session,
    principal: Principal,
    *,
    outlet_id: int | None = None,
    active: bool | None = None,
) -> list[Camera]:
    q = in_scope(select(Camera).order_by(Camera.code), principal, Camera.outlet_id)
    if principal.camera_ids is not None:  # a worker account: its own cameras only
        q = q.where(Camera.id.in_(principal.camera_ids))
    if outlet_id is not None:
        q = q.where(Camera.outlet_id == outlet_id)
    if active is not None:
        q = q.where(Camera.active == active)
    return list(session.scalars(q))


def camera_by_code(session: Session, code: str) -> Camera | None:
    return session.scalar(select(Camera).where(Camera.code == code))


def counters_by_id(session: Session, ids: Iterable[int]) -> dict[int, Counter]:
    wanted = set(ids)
    if not wanted:
        return {}
    return {c.id: c for c in session.scalars(select(Counter).where(Counter.id.in_(wanted)))}
