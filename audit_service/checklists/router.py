"""Checklist templates and versions: list, create, edit drafts, publish, import, export."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status

from audit_service.authz import Permission
from audit_service.checklists import service
from audit_service.checklists.schemas import (
    CODE_PATTERN,
    TemplateCreate,
    TemplateRead,
    VersionCreate,
    VersionRead,
    VersionUpdate,
)
from audit_service.checklists.transfer import (
    ChecklistFormatError,
    definition_from_json,
    definition_from_xlsform,
    definition_to_json,
    definition_to_xlsform,
)
from audit_service.core.errors import InvalidInput
from audit_service.core.types import IdPath
from audit_service.deps import ClockDep, Requires, SessionDep, SettingsDep
from audit_service.evidence.router import BoundedUploadRoute

router = APIRouter(tags=["checklists"])
upload_router = APIRouter(tags=["checklists"], route_class=BoundedUploadRoute)

Reader = Requires(Permission.checklist_read)
Writer = Requires(Permission.checklist_write)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/checklists", response_model=list[TemplateRead], summary="Checklist templates")
def list_templates(caller: Reader, session: SessionDep) -> object:
    return service.list_templates(session)


@router.post(
    "/checklists",
    response_model=TemplateRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a checklist template with its first draft version",
)
def create_template(
    body: TemplateCreate, caller: Writer, session: SessionDep, clock: ClockDep
) -> object:
    return service.create_template(session, caller, body, now=clock())


@router.get("/checklists/{template_id}", response_model=TemplateRead, summary="One template")
def get_template(template_id: IdPath, caller: Reader, session: SessionDep) -> object:
    return service.to_read(service.get_template(session, template_id))


@router.post(
    "/checklists/{template_id}/versions",
    response_model=VersionRead,
    status_code=status.HTTP_201_CREATED,
    summary="New draft version (a copy of the latest unless a definition is given)",
)
def create_version(
    template_id: IdPath, body: VersionCreate, caller: Writer, session: SessionDep, clock: ClockDep
) -> object:
    version = service.create_version(session, caller, template_id, body.definition, now=clock())
    return service.version_read(version)


@router.get(
    "/checklist-versions/{version_id}",
    response_model=VersionRead,
    summary="A checklist version with its definition",
)
def get_version(version_id: IdPath, caller: Reader, session: SessionDep) -> object:
    return service.version_read(service.get_version(session, version_id))


@router.put(
    "/checklist-versions/{version_id}",
    response_model=VersionRead,
    summary="Replace a draft's definition (published versions never change: 409)",
)
def update_version(
    version_id: IdPath, body: VersionUpdate, caller: Writer, session: SessionDep, clock: ClockDep
) -> object:
    version = service.update_draft(session, version_id, body.definition, now=clock())
    return service.version_read(version)


@router.post(
    "/checklist-versions/{version_id}/publish",
    response_model=VersionRead,
    summary="Publish a draft: from now on it is immutable and visits can use it",
)
def publish_version(
    version_id: IdPath, caller: Writer, session: SessionDep, clock: ClockDep
) -> object:
    return service.version_read(service.publish(session, caller, version_id, now=clock()))


@router.get(
    "/checklist-versions/{version_id}/export",
    summary="Download a version as JSON or as an XLSForm workbook (ODK / KoboToolbox)",
    response_class=Response,
    responses={200: {"content": {"application/json": {}, XLSX: {}}}},
)
def export_version(
    version_id: IdPath,
    caller: Reader,
    session: SessionDep,
    format: Literal["json", "xlsform"] = Query("json"),
) -> Response:
    version = service.get_version(session, version_id)
    defn = service.definition_of(version)
    stem = f"{version.template.code}-v{version.number}"
    if format == "xlsform":
        body, media, name = definition_to_xlsform(defn), XLSX, f"{stem}.xlsx"
    else:
        body, media, name = definition_to_json(defn), "application/json", f"{stem}.json"
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@upload_router.post(
    "/checklists/import",
    response_model=VersionRead,
    status_code=status.HTTP_201_CREATED,
    summary="Import a JSON definition or an XLSForm (.xlsx) as a new draft version",
    description="The template is created when `code` is new. Errors name the sheet, row and "
    "column (XLSForm) or the field path (JSON).",
)
def import_version(
    caller: Writer,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="A .json definition or an XLSForm .xlsx")],
    code: Annotated[str, Form(pattern=CODE_PATTERN, description="Template code")],
) -> object:
    data = file.file.read(settings.max_upload_bytes + 1)
    try:
        is_xlsx = data[:2] == b"PK"  # a zip container
        defn = definition_from_xlsform(data) if is_xlsx else definition_from_json(data)
    except ChecklistFormatError as exc:
        raise InvalidInput(f"file: {exc}", field="file") from None
    version = service.import_definition(session, caller, code, defn, now=clock())
    return service.version_read(version)


router.include_router(upload_router)
