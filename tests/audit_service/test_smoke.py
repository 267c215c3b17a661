from tests import factories as f


def test_health_ready_and_login(client, db):
    r = f.region(db)
    f.outlet(db, r)
    f.user(db, "admin", f.Role.admin)
    db.commit()
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    headers = f.login(client, "admin")
    me = client.get("/api/v1/auth/me", headers=headers)
    assert me.status_code == 200, me.text
    assert me.json()["role"] == "admin"
    outlets = client.get("/api/v1/outlets", headers=headers).json()
    assert [o["code"] for o in outlets] == ["O1"]
