// Checklist logic with no DOM: visibility (show_if), what counts as answered, client-side
// checks, the submission's answers, and a local score ESTIMATE (the server scores for real).

export const SCORED_TYPES = new Set(["yes_no", "scale", "single_choice", "multi_choice", "number", "duration"]);

export function sections(def) {
  return Array.isArray(def && def.sections) ? def.sections : [];
}

export function allItems(def) {
  const out = [];
  sections(def).forEach((s, si) => (s.items || []).forEach((it) => out.push({ item: it, section: si })));
  return out;
}

export function itemIndex(def) {
  const map = new Map();
  for (const { item, section } of allItems(def)) map.set(item.name, { item, section });
  return map;
}

export const scaleMin = (it) => (Number.isInteger(it.scale_min) ? it.scale_min : 1);
export const scaleMax = (it) => (Number.isInteger(it.scale_max) ? it.scale_max : 5);
export const minPhotos = (it) => (Number.isInteger(it.min_photos) ? it.min_photos : 1);
export const maxPhotos = (it) => (Number.isInteger(it.max_photos) ? it.max_photos : 5);
// Definition defaults (the server fills them in too): required unless it says false.
export const isRequired = (it) => it.required !== false;
export const maxLength = (it) => (Number.isInteger(it.max_length) ? it.max_length : 2000);

function sameValue(a, b) {
  if (a === b) return true;
  if (typeof a === "number" && typeof b === "number") return a === b;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The value show_if compares against: none when the item is hidden, N/A or unanswered. */
function conditionValue(answers, name) {
  const a = answers[name];
  if (!a || a.na) return undefined;
  return a.value;
}

function conditionHolds(cond, target, answers) {
  const v = conditionValue(answers, cond.item);
  const isMulti = target && target.type === "multi_choice";
  if ("equals" in cond) {
    if (isMulti) return Array.isArray(v) && v.some((x) => sameValue(x, cond.equals));
    return v !== undefined && v !== null && sameValue(v, cond.equals);
  }
  if ("not_equals" in cond) {
    if (isMulti) return !(Array.isArray(v) && v.some((x) => sameValue(x, cond.not_equals)));
    return !(v !== undefined && v !== null && sameValue(v, cond.not_equals));
  }
  return true;
}

/**
 * Which items are visible for these answers. Hidden items' answers and photos are removed
 * from the draft (in place); repeats until stable, as hiding one item can hide another.
 * Returns {visible: Set<name>, cleared: [names]}.
 */
export function applyVisibility(def, draft) {
  const index = itemIndex(def);
  const cleared = [];
  let visible = new Set();
  for (let round = 0; round <= index.size; round++) {
    visible = new Set();
    for (const [name, { item }] of index) {
      const cond = item.show_if;
      if (!cond || !cond.item) {
        visible.add(name);
        continue;
      }
      // A hidden item's answer is cleared below, so a condition on it sees no answer.
      const target = index.get(cond.item);
      if (conditionHolds(cond, target && target.item, draft.answers)) visible.add(name);
    }
    let changed = false;
    for (const name of index.keys()) {
      if (visible.has(name)) continue;
      const hasAnswer = draft.answers[name] && Object.keys(draft.answers[name]).length > 0;
      const hasPhotos = draft.photos && draft.photos[name] && draft.photos[name].length > 0;
      if (hasAnswer || hasPhotos) {
        delete draft.answers[name];
        if (draft.photos) delete draft.photos[name];
        cleared.push(name);
        changed = true;
      }
    }
    if (!changed) break;
  }
  return { visible, cleared };
}

export function photoCount(draft, name) {
  return (draft.photos && draft.photos[name] ? draft.photos[name].length : 0) || 0;
}

export function hasValue(item, ans) {
  if (!ans) return false;
  const v = ans.value;
  switch (item.type) {
    case "yes_no":
      return v === true || v === false;
    case "scale":
    case "number":
    case "duration":
      return typeof v === "number" && Number.isFinite(v);
    case "single_choice":
      return typeof v === "string" && v !== "";
    case "multi_choice":
      return Array.isArray(v) && v.length > 0;
    case "text":
      return typeof v === "string" && v.trim() !== "";
    case "time_of_day":
      return typeof v === "string" && /^([01]\d|2[0-3]):[0-5]\d$/.test(v);
    default:
      return false;
  }
}

export function isAnswered(item, draft) {
  const ans = draft.answers[item.name];
  if (ans && ans.na && item.allow_na) return true;
  if (item.type === "photo") return photoCount(draft, item.name) >= Math.max(1, minPhotos(item));
  return hasValue(item, ans);
}

/** [key, params] of the first problem with this item, or null. ``raw`` holds unparsed inputs. */
export function checkItem(item, draft, raw = {}) {
  const ans = draft.answers[item.name] || {};
  if (ans.na && item.allow_na) return null;
  if (item.type === "photo") {
    const n = photoCount(draft, item.name);
    if (n > maxPhotos(item)) return ["err_photos_max", { max: maxPhotos(item) }];
    if ((isRequired(item) || n > 0) && n < Math.max(1, minPhotos(item))) {
      return ["err_photos_min", { min: Math.max(1, minPhotos(item)) }];
    }
    return null;
  }
  const pending = raw[item.name];
  if (pending !== undefined && pending !== "") {
    if (item.type === "duration") return ["err_duration", {}];
    if (item.type === "number") return ["err_number", {}];
    if (item.type === "time_of_day") return ["err_time", {}];
  }
  if (!hasValue(item, ans)) {
    if (isRequired(item)) return [item.allow_na ? "err_required" : "err_required_no_na", {}];
    return null;
  }
  const v = ans.value;
  if (item.type === "number") {
    if (typeof item.min === "number" && v < item.min) return ["err_number_min", { min: item.min }];
    if (typeof item.max === "number" && v > item.max) return ["err_number_max", { max: item.max }];
  }
  if (item.type === "duration") {
    if (!Number.isInteger(v) || v < 0) return ["err_duration", {}];
    if (typeof item.max_s === "number" && v > item.max_s) {
      return ["err_duration_max", { max: formatDuration(item.max_s) }];
    }
  }
  if (item.type === "text" && v.length > maxLength(item)) return ["err_text_long", { max: maxLength(item) }];
  return null;
}

/** {name: [key, params]} for every visible item with a problem. */
export function checkAll(def, draft, raw = {}) {
  const { visible } = applyVisibility(def, draft);
  const errors = {};
  for (const { item } of allItems(def)) {
    if (!visible.has(item.name)) continue;
    const e = checkItem(item, draft, raw);
    if (e) errors[item.name] = e;
  }
  return errors;
}

export function progress(def, draft) {
  const { visible } = applyVisibility(def, draft);
  let required = 0;
  let answered = 0;
  for (const { item } of allItems(def)) {
    if (!visible.has(item.name)) continue;
    if (isRequired(item)) {
      required += 1;
      if (isAnswered(item, draft)) answered += 1;
    }
  }
  return { required, answered, visible: visible.size };
}

/**
 * The submission's ``answers`` for the visible items. Photo items get ``photos`` filled with
 * evidence ids later (the queue uploads the photos first); here they hold local photo ids.
 */
export function buildAnswers(def, draft) {
  const { visible } = applyVisibility(def, draft);
  const out = {};
  for (const { item } of allItems(def)) {
    if (!visible.has(item.name)) continue;
    const ans = draft.answers[item.name] || {};
    const entry = {};
    const comment = typeof ans.comment === "string" ? ans.comment.trim() : "";
    const badge = typeof ans.badge === "string" ? ans.badge.trim() : "";
    if (ans.na && item.allow_na) {
      entry.na = true;
    } else if (item.type === "photo") {
      const ids = (draft.photos && draft.photos[item.name]) || [];
      if (ids.length) {
        entry.value = null;
        entry.photos = ids.slice();
      }
    } else if (hasValue(item, ans)) {
      entry.value = item.type === "text" ? ans.value.trim() : ans.value;
    }
    if (comment) entry.comment = comment;
    if (badge && item.role) entry.badge = badge;
    if (Object.keys(entry).length) out[item.name] = entry;
  }
  return out;
}

// ------------------------------------------------------------------ durations

/** "mm:ss" (minutes may exceed 59) to whole seconds, or NaN. */
export function parseDuration(text) {
  const m = /^\s*(\d{1,4})\s*[:：]\s*([0-5]?\d)\s*$/.exec(String(text));
  if (!m) return NaN;
  return Number(m[1]) * 60 + Number(m[2]);
}

export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(Number(seconds) || 0));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

// ------------------------------------------------------------------ score estimate

/** The fraction (0-1) an answer earns, or null when the item is unscored. */
export function itemFraction(item, ans) {
  if (!ans || ans.na || !hasValue(item, ans)) return null;
  const v = ans.value;
  switch (item.type) {
    case "yes_no":
      return v ? 1 : 0;
    case "scale": {
      const lo = scaleMin(item);
      const hi = scaleMax(item);
      return hi > lo ? Math.min(1, Math.max(0, (v - lo) / (hi - lo))) : null;
    }
    case "single_choice": {
      const choices = item.choices || [];
      const best = Math.max(0, ...choices.map((c) => Number(c.points) || 0));
      const chosen = choices.find((c) => c.name === v);
      if (!chosen || best <= 0) return null;
      return Math.max(0, (Number(chosen.points) || 0) / best);
    }
    case "multi_choice": {
      const choices = item.choices || [];
      const total = choices.reduce((sum, c) => sum + Math.max(0, Number(c.points) || 0), 0);
      if (total <= 0) return null;
      const got = choices.filter((c) => v.includes(c.name)).reduce((sum, c) => sum + (Number(c.points) || 0), 0);
      return Math.min(1, Math.max(0, got / total));
    }
    case "number": {
      const hasMin = typeof item.pass_min === "number";
      const hasMax = typeof item.pass_max === "number";
      if (!hasMin && !hasMax) return null;
      return (!hasMin || v >= item.pass_min) && (!hasMax || v <= item.pass_max) ? 1 : 0;
    }
    case "duration":
      return typeof item.target_s === "number" ? (v <= item.target_s ? 1 : 0) : null;
    default:
      return null;
  }
}

/** {score (0-100, two decimals) or null, criticalFailed, passed} — an estimate only. */
export function estimateScore(def, draft) {
  const { visible } = applyVisibility(def, draft);
  const below = typeof def.action_below === "number" ? def.action_below : 0.5;
  let criticalFailed = false;
  let weighted = 0;
  let weights = 0;
  for (const section of sections(def)) {
    let sum = 0;
    let w = 0;
    for (const item of section.items || []) {
      if (!visible.has(item.name) || !SCORED_TYPES.has(item.type)) continue;
      const f = itemFraction(item, draft.answers[item.name]);
      if (f === null) continue;
      const iw = typeof item.weight === "number" ? item.weight : 1;
      sum += f * iw;
      w += iw;
      if (item.critical && f < below) criticalFailed = true;
    }
    if (w > 0) {
      const sw = typeof section.weight === "number" ? section.weight : 1;
      weighted += (sum / w) * sw;
      weights += sw;
    }
  }
  if (weights <= 0) return { score: null, criticalFailed, passed: null };
  let score = (weighted / weights) * 100;
  if (criticalFailed) {
    if ((def.critical_rule || "fail") === "fail") score = 0;
    else if (typeof def.critical_cap === "number") score = Math.min(score, def.critical_cap);
  }
  score = Math.round(score * 100) / 100;
  const pass = typeof def.pass_score === "number" ? def.pass_score : 80;
  return { score, criticalFailed, passed: score >= pass && !(criticalFailed && def.critical_rule !== "cap") };
}
