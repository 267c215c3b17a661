"""Delivery: the outbox's records to the API, per camera, in order, at least once.

For each camera with records waiting, oldest first: upload the snapshots of the batch's events
(once: the evidence id is stored in the outbox row, so a retry never uploads again), POST the
batch of consecutive records, then forget them. The server ignores replays (events by
``(id, phase)``, samples by ``(camera, zone, t)``, waits by ``(camera, zone, track, joined)``), so
at-least-once here is exactly-once there.

* A retryable failure stops that camera's drain and holds its records with exponential backoff
  (base × 2^attempts, at most ``backoff_max_s``, jittered; the attempt count is in the outbox, so
  it survives a restart). Other cameras carry on.
* A refusal (a 4xx that retrying cannot fix) sets the refused record aside in the outbox's dead
  letters with the server's message. When the message names the item (``events[3]``) that record
  alone is set aside; otherwise the batch is resent one record at a time to find it.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from vision.client import AuditLensClient, DeliveryError
from vision.outbox import Outbox, OutboxRecord

log = logging.getLogger(__name__)

_LISTS = {
    "events": "event",
    "samples": "sample",
    "states": "state",
    "health": "health",
    "waits": "wait",
}
_LIST_OF = {kind: name for name, kind in _LISTS.items()}
_ITEM_RE = re.compile(r"\b(events|samples|states|health|waits)(?:\[(\d+)\]|\.(\d+)\b)")


@dataclass
class DrainReport:
    """What one pass did: records delivered and set aside; cameras that failed or wait."""

    delivered: int = 0
    dead_lettered: int = 0
    failed: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)

    @property
    def progressed(self) -> bool:
        return self.delivered > 0 or self.dead_lettered > 0


class _Refused(Exception):
    """A batch the API refused, narrowed to the record to set aside (or None: unknown)."""

    def __init__(self, error: DeliveryError, record: OutboxRecord | None) -> None:
        super().__init__(error.message)
        self.error = error
        self.record = record


class Deliverer:
    """Drains an ``Outbox`` into the API through an ``AuditLensClient``.

    ``outlet_ids`` maps camera id → outlet id (for evidence uploads); the worker may update it as
    configs change. ``clock`` gives epoch seconds; ``sleep`` (default: wait on the stop event)
    paces ``run``.
    """

    def __init__(
        self,
        outbox: Outbox,
        client: AuditLensClient,
        outlet_ids: Mapping[str, int],
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Any] | None = None,
        batch_size: int = 200,
        max_batches_per_drain: int = 20,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 60.0,
        jitter: float = 0.1,
        idle_s: float = 1.0,
        rng: random.Random | None = None,
    ) -> None:
        if not 1 <= batch_size <= 1000:
            raise ValueError(
                f"batch_size must be 1-1000 (the API's limit per list), got {batch_size}"
            )
        self.outbox = outbox
        self.client = client
        self.outlet_ids = outlet_ids
        self._clock = clock
        self._sleep = sleep
        self.batch_size = batch_size
        self.max_batches_per_drain = max_batches_per_drain
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.jitter = jitter
        self.idle_s = idle_s
        self._rng = rng or random.Random()
        self._warned_no_outlet: set[str] = set()

    # ------------------------------------------------------------------ public

    def drain_once(self, *, force: bool = False) -> DrainReport:
        """One pass over every camera with records waiting (``force``: ignore backoff)."""
        report = DrainReport()
        for camera_id in self.outbox.cameras():
            try:
                self._drain_camera(camera_id, report, force=force)
            except Exception:  # a bug for one camera must not stop the others' delivery
                log.exception("camera %s: delivery failed unexpectedly", camera_id)
                report.failed.append(camera_id)
        return report

    def run(self, stop_event: threading.Event) -> None:
        """Drain until ``stop_event`` is set; idle ``idle_s`` between passes with nothing to do."""
        wait = self._sleep or stop_event.wait
        while not stop_event.is_set():
            try:
                report = self.drain_once()
            except Exception:  # e.g. the outbox's disk is full: log, wait, try again
                log.exception("delivery pass failed")
                report = DrainReport()
            if stop_event.is_set():
                return
            if not report.progressed or report.failed or report.waiting:
                wait(self.idle_s)

    def flush(self, *, timeout_s: float = 10.0) -> int:
        """Deliver what can be delivered now (at shutdown), ignoring backoff once; stops when
        the outbox is empty, nothing moves, or ``timeout_s`` has passed. Returns records left."""
        deadline = self._clock() + timeout_s
        force = True
        while self.outbox.count() and self._clock() < deadline:
            report = self.drain_once(force=force)
            force = False
            if not report.progressed:
                break
        left = self.outbox.count()
        if left:
            log.warning("%d records stay in the outbox for the next start", left)
        return left

    def backoff_delay(self, attempts: int) -> float:
        """Seconds to hold a camera after its ``attempts``-th consecutive failure (1-based)."""
        delay = min(self.backoff_max_s, self.backoff_base_s * 2 ** min(max(attempts - 1, 0), 30))
        return delay * (1.0 - self.jitter * self._rng.random())

    # ------------------------------------------------------------------ one camera

    def _drain_camera(self, camera_id: str, report: DrainReport, *, force: bool) -> None:
        for _ in range(self.max_batches_per_drain):
            batch = self.outbox.pending(camera_id, self.batch_size)
            if not batch:
                return
            now = self._clock()
            if not force and batch[0].next_attempt_at > now:
                report.waiting.append(camera_id)
                return
            try:
                self._deliver(batch)
            except DeliveryError as exc:  # retryable: hold the camera
                self._hold(camera_id, batch, exc, now)
                report.failed.append(camera_id)
                return
            except _Refused as refused:
                if refused.record is not None:
                    self._set_aside([refused.record], refused.error)
                    report.dead_lettered += 1
                    continue  # the rest of the batch goes on the next round
                # Re-read: uploads during the attempt stored evidence ids in the rows.
                batch = self.outbox.pending(camera_id, len(batch))
                if not self._one_by_one(camera_id, batch, report, now):
                    return
                continue
            self.outbox.mark_delivered(r.id for r in batch)
            report.delivered += len(batch)
            if batch[0].attempts:
                log.info(
                    "camera %s: delivered after %d failed attempts", camera_id, batch[0].attempts
                )

    def _one_by_one(
        self, camera_id: str, batch: list[OutboxRecord], report: DrainReport, now: float
    ) -> bool:
        """Resend a refused batch record by record to find the refused ones; False: stop."""
        for i, record in enumerate(batch):
            try:
                self._deliver([record])
            except DeliveryError as exc:
                self._hold(camera_id, batch[i:], exc, now)
                report.failed.append(camera_id)
                return False
            except _Refused as refused:
                self._set_aside([record], refused.error)
                report.dead_lettered += 1
                continue
            self.outbox.mark_delivered([record.id])
            report.delivered += 1
        return True

    def _hold(
        self, camera_id: str, batch: list[OutboxRecord], exc: DeliveryError, now: float
    ) -> None:
        attempts = batch[0].attempts + 1
        delay = self.backoff_delay(attempts)
        if exc.retry_after_s is not None:
            delay = max(delay, min(exc.retry_after_s, self.backoff_max_s))
        self.outbox.record_failure((r.id for r in batch), exc.message, retry_at=now + delay)
        log.warning(
            "camera %s: delivery failed (attempt %d, %d records held), retrying in %.1f s: %s",
            camera_id,
            attempts,
            len(batch),
            delay,
            exc.message,
        )

    def _set_aside(self, records: list[OutboxRecord], error: DeliveryError) -> None:
        self.outbox.dead_letter(
            (r.id for r in records), error.message, status_code=error.status_code
        )
        for r in records:
            log.error(
                "camera %s: the API refused a %s record (kept in the outbox's dead letters, "
                "record %d): %s",
                r.camera_id,
                r.kind,
                r.id,
                error.message,
            )

    # ------------------------------------------------------------------ one batch

    def _deliver(self, batch: list[OutboxRecord]) -> None:
        """Upload missing snapshots, then POST the batch. Raises ``DeliveryError`` (retryable
        only) or ``_Refused``."""
        evidence = {r.id: r.evidence_id for r in batch}
        for record in batch:
            if record.kind == "event" and record.snapshot_path and not record.evidence_id:
                evidence[record.id] = self._upload(record)
        lists: dict[str, list[dict[str, Any]]] = {name: [] for name in _LISTS}
        where: dict[tuple[str, int], OutboxRecord] = {}
        for record in batch:
            name = _LIST_OF[record.kind]
            item = record.item()
            if record.kind == "event":
                item = {**item, "evidence_id": evidence[record.id]}
            where[(name, len(lists[name]))] = record
            lists[name].append(item)
        try:
            self.client.post_batch(
                events=lists["events"],
                samples=lists["samples"],
                states=lists["states"],
                health=lists["health"],
                waits=lists["waits"],
            )
        except DeliveryError as exc:
            if exc.retryable:
                raise
            raise _Refused(exc, self._named_record(exc.message, where, len(batch))) from exc

    @staticmethod
    def _named_record(
        message: str, where: dict[tuple[str, int], OutboxRecord], size: int
    ) -> OutboxRecord | None:
        if size == 1:
            return next(iter(where.values()))
        match = _ITEM_RE.search(message)
        if match is None:
            return None
        index = int(match.group(2) or match.group(3))
        return where.get((match.group(1), index))

    def _upload(self, record: OutboxRecord) -> str | None:
        """The snapshot's evidence id (stored in the outbox), or None if it was set aside."""
        assert record.snapshot_path is not None
        outlet_id = self.outlet_ids.get(record.camera_id)
        if outlet_id is None:
            reason = (
                f"camera {record.camera_id}: no outlet id known, so its snapshots can't be "
                "uploaded; give the camera config an outlet.id (the API's config carries it)"
            )
            if record.camera_id not in self._warned_no_outlet:
                self._warned_no_outlet.add(record.camera_id)
                log.error(reason)
            self.outbox.set_snapshot_aside(record, reason, status_code=None)
            return None
        try:
            jpeg = record.snapshot_path.read_bytes()
        except FileNotFoundError:
            log.error("camera %s: snapshot %s is missing", record.camera_id, record.snapshot_path)
            self.outbox.set_snapshot_aside(record, "snapshot file missing", status_code=None)
            return None
        payload = record.payload
        caption = f"{payload.get('kind', 'event')} {payload.get('zone') or ''} {payload['start']}"
        try:
            evidence_id = self.client.upload_snapshot(
                outlet_id, jpeg, record.camera_id, " ".join(caption.split())
            )
        except DeliveryError as exc:
            if exc.retryable:
                raise
            log.error(
                "camera %s: the API refused a snapshot (kept in the dead letters; the event goes "
                "without it): %s",
                record.camera_id,
                exc.message,
            )
            self.outbox.set_snapshot_aside(record, exc.message, status_code=exc.status_code)
            return None
        self.outbox.set_evidence(record.id, evidence_id)
        return evidence_id
