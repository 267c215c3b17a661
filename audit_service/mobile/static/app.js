// The phone app: sign-in, my visits, filling a visit (form.js), the outbox (queue.js).
// Routes live in the URL hash so a reload comes back to the same screen:
//   #/  visits   #/visit/42  #/visit/42/s/1  #/visit/42/review   #/outbox

import * as api from "./api.js";
import { countersFor, fetchCounters } from "./counters.js";
import * as db from "./db.js";
import { VisitForm, itemOfField, newDraft } from "./form.js";
import { formatDateTime, lang, setLang, t, tl } from "./i18n.js";
import * as queue from "./queue.js";
import * as returned from "./returned.js";
import { clear, h } from "./util.js";

const view = document.getElementById("view");
const queueBar = document.getElementById("queue-status");
const toastEl = document.getElementById("toast");
const netChip = document.getElementById("net-status");
const langBtn = document.getElementById("lang-btn");

let currentForm = null;
let returnTo = null;
let visitsFetchedAt = 0;
let refreshing = null;
let lastError = null;
let queueTicker = null;
let screen = null; // what the view shows: login, visits, outbox, visit, error

/** The screen a hash asks for: "visits", "outbox" or "visit:<id>". */
function routeOf(hash) {
  const m = /^#\/visit\/(\d+)/.exec(hash || "");
  if (m) return `visit:${Number(m[1])}`;
  return hash === "#/outbox" ? "outbox" : "visits";
}

/**
 * Show ``node`` as screen ``name``. Async renders pass ``route``: if the user has moved on
 * (or the session ended) while they were reading the database, they don't paint over it.
 */
function mount(name, node, route = null) {
  if (route !== null && (routeOf(location.hash) !== route || (name !== "login" && !api.isSignedIn()))) {
    return false;
  }
  screen = name;
  clear(view).append(node);
  return true;
}

// ------------------------------------------------------------------ helpers

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function toast(message, action) {
  clear(toastEl);
  toastEl.append(h("span", {}, message));
  if (action) toastEl.append(h("button", { type: "button", class: "btn btn-small", onclick: action.run }, action.label));
  toastEl.hidden = false;
  clearTimeout(toastEl._timer);
  toastEl._timer = setTimeout(() => {
    toastEl.hidden = true;
  }, action ? 15000 : 6000);
}

function statusLabel(status) {
  const key = `status_${status}`;
  const text = t(key);
  return text === key ? String(status || "") : text;
}

async function closeForm() {
  if (!currentForm) return;
  const form = currentForm;
  currentForm = null;
  await form.flush();
  form.destroy();
}

function errorText(e) {
  if (e instanceof api.NetworkError) return t("network_error");
  return e && e.message ? e.message : String(e);
}

// ------------------------------------------------------------------ header and status

function paintHeader() {
  document.documentElement.lang = lang();
  document.title = `${t("app_name")} · ${t("app_tagline")}`;
  langBtn.textContent = t("lang_switch");
  langBtn.setAttribute("aria-label", t("lang_switch_label"));
  document.getElementById("brand-tagline").textContent = t("app_tagline");
  paintNet();
}

function paintNet() {
  const on = navigator.onLine;
  netChip.textContent = on ? t("online") : t("offline");
  netChip.className = `chip ${on ? "chip-online" : "chip-offline"}`;
  netChip.dataset.online = on ? "1" : "0";
}

async function paintQueueStatus() {
  let s;
  try {
    s = await queue.summary();
  } catch {
    return;
  }
  clearInterval(queueTicker);
  queueTicker = null;
  clear(queueBar);
  queueBar.dataset.pending = String(s.pending);
  queueBar.dataset.failed = String(s.failed);
  if (!s.pending && !s.failed) {
    queueBar.hidden = true;
    queueBar.dataset.state = "empty";
    return;
  }
  let state;
  let text;
  if (s.failed && !s.pending) {
    state = "failed";
    text = t("q_failed", { n: s.failed });
  } else if (queue.isAuthBlocked() || !api.isSignedIn()) {
    state = "login";
    text = t("q_login", { n: s.pending });
  } else if (!navigator.onLine) {
    state = "waiting";
    text = t("q_waiting", { n: s.pending });
  } else if (s.sending || (s.running && (!s.nextAt || s.nextAt <= Date.now()))) {
    state = "sending";
    text = t("q_sending", { n: s.pending });
  } else if (s.nextAt && s.nextAt > Date.now()) {
    state = "retry";
    const secs = Math.max(1, Math.ceil((s.nextAt - Date.now()) / 1000));
    text = t("q_retry", { n: s.pending, when: t("in_seconds", { s: secs }) });
    queueTicker = setInterval(paintQueueStatus, 1000);
  } else {
    state = "waiting";
    text = t("q_waiting", { n: s.pending });
  }
  if (s.failed && s.pending) text += ` · ${t("q_failed", { n: s.failed })}`;
  queueBar.dataset.state = state;
  queueBar.className = `queue-status queue-${state}`;
  queueBar.append(h("span", { class: "queue-text", id: "queue-text" }, text));
  const actions = h("span", { class: "queue-actions" });
  if (s.pending && navigator.onLine && state !== "sending" && state !== "login") {
    actions.append(
      h("button", { type: "button", class: "btn btn-small", id: "retry-now", onclick: () => queue.processQueue({ force: true }) }, t("q_retry_now")),
    );
  }
  if (state === "login" && screen !== "login") {
    actions.append(h("button", { type: "button", class: "btn btn-small", onclick: () => showLogin() }, t("sign_in")));
  }
  actions.append(h("a", { class: "btn btn-small btn-ghost", href: "#/outbox" }, t("q_details")));
  queueBar.append(actions);
  queueBar.hidden = false;
}

// ------------------------------------------------------------------ routing

async function route() {
  const hash = location.hash || "#/";
  if (!api.isSignedIn()) {
    await closeForm();
    showLogin();
    return;
  }
  const m = /^#\/visit\/(\d+)(?:\/(?:s\/(\d+)|(review)))?$/.exec(hash);
  if (m) {
    const id = Number(m[1]);
    const page = m[3] ? "review" : m[2] !== undefined ? Number(m[2]) : null;
    if (currentForm && currentForm.visit.id === id && !currentForm.closed) {
      currentForm.show(page === null ? currentForm.draft.section || 0 : clampPage(currentForm, page));
      return;
    }
    await closeForm();
    await openVisit(id, page);
    return;
  }
  await closeForm();
  if (hash === "#/outbox") await renderOutbox();
  else await renderVisits();
}

function clampPage(form, page) {
  if (page === "review") return page;
  return Math.min(Math.max(0, page), Math.max(0, form.sectionCount() - 1));
}

// ------------------------------------------------------------------ sign-in

function showLogin(message) {
  const wanted = location.hash && location.hash !== "#/login" ? location.hash : returnTo;
  returnTo = wanted || "#/";
  const user = h("input", { id: "username", name: "username", class: "input", autocomplete: "username", autocapitalize: "none", required: true });
  const pass = h("input", { id: "password", name: "password", type: "password", class: "input", autocomplete: "current-password", required: true });
  const msg = h("p", { class: "err", role: "alert", id: "login-error" });
  const btn = h("button", { class: "btn btn-primary btn-block", type: "submit", id: "login-btn" }, t("sign_in"));
  db.kv
    .get("last_user")
    .then((u) => {
      if (u && !user.value) {
        user.value = u;
        pass.focus();
      }
    })
    .catch(() => {});
  const form = h(
    "form",
    {
      class: "card login",
      id: "login-form",
      novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        msg.textContent = "";
        if (!user.value.trim() || !pass.value) {
          msg.textContent = t("login_failed");
          return;
        }
        btn.disabled = true;
        btn.textContent = t("signing_in");
        try {
          await api.login(user.value.trim(), pass.value);
          await db.kv.set("last_user", user.value.trim()).catch(() => {});
          if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
          paintHeader();
          visitsFetchedAt = 0;
          const target = returnTo || "#/";
          returnTo = null;
          queue.resumeAfterLogin();
          if (location.hash === target) route();
          else location.hash = target;
        } catch (err) {
          if (err instanceof api.NetworkError) msg.textContent = t("login_offline");
          else if (err instanceof api.ApiError && err.status === 429) msg.textContent = t("login_rate_limited", { s: err.retryAfterS || 60 });
          else if (err instanceof api.ApiError && [400, 401, 403, 422].includes(err.status)) msg.textContent = t("login_failed");
          else msg.textContent = t("login_error", { detail: errorText(err) });
        } finally {
          btn.disabled = false;
          btn.textContent = t("sign_in");
        }
      },
    },
    h("h1", {}, t("login_title")),
    message ? h("p", { class: "alert alert-info", id: "login-note" }, message) : null,
    h("label", { for: "username" }, t("username")),
    user,
    h("label", { for: "password" }, t("password")),
    pass,
    msg,
    btn,
  );
  mount("login", form);
  if (!user.value) user.focus();
  paintQueueStatus();
}

async function onAuthRequired() {
  // The tokens are gone; drafts and the outbox stay in IndexedDB untouched.
  await closeForm();
  paintHeader();
  showLogin(t("login_again"));
}

// ------------------------------------------------------------------ visits

async function localState() {
  const drafts = new Set((await db.getAll("drafts")).map((d) => d.visit_id));
  const byVisit = new Map();
  for (const q of await queue.items()) byVisit.set(q.visit_id, q); // newest wins
  return { drafts, byVisit };
}

/** A visit whose audit the reviewer sent back to me (and no correction is on its way yet). */
function isReturned(v, q) {
  if (!v || v.audit_status !== "returned" || !v.audit_id) return false;
  return !(q && q.kind === "resubmit" && q.status !== "sent");
}

/**
 * What the phone needs offline besides the visits: returned audits (to correct them) and the
 * counters of each outlet (the counter picker). Failures here don't fail the refresh.
 */
async function refreshExtras(visits) {
  for (const v of visits) {
    if (v.audit_status !== "returned" || !v.audit_id) continue;
    try {
      await returned.fetchReturned(v.audit_id);
    } catch (e) {
      if (e instanceof api.AuthRequired) throw e;
      console.warn("returned audit", v.audit_id, e);
    }
  }
  const open = visits.filter((v) => v.status !== "cancelled" && (!v.audit_id || v.audit_status === "returned"));
  for (const outletId of new Set(open.map((v) => v.outlet && v.outlet.id).filter(Boolean))) {
    try {
      await fetchCounters(outletId);
    } catch (e) {
      if (e instanceof api.AuthRequired) throw e;
      console.warn("counters", outletId, e);
    }
  }
}

/** Fetch my visits and any checklist versions not on the phone yet. */
async function refreshVisits() {
  if (refreshing) return refreshing;
  refreshing = (async () => {
    const resp = await api.api("visits?mine=true");
    const visits = Array.isArray(resp) ? resp : (resp && resp.items) || [];
    const have = new Set((await db.getAll("definitions")).map((d) => d.version_id));
    const wanted = [...new Set(visits.map((v) => v.version_id))].filter((id) => id != null && !have.has(id));
    for (const id of wanted) {
      const version = await api.api(`checklist-versions/${encodeURIComponent(id)}`);
      await db.put("definitions", { ...version, version_id: id, definition: version.definition, fetched_at: new Date().toISOString() });
    }
    // Visits still needed by a draft or the outbox stay, even if the server stops listing them.
    const { drafts, byVisit } = await localState();
    const ids = new Set(visits.map((v) => v.id));
    const kept = (await db.getAll("visits")).filter(
      (v) => !ids.has(v.id) && (drafts.has(v.id) || (byVisit.has(v.id) && byVisit.get(v.id).status !== "sent")),
    );
    await db.replaceAll("visits", visits.concat(kept));
    await refreshExtras(visits);
    visitsFetchedAt = Date.now();
    await db.kv.set("visits_fetched_at", new Date().toISOString());
    lastError = null;
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

async function renderVisits({ fetch = null } = {}) {
  await paintVisits();
  const stale = Date.now() - visitsFetchedAt > 60000;
  if ((fetch === true || (fetch === null && stale)) && navigator.onLine) {
    markRefreshing(true);
    try {
      await refreshVisits();
    } catch (e) {
      if (e instanceof api.AuthRequired) return;
      lastError = e;
    }
    markRefreshing(false);
    if (screen === "visits") await paintVisits();
  }
}

function markRefreshing(on) {
  const btn = document.getElementById("refresh-btn");
  if (!btn) return;
  btn.disabled = on;
  btn.textContent = on ? t("refreshing") : t("refresh");
}

async function paintVisits() {
  const visits = await db.getAll("visits");
  const { drafts, byVisit } = await localState();
  const fetchedAt = await db.kv.get("visits_fetched_at").catch(() => null);
  // Returned for correction first, then the visits still to make, then the rest.
  const order = (v) =>
    isReturned(v, byVisit.get(v.id)) ? 0 : v.audit_id || ["submitted", "approved", "rejected", "in_review", "cancelled", "expired"].includes(v.status) ? 2 : 1;
  visits.sort((a, b) => order(a) - order(b) || String(a.window_start).localeCompare(String(b.window_start)) || a.id - b.id);
  const notes = new Map();
  for (const v of visits) {
    if (!isReturned(v, byVisit.get(v.id))) continue;
    const rec = await returned.cached(v.audit_id);
    notes.set(v.id, (rec && rec.returned) || {});
  }
  const list = h("ul", { class: "visit-list", id: "visit-list" });
  for (const v of visits) list.append(visitCard(v, drafts.has(v.id), byVisit.get(v.id), notes.get(v.id)));
  mount(
    "visits",
    h(
      "div",
      { class: "visits" },
      h(
        "div",
        { class: "row-between" },
        h("h1", {}, t("my_visits")),
        h("button", { class: "btn btn-small", type: "button", id: "refresh-btn", onclick: () => renderVisits({ fetch: true }) }, t("refresh")),
      ),
      !navigator.onLine ? h("p", { class: "alert alert-info", id: "offline-note" }, t("offline_banner")) : null,
      lastError ? h("p", { class: "alert alert-error" }, t("visits_load_failed", { detail: errorText(lastError) })) : null,
      fetchedAt ? h("p", { class: "muted small" }, t("saved_at", { time: formatDateTime(fetchedAt) })) : null,
      visits.length ? list : h("p", { class: "empty" }, t("no_visits")),
      h("div", { class: "footer-actions" }, h("button", { class: "btn btn-ghost", type: "button", id: "signout-btn", onclick: signOut }, t("sign_out"))),
    ),
    "visits",
  );
}

async function signOut() {
  if (!window.confirm(t("sign_out_confirm"))) return;
  await closeForm();
  await api.logout(); // drafts and the outbox stay on the phone
  paintHeader();
  showLogin();
}

function visitCard(v, hasDraft, q, returnNote) {
  const isRet = returnNote !== undefined;
  const chips = [h("span", { class: `chip chip-status status-${v.status}` }, statusLabel(v.status))];
  if (v.audit_status && v.audit_status !== "submitted") {
    chips.push(h("span", { class: `chip chip-status status-${v.audit_status}` }, statusLabel(v.audit_status)));
  }
  let action = isRet ? t("correct_visit") : t("open_visit");
  if (q && q.status === "queued") chips.push(h("span", { class: "chip chip-queued" }, t("local_queued")));
  else if (q && q.status === "sending") chips.push(h("span", { class: "chip chip-queued" }, t("local_sending")));
  else if (q && q.status === "failed") chips.push(h("span", { class: "chip chip-failed" }, t("local_failed")));
  else if (q && q.status === "sent" && !hasDraft && !isRet) chips.push(h("span", { class: "chip chip-sent" }, t("local_sent")));
  if (hasDraft) {
    chips.push(h("span", { class: "chip chip-draft" }, t("local_draft")));
    action = t("continue_visit");
  }
  const outlet = v.outlet || {};
  const note = isRet
    ? h(
        "span",
        { class: "returned-note", role: "note" },
        h("span", { class: "returned-title" }, t("returned_title")),
        returnNote.comment
          ? h("span", { class: "returned-comment" }, h("span", { class: "visually-hidden" }, `${t("returned_comment")}: `), returnNote.comment)
          : null,
        returnNote.by || returnNote.at
          ? h("span", { class: "returned-by muted small" }, t("returned_by", { by: returnNote.by || "—", time: formatDateTime(returnNote.at) }))
          : null,
      )
    : null;
  return h(
    "li",
    { class: `visit-card${isRet ? " visit-returned" : ""}`, dataset: { visit: String(v.id), returned: isRet ? "1" : null } },
    h(
      "a",
      {
        href: `#/visit/${v.id}`,
        class: "visit-link",
        "aria-label": `${isRet ? `${t("returned_title")}${returnNote.comment ? `: ${returnNote.comment}` : ""} · ` : ""}${action}: ${outlet.name || v.id}`,
      },
      note,
      h("span", { class: "visit-outlet" }, outlet.name || `#${v.id}`, outlet.code ? h("span", { class: "muted" }, ` · ${outlet.code}`) : null),
      h("span", { class: "visit-template" }, tl(v.template_name)),
      h("span", { class: "visit-window muted small" }, `${t("window")}: ${formatDateTime(v.window_start)} – ${formatDateTime(v.window_end)}`),
      h("span", { class: "chips" }, chips),
      h("span", { class: "visit-action" }, action, " ›"),
    ),
  );
}

// ------------------------------------------------------------------ one visit

async function openVisit(id, page) {
  const visit = await db.get("visits", id);
  if (!visit) {
    mount("visit", h("div", { class: "card" }, h("p", {}, `#${id}: ${t("no_visits")}`), backLink()), `visit:${id}`);
    return;
  }
  let draft = await db.get("drafts", id);
  if (isCancelled(visit) && !draft) {
    mount("visit", h("div", { class: "card" }, h("p", { class: "alert alert-info" }, t("visit_cancelled")), backLink()), `visit:${id}`);
    return;
  }
  const qs = await queue.forVisit(id);
  const last = qs[qs.length - 1];
  let returnedRec = null;
  if (!draft && isReturned(visit, last) && !(last && last.status !== "sent")) {
    // Returned for correction: a new draft from the previous answers (fresh when online).
    try {
      returnedRec = await returned.loadReturned(visit.audit_id);
    } catch (e) {
      if (e instanceof api.AuthRequired) return;
      mount("visit", h("div", { class: "card" }, h("p", { class: "alert alert-error" }, t("returned_load_failed", { detail: errorText(e) })), backLink()), `visit:${id}`);
      return;
    }
    if (!returnedRec) {
      mount("visit", h("div", { class: "card" }, h("p", { class: "alert alert-error", id: "returned-missing" }, t("returned_missing")), backLink()), `visit:${id}`);
      return;
    }
    if (returnedRec.status !== "returned") {
      // Resubmitted (or reviewed) meanwhile, elsewhere: the server's word wins.
      const fresh = { ...visit, audit_status: returnedRec.status };
      await db.put("visits", fresh);
      renderSubmitted(fresh, last);
      return;
    }
  }
  if (!draft && !returnedRec && (last || visit.audit_id)) {
    renderSubmitted(visit, last);
    return;
  }
  let version = await db.get("definitions", visit.version_id);
  if (!version && navigator.onLine) {
    try {
      const v = await api.api(`checklist-versions/${encodeURIComponent(visit.version_id)}`);
      version = { ...v, version_id: visit.version_id, definition: v.definition };
      await db.put("definitions", version);
    } catch (e) {
      if (e instanceof api.AuthRequired) return;
    }
  }
  if (!version || !version.definition) {
    mount("visit", h("div", { class: "card" }, h("p", { class: "alert alert-error" }, t("checklist_missing")), backLink()), `visit:${id}`);
    return;
  }
  if (routeOf(location.hash) !== `visit:${id}` || !api.isSignedIn()) return; // moved on
  let counters = [];
  try {
    counters = await countersFor(visit.outlet && visit.outlet.id);
  } catch (e) {
    if (e instanceof api.AuthRequired) return;
  }
  if (routeOf(location.hash) !== `visit:${id}` || !api.isSignedIn()) return; // moved on
  if (!draft) {
    // started_at: the moment the visit is first opened (a correction keeps the visit's own).
    draft = returnedRec ? returned.returnedDraft(visit, returnedRec) : newDraft(visit);
    if (returnedRec) {
      // The audit as read back has no counter_id: reuse the one this phone sent, if any.
      const sentWith = qs.filter((q) => q.body && Number.isInteger(q.body.counter_id)).pop();
      if (sentWith) draft.counter_id = sentWith.body.counter_id;
    }
    await db.put("drafts", draft);
  }
  const form = new VisitForm({
    host: view,
    visit,
    def: version.definition,
    draft,
    go,
    counters,
    submit: (body, snapshot) => submitVisit(visit, body, snapshot),
  });
  currentForm = form;
  screen = "visit";
  if (page === null) page = firstErrorSection(version.definition, draft) ?? draft.section ?? 0;
  form.show(clampPage(form, page));
}

/** The section holding the first item the server complained about (a returned draft). */
function firstErrorSection(def, draft) {
  const names = new Set((draft.server_errors || []).map((e) => itemOfField(e.field)).filter(Boolean));
  const sections = (def && def.sections) || [];
  for (let i = 0; i < sections.length; i++) {
    if ((sections[i].items || []).some((it) => names.has(it.name))) return i;
  }
  return null;
}

function isCancelled(visit) {
  return visit.status === "cancelled";
}

function backLink() {
  return h("a", { class: "btn", href: "#/" }, "‹ ", t("back_to_visits"));
}

function renderSubmitted(visit, q) {
  const parts = [];
  if (q && (q.status === "queued" || q.status === "sending")) parts.push(h("p", { class: "alert alert-info", id: "visit-queued" }, t("queued_readonly")));
  else if (q && q.status === "failed") {
    parts.push(h("p", { class: "alert alert-error", id: "visit-failed" }, t("q_failed_note")));
    parts.push(h("p", { class: "small" }, t("q_last_error", { detail: q.last_error || "" })));
  } else {
    parts.push(h("p", { class: "alert alert-ok", id: "visit-sent" }, t("sent_readonly")));
    if (q && q.result && typeof q.result.score === "number") {
      parts.push(h("p", {}, t("server_score", { score: q.result.score, passed: q.result.passed ? t("passed") : t("not_passed") })));
    }
  }
  mount(
    "visit",
    h(
      "div",
      { class: "visit" },
      h("h1", { class: "visit-title" }, visit.outlet ? visit.outlet.name : `#${visit.id}`),
      h("p", { class: "muted" }, tl(visit.template_name)),
      parts,
      backLink(),
    ),
    `visit:${visit.id}`,
  );
}

async function submitVisit(visit, body, snapshot) {
  await queue.enqueue({ visit, draft: snapshot, body });
  currentForm = null; // enqueue removed the draft; the form is done
  toast(navigator.onLine ? t("submitting") : t("submit_queued"));
  go("#/");
  queue.processQueue({ force: true });
}

// ------------------------------------------------------------------ outbox

async function renderOutbox() {
  const all = await queue.items();
  const list = h("ul", { class: "outbox-list", id: "outbox-list" });
  for (const q of all.slice().reverse()) {
    const photos = Object.values(q.body.answers || {}).reduce((n, a) => n + (a.photos ? a.photos.length : 0), 0);
    const done = Object.keys(q.uploaded || {}).length;
    const statusKey = { queued: "local_queued", sending: "local_sending", failed: "local_failed", sent: "local_sent" }[q.status];
    list.append(
      h(
        "li",
        { class: `card outbox-item outbox-${q.status}`, dataset: { uuid: q.uuid, status: q.status } },
        h(
          "p",
          {},
          h("strong", {}, q.outlet_name || `#${q.visit_id}`),
          " ",
          h("span", { class: `chip chip-${q.status}` }, t(statusKey)),
          q.kind === "resubmit" ? [" ", h("span", { class: "chip chip-draft" }, t("resubmission"))] : null,
        ),
        h("p", { class: "muted small" }, formatDateTime(q.created_at), " · ", t("q_attempts", { n: q.attempts })),
        photos ? h("p", { class: "muted small" }, t("q_photos", { done, total: photos })) : null,
        q.last_error && q.status !== "sent" ? h("p", { class: "small" }, t("q_last_error", { detail: q.last_error })) : null,
        q.status === "failed" ? h("p", { class: "small warn" }, t("q_failed_note")) : null,
        q.result && typeof q.result.score === "number"
          ? h("p", {}, t("server_score", { score: q.result.score, passed: q.result.passed ? t("passed") : t("not_passed") }))
          : null,
        q.status === "failed"
          ? h(
              "button",
              {
                type: "button",
                class: "btn btn-small btn-danger",
                onclick: async () => {
                  if (window.confirm(t("q_discard_confirm"))) {
                    await queue.discard(q.uuid);
                    renderOutbox();
                  }
                },
              },
              t("q_discard"),
            )
          : null,
      ),
    );
  }
  mount(
    "outbox",
    h(
      "div",
      { class: "outbox" },
      backLink(),
      h("h1", {}, t("q_title")),
      all.length ? list : h("p", { class: "empty" }, t("q_empty")),
    ),
    "outbox",
  );
}

// ------------------------------------------------------------------ queue events

async function onQueueEvent(event) {
  paintQueueStatus();
  if (event.type === "sent") {
    const r = event.item.result;
    toast(r && typeof r.score === "number" ? `${t("submit_sent")} ${t("server_score", { score: r.score, passed: r.passed ? t("passed") : t("not_passed") })}` : t("submit_sent"));
  } else if (event.type === "draft-restored") {
    toast(t("server_errors"));
  }
  if (!["sent", "draft-restored", "updated", "discarded", "enqueued"].includes(event.type)) return;
  if (screen === "visits") paintVisits();
  else if (screen === "outbox") renderOutbox();
  else if (screen === "visit" && !currentForm && event.item && event.type !== "updated") {
    if (routeOf(location.hash) === `visit:${event.item.visit_id}`) route();
  }
}

// ------------------------------------------------------------------ service worker

function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  const hadController = Boolean(navigator.serviceWorker.controller);
  navigator.serviceWorker.register("./sw.js", { scope: "./" }).catch((e) => console.warn("service worker", e));
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (hadController) toast(t("update_ready"), { label: t("reload"), run: () => location.reload() });
  });
}

async function collectPhotos() {
  // Photos no draft or outbox item refers to any more (a hidden or removed item's).
  const keep = await queue.referencedPhotoIds();
  const before = new Date(Date.now() - 10 * 60000).toISOString(); // never one being added now
  for (const p of await db.getAll("photos")) {
    if (!keep.has(p.id) && String(p.created_at) < before) await db.del("photos", p.id);
  }
}

// ------------------------------------------------------------------ start

async function start() {
  setLang(lang());
  paintHeader();
  langBtn.addEventListener("click", async () => {
    if (currentForm) await currentForm.flush();
    setLang(lang() === "zh-CN" ? "en" : "zh-CN");
    paintHeader();
    paintQueueStatus();
    if (screen === "login" || !api.isSignedIn()) showLogin();
    else if (currentForm) currentForm.show(currentForm.page);
    else route();
  });
  try {
    await db.openDb();
  } catch (e) {
    mount("error", h("p", { class: "alert alert-error" }, t("storage_error", { detail: errorText(e) })));
    return;
  }
  api.onAuthRequired(onAuthRequired);
  queue.onChange(onQueueEvent);
  window.addEventListener("hashchange", () => route());
  window.addEventListener("online", () => {
    paintNet();
    queue.processQueue({ force: true });
    if (screen === "visits") renderVisits({ fetch: true });
    else paintQueueStatus();
  });
  window.addEventListener("offline", () => {
    paintNet();
    paintQueueStatus();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") queue.processQueue();
    else if (currentForm) currentForm.flush();
  });
  window.addEventListener("pagehide", () => {
    if (currentForm) currentForm.flush();
  });
  collectPhotos().catch(() => {});
  await route();
  await paintQueueStatus();
  queue.processQueue({ force: true });
  registerServiceWorker();
  document.documentElement.dataset.app = "ready";
}

start().catch((e) => {
  console.error(e);
  mount("error", h("p", { class: "alert alert-error" }, t("unknown_error", { detail: errorText(e) })));
});
