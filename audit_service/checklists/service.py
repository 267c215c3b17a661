"""Checklist templates and versions: drafts are edited whole, published versions never change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from audit_service.authz import Principal
from audit_service.checklists import repository as repo
from audit_service.checklists.definition import ChecklistDefinition
from audit_service.checklists.schemas import (
    TemplateCreate,
    TemplateRead,
    VersionRead,
    VersionSummary,
)
from audit_service.core.errors import Conflict, InvalidInput, NotFound
from audit_service.models import ChecklistTemplate, ChecklistVersion, VersionStatus


def problems_of(exc: ValidationError, prefix: str) -> list[tuple[str, str]]:
    """pydantic errors as (dotted field path, message) under ``prefix``."""
    out = []
    for err in exc.errors(include_url=False):
        path = ".".join([prefix, *(str(p) for p in err["loc"])])
        out.append((path, f"{path}: {err['msg']}"))
    return out or [(prefix, f"{prefix}: invalid")]


def parse_definition(raw: Any, field: str = "definition") -> ChecklistDefinition:
    try:
        return ChecklistDefinition.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput.many(problems_of(exc, field)) from None


def definition_of(version: ChecklistVersion) -> ChecklistDefinition:
    """A stored definition (validated when it was written)."""
    return ChecklistDefinition.model_validate(version.definition)


def _dump(defn: ChecklistDefinition) -> dict[str, Any]:
    return defn.model_dump(mode="json", exclude_none=True)


def _starter(code: str) -> ChecklistDefinition:
    return ChecklistDefinition.model_validate(
        {
            "name": {"zh": code, "en": code},
            "sections": [
                {
                    "name": "general",
                    "label": {"zh": "总体", "en": "General"},
                    "items": [
                        {
                            "name": "overall",
                            "type": "yes_no",
                            "label": {"zh": "服务符合标准", "en": "Service met the standard"},
                        }
                    ],
                }
            ],
        }
    )


def _item_count(version: ChecklistVersion) -> int:
    return sum(len(s.get("items", [])) for s in version.definition.get("sections", []))


def to_read(template: ChecklistTemplate) -> TemplateRead:
    published = [v for v in template.versions if v.status is VersionStatus.published]
    return TemplateRead(
        id=template.id,
        code=template.code,
        name={"zh": template.name_zh, "en": template.name_en},
        created_at=template.created_at,
        versions=[
            VersionSummary(
                id=v.id,
                number=v.number,
                status=v.status,
                created_at=v.created_at,
                published_at=v.published_at,
                items=_item_count(v),
            )
            for v in template.versions
        ],
        latest_published_id=published[-1].id if published else None,
    )


def version_read(version: ChecklistVersion) -> VersionRead:
    return VersionRead(
        id=version.id,
        template_id=version.template_id,
        template_code=version.template.code,
        number=version.number,
        status=version.status,
        created_at=version.created_at,
        published_at=version.published_at,
        definition=version.definition,
    )


def list_templates(session: Session) -> list[TemplateRead]:
    return [to_read(t) for t in repo.list_templates(session)]


def get_template(session: Session, template_id: int) -> ChecklistTemplate:
    template = repo.template(session, template_id)
    if template is None:
        raise NotFound("checklist", template_id)
    return template


def get_version(session: Session, version_id: int) -> ChecklistVersion:
    version = repo.version(session, version_id)
    if version is None:
        raise NotFound("checklist version", version_id)
    return version


def create_template(
    session: Session, principal: Principal, data: TemplateCreate, *, now: datetime
) -> TemplateRead:
    if repo.template_by_code(session, data.code) is not None:
        raise Conflict(f"checklist code '{data.code}' is taken; choose another or add a version")
    defn = _starter(data.code) if data.definition is None else parse_definition(data.definition)
    template = _new_template(session, principal, data.code, defn, now=now)
    _add_version(session, principal, template, defn, now=now)
    session.refresh(template)
    return to_read(template)


def _new_template(
    session: Session, principal: Principal, code: str, defn: ChecklistDefinition, *, now: datetime
) -> ChecklistTemplate:
    template = ChecklistTemplate(
        code=code,
        name_zh=defn.name.zh[:200],
        name_en=defn.name.en[:200],
        created_at=now,
        created_by_id=principal.user_id,
    )
    session.add(template)
    session.flush()
    return template


def _add_version(
    session: Session,
    principal: Principal,
    template: ChecklistTemplate,
    defn: ChecklistDefinition,
    *,
    now: datetime,
) -> ChecklistVersion:
    version = ChecklistVersion(
        template_id=template.id,
        number=repo.next_number(session, template.id),
        status=VersionStatus.draft,
        definition=_dump(defn),
        created_at=now,
        created_by_id=principal.user_id,
    )
    session.add(version)
    session.flush()
    return version


def create_version(
    session: Session,
    principal: Principal,
    template_id: int,
    definition: dict[str, Any] | None,
    *,
    now: datetime,
) -> ChecklistVersion:
    template = get_template(session, template_id)
    if definition is not None:
        defn = parse_definition(definition)
    else:
        latest = repo.latest_version(session, template.id)
        defn = definition_of(latest) if latest is not None else _starter(template.code)
    return _add_version(session, principal, template, defn, now=now)


def import_definition(
    session: Session,
    principal: Principal,
    code: str,
    defn: ChecklistDefinition,
    *,
    now: datetime,
) -> ChecklistVersion:
    """An imported file becomes a new draft of template ``code`` (created if it is new)."""
    template = repo.template_by_code(session, code)
    if template is None:
        template = _new_template(session, principal, code, defn, now=now)
    return _add_version(session, principal, template, defn, now=now)


def update_draft(
    session: Session, version_id: int, definition: dict[str, Any], *, now: datetime
) -> ChecklistVersion:
    version = get_version(session, version_id)
    if version.status is not VersionStatus.draft:
        raise Conflict(
            f"checklist version {version_id} is {version.status.value} and can't change; "
            f"create a new version (POST /checklists/{version.template_id}/versions)"
        )
    defn = parse_definition(definition)
    version.definition = _dump(defn)
    if version.number == 1 or version.template.name_en != defn.name.en:
        version.template.name_zh, version.template.name_en = defn.name.zh, defn.name.en
    session.flush()
    return version


def publish(
    session: Session, principal: Principal, version_id: int, *, now: datetime
) -> ChecklistVersion:
    version = get_version(session, version_id)
    if version.status is VersionStatus.published:
        return version  # publishing twice changes nothing
    definition_of(version)  # stored drafts are valid; this guards hand-edited rows
    version.status = VersionStatus.published
    version.published_at = now
    version.published_by_id = principal.user_id
    version.template.name_zh = version.definition["name"]["zh"][:200]
    version.template.name_en = version.definition["name"]["en"][:200]
    session.flush()
    return version


def install_ready_templates(
    session: Session, principal: Principal, *, now: datetime
) -> list[ChecklistVersion]:
    """Add the bundled ready templates (as published version 1) that are not there yet."""
    from audit_service.checklists.ready import READY_TEMPLATES

    added = []
    for code, defn in READY_TEMPLATES.items():
        if repo.template_by_code(session, code) is not None:
            continue
        template = _new_template(session, principal, code, defn, now=now)
        version = _add_version(session, principal, template, defn, now=now)
        added.append(publish(session, principal, version.id, now=now))
    return added
