"""Visits, audit submissions and their review.

The server alone scores: a submission is validated against the visit's pinned checklist version,
scored, attributed to staff through the roster, and stored with its breakdown. Review moves it
through submitted -> in_review -> approved | returned | rejected; approval opens the corrective
actions. Every change is an ``AuditEvent`` (who, when, what, why).
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit_service.accounts.service import outlets_of
from audit_service.audits import repository as repo
from audit_service.audits.scheduling import SchedulingError, plan_unannounced
from audit_service.audits.schemas import (
    AnswerEdit,
    AuditPage,
    AuditRead,
    AuditSubmission,
    AuditSummary,
    HistoryEntry,
    ItemResult,
    Location,
    OutletRef,
    ReviewAction,
    ScheduleRequest,
    SectionResult,
    StaffRef,
    VisitCreate,
    VisitRead,
)
from audit_service.authz import Principal
from audit_service.checklists.definition import ChecklistDefinition
from audit_service.checklists.scoring import score_audit
from audit_service.checklists.service import definition_of, get_version
from audit_service.checklists.validation import validate_answers
from audit_service.core.errors import (
    Conflict,
    Forbidden,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
)
from audit_service.cross_checks.service import check_audit as cross_check
from audit_service.models import (
    Attribution,
    Audit,
    AuditEvent,
    AuditEventKind,
    AuditItem,
    AuditStatus,
    ChecklistVersion,
    Counter,
    EvidenceItem,
    IdempotencyRecord,
    Outlet,
    Role,
    ShiftRole,
    User,
    VersionStatus,
    Visit,
    VisitKind,
    VisitStatus,
)
from audit_service.organisation.hours import intervals_on
from audit_service.performance.staleness import mark_stale

CLOCK_SKEW = timedelta(minutes=10)  # phones' clocks run a little fast or slow
REVIEWABLE = (AuditStatus.submitted, AuditStatus.in_review)
TRANSITIONS: dict[str, tuple[tuple[AuditStatus, ...], AuditStatus]] = {
    "start_review": ((AuditStatus.submitted,), AuditStatus.in_review),
    "approve": (REVIEWABLE, AuditStatus.approved),
    "return": (REVIEWABLE, AuditStatus.returned),
    "reject": (REVIEWABLE, AuditStatus.rejected),
}


# ---------------------------------------------------------------- visits


def _outlet_ref(outlet: Outlet) -> OutletRef:
    return OutletRef(id=outlet.id, code=outlet.code, name=outlet.name)


def _template_name(version: ChecklistVersion) -> dict[str, str]:
    return {"zh": version.template.name_zh, "en": version.template.name_en}


def visit_read(visit: Visit) -> VisitRead:
    audit = visit.audit
    return VisitRead(
        id=visit.id,
        outlet=_outlet_ref(visit.outlet),
        version_id=visit.version_id,
        template_code=visit.version.template.code,
        template_name=_template_name(visit.version),
        auditor_id=visit.auditor_id,
        auditor=visit.auditor.display_name or visit.auditor.username,
        kind=visit.kind,
        status=visit.status,
        window_start=visit.window_start,
        window_end=visit.window_end,
        planned_at=visit.planned_at,
        notes=visit.notes,
        audit_id=audit.id if audit else None,
        audit_status=audit.status if audit else None,
    )


def _published(session: Session, version_id: int) -> ChecklistVersion:
    version = get_version(session, version_id)
    if version.status is not VersionStatus.published:
        raise InvalidInput(
            f"version_id: checklist version {version_id} is a draft; publish it first",
            field="version_id",
        )
    return version


def _auditor(
    session: Session, user_id: int, outlet_ids: list[int], field: str = "auditor_id"
) -> User:
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise InvalidInput(f"{field}: no active account {user_id}", field=field)
    if user.role not in (Role.auditor, Role.supervisor, Role.admin):
        raise InvalidInput(
            f"{field}: account '{user.username}' is a {user.role.value}; visits go to auditors "
            "or supervisors",
            field=field,
        )
    reach = outlets_of(session, user)
    missing = [o for o in outlet_ids if reach is not None and o not in reach]
    if missing:
        raise InvalidInput(
            f"{field}: account '{user.username}' can't see outlet(s) "
            f"{', '.join(map(str, missing))}; widen its scope or pick another auditor",
            field=field,
        )
    return user


def _outlet_in_scope(session: Session, principal: Principal, outlet_id: int) -> Outlet:
    outlet = session.get(Outlet, outlet_id)
    if outlet is None or not principal.sees_outlet(outlet_id):
        raise NotFound("outlet", outlet_id)
    return outlet


def create_visit(
    session: Session, principal: Principal, data: VisitCreate, *, now: datetime
) -> VisitRead:
    _outlet_in_scope(session, principal, data.outlet_id)
    _published(session, data.version_id)
    _auditor(session, data.auditor_id, [data.outlet_id])
    visit = Visit(
        outlet_id=data.outlet_id,
        version_id=data.version_id,
        auditor_id=data.auditor_id,
        kind=VisitKind.assigned,
        window_start=data.window_start,
        window_end=data.window_end,
        notes=data.notes,
        created_at=now,
        created_by_id=principal.user_id,
    )
    session.add(visit)
    session.flush()
    session.refresh(visit)
    return visit_read(visit)


def _open_intervals(
    session: Session, outlet: Outlet, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The outlet's opening hours inside [start, end), as UTC intervals."""
    tz = ZoneInfo(outlet.timezone)
    exceptions = {
        e.day: (None if e.closed else e.intervals)
        for e in repo.hours_exceptions(session, outlet.id)
    }
    out = []
    day = start.astimezone(tz).date()
    while datetime.combine(day, time(0), tz) < end:
        for opens, closes, _extended in intervals_on(day, outlet.opening_hours or {}, exceptions):
            a = max(datetime.combine(day, opens, tz).astimezone(UTC), start)
            b = min(datetime.combine(day, closes, tz).astimezone(UTC), end)
            if b > a:
                out.append((a, b))
        day += timedelta(days=1)
    return out


def schedule_visits(
    session: Session, principal: Principal, data: ScheduleRequest, *, now: datetime
) -> list[VisitRead]:
    """Unannounced visits at random open times; no auditor twice at an outlet within the lockout."""
    _published(session, data.version_id)
    outlets = [_outlet_in_scope(session, principal, o) for o in sorted(set(data.outlet_ids))]
    for i, auditor_id in enumerate(data.auditor_ids):
        _auditor(session, auditor_id, [o.id for o in outlets], field=f"auditor_ids.{i}")
    lockout = timedelta(days=data.lockout_days)
    open_intervals = {
        o.id: _open_intervals(session, o, data.window_start, data.window_end) for o in outlets
    }
    earlier = repo.visits_of_outlets_since(
        session, [o.id for o in outlets], data.window_start - lockout
    )
    rng = random.Random(data.seed)
    try:
        plan = plan_unannounced(
            open_intervals=open_intervals,
            auditor_ids=sorted(set(data.auditor_ids)),
            visits_per_outlet=data.visits_per_outlet,
            lockout=lockout,
            earlier=earlier,
            rng=rng,
        )
    except SchedulingError as exc:
        field = str(exc).split(":", 1)[0]
        raise InvalidInput(str(exc), field=field) from None
    visits = []
    for planned in plan:
        # The auditor sees a window of the whole local day, not the exact instant: the visit
        # stays unannounced to the outlet even if the auditor's phone is seen.
        visit = Visit(
            outlet_id=planned.outlet_id,
            version_id=data.version_id,
            auditor_id=planned.auditor_id,
            kind=VisitKind.unannounced,
            window_start=max(data.window_start, planned.at - timedelta(hours=12)),
            window_end=min(data.window_end, planned.at + timedelta(hours=12)),
            planned_at=planned.at,
            notes=data.notes,
            created_at=now,
            created_by_id=principal.user_id,
        )
        session.add(visit)
        visits.append(visit)
    session.flush()
    for visit in visits:
        session.refresh(visit)
    return [visit_read(v) for v in visits]


def list_visits(session: Session, principal: Principal, **filters: Any) -> list[VisitRead]:
    return [visit_read(v) for v in repo.list_visits(session, principal, **filters)]


def get_visit(session: Session, principal: Principal, visit_id: int) -> Visit:
    visit = repo.visit(session, principal, visit_id)
    if visit is None:
        raise NotFound("visit", visit_id)
    return visit


# ---------------------------------------------------------------- idempotency


def request_hash(body: Mapping[str, Any]) -> str:
    """A canonical hash of a JSON body: key order and whitespace don't matter."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def replayed(
    session: Session, principal: Principal, key: uuid.UUID, scope: str, digest: str
) -> IdempotencyRecord | None:
    """The stored first response for this key, or None; 409 if the key was used differently."""
    record = repo.idempotency_record(session, principal.user_id, key)
    if record is None:
        return None
    if record.scope != scope or record.request_hash != digest:
        raise IdempotencyConflict(
            f"Idempotency-Key {key} was already used for a different request "
            f"({record.scope}); send a new key for a new submission"
        )
    return record


def remember(
    session: Session,
    principal: Principal,
    key: uuid.UUID,
    scope: str,
    digest: str,
    status_code: int,
    response: dict[str, Any],
    *,
    now: datetime,
) -> None:
    session.add(
        IdempotencyRecord(
            user_id=principal.user_id,
            key=key,
            scope=scope,
            request_hash=digest,
            status_code=status_code,
            response=response,
            created_at=now,
        )
    )
    try:
        session.flush()
    except IntegrityError:
        # A concurrent retry with the same key won; the caller gets its response.
        session.rollback()
        raise Conflict(
            f"Idempotency-Key {key} is being processed by another request; retry shortly"
        ) from None


def idempotent(
    session: Session,
    principal: Principal,
    key: uuid.UUID,
    scope: str,
    body: Mapping[str, Any],
    run: Callable[[], dict[str, Any]],
    *,
    status_code: int,
    now: datetime,
) -> tuple[int, dict[str, Any]]:
    """Run ``run`` once per key: a retry gets the first (status, response) again."""
    digest = request_hash(body)
    record = replayed(session, principal, key, scope, digest)
    if record is not None:
        return record.status_code, record.response
    response = run()
    remember(session, principal, key, scope, digest, status_code, response, now=now)
    return status_code, response


# ---------------------------------------------------------------- submission


def _check_photos(
    session: Session, principal: Principal, outlet_id: int, answers: Mapping[str, Any]
) -> None:
    problems = []
    for name, answer in answers.items():
        for i, photo in enumerate(answer.photos or ()):
            path = f"answers.{name}.photos.{i}"
            try:
                evidence_id = uuid.UUID(str(photo))
            except ValueError:
                problems.append((path, f"{path}: '{photo}' is not an evidence id"))
                continue
            item = session.get(EvidenceItem, evidence_id)
            if item is None or item.outlet_id != outlet_id or not principal.sees_outlet(outlet_id):
                problems.append(
                    (
                        path,
                        f"{path}: evidence {evidence_id} is not a photo uploaded for this "
                        "outlet; upload it with POST /api/v1/evidence first",
                    )
                )
    if problems:
        raise InvalidInput.many(problems)


def _validated(
    session: Session,
    principal: Principal,
    visit: Visit,
    defn: ChecklistDefinition,
    raw_answers: Mapping[str, Any],
) -> dict[str, Any]:
    answers, problems = validate_answers(defn, raw_answers)
    if problems:
        raise InvalidInput.many([(p.path, p.message) for p in problems])
    _check_photos(session, principal, visit.outlet_id, answers)
    return answers


def _local_day(outlet: Outlet, at: datetime) -> Any:
    return at.astimezone(ZoneInfo(outlet.timezone)).date()


def _attribute(
    session: Session,
    outlet: Outlet,
    at: datetime,
    role: str | None,
    badge: str | None,
    counter_id: int | None,
) -> tuple[int | None, Attribution]:
    """The staff member an item measures: the badge the auditor saw wins, then the roster."""
    day = _local_day(outlet, at)
    if badge:
        staff = repo.staff_by_badge(session, outlet.id, badge.strip(), day)
        if staff is not None:
            return staff.id, Attribution.badge
    if role == "counter_clerk":
        shifts = repo.shifts_at(session, outlet.id, at, ShiftRole.counter, counter_id)
        if len({s.staff_id for s in shifts}) == 1:
            return shifts[0].staff_id, Attribution.roster
    elif role == "lobby_manager":
        shifts = repo.shifts_at(session, outlet.id, at, ShiftRole.lobby_manager)
        if len({s.staff_id for s in shifts}) == 1:
            return shifts[0].staff_id, Attribution.roster
    elif role == "outlet":
        managers = repo.outlet_managers(session, outlet.id, day)
        if managers:
            return managers[0].id, Attribution.outlet_manager
    return None, Attribution.unresolved


def _apply_answers(
    session: Session,
    audit: Audit,
    defn: ChecklistDefinition,
    answers: Mapping[str, Any],
    counter_id: int | None,
) -> None:
    """Score ``answers`` and (re)write the audit's result and per-item rows."""
    result = score_audit(defn, answers)
    audit.answers = {name: a.to_dict() for name, a in answers.items()}
    breakdown = result.to_dict()
    breakdown["counter_id"] = counter_id
    audit.breakdown = breakdown
    audit.score = result.score
    audit.passed = result.passed
    audit.critical_failed = bool(result.critical_failed)
    by_name = {i.name: i for i in result.items}
    outlet = session.get(Outlet, audit.outlet_id)
    assert outlet is not None
    audit.items.clear()
    session.flush()
    for position, (section, item) in enumerate(defn.items()):
        scored = by_name.get(item.name)
        answer = answers.get(item.name)
        badge = getattr(answer, "badge", None) if answer is not None else None
        staff_id, how = (None, Attribution.unresolved)
        if item.role is not None:
            staff_id, how = _attribute(
                session, outlet, audit.started_at, str(item.role.value), badge, counter_id
            )
        audit.items.append(
            AuditItem(
                position=position,
                section=section.name,
                item=item.name,
                role=item.role.value if item.role else None,
                standard=item.standard,
                critical=item.critical,
                na=bool(scored.na) if scored else False,
                hidden=bool(scored.hidden) if scored else False,
                points=float(scored.points) if scored else 0.0,
                possible=float(scored.possible) if scored else 0.0,
                fraction=scored.fraction if scored else None,
                failed=bool(scored.failed) if scored else False,
                staff_id=staff_id,
                attribution=how,
            )
        )
    session.flush()


def submit(
    session: Session,
    principal: Principal,
    visit_id: int,
    body: AuditSubmission,
    *,
    now: datetime,
) -> Audit:
    visit = get_visit(session, principal, visit_id)
    if visit.auditor_id != principal.user_id:
        raise Forbidden(
            f"visit {visit_id} is assigned to another account; only its auditor submits it"
        )
    if visit.status is VisitStatus.cancelled:
        raise Conflict(f"visit {visit_id} was cancelled; nothing can be submitted for it")
    if visit.audit is not None:
        raise Conflict(
            f"visit {visit_id} already has audit {visit.audit.id} "
            f"({visit.audit.status.value}); a returned audit is corrected with "
            f"POST /api/v1/audits/{visit.audit.id}/resubmit"
        )
    _check_times(body, now)
    _check_counter(session, visit, body.counter_id)
    defn = definition_of(visit.version)
    answers = _validated(session, principal, visit, defn, body.answers)
    audit = Audit(
        visit_id=visit.id,
        version_id=visit.version_id,
        outlet_id=visit.outlet_id,
        auditor_id=principal.user_id,
        status=AuditStatus.submitted,
        started_at=body.started_at,
        ended_at=body.ended_at,
        submitted_at=now,
        answers={},
        breakdown={},
        **_location(body.location),
    )
    session.add(audit)
    session.flush()
    _apply_answers(session, audit, defn, answers, body.counter_id)
    visit.status = VisitStatus.submitted
    _event(session, audit, principal, AuditEventKind.submitted, now, to_status="submitted")
    session.flush()
    cross_check(session, audit, now)
    return audit


def resubmit(
    session: Session, principal: Principal, audit_id: int, body: AuditSubmission, *, now: datetime
) -> Audit:
    audit = get_audit(session, principal, audit_id)
    if audit.auditor_id != principal.user_id:
        raise Forbidden(f"audit {audit_id} belongs to another auditor")
    if audit.status is not AuditStatus.returned:
        raise Conflict(
            f"audit {audit_id} is {audit.status.value}; only a returned audit can be resubmitted"
        )
    _check_times(body, now)
    _check_counter(session, audit.visit, body.counter_id)
    defn = definition_of(audit.version)
    answers = _validated(session, principal, audit.visit, defn, body.answers)
    audit.started_at, audit.ended_at, audit.submitted_at = body.started_at, body.ended_at, now
    for key, value in _location(body.location).items():
        setattr(audit, key, value)
    _apply_answers(session, audit, defn, answers, body.counter_id)
    audit.status = AuditStatus.submitted
    _event(
        session,
        audit,
        principal,
        AuditEventKind.resubmitted,
        now,
        from_status="returned",
        to_status="submitted",
    )
    session.flush()
    cross_check(session, audit, now)
    return audit


def _check_counter(session: Session, visit: Visit, counter_id: int | None) -> None:
    if counter_id is None:
        return
    counter = session.get(Counter, counter_id)
    if counter is None or counter.outlet_id != visit.outlet_id:
        raise InvalidInput(
            f"counter_id: counter {counter_id} is not a counter of this visit's outlet; pick one "
            f"from GET /api/v1/outlets/{visit.outlet_id}/counters or leave it out",
            field="counter_id",
        )


def _check_times(body: AuditSubmission, now: datetime) -> None:
    if body.started_at > now + CLOCK_SKEW:
        raise InvalidInput(
            "started_at: the visit can't start in the future; check the phone's clock",
            field="started_at",
        )
    if body.ended_at > now + CLOCK_SKEW:
        raise InvalidInput(
            "ended_at: the visit can't end in the future; check the phone's clock",
            field="ended_at",
        )


def _location(location: Location | None) -> dict[str, float | None]:
    if location is None:
        return {"latitude": None, "longitude": None, "accuracy_m": None}
    return {"latitude": location.lat, "longitude": location.lon, "accuracy_m": location.accuracy_m}


def _event(
    session: Session,
    audit: Audit,
    principal: Principal,
    kind: AuditEventKind,
    now: datetime,
    **fields: Any,
) -> None:
    event = AuditEvent(audit_id=audit.id, kind=kind, at=now, by_id=principal.user_id, **fields)
    session.add(event)
    audit.events.append(event)


# ---------------------------------------------------------------- reading


def get_audit(session: Session, principal: Principal, audit_id: int) -> Audit:
    audit = repo.audit(session, principal, audit_id)
    if audit is None:
        raise NotFound("audit", audit_id)
    return audit


def audit_read(session: Session, audit: Audit) -> AuditRead:
    defn = definition_of(audit.version)
    labels = {item.name: (section, item) for section, item in defn.items()}
    rows = {row.item: row for row in audit.items}
    items = []
    for name, (_section, item) in labels.items():
        row = rows.get(name)
        staff = row.staff if row is not None and row.staff_id else None
        items.append(
            ItemResult(
                item=name,
                section=row.section if row else _section.name,
                label=item.label.model_dump(),
                type=str(item.type.value),
                role=item.role.value if item.role else None,
                standard=item.standard,
                critical=item.critical,
                answer=audit.answers.get(name),
                na=row.na if row else False,
                hidden=row.hidden if row else False,
                points=row.points if row else 0.0,
                possible=row.possible if row else 0.0,
                fraction=row.fraction if row else None,
                failed=row.failed if row else False,
                staff=StaffRef(id=staff.id, name=staff.name, employee_no=staff.employee_no)
                if staff
                else None,
                attribution=row.attribution if row else Attribution.unresolved,
            )
        )
    section_labels = {s.name: s for s in defn.sections}
    sections = [
        SectionResult(
            name=s["name"],
            label=section_labels[s["name"]].label.model_dump()
            if s["name"] in section_labels
            else {"zh": s["name"], "en": s["name"]},
            weight=s["weight"],
            points=s["points"],
            possible=s["possible"],
            percent=s.get("percent"),
        )
        for s in audit.breakdown.get("sections", [])
    ]
    from audit_service.corrective_actions.repository import action_ids_of

    location = (
        Location(lat=audit.latitude, lon=audit.longitude, accuracy_m=audit.accuracy_m)
        if audit.latitude is not None and audit.longitude is not None
        else None
    )
    return AuditRead(
        id=audit.id,
        visit_id=audit.visit_id,
        version_id=audit.version_id,
        template_code=audit.version.template.code,
        template_name=_template_name(audit.version),
        outlet=_outlet_ref(audit.outlet),
        auditor_id=audit.auditor_id,
        auditor=audit.auditor.display_name or audit.auditor.username,
        status=audit.status,
        started_at=audit.started_at,
        ended_at=audit.ended_at,
        submitted_at=audit.submitted_at,
        reviewed_at=audit.reviewed_at,
        location=location,
        counter_id=audit.breakdown.get("counter_id"),
        score=audit.score,
        passed=audit.passed,
        critical_failed=audit.critical_failed,
        capped=bool(audit.breakdown.get("capped", False)),
        sections=sections,
        items=items,
        history=[
            HistoryEntry(
                kind=e.kind,
                at=e.at,
                by=(e.by.display_name or e.by.username) if e.by else None,
                from_status=e.from_status,
                to_status=e.to_status,
                item=e.item,
                old_answer=e.old_answer,
                new_answer=e.new_answer,
                comment=e.comment,
            )
            for e in audit.events
        ],
        corrective_action_ids=action_ids_of(session, audit.id),
    )


def list_audits(
    session: Session, principal: Principal, *, limit: int, offset: int, **filters: Any
) -> AuditPage:
    audits, total = repo.list_audits(session, principal, limit=limit, offset=offset, **filters)
    return AuditPage(
        items=[
            AuditSummary(
                id=a.id,
                visit_id=a.visit_id,
                outlet_id=a.outlet_id,
                template_code=a.version.template.code,
                auditor_id=a.auditor_id,
                status=a.status,
                started_at=a.started_at,
                submitted_at=a.submitted_at,
                score=a.score,
                passed=a.passed,
                critical_failed=a.critical_failed,
            )
            for a in audits
        ],
        total=total,
        limit=limit,
        offset=offset,
    )


# ---------------------------------------------------------------- review


def _not_own(principal: Principal, audit: Audit) -> None:
    # Four eyes: a supervisor's own spot-check is reviewed by someone else.
    if audit.auditor_id == principal.user_id:
        raise Forbidden(f"audit {audit.id} is your own; another reviewer must review it")


def review(
    session: Session, principal: Principal, audit_id: int, body: ReviewAction, *, now: datetime
) -> Audit:
    audit = get_audit(session, principal, audit_id)
    _not_own(principal, audit)
    allowed_from, target = TRANSITIONS[body.action]
    if audit.status not in allowed_from:
        possible = [a for a, (src, _) in TRANSITIONS.items() if audit.status in src]
        raise Conflict(
            f"audit {audit_id} is {audit.status.value}; '{body.action}' needs "
            f"{' or '.join(s.value for s in allowed_from)}"
            + (f" (possible now: {', '.join(possible)})" if possible else " (review is over)")
        )
    before = audit.status
    audit.status = target
    if target is not AuditStatus.in_review:
        audit.reviewed_at = now
        audit.reviewed_by_id = principal.user_id
    _event(
        session,
        audit,
        principal,
        AuditEventKind.status,
        now,
        from_status=before.value,
        to_status=target.value,
        comment=body.comment,
    )
    session.flush()
    # Only approved audits count in performance scores: any step may change what counts.
    mark_stale(session, audit.started_at)
    if target is AuditStatus.approved:
        from audit_service.corrective_actions.service import open_for_audit

        open_for_audit(session, audit, definition_of(audit.version), now=now)
    return audit


def edit_answer(
    session: Session,
    principal: Principal,
    audit_id: int,
    item: str,
    body: AnswerEdit,
    *,
    now: datetime,
) -> Audit:
    audit = get_audit(session, principal, audit_id)
    _not_own(principal, audit)
    if audit.status not in REVIEWABLE:
        raise Conflict(
            f"audit {audit_id} is {audit.status.value}; answers change only while it is "
            "submitted or in review"
        )
    defn = definition_of(audit.version)
    try:
        defn.item(item)
    except KeyError:
        raise NotFound("checklist item", item) from None
    raw = {name: dict(answer) for name, answer in audit.answers.items()}
    old = raw.get(item)
    new = {
        "value": body.value,
        "na": body.na,
        "comment": body.comment,
        "photos": (old or {}).get("photos", []),
        "badge": body.badge if body.badge is not None else (old or {}).get("badge"),
    }
    raw[item] = {k: v for k, v in new.items() if v is not None}
    answers = _validated(session, principal, audit.visit, defn, raw)
    _apply_answers(session, audit, defn, answers, audit.breakdown.get("counter_id"))
    _event(
        session,
        audit,
        principal,
        AuditEventKind.answer_edit,
        now,
        item=item,
        old_answer=old,
        new_answer=audit.answers.get(item),
        comment=body.reason,
    )
    session.flush()
    cross_check(session, audit, now)
    return audit
