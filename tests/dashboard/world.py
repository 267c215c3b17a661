"""A demo-style world for the dashboard tests: the real API on a live port, seeded like
``make demo`` (organisation, roster, accounts, checklists, audits), plus camera data posted
through the API as a vision worker would (states, queue samples, findings with a snapshot,
camera health) and one shopper report the cameras contradict (a flagged cross-check).

Everything the dashboard reads goes through HTTP; only the demo seed uses the ORM, as
``auditlens demo`` itself does.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import uvicorn
from PIL import Image, ImageDraw
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from audit_service.app import create_app
from audit_service.config import ServiceSettings
from audit_service.core import migrate
from audit_service.core.clock import system_clock
from audit_service.core.db import make_engine, make_sessionmaker, session_scope
from audit_service.demo.audits import good_answers, seed_audits
from audit_service.demo.seed import DEMO_LOGINS, seed_demo
from audit_service.evidence.store import make_store
from tests.conftest import TEST_SECRET, free_port

PASSWORDS = {x.username: x.password for x in DEMO_LOGINS}
TZ = "Asia/Shanghai"


def jpeg(width: int = 640, height: int = 360, hue: int = 90) -> bytes:
    """A small real JPEG: a counter hall in two colours with a 'person'."""
    image = Image.new("RGB", (width, height), (hue, 120, 160))
    pen = ImageDraw.Draw(image)
    pen.rectangle((0, height // 2, width, height), fill=(200, 190, 170))
    pen.ellipse((width // 5, height // 4, width // 5 + 40, height // 4 + 40), fill=(240, 210, 180))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


class Server:
    """Uvicorn serving the app on ``port`` in a daemon thread."""

    def __init__(self, app: Any, port: int) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", access_log=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the API test server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.server.force_exit = True  # don't wait for idle keep-alive connections
        self.thread.join(timeout=15)


@dataclass
class World:
    backend: str
    url: str
    settings: ServiceSettings
    outlets: dict[str, dict[str, Any]] = field(default_factory=dict)  # by code
    cameras: dict[str, dict[str, Any]] = field(default_factory=dict)  # by code
    facts: dict[str, Any] = field(default_factory=dict)  # what the tests look for
    _pairs: dict[str, dict[str, Any]] = field(default_factory=dict)
    _server: Server | None = None

    # ------------------------------------------------------------ accounts

    def tokens(self, username: str) -> dict[str, Any]:
        """A token pair for a demo login (logged in once per world)."""
        if username not in self._pairs:
            response = httpx.post(
                f"{self.url}/api/v1/auth/token",
                data={"username": username, "password": PASSWORDS[username]},
                timeout=30,
            )
            response.raise_for_status()
            self._pairs[username] = response.json()
        return self._pairs[username]

    def auth(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens(username)['access_token']}"}

    def get(self, username: str, path: str, **params: Any) -> Any:
        response = httpx.get(
            f"{self.url}/api/v1{path}", headers=self.auth(username), params=params, timeout=30
        )
        response.raise_for_status()
        return response.json()

    def post(
        self, username: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Any:
        response = httpx.post(
            f"{self.url}/api/v1{path}",
            headers={**self.auth(username), **(headers or {})},
            json=body,
            timeout=30,
        )
        assert response.status_code < 300, response.text
        return response.json()

    # ------------------------------------------------------------ camera data

    def zones(self, camera_code: str) -> dict[str, dict[str, Any]]:
        camera = self.cameras[camera_code]
        return {z["code"]: z for z in self.get("admin", f"/cameras/{camera['id']}/zones")}

    def report_live(self) -> None:
        """Fresh counter states and camera health (the API calls reports older than 300 s
        stale), as a running worker keeps sending them."""
        now = datetime.now(UTC)
        pudong = "sh-pudong-cam-1"
        states = []
        for code, zone in self.zones(pudong).items():
            if zone["kind"] != "counter":
                continue
            unattended = code == "c1-staff"
            states.append(
                {
                    "camera_id": pudong,
                    "zone": code,
                    "state": "unattended" if unattended else "attended",
                    "since": (now - timedelta(minutes=8 if unattended else 60)).isoformat(),
                    "count": 0 if unattended else 1,
                    "t": now.isoformat(),
                }
            )
        health = [
            _health(pudong, now, online=True, achieved=1.9),
            _health("sh-xuhui-cam-1", now, online=True, achieved=1.0),
            _health("sh-chongming-cam-1", now, online=False, achieved=0.0),
        ]
        self.post("admin", "/vision/batches", {"states": states, "health": health})


def _health(camera: str, now: datetime, *, online: bool, achieved: float) -> dict[str, Any]:
    return {
        "camera_id": camera,
        "t": now.isoformat(),
        "online": online,
        "achieved_fps": achieved,
        "configured_fps": 2.0,
        "frames_read": 9000,
        "frames_analysed": 3600,
    }


def serve(backend: str, database_url: str, evidence_dir: Path) -> World:
    """The API on a free port over an existing database and evidence folder."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = ServiceSettings(
        environment="test",
        database_url=database_url,
        secret_key=TEST_SECRET,
        evidence_backend="local",
        evidence_dir=evidence_dir,
        public_url=url,
        log_json=True,
        log_level="WARNING",
    )
    world = World(backend=backend, url=url, settings=settings)
    world._server = Server(create_app(settings, configure_logs=False), port)
    world._server.start()
    return world


def build(backend: str, database_url: str, evidence_dir: Path) -> World:
    """Migrate, seed like the demo, serve, then post camera data and a contradicted audit."""
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            now = system_clock()
            seed_demo(session, now=now, secret_key=TEST_SECRET)
            seed_audits(session, make_store(_store_settings(evidence_dir)), now=now)
    finally:
        engine.dispose()
    world = serve(backend, database_url, evidence_dir)
    try:
        _index(world)
        _camera_data(world)
        world.report_live()
        _contradicted_audit(world)
    except BaseException:
        close(world)
        raise
    return world


def _store_settings(evidence_dir: Path) -> ServiceSettings:
    return ServiceSettings(
        environment="test",
        secret_key=TEST_SECRET,
        evidence_backend="local",
        evidence_dir=evidence_dir,
    )


def close(world: World) -> None:
    if world._server is not None:
        world._server.stop()
        world._server.server.config.app.state.engine.dispose()
        world._server = None


# ---------------------------------------------------------------- one build per test run
#
# Building the world takes a while (the demo seed, scored audits, camera data). Each backend's
# world is built once per test run into a template (a SQLite file, or a PostgreSQL database
# used as TEMPLATE) with its evidence folder and facts; every test process then serves its own
# copy, so processes never see each other's writes, however pytest-xdist spreads the tests.


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class Template:
    backend: str
    folder: Path  # evidence/, facts.json and (SQLite) world.db
    pg_name: str | None  # the PostgreSQL template database
    lock: Path
    built_here: bool = False


def _template(backend: str, root: Path) -> Template:
    pg_name = None
    if backend == "postgresql":
        pg_name = "auditlens_dashtpl_" + hashlib.sha1(str(root).encode()).hexdigest()[:12]
    folder = root / f"dashboard-world-{backend}"
    return Template(backend, folder, pg_name, root / f"dashboard-world-{backend}.lock")


def _facts_path(tpl: Template) -> Path:
    return tpl.folder / "facts.json"


def _ensure_built(tpl: Template, pg_database: Callable[[str], str]) -> None:
    """Build the template world unless it is there (call with the template's lock held)."""
    if _facts_path(tpl).exists():
        return
    shutil.rmtree(tpl.folder, ignore_errors=True)
    tpl.folder.mkdir(parents=True)
    url = pg_database(tpl.pg_name) if tpl.pg_name else f"sqlite:///{tpl.folder / 'world.db'}"
    world = build(tpl.backend, url, tpl.folder / "evidence")
    saved = {
        "outlets": world.outlets,
        "cameras": world.cameras,
        "facts": {**world.facts, "day": world.facts["day"].isoformat()},
    }
    close(world)
    _facts_path(tpl).write_text(json.dumps(saved))
    tpl.built_here = True


def own_world(
    backend: str,
    root: Path,
    tmp: Path,
    *,
    pg_admin_url: str,
    pg_database: Callable[[str], str],
) -> tuple[World, Template, str | None]:
    """This process's own copy of the run's template world for ``backend`` (building the
    template first if no process has), served on a free port. Returns the world, its
    template, and the name of this copy's PostgreSQL database (None for SQLite)."""
    tpl = _template(backend, root)
    evidence = tmp / "evidence"
    pg_name = None
    with _locked(tpl.lock):
        _ensure_built(tpl, pg_database)
        shutil.copytree(tpl.folder / "evidence", evidence)
        saved = json.loads(_facts_path(tpl).read_text())
        if tpl.pg_name:
            worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
            pg_name = f"auditlens_dash_{worker}_{os.getpid()}"
            admin = make_url(pg_admin_url)
            engine = create_engine(admin, isolation_level="AUTOCOMMIT")
            try:
                with engine.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
                    conn.execute(text(f'CREATE DATABASE "{pg_name}" TEMPLATE "{tpl.pg_name}"'))
            finally:
                engine.dispose()
            url = admin.set(database=pg_name).render_as_string(hide_password=False)
        else:
            shutil.copy(tpl.folder / "world.db", tmp / "world.db")
            url = f"sqlite:///{tmp / 'world.db'}"
    world = serve(backend, url, evidence)
    world.outlets, world.cameras = saved["outlets"], saved["cameras"]
    world.facts = {**saved["facts"], "day": date.fromisoformat(saved["facts"]["day"])}
    return world, tpl, pg_name


def drop_template(tpl: Template, drop_pg: Callable[[str], None]) -> None:
    """Remove a template this process built; a process that needs it later builds it again."""
    with _locked(tpl.lock):
        _facts_path(tpl).unlink(missing_ok=True)
        if tpl.pg_name:
            drop_pg(tpl.pg_name)


def _index(world: World) -> None:
    world.outlets = {o["code"]: o for o in world.get("admin", "/outlets")}
    world.cameras = {c["code"]: c for c in world.get("admin", "/cameras")}


def _camera_data(world: World) -> None:
    """A morning at sh-pudong as its camera saw it: C1 unattended now (with a snapshot), C2
    unattended for ten minutes earlier, a queue at C1 building up, a long queue now, and the
    Chongming camera offline."""
    now = datetime.now(UTC)
    pudong = world.outlets["sh-pudong"]
    snapshot = httpx.post(
        f"{world.url}/api/v1/evidence",
        headers=world.auth("admin"),
        data={
            "outlet_id": str(pudong["id"]),
            "source": "camera:sh-pudong-cam-1",
            "caption": "C1 unattended",
        },
        files={"file": ("c1.jpg", jpeg(), "image/jpeg")},
        timeout=30,
    )
    assert snapshot.status_code in (200, 201), snapshot.text
    evidence_id = snapshot.json()["id"]

    cam = "sh-pudong-cam-1"
    samples = []
    for k in range(60):  # every 2 minutes over the last two hours
        at = now - timedelta(minutes=2 * (60 - k))
        samples.append(
            {
                "camera_id": cam,
                "zone": "c1-queue",
                "t": at.isoformat(),
                "count": k % 5,
                "smoothed": float(k % 5),
                "wait_s": 60.0 * (k % 5),
            }
        )
        samples.append(
            {
                "camera_id": cam,
                "zone": "c2-queue",
                "t": at.isoformat(),
                "count": 3,
                "smoothed": 3.0,
                "wait_s": 600.0,
            }
        )
    unattended_now = str(uuid.uuid4())
    unattended_before = str(uuid.uuid4())
    long_queue = str(uuid.uuid4())
    offline = str(uuid.uuid4())
    earlier = now - timedelta(minutes=100)

    def event(
        eid: str, kind: str, camera: str, zone: str | None, start: datetime
    ) -> dict[str, Any]:
        return {
            "id": eid,
            "phase": "start",
            "kind": kind,
            "camera_id": camera,
            "zone": zone,
            "start": start.isoformat(),
            "end": None,
            "data": {},
        }

    events = [
        {
            **event(
                unattended_now, "counter_unattended", cam, "c1-staff", now - timedelta(minutes=8)
            ),
            "evidence_id": evidence_id,
        },
        event(unattended_before, "counter_unattended", cam, "c2-staff", earlier),
        {
            **event(unattended_before, "counter_unattended", cam, "c2-staff", earlier),
            "phase": "end",
            "end": (earlier + timedelta(minutes=10)).isoformat(),
        },
        event(long_queue, "queue_over_threshold", cam, "c1-queue", now - timedelta(minutes=5)),
        event(offline, "camera_offline", "sh-chongming-cam-1", None, now - timedelta(minutes=30)),
    ]
    world.post("admin", "/vision/batches", {"events": events, "samples": samples})
    world.facts.update(
        snapshot_id=evidence_id,
        unattended_event=unattended_now,
        # The local day of the camera data (the Outlet detail page is opened on it).
        day=(now - timedelta(minutes=8)).astimezone(ZoneInfo(TZ)).date(),
    )


def _contradicted_audit(world: World) -> None:
    """The auditor says C2 was unstaffed on arrival and the wait was short; the cameras saw C2
    attended and a 10-minute wait: a flagged cross-check."""
    from audit_service.checklists.definition import ChecklistDefinition

    visit = next(
        v
        for v in world.get("auditor", "/visits", mine="true")
        if v["outlet"]["code"] == "sh-pudong" and v["audit_id"] is None
    )
    version = world.get("auditor", f"/checklist-versions/{visit['version_id']}")
    defn = ChecklistDefinition.model_validate(version["definition"])
    now = datetime.now(UTC)
    window_start = datetime.fromisoformat(visit["window_start"])
    started = max(now - timedelta(minutes=20), window_start + timedelta(minutes=1))
    answers = good_answers(defn, started.astimezone(ZoneInfo(TZ)))
    for _, item in defn.items():
        if item.type.value == "photo":
            uploaded = httpx.post(
                f"{world.url}/api/v1/evidence",
                headers=world.auth("auditor"),
                data={
                    "outlet_id": str(visit["outlet"]["id"]),
                    "source": "audit",
                    "caption": item.name,
                },
                files={"file": ("front.jpg", jpeg(hue=30), "image/jpeg")},
                timeout=30,
            )
            assert uploaded.status_code in (200, 201), uploaded.text
            answers[item.name] = {"value": None, "photos": [uploaded.json()["id"]]}
    answers["counter_staffed_on_arrival"] = {"value": False, "comment": "nobody at C2"}
    answers["wait"] = {"value": 135}
    counters = world.get("auditor", f"/outlets/{visit['outlet']['id']}/counters")
    c2 = next(c for c in counters if c["code"] == "C2")
    body = {
        "started_at": started.isoformat(),
        "ended_at": (started + timedelta(minutes=15)).isoformat(),
        "location": None,
        "counter_id": c2["id"],
        "answers": answers,
    }
    audit = world.post(
        "auditor",
        f"/visits/{visit['id']}/audit",
        body,
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    world.facts["contradicted_audit"] = audit["id"]
