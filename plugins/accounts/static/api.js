// The one way accounts pages call the JSON API: same-origin cookies, the CSRF header on unsafe
// methods, a silent token refresh when the short-lived access token has expired, and errors
// turned into sentences that say what to do next.

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const REFRESH_PATH = "/api/v1/auth/refresh";

/** An API failure: the envelope's code and message plus what the page needs to react. */
export class ApiError extends Error {
  /**
   * @param {string} message readable text, already saying what to do next
   * @param {{status?: number, code?: string, details?: unknown, requestId?: string|null,
   *          retryAfter?: number|null, serverMessage?: string}} info
   */
  constructor(message, info = {}) {
    super(message);
    this.name = "ApiError";
    this.status = info.status ?? 0;
    this.code = info.code ?? "network_error";
    this.details = info.details;
    this.requestId = info.requestId ?? null;
    this.retryAfter = info.retryAfter ?? null;
    this.serverMessage = info.serverMessage ?? "";
  }
}

/** The double-submit CSRF token the server set in the readable `inv_csrf` cookie. */
export function csrfToken() {
  for (const part of document.cookie.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === "inv_csrf") return decodeURIComponent(rest.join("="));
  }
  return "";
}

/** The sign-in page address that brings the person back here afterwards. */
export function loginUrl(path = location.pathname + location.search) {
  return `/login?next=${encodeURIComponent(path)}`;
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date); null when absent. */
function retryAfterSeconds(response) {
  const value = response.headers.get("Retry-After");
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(1, Math.ceil(seconds));
  const when = Date.parse(value);
  return Number.isNaN(when) ? null : Math.max(1, Math.ceil((when - Date.now()) / 1000));
}

/** What to tell a person for an error code or status when the page has nothing better. */
function advice(status, code, serverMessage, requestId, retryAfter) {
  if (code === "csrf_failed") return "This page is out of date. Reload the page, then try again.";
  if (status === 401) return "You are not signed in any more. Sign in again, then retry.";
  if (status === 403) {
    return "Your account is not allowed to do this. Ask an administrator if you need access.";
  }
  if (status === 413) return "That is too large to upload. Choose a smaller file, then try again.";
  if (status === 429) {
    const wait = retryAfter ? `${retryAfter} s` : "a moment";
    return `Too many attempts. Wait ${wait}, then try again.`;
  }
  if (status >= 500) {
    const ref = requestId ? ` If it keeps happening, tell your administrator the reference ${requestId}.` : "";
    return `The server could not finish this. Try again in a moment.${ref}`;
  }
  if (!serverMessage) return `The request failed (${status}). Reload the page, then try again.`;
  const text = `${serverMessage.charAt(0).toUpperCase()}${serverMessage.slice(1)}`.replace(/\.?$/, ".");
  // Conflicts and missing things already say what to do ("…; ask another admin to do it").
  return status === 404 || status === 409 ? text : `${text} Correct it, then try again.`;
}

/** Turn a failed response into an ApiError carrying the envelope. */
async function toError(response) {
  const data = await response.json().catch(() => null);
  // The OAuth2 token endpoint answers in RFC 6749 form; everything else uses the envelope.
  const body = data?.error && typeof data.error === "object" ? data.error : {};
  const code = body.code ?? (typeof data?.error === "string" ? data.error : "http_error");
  const requestId = body.request_id ?? response.headers.get("X-Request-ID");
  const retryAfter = retryAfterSeconds(response);
  const message = advice(response.status, code, body.message, requestId, retryAfter);
  return new ApiError(message, {
    status: response.status, code, details: body.details, requestId, retryAfter,
    serverMessage: body.message ?? "",
  });
}

// 401 codes that are an answer about what was sent (a wrong current password), not a sign
// that the session is gone; they must reach the form instead of restarting the sign-in.
const NOT_SIGNED_OUT = new Set(["invalid_credentials", "wrong_password", "invalid_password"]);

/**
 * Whether a response means "sign in again" rather than a wrong answer in a form.
 * @returns {Promise<null|{code: string, reason: string}>} null when it does not
 */
async function signedOut(response) {
  if (response.status !== 401) return null;
  const data = await response.clone().json().catch(() => null);
  const code = data?.error?.code ?? "unauthorized";
  return NOT_SIGNED_OUT.has(code) ? null : { code, reason: data?.error?.details?.reason ?? "ended" };
}

let refreshing = null;

/**
 * Exchange the refresh cookie for a new access token, once for all concurrent callers: a
 * refresh token is single use, and presenting it twice would end the whole session.
 * Other tabs are serialised with a Web Lock where the browser has one.
 * @returns {Promise<boolean>} whether the session is usable again
 */
export function refreshSession() {
  if (!refreshing) {
    const run = async () => {
      const response = await fetch(REFRESH_PATH, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() },
      }).catch(() => null);
      return Boolean(response?.ok);
    };
    const locked = navigator.locks?.request ? navigator.locks.request("inv-refresh", run) : run();
    refreshing = locked.finally(() => { refreshing = null; });
  }
  return refreshing;
}

/**
 * Call the API.
 * @param {string} path e.g. "/api/v1/users"
 * @param {{method?: string, json?: unknown, body?: BodyInit, contentType?: string,
 *          query?: Record<string, string|number|boolean|null|undefined>,
 *          as?: "json"|"blob", signIn?: "redirect"|"throw"}} [options]
 *   `signIn: "throw"` hands a 401 back to the caller (sign-in forms, session checks) instead
 *   of sending the browser to the sign-in page.
 * @returns {Promise<any>} the parsed JSON (or Blob), null for 204
 */
export async function api(path, options = {}) {
  const { method = "GET", json, body, contentType, query, as = "json", signIn = "redirect" } = options;
  const url = new URL(path, location.origin);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, String(value));
  }
  const send = () => {
    const headers = { Accept: as === "blob" ? "*/*" : "application/json" };
    if (json !== undefined) headers["Content-Type"] = "application/json";
    else if (contentType) headers["Content-Type"] = contentType;
    if (UNSAFE.has(method)) headers["X-CSRF-Token"] = csrfToken();
    return fetch(url, {
      method,
      credentials: "same-origin",
      headers,
      body: json !== undefined ? JSON.stringify(json) : body,
    });
  };
  let response;
  let lost = null;
  try {
    response = await send();
    lost = signIn === "redirect" ? await signedOut(response) : null;
    // An expired access token is renewed quietly; a session ended on purpose is not.
    if (lost && lost.code !== "session_ended" && (await refreshSession())) {
      response = await send();
      lost = await signedOut(response);
    }
  } catch {
    throw new ApiError(
      "Could not reach the server. Check your network connection, then try again.",
    );
  }
  if (lost) {
    if (lost.code === "session_ended" && document.getElementById("session-ended")) {
      // Ended elsewhere or by an admin: session.js tells the person why, on this page.
      document.dispatchEvent(new CustomEvent("inv:session-lost", { detail: { reason: lost.reason } }));
      return new Promise(() => {});
    }
    location.assign(loginUrl());
    // The page is going away; never resolve, so callers do not flash an error first.
    return new Promise(() => {});
  }
  if (!response.ok) throw await toError(response);
  if (response.status === 204) return null;
  if (as === "blob") return response.blob();
  return response.json().catch(() => null);
}
