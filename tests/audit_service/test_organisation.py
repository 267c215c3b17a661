"""Regions, outlets (hours, exceptions, open status) and counters through the API."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from audit_service.models import Counter, Outlet, OutletHoursException, Region
from tests import factories as f

API = "/api/v1"
HUGE = 99999999999


def assert_error(resp, status: int, error: str) -> dict:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["error"] == error, body
    assert isinstance(body["detail"], str) and body["detail"], body
    return body


def field_paths(resp) -> list[str]:
    body = assert_error(resp, 422, "validation_error")
    return [f_["field"] for f_ in body["fields"]]


@dataclass
class Org:
    r1: int
    r2: int
    a: int
    b: int
    counter_a: int
    counter_b: int


@pytest.fixture
def org(db) -> Org:
    r1 = f.region(db, "R1", "North")
    r2 = f.region(db, "R2", "South")
    a = f.outlet(db, r1, "OA")
    b = f.outlet(db, r2, "OB", tz="Europe/Berlin")
    ca = f.counter(db, a, "C1")
    cb = f.counter(db, b, "C1")
    f.user(db, "admin", f.Role.admin)
    f.user(db, "sup", f.Role.supervisor, outlets=[a])
    f.user(db, "auditor", f.Role.auditor)
    f.user(db, "hr", f.Role.hr)
    clerk = f.staff(db, a, "E001")
    f.user(db, "clerk", f.Role.staff, staff_=clerk)
    db.commit()
    return Org(r1.id, r2.id, a.id, b.id, ca.id, cb.id)


@pytest.fixture
def admin(client, org) -> dict[str, str]:
    return f.login(client, "admin")


def outlet_body(region_id: int, code: str = "NEW", **kw) -> dict:
    body = {
        "region_id": region_id,
        "code": code,
        "name": f"Outlet {code}",
        "address": "2 High St",
        "timezone": "Asia/Shanghai",
        "opening_hours": {"mon": [{"opens": "09:00", "closes": "17:00"}]},
    }
    body.update(kw)
    return body


# ---------------------------------------------------------------- regions


def test_region_create_read_update_list(client, org, admin, db):
    resp = client.post(f"{API}/regions", json={"code": "R3", "name": "East"}, headers=admin)
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert created["code"] == "R3" and created["name"] == "East"
    rid = created["id"]
    assert db.get(Region, rid).name == "East"

    assert client.get(f"{API}/regions/{rid}", headers=admin).json() == created
    patched = client.patch(f"{API}/regions/{rid}", json={"name": "Far East"}, headers=admin)
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "Far East"
    db.expire_all()
    assert db.get(Region, rid).name == "Far East"

    listed = client.get(f"{API}/regions", headers=admin).json()
    assert [r["code"] for r in listed] == ["R1", "R2", "R3"]


def test_region_duplicate_code_is_409(client, org, admin, db):
    resp = client.post(f"{API}/regions", json={"code": "R1", "name": "Again"}, headers=admin)
    body = assert_error(resp, 409, "conflict")
    assert "R1" in body["detail"]
    assert db.scalar(select(func.count()).select_from(Region)) == 2


def test_region_validation_names_fields(client, org, admin):
    resp = client.post(f"{API}/regions", json={"code": "bad code!", "name": ""}, headers=admin)
    assert set(field_paths(resp)) == {"body.code", "body.name"}
    resp = client.post(
        f"{API}/regions", json={"code": "R9", "name": "x", "extra": 1}, headers=admin
    )
    assert field_paths(resp) == ["body.extra"]


def test_region_unknown_and_huge_ids(client, org, admin):
    body = assert_error(client.get(f"{API}/regions/424242", headers=admin), 404, "not_found")
    assert "424242" in body["detail"]
    assert_error(
        client.patch(f"{API}/regions/424242", json={"name": "x"}, headers=admin), 404, "not_found"
    )
    assert field_paths(client.get(f"{API}/regions/{HUGE}", headers=admin)) == ["path.region_id"]
    assert field_paths(client.get(f"{API}/regions/0", headers=admin)) == ["path.region_id"]


# ---------------------------------------------------------------- outlets


def test_outlet_create_read_update_list(client, org, admin, db):
    resp = client.post(f"{API}/outlets", json=outlet_body(org.r1), headers=admin)
    assert resp.status_code == 201, resp.text
    out = resp.json()
    assert out["code"] == "NEW" and out["region_id"] == org.r1
    assert out["timezone"] == "Asia/Shanghai"
    assert out["opening_hours"]["mon"] == [{"opens": "09:00", "closes": "17:00", "extended": False}]
    assert out["opening_hours"]["sun"] == []
    stored = db.get(Outlet, out["id"])
    assert stored.opening_hours["mon"] == [{"opens": "09:00", "closes": "17:00", "extended": False}]

    assert client.get(f"{API}/outlets/{out['id']}", headers=admin).json()["name"] == "Outlet NEW"
    patch = {
        "name": "Renamed",
        "timezone": "Europe/Berlin",
        "region_id": org.r2,
        "opening_hours": {"sat": [{"opens": "10:00", "closes": "12:00", "extended": True}]},
    }
    resp = client.patch(f"{API}/outlets/{out['id']}", json=patch, headers=admin)
    assert resp.status_code == 200, resp.text
    got = resp.json()
    assert (got["name"], got["timezone"], got["region_id"]) == ("Renamed", "Europe/Berlin", org.r2)
    assert got["opening_hours"]["mon"] == []
    assert got["opening_hours"]["sat"] == [{"opens": "10:00", "closes": "12:00", "extended": True}]
    assert got["address"] == "2 High St"  # untouched

    codes = [o["code"] for o in client.get(f"{API}/outlets", headers=admin).json()]
    assert codes == ["NEW", "OA", "OB"]
    in_r2 = client.get(f"{API}/outlets", params={"region_id": org.r2}, headers=admin).json()
    assert sorted(o["code"] for o in in_r2) == ["NEW", "OB"]


def test_outlet_duplicate_code_is_409(client, org, admin, db):
    body = assert_error(
        client.post(f"{API}/outlets", json=outlet_body(org.r1, "OA"), headers=admin),
        409,
        "conflict",
    )
    assert "OA" in body["detail"]
    assert db.scalar(select(func.count()).select_from(Outlet)) == 2


def test_outlet_unknown_region_is_422_naming_region_id(client, org, admin):
    body = assert_error(
        client.post(f"{API}/outlets", json=outlet_body(424242), headers=admin), 422, "invalid_input"
    )
    assert body["field"] == "region_id"
    assert "424242" in body["detail"]
    body = assert_error(
        client.patch(f"{API}/outlets/{org.a}", json={"region_id": 424242}, headers=admin),
        422,
        "invalid_input",
    )
    assert body["field"] == "region_id"


def test_outlet_huge_ids_are_422_not_500(client, org, admin):
    assert field_paths(client.get(f"{API}/outlets/{HUGE}", headers=admin)) == ["path.outlet_id"]
    assert field_paths(client.post(f"{API}/outlets", json=outlet_body(HUGE), headers=admin)) == [
        "body.region_id"
    ]
    assert field_paths(client.get(f"{API}/outlets", params={"region_id": HUGE}, headers=admin)) == [
        "query.region_id"
    ]
    assert field_paths(client.get(f"{API}/outlets/{HUGE}/counters", headers=admin)) == [
        "path.outlet_id"
    ]
    assert field_paths(client.get(f"{API}/counters/{HUGE}", headers=admin)) == ["path.counter_id"]
    assert field_paths(
        client.get(
            f"{API}/outlets/{HUGE}/open", params={"at": "2026-11-20T09:30:00+08:00"}, headers=admin
        )
    ) == ["path.outlet_id"]


def test_outlet_unknown_ids_are_404(client, org, admin):
    for method, path in [
        ("get", "/outlets/424242"),
        ("get", "/outlets/424242/counters"),
        ("get", "/outlets/424242/hours-exceptions"),
        ("get", "/counters/424242"),
    ]:
        assert_error(getattr(client, method)(API + path, headers=admin), 404, "not_found")
    assert_error(
        client.patch(f"{API}/outlets/424242", json={"name": "x"}, headers=admin), 404, "not_found"
    )
    assert_error(
        client.put(
            f"{API}/outlets/424242/hours-exceptions/2026-12-25",
            json={"closed": True},
            headers=admin,
        ),
        404,
        "not_found",
    )
    assert_error(
        client.post(
            f"{API}/outlets/424242/counters", json={"code": "C9", "kind": "claims"}, headers=admin
        ),
        404,
        "not_found",
    )
    assert_error(
        client.patch(f"{API}/counters/424242", json={"name": "x"}, headers=admin), 404, "not_found"
    )
    assert_error(
        client.get(
            f"{API}/outlets/424242/open", params={"at": "2026-11-20T09:30:00+08:00"}, headers=admin
        ),
        404,
        "not_found",
    )


# ---------------------------------------------------------------- opening hours validation


def test_hours_closes_before_opens_names_the_day(client, org, admin):
    hours = {"wed": [{"opens": "17:00", "closes": "09:00"}]}
    resp = client.post(
        f"{API}/outlets", json=outlet_body(org.r1, opening_hours=hours), headers=admin
    )
    body = assert_error(resp, 422, "validation_error")
    assert [x["field"] for x in body["fields"]] == ["body.opening_hours.wed.0"]
    assert "closes (09:00) must be after opens (17:00)" in body["fields"][0]["message"]
    # Equal times are an empty interval: refused too.
    hours = {"wed": [{"opens": "09:00", "closes": "09:00"}]}
    resp = client.patch(f"{API}/outlets/{org.a}", json={"opening_hours": hours}, headers=admin)
    assert field_paths(resp) == ["body.opening_hours.wed.0"]


def test_hours_overlapping_intervals_name_the_day(client, org, admin, db):
    hours = {"tue": [{"opens": "13:00", "closes": "18:00"}, {"opens": "09:00", "closes": "13:30"}]}
    resp = client.patch(f"{API}/outlets/{org.a}", json={"opening_hours": hours}, headers=admin)
    body = assert_error(resp, 422, "validation_error")
    assert [x["field"] for x in body["fields"]] == ["body.opening_hours.tue"]
    assert "09:00-13:30 and 13:00-18:00 overlap" in body["fields"][0]["message"]
    # Nothing stored changed.
    db.expire_all()
    assert db.get(Outlet, org.a).opening_hours == f.DEFAULT_HOURS
    # Touching intervals are fine.
    hours = {"tue": [{"opens": "09:00", "closes": "13:00"}, {"opens": "13:00", "closes": "18:00"}]}
    resp = client.patch(f"{API}/outlets/{org.a}", json={"opening_hours": hours}, headers=admin)
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["opening_hours"]["tue"]) == 2


def test_hours_unknown_weekday_key_is_422(client, org, admin):
    hours = {"monday": [{"opens": "09:00", "closes": "17:00"}]}
    resp = client.post(
        f"{API}/outlets", json=outlet_body(org.r1, opening_hours=hours), headers=admin
    )
    body = assert_error(resp, 422, "validation_error")
    assert body["fields"][0]["field"] == "body.opening_hours.monday"
    assert body["fields"][0]["type"] == "extra_forbidden"


def test_hours_bad_time_values_are_422_not_500(client, org, admin):
    cases = [
        # A time with an offset next to one without: must not crash the overlap check.
        {
            "mon": [
                {"opens": "09:00+08:00", "closes": "12:00+08:00"},
                {"opens": "11:00", "closes": "13:00"},
            ]
        },
        {"mon": [{"opens": "09:00+08:00", "closes": "12:00"}]},
        # Seconds would be silently dropped when stored as HH:MM.
        {"mon": [{"opens": "09:00:30", "closes": "09:00:45"}]},
        {"mon": [{"opens": "25:00", "closes": "26:00"}]},
        {"mon": [{"opens": "nine", "closes": "17:00"}]},
    ]
    for hours in cases:
        resp = client.post(
            f"{API}/outlets", json=outlet_body(org.r1, opening_hours=hours), headers=admin
        )
        paths = field_paths(resp)
        assert paths and all(p.startswith("body.opening_hours.mon") for p in paths), (hours, paths)


def test_hours_too_many_intervals_is_422(client, org, admin):
    hours = {"fri": [{"opens": f"{h:02d}:00", "closes": f"{h:02d}:30"} for h in range(8, 15)]}
    resp = client.post(
        f"{API}/outlets", json=outlet_body(org.r1, opening_hours=hours), headers=admin
    )
    assert field_paths(resp) == ["body.opening_hours.fri"]


def test_unknown_timezone_is_422_with_a_hint(client, org, admin, db):
    resp = client.post(
        f"{API}/outlets", json=outlet_body(org.r1, timezone="Mars/Olympus"), headers=admin
    )
    body = assert_error(resp, 422, "validation_error")
    assert body["fields"][0]["field"] == "body.timezone"
    assert "unknown time zone 'Mars/Olympus'" in body["fields"][0]["message"]
    assert "IANA" in body["fields"][0]["message"]
    resp = client.patch(f"{API}/outlets/{org.a}", json={"timezone": "CET+99"}, headers=admin)
    assert field_paths(resp) == ["body.timezone"]
    resp = client.patch(
        f"{API}/outlets/{org.a}", json={"timezone": "../../etc/passwd"}, headers=admin
    )
    assert field_paths(resp) == ["body.timezone"]
    db.expire_all()
    assert db.get(Outlet, org.a).timezone == "Asia/Shanghai"


# ---------------------------------------------------------------- hours exceptions and open status


def open_at(client, headers, outlet_id: int, at: str):
    resp = client.get(f"{API}/outlets/{outlet_id}/open", params={"at": at}, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_open_status_uses_the_outlets_local_time(client, org, admin):
    # Outlet A: Asia/Shanghai, Mon-Fri 09:00-17:00. Friday 2026-11-20.
    got = open_at(client, admin, org.a, "2026-11-20T09:30:00+08:00")
    assert got["open"] is True
    assert got["outlet_id"] == org.a
    assert got["local_time"] == "2026-11-20T09:30:00+08:00"
    # The same instant written in UTC.
    got = open_at(client, admin, org.a, "2026-11-20T01:30:00Z")
    assert got["open"] is True
    assert got["local_time"] == "2026-11-20T09:30:00+08:00"
    # 08:30 local: not yet open.
    assert open_at(client, admin, org.a, "2026-11-20T00:30:00Z")["open"] is False
    # Saturday local: closed.
    assert open_at(client, admin, org.a, "2026-11-21T10:00:00+08:00")["open"] is False


def test_open_status_outlet_in_a_dst_zone(client, org, admin):
    # Outlet B: Europe/Berlin. 07:30 UTC is 08:30 CET in winter (closed), 09:30 CEST in summer.
    winter = open_at(client, admin, org.b, "2026-03-27T07:30:00Z")
    summer = open_at(client, admin, org.b, "2026-03-30T07:30:00Z")
    assert (winter["open"], winter["local_time"]) == (False, "2026-03-27T08:30:00+01:00")
    assert (summer["open"], summer["local_time"]) == (True, "2026-03-30T09:30:00+02:00")


def test_open_status_needs_an_aware_at(client, org, admin):
    resp = client.get(
        f"{API}/outlets/{org.a}/open", params={"at": "2026-11-20T09:30:00"}, headers=admin
    )
    body = assert_error(resp, 422, "validation_error")
    assert [x["field"] for x in body["fields"]] == ["query.at"]
    assert "timezone" in body["fields"][0]["message"].lower()
    assert field_paths(client.get(f"{API}/outlets/{org.a}/open", headers=admin)) == ["query.at"]
    assert field_paths(
        client.get(f"{API}/outlets/{org.a}/open", params={"at": "soon"}, headers=admin)
    ) == ["query.at"]


@pytest.mark.parametrize("at", ["9999-12-31T23:00:00-14:00", "0001-01-01T00:30:00+14:00"])
def test_open_status_at_the_edge_of_the_calendar_is_422_not_500(client, org, admin, at):
    resp = client.get(f"{API}/outlets/{org.a}/open", params={"at": at}, headers=admin)
    body = assert_error(resp, 422, "invalid_input")
    assert body["field"] == "at"


def test_holiday_closes_the_outlet_on_its_local_date(client, org, admin, db):
    # Monday 2026-11-23 is a regular day for outlet A.
    assert open_at(client, admin, org.a, "2026-11-23T10:00:00+08:00")["open"] is True
    resp = client.put(
        f"{API}/outlets/{org.a}/hours-exceptions/2026-11-23",
        json={"closed": True, "note": "founding day"},
        headers=admin,
    )
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "day": "2026-11-23",
        "closed": True,
        "intervals": [],
        "note": "founding day",
    }
    assert open_at(client, admin, org.a, "2026-11-23T10:00:00+08:00")["open"] is False
    # 2026-11-23 01:00 UTC is already the local holiday; 2026-11-22 15:00 UTC is Sunday local.
    assert open_at(client, admin, org.a, "2026-11-23T02:00:00Z")["open"] is False
    # The next day is normal again.
    assert open_at(client, admin, org.a, "2026-11-24T10:00:00+08:00")["open"] is True
    # Other outlets are not affected.
    assert db.scalar(select(func.count()).select_from(OutletHoursException)) == 1


def test_special_hours_replace_the_weekly_hours(client, org, admin):
    # Sunday 2026-11-22 is normally closed: open it 10:00-14:00 with extended service.
    assert open_at(client, admin, org.a, "2026-11-22T11:00:00+08:00")["open"] is False
    body = {
        "closed": False,
        "intervals": [{"opens": "10:00", "closes": "14:00", "extended": True}],
        "note": "year-end drive",
    }
    resp = client.put(
        f"{API}/outlets/{org.a}/hours-exceptions/2026-11-22", json=body, headers=admin
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["intervals"] == [{"opens": "10:00", "closes": "14:00", "extended": True}]
    assert open_at(client, admin, org.a, "2026-11-22T11:00:00+08:00")["open"] is True
    assert open_at(client, admin, org.a, "2026-11-22T14:00:00+08:00")["open"] is False
    # PUT again replaces the same date's exception (no duplicate).
    body = {"closed": False, "intervals": [{"opens": "15:00", "closes": "16:00"}]}
    resp = client.put(
        f"{API}/outlets/{org.a}/hours-exceptions/2026-11-22", json=body, headers=admin
    )
    assert resp.status_code == 200, resp.text
    assert open_at(client, admin, org.a, "2026-11-22T11:00:00+08:00")["open"] is False
    assert open_at(client, admin, org.a, "2026-11-22T15:30:00+08:00")["open"] is True
    listed = client.get(f"{API}/outlets/{org.a}/hours-exceptions", headers=admin).json()
    assert [e["day"] for e in listed] == ["2026-11-22"]
    assert listed[0]["note"] == ""


def test_hours_exception_list_filter_and_delete(client, org, admin):
    for day in ("2026-12-24", "2026-12-25", "2027-01-01"):
        resp = client.put(f"{API}/outlets/{org.a}/hours-exceptions/{day}", json={}, headers=admin)
        assert resp.status_code == 200, resp.text
    listed = client.get(
        f"{API}/outlets/{org.a}/hours-exceptions",
        params={"start": "2026-12-25", "end": "2026-12-31"},
        headers=admin,
    )
    assert [e["day"] for e in listed.json()] == ["2026-12-25"]
    # Friday 2026-12-25 closed by the exception; deleting it restores the weekly hours.
    assert open_at(client, admin, org.a, "2026-12-25T10:00:00+08:00")["open"] is False
    resp = client.delete(f"{API}/outlets/{org.a}/hours-exceptions/2026-12-25", headers=admin)
    assert resp.status_code == 204, resp.text
    assert open_at(client, admin, org.a, "2026-12-25T10:00:00+08:00")["open"] is True
    body = assert_error(
        client.delete(f"{API}/outlets/{org.a}/hours-exceptions/2026-12-25", headers=admin),
        404,
        "not_found",
    )
    assert "2026-12-25" in body["detail"]
    assert [
        e["day"]
        for e in client.get(f"{API}/outlets/{org.a}/hours-exceptions", headers=admin).json()
    ] == ["2026-12-24", "2027-01-01"]


def test_hours_exception_validation(client, org, admin, db):
    url = f"{API}/outlets/{org.a}/hours-exceptions/2026-12-24"
    iv = [{"opens": "09:00", "closes": "12:00"}]
    body = assert_error(
        client.put(url, json={"closed": True, "intervals": iv}, headers=admin),
        422,
        "validation_error",
    )
    assert "closed day takes no intervals" in body["detail"]
    body = assert_error(
        client.put(url, json={"closed": False}, headers=admin), 422, "validation_error"
    )
    assert "closed=false needs at least one interval" in body["detail"]
    overlap = [{"opens": "09:00", "closes": "12:00"}, {"opens": "11:00", "closes": "13:00"}]
    body = assert_error(
        client.put(url, json={"closed": False, "intervals": overlap}, headers=admin),
        422,
        "validation_error",
    )
    assert "overlap" in body["detail"]
    reversed_ = [{"opens": "12:00", "closes": "09:00"}]
    assert field_paths(
        client.put(url, json={"closed": False, "intervals": reversed_}, headers=admin)
    ) == ["body.intervals.0"]
    assert field_paths(
        client.put(f"{API}/outlets/{org.a}/hours-exceptions/2026-02-30", json={}, headers=admin)
    ) == ["path.day"]
    assert db.scalar(select(func.count()).select_from(OutletHoursException)) == 0


# ---------------------------------------------------------------- counters


def test_counter_create_read_update_list(client, org, admin, db):
    resp = client.post(
        f"{API}/outlets/{org.a}/counters",
        json={"code": "C2", "name": "Claims desk", "kind": "claims"},
        headers=admin,
    )
    assert resp.status_code == 201, resp.text
    c = resp.json()
    assert (c["code"], c["kind"], c["active"], c["outlet_id"]) == ("C2", "claims", True, org.a)
    assert client.get(f"{API}/counters/{c['id']}", headers=admin).json() == c
    resp = client.patch(
        f"{API}/counters/{c['id']}", json={"active": False, "kind": "other"}, headers=admin
    )
    assert resp.status_code == 200, resp.text
    assert (resp.json()["active"], resp.json()["kind"]) == (False, "other")
    db.expire_all()
    assert db.get(Counter, c["id"]).active is False
    codes = [x["code"] for x in client.get(f"{API}/outlets/{org.a}/counters", headers=admin).json()]
    assert codes == ["C1", "C2"]


def test_counter_duplicate_code_in_outlet_is_409_but_other_outlet_is_fine(client, org, admin):
    body = assert_error(
        client.post(
            f"{API}/outlets/{org.a}/counters",
            json={"code": "C1", "kind": "issuance"},
            headers=admin,
        ),
        409,
        "conflict",
    )
    assert "C1" in body["detail"]
    # "C1" exists in outlet B too (from the fixture): codes are per outlet.
    resp = client.post(
        f"{API}/outlets/{org.b}/counters", json={"code": "C7", "kind": "other"}, headers=admin
    )
    assert resp.status_code == 201, resp.text


def test_counter_validation(client, org, admin):
    resp = client.post(
        f"{API}/outlets/{org.a}/counters", json={"code": "C3", "kind": "vault"}, headers=admin
    )
    assert field_paths(resp) == ["body.kind"]
    resp = client.post(f"{API}/outlets/{org.a}/counters", json={"kind": "claims"}, headers=admin)
    assert field_paths(resp) == ["body.code"]
    resp = client.patch(f"{API}/counters/{org.counter_a}", json={"outlet_id": org.b}, headers=admin)
    assert field_paths(resp) == ["body.outlet_id"]


# ---------------------------------------------------------------- scope and permissions


def test_supervisor_scoped_to_outlet_a_sees_only_a(client, org):
    sup = f.login(client, "sup")
    assert [o["id"] for o in client.get(f"{API}/outlets", headers=sup).json()] == [org.a]
    assert client.get(f"{API}/outlets", params={"region_id": org.r2}, headers=sup).json() == []
    assert [r["id"] for r in client.get(f"{API}/regions", headers=sup).json()] == [org.r1]
    assert client.get(f"{API}/regions/{org.r1}", headers=sup).status_code == 200
    assert client.get(f"{API}/outlets/{org.a}", headers=sup).status_code == 200
    assert client.get(f"{API}/counters/{org.counter_a}", headers=sup).status_code == 200
    # Outlet B, its region and its counters do not exist for this caller: 404, never 403.
    body = assert_error(client.get(f"{API}/outlets/{org.b}", headers=sup), 404, "not_found")
    assert body["detail"] == f"outlet {org.b} not found"
    body = assert_error(
        client.get(f"{API}/counters/{org.counter_b}", headers=sup), 404, "not_found"
    )
    assert body["detail"] == f"counter {org.counter_b} not found"
    assert_error(client.get(f"{API}/regions/{org.r2}", headers=sup), 404, "not_found")
    assert_error(client.get(f"{API}/outlets/{org.b}/counters", headers=sup), 404, "not_found")
    assert_error(
        client.get(f"{API}/outlets/{org.b}/hours-exceptions", headers=sup), 404, "not_found"
    )
    assert_error(
        client.get(
            f"{API}/outlets/{org.b}/open", params={"at": "2026-11-20T09:30:00Z"}, headers=sup
        ),
        404,
        "not_found",
    )


def test_staff_role_sees_only_its_own_outlet(client, org):
    clerk = f.login(client, "clerk")
    assert [o["id"] for o in client.get(f"{API}/outlets", headers=clerk).json()] == [org.a]
    assert [r["id"] for r in client.get(f"{API}/regions", headers=clerk).json()] == [org.r1]
    assert_error(client.get(f"{API}/outlets/{org.b}", headers=clerk), 404, "not_found")
    assert_error(client.get(f"{API}/counters/{org.counter_b}", headers=clerk), 404, "not_found")


def test_all_scope_roles_read_everything(client, org):
    for username in ("auditor", "hr"):
        h = f.login(client, username)
        assert [o["id"] for o in client.get(f"{API}/outlets", headers=h).json()] == [org.a, org.b]
        assert client.get(f"{API}/counters/{org.counter_b}", headers=h).status_code == 200


@pytest.mark.parametrize("username", ["sup", "auditor", "hr", "clerk"])
def test_only_admin_may_write(client, org, db, username):
    h = f.login(client, username)
    writes = [
        client.post(f"{API}/regions", json={"code": "R9", "name": "x"}, headers=h),
        client.patch(f"{API}/regions/{org.r1}", json={"name": "x"}, headers=h),
        client.post(f"{API}/outlets", json=outlet_body(org.r1), headers=h),
        client.patch(f"{API}/outlets/{org.a}", json={"name": "x"}, headers=h),
        client.put(f"{API}/outlets/{org.a}/hours-exceptions/2026-12-25", json={}, headers=h),
        client.delete(f"{API}/outlets/{org.a}/hours-exceptions/2026-12-25", headers=h),
        client.post(
            f"{API}/outlets/{org.a}/counters", json={"code": "C9", "kind": "other"}, headers=h
        ),
        client.patch(f"{API}/counters/{org.counter_a}", json={"name": "x"}, headers=h),
    ]
    for resp in writes:
        body = assert_error(resp, 403, "forbidden")
        assert "lacks permission 'org:write'" in body["detail"]
    db.expire_all()
    assert db.get(Region, org.r1).name == "North"
    assert db.get(Outlet, org.a).name == "Outlet OA"
    assert db.scalar(select(func.count()).select_from(Counter)) == 2
    assert db.scalar(select(func.count()).select_from(Region)) == 2


def test_unauthenticated_requests_are_401(client, org):
    for path in ("/regions", "/outlets", f"/outlets/{org.a}", f"/counters/{org.counter_a}"):
        resp = client.get(API + path)
        body = assert_error(resp, 401, "unauthenticated")
        assert resp.headers["WWW-Authenticate"] == "Bearer"
        assert "/api/v1/auth/token" in body["detail"]


def test_regions_scoped_supervisor_sees_new_outlets_of_its_region(client, org, db):
    r1 = db.get(Region, org.r1)
    f.user(db, "regional", f.Role.supervisor, regions=[r1])
    db.commit()
    h = f.login(client, "regional")
    assert [o["id"] for o in client.get(f"{API}/outlets", headers=h).json()] == [org.a]
    admin = f.login(client, "admin")
    new = client.post(f"{API}/outlets", json=outlet_body(org.r1, "OC"), headers=admin).json()
    ids = [o["id"] for o in client.get(f"{API}/outlets", headers=h).json()]
    assert sorted(ids) == sorted([org.a, new["id"]])
    assert_error(client.get(f"{API}/outlets/{org.b}", headers=h), 404, "not_found")
