"""Every route x every role x an object in and out of the caller's scope.

The expectations are written here independently of the app: each route names the permission it
needs (``NEEDS``), and the expected status follows the rules in the README:
- the role lacks the permission: 403;
- the object belongs to an outlet outside the caller's scope: 404 (never 403: ids don't leak);
- otherwise the route's success status.
A completeness test makes sure a new route cannot be added without a row here.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from PIL import Image

from audit_service.authz import ROLE_PERMISSIONS, Permission
from audit_service.core.security import mint_access_token
from audit_service.models import (
    ActionStatus,
    Audit,
    AuditStatus,
    Camera,
    Component,
    CorrectiveAction,
    CrossCheck,
    CrossCheckStatus,
    Dispute,
    EventKind,
    FactAttribution,
    OutletHoursException,
    QueueWait,
    Role,
    ScoreFact,
    Shift,
    ShiftRole,
    SourceKind,
    StaffRole,
    UserSession,
    VisionEvent,
)
from tests import factories as f
from tests.conftest import TEST_SECRET

P = Permission
_seq = itertools.count(1)


def _png(_: object = None) -> bytes:
    """A small PNG no other call returns (random pixels), so uploads never deduplicate."""
    buf = io.BytesIO()
    Image.frombytes("RGB", (8, 8), os.urandom(8 * 8 * 3)).save(buf, "PNG")
    return buf.getvalue()


@dataclass
class World:
    client: Any
    db: Any
    clock: Any
    headers: dict[Role, dict[str, str]] = field(default_factory=dict)
    ids: dict[str, dict[str, Any]] = field(default_factory=dict)  # side -> name -> object

    def fresh_staff(self, side: str) -> Any:
        outlet = self.ids[side]["outlet"]
        staff = f.staff(self.db, outlet, f"X{next(_seq):05d}")
        self.db.commit()
        return staff

    def fresh_camera(self, side: str) -> Any:
        cam = Camera(outlet_id=self.ids[side]["outlet"].id, code=f"cam-{next(_seq)}", name="c")
        self.db.add(cam)
        self.db.commit()
        return cam

    def evidence(self, side: str) -> str:
        return self.ids[side]["evidence"]


def _token(db, user, clock) -> dict[str, str]:
    # Tokens minted directly: logging in through Argon2 for every row would only add time.
    session = UserSession(
        user_id=user.id,
        refresh_token_hash=uuid.uuid4().hex,
        expires_at=clock() + timedelta(days=1),
        created_at=clock(),
        last_used_at=clock(),
    )
    db.add(session)
    db.flush()
    token, _ = mint_access_token(
        TEST_SECRET, user_id=user.id, session_id=session.id, ttl_s=900, now=clock()
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def world(client, db, clock) -> World:
    r1 = f.region(db, "R1")
    r2 = f.region(db, "R2", "Region Two")
    w = World(client=client, db=db, clock=clock)
    for side, region, code in (("in", r1, "A"), ("out", r2, "B")):
        outlet = f.outlet(db, region, code)
        counter = f.counter(db, outlet, "C1")
        staff = f.staff(db, outlet, f"S{code}")
        camera = Camera(outlet_id=outlet.id, code=f"cam-{code}", name="cam")
        db.add(camera)
        db.flush()
        start = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
        shift = Shift(
            staff_id=staff.id,
            outlet_id=outlet.id,
            counter_id=counter.id,
            role=ShiftRole.counter,
            starts_at=start,
            ends_at=start + timedelta(hours=8),
        )
        db.add(shift)
        db.flush()
        w.ids[side] = {
            "region": region,
            "outlet": outlet,
            "counter": counter,
            "staff": staff,
            "camera": camera,
            "shift": shift,
        }
    inside = w.ids["in"]
    users = {
        Role.admin: f.user(db, "m-admin", Role.admin),
        Role.supervisor: f.user(db, "m-supervisor", Role.supervisor, outlets=[inside["outlet"]]),
        Role.auditor: f.user(db, "m-auditor", Role.auditor, outlets=[inside["outlet"]]),
        Role.hr: f.user(db, "m-hr", Role.hr, regions=[inside["region"]]),
        Role.staff: f.user(db, "m-staff", Role.staff, staff_=inside["staff"]),
    }
    w.ids["users"] = users
    w.headers = {role: _token(db, user, clock) for role, user in users.items()}
    # The worker calls with its API token; its scope is its camera (the in-scope one).
    _, worker_token = f.worker(db, "m-worker", [inside["camera"]], now=clock())
    w.headers[Role.worker] = f.bearer(worker_token)
    db.commit()
    for side in ("in", "out"):
        resp = client.post(
            "/api/v1/evidence",
            headers=w.headers[Role.admin],
            files={"file": (f"{side}.png", _png(), "image/png")},
            data={"outlet_id": str(w.ids[side]["outlet"].id)},
        )
        assert resp.status_code == 201, resp.text
        w.ids[side]["evidence"] = resp.json()["id"]
    return w


Build = Callable[[World, str, Role], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # the route template, as in the OpenAPI schema
    needs: frozenset[Permission]  # any one of these is enough
    build: Build  # (world, side, role) -> client.request kwargs incl. "url"
    ok: int = 200
    scoped: bool = True  # False: the route has no per-outlet object (no out-of-scope case)
    out_status: int = 404


def needs(*perms: Permission) -> frozenset[Permission]:
    return frozenset(perms)


def url(template: str, **ids: Any) -> str:
    return "/api/v1" + template.format(**ids)


def _csv_for(w: World, side: str) -> dict[str, Any]:
    staff = w.fresh_staff(side)
    outlet = w.ids[side]["outlet"]
    text = (
        "employee_no,outlet_code,counter_code,role,starts_at,ends_at\n"
        f"{staff.employee_no},{outlet.code},C1,counter,2026-12-01T09:00:00+08:00,"
        "2026-12-01T17:00:00+08:00\n"
    )
    return {"files": {"file": ("roster.csv", text.encode(), "text/csv")}}


def _presigned_upload(w: World, side: str, role: Role) -> dict[str, Any]:
    data = _png()
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    outlet_id = w.ids[side]["outlet"].id
    if P.evidence_upload in ROLE_PERMISSIONS[role] and (side == "in" or role is Role.admin):
        ticket = w.client.post(
            "/api/v1/evidence/uploads",
            headers=w.headers[role],
            json={
                "outlet_id": outlet_id,
                "sha256": sha,
                "size_bytes": len(data),
                "content_type": "image/png",
            },
        )
        assert ticket.status_code == 200, ticket.text
        put = w.client.put(
            ticket.json()["upload_url"].replace("http://testserver", ""),
            content=data,
            headers=ticket.json()["headers"],
        )
        assert put.status_code in (200, 201, 204), put.text
    return {
        "url": url("/evidence/uploads/complete"),
        "json": {"outlet_id": outlet_id, "sha256": sha},
    }


def _exception_day(w: World, side: str) -> dict[str, Any]:
    day = date(2026, 12, 1) + timedelta(days=next(_seq))
    w.db.add(OutletHoursException(outlet_id=w.ids[side]["outlet"].id, day=day, closed=True))
    w.db.commit()
    return {"url": url("/outlets/{o}/hours-exceptions/{d}", o=w.ids[side]["outlet"].id, d=day)}


def _zones(w: World, side: str) -> list[dict[str, Any]]:
    return [
        {
            "code": "till-1",
            "kind": "counter",
            "counter_id": w.ids[side]["counter"].id,
            "polygon": [[0.1, 0.1], [0.4, 0.1], [0.4, 0.5], [0.1, 0.5]],
        }
    ]


def _o(w: World, side: str) -> int:
    return w.ids[side]["outlet"].id


# ---------------------------------------------------------------- audits (visits, reviews, actions)

SUBMITTERS = (Role.auditor, Role.supervisor, Role.admin)  # roles a visit can be assigned to


def _version(w: World, *, published: bool = True) -> Any:
    if published and "version" in w.ids:
        return w.ids["version"]
    version = f.checklist_version(w.db, f"matrix-{next(_seq)}", published=published)
    w.db.commit()
    if published:
        w.ids["version"] = version
    return version


def _neutral(w: World) -> tuple[Any, dict[str, str]]:
    """An auditor with every outlet in scope, who owns the audits the roles look at."""
    if "neutral" not in w.ids:
        user = f.user(w.db, "m-neutral", Role.auditor)
        w.ids["neutral"] = (user, _token(w.db, user, w.clock))
        w.db.commit()
    return w.ids["neutral"]


def _visit(w: World, side: str, owner: Any) -> Any:
    visit = f.visit(w.db, w.ids[side]["outlet"], _version(w), owner)
    w.db.commit()
    return visit


def _owner(w: World, role: Role) -> Any:
    return w.ids["users"][role] if role in SUBMITTERS else _neutral(w)[0]


def _audit(w: World, side: str, owner: Any | None = None) -> Any:
    """An audit at ``side`` submitted by the neutral auditor, then handed to ``owner``."""
    neutral, headers = _neutral(w)
    visit = _visit(w, side, neutral)
    resp = w.client.post(
        url("/visits/{v}/audit", v=visit.id),
        json=f.submission(),
        headers=headers | f.idem(),
    )
    assert resp.status_code == 201, resp.text
    audit = w.db.get(Audit, resp.json()["id"])
    if owner is not None:
        audit.auditor_id = visit.auditor_id = owner.id
        w.db.commit()
    return audit


def _audit_seen_by(w: World, side: str, role: Role) -> Any:
    # An auditor reads only their own audits; other roles read any in scope.
    return _audit(w, side, w.ids["users"][role] if role is Role.auditor else None)


def _returned_audit(w: World, side: str, role: Role) -> Any:
    audit = _audit(w, side, _owner(w, role))
    audit.status = AuditStatus.returned
    w.db.commit()
    return audit


def _action(w: World, side: str, status: ActionStatus = ActionStatus.open) -> Any:
    audit = _audit(w, side)
    action = CorrectiveAction(
        audit_id=audit.id,
        outlet_id=audit.outlet_id,
        item="greeted",
        title="Greet customers",
        assignee_staff_id=w.ids[side]["staff"].id,
        due_on=date(2026, 11, 27),
        status=status,
        created_at=w.clock(),
    )
    w.db.add(action)
    w.db.commit()
    return action


def _window(days: int = 7) -> dict[str, str]:
    return {
        "window_start": "2026-12-01T00:00:00+08:00",
        "window_end": f"2026-12-{1 + days:02d}T00:00:00+08:00",
    }


def _finding(w: World, side: str) -> str:
    """A fresh camera finding of the side's staff member, as a score fact (its source id)."""
    source_id = str(uuid.uuid4())
    w.db.add(
        ScoreFact(
            component=Component.attendance,
            source_kind=SourceKind.vision_event,
            source_id=source_id,
            staff_id=w.ids[side]["staff"].id,
            outlet_id=w.ids[side]["outlet"].id,
            attribution=FactAttribution.roster,
            at=w.clock() - timedelta(hours=2),
            observed=0.0,
            good=-10.0,
            finding=True,
        )
    )
    w.db.commit()
    return source_id


def _dispute(w: World, side: str) -> int:
    row = Dispute(
        source_kind=SourceKind.vision_event,
        source_id=_finding(w, side),
        staff_id=w.ids[side]["staff"].id,
        outlet_id=w.ids[side]["outlet"].id,
        raised_by_id=w.ids["users"][Role.admin].id,
        raised_at=w.clock(),
        comment="matrix",
    )
    w.db.add(row)
    w.db.commit()
    return row.id


def _event(w: World, side: str) -> str:
    at = w.clock() - timedelta(hours=3)
    row = VisionEvent(
        id=uuid.uuid4(),
        camera_id=w.ids[side]["camera"].id,
        outlet_id=w.ids[side]["outlet"].id,
        counter_id=w.ids[side]["counter"].id,
        zone_code="desk",
        kind=EventKind.counter_unattended,
        started_at=at,
        ended_at=at + timedelta(minutes=5),
        duration_s=300.0,
    )
    w.db.add(row)
    w.db.commit()
    return str(row.id)


def _wait(w: World, side: str) -> int:
    at = w.clock() - timedelta(hours=3)
    row = QueueWait(
        camera_id=w.ids[side]["camera"].id,
        zone_code="queue",
        track_id=next(_seq),
        counter_id=w.ids[side]["counter"].id,
        outlet_id=w.ids[side]["outlet"].id,
        joined_at=at,
        left_at=at + timedelta(minutes=2),
        wait_s=120.0,
        sla_s=300.0,
        within_sla=True,
    )
    w.db.add(row)
    w.db.commit()
    return row.id


PERFORMANCE_CASES: list[Case] = [
    Case(
        "GET",
        "/vision/events/{event_id}",
        needs(P.vision_read),
        lambda w, s, r: {"url": url("/vision/events/{e}", e=_event(w, s))},
    ),
    Case(
        "GET",
        "/vision/waits/{wait_id}",
        needs(P.vision_read),
        lambda w, s, r: {"url": url("/vision/waits/{x}", x=_wait(w, s))},
    ),
    Case(
        "GET",
        "/performance/periods",
        needs(P.score_read, P.score_own),
        lambda w, s, r: {"url": url("/performance/periods")},
        scoped=False,
    ),
    Case(
        "GET",
        "/performance/scores",
        needs(P.score_read),
        lambda w, s, r: {"url": url("/performance/scores?period=2026-W47")},
        scoped=False,
    ),
    Case(
        "GET",
        "/performance/staff/{staff_id}",
        needs(P.score_read, P.score_own),
        lambda w, s, r: {
            "url": url("/performance/staff/{x}?period=2026-W47", x=w.ids[s]["staff"].id)
        },
    ),
    Case(
        "GET",
        "/performance/exports/scores.csv",
        needs(P.score_export),
        lambda w, s, r: {"url": url("/performance/exports/scores.csv?period=2026-W47")},
        scoped=False,
    ),
    Case(
        "GET",
        "/performance/exports/scores.xlsx",
        needs(P.score_export),
        lambda w, s, r: {"url": url("/performance/exports/scores.xlsx?period=2026-W47")},
        scoped=False,
    ),
    Case(
        "POST",
        "/performance/periods/{kind}/{key}/recompute",
        needs(P.score_settings),
        lambda w, s, r: {"url": url("/performance/periods/week/2026-W47/recompute")},
        scoped=False,
    ),
    Case(
        "GET",
        "/performance/settings",
        needs(P.score_read),
        lambda w, s, r: {"url": url("/performance/settings")},
        scoped=False,
    ),
    Case(
        "PUT",
        "/performance/settings",
        needs(P.score_settings),
        lambda w, s, r: {"url": url("/performance/settings"), "json": {"weight_queue": 0.2}},
        scoped=False,
    ),
    Case(
        "POST",
        "/performance/disputes",
        needs(P.dispute_raise),
        lambda w, s, r: {
            "url": url("/performance/disputes"),
            "json": {
                "source_kind": "vision_event",
                "source_id": _finding(w, s),
                "comment": "I was helping a customer at the lobby desk",
            },
        },
        ok=201,
    ),
    Case(
        "GET",
        "/performance/disputes",
        needs(P.score_read, P.dispute_raise),
        lambda w, s, r: {"url": url("/performance/disputes")},
        scoped=False,
    ),
    Case(
        "GET",
        "/performance/disputes/{dispute_id}",
        needs(P.score_read, P.dispute_raise),
        lambda w, s, r: {"url": url("/performance/disputes/{d}", d=_dispute(w, s))},
    ),
    Case(
        "POST",
        "/performance/disputes/{dispute_id}/resolve",
        needs(P.dispute_resolve),
        lambda w, s, r: {
            "url": url("/performance/disputes/{d}/resolve", d=_dispute(w, s)),
            "json": {"decision": "rejected", "comment": "camera was right"},
        },
    ),
]

AUDIT_CASES: list[Case] = [
    Case(
        "GET",
        "/checklists",
        needs(P.checklist_read),
        lambda w, s, r: {"url": url("/checklists")},
        scoped=False,
    ),
    Case(
        "POST",
        "/checklists",
        needs(P.checklist_write),
        lambda w, s, r: {"url": url("/checklists"), "json": {"code": f"new-{next(_seq)}"}},
        ok=201,
        scoped=False,
    ),
    Case(
        "GET",
        "/checklists/{template_id}",
        needs(P.checklist_read),
        lambda w, s, r: {"url": url("/checklists/{t}", t=_version(w).template_id)},
        scoped=False,
    ),
    Case(
        "POST",
        "/checklists/{template_id}/versions",
        needs(P.checklist_write),
        lambda w, s, r: {
            "url": url("/checklists/{t}/versions", t=_version(w).template_id),
            "json": {},
        },
        ok=201,
        scoped=False,
    ),
    Case(
        "GET",
        "/checklist-versions/{version_id}",
        needs(P.checklist_read),
        lambda w, s, r: {"url": url("/checklist-versions/{v}", v=_version(w).id)},
        scoped=False,
    ),
    Case(
        "PUT",
        "/checklist-versions/{version_id}",
        needs(P.checklist_write),
        lambda w, s, r: {
            "url": url("/checklist-versions/{v}", v=_version(w, published=False).id),
            "json": {"definition": f.SIMPLE_CHECKLIST},
        },
        scoped=False,
    ),
    Case(
        "POST",
        "/checklist-versions/{version_id}/publish",
        needs(P.checklist_write),
        lambda w, s, r: {
            "url": url("/checklist-versions/{v}/publish", v=_version(w, published=False).id)
        },
        scoped=False,
    ),
    Case(
        "GET",
        "/checklist-versions/{version_id}/export",
        needs(P.checklist_read),
        lambda w, s, r: {
            "url": url("/checklist-versions/{v}/export", v=_version(w).id),
            "params": {"format": "xlsform"},
        },
        scoped=False,
    ),
    Case(
        "POST",
        "/checklists/import",
        needs(P.checklist_write),
        lambda w, s, r: {
            "url": url("/checklists/import"),
            "files": {
                "file": ("c.json", json.dumps(f.SIMPLE_CHECKLIST).encode(), "application/json")
            },
            "data": {"code": f"imp-{next(_seq)}"},
        },
        ok=201,
        scoped=False,
    ),
    Case(
        "POST",
        "/visits",
        needs(P.visit_assign),
        lambda w, s, r: {
            "url": url("/visits"),
            "json": {
                "outlet_id": _o(w, s),
                "version_id": _version(w).id,
                "auditor_id": _neutral(w)[0].id,
            }
            | _window(),
        },
        ok=201,
    ),
    Case(
        "POST",
        "/visits/schedule",
        needs(P.visit_assign),
        lambda w, s, r: {
            "url": url("/visits/schedule"),
            "json": {
                "version_id": _version(w).id,
                "outlet_ids": [_o(w, s)],
                "auditor_ids": [_neutral(w)[0].id],
                "lockout_days": 0,
                "seed": 1,
            }
            | _window(),
        },
        ok=201,
    ),
    Case(
        "GET", "/visits", needs(P.audit_read), lambda w, s, r: {"url": url("/visits")}, scoped=False
    ),
    Case(
        "GET",
        "/visits/{visit_id}",
        needs(P.audit_read),
        lambda w, s, r: {
            "url": url(
                "/visits/{v}",
                v=_visit(w, s, w.ids["users"][r] if r is Role.auditor else _neutral(w)[0]).id,
            )
        },
    ),
    Case(
        "POST",
        "/visits/{visit_id}/audit",
        needs(P.audit_submit),
        lambda w, s, r: {
            "url": url("/visits/{v}/audit", v=_visit(w, s, _owner(w, r)).id),
            "json": f.submission(),
            "headers": f.idem(),
        },
        ok=201,
    ),
    Case(
        "GET", "/audits", needs(P.audit_read), lambda w, s, r: {"url": url("/audits")}, scoped=False
    ),
    Case(
        "GET",
        "/audits/{audit_id}",
        needs(P.audit_read),
        lambda w, s, r: {"url": url("/audits/{a}", a=_audit_seen_by(w, s, r).id)},
    ),
    Case(
        "POST",
        "/audits/{audit_id}/review",
        needs(P.audit_review),
        lambda w, s, r: {
            "url": url("/audits/{a}/review", a=_audit(w, s).id),
            "json": {"action": "start_review"},
        },
    ),
    Case(
        "PATCH",
        "/audits/{audit_id}/answers/{item}",
        needs(P.audit_review),
        lambda w, s, r: {
            "url": url("/audits/{a}/answers/courtesy", a=_audit(w, s).id),
            "json": {"value": 4, "reason": "seen on camera"},
        },
    ),
    Case(
        "POST",
        "/audits/{audit_id}/resubmit",
        needs(P.audit_submit),
        lambda w, s, r: {
            "url": url("/audits/{a}/resubmit", a=_returned_audit(w, s, r).id),
            "json": f.submission(),
            "headers": f.idem(),
        },
    ),
    Case(
        "GET",
        "/audits/{audit_id}/report",
        needs(P.audit_read),
        lambda w, s, r: {"url": url("/audits/{a}/report", a=_audit_seen_by(w, s, r).id)},
    ),
    Case(
        "GET",
        "/audits/{audit_id}/report.pdf",
        needs(P.audit_read),
        lambda w, s, r: {"url": url("/audits/{a}/report.pdf", a=_audit_seen_by(w, s, r).id)},
    ),
    Case(
        "GET",
        "/corrective-actions",
        needs(P.action_read),
        lambda w, s, r: {"url": url("/corrective-actions")},
        scoped=False,
    ),
    Case(
        "GET",
        "/corrective-actions/{action_id}",
        needs(P.action_read),
        lambda w, s, r: {"url": url("/corrective-actions/{a}", a=_action(w, s).id)},
    ),
    Case(
        "POST",
        "/corrective-actions/{action_id}/fix",
        needs(P.action_fix),
        lambda w, s, r: {
            "url": url("/corrective-actions/{a}/fix", a=_action(w, s).id),
            "json": {"note": "fixed it", "evidence_ids": [w.ids[s]["evidence"]]},
        },
    ),
    Case(
        "POST",
        "/corrective-actions/{action_id}/verify",
        needs(P.action_verify),
        lambda w, s, r: {
            "url": url("/corrective-actions/{a}/verify", a=_action(w, s, ActionStatus.fixed).id),
            "json": {"accept": True},
        },
    ),
]


def _cross_check(w: World, side: str) -> int:
    """A flagged cross-check of an audit at ``side`` (by the neutral auditor)."""
    audit = _audit(w, side)
    check = CrossCheck(
        audit_id=audit.id,
        outlet_id=audit.outlet_id,
        auditor_id=audit.auditor_id,
        at=audit.started_at,
        fields=[],
        status=CrossCheckStatus.flagged,
        agrees=False,
        review_comment="",
        computed_at=w.clock(),
    )
    w.db.add(check)
    w.db.commit()
    return check.id


CROSS_CHECK_CASES: list[Case] = [
    Case(
        "GET",
        "/performance/cross-checks",
        needs(P.score_read),
        lambda w, s, r: {"url": url("/performance/cross-checks")},
        scoped=False,
    ),
    Case(
        "GET",
        "/performance/cross-checks/{check_id}",
        needs(P.score_read),
        lambda w, s, r: {"url": url("/performance/cross-checks/{c}", c=_cross_check(w, s))},
    ),
    Case(
        "POST",
        "/performance/cross-checks/{check_id}/review",
        needs(P.crosscheck_review),
        lambda w, s, r: {
            "url": url("/performance/cross-checks/{c}/review", c=_cross_check(w, s)),
            "json": {"verdict": "camera", "comment": "seen on the recording"},
        },
    ),
    Case(
        "GET",
        "/performance/shoppers",
        needs(P.score_read),
        lambda w, s, r: {"url": url("/performance/shoppers")},
        scoped=False,
    ),
]


CASES: list[Case] = [
    # --- accounts (global objects: no per-outlet scope)
    Case(
        "GET", "/users", needs(P.user_admin), lambda w, s, r: {"url": url("/users")}, scoped=False
    ),
    Case(
        "POST",
        "/users",
        needs(P.user_admin),
        lambda w, s, r: {
            "url": url("/users"),
            "json": {
                "username": f"user{next(_seq)}",
                "password": "long-enough-pass",
                "role": "auditor",
            },
        },
        ok=201,
        scoped=False,
    ),
    Case(
        "GET",
        "/users/{user_id}",
        needs(P.user_admin),
        lambda w, s, r: {"url": url("/users/{u}", u=w.ids["users"][Role.auditor].id)},
        scoped=False,
    ),
    Case(
        "PATCH",
        "/users/{user_id}",
        needs(P.user_admin),
        lambda w, s, r: {
            "url": url("/users/{u}", u=w.ids["users"][Role.auditor].id),
            "json": {"display_name": "Auditor"},
        },
        scoped=False,
    ),
    Case(
        "POST",
        "/users/{user_id}/reset-password",
        needs(P.user_admin),
        lambda w, s, r: {
            "url": url("/users/{u}/reset-password", u=_fresh_user(w).id),
            "json": {"new_password": "another-long-pass"},
        },
        scoped=False,
    ),
    # --- organisation
    Case(
        "GET", "/regions", needs(P.org_read), lambda w, s, r: {"url": url("/regions")}, scoped=False
    ),
    Case(
        "POST",
        "/regions",
        needs(P.org_write),
        lambda w, s, r: {
            "url": url("/regions"),
            "json": {"code": f"RG{next(_seq)}", "name": "New"},
        },
        ok=201,
        scoped=False,
    ),
    Case(
        "GET",
        "/regions/{region_id}",
        needs(P.org_read),
        lambda w, s, r: {"url": url("/regions/{x}", x=w.ids[s]["region"].id)},
    ),
    Case(
        "PATCH",
        "/regions/{region_id}",
        needs(P.org_write),
        lambda w, s, r: {
            "url": url("/regions/{x}", x=w.ids[s]["region"].id),
            "json": {"name": "Renamed"},
        },
    ),
    Case(
        "GET", "/outlets", needs(P.org_read), lambda w, s, r: {"url": url("/outlets")}, scoped=False
    ),
    Case(
        "POST",
        "/outlets",
        needs(P.org_write),
        lambda w, s, r: {
            "url": url("/outlets"),
            "json": {
                "region_id": w.ids["in"]["region"].id,
                "code": f"N{next(_seq)}",
                "name": "New",
            },
        },
        ok=201,
        scoped=False,
    ),
    Case(
        "GET",
        "/outlets/{outlet_id}",
        needs(P.org_read),
        lambda w, s, r: {"url": url("/outlets/{o}", o=_o(w, s))},
    ),
    Case(
        "PATCH",
        "/outlets/{outlet_id}",
        needs(P.org_write),
        lambda w, s, r: {"url": url("/outlets/{o}", o=_o(w, s)), "json": {"name": "Renamed"}},
    ),
    Case(
        "GET",
        "/outlets/{outlet_id}/open",
        needs(P.org_read),
        lambda w, s, r: {
            "url": url("/outlets/{o}/open", o=_o(w, s)),
            "params": {"at": "2026-11-20T10:00:00+08:00"},
        },
    ),
    Case(
        "GET",
        "/outlets/{outlet_id}/hours-exceptions",
        needs(P.org_read),
        lambda w, s, r: {"url": url("/outlets/{o}/hours-exceptions", o=_o(w, s))},
    ),
    Case(
        "PUT",
        "/outlets/{outlet_id}/hours-exceptions/{day}",
        needs(P.org_write),
        lambda w, s, r: {
            "url": url("/outlets/{o}/hours-exceptions/2026-12-25", o=_o(w, s)),
            "json": {"closed": True, "note": "holiday"},
        },
    ),
    Case(
        "DELETE",
        "/outlets/{outlet_id}/hours-exceptions/{day}",
        needs(P.org_write),
        lambda w, s, r: _exception_day(w, s),
        ok=204,
    ),
    Case(
        "GET",
        "/outlets/{outlet_id}/counters",
        needs(P.org_read),
        lambda w, s, r: {"url": url("/outlets/{o}/counters", o=_o(w, s))},
    ),
    Case(
        "POST",
        "/outlets/{outlet_id}/counters",
        needs(P.org_write),
        lambda w, s, r: {
            "url": url("/outlets/{o}/counters", o=_o(w, s)),
            "json": {"code": f"K{next(_seq)}", "kind": "claims"},
        },
        ok=201,
    ),
    Case(
        "GET",
        "/counters/{counter_id}",
        needs(P.org_read),
        lambda w, s, r: {"url": url("/counters/{c}", c=w.ids[s]["counter"].id)},
    ),
    Case(
        "PATCH",
        "/counters/{counter_id}",
        needs(P.org_write),
        lambda w, s, r: {
            "url": url("/counters/{c}", c=w.ids[s]["counter"].id),
            "json": {"name": "Till"},
        },
    ),
    # --- cameras
    Case(
        "GET",
        "/cameras",
        needs(P.camera_read),
        lambda w, s, r: {"url": url("/cameras")},
        scoped=False,
    ),
    Case(
        "POST",
        "/cameras",
        needs(P.camera_write),
        lambda w, s, r: {
            "url": url("/cameras"),
            "json": {"outlet_id": _o(w, s), "code": f"cam-n{next(_seq)}"},
        },
        ok=201,
    ),
    Case(
        "GET",
        "/outlets/{outlet_id}/cameras",
        needs(P.camera_read),
        lambda w, s, r: {"url": url("/outlets/{o}/cameras", o=_o(w, s))},
    ),
    Case(
        "GET",
        "/cameras/{camera_id}",
        needs(P.camera_read),
        lambda w, s, r: {"url": url("/cameras/{c}", c=w.ids[s]["camera"].id)},
    ),
    Case(
        "PATCH",
        "/cameras/{camera_id}",
        needs(P.camera_write),
        lambda w, s, r: {
            "url": url("/cameras/{c}", c=w.ids[s]["camera"].id),
            "json": {"name": "Lobby"},
        },
    ),
    Case(
        "DELETE",
        "/cameras/{camera_id}",
        needs(P.camera_write),
        lambda w, s, r: {"url": url("/cameras/{c}", c=w.fresh_camera(s).id)},
        ok=204,
    ),
    Case(
        "GET",
        "/cameras/{camera_id}/zones",
        needs(P.camera_read),
        lambda w, s, r: {"url": url("/cameras/{c}/zones", c=w.ids[s]["camera"].id)},
    ),
    Case(
        "PUT",
        "/cameras/{camera_id}/zones",
        needs(P.camera_write),
        lambda w, s, r: {
            "url": url("/cameras/{c}/zones", c=w.ids[s]["camera"].id),
            "json": _zones(w, s),
        },
    ),
    Case(
        "GET",
        "/cameras/{camera_id}/config",
        needs(P.camera_read),
        lambda w, s, r: {"url": url("/cameras/{c}/config", c=w.ids[s]["camera"].id)},
    ),
    # --- staff (the in-scope member is the staff account's own record)
    Case(
        "GET", "/staff", needs(P.staff_read), lambda w, s, r: {"url": url("/staff")}, scoped=False
    ),
    Case(
        "POST",
        "/staff",
        needs(P.staff_write),
        lambda w, s, r: {
            "url": url("/staff"),
            "json": {
                "employee_no": f"N{next(_seq):05d}",
                "name": "New Person",
                "role": "counter_clerk",
                "outlet_id": _o(w, s),
                "active_from": "2026-01-01",
            },
        },
        ok=201,
    ),
    Case(
        "GET",
        "/staff/{staff_id}",
        needs(P.staff_read),
        lambda w, s, r: {"url": url("/staff/{x}", x=w.ids[s]["staff"].id)},
    ),
    Case(
        "PATCH",
        "/staff/{staff_id}",
        needs(P.staff_write),
        lambda w, s, r: {
            "url": url("/staff/{x}", x=w.ids[s]["staff"].id),
            "json": {"name": "Renamed Person"},
        },
    ),
    Case(
        "POST",
        "/staff/{staff_id}/transfer",
        needs(P.staff_write),
        lambda w, s, r: {
            "url": url("/staff/{x}/transfer", x=w.fresh_staff(s).id),
            "json": {
                "outlet_id": _o(w, s),
                "effective": "2026-06-01",
                "role": StaffRole.lobby_manager.value,
            },
        },
    ),
    Case(
        "GET",
        "/staff/{staff_id}/history",
        needs(P.staff_read),
        lambda w, s, r: {"url": url("/staff/{x}/history", x=w.ids[s]["staff"].id)},
    ),
    # --- roster
    Case(
        "GET",
        "/shifts",
        needs(P.roster_read),
        lambda w, s, r: {"url": url("/shifts")},
        scoped=False,
    ),
    Case(
        "POST",
        "/shifts",
        needs(P.roster_write),
        lambda w, s, r: {
            "url": url("/shifts"),
            "json": {
                "staff_id": w.fresh_staff(s).id,
                "outlet_id": _o(w, s),
                "role": "counter",
                "counter_id": w.ids[s]["counter"].id,
                "starts_at": "2026-12-02T09:00:00+08:00",
                "ends_at": "2026-12-02T17:00:00+08:00",
            },
        },
        ok=201,
    ),
    Case(
        "GET",
        "/shifts/{shift_id}",
        needs(P.roster_read),
        lambda w, s, r: {"url": url("/shifts/{x}", x=w.ids[s]["shift"].id)},
    ),
    Case(
        "DELETE",
        "/shifts/{shift_id}",
        needs(P.roster_write),
        lambda w, s, r: {"url": url("/shifts/{x}", x=_fresh_shift(w, s).id)},
        ok=204,
    ),
    Case(
        "GET",
        "/roster/conflicts",
        needs(P.roster_read),
        lambda w, s, r: {
            "url": url("/roster/conflicts"),
            "params": {
                "outlet_id": _o(w, s),
                "start": "2026-11-19T00:00:00Z",
                "end": "2026-11-21T00:00:00Z",
            },
        },
    ),
    # Out-of-scope rows are row errors in the import report (422), and nothing is stored.
    Case(
        "POST",
        "/roster/import",
        needs(P.roster_write),
        lambda w, s, r: {"url": url("/roster/import"), **_csv_for(w, s)},
        out_status=422,
    ),
    # --- evidence
    Case(
        "POST",
        "/evidence",
        needs(P.evidence_upload),
        lambda w, s, r: {
            "url": url("/evidence"),
            "data": {"outlet_id": str(_o(w, s))},
            "files": {"file": ("x.png", _png(), "image/png")},
        },
        ok=201,
    ),
    Case(
        "GET",
        "/evidence",
        needs(P.evidence_view, P.evidence_upload),
        lambda w, s, r: {"url": url("/evidence")},
        scoped=False,
    ),
    Case(
        "POST",
        "/evidence/uploads",
        needs(P.evidence_upload),
        lambda w, s, r: {
            "url": url("/evidence/uploads"),
            "json": {
                "outlet_id": _o(w, s),
                "sha256": uuid.uuid4().hex * 2,
                "size_bytes": 100,
                "content_type": "image/png",
            },
        },
    ),
    Case(
        "POST",
        "/evidence/uploads/complete",
        needs(P.evidence_upload),
        lambda w, s, r: _presigned_upload(w, s, r),
        ok=201,
    ),
    Case(
        "GET",
        "/evidence/access-log",
        needs(P.evidence_log),
        lambda w, s, r: {"url": url("/evidence/access-log")},
        scoped=False,
    ),
    Case(
        "GET",
        "/evidence/{evidence_id}",
        needs(P.evidence_view, P.evidence_upload),
        lambda w, s, r: {"url": url("/evidence/{e}", e=w.evidence(s))},
    ),
    Case(
        "POST",
        "/evidence/{evidence_id}/view-url",
        needs(P.evidence_view),
        lambda w, s, r: {
            "url": url("/evidence/{e}/view-url", e=w.evidence(s)),
            "json": {"purpose": "role matrix check"},
        },
    ),
    # --- vision workers (admin) and the worker's own cameras
    Case(
        "GET",
        "/vision/workers",
        needs(P.user_admin),
        lambda w, s, r: {"url": url("/vision/workers")},
        scoped=False,
    ),
    Case(
        "POST",
        "/vision/workers",
        needs(P.user_admin),
        lambda w, s, r: {
            "url": url("/vision/workers"),
            "json": {"username": f"wk{next(_seq)}", "camera_ids": [w.ids[s]["camera"].id]},
        },
        ok=201,
        scoped=False,
    ),
    Case(
        "PUT",
        "/vision/workers/{worker_id}/cameras",
        needs(P.user_admin),
        lambda w, s, r: {
            "url": url("/vision/workers/{x}/cameras", x=_fresh_worker(w).id),
            "json": {"camera_ids": [w.ids[s]["camera"].id]},
        },
    ),
    Case(
        "POST",
        "/vision/workers/{worker_id}/tokens",
        needs(P.user_admin),
        lambda w, s, r: {
            "url": url("/vision/workers/{x}/tokens", x=_fresh_worker(w).id),
            "json": {"name": "matrix"},
        },
        ok=201,
        scoped=False,
    ),
    Case(
        "DELETE",
        "/vision/workers/{worker_id}/tokens",
        needs(P.user_admin),
        lambda w, s, r: {"url": url("/vision/workers/{x}/tokens", x=_fresh_worker(w).id)},
        ok=204,
        scoped=False,
    ),
    Case(
        "GET",
        "/vision/workers/me/cameras",
        needs(P.vision_ingest),
        lambda w, s, r: {"url": url("/vision/workers/me/cameras")},
        scoped=False,
    ),
    # --- vision findings: a batch for another worker's camera is a 422 naming the item
    Case(
        "POST",
        "/vision/batches",
        needs(P.vision_ingest),
        lambda w, s, r: {
            "url": url("/vision/batches"),
            "json": {
                "health": [
                    {
                        "camera_id": w.ids[s]["camera"].code,
                        "t": "2026-11-20T09:00:00Z",
                        "online": True,
                        "achieved_fps": 2.0,
                        "configured_fps": 2.0,
                        "frames_read": 10,
                        "frames_analysed": 2,
                    }
                ]
            },
        },
        out_status=422,
    ),
    Case(
        "GET",
        "/vision/live",
        needs(P.vision_read),
        lambda w, s, r: {"url": url("/vision/live"), "params": {"outlet_id": _o(w, s)}},
    ),
    Case(
        "GET",
        "/vision/events",
        needs(P.vision_read),
        lambda w, s, r: {"url": url("/vision/events"), "params": {"outlet_id": _o(w, s)}},
    ),
    Case(
        "GET",
        "/vision/queue-samples",
        needs(P.vision_read),
        lambda w, s, r: {"url": url("/vision/queue-samples"), "params": {"outlet_id": _o(w, s)}},
    ),
    Case(
        "GET",
        "/vision/waits",
        needs(P.vision_read),
        lambda w, s, r: {"url": url("/vision/waits"), "params": {"outlet_id": _o(w, s)}},
    ),
    Case(
        "GET",
        "/vision/cameras/health",
        needs(P.vision_read),
        lambda w, s, r: {"url": url("/vision/cameras/health"), "params": {"outlet_id": _o(w, s)}},
    ),
    # --- own session: every role
    Case(
        "GET",
        "/auth/me",
        needs(*Permission),
        lambda w, s, r: {"url": url("/auth/me")},
        scoped=False,
    ),
    *AUDIT_CASES,
    *PERFORMANCE_CASES,
    *CROSS_CHECK_CASES,
]

# Routes outside the matrix, and why (each is covered by its own tests).
NOT_IN_MATRIX = {
    ("POST", "/api/v1/auth/token"): "login: no token yet (test_auth)",
    ("POST", "/api/v1/auth/refresh"): "takes a refresh token, not a role (test_auth)",
    ("POST", "/api/v1/auth/logout"): "ends the caller's own session (test_auth)",
    ("POST", "/api/v1/auth/password"): "changes the caller's own password (test_auth)",
    ("GET", "/api/v1/evidence/blobs/{sha256}"): "authorised by its signature (test_evidence)",
    ("PUT", "/api/v1/evidence/blobs/{sha256}"): "authorised by its signature (test_evidence)",
    ("GET", "/healthz"): "public probe",
    ("GET", "/readyz"): "public probe",
    ("GET", "/metrics"): "public metrics",
    ("GET", "/api/v1/performance/me"): "the caller's own staff record (test_performance)",
}


def _fresh_user(w: World) -> Any:
    user = f.user(w.db, f"target{next(_seq)}", Role.auditor)
    w.db.commit()
    return user


def _fresh_worker(w: World) -> Any:
    user, _ = f.worker(w.db, f"wk{next(_seq)}", [], now=w.clock())
    w.db.commit()
    return user


def _fresh_shift(w: World, side: str) -> Shift:
    staff = w.fresh_staff(side)
    start = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
    shift = Shift(
        staff_id=staff.id,
        outlet_id=w.ids[side]["outlet"].id,
        counter_id=w.ids[side]["counter"].id,
        role=ShiftRole.counter,
        starts_at=start,
        ends_at=start + timedelta(hours=8),
    )
    w.db.add(shift)
    w.db.commit()
    return shift


def expected(case: Case, role: Role, side: str) -> int:
    if not case.needs & ROLE_PERMISSIONS[role]:
        return 403
    if side == "out" and role is not Role.admin:  # the admin's scope is every outlet
        return case.out_status
    return case.ok


def test_every_route_is_in_the_matrix(app):
    routes = {
        (method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item
    }
    covered = {(c.method, "/api/v1" + c.path) for c in CASES} | set(NOT_IN_MATRIX)
    assert routes - covered == set(), "add these routes to CASES in test_role_matrix.py"
    assert covered - routes == set(), "these matrix rows name routes that no longer exist"


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.path}")
def test_route_by_role_and_scope(case: Case, world: World):
    unauth = world.client.request(case.method, **case.build(world, "in", Role.admin))
    # Without a token nothing is revealed or changed (an admin-built request, sent bare).
    assert unauth.status_code == 401, (case, unauth.text)

    failures = []
    for role in Role:
        sides = ("in", "out") if case.scoped else ("in",)
        for side in sides:
            want = expected(case, role, side)
            kwargs = case.build(world, side, role)
            extra = kwargs.pop("headers", {})  # e.g. an Idempotency-Key
            world.db.rollback()  # see the API's commits
            resp = world.client.request(case.method, headers=world.headers[role] | extra, **kwargs)
            if resp.status_code != want:
                failures.append(
                    f"{role.value:<10} {side:<3} want {want} got "
                    f"{resp.status_code}: {resp.text[:160]}"
                )
            elif want >= 400:
                assert {"error", "detail"} <= set(resp.json()), resp.text
    assert not failures, f"{case.method} {case.path}\n" + "\n".join(failures)


def test_staff_account_sees_only_itself(world: World):
    """Inside its own outlet, a staff account still sees only its own record and shifts."""
    other = world.fresh_staff("in")
    headers = world.headers[Role.staff]
    own = world.ids["in"]["staff"]
    assert world.client.get(url("/staff/{x}", x=other.id), headers=headers).status_code == 404
    listed = world.client.get(url("/staff"), headers=headers).json()
    ids = {s["id"] for s in (listed["items"] if isinstance(listed, dict) else listed)}
    assert ids == {own.id}
    shifts = world.client.get(url("/shifts"), headers=headers).json()
    rows = shifts["items"] if isinstance(shifts, dict) else shifts
    assert {s["staff_id"] for s in rows} == {own.id}


def test_lists_hold_only_objects_in_scope(world: World):
    headers = world.headers[Role.supervisor]
    inside, outside = world.ids["in"], world.ids["out"]
    for path, key in (
        ("/outlets", "outlet"),
        ("/cameras", "camera"),
        ("/staff", "staff"),
        ("/shifts", "shift"),
    ):
        body = world.client.get(url(path), headers=headers).json()
        rows = body["items"] if isinstance(body, dict) else body
        ids = {row["id"] for row in rows}
        assert inside[key].id in ids, path
        assert outside[key].id not in ids, path
    evidence = world.client.get(url("/evidence"), headers=headers).json()["items"]
    assert {e["id"] for e in evidence} == {inside["evidence"]}
    regions = world.client.get(url("/regions"), headers=headers).json()
    assert [r["id"] for r in regions] == [inside["region"].id]


def test_worker_lists_hold_only_its_own_cameras(world: World):
    other_in_scope = world.fresh_camera("in")  # same outlet, not assigned to the worker
    headers = world.headers[Role.worker]
    rows = world.client.get(url("/cameras"), headers=headers).json()
    assert [c["id"] for c in rows] == [world.ids["in"]["camera"].id]
    resp = world.client.get(url("/cameras/{c}", c=other_in_scope.id), headers=headers)
    assert resp.status_code == 404
