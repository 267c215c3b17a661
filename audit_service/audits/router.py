"""Visits (assign, schedule unannounced, list) and audits (submit, review, edit, report)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, status
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.orm import Session

from audit_service.audits import report, service
from audit_service.audits.schemas import (
    AnswerEdit,
    AuditPage,
    AuditRead,
    AuditSubmission,
    ReviewAction,
    ScheduleRequest,
    VisitCreate,
    VisitRead,
)
from audit_service.authz import Permission, Principal
from audit_service.core.types import MAX_ID, IdPath
from audit_service.deps import ClientIpDep, ClockDep, Requires, SessionDep, SettingsDep, StoreDep
from audit_service.models.audits import Audit, AuditStatus, VisitStatus

router = APIRouter(tags=["audits"])

Assigner = Requires(Permission.visit_assign)
Submitter = Requires(Permission.audit_submit)
Reader = Requires(Permission.audit_read)
Reviewer = Requires(Permission.audit_review)

IdempotencyKey = Annotated[
    uuid.UUID,
    Header(
        alias="Idempotency-Key",
        description="A UUID the phone generates once per submission; retries reuse it",
    ),
]


def _once(
    session: Session,
    caller: Principal,
    key: uuid.UUID,
    scope: str,
    body: AuditSubmission,
    action: Callable[..., Audit],
    target_id: int,
    status_code: int,
    now: datetime,
) -> JSONResponse:
    """Run a submission ``action`` once per Idempotency-Key; a retry gets the first response."""

    def run() -> dict:
        audit = action(session, caller, target_id, body, now=now)
        return service.audit_read(session, audit).model_dump(mode="json")

    code, content = service.idempotent(
        session,
        caller,
        key,
        scope,
        body.model_dump(mode="json"),
        run,
        status_code=status_code,
        now=now,
    )
    return JSONResponse(content, status_code=code)


@router.post(
    "/visits",
    response_model=VisitRead,
    status_code=status.HTTP_201_CREATED,
    summary="Assign a visit: outlet, published checklist version, auditor, date window",
)
def create_visit(
    body: VisitCreate, caller: Assigner, session: SessionDep, clock: ClockDep
) -> object:
    return service.create_visit(session, caller, body, now=clock())


@router.post(
    "/visits/schedule",
    response_model=list[VisitRead],
    status_code=status.HTTP_201_CREATED,
    summary="Schedule unannounced visits at random open times (auditor lockout per outlet)",
)
def schedule_visits(
    body: ScheduleRequest, caller: Assigner, session: SessionDep, clock: ClockDep
) -> object:
    return service.schedule_visits(session, caller, body, now=clock())


@router.get(
    "/visits",
    response_model=list[VisitRead],
    summary="Visits: an auditor's own, or those of the outlets in scope",
)
def list_visits(
    caller: Reader,
    session: SessionDep,
    mine: bool = Query(False, description="Only visits assigned to me"),
    status: VisitStatus | None = None,
    outlet_id: int | None = Query(None, ge=1, le=MAX_ID),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> object:
    return service.list_visits(
        session, caller, mine=mine, status=status, outlet_id=outlet_id, limit=limit, offset=offset
    )


@router.get("/visits/{visit_id}", response_model=VisitRead, summary="One visit")
def get_visit(visit_id: IdPath, caller: Reader, session: SessionDep) -> object:
    return service.visit_read(service.get_visit(session, caller, visit_id))


@router.post(
    "/visits/{visit_id}/audit",
    response_model=AuditRead,
    status_code=status.HTTP_201_CREATED,
    summary="Submit the visit's audit (idempotent by the Idempotency-Key header)",
    description="The server validates the answers against the visit's checklist version and "
    "scores them; `client_score` is ignored. A retry with the same key and body gets the first "
    "response; the same key with another body gets 409.",
)
def submit_audit(
    visit_id: IdPath,
    body: AuditSubmission,
    key: IdempotencyKey,
    caller: Submitter,
    session: SessionDep,
    clock: ClockDep,
) -> Response:
    return _once(
        session,
        caller,
        key,
        f"POST /visits/{visit_id}/audit",
        body,
        service.submit,
        visit_id,
        status.HTTP_201_CREATED,
        clock(),
    )


@router.get(
    "/audits", response_model=AuditPage, summary="Audits in scope (auditor: own), newest first"
)
def list_audits(
    caller: Reader,
    session: SessionDep,
    outlet_id: int | None = Query(None, ge=1, le=MAX_ID),
    status: AuditStatus | None = None,
    auditor_id: int | None = Query(None, ge=1, le=MAX_ID),
    since: datetime | None = Query(None, description="Visits started at or after (ISO 8601)"),
    until: datetime | None = Query(None, description="Visits started before (ISO 8601)"),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> object:
    return service.list_audits(
        session,
        caller,
        outlet_id=outlet_id,
        status=status,
        auditor_id=auditor_id,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/audits/{audit_id}",
    response_model=AuditRead,
    summary="An audit: answers, score breakdown, staff attribution, history",
)
def get_audit(audit_id: IdPath, caller: Reader, session: SessionDep) -> object:
    return service.audit_read(session, service.get_audit(session, caller, audit_id))


@router.post(
    "/audits/{audit_id}/review",
    response_model=AuditRead,
    summary="Review step: start_review, approve (opens corrective actions), return, reject",
)
def review_audit(
    audit_id: IdPath, body: ReviewAction, caller: Reviewer, session: SessionDep, clock: ClockDep
) -> object:
    audit = service.review(session, caller, audit_id, body, now=clock())
    return service.audit_read(session, audit)


@router.patch(
    "/audits/{audit_id}/answers/{item}",
    response_model=AuditRead,
    summary="Correct one answer during review (rescored; the old answer stays in the history)",
)
def edit_answer(
    audit_id: IdPath,
    item: Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="Item name")],
    body: AnswerEdit,
    caller: Reviewer,
    session: SessionDep,
    clock: ClockDep,
) -> object:
    audit = service.edit_answer(session, caller, audit_id, item, body, now=clock())
    return service.audit_read(session, audit)


@router.post(
    "/audits/{audit_id}/resubmit",
    response_model=AuditRead,
    summary="Resubmit a returned audit with corrected answers (idempotent by Idempotency-Key)",
)
def resubmit_audit(
    audit_id: IdPath,
    body: AuditSubmission,
    key: IdempotencyKey,
    caller: Submitter,
    session: SessionDep,
    clock: ClockDep,
) -> Response:
    return _once(
        session,
        caller,
        key,
        f"POST /audits/{audit_id}/resubmit",
        body,
        service.resubmit,
        audit_id,
        status.HTTP_200_OK,
        clock(),
    )


@router.get(
    "/audits/{audit_id}/report",
    # Response, not HTMLResponse, so the JSON error bodies keep their documented type.
    response_class=Response,
    responses={200: {"content": {"text/html": {}}}},
    summary="Printable audit report (HTML): score, breakdown, photos, comments",
    description="Each photo is shown through a short-lived URL; each is written to the "
    "evidence access log.",
)
def audit_report(
    audit_id: IdPath,
    caller: Reader,
    session: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    clock: ClockDep,
    client_ip: ClientIpDep,
) -> HTMLResponse:
    html = report.html_report(
        session,
        store,
        caller,
        audit_id,
        client_ip=client_ip,
        ttl_s=settings.presign_ttl_s,
        now=clock(),
    )
    return HTMLResponse(html)


@router.get(
    "/audits/{audit_id}/report.pdf",
    response_class=Response,
    summary="The audit report as PDF (Chinese text included)",
    responses={200: {"content": {"application/pdf": {}}}},
)
def audit_report_pdf(
    audit_id: IdPath,
    caller: Reader,
    session: SessionDep,
    store: StoreDep,
    clock: ClockDep,
    client_ip: ClientIpDep,
) -> Response:
    pdf = report.pdf_report(session, store, caller, audit_id, client_ip=client_ip, now=clock())
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="audit-{audit_id}.pdf"'},
    )
