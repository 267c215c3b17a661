"""The migrations build the schema the models describe, and undo it, on both databases."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from audit_service.core import migrate
from audit_service.core.db import make_engine
from audit_service.models import Base
from tests.conftest import BACKENDS, _drop_pg_database, _pg_database


@pytest.fixture(params=BACKENDS)
def empty_database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"auditlens_mig_{os.getpid()}"
    yield _pg_database(name)
    _drop_pg_database(name)


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_from_empty_matches_models_then_downgrades_to_nothing(empty_database_url):
    url = empty_database_url
    assert _tables(url) == set()

    migrate.upgrade(url)
    assert _tables(url) == set(Base.metadata.tables)

    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"

    migrate.downgrade(url, "base")
    assert _tables(url) == set()

    # And back up again: downgrade left nothing behind that blocks a fresh upgrade.
    migrate.upgrade(url)
    assert _tables(url) == set(Base.metadata.tables)
