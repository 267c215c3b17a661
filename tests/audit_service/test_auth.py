"""Login, tokens, sessions, logout, password change and login rate limits."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta

import jwt
import pytest
from sqlalchemy import func, select

from audit_service.core import security
from audit_service.models import LoginAttempt, User, UserSession
from tests import factories as f

API = "/api/v1"
TOKEN = f"{API}/auth/token"
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"  # tests/conftest.py


def assert_error(resp, status: int, error: str) -> dict:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["error"] == error, body
    assert isinstance(body["detail"], str) and body["detail"], body
    return body


def login_raw(client, username: str, password: str = f.PASSWORD):
    return client.post(TOKEN, data={"username": username, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def me(client, token: str):
    return client.get(f"{API}/auth/me", headers=bearer(token))


def snapshot(db) -> tuple:
    """Everything login and tokens may change: sessions, attempts, users."""
    db.rollback()  # end the read transaction: see what the API committed since
    sessions = [
        (s.id, s.user_id, s.refresh_token_hash, s.revoked_at, s.last_used_at, s.expires_at)
        for s in db.scalars(select(UserSession).order_by(UserSession.refresh_token_hash))
    ]
    attempts = [
        (a.username, a.succeeded, a.at)
        for a in db.scalars(select(LoginAttempt).order_by(LoginAttempt.id))
    ]
    users = [
        (u.id, u.password_hash, u.active, u.role, u.password_changed_at)
        for u in db.scalars(select(User).order_by(User.id))
    ]
    return sessions, attempts, users


def failures(db, **where) -> int:
    db.rollback()
    q = select(func.count()).select_from(LoginAttempt).where(LoginAttempt.succeeded.is_(False))
    for key, value in where.items():
        q = q.where(getattr(LoginAttempt, key) == value)
    return int(db.scalar(q))


@pytest.fixture
def people(db):
    r = f.region(db)
    o = f.outlet(db, r)
    f.user(db, "admin", f.Role.admin)
    f.user(db, "alice", f.Role.supervisor, outlets=[o])
    f.user(db, "bob", f.Role.auditor)
    db.commit()
    return o


def use_settings(app, **changes):
    app.state.settings = app.state.settings.model_copy(update=changes)


# ---------------------------------------------------------------- login


def test_login_success_gives_access_and_refresh_tokens(client, db, people, clock):
    resp = login_raw(client, "alice")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert body["refresh_expires_in"] == 14 * 24 * 3600
    assert body["access_token"].count(".") == 2  # a JWT
    assert "." not in body["refresh_token"] and len(body["refresh_token"]) >= 40
    claims = jwt.decode(
        body["access_token"],
        TEST_SECRET,
        algorithms=["HS256"],
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["typ"] == "access"
    assert claims["exp"] - claims["iat"] == 900
    assert claims["iat"] == int(clock().timestamp())

    sessions, attempts, _ = snapshot(db)
    assert len(sessions) == 1
    sid, user_id, digest, revoked, _, expires = sessions[0]
    assert str(sid) == claims["sid"] and str(user_id) == claims["sub"]
    # Only the digest of the refresh token is stored.
    assert digest == security.token_digest(body["refresh_token"])
    assert body["refresh_token"] not in digest
    assert revoked is None
    assert expires == clock() + timedelta(days=14)
    assert attempts == [("alice", True, clock())]
    assert me(client, body["access_token"]).json()["username"] == "alice"


def test_wrong_password_is_401_and_recorded(client, db, people):
    resp = login_raw(client, "alice", "not-the-password")
    body = assert_error(resp, 401, "unauthenticated")
    assert body["detail"] == "wrong username or password"
    assert resp.headers["WWW-Authenticate"] == "Bearer"
    assert set(body) == {"error", "detail"}
    # The failure row survives the error response.
    assert failures(db, username="alice") == 1
    assert snapshot(db)[0] == []  # no session opened


def test_unknown_user_gets_the_same_401(client, db, people):
    wrong_pw = login_raw(client, "alice", "not-the-password")
    unknown = login_raw(client, "nobody", "not-the-password")
    assert_error(unknown, 401, "unauthenticated")
    assert unknown.json() == wrong_pw.json()
    assert failures(db, username="nobody") == 1


def test_disabled_user_gets_the_same_401_even_with_the_right_password(client, db, people):
    db.scalar(select(User).where(User.username == "bob")).active = False
    db.commit()
    resp = login_raw(client, "bob")
    body = assert_error(resp, 401, "unauthenticated")
    assert body["detail"] == "wrong username or password"
    assert failures(db, username="bob") == 1
    assert snapshot(db)[0] == []


def test_login_form_fields_are_required(client, people):
    resp = client.post(TOKEN, data={"username": "alice"})
    body = assert_error(resp, 422, "validation_error")
    assert [x["field"] for x in body["fields"]] == ["body.password"]


@pytest.mark.parametrize("username", ["a" * 300, "x\x00y", "ünïcødé-名字", "' OR 1=1 --"])
def test_odd_usernames_are_401_on_every_backend(client, db, people, username):
    resp = login_raw(client, username, "whatever-password")
    body = assert_error(resp, 401, "unauthenticated")
    assert body["detail"] == "wrong username or password"
    # Recorded (so they count towards the address's limit), under at most 64 characters.
    _, attempts, _ = snapshot(db)
    assert [(len(a[0]) <= 64, a[1]) for a in attempts] == [(True, False)]


# ---------------------------------------------------------------- passwords


def argon2_params(password_hash: str) -> dict[str, int]:
    m = re.match(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$", password_hash)
    assert m, password_hash
    return {"m": int(m[1]), "t": int(m[2]), "p": int(m[3])}


def test_passwords_are_hashed_with_argon2id_at_owasp_strength():
    h = security.hash_password("a-long-enough-password")
    assert h.startswith("$argon2id$")
    params = argon2_params(h)
    assert params["m"] >= 19456 and params["t"] >= 2 and params["p"] >= 1
    assert security.verify_password(h, "a-long-enough-password") is True
    assert security.verify_password(h, "a-long-enough-passworD") is False
    assert security.verify_password("not-a-hash", "x") is False
    assert security.needs_rehash(h) is False
    # Salted: the same password hashes differently each time.
    assert security.hash_password("a-long-enough-password") != h


def test_weak_stored_hash_is_upgraded_on_login(client, db, people):
    from argon2 import PasswordHasher, Type

    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)
    user = db.scalar(select(User).where(User.username == "bob"))
    user.password_hash = weak.hash(f.PASSWORD)
    db.commit()
    assert login_raw(client, "bob").status_code == 200
    db.rollback()
    params = argon2_params(db.scalar(select(User.password_hash).where(User.username == "bob")))
    assert params["m"] >= 19456 and params["t"] >= 2


# ---------------------------------------------------------------- access tokens


def test_access_token_expires_after_its_ttl(client, db, people, clock):
    token = f.tokens(client, "alice")["access_token"]
    clock.advance(minutes=14)
    assert me(client, token).status_code == 200
    clock.advance(minutes=2)  # 16 minutes after login, TTL is 15
    resp = me(client, token)
    body = assert_error(resp, 401, "unauthenticated")
    assert "expired" in body["detail"]
    assert resp.headers["WWW-Authenticate"] == "Bearer"


def test_tokens_follow_the_injected_clock_even_ahead_of_the_wall_clock(client, people, clock):
    # The service's clock, not the machine's, decides (tests and skewed hosts alike).
    clock.advance(days=400)
    pair = f.tokens(client, "alice")
    assert me(client, pair["access_token"]).status_code == 200
    resp = client.post(f"{API}/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert resp.status_code == 200, resp.text
    assert me(client, resp.json()["access_token"]).status_code == 200


def test_access_token_ends_with_its_session(client, app, people, clock):
    # A session shorter than an access token: the token must not outlive its session.
    use_settings(app, refresh_token_ttl_s=300, access_token_ttl_s=900)
    token = f.tokens(client, "alice")["access_token"]
    clock.advance(seconds=299)
    assert me(client, token).status_code == 200
    clock.advance(seconds=2)
    body = assert_error(me(client, token), 401, "unauthenticated")
    assert "expired" in body["detail"]


def forge(payload: dict, key: str = TEST_SECRET, alg: str = "HS256") -> str:
    return jwt.encode(payload, key, algorithm=alg)


def test_bad_tokens_are_401_and_change_nothing(client, db, people, clock):
    pair = f.tokens(client, "alice")
    good = pair["access_token"]
    claims = jwt.decode(
        good, TEST_SECRET, algorithms=["HS256"], options={"verify_exp": False, "verify_iat": False}
    )
    admin_id = db.scalar(select(User.id).where(User.username == "admin"))
    head, payload, sig = good.split(".")
    other_payload = jwt.utils.base64url_encode(
        json.dumps({**claims, "sub": str(admin_id)}).encode()
    ).decode()
    bad = {
        "tampered payload (sub of the admin, old signature)": f"{head}.{other_payload}.{sig}",
        "signature cut": f"{head}.{payload}.",
        "another key": forge(claims, key="another-secret-key-that-is-long-enough-42"),
        "refresh token as access token": pair["refresh_token"],
        "typ refresh": forge({**claims, "typ": "refresh"}),
        "no typ": forge({k: v for k, v in claims.items() if k != "typ"}),
        "alg none": forge(claims, key="", alg="none"),
        "other issuer": forge({**claims, "iss": "someone-else"}),
        "no sid": forge({k: v for k, v in claims.items() if k != "sid"}),
        "unknown session": forge({**claims, "sid": str(uuid.uuid4())}),
        "sid not a uuid": forge({**claims, "sid": "not-a-uuid"}),
        "sid a number": forge({**claims, "sid": 12345}),
        "sub not a number": forge({**claims, "sub": "alice"}),
        "exp not a number": forge({**claims, "exp": "later"}),
        "garbage": "not.a.jwt",
        "expired": forge({**claims, "exp": int(clock().timestamp()) - 1}),
        "session of another user": forge({**claims, "sub": str(admin_id)}),
    }
    before = snapshot(db)
    for name, token in bad.items():
        resp = me(client, token)
        assert resp.status_code == 401, (name, resp.status_code, resp.text)
        assert resp.json()["error"] == "unauthenticated", name
        assert resp.headers["WWW-Authenticate"] == "Bearer", name
    resp = client.get(f"{API}/auth/me")
    assert "missing bearer token" in assert_error(resp, 401, "unauthenticated")["detail"]
    resp = client.get(f"{API}/auth/me", headers={"Authorization": "Basic YTpi"})
    assert_error(resp, 401, "unauthenticated")
    assert snapshot(db) == before
    # The genuine token still works afterwards.
    assert me(client, good).status_code == 200


def test_disabled_account_tokens_stop_working_at_once(client, db, people):
    pair = f.tokens(client, "bob")
    db.scalar(select(User).where(User.username == "bob")).active = False
    db.commit()
    body = assert_error(me(client, pair["access_token"]), 401, "unauthenticated")
    assert "disabled" in body["detail"]
    resp = client.post(f"{API}/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert "disabled" in assert_error(resp, 401, "unauthenticated")["detail"]


# ---------------------------------------------------------------- refresh


def test_refresh_rotates_the_refresh_token(client, db, people, clock):
    first = f.tokens(client, "alice")
    ((_, _, _, _, _, expires_at),) = snapshot(db)[0]
    clock.advance(minutes=10)
    resp = client.post(f"{API}/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert resp.status_code == 200, resp.text
    second = resp.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["expires_in"] == 900
    # The session keeps its absolute expiry.
    assert second["refresh_expires_in"] == 14 * 24 * 3600 - 600
    sessions = snapshot(db)[0]
    assert len(sessions) == 1
    sid, _, digest, revoked, last_used, expires = sessions[0]
    assert digest == security.token_digest(second["refresh_token"])
    assert (revoked, last_used, expires) == (None, clock(), expires_at)

    # The old refresh token is spent.
    before = snapshot(db)
    resp = client.post(f"{API}/auth/refresh", json={"refresh_token": first["refresh_token"]})
    body = assert_error(resp, 401, "unauthenticated")
    assert "invalid or revoked" in body["detail"]
    assert snapshot(db) == before
    # The new pair works; the new access token lives 15 minutes from the refresh.
    assert me(client, second["access_token"]).status_code == 200
    clock.advance(minutes=14)
    assert me(client, second["access_token"]).status_code == 200
    resp = client.post(f"{API}/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert resp.status_code == 200, resp.text


def test_refresh_after_the_session_expired_is_401(client, db, people, clock):
    pair = f.tokens(client, "alice")
    clock.advance(days=14, seconds=1)
    before = snapshot(db)
    resp = client.post(f"{API}/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert "expired" in assert_error(resp, 401, "unauthenticated")["detail"]
    assert snapshot(db) == before


def test_refresh_with_unknown_or_malformed_tokens(client, db, people):
    resp = client.post(f"{API}/auth/refresh", json={"refresh_token": "x" * 43})
    assert_error(resp, 401, "unauthenticated")
    resp = client.post(f"{API}/auth/refresh", json={"refresh_token": "short"})
    body = assert_error(resp, 422, "validation_error")
    assert [x["field"] for x in body["fields"]] == ["body.refresh_token"]
    # An access token is not a refresh token.
    access = f.tokens(client, "alice")["access_token"]
    resp = client.post(f"{API}/auth/refresh", json={"refresh_token": access[:200]})
    assert resp.status_code in (401, 422)
    assert resp.json()["error"] in ("unauthenticated", "validation_error")


# ---------------------------------------------------------------- logout


def test_logout_revokes_access_and_refresh_tokens_at_once(client, db, people, clock):
    this = f.tokens(client, "alice")
    other = f.tokens(client, "alice")  # another device
    resp = client.post(f"{API}/auth/logout", headers=bearer(this["access_token"]))
    assert resp.status_code == 204, resp.text
    body = assert_error(me(client, this["access_token"]), 401, "unauthenticated")
    assert "revoked" in body["detail"]
    resp = client.post(f"{API}/auth/refresh", json={"refresh_token": this["refresh_token"]})
    assert_error(resp, 401, "unauthenticated")
    # The revocation is stored with the service clock's time.
    revoked = [
        s[3] for s in snapshot(db)[0] if s[2] == security.token_digest(this["refresh_token"])
    ]
    assert revoked == [clock()]
    # Only that login ended.
    assert me(client, other["access_token"]).status_code == 200
    # Logging out again with the dead token is 401.
    resp = client.post(f"{API}/auth/logout", headers=bearer(this["access_token"]))
    assert_error(resp, 401, "unauthenticated")


def test_logout_needs_a_token(client, people):
    assert_error(client.post(f"{API}/auth/logout"), 401, "unauthenticated")


# ---------------------------------------------------------------- password change


def test_password_change_revokes_every_session_of_the_user(client, db, people):
    one = f.tokens(client, "alice")
    two = f.tokens(client, "alice")
    bobs = f.tokens(client, "bob")
    new = "a-brand-new-password"
    resp = client.post(
        f"{API}/auth/password",
        headers=bearer(one["access_token"]),
        json={"current_password": f.PASSWORD, "new_password": new},
    )
    assert resp.status_code == 204, resp.text
    for pair in (one, two):
        assert_error(me(client, pair["access_token"]), 401, "unauthenticated")
        resp = client.post(f"{API}/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert_error(resp, 401, "unauthenticated")
    assert me(client, bobs["access_token"]).status_code == 200  # other users untouched
    assert_error(login_raw(client, "alice"), 401, "unauthenticated")
    assert login_raw(client, "alice", new).status_code == 200
    db.rollback()
    stored = db.scalar(select(User.password_hash).where(User.username == "alice"))
    assert stored.startswith("$argon2id$") and new not in stored


def test_password_change_with_wrong_current_password_changes_nothing(client, db, people):
    pair = f.tokens(client, "alice")
    before = snapshot(db)
    resp = client.post(
        f"{API}/auth/password",
        headers=bearer(pair["access_token"]),
        json={"current_password": "wrong-password", "new_password": "x" * 12},
    )
    body = assert_error(resp, 422, "invalid_input")
    assert body["field"] == "current_password"
    sessions, attempts, users = snapshot(db)
    assert (sessions, users) == (before[0], before[2])
    # The wrong guess counts towards the user's lock-out like a failed login.
    assert attempts[len(before[1]) :] == [("alice", False, attempts[-1][2])]
    assert me(client, pair["access_token"]).status_code == 200


def test_password_change_guessing_is_rate_limited(client, db, people):
    pair = f.tokens(client, "alice")
    for _ in range(5):
        resp = client.post(
            f"{API}/auth/password",
            headers=bearer(pair["access_token"]),
            json={"current_password": "guess-guess", "new_password": "x" * 12},
        )
        assert resp.status_code == 422, resp.text
    # Even the right current password is refused now: a stolen token cannot brute-force.
    resp = client.post(
        f"{API}/auth/password",
        headers=bearer(pair["access_token"]),
        json={"current_password": f.PASSWORD, "new_password": "x" * 12},
    )
    assert_error(resp, 429, "rate_limited")
    assert int(resp.headers["Retry-After"]) == 900


def test_password_change_validates_the_new_password(client, db, people):
    pair = f.tokens(client, "alice")
    before = snapshot(db)
    resp = client.post(
        f"{API}/auth/password",
        headers=bearer(pair["access_token"]),
        json={"current_password": f.PASSWORD, "new_password": "short"},
    )
    body = assert_error(resp, 422, "validation_error")
    assert [x["field"] for x in body["fields"]] == ["body.new_password"]
    assert snapshot(db) == before


# ---------------------------------------------------------------- rate limits


def test_per_user_rate_limit_locks_out_even_the_right_password(client, db, people, clock):
    for _ in range(5):
        assert_error(login_raw(client, "alice", "wrong-password"), 401, "unauthenticated")
    assert failures(db, username="alice") == 5
    before = snapshot(db)
    resp = login_raw(client, "alice")  # the right password
    body = assert_error(resp, 429, "rate_limited")
    assert "this username" in body["detail"]
    assert resp.headers["Retry-After"] == "900"
    assert body["retry_after_s"] == 900
    assert snapshot(db) == before  # a refused attempt stores nothing
    # Other users on the same address are not locked out.
    assert login_raw(client, "bob").status_code == 200
    # Retry-After counts down with the clock...
    clock.advance(seconds=300)
    resp = login_raw(client, "alice")
    assert_error(resp, 429, "rate_limited")
    assert resp.headers["Retry-After"] == "600"
    # ...and waiting exactly that long is enough.
    clock.advance(seconds=600)
    assert login_raw(client, "alice").status_code == 200


def test_failures_outside_the_window_do_not_count(client, db, people, clock):
    for _ in range(4):
        login_raw(client, "alice", "wrong-password")
    clock.advance(seconds=901)
    for _ in range(4):
        login_raw(client, "alice", "wrong-password")
    assert failures(db, username="alice") == 8
    assert login_raw(client, "alice").status_code == 200


def test_retry_after_is_when_enough_failures_have_left_the_window(client, app, db, people, clock):
    use_settings(app, login_max_failures_per_user=10)
    for _ in range(6):
        login_raw(client, "alice", "wrong-password")
        clock.advance(seconds=10)
    # Six failures at t0, t0+10, ... t0+50; now t0+60. The limit is lowered to 4.
    use_settings(app, login_max_failures_per_user=4)
    resp = login_raw(client, "alice")
    assert_error(resp, 429, "rate_limited")
    # Below 4 once the third failure (t0+20) leaves the window at t0+920: 860 s from now.
    assert resp.headers["Retry-After"] == "860"
    clock.advance(seconds=859)
    assert login_raw(client, "alice").status_code == 429
    clock.advance(seconds=1)
    assert login_raw(client, "alice").status_code == 200


def test_per_address_rate_limit_across_usernames(client, app, db, people, clock):
    use_settings(app, login_max_failures_per_ip=3)
    for name in ("eve1", "eve2", "eve3"):
        assert_error(login_raw(client, name, "guess-password"), 401, "unauthenticated")
    assert failures(db, client_ip="testclient") == 3
    resp = login_raw(client, "bob")  # a real user, right password, same address
    body = assert_error(resp, 429, "rate_limited")
    assert "this address" in body["detail"]
    assert resp.headers["Retry-After"] == "900"
    clock.advance(seconds=900)
    assert login_raw(client, "bob").status_code == 200


def test_per_user_limit_holds_for_overlong_usernames(client, db, people):
    # Stored attempts keep 64 characters; the check must count them under the same name.
    name = "m" * 100
    for _ in range(5):
        assert_error(login_raw(client, name, "guess-password"), 401, "unauthenticated")
    assert_error(login_raw(client, name, "guess-password"), 429, "rate_limited")
