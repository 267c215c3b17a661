"""Cameras and zones: CRUD, the secret stream URL, zone validation, scope, worker config."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, text

from audit_service.core.security import decrypt_secret
from audit_service.models import Camera, Counter, Outlet, OutletHoursException, Zone
from tests import factories as f
from tests.conftest import TEST_SECRET

API = "/api/v1"
RTSP = "rtsp://viewer:s3cr3t-pw@10.7.0.12:554/Streaming/Channels/102"

TILL_POLYGON = [[0.1, 0.2], [0.4, 0.2], [0.4, 0.6], [0.1, 0.6]]
QUEUE_POLYGON = [[0.5, 0.5], [0.9, 0.5], [0.9, 0.95], [0.5, 0.95]]


@dataclass
class World:
    outlet_a: Outlet
    outlet_b: Outlet
    till_a: Counter
    desk_a: Counter
    till_b: Counter


def world(db) -> World:
    """Outlets A and B with counters, and one account per role (supervisor scoped to A)."""
    region = f.region(db)
    a = f.outlet(db, region, "A")
    b = f.outlet(db, region, "B")
    till_a, desk_a = f.counter(db, a, "T1"), f.counter(db, a, "D1")
    till_b = f.counter(db, b, "T1")
    f.user(db, "admin", f.Role.admin)
    f.user(db, "admin_a", f.Role.admin, outlets=[a])
    f.user(db, "sup_a", f.Role.supervisor, outlets=[a])
    f.user(db, "auditor", f.Role.auditor)
    f.user(db, "hr", f.Role.hr)
    f.user(db, "clerk", f.Role.staff, staff_=f.staff(db, a))
    db.commit()
    return World(a, b, till_a, desk_a, till_b)


def camera_body(outlet: Outlet, code: str = "outlet-a-cam-1", **over: Any) -> dict[str, Any]:
    return {"outlet_id": outlet.id, "code": code, "name": "Counter hall", **over}


def create_camera(
    client, headers, outlet: Outlet, code: str = "outlet-a-cam-1", **over: Any
) -> dict[str, Any]:
    resp = client.post(f"{API}/cameras", json=camera_body(outlet, code, **over), headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


def good_zones(w: World) -> list[dict[str, Any]]:
    return [
        {"code": "till-1", "kind": "counter", "counter_id": w.till_a.id, "polygon": TILL_POLYGON},
        {
            "code": "q1",
            "kind": "queue",
            "counter_id": w.till_a.id,
            "polygon": QUEUE_POLYGON,
            "max_queue": 8,
        },
    ]


def put_zones(client, headers, camera_id: int, zones: list[dict[str, Any]]):
    return client.put(f"{API}/cameras/{camera_id}/zones", json=zones, headers=headers)


# ---------------------------------------------------------------- CRUD


def test_camera_crud_with_defaults(client, db):
    w = world(db)
    admin = f.login(client, "admin")
    cam = create_camera(client, admin, w.outlet_a)
    assert cam["outlet_id"] == w.outlet_a.id
    assert cam["code"] == "outlet-a-cam-1"
    assert cam["analysis_fps"] == 2
    assert cam["blur_faces"] is True
    assert cam["active"] is True
    assert cam["model_options"] == {"imgsz": 640, "conf": 0.25, "iou": 0.7, "backend": "torch"}
    assert cam["stream_url"] is None
    assert cam["has_stream_url"] is False

    got = client.get(f"{API}/cameras/{cam['id']}", headers=admin)
    assert got.status_code == 200, got.text
    assert got.json() == cam

    create_camera(client, admin, w.outlet_b, "outlet-b-cam-1")
    listed = client.get(f"{API}/cameras", headers=admin).json()
    assert [c["code"] for c in listed] == ["outlet-a-cam-1", "outlet-b-cam-1"]
    by_outlet = client.get(f"{API}/cameras", params={"outlet_id": w.outlet_b.id}, headers=admin)
    assert [c["code"] for c in by_outlet.json()] == ["outlet-b-cam-1"]
    nested = client.get(f"{API}/outlets/{w.outlet_a.id}/cameras", headers=admin)
    assert [c["code"] for c in nested.json()] == ["outlet-a-cam-1"]

    patched = client.patch(
        f"{API}/cameras/{cam['id']}",
        headers=admin,
        json={
            "name": "Hall east",
            "analysis_fps": 5,
            "blur_faces": False,
            "active": False,
            "model_options": {"conf": 0.4, "backend": "onnx"},
        },
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["name"], body["analysis_fps"], body["blur_faces"], body["active"]) == (
        "Hall east",
        5,
        False,
        False,
    )
    # model_options merge: imgsz and iou keep their values.
    assert body["model_options"] == {"imgsz": 640, "conf": 0.4, "iou": 0.7, "backend": "onnx"}
    inactive = client.get(f"{API}/cameras", params={"active": "false"}, headers=admin).json()
    assert [c["code"] for c in inactive] == ["outlet-a-cam-1"]

    assert put_zones(client, admin, cam["id"], good_zones(w)).status_code == 200
    deleted = client.delete(f"{API}/cameras/{cam['id']}", headers=admin)
    assert deleted.status_code == 204, deleted.text
    assert client.get(f"{API}/cameras/{cam['id']}", headers=admin).status_code == 404
    assert [c["code"] for c in client.get(f"{API}/cameras", headers=admin).json()] == [
        "outlet-b-cam-1"
    ]
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Zone)) == 0


def test_camera_code_is_unique_and_outlet_cannot_change(client, db):
    w = world(db)
    admin = f.login(client, "admin")
    first = create_camera(client, admin, w.outlet_a, "cam-1")
    second = create_camera(client, admin, w.outlet_a, "cam-2")
    dup = client.post(f"{API}/cameras", json=camera_body(w.outlet_b, "cam-1"), headers=admin)
    assert dup.status_code == 409, dup.text
    assert "cam-1" in dup.json()["detail"]
    renamed = client.patch(f"{API}/cameras/{second['id']}", json={"code": "cam-1"}, headers=admin)
    assert renamed.status_code == 409, renamed.text
    move = client.patch(
        f"{API}/cameras/{first['id']}", json={"outlet_id": w.outlet_b.id}, headers=admin
    )
    assert move.status_code == 422, move.text
    assert "outlet_id" in move.json()["detail"]
    assert client.get(f"{API}/cameras/{first['id']}", headers=admin).json()["outlet_id"] == (
        w.outlet_a.id
    )


@pytest.mark.parametrize(
    ("over", "field", "needle"),
    [
        ({"analysis_fps": 0}, "body.analysis_fps", "greater than 0"),
        ({"analysis_fps": 31}, "body.analysis_fps", "less than or equal to 30"),
        (
            {"model_options": {"imgsz": 640, "weights": "x.pt"}},
            "body.model_options.weights",
            "Extra inputs",
        ),
        (
            {"model_options": {"imgsz": 100}},
            "body.model_options.imgsz",
            "multiple of 32 (the model stride), e.g. 96",
        ),
        ({"model_options": {"conf": 1.5}}, "body.model_options.conf", "less than 1"),
        ({"model_options": {"backend": "tensorrt"}}, "body.model_options.backend", "torch"),
        ({"stream_url": "rtsp//admin:Zq9secret@10.0.0.1/live"}, "body.stream_url", "rtsp://"),
        ({"code": "bad code!"}, "body.code", "pattern"),
    ],
)
def test_camera_fields_are_validated(client, db, over, field, needle):
    w = world(db)
    admin = f.login(client, "admin")
    resp = client.post(f"{API}/cameras", json=camera_body(w.outlet_a, **over), headers=admin)
    assert resp.status_code == 422, resp.text
    fields = {e["field"]: e["message"] for e in resp.json()["fields"]}
    assert field in fields, fields
    assert needle in fields[field]
    assert "Zq9secret" not in resp.text  # a stream URL is never echoed
    assert client.get(f"{API}/cameras", headers=admin).json() == []


def test_out_of_range_ids_are_422(client, db):
    w = world(db)
    admin = f.login(client, "admin")
    assert client.get(f"{API}/cameras/{2**40}", headers=admin).status_code == 422
    body = camera_body(w.outlet_a) | {"outlet_id": 2**40}
    assert client.post(f"{API}/cameras", json=body, headers=admin).status_code == 422
    cam = create_camera(client, admin, w.outlet_a)
    zones = good_zones(w)
    zones[0]["counter_id"] = 2**40
    assert put_zones(client, admin, cam["id"], zones).status_code == 422


# ---------------------------------------------------------------- the secret stream URL


def test_stream_url_shown_to_admin_hidden_from_supervisor(client, db):
    w = world(db)
    admin, sup = f.login(client, "admin"), f.login(client, "sup_a")
    cam = create_camera(client, admin, w.outlet_a, stream_url=RTSP)
    assert cam["stream_url"] == RTSP
    assert cam["has_stream_url"] is True
    assert client.get(f"{API}/cameras/{cam['id']}", headers=admin).json()["stream_url"] == RTSP

    seen = client.get(f"{API}/cameras/{cam['id']}", headers=sup)
    assert seen.status_code == 200, seen.text
    assert seen.json()["stream_url"] is None
    assert seen.json()["has_stream_url"] is True
    listed = client.get(f"{API}/cameras", headers=sup)
    assert [(c["stream_url"], c["has_stream_url"]) for c in listed.json()] == [(None, True)]
    assert "s3cr3t" not in listed.text
    config = client.get(f"{API}/cameras/{cam['id']}/config", headers=sup)
    assert config.status_code == 200, config.text
    assert config.json()["source"] is None
    assert "s3cr3t" not in config.text
    admin_config = client.get(f"{API}/cameras/{cam['id']}/config", headers=admin)
    assert admin_config.json()["source"] == RTSP


def test_supervisor_cannot_write_cameras(client, db):
    w = world(db)
    admin, sup = f.login(client, "admin"), f.login(client, "sup_a")
    cam = create_camera(client, admin, w.outlet_a)
    attempts = [
        client.post(f"{API}/cameras", json=camera_body(w.outlet_a, "cam-9"), headers=sup),
        client.patch(f"{API}/cameras/{cam['id']}", json={"name": "x"}, headers=sup),
        put_zones(client, sup, cam["id"], good_zones(w)),
        client.delete(f"{API}/cameras/{cam['id']}", headers=sup),
    ]
    assert [r.status_code for r in attempts] == [403, 403, 403, 403]
    assert "camera:write" in attempts[0].json()["detail"]
    after = client.get(f"{API}/cameras/{cam['id']}", headers=admin).json()
    assert after["name"] == cam["name"]
    assert client.get(f"{API}/cameras/{cam['id']}/zones", headers=admin).json() == []


def _raw_stream_column(db, camera_id: int) -> str | None:
    db.expire_all()
    return db.execute(
        text("SELECT stream_url_encrypted FROM cameras WHERE id = :id"), {"id": camera_id}
    ).scalar_one()


def test_stream_url_is_stored_encrypted(client, db):
    w = world(db)
    admin = f.login(client, "admin")
    cam = create_camera(client, admin, w.outlet_a, stream_url=RTSP)
    raw = _raw_stream_column(db, cam["id"])
    assert raw and raw != RTSP
    assert "s3cr3t" not in raw and "10.7.0.12" not in raw
    assert decrypt_secret(TEST_SECRET, raw) == RTSP

    other = "rtsps://ops:n3w-pass@10.7.0.13/live"
    patched = client.patch(f"{API}/cameras/{cam['id']}", json={"stream_url": other}, headers=admin)
    assert patched.json()["stream_url"] == other
    raw = _raw_stream_column(db, cam["id"])
    assert "n3w-pass" not in raw and decrypt_secret(TEST_SECRET, raw) == other

    # Leaving stream_url out keeps it; null removes it.
    kept = client.patch(f"{API}/cameras/{cam['id']}", json={"name": "n"}, headers=admin)
    assert kept.json()["stream_url"] == other
    cleared = client.patch(f"{API}/cameras/{cam['id']}", json={"stream_url": None}, headers=admin)
    assert cleared.json()["stream_url"] is None
    assert cleared.json()["has_stream_url"] is False
    assert _raw_stream_column(db, cam["id"]) is None


# ---------------------------------------------------------------- zones


def test_zones_put_get_defaults_and_round_trip(client, db):
    w = world(db)
    admin, sup = f.login(client, "admin"), f.login(client, "sup_a")
    cam = create_camera(client, admin, w.outlet_a)
    resp = put_zones(client, admin, cam["id"], good_zones(w))
    assert resp.status_code == 200, resp.text
    expected = [
        {
            "code": "q1",
            "kind": "queue",
            "counter_id": w.till_a.id,
            "polygon": QUEUE_POLYGON,
            "anchor": "bottom_center",
            "min_presence_s": None,
            "unattended_after_s": None,
            "max_queue": 8,
            "wait_sla_s": 600.0,
        },
        {
            "code": "till-1",
            "kind": "counter",
            "counter_id": w.till_a.id,
            "polygon": TILL_POLYGON,
            "anchor": "center",
            "min_presence_s": 2.0,
            "unattended_after_s": 60.0,
            "max_queue": None,
            "wait_sla_s": None,
        },
    ]
    assert resp.json() == expected
    got = client.get(f"{API}/cameras/{cam['id']}/zones", headers=sup)
    assert got.status_code == 200, got.text
    assert got.json() == expected

    # What GET returns can be PUT back unchanged.
    again = put_zones(client, admin, cam["id"], got.json())
    assert again.status_code == 200, again.text
    assert again.json() == expected

    db.expire_all()
    till_id = db.scalar(select(Zone.id).where(Zone.code == "till-1"))
    # Replacing the set: q1 goes, q2 comes, till-1 changes and keeps its row.
    new_set = [
        {
            "code": "till-1",
            "kind": "counter",
            "counter_id": w.desk_a.id,
            "polygon": TILL_POLYGON,
            "anchor": "bottom_center",
            "min_presence_s": 0,
            "unattended_after_s": 120,
        },
        {
            "code": "q2",
            "kind": "queue",
            "counter_id": w.desk_a.id,
            "polygon": QUEUE_POLYGON,
            "wait_sla_s": 300,
        },
    ]
    replaced = put_zones(client, admin, cam["id"], new_set)
    assert replaced.status_code == 200, replaced.text
    assert [(z["code"], z["counter_id"], z["anchor"]) for z in replaced.json()] == [
        ("q2", w.desk_a.id, "bottom_center"),
        ("till-1", w.desk_a.id, "bottom_center"),
    ]
    assert replaced.json()[0]["max_queue"] == 5
    assert replaced.json()[0]["wait_sla_s"] == 300
    assert replaced.json()[1]["min_presence_s"] == 0
    assert replaced.json()[1]["unattended_after_s"] == 120
    db.expire_all()
    rows = db.scalars(select(Zone).order_by(Zone.code)).all()
    assert [z.code for z in rows] == ["q2", "till-1"]
    assert rows[1].id == till_id

    emptied = put_zones(client, admin, cam["id"], [])
    assert emptied.status_code == 200 and emptied.json() == []


def _bad(w: World, which: int, **change: Any) -> list[dict[str, Any]]:
    """A payload that also alters the other (valid) zone, so a partial apply would show."""
    zones = good_zones(w)
    zones[1 - which]["polygon"] = [[0.0, 0.0], [0.3, 0.0], [0.3, 0.3]]
    zones.append(
        {"code": "extra", "kind": "queue", "counter_id": w.desk_a.id, "polygon": QUEUE_POLYGON}
    )
    zones[which].update(change)
    return zones


ZONE_ERRORS = [
    pytest.param(
        0,
        {"polygon": [[0.1, 0.1], [0.5, 0.5]]},
        "body.0.polygon",
        "zone 'till-1': polygon needs at least 3 points, got 2",
        id="two-points",
    ),
    pytest.param(
        1,
        {"polygon": [[0.5, 0.5], [1.4, 0.5], [0.9, 0.9]]},
        "body.1.polygon",
        "zone 'q1': polygon point 2 has x=1.4; relative coordinates must be within 0-1",
        id="outside-0-1",
    ),
    pytest.param(
        1,
        {"polygon": [[0.5, 0.5], [0.6, -0.2], [0.9, 0.9]]},
        "body.1.polygon",
        "zone 'q1': polygon point 2 has y=-0.2",
        id="negative",
    ),
    pytest.param(
        0,
        {"polygon": [[0.1, 0.1], [0.5, 0.5], [0.5, 0.1], [0.1, 0.5]]},
        "body.0.polygon",
        "zone 'till-1': polygon is self-intersecting: edges 1-2 and 3-4 cross",
        id="bowtie",
    ),
    pytest.param(
        0,
        {"polygon": [[0.1, 0.1], [0.2, 0.2], [0.3, 0.3], [0.4, 0.4]]},
        "body.0.polygon",
        "zone 'till-1': polygon has zero area",
        id="collinear",
    ),
    pytest.param(
        0,
        {"polygon": [[0.1, 0.1], [0.5, 0.1], [0.1, 0.1], [0.1, 0.5]]},
        "body.0.polygon",
        "zone 'till-1': polygon point 3 repeats point 1",
        id="repeated-point",
    ),
    pytest.param(
        0,
        {
            "polygon": [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5], [0.1, 0.5]]
            + [[0.1, 0.5 - i * 0.006] for i in range(1, 62)]
        },
        "body.0.polygon",
        "zone 'till-1': polygon has 65 points; at most 64",
        id="too-many-points",
    ),
    pytest.param(
        0,
        {"polygon": [[0.1, 0.1, 0.3], [0.5, 0.1], [0.5, 0.5]]},
        "body.0.polygon",
        "zone 'till-1': polygon point 1 must be [x, y], got 3 numbers",
        id="three-coordinates",
    ),
    pytest.param(
        0,
        {"min_presence_s": -1},
        "body.0.min_presence_s",
        "zone 'till-1': min_presence_s must be between 0 and 600 seconds, got -1",
        id="negative-presence",
    ),
    pytest.param(
        0,
        {"unattended_after_s": 0},
        "body.0.unattended_after_s",
        "zone 'till-1': unattended_after_s must be more than 0",
        id="zero-unattended",
    ),
    pytest.param(
        1,
        {"max_queue": 0},
        "body.1.max_queue",
        "zone 'q1': max_queue must be between 1 and 1000 people, got 0",
        id="zero-queue",
    ),
    pytest.param(
        0,
        {"max_queue": 4},
        "body.0.max_queue",
        "zone 'till-1': max_queue applies only to queue zones",
        id="queue-on-counter",
    ),
    pytest.param(
        1,
        {"unattended_after_s": 30},
        "body.1.unattended_after_s",
        "zone 'q1': unattended_after_s applies only to counter zones",
        id="counter-on-queue",
    ),
    pytest.param(
        1, {"code": "till-1"}, "body", "zone 'till-1' appears more than once", id="duplicate-code"
    ),
]


@pytest.mark.parametrize(("which", "change", "field", "message"), ZONE_ERRORS)
def test_invalid_zones_are_422_and_change_nothing(client, db, which, change, field, message):
    w = world(db)
    admin = f.login(client, "admin")
    cam = create_camera(client, admin, w.outlet_a)
    before = put_zones(client, admin, cam["id"], good_zones(w))
    assert before.status_code == 200, before.text

    resp = put_zones(client, admin, cam["id"], _bad(w, which, **change))
    assert resp.status_code == 422, resp.text
    assert message in resp.json()["detail"]
    fields = {e["field"]: e["message"] for e in resp.json()["fields"]}
    assert field in fields, fields
    assert message in fields[field]
    after = client.get(f"{API}/cameras/{cam['id']}/zones", headers=admin)
    assert after.json() == before.json()


@pytest.mark.parametrize("counter", ["other-outlet", "unknown"])
def test_zone_counter_must_belong_to_the_cameras_outlet(client, db, counter):
    w = world(db)
    admin = f.login(client, "admin")
    cam = create_camera(client, admin, w.outlet_a)
    before = put_zones(client, admin, cam["id"], good_zones(w))
    assert before.status_code == 200, before.text

    counter_id = w.till_b.id if counter == "other-outlet" else 999_999
    resp = put_zones(client, admin, cam["id"], _bad(w, 1, counter_id=counter_id))
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["field"] == "zones[1].counter_id"
    assert body["detail"].startswith(
        f"zone 'q1': counter_id {counter_id} is not a counter of outlet 'A'"
    )
    after = client.get(f"{API}/cameras/{cam['id']}/zones", headers=admin)
    assert after.json() == before.json()
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Zone)) == 2


# ---------------------------------------------------------------- scope and permissions


def test_scoped_supervisor_sees_only_own_outlets_cameras(client, db):
    w = world(db)
    admin, sup = f.login(client, "admin"), f.login(client, "sup_a")
    cam_a = create_camera(client, admin, w.outlet_a, "cam-a")
    cam_b = create_camera(client, admin, w.outlet_b, "cam-b")
    assert (
        put_zones(
            client,
            admin,
            cam_b["id"],
            [{"code": "t", "kind": "counter", "counter_id": w.till_b.id, "polygon": TILL_POLYGON}],
        ).status_code
        == 200
    )

    assert client.get(f"{API}/cameras/{cam_a['id']}", headers=sup).status_code == 200
    for path in ("", "/zones", "/config"):
        resp = client.get(f"{API}/cameras/{cam_b['id']}{path}", headers=sup)
        assert resp.status_code == 404, (path, resp.text)
        assert resp.json()["detail"] == f"camera {cam_b['id']} not found"
    assert [c["code"] for c in client.get(f"{API}/cameras", headers=sup).json()] == ["cam-a"]
    filtered = client.get(f"{API}/cameras", params={"outlet_id": w.outlet_b.id}, headers=sup)
    assert filtered.status_code == 200 and filtered.json() == []
    nested = client.get(f"{API}/outlets/{w.outlet_b.id}/cameras", headers=sup)
    assert nested.status_code == 404


def test_scoped_writer_cannot_touch_other_outlets(client, db):
    w = world(db)
    admin, admin_a = f.login(client, "admin"), f.login(client, "admin_a")
    cam_b = create_camera(client, admin, w.outlet_b, "cam-b")

    created = client.post(f"{API}/cameras", json=camera_body(w.outlet_b, "cam-x"), headers=admin_a)
    assert created.status_code == 404, created.text
    assert created.json()["detail"] == f"outlet {w.outlet_b.id} not found"
    unknown = client.post(
        f"{API}/cameras",
        json=camera_body(w.outlet_b, "cam-x") | {"outlet_id": 424242},
        headers=admin_a,
    )
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "outlet 424242 not found"

    attempts = [
        client.patch(f"{API}/cameras/{cam_b['id']}", json={"name": "x"}, headers=admin_a),
        put_zones(client, admin_a, cam_b["id"], []),
        client.delete(f"{API}/cameras/{cam_b['id']}", headers=admin_a),
    ]
    assert [r.status_code for r in attempts] == [404, 404, 404]
    assert client.get(f"{API}/cameras/{cam_b['id']}", headers=admin).json()["name"] == (
        "Counter hall"
    )
    assert create_camera(client, admin_a, w.outlet_a, "cam-a")["outlet_id"] == w.outlet_a.id
    db.expire_all()
    assert sorted(db.scalars(select(Camera.code))) == ["cam-a", "cam-b"]


@pytest.mark.parametrize("username", ["auditor", "hr", "clerk"])
def test_roles_without_camera_read_get_403(client, db, username):
    w = world(db)
    admin, caller = f.login(client, "admin"), f.login(client, username)
    cam = create_camera(client, admin, w.outlet_a)
    for path in (
        "/cameras",
        f"/cameras/{cam['id']}",
        f"/cameras/{cam['id']}/zones",
        f"/cameras/{cam['id']}/config",
        f"/outlets/{w.outlet_a.id}/cameras",
    ):
        resp = client.get(f"{API}{path}", headers=caller)
        assert resp.status_code == 403, (path, resp.text)
        assert "camera:read" in resp.json()["detail"]


def test_unauthenticated_is_401(client, db):
    world(db)
    assert client.get(f"{API}/cameras").status_code == 401


# ---------------------------------------------------------------- the worker configuration


def test_config_has_the_vision_worker_shape(client, db, clock):
    w = world(db)
    # 01:00 on 21 November in Shanghai: "today" is the outlet's local date, not UTC's.
    clock.now = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
    for day, closed, intervals in [
        (date(2026, 11, 20), True, []),  # yesterday, locally
        (date(2026, 11, 21), False, [{"opens": "10:00", "closes": "14:00", "extended": False}]),
        (date(2026, 12, 5), True, []),  # the last day covered
        (date(2026, 12, 6), True, []),  # beyond the horizon
    ]:
        db.add(
            OutletHoursException(
                outlet_id=w.outlet_a.id,
                day=day,
                closed=closed,
                intervals=intervals,
                note=f"n{day.day}",
            )
        )
    db.commit()
    admin, sup = f.login(client, "admin"), f.login(client, "sup_a")
    cam = create_camera(
        client,
        admin,
        w.outlet_a,
        "outlet-a-cam-2",
        stream_url=RTSP,
        analysis_fps=4,
        model_options={"imgsz": 960},
    )
    assert put_zones(client, admin, cam["id"], good_zones(w)).status_code == 200

    resp = client.get(f"{API}/cameras/{cam['id']}/config", headers=admin)
    assert resp.status_code == 200, resp.text
    cfg = resp.json()
    assert set(cfg) == {
        "camera_id",
        "active",
        "source",
        "analysis_fps",
        "model_options",
        "blur_faces",
        "outlet",
        "zones",
        "generated_at",
    }
    assert cfg["camera_id"] == "outlet-a-cam-2"
    assert cfg["source"] == RTSP
    assert cfg["active"] is True
    assert cfg["analysis_fps"] == 4
    assert cfg["model_options"] == {"imgsz": 960, "conf": 0.25, "iou": 0.7, "backend": "torch"}
    assert cfg["blur_faces"] is True
    assert datetime.fromisoformat(cfg["generated_at"]) == clock.now

    outlet = cfg["outlet"]
    assert outlet["code"] == "A"
    assert outlet["timezone"] == "Asia/Shanghai"
    assert outlet["opening_hours"]["mon"] == [
        {"opens": "09:00", "closes": "17:00", "extended": False}
    ]
    assert outlet["opening_hours"]["sun"] == []
    assert outlet["hours_until"] == "2026-12-05"
    assert [(e["day"], e["closed"]) for e in outlet["hours_exceptions"]] == [
        ("2026-11-21", False),
        ("2026-12-05", True),
    ]
    assert outlet["hours_exceptions"][0]["intervals"] == [
        {"opens": "10:00", "closes": "14:00", "extended": False}
    ]

    assert cfg["zones"] == [
        {
            "id": "q1",
            "kind": "queue",
            "counter": "T1",
            "units": "relative",
            "polygon": QUEUE_POLYGON,
            "anchor": "bottom_center",
            "min_presence_s": None,
            "unattended_after_s": None,
            "max_queue": 8,
            "wait_sla_s": 600.0,
        },
        {
            "id": "till-1",
            "kind": "counter",
            "counter": "T1",
            "units": "relative",
            "polygon": TILL_POLYGON,
            "anchor": "center",
            "min_presence_s": 2.0,
            "unattended_after_s": 60.0,
            "max_queue": None,
            "wait_sla_s": None,
        },
    ]

    sup_cfg = client.get(f"{API}/cameras/{cam['id']}/config", headers=sup).json()
    assert sup_cfg["source"] is None
    assert {k: v for k, v in sup_cfg.items() if k != "source"} == {
        k: v for k, v in cfg.items() if k != "source"
    }
