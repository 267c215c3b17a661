"""Test data: organisation, accounts and logins, built through the ORM (fast) or the API."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from audit_service.core.security import hash_password
from audit_service.models import (
    Anchor,
    ApiToken,
    Camera,
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
    WorkerCamera,
    Zone,
    ZoneKind,
)

PASSWORD = "correct-horse-battery"
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
