"""All ORM models, imported here so Alembic and ``Base.metadata`` see every table."""

from audit_service.core.db import Base
from audit_service.models.accounts import (
    ApiToken,
    LoginAttempt,
    Role,
    ScopeKind,
    User,
    UserOutletScope,
    UserRegionScope,
    UserSession,
)
from audit_service.models.cameras import Anchor, Camera, Zone, ZoneKind
from audit_service.models.evidence import EvidenceAccess, EvidenceBlob, EvidenceItem
from audit_service.models.organisation import (
    Counter,
    CounterKind,
    Outlet,
    OutletHoursException,
    Region,
)
from audit_service.models.staff import Shift, ShiftRole, Staff, StaffAssignment, StaffRole
from audit_service.models.vision import (
    CameraHealth,
    CounterState,
    EventKind,
    QueueSample,
    VisionEvent,
    WorkerCamera,
    ZoneState,
)

__all__ = [
    "Anchor",
    "ApiToken",
    "Base",
    "Camera",
    "CameraHealth",
    "Counter",
    "CounterKind",
    "CounterState",
    "EventKind",
    "EvidenceAccess",
    "EvidenceBlob",
    "EvidenceItem",
    "LoginAttempt",
    "Outlet",
    "OutletHoursException",
    "QueueSample",
    "Region",
    "Role",
    "ScopeKind",
    "Shift",
    "ShiftRole",
    "Staff",
    "StaffAssignment",
    "StaffRole",
    "User",
    "UserOutletScope",
    "UserRegionScope",
    "UserSession",
    "VisionEvent",
    "WorkerCamera",
    "Zone",
    "ZoneKind",
    "ZoneState",
]
