# ruff: noqa: S608 - the SQL is this module's own text; every outside value is bound or validated
"""``make bench-scores``: the staff-performance scores at the scale of a real organisation.

Generates one year of an organisation (500 outlets, 5,000 staff, their roster, ~1M vision
findings, ~1M queue samples, ~1M finished queue waits, 50k approved audits) in a dedicated
PostgreSQL database with a few ``INSERT ... SELECT ... FROM generate_series`` statements run on
the server (pseudo-random but deterministic: every random number is a hash of the row number with
the seed and a salt), then times the score routes through the API in-process and prints a
side-by-side table:

- recompute all of one quarter's scores (``POST /performance/periods/quarter/<key>/recompute``),
  target under 5 s;
- one staff member's drill-down (``GET /performance/staff/{id}``), target under 200 ms;
- the exports (``/performance/exports/scores.csv`` and ``.xlsx``), no target;
- an HR user's region-scoped list (``GET /performance/scores?level=staff&limit=50``).

The data is generated once and kept (a ``bench_meta`` row records the scale it was made at);
``--regenerate`` starts over. Timings are only printed, never asserted.

    python -m audit_service.performance.bench [--database-url URL] [--regenerate]
        [--period 2026-Q2] [--repeats 3] [--outlets 500 ...] [--generate-only]

SQLite is refused unless ``--allow-sqlite`` (a small smoke run of the same statements).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError

from audit_service.core.db import UTCDateTime, make_engine

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/auditlens_bench"
ADMIN_DATABASE = "test"  # the server's database the bench connects to, to create its own
PASSWORD = "bench-password-0000"  # noqa: S105 - the bench's throwaway accounts
ADMIN_USERNAME = "bench-admin"
HR_USERNAME = "bench-hr"
TIMEZONE = "Asia/Shanghai"
PATTERNS = 64  # distinct scored answer sets the audits are drawn from
# The outlets' weekly hours, as audit_service stores them (organisation.schemas.WeeklyHours).
_DAY = [{"opens": "09:00", "closes": "17:00", "extended": False}]
OPENING_HOURS: dict[str, list[dict[str, Any]]] = {
    "mon": _DAY,
    "tue": _DAY,
    "wed": _DAY,
    "thu": _DAY,
    "fri": _DAY,
    "sat": [{"opens": "09:00", "closes": "12:00", "extended": False}],
    "sun": [],
}
NOON = dtime(13, 0)  # the roster's two halves of a weekday: 09:00-13:00 and 13:00-17:00
TABLES = (
    "regions",
    "outlets",
    "counters",
    "cameras",
    "zones",
    "staff",
    "staff_assignments",
    "users",
    "user_region_scopes",
    "shifts",
    "vision_events",
    "queue_samples",
    "queue_waits",
    "checklist_templates",
    "checklist_versions",
    "visits",
    "audits",
    "audit_items",
)
_SEED_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,32}$")


class BenchError(Exception):
    """A problem the user fixes (wrong database, bad option); printed without a traceback."""


@dataclass(frozen=True)
class Scale:
    """What to generate. The defaults are the issue's: one year, 500 outlets, 5,000 staff."""

    regions: int = 10
    outlets: int = 500
    counters_per_outlet: int = 4
    staff_per_outlet: int = 10  # 1 outlet manager, 1 lobby manager, the rest counter clerks
    start: date = date(2025, 10, 1)
    days: int = 365
    events: int = 1_000_000  # vision findings: 90 % counter_unattended, 10 % queue_over_threshold
    queue_samples: int = 1_000_000
    queue_waits: int = 1_000_000
    audits: int = 50_000
    auditors: int = 50
    seed: str = "0.42"

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            least = 0 if f.name in _MAY_BE_ZERO else 1
            if isinstance(value, int) and value < least:
                raise BenchError(
                    f"--{f.name.replace('_', '-')} must be at least {least} (got {value})"
                )
        if self.staff_per_outlet < 3:
            raise BenchError(
                "--staff-per-outlet must be at least 3 (an outlet manager, a lobby manager and "
                f"one counter clerk; got {self.staff_per_outlet})"
            )
        if not _SEED_PATTERN.match(self.seed):
            raise BenchError(f"--seed must be 1-32 of A-Z a-z 0-9 . _ - (got {self.seed!r})")

    @property
    def seed_number(self) -> int:
        return int(hashlib.md5(self.seed.encode()).hexdigest()[:12], 16)  # noqa: S324

    @property
    def clerks(self) -> int:
        return self.staff_per_outlet - 2

    @property
    def staffed_counters(self) -> int:
        """Counters with a clerk rostered all day (the others are never staffed)."""
        return min(self.counters_per_outlet, self.clerks)

    @property
    def n_counters(self) -> int:
        return self.outlets * self.counters_per_outlet

    @property
    def unattended_events(self) -> int:
        return self.events - self.queue_events

    @property
    def queue_events(self) -> int:
        return self.events // 10

    def to_json(self) -> str:
        """The marker's parameters: the scale and the checklist's version (the audits follow it,
        so a changed ready template regenerates them)."""
        data: dict[str, Any] = asdict(self)
        data["start"] = self.start.isoformat()
        definition = json.dumps(checklist_definition().model_dump(mode="json"), sort_keys=True)
        data["checklist"] = hashlib.sha256(definition.encode()).hexdigest()[:16]
        return json.dumps(data, sort_keys=True)


_MAY_BE_ZERO = {"events", "queue_samples", "queue_waits", "audits"}


# --- SQL that differs between PostgreSQL and SQLite -----------------------------------------


@dataclass(frozen=True)
class _Sql:
    """The few expressions the generator needs that PostgreSQL and SQLite spell differently."""

    pg: bool
    seed: int

    def series(self, n: str, alias: str) -> str:
        """A FROM item: integers 1..n as ``alias.g``."""
        if self.pg:
            return f"generate_series(1, {n}) AS {alias}(g)"
        return f"(SELECT g FROM bench_numbers WHERE g <= {n}) AS {alias}"

    def rand(self, key: str, salt: int) -> str:
        """Uniform in [0, 1) from the integer expression ``key``: a hash of the key with the
        seed and a salt (PostgreSQL's ``hashint8extended``, an md5 on SQLite), so the same
        row gets the same number on every run."""
        h = (self.seed + salt) % 2**62
        if self.pg:
            return (
                f"((hashint8extended(CAST({key} AS BIGINT), {h}) & 4294967295)::float8"
                " / 4294967296.0)"
            )
        return f"bench_rand({key}, {h})"

    def int_(self, expr: str, *, small: bool = False) -> str:
        """floor(expr) as an integer (expr >= 0); ``small``: a 32-bit one (for text functions)."""
        if self.pg:
            return f"CAST(floor({expr}) AS {'INTEGER' if small else 'BIGINT'})"
        return f"CAST({expr} AS INTEGER)"

    def add_s(self, ts: str, secs: str) -> str:
        """The instant ``secs`` (an integer expression) seconds after ``ts``."""
        if self.pg:
            return f"({ts} + ({secs}) * INTERVAL '1 second')"
        # The text form SQLAlchemy stores on SQLite, so comparisons with bound values hold.
        return f"(strftime('%Y-%m-%d %H:%M:%S', {ts}, ({secs}) || ' seconds') || '.000000')"

    def least(self, *args: str) -> str:
        return f"{'LEAST' if self.pg else 'MIN'}({', '.join(args)})"

    def greatest(self, *args: str) -> str:
        return f"{'GREATEST' if self.pg else 'MAX'}({', '.join(args)})"

    def lpad(self, expr: str, width: int) -> str:
        if self.pg:
            return f"lpad(CAST({expr} AS TEXT), {width}, '0')"
        return f"printf('%0{width}d', {expr})"

    def uuid(self, key: str) -> str:
        if self.pg:
            return f"CAST(CAST(md5({key}) AS UUID) AS TEXT)"
        return f"bench_uuid({key})"

    def obj(self, *pairs: tuple[str, str]) -> str:
        """A JSON object from (key, SQL expression) pairs."""
        args = ", ".join(f"'{k}', {v}" for k, v in pairs)
        return f"json_build_object({args})" if self.pg else f"json_object({args})"

    def json(self, expr: str) -> str:
        """A JSON document held as text, for a JSON column."""
        return f"CAST({expr} AS JSON)" if self.pg else expr


def _md5_unit(key: int, seed: int) -> float:
    return int(hashlib.md5(f"{seed}:{key}".encode()).hexdigest()[:8], 16) / 4294967296.0  # noqa: S324


def _md5_uuid(value: str) -> str:
    return str(uuid.UUID(hashlib.md5(value.encode()).hexdigest()))  # noqa: S324


def _sqlite_functions(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _register(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.create_function("bench_rand", 2, _md5_unit, deterministic=True)
        dbapi_conn.create_function("bench_uuid", 1, _md5_uuid, deterministic=True)


def open_engine(database_url: str) -> Engine:
    """An engine the generator can use (on SQLite, with its hash functions registered)."""
    engine = make_engine(database_url)
    if engine.dialect.name == "sqlite":
        _sqlite_functions(engine)
    return engine


def _stmt(sql: str, **params: Any) -> Any:
    """``text(sql)`` with datetimes and dates bound through the column types (SQLite text)."""
    binds = []
    for name, value in params.items():
        if isinstance(value, datetime):
            binds.append(bindparam(name, value, type_=UTCDateTime()))
        elif isinstance(value, date):
            binds.append(bindparam(name, value, type_=Date()))
        else:
            binds.append(bindparam(name, value))
    return text(sql).bindparams(*binds)


# --- the calendar and the checklist, computed in Python once (small) -----------------------

_temp = MetaData()
DAYS = Table(
    "bench_days",
    _temp,
    Column("n", Integer, primary_key=True),  # 0-based index among open days
    Column("day", Date),
    Column("opens_at", UTCDateTime()),
    Column("closes_at", UTCDateTime()),
    Column("secs", Integer),
    prefixes=["TEMPORARY"],
)
HALVES = Table(
    "bench_halves",
    _temp,
    Column("n", Integer, primary_key=True),
    Column("h", Integer, primary_key=True),
    Column("starts_at", UTCDateTime()),
    Column("ends_at", UTCDateTime()),
    prefixes=["TEMPORARY"],
)
PATTERN_AUDITS = Table(
    "bench_patterns",
    _temp,
    Column("pattern", Integer, primary_key=True),
    Column("answers", Text),
    Column("breakdown", Text),
    Column("score", Float),
    Column("passed", Boolean),
    Column("critical_failed", Boolean),
    prefixes=["TEMPORARY"],
)
PATTERN_ITEMS = Table(
    "bench_pattern_items",
    _temp,
    Column("pattern", Integer, primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("section", String(64)),
    Column("item", String(64)),
    Column("role", String(32)),
    Column("standard", String(64)),
    Column("critical", Boolean),
    Column("na", Boolean),
    Column("hidden", Boolean),
    Column("points", Float),
    Column("possible", Float),
    Column("fraction", Float),
    Column("failed", Boolean),
    prefixes=["TEMPORARY"],
)
AUDIT_PLAN = Table(
    "bench_audits",
    _temp,
    Column("id", Integer, primary_key=True),
    Column("outlet_id", Integer),
    Column("counter_id", Integer),
    Column("auditor_id", Integer),
    Column("at", UTCDateTime()),
    Column("shift_start", UTCDateTime()),
    Column("dur", Integer),
    Column("pattern", Integer),
    Column("clerk_id", Integer),
    Column("lobby_id", Integer),
    Column("manager_id", Integer),
    prefixes=["TEMPORARY"],
)


def open_days(scale: Scale) -> list[dict[str, Any]]:
    """Every local date of the range the outlets open, with its hours as UTC instants."""
    tz = ZoneInfo(TIMEZONE)
    out = []
    for i in range(scale.days):
        day = scale.start + timedelta(days=i)
        hours = OPENING_HOURS[("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()]]
        if not hours:
            continue
        opens = datetime.combine(day, dtime.fromisoformat(hours[0]["opens"]), tzinfo=tz)
        closes = datetime.combine(day, dtime.fromisoformat(hours[0]["closes"]), tzinfo=tz)
        out.append(
            {
                "n": len(out),
                "day": day,
                "opens_at": opens.astimezone(UTC),
                "closes_at": closes.astimezone(UTC),
                "secs": int((closes - opens).total_seconds()),
            }
        )
    return out


def roster_halves(days: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The roster's shifts of each open day: two halves split at 13:00, or one short day."""
    tz = ZoneInfo(TIMEZONE)
    out = []
    for d in days:
        noon = datetime.combine(d["day"], NOON, tzinfo=tz).astimezone(UTC)
        if d["opens_at"] < noon < d["closes_at"]:
            out.append({"n": d["n"], "h": 0, "starts_at": d["opens_at"], "ends_at": noon})
            out.append({"n": d["n"], "h": 1, "starts_at": noon, "ends_at": d["closes_at"]})
        else:
            out.append({"n": d["n"], "h": 0, "starts_at": d["opens_at"], "ends_at": d["closes_at"]})
    return out


def checklist_definition() -> Any:
    from audit_service.checklists.ready import READY_TEMPLATES

    return READY_TEMPLATES["counter-visit"]


def answer_patterns(n: int, seed: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``n`` plausible answer sets for the counter-visit checklist, scored by the real scorer,
    best first; and their per-item rows as the audit service stores them."""
    from audit_service.checklists.answers import Answer
    from audit_service.checklists.definition import ItemType
    from audit_service.checklists.scoring import score_audit, show_if_met

    defn = checklist_definition()
    rng = random.Random(f"{seed}:patterns")
    sets = []
    for p in range(n):
        good = 0.97 - 0.5 * p / max(1, n - 1)  # chance each item is done right
        answers: dict[str, Answer] = {}
        values: dict[str, Any] = {}
        for _, item in defn.items():
            if item.show_if is not None and not show_if_met(
                item.show_if, values.get(item.show_if.item)
            ):
                continue
            ok = rng.random() < good
            if item.allow_na and rng.random() < 0.1:
                answers[item.name] = Answer(value=None, na=True)
                continue
            match item.type:
                case ItemType.yes_no:
                    value: Any = ok if item.name != "complaint_scenario" else rng.random() < 0.3
                case ItemType.scale:
                    lo, hi = int(item.scale_min or 1), int(item.scale_max or 5)
                    value = (
                        rng.randint((lo + hi) // 2, hi) if ok else rng.randint(lo, (lo + hi) // 2)
                    )
                case ItemType.single_choice | ItemType.multi_choice:
                    choices = sorted(item.choices or [], key=lambda c: -c.points)
                    picks = choices[:2] if ok else choices[1:]
                    value = rng.choice(picks).name
                    if item.type is ItemType.multi_choice:
                        value = [c.name for c in choices if ok or rng.random() < 0.5]
                case ItemType.duration:
                    value = rng.randint(30, 280) if ok else rng.randint(300, 1500)
                case ItemType.number:
                    value = rng.randint(5, 30) if ok else rng.randint(31, 600)
                case ItemType.time_of_day:
                    value = f"{rng.randint(9, 16):02d}:{rng.randint(0, 59):02d}"
                case ItemType.text:
                    value = "" if ok else "Waited without being told why."
                case _:  # photo: the bench has no evidence blobs
                    continue
            answers[item.name] = Answer(value=value)
            values[item.name] = value
        result = score_audit(defn, answers)
        sets.append((answers, result))
    sets.sort(key=lambda s: -(s[1].score or 0.0))
    audits, items = [], []
    for p, (answers, result) in enumerate(sets):
        by_name = {i.name: i for i in result.items}
        audits.append(
            {
                "pattern": p,
                "answers": json.dumps({k: a.to_dict() for k, a in answers.items()}),
                # Without its opening brace: the audit's counter_id is spliced in front.
                "breakdown": json.dumps(result.to_dict())[1:],
                "score": result.score,
                "passed": result.passed,
                "critical_failed": bool(result.critical_failed),
            }
        )
        for position, (section, item) in enumerate(defn.items()):
            scored = by_name.get(item.name)
            items.append(
                {
                    "pattern": p,
                    "position": position,
                    "section": section.name,
                    "item": item.name,
                    "role": item.role.value if item.role else None,
                    "standard": item.standard,
                    "critical": item.critical,
                    "na": bool(scored.na) if scored else False,
                    "hidden": bool(scored.hidden) if scored else False,
                    "points": float(scored.points) if scored else 0.0,
                    "possible": float(scored.possible) if scored else 0.0,
                    "fraction": scored.fraction if scored else None,
                    "failed": bool(scored.failed) if scored else False,
                }
            )
    return audits, items


# --- the database -------------------------------------------------------------------------


def _server_url(url: URL, database: str) -> str:
    return url.set(drivername="postgresql", database=database).render_as_string(hide_password=False)


def ensure_database(database_url: str) -> None:
    """Create the PostgreSQL database if it does not exist (from the server's ``test`` one)."""
    url = make_url(database_url)
    if not url.drivername.startswith("postgresql") or not url.database:
        return
    import psycopg
    from psycopg import sql

    try:
        conn = psycopg.connect(_server_url(url, ADMIN_DATABASE), autocommit=True)
    except psycopg.OperationalError as exc:
        raise BenchError(
            f"cannot reach PostgreSQL at {url.host}:{url.port or 5432} (database "
            f"'{ADMIN_DATABASE}'): {str(exc).strip()}. Start it (pg_ctlcluster "
            "--skip-systemctl-redirect $(ls /etc/postgresql) main start) or pass --database-url."
        ) from exc
    with conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (url.database,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(url.database)))
            print(f"created database {url.database}", flush=True)


def schema_drift(engine: Engine) -> list[str]:
    """How the database's schema differs from the models (a migration edited after this
    database was migrated leaves it behind at the same revision); empty when it does not."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from audit_service.models import Base

    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    out = []
    for entry in diff:
        change = entry[0] if isinstance(entry, tuple) else entry[0][0]  # column changes: a list
        if "bench_meta" not in repr(entry):
            out.append(f"{change} {_drift_name(entry)}")
    return out


def _drift_name(entry: Any) -> str:
    obj = entry[1] if isinstance(entry, tuple) else entry[0][2:4]
    return str(getattr(obj, "name", obj))


def rebuild_schema(engine: Engine, drift: list[str]) -> None:
    """Drop and recreate the schema of a bench database whose schema is out of date (its data
    is regenerated after); refuses a database the bench did not fill, and SQLite."""
    shown = "; ".join(drift[:3]) + (f"; ... ({len(drift)} in all)" if len(drift) > 3 else "")
    with engine.begin() as conn:
        meta = _meta(conn)
        found = sum(_count(conn, t) for t in ("outlets", "staff", "users"))
        if engine.dialect.name != "postgresql" or (meta is None and found):
            raise BenchError(
                f"the schema of {engine.url.render_as_string()} differs from the models ({shown})"
                " and the bench rebuilds only its own PostgreSQL database; migrate it or point "
                "--database-url at another database"
            )
        print(f"schema differs from the models ({shown}): rebuilding it", flush=True)
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        conn.execute(text("SET LOCAL lock_timeout = '30s'"))
        try:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        except DBAPIError as exc:
            raise BenchError(
                f"could not drop the out-of-date schema ({str(exc.orig).strip()}); another "
                "session may be using the database: close it and run again"
            ) from exc
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))


def _count(conn: Connection, table: str) -> int:
    return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def _columns(conn: Connection, table: str) -> set[str]:
    return {c["name"] for c in inspect(conn).get_columns(table)}


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: _count(conn, t) for t in TABLES}


def _meta(conn: Connection) -> dict[str, Any] | None:
    if not inspect(conn).has_table("bench_meta"):
        return None
    row = conn.execute(text("SELECT * FROM bench_meta")).mappings().first()
    return None if row is None else dict(row)


def generated(engine: Engine, scale: Scale) -> dict[str, Any] | None:
    """The marker of data generated at ``scale`` that is still all there, else None."""
    with engine.connect() as conn:
        meta = _meta(conn)
        if meta is None or meta["generated_at"] is None or meta["params"] != scale.to_json():
            return None
        expected = {
            "outlets": scale.outlets,
            "staff": scale.outlets * scale.staff_per_outlet,
            "vision_events": scale.events,
            "queue_waits": scale.queue_waits,
            "audits": scale.audits,
        }
        if any(_count(conn, t) != n for t, n in expected.items()):
            return None
    return meta


_META_COLUMNS = "params TEXT, generated_at TEXT, seconds FLOAT, indexes TEXT"
# The big tables: their secondary indexes are dropped while they fill and built after.
BULK_TABLES = (
    "shifts",
    "vision_events",
    "queue_samples",
    "queue_waits",
    "visits",
    "audits",
    "audit_items",
)


def _wipe(engine: Engine, params: str) -> None:
    """Empty every table the service has; refuses a database the bench did not fill."""
    from audit_service.models import Base

    with engine.begin() as conn:
        meta = _meta(conn)
        found = {t: _count(conn, t) for t in ("outlets", "staff", "users")}
        if meta is None and any(found.values()):
            held = ", ".join(f"{n} {t}" for t, n in found.items() if n)
            raise BenchError(
                f"the database {engine.url.render_as_string()} holds data the bench did not "
                f"generate ({held}); refusing to empty it. Point --database-url at an empty or "
                "a bench database."
            )
        tables = list(Base.metadata.sorted_tables)
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for t in reversed(tables):
                conn.execute(t.delete())
        # A run stopped while the indexes were down: put them back (cheap, the tables are empty).
        for ddl in json.loads((meta or {}).get("indexes") or "[]"):
            conn.execute(text(_if_not_exists(ddl)))
        # The marker goes in first (generated_at empty until the end): a generation that stops
        # half-way is still the bench's, and the next run may empty it.
        conn.execute(text("DROP TABLE IF EXISTS bench_meta"))
        conn.execute(text(f"CREATE TABLE bench_meta ({_META_COLUMNS})"))
        conn.execute(_stmt("INSERT INTO bench_meta (params) VALUES (:p)", p=params))


def _if_not_exists(ddl: str) -> str:
    return re.sub(r"^CREATE (UNIQUE )?INDEX ", r"CREATE \1INDEX IF NOT EXISTS ", ddl)


def _drop_secondary_indexes(conn: Connection) -> list[str]:
    """Drop the big tables' indexes that back no constraint; returns how to build them again
    (also kept in bench_meta until they are, in case the run is stopped)."""
    rows = conn.execute(
        text(
            """SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = current_schema() AND i.tablename IN :tables
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                              WHERE c.conindid = to_regclass(quote_ident(i.schemaname)
                                                             || '.' || quote_ident(i.indexname)))
            ORDER BY i.tablename, i.indexname"""
        ).bindparams(bindparam("tables", expanding=True)),
        {"tables": list(BULK_TABLES)},
    ).all()
    ddls = [ddl for _, ddl in rows]
    conn.execute(_stmt("UPDATE bench_meta SET indexes = :d", d=json.dumps(ddls)))
    for name, _ in rows:
        conn.execute(text(f'DROP INDEX "{name}"'))
    conn.commit()
    return ddls


def _build_indexes(conn: Connection, ddls: list[str]) -> None:
    for ddl in ddls:
        conn.execute(text(_if_not_exists(ddl)))
    conn.execute(text("UPDATE bench_meta SET indexes = NULL"))
    conn.commit()


# --- generation ---------------------------------------------------------------------------


@dataclass
class Progress:
    log: Callable[[str], None] = print
    started: float = field(default_factory=time.perf_counter)
    steps: list[tuple[str, int, float]] = field(default_factory=list)

    @contextmanager
    def step(self, name: str) -> Iterator[list[int]]:
        rows = [0]
        began = time.perf_counter()
        yield rows
        took = time.perf_counter() - began
        self.steps.append((name, rows[0], took))
        total = time.perf_counter() - self.started
        shown = f"{rows[0]:>11,} rows" if rows[0] else " " * 16
        self.log(f"  {name:<34} {shown}  {took:7.1f} s   (total {total:6.1f} s)")


def generate(
    engine: Engine,
    scale: Scale,
    *,
    log: Callable[[str], None] = print,
    check_foreign_keys: bool = False,
) -> float:
    """Empty the database and fill it at ``scale``; returns the seconds it took.

    On PostgreSQL the big tables' secondary indexes are dropped while they fill and built
    after, and the foreign keys are not checked row by row unless ``check_foreign_keys``
    (``session_replication_role = replica``, for a superuser): both more than doubled the time
    of the big inserts. The statements build consistent ids by construction, and the test
    generates with the checks on.
    """
    _wipe(engine, scale.to_json())
    pg = engine.dialect.name == "postgresql"
    s = _Sql(pg=pg, seed=scale.seed_number)
    progress = Progress(log)
    days = open_days(scale)
    if not days:
        raise BenchError(f"--days {scale.days} from {scale.start} holds no open day")
    log(
        f"generating {scale.days} days from {scale.start} ({len(days)} open days), "
        f"{scale.outlets} outlets, {scale.outlets * scale.staff_per_outlet} staff, "
        f"{scale.events:,} findings, {scale.queue_samples:,} queue samples, "
        f"{scale.queue_waits:,} queue waits, {scale.audits:,} audits"
    )
    with engine.connect() as conn:
        if pg:
            conn.execute(text("SET synchronous_commit TO off"))
            conn.execute(text("SET work_mem TO '256MB'"))
            conn.execute(text("SET maintenance_work_mem TO '512MB'"))
            conn.commit()
            if not check_foreign_keys:
                try:
                    conn.execute(text("SET session_replication_role TO replica"))
                    conn.commit()
                except DBAPIError:
                    conn.rollback()
                    log("  (not a superuser: foreign keys are checked row by row, slower)")
        steps = (
            _calendar,
            _organisation,
            _staff,
            _users,
            _shifts,
            _unattended,
            _queue_events,
            _queue_samples,
            _queue_waits,
            _checklist,
            _audits,
        )
        ctx = {"days": days}
        dropped = _drop_secondary_indexes(conn) if pg else []
        try:
            for fn in steps:
                fn(conn, s, scale, progress, ctx)
                conn.commit()
        finally:
            if dropped:
                conn.rollback()
                with progress.step(f"{len(dropped)} indexes of the big tables"):
                    _build_indexes(conn, dropped)
        with progress.step("sequences, ANALYZE"):
            if pg:
                # Explicit ids were inserted: move the sequences past them.
                for t in [t for t in TABLES if "id" in _columns(conn, t)]:
                    seq = conn.execute(
                        text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": t}
                    ).scalar()
                    if seq is not None:
                        conn.execute(
                            text(f"SELECT setval(:seq, (SELECT MAX(id) FROM {t}))"), {"seq": seq}
                        )
                conn.commit()
                conn.execute(text("ANALYZE"))
            else:
                conn.execute(text("ANALYZE"))
            conn.commit()
        seconds = time.perf_counter() - progress.started
        conn.execute(
            _stmt(
                "UPDATE bench_meta SET generated_at = :at, seconds = :s",
                at=datetime.now(UTC).isoformat(timespec="seconds"),
                s=seconds,
            )
        )
        conn.commit()
    log(f"generated in {seconds:.1f} s")
    return seconds


def _calendar(conn: Connection, s: _Sql, scale: Scale, p: Progress, ctx: dict[str, Any]) -> None:
    with p.step("calendar, answer patterns (temp)"):
        for table in _temp.sorted_tables:
            table.drop(conn, checkfirst=True)
            table.create(conn)
        conn.execute(DAYS.insert(), ctx["days"])
        conn.execute(HALVES.insert(), roster_halves(ctx["days"]))
        audits, items = answer_patterns(PATTERNS, scale.seed)
        conn.execute(PATTERN_AUDITS.insert(), audits)
        conn.execute(PATTERN_ITEMS.insert(), items)
        if not s.pg:  # SQLite has no generate_series: a numbers table instead
            top = max(
                scale.events,
                scale.queue_samples,
                scale.queue_waits,
                scale.audits,
                scale.outlets * scale.staff_per_outlet,
                scale.n_counters,
                scale.regions,
            )
            conn.execute(text("DROP TABLE IF EXISTS temp.bench_numbers"))
            conn.execute(text("CREATE TEMPORARY TABLE bench_numbers (g INTEGER PRIMARY KEY)"))
            conn.execute(
                text(
                    "INSERT INTO bench_numbers WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL "
                    "SELECT g + 1 FROM n WHERE g < :top) SELECT g FROM n"
                ),
                {"top": top},
            )


def _insert(conn: Connection, sql: str, **params: Any) -> int:
    return int(conn.execute(_stmt(sql, **params)).rowcount or 0)


def _organisation(
    conn: Connection, s: _Sql, scale: Scale, p: Progress, ctx: dict[str, Any]
) -> None:
    now = datetime.now(UTC)
    C = scale.counters_per_outlet
    with p.step("regions, outlets") as rows:
        rows[0] += _insert(
            conn,
            f"""INSERT INTO regions (id, code, name, created_at, updated_at)
            SELECT r.g, 'R' || {s.lpad("r.g", 2)}, 'Region ' || {s.lpad("r.g", 2)}, :now, :now
            FROM {s.series(":n", "r")}""",
            n=scale.regions,
            now=now,
        )
        rows[0] += _insert(
            conn,
            f"""INSERT INTO outlets (id, region_id, code, name, address, timezone, opening_hours,
                created_at, updated_at)
            SELECT o.g, (o.g - 1) % :regions + 1, 'O' || {s.lpad("o.g", 4)},
                   'Outlet ' || {s.lpad("o.g", 4)}, o.g || ' Service Road', :tz, {s.json(":hours")},
                   :now, :now
            FROM {s.series(":n", "o")}""",
            n=scale.outlets,
            regions=scale.regions,
            tz=TIMEZONE,
            hours=json.dumps(OPENING_HOURS),
            now=now,
        )
    with p.step("counters, cameras, zones") as rows:
        rows[0] += _insert(
            conn,
            f"""INSERT INTO counters (id, outlet_id, code, name, kind, active, created_at,
                updated_at)
            SELECT k.g, (k.g - 1) / {C} + 1, 'C' || ((k.g - 1) % {C} + 1),
                   'Counter ' || ((k.g - 1) % {C} + 1),
                   CASE (k.g - 1) % 4 WHEN 0 THEN 'issuance' WHEN 1 THEN 'claims'
                        WHEN 2 THEN 'consultation' ELSE 'other' END, TRUE, :now, :now
            FROM {s.series(":n", "k")}""",
            n=scale.n_counters,
            now=now,
        )
        # One camera per counter, each with the counter's station and its queue as zones.
        rows[0] += _insert(
            conn,
            f"""INSERT INTO cameras (id, outlet_id, code, name, stream_url_encrypted,
                analysis_fps, model_options, blur_faces, active, created_at, updated_at)
            SELECT c.id, c.outlet_id, o.code || '-cam-' || c.code, 'Camera over ' || c.name,
                   NULL, 2.0, {s.json("'{}'")}, TRUE, TRUE, :now, :now
            FROM counters c JOIN outlets o ON o.id = c.outlet_id""",
            now=now,
        )
        rows[0] += _insert(
            conn,
            f"""INSERT INTO zones (id, camera_id, code, kind, counter_id, polygon, anchor,
                min_presence_s, unattended_after_s, max_queue, wait_sla_s, created_at,
                updated_at)
            SELECT 2 * c.id - 1, c.id, 'counter-' || c.code, 'counter', c.id,
                   {s.json(":counter_poly")}, 'center', 2.0, 60.0, NULL, NULL, :now, :now
            FROM counters c
            UNION ALL
            SELECT 2 * c.id, c.id, 'queue-' || c.code, 'queue', c.id, {s.json(":queue_poly")},
                   'bottom_center', 2.0, 60.0, 5, 300.0, :now, :now
            FROM counters c""",
            counter_poly="[[0.1, 0.1], [0.45, 0.1], [0.45, 0.45], [0.1, 0.45]]",
            queue_poly="[[0.1, 0.5], [0.9, 0.5], [0.9, 0.95], [0.1, 0.95]]",
            now=now,
        )


_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红兰建文辉力晨宇浩然欣怡"


def _staff(conn: Connection, s: _Sql, scale: Scale, p: Progress, ctx: dict[str, Any]) -> None:
    """Per outlet: #1 outlet manager, #2 lobby manager, #3.. counter clerks; the lobby manager
    and the first two clerks (team leads) report to the manager, the other clerks to a lead."""
    now = datetime.now(UTC)
    S = scale.staff_per_outlet
    k = f"((st.g - 1) % {S} + 1)"  # position within the outlet
    base = f"(st.g - {k})"  # the id before the outlet's first

    def pick(alphabet: str, salt: int) -> str:
        index = s.int_(f"{s.rand('st.g', salt)} * {len(alphabet)}", small=True)
        return f"substr(:{'surnames' if alphabet is _SURNAMES else 'given'}, 1 + {index}, 1)"

    third = f"CASE WHEN {s.rand('st.g', 3)} < 0.6 THEN {pick(_GIVEN, 4)} ELSE '' END"
    name = f"{pick(_SURNAMES, 1)} || {pick(_GIVEN, 2)} || {third}"
    lead = (
        f"CASE WHEN {k} = 1 THEN NULL WHEN {k} <= 4 OR {S} < 4 THEN {base} + 1"
        f" ELSE {base} + 3 + ({k} - 5) % 2 END"
    )
    role = (
        f"CASE {k} WHEN 1 THEN 'outlet_manager' WHEN 2 THEN 'lobby_manager'"
        " ELSE 'counter_clerk' END"
    )
    active_from = scale.start - timedelta(days=365)
    with p.step("staff, staff_assignments") as rows:
        rows[0] += _insert(
            conn,
            f"""INSERT INTO staff (id, employee_no, name, role, outlet_id, team_lead_id,
                active_from, active_to, created_at, updated_at)
            SELECT st.g, 'E' || {s.lpad("st.g", 6)}, {name}, {role}, (st.g - 1) / {S} + 1,
                   {lead}, :active_from, NULL, :now, :now
            FROM {s.series(":n", "st")}""",
            n=scale.outlets * S,
            surnames=_SURNAMES,
            given=_GIVEN,
            active_from=active_from,
            now=now,
        )
        rows[0] += _insert(
            conn,
            """INSERT INTO staff_assignments (id, staff_id, outlet_id, role, valid_from, valid_to,
                created_at, updated_at)
            SELECT id, id, outlet_id, role, active_from, NULL, :now, :now FROM staff""",
            now=now,
        )


def _users(conn: Connection, s: _Sql, scale: Scale, p: Progress, ctx: dict[str, Any]) -> None:
    from audit_service.core.security import hash_password

    now = datetime.now(UTC)
    digest = hash_password(PASSWORD)
    accounts = [(1, ADMIN_USERNAME, "Bench admin", "admin", "all")]
    accounts.append((2, HR_USERNAME, "Bench HR (region R01)", "hr", "regions"))
    accounts += [
        (2 + i, f"bench-auditor-{i:03d}", f"Mystery shopper {i:03d}", "auditor", "all")
        for i in range(1, scale.auditors + 1)
    ]
    with p.step("users, region scope") as rows:
        for uid, username, display, role, scope in accounts:
            rows[0] += _insert(
                conn,
                """INSERT INTO users (id, username, display_name, password_hash, role,
                    scope_kind, staff_id, active, password_changed_at, created_at, updated_at)
                VALUES (:id, :u, :d, :h, :r, :sk, NULL, TRUE, :now, :now, :now)""",
                id=uid,
                u=username,
                d=display,
                h=digest,
                r=role,
                sk=scope,
                now=now,
            )
        rows[0] += _insert(
            conn, "INSERT INTO user_region_scopes (user_id, region_id) VALUES (2, 1)"
        )


def _shifts(conn: Connection, s: _Sql, scale: Scale, p: Progress, ctx: dict[str, Any]) -> None:
    """Every open half-day: the staffed counters each get a clerk (the day's group of clerks
    rotates day by day, and at 13:00 each clerk moves to the next counter), plus the lobby
    manager for the outlet."""
    now = datetime.now(UTC)
    S, C, W, N = (
        scale.staff_per_outlet,
        scale.counters_per_outlet,
        scale.staffed_counters,
        scale.clerks,
    )
    clerk = f"(o.g - 1) * {S} + 3 + ((hv.n * {W} + (c.g - 1 + hv.h) % {W}) % {N})"
    with p.step("shifts") as rows:
        rows[0] += _insert(
            conn,
            f"""INSERT INTO shifts (staff_id, outlet_id, counter_id, role, starts_at, ends_at,
                import_batch, created_at, updated_at)
            SELECT staff_id, outlet_id, counter_id, role, starts_at, ends_at, 'bench', :now, :now
            FROM (
                SELECT {clerk} AS staff_id, o.g AS outlet_id, (o.g - 1) * {C} + c.g AS counter_id,
                       'counter' AS role, hv.starts_at, hv.ends_at
                FROM {s.series(":outlets", "o")} CROSS JOIN {s.series(":w", "c")}
                     CROSS JOIN bench_halves hv
                UNION ALL
                SELECT (o.g - 1) * {S} + 2, o.g, NULL, 'lobby_manager', hv.starts_at, hv.ends_at
                FROM {s.series(":outlets", "o")} CROSS JOIN bench_halves hv
            ) x
            ORDER BY starts_at, outlet_id, counter_id""",
            outlets=scale.outlets,
            w=W,
            now=now,
        )


def _slots(n_per_target: int, n_days: int) -> int:
    """Slots per open day so that each target's rows get slots of their own (no overlap)."""
    return max(8, math.ceil(n_per_target / max(1, n_days)))


def _slotted(s: _Sql, scale: Scale, n: int, days: int, salt: int) -> tuple[str, str]:
    """A FROM clause spreading rows 1..n over the counters and the year so that no two rows
    of one counter share a slot: row g is the m-th of its counter, and gets a random slot among
    the m-th ``per``-th of the counter's slots. Yields x.g, x.counter_id, x.outlet_id, x.c (the
    counter's number in its outlet), x.k (the slot of the day) and ``d`` (the day); returns it
    with the slot's length in seconds."""
    per = max(1, math.ceil(n / scale.n_counters))
    k = _slots(per, days)
    total = days * k
    C, NC = scale.counters_per_outlet, scale.n_counters
    m = f"((g.g - 1) / {NC})"
    first, after = f"({m} * {total} / {per})", f"(({m} + 1) * {total} / {per})"
    inner = f"""
        SELECT g.g, (g.g - 1) % {NC} + 1 AS counter_id,
               ((g.g - 1) % {NC}) / {C} + 1 AS outlet_id,
               ((g.g - 1) % {NC}) % {C} + 1 AS c,
               {first} + {s.int_(f"{s.rand('g.g', salt)} * ({after} - {first})")} AS slot
        FROM {s.series(str(n), "g")}"""
    src = f"""(
        SELECT i.g, i.counter_id, i.outlet_id, i.c, i.slot / {k} AS dn,
               (i.slot % {k}) AS k
        FROM ({inner}) i) x
        JOIN bench_days d ON d.n = x.dn"""
    slot_len = f"(d.secs / {k})"
    return src, slot_len


def _unattended(conn: Connection, s: _Sql, scale: Scale, p: Progress, ctx: dict[str, Any]) -> None:
    """Counter-unattended findings, 1-30 min within one slot of opening hours (never two at
    once at a counter); outlets differ in how long their counters stay empty."""
    n = scale.unattended_events
    src, L = _slotted(s, scale, n, len(ctx["days"]), 10)
    lead_in = s.int_(f"{s.rand('x.g', 11)} * {L} / 2")
    max_dur = f"(300 + {s.int_(s.rand('x.outlet_id', 50) + ' * 1500')})"
    r = s.rand("x.g", 12)
    dur = s.least(f"{L} - {lead_in}", f"60 + {s.int_(f'{r} * {r} * ({max_dur} - 60)')}")
    data = s.obj(
        ("unattended_after_s", "60.0"), ("duration_s", "e.dur"), ("ended_by", "'attended'")
    )
    with p.step("vision_events: counter_unattended") as rows:
        if n:
            rows[0] += _insert(
                conn,
                f"""INSERT INTO vision_events (id, camera_id, outlet_id, counter_id, zone_code,
                    kind, started_at, ended_at, duration_s, data, evidence_id, start_received,
                    end_received, received_at, updated_at)
                SELECT {s.uuid("'ev:' || e.g")}, e.counter_id, e.outlet_id, e.counter_id,
                       'counter-C' || e.c, 'counter_unattended',
                       {s.add_s("e.opens_at", "e.off")}, {s.add_s("e.opens_at", "e.off + e.dur")},
                       e.dur,
                       {data},
                       NULL, TRUE, TRUE, {s.add_s("e.opens_at", "e.off + e.dur + 2")},
                       {s.add_s("e.opens_at", "e.off + e.dur + 2")}
                FROM (SELECT x.g, x.counter_id, x.outlet_id, x.c, d.opens_at,
                             x.k * {L} + {lead_in} AS off, {dur} AS dur
                      FROM {src}) e
                ORDER BY 7""",
            )


def _queue_events(
    conn: Connection, s: _Sql, scale: Scale, p: Progress, ctx: dict[str, Any]
) -> None:
    n = scale.queue_events
    src, L = _slotted(s, scale, n, len(ctx["days"]), 13)
    lead_in = s.int_(f"{s.rand('x.g', 14)} * {L} / 2")
    dur = s.least(f"{L} - {lead_in}", f"60 + {s.int_(s.rand('x.g', 15) + ' * 840')}")
    with p.step("vision_events: queue_over_threshold") as rows:
        if n:
            rows[0] += _insert(
                conn,
                f"""INSERT INTO vision_events (id, camera_id, outlet_id, counter_id, zone_code,
                    kind, started_at, ended_at, duration_s, data, evidence_id, start_received,
                    end_received, received_at, updated_at)
                SELECT {s.uuid("'eq:' || e.g")}, e.counter_id, e.outlet_id, e.counter_id,
                       'queue-C' || e.c, 'queue_over_threshold',
                       {s.add_s("e.opens_at", "e.off")}, {s.add_s("e.opens_at", "e.off + e.dur")},
                       e.dur, {s.obj(("max_queue", "5"), ("duration_s", "e.dur"))},
                       NULL, TRUE, TRUE, {s.add_s("e.opens_at", "e.off + e.dur + 2")},
                       {s.add_s("e.opens_at", "e.off + e.dur + 2")}
                FROM (SELECT x.g, x.counter_id, x.outlet_id, x.c, d.opens_at,
                             x.k * {L} + {lead_in} AS off, {dur} AS dur
                      FROM {src}) e
                ORDER BY 7""",
            )


def _queue_samples(
    conn: Connection, s: _Sql, scale: Scale, p: Progress, ctx: dict[str, Any]
) -> None:
    n = scale.queue_samples
    src, L = _slotted(s, scale, n, len(ctx["days"]), 20)
    count = s.int_(f"{s.rand('x.g', 21)} * {s.rand('x.g', 21)} * 9")
    noise = s.rand("q.g", 22)
    smoothed = s.greatest("0", f"q.n + {noise} - 0.5")
    with p.step("queue_samples") as rows:
        if n:
            rows[0] += _insert(
                conn,
                f"""INSERT INTO queue_samples (camera_id, zone_code, at, counter_id, outlet_id,
                    count, smoothed, wait_s)
                SELECT q.counter_id, 'queue-C' || q.c, {s.add_s("q.opens_at", "q.off")},
                       q.counter_id, q.outlet_id, q.n, {smoothed},
                       CASE WHEN q.n = 0 THEN NULL ELSE q.n * 75.0 END
                FROM (SELECT x.g, x.counter_id, x.outlet_id, x.c, d.opens_at,
                             x.k * {L} + {s.int_(f"{s.rand('x.g', 23)} * {L}")} AS off,
                             {count} AS n
                      FROM {src}) q
                ORDER BY 3""",
            )


def _queue_waits(conn: Connection, s: _Sql, scale: Scale, p: Progress, ctx: dict[str, Any]) -> None:
    """Finished waits: log-normal around a median that differs by counter (90-360 s), clipped
    to 30-900 s, ending (service begins) within opening hours; SLA 300 s."""
    n = scale.queue_waits
    C = scale.counters_per_outlet
    days = len(ctx["days"])
    z = f"sqrt(-2 * ln(1 - {s.rand('w.g', 32)})) * cos(2 * pi() * {s.rand('w.g', 33)})"
    median = f"(90 + 270 * {s.rand('w.counter_id', 60)})"
    wait = f"round({s.least('900', s.greatest('30', f'exp(ln({median}) + 0.6 * {z})'))})"
    counter = s.int_(f"{s.rand('g.g', 30)} * {scale.n_counters}")
    day = s.int_(f"{s.rand('g.g', 31)} * {days}")
    left_off = s.int_(f"{s.rand('u.g', 34)} * (d.secs - u.wait)")  # service begins
    with p.step("queue_waits") as rows:
        if n:
            rows[0] += _insert(
                conn,
                f"""INSERT INTO queue_waits (camera_id, zone_code, track_id, counter_id,
                    outlet_id, joined_at, left_at, wait_s, sla_s, within_sla, received_at)
                SELECT v.counter_id, 'queue-C' || ((v.counter_id - 1) % {C} + 1), v.g,
                       v.counter_id, (v.counter_id - 1) / {C} + 1,
                       {s.add_s("v.opens_at", "v.left_off - v.wait")},
                       {s.add_s("v.opens_at", "v.left_off")}, v.wait, 300.0, v.wait <= 300,
                       {s.add_s("v.opens_at", "v.left_off + 5")}
                FROM (SELECT u.g, u.counter_id, u.wait, d.opens_at,
                             u.wait + {left_off} AS left_off
                      FROM (SELECT w.g, w.counter_id, w.dn, {s.int_(wait)} AS wait
                            FROM (SELECT g.g, 1 + {counter} AS counter_id, {day} AS dn
                                  FROM {s.series(":n", "g")}) w) u
                      JOIN bench_days d ON d.n = u.dn) v
                ORDER BY 7""",
                n=n,
            )


def _checklist(conn: Connection, s: _Sql, scale: Scale, p: Progress, ctx: dict[str, Any]) -> None:
    defn = checklist_definition()
    at = datetime.combine(scale.start - timedelta(days=30), dtime(0), tzinfo=UTC)
    with p.step("checklist template, version") as rows:
        rows[0] += _insert(
            conn,
            """INSERT INTO checklist_templates (id, code, name_zh, name_en, created_at,
                created_by_id) VALUES (1, 'counter-visit', :zh, :en, :at, 1)""",
            zh=defn.name.zh,
            en=defn.name.en,
            at=at,
        )
        rows[0] += _insert(
            conn,
            f"""INSERT INTO checklist_versions (id, template_id, number, status, definition,
                created_at, created_by_id, published_at, published_by_id)
            VALUES (1, 1, 1, 'published', {s.json(":d")}, :at, 1, :at, 1)""",
            d=json.dumps(defn.model_dump(mode="json", exclude_none=True)),
            at=at,
        )


def _audits(conn: Connection, s: _Sql, scale: Scale, p: Progress, ctx: dict[str, Any]) -> None:
    """Approved mystery-shopper audits at a staffed counter during opening hours; each is one of
    the scored answer patterns (better outlets draw better ones), its items attributed as the
    audit service does: clerk items to the counter's shift, lobby items to the lobby manager's
    shift, outlet items to the outlet manager."""
    n = scale.audits
    C, W = scale.counters_per_outlet, scale.staffed_counters
    days = len(ctx["days"])
    if not n:
        return

    def pick(salt: int, n: int | str) -> str:
        return s.int_(f"{s.rand('g.g', salt)} * {n}")

    # From 10 min after opening to 50 min before closing; better outlets (a bigger exponent)
    # draw better answer patterns (they are sorted best first).
    at = s.add_s("d.opens_at", "a.frac * (d.secs - 3600) / 1000000 + 600")
    skew = f"0.5 + 1.5 * {s.rand('a.outlet_id', 70)}"
    pattern = s.int_(f"{PATTERNS} * power({s.rand('a.g', 24)}, {skew})")
    with p.step("audit plan (temp)") as rows:
        rows[0] += _insert(
            conn,
            f"""INSERT INTO bench_audits (id, outlet_id, counter_id, auditor_id, at, shift_start,
                dur, pattern)
            SELECT a.g, a.outlet_id, (a.outlet_id - 1) * {C} + a.c, a.auditor_id, {at},
                   hv.starts_at, a.dur, {pattern}
            FROM (SELECT g.g, 1 + {pick(20, scale.outlets)} AS outlet_id, 1 + {pick(22, W)} AS c,
                         {pick(21, days)} AS dn, {pick(23, 1000000)} AS frac,
                         900 + {pick(25, 1500)} AS dur, 3 + {pick(26, scale.auditors)} AS auditor_id
                  FROM {s.series(":n", "g")}) a
            JOIN bench_days d ON d.n = a.dn
            JOIN bench_halves hv ON hv.n = a.dn AND hv.starts_at <= {at} AND hv.ends_at > {at}""",
            n=n,
        )
        # Hash joins over the roster (its secondary indexes are down while it all loads).
        if s.pg:
            conn.execute(text("ANALYZE bench_audits"))
            conn.execute(text("ANALYZE shifts"))
        for column, where in (
            ("clerk_id", "sh.counter_id = b.counter_id AND sh.role = 'counter'"),
            ("lobby_id", "sh.outlet_id = b.outlet_id AND sh.role = 'lobby_manager'"),
        ):
            conn.execute(
                text(
                    f"""UPDATE bench_audits SET {column} = x.staff_id
                    FROM (SELECT b.id, sh.staff_id FROM bench_audits b
                          JOIN shifts sh ON {where} AND sh.starts_at = b.shift_start) x
                    WHERE x.id = bench_audits.id"""
                )
            )
        conn.execute(
            text(
                """UPDATE bench_audits SET manager_id = x.staff_id
                FROM (SELECT outlet_id, MIN(staff_id) AS staff_id FROM staff_assignments
                      WHERE role = 'outlet_manager' GROUP BY outlet_id) x
                WHERE x.outlet_id = bench_audits.outlet_id"""
            )
        )
    breakdown = """'{"counter_id": ' || b.counter_id || ', ' || pa.breakdown"""
    with p.step("visits, audits") as rows:
        rows[0] += _insert(
            conn,
            f"""INSERT INTO visits (id, outlet_id, version_id, auditor_id, kind, status,
                window_start, window_end, planned_at, notes, created_at, created_by_id)
            SELECT b.id, b.outlet_id, 1, b.auditor_id, 'assigned', 'submitted',
                   {s.add_s("b.at", "-259200")}, {s.add_s("b.at", "345600")}, NULL, '',
                   {s.add_s("b.at", "-864000")}, 1
            FROM bench_audits b ORDER BY b.id""",
        )
        rows[0] += _insert(
            conn,
            f"""INSERT INTO audits (id, visit_id, version_id, outlet_id, auditor_id, status,
                started_at, ended_at, submitted_at, reviewed_at, reviewed_by_id, latitude,
                longitude, accuracy_m, answers, score, passed, critical_failed, breakdown)
            SELECT b.id, b.id, 1, b.outlet_id, b.auditor_id, 'approved', b.at,
                   {s.add_s("b.at", "b.dur")}, {s.add_s("b.at", "b.dur + 1800")},
                   {s.add_s("b.at", "b.dur + 86400")}, 1,
                   31.1 + 0.3 * {s.rand("b.outlet_id", 80)},
                   121.3 + 0.3 * {s.rand("b.outlet_id", 81)},
                   25.0, {s.json("pa.answers")}, pa.score, pa.passed, pa.critical_failed,
                   {s.json(breakdown)}
            FROM bench_audits b JOIN bench_patterns pa ON pa.pattern = b.pattern
            ORDER BY b.id""",
        )
    with p.step("audit_items") as rows:
        staff = (
            "CASE pi.role WHEN 'counter_clerk' THEN b.clerk_id WHEN 'lobby_manager' THEN b.lobby_id"
            " WHEN 'outlet' THEN b.manager_id END"
        )
        rows[0] += _insert(
            conn,
            f"""INSERT INTO audit_items (audit_id, position, section, item, role, standard,
                critical, na, hidden, points, possible, fraction, failed, staff_id, attribution)
            SELECT b.id, pi.position, pi.section, pi.item, pi.role, pi.standard, pi.critical,
                   pi.na, pi.hidden, pi.points, pi.possible, pi.fraction, pi.failed, {staff},
                   CASE WHEN {staff} IS NULL THEN 'unresolved'
                        WHEN pi.role = 'outlet' THEN 'outlet_manager' ELSE 'roster' END
            FROM bench_audits b JOIN bench_pattern_items pi ON pi.pattern = b.pattern
            ORDER BY b.id, pi.position""",
        )


# --- measuring ----------------------------------------------------------------------------


@dataclass
class Measurement:
    name: str
    target: str
    times: list[float] = field(default_factory=list)
    rows: str = ""
    error: str = ""

    def cell(self, fn: Callable[[list[float]], float]) -> str:
        return _fmt_s(fn(self.times)) if self.times else "-"


def _fmt_s(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _fmt_bytes(n: int) -> str:
    return f"{n / 1024:.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    out = fn()
    return time.perf_counter() - began, out


def _login(client: Any, username: str) -> dict[str, str]:
    resp = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    if resp.status_code != 200:
        raise BenchError(f"login as {username} failed: {resp.status_code} {resp.text[:300]}")
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def _error(resp: Any) -> str:
    return f"HTTP {resp.status_code}: {resp.text[:300]}"


def measure(
    database_url: str,
    period: str,
    *,
    repeats: int = 3,
    drilldowns: int = 5,
    seed: str = "0.42",
    statement_timeout_s: float = 300.0,
) -> list[Measurement]:
    """Time the score routes through the API in-process (``TestClient`` on ``create_app``).

    On PostgreSQL every statement of the app is capped at ``statement_timeout_s`` (0: no cap)
    so a pathological plan shows as an error in the table instead of a bench that never ends;
    when the recompute fails nothing else is run (every other route would recompute too)."""
    with warnings.catch_warnings():  # starlette's note about httpx, not ours to act on
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from audit_service.app import create_app
    from audit_service.config import ServiceSettings

    kind = "quarter" if "-Q" in period else "week" if "-W" in period else "month"
    with tempfile.TemporaryDirectory(prefix="auditlens-bench-") as tmp:
        settings = ServiceSettings(
            _env_file=None,  # type: ignore[call-arg]
            environment="test",
            database_url=database_url,
            secret_key=secrets.token_urlsafe(48),
            evidence_backend="local",
            evidence_dir=Path(tmp) / "evidence",
            public_url="http://testserver",
            log_json=True,
            log_level="WARNING",
        )
        app = create_app(settings, configure_logs=False)
        engine = app.state.engine
        if engine.dialect.name == "postgresql" and statement_timeout_s > 0:

            @event.listens_for(engine, "connect")
            def _cap(dbapi_conn: Any, _record: Any) -> None:
                with dbapi_conn.cursor() as cur:
                    cur.execute(f"SET statement_timeout = {int(statement_timeout_s * 1000)}")
                dbapi_conn.commit()

        # The OpenAPI paths are whole (newer FastAPI nests included routers in app.routes).
        paths = set(app.openapi()["paths"])
        base = "/api/v1/performance"
        cold = Measurement(f"cold: every day's facts, then scores, 4 {kind}s to {period}", "-")
        recompute = Measurement(f"recompute all {kind} {period} scores (facts kept)", "< 5 s")
        one_day = Measurement(f"{period} after one day's inputs changed", "-")
        first = Measurement("drill-down, first read after recompute", "-")
        drill = Measurement(f"drill-down GET /staff/{{id}} ({drilldowns} staff)", "< 200 ms")
        csv_ = Measurement("export scores.csv", "-")
        xlsx = Measurement("export scores.xlsx", "-")
        hr = Measurement("HR list, own region, limit 50", "-")
        out = [cold, recompute, one_day, first, drill, csv_, xlsx, hr]
        routes = {
            "POST /periods/{kind}/{key}/recompute": [cold, recompute, one_day],
            "GET /staff/{staff_id}": [first, drill],
            "GET /exports/scores.csv": [csv_],
            "GET /exports/scores.xlsx": [xlsx],
            "GET /scores": [hr],
        }
        missing = [r for r in routes if base + r.split(" ")[1] not in paths]
        if missing:
            for m in out:
                m.error = "not run: the routes are not all mounted yet"
            for route in missing:
                for m in routes[route]:
                    m.error = f"{route} not mounted yet"
            app.state.engine.dispose()
            return out
        try:
            with TestClient(app, raise_server_exceptions=False) as client:
                _requests(
                    client,
                    app,
                    out,
                    base=base,
                    kind=kind,
                    period=period,
                    repeats=repeats,
                    drilldowns=drilldowns,
                    seed=seed,
                    statement_timeout_s=statement_timeout_s,
                )
        finally:
            app.state.engine.dispose()
    return out


def _requests(
    client: Any,
    app: Any,
    out: list[Measurement],
    *,
    base: str,
    kind: str,
    period: str,
    repeats: int,
    drilldowns: int,
    seed: str,
    statement_timeout_s: float,
) -> None:
    cold, recompute, one_day, first, drill, csv_, xlsx, hr = out
    admin, hr_auth = _login(client, ADMIN_USERNAME), _login(client, HR_USERNAME)
    # Cold: every quarter of the generated year from nothing (the facts are kept after this,
    # as in production, where each day's facts are rebuilt only when its inputs change).
    from audit_service.performance import periods as _periods

    keys = [p.key for p in _periods.previous(_periods.parse(period, "UTC"), 4, "UTC")]
    total, facts = 0.0, 0
    for q in keys:
        took, resp = _timed(
            lambda q=q: client.post(
                f"{base}/periods/{kind}/{q}/recompute",
                params={"all_facts": "true"},
                headers=admin,
            )
        )
        if resp.status_code != 200:
            cold.error = _error(resp)
            break
        total += took
        facts += resp.json()["facts"]
    if not cold.error:
        cold.times.append(total)
        cold.rows = f"{facts:,} facts over {', '.join(keys)}"
    for _ in range(repeats):
        took, resp = _timed(
            lambda: client.post(f"{base}/periods/{kind}/{period}/recompute", headers=admin)
        )
        if resp.status_code != 200:
            recompute.error = _error(resp)
            if resp.status_code == 503 and took >= statement_timeout_s > 0:
                recompute.error = (
                    f"gave up: a statement ran past the {statement_timeout_s:.0f} s "
                    "statement_timeout (--statement-timeout)"
                )
            break
        body = resp.json()
        recompute.times.append(took)
        recompute.rows = (
            f"{body['rebuilt_days']} days rebuilt, {body['scores']:,} scores "
            f"(server {body['seconds']:.2f} s)"
        )
    if recompute.error:
        for m in out[2:]:
            m.error = "not run: the recompute failed"
        return
    # Incremental: a late batch of findings for one day marks it (and the period) stale.
    from audit_service.performance.staleness import mark_stale

    mid = _periods.parse(period, "Asia/Shanghai").starts_at + timedelta(days=40)
    for _ in range(repeats):
        with app.state.sessionmaker() as session:
            mark_stale(session, mid, mid + timedelta(hours=6))
            session.commit()
        took, resp = _timed(
            lambda: client.post(f"{base}/periods/{kind}/{period}/recompute", headers=admin)
        )
        if resp.status_code != 200:
            one_day.error = _error(resp)
            break
        one_day.times.append(took)
        body = resp.json()
        one_day.rows = f"{body['rebuilt_days']} days rebuilt, {body['facts']:,} facts"
    with app.state.engine.connect() as conn:
        ids = [r[0] for r in conn.execute(text("SELECT id FROM staff ORDER BY id"))]
    picked = random.Random(seed).sample(ids, min(drilldowns, len(ids)))
    for i, staff_id in enumerate(picked):
        for r in range(repeats + 1):
            took, resp = _timed(
                lambda sid=staff_id: client.get(
                    f"{base}/staff/{sid}", params={"period": period}, headers=admin
                )
            )
            if resp.status_code != 200:
                drill.error = _error(resp)
                break
            # The very first read also builds the trend's older periods.
            target = first if (i == 0 and r == 0) else drill
            target.times.append(took)
            target.rows = f"{len(resp.json()['records']):,} records (staff {staff_id})"
    for m, suffix in ((csv_, "csv"), (xlsx, "xlsx")):
        for _ in range(repeats):
            took, resp = _timed(
                lambda suffix=suffix: client.get(
                    f"{base}/exports/scores.{suffix}",
                    params={"period": period},
                    headers=admin,
                )
            )
            if resp.status_code != 200:
                m.error = _error(resp)
                break
            m.times.append(took)
            size = _fmt_bytes(len(resp.content))
            if suffix == "csv":
                lines = max(0, resp.text.count("\n") - 1)
                m.rows = f"{lines:,} rows, {size}"
            else:
                m.rows = size
    for _ in range(repeats):
        took, resp = _timed(
            lambda: client.get(
                f"{base}/scores",
                params={"period": period, "level": "staff", "limit": 50},
                headers=hr_auth,
            )
        )
        if resp.status_code != 200:
            hr.error = _error(resp)
            break
        hr.times.append(took)
        body = resp.json()
        hr.rows = f"{len(body['items'])} of {body['total']:,}"


def print_table(results: list[Measurement]) -> None:
    head = ("measurement", "target", "min", "median", "rows")
    table = [head] + [
        (m.name, m.target, m.cell(min), m.cell(statistics.median), m.error or m.rows)
        for m in results
    ]
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    for i, row in enumerate(table):
        cells = [row[j].ljust(widths[j]) if j == 0 else row[j].rjust(widths[j]) for j in range(4)]
        print("  ".join(cells) + "  " + row[4])
        if i == 0:
            print("  ".join("-" * w for w in widths) + "  " + "-" * 4)


# --- command line -------------------------------------------------------------------------


def _args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m audit_service.performance.bench",
        description="Generate a year of an organisation at scale and time the score routes.",
    )
    ap.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="SQLAlchemy URL")
    ap.add_argument(
        "--allow-sqlite", action="store_true", help="accept a sqlite URL (a small smoke run)"
    )
    ap.add_argument("--regenerate", action="store_true", help="empty the database and regenerate")
    ap.add_argument("--generate-only", action="store_true", help="generate, measure nothing")
    ap.add_argument("--period", default="2026-Q2", help="period key measured (default 2026-Q2)")
    ap.add_argument("--repeats", type=int, default=3, help="runs of each measurement")
    ap.add_argument("--drilldowns", type=int, default=5, help="staff members drilled into")
    ap.add_argument(
        "--statement-timeout",
        type=float,
        default=300.0,
        help="seconds any one SQL statement of the app may run while measuring (0: no cap)",
    )
    defaults = Scale()
    for f in fields(Scale):
        value = getattr(defaults, f.name)
        ap.add_argument(
            f"--{f.name.replace('_', '-')}",
            type=date.fromisoformat if isinstance(value, date) else type(value),
            default=value,
            help=f"{_SCALE_HELP[f.name]} (default {value})",
        )
    args = ap.parse_args(argv)
    if args.repeats < 1 or args.drilldowns < 1:
        ap.error("--repeats and --drilldowns must be at least 1")
    return args


_SCALE_HELP = {
    "regions": "regions the outlets are spread over",
    "outlets": "outlets (Asia/Shanghai, Mon-Fri 09:00-17:00, Sat 09:00-12:00)",
    "counters_per_outlet": "counters per outlet, each with a camera, a counter and a queue zone",
    "staff_per_outlet": "staff per outlet: an outlet manager, a lobby manager, the rest clerks",
    "start": "first local date generated",
    "days": "days generated from --start",
    "events": "vision findings (90 %% counter unattended, 10 %% queue over threshold)",
    "queue_samples": "queue samples",
    "queue_waits": "finished queue waits",
    "audits": "approved audits (with their visits and items)",
    "auditors": "mystery-shopper accounts",
    "seed": "seed of every pseudo-random choice",
}


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    try:
        scale = Scale(**{f.name: getattr(args, f.name) for f in fields(Scale)})
        url = make_url(args.database_url)
        if url.drivername.startswith("sqlite") and not args.allow_sqlite:
            raise BenchError(
                "the bench measures PostgreSQL; pass --allow-sqlite for a small smoke run "
                "(e.g. --outlets 3 --staff-per-outlet 4 --days 14 --events 200 "
                "--queue-samples 200 --queue-waits 200 --audits 40 --period 2025-Q4)"
            )
        if not url.drivername.startswith(("sqlite", "postgresql")):
            raise BenchError(f"--database-url: {url.drivername} is neither postgresql nor sqlite")
        from audit_service.core import migrate

        ensure_database(args.database_url)
        migrate.upgrade(args.database_url)
        engine = open_engine(args.database_url)
        where = url.render_as_string(hide_password=True)
        drift = schema_drift(engine)
        if drift:
            rebuild_schema(engine, drift)
            migrate.upgrade(args.database_url)
        meta = None if args.regenerate else generated(engine, scale)
        if meta is None:
            print(f"database {where}: generating", flush=True)
            generate(engine, scale, log=lambda line: print(line, flush=True))
        else:
            print(
                f"database {where}: data generated {meta['generated_at']} in "
                f"{meta['seconds']:.0f} s at this scale is there (--regenerate to start over)",
                flush=True,
            )
        counts = row_counts(engine)
        engine.dispose()
        print("\nrows per table:")
        for table, n in counts.items():
            print(f"  {table:<22} {n:>12,}")
        if args.generate_only:
            return 0
        print(f"\nmeasuring period {args.period}, {args.repeats} runs each:\n", flush=True)
        results = measure(
            args.database_url,
            args.period,
            repeats=args.repeats,
            drilldowns=args.drilldowns,
            seed=scale.seed,
            statement_timeout_s=args.statement_timeout,
        )
        print_table(results)
        return 1 if any(m.error for m in results) else 0
    except BenchError as exc:
        print(f"bench-scores: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
