"""Who may do what, and to which outlets: the role table and the caller's scope.

The README's role table is generated from ``ROLE_PERMISSIONS`` (``auditlens roles``).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from audit_service.core.errors import Forbidden, NotFound
from audit_service.models.accounts import Role, ScopeKind


class Permission(enum.StrEnum):
    org_read = "org:read"
    org_write = "org:write"
    camera_read = "camera:read"
    camera_write = "camera:write"
    camera_secret = "camera:secret"  # noqa: S105 - a permission name, not a password  # see stream URLs (they carry camera passwords)
    staff_read = "staff:read"
    staff_write = "staff:write"
    roster_read = "roster:read"
    roster_write = "roster:write"
    user_admin = "user:admin"
    evidence_upload = "evidence:upload"
    evidence_view = "evidence:view"
    evidence_log = "evidence:log"
    vision_ingest = "vision:ingest"
    vision_read = "vision:read"


P = Permission

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.admin: frozenset(Permission),
    Role.supervisor: frozenset(
        {
            P.org_read,
            P.camera_read,
            P.staff_read,
            P.roster_read,
            P.roster_write,
            P.evidence_upload,
            P.evidence_view,
            P.vision_read,
        }
    ),
    Role.auditor: frozenset({P.org_read, P.evidence_upload}),
    Role.hr: frozenset(
        {
            P.org_read,
            P.staff_read,
            P.staff_write,
            P.roster_read,
            P.roster_write,
            P.evidence_log,
            P.vision_read,
        }
    ),
    # Staff see their own outlet, their own record and their own shifts only.
    Role.staff: frozenset({P.org_read, P.staff_read, P.roster_read}),
    # A vision worker (API token, no password): its cameras' configs, snapshots, findings.
    Role.worker: frozenset({P.camera_read, P.camera_secret, P.evidence_upload, P.vision_ingest}),
}

PERMISSION_NOTES: dict[Permission, str] = {
    P.org_read: "regions, outlets, counters, opening hours in scope",
    P.org_write: "create or change regions, outlets, counters, hours",
    P.camera_read: "cameras and zones in scope (stream URL hidden)",
    P.camera_write: "create or change cameras and zones",
    P.camera_secret: "read camera stream URLs",
    P.staff_read: "staff records and outlet history in scope (staff role: own record)",
    P.staff_write: "create, change, transfer staff",
    P.roster_read: "shifts in scope (staff role: own shifts)",
    P.roster_write: "add or delete shifts, import roster CSV",
    P.user_admin: "accounts: create, change, reset passwords",
    P.evidence_upload: "upload evidence for outlets in scope",
    P.evidence_view: "mint a view URL for evidence in scope (logged)",
    P.evidence_log: "read the evidence access log",
    P.vision_ingest: "post findings, queue samples, states, camera health (worker: own cameras)",
    P.vision_read: "live counter states, findings, queue samples, camera health in scope",
}


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, resolved once per request."""

    user_id: int
    username: str
    role: Role
    scope_kind: ScopeKind
    # Outlets the caller may see; None means every outlet.
    outlet_ids: frozenset[int] | None
    staff_id: int | None
    # The login session (JWT callers); None for a worker's API token.
    session_id: uuid.UUID | None
    # Cameras a worker account may touch; None for people (their scope is outlets only).
    camera_ids: frozenset[int] | None = None
    # The API token a worker called with; None for people.
    token_id: int | None = None

    @property
    def permissions(self) -> frozenset[Permission]:
        return ROLE_PERMISSIONS[self.role]

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise Forbidden(f"role '{self.role.value}' lacks permission '{permission.value}'")

    def sees_outlet(self, outlet_id: int) -> bool:
        return self.outlet_ids is None or outlet_id in self.outlet_ids

    def check_outlet(self, outlet_id: int, kind: str, ident: object) -> None:
        """Objects outside the scope are reported as unknown (404), never as forbidden."""
        if not self.sees_outlet(outlet_id):
            raise NotFound(kind, ident)

    def sees_camera(self, camera_id: int) -> bool:
        return self.camera_ids is None or camera_id in self.camera_ids

    def check_camera(self, camera_id: int, kind: str = "camera", ident: object = None) -> None:
        """A worker's cameras are its whole world: any other camera is unknown (404)."""
        if not self.sees_camera(camera_id):
            raise NotFound(kind, camera_id if ident is None else ident)

    @property
    def is_worker(self) -> bool:
        return self.role is Role.worker

    @property
    def is_staff_only(self) -> bool:
        return self.role is Role.staff


def permission_table(roles: Iterable[Role] = tuple(Role)) -> str:
    """The role table as Markdown, for the README."""
    roles = list(roles)
    head = "| permission | what it allows | " + " | ".join(r.value for r in roles) + " |"
    sep = "|---|---|" + "|".join(":-:" for _ in roles) + "|"
    rows = [
        f"| `{p.value}` | {PERMISSION_NOTES[p]} | "
        + " | ".join("yes" if p in ROLE_PERMISSIONS[r] else "" for r in roles)
        + " |"
        for p in Permission
    ]
    return "\n".join([head, sep, *rows])
