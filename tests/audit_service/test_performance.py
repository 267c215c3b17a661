"""Staff performance: attribution edge cases, shrinkage arithmetic, disputes, scope, exports.

The week 2026-W47 is Mon 16 – Sun 22 Nov 2026 (Asia/Shanghai); the outlet is open Mon–Fri
09:00–17:00 local. Every number asserted below is worked out by hand in the comments.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from audit_service.models import (
    Attribution,
    Audit,
    AuditItem,
    AuditStatus,
    EventKind,
    QueueWait,
    Role,
    Shift,
    ShiftRole,
    StaffAssignment,
    StaffRole,
    VisionEvent,
    ZoneKind,
)
from audit_service.performance.exports import HEADER
from audit_service.performance.shrinkage import shrink
from tests import factories as f

SH = ZoneInfo("Asia/Shanghai")
WEEK = "2026-W47"


def approx(x: float):  # type: ignore[no-untyped-def]
    # The API rounds shares to 4 decimals.
    return pytest.approx(x, abs=1.5e-4)


def L(day: int, hh: int, mm: int = 0) -> datetime:
    """A local Shanghai time on 2026-11-<day>, as UTC."""
    return datetime(2026, 11, day, hh, mm, tzinfo=SH).astimezone(UTC)


class World:
    """One region, two outlets; O1 has counters C1, C2; clerks A and B, manager M, lead T."""

    def __init__(self, db) -> None:  # type: ignore[no-untyped-def]
        self.db = db
        self.r1 = f.region(db, "R1", "Region One")
        self.r2 = f.region(db, "R2", "Region Two")
        self.o1 = f.outlet(db, self.r1, "O1")
        self.o2 = f.outlet(db, self.r1, "O2")
        self.o3 = f.outlet(db, self.r2, "O3")
        self.c1 = f.counter(db, self.o1, "C1")
        self.c2 = f.counter(db, self.o1, "C2")
        self.c3 = f.counter(db, self.o2, "C3")
        self.cam = f.camera(db, self.o1, "cam-o1")
        self.cam2 = f.camera(db, self.o2, "cam-o2")
        self.q1 = f.zone(db, self.cam, "q1", self.c1, ZoneKind.queue)
        self.q2 = f.zone(db, self.cam, "q2", self.c2, ZoneKind.queue)
        self.m = f.staff(db, self.o1, "M01", role=StaffRole.outlet_manager)
        self.t = f.staff(db, self.o1, "T01", team_lead=self.m)
        self.a = f.staff(db, self.o1, "A01", team_lead=self.t)
        self.b = f.staff(db, self.o1, "B01", team_lead=self.t)
        self.z = f.staff(db, self.o3, "Z01")
        db.flush()

    def shift(self, who, counter, start: datetime, end: datetime) -> Shift:  # type: ignore[no-untyped-def]
        s = Shift(
            staff_id=who.id,
            outlet_id=counter.outlet_id,
            counter_id=counter.id,
            role=ShiftRole.counter,
            starts_at=start,
            ends_at=end,
        )
        self.db.add(s)
        self.db.flush()
        return s

    def unattended(
        self, counter, start: datetime, end: datetime | None, camera=None
    ) -> VisionEvent:  # type: ignore[no-untyped-def]
        e = VisionEvent(
            id=uuid.uuid4(),
            camera_id=(camera or self.cam).id,
            outlet_id=counter.outlet_id,
            counter_id=counter.id,
            zone_code="desk",
            kind=EventKind.counter_unattended,
            started_at=start,
            ended_at=end,
            duration_s=None if end is None else (end - start).total_seconds(),
            start_received=True,
            end_received=end is not None,
        )
        self.db.add(e)
        self.db.flush()
        return e

    def wait(self, counter, left: datetime, wait_s: float, sla_s: float = 300.0) -> QueueWait:  # type: ignore[no-untyped-def]
        w = QueueWait(
            camera_id=self.cam.id,
            zone_code="q1" if counter is self.c1 else "q2",
            track_id=int(left.timestamp()) % 100000,
            counter_id=counter.id,
            outlet_id=counter.outlet_id,
            joined_at=left - timedelta(seconds=wait_s),
            left_at=left,
            wait_s=wait_s,
            sla_s=sla_s,
            within_sla=wait_s <= sla_s,
        )
        self.db.add(w)
        self.db.flush()
        return w


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    w = World(db)
    f.user(db, "admin", Role.admin)
    f.user(db, "sup", Role.supervisor, outlets=[w.o1])
    f.user(db, "hr1", Role.hr, regions=[w.r1])
    f.user(db, "hr2", Role.hr, regions=[w.r2])
    f.user(db, "clerk-a", Role.staff, staff_=w.a)
    f.user(db, "clerk-b", Role.staff, staff_=w.b)
    f.user(db, "mgr", Role.staff, staff_=w.m)
    f.user(db, "auditor", Role.auditor)
    db.commit()
    return w


def _scores(client, who: str, **params) -> dict:  # type: ignore[no-untyped-def]
    resp = client.get(
        "/api/v1/performance/scores",
        params={"period": WEEK, **params},
        headers=f.login(client, who),
    )
    assert resp.status_code == 200, resp.text
    return resp.json()


def _row(page: dict, staff_id: int) -> dict:
    return next(r for r in page["items"] if r["staff_id"] == staff_id)


def _records(client, who: str, staff_id: int) -> list[dict]:  # type: ignore[no-untyped-def]
    resp = client.get(
        f"/api/v1/performance/staff/{staff_id}",
        params={"period": WEEK},
        headers=f.login(client, who),
    )
    assert resp.status_code == 200, resp.text
    return resp.json()["records"]


# --- attribution -----------------------------------------------------------------------------


def test_a_finding_spanning_two_shifts_is_split_by_time(client, db, world) -> None:  # type: ignore[no-untyped-def]
    w = world
    w.shift(w.a, w.c1, L(16, 9), L(16, 13))  # 240 open minutes
    w.shift(w.b, w.c1, L(16, 13), L(16, 17))  # 240 open minutes, boundary at 13:00 exactly
    ev = w.unattended(w.c1, L(16, 12, 30), L(16, 13, 30))
    db.commit()
    page = _scores(client, "admin")
    a, b = _row(page, w.a.id), _row(page, w.b.id)
    # 30 minutes each side of the boundary: (240 - 30) / 240 = 0.875.
    assert a["components"]["attendance"]["raw"] == approx(0.875)
    assert b["components"]["attendance"]["raw"] == approx(0.875)
    assert a["components"]["attendance"]["n"] == approx(240)
    recs = [r for r in _records(client, "admin", w.a.id) if r["source_kind"] == "vision_event"]
    assert len(recs) == 1 and recs[0]["source_id"] == str(ev.id)
    assert recs[0]["good"] == approx(-30) and recs[0]["finding"]
    assert recs[0]["link"] == f"/api/v1/vision/events/{ev.id}"


def test_overlapping_shifts_both_answer_for_the_time(client, db, world) -> None:  # type: ignore[no-untyped-def]
    w = world
    w.shift(w.a, w.c2, L(19, 9), L(19, 11))  # 120 minutes
    w.shift(w.b, w.c2, L(19, 10), L(19, 12))  # 120 minutes, overlapping 10:00-11:00
    w.unattended(w.c2, L(19, 10), L(19, 10, 12))
    db.commit()
    page = _scores(client, "admin")
    # Both were rostered at C2 10:00-10:12: each loses 12 of 120 minutes: 0.9.
    assert _row(page, w.a.id)["components"]["attendance"]["raw"] == approx(0.9)
    assert _row(page, w.b.id)["components"]["attendance"]["raw"] == approx(0.9)


def test_nobody_rostered_goes_to_the_outlet_manager(client, db, world) -> None:  # type: ignore[no-untyped-def]
    w = world
    w.shift(w.a, w.c2, L(17, 9), L(17, 10))
    # 09:40-10:20 at C2: 20 minutes in A's shift, 20 minutes with nobody rostered.
    ev = w.unattended(w.c2, L(17, 9, 40), L(17, 10, 20))
    db.commit()
    page = _scores(client, "admin")
    assert _row(page, w.a.id)["components"]["attendance"]["raw"] == approx(40 / 60)
    mgr = _records(client, "admin", w.m.id)
    gap = [r for r in mgr if r["source_id"] == str(ev.id)]
    assert len(gap) == 1
    assert gap[0]["attribution"] == "outlet_manager"
    assert gap[0]["observed"] == approx(20) and gap[0]["good"] == 0
    # The manager answers for 20 unattended minutes and no attended ones.
    assert _row(page, w.m.id)["components"]["attendance"]["raw"] == approx(0.0)


def test_closed_hours_and_shift_edges_outside_opening_hours_do_not_count(client, db, world) -> None:  # type: ignore[no-untyped-def]
    w = world
    w.shift(w.a, w.c1, L(18, 8), L(18, 12))  # opens 09:00: 180 rostered open minutes
    w.unattended(w.c1, L(18, 8), L(18, 9, 30))  # only 09:00-09:30 counts
    w.unattended(w.c1, L(18, 17, 30), L(18, 18))  # after closing: nothing
    db.commit()
    a = _row(_scores(client, "admin"), w.a.id)["components"]["attendance"]
    assert a["n"] == approx(180)
    assert a["raw"] == approx(150 / 180)
    assert not [r for r in _records(client, "admin", w.m.id) if r["source_kind"] == "vision_event"]


def test_an_open_finding_counts_up_to_now(client, db, world, clock) -> None:  # type: ignore[no-untyped-def]
    w = world
    w.shift(w.a, w.c1, L(20, 13), L(20, 17))  # the clock is Fri 20th 17:00 local
    w.unattended(w.c1, L(20, 16), None)
    db.commit()
    a = _row(_scores(client, "admin"), w.a.id)["components"]["attendance"]
    assert a["raw"] == approx(180 / 240)


def test_staff_moved_between_outlets(client, db, world) -> None:  # type: ignore[no-untyped-def]
    w = world
    w.shift(w.a, w.c1, L(16, 9), L(16, 17))
    # A moves to O2 from Thursday 19th.
    first = db.get(StaffAssignment, w.a.assignments[0].id)
    first.valid_to = date(2026, 11, 18)
    db.add(
        StaffAssignment(
            staff_id=w.a.id,
            outlet_id=w.o2.id,
            role=StaffRole.counter_clerk,
            valid_from=date(2026, 11, 19),
        )
    )
    w.a.outlet_id = w.o2.id
    w.shift(w.a, w.c3, L(19, 9), L(19, 17))
    w.unattended(w.c3, L(19, 9), L(19, 10), camera=w.cam2)
    db.commit()
    page = _scores(client, "admin")
    a = _row(page, w.a.id)
    # Ranked at the outlet of the period's last day; both outlets' minutes count for A.
    assert a["outlet_id"] == w.o2.id
    assert a["components"]["attendance"]["n"] == approx(960)
    assert a["components"]["attendance"]["raw"] == approx(900 / 960)
    outlets = {r["outlet_id"]: r for r in _scores(client, "admin", level="outlet")["items"]}
    assert outlets[w.o1.id]["components"]["attendance"]["raw"] == approx(1.0)
    assert outlets[w.o2.id]["components"]["attendance"]["raw"] == approx(420 / 480)


def test_waits_count_for_whoever_was_rostered_when_service_began(client, db, world) -> None:  # type: ignore[no-untyped-def]
    w = world
    w.shift(w.a, w.c1, L(16, 9), L(16, 13))
    w.shift(w.b, w.c1, L(16, 13), L(16, 17))
    w.wait(w.c1, L(16, 10), 120)  # A, within SLA
    w.wait(w.c1, L(16, 12, 59), 400)  # A, over SLA
    w.wait(w.c1, L(16, 13), 200)  # B: service began at 13:00 sharp, in B's shift
    w.wait(w.c2, L(16, 10), 900)  # nobody rostered at C2: the outlet's only
    db.commit()
    page = _scores(client, "admin")
    assert _row(page, w.a.id)["components"]["queue"]["n"] == 2
    assert _row(page, w.a.id)["components"]["queue"]["raw"] == approx(0.5)
    assert _row(page, w.b.id)["components"]["queue"]["raw"] == approx(1.0)
    o1 = next(r for r in _scores(client, "admin", level="outlet")["items"])
    assert o1["components"]["queue"]["n"] == 4
    assert o1["components"]["queue"]["raw"] == approx(0.5)


# --- shrinkage --------------------------------------------------------------------------------


def _approved_audit(db, w, items: list[tuple[object, float, float]], at: datetime) -> Audit:  # type: ignore[no-untyped-def]
    version = f.checklist_version(db)
    auditor = db.scalar(__import__("sqlalchemy").select(f.User).where(f.User.username == "auditor"))
    v = f.visit(db, w.o1, version, auditor)
    audit = Audit(
        visit_id=v.id,
        version_id=version.id,
        outlet_id=w.o1.id,
        auditor_id=auditor.id,
        status=AuditStatus.approved,
        started_at=at,
        ended_at=at + timedelta(minutes=20),
        submitted_at=at + timedelta(minutes=30),
        answers={},
        breakdown={},
    )
    db.add(audit)
    db.flush()
    for i, (who, points, possible) in enumerate(items):
        db.add(
            AuditItem(
                audit_id=audit.id,
                position=i,
                section="s",
                item=f"i{i}",
                points=points,
                possible=possible,
                fraction=points / possible,
                failed=points < possible,
                staff_id=who.id,
                attribution=Attribution.roster,
            )
        )
    db.flush()
    return audit


def test_shrinkage_against_hand_computed_values(client, db, world) -> None:  # type: ignore[no-untyped-def]
    w = world
    # A: 2 items (2/2 and 0/2): raw 0.5. B: 8 items all 2/2: raw 1.0.
    # Outlet (= organisation) mean: (2 + 16) / 20 = 0.9 over 10 items >= prior strength 10.
    _approved_audit(db, w, [(w.a, 2, 2), (w.a, 0, 2)] + [(w.b, 2, 2)] * 8, L(17, 10))
    db.commit()
    page = _scores(client, "admin")
    a, b = _row(page, w.a.id), _row(page, w.b.id)
    # A: (2·0.5 + 10·0.9) / 12 = 0.833333; sd = sqrt(0.833333·0.166667 / 13) = 0.103362;
    # low = 0.833333 − 1.645·0.103362 = 0.663302; high = 1.003364 → 1.
    assert a["components"]["audit"]["score"] == approx(0.8333)
    assert a["components"]["audit"]["low"] == approx(0.6633)
    assert a["components"]["audit"]["high"] == approx(1.0)
    # B: (8·1.0 + 10·0.9) / 18 = 0.944444; sd = sqrt(0.944444·0.055556 / 19) = 0.052550.
    assert b["components"]["audit"]["score"] == approx(0.9444)
    assert b["components"]["audit"]["low"] == approx(0.9444 - 1.645 * 0.05255)
    # The reference formula agrees with the SQL.
    ref = shrink(0.5, 2, 0.9, 10, 1.645)
    assert a["components"]["audit"]["low"] == approx(ref.low)
    # Only the audit component has evidence: the score is that component.
    assert a["score"] == a["components"]["audit"]["score"]
    # Fewer than 5 items: provisional. B's 8 items carry half the model's weight: not.
    assert a["provisional"] is True and b["provisional"] is False
    assert (b["rank_outlet"], a["rank_outlet"], a["outlet_size"]) == (1, 2, 2)
    assert b["percentile_region"] == approx(1.0)
    assert a["percentile_region"] == approx(0.5)
    # People with no evidence at all have no score and are provisional, not ranked.
    m = _row(page, w.m.id)
    assert m["score"] is None and m["provisional"] and m["rank_outlet"] is None


def test_weights_combine_components(client, db, world) -> None:  # type: ignore[no-untyped-def]
    w = world
    _approved_audit(db, w, [(w.a, 1, 1)] * 10, L(17, 10))
    w.shift(w.a, w.c1, L(18, 9), L(18, 17))
    w.unattended(w.c1, L(18, 9), L(18, 10))
    db.commit()
    resp = client.put(
        "/api/v1/performance/settings",
        json={"weight_audit": 1, "weight_attendance": 1, "weight_queue": 0},
        headers=f.login(client, "admin"),
    )
    assert resp.status_code == 200, resp.text
    a = _row(_scores(client, "admin"), w.a.id)
    comps = a["components"]
    # Equal weights: the plain mean of the two shrunk components.
    expected = (comps["audit"]["score"] + comps["attendance"]["score"]) / 2
    assert a["score"] == approx(expected)
    # Attendance: 480 minutes, 60 unattended: raw 0.875; the only person, so prior = 0.875.
    assert comps["attendance"]["raw"] == approx(0.875)
    assert comps["attendance"]["score"] == approx(0.875)


# --- disputes ---------------------------------------------------------------------------------


def test_upheld_dispute_removes_the_finding_with_a_trail(client, db, world) -> None:  # type: ignore[no-untyped-def]
    w = world
    w.shift(w.a, w.c1, L(16, 9), L(16, 13))
    ev = w.unattended(w.c1, L(16, 10), L(16, 11))
    db.commit()
    assert _row(_scores(client, "admin"), w.a.id)["components"]["attendance"]["raw"] == 0.75
    a_hdr = f.login(client, "clerk-a")
    # B cannot see (or dispute) A's finding.
    resp = client.post(
        "/api/v1/performance/disputes",
        json={"source_kind": "vision_event", "source_id": str(ev.id), "comment": "not me"},
        headers=f.login(client, "clerk-b"),
    )
    assert resp.status_code == 404
    resp = client.post(
        "/api/v1/performance/disputes",
        json={
            "source_kind": "vision_event",
            "source_id": str(ev.id),
            "comment": "I was at the back office fetching forms for the customer",
        },
        headers=a_hdr,
    )
    assert resp.status_code == 201, resp.text
    dispute = resp.json()
    assert dispute["status"] == "open" and dispute["staff_id"] == w.a.id
    again = client.post(
        "/api/v1/performance/disputes",
        json={"source_kind": "vision_event", "source_id": str(ev.id), "comment": "again"},
        headers=a_hdr,
    )
    assert again.status_code == 409
    # Staff cannot resolve.
    resp = client.post(
        f"/api/v1/performance/disputes/{dispute['id']}/resolve",
        json={"decision": "upheld"},
        headers=a_hdr,
    )
    assert resp.status_code == 403
    resp = client.post(
        f"/api/v1/performance/disputes/{dispute['id']}/resolve",
        json={"decision": "upheld", "comment": "back-office trip logged"},
        headers=f.login(client, "hr1"),
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "upheld" and resp.json()["resolved_by_id"] is not None
    # The finding is out of the score, and still listed, marked, for the explanation.
    assert _row(_scores(client, "admin"), w.a.id)["components"]["attendance"]["raw"] == 1.0
    rec = next(r for r in _records(client, "admin", w.a.id) if r["source_kind"] == "vision_event")
    assert rec["excluded"] is True and rec["dispute"]["status"] == "upheld"
    # Resolved once only.
    resp = client.post(
        f"/api/v1/performance/disputes/{dispute['id']}/resolve",
        json={"decision": "rejected"},
        headers=f.login(client, "sup"),
    )
    assert resp.status_code == 409


def test_rejected_dispute_keeps_the_finding_and_manager_may_dispute(client, db, world) -> None:  # type: ignore[no-untyped-def]
    w = world
    w.shift(w.b, w.c1, L(16, 9), L(16, 13))
    ev = w.unattended(w.c1, L(16, 10), L(16, 11))
    db.commit()
    _scores(client, "admin")
    # The outlet manager disputes a finding of someone at their outlet.
    resp = client.post(
        "/api/v1/performance/disputes",
        json={"source_kind": "vision_event", "source_id": str(ev.id), "comment": "camera moved"},
        headers=f.login(client, "mgr"),
    )
    assert resp.status_code == 201, resp.text
    resp = client.post(
        f"/api/v1/performance/disputes/{resp.json()['id']}/resolve",
        json={"decision": "rejected", "comment": "camera was fine"},
        headers=f.login(client, "sup"),
    )
    assert resp.status_code == 200
    assert _row(_scores(client, "admin"), w.b.id)["components"]["attendance"]["raw"] == 0.75


def test_dispute_bad_input_names_the_field(client, db, world) -> None:  # type: ignore[no-untyped-def]
    w = world
    w.shift(w.a, w.c1, L(16, 9), L(16, 13))
    ev = w.unattended(w.c1, L(16, 10), L(16, 11))
    db.commit()
    _scores(client, "admin")
    hdr = f.login(client, "clerk-a")
    resp = client.post(
        "/api/v1/performance/disputes",
        json={"source_kind": "vision_event", "source_id": "nope", "comment": "x"},
        headers=hdr,
    )
    assert resp.status_code == 404
    resp = client.post(
        "/api/v1/performance/disputes",
        json={
            "source_kind": "vision_event",
            "source_id": str(ev.id),
            "comment": "x",
            "evidence_ids": [str(uuid.uuid4())],
        },
        headers=hdr,
    )
    assert resp.status_code == 422
    assert resp.json()["field"] == "evidence_ids[0]"
    resp = client.post(
        "/api/v1/performance/disputes",
        json={"source_kind": "shift", "source_id": "1", "comment": "x"},
        headers=hdr,
    )
    assert resp.status_code == 422


# --- scope, periods, exports ------------------------------------------------------------------


def test_hr_sees_only_their_region_and_staff_only_themselves(client, db, world) -> None:  # type: ignore[no-untyped-def]
    w = world
    w.shift(w.a, w.c1, L(16, 9), L(16, 13))
    db.commit()
    ids1 = {r["staff_id"] for r in _scores(client, "hr1")["items"]}
    ids2 = {r["staff_id"] for r in _scores(client, "hr2")["items"]}
    assert w.a.id in ids1 and w.z.id not in ids1
    assert ids2 == {w.z.id}
    # HR of region 2 cannot open A; a supervisor of O1 can; A can open themselves only.
    assert (
        client.get(
            f"/api/v1/performance/staff/{w.a.id}",
            params={"period": WEEK},
            headers=f.login(client, "hr2"),
        ).status_code
        == 404
    )
    assert (
        client.get(
            f"/api/v1/performance/staff/{w.a.id}",
            params={"period": WEEK},
            headers=f.login(client, "sup"),
        ).status_code
        == 200
    )
    a_hdr = f.login(client, "clerk-a")
    assert (
        client.get("/api/v1/performance/me", params={"period": WEEK}, headers=a_hdr).json()[
            "score"
        ]["staff_id"]
        == w.a.id
    )
    assert (
        client.get(
            f"/api/v1/performance/staff/{w.b.id}", params={"period": WEEK}, headers=a_hdr
        ).status_code
        == 404
    )
    assert (
        client.get("/api/v1/performance/scores", params={"period": WEEK}, headers=a_hdr).status_code
        == 403
    )
    assert (
        client.get(
            "/api/v1/performance/scores",
            params={"period": WEEK},
            headers=f.login(client, "auditor"),
        ).status_code
        == 403
    )


def test_periods_and_bad_period_keys(client, db, world) -> None:  # type: ignore[no-untyped-def]
    hdr = f.login(client, "admin")
    resp = client.get(
        "/api/v1/performance/periods", params={"kind": "week", "count": 2}, headers=hdr
    )
    assert [p["key"] for p in resp.json()] == ["2026-W47", "2026-W46"]
    resp = client.get(
        "/api/v1/performance/periods", params={"kind": "quarter", "count": 1}, headers=hdr
    )
    assert resp.json()[0]["key"] == "2026-Q4"
    for bad in ("2026-13", "last week", "2026-W60", "1999-Q1"):
        resp = client.get("/api/v1/performance/scores", params={"period": bad}, headers=hdr)
        assert resp.status_code == 422, bad
        assert resp.json()["field"] == "period"
    resp = client.post("/api/v1/performance/periods/month/2026-Q4/recompute", headers=hdr)
    assert resp.status_code == 422


def test_exports_have_the_documented_columns(client, db, world) -> None:  # type: ignore[no-untyped-def]
    w = world
    w.shift(w.a, w.c1, L(16, 9), L(16, 13))
    w.unattended(w.c1, L(16, 10), L(16, 11))
    db.commit()
    hdr = f.login(client, "hr1")
    resp = client.get(
        "/api/v1/performance/exports/scores.csv", params={"period": WEEK}, headers=hdr
    )
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert list(rows[0].keys()) == HEADER
    a = next(r for r in rows if r["employee_no"] == "A01")
    assert a["period"] == WEEK and a["outlet_code"] == "O1" and a["team_lead"] == "Staff T01"
    assert float(a["attendance_raw"]) == approx(0.75)
    assert a["attendance_minutes"] == "240.0"
    assert a["provisional"] == "yes"  # 240 minutes < 960: too little evidence
    assert "Z01" not in {r["employee_no"] for r in rows}  # region 2
    resp = client.get(
        "/api/v1/performance/exports/scores.xlsx", params={"period": WEEK}, headers=hdr
    )
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.content)).active
    values = list(ws.values)
    assert list(values[0]) == HEADER
    assert len(values) == len(rows) + 1
    # Staff may not export.
    resp = client.get(
        "/api/v1/performance/exports/scores.csv",
        params={"period": WEEK},
        headers=f.login(client, "clerk-a"),
    )
    assert resp.status_code == 403


def test_scores_refresh_when_inputs_change(client, db, world) -> None:  # type: ignore[no-untyped-def]
    w = world
    w.shift(w.a, w.c1, L(16, 9), L(16, 13))
    db.commit()
    assert _row(_scores(client, "admin"), w.a.id)["components"]["attendance"]["raw"] == 1.0
    # A finding arriving through the worker API marks the week stale.
    from audit_service.performance.staleness import mark_stale

    w.unattended(w.c1, L(16, 10), L(16, 11))
    mark_stale(db, L(16, 10), L(16, 11))
    db.commit()
    assert _row(_scores(client, "admin"), w.a.id)["components"]["attendance"]["raw"] == 0.75
