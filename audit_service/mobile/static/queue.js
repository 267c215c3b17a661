// The outbox. A submission is stored in IndexedDB with its client-generated uuid (the
// Idempotency-Key) before anything is sent, then sent: photos first (each evidence id is saved
// in the item as soon as it is known, so a retry never uploads a photo twice), then the
// answers. Network errors, 5xx and 429 keep it queued with a growing delay; 2xx ends it; 422
// puts it back as a draft with the server's messages; any other refusal (409 included) marks it
// failed, shown to the user and never retried.
// A correction of a returned audit (draft.audit_id set) goes the same way to
// POST /audits/{id}/resubmit, with its own new uuid; photos the server already has (kept by
// evidence id, draft.remote_photos) count as uploaded from the start.

import * as db from "./db.js";
import { api, ApiError, AuthRequired, isSignedIn, NetworkError } from "./api.js";
import { newId } from "./util.js";

const BASE_DELAY_MS = 2000;
const MAX_DELAY_MS = 5 * 60 * 1000;
const KEEP_SENT = 20;

const listeners = new Set();
let running = null;
let again = false;
let againForce = false;
let timer = null;
let authBlocked = false;
let lastResult = null;

export function onChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function notify(event = {}) {
  for (const fn of listeners) {
    try {
      fn(event);
    } catch (e) {
      console.error(e);
    }
  }
}

export function isAuthBlocked() {
  return authBlocked;
}

export function lastProcessResult() {
  return lastResult;
}

/** All outbox items, oldest first. */
export async function items() {
  const all = await db.getAll("queue");
  return all.sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)));
}

export async function forVisit(visitId) {
  return (await items()).filter((q) => q.visit_id === visitId);
}

/** Counts for the status line. */
export async function summary() {
  const all = await items();
  const pending = all.filter((q) => q.status === "queued" || q.status === "sending");
  const nextAt = pending.reduce((m, q) => Math.min(m, q.next_at || 0), Infinity);
  return {
    pending: pending.length,
    sending: all.filter((q) => q.status === "sending").length,
    failed: all.filter((q) => q.status === "failed").length,
    sent: all.filter((q) => q.status === "sent").length,
    nextAt: Number.isFinite(nextAt) ? nextAt : null,
    authBlocked,
    running: Boolean(running),
  };
}

/**
 * Turn a finished draft into a queued submission (atomically: the draft is removed in the
 * same transaction). ``body`` is the request body with local photo ids in ``photos``.
 */
export async function enqueue({ visit, draft, body }) {
  const resubmit = Boolean(draft && draft.audit_id);
  const remote = new Set(((draft && draft.remote_photos) || []).map(String));
  const uploaded = {}; // local photo id -> evidence id
  for (const [, pid] of photoIds(body)) if (remote.has(pid)) uploaded[pid] = pid;
  const item = {
    uuid: newId(),
    kind: resubmit ? "resubmit" : "submit",
    audit_id: resubmit ? draft.audit_id : null,
    visit_id: visit.id,
    outlet_id: visit.outlet && visit.outlet.id,
    outlet_name: visit.outlet ? visit.outlet.name : "",
    status: "queued",
    created_at: new Date().toISOString(),
    attempts: 0,
    next_at: 0,
    body,
    uploaded,
    draft, // restored as the draft if the server answers 422
    last_error: null,
    result: null,
  };
  await db.batch([
    { store: "queue", op: "put", value: item },
    { store: "drafts", op: "del", key: visit.id },
  ]);
  notify({ type: "enqueued", item });
  return item;
}

function photoIds(body) {
  const out = [];
  for (const [name, ans] of Object.entries(body.answers || {})) {
    for (const pid of ans.photos || []) out.push([name, pid]);
  }
  return out;
}

function backoff(item, retryAfterS) {
  const exp = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.max(0, item.attempts - 1));
  const jittered = exp * (0.8 + Math.random() * 0.4);
  return Date.now() + Math.max(jittered, (retryAfterS || 0) * 1000);
}

async function save(item) {
  await db.put("queue", item);
  notify({ type: "updated", item });
}

async function uploadPhotos(item) {
  for (const [name, pid] of photoIds(item.body)) {
    if (item.uploaded[pid]) continue;
    const photo = await db.get("photos", pid);
    if (!photo) throw new Error(`photo ${pid} of ${name} is missing from this phone`);
    if (photo.evidence_id) {
      item.uploaded[pid] = photo.evidence_id;
      await save(item);
      continue;
    }
    const form = new FormData();
    form.append("file", photo.blob, `${name}.jpg`);
    form.append("outlet_id", String(item.outlet_id));
    form.append("source", "audit");
    form.append("caption", name);
    let evidence;
    try {
      evidence = await api("evidence", { method: "POST", form, timeoutMs: 120000 });
    } catch (e) {
      if (e instanceof ApiError && e.status === 422 && !e.fields.length) {
        e.body.fields = [{ field: `answers.${name}.photos`, message: e.message }];
      } else if (e instanceof ApiError && (e.status === 413 || e.status === 415)) {
        e.body.fields = [{ field: `answers.${name}.photos`, message: e.message }];
        e.asInvalid = true;
      }
      throw e;
    }
    item.uploaded[pid] = evidence.id;
    await save(item);
    await db.put("photos", { ...photo, evidence_id: evidence.id }).catch(() => {});
  }
}

function requestBody(item) {
  const body = structuredClone(item.body);
  for (const ans of Object.values(body.answers || {})) {
    // Two identical pictures are one evidence item on the server: send its id once.
    if (Array.isArray(ans.photos)) ans.photos = [...new Set(ans.photos.map((pid) => item.uploaded[pid]))];
  }
  return body;
}

async function finishSent(item, status, result) {
  const pids = photoIds(item.body).map(([, pid]) => pid);
  item.status = "sent";
  item.sent_at = new Date().toISOString();
  item.http_status = status;
  item.result = result
    ? { id: result.id, status: result.status, score: result.score, passed: result.passed }
    : null;
  delete item.draft; // the photos and answers are on the server now
  const visit = await db.get("visits", item.visit_id);
  const ops = [{ store: "queue", op: "put", value: item }];
  for (const pid of pids) ops.push({ store: "photos", op: "del", key: pid });
  if (visit) {
    ops.push({
      store: "visits",
      op: "put",
      value: {
        ...visit,
        status: "submitted",
        audit_id: item.result ? item.result.id : visit.audit_id,
        audit_status: (item.result && item.result.status) || "submitted",
      },
    });
  }
  if (item.audit_id) ops.push({ store: "kv", op: "del", key: `audit:${item.audit_id}` });
  await db.batch(ops);
  const sent = (await items()).filter((q) => q.status === "sent");
  for (const old of sent.slice(0, Math.max(0, sent.length - KEEP_SENT))) await db.del("queue", old.uuid);
  notify({ type: "sent", item });
}

async function backToDraft(item, error) {
  const draft = {
    ...(item.draft || { visit_id: item.visit_id, answers: {}, photos: {} }),
    visit_id: item.visit_id,
    server_errors: error.fields.length ? error.fields : [{ field: "", message: error.message }],
    server_detail: error.message,
    returned_at: new Date().toISOString(),
  };
  await db.batch([
    { store: "drafts", op: "put", value: draft },
    { store: "queue", op: "del", key: item.uuid },
  ]);
  notify({ type: "draft-restored", item, draft });
}

/** Send one item. Resolves "sent", "retry", "auth", "draft" or "failed". */
async function sendOne(item) {
  item.status = "sending";
  item.attempts += 1;
  item.last_attempt_at = new Date().toISOString();
  await save(item);
  try {
    await uploadPhotos(item);
    const path =
      item.kind === "resubmit"
        ? `audits/${encodeURIComponent(item.audit_id)}/resubmit`
        : `visits/${encodeURIComponent(item.visit_id)}/audit`;
    const resp = await api(path, {
      method: "POST",
      json: requestBody(item),
      headers: { "Idempotency-Key": item.uuid },
      timeoutMs: 60000,
      full: true,
    });
    await finishSent(item, resp.status, resp.body);
    return "sent";
  } catch (e) {
    if (e instanceof AuthRequired) {
      item.status = "queued";
      item.next_at = 0;
      item.last_error = "sign-in required";
      await save(item);
      return "auth";
    }
    if (e instanceof NetworkError || (e instanceof ApiError && e.retryable)) {
      item.status = "queued";
      item.next_at = backoff(item, e.retryAfterS);
      item.last_error = e instanceof NetworkError ? "network" : `${e.status} ${e.message}`;
      await save(item);
      return "retry";
    }
    if (e instanceof ApiError && (e.status === 422 || e.asInvalid)) {
      await backToDraft(item, e);
      return "draft";
    }
    // 409 (idempotency_conflict: a bug), 403, 404, ... or a local fault: stop and show it.
    item.status = "failed";
    item.last_error = e instanceof ApiError ? `${e.status} ${e.code}: ${e.message}` : String(e && e.message);
    item.failed_at = new Date().toISOString();
    await save(item);
    return "failed";
  }
}

async function run(force) {
  const all = await items();
  for (const item of all) {
    if (item.status !== "queued" && item.status !== "sending") continue;
    if (!force && item.next_at && item.next_at > Date.now()) continue;
    if (!navigator.onLine) {
      lastResult = "offline";
      break;
    }
    if (!isSignedIn()) {
      authBlocked = true; // signed out: wait for the next sign-in, don't count an attempt
      lastResult = "auth";
      break;
    }
    const result = await sendOne(item);
    lastResult = result;
    if (result === "auth") {
      authBlocked = true;
      break;
    }
    if (result === "retry") break; // the connection or server is down: don't hammer it
  }
}

function schedule(summaryNow) {
  clearTimeout(timer);
  timer = null;
  if (authBlocked || !summaryNow.pending || summaryNow.nextAt === null) return;
  // Offline: the "online" event restarts the queue; a slow check covers a missed event.
  const wait = navigator.onLine ? Math.max(500, summaryNow.nextAt - Date.now()) : 60000;
  timer = setTimeout(() => processQueue(), wait);
}

/**
 * Send what is due (everything when ``force``). Only one run at a time per browser (Web
 * Locks when available, so two open tabs never send the same item together).
 */
export function processQueue({ force = false } = {}) {
  if (running) {
    again = true;
    againForce = againForce || force;
    return running;
  }
  running = (async () => {
    try {
      let f = force;
      for (;;) {
        const work = () => run(f);
        if (navigator.locks && navigator.locks.request) {
          await navigator.locks.request("auditlens-outbox", { ifAvailable: true }, (lock) =>
            lock ? work() : null,
          );
        } else {
          await work();
        }
        if (!again) break;
        f = againForce;
        again = false;
        againForce = false;
      }
    } catch (e) {
      console.error("outbox", e);
    } finally {
      running = null;
      const s = await summary().catch(() => null);
      if (s) schedule(s);
      notify({ type: "idle" });
    }
  })();
  notify({ type: "running" });
  return running;
}

/** After signing in again: the queue may send. */
export function resumeAfterLogin() {
  authBlocked = false;
  return processQueue({ force: true });
}

export async function discard(uuid) {
  const item = await db.get("queue", uuid);
  if (!item || item.status !== "failed") return;
  const ops = [{ store: "queue", op: "del", key: uuid }];
  for (const [, pid] of photoIds(item.body)) {
    if (item.uploaded[pid] !== pid) ops.push({ store: "photos", op: "del", key: pid });
  }
  await db.batch(ops);
  notify({ type: "discarded", item });
}

/** Photo ids still needed by a draft or a pending/failed submission (the rest can go). */
export async function referencedPhotoIds() {
  const keep = new Set();
  for (const d of await db.getAll("drafts")) {
    for (const ids of Object.values(d.photos || {})) ids.forEach((id) => keep.add(id));
  }
  for (const q of await db.getAll("queue")) {
    if (q.status === "sent") continue;
    photoIds(q.body).forEach(([, pid]) => keep.add(pid));
    for (const ids of Object.values((q.draft && q.draft.photos) || {})) ids.forEach((id) => keep.add(id));
  }
  return keep;
}
