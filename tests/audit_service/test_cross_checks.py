"""The cross-check of shopper reports against the cameras, on constructed cases: agreement within
tolerance, each kind of disagreement, no camera data, review, reliability arithmetic, scope, and
the checklist's ``observes`` key."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from audit_service.checklists.definition import ChecklistDefinition
from audit_service.checklists.ready import READY_TEMPLATES
from audit_service.checklists.transfer import definition_from_xlsform, definition_to_xlsform
from audit_service.models import (
    Audit,
    CrossCheck,
    CrossCheckStatus,
    EventKind,
    QueueSample,
    QueueWait,
    Role,
    ScoreSettings,
    VisionEvent,
    Visit,
    ZoneKind,
)
from tests import factories as f

NOW = f.NOW
ARRIVAL = NOW - timedelta(minutes=80)  # f.submission()'s started_at
L = {"zh": "项", "en": "item"}

OBSERVING: dict[str, Any] = {
    "name": {"zh": "暗访", "en": "Visit"},
    "sections": [
        {
            "name": "arrival",
            "label": L,
            "items": [
                {"name": "greeted", "type": "yes_no", "label": L, "required": False},
                {
                    "name": "staffed",
                    "type": "yes_no",
                    "label": L,
                    "required": False,
                    "role": "counter_clerk",
                    "observes": "counter_staffed",
                },
                {
                    "name": "queue",
                    "type": "number",
                    "label": L,
                    "weight": 0,
                    "required": False,
                    "min": 0,
                    "max": 100,
                    "observes": "queue_length",
                },
                {
                    "name": "wait",
                    "type": "duration",
                    "label": L,
                    "required": False,
                    "target_s": 300,
                    "observes": "wait_s",
                },
            ],
        }
    ],
}


def answers(staffed: bool | None = True, queue: float | None = 3, wait: int | None = 300) -> dict:
    """A submission's answers; None leaves the item unanswered."""
    given = {"greeted": True, "staffed": staffed, "queue": queue, "wait": wait}
    return {name: {"value": value} for name, value in given.items() if value is not None}


class Logins(dict):
    """Auth headers per user, logged in on first use (Argon2 makes each login cost time)."""

    def __init__(self, client: Any, users: dict[str, Any]) -> None:
        super().__init__()
        self.client, self.users = client, users

    def __missing__(self, name: str) -> dict[str, str]:
        self[name] = f.login(self.client, self.users[name].username)
        return self[name]


@dataclass
class Site:
    client: Any
    db: Any
    outlet: Any
    other_outlet: Any
    counter: Any
    camera: Any
    version: Any
    users: dict[str, Any]
    headers: Logins

    # -- camera records (constructed directly: they arrive through the vision ingestion)

    def sample(self, at: datetime, count: int, wait_s: float | None = None) -> None:
        self.db.add(
            QueueSample(
                camera_id=self.camera.id,
                zone_code="queue-1",
                at=at,
                counter_id=self.counter.id,
                outlet_id=self.outlet.id,
                count=count,
                smoothed=float(count),
                wait_s=wait_s,
            )
        )
        self.db.commit()

    def wait(self, joined_at: datetime, wait_s: float) -> None:
        self.db.add(
            QueueWait(
                camera_id=self.camera.id,
                zone_code="queue-1",
                track_id=int(joined_at.timestamp()),
                counter_id=self.counter.id,
                outlet_id=self.outlet.id,
                joined_at=joined_at,
                left_at=joined_at + timedelta(seconds=wait_s),
                wait_s=wait_s,
                sla_s=600.0,
                within_sla=wait_s <= 600,
            )
        )
        self.db.commit()

    def unattended(self, start: datetime, end: datetime | None = None) -> None:
        self.db.add(
            VisionEvent(
                id=uuid.uuid4(),
                camera_id=self.camera.id,
                outlet_id=self.outlet.id,
                counter_id=self.counter.id,
                zone_code="till-1",
                kind=EventKind.counter_unattended,
                started_at=start,
                ended_at=end,
                duration_s=(end - start).total_seconds() if end else None,
                data={},
                start_received=True,
                end_received=end is not None,
            )
        )
        self.db.commit()

    # -- API

    def submit(self, body_answers: dict, *, counter: bool = True, who: str = "auditor") -> dict:
        visit = f.visit(self.db, self.outlet, self.version, self.users[who])
        self.db.commit()
        extra = {"counter_id": self.counter.id} if counter else {}
        resp = self.client.post(
            f"/api/v1/visits/{visit.id}/audit",
            json=f.submission(body_answers, **extra),
            headers=self.headers[who] | f.idem(),
        )
        assert resp.status_code == 201, resp.text
        return resp.json()

    def check_of(self, audit_id: int, who: str = "supervisor") -> dict:
        self.db.rollback()
        check_id = self.db.scalar(select(CrossCheck.id).where(CrossCheck.audit_id == audit_id))
        assert check_id is not None
        resp = self.client.get(
            f"/api/v1/performance/cross-checks/{check_id}", headers=self.headers[who]
        )
        assert resp.status_code == 200, resp.text
        return resp.json()

    def review(self, check_id: int, verdict: str, who: str = "supervisor", comment: str = ""):
        return self.client.post(
            f"/api/v1/performance/cross-checks/{check_id}/review",
            json={"verdict": verdict, "comment": comment},
            headers=self.headers[who],
        )


@pytest.fixture
def site(client, db) -> Site:
    r1 = f.region(db, "R1")
    r2 = f.region(db, "R2", "Region Two")
    outlet = f.outlet(db, r1, "O1")
    other = f.outlet(db, r2, "O2")
    counter = f.counter(db, outlet, "C1")
    f.counter(db, other, "C1")
    camera = f.camera(db, outlet, "cam-o1")
    f.zone(db, camera, "till-1", counter, ZoneKind.counter)
    f.zone(db, camera, "queue-1", counter, ZoneKind.queue)
    version = f.checklist_version(db, "observing", OBSERVING)
    staff = f.staff(db, outlet, "E1")
    users = {
        "auditor": f.user(db, "shopper", Role.auditor),
        "auditor2": f.user(db, "shopper2", Role.auditor),
        "supervisor": f.user(db, "sup", Role.supervisor, outlets=[outlet]),
        "far_supervisor": f.user(db, "sup-far", Role.supervisor, outlets=[other]),
        "hr": f.user(db, "hr", Role.hr, regions=[r1]),
        "far_hr": f.user(db, "hr-far", Role.hr, regions=[r2]),
        "admin": f.user(db, "root", Role.admin),
        "staff": f.user(db, "clerk", Role.staff, staff_=staff),
    }
    db.commit()
    return Site(client, db, outlet, other, counter, camera, version, users, Logins(client, users))


def field(check: dict, name: str) -> dict:
    return next(x for x in check["fields"] if x["name"] == name)


# ---------------------------------------------------------------- comparing


def test_agreement_within_tolerance(site: Site):
    site.sample(ARRIVAL + timedelta(seconds=30), count=4, wait_s=200.0)
    site.sample(ARRIVAL + timedelta(seconds=150), count=9, wait_s=900.0)  # outside ±2 min
    site.wait(ARRIVAL + timedelta(seconds=20), 250.0)
    site.wait(ARRIVAL + timedelta(seconds=100), 30.0)  # another person, joined later
    audit = site.submit(answers(staffed=True, queue=3, wait=300))
    check = site.check_of(audit["id"])
    assert check["status"] == "agreed" and check["agrees"] is True
    assert check["fields"] == [
        # max(120 s, 0.5 x 300 s) = 150 s; |300 - 250| = 50
        {"name": "wait_s", "reported": 300, "measured": 250.0, "tolerance": 150.0, "agrees": True},
        # the sample's camera also covers the counter's station: it was watching, and no
        # unattended finding covers the arrival
        {
            "name": "counter_staffed",
            "reported": True,
            "measured": True,
            "tolerance": None,
            "agrees": True,
        },
        {"name": "queue_length", "reported": 3.0, "measured": 4, "tolerance": 2.0, "agrees": True},
    ]
    assert check["at"].startswith(ARRIVAL.isoformat()[:19])
    assert (check["outlet"], check["auditor"], check["counter_id"]) == (
        "Outlet O1",
        "shopper",
        site.counter.id,
    )
    # The settings row was created with the defaults.
    row = site.db.get(ScoreSettings, 1)
    assert (row.wait_tolerance_s, row.wait_tolerance_ratio, row.queue_tolerance) == (120, 0.5, 2)


def test_wait_disagreement(site: Site):
    site.sample(ARRIVAL, count=2)
    site.wait(ARRIVAL - timedelta(seconds=40), 400.0)
    audit = site.submit(answers(staffed=True, queue=2, wait=60))
    check = site.check_of(audit["id"])
    assert check["status"] == "flagged" and check["agrees"] is False
    # max(120 s, 0.5 x 60 s) = 120 s; |60 - 400| = 340
    assert field(check, "wait_s") == {
        "name": "wait_s",
        "reported": 60,
        "measured": 400.0,
        "tolerance": 120.0,
        "agrees": False,
    }
    assert field(check, "queue_length")["agrees"] is True
    assert field(check, "counter_staffed")["agrees"] is True


def test_wait_falls_back_on_the_sample_estimate(site: Site):
    site.sample(ARRIVAL - timedelta(seconds=10), count=1, wait_s=500.0)
    site.wait(ARRIVAL + timedelta(minutes=4), 60.0)  # joined outside ±3 min: not the shopper
    audit = site.submit(answers(staffed=True, queue=1, wait=200))
    check = site.check_of(audit["id"])
    assert field(check, "wait_s")["measured"] == 500.0
    assert field(check, "wait_s")["agrees"] is False  # |200 - 500| > 120
    assert check["status"] == "flagged"


def test_queue_disagreement(site: Site):
    site.sample(ARRIVAL - timedelta(seconds=50), count=6)
    site.sample(ARRIVAL + timedelta(seconds=70), count=2)  # further from the arrival
    audit = site.submit(answers(staffed=True, queue=3, wait=None))
    check = site.check_of(audit["id"])
    assert field(check, "queue_length") == {
        "name": "queue_length",
        "reported": 3.0,
        "measured": 6,
        "tolerance": 2.0,
        "agrees": False,
    }
    assert check["status"] == "flagged"


def test_staffed_report_against_an_unattended_counter(site: Site):
    site.unattended(ARRIVAL - timedelta(minutes=2))  # still open: covers the arrival
    audit = site.submit(answers(staffed=True, queue=None, wait=None))
    check = site.check_of(audit["id"])
    assert check["fields"] == [
        {"name": "wait_s", "reported": None, "measured": None, "tolerance": 120.0, "agrees": None},
        {
            "name": "counter_staffed",
            "reported": True,
            "measured": False,
            "tolerance": None,
            "agrees": False,
        },
        {
            "name": "queue_length",
            "reported": None,
            "measured": None,
            "tolerance": 2.0,
            "agrees": None,
        },
    ]
    assert check["status"] == "flagged"


def test_an_unattended_finding_that_ended_before_the_arrival(site: Site):
    site.unattended(ARRIVAL - timedelta(minutes=10), ARRIVAL - timedelta(minutes=1))
    audit = site.submit(answers(staffed=False, queue=None, wait=None))
    check = site.check_of(audit["id"])
    # The camera saw the counter become attended a minute before the shopper came in.
    assert field(check, "counter_staffed")["measured"] is True
    assert check["status"] == "flagged"


def test_no_camera_data(site: Site):
    # A finding long before the visit and a sample long after say nothing about the arrival.
    site.unattended(ARRIVAL - timedelta(hours=3), ARRIVAL - timedelta(hours=2))
    site.sample(ARRIVAL + timedelta(minutes=30), count=5, wait_s=100.0)
    audit = site.submit(answers())
    check = site.check_of(audit["id"])
    assert check["status"] == "no_data" and check["agrees"] is None
    assert [x["measured"] for x in check["fields"]] == [None, None, None]
    assert [x["reported"] for x in check["fields"]] == [300, True, 3.0]


def test_without_a_counter_the_outlets_counters_count(site: Site):
    second = f.counter(site.db, site.outlet, "C2")
    site.db.commit()
    site.sample(ARRIVAL, count=2)
    site.db.add(
        QueueSample(
            camera_id=site.camera.id,
            zone_code="queue-2",
            at=ARRIVAL + timedelta(seconds=5),
            counter_id=second.id,
            outlet_id=site.outlet.id,
            count=3,
            smoothed=3.0,
        )
    )
    site.db.commit()
    audit = site.submit(answers(staffed=True, queue=5, wait=None), counter=False)
    check = site.check_of(audit["id"])
    assert check["counter_id"] is None
    assert field(check, "queue_length")["measured"] == 5  # 2 + 3: every queue of the outlet
    assert field(check, "counter_staffed")["measured"] is True  # C1's camera was watching
    assert check["status"] == "agreed"


def test_a_checklist_that_observes_nothing_has_no_cross_check(site: Site):
    site.version = f.checklist_version(site.db, "plain")
    site.db.commit()
    site.sample(ARRIVAL, count=2)
    audit = site.submit(f.PERFECT_ANSWERS)
    site.db.rollback()
    assert site.db.scalar(select(func.count(CrossCheck.id))) == 0
    assert audit["status"] == "submitted"


def test_tolerances_come_from_the_settings(site: Site):
    site.db.add(ScoreSettings(id=1, wait_tolerance_s=30.0, wait_tolerance_ratio=0.0))
    site.db.commit()
    site.wait(ARRIVAL, 250.0)
    site.sample(ARRIVAL, count=3)
    audit = site.submit(answers(staffed=True, queue=3, wait=300))
    check = site.check_of(audit["id"])
    assert field(check, "wait_s")["tolerance"] == 30.0
    assert check["status"] == "flagged"  # |300 - 250| = 50 > 30


# ---------------------------------------------------------------- recomputing and review


def test_an_answer_edit_recomputes_and_a_review_stands_for_its_report(site: Site):
    site.wait(ARRIVAL, 400.0)
    audit = site.submit(answers(staffed=True, queue=None, wait=60))
    check = site.check_of(audit["id"])
    assert check["status"] == "flagged"

    # A reviewer corrects a typo in the wait: the check is recomputed.
    resp = site.client.patch(
        f"/api/v1/audits/{audit['id']}/answers/wait",
        json={"value": 420, "reason": "the shopper typed 1:00 for 7:00"},
        headers=site.headers["supervisor"],
    )
    assert resp.status_code == 200, resp.text
    check = site.check_of(audit["id"])
    assert check["status"] == "agreed" and field(check, "wait_s")["reported"] == 420

    # Back to a disagreement, reviewed; an edit elsewhere leaves the review standing.
    site.client.patch(
        f"/api/v1/audits/{audit['id']}/answers/wait",
        json={"value": 60, "reason": "the original was right after all"},
        headers=site.headers["supervisor"],
    )
    check = site.check_of(audit["id"])
    assert check["status"] == "flagged"
    assert site.review(check["id"], "camera", comment="camera clear").status_code == 200
    resp = site.client.patch(
        f"/api/v1/audits/{audit['id']}/answers/greeted",
        json={"value": False, "reason": "seen on camera"},
        headers=site.headers["supervisor"],
    )
    assert resp.status_code == 200, resp.text
    check = site.check_of(audit["id"])
    assert (check["status"], check["verdict"], check["agrees"]) == ("reviewed", "camera", False)
    assert check["review_comment"] == "camera clear"
    # A changed report is a new comparison: the review no longer applies.
    site.client.patch(
        f"/api/v1/audits/{audit['id']}/answers/wait",
        json={"value": 30, "reason": "checked the receipt"},
        headers=site.headers["supervisor"],
    )
    check = site.check_of(audit["id"])
    assert (check["status"], check["verdict"], check["reviewed_by"]) == ("flagged", None, None)


def test_resubmission_recomputes(site: Site):
    site.sample(ARRIVAL, count=8)
    audit = site.submit(answers(staffed=True, queue=1, wait=None))
    assert site.check_of(audit["id"])["status"] == "flagged"
    resp = site.client.post(
        f"/api/v1/audits/{audit['id']}/review",
        json={"action": "return", "comment": "count again"},
        headers=site.headers["supervisor"],
    )
    assert resp.status_code == 200, resp.text
    resp = site.client.post(
        f"/api/v1/audits/{audit['id']}/resubmit",
        json=f.submission(answers(staffed=True, queue=7, wait=None), counter_id=site.counter.id),
        headers=site.headers["auditor"] | f.idem(),
    )
    assert resp.status_code == 200, resp.text
    check = site.check_of(audit["id"])
    assert check["status"] == "agreed"
    assert site.db.scalar(select(func.count(CrossCheck.id))) == 1  # upserted, not added


@pytest.mark.parametrize(
    ("verdict", "agrees"), [("shopper", True), ("camera", False), ("unclear", None)]
)
def test_review_of_a_flagged_check(site: Site, clock, verdict: str, agrees: bool | None):
    site.unattended(ARRIVAL - timedelta(minutes=1))
    audit = site.submit(answers(staffed=True, queue=None, wait=None))
    check = site.check_of(audit["id"])
    clock.advance(minutes=5)
    resp = site.review(check["id"], verdict, comment="watched the recording")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "reviewed"
    assert (body["verdict"], body["agrees"]) == (verdict, agrees)
    assert body["reviewed_by"] == "sup" and body["review_comment"] == "watched the recording"
    assert body["reviewed_at"].startswith(clock().isoformat()[:19])
    # Only a flagged check can be reviewed: not twice.
    again = site.review(check["id"], "shopper")
    assert again.status_code == 409 and "only a flagged" in again.json()["detail"]


def test_review_refusals(site: Site):
    site.sample(ARRIVAL, count=3)
    agreed = site.check_of(site.submit(answers(staffed=True, queue=3, wait=None))["id"])
    assert agreed["status"] == "agreed"
    assert site.review(agreed["id"], "camera").status_code == 409
    flagged = site.check_of(site.submit(answers(staffed=True, queue=9, wait=None))["id"])
    assert flagged["status"] == "flagged"
    bad = site.review(flagged["id"], "maybe")
    assert bad.status_code == 422
    assert site.review(flagged["id"], "camera", who="hr").status_code == 403  # no permission
    assert site.review(flagged["id"], "camera", who="auditor").status_code == 403
    assert site.review(flagged["id"], "camera", who="far_supervisor").status_code == 404
    assert site.review(10_000, "camera", who="admin").status_code == 404
    # Four eyes: nobody decides a cross-check of their own visit (a supervisor's own visit).
    own = site.submit(answers(staffed=True, queue=9, wait=None), who="supervisor")
    own_check = site.check_of(own["id"], who="admin")
    assert own_check["status"] == "flagged"
    resp = site.review(own_check["id"], "shopper", who="supervisor")
    assert resp.status_code == 403 and "your own" in resp.json()["detail"]
    assert site.review(own_check["id"], "shopper", who="admin").status_code == 200


# ---------------------------------------------------------------- reliability


def _check_row(site: Site, outlet: Any, auditor: Any, agrees: bool | None, n: int) -> None:
    """A cross-check stored directly (its audit built through the ORM)."""
    at = ARRIVAL - timedelta(days=n)
    visit = Visit(
        outlet_id=outlet.id,
        version_id=site.version.id,
        auditor_id=auditor.id,
        window_start=at - timedelta(days=1),
        window_end=at + timedelta(days=1),
        created_at=at,
    )
    site.db.add(visit)
    site.db.flush()
    audit = Audit(
        visit_id=visit.id,
        version_id=site.version.id,
        outlet_id=outlet.id,
        auditor_id=auditor.id,
        started_at=at,
        ended_at=at + timedelta(minutes=20),
        submitted_at=at + timedelta(minutes=30),
        answers={},
        breakdown={},
    )
    site.db.add(audit)
    site.db.flush()
    status = {
        True: CrossCheckStatus.agreed,
        False: CrossCheckStatus.flagged,
        None: CrossCheckStatus.no_data,
    }[agrees]
    site.db.add(
        CrossCheck(
            audit_id=audit.id,
            outlet_id=outlet.id,
            auditor_id=auditor.id,
            at=at,
            fields=[],
            status=status,
            agrees=agrees,
            review_comment="",
            computed_at=at,
        )
    )
    site.db.commit()


def _rating(agreed: int, compared: int, prior: float, z: float = 1.645) -> tuple[float, ...]:
    """The reference formula, written out: (n·raw + k·m) / (n + k) with k = 5."""
    score = (agreed + 5 * prior) / (compared + 5)
    sd = math.sqrt(score * (1 - score) / (compared + 5 + 1))
    return score, max(0.0, score - z * sd), min(1.0, score + z * sd)


def test_reliability_arithmetic(site: Site):
    a, b = site.users["auditor"], site.users["auditor2"]
    n = iter(range(100))
    # Shopper A at O1: 4 agreed, 1 disagreed, 1 not comparable.
    for agrees in (True, True, True, True, False, None):
        _check_row(site, site.outlet, a, agrees, next(n))
    # Shopper B at O2: 2 disagreed.
    for agrees in (False, False):
        _check_row(site, site.other_outlet, b, agrees, next(n))
    prior = 4 / 7  # the organisation: 4 agreed of 7 compared

    rows = site.client.get("/api/v1/performance/shoppers", headers=site.headers["admin"]).json()
    assert [r["auditor"] for r in rows] == ["shopper2", "shopper"]  # least reliable first
    by_name = {r["auditor"]: r for r in rows}
    shopper_a, shopper_b = by_name["shopper"], by_name["shopper2"]
    assert (shopper_a["checks"], shopper_a["agreed"], shopper_a["compared"]) == (6, 4, 5)
    assert (shopper_b["checks"], shopper_b["agreed"], shopper_b["compared"]) == (2, 0, 2)
    # A: (4 + 5·4/7) / 10 = 48/70; B: (0 + 5·4/7) / 7 = 20/49.
    assert shopper_a["reliability"] == pytest.approx(48 / 70)
    assert shopper_b["reliability"] == pytest.approx(20 / 49)
    for row, (agreed, compared) in ((shopper_a, (4, 5)), (shopper_b, (0, 2))):
        score, low, high = _rating(agreed, compared, prior)
        assert (row["reliability"], row["low"], row["high"]) == pytest.approx((score, low, high))
    assert (shopper_a["raw"], shopper_b["raw"]) == (pytest.approx(0.8), 0.0)
    assert (shopper_a["provisional"], shopper_b["provisional"]) == (False, True)

    # A review moves the counts: B's reviewed check with the shopper right counts as agreeing.
    flagged = site.db.scalar(
        select(CrossCheck.id).where(CrossCheck.auditor_id == b.id).order_by(CrossCheck.id)
    )
    assert site.review(flagged, "shopper", who="admin").status_code == 200
    rows = site.client.get("/api/v1/performance/shoppers", headers=site.headers["admin"]).json()
    shopper_b = next(r for r in rows if r["auditor"] == "shopper2")
    assert (shopper_b["agreed"], shopper_b["compared"]) == (1, 2)
    # The organisation is now 5 of 7: B = (1 + 5·5/7) / 7.
    assert shopper_b["reliability"] == pytest.approx((1 + 25 / 7) / 7)

    # Counts are over the caller's scope; the prior stays the organisation's.
    rows = site.client.get("/api/v1/performance/shoppers", headers=site.headers["far_hr"]).json()
    assert [(r["auditor"], r["checks"]) for r in rows] == [("shopper2", 2)]
    assert rows[0]["reliability"] == pytest.approx((1 + 25 / 7) / 7)
    rows = site.client.get("/api/v1/performance/shoppers", headers=site.headers["hr"]).json()
    assert [(r["auditor"], r["checks"]) for r in rows] == [("shopper", 6)]


def test_shoppers_without_comparable_checks_get_the_prior(site: Site):
    _check_row(site, site.outlet, site.users["auditor"], None, 1)
    rows = site.client.get("/api/v1/performance/shoppers", headers=site.headers["hr"]).json()
    assert len(rows) == 1
    row = rows[0]
    assert (row["checks"], row["agreed"], row["compared"], row["raw"]) == (1, 0, 0, None)
    # Nothing compared anywhere: the prior is 0.5, with the prior's own spread.
    assert row["reliability"] == pytest.approx(0.5)
    assert row["provisional"] is True


# ---------------------------------------------------------------- scope


def test_scope_and_permissions(site: Site):
    site.unattended(ARRIVAL - timedelta(minutes=1))
    audit = site.submit(answers(staffed=True, queue=None, wait=None))
    check = site.check_of(audit["id"])
    path = f"/api/v1/performance/cross-checks/{check['id']}"
    get = site.client.get
    assert get(path, headers=site.headers["hr"]).status_code == 200
    assert get(path, headers=site.headers["far_supervisor"]).status_code == 404
    assert get(path, headers=site.headers["far_hr"]).status_code == 404
    for who in ("auditor", "staff"):
        assert get(path, headers=site.headers[who]).status_code == 403
        lst = get("/api/v1/performance/cross-checks", headers=site.headers[who])
        assert lst.status_code == 403
        shoppers = get("/api/v1/performance/shoppers", headers=site.headers[who])
        assert shoppers.status_code == 403

    def listed(who: str, **params: Any) -> list[int]:
        resp = get("/api/v1/performance/cross-checks", params=params, headers=site.headers[who])
        assert resp.status_code == 200, resp.text
        return [c["id"] for c in resp.json()["items"]]

    assert listed("supervisor") == [check["id"]]
    assert listed("hr") == [check["id"]]
    assert listed("far_hr") == [] and listed("far_supervisor") == []
    assert get("/api/v1/performance/shoppers", headers=site.headers["far_hr"]).json() == []
    # A filter on an outlet outside the scope finds nothing (no error that would reveal it).
    assert listed("far_hr", outlet_id=site.outlet.id) == []


def test_list_filters_and_paging(site: Site):
    site.sample(ARRIVAL, count=3)
    agreed = site.submit(answers(staffed=True, queue=3, wait=None))
    flagged = site.submit(answers(staffed=True, queue=9, wait=None))
    other = site.submit(answers(staffed=True, queue=3, wait=None), who="auditor2")

    def page(**params: Any) -> dict:
        resp = site.client.get(
            "/api/v1/performance/cross-checks", params=params, headers=site.headers["supervisor"]
        )
        assert resp.status_code == 200, resp.text
        return resp.json()

    def audits(body: dict) -> list[int]:
        return [c["audit_id"] for c in body["items"]]

    everything = page()
    assert everything["total"] == 3
    assert sorted(audits(everything)) == sorted([agreed["id"], flagged["id"], other["id"]])
    assert audits(page(status="flagged")) == [flagged["id"]]
    assert audits(page(auditor_id=site.users["auditor2"].id)) == [other["id"]]
    assert page(outlet_id=site.outlet.id)["total"] == 3
    limited = page(limit=1, offset=1)
    assert (limited["total"], limited["limit"], limited["offset"], len(limited["items"])) == (
        3,
        1,
        1,
        1,
    )
    bad = site.client.get(
        "/api/v1/performance/cross-checks",
        params={"status": "maybe"},
        headers=site.headers["supervisor"],
    )
    assert bad.status_code == 422


# ---------------------------------------------------------------- the checklist's observes key


def _defn(*items: dict[str, Any]) -> dict[str, Any]:
    return {"name": L, "sections": [{"name": "s", "label": L, "items": list(items)}]}


@pytest.mark.parametrize(
    ("items", "words"),
    [
        (
            [{"name": "w", "type": "number", "label": L, "observes": "wait_s"}],
            "observes 'wait_s' on item 'w' needs a duration item, not number; remove observes",
        ),
        (
            [{"name": "s", "type": "scale", "label": L, "observes": "counter_staffed"}],
            "observes 'counter_staffed' on item 's' needs a yes_no item",
        ),
        (
            [{"name": "q", "type": "duration", "label": L, "observes": "queue_length"}],
            "observes 'queue_length' on item 'q' needs a number item",
        ),
        (
            [
                {"name": "a", "type": "duration", "label": L, "observes": "wait_s"},
                {"name": "b", "type": "duration", "label": L, "observes": "wait_s"},
            ],
            "observes 'wait_s' is on item 'a' and on item 'b'; at most one item per checklist",
        ),
        (
            [{"name": "w", "type": "duration", "label": L, "observes": "wait"}],
            "'wait_s', 'counter_staffed' or 'queue_length'",
        ),
    ],
)
def test_observes_validation(items: list[dict[str, Any]], words: str):
    with pytest.raises(ValidationError) as caught:
        ChecklistDefinition.model_validate(_defn(*items))
    assert words in str(caught.value)


def test_observes_errors_through_the_api(site: Site):
    draft = f.checklist_version(site.db, "draft-observes", published=False)
    site.db.commit()
    bad = _defn({"name": "w", "type": "number", "label": L, "observes": "wait_s"})
    resp = site.client.put(
        f"/api/v1/checklist-versions/{draft.id}",
        json={"definition": bad},
        headers=site.headers["supervisor"],
    )
    assert resp.status_code == 422, resp.text
    assert "observes 'wait_s' on item 'w' needs a duration item" in resp.text


def test_observes_round_trips_and_the_ready_template_observes_all_three():
    defn = READY_TEMPLATES["counter-visit"]
    observers = {k.value: v.name for k, v in defn.observers().items()}
    assert observers == {
        "wait_s": "wait",
        "counter_staffed": "counter_staffed_on_arrival",
        "queue_length": "queue_on_arrival",
    }
    staffed = defn.item("counter_staffed_on_arrival")
    assert (staffed.type, staffed.weight, staffed.role) == ("yes_no", 1.0, "counter_clerk")
    queue = defn.item("queue_on_arrival")
    assert (queue.weight, queue.min, queue.max, queue.required) == (0.0, 0.0, 100.0, False)
    assert definition_from_xlsform(definition_to_xlsform(defn)) == defn
    assert ChecklistDefinition.model_validate_json(defn.model_dump_json()) == defn
