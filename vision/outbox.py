"""The worker's durable outbox: every record is written here first, then delivered to the API.

A SQLite file (WAL, ``synchronous=FULL``: a committed record survives a crash or power loss) with
snapshots as JPEG files in a folder beside it (written, fsynced and renamed into place before the
row that names them is committed). Records are delivered per camera in insertion order, so an
event's ``end`` is never delivered before its ``start``. A delivered record is deleted; a record
the API refuses for good (a 4xx) is moved to the ``dead_letters`` table with the server's message,
never dropped silently.

Payloads are stored in the API's batch shape (``docs/vision-contract.md``), with aware UTC
timestamps: pipeline times (seconds) plus the source's ``epoch_offset`` give epoch seconds.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from vision.analytics.events import QueueSample, QueueWait, VisionEvent
from vision.pipeline import ZoneState

log = logging.getLogger(__name__)

RecordKind = Literal["event", "sample", "state", "health", "wait"]
KINDS: tuple[RecordKind, ...] = ("event", "sample", "state", "health", "wait")

_RECORDS_TABLE = """
CREATE TABLE IF NOT EXISTS {name} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,   -- insertion order = delivery order per camera
    camera_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('event', 'sample', 'state', 'health', 'wait')),
    payload TEXT NOT NULL,                  -- JSON, the API's batch item shape
    snapshot TEXT,                          -- file name in the snapshot folder, or NULL
    evidence_id TEXT,                       -- set once the snapshot is uploaded
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at REAL NOT NULL
);
"""
_RECORDS_COLUMNS = (
    "id, camera_id, kind, payload, snapshot, evidence_id, attempts, next_attempt_at, last_error, "
    "created_at"
)
_SCHEMA = (
    _RECORDS_TABLE.format(name="records")
    + """
CREATE INDEX IF NOT EXISTS records_camera ON records (camera_id, id);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id INTEGER,
    camera_id TEXT NOT NULL,
    kind TEXT NOT NULL,                     -- a record kind, or 'snapshot'
    payload TEXT NOT NULL,
    snapshot TEXT,
    status_code INTEGER,
    error TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""
)


def _plain_json(value: Any) -> Any:
    """NaN and infinities become null: the API accepts plain JSON only, and a figure that is
    not a number is better missing than the whole record refused."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_json(v) for v in value]
    return value


def _json_default(value: Any) -> Any:
    tolist = getattr(value, "tolist", None)  # numpy scalars and arrays from the analytics
    if callable(tolist):
        return _plain_json(tolist())
    if isinstance(value, (uuid.UUID, Path)):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON: convert it before storing")


def iso(epoch_s: float) -> str:
    """Epoch seconds as an aware ISO 8601 UTC timestamp (what the API expects)."""
    return datetime.fromtimestamp(epoch_s, UTC).isoformat()


def _opt_iso(t: float | None, offset: float) -> str | None:
    return None if t is None else iso(t + offset)


def event_payload(event: VisionEvent, *, epoch_offset: float = 0.0) -> dict[str, Any]:
    """An event in the batch shape (``evidence_id`` is filled in at delivery)."""
    return {
        "id": str(event.id),
        "phase": event.phase,
        "kind": str(event.kind),
        "camera_id": event.camera_id,
        "zone": event.zone,
        "start": iso(event.start + epoch_offset),
        "end": _opt_iso(event.end, epoch_offset),
        "data": event.data,
        "evidence_id": None,
    }


def sample_payload(sample: QueueSample, *, epoch_offset: float = 0.0) -> dict[str, Any]:
    return {
        "camera_id": sample.camera_id,
        "zone": sample.zone,
        "t": iso(sample.t + epoch_offset),
        "count": sample.count,
        "smoothed": sample.smoothed,
        "wait_s": sample.wait_s,
    }


def wait_payload(wait: QueueWait, *, epoch_offset: float = 0.0) -> dict[str, Any]:
    return {
        "camera_id": wait.camera_id,
        "zone": wait.zone,
        "track_id": int(wait.track_id),
        "joined": iso(wait.joined + epoch_offset),
        "left": iso(wait.left + epoch_offset),
        "wait_s": round(wait.wait_s, 3),
        "sla_s": wait.sla_s,
    }


def state_payload(state: ZoneState, *, epoch_offset: float = 0.0) -> dict[str, Any]:
    return {
        "camera_id": state.camera_id,
        "zone": state.zone,
        "state": state.state,
        "since": _opt_iso(state.since, epoch_offset),
        "count": state.count,
        "t": iso(state.t + epoch_offset),
    }


@dataclass(frozen=True)
class CameraHealth:
    """A camera's health at ``t`` (epoch seconds): analysis rate achieved over the last window
    against the configured rate (frames per second), and the source's counters."""

    camera_id: str
    t: float
    online: bool
    achieved_fps: float
    configured_fps: float
    frames_read: int
    frames_analysed: int

    def payload(self) -> dict[str, Any]:
        return {
            "camera_id": self.camera_id,
            "t": iso(self.t),
            "online": self.online,
            "achieved_fps": round(self.achieved_fps, 3),
            "configured_fps": self.configured_fps,
            "frames_read": self.frames_read,
            "frames_analysed": self.frames_analysed,
        }


@dataclass(frozen=True)
class OutboxRecord:
    """One stored record waiting for delivery."""

    id: int
    camera_id: str
    kind: RecordKind
    payload: dict[str, Any]
    snapshot_path: Path | None
    evidence_id: str | None
    attempts: int
    next_attempt_at: float
    last_error: str | None

    def item(self) -> dict[str, Any]:
        """The payload as sent: an event carries its uploaded snapshot's evidence id."""
        if self.kind == "event":
            return {**self.payload, "evidence_id": self.evidence_id}
        return self.payload


@dataclass(frozen=True)
class DeadLetter:
    id: int
    record_id: int | None
    camera_id: str
    kind: str
    payload: dict[str, Any]
    snapshot_path: Path | None
    status_code: int | None
    error: str


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # e.g. a platform without directory fds: the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _dumps(payload: dict[str, Any]) -> str:
    return json.dumps(
        _plain_json(payload), separators=(",", ":"), allow_nan=False, default=_json_default
    )


class Outbox:
    """The durable queue between the camera threads and the delivery thread (thread-safe).

    ``path`` is the SQLite file; snapshots live in ``<path>.snapshots/``. Reopening the same path
    continues where the last process stopped.
    """

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.snapshot_dir = self.path.with_name(self.path.name + ".snapshots")
        self.snapshot_dir.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            str(self.path), check_same_thread=False, isolation_level=None, timeout=30
        )
        self._db.row_factory = sqlite3.Row
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            self._upgrade_records()
        self._remove_orphan_snapshots()

    def _upgrade_records(self) -> None:
        """An outbox written by an older worker checks ``kind`` against fewer kinds (no
        ``wait``): rebuild its table with the current check, keeping every record, its id and
        the id sequence (SQLite cannot alter a CHECK constraint in place)."""
        row = self._db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'records'"
        ).fetchone()
        if row is None or all(f"'{kind}'" in row[0] for kind in KINDS):
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            seq = self._db.execute(
                "SELECT seq FROM sqlite_sequence WHERE name = 'records'"
            ).fetchone()
            self._db.execute(_RECORDS_TABLE.format(name="records_upgraded"))
            self._db.execute(
                f"INSERT INTO records_upgraded ({_RECORDS_COLUMNS}) "  # noqa: S608 - constants
                f"SELECT {_RECORDS_COLUMNS} FROM records ORDER BY id"
            )
            self._db.execute("DROP TABLE records")
            self._db.execute("ALTER TABLE records_upgraded RENAME TO records")
            if seq is not None:  # ids of delivered records are never handed out again
                self._db.execute("DELETE FROM sqlite_sequence WHERE name = 'records'")
                self._db.execute(
                    "INSERT INTO sqlite_sequence (name, seq) VALUES ('records', ?)", (seq[0],)
                )
            self._db.execute("CREATE INDEX IF NOT EXISTS records_camera ON records (camera_id, id)")
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        log.info("outbox %s: upgraded its records table (queue waits)", self.path)

    # ------------------------------------------------------------------ writing

    def put_event(
        self, event: VisionEvent, snapshot_jpeg: bytes | None = None, *, epoch_offset: float = 0.0
    ) -> int:
        """Store an event (and its JPEG snapshot, if any); returns the record id."""
        snapshot = None
        if snapshot_jpeg:
            snapshot = f"{event.id}-{event.phase}.jpg"
            self._write_file(self.snapshot_dir / snapshot, snapshot_jpeg)
        ids = self._insert(
            [(event.camera_id, "event", event_payload(event, epoch_offset=epoch_offset), snapshot)]
        )
        return ids[0]

    def put_samples(
        self, samples: Iterable[QueueSample], *, epoch_offset: float = 0.0
    ) -> list[int]:
        return self._insert(
            [
                (s.camera_id, "sample", sample_payload(s, epoch_offset=epoch_offset), None)
                for s in samples
            ]
        )

    def put_waits(self, waits: Iterable[QueueWait], *, epoch_offset: float = 0.0) -> list[int]:
        return self._insert(
            [(w.camera_id, "wait", wait_payload(w, epoch_offset=epoch_offset), None) for w in waits]
        )

    def put_states(self, states: Iterable[ZoneState], *, epoch_offset: float = 0.0) -> list[int]:
        return self._insert(
            [
                (s.camera_id, "state", state_payload(s, epoch_offset=epoch_offset), None)
                for s in states
            ]
        )

    def put_health(self, health: CameraHealth | Iterable[CameraHealth]) -> list[int]:
        items = [health] if isinstance(health, CameraHealth) else list(health)
        return self._insert([(h.camera_id, "health", h.payload(), None) for h in items])

    def _insert(
        self, rows: Sequence[tuple[str, RecordKind, dict[str, Any], str | None]]
    ) -> list[int]:
        if not rows:
            return []
        now = self._clock()
        encoded = [(camera_id, kind, _dumps(p), snap) for camera_id, kind, p, snap in rows]
        ids: list[int] = []
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for camera_id, kind, payload, snapshot in encoded:
                    cur = self._db.execute(
                        "INSERT INTO records (camera_id, kind, payload, snapshot, created_at) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (camera_id, kind, payload, snapshot, now),
                    )
                    ids.append(int(cur.lastrowid or 0))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return ids

    def _write_file(self, path: Path, data: bytes) -> None:
        tmp = path.with_name(path.name + f".{uuid.uuid4().hex[:8]}.tmp")
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)

    # ------------------------------------------------------------------ reading

    def cameras(self) -> list[str]:
        """Cameras with records waiting, in order of their oldest record."""
        with self._lock:
            rows = self._db.execute(
                "SELECT camera_id, MIN(id) AS first FROM records GROUP BY camera_id ORDER BY first"
            ).fetchall()
        return [r["camera_id"] for r in rows]

    def pending(self, camera_id: str, limit: int = 100) -> list[OutboxRecord]:
        """The camera's oldest ``limit`` records, in insertion order (delivered ones are gone)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM records WHERE camera_id = ? ORDER BY id LIMIT ?",
                (camera_id, limit),
            ).fetchall()
        return [self._record(r) for r in rows]

    def count(self, camera_id: str | None = None) -> int:
        with self._lock:
            if camera_id is None:
                row = self._db.execute("SELECT COUNT(*) FROM records").fetchone()
            else:
                row = self._db.execute(
                    "SELECT COUNT(*) FROM records WHERE camera_id = ?", (camera_id,)
                ).fetchone()
        return int(row[0])

    def dead_letters(self, camera_id: str | None = None) -> list[DeadLetter]:
        with self._lock:
            if camera_id is None:
                rows = self._db.execute("SELECT * FROM dead_letters ORDER BY id").fetchall()
            else:
                rows = self._db.execute(
                    "SELECT * FROM dead_letters WHERE camera_id = ? ORDER BY id", (camera_id,)
                ).fetchall()
        return [
            DeadLetter(
                id=r["id"],
                record_id=r["record_id"],
                camera_id=r["camera_id"],
                kind=r["kind"],
                payload=json.loads(r["payload"]),
                snapshot_path=self.snapshot_dir / r["snapshot"] if r["snapshot"] else None,
                status_code=r["status_code"],
                error=r["error"],
            )
            for r in rows
        ]

    def _record(self, r: sqlite3.Row) -> OutboxRecord:
        return OutboxRecord(
            id=r["id"],
            camera_id=r["camera_id"],
            kind=r["kind"],
            payload=json.loads(r["payload"]),
            snapshot_path=self.snapshot_dir / r["snapshot"] if r["snapshot"] else None,
            evidence_id=r["evidence_id"],
            attempts=r["attempts"],
            next_attempt_at=r["next_attempt_at"],
            last_error=r["last_error"],
        )

    # ------------------------------------------------------------------ delivery bookkeeping

    def set_evidence(self, record_id: int, evidence_id: str) -> None:
        """Remember a snapshot's evidence id, so a retried delivery does not upload it again."""
        with self._lock:
            self._db.execute(
                "UPDATE records SET evidence_id = ? WHERE id = ?", (evidence_id, record_id)
            )

    def mark_delivered(self, ids: Iterable[int]) -> None:
        """Forget delivered records (and their snapshot files)."""
        ids = list(ids)
        if not ids:
            return
        with self._lock:
            marks = ",".join("?" * len(ids))
            snapshots = [
                r[0]
                for r in self._db.execute(
                    f"SELECT snapshot FROM records WHERE id IN ({marks}) "  # noqa: S608 - only ?s
                    "AND snapshot IS NOT NULL",
                    ids,
                )
            ]
            self._db.execute(f"DELETE FROM records WHERE id IN ({marks})", ids)  # noqa: S608
        for name in snapshots:
            (self.snapshot_dir / name).unlink(missing_ok=True)

    def record_failure(self, ids: Iterable[int], error: str, *, retry_at: float) -> None:
        """A retryable failure: count the attempt and hold the records until ``retry_at``
        (epoch seconds)."""
        ids = list(ids)
        if not ids:
            return
        with self._lock:
            marks = ",".join("?" * len(ids))
            self._db.execute(
                f"UPDATE records SET attempts = attempts + 1, next_attempt_at = ?, "  # noqa: S608
                f"last_error = ? WHERE id IN ({marks})",
                [retry_at, error[:2000], *ids],
            )

    def dead_letter(self, ids: Iterable[int], error: str, *, status_code: int | None) -> None:
        """Set records aside for good (the API refused them), keeping payload and snapshot."""
        ids = list(ids)
        if not ids:
            return
        now = self._clock()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for record_id in ids:
                    self._db.execute(
                        "INSERT INTO dead_letters (record_id, camera_id, kind, payload, snapshot, "
                        "status_code, error, created_at) SELECT id, camera_id, kind, payload, "
                        "snapshot, ?, ?, ? FROM records WHERE id = ?",
                        (status_code, error[:4000], now, record_id),
                    )
                    self._db.execute("DELETE FROM records WHERE id = ?", (record_id,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def set_snapshot_aside(
        self, record: OutboxRecord, error: str, *, status_code: int | None
    ) -> None:
        """The API refused a snapshot: keep the file in the dead letters and send the event
        without evidence (losing the event over its picture would be worse)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO dead_letters (record_id, camera_id, kind, payload, snapshot, "
                    "status_code, error, created_at) SELECT id, camera_id, 'snapshot', payload, "
                    "snapshot, ?, ?, ? FROM records WHERE id = ?",
                    (status_code, error[:4000], self._clock(), record.id),
                )
                self._db.execute("UPDATE records SET snapshot = NULL WHERE id = ?", (record.id,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    # ------------------------------------------------------------------ lifecycle

    def _remove_orphan_snapshots(self, *, older_than_s: float = 600.0) -> None:
        """Files a crash left behind between writing the file and committing its row.

        Only files older than ``older_than_s``: another process with this outbox open (a tool
        inspecting it) must not delete a snapshot whose row is about to be committed.
        """
        cutoff = time.time() - older_than_s
        with self._lock:
            kept = {
                r[0]
                for r in self._db.execute(
                    "SELECT snapshot FROM records WHERE snapshot IS NOT NULL "
                    "UNION SELECT snapshot FROM dead_letters WHERE snapshot IS NOT NULL"
                )
            }
        for path in self.snapshot_dir.iterdir():
            if path.name in kept:
                continue
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
            except FileNotFoundError:
                continue

    def close(self) -> None:
        with self._lock:
            # Another connection may hold the WAL: it stays durable without the checkpoint.
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
