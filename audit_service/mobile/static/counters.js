// The counters of an outlet, for "Which counter served you?". Cached per outlet in IndexedDB
// (kv "counters:<outlet_id>") so the picker works offline once the list has been fetched.

import { api, AuthRequired } from "./api.js";
import * as db from "./db.js";

const key = (outletId) => `counters:${outletId}`;

/** The cached list ([{id, code, name, kind}]) or null when this outlet's was never fetched. */
export async function cachedCounters(outletId) {
  const rec = await db.kv.get(key(outletId)).catch(() => null);
  return rec && Array.isArray(rec.counters) ? rec.counters : null;
}

/** Fetch and cache the outlet's active counters. */
export async function fetchCounters(outletId) {
  const list = await api(`outlets/${encodeURIComponent(outletId)}/counters`, { timeoutMs: 15000 });
  const counters = (Array.isArray(list) ? list : [])
    .filter((c) => c && c.active !== false)
    .map((c) => ({ id: c.id, code: c.code || "", name: c.name || "", kind: c.kind || "" }))
    .sort((a, b) => String(a.code).localeCompare(String(b.code)) || a.id - b.id);
  await db.kv.set(key(outletId), { outlet_id: outletId, counters, fetched_at: new Date().toISOString() });
  return counters;
}

/** Cached first; fetched when never cached and online. Never throws but AuthRequired. */
export async function countersFor(outletId) {
  if (!outletId) return [];
  const have = await cachedCounters(outletId);
  if (have) return have;
  if (!navigator.onLine) return [];
  try {
    return await fetchCounters(outletId);
  } catch (e) {
    if (e instanceof AuthRequired) throw e;
    return [];
  }
}

/** "C1 · Counter one" */
export function counterLabel(c) {
  return [c.code, c.name].filter(Boolean).join(" · ") || `#${c.id}`;
}
