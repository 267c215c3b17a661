// Audits a reviewer returned for correction. The audit (answers, the reviewer's comment, the
// visit's times and location) is cached in IndexedDB (kv "audit:<id>") whenever the visits are
// refreshed or the audit is opened, so a returned audit opened once can be corrected offline.
// Opening it makes a draft of the previous answers; its photos stay on the server and are kept
// by evidence id (listed in draft.remote_photos: the outbox never uploads them again).

import { api, AuthRequired, NetworkError } from "./api.js";
import * as db from "./db.js";
import { newDraft } from "./form.js";

const key = (auditId) => `audit:${auditId}`;

/** The last return in an audit's history: {comment, by, at}, or null. */
export function lastReturn(audit) {
  const history = Array.isArray(audit && audit.history) ? audit.history : [];
  for (let i = history.length - 1; i >= 0; i--) {
    const e = history[i];
    if (e && e.to_status === "returned") return { comment: e.comment || "", by: e.by || "", at: e.at || null };
  }
  return null;
}

/** What the phone keeps of an AuditRead (no scores: only what correcting it needs). */
export function compact(audit) {
  return {
    id: audit.id,
    visit_id: audit.visit_id,
    version_id: audit.version_id,
    status: audit.status,
    started_at: audit.started_at,
    ended_at: audit.ended_at,
    location: audit.location || null,
    returned: lastReturn(audit),
    items: (audit.items || []).map((row) => ({ item: row.item, type: row.type, hidden: Boolean(row.hidden), answer: row.answer || null })),
    fetched_at: new Date().toISOString(),
  };
}

export function cached(auditId) {
  return db.kv.get(key(auditId)).catch(() => null);
}

export function forget(auditId) {
  return db.del("kv", key(auditId)).catch(() => {});
}

/** Fetch the audit and cache it. Resolves the cached record. */
export async function fetchReturned(auditId) {
  const audit = await api(`audits/${encodeURIComponent(auditId)}`, { timeoutMs: 20000 });
  const rec = compact(audit);
  await db.kv.set(key(auditId), rec);
  return rec;
}

/**
 * The returned audit: fresh from the server when online (the reviewer may have returned it
 * again since), else from the cache. Resolves null when it is neither reachable nor cached.
 * Throws AuthRequired and server refusals other than network trouble.
 */
export async function loadReturned(auditId) {
  if (navigator.onLine) {
    try {
      return await fetchReturned(auditId);
    } catch (e) {
      if (e instanceof AuthRequired) throw e;
      if (!(e instanceof NetworkError)) {
        const rec = await cached(auditId);
        if (rec && !(e.status === 403 || e.status === 404)) return rec;
        throw e;
      }
    }
  }
  return cached(auditId);
}

/** A new draft holding the returned audit's answers (times and location of the visit kept). */
export function returnedDraft(visit, rec) {
  const draft = newDraft(visit);
  draft.version_id = rec.version_id || visit.version_id;
  draft.audit_id = rec.id;
  draft.returned = rec.returned;
  // The visit happened then: the resubmission keeps its times (a later ended_at could make the
  // visit "last" more than 24 hours) and where it was recorded.
  draft.started_at = rec.started_at || draft.started_at;
  draft.ended_at = rec.ended_at || null;
  draft.location = rec.location || null;
  draft.location_consent = Boolean(rec.location);
  draft.remote_photos = [];
  for (const row of rec.items || []) {
    const a = row.answer;
    if (!a || row.hidden) continue;
    if (Array.isArray(a.photos) && a.photos.length) {
      const ids = a.photos.map(String);
      draft.photos[row.item] = ids;
      draft.remote_photos.push(...ids);
    }
    const entry = {};
    if (a.na) entry.na = true;
    else if (row.type !== "photo" && a.value !== null && a.value !== undefined) entry.value = a.value;
    if (typeof a.comment === "string" && a.comment) entry.comment = a.comment;
    if (typeof a.badge === "string" && a.badge) entry.badge = a.badge;
    if (Object.keys(entry).length) draft.answers[row.item] = entry;
  }
  return draft;
}
