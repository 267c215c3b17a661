"""Fixtures for the phone app: the app with its /m/ router, a live server, Chromium."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from audit_service.app import create_app
from audit_service.config import ServiceSettings
from audit_service.mobile import router as mobile
from tests.conftest import TEST_SECRET
from tests.mobile.browser import CHROMIUM_ARGS, LiveServer, require_chromium


def with_mobile(app: Any) -> Any:
    """The app, with the phone app's routes added unless create_app already includes them."""
    if not any(getattr(r, "path", None) == "/m/" for r in app.routes):
        app.include_router(mobile.router)
    return app


@pytest.fixture
def mobile_client(app: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(with_mobile(app), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def live_app(migrated_sqlite: Path, tmp_path: Path) -> Iterator[Any]:
    """The real app on its own migrated SQLite file, with the real clock (the browser's is)."""
    db_path = tmp_path / "live.db"
    shutil.copy(migrated_sqlite, db_path)
    settings = ServiceSettings(
        environment="test",
        database_url=f"sqlite:///{db_path}",
        secret_key=TEST_SECRET,
        evidence_backend="local",
        evidence_dir=tmp_path / "evidence",
        public_url="http://127.0.0.1",
        log_json=True,
        log_level="WARNING",
    )
    app = with_mobile(create_app(settings, configure_logs=False))
    yield app
    app.state.engine.dispose()


@pytest.fixture
def live_server(live_app: Any) -> Iterator[LiveServer]:
    with LiveServer(live_app) as server:
        yield server


@pytest.fixture
def chromium() -> Iterator[Any]:
    path = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
