// UI strings in zh-CN and en. Checklist texts come from the definition ({zh, en} objects).
// Plurals: a key may hold {one, other}; t() picks by params.n.

const STRINGS = {
  en: {
    app_name: "AuditLens",
    app_tagline: "Mystery shopper",
    lang_switch: "中文",
    lang_switch_label: "切换到中文",
    login_title: "Sign in",
    username: "Username",
    password: "Password",
    sign_in: "Sign in",
    signing_in: "Signing in…",
    login_again: "Your session has ended. Sign in again: your drafts and queued submissions are kept.",
    login_failed: "Wrong username or password.",
    login_rate_limited: "Too many attempts. Try again in {s} s.",
    login_offline: "No connection. Signing in needs the network.",
    login_error: "Sign-in failed: {detail}",
    sign_out: "Sign out",
    sign_out_confirm: "Sign out? Drafts and queued submissions stay on this phone.",
    my_visits: "My visits",
    refresh: "Refresh",
    refreshing: "Refreshing…",
    offline_banner: "Offline: showing saved data.",
    saved_at: "Updated {time}",
    no_visits: "No visits assigned to you.",
    visits_load_failed: "Could not load visits: {detail}",
    window: "Window",
    status_assigned: "Assigned",
    status_scheduled: "Scheduled",
    status_in_progress: "In progress",
    status_submitted: "Submitted",
    status_in_review: "In review",
    status_approved: "Approved",
    status_returned: "Returned",
    status_rejected: "Rejected",
    status_cancelled: "Cancelled",
    status_expired: "Expired",
    local_draft: "Draft on this phone",
    local_queued: "Queued",
    local_sending: "Sending…",
    local_failed: "Failed",
    local_sent: "Sent",
    open_visit: "Open",
    continue_visit: "Continue",
    checklist_missing: "The checklist is not on this phone yet. Connect once to download it.",
    visit_cancelled: "This visit was cancelled by your supervisor.",
    back: "Back",
    back_to_visits: "Back to visits",
    section_of: "Section {i} of {n}",
    progress: "Required {a}/{r} · {v} items shown",
    previous: "Previous",
    next: "Next",
    finish: "Finish",
    required: "Required",
    critical: "Critical",
    yes: "Yes",
    no: "No",
    na: "Not applicable",
    comment: "Comment",
    add_comment: "Add a comment",
    badge: "Badge number (optional)",
    badge_placeholder: "e.g. SH-0107",
    help: "Help",
    number_range: "Between {min} and {max}",
    number_min: "At least {min}",
    number_max: "At most {max}",
    duration_hint: "mm:ss",
    stopwatch: "Stopwatch",
    sw_start: "Start",
    sw_stop: "Stop",
    sw_reset: "Reset",
    photo_add: "Take or choose a photo",
    photo_count: "{n} of {min}–{max} photos",
    photo_remove: "Remove photo {i}",
    photo_processing: "Processing photo…",
    photo_failed: "This image could not be read.",
    photo_too_many: "At most {max} photos.",
    text_left: "{n} characters left",
    err_required: "Required: answer this item or mark it not applicable.",
    err_required_no_na: "Required: answer this item.",
    err_number: "Enter a number.",
    err_number_min: "Must be at least {min}.",
    err_number_max: "Must be at most {max}.",
    err_duration: "Enter minutes and seconds as mm:ss (e.g. 2:15).",
    err_duration_max: "Must be at most {max}.",
    err_photos_min: "Add at least {min} photo(s).",
    err_photos_max: "At most {max} photos.",
    err_text_long: "At most {max} characters.",
    err_time: "Enter a time as HH:MM.",
    summary_title: "Review and submit",
    missing_title: "Still to answer",
    missing_none: "All required items are answered.",
    go_to: "Go to",
    location_title: "Location",
    location_consent: "Record my location with this audit (GPS)",
    location_getting: "Getting location…",
    location_ok: "Location recorded (±{m} m).",
    location_denied: "Location unavailable: {detail}. The audit is sent without it.",
    location_none: "No location is sent.",
    estimate_title: "Score estimate",
    estimate_note: "Estimate only, calculated on this phone. The server calculates the official score.",
    estimate_value: "≈ {score}",
    estimate_critical: "A critical item failed",
    estimate_none: "Nothing scored yet",
    started: "Started {time}",
    submit: "Submit",
    submitting: "Saving…",
    submit_has_errors: "Fix the marked items first.",
    submit_queued: "Saved. It will be sent as soon as there is a connection.",
    submit_sent: "Submitted.",
    server_errors: "The server did not accept the submission. Fix the marked items and submit again.",
    server_error_general: "Server: {detail}",
    queued_readonly: "This visit is submitted from this phone and waiting to be sent. It can no longer be edited.",
    sent_readonly: "This visit has been submitted.",
    server_score: "Server score: {score} ({passed})",
    passed: "passed",
    not_passed: "not passed",
    q_waiting: { one: "1 submission waiting for connection", other: "{n} submissions waiting for connection" },
    q_sending: { one: "Sending 1 submission…", other: "Sending {n} submissions…" },
    q_retry: { one: "1 submission queued, retrying {when}", other: "{n} submissions queued, retrying {when}" },
    q_login: { one: "Sign in to send 1 queued submission", other: "Sign in to send {n} queued submissions" },
    q_failed: { one: "1 submission failed", other: "{n} submissions failed" },
    q_retry_now: "Retry now",
    q_details: "Details",
    q_title: "Outbox",
    q_empty: "Nothing waiting to be sent.",
    q_attempts: "Attempts: {n}",
    q_last_error: "Last error: {detail}",
    q_failed_note: "The server refused this submission; it will not be retried. Tell your supervisor.",
    q_discard: "Remove",
    q_discard_confirm: "Remove this failed submission from the phone? Its answers will be lost.",
    q_photos: "Photos uploaded: {done}/{total}",
    in_seconds: "in {s} s",
    soon: "soon",
    offline: "Offline",
    online: "Online",
    update_ready: "A new version is ready.",
    reload: "Reload",
    storage_error: "This phone's storage is not available: {detail}",
    network_error: "No connection.",
    unknown_error: "Unexpected error: {detail}",
    returned_title: "Returned for correction",
    returned_by: "Returned by {by}, {time}",
    returned_comment: "Reviewer's comment",
    returned_hint: "Your previous answers are filled in. Correct them and resubmit.",
    returned_missing: "This returned audit is not on this phone yet. Connect once to download it.",
    returned_load_failed: "Could not load the returned audit: {detail}",
    correct_visit: "Correct",
    resubmit: "Resubmit",
    resubmission: "Resubmission",
    photo_uploaded: "Already uploaded",
    photo_uploaded_label: "Photo {i}, already uploaded",
    counter_label: "Which counter served you?",
    counter_none: "Not specified",
    counter_help: "Optional. Used to attribute counter items to the staff on duty.",
  },
  "zh-CN": {
    app_name: "AuditLens",
    app_tagline: "神秘访客",
    lang_switch: "EN",
    lang_switch_label: "Switch to English",
    login_title: "登录",
    username: "用户名",
    password: "密码",
    sign_in: "登录",
    signing_in: "正在登录…",
    login_again: "登录已过期，请重新登录：草稿和已排队的提交都会保留。",
    login_failed: "用户名或密码错误。",
    login_rate_limited: "尝试次数过多，请 {s} 秒后再试。",
    login_offline: "无网络连接，登录需要联网。",
    login_error: "登录失败：{detail}",
    sign_out: "退出登录",
    sign_out_confirm: "确定退出？草稿和已排队的提交会保留在本机。",
    my_visits: "我的暗访任务",
    refresh: "刷新",
    refreshing: "正在刷新…",
    offline_banner: "离线：显示已保存的数据。",
    saved_at: "更新于 {time}",
    no_visits: "暂无分配给您的暗访任务。",
    visits_load_failed: "无法加载任务：{detail}",
    window: "时间窗口",
    status_assigned: "已分配",
    status_scheduled: "已排期",
    status_in_progress: "进行中",
    status_submitted: "已提交",
    status_in_review: "审核中",
    status_approved: "已通过",
    status_returned: "已退回",
    status_rejected: "已驳回",
    status_cancelled: "已取消",
    status_expired: "已过期",
    local_draft: "本机草稿",
    local_queued: "已排队",
    local_sending: "正在发送…",
    local_failed: "发送失败",
    local_sent: "已发送",
    open_visit: "打开",
    continue_visit: "继续",
    checklist_missing: "本机尚未下载该检查表，请联网一次以下载。",
    visit_cancelled: "该暗访任务已被主管取消。",
    back: "返回",
    back_to_visits: "返回任务列表",
    section_of: "第 {i} 部分，共 {n} 部分",
    progress: "必答 {a}/{r} · 显示 {v} 项",
    previous: "上一部分",
    next: "下一部分",
    finish: "完成",
    required: "必答",
    critical: "关键项",
    yes: "是",
    no: "否",
    na: "不适用",
    comment: "备注",
    add_comment: "添加备注",
    badge: "工号牌号码（选填）",
    badge_placeholder: "例如 SH-0107",
    help: "说明",
    number_range: "{min} 至 {max} 之间",
    number_min: "至少 {min}",
    number_max: "至多 {max}",
    duration_hint: "分:秒",
    stopwatch: "秒表",
    sw_start: "开始",
    sw_stop: "停止",
    sw_reset: "重置",
    photo_add: "拍照或选择照片",
    photo_count: "{n} 张（需 {min}–{max} 张）",
    photo_remove: "删除第 {i} 张照片",
    photo_processing: "正在处理照片…",
    photo_failed: "无法读取该图片。",
    photo_too_many: "最多 {max} 张照片。",
    text_left: "还可输入 {n} 字",
    err_required: "必答：请作答或标记为不适用。",
    err_required_no_na: "必答：请作答。",
    err_number: "请输入数字。",
    err_number_min: "不能小于 {min}。",
    err_number_max: "不能大于 {max}。",
    err_duration: "请按 分:秒 输入（例如 2:15）。",
    err_duration_max: "不能超过 {max}。",
    err_photos_min: "至少需要 {min} 张照片。",
    err_photos_max: "最多 {max} 张照片。",
    err_text_long: "最多 {max} 个字符。",
    err_time: "请按 时:分 输入时间。",
    summary_title: "检查并提交",
    missing_title: "尚未作答",
    missing_none: "所有必答项均已作答。",
    go_to: "前往",
    location_title: "位置",
    location_consent: "随本次暗访记录我的位置（GPS）",
    location_getting: "正在获取位置…",
    location_ok: "已记录位置（±{m} 米）。",
    location_denied: "无法获取位置：{detail}。提交将不含位置。",
    location_none: "不发送位置。",
    estimate_title: "预估得分",
    estimate_note: "仅为本机预估，正式得分以服务器计算为准。",
    estimate_value: "≈ {score}",
    estimate_critical: "有关键项未通过",
    estimate_none: "尚无计分项",
    started: "开始于 {time}",
    submit: "提交",
    submitting: "正在保存…",
    submit_has_errors: "请先修正标记的项目。",
    submit_queued: "已保存，联网后将自动发送。",
    submit_sent: "已提交。",
    server_errors: "服务器未接受本次提交，请修正标记的项目后重新提交。",
    server_error_general: "服务器：{detail}",
    queued_readonly: "本次暗访已在本机提交，正在等待发送，不能再修改。",
    sent_readonly: "本次暗访已提交。",
    server_score: "服务器得分：{score}（{passed}）",
    passed: "合格",
    not_passed: "不合格",
    q_waiting: { other: "{n} 份提交已排队，等待网络连接" },
    q_sending: { other: "正在发送 {n} 份提交…" },
    q_retry: { other: "{n} 份提交已排队，{when}重试" },
    q_login: { other: "请登录以发送 {n} 份已排队的提交" },
    q_failed: { other: "{n} 份提交发送失败" },
    q_retry_now: "立即重试",
    q_details: "详情",
    q_title: "待发送",
    q_empty: "没有待发送的内容。",
    q_attempts: "尝试次数：{n}",
    q_last_error: "最近错误：{detail}",
    q_failed_note: "服务器拒绝了此提交，不会再重试。请告知您的主管。",
    q_discard: "删除",
    q_discard_confirm: "从本机删除这份失败的提交？其中的答案将丢失。",
    q_photos: "已上传照片：{done}/{total}",
    in_seconds: "{s} 秒后",
    soon: "稍后",
    offline: "离线",
    online: "在线",
    update_ready: "新版本已就绪。",
    reload: "重新加载",
    storage_error: "本机存储不可用：{detail}",
    network_error: "无网络连接。",
    unknown_error: "意外错误：{detail}",
    returned_title: "已退回修改",
    returned_by: "{by} 于 {time} 退回",
    returned_comment: "审核意见",
    returned_hint: "已填入您之前的答案，请修改后重新提交。",
    returned_missing: "本机尚未下载这份退回的暗访，请联网一次以下载。",
    returned_load_failed: "无法加载退回的暗访：{detail}",
    correct_visit: "修改",
    resubmit: "重新提交",
    resubmission: "重新提交",
    photo_uploaded: "已上传",
    photo_uploaded_label: "第 {i} 张照片，已上传",
    counter_label: "为您办理的柜台",
    counter_none: "未指定",
    counter_help: "选填，用于将柜台相关项目归属到当班员工。",
  },
};

export const LANGS = ["zh-CN", "en"];
const LANG_KEY = "al.lang";
let current = null;

function detect() {
  const saved = safeGet(LANG_KEY);
  if (saved && LANGS.includes(saved)) return saved;
  const prefs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"];
  for (const l of prefs) {
    const low = String(l).toLowerCase();
    if (low.startsWith("zh")) return "zh-CN";
    if (low.startsWith("en")) return "en";
  }
  return "en";
}

function safeGet(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

export function lang() {
  if (!current) current = detect();
  return current;
}

export function setLang(value) {
  current = LANGS.includes(value) ? value : "en";
  try {
    localStorage.setItem(LANG_KEY, current);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
  document.documentElement.lang = current;
}

/** A UI string, with {name} placeholders filled from params. */
export function t(key, params = {}) {
  const table = STRINGS[lang()];
  let s = table[key] ?? STRINGS.en[key] ?? key;
  if (typeof s === "object") {
    s = params.n === 1 && s.one ? s.one : s.other;
  }
  return s.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

/** A checklist text: {zh, en} object (or a plain string) in the current language. */
export function tl(text) {
  if (text == null) return "";
  if (typeof text === "string") return text;
  const key = lang() === "zh-CN" ? "zh" : "en";
  return text[key] || text[lang()] || text.zh || text.en || Object.values(text).find((v) => typeof v === "string") || "";
}

export function formatDateTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return new Intl.DateTimeFormat(lang(), { dateStyle: "medium", timeStyle: "short" }).format(d);
}

export function formatTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return new Intl.DateTimeFormat(lang(), { timeStyle: "short" }).format(d);
}

export const _strings = STRINGS; // for the consistency check in tests
