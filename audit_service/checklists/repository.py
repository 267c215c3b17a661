"""Queries for checklist templates and versions."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from audit_service.models import ChecklistTemplate, ChecklistVersion


def list_templates(session: Session) -> list[ChecklistTemplate]:
    query = (
        select(ChecklistTemplate)
        .options(selectinload(ChecklistTemplate.versions))
        .order_by(ChecklistTemplate.code)
    )
    return list(session.scalars(query))


def template(session: Session, template_id: int) -> ChecklistTemplate | None:
    return session.get(ChecklistTemplate, template_id)


def template_by_code(session: Session, code: str) -> ChecklistTemplate | None:
    return session.scalar(select(ChecklistTemplate).where(ChecklistTemplate.code == code))


def version(session: Session, version_id: int) -> ChecklistVersion | None:
    return session.get(ChecklistVersion, version_id)


def latest_version(session: Session, template_id: int) -> ChecklistVersion | None:
    return session.scalar(
        select(ChecklistVersion)
        .where(ChecklistVersion.template_id == template_id)
        .order_by(ChecklistVersion.number.desc())
        .limit(1)
    )


def next_number(session: Session, template_id: int) -> int:
    current = session.scalar(
        select(func.max(ChecklistVersion.number)).where(ChecklistVersion.template_id == template_id)
    )
    return int(current or 0) + 1
