"""Shared fixtures: the same API suite runs on SQLite and on PostgreSQL.

Backends come from ``AUDITLENS_TEST_BACKENDS`` (default ``sqlite,postgresql``). PostgreSQL is
reached at ``AUDITLENS_TEST_PG_URL`` (default the local server's ``test`` database); if it is
unreachable the PostgreSQL tests fail with a message, they are never skipped.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections import Counter as Tally
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from audit_service.app import create_app
from audit_service.config import ServiceSettings
from audit_service.core import migrate
from audit_service.core.db import make_engine
from audit_service.models import Base

BACKENDS = [
    b.strip()
    for b in os.environ.get("AUDITLENS_TEST_BACKENDS", "sqlite,postgresql").split(",")
    if b.strip()
]
PG_ADMIN_URL = os.environ.get(
    "AUDITLENS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _pg_database(tmp_name: str) -> str:
    admin = make_url(PG_ADMIN_URL)
    try:
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{tmp_name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{tmp_name}"'))
        engine.dispose()
    except Exception as exc:
        pytest.fail(
            f"PostgreSQL unreachable at {PG_ADMIN_URL} ({exc.__class__.__name__}: {exc}). "
            "Start it (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) "
            "or set AUDITLENS_TEST_BACKENDS=sqlite to run without it locally.",
            pytrace=False,
        )
    return admin.set(database=tmp_name).render_as_string(hide_password=False)


def _drop_pg_database(name: str) -> None:
    engine = create_engine(make_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file built by the real migrations, copied afresh for every test."""
    path = tmp_path_factory.mktemp("db") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def migrated_pg() -> Iterator[str]:
    name = f"auditlens_t_{_worker()}_{os.getpid()}"
    url = _pg_database(name)
    migrate.upgrade(url)
    yield url
    _drop_pg_database(name)


def _truncate_pg(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    backend = request.param
    if backend == "sqlite":
        template = request.getfixturevalue("migrated_sqlite")
        path = tmp_path / "test.db"
        shutil.copy(template, path)
        return f"sqlite:///{path}"
    if backend == "postgresql":
        url = request.getfixturevalue("migrated_pg")
        _truncate_pg(url)
        return url
    raise pytest.UsageError(f"unknown backend {backend!r} in AUDITLENS_TEST_BACKENDS")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> ServiceSettings:
    return ServiceSettings(
        environment="test",
        database_url=database_url,
        secret_key=TEST_SECRET,
        evidence_backend="local",
        evidence_dir=tmp_path / "evidence",
        public_url="http://testserver",
        log_json=True,
        log_level="WARNING",
    )


@pytest.fixture
def app(settings: ServiceSettings, clock: FakeClock):  # type: ignore[no-untyped-def]
    application = create_app(settings, clock=clock, configure_logs=False)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def db(app):  # type: ignore[no-untyped-def]
    """A session on the test database, for arranging data and checking what was stored."""
    session = app.state.sessionmaker()
    yield session
    session.close()


@pytest.fixture
def sessionmaker(app):  # type: ignore[no-untyped-def]
    return app.state.sessionmaker


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """A real S3 HTTP server (moto) on loopback; returns its host:port."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_bucket() -> str:
    return f"evidence-{uuid.uuid4().hex[:12]}"


_passed_by_backend: Tally[str] = Tally()


def pytest_runtest_logreport(report):  # type: ignore[no-untyped-def]
    # Runs in the controller for every worker's reports too, so the count covers the whole run.
    if report.when == "call" and report.passed:
        for backend in ("sqlite", "postgresql"):
            if f"[{backend}" in report.nodeid or f"-{backend}" in report.nodeid:
                _passed_by_backend[backend] += 1


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    # Shown in CI so the log proves which databases the suite ran on.
    line = ", ".join(f"{k}: {v} passed" for k, v in sorted(_passed_by_backend.items())) or "none"
    terminalreporter.write_line(f"database backends exercised: {line}")
