"""Visits and audits through the API: submission, idempotency, validation, scope, review,
staff attribution, corrective actions and unannounced scheduling."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select

from audit_service.models import (
    Audit,
    CorrectiveAction,
    IdempotencyRecord,
    Role,
    Shift,
    ShiftRole,
    StaffRole,
    Visit,
)
from tests import factories as f

NOW = f.NOW


@dataclass
class Org:
    client: Any
    db: Any
    clock: Any
    outlet: Any
    other_outlet: Any
    counter: Any
    version: Any
    auditor: Any
    other_auditor: Any
    supervisor: Any
    manager: Any
    clerk: Any
    lobby: Any
    headers: dict[str, dict[str, str]]

    def visit(self, auditor: Any = None, outlet: Any = None) -> Visit:
        v = f.visit(self.db, outlet or self.outlet, self.version, auditor or self.auditor)
        self.db.commit()
        return v

    def submit(
        self,
        visit: Visit,
        body: dict[str, Any] | None = None,
        key: str | None = None,
        who="auditor",
    ):
        return self.client.post(
            f"/api/v1/visits/{visit.id}/audit",
            json=body or f.submission(),
            headers=self.headers[who] | f.idem(key),
        )

    def review(self, audit_id: int, action: str, comment: str = "", who="supervisor"):
        return self.client.post(
            f"/api/v1/audits/{audit_id}/review",
            json={"action": action, "comment": comment},
            headers=self.headers[who],
        )


USERNAMES = {
    "auditor": "aud",
    "other_auditor": "aud2",
    "supervisor": "sup",
    "supervisor2": "sup2",
    "far_supervisor": "sup-far",
    "hr": "hr",
    "manager": "mgr",
    "clerk": "clerk",
    "admin": "adm",
}


@pytest.fixture
def org(client, db, clock) -> Org:
    region = f.region(db)
    other_region = f.region(db, "R2", "Region Two")
    outlet = f.outlet(db, region, "O1")
    other = f.outlet(db, other_region, "O2")
    counter = f.counter(db, outlet, "C1")
    manager = f.staff(db, outlet, "M001", role=StaffRole.outlet_manager)
    clerk = f.staff(db, outlet, "E001")
    lobby = f.staff(db, outlet, "L001", role=StaffRole.lobby_manager)
    start = NOW - timedelta(hours=6)
    db.add_all(
        [
            Shift(
                staff_id=clerk.id,
                outlet_id=outlet.id,
                counter_id=counter.id,
                role=ShiftRole.counter,
                starts_at=start,
                ends_at=start + timedelta(hours=8),
            ),
            Shift(
                staff_id=lobby.id,
                outlet_id=outlet.id,
                counter_id=None,
                role=ShiftRole.lobby_manager,
                starts_at=start,
                ends_at=start + timedelta(hours=8),
            ),
        ]
    )
    version = f.checklist_version(db)
    users = {
        "auditor": f.user(db, "aud", Role.auditor, outlets=[outlet, other]),
        "other_auditor": f.user(db, "aud2", Role.auditor, outlets=[outlet]),
        "supervisor": f.user(db, "sup", Role.supervisor, regions=[region]),
        "supervisor2": f.user(db, "sup2", Role.supervisor, regions=[region]),
        "far_supervisor": f.user(db, "sup-far", Role.supervisor, regions=[other_region]),
        "hr": f.user(db, "hr", Role.hr, regions=[region]),
        "manager": f.user(db, "mgr", Role.staff, staff_=manager),
        "clerk": f.user(db, "clerk", Role.staff, staff_=clerk),
        "admin": f.user(db, "adm", Role.admin),
    }
    db.commit()
    headers = {name: f.login(client, u.username) for name, u in users.items()}
    assert {n: u.username for n, u in users.items()} == USERNAMES
    return Org(
        client=client,
        db=db,
        clock=clock,
        outlet=outlet,
        other_outlet=other,
        counter=counter,
        version=version,
        auditor=users["auditor"],
        other_auditor=users["other_auditor"],
        supervisor=users["supervisor"],
        manager=manager,
        clerk=clerk,
        lobby=lobby,
        headers=headers,
    )


def _jpeg(color=(30, 120, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buf, "JPEG")
    return buf.getvalue()


def _upload(org: Org, outlet=None, data: bytes | None = None, who="auditor", name="p.jpg"):
    return org.client.post(
        "/api/v1/evidence",
        headers=org.headers[who],
        files={"file": (name, data or _jpeg(), "image/jpeg")},
        data={"outlet_id": str((outlet or org.outlet).id), "source": "audit"},
    )


def _count(db, model) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(model))


# ---------------------------------------------------------------- submission and idempotency


def test_auditor_sees_assigned_visit_and_submits_a_server_scored_audit(org: Org):
    visit = org.visit()
    mine = org.client.get("/api/v1/visits", params={"mine": True}, headers=org.headers["auditor"])
    assert mine.status_code == 200, mine.text
    assert [v["id"] for v in mine.json()] == [visit.id]
    assert mine.json()[0]["template_name"]["zh"] == "测试清单"

    resp = org.submit(visit, f.submission(client_score=3))
    assert resp.status_code == 201, resp.text
    audit = resp.json()
    assert audit["score"] == 100 and audit["passed"] is True  # client_score 3 is ignored
    assert audit["status"] == "submitted"
    assert {s["name"]: s["percent"] for s in audit["sections"]} == {
        "reception": 100.0,
        "counter": 100.0,
    }
    assert audit["location"] == {"lat": 31.2304, "lon": 121.4737, "accuracy_m": 25.0}
    assert audit["history"][0]["kind"] == "submitted"
    visit_now = org.client.get(f"/api/v1/visits/{visit.id}", headers=org.headers["auditor"])
    assert visit_now.json()["status"] == "submitted" and visit_now.json()["audit_id"] == audit["id"]


def test_same_key_gives_one_audit_and_the_first_response(org: Org):
    visit = org.visit()
    key = str(uuid.uuid4())
    first = org.submit(visit, key=key)
    again = org.submit(visit, key=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert _count(org.db, Audit) == 1
    assert _count(org.db, IdempotencyRecord) == 1


def test_same_key_with_another_body_is_409(org: Org):
    visit = org.visit()
    key = str(uuid.uuid4())
    assert org.submit(visit, key=key).status_code == 201
    changed = f.submission({**f.PERFECT_ANSWERS, "courtesy": {"value": 4}})
    resp = org.submit(visit, changed, key=key)
    assert resp.status_code == 409, resp.text
    assert resp.json()["error"] == "idempotency_conflict"
    assert _count(org.db, Audit) == 1


def test_a_second_key_for_the_same_visit_is_refused_not_duplicated(org: Org):
    visit = org.visit()
    assert org.submit(visit).status_code == 201
    resp = org.submit(visit)
    assert resp.status_code == 409 and "already has audit" in resp.json()["detail"]
    assert _count(org.db, Audit) == 1


def test_missing_or_bad_idempotency_key_is_a_422_naming_the_header(org: Org):
    visit = org.visit()
    resp = org.client.post(
        f"/api/v1/visits/{visit.id}/audit", json=f.submission(), headers=org.headers["auditor"]
    )
    assert resp.status_code == 422
    assert "Idempotency-Key" in resp.text
    resp = org.submit(visit, key="not-a-uuid")
    assert resp.status_code == 422 and "Idempotency-Key" in resp.text
    assert _count(org.db, Audit) == 0


@pytest.mark.parametrize(
    ("answers", "path"),
    [
        ({**f.PERFECT_ANSWERS, "courtesy": {"value": 7}}, "answers.courtesy.value"),
        ({k: v for k, v in f.PERFECT_ANSWERS.items() if k != "wait"}, "answers.wait"),
        ({**f.PERFECT_ANSWERS, "bogus": {"value": 1}}, "answers.bogus"),
        ({**f.PERFECT_ANSWERS, "greeted": {"na": True}}, "answers.greeted"),
        ({**f.PERFECT_ANSWERS, "greeted": {"value": "yes"}}, "answers.greeted.value"),
        ({**f.PERFECT_ANSWERS, "exemptions": {"value": False}}, "answers.why"),
    ],
)
def test_invalid_answers_are_422_with_field_paths(org: Org, answers, path):
    visit = org.visit()
    resp = org.submit(visit, f.submission(answers))
    assert resp.status_code == 422, resp.text
    fields = [x["field"] for x in resp.json()["fields"]]
    assert any(x == path or x.startswith(path + ".") for x in fields), fields
    assert _count(org.db, Audit) == 0


def test_structurally_bad_bodies_are_422_not_500(org: Org):
    visit = org.visit()
    for body in (
        {"answers": []},
        f.submission(answers={"greeted": "yes"}),
        f.submission(started_at="yesterday"),
        f.submission(ended_at=(NOW - timedelta(days=3)).isoformat()),
        f.submission(location={"lat": 123, "lon": 0}),
        f.submission(
            started_at=(NOW + timedelta(hours=2)).isoformat(),
            ended_at=(NOW + timedelta(hours=3)).isoformat(),
        ),
    ):
        resp = org.submit(visit, body)
        assert resp.status_code == 422, (body, resp.text)
        assert resp.json()["fields"], resp.text


def test_photos_must_be_evidence_of_this_outlet(org: Org):
    visit = org.visit()
    here = _upload(org)
    assert here.status_code == 201, here.text
    elsewhere = _upload(org, org.other_outlet, _jpeg((200, 10, 10)))
    assert elsewhere.status_code == 201, elsewhere.text
    bad = {**f.PERFECT_ANSWERS, "front_photo": {"photos": [elsewhere.json()["id"]]}}
    resp = org.submit(visit, f.submission(bad))
    assert resp.status_code == 422
    assert resp.json()["fields"][0]["field"] == "answers.front_photo.photos.0"
    good = {**f.PERFECT_ANSWERS, "front_photo": {"photos": [here.json()["id"]]}}
    resp = org.submit(visit, f.submission(good))
    assert resp.status_code == 201, resp.text
    item = next(i for i in resp.json()["items"] if i["item"] == "front_photo")
    assert item["answer"]["photos"] == [here.json()["id"]]


def test_audit_photo_uploads_refuse_non_images_and_oversized_files(org: Org, settings):
    resp = _upload(org, data=b"%PDF-1.4 not an image", name="x.jpg")
    assert resp.status_code == 415, resp.text
    big = b"\xff\xd8" + b"0" * (settings.max_upload_bytes + 10)
    resp = _upload(org, data=big)
    assert resp.status_code == 413, resp.text


# ---------------------------------------------------------------- scope


def test_auditors_see_only_their_own_visits_and_audits(org: Org):
    mine = org.visit()
    theirs = org.visit(auditor=org.other_auditor)
    listed = org.client.get("/api/v1/visits", headers=org.headers["auditor"]).json()
    assert [v["id"] for v in listed] == [mine.id]
    resp = org.client.get(f"/api/v1/visits/{theirs.id}", headers=org.headers["auditor"])
    assert resp.status_code == 404
    resp = org.submit(theirs)  # not visible to this auditor
    assert resp.status_code == 404
    audit = org.submit(theirs, who="other_auditor").json()
    resp = org.client.get(f"/api/v1/audits/{audit['id']}", headers=org.headers["auditor"])
    assert resp.status_code == 404
    assert org.client.get("/api/v1/audits", headers=org.headers["auditor"]).json()["total"] == 0


def test_supervisors_see_only_outlets_in_scope(org: Org):
    inside = org.visit()
    outside = org.visit(outlet=org.other_outlet)
    audit_in = org.submit(inside).json()
    audit_out = org.submit(outside).json()
    listed = org.client.get("/api/v1/audits", headers=org.headers["supervisor"]).json()
    assert [a["id"] for a in listed["items"]] == [audit_in["id"]]
    resp = org.client.get(f"/api/v1/audits/{audit_out['id']}", headers=org.headers["supervisor"])
    assert resp.status_code == 404
    resp = org.review(audit_out["id"], "approve")
    assert resp.status_code == 404
    far = org.client.get("/api/v1/audits", headers=org.headers["far_supervisor"]).json()
    assert [a["id"] for a in far["items"]] == [audit_out["id"]]


def test_visits_go_only_to_auditors_who_can_see_the_outlet(org: Org):
    body = {
        "outlet_id": org.other_outlet.id,
        "version_id": org.version.id,
        "auditor_id": org.other_auditor.id,
        "window_start": NOW.isoformat(),
        "window_end": (NOW + timedelta(days=3)).isoformat(),
    }
    resp = org.client.post("/api/v1/visits", json=body, headers=org.headers["admin"])
    assert resp.status_code == 422 and resp.json()["field"] == "auditor_id"
    body["auditor_id"] = org.auditor.id
    resp = org.client.post("/api/v1/visits", json=body, headers=org.headers["admin"])
    assert resp.status_code == 201, resp.text
    # A supervisor can't assign visits outside their scope.
    resp = org.client.post("/api/v1/visits", json=body, headers=org.headers["supervisor"])
    assert resp.status_code == 404
    draft = f.checklist_version(org.db, published=False)
    org.db.commit()
    body["version_id"] = draft.id
    resp = org.client.post("/api/v1/visits", json=body, headers=org.headers["admin"])
    assert resp.status_code == 422 and "publish" in resp.json()["detail"]


# ---------------------------------------------------------------- review and history


def test_review_lifecycle_with_return_and_resubmission(org: Org):
    visit = org.visit()
    audit = org.submit(visit).json()
    assert org.review(audit["id"], "start_review").json()["status"] == "in_review"
    resp = org.review(audit["id"], "return")
    assert resp.status_code == 422  # returning needs a reason
    resp = org.review(audit["id"], "return", "wait time missing a photo of the ticket")
    assert resp.json()["status"] == "returned", resp.text
    assert org.review(audit["id"], "approve").status_code == 409
    fixed = f.submission({**f.PERFECT_ANSWERS, "courtesy": {"value": 4}})
    key = str(uuid.uuid4())
    resp = org.client.post(
        f"/api/v1/audits/{audit['id']}/resubmit",
        json=fixed,
        headers=org.headers["auditor"] | f.idem(key),
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "submitted"
    again = org.client.post(
        f"/api/v1/audits/{audit['id']}/resubmit",
        json=fixed,
        headers=org.headers["auditor"] | f.idem(key),
    )
    assert again.json() == resp.json()
    approved = org.review(audit["id"], "approve", "ok")
    assert approved.json()["status"] == "approved"
    kinds = [(h["kind"], h["to_status"]) for h in approved.json()["history"]]
    assert kinds == [
        ("submitted", "submitted"),
        ("status", "in_review"),
        ("status", "returned"),
        ("resubmitted", "submitted"),
        ("status", "approved"),
    ]
    assert org.review(audit["id"], "reject", "late").status_code == 409


def test_nobody_reviews_their_own_spot_check(org: Org):
    visit = org.visit(auditor=org.supervisor)
    audit = org.submit(visit, who="supervisor").json()
    resp = org.review(audit["id"], "approve")
    assert resp.status_code == 403
    assert org.review(audit["id"], "approve", who="supervisor2").status_code == 200


def test_reviewer_edit_rescoring_keeps_the_history(org: Org):
    visit = org.visit()
    audit = org.submit(visit).json()
    resp = org.client.patch(
        f"/api/v1/audits/{audit['id']}/answers/greeted",
        json={"value": False, "reason": "the camera shows no greeting at 15:41"},
        headers=org.headers["supervisor"],
    )
    assert resp.status_code == 200, resp.text
    edited = resp.json()
    assert edited["score"] < 100
    entry = edited["history"][-1]
    assert entry["kind"] == "answer_edit" and entry["item"] == "greeted"
    assert entry["old_answer"]["value"] is True and entry["new_answer"]["value"] is False
    assert entry["by"] == "sup" and "camera" in entry["comment"]
    bad = org.client.patch(
        f"/api/v1/audits/{audit['id']}/answers/courtesy",
        json={"value": 9, "reason": "typo"},
        headers=org.headers["supervisor"],
    )
    assert bad.status_code == 422 and bad.json()["field"] == "answers.courtesy.value"
    unknown = org.client.patch(
        f"/api/v1/audits/{audit['id']}/answers/nothing",
        json={"value": 1, "reason": "typo"},
        headers=org.headers["supervisor"],
    )
    assert unknown.status_code == 404


# ---------------------------------------------------------------- attribution


def test_items_are_attributed_through_roster_badge_and_outlet_manager(org: Org):
    visit = org.visit()
    body = f.submission(counter_id=org.counter.id)
    wrong = org.submit(visit, f.submission(counter_id=2_000_000))
    assert wrong.status_code == 422 and wrong.json()["field"] == "counter_id"
    audit = org.submit(visit, body).json()
    assert audit["counter_id"] == org.counter.id
    by_item = {i["item"]: i for i in audit["items"]}
    assert by_item["exemptions"]["staff"]["id"] == org.clerk.id
    assert by_item["exemptions"]["attribution"] == "roster"
    assert by_item["greeted"]["staff"]["id"] == org.lobby.id
    assert by_item["tidy"]["staff"]["id"] == org.manager.id
    assert by_item["tidy"]["attribution"] == "outlet_manager"
    assert by_item["courtesy"]["staff"] is None  # measures nobody

    other_clerk = f.staff(org.db, org.outlet, "E777")
    org.db.commit()
    visit2 = org.visit()
    answers = {**f.PERFECT_ANSWERS, "exemptions": {"value": True, "badge": "e777"}}
    audit2 = org.submit(visit2, f.submission(answers)).json()
    item = next(i for i in audit2["items"] if i["item"] == "exemptions")
    assert item["staff"]["id"] == other_clerk.id and item["attribution"] == "badge"


# ---------------------------------------------------------------- corrective actions


def test_failed_critical_item_fails_the_audit_and_opens_a_corrective_action(org: Org):
    visit = org.visit()
    answers = {
        **f.PERFECT_ANSWERS,
        "exemptions": {"value": False, "comment": "no mention of exclusions"},
        "why": {"value": "clerk skipped the exemption page"},
    }
    audit = org.submit(visit, f.submission(answers)).json()
    assert audit["score"] == 0 and audit["passed"] is False and audit["critical_failed"] is True
    assert _count(org.db, CorrectiveAction) == 0  # opened on approval, not before
    approved = org.review(audit["id"], "approve", "confirmed on camera").json()
    (action_id,) = approved["corrective_action_ids"]

    action = org.client.get(
        f"/api/v1/corrective-actions/{action_id}", headers=org.headers["supervisor"]
    ).json()
    assert action["item"] == "exemptions" and action["critical"] is True
    assert action["assignee_staff_id"] == org.manager.id
    assert action["due_on"] == str(date(2026, 11, 27))  # approval day (local) + 7
    assert "SV-COUNTER-02" in action["title"] and "免责" in action["title"]
    assert action["status"] == "open" and action["overdue"] is False

    org.clock.advance(days=8)
    org.headers = {name: f.login(org.client, u) for name, u in USERNAMES.items()}  # tokens expired
    overdue = org.client.get(
        "/api/v1/corrective-actions", params={"overdue": True}, headers=org.headers["supervisor"]
    ).json()
    assert [a["id"] for a in overdue] == [action_id]

    # The assigned manager sees and fixes it with a photo; another staff member can't see it.
    assert org.client.get("/api/v1/corrective-actions", headers=org.headers["clerk"]).json() == []
    photo = _upload(org, who="manager").json()["id"]
    fixed = org.client.post(
        f"/api/v1/corrective-actions/{action_id}/fix",
        json={
            "note": "retrained the clerk; checklist taped to the counter",
            "evidence_ids": [photo],
        },
        headers=org.headers["manager"],
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["status"] == "fixed" and fixed.json()["overdue"] is False
    assert (
        org.client.post(
            f"/api/v1/corrective-actions/{action_id}/verify",
            json={"accept": True},
            headers=org.headers["manager"],
        ).status_code
        == 403
    )
    verified = org.client.post(
        f"/api/v1/corrective-actions/{action_id}/verify",
        json={"accept": True, "comment": "seen on the next visit"},
        headers=org.headers["supervisor"],
    )
    assert verified.json()["status"] == "verified"


def test_items_under_the_threshold_open_actions_too(org: Org):
    visit = org.visit()
    answers = {**f.PERFECT_ANSWERS, "courtesy": {"value": 2}, "wait": {"value": 900}}
    audit = org.submit(visit, f.submission(answers)).json()
    assert audit["passed"] is False and audit["critical_failed"] is False
    approved = org.review(audit["id"], "approve", "ok").json()
    items = sorted(
        org.client.get(f"/api/v1/corrective-actions/{i}", headers=org.headers["hr"]).json()["item"]
        for i in approved["corrective_action_ids"]
    )
    assert items == ["courtesy", "wait"]


# ---------------------------------------------------------------- unannounced scheduling


def _schedule(org: Org, **kw):
    body = {
        "version_id": org.version.id,
        "outlet_ids": [org.outlet.id],
        "auditor_ids": [org.auditor.id, org.other_auditor.id],
        "window_start": "2026-12-01T00:00:00+08:00",
        "window_end": "2026-12-15T00:00:00+08:00",
        "visits_per_outlet": 1,
        "lockout_days": 30,
        "seed": 7,
    } | kw
    return org.client.post("/api/v1/visits/schedule", json=body, headers=org.headers["supervisor"])


def test_unannounced_visits_fall_in_opening_hours_and_respect_the_lockout(org: Org):
    first = _schedule(org)
    assert first.status_code == 201, first.text
    (v1,) = first.json()
    at = datetime.fromisoformat(v1["planned_at"]).astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Shanghai")
    )
    assert at.weekday() < 5 and 9 <= at.hour < 17, at  # the outlet opens 09-17 on workdays
    assert v1["kind"] == "unannounced"
    second = _schedule(org).json()
    assert second[0]["auditor_id"] != v1["auditor_id"]  # the first auditor is locked out
    third = _schedule(org)
    assert third.status_code == 422 and third.json()["field"] == "lockout"
    # The same seed gives the same plan elsewhere; without a lockout anyone can go again.
    assert _schedule(org, lockout_days=0).status_code == 201


def test_scheduling_outside_scope_or_never_open_is_refused(org: Org):
    assert _schedule(org, outlet_ids=[org.other_outlet.id]).status_code == 404
    weekend = _schedule(
        org, window_start="2026-12-05T00:00:00+08:00", window_end="2026-12-07T00:00:00+08:00"
    )
    assert weekend.status_code == 422 and weekend.json()["field"] == "outlet_ids"


def test_schedule_plan_is_repeatable_with_a_seed():
    import random

    from audit_service.audits.scheduling import plan_unannounced

    open_ = {
        1: [(datetime(2026, 12, 1, 1, tzinfo=UTC), datetime(2026, 12, 1, 9, tzinfo=UTC))],
        2: [(datetime(2026, 12, 2, 1, tzinfo=UTC), datetime(2026, 12, 2, 9, tzinfo=UTC))],
    }
    plans = [
        plan_unannounced(
            open_intervals=open_,
            auditor_ids=[10, 11],
            visits_per_outlet=2,
            lockout=timedelta(days=0),
            earlier=[],
            rng=random.Random(3),
        )
        for _ in range(2)
    ]
    assert plans[0] == plans[1] and len(plans[0]) == 4
    assert all(a <= p.at < b for p in plans[0] for a, b in open_[p.outlet_id])
    counts = [sum(p.auditor_id == a for p in plans[0]) for a in (10, 11)]
    assert counts == [2, 2]  # balanced
