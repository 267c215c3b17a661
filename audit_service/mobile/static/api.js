// The HTTP client: bearer tokens in localStorage, one refresh attempt on 401, and errors that
// tell the caller whether to retry (network, 5xx, 429) or not.

export const API_BASE = new URL("../api/v1/", import.meta.url).href;
const TOKENS_KEY = "al.tokens";

export class NetworkError extends Error {
  constructor(cause) {
    super(cause && cause.message ? cause.message : "network error");
    this.name = "NetworkError";
  }
}

/** The session is over (refresh refused): the user must sign in again. */
export class AuthRequired extends Error {
  constructor() {
    super("sign-in required");
    this.name = "AuthRequired";
  }
}

export class ApiError extends Error {
  constructor(status, body, headers) {
    super(describe(body, status));
    this.name = "ApiError";
    this.status = status;
    this.body = body || {};
    this.code = this.body.error || "";
    const ra = headers && headers.get("Retry-After");
    this.retryAfterS = ra && /^\d+$/.test(ra) ? Number(ra) : null;
  }

  get retryable() {
    return this.status >= 500 || this.status === 429 || this.status === 408;
  }

  /** [{field, message}] from the service's error envelope. */
  get fields() {
    if (Array.isArray(this.body.fields)) return this.body.fields;
    if (this.body.field) return [{ field: this.body.field, message: describe(this.body, this.status) }];
    return [];
  }
}

function describe(body, status) {
  if (!body) return `HTTP ${status}`;
  if (typeof body.detail === "string") return body.detail;
  if (body.detail != null) return JSON.stringify(body.detail);
  return body.error || `HTTP ${status}`;
}

// ------------------------------------------------------------------ tokens

export function getTokens() {
  try {
    return JSON.parse(localStorage.getItem(TOKENS_KEY) || "null");
  } catch {
    return null;
  }
}

export function saveTokens(pair) {
  const value = {
    access_token: pair.access_token,
    refresh_token: pair.refresh_token,
    expires_at: Date.now() + (Number(pair.expires_in) || 0) * 1000,
  };
  localStorage.setItem(TOKENS_KEY, JSON.stringify(value));
  return value;
}

export function clearTokens() {
  localStorage.removeItem(TOKENS_KEY);
}

export function isSignedIn() {
  const tok = getTokens();
  return Boolean(tok && (tok.access_token || tok.refresh_token));
}

const authListeners = new Set();
/** Called when the session ends and a sign-in is needed (drafts and queue are untouched). */
export function onAuthRequired(fn) {
  authListeners.add(fn);
}

// ------------------------------------------------------------------ requests

async function rawFetch(url, init, timeoutMs) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    return await fetch(url, { ...init, signal: ctl.signal, cache: "no-store", credentials: "same-origin" });
  } catch (e) {
    throw new NetworkError(e);
  } finally {
    clearTimeout(timer);
  }
}

async function parse(resp) {
  const type = resp.headers.get("content-type") || "";
  if (resp.status === 204) return null;
  if (type.includes("json")) {
    try {
      return await resp.json();
    } catch {
      return null;
    }
  }
  const text = await resp.text().catch(() => "");
  return text ? { detail: text.slice(0, 300) } : null;
}

let refreshing = null;

/** Swap the refresh token once for everyone waiting. Resolves true, or false if refused. */
function refreshTokens() {
  if (refreshing) return refreshing;
  refreshing = (async () => {
    const tok = getTokens();
    if (!tok || !tok.refresh_token) return false;
    const resp = await rawFetch(
      API_BASE + "auth/refresh",
      {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ refresh_token: tok.refresh_token }),
      },
      20000,
    );
    if (resp.ok) {
      saveTokens(await resp.json());
      return true;
    }
    if (resp.status >= 500 || resp.status === 429) {
      throw new ApiError(resp.status, await parse(resp), resp.headers);
    }
    return false; // 400/401/403/422: this refresh token is no good
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

function sessionEnded() {
  clearTokens();
  for (const fn of authListeners) {
    try {
      fn();
    } catch (e) {
      console.error(e);
    }
  }
  return new AuthRequired();
}

/**
 * Call the API. opts: method, json (body as JSON), form (FormData or URLSearchParams),
 * headers, auth (default true), timeoutMs. Resolves with the parsed body; throws
 * NetworkError, AuthRequired or ApiError (status, body, fields, retryable).
 * Resolves {status, body} instead when opts.full is set.
 */
export async function api(path, opts = {}) {
  const { method = "GET", json, form, headers = {}, auth = true, timeoutMs = 30000, full = false } = opts;
  const url = API_BASE + path.replace(/^\//, "");
  const build = () => {
    const h = { Accept: "application/json", ...headers };
    let body;
    if (json !== undefined) {
      h["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    } else if (form !== undefined) {
      body = form; // the browser sets the multipart / urlencoded content type
    }
    if (auth) {
      const tok = getTokens();
      if (tok && tok.access_token) h.Authorization = `Bearer ${tok.access_token}`;
    }
    return { method, headers: h, body };
  };

  if (auth && !isSignedIn()) throw sessionEnded();
  let resp = await rawFetch(url, build(), timeoutMs);
  if (resp.status === 401 && auth) {
    const ok = await refreshTokens();
    if (!ok) throw sessionEnded();
    resp = await rawFetch(url, build(), timeoutMs);
    if (resp.status === 401) throw sessionEnded();
  }
  const body = await parse(resp);
  if (!resp.ok) throw new ApiError(resp.status, body, resp.headers);
  return full ? { status: resp.status, body } : body;
}

export async function login(username, password) {
  const form = new URLSearchParams({ username, password });
  const pair = await api("auth/token", { method: "POST", form, auth: false });
  saveTokens(pair);
  return pair;
}

export async function logout() {
  try {
    if (isSignedIn()) await api("auth/logout", { method: "POST", timeoutMs: 8000 });
  } catch {
    /* offline or already expired: forgetting the tokens is what matters */
  }
  clearTokens();
}
