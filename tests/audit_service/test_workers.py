"""Vision worker accounts: API tokens (issue, rotate, revoke), no password login, and a worker's
world limited to its own cameras."""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from audit_service.core.security import mint_access_token
from audit_service.models import ApiToken, Camera, Outlet, Role, User, UserSession
from tests import factories as f
from tests.conftest import TEST_SECRET

API = "/api/v1"
RTSP = "rtsp://viewer:pw@10.0.0.5:554/stream"


@dataclass
class World:
    outlet_a: Outlet
    outlet_b: Outlet
    cam_a: Camera
    cam_b: Camera
    admin: dict[str, str]


@pytest.fixture
def world(client, db) -> World:
    region = f.region(db)
    a, b = f.outlet(db, region, "A"), f.outlet(db, region, "B")
    till_a, till_b = f.counter(db, a, "T1"), f.counter(db, b, "T1")
    cam_a, cam_b = f.camera(db, a, "cam-a"), f.camera(db, b, "cam-b")
    f.zone(db, cam_a, "till-1", till_a)
    f.zone(db, cam_b, "till-1", till_b)
    f.user(db, "admin", Role.admin)
    f.user(db, "sup", Role.supervisor, outlets=[a])
    db.commit()
    headers = f.login(client, "admin")
    # The stream URL is stored encrypted: set it through the API.
    for cam in (cam_a, cam_b):
        resp = client.patch(f"{API}/cameras/{cam.id}", json={"stream_url": RTSP}, headers=headers)
        assert resp.status_code == 200, resp.text
    return World(a, b, cam_a, cam_b, headers)


def create_worker(client, world: World, username: str = "worker-1", cameras=None) -> dict:
    cameras = [world.cam_a.id] if cameras is None else cameras
    resp = client.post(
        f"{API}/vision/workers",
        json={"username": username, "display_name": "Worker 1", "camera_ids": cameras},
        headers=world.admin,
    )
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_admin_creates_a_worker_and_the_token_works_once_shown(client, db, world):
    body = create_worker(client, world)
    token = body["token"]
    assert token.startswith("alw_") and len(token) > 40
    worker = body["worker"]
    assert worker["username"] == "worker-1"
    assert worker["camera_ids"] == [world.cam_a.id]
    assert worker["cameras"] == [
        {"id": world.cam_a.id, "code": "cam-a", "outlet_id": world.outlet_a.id, "active": True}
    ]
    [tok] = worker["tokens"]
    assert tok["prefix"] == token[:12] and tok["revoked_at"] is None
    # Only the hash is stored.
    row = db.scalar(select(ApiToken))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(client.get(f"{API}/vision/workers", headers=world.admin).json())

    me = client.get(f"{API}/auth/me", headers=f.bearer(token))
    assert me.status_code == 200, me.text
    assert me.json()["role"] == "worker"
    assert me.json()["visible_outlet_ids"] == [world.outlet_a.id]
    assert "vision:ingest" in me.json()["permissions"]


def test_worker_fetches_its_cameras_config_with_outlet_id_and_stream_url(client, world):
    token = create_worker(client, world)["token"]
    resp = client.get(f"{API}/vision/workers/me/cameras", headers=f.bearer(token))
    assert resp.status_code == 200, resp.text
    [cfg] = resp.json()
    assert cfg["camera_id"] == "cam-a"
    assert cfg["source"] == RTSP
    assert cfg["outlet"]["id"] == world.outlet_a.id
    assert [z["id"] for z in cfg["zones"]] == ["till-1"]
    # The same shape as the per-camera config.
    single = client.get(f"{API}/cameras/{world.cam_a.id}/config", headers=f.bearer(token))
    assert single.status_code == 200
    assert single.json() == cfg


def test_worker_sees_only_its_own_cameras(client, db, world):
    token = create_worker(client, world)["token"]
    h = f.bearer(token)
    other_same_outlet = f.camera(db, world.outlet_a, "cam-a2")
    db.commit()
    for cam in (world.cam_b, other_same_outlet):
        assert client.get(f"{API}/cameras/{cam.id}/config", headers=h).status_code == 404
        assert client.get(f"{API}/cameras/{cam.id}", headers=h).status_code == 404
    assert [c["code"] for c in client.get(f"{API}/cameras", headers=h).json()] == ["cam-a"]
    listed = client.get(f"{API}/outlets/{world.outlet_a.id}/cameras", headers=h).json()
    assert [c["code"] for c in listed] == ["cam-a"]
    # Its outlet's other objects stay out of reach: no org or staff permissions.
    assert client.get(f"{API}/outlets/{world.outlet_a.id}", headers=h).status_code == 403


def test_worker_cannot_log_in_with_a_password(client, db, world):
    create_worker(client, world)
    for password in ("!worker-account-has-no-password", f.PASSWORD):
        resp = client.post(f"{API}/auth/token", data={"username": "worker-1", "password": password})
        assert resp.status_code == 401, resp.text
    # Even with a usable hash stored behind the API's back, the role keeps it out.
    user = db.scalar(select(User).where(User.username == "worker-1"))
    user.password_hash = f._password_hash(f.PASSWORD)
    db.commit()
    resp = client.post(f"{API}/auth/token", data={"username": "worker-1", "password": f.PASSWORD})
    assert resp.status_code == 401


def test_a_jwt_for_a_worker_account_is_refused(client, db, world, clock):
    create_worker(client, world)
    user = db.scalar(select(User).where(User.username == "worker-1"))
    session = UserSession(
        user_id=user.id,
        refresh_token_hash=uuid.uuid4().hex,
        expires_at=clock() + timedelta(days=1),
        created_at=clock(),
        last_used_at=clock(),
    )
    db.add(session)
    db.commit()
    token, _ = mint_access_token(
        TEST_SECRET, user_id=user.id, session_id=session.id, ttl_s=900, now=clock()
    )
    resp = client.get(f"{API}/auth/me", headers=f.bearer(token))
    assert resp.status_code == 401
    assert "API token" in resp.json()["detail"]


def test_worker_token_cannot_use_admin_or_read_routes(client, world):
    h = f.bearer(create_worker(client, world)["token"])
    for method, path in (
        ("GET", "/vision/workers"),
        ("POST", f"/vision/workers/{world.cam_a.id}/tokens"),
        ("GET", "/users"),
        ("GET", "/vision/live"),
        ("GET", "/vision/events"),
        ("POST", f"/evidence/{uuid.uuid4()}/view-url"),
    ):
        resp = client.request(method, API + path, headers=h, json={"purpose": "looking around"})
        assert resp.status_code == 403, (method, path, resp.text)
    assert (
        client.post(
            f"{API}/auth/password",
            headers=h,
            json={"current_password": "x", "new_password": "long-enough-password"},
        ).status_code
        == 403
    )


def test_unknown_and_revoked_tokens_are_401(client, world):
    resp = client.get(f"{API}/auth/me", headers=f.bearer("alw_not-a-real-token"))
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"] == "Bearer"
    body = create_worker(client, world)
    token, wid = body["token"], body["worker"]["id"]
    resp = client.delete(f"{API}/vision/workers/{wid}/tokens", headers=world.admin)
    assert resp.status_code == 204
    resp = client.get(f"{API}/vision/workers/me/cameras", headers=f.bearer(token))
    assert resp.status_code == 401
    assert resp.json()["detail"].startswith("token revoked")
    [tok] = client.get(f"{API}/vision/workers", headers=world.admin).json()[0]["tokens"]
    assert tok["revoked_at"] is not None


def test_rotating_issues_a_new_token_and_revokes_the_old(client, world, clock):
    body = create_worker(client, world)
    old, wid = body["token"], body["worker"]["id"]
    clock.advance(minutes=1)
    resp = client.post(
        f"{API}/vision/workers/{wid}/tokens", json={"name": "host-2"}, headers=world.admin
    )
    assert resp.status_code == 201, resp.text
    new = resp.json()["token"]
    assert new != old and new.startswith("alw_")
    tokens = resp.json()["worker"]["tokens"]
    assert [t["name"] for t in tokens] == ["host-2", ""]  # newest first
    assert tokens[0]["revoked_at"] is None and tokens[1]["revoked_at"] is not None
    assert client.get(f"{API}/auth/me", headers=f.bearer(old)).status_code == 401
    assert client.get(f"{API}/auth/me", headers=f.bearer(new)).status_code == 200
    # A body is optional.
    again = client.post(f"{API}/vision/workers/{wid}/tokens", headers=world.admin)
    assert again.status_code == 201, again.text
    assert client.get(f"{API}/auth/me", headers=f.bearer(new)).status_code == 401


def test_last_used_at_is_recorded(client, world, clock):
    body = create_worker(client, world)
    assert body["worker"]["tokens"][0]["last_used_at"] is None
    clock.advance(minutes=5)
    client.get(f"{API}/auth/me", headers=f.bearer(body["token"]))
    [w] = client.get(f"{API}/vision/workers", headers=world.admin).json()
    assert w["tokens"][0]["last_used_at"] == clock.now.isoformat().replace("+00:00", "Z")


def test_reassigning_cameras_changes_what_the_worker_reaches(client, world):
    body = create_worker(client, world)
    h, wid = f.bearer(body["token"]), body["worker"]["id"]
    resp = client.put(
        f"{API}/vision/workers/{wid}/cameras",
        json={"camera_ids": [world.cam_b.id]},
        headers=world.admin,
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["camera_ids"] == [world.cam_b.id]
    assert client.get(f"{API}/cameras/{world.cam_a.id}/config", headers=h).status_code == 404
    assert client.get(f"{API}/cameras/{world.cam_b.id}/config", headers=h).status_code == 200
    me = client.get(f"{API}/auth/me", headers=h).json()
    assert me["visible_outlet_ids"] == [world.outlet_b.id]
    user = client.get(f"{API}/users/{wid}", headers=world.admin).json()
    assert (user["scope_kind"], user["outlet_ids"]) == ("outlets", [world.outlet_b.id])


def test_unknown_cameras_are_422_naming_the_item_and_nothing_changes(client, world):
    resp = client.post(
        f"{API}/vision/workers",
        json={"username": "worker-1", "camera_ids": [world.cam_a.id, 999_999]},
        headers=world.admin,
    )
    assert resp.status_code == 422
    assert resp.json()["field"] == "camera_ids[1]"
    assert client.get(f"{API}/vision/workers", headers=world.admin).json() == []

    wid = create_worker(client, world)["worker"]["id"]
    resp = client.put(
        f"{API}/vision/workers/{wid}/cameras", json={"camera_ids": [999_999]}, headers=world.admin
    )
    assert resp.status_code == 422
    [w] = client.get(f"{API}/vision/workers", headers=world.admin).json()
    assert w["camera_ids"] == [world.cam_a.id]


def test_worker_routes_404_for_non_workers_and_unknown_ids(client, db, world):
    sup = db.scalar(select(User).where(User.username == "sup"))
    for method in ("POST", "DELETE"):
        resp = client.request(method, f"{API}/vision/workers/{sup.id}/tokens", headers=world.admin)
        assert resp.status_code == 404, resp.text
    resp = client.put(
        f"{API}/vision/workers/999999/cameras", json={"camera_ids": []}, headers=world.admin
    )
    assert resp.status_code == 404


def test_duplicate_username_is_409(client, world):
    create_worker(client, world)
    resp = client.post(f"{API}/vision/workers", json={"username": "admin"}, headers=world.admin)
    assert resp.status_code == 409


def test_user_admin_routes_cannot_make_or_unmake_workers(client, db, world):
    wid = create_worker(client, world)["worker"]["id"]
    resp = client.post(
        f"{API}/users",
        json={"username": "sneaky", "password": "long-enough-pass", "role": "worker"},
        headers=world.admin,
    )
    assert resp.status_code == 422 and resp.json()["field"] == "role"
    sup = db.scalar(select(User).where(User.username == "sup"))
    for uid, role in ((sup.id, "worker"), (wid, "admin")):
        resp = client.patch(f"{API}/users/{uid}", json={"role": role}, headers=world.admin)
        assert resp.status_code == 422, resp.text
    resp = client.post(
        f"{API}/users/{wid}/reset-password",
        json={"new_password": "long-enough-pass"},
        headers=world.admin,
    )
    assert resp.status_code == 422


def test_a_deactivated_worker_is_locked_out(client, world):
    body = create_worker(client, world)
    h = f.bearer(body["token"])
    resp = client.patch(
        f"{API}/users/{body['worker']['id']}", json={"active": False}, headers=world.admin
    )
    assert resp.status_code == 200, resp.text
    assert client.get(f"{API}/auth/me", headers=h).status_code == 401


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 30)).save(buf, "PNG")
    return buf.getvalue()


def test_worker_uploads_snapshots_for_its_outlet_only(client, world):
    token = create_worker(client, world)["token"]
    h = f.bearer(token)
    [cfg] = client.get(f"{API}/vision/workers/me/cameras", headers=h).json()
    data = _png()
    digest = hashlib.sha256(data).hexdigest()
    ticket = client.post(
        f"{API}/evidence/uploads",
        headers=h,
        json={
            "outlet_id": cfg["outlet"]["id"],
            "sha256": digest,
            "size_bytes": len(data),
            "content_type": "image/png",
        },
    )
    assert ticket.status_code == 200, ticket.text
    put = client.put(ticket.json()["upload_url"], content=data, headers=ticket.json()["headers"])
    assert put.status_code == 200, put.text
    done = client.post(
        f"{API}/evidence/uploads/complete",
        headers=h,
        json={"outlet_id": cfg["outlet"]["id"], "sha256": digest, "source": "camera:cam-a"},
    )
    assert done.status_code == 201, done.text
    other = client.post(
        f"{API}/evidence/uploads",
        headers=h,
        json={
            "outlet_id": world.outlet_b.id,
            "sha256": digest,
            "size_bytes": len(data),
            "content_type": "image/png",
        },
    )
    assert other.status_code == 404
