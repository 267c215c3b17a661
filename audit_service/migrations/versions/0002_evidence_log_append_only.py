"""evidence access log is append-only

The database itself refuses UPDATE and DELETE on ``evidence_access_log`` (no route offers them
either): PostgreSQL through a plpgsql trigger function, SQLite through BEFORE triggers.
Row-level triggers do not fire on TRUNCATE (the test suite empties tables that way).

Note for later migrations: on SQLite a batch "move and copy" of ``evidence_access_log``
recreates the table without these triggers; re-create them afterwards.

Revision ID: 0002_evidence_log_append_only
Revises: 0001_foundation
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002_evidence_log_append_only"
down_revision: str | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PG_UPGRADE = [
    """
    CREATE OR REPLACE FUNCTION evidence_access_log_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'evidence_access_log is append-only: % is not allowed', TG_OP
            USING ERRCODE = 'restrict_violation',
                  HINT = 'access log rows record who viewed evidence; they are never changed';
    END;
    $$
    """,
    """
    CREATE TRIGGER evidence_access_log_append_only
        BEFORE UPDATE OR DELETE ON evidence_access_log
        FOR EACH ROW EXECUTE FUNCTION evidence_access_log_append_only()
    """,
]
PG_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS evidence_access_log_append_only ON evidence_access_log",
    "DROP FUNCTION IF EXISTS evidence_access_log_append_only()",
]

SQLITE_UPGRADE = [
    """
    CREATE TRIGGER evidence_access_log_no_update
    BEFORE UPDATE ON evidence_access_log
    BEGIN
        SELECT RAISE(ABORT, 'evidence_access_log is append-only: UPDATE is not allowed');
    END
    """,
    """
    CREATE TRIGGER evidence_access_log_no_delete
    BEFORE DELETE ON evidence_access_log
    BEGIN
        SELECT RAISE(ABORT, 'evidence_access_log is append-only: DELETE is not allowed');
    END
    """,
]
SQLITE_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS evidence_access_log_no_update",
    "DROP TRIGGER IF EXISTS evidence_access_log_no_delete",
]


def _dialect() -> str:
    name = op.get_context().dialect.name
    if name not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"0002: no append-only triggers written for {name}")
    return name


def upgrade() -> None:
    for statement in PG_UPGRADE if _dialect() == "postgresql" else SQLITE_UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in PG_DOWNGRADE if _dialect() == "postgresql" else SQLITE_DOWNGRADE:
        op.execute(statement)
