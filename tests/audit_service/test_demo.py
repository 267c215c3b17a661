"""The demo organisation (``seed_demo``) and ``auditlens demo`` (``run_demo``)."""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from audit_service.config import ServiceSettings
from audit_service.core.security import decrypt_secret
from audit_service.demo.runner import (
    DemoProcess,
    demo_processes,
    run_demo,
    start_processes,
    stop_processes,
)
from audit_service.demo.seed import (
    DEMO_LOGINS,
    SAMPLE_CAMERA_SOURCE,
    demo_worker_token,
    roster_start,
    sample_camera_code,
    seed_demo,
)
from audit_service.models import (
    Base,
    Camera,
    Counter,
    Outlet,
    OutletHoursException,
    Region,
    Shift,
    ShiftRole,
    Staff,
    StaffAssignment,
    StaffRole,
    User,
    ZoneKind,
)
from tests import factories as f
from tests.conftest import TEST_SECRET

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _seed(db, clock):
    credentials = seed_demo(db, now=clock(), secret_key=TEST_SECRET)
    db.commit()
    return credentials


def _count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_seed_builds_the_organisation(db, clock):
    assert _seed(db, clock).created is True

    assert _count(db, Region) == 2
    outlets = db.scalars(select(Outlet)).all()
    assert len(outlets) == 6
    assert {o.timezone for o in outlets} == {"Asia/Shanghai"}
    for outlet in outlets:
        assert 3 <= len(outlet.counters) <= 5
        assert outlet.opening_hours["mon"][0] == {
            "opens": "09:00",
            "closes": "17:00",
            "extended": False,
        }
    extended = [
        o.code
        for o in outlets
        if any(i["extended"] for i in o.opening_hours["mon"] + o.opening_hours["fri"])
    ]
    weekend = [o.code for o in outlets if o.opening_hours["sat"] or o.opening_hours["sun"]]
    assert extended and weekend and len(weekend) < 6
    assert _count(db, OutletHoursException) >= 6  # a public holiday each, plus specials

    staff = db.scalars(select(Staff)).all()
    assert 35 <= len(staff) <= 45
    by_id = {s.id: s for s in staff}
    for outlet in outlets:
        here = [s for s in staff if s.outlet_id == outlet.id]
        roles = [s.role for s in here]
        assert roles.count(StaffRole.outlet_manager) == 1
        assert roles.count(StaffRole.lobby_manager) == 1
        assert roles.count(StaffRole.counter_clerk) >= 3
    for s in staff:
        lead = by_id.get(s.team_lead_id)
        if s.role is StaffRole.counter_clerk:
            assert lead.role in (StaffRole.lobby_manager, StaffRole.outlet_manager)
            assert lead.outlet_id == s.outlet_id
        elif s.role is StaffRole.lobby_manager:
            assert lead.role is StaffRole.outlet_manager
        elif s.role is StaffRole.outlet_manager:
            assert lead is None or lead.role is StaffRole.other

    # Every staff member has an assignment history; one moved outlet a month ago.
    history = defaultdict(list)
    for a in db.scalars(select(StaffAssignment).order_by(StaffAssignment.valid_from)):
        history[a.staff_id].append(a)
    assert set(history) == set(by_id)
    moved = [sid for sid, rows in history.items() if len(rows) > 1]
    assert len(moved) == 1
    before, after = history[moved[0]]
    today = clock().astimezone(SHANGHAI).date()
    assert after.valid_from == today - timedelta(days=30)
    assert before.valid_to == after.valid_from - timedelta(days=1)  # last day at the old outlet
    assert before.outlet_id != after.outlet_id == by_id[moved[0]].outlet_id
    assert after.valid_to is None


def test_seed_rosters_two_weeks_without_overlaps(db, clock):
    _seed(db, clock)
    start = roster_start(clock())
    assert start.weekday() == 0
    assert start == date(2026, 11, 9)  # the clock says Friday 2026-11-20

    shifts = db.scalars(select(Shift)).all()
    local_days = {s.starts_at.astimezone(SHANGHAI).date() for s in shifts}
    assert min(local_days) == start
    assert max(local_days) <= start + timedelta(days=13)
    assert max(local_days) >= start + timedelta(days=11)  # into the second week
    for s in shifts:
        assert s.starts_at.utcoffset() == timedelta(0)
        assert s.starts_at.astimezone(SHANGHAI).strftime("%H:%M") in ("09:00", "09:30")
        assert (s.counter_id is None) == (s.role is ShiftRole.lobby_manager)

    # Each shift is at an outlet where the person's history places them that day.
    history = defaultdict(list)
    for a in db.scalars(select(StaffAssignment)):
        history[a.staff_id].append(a)
    for s in shifts:
        day = s.starts_at.astimezone(SHANGHAI).date()
        assert any(
            a.outlet_id == s.outlet_id
            and a.valid_from <= day
            and (a.valid_to is None or day <= a.valid_to)
            for a in history[s.staff_id]
        )

    by_person = defaultdict(list)
    for s in shifts:
        by_person[s.staff_id].append(s)
    for rows in by_person.values():
        rows.sort(key=lambda s: s.starts_at)
        for a, b in zip(rows, rows[1:]):
            assert a.ends_at <= b.starts_at, (a.staff_id, a.starts_at, b.starts_at)

    outlets = {o.code: o for o in db.scalars(select(Outlet))}
    # Every workday of an outlet has a lobby manager and every service counter staffed.
    for outlet in outlets.values():
        counters = [c for c in outlet.counters if c.kind.value != "lobby_desk"]
        closed = {e.day for e in outlet.hours_exceptions if e.closed}
        for offset in range(14):
            day = start + timedelta(days=offset)
            todays = [
                s
                for s in shifts
                if s.outlet_id == outlet.id and s.starts_at.astimezone(SHANGHAI).date() == day
            ]
            if day.weekday() < 5 and day not in closed:
                assert sum(s.role is ShiftRole.lobby_manager for s in todays) == 1
                assert {s.counter_id for s in todays if s.counter_id} == {c.id for c in counters}
            if day in closed:
                assert todays == []
    # Extended hours: the late outlet's Monday ends at 18:00 local.
    monday = [
        s
        for s in shifts
        if s.outlet_id == outlets["sh-pudong"].id
        and s.starts_at.astimezone(SHANGHAI).date() == start
    ]
    assert {s.ends_at.astimezone(SHANGHAI).hour for s in monday} == {18}
    # A refit day inside the roster closes one outlet.
    assert any(
        e.closed and start <= e.day < start + timedelta(days=14)
        for e in outlets["sh-xuhui"].hours_exceptions
    )


def test_seed_cameras_and_zones(db, clock):
    _seed(db, clock)
    cameras = db.scalars(select(Camera).where(Camera.code != sample_camera_code())).all()
    per_outlet = defaultdict(list)
    for cam in cameras:
        per_outlet[cam.outlet.code].append(cam)
        assert cam.code.startswith(cam.outlet.code + "-cam-")
        assert decrypt_secret(TEST_SECRET, cam.stream_url_encrypted).startswith("rtsp://")
        for zone in cam.zones:
            assert zone.counter.outlet_id == cam.outlet_id
            xs = [p[0] for p in zone.polygon]
            ys = [p[1] for p in zone.polygon]
            assert 0 <= min(xs) < max(xs) <= 1 and 0 <= min(ys) < max(ys) <= 1
            assert zone.anchor.value == (
                "center" if zone.kind is ZoneKind.counter else "bottom_center"
            )
    assert len(per_outlet) == 6
    assert all(1 <= len(cams) <= 2 for cams in per_outlet.values())
    kinds_by_counter = defaultdict(list)
    for cam in cameras:
        for zone in cam.zones:
            kinds_by_counter[zone.counter_id].append(zone.kind)
    assert set(kinds_by_counter) == set(db.scalars(select(Counter.id)))
    assert all(sorted(k) == [ZoneKind.counter, ZoneKind.queue] for k in kinds_by_counter.values())


def test_sample_camera_replays_the_bundled_clip_for_the_demo_worker(client, db, clock):
    """`make demo` runs a vision worker whose only camera replays the bundled CC BY clip."""
    from vision import samples
    from vision.config import parse_camera_config
    from vision.sources import open_source

    _seed(db, clock)
    token = demo_worker_token(db, now=clock())
    db.commit()
    assert token and token.startswith("alw_")
    mine = client.get(
        "/api/v1/vision/workers/me/cameras", headers={"Authorization": f"Bearer {token}"}
    )
    assert mine.status_code == 200, mine.text
    (config,) = [parse_camera_config(c) for c in mine.json()]
    assert config.camera_id == sample_camera_code()
    assert config.source == SAMPLE_CAMERA_SOURCE
    assert {z.kind.value for z in config.zones} == {"counter", "queue"}
    assert (samples.SAMPLES_DIR / "ATTRIBUTION.md").read_text().count("CC BY 4.0")
    source = open_source(config.source, analysis_fps=config.analysis_fps)
    try:
        frames = [frame for _, frame in zip(range(3), source, strict=False)]
    finally:
        source.close()
    assert [f.image.shape for f in frames] == [(270, 480, 3)] * 3
    # A second demo start issues a new token and revokes the old one.
    newer = demo_worker_token(db, now=clock())
    db.commit()
    assert newer != token
    stale = client.get(
        "/api/v1/vision/workers/me/cameras", headers={"Authorization": f"Bearer {token}"}
    )
    assert stale.status_code == 401


def test_demo_runs_the_vision_worker_with_its_token_out_of_argv(tmp_path):
    settings = _demo_settings(tmp_path)
    assert [p.name for p in demo_processes(settings, "http://127.0.0.1:8000")] == ["Dashboard"]
    (_, worker) = demo_processes(settings, "http://127.0.0.1:8000", worker_token="alw_secret")
    assert worker.argv[1:4] == ["-m", "vision", "run"] and "--loop" in worker.argv
    assert not any("alw_secret" in arg for arg in worker.argv)  # `ps` shows argv to everyone
    assert worker.env["AUDITLENS_VISION_TOKEN"] == "alw_secret"
    assert worker.env["AUDITLENS_VISION_OUTBOX_PATH"].startswith(str(tmp_path))


def test_unknown_sample_source_names_the_choices():
    import pytest

    from vision.sources import SourceError, open_source

    with pytest.raises(SourceError, match="sample:worker-zone-detection.gif"):
        open_source("sample:nope.gif", analysis_fps=2)


def test_every_demo_login_works_and_scopes_apply(client, db, clock):
    credentials = _seed(db, clock)
    assert {x.role.value for x in credentials.logins} == {
        "admin",
        "supervisor",
        "auditor",
        "hr",
        "staff",
    }
    headers = {}
    for login in credentials.logins:
        assert len(login.password) >= 10
        headers[login.username] = f.login(client, login.username, login.password)
        me = client.get("/api/v1/auth/me", headers=headers[login.username])
        assert me.status_code == 200, me.text
        assert me.json()["role"] == login.role.value

    def outlet_codes(username):
        resp = client.get("/api/v1/outlets", headers=headers[username])
        assert resp.status_code == 200, resp.text
        return {o["code"] for o in resp.json()}

    region1 = set(db.scalars(select(Outlet.code).join(Region).where(Region.code == "sh")))
    assert len(region1) == 3
    assert outlet_codes("admin") == set(db.scalars(select(Outlet.code)))
    assert outlet_codes("supervisor") == region1
    assert outlet_codes("hr") == region1
    staff_user = db.scalar(select(User).where(User.role == "staff"))
    assert outlet_codes("staff") == {staff_user.staff.outlet.code}
    own = client.get("/api/v1/shifts", headers=headers["staff"])
    assert own.status_code == 200, own.text
    assert own.json() and {s["staff_id"] for s in own.json()} == {staff_user.staff_id}
    elsewhere = db.scalar(select(Outlet).join(Region).where(Region.code == "js"))
    resp = client.get(f"/api/v1/outlets/{elsewhere.id}", headers=headers["supervisor"])
    assert resp.status_code == 404


def test_seeded_cameras_pass_the_api_rules(client, db, clock):
    """The seeded zones are what the cameras API would accept: GET them, PUT them back."""
    credentials = _seed(db, clock)
    admin = f.login(client, "admin", credentials.password("admin"))
    for camera_id in db.scalars(select(Camera.id)):
        zones = client.get(f"/api/v1/cameras/{camera_id}/zones", headers=admin)
        assert zones.status_code == 200, zones.text
        put = client.put(f"/api/v1/cameras/{camera_id}/zones", json=zones.json(), headers=admin)
        assert put.status_code == 200, put.text
        assert put.json() == zones.json()
        config = client.get(f"/api/v1/cameras/{camera_id}/config", headers=admin)
        assert config.status_code == 200, config.text
        assert len(config.json()["zones"]) == len(zones.json())


def test_seed_is_idempotent(db, clock):
    _seed(db, clock)
    before = {
        t.name: db.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables
    }
    clock.advance(days=3)
    again = _seed(db, clock)
    after = {
        t.name: db.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables
    }
    assert again.created is False
    assert again.logins == DEMO_LOGINS
    assert after == before


def _demo_settings(tmp_path, environment="test") -> ServiceSettings:
    return ServiceSettings(
        environment=environment,
        secret_key=TEST_SECRET,
        database_url=f"sqlite:///{tmp_path}/demo.db",
        evidence_dir=tmp_path / "evidence",
    )


def test_run_demo_migrates_seeds_and_prints_the_banner(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("AUDITLENS_API_PORT", raising=False)
    monkeypatch.delenv("AUDITLENS_API_HOST", raising=False)
    settings = _demo_settings(tmp_path)
    assert run_demo(settings, serve=False) == 0
    out = capsys.readouterr().out
    assert "API           http://127.0.0.1:8000" in out
    assert "http://127.0.0.1:8000/docs" in out
    assert str(tmp_path / "demo.db") in out
    assert str(tmp_path / "evidence") in out
    assert "2 regions, 6 outlets" in out
    assert "2 checklists, 9 visits, 6 audits, 3 corrective actions" in out
    assert "seeded just now" in out
    _check_demo_audits(settings)
    for login in DEMO_LOGINS:
        row = [line.split() for line in out.splitlines() if line.split()[:1] == [login.username]]
        assert row and row[0][1:3] == [login.password, login.role.value], out

    # Second run: same database, nothing added, a port from the settings (AUDITLENS_API_PORT).
    monkeypatch.setenv("AUDITLENS_API_PORT", "8123")
    assert run_demo(_demo_settings(tmp_path), serve=False) == 0
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8123/docs" in out
    assert "already present; nothing added" in out
    # --port wins over the setting.
    assert run_demo(_demo_settings(tmp_path), port=9001, serve=False) == 0
    assert "http://127.0.0.1:9001" in capsys.readouterr().out


def _check_demo_audits(settings: ServiceSettings) -> None:
    """The seeded audits were scored by the service and sit at every stage of review."""
    from audit_service.core.db import make_engine, make_sessionmaker
    from audit_service.models import ActionStatus, Audit, CorrectiveAction, Visit, VisitStatus

    engine = make_engine(settings.database_url)
    try:
        with make_sessionmaker(engine)() as session:
            audits = session.scalars(select(Audit).order_by(Audit.id)).all()
            assert {a.status.value for a in audits} == {"approved", "returned", "submitted"}
            failed = [a for a in audits if a.critical_failed]
            assert len(failed) == 1 and failed[0].score == 0 and failed[0].passed is False
            assert all(a.breakdown["items"] for a in audits)  # the stored breakdown
            photos = [
                p for a in audits for ans in a.answers.values() for p in ans.get("photos", [])
            ]
            assert len(photos) == len(audits)  # one photo item per ready template
            actions = session.scalars(select(CorrectiveAction)).all()
            assert {a.status for a in actions} == {ActionStatus.open, ActionStatus.fixed}
            waiting = session.scalars(
                select(Visit).where(Visit.status == VisitStatus.assigned)
            ).all()
            assert len(waiting) == 3 and {v.auditor.username for v in waiting} == {"auditor"}
    finally:
        engine.dispose()


def test_run_demo_refuses_production(tmp_path, capsys):
    settings = _demo_settings(tmp_path, environment="production")
    assert run_demo(settings, serve=False) == 2
    assert "production" in capsys.readouterr().err
    assert not (tmp_path / "demo.db").exists()


def test_demo_processes_start_and_stop(tmp_path):
    marker = tmp_path / "started"
    proc = DemoProcess(
        "sleeper",
        [
            sys.executable,
            "-c",
            "import os, pathlib, time; pathlib.Path(os.environ['MARKER']).touch(); time.sleep(600)",
        ],
        env={"MARKER": str(marker)},
    )
    (child,) = start_processes([proc])
    try:
        # Wait for the child to show it runs with the extra environment (bounded).
        for _ in range(200):
            if marker.exists() or child.poll() is not None:
                break
            time.sleep(0.05)
        assert marker.exists()
        assert child.poll() is None
    finally:
        stop_processes([child], timeout_s=10)
    assert child.returncode is not None and child.returncode != 0


def test_demo_has_scored_performance_with_a_dispute(client, db, clock, app):
    from audit_service.demo.audits import seed_audits
    from audit_service.demo.performance import seed_performance

    _seed(db, clock)
    seed_audits(db, app.state.evidence_store, now=clock())
    added = seed_performance(db, now=clock())
    db.commit()
    assert added["queue waits"] > 100 and added["camera findings"] > 5
    assert added["disputes"] == 1
    # The shopper reports are checked again against the camera history just added.
    assert added["cross-checks flagged"] >= 1
    assert seed_performance(db, now=clock()) == {}  # only once
    hr = f.login(client, "hr", DEMO_LOGINS[3].password)
    resp = client.get("/api/v1/performance/scores", params={"level": "staff"}, headers=hr)
    assert resp.status_code == 200, resp.text
    scored = [r for r in resp.json()["items"] if r["score"] is not None]
    assert len(scored) >= 5
    # Some clerks are steadier than others: the scores are spread, not all equal.
    assert len({r["score"] for r in scored}) > 3
    assert any(r["components"]["queue"]["n"] for r in scored)
    staff = f.login(client, "staff", DEMO_LOGINS[4].password)
    me = client.get("/api/v1/performance/me", headers=staff).json()
    assert any(r["dispute"] for r in me["records"])
    disputes = client.get("/api/v1/performance/disputes", headers=hr).json()
    assert disputes["total"] == 1 and disputes["items"][0]["status"] == "open"
