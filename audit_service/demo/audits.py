"""Demo audits: the two ready checklists, visits waiting for the demo auditor, and past audits
at every stage of review, all scored by the real service (never hand-written scores).

Past audits go through ``audits.service.submit`` and ``review`` with past timestamps, so the
demo shows what a few weeks of use look like: approved audits, a failed critical item with an
overdue corrective action, a fixed action waiting for verification, a returned audit and one
waiting for review, plus a supervisor's remote spot-check.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit_service.accounts.service import outlets_of
from audit_service.audits import service as audits
from audit_service.audits.schemas import AuditSubmission, ReviewAction
from audit_service.authz import Principal
from audit_service.checklists.definition import ChecklistDefinition, ItemType
from audit_service.checklists.service import definition_of, install_ready_templates
from audit_service.corrective_actions import service as actions
from audit_service.corrective_actions.schemas import ActionFix
from audit_service.evidence import service as evidence
from audit_service.evidence.store import EvidenceStore
from audit_service.models import (
    ChecklistTemplate,
    ChecklistVersion,
    Counter,
    Outlet,
    User,
    VersionStatus,
    Visit,
    VisitKind,
)

MAX_PHOTO_BYTES = 5 * 1024 * 1024


def principal_of(session: Session, user: User) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        scope_kind=user.scope_kind,
        outlet_ids=outlets_of(session, user),
        staff_id=user.staff_id,
        session_id=None,
    )


def good_answers(defn: ChecklistDefinition, at_local: datetime) -> dict[str, dict[str, Any]]:
    """An answer per item that meets the standard (hidden items are dropped by validation)."""
    out: dict[str, dict[str, Any]] = {}
    for _, item in defn.items():
        match item.type:
            case ItemType.yes_no:
                value: Any = True
            case ItemType.scale:
                value = item.scale_max
            case ItemType.single_choice:
                value = max(item.choices or [], key=lambda c: c.points).name
            case ItemType.multi_choice:
                value = [c.name for c in item.choices or [] if c.points > 0]
            case ItemType.number:
                candidates = [item.pass_min, item.pass_max, item.min, 1]
                value = next(v for v in candidates if v is not None)
            case ItemType.duration:
                value = (item.target_s or 240) // 2
            case ItemType.time_of_day:
                value = at_local.strftime("%H:%M")
            case ItemType.text:
                value = "Smooth visit; nothing to add. 服务顺畅。"
            case _:  # photo: filled in by the caller
                value = None
        out[item.name] = {"value": value}
    return out


def _photo(outlet: Outlet, caption: str, hue: int) -> bytes:
    img = Image.new("RGB", (640, 480), (40 + hue % 180, 90, 140))
    draw = ImageDraw.Draw(img)
    for y in range(0, 480, 24):  # a little texture, so each photo is a distinct file
        draw.line([(0, y), (640, (y + hue) % 480)], fill=(200, 200, 210 - hue % 100), width=2)
    draw.rectangle([20, 380, 620, 460], fill=(255, 255, 255))
    draw.text((32, 395), f"{outlet.code}  {caption}", fill=(20, 20, 20))
    draw.text((32, 420), "AuditLens demo photo", fill=(90, 90, 90))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def _with_photos(
    session: Session,
    store: EvidenceStore,
    principal: Principal,
    defn: ChecklistDefinition,
    outlet: Outlet,
    answers: dict[str, dict[str, Any]],
    *,
    now: datetime,
    hue: int,
) -> dict[str, dict[str, Any]]:
    for _, item in defn.items():
        if item.type is ItemType.photo:
            item_, _created = evidence.upload(
                session,
                store,
                principal,
                outlet_id=outlet.id,
                data=_photo(outlet, item.label.en, hue),
                source="audit",
                caption=item.name,
                max_bytes=MAX_PHOTO_BYTES,
                now=now,
            )
            answers[item.name] = {"value": None, "photos": [str(item_.id)]}
    return answers


def _published(session: Session, code: str) -> ChecklistVersion:
    version = session.scalar(
        select(ChecklistVersion)
        .join(ChecklistTemplate)
        .where(ChecklistTemplate.code == code, ChecklistVersion.status == VersionStatus.published)
        .order_by(ChecklistVersion.number.desc())
    )
    assert version is not None, f"ready template {code} is missing"
    return version


def _visit(
    session: Session,
    outlet: Outlet,
    version: ChecklistVersion,
    auditor: User,
    start: datetime,
    *,
    days: int,
    by: User,
    notes: str = "",
) -> Visit:
    visit = Visit(
        outlet_id=outlet.id,
        version_id=version.id,
        auditor_id=auditor.id,
        kind=VisitKind.assigned,
        window_start=start,
        window_end=start + timedelta(days=days),
        notes=notes,
        created_at=start - timedelta(days=2),
        created_by_id=by.id,
    )
    session.add(visit)
    session.flush()
    return visit


def seed_audits(session: Session, store: EvidenceStore, *, now: datetime) -> dict[str, int]:
    """Add the demo's checklists, visits and audits (once). Returns counts of what was added."""
    admin = session.scalar(select(User).where(User.username == "admin"))
    auditor = session.scalar(select(User).where(User.username == "auditor"))
    supervisor = session.scalar(select(User).where(User.username == "supervisor"))
    if admin is None or auditor is None or supervisor is None:
        return {}
    if session.scalar(select(Visit.id).limit(1)) is not None:
        return {}  # seeded before
    p_admin, p_auditor = principal_of(session, admin), principal_of(session, auditor)
    p_super = principal_of(session, supervisor)
    install_ready_templates(session, p_admin, now=now - timedelta(days=30))
    visit_tpl = _published(session, "counter-visit")
    spot_tpl = _published(session, "camera-spot-check")
    outlets = {o.code: o for o in session.scalars(select(Outlet).order_by(Outlet.id))}
    tz = ZoneInfo(next(iter(outlets.values())).timezone)
    today = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)

    # Visits waiting for the demo auditor (this week), one of them for today.
    upcoming = [
        ("sh-pudong", 0, "Ask about a claim for a scratched car; note the documents list."),
        ("sh-xuhui", 1, "Buy a travel policy; check the exemption clauses are explained."),
        ("js-suzhou-sip", 2, "Complaint scenario: a late claim payment."),
    ]
    for code, offset, notes in upcoming:
        _visit(
            session,
            outlets[code],
            visit_tpl,
            auditor,
            today + timedelta(days=offset),
            days=5,
            by=supervisor,
            notes=notes,
        )

    # Past audits: (outlet, days ago, failures, how review went).
    past = [
        ("sh-pudong", 12, {}, "approved"),
        ("sh-xuhui", 10, {"exemptions_explained": False, "wait": 780}, "approved"),
        ("sh-chongming", 9, {"answers_correct": 2}, "approved_fixed"),
        ("js-suzhou-sip", 4, {"guided_to_counter": None}, "returned"),
        ("js-nanjing-xjk", 2, {"wait": 420}, "submitted"),
    ]
    defn = definition_of(visit_tpl)
    for n, (code, days_ago, failures, review) in enumerate(past):
        outlet = outlets[code]
        start = today - timedelta(days=days_ago) + timedelta(hours=10, minutes=7 * n)
        visit = _visit(
            session, outlet, visit_tpl, auditor, start - timedelta(hours=10), days=3, by=supervisor
        )
        answers = good_answers(defn, start.astimezone(tz))
        for name, value in failures.items():
            if value is None:  # a choice the clerk got wrong: the lowest-scoring option
                item = defn.item(name)
                value = min(item.choices or [], key=lambda c: c.points).name
            answers[name] = {"value": value, "comment": "see photo and notes"}
        answers = _with_photos(
            session, store, p_auditor, defn, outlet, answers, now=start, hue=37 * n
        )
        counter = session.scalar(select(Counter).where(Counter.outlet_id == outlet.id))
        body = AuditSubmission(
            started_at=start,
            ended_at=start + timedelta(minutes=24),
            location=None,
            counter_id=counter.id if counter else None,
            answers=answers,
        )
        submitted_at = start + timedelta(minutes=30)
        audit = audits.submit(session, p_auditor, visit.id, body, now=submitted_at)
        reviewed_at = submitted_at + timedelta(hours=20)
        # The Shanghai supervisor reviews their region; the admin reviews Jiangsu.
        reviewer = p_super if p_super.sees_outlet(outlet.id) else p_admin
        if review.startswith("approved"):
            audits.review(
                session, reviewer, audit.id, ReviewAction(action="start_review"), now=reviewed_at
            )
            audits.review(
                session,
                reviewer,
                audit.id,
                ReviewAction(action="approve", comment="Checked against the camera."),
                now=reviewed_at + timedelta(minutes=15),
            )
        elif review == "returned":
            audits.review(
                session,
                reviewer,
                audit.id,
                ReviewAction(
                    action="return", comment="Which counter was it? Add the badge number."
                ),
                now=reviewed_at,
            )
        if review == "approved_fixed":
            for action in actions.repo.list_actions(
                session,
                reviewer,
                status=None,
                outlet_id=outlet.id,
                overdue_on=None,
                limit=10,
                offset=0,
            ):
                actions.fix(
                    session,
                    reviewer,
                    action.id,
                    ActionFix(note="Refresher training held on claims procedures."),
                    now=reviewed_at + timedelta(days=3),
                )

    # A supervisor's remote spot-check from the cameras, waiting for another reviewer.
    spot = definition_of(spot_tpl)
    outlet = outlets["sh-pudong"]
    start = today - timedelta(days=1) + timedelta(hours=14, minutes=20)
    visit = _visit(
        session,
        outlet,
        spot_tpl,
        supervisor,
        start - timedelta(hours=14),
        days=1,
        by=supervisor,
        notes="Daily remote check",
    )
    answers = good_answers(spot, start.astimezone(tz))
    answers["queue_length"] = {"value": 6, "comment": "queue at C2 over the threshold"}
    answers = _with_photos(session, store, p_super, spot, outlet, answers, now=start, hue=200)
    body = AuditSubmission(started_at=start, ended_at=start + timedelta(minutes=6), answers=answers)
    audits.submit(session, p_super, visit.id, body, now=start + timedelta(minutes=7))
    session.flush()
    return {"visits": len(upcoming) + len(past) + 1, "audits": len(past) + 1}
