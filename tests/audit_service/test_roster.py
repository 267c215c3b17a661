"""Shifts, shared counters, the all-or-nothing roster CSV import (API and CLI) and scope."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from audit_service import cli
from audit_service.config import get_settings
from audit_service.models import Shift, StaffAssignment, StaffRole
from tests import factories as f
from tests.conftest import TEST_SECRET

API = "/api/v1"
HEADER = "employee_no,outlet_code,counter_code,role,starts_at,ends_at"


def _org(db) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    region = f.region(db)
    a = f.outlet(db, region, "A")  # Asia/Shanghai, +08:00
    b = f.outlet(db, region, "B")
    a1 = f.counter(db, a, "C1")
    a2 = f.counter(db, a, "C2")
    b1 = f.counter(db, b, "C1")
    s1 = f.staff(db, a, "E001")
    s2 = f.staff(db, a, "E002")
    s3 = f.staff(db, b, "E003")
    lm = f.staff(db, a, "E004", role=StaffRole.lobby_manager)
    f.user(db, "admin", f.Role.admin)
    f.user(db, "sup_a", f.Role.supervisor, outlets=[a])
    f.user(db, "clerk", f.Role.staff, staff_=s1)
    db.commit()
    return SimpleNamespace(a=a, b=b, a1=a1, a2=a2, b1=b1, s1=s1, s2=s2, s3=s3, lm=lm)


def _count(db) -> int:  # type: ignore[no-untyped-def]
    db.commit()  # end any read transaction so the count sees the API's commits
    return int(db.scalar(select(func.count()).select_from(Shift)))


def _shift(staff, outlet, counter, start: str, end: str) -> dict:  # type: ignore[no-untyped-def]
    return {
        "staff_id": staff.id,
        "outlet_id": outlet.id,
        "role": "counter" if counter else "lobby_manager",
        "counter_id": counter.id if counter else None,
        "starts_at": start,
        "ends_at": end,
    }


def _upload(client, headers, content: str | bytes, *, dry_run: bool = False):  # type: ignore[no-untyped-def]
    data = content.encode("utf-8") if isinstance(content, str) else content
    return client.post(
        f"{API}/roster/import",
        params={"dry_run": str(dry_run).lower()},
        headers=headers,
        files={"file": ("roster.csv", data, "text/csv")},
    )


def _csv(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


def _utc(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


# ---------------------------------------------------------------- shifts


def test_create_shift_and_reject_overlap_of_one_person(client, db):
    o = _org(db)
    admin = f.login(client, "admin")
    first = client.post(
        f"{API}/shifts",
        headers=admin,
        json=_shift(o.s1, o.a, o.a1, "2026-11-23T09:00:00+08:00", "2026-11-23T13:00:00+08:00"),
    )
    assert first.status_code == 201, first.text
    body = first.json()
    assert _utc(body["starts_at"]) == datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    assert (body["employee_no"], body["shared_counter"], body["shared_counter_with"]) == (
        "E001",
        False,
        [],
    )

    # The same person at another counter at an overlapping time: rejected, naming both shifts.
    clash = client.post(
        f"{API}/shifts",
        headers=admin,
        json=_shift(o.s1, o.a, o.a2, "2026-11-23T12:00:00+08:00", "2026-11-23T18:00:00+08:00"),
    )
    assert clash.status_code == 409, clash.text
    detail = clash.json()["detail"]
    assert f"shift {body['id']}" in detail
    assert "2026-11-23 12:00–18:00 (+08:00)" in detail
    assert "2026-11-23 09:00–13:00 (+08:00)" in detail
    assert clash.json()["conflicting_shift_ids"] == [body["id"]]
    assert _count(db) == 1

    # Back to back is not an overlap.
    after = client.post(
        f"{API}/shifts",
        headers=admin,
        json=_shift(o.s1, o.a, o.a2, "2026-11-23T13:00:00+08:00", "2026-11-23T18:00:00+08:00"),
    )
    assert after.status_code == 201, after.text
    assert _count(db) == 2

    # Delete, then the slot is free again.
    assert client.delete(f"{API}/shifts/{body['id']}", headers=admin).status_code == 204
    assert client.get(f"{API}/shifts/{body['id']}", headers=admin).status_code == 404
    assert _count(db) == 1


def test_shift_rules(client, db):
    o = _org(db)
    admin = f.login(client, "admin")

    def post(payload: dict):  # type: ignore[no-untyped-def]
        return client.post(f"{API}/shifts", headers=admin, json=payload)

    naive = post(_shift(o.s1, o.a, o.a1, "2026-11-23T09:00:00", "2026-11-23T13:00:00"))
    assert naive.status_code == 422
    assert "timezone" in naive.json()["detail"]
    backwards = post(
        _shift(o.s1, o.a, o.a1, "2026-11-23T13:00:00+08:00", "2026-11-23T09:00:00+08:00")
    )
    assert backwards.status_code == 422 and "must be after" in backwards.json()["detail"]
    too_long = post(
        _shift(o.s1, o.a, o.a1, "2026-11-23T06:00:00+08:00", "2026-11-23T23:00:00+08:00")
    )
    assert too_long.status_code == 422 and "16 h" in too_long.json()["detail"]
    wrong_counter = post(
        _shift(o.s1, o.a, o.b1, "2026-11-23T09:00:00+08:00", "2026-11-23T13:00:00+08:00")
    )
    assert wrong_counter.status_code == 422
    assert "not found in outlet 'A'" in wrong_counter.json()["detail"]
    lobby_with_counter = post(
        {
            **_shift(o.lm, o.a, None, "2026-11-23T09:00:00+08:00", "2026-11-23T13:00:00+08:00"),
            "counter_id": o.a1.id,
        }
    )
    assert lobby_with_counter.status_code == 422
    # E003 works at outlet B: not rostered at A.
    elsewhere = post(
        _shift(o.s3, o.a, o.a1, "2026-11-23T09:00:00+08:00", "2026-11-23T13:00:00+08:00")
    )
    assert elsewhere.status_code == 422
    assert "not assigned to outlet 'A' on 2026-11-23" in elsewhere.json()["detail"]
    lobby = post(_shift(o.lm, o.a, None, "2026-11-23T09:00:00+08:00", "2026-11-23T13:00:00+08:00"))
    assert lobby.status_code == 201, lobby.text
    assert lobby.json()["counter_id"] is None
    assert _count(db) == 1


def test_shift_follows_outlet_history(client, db):
    """A transferred person is rostered at the old outlet before the move, the new one after."""
    o = _org(db)
    hr_like = f.login(client, "admin")
    moved = client.post(
        f"{API}/staff/{o.s1.id}/transfer",
        headers=hr_like,
        json={"outlet_id": o.b.id, "effective": "2026-11-25"},
    )
    assert moved.status_code == 200, moved.text
    before_at_a = client.post(
        f"{API}/shifts",
        headers=hr_like,
        json=_shift(o.s1, o.a, o.a1, "2026-11-24T09:00:00+08:00", "2026-11-24T17:00:00+08:00"),
    )
    assert before_at_a.status_code == 201, before_at_a.text
    after_at_a = client.post(
        f"{API}/shifts",
        headers=hr_like,
        json=_shift(o.s1, o.a, o.a1, "2026-11-25T09:00:00+08:00", "2026-11-25T17:00:00+08:00"),
    )
    assert after_at_a.status_code == 422
    assert "2026-11-25" in after_at_a.json()["detail"]
    after_at_b = client.post(
        f"{API}/shifts",
        headers=hr_like,
        json=_shift(o.s1, o.b, o.b1, "2026-11-25T09:00:00+08:00", "2026-11-25T17:00:00+08:00"),
    )
    assert after_at_b.status_code == 201, after_at_b.text
    # A night shift ending on the transfer day spans both periods: rejected.
    night = client.post(
        f"{API}/shifts",
        headers=hr_like,
        json=_shift(o.s1, o.a, o.a2, "2026-11-24T20:00:00+08:00", "2026-11-25T02:00:00+08:00"),
    )
    assert night.status_code == 422


def test_two_people_on_one_counter_allowed_and_flagged(client, db):
    o = _org(db)
    admin = f.login(client, "admin")
    one = client.post(
        f"{API}/shifts",
        headers=admin,
        json=_shift(o.s1, o.a, o.a1, "2026-11-23T09:00:00+08:00", "2026-11-23T13:00:00+08:00"),
    )
    two = client.post(
        f"{API}/shifts",
        headers=admin,
        json=_shift(o.s2, o.a, o.a1, "2026-11-23T12:00:00+08:00", "2026-11-23T17:00:00+08:00"),
    )
    alone = client.post(
        f"{API}/shifts",
        headers=admin,
        json=_shift(o.lm, o.a, o.a2, "2026-11-23T12:00:00+08:00", "2026-11-23T17:00:00+08:00"),
    )
    # A handover right after E002's shift ends is not double staffing.
    handover = client.post(
        f"{API}/shifts",
        headers=admin,
        json=_shift(o.lm, o.a, o.a1, "2026-11-23T17:00:00+08:00", "2026-11-23T19:00:00+08:00"),
    )
    assert [r.status_code for r in (one, two, alone, handover)] == [201] * 4, two.text
    one_id, two_id, alone_id = one.json()["id"], two.json()["id"], alone.json()["id"]
    assert two.json()["shared_counter_with"] == [one_id]

    listed = client.get(f"{API}/shifts", headers=admin, params={"outlet_id": o.a.id}).json()
    flags = {s["id"]: (s["shared_counter"], s["shared_counter_with"]) for s in listed}
    assert flags == {
        one_id: (True, [two_id]),
        two_id: (True, [one_id]),
        alone_id: (False, []),
        handover.json()["id"]: (False, []),
    }

    window = {
        "outlet_id": o.a.id,
        "start": "2026-11-23T00:00:00+08:00",
        "end": "2026-11-24T00:00:00+08:00",
    }
    conflicts = client.get(f"{API}/roster/conflicts", headers=admin, params=window)
    assert conflicts.status_code == 200, conflicts.text
    [c] = conflicts.json()
    assert (c["counter_id"], c["counter_code"], c["shift_ids"], c["staff_ids"]) == (
        o.a1.id,
        "C1",
        sorted([one_id, two_id]),
        sorted([o.s1.id, o.s2.id]),
    )
    assert _utc(c["starts_at"]) == datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # 12:00 +08:00
    assert _utc(c["ends_at"]) == datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # 13:00 +08:00
    naive = client.get(
        f"{API}/roster/conflicts", headers=admin, params={**window, "start": "2026-11-23T00:00:00"}
    )
    assert naive.status_code == 422


def test_list_shift_filters_use_overlap(client, db):
    o = _org(db)
    admin = f.login(client, "admin")
    for staff, counter, start, end in [
        (o.s1, o.a1, "2026-11-23T09:00:00+08:00", "2026-11-23T13:00:00+08:00"),
        (o.s2, o.a2, "2026-11-23T13:00:00+08:00", "2026-11-23T17:00:00+08:00"),
        (o.s3, o.b1, "2026-11-23T09:00:00+08:00", "2026-11-23T17:00:00+08:00"),
    ]:
        outlet = o.a if counter is not o.b1 else o.b
        assert (
            client.post(
                f"{API}/shifts", headers=admin, json=_shift(staff, outlet, counter, start, end)
            ).status_code
            == 201
        )

    def who(**params: object) -> list[str]:
        resp = client.get(f"{API}/shifts", headers=admin, params=params)
        assert resp.status_code == 200, resp.text
        return sorted(s["employee_no"] for s in resp.json())

    assert who() == ["E001", "E002", "E003"]
    assert who(outlet_id=o.a.id) == ["E001", "E002"]
    assert who(staff_id=o.s2.id) == ["E002"]
    assert who(counter_id=o.a1.id) == ["E001"]
    # A window from 12:00 to 12:30 overlaps the 09-13 and 09-17 shifts, not the 13-17 one.
    assert who(start="2026-11-23T12:00:00+08:00", end="2026-11-23T12:30:00+08:00") == [
        "E001",
        "E003",
    ]
    # The 13-17 shift starts where the window ends: no overlap.
    assert who(end="2026-11-23T13:00:00+08:00") == ["E001", "E003"]


def test_staff_role_sees_only_own_shifts(client, db):
    o = _org(db)
    admin = f.login(client, "admin")
    mine = client.post(
        f"{API}/shifts",
        headers=admin,
        json=_shift(o.s1, o.a, o.a1, "2026-11-23T09:00:00+08:00", "2026-11-23T13:00:00+08:00"),
    ).json()
    theirs = client.post(
        f"{API}/shifts",
        headers=admin,
        json=_shift(o.s2, o.a, o.a2, "2026-11-23T09:00:00+08:00", "2026-11-23T13:00:00+08:00"),
    ).json()
    me = f.login(client, "clerk")
    listed = client.get(f"{API}/shifts", headers=me, params={"outlet_id": o.a.id})
    assert [s["id"] for s in listed.json()] == [mine["id"]]
    assert client.get(f"{API}/shifts/{mine['id']}", headers=me).status_code == 200
    assert client.get(f"{API}/shifts/{theirs['id']}", headers=me).status_code == 404
    assert (
        client.post(
            f"{API}/shifts",
            headers=me,
            json=_shift(o.s1, o.a, o.a1, "2026-11-24T09:00:00+08:00", "2026-11-24T13:00:00+08:00"),
        ).status_code
        == 403
    )
    assert client.delete(f"{API}/shifts/{mine['id']}", headers=me).status_code == 403


# ---------------------------------------------------------------- CSV import


def test_import_happy_path(client, db):
    o = _org(db)
    admin = f.login(client, "admin")
    text = _csv(
        # No offset: local time of outlet A (Asia/Shanghai).
        "E001,A,C1,counter,2026-11-23T09:00,2026-11-23T13:00",
        "E002,A,C1,counter,2026-11-23 12:00,2026-11-23 17:00",  # shares C1 with row 2
        "",  # blank lines are skipped but still count as spreadsheet rows
        "E004,A,,lobby_manager,2026-11-23T00:30:00Z,2026-11-23T09:30:00Z",
        "E003,B,C1,COUNTER,2026-11-23T09:00+08:00,2026-11-23T17:00+08:00",
    )
    resp = _upload(client, admin, "\ufeff" + text)  # Excel's BOM is fine
    assert resp.status_code == 200, resp.text
    report = resp.json()
    assert (report["ok"], report["dry_run"], report["rows"], report["imported"]) == (
        True,
        False,
        4,
        4,
    )
    assert report["errors"] == []
    shared = {w["row"]: w for w in report["warnings"]}
    assert set(shared) == {2, 3}
    assert shared[2]["column"] == "counter_code"
    assert "'E002' (row 3)" in shared[2]["message"]
    assert "'E001' (row 2)" in shared[3]["message"]

    db.commit()
    stored = {s.staff.employee_no: s for s in db.scalars(select(Shift))}
    assert set(stored) == {"E001", "E002", "E003", "E004"}
    assert stored["E001"].starts_at == datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    assert stored["E002"].ends_at == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert stored["E004"].counter_id is None
    assert stored["E003"].counter_id == o.b1.id
    assert {s.import_batch for s in stored.values()} == {report["batch_id"]}


def test_import_errors_name_row_and_column_and_import_nothing(client, db):
    o = _org(db)
    admin = f.login(client, "admin")
    client.post(
        f"{API}/shifts",
        headers=admin,
        json=_shift(o.s1, o.a, o.a1, "2026-11-20T09:00:00+08:00", "2026-11-20T13:00:00+08:00"),
    )
    before = _count(db)
    text = _csv(
        "E001,A,C1,counter,2026-11-23T09:00,2026-11-23T13:00",  # row 2: fine
        "E999,A,C1,counter,2026-11-23T09:00,2026-11-23T13:00",  # row 3: unknown employee
        "E002,A,C9,counter,2026-11-23T09:00,2026-11-23T13:00",  # row 4: unknown counter
        "E002,A,C1,cashier,2026-11-24T09:00,2026-11-24T13:00",  # row 5: bad role
        "E002,A,C1,counter,23/11/2026 09:00,2026-11-23T13:00",  # row 6: bad time
        "E002,A,C1,counter,2026-11-25T13:00,2026-11-25T09:00",  # row 7: ends before starts
        "E004,A,C1,lobby_manager,2026-11-23T09:00,2026-11-23T13:00",  # row 8: counter given
        "E003,A,C1,counter,2026-11-26T09:00,2026-11-26T13:00",  # row 9: E003 is at B
        "E002,A,C1,counter,2026-11-27T09:00",  # row 10: a value missing
        "E002,A,,counter,2026-11-28T09:00,2026-11-28T13:00",  # row 11: counter missing
        "E002,A,C2,counter,2026-11-29T06:00,2026-11-29T23:00",  # row 12: 17 h
    )
    resp = _upload(client, admin, text)
    assert resp.status_code == 422, resp.text
    report = resp.json()
    assert report["error"] == "invalid_input"
    assert "nothing was imported" in report["detail"]
    assert (report["ok"], report["imported"], report["rows"]) == (False, 0, 11)
    got = [(e["row"], e["column"]) for e in report["errors"]]
    assert got == [
        (3, "employee_no"),
        (4, "counter_code"),
        (5, "role"),
        (6, "starts_at"),
        (7, "ends_at"),
        (8, "counter_code"),
        (9, "employee_no"),
        (10, None),
        (11, "counter_code"),
        (12, "ends_at"),
    ]
    messages = {e["row"]: e["message"] for e in report["errors"]}
    assert messages[3] == "employee 'E999' not found"
    assert "counter 'C9' not found in outlet 'A'" in messages[4]
    assert "'counter' or 'lobby_manager'" in messages[5]
    assert "ISO 8601" in messages[6]
    assert "not assigned to outlet 'A'" in messages[9]
    assert messages[10].startswith("the row has 5 values but the header has 6")
    assert report["errors_total"] == 10
    assert _count(db) == before  # row 2 was valid, but all or nothing


def test_import_malformed_files_give_clear_errors(client, db):
    _org(db)
    admin = f.login(client, "admin")
    row = "E001,A,C1,counter,2026-11-23T09:00,2026-11-23T13:00"
    cases: list[tuple[str, str | bytes, int | None, str | None, str]] = [
        (
            "missing column",
            "employee_no,outlet_code,counter_code,role,starts_at\n"
            "E001,A,C1,counter,2026-11-23T09:00\n",
            1,
            "ends_at",
            "missing column 'ends_at'",
        ),
        (
            "typo",
            HEADER.replace("starts_at", "start_at") + "\n" + row,
            1,
            "start_at",
            "did you mean 'starts_at'?",
        ),
        (
            "semicolons",
            HEADER.replace(",", ";") + "\n" + row.replace(",", ";"),
            1,
            None,
            "semicolons",
        ),
        ("empty", "", 1, None, "the file is empty"),
        ("header only", HEADER + "\n", None, None, "no data rows"),
        (
            "gbk",
            (HEADER + "\nE001,A,C1,counter,二〇二六,2026-11-23T13:00\n").encode("gbk"),
            None,
            None,
            "not UTF-8",
        ),
        ("xlsx", b"PK\x03\x04" + b"\x00" * 100, None, None, "Excel workbook"),
        ("too many rows", HEADER + "\n" + "\n".join([row] * 20_001), None, None, "too many rows"),
        (
            "too large",
            HEADER + "\n" + row + "\n" + "#" * (5 * 1024 * 1024),
            None,
            None,
            "too large",
        ),
        (
            "bad quotes",
            HEADER + '\nE001,A,C1,counter,"2026-11-23T09:00\n' + "x" * 140_000,
            2,
            None,
            "unreadable CSV",
        ),
    ]
    for name, content, row_no, column, text in cases:
        resp = _upload(client, admin, content)
        assert resp.status_code == 422, (name, resp.status_code, resp.text[:300])
        report = resp.json()
        assert report["ok"] is False and report["imported"] == 0, name
        first = report["errors"][0]
        assert (first["row"], first["column"]) == (row_no, column), (name, first)
        assert text in first["message"], (name, first["message"])
    assert _count(db) == 0


def test_import_dry_run_stores_nothing(client, db):
    _org(db)
    admin = f.login(client, "admin")
    text = _csv(
        "E001,A,C1,counter,2026-11-23T09:00,2026-11-23T13:00",
        "E002,A,C2,counter,2026-11-23T09:00,2026-11-23T13:00",
    )
    dry = _upload(client, admin, text, dry_run=True)
    assert dry.status_code == 200, dry.text
    assert (
        dry.json()["ok"],
        dry.json()["dry_run"],
        dry.json()["imported"],
        dry.json()["batch_id"],
    ) == (True, True, 0, None)
    assert _count(db) == 0
    real = _upload(client, admin, text)
    assert real.status_code == 200 and real.json()["imported"] == 2
    assert _count(db) == 2


def test_import_overlapping_stored_or_same_file_fails_whole(client, db):
    o = _org(db)
    admin = f.login(client, "admin")
    stored = client.post(
        f"{API}/shifts",
        headers=admin,
        json=_shift(o.s1, o.a, o.a1, "2026-11-23T09:00:00+08:00", "2026-11-23T13:00:00+08:00"),
    ).json()
    text = _csv(
        "E002,A,C2,counter,2026-11-23T09:00,2026-11-23T13:00",  # fine
        "E001,A,C2,counter,2026-11-23T12:00,2026-11-23T15:00",  # overlaps stored shift
        "E002,A,C1,counter,2026-11-24T09:00,2026-11-24T13:00",
        "E002,A,C2,counter,2026-11-24T12:30,2026-11-24T14:00",  # overlaps row 4
    )
    resp = _upload(client, admin, text)
    assert resp.status_code == 422, resp.text
    errors = resp.json()["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [(3, "starts_at"), (5, "starts_at")]
    assert f"stored shift {stored['id']}" in errors[0]["message"]
    assert "row 4" in errors[1]["message"]
    assert _count(db) == 1

    # Importing the same valid file twice: the second run fails whole, as a re-import.
    ok = _csv(
        "E002,A,C2,counter,2026-11-25T09:00,2026-11-25T13:00",
        "E004,A,,lobby_manager,2026-11-25T09:00,2026-11-25T13:00",
    )
    assert _upload(client, admin, ok).status_code == 200
    again = _upload(client, admin, ok)
    assert again.status_code == 422
    assert all("already stored" in e["message"] for e in again.json()["errors"])
    assert _count(db) == 3


def test_import_dst_local_times_need_an_offset(client, db):
    region = f.region(db)
    ny = f.outlet(db, region, "NY", tz="America/New_York")
    f.counter(db, ny, "C1")
    f.staff(db, ny, "E100")
    f.user(db, "admin", f.Role.admin)
    db.commit()
    admin = f.login(client, "admin")
    gap = _upload(client, admin, _csv("E100,NY,C1,counter,2027-03-14T02:30,2027-03-14T08:00"))
    assert gap.status_code == 422
    assert "does not exist in America/New_York" in gap.json()["errors"][0]["message"]
    fine = _upload(client, admin, _csv("E100,NY,C1,counter,2027-03-15T09:00,2027-03-15T17:00"))
    assert fine.status_code == 200, fine.text
    db.commit()
    # 09:00 EDT (-04:00) is 13:00 UTC.
    assert db.scalar(select(Shift.starts_at)) == datetime(2027, 3, 15, 13, 0, tzinfo=UTC)


# ---------------------------------------------------------------- CLI


@pytest.fixture
def cli_env(monkeypatch, settings):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AUDITLENS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("AUDITLENS_ENVIRONMENT", "test")
    monkeypatch.setenv("AUDITLENS_SECRET_KEY", TEST_SECRET)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_cli_roster_import_dry_run_then_real(client, db, cli_env, tmp_path, capsys):
    _org(db)
    # The command runs on the system clock: shifts a month ahead never start "in the past".
    d1, d2, d3 = (date.today() + timedelta(days=30 + i) for i in range(3))
    path = tmp_path / "roster.csv"
    path.write_text(
        _csv(
            f"E001,A,C1,counter,{d1}T09:00,{d1}T13:00",
            f"E002,A,C1,counter,{d1}T10:00,{d1}T14:00",
        ),
        encoding="utf-8",
    )
    assert cli.main(["roster", "import", str(path), "--dry-run"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["ok"], report["dry_run"], report["rows"], report["imported"]) == (
        True,
        True,
        2,
        0,
    )
    assert len(report["warnings"]) == 2  # the shared counter, on both rows
    assert _count(db) == 0

    assert cli.main(["roster", "import", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["imported"] == 2
    assert _count(db) == 2

    bad = tmp_path / "bad.csv"
    bad.write_text(
        _csv(
            f"E001,A,C1,counter,{d2}T09:00,{d2}T13:00",
            f"E001,Z,C1,counter,{d3}T09:00,{d3}T13:00",
        ),
        encoding="utf-8",
    )
    assert cli.main(["roster", "import", str(bad)]) == 1
    failed = json.loads(capsys.readouterr().out)
    assert failed["errors"] == [
        {"row": 3, "column": "outlet_code", "message": "outlet 'Z' not found"}
    ]
    assert _count(db) == 2


# ---------------------------------------------------------------- scope


def test_supervisor_of_a_cannot_see_or_import_into_b(client, db):
    o = _org(db)
    admin = f.login(client, "admin")
    at_a = client.post(
        f"{API}/shifts",
        headers=admin,
        json=_shift(o.s1, o.a, o.a1, "2026-11-23T09:00:00+08:00", "2026-11-23T13:00:00+08:00"),
    ).json()
    at_b = client.post(
        f"{API}/shifts",
        headers=admin,
        json=_shift(o.s3, o.b, o.b1, "2026-11-23T09:00:00+08:00", "2026-11-23T13:00:00+08:00"),
    ).json()
    sup = f.login(client, "sup_a")
    assert [s["id"] for s in client.get(f"{API}/shifts", headers=sup).json()] == [at_a["id"]]
    assert client.get(f"{API}/shifts", headers=sup, params={"outlet_id": o.b.id}).json() == []
    assert client.get(f"{API}/shifts/{at_b['id']}", headers=sup).status_code == 404
    assert client.delete(f"{API}/shifts/{at_b['id']}", headers=sup).status_code == 404
    window = {
        "outlet_id": o.b.id,
        "start": "2026-11-23T00:00:00+08:00",
        "end": "2026-11-24T00:00:00+08:00",
    }
    assert client.get(f"{API}/roster/conflicts", headers=sup, params=window).status_code == 404
    create_b = client.post(
        f"{API}/shifts",
        headers=sup,
        json=_shift(o.s3, o.b, o.b1, "2026-11-24T09:00:00+08:00", "2026-11-24T13:00:00+08:00"),
    )
    assert create_b.status_code == 404
    # Staff of B are unknown at A too.
    create_s3_at_a = client.post(
        f"{API}/shifts",
        headers=sup,
        json=_shift(o.s3, o.a, o.a1, "2026-11-24T09:00:00+08:00", "2026-11-24T13:00:00+08:00"),
    )
    assert create_s3_at_a.status_code == 422
    assert create_s3_at_a.json()["detail"] == f"staff_id: staff {o.s3.id} not found"
    before = _count(db)

    resp = _upload(
        client,
        sup,
        _csv(
            "E001,A,C1,counter,2026-11-24T09:00,2026-11-24T13:00",
            "E003,B,C1,counter,2026-11-24T09:00,2026-11-24T13:00",
        ),
    )
    assert resp.status_code == 422, resp.text
    assert resp.json()["errors"] == [
        {"row": 3, "column": "outlet_code", "message": "outlet 'B' not found"}
    ]
    assert _count(db) == before
    # The same file from an admin (all outlets) goes in.
    assert (
        _upload(
            client,
            admin,
            _csv(
                "E001,A,C1,counter,2026-11-24T09:00,2026-11-24T13:00",
                "E003,B,C1,counter,2026-11-24T09:00,2026-11-24T13:00",
            ),
        ).status_code
        == 200
    )
    assert _count(db) == before + 2
    db.commit()
    assert db.scalar(select(func.count()).select_from(StaffAssignment)) == 4
