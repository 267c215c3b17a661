"""The cross-check of shopper reports against the cameras (docs/performance.md, "Cross-check").

``check_audit`` runs whenever an audit's answers change (submission, resubmission, a reviewer's
edit): it compares the answers of the items that ``observe`` something the cameras measure with
what the cameras measured at the visit's arrival instant, and upserts the audit's CrossCheck.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from audit_service.authz import Principal
from audit_service.checklists.definition import ChecklistItem, Observed
from audit_service.checklists.service import definition_of
from audit_service.core.errors import Conflict, Forbidden, NotFound
from audit_service.cross_checks import repository as repo
from audit_service.cross_checks.measure import Tolerances, measure, outcome
from audit_service.cross_checks.schemas import (
    CrossCheckPage,
    CrossCheckRead,
    CrossCheckReview,
    ShopperRead,
)
from audit_service.models import (
    Audit,
    CrossCheck,
    CrossCheckStatus,
    CrossCheckVerdict,
)
from audit_service.performance.service import get_settings
from audit_service.performance.shrinkage import shrink

# The organisation's agreement rate counts as this many compared checks in a shopper's rating.
RELIABILITY_PRIOR = 5.0
# Below this many compared checks a rating is provisional.
RELIABILITY_MIN = 5
# The prior mean before any check of the organisation could be compared.
DEFAULT_AGREEMENT = 0.5

VERDICT_AGREES: dict[CrossCheckVerdict, bool | None] = {
    CrossCheckVerdict.shopper: True,  # the report stands: it agreed with what happened
    CrossCheckVerdict.camera: False,
    CrossCheckVerdict.unclear: None,  # left out of the rating
}


def _reported(item: ChecklistItem, answer: dict[str, Any] | None) -> Any:
    """The shopper's value (None when unanswered, N/A or hidden)."""
    if not answer or answer.get("na"):
        return None
    value = answer.get("value")
    if item.observes is Observed.counter_staffed:
        return value if isinstance(value, bool) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def check_audit(session: Session, audit: Audit, now: datetime) -> CrossCheck | None:
    """Compare ``audit`` with the cameras and upsert its CrossCheck. Returns None (and stores
    nothing) when its checklist observes nothing the cameras measure."""
    observers = definition_of(audit.version).observers()
    if not observers:
        return None
    reported = {
        observed.value: _reported(item, audit.answers.get(item.name))
        for observed, item in observers.items()
    }
    counter_id = audit.breakdown.get("counter_id")
    counter_ids = [counter_id] if counter_id else repo.outlet_counter_ids(session, audit.outlet_id)
    t = audit.started_at
    measured = measure(t, repo.camera_records(session, t, counter_ids))
    settings = get_settings(session)
    tolerances = Tolerances(
        wait_s=settings.wait_tolerance_s,
        wait_ratio=settings.wait_tolerance_ratio,
        queue=settings.queue_tolerance,
    )
    result = outcome(reported, measured, tolerances)

    check = repo.for_audit(session, audit.id)
    if check is None:
        check = CrossCheck(audit_id=audit.id, review_comment="")
        session.add(check)
    was_reviewed = check.status is CrossCheckStatus.reviewed
    same_report = [(f["name"], f["reported"]) for f in check.fields or []] == [
        (f["name"], f["reported"]) for f in result.fields
    ]
    check.outlet_id = audit.outlet_id
    check.counter_id = counter_id
    check.auditor_id = audit.auditor_id
    check.at = t
    check.fields = result.fields
    check.computed_at = now
    if was_reviewed and same_report:
        # The review judged this very report: it stands (only the measurements are refreshed).
        pass
    else:
        check.status = result.status
        check.agrees = result.agrees
        check.verdict = None
        check.reviewed_by_id = None
        check.reviewed_at = None
        check.review_comment = ""
    session.flush()
    return check


# ---------------------------------------------------------------- reading


def _to_read(row: Any) -> CrossCheckRead:
    check, outlet, auditor_display, auditor_username, rev_display, rev_username = row
    return CrossCheckRead(
        id=check.id,
        audit_id=check.audit_id,
        outlet_id=check.outlet_id,
        outlet=outlet,
        counter_id=check.counter_id,
        auditor_id=check.auditor_id,
        auditor=auditor_display or auditor_username,
        at=check.at,
        status=check.status,
        agrees=check.agrees,
        fields=check.fields,
        verdict=check.verdict,
        reviewed_by=(rev_display or rev_username) if check.reviewed_by_id else None,
        reviewed_at=check.reviewed_at,
        review_comment=check.review_comment,
        computed_at=check.computed_at,
    )


def _row(session: Session, principal: Principal, check_id: int) -> Any:
    row = repo.check(session, principal, check_id)
    if row is None:
        raise NotFound("cross-check", check_id)
    return row


def get_check(session: Session, principal: Principal, check_id: int) -> CrossCheckRead:
    return _to_read(_row(session, principal, check_id))


def list_checks(
    session: Session, principal: Principal, *, limit: int, offset: int, **filters: Any
) -> CrossCheckPage:
    rows, total = repo.list_checks(session, principal, limit=limit, offset=offset, **filters)
    return CrossCheckPage(
        total=total, limit=limit, offset=offset, items=[_to_read(r) for r in rows]
    )


def review(
    session: Session,
    principal: Principal,
    check_id: int,
    body: CrossCheckReview,
    *,
    now: datetime,
) -> CrossCheckRead:
    check = _row(session, principal, check_id)[0]
    if check.auditor_id == principal.user_id:
        raise Forbidden(f"cross-check {check_id} is of your own visit; another reviewer decides it")
    if check.status is not CrossCheckStatus.flagged:
        raise Conflict(
            f"cross-check {check_id} is {check.status.value}; only a flagged cross-check "
            "(a disagreement beyond tolerance) can be reviewed"
        )
    check.status = CrossCheckStatus.reviewed
    check.verdict = body.verdict
    check.agrees = VERDICT_AGREES[body.verdict]
    check.reviewed_by_id = principal.user_id
    check.reviewed_at = now
    check.review_comment = body.comment
    session.flush()
    return get_check(session, principal, check_id)


def shoppers(session: Session, principal: Principal) -> list[ShopperRead]:
    """Each auditor's reliability: their agreement rate over the checks in scope, shrunk toward
    the organisation's agreement rate (prior strength RELIABILITY_PRIOR compared checks)."""
    org_agreed, org_compared = repo.organisation_agreement(session)
    prior = org_agreed / org_compared if org_compared else DEFAULT_AGREEMENT
    z = get_settings(session).interval_z
    out = []
    for auditor_id, display, username, checks, agreed, compared in repo.shopper_counts(
        session, principal
    ):
        agreed, compared = int(agreed or 0), int(compared or 0)
        raw = agreed / compared if compared else None
        rating = shrink(raw, compared, prior, RELIABILITY_PRIOR, z)
        out.append(
            ShopperRead(
                auditor_id=auditor_id,
                auditor=display or username,
                checks=int(checks),
                agreed=agreed,
                compared=compared,
                raw=raw,
                reliability=rating.score,
                low=rating.low,
                high=rating.high,
                provisional=compared < RELIABILITY_MIN,
            )
        )
    out.sort(key=lambda s: (s.reliability, s.auditor, s.auditor_id))
    return out
