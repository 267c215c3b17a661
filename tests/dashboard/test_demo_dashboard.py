"""``make demo`` starts the dashboard beside the API and prints where it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit_service.config import ServiceSettings
from audit_service.demo.runner import banner, demo_processes
from audit_service.demo.seed import DEMO_LOGINS, DemoCredentials
from tests.conftest import TEST_SECRET


def _settings(tmp_path: Path, **kw: object) -> ServiceSettings:
    return ServiceSettings(
        environment="test",
        secret_key=TEST_SECRET,
        database_url=f"sqlite:///{tmp_path}/demo.db",
        evidence_dir=tmp_path / "evidence",
        **kw,
    )


def test_demo_serves_the_dashboard_on_its_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AUDITLENS_DASHBOARD_PORT", raising=False)
    (dashboard,) = demo_processes(_settings(tmp_path), "http://127.0.0.1:8000")
    assert dashboard.url == "http://127.0.0.1:8501"
    assert dashboard.argv[1:3] == ["-m", "dashboard"]
    assert dashboard.argv[-4:] == ["--host", "127.0.0.1", "--port", "8501"]
    assert dashboard.env["AUDITLENS_API_URL"] == "http://127.0.0.1:8000"

    monkeypatch.setenv("AUDITLENS_DASHBOARD_PORT", "8611")
    settings = _settings(tmp_path, api_host="0.0.0.0", api_port=8080)
    dashboard, worker = demo_processes(settings, "http://127.0.0.1:8080", worker_token="alw_x")
    assert dashboard.url == "http://127.0.0.1:8611"  # reachable on loopback, bound everywhere
    assert dashboard.argv[-4:] == ["--host", "0.0.0.0", "--port", "8611"]
    assert worker.name == "Vision worker"


def test_banner_gives_the_dashboard_url_and_the_logins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AUDITLENS_DASHBOARD_PORT", raising=False)
    settings = _settings(tmp_path)
    extras = demo_processes(settings, "http://127.0.0.1:8000")
    text = banner(
        settings, "http://127.0.0.1:8000", DemoCredentials(DEMO_LOGINS, created=True), {}, extras
    )
    assert " Dashboard     http://127.0.0.1:8501" in text
    assert "Open:  http://127.0.0.1:8501 in a browser and log in as supervisor" in text
    for login in DEMO_LOGINS:
        assert login.username in text and login.password in text
