"""Vision ingestion (POST /vision/batches, docs/vision-contract.md) and the dashboard's reads:
live view, findings, queue samples, queue waits, camera health, each scoped by outlet."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from audit_service.models import (
    Camera,
    CameraHealth,
    Counter,
    EvidenceBlob,
    EvidenceItem,
    Outlet,
    QueueSample,
    QueueWait,
    Role,
    VisionEvent,
    ZoneKind,
    ZoneState,
)
from tests import factories as f

API = "/api/v1"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # the FakeClock's start


def iso(dt: datetime) -> str:
    return dt.isoformat()


@dataclass
class World:
    a: Outlet
    b: Outlet
    c1: Counter  # outlet A
    c2: Counter  # outlet A
    cb: Counter  # outlet B
    cam_a: Camera
    cam_b: Camera
    worker_a: dict[str, str]
    worker_b: dict[str, str]
    headers: dict[str, dict[str, str]] = field(default_factory=dict)


@pytest.fixture
def world(client, db) -> World:
    r1, r2 = f.region(db, "R1"), f.region(db, "R2", "Region Two")
    a, b = f.outlet(db, r1, "A"), f.outlet(db, r2, "B")
    c1, c2, cb = f.counter(db, a, "C1"), f.counter(db, a, "C2"), f.counter(db, b, "C1")
    cam_a = f.camera(db, a, "cam-a", analysis_fps=2.0)
    cam_b = f.camera(db, b, "cam-b")
    f.zone(db, cam_a, "till-1", c1)
    f.zone(db, cam_a, "till-2", c2)
    f.zone(db, cam_a, "queue-1", c1, ZoneKind.queue)
    f.zone(db, cam_b, "till-1", cb)
    f.zone(db, cam_b, "queue-1", cb, ZoneKind.queue)
    _, token_a = f.worker(db, "worker-a", [cam_a])
    _, token_b = f.worker(db, "worker-b", [cam_b])
    f.user(db, "admin", Role.admin)
    f.user(db, "sup-a", Role.supervisor, outlets=[a])
    f.user(db, "hr-r1", Role.hr, regions=[r1])
    f.user(db, "auditor", Role.auditor)
    f.user(db, "clerk", Role.staff, staff_=f.staff(db, a))
    db.commit()
    w = World(a, b, c1, c2, cb, cam_a, cam_b, f.bearer(token_a), f.bearer(token_b))
    for name in ("admin", "sup-a", "hr-r1", "auditor", "clerk"):
        w.headers[name] = f.login(client, name)
    return w


def event(
    phase: str = "start",
    *,
    id: uuid.UUID | None = None,
    kind: str = "counter_unattended",
    camera: str = "cam-a",
    zone: str | None = "till-1",
    start: datetime = T0,
    end: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": str(id or uuid.uuid4()),
        "phase": phase,
        "kind": kind,
        "camera_id": camera,
        "zone": zone,
        "start": iso(start),
        "end": iso(end) if end else None,
        "data": extra.pop("data", {}),
        "evidence_id": extra.pop("evidence_id", None),
        **extra,
    }


def sample(t: datetime, count: int = 3, *, camera="cam-a", zone="queue-1", wait=120.5) -> dict:
    return {
        "camera_id": camera,
        "zone": zone,
        "t": iso(t),
        "count": count,
        "smoothed": float(count),
        "wait_s": wait,
    }


def state(t: datetime, st: str | None, since: datetime | None, *, camera="cam-a", zone="till-1"):
    return {
        "camera_id": camera,
        "zone": zone,
        "state": st,
        "since": iso(since) if since else None,
        "count": 0 if st == "unattended" else 1,
        "t": iso(t),
    }


def health(t: datetime, *, camera="cam-a", achieved=1.9, configured=2.0, online=True) -> dict:
    return {
        "camera_id": camera,
        "t": iso(t),
        "online": online,
        "achieved_fps": achieved,
        "configured_fps": configured,
        "frames_read": 1234,
        "frames_analysed": 80,
    }


def wait(
    joined: datetime,
    secs: float = 95.2,
    *,
    track: int = 17,
    camera: str = "cam-a",
    zone: str = "queue-1",
    sla: float = 300.0,
    wait_s: float | None = None,
) -> dict:
    return {
        "camera_id": camera,
        "zone": zone,
        "track_id": track,
        "joined": iso(joined),
        "left": iso(joined + timedelta(seconds=secs)),
        "wait_s": secs if wait_s is None else wait_s,
        "sla_s": sla,
    }


def post(client, headers, **lists: list) -> Any:
    return client.post(f"{API}/vision/batches", json=lists, headers=headers)


def snapshot(db) -> dict[str, list]:
    db.expire_all()

    def rows(model, *order):
        return [
            {c.name: getattr(r, c.key) for c in model.__table__.columns}
            for r in db.scalars(select(model).order_by(*order))
        ]

    return {
        "events": rows(VisionEvent, VisionEvent.id),
        "samples": rows(QueueSample, QueueSample.at, QueueSample.zone_code),
        "states": rows(ZoneState, ZoneState.zone_code),
        "health": rows(CameraHealth, CameraHealth.camera_id),
        "waits": rows(QueueWait, QueueWait.left_at, QueueWait.track_id),
    }


def nothing_stored(db) -> bool:
    return all(not v for v in snapshot(db).values())


def evidence(db, outlet: Outlet) -> uuid.UUID:
    sha = uuid.uuid4().hex * 2
    db.add(EvidenceBlob(sha256=sha, content_type="image/jpeg", size_bytes=10))
    item = EvidenceItem(sha256=sha, outlet_id=outlet.id, source="camera:cam-a")
    db.add(item)
    db.commit()
    return item.id


# ---------------------------------------------------------------- ingestion


def full_batch() -> dict[str, list]:
    return {
        "events": [event(data={"unattended_after_s": 60})],
        "samples": [sample(T0), sample(T0 + timedelta(seconds=2), 4)],
        "states": [state(T0, "unattended", T0 - timedelta(seconds=60))],
        "health": [health(T0)],
        "waits": [wait(T0 - timedelta(minutes=3)), wait(T0 - timedelta(minutes=2), track=18)],
    }


def test_a_batch_is_stored_and_a_replay_changes_nothing(client, db, world, clock):
    batch = full_batch()
    resp = post(client, world.worker_a, **batch)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "events": {"stored": 1, "duplicates": 0},
        "samples": {"stored": 2, "duplicates": 0},
        "states": {"stored": 1, "duplicates": 0},
        "health": {"stored": 1, "duplicates": 0},
        "waits": {"stored": 2, "duplicates": 0},
    }
    before = snapshot(db)
    ev = before["events"][0]
    assert (ev["outlet_id"], ev["counter_id"], ev["zone_code"]) == (
        world.a.id,
        world.c1.id,
        "till-1",
    )
    assert ev["ended_at"] is None and ev["start_received"] and not ev["end_received"]
    assert [s["counter_id"] for s in before["samples"]] == [world.c1.id] * 2
    assert before["health"][0]["behind"] is False
    assert [(w["counter_id"], w["outlet_id"]) for w in before["waits"]] == [
        (world.c1.id, world.a.id)
    ] * 2

    clock.advance(minutes=1)
    again = post(client, world.worker_a, **batch)
    assert again.status_code == 200, again.text
    assert again.json() == {
        "events": {"stored": 0, "duplicates": 1},
        "samples": {"stored": 0, "duplicates": 2},
        "states": {"stored": 0, "duplicates": 1},
        "health": {"stored": 0, "duplicates": 1},
        "waits": {"stored": 0, "duplicates": 2},
    }
    assert snapshot(db) == before


def test_samples_repeated_within_a_batch_count_once(client, db, world):
    t = T0 + timedelta(seconds=4)
    resp = post(client, world.worker_a, samples=[sample(t), sample(t, 9)])
    assert resp.json()["samples"] == {"stored": 1, "duplicates": 1}
    assert db.scalar(select(QueueSample.count)) == 3


def test_sample_times_in_other_offsets_are_the_same_instant(client, db, world):
    t = T0 + timedelta(seconds=6)
    post(client, world.worker_a, samples=[sample(t)])
    local = sample(t.astimezone(datetime.fromisoformat("2026-01-01T00:00:00+08:00").tzinfo))
    assert post(client, world.worker_a, samples=[local]).json()["samples"]["duplicates"] == 1


def test_start_then_end_sets_the_end_and_duration(client, db, world, clock):
    eid = uuid.uuid4()
    post(client, world.worker_a, events=[event(id=eid, data={"a": 1})])
    end = T0 + timedelta(seconds=95.5)
    resp = post(
        client,
        world.worker_a,
        events=[event("end", id=eid, end=end, data={"duration_s": 95.5, "b": 2})],
    )
    assert resp.json()["events"] == {"stored": 1, "duplicates": 0}
    row = db.get(VisionEvent, eid)
    assert row.ended_at == end and row.duration_s == 95.5
    assert row.start_received and row.end_received
    assert row.data == {"a": 1, "duration_s": 95.5, "b": 2}
    # Both phases again: duplicates.
    resp = post(
        client,
        world.worker_a,
        events=[event(id=eid), event("end", id=eid, end=end)],
    )
    assert resp.json()["events"] == {"stored": 0, "duplicates": 2}


def test_an_end_before_its_start_creates_the_event_and_the_start_completes_it(client, db, world):
    eid, end = uuid.uuid4(), T0 + timedelta(minutes=3)
    resp = post(client, world.worker_a, events=[event("end", id=eid, end=end, data={"peak": 7})])
    assert resp.json()["events"] == {"stored": 1, "duplicates": 0}
    row = db.get(VisionEvent, eid)
    assert (row.started_at, row.ended_at, row.duration_s) == (T0, end, 180.0)
    assert row.end_received and not row.start_received

    resp = post(client, world.worker_a, events=[event(id=eid, data={"peak": 1, "first": True})])
    assert resp.json()["events"] == {"stored": 1, "duplicates": 0}
    db.expire_all()
    row = db.get(VisionEvent, eid)
    assert row.ended_at == end  # the late start does not reopen it
    assert row.data == {"peak": 7, "first": True}  # the end's figures win
    assert row.start_received


def test_both_phases_in_one_batch(client, db, world):
    eid = uuid.uuid4()
    end = T0 + timedelta(seconds=10)
    resp = post(client, world.worker_a, events=[event(id=eid), event("end", id=eid, end=end)])
    assert resp.json()["events"] == {"stored": 2, "duplicates": 0}
    assert db.get(VisionEvent, eid).duration_s == 10.0


def test_a_camera_level_event_has_no_counter(client, db, world):
    eid = uuid.uuid4()
    resp = post(client, world.worker_a, events=[event(id=eid, kind="camera_offline", zone=None)])
    assert resp.status_code == 200, resp.text
    row = db.get(VisionEvent, eid)
    assert (row.counter_id, row.zone_code, row.outlet_id) == (None, None, world.a.id)


def test_another_workers_camera_is_422_naming_the_item_and_nothing_is_stored(client, db, world):
    batch = full_batch()
    batch["events"] = [event(), event(), event(), event(camera="cam-b")]
    resp = post(client, world.worker_a, **batch)
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["field"] == "events[3].camera_id"
    assert "cam-b" in body["detail"] and "nothing of the batch was stored" in body["detail"]
    assert nothing_stored(db)


def test_unknown_camera_reads_like_another_workers_camera(client, db, world):
    resp = post(client, world.worker_a, health=[health(T0, camera="cam-zz")])
    assert resp.status_code == 422
    assert resp.json()["field"] == "health[0].camera_id"
    other = post(client, world.worker_a, health=[health(T0, camera="cam-b")]).json()
    assert other["detail"].replace("cam-b", "X") == resp.json()["detail"].replace("cam-zz", "X")


def test_every_problem_is_named(client, db, world):
    resp = post(
        client,
        world.worker_a,
        events=[event(zone="nope"), event(kind="queue_over_threshold", zone="till-1")],
        samples=[sample(T0, zone="till-1")],
        states=[state(T0, "attended", T0, zone="queue-1")],
        health=[health(T0), health(T0, camera="cam-b")],
        waits=[wait(T0), wait(T0, zone="nope"), wait(T0, camera="cam-b")],
    )
    assert resp.status_code == 422
    fields = [x["field"] for x in resp.json()["fields"]]
    assert fields == [
        "events[0].zone",
        "events[1].zone",
        "samples[0].zone",
        "states[0].zone",
        "health[1].camera_id",
        "waits[1].zone",
        "waits[2].camera_id",
    ]
    assert nothing_stored(db)


def test_zone_findings_need_their_zone(client, db, world):
    resp = post(client, world.worker_a, events=[event(zone=None)])
    assert resp.status_code == 422
    assert resp.json()["field"] == "events[0].zone"


def test_an_id_reused_for_another_finding_is_422(client, db, world):
    eid = uuid.uuid4()
    post(client, world.worker_a, events=[event(id=eid)])
    resp = post(
        client, world.worker_a, events=[event(id=eid, kind="queue_over_threshold", zone="queue-1")]
    )
    assert resp.status_code == 422
    assert resp.json()["field"] == "events[0].id"
    # Another worker's event id is not a way into its camera either.
    resp = post(client, world.worker_b, events=[event(id=eid, camera="cam-b")])
    assert resp.status_code == 422


def test_schema_errors_name_the_item(client, db, world):
    naive = event()
    naive["start"] = "2026-11-20T09:00:00"
    cases = [
        ({"events": [event(), naive]}, "body.events.1.start"),
        ({"events": [event(end=T0 + timedelta(seconds=5))]}, "body.events.0.end"),
        ({"events": [event("end")]}, "body.events.0.end"),
        ({"events": [event("end", end=T0 - timedelta(seconds=1))]}, "body.events.0.end"),
        ({"events": [event(kind="fire")]}, "body.events.0.kind"),
        ({"samples": [sample(T0, -1)]}, "body.samples.0.count"),
        ({"states": [state(T0, "asleep", None)]}, "body.states.0.state"),
        ({"health": [{**health(T0), "achieved_fps": -1}]}, "body.health.0.achieved_fps"),
        ({"events": [{**event(), "extra": 1}]}, "body.events.0.extra"),
        ({"samples": [sample(datetime(1990, 1, 1, tzinfo=UTC))]}, "body.samples.0.t"),
        ({"samples": [sample(T0 + timedelta(seconds=i)) for i in range(1001)]}, "body.samples"),
    ]
    for body, where in cases:
        resp = client.post(f"{API}/vision/batches", json=body, headers=world.worker_a)
        assert resp.status_code == 422, (where, resp.text)
        assert where in [x["field"] for x in resp.json()["fields"]], (where, resp.text)
    assert nothing_stored(db)


def test_evidence_must_belong_to_the_cameras_outlet(client, db, world):
    ours, theirs = evidence(db, world.a), evidence(db, world.b)
    for bad in (theirs, uuid.uuid4()):
        resp = post(client, world.worker_a, events=[event(evidence_id=str(bad))])
        assert resp.status_code == 422, resp.text
        assert resp.json()["field"] == "events[0].evidence_id"
    assert nothing_stored(db)
    eid = uuid.uuid4()
    resp = post(client, world.worker_a, events=[event(id=eid, evidence_id=str(ours))])
    assert resp.status_code == 200, resp.text
    listed = client.get(f"{API}/vision/events", headers=world.headers["sup-a"]).json()
    assert listed["items"][0]["evidence_id"] == str(ours)


def test_an_end_can_bring_the_evidence(client, db, world):
    ours, eid = evidence(db, world.a), uuid.uuid4()
    post(client, world.worker_a, events=[event(id=eid)])
    post(
        client,
        world.worker_a,
        events=[event("end", id=eid, end=T0 + timedelta(seconds=1), evidence_id=str(ours))],
    )
    assert db.get(VisionEvent, eid).evidence_id == ours


def test_states_and_health_keep_the_newest_report(client, db, world):
    t1, t2 = T0 + timedelta(seconds=10), T0 + timedelta(seconds=20)
    resp = post(
        client,
        world.worker_a,
        states=[state(t2, "attended", t1), state(t1, "unattended", T0)],
        health=[health(t2, achieved=1.0), health(t1, achieved=2.0)],
    )
    assert resp.json()["states"] == {"stored": 1, "duplicates": 1}
    assert resp.json()["health"] == {"stored": 1, "duplicates": 1}
    row = db.scalar(select(ZoneState))
    assert (row.state.value, row.at, row.since) == ("attended", t2, t1)
    h = db.scalar(select(CameraHealth))
    assert (h.achieved_fps, h.behind, h.last_seen_at) == (1.0, True, t2)  # 1.0 < 0.8 x 2.0


def test_only_workers_and_admins_ingest(client, db, world):
    for name in ("sup-a", "hr-r1", "auditor", "clerk"):
        resp = post(client, world.headers[name], health=[health(T0)])
        assert resp.status_code == 403, name
    assert client.post(f"{API}/vision/batches", json={}).status_code == 401
    # An admin holds every permission; its scope is every camera (a backfill, say).
    resp = post(client, world.headers["admin"], health=[health(T0, camera="cam-b")])
    assert resp.status_code == 200, resp.text


def test_an_empty_batch_is_fine(client, world):
    resp = post(client, world.worker_a)
    assert resp.status_code == 200
    assert resp.json()["events"] == {"stored": 0, "duplicates": 0}


# ---------------------------------------------------------------- queue waits


def test_a_wait_is_stored_against_its_zones_counter_with_the_wait_recomputed(client, db, world):
    plus8 = datetime.fromisoformat("2026-01-01T00:00:00+08:00").tzinfo
    joined = T0 - timedelta(minutes=10)
    resp = post(
        client,
        world.worker_a,
        waits=[
            # The worker's wait_s is not trusted: the server computes left - joined.
            {**wait(joined.astimezone(plus8), 95.2), "wait_s": 1.0},
            wait(joined, 300.0, track=18),  # exactly the SLA: within
            wait(joined, 300.5, track=19),  # over
        ],
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["waits"] == {"stored": 3, "duplicates": 0}
    rows = snapshot(db)["waits"]
    assert [(w["track_id"], w["wait_s"], w["within_sla"]) for w in rows] == [
        (17, 95.2, True),
        (18, 300.0, True),
        (19, 300.5, False),
    ]
    first = rows[0]
    assert (first["camera_id"], first["zone_code"]) == (world.cam_a.id, "queue-1")
    assert (first["counter_id"], first["outlet_id"], first["sla_s"]) == (
        world.c1.id,
        world.a.id,
        300.0,
    )
    assert (first["joined_at"], first["left_at"]) == (joined, joined + timedelta(seconds=95.2))
    assert first["received_at"] == T0


def test_waits_repeated_within_a_batch_or_in_another_offset_count_once(client, db, world):
    joined = T0 - timedelta(minutes=5)
    resp = post(client, world.worker_a, waits=[wait(joined), wait(joined, 50.0)])
    assert resp.json()["waits"] == {"stored": 1, "duplicates": 1}
    plus8 = datetime.fromisoformat("2026-01-01T00:00:00+08:00").tzinfo
    again = post(client, world.worker_a, waits=[wait(joined.astimezone(plus8))])
    assert again.json()["waits"] == {"stored": 0, "duplicates": 1}
    # Another track, or the same track joining again later, is another wait.
    more = post(client, world.worker_a, waits=[wait(joined, track=18), wait(T0, track=17)])
    assert more.json()["waits"] == {"stored": 2, "duplicates": 0}
    assert db.scalar(select(func.count()).select_from(QueueWait)) == 3


def test_a_wait_needs_a_queue_zone_of_its_camera(client, db, world):
    for bad, fragment in (("nope", "has no zone 'nope'"), ("till-1", "needs a queue zone")):
        resp = post(client, world.worker_a, waits=[wait(T0), wait(T0, track=2, zone=bad)])
        assert resp.status_code == 422, resp.text
        body = resp.json()
        assert body["field"] == "waits[1].zone"
        assert fragment in body["detail"] and "nothing of the batch was stored" in body["detail"]
    assert nothing_stored(db)


def test_a_wait_on_a_camera_not_assigned_to_the_worker_is_422(client, db, world):
    for camera in ("cam-b", "cam-zz"):
        resp = post(client, world.worker_a, samples=[sample(T0)], waits=[wait(T0, camera=camera)])
        assert resp.status_code == 422, resp.text
        assert resp.json()["field"] == "waits[0].camera_id"
    assert nothing_stored(db)
    # The worker of that camera may.
    resp = post(client, world.worker_b, waits=[wait(T0, camera="cam-b")])
    assert resp.status_code == 200, resp.text


def test_wait_schema_errors_name_the_field(client, db, world):
    naive = wait(T0)
    naive["joined"] = "2026-11-20T09:00:00"
    cases = [
        ({"waits": [wait(T0), wait(T0, -1.0)]}, "body.waits.1.left"),
        ({"waits": [naive]}, "body.waits.0.joined"),
        ({"waits": [wait(T0, sla=0.0)]}, "body.waits.0.sla_s"),
        ({"waits": [wait(T0, wait_s=-1.0)]}, "body.waits.0.wait_s"),
        ({"waits": [wait(T0, track=-1)]}, "body.waits.0.track_id"),
        ({"waits": [wait(datetime(1999, 12, 31, tzinfo=UTC), 60.0)]}, "body.waits.0.joined"),
        ({"waits": [wait(datetime(2099, 12, 31, 23, 59, tzinfo=UTC), 120.0)]}, "body.waits.0.left"),
        ({"waits": [wait(T0, 40 * 86_400.0)]}, "body.waits.0.left"),
        ({"waits": [{**wait(T0), "extra": 1}]}, "body.waits.0.extra"),
        ({"waits": [wait(T0, track=i) for i in range(1001)]}, "body.waits"),
    ]
    for body, where in cases:
        resp = client.post(f"{API}/vision/batches", json=body, headers=world.worker_a)
        assert resp.status_code == 422, (where, resp.text)
        assert where in [x["field"] for x in resp.json()["fields"]], (where, resp.text)
    assert nothing_stored(db)
    # At most 1,000: exactly that many is fine.
    resp = post(client, world.worker_a, waits=[wait(T0, track=i) for i in range(1000)])
    assert resp.json()["waits"] == {"stored": 1000, "duplicates": 0}


def test_stored_waits_and_unattended_findings_mark_scores_stale_once_per_batch(
    client, db, world, clock, monkeypatch
):
    from audit_service.performance import staleness

    calls: list[tuple[datetime, datetime | None]] = []
    real = staleness.mark_stale

    def recording(session, start, end=None):
        calls.append((start, end))
        real(session, start, end)

    monkeypatch.setattr(staleness, "mark_stale", recording)
    eid = uuid.uuid4()
    batch = {
        "events": [
            event(id=eid, start=T0 - timedelta(hours=2)),
            event("end", id=eid, start=T0 - timedelta(hours=2), end=T0 - timedelta(hours=1)),
            # Other kinds are not what scores are built from.
            event(kind="queue_over_threshold", zone="queue-1", start=T0 - timedelta(days=3)),
        ],
        "waits": [wait(T0 - timedelta(hours=3), 60.0), wait(T0 - timedelta(minutes=30), track=2)],
        "samples": [sample(T0 - timedelta(days=5))],
    }
    assert post(client, world.worker_a, **batch).status_code == 200
    assert calls == [
        (T0 - timedelta(hours=3), T0 - timedelta(minutes=30) + timedelta(seconds=95.2))
    ]

    # A replay stores nothing: nothing to mark.
    calls.clear()
    assert post(client, world.worker_a, **batch).status_code == 200
    assert calls == []

    # An open finding counts until now (by the server clock).
    clock.advance(minutes=5)
    post(client, world.worker_a, events=[event(zone="till-2", start=T0 - timedelta(minutes=1))])
    assert calls == [(T0 - timedelta(minutes=1), T0 + timedelta(minutes=5))]

    # Only queue samples, states, health or other findings: no call.
    calls.clear()
    post(
        client,
        world.worker_a,
        samples=[sample(T0 + timedelta(seconds=1))],
        events=[event(kind="camera_offline", zone=None)],
    )
    assert calls == []


def test_a_stored_wait_marks_the_overlapping_materialised_scores_stale(client, db, world):
    from audit_service.models import PeriodKind, ScorePeriod

    week = ScorePeriod(
        kind=PeriodKind.week,
        key="2026-W47",
        starts_at=datetime(2026, 11, 16, tzinfo=UTC),
        ends_at=datetime(2026, 11, 23, tzinfo=UTC),
        stale=False,
    )
    earlier = ScorePeriod(
        kind=PeriodKind.week,
        key="2026-W46",
        starts_at=datetime(2026, 11, 9, tzinfo=UTC),
        ends_at=datetime(2026, 11, 16, tzinfo=UTC),
        stale=False,
    )
    db.add_all([week, earlier])
    db.commit()
    assert post(client, world.worker_a, waits=[wait(T0)]).status_code == 200
    db.expire_all()
    assert (
        db.get(ScorePeriod, (PeriodKind.week, "2026-W47")).stale,
        db.get(ScorePeriod, (PeriodKind.week, "2026-W46")).stale,
    ) == (True, False)


def test_a_camera_with_waits_cannot_be_deleted(client, db, world):
    assert post(client, world.worker_b, waits=[wait(T0, camera="cam-b")]).status_code == 200
    resp = client.delete(f"{API}/cameras/{world.cam_b.id}", headers=world.headers["admin"])
    assert resp.status_code == 409


# ---------------------------------------------------------------- live view


def test_live_view_reports_state_since_and_duration_by_the_server_clock(client, db, world, clock):
    since = T0 - timedelta(seconds=90)
    post(
        client,
        world.worker_a,
        states=[state(T0, "unattended", since), state(T0, "attended", T0, zone="till-2")],
        samples=[sample(T0 - timedelta(seconds=2), 2, wait=30.0), sample(T0, 4, wait=75.0)],
        health=[health(T0)],
        events=[event(start=since)],
    )
    clock.advance(seconds=30)
    resp = client.get(
        f"{API}/vision/live", params={"outlet_id": world.a.id}, headers=world.headers["sup-a"]
    )
    assert resp.status_code == 200, resp.text
    [outlet] = resp.json()["outlets"]
    assert (outlet["outlet_id"], outlet["unattended"], outlet["open_alerts"]) == (world.a.id, 1, 1)
    first, second = outlet["counters"]
    assert first["code"] == "C1" and first["state"] == "unattended"
    assert first["since"] == "2026-11-20T08:58:30Z"
    assert first["for_s"] == 120.0
    assert (first["queue_length"], first["queue_count"], first["wait_s"]) == (4.0, 4, 75.0)
    assert first["open_alerts"] == 1 and first["stale"] is False
    assert second["code"] == "C2" and second["state"] == "attended" and second["for_s"] == 30.0
    [alert] = outlet["alerts"]
    assert alert["kind"] == "counter_unattended" and alert["open"] is True
    [cam] = outlet["cameras"]
    assert (cam["camera_code"], cam["online"], cam["behind"], cam["stale"]) == (
        "cam-a",
        True,
        False,
        False,
    )
    assert cam["seconds_since_seen"] == 30.0
    assert outlet["camera_problems"] == 0


def test_stale_reports_make_the_state_unknown(client, db, world, clock):
    post(client, world.worker_a, states=[state(T0, "attended", T0)], health=[health(T0)])
    clock.advance(minutes=6)
    live = client.get(
        f"{API}/vision/live", params={"outlet_id": world.a.id}, headers=world.headers["admin"]
    ).json()
    c1 = next(c for c in live["outlets"][0]["counters"] if c["code"] == "C1")
    assert (c1["state"], c1["stale"], c1["for_s"]) == ("unknown", True, None)
    cam = live["outlets"][0]["cameras"][0]
    assert cam["stale"] is True
    assert live["outlets"][0]["camera_problems"] == 1


def test_live_view_orders_the_worst_first(client, db, world, clock):
    # Outlet A: all attended; outlet B: one unattended counter and a camera behind.
    post(
        client,
        world.worker_a,
        states=[state(T0, "attended", T0), state(T0, "attended", T0, zone="till-2")],
        health=[health(T0)],
    )
    post(
        client,
        world.worker_b,
        states=[state(T0, "unattended", T0, camera="cam-b")],
        health=[health(T0, camera="cam-b", achieved=0.5, configured=2.0)],
    )
    live = client.get(f"{API}/vision/live", headers=world.headers["admin"]).json()
    assert [o["code"] for o in live["outlets"]] == ["B", "A"]
    assert live["outlets"][0]["cameras"][0]["behind"] is True
    assert live["generated_at"] == "2026-11-20T09:00:00Z"
    # Within an outlet: unattended first, then unknown, then attended.
    post(client, world.worker_a, states=[state(T0 + timedelta(seconds=1), "unattended", T0)])
    db.add(Counter(outlet_id=world.a.id, code="C3", kind="claims"))
    db.commit()
    a = next(
        o
        for o in client.get(f"{API}/vision/live", headers=world.headers["admin"]).json()["outlets"]
        if o["code"] == "A"
    )
    assert [(c["code"], c["state"]) for c in a["counters"]] == [
        ("C1", "unattended"),
        ("C3", "unknown"),
        ("C2", "attended"),
    ]


def test_closed_alerts_and_old_open_ones_leave_the_live_view(client, db, world, clock):
    eid = uuid.uuid4()
    post(client, world.worker_a, events=[event(id=eid), event(start=T0 - timedelta(days=2))])
    post(client, world.worker_a, events=[event("end", id=eid, end=T0 + timedelta(seconds=5))])
    live = client.get(
        f"{API}/vision/live", params={"outlet_id": world.a.id}, headers=world.headers["admin"]
    ).json()
    assert live["outlets"][0]["alerts"] == []


def test_live_view_is_scoped(client, world):
    sup = world.headers["sup-a"]
    live = client.get(f"{API}/vision/live", headers=sup).json()
    assert [o["code"] for o in live["outlets"]] == ["A"]
    resp = client.get(f"{API}/vision/live", params={"outlet_id": world.b.id}, headers=sup)
    assert resp.status_code == 404
    resp = client.get(f"{API}/vision/live", params={"outlet_id": 999999}, headers=sup)
    assert resp.status_code == 404


# ---------------------------------------------------------------- findings, samples, health


def _findings(client, world):
    post(
        client,
        world.worker_a,
        events=[
            event(start=T0, data={"n": 1}),
            event(kind="queue_over_threshold", zone="queue-1", start=T0 + timedelta(minutes=1)),
            event(zone="till-2", start=T0 + timedelta(minutes=2)),
        ],
    )
    post(client, world.worker_b, events=[event(camera="cam-b", start=T0)])


def test_events_are_scoped_and_filtered(client, db, world):
    _findings(client, world)
    sup = world.headers["sup-a"]
    page = client.get(f"{API}/vision/events", headers=sup).json()
    assert page["total"] == 3
    assert {e["outlet_id"] for e in page["items"]} == {world.a.id}
    assert [e["started_at"] for e in page["items"]] == sorted(
        (e["started_at"] for e in page["items"]), reverse=True
    )
    admin = client.get(f"{API}/vision/events", headers=world.headers["admin"]).json()
    assert admin["total"] == 4

    by_counter = client.get(
        f"{API}/vision/events", params={"counter_id": world.c1.id}, headers=sup
    ).json()
    assert {e["kind"] for e in by_counter["items"]} == {
        "counter_unattended",
        "queue_over_threshold",
    }
    by_kind = client.get(
        f"{API}/vision/events", params={"kind": "queue_over_threshold"}, headers=sup
    ).json()
    assert [e["zone"] for e in by_kind["items"]] == ["queue-1"]
    window = client.get(
        f"{API}/vision/events",
        params={"start": "2026-11-20T09:01:30Z", "end": "2026-11-20T10:00:00Z"},
        headers=sup,
    ).json()
    # Open findings still go on: all three overlap the window but one started after it began.
    assert window["total"] == 3
    before = client.get(
        f"{API}/vision/events", params={"end": "2026-11-20T09:00:30Z"}, headers=sup
    ).json()
    assert before["total"] == 1
    paged = client.get(f"{API}/vision/events", params={"limit": 2, "offset": 2}, headers=sup)
    assert (len(paged.json()["items"]), paged.json()["total"]) == (1, 3)

    for params in ({"outlet_id": world.b.id}, {"counter_id": world.cb.id}):
        resp = client.get(f"{API}/vision/events", params=params, headers=sup)
        assert resp.status_code == 404, params
    resp = client.get(
        f"{API}/vision/events",
        params={"start": "2026-11-20T10:00:00Z", "end": "2026-11-20T09:00:00Z"},
        headers=sup,
    )
    assert resp.status_code == 422


def test_open_only_lists_findings_without_an_end(client, db, world):
    eid = uuid.uuid4()
    post(client, world.worker_a, events=[event(id=eid), event(zone="till-2")])
    post(client, world.worker_a, events=[event("end", id=eid, end=T0 + timedelta(seconds=9))])
    page = client.get(
        f"{API}/vision/events", params={"open_only": True}, headers=world.headers["sup-a"]
    ).json()
    assert [e["zone"] for e in page["items"]] == ["till-2"]
    closed = client.get(f"{API}/vision/events", headers=world.headers["sup-a"]).json()
    ended = next(e for e in closed["items"] if e["id"] == str(eid))
    assert ended["duration_s"] == 9.0 and ended["open"] is False


def test_who_reads_findings(client, world):
    _findings(client, world)
    hr = client.get(f"{API}/vision/events", headers=world.headers["hr-r1"])
    assert hr.status_code == 200 and hr.json()["total"] == 3  # region R1 is outlet A
    for name in ("auditor", "clerk"):
        for path in ("/vision/events", "/vision/live", "/vision/cameras/health"):
            assert client.get(API + path, headers=world.headers[name]).status_code == 403
    assert client.get(f"{API}/vision/events", headers=world.worker_a).status_code == 403


def test_queue_samples_time_series(client, db, world, clock):
    ts = [T0 + timedelta(seconds=2 * i) for i in range(5)]
    post(client, world.worker_a, samples=[sample(t, i) for i, t in enumerate(ts)])
    post(client, world.worker_b, samples=[sample(T0, 8, camera="cam-b")])
    clock.advance(minutes=1)
    sup = world.headers["sup-a"]
    resp = client.get(f"{API}/vision/queue-samples", params={"outlet_id": world.a.id}, headers=sup)
    assert resp.status_code == 200, resp.text
    page = resp.json()
    assert [s["count"] for s in page["items"]] == [0, 1, 2, 3, 4]
    assert page["end"] == "2026-11-20T09:01:00Z" and page["start"] == "2026-11-19T09:01:00Z"
    ranged = client.get(
        f"{API}/vision/queue-samples",
        params={
            "counter_id": world.c1.id,
            "zone": "queue-1",
            "start": iso(ts[1]),
            "end": iso(ts[3]),
            "limit": 10,
        },
        headers=sup,
    ).json()
    assert [s["count"] for s in ranged["items"]] == [1, 2]
    limited = client.get(
        f"{API}/vision/queue-samples", params={"outlet_id": world.a.id, "limit": 2}, headers=sup
    ).json()
    assert (len(limited["items"]), limited["total"]) == (2, 5)

    for params, status in (
        ({"outlet_id": world.b.id}, 404),
        ({"counter_id": world.cb.id}, 404),
        ({}, 422),
        ({"outlet_id": world.a.id, "start": "2026-10-01T00:00:00Z", "end": iso(T0)}, 422),
        ({"outlet_id": world.a.id, "start": "2026-11-20T09:00:00"}, 422),
    ):
        resp = client.get(f"{API}/vision/queue-samples", params=params, headers=sup)
        assert resp.status_code == status, (params, resp.text)
    hr = client.get(
        f"{API}/vision/queue-samples",
        params={"outlet_id": world.a.id},
        headers=world.headers["hr-r1"],
    )
    assert hr.status_code == 200


def test_queue_waits_are_listed_oldest_first_and_scoped(client, db, world, clock):
    base = T0 - timedelta(hours=1)
    post(
        client,
        world.worker_a,
        waits=[
            wait(base + timedelta(minutes=2), 30.0, track=3),  # left at +2:30
            wait(base, 400.0, track=1),  # left at +6:40, over a 300 s SLA
            wait(base + timedelta(minutes=1), 20.0, track=2),  # left at +1:20
        ],
    )
    post(client, world.worker_b, waits=[wait(base, camera="cam-b")])
    clock.advance(minutes=1)
    sup = world.headers["sup-a"]
    resp = client.get(f"{API}/vision/waits", params={"outlet_id": world.a.id}, headers=sup)
    assert resp.status_code == 200, resp.text
    page = resp.json()
    assert [w["track_id"] for w in page["items"]] == [2, 3, 1]
    assert page["total"] == 3 and (page["limit"], page["offset"]) == (1000, 0)
    assert page["end"] == "2026-11-20T09:01:00Z" and page["start"] == "2026-11-19T09:01:00Z"
    over = page["items"][2]
    assert isinstance(over.pop("id"), int)
    assert over == {
        "camera_id": "cam-a",
        "zone": "queue-1",
        "counter_id": world.c1.id,
        "outlet_id": world.a.id,
        "track_id": 1,
        "joined_at": "2026-11-20T08:00:00Z",
        "left_at": "2026-11-20T08:06:40Z",
        "wait_s": 400.0,
        "sla_s": 300.0,
        "within_sla": False,
    }
    # The window selects by left_at: [start, end).
    ranged = client.get(
        f"{API}/vision/waits",
        params={
            "counter_id": world.c1.id,
            "start": iso(base + timedelta(minutes=2, seconds=30)),
            "end": iso(base + timedelta(minutes=6, seconds=40)),
        },
        headers=sup,
    ).json()
    assert [w["track_id"] for w in ranged["items"]] == [3]
    limited = client.get(
        f"{API}/vision/waits",
        params={"outlet_id": world.a.id, "limit": 2, "offset": 1},
        headers=sup,
    ).json()
    assert ([w["track_id"] for w in limited["items"]], limited["total"]) == ([3, 1], 3)
    other_counter = client.get(
        f"{API}/vision/waits", params={"counter_id": world.c2.id}, headers=sup
    ).json()
    assert other_counter["items"] == []

    for params, status in (
        ({"outlet_id": world.b.id}, 404),
        ({"counter_id": world.cb.id}, 404),
        ({"outlet_id": 999999}, 404),
        ({}, 422),
        ({"outlet_id": world.a.id, "start": "2026-10-01T00:00:00Z", "end": iso(T0)}, 422),
        ({"outlet_id": world.a.id, "start": iso(T0), "end": iso(base)}, 422),
        ({"outlet_id": world.a.id, "start": "2026-11-20T09:00:00"}, 422),
    ):
        resp = client.get(f"{API}/vision/waits", params=params, headers=sup)
        assert resp.status_code == status, (params, resp.text)
    hr = client.get(
        f"{API}/vision/waits", params={"outlet_id": world.a.id}, headers=world.headers["hr-r1"]
    )
    assert hr.status_code == 200 and hr.json()["total"] == 3
    admin = client.get(
        f"{API}/vision/waits", params={"outlet_id": world.b.id}, headers=world.headers["admin"]
    ).json()
    assert [(w["camera_id"], w["counter_id"]) for w in admin["items"]] == [("cam-b", world.cb.id)]
    for who in (world.headers["auditor"], world.headers["clerk"], world.worker_a):
        resp = client.get(f"{API}/vision/waits", params={"outlet_id": world.a.id}, headers=who)
        assert resp.status_code == 403


def test_camera_health_lists_cameras_in_scope_worst_first(client, db, world, clock):
    quiet = f.camera(db, world.a, "cam-a-quiet")
    f.camera(db, world.a, "cam-a-off", active=False)
    db.commit()
    post(client, world.worker_a, health=[health(T0, achieved=1.0)])
    resp = client.get(f"{API}/vision/cameras/health", headers=world.headers["sup-a"])
    assert resp.status_code == 200, resp.text
    rows = resp.json()
    assert [r["camera_code"] for r in rows] == ["cam-a-quiet", "cam-a"]
    assert rows[0]["camera_id"] == quiet.id
    assert (rows[0]["reported"], rows[0]["online"]) == (False, None)
    assert (rows[1]["behind"], rows[1]["achieved_fps"], rows[1]["configured_fps"]) == (
        True,
        1.0,
        2.0,
    )
    admin = client.get(
        f"{API}/vision/cameras/health",
        params={"outlet_id": world.b.id},
        headers=world.headers["admin"],
    ).json()
    assert [r["camera_code"] for r in admin] == ["cam-b"]
    resp = client.get(
        f"{API}/vision/cameras/health",
        params={"outlet_id": world.b.id},
        headers=world.headers["sup-a"],
    )
    assert resp.status_code == 404


def test_a_camera_with_findings_is_kept_its_live_rows_go_with_it(client, db, world):
    """Findings and samples are history (the camera can only be deactivated); live states and
    health are deleted with the camera."""
    post(client, world.worker_a, states=[state(T0, "attended", T0)], health=[health(T0)])
    resp = client.delete(f"{API}/cameras/{world.cam_a.id}", headers=world.headers["admin"])
    assert resp.status_code == 204, resp.text
    assert db.scalar(select(func.count()).select_from(ZoneState)) == 0
    assert db.scalar(select(func.count()).select_from(CameraHealth)) == 0
    resp = post(client, world.worker_b, samples=[sample(T0, camera="cam-b")])
    assert resp.status_code == 200, resp.text
    resp = client.delete(f"{API}/cameras/{world.cam_b.id}", headers=world.headers["admin"])
    assert resp.status_code == 409
