"""Staff records, team leads, transfers with history, and who sees whom."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from sqlalchemy import select

from audit_service.models import Staff, StaffAssignment, StaffRole
from tests import factories as f

API = "/api/v1"


def _org(db) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    region = f.region(db)
    a = f.outlet(db, region, "A")
    b = f.outlet(db, region, "B")
    s1 = f.staff(db, a, "E001")
    s2 = f.staff(db, a, "E002", role=StaffRole.lobby_manager)
    s3 = f.staff(db, b, "E003")
    f.user(db, "admin", f.Role.admin)
    f.user(db, "hr", f.Role.hr)
    f.user(db, "hr_a", f.Role.hr, outlets=[a])
    f.user(db, "sup_a", f.Role.supervisor, outlets=[a])
    f.user(db, "clerk", f.Role.staff, staff_=s1)
    db.commit()
    return SimpleNamespace(a=a, b=b, s1=s1, s2=s2, s3=s3)


def _history(db, staff_id: int) -> list[tuple[int, date, date | None]]:  # type: ignore[no-untyped-def]
    db.commit()
    rows = db.scalars(
        select(StaffAssignment)
        .where(StaffAssignment.staff_id == staff_id)
        .order_by(StaffAssignment.valid_from)
    )
    return [(r.outlet_id, r.valid_from, r.valid_to) for r in rows]


def test_staff_crud_and_filters(client, db):
    o = _org(db)
    hr = f.login(client, "hr")
    body = {
        "employee_no": "E100",
        "name": " Li Wei ",
        "role": "counter_clerk",
        "outlet_id": o.a.id,
        "team_lead_id": o.s2.id,
        "active_from": "2026-03-01",
    }
    created = client.post(f"{API}/staff", json=body, headers=hr)
    assert created.status_code == 201, created.text
    new = created.json()
    assert (new["name"], new["outlet_id"], new["team_lead_id"]) == ("Li Wei", o.a.id, o.s2.id)
    # Creating opens the first outlet period.
    assert _history(db, new["id"]) == [(o.a.id, date(2026, 3, 1), None)]

    dup = client.post(f"{API}/staff", json=body, headers=hr)
    assert dup.status_code == 409, dup.text
    assert "E100" in dup.json()["detail"]

    bad_period = client.post(
        f"{API}/staff", headers=hr, json={**body, "employee_no": "E101", "active_to": "2026-02-01"}
    )
    assert bad_period.status_code == 422
    assert "active_to" in bad_period.json()["detail"]

    got = client.get(f"{API}/staff/{new['id']}", headers=hr)
    assert got.status_code == 200 and got.json()["employee_no"] == "E100"

    patched = client.patch(
        f"{API}/staff/{new['id']}",
        headers=hr,
        json={
            "name": "Li Wei (Ops)",
            "role": "outlet_manager",
            "team_lead_id": None,
            "active_to": "2026-12-31",
        },
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["role"] == "outlet_manager"
    assert patched.json()["team_lead_id"] is None
    assert patched.json()["active_to"] == "2026-12-31"

    # The outlet only changes through a transfer, so history is never lost.
    moved = client.patch(f"{API}/staff/{new['id']}", headers=hr, json={"outlet_id": o.b.id})
    assert moved.status_code == 422
    assert "transfer" in moved.json()["detail"]
    taken = client.patch(f"{API}/staff/{new['id']}", headers=hr, json={"employee_no": "E001"})
    assert taken.status_code == 409

    def codes(**params: object) -> list[str]:
        resp = client.get(f"{API}/staff", params=params, headers=hr)
        assert resp.status_code == 200, resp.text
        return [s["employee_no"] for s in resp.json()]

    assert codes() == ["E001", "E002", "E003", "E100"]
    assert codes(outlet_id=o.b.id) == ["E003"]
    assert codes(role="lobby_manager") == ["E002"]
    assert codes(q="li wei") == ["E100"]
    assert codes(q="e00") == ["E001", "E002", "E003"]
    assert codes(q="%") == []  # wildcards are searched literally
    assert codes(active_on="2026-02-01") == ["E001", "E002", "E003"]
    assert codes(active_on="2027-01-01") == ["E001", "E002", "E003"]
    assert codes(active_on="2026-06-01") == ["E001", "E002", "E003", "E100"]

    assert client.get(f"{API}/staff/999999", headers=hr).status_code == 404
    assert client.get(f"{API}/staff/0", headers=hr).status_code == 422
    # A supervisor reads staff but may not write them.
    sup = f.login(client, "sup_a")
    assert (
        client.post(f"{API}/staff", json={**body, "employee_no": "E102"}, headers=sup).status_code
        == 403
    )


def test_transfer_keeps_history(client, db):
    o = _org(db)
    hr = f.login(client, "hr")
    resp = client.post(
        f"{API}/staff/{o.s1.id}/transfer",
        headers=hr,
        json={"outlet_id": o.b.id, "effective": "2026-06-01"},
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["outlet_id"] == o.b.id
    assert body["assignment"]["outlet_id"] == o.b.id
    assert body["assignment"]["valid_from"] == "2026-06-01"
    assert _history(db, o.s1.id) == [
        (o.a.id, date(2026, 1, 1), date(2026, 5, 31)),
        (o.b.id, date(2026, 6, 1), None),
    ]
    db.expire_all()
    assert db.get(Staff, o.s1.id).outlet_id == o.b.id

    # A promotion at the same outlet is a transfer too: the role is kept per period.
    promoted = client.post(
        f"{API}/staff/{o.s1.id}/transfer",
        headers=hr,
        json={"outlet_id": o.b.id, "effective": "2026-09-01", "role": "outlet_manager"},
    )
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["role"] == "outlet_manager"

    hist = client.get(f"{API}/staff/{o.s1.id}/history", headers=hr)
    assert hist.status_code == 200, hist.text
    assert [
        (h["outlet_code"], h["role"], h["valid_from"], h["valid_to"], h["current"])
        for h in hist.json()
    ] == [
        ("A", "counter_clerk", "2026-01-01", "2026-05-31", False),
        ("B", "counter_clerk", "2026-06-01", "2026-08-31", False),
        ("B", "outlet_manager", "2026-09-01", None, True),
    ]

    # Periods cannot be rewritten by a transfer dated before the current one began.
    back = client.post(
        f"{API}/staff/{o.s1.id}/transfer",
        headers=hr,
        json={"outlet_id": o.a.id, "effective": "2026-08-01"},
    )
    assert back.status_code == 422
    assert "effective" in back.json()["detail"]
    same = client.post(
        f"{API}/staff/{o.s1.id}/transfer",
        headers=hr,
        json={"outlet_id": o.b.id, "effective": "2026-10-01"},
    )
    assert same.status_code == 422
    assert len(_history(db, o.s1.id)) == 3


def test_transfer_out_of_scope_is_404(client, db):
    o = _org(db)
    hr_a = f.login(client, "hr_a")
    resp = client.post(
        f"{API}/staff/{o.s2.id}/transfer",
        headers=hr_a,
        json={"outlet_id": o.b.id, "effective": "2026-06-01"},
    )
    assert resp.status_code == 404, resp.text
    assert resp.json()["detail"] == f"outlet {o.b.id} not found"
    assert _history(db, o.s2.id) == [(o.a.id, date(2026, 1, 1), None)]
    # Staff of another outlet are unknown to hr_a, also as the one to transfer.
    other = client.post(
        f"{API}/staff/{o.s3.id}/transfer",
        headers=hr_a,
        json={"outlet_id": o.a.id, "effective": "2026-06-01"},
    )
    assert other.status_code == 404
    assert client.get(f"{API}/staff/{o.s3.id}", headers=hr_a).status_code == 404
    listed = client.get(f"{API}/staff", headers=f.login(client, "sup_a")).json()
    assert [s["employee_no"] for s in listed] == ["E001", "E002"]


def test_team_lead_must_exist_not_self_and_no_cycle(client, db):
    o = _org(db)
    hr = f.login(client, "hr")

    def set_lead(staff: Staff, lead_id: int | None):  # type: ignore[no-untyped-def]
        return client.patch(f"{API}/staff/{staff.id}", headers=hr, json={"team_lead_id": lead_id})

    assert set_lead(o.s1, 999_999).status_code == 422
    own = set_lead(o.s1, o.s1.id)
    assert own.status_code == 422 and "own team lead" in own.json()["detail"]
    # E001 → E002 → E003 (→ means "is led by")
    assert set_lead(o.s1, o.s2.id).status_code == 200
    assert set_lead(o.s2, o.s3.id).status_code == 200
    cycle = set_lead(o.s3, o.s1.id)
    assert cycle.status_code == 422, cycle.text
    assert cycle.json()["field"] == "team_lead_id"
    assert "cycle" in cycle.json()["detail"]
    assert "E003 → E001 → E002 → E003" in cycle.json()["detail"]
    db.expire_all()
    assert db.get(Staff, o.s3.id).team_lead_id is None
    # A lead outside the caller's scope does not exist for them.
    hr_a = f.login(client, "hr_a")
    hidden = client.patch(f"{API}/staff/{o.s1.id}", headers=hr_a, json={"team_lead_id": o.s3.id})
    assert hidden.status_code == 422
    assert "not found" in hidden.json()["detail"]


def test_staff_role_sees_only_own_record(client, db):
    o = _org(db)
    me = f.login(client, "clerk")
    listed = client.get(f"{API}/staff", headers=me)
    assert listed.status_code == 200
    assert [s["id"] for s in listed.json()] == [o.s1.id]
    # Filters cannot widen it.
    assert client.get(f"{API}/staff", params={"q": "E002"}, headers=me).json() == []
    assert client.get(f"{API}/staff/{o.s1.id}", headers=me).status_code == 200
    assert client.get(f"{API}/staff/{o.s2.id}", headers=me).status_code == 404
    assert client.get(f"{API}/staff/{o.s1.id}/history", headers=me).status_code == 200
    assert client.get(f"{API}/staff/{o.s2.id}/history", headers=me).status_code == 404
    assert client.patch(f"{API}/staff/{o.s1.id}", json={"name": "x"}, headers=me).status_code == 403
