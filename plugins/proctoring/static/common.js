// What the proctor pages share: the live feed socket (reconnecting with backoff), and the small
// pieces a tile is drawn from (score, badges, connection), so the wall and the focus view say
// the same thing the same way. Severity and connection always come as an icon plus a word,
// never as colour alone.

import { api } from "../accounts/api.js";

const LIVE_PATH = "/api/v1/proctor/live";
const MAX_BACKOFF_MS = 30_000;

/** Severity → badge style (icon comes from app.css) and the word a screen reader hears. */
export const SEVERITY = {
  high: { className: "badge--danger", word: "High" },
  medium: { className: "badge--warning", word: "Medium" },
  low: { className: "badge--info", word: "Low" },
};
export const SEVERITY_RANK = { low: 1, medium: 2, high: 3 };

/** Connection → an icon and a word (what the tile says, not only how it looks). */
export const CONNECTION = {
  connected: { icon: "\u25CF", word: "connected" },
  connecting: { icon: "\u25D4", word: "connecting" },
  disconnected: { icon: "\u2716\uFE0E", word: "disconnected" },
  none: { icon: "\u25CB", word: "no video" },
};

/**
 * A new element with an optional class and text.
 * @param {string} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElement}
 */
export function el(tag, className = "", text = "") {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

/**
 * A time from the API as a Date: seconds since the epoch (float) or an ISO string.
 * @param {number|string|null|undefined} value
 * @returns {Date|null}
 */
export function toDate(value) {
  if (value === null || value === undefined || value === "") return null;
  const when = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(when.getTime()) ? null : when;
}

/** Seconds since the epoch of an API time; NaN when there is none. */
export function toSeconds(value) {
  const when = toDate(value);
  return when ? when.getTime() / 1000 : Number.NaN;
}

/** "14:03:27" in the reader's time zone. */
export function clock(value) {
  const when = toDate(value);
  if (!when) return "";
  return new Intl.DateTimeFormat(undefined, { timeStyle: "medium" }).format(when);
}

/** A duration in words: "12 s", "4 min", "1.5 h". */
export function duration(seconds) {
  const value = Math.max(0, Number(seconds) || 0);
  if (value < 90) return `${Math.round(value)} s`;
  if (value < 5400) return `${Math.round(value / 60)} min`;
  return `${(value / 3600).toFixed(1)} h`;
}

/** A score as the API rounds it (one decimal), without a trailing ".0". */
export function scoreText(score) {
  const value = Number(score) || 0;
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

/** "high" from 60, "medium" from 25: the bar's colour band (the number is always shown). */
export function scoreLevel(score) {
  const value = Number(score) || 0;
  if (value >= 60) return "high";
  if (value >= 25) return "medium";
  return "low";
}

/**
 * A score as a number and a bar out of 100.
 * @param {number} score
 * @param {string} [className] extra class, e.g. "score--large"
 * @returns {HTMLElement}
 */
export function scoreMeter(score, className = "") {
  const box = el("span", `score ${className}`.trim());
  box.dataset.level = scoreLevel(score);
  const label = el("span", "score__label", "Risk");
  const value = el("span", "score__value", scoreText(score));
  value.dataset.score = String(Number(score) || 0);
  const bar = el("span", "score__bar");
  bar.setAttribute("aria-hidden", "true");
  const fill = el("span", "score__fill");
  fill.style.width = `${Math.max(0, Math.min(100, Number(score) || 0))}%`;
  bar.append(fill);
  box.append(label, value, el("span", "visually-hidden", " out of 100"), bar);
  return box;
}

/**
 * One badge: the severity as icon, colour and (for screen readers) a word, then the reason.
 * @param {{kind?: string, label?: string, text?: string, severity?: string}} badge
 * @returns {HTMLElement}
 */
export function badgeElement(badge) {
  const severity = SEVERITY[badge.severity] ?? SEVERITY.low;
  const item = el("span", `badge ${severity.className} pbadge`);
  item.dataset.kind = badge.kind ?? "";
  item.dataset.severity = badge.severity ?? "low";
  item.append(
    el("span", "visually-hidden", `${severity.word} severity: `),
    el("span", "pbadge__text", badge.text || badge.label || badge.kind || "violation"),
  );
  return item;
}

/**
 * The connection state as an icon and a word.
 * @param {string} state connected | connecting | disconnected | none
 * @returns {HTMLElement}
 */
export function connectionElement(state) {
  const known = CONNECTION[state] ? state : "none";
  const box = el("span", "conn");
  box.dataset.state = known;
  const icon = el("span", "conn__icon", CONNECTION[known].icon);
  icon.setAttribute("aria-hidden", "true");
  box.append(icon, el("span", "conn__word", CONNECTION[known].word));
  return box;
}

/** The "Paused" marker (an icon and the word). */
export function pausedElement() {
  const box = el("span", "badge paused-flag");
  const icon = el("span", "", "\u275A\u275A");
  icon.setAttribute("aria-hidden", "true");
  box.append(icon, el("span", "", "Paused"));
  return box;
}

/** Highest risk first: score, then open high-severity badges, then any open badge. */
export function riskCompare(a, b) {
  const high = (tile) => (tile.badges ?? []).filter((badge) => badge.severity === "high").length;
  return (
    (Number(b.score) || 0) - (Number(a.score) || 0) ||
    high(b) - high(a) ||
    (b.open_violations ?? 0) - (a.open_violations ?? 0) ||
    String(a.candidate ?? "").localeCompare(String(b.candidate ?? ""))
  );
}

/**
 * The proctor live feed: a WebSocket that reconnects by itself, waiting longer after each
 * failure (1 s, 2 s, 4 s … 30 s, with jitter so a restarted server is not hit by every wall at
 * once). Before a retry it checks the session through the API, which renews an expired access
 * token (the socket cannot) or sends a signed-out person to the sign-in page.
 * @param {{examId?: string, onMessage: (data: any) => void,
 *          onState: (state: "connecting"|"live"|"reconnecting") => void}} options
 * @returns {{close: () => void, setExam: (examId: string) => void}}
 */
export function openFeed({ examId = "", onMessage, onState }) {
  let socket = null;
  let failures = 0;
  let stopped = false;
  let timer = null;
  let exam = examId;

  const connect = () => {
    timer = null;
    const url = new URL(LIVE_PATH, location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    if (exam) url.searchParams.set("exam_id", exam);
    const current = new WebSocket(url);
    socket = current;
    current.addEventListener("open", () => {
      if (socket !== current) return;
      failures = 0;
      onState("live");
    });
    current.addEventListener("message", (event) => {
      if (socket !== current) return;
      let data = null;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      if (data && typeof data === "object") onMessage(data);
    });
    current.addEventListener("close", () => {
      if (socket !== current) return;
      socket = null;
      if (stopped) return;
      onState("reconnecting");
      schedule();
    });
  };

  const schedule = () => {
    const base = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** failures);
    failures += 1;
    const delay = base / 2 + Math.random() * (base / 2);
    timer = setTimeout(async () => {
      if (stopped) return;
      await api("/api/v1/auth/me").catch(() => null);
      if (!stopped && !socket) connect();
    }, delay);
  };

  onState("connecting");
  connect();
  return {
    close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      const current = socket;
      socket = null;
      current?.close();
    },
    setExam(value) {
      exam = value;
      if (timer) clearTimeout(timer);
      const current = socket;
      socket = null;
      current?.close();
      failures = 0;
      onState("connecting");
      connect();
    },
  };
}

/**
 * Show the feed's state next to a page heading: an icon and a word.
 * @param {HTMLElement|null} node an element with a `.live__word` child
 * @param {string} state
 */
export function showFeedState(node, state) {
  if (!node) return;
  node.dataset.state = state;
  const word = node.querySelector(".live__word");
  if (word) word.textContent = state === "live" ? "live" : state;
}
