"""/auth/me and scope resolution, account administration, and the `auditlens user` CLI."""

from __future__ import annotations

import io
import sys

import pytest
from sqlalchemy import func, select

from audit_service import cli
from audit_service.authz import ROLE_PERMISSIONS, Permission
from audit_service.config import get_settings
from audit_service.models import Role, User, UserSession
from tests import factories as f

API = "/api/v1"
ALL_PERMISSIONS = sorted(p.value for p in Permission)
NEW_PASSWORD = "another-good-password"


def assert_error(resp, status: int, error: str) -> dict:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["error"] == error, body
    assert isinstance(body["detail"], str) and body["detail"], body
    return body


def field_paths(resp) -> list[str]:
    body = assert_error(resp, 422, "validation_error")
    return [x["field"] for x in body["fields"]]


def live_sessions(db, username: str) -> int:
    db.rollback()
    return int(
        db.scalar(
            select(func.count())
            .select_from(UserSession)
            .join(User, User.id == UserSession.user_id)
            .where(User.username == username, UserSession.revoked_at.is_(None))
        )
    )


def get_user(db, username: str) -> User:
    db.rollback()
    return db.scalar(select(User).where(User.username == username))


@pytest.fixture
def org(db):
    """Two regions: R1 with outlets O1, O2; R2 with O3. A clerk at O2."""
    r1, r2 = f.region(db, "R1", "North"), f.region(db, "R2", "South")
    o1, o2, o3 = f.outlet(db, r1, "O1"), f.outlet(db, r1, "O2"), f.outlet(db, r2, "O3")
    clerk = f.staff(db, o2, "E001")
    spare = f.staff(db, o3, "E002")
    f.user(db, "admin", Role.admin)
    db.commit()
    return {
        "r1": r1.id,
        "r2": r2.id,
        "o1": o1.id,
        "o2": o2.id,
        "o3": o3.id,
        "clerk": clerk.id,
        "spare": spare.id,
    }


@pytest.fixture
def admin(client, org) -> dict[str, str]:
    return f.login(client, "admin")


def user_body(username: str = "carol", **kw) -> dict:
    body = {
        "username": username,
        "password": "a-strong-password",
        "role": "supervisor",
        "display_name": "Carol",
    }
    body.update(kw)
    return body


# ---------------------------------------------------------------- /auth/me and scope


def test_me_of_an_admin_shows_every_permission_and_all_outlets(client, org, admin):
    me = client.get(f"{API}/auth/me", headers=admin).json()
    assert me["username"] == "admin" and me["role"] == "admin"
    assert me["permissions"] == ALL_PERMISSIONS
    assert me["visible_outlet_ids"] is None
    assert me["scope_kind"] == "all"
    assert "password_hash" not in me and "password" not in str(me)


def test_regions_scope_expands_to_the_outlets_of_those_regions(client, db, org):
    r1 = db.get(f.Region, org["r1"])
    f.user(db, "sup", Role.supervisor, regions=[r1])
    db.commit()
    me = client.get(f"{API}/auth/me", headers=f.login(client, "sup")).json()
    assert me["scope_kind"] == "regions"
    assert me["region_ids"] == [org["r1"]] and me["outlet_ids"] == []
    assert me["visible_outlet_ids"] == sorted([org["o1"], org["o2"]])
    assert me["permissions"] == sorted(p.value for p in ROLE_PERMISSIONS[Role.supervisor])
    assert "user:admin" not in me["permissions"]


def test_outlets_scope_sees_exactly_those_outlets(client, db, org):
    f.user(
        db, "aud", Role.auditor, outlets=[db.get(f.Outlet, org["o1"]), db.get(f.Outlet, org["o3"])]
    )
    db.commit()
    me = client.get(f"{API}/auth/me", headers=f.login(client, "aud")).json()
    assert me["visible_outlet_ids"] == sorted([org["o1"], org["o3"]])
    assert me["permissions"] == sorted(p.value for p in ROLE_PERMISSIONS[Role.auditor])
    assert "audit:submit" in me["permissions"] and "audit:review" not in me["permissions"]


def test_staff_role_sees_only_its_own_outlet_whatever_its_scope(client, db, org):
    # Even configured with all outlets, a staff account is confined to its own outlet.
    f.user(db, "clerk", Role.staff, staff_=db.get(f.Staff, org["clerk"]))
    db.commit()
    me = client.get(f"{API}/auth/me", headers=f.login(client, "clerk")).json()
    assert me["staff_id"] == org["clerk"]
    assert me["visible_outlet_ids"] == [org["o2"]]
    assert me["permissions"] == sorted(p.value for p in ROLE_PERMISSIONS[Role.staff])
    assert "action:fix" in me["permissions"] and "audit:read" not in me["permissions"]


def test_me_needs_a_token(client, org):
    assert_error(client.get(f"{API}/auth/me"), 401, "unauthenticated")


# ---------------------------------------------------------------- create


def test_admin_creates_a_user_who_can_log_in(client, db, org, admin):
    body = user_body(scope_kind="regions", region_ids=[org["r2"]])
    resp = client.post(f"{API}/users", json=body, headers=admin)
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert {
        k: created[k]
        for k in (
            "username",
            "display_name",
            "role",
            "scope_kind",
            "region_ids",
            "outlet_ids",
            "staff_id",
            "active",
        )
    } == {
        "username": "carol",
        "display_name": "Carol",
        "role": "supervisor",
        "scope_kind": "regions",
        "region_ids": [org["r2"]],
        "outlet_ids": [],
        "staff_id": None,
        "active": True,
    }
    assert "password" not in str(created)
    stored = get_user(db, "carol")
    assert stored.password_hash.startswith("$argon2id$")
    assert "a-strong-password" not in stored.password_hash
    me = client.get(f"{API}/auth/me", headers=f.login(client, "carol", "a-strong-password"))
    assert me.json()["visible_outlet_ids"] == [org["o3"]]
    assert client.get(f"{API}/users/{created['id']}", headers=admin).json() == created
    names = [u["username"] for u in client.get(f"{API}/users", headers=admin).json()]
    assert names == ["admin", "carol"]


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"password": "short"}, "body.password"),
        ({"username": "no spaces"}, "body.username"),
        ({"username": "ab"}, "body.username"),
        ({"username": "x" * 65}, "body.username"),
        ({"role": "superuser"}, "body.role"),
        ({"scope_kind": "regions"}, "body.region_ids"),
        ({"scope_kind": "outlets"}, "body.outlet_ids"),
        ({"scope_kind": "all", "region_ids": [1]}, "body.region_ids"),
        ({"scope_kind": "outlets", "outlet_ids": [1], "region_ids": [1]}, "body.region_ids"),
        ({"scope_kind": "regions", "region_ids": [0]}, "body.region_ids.0"),
        ({"scope_kind": "regions", "region_ids": [99999999999]}, "body.region_ids.0"),
        ({"staff_id": 99999999999}, "body.staff_id"),
        ({"is_admin": True}, "body.is_admin"),
    ],
)
def test_create_user_validation_names_the_field(client, db, org, admin, changes, path):
    resp = client.post(f"{API}/users", json=user_body(**changes), headers=admin)
    assert path in field_paths(resp), resp.json()
    assert get_user(db, "carol") is None


def test_create_user_scope_error_explains_the_fix(client, org, admin):
    resp = client.post(f"{API}/users", json=user_body(scope_kind="regions"), headers=admin)
    body = assert_error(resp, 422, "validation_error")
    assert body["fields"][0]["field"] == "body.region_ids"
    assert "scope_kind 'regions' needs at least one id in region_ids" in body["detail"]


@pytest.mark.parametrize(
    ("changes", "field", "needle"),
    [
        ({"scope_kind": "regions", "region_ids": [424242]}, "region_ids.0", "region 424242"),
        ({"scope_kind": "outlets", "outlet_ids": [1, 424242]}, "outlet_ids.1", "outlet 424242"),
        ({"staff_id": 424242}, "staff_id", "staff 424242"),
        ({"role": "staff"}, "staff_id", "must link to its staff record"),
    ],
)
def test_create_user_unknown_references_are_422(client, db, org, admin, changes, field, needle):
    resp = client.post(f"{API}/users", json=user_body(**changes), headers=admin)
    body = assert_error(resp, 422, "invalid_input")
    assert body["field"] == field
    assert needle in body["detail"]
    assert get_user(db, "carol") is None


def test_create_staff_account_linked_to_a_staff_record(client, db, org, admin):
    resp = client.post(
        f"{API}/users", json=user_body("clerk", role="staff", staff_id=org["clerk"]), headers=admin
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["staff_id"] == org["clerk"]
    # The same staff record cannot get a second account.
    resp = client.post(
        f"{API}/users", json=user_body("clerk2", role="staff", staff_id=org["clerk"]), headers=admin
    )
    body = assert_error(resp, 409, "conflict")
    assert f"staff {org['clerk']} already has an account" in body["detail"]


def test_duplicate_username_is_409(client, db, org, admin):
    assert client.post(f"{API}/users", json=user_body(), headers=admin).status_code == 201
    resp = client.post(f"{API}/users", json=user_body(password="yet-another-pw"), headers=admin)
    body = assert_error(resp, 409, "conflict")
    assert "'carol' is taken" in body["detail"]
    db.rollback()
    assert db.scalar(select(func.count()).select_from(User).where(User.username == "carol")) == 1


@pytest.mark.parametrize("role", ["supervisor", "auditor", "hr", "staff"])
def test_non_admins_may_not_administer_accounts(client, db, org, role):
    staff_ = db.get(f.Staff, org["clerk"]) if role == "staff" else None
    f.user(db, "someone", Role(role), staff_=staff_)
    db.commit()
    h = f.login(client, "someone")
    admin_id = get_user(db, "admin").id
    for resp in (
        client.get(f"{API}/users", headers=h),
        client.post(f"{API}/users", json=user_body(role="admin"), headers=h),
        client.get(f"{API}/users/{admin_id}", headers=h),
        client.patch(f"{API}/users/{admin_id}", json={"active": False}, headers=h),
        client.post(
            f"{API}/users/{admin_id}/reset-password", json={"new_password": "x" * 12}, headers=h
        ),
    ):
        body = assert_error(resp, 403, "forbidden")
        assert "lacks permission 'user:admin'" in body["detail"]
    assert get_user(db, "carol") is None
    assert get_user(db, "admin").active is True


def test_user_routes_unknown_and_huge_ids(client, org, admin):
    assert_error(client.get(f"{API}/users/424242", headers=admin), 404, "not_found")
    assert_error(
        client.patch(f"{API}/users/424242", json={"display_name": "x"}, headers=admin),
        404,
        "not_found",
    )
    assert_error(
        client.post(
            f"{API}/users/424242/reset-password", json={"new_password": NEW_PASSWORD}, headers=admin
        ),
        404,
        "not_found",
    )
    assert field_paths(client.get(f"{API}/users/99999999999", headers=admin)) == ["path.user_id"]


# ---------------------------------------------------------------- update


def test_patch_role_revokes_sessions_and_applies_the_new_role(client, db, org, admin):
    f.user(db, "dave", Role.auditor)
    db.commit()
    old = f.tokens(client, "dave")
    uid = get_user(db, "dave").id
    resp = client.patch(f"{API}/users/{uid}", json={"role": "hr"}, headers=admin)
    assert resp.status_code == 200, resp.text
    assert resp.json()["role"] == "hr"
    body = assert_error(
        client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {old['access_token']}"}),
        401,
        "unauthenticated",
    )
    assert "revoked" in body["detail"]
    resp = client.post(f"{API}/auth/refresh", json={"refresh_token": old["refresh_token"]})
    assert_error(resp, 401, "unauthenticated")
    me = client.get(f"{API}/auth/me", headers=f.login(client, "dave")).json()
    assert me["role"] == "hr" and "staff:write" in me["permissions"]
    # The admin's own session is untouched.
    assert client.get(f"{API}/auth/me", headers=admin).status_code == 200


def test_patch_active_false_revokes_sessions_and_blocks_login(client, db, org, admin):
    f.user(db, "dave", Role.auditor)
    db.commit()
    h = f.login(client, "dave")
    uid = get_user(db, "dave").id
    resp = client.patch(f"{API}/users/{uid}", json={"active": False}, headers=admin)
    assert resp.status_code == 200 and resp.json()["active"] is False
    assert live_sessions(db, "dave") == 0
    assert_error(client.get(f"{API}/auth/me", headers=h), 401, "unauthenticated")
    resp = client.post(f"{API}/auth/token", data={"username": "dave", "password": f.PASSWORD})
    assert_error(resp, 401, "unauthenticated")
    # Re-enabled, the account can log in again.
    assert (
        client.patch(f"{API}/users/{uid}", json={"active": True}, headers=admin).status_code == 200
    )
    assert client.get(f"{API}/auth/me", headers=f.login(client, "dave")).status_code == 200


def test_patch_display_name_keeps_sessions_and_scope(client, db, org, admin):
    f.user(db, "erin", Role.supervisor, regions=[db.get(f.Region, org["r1"])])
    db.commit()
    h = f.login(client, "erin")
    uid = get_user(db, "erin").id
    resp = client.patch(f"{API}/users/{uid}", json={"display_name": "Erin E."}, headers=admin)
    assert resp.status_code == 200, resp.text
    got = resp.json()
    assert got["display_name"] == "Erin E."
    assert (got["scope_kind"], got["region_ids"]) == ("regions", [org["r1"]])
    assert live_sessions(db, "erin") == 1
    assert client.get(f"{API}/auth/me", headers=h).json()["display_name"] == "Erin E."
    # Explicit nulls leave fields as they are.
    resp = client.patch(
        f"{API}/users/{uid}",
        json={"scope_kind": None, "role": None, "region_ids": None},
        headers=admin,
    )
    assert resp.status_code == 200, resp.text
    assert (resp.json()["scope_kind"], resp.json()["region_ids"], resp.json()["role"]) == (
        "regions",
        [org["r1"]],
        "supervisor",
    )


def test_patch_scope_revokes_sessions_and_changes_visible_outlets(client, db, org, admin):
    f.user(db, "erin", Role.supervisor, regions=[db.get(f.Region, org["r1"])])
    db.commit()
    h = f.login(client, "erin")
    uid = get_user(db, "erin").id
    resp = client.patch(
        f"{API}/users/{uid}",
        json={"scope_kind": "outlets", "outlet_ids": [org["o3"]]},
        headers=admin,
    )
    assert resp.status_code == 200, resp.text
    assert (resp.json()["region_ids"], resp.json()["outlet_ids"]) == ([], [org["o3"]])
    assert_error(client.get(f"{API}/auth/me", headers=h), 401, "unauthenticated")
    me = client.get(f"{API}/auth/me", headers=f.login(client, "erin")).json()
    assert me["visible_outlet_ids"] == [org["o3"]]


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"scope_kind": "regions"}, "region_ids"),
        ({"scope_kind": "outlets", "outlet_ids": [424242]}, "outlet_ids.0"),
        ({"region_ids": [424242]}, "region_ids.0"),
        ({"outlet_ids": [1]}, "outlet_ids"),  # erin's scope kind is 'regions'
        ({"role": "staff"}, "staff_id"),
        ({"staff_id": 424242}, "staff_id"),
    ],
)
def test_patch_invalid_scope_or_refs_is_422_and_changes_nothing(
    client, db, org, admin, patch, field
):
    f.user(db, "erin", Role.supervisor, regions=[db.get(f.Region, org["r1"])])
    db.commit()
    f.login(client, "erin")
    uid = get_user(db, "erin").id
    resp = client.patch(f"{API}/users/{uid}", json=patch, headers=admin)
    body = assert_error(resp, 422, "invalid_input")
    assert body["field"] == field
    erin = get_user(db, "erin")
    assert (erin.role, erin.scope_kind.value, [s.region_id for s in erin.region_scopes]) == (
        Role.supervisor,
        "regions",
        [org["r1"]],
    )
    assert live_sessions(db, "erin") == 1


def test_patch_staff_link_already_taken_is_409(client, db, org, admin):
    f.user(db, "clerk", Role.staff, staff_=db.get(f.Staff, org["clerk"]))
    f.user(db, "other", Role.staff, staff_=db.get(f.Staff, org["spare"]))
    db.commit()
    uid = get_user(db, "other").id
    resp = client.patch(f"{API}/users/{uid}", json={"staff_id": org["clerk"]}, headers=admin)
    body = assert_error(resp, 409, "conflict")
    assert "already has an account" in body["detail"]
    assert get_user(db, "other").staff_id == org["spare"]


def test_patch_rejects_unknown_fields(client, db, org, admin):
    uid = get_user(db, "admin").id
    resp = client.patch(f"{API}/users/{uid}", json={"password_hash": "x"}, headers=admin)
    assert field_paths(resp) == ["body.password_hash"]


# ---------------------------------------------------------------- reset password


def test_admin_reset_password_revokes_all_sessions_of_that_user(client, db, org, admin):
    f.user(db, "dave", Role.auditor)
    db.commit()
    one, two = f.tokens(client, "dave"), f.tokens(client, "dave")
    uid = get_user(db, "dave").id
    resp = client.post(
        f"{API}/users/{uid}/reset-password", json={"new_password": NEW_PASSWORD}, headers=admin
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["username"] == "dave"
    for pair in (one, two):
        h = {"Authorization": f"Bearer {pair['access_token']}"}
        assert_error(client.get(f"{API}/auth/me", headers=h), 401, "unauthenticated")
        resp = client.post(f"{API}/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert_error(resp, 401, "unauthenticated")
    assert live_sessions(db, "dave") == 0
    resp = client.post(f"{API}/auth/token", data={"username": "dave", "password": f.PASSWORD})
    assert_error(resp, 401, "unauthenticated")
    f.login(client, "dave", NEW_PASSWORD)
    # The admin's session is untouched.
    assert live_sessions(db, "admin") == 1


def test_admin_reset_password_validates_length(client, db, org, admin):
    uid = get_user(db, "admin").id
    before = get_user(db, "admin").password_hash
    resp = client.post(
        f"{API}/users/{uid}/reset-password", json={"new_password": "short"}, headers=admin
    )
    assert field_paths(resp) == ["body.new_password"]
    assert get_user(db, "admin").password_hash == before


# ---------------------------------------------------------------- CLI


@pytest.fixture
def cli_env(monkeypatch, settings):
    monkeypatch.setenv("AUDITLENS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("AUDITLENS_SECRET_KEY", settings.secret_key.get_secret_value())
    monkeypatch.setenv("AUDITLENS_ENVIRONMENT", "test")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run_cli(monkeypatch, argv: list[str], stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return cli.main(argv)


def test_cli_creates_an_admin_who_logs_in_via_the_api(
    client, db, org, cli_env, monkeypatch, capsys
):
    code = run_cli(
        monkeypatch,
        ["user", "create", "--username", "root", "--role", "admin", "--password-stdin"],
        "cli-password-123\n",
    )
    assert code == 0
    assert "created user 'root' (role admin, scope all)" in capsys.readouterr().out
    root = get_user(db, "root")
    assert root.role is Role.admin and root.password_hash.startswith("$argon2id$")
    h = f.login(client, "root", "cli-password-123")
    assert client.get(f"{API}/auth/me", headers=h).json()["permissions"] == ALL_PERMISSIONS


def test_cli_create_with_scope_and_staff_link(client, db, org, cli_env, monkeypatch, capsys):
    code = run_cli(
        monkeypatch,
        [
            "user",
            "create",
            "--username",
            "north",
            "--role",
            "supervisor",
            "--region",
            "R1",
            "--password-stdin",
        ],
        "cli-password-123\r\n",
    )  # a Windows line ending is not part of it
    assert code == 0, capsys.readouterr()
    me = client.get(f"{API}/auth/me", headers=f.login(client, "north", "cli-password-123"))
    assert me.json()["visible_outlet_ids"] == sorted([org["o1"], org["o2"]])
    code = run_cli(
        monkeypatch,
        [
            "user",
            "create",
            "--username",
            "clerk",
            "--role",
            "staff",
            "--staff",
            "E001",
            "--password",
            "cli-password-456",
        ],
    )
    assert code == 0, capsys.readouterr()
    assert get_user(db, "clerk").staff_id == org["clerk"]


def test_cli_refuses_bad_accounts_and_changes_nothing(
    client, db, org, cli_env, monkeypatch, capsys
):
    with pytest.raises(SystemExit, match="invalid account"):
        run_cli(
            monkeypatch,
            ["user", "create", "--username", "x y", "--role", "admin", "--password-stdin"],
            "cli-password-123\n",
        )
    with pytest.raises(SystemExit, match="invalid account"):
        run_cli(
            monkeypatch,
            ["user", "create", "--username", "shorty", "--role", "admin", "--password-stdin"],
            "short\n",
        )
    with pytest.raises(SystemExit, match="unknown region code 'R9'"):
        run_cli(
            monkeypatch,
            [
                "user",
                "create",
                "--username",
                "ghost",
                "--role",
                "supervisor",
                "--region",
                "R9",
                "--password-stdin",
            ],
            "cli-password-123\n",
        )
    capsys.readouterr()
    # A taken username: an error message and exit status 1, not a traceback.
    code = run_cli(
        monkeypatch,
        ["user", "create", "--username", "admin", "--role", "admin", "--password-stdin"],
        "cli-password-123\n",
    )
    assert code == 1
    assert "'admin' is taken" in capsys.readouterr().err
    code = run_cli(
        monkeypatch,
        ["user", "create", "--username", "clerk", "--role", "staff", "--password-stdin"],
        "cli-password-123\n",
    )
    assert code == 1
    assert "staff_id" in capsys.readouterr().err
    db.rollback()
    assert db.scalar(select(func.count()).select_from(User)) == 1


def test_cli_reset_password_revokes_logins(client, db, org, cli_env, monkeypatch, capsys):
    old = f.tokens(client, "admin")
    code = run_cli(
        monkeypatch,
        ["user", "reset-password", "--username", "admin", "--password-stdin"],
        "fresh-password-789\n",
    )
    assert code == 0
    assert "password of 'admin' reset" in capsys.readouterr().out
    h = {"Authorization": f"Bearer {old['access_token']}"}
    assert_error(client.get(f"{API}/auth/me", headers=h), 401, "unauthenticated")
    resp = client.post(f"{API}/auth/token", data={"username": "admin", "password": f.PASSWORD})
    assert_error(resp, 401, "unauthenticated")
    f.login(client, "admin", "fresh-password-789")


def test_cli_reset_password_errors(client, db, org, cli_env, monkeypatch, capsys):
    before = get_user(db, "admin").password_hash
    code = run_cli(
        monkeypatch,
        ["user", "reset-password", "--username", "nobody", "--password-stdin"],
        "fresh-password-789\n",
    )
    assert code == 1
    assert "user nobody not found" in capsys.readouterr().err
    code = run_cli(
        monkeypatch,
        ["user", "reset-password", "--username", "admin", "--password-stdin"],
        "short\n",
    )
    assert code == 1
    assert "at least 10 characters" in capsys.readouterr().err
    assert get_user(db, "admin").password_hash == before


def test_cli_refuses_a_weak_secret_outside_development(org, cli_env, monkeypatch, capsys):
    monkeypatch.setenv("AUDITLENS_SECRET_KEY", "")
    get_settings.cache_clear()
    code = run_cli(
        monkeypatch,
        ["user", "reset-password", "--username", "admin", "--password-stdin"],
        "fresh-password-789\n",
    )
    assert code == 2
    assert "AUDITLENS_SECRET_KEY must be set" in capsys.readouterr().err
