// What the support pages share: a poller that asks with If-None-Match and hears nothing when
// nothing changed (a 304), and the pieces a conversation is drawn from. Message bodies are
// always set as text, never as HTML.

import { api } from "../accounts/api.js";

export const API = "/api/v1/support/tickets";
const ROLE_WORDS = { candidate: "Candidate", proctor: "Proctor", examiner: "Examiner", admin: "Admin" };
export const STATUS = {
  open: { className: "badge--warning", word: "Open" },
  answered: { className: "badge--info", word: "Answered" },
  closed: { className: "badge--success", word: "Closed" },
};
export const CATEGORY_WORDS = {
  technical: "Technical", content: "Question content", proctoring: "Proctoring", other: "Other",
};

/** A new element with an optional class and text. */
export function el(tag, className = "", text = "") {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

/** "14:03" today, else a short date and time, in the reader's time zone. */
export function when(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const today = new Date().toDateString() === date.toDateString();
  const style = today ? { timeStyle: "short" } : { dateStyle: "medium", timeStyle: "short" };
  return new Intl.DateTimeFormat(undefined, style).format(date);
}

/** "3 min ago" from an API time. */
export function age(iso) {
  const seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return "just now";
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} days ago`;
}

/** A status badge: an icon and a word. */
export function statusBadge(status) {
  const look = STATUS[status] ?? STATUS.open;
  return el("span", `badge ${look.className}`, look.word);
}

/**
 * Draw `messages` into the list `into`, oldest first, each with its author and role.
 * @param {HTMLElement} into
 * @param {Array<{id: number, author_id: number, author_role: string, author_name: string,
 *                body: string, created_at: string}>} messages
 * @param {(message: any) => boolean} mine whether a message is the reader's own
 */
export function drawThread(into, messages, mine) {
  into.replaceChildren(
    ...messages.map((message) => {
      const own = mine(message);
      const staff = message.author_role !== "candidate";
      const item = el("li", `message${own ? " message--own" : ""}${staff ? " message--staff" : ""}`);
      item.dataset.role = message.author_role;
      const head = el("p", "message__head");
      head.append(
        el("strong", "message__author", own ? "You" : message.author_name),
        el("span", "message__role", ` · ${ROLE_WORDS[message.author_role] ?? message.author_role}`),
        el("time", "message__time", ` · ${when(message.created_at)}`),
      );
      item.append(head, el("p", "message__body", message.body));
      return item;
    }),
  );
}

/**
 * Ask `url()` now and then every `seconds`; `onData` runs only when the answer changed.
 * @param {() => string} url the address to ask (read again on every poll, so filters apply)
 * @param {(data: any) => void} onData
 * @param {number} seconds
 */
export function poller(url, onData, seconds) {
  let etag = "";
  let timer = 0;
  let every = seconds;
  let asked = "";
  let running = false;
  let again = false;
  let stopped = false;
  let slower = 1;
  const tick = async () => {
    stopped = false;
    if (running) {
      again = true;  // asked for "now" mid-flight: go once more right after
      return;
    }
    running = true;
    clearTimeout(timer);
    const address = url();
    if (address !== asked) etag = "";  // other filters: the old tag says nothing
    asked = address;
    try {
      const response = await fetch(address, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "application/json", ...(etag ? { "If-None-Match": etag } : {}) },
      });
      if (response.status === 200) {
        etag = response.headers.get("ETag") ?? "";
        const data = await response.json();
        if (data?.poll_seconds) every = data.poll_seconds;
        onData(data);
      } else if (response.status === 401) {
        onData(await api(address));  // renews the session, or sends the person to sign in
      }
    } catch {
      // Offline for a moment: the next poll tries again.
    }
    running = false;
    if (again) {
      again = false;
      tick();
      return;
    }
    if (!stopped) timer = setTimeout(tick, every * slower * 1000);
  };
  tick();
  return {
    /** Ask at once (and resume after stop). */
    now: tick,
    /** No more polls until `now()`: nothing can change (e.g. nothing asked yet). */
    stop: () => { stopped = true; clearTimeout(timer); },
    /** Poll `factor` times less often (1: the normal pace). */
    slow: (factor) => { slower = Math.max(1, factor); },
  };
}
