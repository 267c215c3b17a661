// Filling in a visit: one section per page, then a review page with location consent, the
// score estimate and Submit. The draft (answers, photo ids, started_at, ...) is saved to
// IndexedDB on every change, so it survives reloads and going offline.
// The first section also asks which counter served the auditor (optional: counter_id). A draft
// with an audit_id corrects a returned audit: the reviewer's comment is shown on every page and
// photos already on the server (draft.remote_photos, by evidence id) show as "already uploaded".

import * as db from "./db.js";
import {
  allItems,
  applyVisibility,
  buildAnswers,
  checkAll,
  checkItem,
  estimateScore,
  formatDuration,
  isAnswered,
  isRequired,
  maxLength,
  maxPhotos,
  minPhotos,
  parseDuration,
  progress,
  scaleMax,
  scaleMin,
  sections,
} from "./checklist.js";
import { counterLabel } from "./counters.js";
import { formatDateTime, t, tl } from "./i18n.js";
import { downscale } from "./photos.js";
import { clear, domId, h, newId } from "./util.js";

const FORMAT_ERRORS = new Set(["err_number", "err_number_min", "err_number_max", "err_duration", "err_duration_max", "err_text_long", "err_time", "err_photos_max"]);

export function newDraft(visit) {
  return {
    visit_id: visit.id,
    version_id: visit.version_id,
    started_at: new Date().toISOString(),
    answers: {},
    photos: {},
    raw: {},
    stopwatches: {},
    section: 0,
    location_consent: false,
    location: null,
    submit_tried: false,
    server_errors: null,
    updated_at: new Date().toISOString(),
  };
}

/** "answers.wait.value" / "body.answers.wait.value" -> "wait"; otherwise null. */
export function itemOfField(field) {
  const parts = String(field || "").split(".");
  if (parts[0] === "body") parts.shift();
  return parts[0] === "answers" && parts[1] ? parts[1] : null;
}

const SVG = "http://www.w3.org/2000/svg";

/** A camera outline (inline SVG: emoji fonts are not on every phone). */
function cameraIcon() {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "22");
  svg.setAttribute("height", "22");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "icon");
  for (const d of ["M4 8h3l2-3h6l2 3h3v11H4z", "M12 10.5a3.5 3.5 0 1 0 0 7a3.5 3.5 0 1 0 0-7z"]) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "2");
    path.setAttribute("stroke-linejoin", "round");
    svg.append(path);
  }
  return svg;
}

/** A tick (an uploaded photo). */
function checkIcon() {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "20");
  svg.setAttribute("height", "20");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "icon");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", "M4 12.5l5 5L20 6.5");
  path.setAttribute("fill", "none");
  path.setAttribute("stroke", "currentColor");
  path.setAttribute("stroke-width", "2.5");
  path.setAttribute("stroke-linecap", "round");
  path.setAttribute("stroke-linejoin", "round");
  svg.append(path);
  return svg;
}

/** A server message without its leading "answers.x.value: " (shown next to the item anyway). */
export function plainMessage(e) {
  const msg = String(e.message || "");
  return e.field && msg.startsWith(`${e.field}: `) ? msg.slice(e.field.length + 2) : msg;
}

export class VisitForm {
  /**
   * host: element to render into; visit, def (the checklist definition), draft;
   * go(hash): navigate; submit(body, draft): queue the submission; counters: the outlet's
   * counters ([{id, code, name}]) for the optional "which counter served you" picker.
   */
  constructor({ host, visit, def, draft, go, submit, counters = [] }) {
    this.host = host;
    this.visit = visit;
    this.def = def;
    this.draft = draft;
    this.go = go;
    this.submitFn = submit;
    this.closed = false;
    this.saveTimer = null;
    this.saving = Promise.resolve();
    this.cleanups = [];
    this.thumbUrls = new Map();
    this.page = null;
    this.itemEls = new Map();
    this.draft.raw = this.draft.raw || {};
    this.draft.stopwatches = this.draft.stopwatches || {};
    this.draft.photos = this.draft.photos || {};
    this.draft.answers = this.draft.answers || {};
    this.draft.remote_photos = this.draft.remote_photos || [];
    this.counters = Array.isArray(counters) ? counters : [];
  }

  isRemotePhoto(pid) {
    return this.draft.remote_photos.includes(pid);
  }

  // ---------------------------------------------------------------- persistence

  saveSoon() {
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => this.saveNow(), 400);
  }

  saveNow() {
    clearTimeout(this.saveTimer);
    this.saveTimer = null;
    if (this.closed) return this.saving;
    this.draft.updated_at = new Date().toISOString();
    const snapshot = structuredClone(this.draft);
    this.saving = this.saving.then(() => db.put("drafts", snapshot)).catch((e) => console.error("draft save", e));
    return this.saving;
  }

  async flush() {
    if (this.saveTimer) this.saveNow();
    await this.saving;
  }

  destroy() {
    for (const fn of this.cleanups.splice(0)) fn();
    for (const url of this.thumbUrls.values()) URL.revokeObjectURL(url);
    this.thumbUrls.clear();
  }

  // ---------------------------------------------------------------- pages

  sectionCount() {
    return sections(this.def).length;
  }

  /** Show a section (0-based) or "review". */
  show(page) {
    for (const fn of this.cleanups.splice(0)) fn();
    this.page = page;
    if (page !== "review") {
      this.draft.section = page;
      this.saveSoon();
    }
    clear(this.host);
    this.itemEls.clear();
    this.host.append(page === "review" ? this.renderReview() : this.renderSection(page));
    this.refresh();
    window.scrollTo(0, 0);
  }

  header() {
    const v = this.visit;
    return h(
      "div",
      { class: "visit-head" },
      h("button", { class: "btn btn-ghost back", type: "button", onclick: () => this.leave() }, "‹ ", t("back_to_visits")),
      h("h1", { class: "visit-title" }, v.outlet ? `${v.outlet.name}` : `#${v.id}`),
      h(
        "p",
        { class: "muted" },
        [v.outlet && v.outlet.code, tl(v.template_name) || tl(this.def.name)].filter(Boolean).join(" · "),
      ),
      h("p", { class: "muted small" }, t("started", { time: formatDateTime(this.draft.started_at) })),
      this.returnedNote(),
      this.progressBar(),
      this.generalErrors(),
    );
  }

  /** The reviewer's reason, on every page of a correction. */
  returnedNote() {
    if (!this.draft.audit_id) return null;
    const r = this.draft.returned || {};
    return h(
      "div",
      { class: "returned-note", id: "returned-note", role: "note" },
      h("p", { class: "returned-title" }, t("returned_title")),
      r.comment ? h("p", { class: "returned-comment" }, h("span", { class: "visually-hidden" }, `${t("returned_comment")}: `), r.comment) : null,
      r.by || r.at ? h("p", { class: "muted small" }, t("returned_by", { by: r.by || "—", time: formatDateTime(r.at) })) : null,
      h("p", { class: "small" }, t("returned_hint")),
    );
  }

  /** "Which counter served you?" (optional; the server attributes counter items with it). */
  counterField() {
    const chosen = this.draft.counter_id ?? null;
    const list = this.counters.slice();
    if (chosen !== null && !list.some((c) => c.id === chosen)) list.push({ id: chosen, code: `#${chosen}`, name: "" });
    if (!list.length) return null;
    const id = "counter-select";
    const helpId = "counter-help";
    const select = h(
      "select",
      {
        id,
        name: "counter_id",
        class: "input input-select",
        "aria-describedby": helpId,
        onchange: (e) => {
          const v = e.target.value;
          if (v) this.draft.counter_id = Number(v);
          else delete this.draft.counter_id;
          this.saveNow();
        },
      },
      h("option", { value: "" }, t("counter_none")),
      list.map((c) => h("option", { value: String(c.id), selected: c.id === chosen }, counterLabel(c))),
    );
    select.value = chosen === null ? "" : String(chosen);
    return h(
      "div",
      { class: "card counter-field", id: "counter-field" },
      h("label", { for: id }, t("counter_label")),
      select,
      h("p", { class: "muted small", id: helpId }, t("counter_help")),
    );
  }

  async leave() {
    await this.flush();
    this.go("#/");
  }

  progressBar() {
    this.progressText = h("span", { class: "progress-text", id: "progress-text" });
    this.progressFill = h("span", { class: "progress-fill" });
    this.progressTrack = h(
      "span",
      { class: "progress-track", role: "progressbar", "aria-labelledby": "progress-text", "aria-valuemin": "0" },
      this.progressFill,
    );
    return h("div", { class: "progress" }, this.progressText, this.progressTrack);
  }

  generalErrors() {
    const errs = (this.draft.server_errors || []).filter((e) => !itemOfField(e.field));
    const hasItemErrs = (this.draft.server_errors || []).some((e) => itemOfField(e.field));
    if (!errs.length && !hasItemErrs) return null;
    return h(
      "div",
      { class: "alert alert-error", role: "alert", id: "server-errors" },
      h("p", {}, t("server_errors")),
      errs.length
        ? h(
            "ul",
            {},
            errs.map((e) => h("li", {}, e.field ? `${e.field}: ${e.message}` : e.message)),
          )
        : null,
    );
  }

  renderSection(index) {
    const secs = sections(this.def);
    const i = Math.min(Math.max(0, index), secs.length - 1);
    const sec = secs[i];
    const list = h("div", { class: "items" });
    (sec.items || []).forEach((item, n) => {
      const el = this.renderItem(item, `${i + 1}.${n + 1}`);
      this.itemEls.set(item.name, el);
      list.append(el);
    });
    const last = i === secs.length - 1;
    return h(
      "div",
      { class: "visit", dataset: { section: String(i) } },
      this.header(),
      h(
        "div",
        { class: "section-head" },
        h("p", { class: "muted small", id: "section-of" }, t("section_of", { i: i + 1, n: secs.length })),
        h("h2", { class: "section-title" }, tl(sec.label) || sec.name),
      ),
      i === 0 ? this.counterField() : null,
      list,
      h(
        "nav",
        { class: "pager" },
        h(
          "button",
          { class: "btn", type: "button", id: "prev-btn", disabled: i === 0, onclick: () => this.go(`#/visit/${this.visit.id}/s/${i - 1}`) },
          "‹ ",
          t("previous"),
        ),
        h(
          "button",
          {
            class: "btn btn-primary",
            type: "button",
            id: "next-btn",
            onclick: () => this.go(last ? `#/visit/${this.visit.id}/review` : `#/visit/${this.visit.id}/s/${i + 1}`),
          },
          last ? t("finish") : t("next"),
          " ›",
        ),
      ),
    );
  }

  // ---------------------------------------------------------------- one item

  renderItem(item, number) {
    const ans = this.draft.answers[item.name] || {};
    const labelId = domId("lbl");
    const errId = domId("err");
    const chips = [];
    if (isRequired(item)) chips.push(h("span", { class: "chip chip-req" }, t("required")));
    if (item.critical) chips.push(h("span", { class: "chip chip-crit" }, t("critical")));
    if (item.standard) chips.push(h("span", { class: "chip chip-std" }, item.standard));
    const na = Boolean(ans.na && item.allow_na);
    const controls = h(
      "fieldset",
      { class: "controls", "aria-labelledby": labelId, "aria-describedby": errId, disabled: na },
      this.control(item, ans, labelId),
    );
    const el = h(
      "section",
      { class: "item", id: `item-${item.name}`, dataset: { item: item.name, type: item.type }, "aria-labelledby": labelId },
      h("div", { class: "item-head" }, h("h3", { class: "item-label", id: labelId }, h("span", { class: "item-no" }, number), " ", tl(item.label) || item.name)),
      chips.length ? h("div", { class: "chips" }, chips) : null,
      item.help && tl(item.help) ? h("p", { class: "help" }, tl(item.help)) : null,
      controls,
      item.allow_na
        ? h(
            "label",
            { class: "toggle na-toggle" },
            h("input", { type: "checkbox", class: "na", checked: na, onchange: (e) => this.setNa(item, e.target.checked) }),
            h("span", {}, t("na")),
          )
        : null,
      item.role ? this.badgeField(item, ans) : null,
      this.commentField(item, ans),
      h("p", { class: "err", id: errId, role: "alert" }),
    );
    return el;
  }

  control(item, ans, labelId) {
    switch (item.type) {
      case "yes_no":
        return this.radios(item, [
          { value: true, label: t("yes"), cls: "yes" },
          { value: false, label: t("no"), cls: "no" },
        ], ans, "choices-2");
      case "scale": {
        const opts = [];
        for (let v = scaleMin(item); v <= scaleMax(item); v++) opts.push({ value: v, label: String(v) });
        return this.radios(item, opts, ans, "choices-scale");
      }
      case "single_choice":
        return this.radios(item, (item.choices || []).map((c) => ({ value: c.name, label: tl(c.label) || c.name })), ans, "choices-list");
      case "multi_choice":
        return this.checkboxes(item, ans);
      case "number":
        return this.numberInput(item, ans, labelId);
      case "duration":
        return this.durationInput(item, ans, labelId);
      case "text":
        return this.textInput(item, ans, labelId);
      case "photo":
        return this.photoInput(item);
      case "time_of_day":
        return h("input", {
          type: "time",
          class: "input input-time",
          "aria-labelledby": labelId,
          value: typeof ans.value === "string" ? ans.value : "",
          onchange: (e) => this.setValue(item, e.target.value || undefined, { rerender: false }),
          oninput: (e) => this.setValue(item, e.target.value || undefined, { rerender: false, quiet: true }),
        });
      default:
        return h("p", { class: "muted" }, `(${item.type})`);
    }
  }

  radios(item, options, ans, cls) {
    const group = `q-${item.name}`;
    return h(
      "div",
      { class: `choices ${cls}`, role: "radiogroup" },
      options.map((o) =>
        h(
          "label",
          { class: `choice ${o.cls || ""}` },
          h("input", {
            type: "radio",
            name: group,
            value: String(o.value),
            checked: ans.value === o.value,
            onchange: () => this.setValue(item, o.value),
          }),
          h("span", {}, o.label),
        ),
      ),
    );
  }

  checkboxes(item, ans) {
    const chosen = new Set(Array.isArray(ans.value) ? ans.value : []);
    return h(
      "div",
      { class: "choices choices-list" },
      (item.choices || []).map((c) =>
        h(
          "label",
          { class: "choice check" },
          h("input", {
            type: "checkbox",
            value: c.name,
            checked: chosen.has(c.name),
            onchange: (e) => {
              const cur = new Set(Array.isArray((this.draft.answers[item.name] || {}).value) ? this.draft.answers[item.name].value : []);
              if (e.target.checked) cur.add(c.name);
              else cur.delete(c.name);
              // Keep the definition's order: the same choices always give the same list.
              const list = (item.choices || []).map((x) => x.name).filter((n) => cur.has(n));
              this.setValue(item, list.length ? list : undefined);
            },
          }),
          h("span", {}, tl(c.label) || c.name),
        ),
      ),
    );
  }

  numberInput(item, ans, labelId) {
    const hasMin = typeof item.min === "number";
    const hasMax = typeof item.max === "number";
    let hint = null;
    if (hasMin && hasMax) hint = t("number_range", { min: item.min, max: item.max });
    else if (hasMin) hint = t("number_min", { min: item.min });
    else if (hasMax) hint = t("number_max", { max: item.max });
    const raw = this.draft.raw[item.name];
    const onInput = (e, quiet) => {
      const text = e.target.value.trim().replace(",", ".");
      if (text === "") {
        delete this.draft.raw[item.name];
        this.setValue(item, undefined, { rerender: false, quiet });
        return;
      }
      const num = Number(text);
      if (Number.isFinite(num) && !e.target.validity.badInput) {
        delete this.draft.raw[item.name];
        this.setValue(item, num, { rerender: false, quiet });
      } else {
        this.draft.raw[item.name] = text;
        this.setValue(item, undefined, { rerender: false, quiet });
      }
    };
    return h(
      "div",
      { class: "number" },
      h("input", {
        type: "number",
        inputmode: "decimal",
        step: "any",
        class: "input input-number",
        "aria-labelledby": labelId,
        min: hasMin ? item.min : null,
        max: hasMax ? item.max : null,
        value: raw !== undefined ? raw : typeof ans.value === "number" ? String(ans.value) : "",
        oninput: (e) => onInput(e, true),
        onchange: (e) => onInput(e, false),
      }),
      hint ? h("p", { class: "muted small" }, hint) : null,
    );
  }

  durationInput(item, ans, labelId) {
    const raw = this.draft.raw[item.name];
    const input = h("input", {
      type: "text",
      inputmode: "numeric",
      autocomplete: "off",
      class: "input input-duration",
      placeholder: t("duration_hint"),
      "aria-labelledby": labelId,
      value: raw !== undefined ? raw : typeof ans.value === "number" ? formatDuration(ans.value) : "",
    });
    const apply = (quiet) => {
      const text = input.value.trim();
      if (text === "") {
        delete this.draft.raw[item.name];
        this.setValue(item, undefined, { rerender: false, quiet });
        return;
      }
      const s = parseDuration(text);
      if (Number.isFinite(s)) {
        delete this.draft.raw[item.name];
        this.setValue(item, s, { rerender: false, quiet });
      } else {
        this.draft.raw[item.name] = text;
        this.setValue(item, undefined, { rerender: false, quiet });
      }
    };
    input.addEventListener("input", () => apply(true));
    input.addEventListener("change", () => {
      apply(false);
      const v = (this.draft.answers[item.name] || {}).value;
      if (typeof v === "number") input.value = formatDuration(v);
    });
    const sw = this.draft.stopwatches[item.name] || { start: null, acc: 0 };
    const display = h("output", { class: "sw-display", "aria-live": "off" }, "0:00.0");
    const startBtn = h("button", { type: "button", class: "btn sw-start" }, t("sw_start"));
    const stopBtn = h("button", { type: "button", class: "btn btn-primary sw-stop" }, t("sw_stop"));
    const resetBtn = h("button", { type: "button", class: "btn btn-ghost sw-reset" }, t("sw_reset"));
    let tick = null;
    const elapsed = () => (sw.acc || 0) + (sw.start ? Date.now() - sw.start : 0);
    const paint = () => {
      const ms = elapsed();
      const s = Math.floor(ms / 1000);
      display.textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}.${Math.floor((ms % 1000) / 100)}`;
      startBtn.disabled = Boolean(sw.start);
      stopBtn.disabled = !sw.start;
      resetBtn.disabled = !sw.start && !sw.acc;
    };
    const run = () => {
      clearInterval(tick);
      tick = sw.start ? setInterval(paint, 100) : null;
      paint();
    };
    const persist = () => {
      this.draft.stopwatches[item.name] = { ...sw };
      this.saveNow();
    };
    startBtn.addEventListener("click", () => {
      sw.start = Date.now();
      persist();
      run();
    });
    stopBtn.addEventListener("click", () => {
      if (!sw.start) return;
      sw.acc = elapsed();
      sw.start = null;
      persist();
      run();
      const seconds = Math.round(sw.acc / 1000);
      input.value = formatDuration(seconds);
      delete this.draft.raw[item.name];
      this.setValue(item, seconds, { rerender: false });
    });
    resetBtn.addEventListener("click", () => {
      sw.start = null;
      sw.acc = 0;
      persist();
      run();
    });
    this.cleanups.push(() => clearInterval(tick));
    run();
    const hint = [];
    if (typeof item.target_s === "number") hint.push(`≤ ${formatDuration(item.target_s)}`);
    return h(
      "div",
      { class: "duration" },
      h("div", { class: "duration-row" }, input, hint.length ? h("span", { class: "muted small" }, hint.join(" ")) : null),
      h(
        "div",
        { class: "stopwatch", role: "group", "aria-label": t("stopwatch") },
        h("span", { class: "sw-label muted small" }, t("stopwatch")),
        display,
        h("div", { class: "sw-buttons" }, startBtn, stopBtn, resetBtn),
      ),
    );
  }

  textInput(item, ans, labelId) {
    const max = maxLength(item);
    const left = h("p", { class: "muted small counter" });
    const area = h("textarea", {
      class: "input textarea",
      rows: "3",
      maxlength: String(max),
      "aria-labelledby": labelId,
      value: typeof ans.value === "string" ? ans.value : "",
    });
    const paint = () => {
      left.textContent = t("text_left", { n: max - area.value.length });
    };
    area.addEventListener("input", () => {
      paint();
      this.setValue(item, area.value === "" ? undefined : area.value, { rerender: false, quiet: true });
    });
    area.addEventListener("change", () => this.setValue(item, area.value === "" ? undefined : area.value, { rerender: false }));
    paint();
    return h("div", { class: "text" }, area, left);
  }

  photoInput(item) {
    const ids = this.draft.photos[item.name] || [];
    const max = maxPhotos(item);
    const min = Math.max(1, minPhotos(item));
    const grid = h("div", { class: "thumbs" });
    ids.forEach((pid, i) => {
      if (this.isRemotePhoto(pid)) {
        // On the server already (a returned audit's): kept by its evidence id, bytes not needed.
        grid.append(
          h(
            "div",
            { class: "thumb thumb-remote", dataset: { photo: pid }, role: "img", "aria-label": t("photo_uploaded_label", { i: i + 1 }) },
            h("span", { class: "thumb-uploaded" }, checkIcon(), h("span", {}, t("photo_uploaded"))),
            h(
              "button",
              { type: "button", class: "thumb-remove", "aria-label": t("photo_remove", { i: i + 1 }), onclick: () => this.removePhoto(item, pid) },
              "×",
            ),
          ),
        );
        return;
      }
      const img = h("img", { alt: "", class: "thumb-img", width: "96", height: "96" });
      this.thumbnail(pid).then((url) => {
        if (url) img.src = url;
      });
      grid.append(
        h(
          "div",
          { class: "thumb", dataset: { photo: pid } },
          img,
          h(
            "button",
            { type: "button", class: "thumb-remove", "aria-label": t("photo_remove", { i: i + 1 }), onclick: () => this.removePhoto(item, pid) },
            "×",
          ),
        ),
      );
    });
    const status = h("p", { class: "muted small photo-status", "aria-live": "polite" }, t("photo_count", { n: ids.length, min: isRequired(item) ? min : 0, max }));
    const full = ids.length >= max;
    const input = h("input", {
      type: "file",
      accept: "image/*",
      capture: "environment",
      class: "visually-hidden photo-file",
      disabled: full,
      onchange: (e) => this.addPhotos(item, e.target, status),
    });
    return h(
      "div",
      { class: "photo" },
      grid,
      h("label", { class: `btn btn-photo${full ? " disabled" : ""}`, "aria-disabled": full ? "true" : null }, input, cameraIcon(), t("photo_add")),
      status,
    );
  }

  async thumbnail(pid) {
    if (this.thumbUrls.has(pid)) return this.thumbUrls.get(pid);
    const rec = await db.get("photos", pid).catch(() => null);
    if (!rec || !rec.blob) return null;
    const url = URL.createObjectURL(rec.blob);
    this.thumbUrls.set(pid, url);
    return url;
  }

  async addPhotos(item, input, status) {
    const files = [...(input.files || [])];
    input.value = ""; // the same file can be chosen again
    if (!files.length) return;
    const max = maxPhotos(item);
    status.textContent = t("photo_processing");
    for (const file of files) {
      const have = (this.draft.photos[item.name] || []).length;
      if (have >= max) {
        status.textContent = t("photo_too_many", { max });
        break;
      }
      try {
        const { blob, width, height } = await downscale(file);
        const id = newId();
        await db.put("photos", {
          id,
          visit_id: this.visit.id,
          item: item.name,
          blob,
          width,
          height,
          created_at: new Date().toISOString(),
        });
        const list = (this.draft.photos[item.name] || []).concat(id);
        this.draft.photos[item.name] = list;
      } catch (e) {
        console.error("photo", e);
        status.textContent = t("photo_failed");
        return;
      }
    }
    this.changed(item, { rerender: true });
  }

  removePhoto(item, pid) {
    this.draft.photos[item.name] = (this.draft.photos[item.name] || []).filter((x) => x !== pid);
    if (this.isRemotePhoto(pid)) this.draft.remote_photos = this.draft.remote_photos.filter((x) => x !== pid);
    else db.del("photos", pid).catch(() => {});
    const url = this.thumbUrls.get(pid);
    if (url) URL.revokeObjectURL(url);
    this.thumbUrls.delete(pid);
    this.changed(item, { rerender: true });
  }

  badgeField(item, ans) {
    const id = domId("badge");
    return h(
      "div",
      { class: "field badge-field" },
      h("label", { for: id, class: "small" }, t("badge")),
      h("input", {
        id,
        type: "text",
        class: "input input-badge",
        autocomplete: "off",
        autocapitalize: "characters",
        maxlength: "32",
        placeholder: t("badge_placeholder"),
        value: ans.badge || "",
        oninput: (e) => this.setExtra(item, "badge", e.target.value),
      }),
    );
  }

  commentField(item, ans) {
    const id = domId("cmt");
    return h(
      "details",
      { class: "comment", open: Boolean(ans.comment) },
      h("summary", {}, t("add_comment")),
      h("label", { for: id, class: "visually-hidden" }, t("comment")),
      h("textarea", {
        id,
        class: "input textarea comment-input",
        rows: "2",
        maxlength: "2000",
        value: ans.comment || "",
        oninput: (e) => this.setExtra(item, "comment", e.target.value),
      }),
    );
  }

  // ---------------------------------------------------------------- changes

  answerOf(item) {
    if (!this.draft.answers[item.name]) this.draft.answers[item.name] = {};
    return this.draft.answers[item.name];
  }

  setValue(item, value, opts = {}) {
    const ans = this.answerOf(item);
    if (value === undefined) delete ans.value;
    else ans.value = value;
    delete ans.na;
    this.changed(item, { rerender: false, ...opts });
  }

  setNa(item, on) {
    const ans = this.answerOf(item);
    if (on) {
      ans.na = true;
      delete ans.value;
      delete this.draft.raw[item.name];
    } else {
      delete ans.na;
    }
    this.changed(item, { rerender: true });
  }

  setExtra(item, key, value) {
    const ans = this.answerOf(item);
    if (value) ans[key] = value;
    else delete ans[key];
    this.saveSoon(); // comments and badges never change what is shown or required
  }

  changed(item, { rerender = false, quiet = false } = {}) {
    // A fresh answer replaces the server's complaint about it.
    if (this.draft.server_errors) {
      this.draft.server_errors = this.draft.server_errors.filter((e) => itemOfField(e.field) !== item.name);
      if (!this.draft.server_errors.length) this.draft.server_errors = null;
    }
    const { cleared } = applyVisibility(this.def, this.draft);
    for (const name of cleared) delete this.draft.raw[name];
    const redo = new Set(cleared);
    if (rerender) redo.add(item.name);
    for (const name of redo) this.rerenderItem(name);
    this.refresh({ quietItem: quiet ? item.name : null });
    if (quiet) this.saveSoon();
    else this.saveNow();
  }

  rerenderItem(name) {
    const old = this.itemEls.get(name);
    if (!old) return;
    const entry = allItems(this.def).find((x) => x.item.name === name);
    const number = old.querySelector(".item-no") ? old.querySelector(".item-no").textContent : "";
    const fresh = this.renderItem(entry.item, number);
    const focusedClass = document.activeElement && old.contains(document.activeElement) ? document.activeElement.className : null;
    old.replaceWith(fresh);
    this.itemEls.set(name, fresh);
    if (focusedClass) {
      const target = fresh.querySelector(`.${focusedClass.split(" ").filter(Boolean).join(".")}`);
      if (target) target.focus();
    }
  }

  /** Visibility, progress and error messages from the draft as it is now. */
  refresh({ quietItem = null } = {}) {
    const { visible } = applyVisibility(this.def, this.draft);
    const serverByItem = new Map();
    for (const e of this.draft.server_errors || []) {
      const name = itemOfField(e.field);
      if (name && !serverByItem.has(name)) serverByItem.set(name, plainMessage(e));
    }
    for (const [name, el] of this.itemEls) {
      const shown = visible.has(name);
      el.hidden = !shown;
      const errEl = el.querySelector(".err");
      if (!shown) {
        errEl.textContent = "";
        el.classList.remove("has-error");
        continue;
      }
      const item = allItems(this.def).find((x) => x.item.name === name).item;
      let msg = serverByItem.get(name) || "";
      if (!msg) {
        const e = checkItem(item, this.draft, this.draft.raw);
        if (e && (this.draft.submit_tried || FORMAT_ERRORS.has(e[0]))) msg = t(e[0], e[1]);
        // While typing, no new complaint (it comes on change); a fixed one does go away.
        if (msg && quietItem === name && !errEl.textContent) msg = "";
      }
      errEl.textContent = msg;
      el.classList.toggle("has-error", Boolean(msg));
      el.classList.toggle("answered", isAnswered(item, this.draft));
    }
    if (this.progressText) {
      const p = progress(this.def, this.draft);
      this.progressText.textContent = t("progress", { a: p.answered, r: p.required, v: p.visible });
      this.progressTrack.setAttribute("aria-valuemax", String(p.required));
      this.progressTrack.setAttribute("aria-valuenow", String(p.answered));
      this.progressFill.style.width = `${p.required ? Math.round((p.answered / p.required) * 100) : 100}%`;
      this.progressText.dataset.answered = String(p.answered);
      this.progressText.dataset.required = String(p.required);
      this.progressText.dataset.visible = String(p.visible);
    }
    if (this.page === "review" && this.reviewBody) this.paintReview();
  }

  // ---------------------------------------------------------------- review and submit

  renderReview() {
    this.reviewBody = h("div", { class: "review-body" });
    const consent = h("input", {
      type: "checkbox",
      id: "location-consent",
      checked: Boolean(this.draft.location_consent),
      onchange: (e) => this.setConsent(e.target.checked),
    });
    this.locationStatus = h("p", { class: "muted small", id: "location-status", "aria-live": "polite" });
    this.submitBtn = h("button", { class: "btn btn-primary", type: "button", id: "submit-btn", onclick: () => this.submit() }, this.submitLabel());
    this.submitMsg = h("p", { class: "err", role: "alert", id: "submit-msg" });
    const secs = sections(this.def);
    return h(
      "div",
      { class: "visit review" },
      this.header(),
      h("h2", { class: "section-title" }, t("summary_title")),
      this.reviewBody,
      h(
        "div",
        { class: "card" },
        h("h3", {}, t("location_title")),
        h("label", { class: "toggle", for: "location-consent" }, consent, h("span", {}, t("location_consent"))),
        this.locationStatus,
      ),
      this.submitMsg,
      h(
        "nav",
        { class: "pager" },
        h("button", { class: "btn", type: "button", id: "prev-btn", onclick: () => this.go(`#/visit/${this.visit.id}/s/${secs.length - 1}`) }, "‹ ", t("previous")),
        this.submitBtn,
      ),
    );
  }

  paintReview() {
    const errors = checkAll(this.def, this.draft, this.draft.raw);
    const { visible } = applyVisibility(this.def, this.draft);
    const missing = [];
    for (const { item, section } of allItems(this.def)) {
      if (!visible.has(item.name)) continue;
      const serverMsg = (this.draft.server_errors || []).find((e) => itemOfField(e.field) === item.name);
      if (errors[item.name] || serverMsg) {
        missing.push({ item, section, msg: serverMsg ? plainMessage(serverMsg) : t(errors[item.name][0], errors[item.name][1]) });
      }
    }
    const est = estimateScore(this.def, this.draft);
    clear(this.reviewBody);
    this.reviewBody.append(
      h(
        "div",
        { class: "card", id: "missing" },
        h("h3", {}, t("missing_title")),
        missing.length
          ? h(
              "ul",
              { class: "missing-list" },
              missing.map(({ item, section, msg }) =>
                h(
                  "li",
                  { dataset: { item: item.name } },
                  h(
                    "a",
                    { href: `#/visit/${this.visit.id}/s/${section}`, class: "missing-link" },
                    tl(item.label) || item.name,
                  ),
                  h("span", { class: "muted small" }, ` — ${msg}`),
                ),
              ),
            )
          : h("p", { class: "ok" }, t("missing_none")),
      ),
      h(
        "div",
        { class: "card estimate", id: "estimate" },
        h("h3", {}, t("estimate_title")),
        h("p", { class: "estimate-value" }, est.score === null ? t("estimate_none") : t("estimate_value", { score: est.score })),
        est.criticalFailed ? h("p", { class: "warn" }, t("estimate_critical")) : null,
        h("p", { class: "muted small" }, t("estimate_note")),
      ),
    );
    this.paintLocation();
  }

  paintLocation() {
    if (!this.locationStatus) return;
    const d = this.draft;
    if (!d.location_consent) this.locationStatus.textContent = t("location_none");
    else if (d.location) this.locationStatus.textContent = t("location_ok", { m: Math.round(d.location.accuracy_m) });
    else if (d.location_error) this.locationStatus.textContent = t("location_denied", { detail: d.location_error });
    else this.locationStatus.textContent = t("location_getting");
  }

  setConsent(on) {
    this.draft.location_consent = on;
    this.draft.location = null;
    this.draft.location_error = null;
    this.saveNow();
    this.paintLocation();
    if (on) this.locate();
  }

  locate() {
    if (!("geolocation" in navigator)) {
      this.draft.location_error = "not supported";
      this.paintLocation();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      navigator.geolocation.getCurrentPosition(
        (pos) => {
          if (this.draft.location_consent) {
            this.draft.location = {
              lat: Math.round(pos.coords.latitude * 1e6) / 1e6,
              lon: Math.round(pos.coords.longitude * 1e6) / 1e6,
              accuracy_m: Math.round((pos.coords.accuracy || 0) * 10) / 10,
            };
            this.draft.location_error = null;
            this.saveNow();
          }
          this.paintLocation();
          resolve();
        },
        (err) => {
          this.draft.location_error = err && err.message ? err.message : "error";
          this.paintLocation();
          resolve();
        },
        { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 },
      );
    });
  }

  submitLabel() {
    return this.draft.audit_id ? t("resubmit") : t("submit");
  }

  async submit() {
    if (this.submitting) return;
    const errors = checkAll(this.def, this.draft, this.draft.raw);
    if (Object.keys(errors).length) {
      this.draft.submit_tried = true;
      this.saveNow();
      this.submitMsg.textContent = t("submit_has_errors");
      this.refresh();
      return;
    }
    this.submitting = true;
    this.submitBtn.disabled = true;
    this.submitBtn.textContent = t("submitting");
    try {
      await this.flush();
      const body = {
        started_at: this.draft.started_at,
        // A correction keeps the visit's own end; a new visit ends now.
        ended_at: this.draft.ended_at || new Date().toISOString(),
        location: this.draft.location_consent && this.draft.location ? this.draft.location : null,
        answers: buildAnswers(this.def, this.draft),
      };
      if (Number.isInteger(this.draft.counter_id)) body.counter_id = this.draft.counter_id;
      const snapshot = structuredClone(this.draft);
      snapshot.server_errors = null;
      snapshot.submit_tried = false;
      this.closed = true; // from here on the draft belongs to the outbox
      clearTimeout(this.saveTimer);
      await this.submitFn(body, snapshot);
    } catch (e) {
      this.closed = false;
      this.submitting = false;
      this.submitBtn.disabled = false;
      this.submitBtn.textContent = this.submitLabel();
      this.submitMsg.textContent = t("unknown_error", { detail: e && e.message });
      throw e;
    }
  }
}
