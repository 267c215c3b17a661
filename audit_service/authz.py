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
    checklist_read = "checklist:read"
    checklist_write = "checklist:write"
    visit_assign = "visit:assign"
    audit_submit = "audit:submit"
    audit_read = "audit:read"
    audit_review = "audit:review"
    action_read = "action:read"
    action_fix = "action:fix"
    action_verify = "action:verify"
    score_read = "score:read"
    score_own = "score:own"
    score_export = "score:export"
    score_settings = "score:settings"
    dispute_raise = "dispute:raise"
    dispute_resolve = "dispute:resolve"
    crosscheck_review = "crosscheck:review"


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
            P.checklist_read,
            P.checklist_write,
            P.visit_assign,
            P.audit_submit,  # remote camera spot-checks
            P.audit_read,
            P.audit_review,
            P.action_read,
            P.action_fix,
            P.action_verify,
            P.score_read,
            P.score_export,
            P.dispute_resolve,
            P.crosscheck_review,
        }
    ),
    Role.auditor: frozenset(
        {P.org_read, P.evidence_upload, P.checklist_read, P.audit_submit, P.audit_read}
    ),
    Role.hr: frozenset(
        {
            P.org_read,
            P.staff_read,
            P.staff_write,
            P.roster_read,
            P.roster_write,
            P.evidence_log,
            P.vision_read,
            P.checklist_read,
            P.audit_read,
            P.action_read,
            P.score_read,
            P.score_export,
            P.dispute_resolve,
        }
    ),
    # Staff see their own outlet, their own record and their own shifts only; an outlet manager
    # works the corrective actions assigned to them.
    Role.staff: frozenset(
        {
            P.org_read,
            P.staff_read,
            P.roster_read,
            P.evidence_upload,
            P.action_read,
            P.action_fix,
            P.score_own,
            P.dispute_raise,
        }
    ),
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
    P.vision_read: "live counter states, findings, queue samples and waits, camera health in scope",
    P.checklist_read: "checklist templates and versions",
    P.checklist_write: "create, edit, import and publish checklist versions",
    P.visit_assign: "assign visits and schedule unannounced ones for outlets in scope",
    P.audit_submit: "submit audits for visits assigned to oneself",
    P.audit_read: "audits and their reports in scope (auditor: own audits)",
    P.audit_review: "review audits: approve, return, reject, edit answers with a reason",
    P.action_read: "corrective actions in scope (staff role: assigned to them)",
    P.action_fix: "mark a corrective action fixed with evidence (staff role: assigned to them)",
    P.action_verify: "verify or reopen a fixed corrective action",
    P.score_read: "performance scores, their findings, disputes and cross-checks in scope",
    P.score_own: "one's own scores and findings (outlet manager: the outlet's findings)",
    P.score_export: "export a period's scores as CSV or XLSX",
    P.score_settings: "change the score model's weights and thresholds",
    P.dispute_raise: "dispute a finding attributed to oneself (outlet manager: in the outlet)",
    P.dispute_resolve: "uphold or reject a dispute",
    P.crosscheck_review: "review a shopper report that disagrees with the cameras",
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

    @property
    def own_audits_only(self) -> bool:
        """Auditors see the visits and audits assigned to them, not their outlets' others."""
        return self.role is Role.auditor

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
