"""Test data: organisation, accounts and logins, built through the ORM (fast) or the API."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit_service.core.security import hash_password
from audit_service.models import (
    Anchor,
    ApiToken,
    Camera,
    ChecklistTemplate,
    ChecklistVersion,
    Counter,
    CounterKind,
    Outlet,
    Region,
    Role,
    ScopeKind,
    Staff,
    StaffAssignment,
    StaffRole,
    User,
    UserOutletScope,
    UserRegionScope,
    VersionStatus,
    Visit,
    VisitKind,
    VisitStatus,
    WorkerCamera,
    Zone,
    ZoneKind,
)

PASSWORD = "correct-horse-battery"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # the FakeClock's start (a Friday, 17:00 local)
WEEKDAY_HOURS = [{"opens": "09:00", "closes": "17:00", "extended": False}]
DEFAULT_HOURS = {d: WEEKDAY_HOURS for d in ("mon", "tue", "wed", "thu", "fri")} | {
    "sat": [],
    "sun": [],
}


@lru_cache
def _password_hash(password: str) -> str:
    # Argon2id is deliberately slow; hash each test password once per process.
    return hash_password(password)


def region(db: Session, code: str = "R1", name: str = "Region One") -> Region:
    obj = Region(code=code, name=name)
    db.add(obj)
    db.flush()
    return obj


def outlet(
    db: Session,
    region_: Region,
    code: str = "O1",
    *,
    tz: str = "Asia/Shanghai",
    hours: dict[str, Any] | None = None,
) -> Outlet:
    obj = Outlet(
        region_id=region_.id,
        code=code,
        name=f"Outlet {code}",
        address="1 Main St",
        timezone=tz,
        opening_hours=hours if hours is not None else DEFAULT_HOURS,
    )
    db.add(obj)
    db.flush()
    return obj


def counter(
    db: Session, outlet_: Outlet, code: str = "C1", kind: CounterKind = CounterKind.issuance
) -> Counter:
    obj = Counter(outlet_id=outlet_.id, code=code, name=f"Counter {code}", kind=kind)
    db.add(obj)
    db.flush()
    return obj


def staff(
    db: Session,
    outlet_: Outlet,
    employee_no: str = "E001",
    *,
    role: StaffRole = StaffRole.counter_clerk,
    team_lead: Staff | None = None,
    active_from: date = date(2026, 1, 1),
) -> Staff:
    obj = Staff(
        employee_no=employee_no,
        name=f"Staff {employee_no}",
        role=role,
        outlet_id=outlet_.id,
        team_lead_id=team_lead.id if team_lead else None,
        active_from=active_from,
    )
    db.add(obj)
    db.flush()
    db.add(
        StaffAssignment(staff_id=obj.id, outlet_id=outlet_.id, role=role, valid_from=active_from)
    )
    db.flush()
    return obj


def user(
    db: Session,
    username: str,
    role: Role,
    *,
    regions: list[Region] = (),
    outlets: list[Outlet] = (),
    staff_: Staff | None = None,
    password: str = PASSWORD,
) -> User:
    kind = ScopeKind.regions if regions else ScopeKind.outlets if outlets else ScopeKind.all
    obj = User(
        username=username,
        display_name=username,
        password_hash=_password_hash(password),
        role=role,
        scope_kind=kind,
        staff_id=staff_.id if staff_ else None,
    )
    obj.region_scopes = [UserRegionScope(region_id=r.id) for r in regions]
    obj.outlet_scopes = [UserOutletScope(outlet_id=o.id) for o in outlets]
    db.add(obj)
    db.flush()
    return obj


def login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Log in through the API; returns the Authorization header."""
    resp = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def tokens(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, Any]:
    resp = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert resp.status_code == 200, resp.text
    return resp.json()


# ---------------------------------------------------------------- cameras and vision workers


def camera(db: Session, outlet_: Outlet, code: str = "cam-1", **kw: Any) -> Camera:
    obj = Camera(outlet_id=outlet_.id, code=code, name=f"Camera {code}", **kw)
    db.add(obj)
    db.flush()
    return obj


def zone(
    db: Session,
    camera_: Camera,
    code: str,
    counter_: Counter,
    kind: ZoneKind = ZoneKind.counter,
) -> Zone:
    obj = Zone(
        camera_id=camera_.id,
        code=code,
        kind=kind,
        counter_id=counter_.id,
        polygon=[[0.1, 0.1], [0.4, 0.1], [0.4, 0.5], [0.1, 0.5]],
        anchor=Anchor.center if kind is ZoneKind.counter else Anchor.bottom_center,
        max_queue=5 if kind is ZoneKind.queue else None,
        wait_sla_s=600.0 if kind is ZoneKind.queue else None,
    )
    db.add(obj)
    db.flush()
    return obj


def worker(
    db: Session, username: str, cameras: list[Camera] = (), *, now: datetime | None = None
) -> tuple[User, str]:
    """A worker account with its cameras and one live API token; returns (user, token)."""
    from audit_service.accounts.service import new_api_token
    from audit_service.workers.service import NO_PASSWORD

    obj = User(
        username=username,
        display_name=username,
        password_hash=NO_PASSWORD,
        role=Role.worker,
        scope_kind=ScopeKind.outlets,
    )
    obj.outlet_scopes = [
        UserOutletScope(outlet_id=o) for o in sorted({c.outlet_id for c in cameras})
    ]
    db.add(obj)
    db.flush()
    for c in cameras:
        db.add(WorkerCamera(user_id=obj.id, camera_id=c.id))
    token, digest, prefix = new_api_token()
    db.add(
        ApiToken(
            user_id=obj.id,
            name="test",
            token_hash=digest,
            prefix=prefix,
            created_at=now or datetime(2026, 11, 20, tzinfo=UTC),
        )
    )
    db.flush()
    return obj, token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ---------------------------------------------------------------- checklists and visits

LABEL = {"zh": "标签", "en": "Label"}

# A small checklist that uses the scoring rules the audit tests need: a critical item that
# fails the audit, an N/A-able scale, a duration with a target, a photo, and a show_if.
SIMPLE_CHECKLIST: dict[str, Any] = {
    "name": {"zh": "测试清单", "en": "Test checklist"},
    "critical_rule": "fail",
    "pass_score": 80,
    "action_below": 0.5,
    "action_due_days": 7,
    "sections": [
        {
            "name": "reception",
            "label": {"zh": "接待", "en": "Reception"},
            "weight": 1,
            "items": [
                {
                    "name": "greeted",
                    "type": "yes_no",
                    "label": {"zh": "主动问候", "en": "Greeted promptly"},
                    "role": "lobby_manager",
                    "standard": "SV-RECEPTION-01",
                },
                {
                    "name": "courtesy",
                    "type": "scale",
                    "label": {"zh": "礼貌程度", "en": "Courtesy"},
                    "scale_min": 1,
                    "scale_max": 5,
                    "allow_na": True,
                },
            ],
        },
        {
            "name": "counter",
            "label": {"zh": "柜面", "en": "Counter"},
            "weight": 1,
            "items": [
                {
                    "name": "exemptions",
                    "type": "yes_no",
                    "label": {"zh": "说明免责条款", "en": "Exemption clauses explained"},
                    "critical": True,
                    "role": "counter_clerk",
                    "standard": "SV-COUNTER-02",
                },
                {
                    "name": "why",
                    "type": "text",
                    "label": {"zh": "未说明的情况", "en": "What was missing"},
                    "show_if": {"item": "exemptions", "equals": False},
                },
                {
                    "name": "wait",
                    "type": "duration",
                    "label": {"zh": "等候时间", "en": "Wait"},
                    "target_s": 300,
                },
                {
                    "name": "front_photo",
                    "type": "photo",
                    "label": {"zh": "网点门头照片", "en": "Photo of the outlet front"},
                    "required": False,
                    "min_photos": 1,
                    "max_photos": 3,
                },
                {
                    "name": "tidy",
                    "type": "yes_no",
                    "label": {"zh": "环境整洁", "en": "Outlet tidy"},
                    "role": "outlet",
                },
            ],
        },
    ],
}

PERFECT_ANSWERS: dict[str, Any] = {
    "greeted": {"value": True},
    "courtesy": {"value": 5},
    "exemptions": {"value": True},
    "wait": {"value": 120},
    "tidy": {"value": True},
}


def checklist_version(
    db: Session,
    code: str = "test-checklist",
    definition: dict[str, Any] | None = None,
    *,
    published: bool = True,
) -> ChecklistVersion:
    from audit_service.checklists.definition import ChecklistDefinition

    defn = ChecklistDefinition.model_validate(definition or SIMPLE_CHECKLIST)
    template = db.scalar(select(ChecklistTemplate).where(ChecklistTemplate.code == code))
    if template is None:
        template = ChecklistTemplate(
            code=code, name_zh=defn.name.zh, name_en=defn.name.en, created_at=NOW
        )
        db.add(template)
        db.flush()
    number = len(template.versions) + 1
    version = ChecklistVersion(
        template_id=template.id,
        number=number,
        status=VersionStatus.published if published else VersionStatus.draft,
        definition=defn.model_dump(mode="json", exclude_none=True),
        created_at=NOW,
        published_at=NOW if published else None,
    )
    db.add(version)
    db.flush()
    return version


def visit(
    db: Session,
    outlet_: Outlet,
    version: ChecklistVersion,
    auditor: User,
    *,
    start: datetime = NOW - timedelta(days=1),
    days: int = 7,
) -> Visit:
    obj = Visit(
        outlet_id=outlet_.id,
        version_id=version.id,
        auditor_id=auditor.id,
        kind=VisitKind.assigned,
        status=VisitStatus.assigned,
        window_start=start,
        window_end=start + timedelta(days=days),
        created_at=NOW,
    )
    db.add(obj)
    db.flush()
    return obj


def submission(answers: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    """A phone's submission body: a 20-minute visit that ended an hour before the test clock."""
    body = {
        "started_at": (NOW - timedelta(minutes=80)).isoformat(),
        "ended_at": (NOW - timedelta(minutes=60)).isoformat(),
        "location": {"lat": 31.2304, "lon": 121.4737, "accuracy_m": 25},
        "answers": answers if answers is not None else PERFECT_ANSWERS,
    }
    body.update(kw)
    return body


def idem(key: str | None = None) -> dict[str, str]:
    return {"Idempotency-Key": key or str(uuid.uuid4())}
