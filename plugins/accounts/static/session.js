// Keeps a signed-in page honest about its session. Only one session per person is active, so a
// sign-in elsewhere (or a logout, a password change, an admin disabling the account) ends this
// one; the server says so on the session WebSocket and this module tells the person at once,
// instead of letting them type into forms that will fail. Every signed-in accounts page imports
// it; importing starts it.

import { api, loginUrl, refreshSession } from "./api.js";

const EVENTS_PATH = "/api/v1/auth/session/events";
const CLOSE_SESSION_ENDED = 4001;

/** Why the session ended, in words, each with what to do next. */
const REASONS = {
  signed_in_elsewhere:
    "You were signed out because you signed in on another device or in another browser. " +
    "Only one session can be active at a time.",
  logout: "You were signed out because you signed out in another tab or on another device.",
  password_changed: "You were signed out because your password was changed.",
  password_reset: "You were signed out because your password was reset.",
  role_changed: "You were signed out because an administrator changed your role.",
  account_disabled:
    "You were signed out because an administrator disabled your account. " +
    "Ask your administrator to enable it before you sign in again.",
  expired: "Your session has expired.",
  refresh_token_reused:
    "You were signed out because this session's sign-in was used from somewhere else. " +
    "If that was not you, change your password after signing in.",
};
const DEFAULT_REASON = "Your session ended.";

let socket = null;
let ended = false;
let attempts = 0;
let expecting = 0;
let deferredReason = null;

/** Show the signed-out dialog, stop the page's forms, and tell other modules (camera). */
function showEnded(reason) {
  if (ended) return;
  if (expecting > 0) {
    deferredReason = reason;
    return;
  }
  ended = true;
  const current = socket;
  socket = null;
  current?.close();
  const message = REASONS[reason] ?? DEFAULT_REASON;
  const dialog = document.getElementById("session-ended");
  for (const control of document.querySelectorAll(
    "main button, main input, main select, main textarea",
  )) {
    if (!dialog?.contains(control)) control.disabled = true;
  }
  document.body.classList.add("is-signed-out");
  document.documentElement.dataset.session = "ended";
  document.dispatchEvent(new CustomEvent("inv:session-ended", { detail: { reason } }));

  // The dialog is what is announced; the banner keeps the message on the page behind it.
  const banner = document.createElement("div");
  banner.className = "alert alert--warning session-banner";
  const text = document.createElement("p");
  text.textContent = `${message} `;
  const link = document.createElement("a");
  link.href = loginUrl();
  link.textContent = "Sign in again";
  text.append(link);
  banner.append(text);
  document.getElementById("main")?.prepend(banner);

  if (dialog instanceof HTMLDialogElement) {
    dialog.querySelector("#session-ended-message").textContent = message;
    dialog.querySelector("#session-ended-signin").href = loginUrl();
    // Escape must not leave the person on a page that no longer works.
    dialog.addEventListener("cancel", (event) => event.preventDefault());
    dialog.showModal();
    dialog.querySelector("#session-ended-signin").focus();
  }
}

/**
 * Is the session still usable? true, false (signed out), or null (cannot tell: offline).
 * @returns {Promise<boolean|null>}
 */
async function sessionAlive() {
  try {
    await api("/api/v1/auth/me", { signIn: "throw" });
    return true;
  } catch (error) {
    if (error.code === "session_ended") {
      showEnded(error.details?.reason ?? "ended");
      return false;
    }
    if (error.status === 401) return refreshSession();
    return null;
  }
}

/** Reconnect after a drop (server restart, network blip), waiting longer each time. */
function scheduleReconnect() {
  const delay = Math.min(30_000, 1000 * 2 ** attempts);
  attempts += 1;
  setTimeout(async () => {
    if (ended || socket) return;
    const alive = await sessionAlive();
    if (alive === false) showEnded("expired");
    else if (!ended && !socket) connect();
  }, delay);
}

/** Open the session's event socket; messages from a replaced socket are ignored. */
function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const current = new WebSocket(`${scheme}//${location.host}${EVENTS_PATH}`);
  socket = current;
  let reason = null;
  current.addEventListener("open", () => {
    attempts = 0;
    document.documentElement.dataset.session = "live"; // for styles and tests: the watch is on
  });
  current.addEventListener("message", (event) => {
    if (socket !== current) return;
    let data = null;
    try {
      data = JSON.parse(event.data);
    } catch {
      return;
    }
    if (data?.type === "session_ended") {
      reason = data.reason ?? "ended";
      showEnded(reason);
    }
  });
  current.addEventListener("close", (event) => {
    if (socket !== current) return;
    socket = null;
    if (ended) return;
    if (event.code === CLOSE_SESSION_ENDED) showEnded(reason ?? "ended");
    else scheduleReconnect();
  });
}

/**
 * Announce that this page itself is about to end its session (password change, sign-out), so
 * the server's "session ended" for it is not shown as a surprise.
 * @returns {(succeeded: boolean) => void} call with whether the change went through; on
 *   success the socket reconnects with the new session, on failure a deferred end is shown.
 */
export function expectSessionChange() {
  expecting += 1;
  return (succeeded) => {
    expecting = Math.max(0, expecting - 1);
    const reason = deferredReason;
    deferredReason = null;
    if (succeeded) {
      const old = socket;
      socket = null;
      old?.close();
      if (!ended) connect();
    } else if (reason) {
      showEnded(reason);
    }
  };
}

/** End every session of this person and go to the sign-in page. */
export async function signOut() {
  const done = expectSessionChange();
  try {
    await api("/api/v1/auth/logout", { method: "POST", signIn: "throw" });
  } catch (error) {
    if (error.status !== 401) {
      done(false);
      throw error;
    }
  }
  ended = true; // the page is leaving: the server's "session ended" needs no dialog
  done(false);
  location.assign("/login?signed_out=1");
}

document.addEventListener("inv:session-lost", (event) => showEnded(event.detail?.reason));

// The header's "Sign out" link signs out in one click; without this module it opens /logout,
// which asks for a button press (a plain link must not end a session: any site can link here).
document.addEventListener("click", (event) => {
  const link = event.target.closest?.('a[href="/logout"]');
  if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  signOut().catch(() => location.assign("/logout"));
});

if (document.getElementById("session-ended")) connect();
