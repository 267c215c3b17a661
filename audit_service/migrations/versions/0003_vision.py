"""vision: worker accounts and tokens, findings, queue samples, zone states, camera health

Written by hand (checked against the models by tests/audit_service/test_migrations.py).

* ``users.role`` gains the value ``worker``. The column is a non-native enum (VARCHAR(16), no
  CHECK constraint), so no column change is needed.
* ``api_tokens``: worker API tokens (SHA-256 only); ``worker_cameras``: who runs which camera.
* ``vision_events``: findings keyed by the worker's event id; ``start_received`` /
  ``end_received`` make each phase idempotent. A partial index serves the open-alert lookups.
* ``queue_samples``: primary key (camera_id, zone_code, at), so replays are no-ops.
* ``zone_states``, ``camera_health``: one row per zone / camera, the newest report.

Revision ID: 0003_vision
Revises: 0002_evidence_log_append_only
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from audit_service.core import db

revision: str = "0003_vision"
down_revision: str | None = "0002_evidence_log_append_only"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "camera_health",
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("last_seen_at", db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("achieved_fps", sa.Float(), nullable=False),
        sa.Column("configured_fps", sa.Float(), nullable=False),
        sa.Column("behind", sa.Boolean(), nullable=False),
        sa.Column("frames_read", sa.BigInteger(), nullable=False),
        sa.Column("frames_analysed", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_camera_health_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("camera_id", name=op.f("pk_camera_health")),
    )
    op.create_table(
        "queue_samples",
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("zone_code", sa.String(length=64), nullable=False),
        sa.Column("at", db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=False),
        sa.Column("outlet_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("smoothed", sa.Float(), nullable=False),
        sa.Column("wait_s", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["camera_id"], ["cameras.id"], name=op.f("fk_queue_samples_camera_id_cameras")
        ),
        sa.ForeignKeyConstraint(
            ["counter_id"], ["counters.id"], name=op.f("fk_queue_samples_counter_id_counters")
        ),
        sa.ForeignKeyConstraint(
            ["outlet_id"], ["outlets.id"], name=op.f("fk_queue_samples_outlet_id_outlets")
        ),
        sa.PrimaryKeyConstraint("camera_id", "zone_code", "at", name=op.f("pk_queue_samples")),
    )
    with op.batch_alter_table("queue_samples", schema=None) as batch_op:
        batch_op.create_index("ix_queue_samples_counter_at", ["counter_id", "at"], unique=False)
        batch_op.create_index("ix_queue_samples_outlet_at", ["outlet_id", "at"], unique=False)

    op.create_table(
        "zone_states",
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("zone_code", sa.String(length=64), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=False),
        sa.Column("outlet_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "attended",
                "unattended",
                "closed",
                name="counterstate",
                native_enum=False,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column("since", db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("at", db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_zone_states_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["counter_id"],
            ["counters.id"],
            name=op.f("fk_zone_states_counter_id_counters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["outlet_id"], ["outlets.id"], name=op.f("fk_zone_states_outlet_id_outlets")
        ),
        sa.PrimaryKeyConstraint("camera_id", "zone_code", name=op.f("pk_zone_states")),
    )
    with op.batch_alter_table("zone_states", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_zone_states_outlet_id"), ["outlet_id"], unique=False)

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "worker_cameras",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_worker_cameras_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_worker_cameras_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "camera_id", name=op.f("pk_worker_cameras")),
    )
    with op.batch_alter_table("worker_cameras", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_worker_cameras_camera_id"), ["camera_id"], unique=False
        )

    op.create_table(
        "vision_events",
        sa.Column("id", db.GUID(length=36), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("outlet_id", sa.Integer(), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=True),
        sa.Column("zone_code", sa.String(length=64), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "counter_unattended",
                "queue_over_threshold",
                "camera_offline",
                "camera_online",
                name="eventkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("started_at", db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("evidence_id", db.GUID(length=36), nullable=True),
        sa.Column("start_received", sa.Boolean(), nullable=False),
        sa.Column("end_received", sa.Boolean(), nullable=False),
        sa.Column("received_at", db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"], ["cameras.id"], name=op.f("fk_vision_events_camera_id_cameras")
        ),
        sa.ForeignKeyConstraint(
            ["counter_id"], ["counters.id"], name=op.f("fk_vision_events_counter_id_counters")
        ),
        sa.ForeignKeyConstraint(
            ["evidence_id"],
            ["evidence_items.id"],
            name=op.f("fk_vision_events_evidence_id_evidence_items"),
        ),
        sa.ForeignKeyConstraint(
            ["outlet_id"], ["outlets.id"], name=op.f("fk_vision_events_outlet_id_outlets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vision_events")),
    )
    with op.batch_alter_table("vision_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vision_events_camera_id"), ["camera_id"], unique=False)
        batch_op.create_index(
            "ix_vision_events_counter_started", ["counter_id", "started_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_vision_events_evidence_id"), ["evidence_id"], unique=False
        )
        batch_op.create_index("ix_vision_events_kind_started", ["kind", "started_at"], unique=False)
        batch_op.create_index(
            "ix_vision_events_open",
            ["outlet_id", "started_at"],
            unique=False,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
        batch_op.create_index(
            "ix_vision_events_outlet_started", ["outlet_id", "started_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("vision_events", schema=None) as batch_op:
        batch_op.drop_index("ix_vision_events_outlet_started")
        batch_op.drop_index(
            "ix_vision_events_open",
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
        batch_op.drop_index("ix_vision_events_kind_started")
        batch_op.drop_index(batch_op.f("ix_vision_events_evidence_id"))
        batch_op.drop_index("ix_vision_events_counter_started")
        batch_op.drop_index(batch_op.f("ix_vision_events_camera_id"))

    op.drop_table("vision_events")
    with op.batch_alter_table("worker_cameras", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worker_cameras_camera_id"))

    op.drop_table("worker_cameras")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    with op.batch_alter_table("zone_states", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_zone_states_outlet_id"))

    op.drop_table("zone_states")
    with op.batch_alter_table("queue_samples", schema=None) as batch_op:
        batch_op.drop_index("ix_queue_samples_outlet_at")
        batch_op.drop_index("ix_queue_samples_counter_at")

    op.drop_table("queue_samples")
    op.drop_table("camera_health")
