"""Fixtures for the dashboard: a demo-style API per database backend, shared by every
dashboard test of that backend (built once per test process); AppTest sessions on it; and for
the browser, ``streamlit run`` beside it and Debian's Chromium."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from streamlit.testing.v1 import AppTest

import dashboard
from tests.conftest import (
    BACKENDS,
    PG_ADMIN_URL,
    _drop_pg_database,
    _pg_database,
    _worker,
    free_port,
)
from tests.dashboard.world import World, close, drop_template, own_world
from tests.mobile.browser import CHROMIUM_ARGS, require_chromium

APP = Path(dashboard.__file__).resolve().parent / "app.py"


@pytest.fixture(scope="session", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """This test process's demo-style API for one backend: its own copy of a world built once
    per test run (see tests/dashboard/world.py)."""
    backend = request.param
    if backend not in ("sqlite", "postgresql"):
        raise pytest.UsageError(f"unknown backend {backend!r} in AUDITLENS_TEST_BACKENDS")
    base = tmp_path_factory.getbasetemp()
    root = base.parent if _worker() != "main" else base  # shared by the xdist workers
    built, tpl, pg_name = own_world(
        backend,
        root,
        tmp_path_factory.mktemp(f"dashboard-{backend}"),
        pg_admin_url=PG_ADMIN_URL,
        pg_database=_pg_database,
    )
    try:
        yield built
    finally:
        close(built)
        if pg_name:
            _drop_pg_database(pg_name)
        if tpl.built_here:
            drop_template(tpl, _drop_pg_database)


Session = Callable[..., AppTest]


@pytest.fixture(scope="session")
def component_registry() -> object:
    """Streamlit's registry of installed custom components, scanned once per process: each new
    AppTest would otherwise read the metadata of every installed package (~1.5 s)."""
    from streamlit.components.v2.component_manager import BidiComponentManager

    registry = BidiComponentManager()
    registry.discover_and_register_components(start_file_watching=False)
    return registry


@pytest.fixture
def session(world: World, monkeypatch: pytest.MonkeyPatch, component_registry: object) -> Session:
    """``session("supervisor", lang="zh-CN")``: the dashboard in AppTest, logged in as a demo
    account (tokens from the API), or logged out with ``None``."""
    monkeypatch.setenv("AUDITLENS_API_URL", world.url)

    def make(username: str | None, *, lang: str = "en") -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=90)
        at._bidi_component_manager = component_registry  # see component_registry
        at.session_state["lang"] = lang
        if username is not None:
            pair = world.tokens(username)
            at.session_state["auth"] = {
                "access_token": pair["access_token"],
                "refresh_token": pair["refresh_token"],
            }
        return at

    return make


@pytest.fixture(scope="session")
def dashboard_url(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m dashboard`` (``streamlit run``) on a free port against the world's API, as
    ``make demo`` starts it (the live overview refreshing every 2 s)."""
    port = free_port()
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    env = {
        **os.environ,
        "AUDITLENS_API_URL": world.url,
        "AUDITLENS_DASHBOARD_LIVE_REFRESH_S": "2",
        "AUDITLENS_DASHBOARD_LIVE_TTL_S": "1",
    }
    argv = [sys.executable, "-m", "dashboard", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, proc, log)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"streamlit did not answer at {url} within 90 s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright (fails in CI when missing, skips elsewhere)."""
    path = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
