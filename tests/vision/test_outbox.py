"""The outbox: durable across restarts, ordered per camera, never an end before its start."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from vision.analytics.events import EventKind, QueueSample, QueueWait, VisionEvent
from vision.outbox import CameraHealth, Outbox, event_payload, iso
from vision.pipeline import ZoneState

T0 = 1_795_000_000.0  # epoch seconds


def unattended(camera: str = "cam-1", zone: str = "till-1", start: float = 10.0) -> VisionEvent:
    return VisionEvent(kind=EventKind.counter_unattended, camera_id=camera, zone=zone, start=start)


def test_records_survive_a_restart_intact_and_in_order(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    start = unattended()
    outbox = Outbox(path)
    outbox.put_event(start, b"\xff\xd8jpeg-bytes\xff\xd9", epoch_offset=T0)
    outbox.put_samples([QueueSample("cam-1", "queue-1", 11.0, 3, 2.5, 40.0)], epoch_offset=T0)
    outbox.put_states([ZoneState("cam-1", "till-1", "unattended", 10.0, 0, 12.0)], epoch_offset=T0)
    outbox.put_health(CameraHealth("cam-1", T0 + 13, True, 1.9, 2.0, 400, 26))
    outbox.put_event(start.ended(70.0, peak=0), epoch_offset=T0)
    before = outbox.pending("cam-1", 100)
    outbox.close()

    reopened = Outbox(path)
    after = reopened.pending("cam-1", 100)

    assert after == before
    assert [r.kind for r in after] == ["event", "sample", "state", "health", "event"]
    first, sample, state, health, end = after
    assert first.payload == {
        "id": str(start.id),
        "phase": "start",
        "kind": "counter_unattended",
        "camera_id": "cam-1",
        "zone": "till-1",
        "start": iso(T0 + 10),
        "end": None,
        "data": {},
        "evidence_id": None,
    }
    assert first.snapshot_path is not None
    assert first.snapshot_path.read_bytes() == b"\xff\xd8jpeg-bytes\xff\xd9"
    assert end.payload["phase"] == "end" and end.payload["id"] == str(start.id)
    assert end.payload["end"] == iso(T0 + 70)
    assert end.payload["data"] == {"peak": 0, "duration_s": 60.0}
    assert sample.payload == {
        "camera_id": "cam-1",
        "zone": "queue-1",
        "t": iso(T0 + 11),
        "count": 3,
        "smoothed": 2.5,
        "wait_s": 40.0,
    }
    assert state.payload["since"] == iso(T0 + 10) and state.payload["state"] == "unattended"
    assert health.payload == {
        "camera_id": "cam-1",
        "t": iso(T0 + 13),
        "online": True,
        "achieved_fps": 1.9,
        "configured_fps": 2.0,
        "frames_read": 400,
        "frames_analysed": 26,
    }
    # The API wants aware timestamps.
    assert datetime.fromisoformat(first.payload["start"]).utcoffset() is not None
    reopened.close()


def test_queue_waits_survive_a_restart_in_the_batch_shape(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    outbox = Outbox(path)
    outbox.put_samples([QueueSample("cam-1", "queue-1", 11.0, 3, 2.5, 40.0)], epoch_offset=T0)
    ids = outbox.put_waits(
        [
            QueueWait("cam-1", "queue-1", 17, 10.0, 105.2, 95.2, 300.0),
            QueueWait("cam-1", "queue-1", 18, 12.5, 20.0, 7.5, 300.0),
        ],
        epoch_offset=T0,
    )
    assert len(ids) == 2 and outbox.put_waits([]) == []
    outbox.close()

    reopened = Outbox(path)
    sample, first, second = reopened.pending("cam-1", 10)
    assert [r.kind for r in (sample, first, second)] == ["sample", "wait", "wait"]
    assert [first.id, second.id] == ids
    assert first.payload == {
        "camera_id": "cam-1",
        "zone": "queue-1",
        "track_id": 17,
        "joined": iso(T0 + 10.0),
        "left": iso(T0 + 105.2),
        "wait_s": 95.2,
        "sla_s": 300.0,
    }
    assert first.item() == first.payload
    assert datetime.fromisoformat(first.payload["left"]).utcoffset() is not None
    assert second.payload["track_id"] == 18 and second.payload["wait_s"] == 7.5
    reopened.close()


OLD_RECORDS = """
CREATE TABLE records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    camera_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('event', 'sample', 'state', 'health')),
    payload TEXT NOT NULL,
    snapshot TEXT,
    evidence_id TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX records_camera ON records (camera_id, id);
"""


def test_an_outbox_written_by_an_older_worker_takes_waits_and_keeps_its_records(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:
        old.executescript(OLD_RECORDS)
        for i in range(3):
            old.execute(
                "INSERT INTO records (camera_id, kind, payload, attempts, last_error, created_at) "
                "VALUES ('cam-1', 'sample', ?, ?, ?, 1.0)",
                (f'{{"n": {i}}}', i, "503" if i else None),
            )
        old.execute("DELETE FROM records WHERE id = 3")  # delivered: its id is never reused
        with pytest.raises(sqlite3.IntegrityError):
            old.execute(
                "INSERT INTO records (camera_id, kind, payload, created_at) "
                "VALUES ('cam-1', 'wait', '{}', 1.0)"
            )
    before = [(r["id"], r["payload"], r["attempts"], r["last_error"]) for r in _rows(path)]
    assert before == [(1, '{"n": 0}', 0, None), (2, '{"n": 1}', 1, "503")]

    outbox = Outbox(path)
    [wait_id] = outbox.put_waits([QueueWait("cam-1", "queue-1", 1, 0.0, 5.0, 5.0, 60.0)])
    assert wait_id == 4
    pending = outbox.pending("cam-1", 10)
    assert [(r.id, r.payload, r.attempts, r.last_error) for r in pending[:2]] == [
        (1, {"n": 0}, 0, None),
        (2, {"n": 1}, 1, "503"),
    ]
    assert [r.kind for r in pending] == ["sample", "sample", "wait"]
    outbox.close()
    with sqlite3.connect(path) as db:
        indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        assert "records_camera" in indexes
        assert not db.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'records_upgraded'"
        ).fetchall()
    # Reopening an upgraded outbox changes nothing.
    again = Outbox(path)
    assert [r.id for r in again.pending("cam-1", 10)] == [1, 2, 4]
    again.close()


def _rows(path: Path) -> list[sqlite3.Row]:
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM records ORDER BY id").fetchall()


def test_the_database_is_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db")
    outbox.put_event(unattended())
    with sqlite3.connect(tmp_path / "o.db") as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert outbox._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    outbox.close()


def test_pending_is_per_camera_in_insertion_order(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db")
    for i in range(5):
        outbox.put_event(unattended("cam-a", start=float(i)))
        outbox.put_event(unattended("cam-b", start=float(i)))
    outbox.put_health(CameraHealth("cam-c", T0, False, 0.0, 2.0, 0, 0))

    assert outbox.cameras() == ["cam-a", "cam-b", "cam-c"]
    a = outbox.pending("cam-a", 100)
    assert [r.camera_id for r in a] == ["cam-a"] * 5
    assert [r.payload["start"] for r in a] == [iso(float(i)) for i in range(5)]
    assert [r.id for r in outbox.pending("cam-a", 2)] == [r.id for r in a[:2]]
    assert outbox.count() == 11 and outbox.count("cam-b") == 5
    outbox.close()


def test_an_end_is_never_pending_ahead_of_its_start(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    outbox = Outbox(path)
    event = unattended()
    outbox.put_event(event)
    outbox.put_samples([QueueSample("cam-1", "queue-1", 11.0, 1, 1.0, None)])
    outbox.put_event(event.ended(40.0))
    # A failed delivery of the head holds it (and so the camera) without reordering anything.
    head = outbox.pending("cam-1", 1)[0]
    outbox.record_failure([head.id], "503 busy", retry_at=T0 + 5)
    outbox.close()

    outbox = Outbox(path)
    pending = outbox.pending("cam-1", 10)
    assert [(r.kind, r.payload.get("phase")) for r in pending] == [
        ("event", "start"),
        ("sample", None),
        ("event", "end"),
    ]
    assert pending[0].attempts == 1 and pending[0].next_attempt_at == T0 + 5
    assert pending[0].last_error == "503 busy"
    # Delivered in order: once the start is gone the end is next, never before.
    outbox.mark_delivered([pending[0].id])
    assert [r.id for r in outbox.pending("cam-1", 10)] == [pending[1].id, pending[2].id]
    outbox.close()


def test_delivered_records_and_their_snapshots_are_forgotten(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db")
    rid = outbox.put_event(unattended(), b"jpeg")
    record = outbox.pending("cam-1")[0]
    assert record.id == rid and record.snapshot_path is not None
    outbox.set_evidence(rid, "5b0c3f2e-0000-4000-8000-000000000001")
    assert outbox.pending("cam-1")[0].evidence_id == "5b0c3f2e-0000-4000-8000-000000000001"
    assert outbox.pending("cam-1")[0].item()["evidence_id"] == (
        "5b0c3f2e-0000-4000-8000-000000000001"
    )

    outbox.mark_delivered([rid])

    assert outbox.pending("cam-1") == []
    assert not record.snapshot_path.exists()
    outbox.close()


def test_refused_records_are_kept_aside_with_the_servers_message(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db")
    rid = outbox.put_event(unattended(zone="no-such-zone"), b"jpeg")
    keep = outbox.put_event(unattended())
    record = outbox.pending("cam-1")[0]

    outbox.dead_letter([rid], "422 events[0].zone: unknown zone", status_code=422)

    assert [r.id for r in outbox.pending("cam-1")] == [keep]
    (dead,) = outbox.dead_letters()
    assert dead.record_id == rid and dead.status_code == 422
    assert dead.payload["zone"] == "no-such-zone"
    assert "unknown zone" in dead.error
    assert dead.snapshot_path == record.snapshot_path and dead.snapshot_path.exists()
    outbox.close()
    # Kept across restarts too (the snapshot is not an orphan).
    again = Outbox(tmp_path / "o.db")
    assert again.dead_letters()[0].snapshot_path.exists()
    again.close()


def test_a_refused_snapshot_is_set_aside_and_the_event_stays(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db")
    outbox.put_event(unattended(), b"not really a jpeg")
    record = outbox.pending("cam-1")[0]

    outbox.set_snapshot_aside(record, "415 not an image", status_code=415)

    (still,) = outbox.pending("cam-1")
    assert still.snapshot_path is None and still.id == record.id
    (dead,) = outbox.dead_letters("cam-1")
    assert dead.kind == "snapshot" and dead.snapshot_path == record.snapshot_path
    outbox.mark_delivered([still.id])
    assert dead.snapshot_path.exists()  # still kept for a human to look at
    outbox.close()


def test_a_snapshot_file_without_its_row_is_cleaned_up_on_open(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db")
    outbox.put_event(unattended(), b"kept")
    orphan = outbox.snapshot_dir / "crashed-before-commit.jpg"
    orphan.write_bytes(b"x")
    os.utime(orphan, (time.time() - 3600, time.time() - 3600))
    just_written = outbox.snapshot_dir / "row-about-to-be-committed.jpg"
    just_written.write_bytes(b"y")  # by another process with the outbox open: left alone
    outbox.close()

    again = Outbox(tmp_path / "o.db")
    assert not orphan.exists()
    assert just_written.exists()
    assert again.pending("cam-1")[0].snapshot_path.read_bytes() == b"kept"
    again.close()


def test_concurrent_writers_keep_each_cameras_order(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db")

    def write(camera: str) -> None:
        for i in range(50):
            outbox.put_event(unattended(camera, start=float(i)))

    threads = [threading.Thread(target=write, args=(f"cam-{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    for n in range(4):
        starts = [r.payload["start"] for r in outbox.pending(f"cam-{n}", 100)]
        assert starts == [iso(float(i)) for i in range(50)]
    outbox.close()


@pytest.mark.parametrize("offset", [0.0, T0])
def test_event_times_become_aware_utc_timestamps(offset: float) -> None:
    event = unattended(start=12.5).ended(20.0)
    payload = event_payload(event, epoch_offset=offset)
    assert payload["start"] == iso(offset + 12.5)
    assert payload["end"] == iso(offset + 20.0)
    assert payload["start"].endswith("+00:00")


def test_figures_that_are_not_plain_json_are_made_plain(tmp_path: Path) -> None:
    import numpy as np

    outbox = Outbox(tmp_path / "o.db")
    event = VisionEvent(
        kind=EventKind.queue_over_threshold,
        camera_id="cam-1",
        zone="queue-1",
        start=1.0,
        data={"peak": np.int64(7), "mean": float("nan"), "tracks": np.array([1, 2])},
    )
    outbox.put_event(event)
    outbox.put_samples([QueueSample("cam-1", "queue-1", 2.0, 3, float("inf"), None)])
    event_rec, sample_rec = outbox.pending("cam-1")
    assert event_rec.payload["data"] == {"peak": 7, "mean": None, "tracks": [1, 2]}
    assert sample_rec.payload["smoothed"] is None
    outbox.close()
