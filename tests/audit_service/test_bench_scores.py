"""``make bench-scores``'s generator at a tiny scale: the rows it promises, data the score routes
can use (a recompute scores every staff member, the HR user sees their region), and that it keeps
what it generated and never empties a database it did not fill."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from audit_service.performance import bench
from tests import factories as f

# 14 days from Wednesday 2025-10-01: 12 open days (Sundays 10-05 and 10-12 closed), two of them
# Saturdays (one short half-day each).
TINY = bench.Scale(
    regions=2,
    outlets=3,
    counters_per_outlet=2,
    staff_per_outlet=4,
    days=14,
    events=200,
    queue_samples=300,
    queue_waits=300,
    audits=40,
    auditors=2,
)
PERIOD = "2025-Q4"


@pytest.fixture
def bench_engine(database_url: str) -> Iterator[Engine]:
    engine = bench.open_engine(database_url)
    yield engine
    # The marker table is the bench's own, outside the models: leave the shared database clean.
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_meta"))
    engine.dispose()


def _generate(engine: Engine, scale: bench.Scale = TINY) -> None:
    bench.generate(engine, scale, log=lambda _line: None, check_foreign_keys=True)


def test_tiny_generation_has_the_promised_rows_and_every_staff_member_gets_a_score(
    client, bench_engine
):
    _generate(bench_engine)

    items_per_audit = len(list(bench.checklist_definition().items()))
    # Per outlet and weekday: 2 counters + the lobby manager, in two halves; Saturdays one half.
    shifts = TINY.outlets * (10 * 3 * 2 + 2 * 3 * 1)
    assert bench.row_counts(bench_engine) == {
        "regions": 2,
        "outlets": 3,
        "counters": 6,
        "cameras": 6,
        "zones": 12,
        "staff": 12,
        "staff_assignments": 12,
        "users": 2 + TINY.auditors,
        "user_region_scopes": 1,
        "shifts": shifts,
        "vision_events": 200,
        "queue_samples": 300,
        "queue_waits": 300,
        "checklist_templates": 1,
        "checklist_versions": 1,
        "visits": 40,
        "audits": 40,
        "audit_items": 40 * items_per_audit,
    }
    with bench_engine.connect() as conn:
        kinds = dict(
            conn.execute(text("SELECT kind, COUNT(*) FROM vision_events GROUP BY kind")).all()
        )
        assert kinds == {"counter_unattended": 180, "queue_over_threshold": 20}
        # A counter is never unattended twice at once.
        overlaps = conn.execute(
            text(
                "SELECT COUNT(*) FROM vision_events a JOIN vision_events b"
                " ON a.counter_id = b.counter_id AND a.kind = b.kind AND a.id < b.id"
                " AND a.started_at < b.ended_at AND b.started_at < a.ended_at"
            )
        ).scalar_one()
        assert overlaps == 0
        # Every item that measures someone is attributed like the audit service does.
        attribution = dict(
            conn.execute(
                text(
                    "SELECT COALESCE(role, '-') || ':' || attribution, COUNT(staff_id)"
                    " FROM audit_items GROUP BY role, attribution"
                )
            ).all()
        )
        assert set(attribution) == {
            "counter_clerk:roster",
            "lobby_manager:roster",
            "outlet:outlet_manager",
            "-:unresolved",
        }
        assert attribution["-:unresolved"] == 0
        wrong_clerk = conn.execute(
            text(
                "SELECT COUNT(*) FROM audit_items i JOIN audits a ON a.id = i.audit_id"
                " JOIN staff s ON s.id = i.staff_id"
                " WHERE i.role = 'counter_clerk'"
                " AND (s.role != 'counter_clerk' OR s.outlet_id != a.outlet_id)"
            )
        ).scalar_one()
        assert wrong_clerk == 0
        breakdown = conn.execute(text("SELECT breakdown FROM audits WHERE id = 1")).scalar_one()
        breakdown = json.loads(breakdown) if isinstance(breakdown, str) else breakdown
        assert breakdown["counter_id"] in range(1, 7)
        assert "sections" in breakdown
        waits = conn.execute(
            text("SELECT MIN(wait_s), MAX(wait_s) FROM queue_waits WHERE left_at > joined_at")
        ).one()
        assert waits[0] >= 30
        assert waits[1] <= 900

    admin = f.login(client, bench.ADMIN_USERNAME, bench.PASSWORD)
    resp = client.post(f"/api/v1/performance/periods/quarter/{PERIOD}/recompute", headers=admin)
    assert resp.status_code == 200, resp.text
    assert resp.json()["scores"] == 12
    assert resp.json()["facts"] > 0

    resp = client.get(
        "/api/v1/performance/scores",
        params={"period": PERIOD, "level": "staff", "limit": 50},
        headers=admin,
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["total"] == 12
    assert all(row["score"] is not None for row in resp.json()["items"])

    # The HR user is scoped to region R01: outlets 1 and 3 of the three.
    hr = f.login(client, bench.HR_USERNAME, bench.PASSWORD)
    resp = client.get(
        "/api/v1/performance/scores",
        params={"period": PERIOD, "level": "staff", "limit": 50},
        headers=hr,
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["total"] == 8
    assert {row["outlet_id"] for row in resp.json()["items"]} == {1, 3}


def _indexes(engine: Engine) -> dict[str, set[str]]:
    inspector = inspect(engine)
    return {t: {i["name"] for i in inspector.get_indexes(t)} for t in bench.BULK_TABLES}


def test_the_harness_measures_every_route_it_promises(database_url, bench_engine):
    _generate(bench_engine)

    results = bench.measure(database_url, PERIOD, repeats=1, drilldowns=2)

    assert [m.error for m in results] == [""] * len(results)
    assert all(m.times for m in results)  # timed, never judged
    cold, warm, one_day = results[:3]
    assert int(cold.rows.split(" facts")[0].replace(",", "")) > 0
    assert warm.rows.startswith("0 days rebuilt")  # the facts were kept
    assert not one_day.rows.startswith("0 days")  # the day marked stale was rebuilt


def test_generated_data_is_kept_at_its_scale_only(bench_engine):
    assert bench.generated(bench_engine, TINY) is None
    indexes = _indexes(bench_engine)
    _generate(bench_engine)
    # PostgreSQL's load drops the big tables' secondary indexes and builds them again.
    assert _indexes(bench_engine) == indexes
    assert bench.schema_drift(bench_engine) == []  # its own marker table is not drift

    assert bench.generated(bench_engine, TINY) is not None
    bigger = bench.Scale(**{**TINY.__dict__, "audits": TINY.audits + 1})
    assert bench.generated(bench_engine, bigger) is None

    # Regenerating at another scale empties the bench's own data first.
    _generate(bench_engine, bigger)
    assert bench.row_counts(bench_engine)["audits"] == TINY.audits + 1
    assert bench.generated(bench_engine, TINY) is None


def test_a_database_the_bench_did_not_fill_is_never_emptied(db, bench_engine):
    region = f.region(db)
    f.outlet(db, region)
    db.commit()

    with pytest.raises(bench.BenchError, match="refusing to empty it"):
        _generate(bench_engine)
    assert bench.row_counts(bench_engine)["outlets"] == 1
