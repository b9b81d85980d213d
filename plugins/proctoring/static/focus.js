// The focus view of one attempt: live video (muted until the proctor unmutes), the tile's
// score and badges, the event timeline, and the proctor's actions with their history. The
// header and the timeline follow the same live feed as the wall, filtered to this attempt, so a
// new alert shows here without a reload.

import { api } from "../accounts/api.js";
import { clearErrors, fieldError, setStatus } from "../accounts/ui.js";
import {
  CONNECTION,
  SEVERITY,
  badgeElement,
  clock,
  connectionElement,
  duration,
  el,
  openFeed,
  pausedElement,
  scoreMeter,
  showFeedState,
} from "./common.js";

const TIMELINE_LIMIT = 300;
const ACTION_WORDS = {
  message: "Message",
  warn: "Warning",
  pause: "Paused",
  resume: "Resumed",
  terminate: "Terminated",
};
const DONE_WORDS = {
  message: "Message sent",
  warn: "Warning sent",
  pause: "Attempt paused",
  resume: "Attempt resumed",
  terminate: "Attempt terminated",
};
const TELEMETRY_WORDS = {
  blur: () => "Left the exam window",
  focus: () => "Came back to the exam window",
  visibility: (data) => (data.state === "hidden" ? "Hid the exam tab" : "Showed the exam tab"),
  fullscreen_exit: () => "Left full screen",
  fullscreen_enter: () => "Entered full screen",
  copy: () => "Copied text",
  paste: () => "Pasted text",
  screens: (data) => `${data.count ?? "?"} screens detected`,
  reload: () => "Reloaded the page",
};

const root = document.getElementById("focus");
const attemptId = root.dataset.attempt;
const base = `/api/v1/proctor/attempts/${encodeURIComponent(attemptId)}`;
const tileBox = document.getElementById("focus-tile");
const timeline = document.getElementById("timeline");
const timelineUpdated = document.getElementById("timeline-updated");
const history = document.getElementById("action-history");
const form = /** @type {HTMLFormElement} */ (document.getElementById("action-form"));
const actionStatus = document.getElementById("action-status");
const pageStatus = document.getElementById("focus-page-status");
const statusText = document.getElementById("focus-status");
const dialog = /** @type {HTMLDialogElement} */ (document.getElementById("terminate-dialog"));
const terminateForm = /** @type {HTMLFormElement} */ (document.getElementById("terminate-form"));
const reason = /** @type {HTMLTextAreaElement} */ (document.getElementById("terminate-reason"));
const announce = document.getElementById("focus-announce");

let tile = null;
let inProgress = root.dataset.status === "in_progress";
// After Pause or Resume the live tile says so within a few seconds (the process holding the
// media re-reads the attempt); until then the buttons follow what the proctor just did.
let expectPaused = null;
const EXPECT_PAUSED_MS = 15_000;

function paused() {
  if (expectPaused && Date.now() < expectPaused.until && Boolean(tile?.paused) !== expectPaused.value) {
    return expectPaused.value;
  }
  expectPaused = null;
  return Boolean(tile?.paused);
}

// ---- the tile header -----------------------------------------------------------------------

function drawTile() {
  if (!tile) return;
  const facts = el("div", "focus-facts");
  facts.append(scoreMeter(tile.score, "score--large"));
  const line = el("p", "cluster focus-facts__line");
  line.append(connectionElement(tile.proctored === false ? "none" : tile.connection));
  if (paused()) line.append(pausedElement());
  line.append(
    el("span", "muted", `${tile.open_violations ?? 0} open · ${tile.violations ?? 0} in all`),
  );
  facts.append(line);
  const badges = el("p", "cluster badge-list focus-facts__badges");
  for (const badge of tile.badges ?? []) badges.append(badgeElement(badge));
  if (!(tile.badges ?? []).length) badges.append(el("span", "muted", "No open violation."));
  facts.append(badges);
  tileBox.replaceChildren(facts);
  tileBox.dataset.score = String(Number(tile.score) || 0);
  statusText.textContent = String(tile.status ?? "").replace(/_/g, " ");
  inProgress = tile.status === "in_progress";
  syncButtons();
}

function syncButtons() {
  const isPaused = paused();
  const pause = document.getElementById("action-pause");
  const resume = document.getElementById("action-resume");
  pause.hidden = isPaused;
  resume.hidden = !isPaused;
  for (const button of form.querySelectorAll("button")) button.disabled = !inProgress;
  document.getElementById("action-terminate").disabled = !inProgress;
}

// ---- history and timeline ------------------------------------------------------------------

function drawHistory(actions) {
  if (!actions.length) {
    history.replaceChildren(el("li", "muted", "No action yet."));
    return;
  }
  history.replaceChildren(
    ...[...actions].reverse().map((action) => {
      const item = el("li", "history__item");
      item.dataset.action = action.action;
      const time = el("time", "history__time", clock(action.at));
      time.setAttribute("datetime", new Date(action.at * 1000).toISOString());
      item.append(time, el("strong", "", ACTION_WORDS[action.action] ?? action.action));
      if (action.text) item.append(el("span", "history__text", action.text));
      return item;
    }),
  );
}

/** Every event of the attempt as {ts, icon, severity, text}, newest first. */
function entriesOf(data) {
  const entries = [];
  for (const v of data.violations ?? []) {
    const severity = SEVERITY[v.severity] ? v.severity : "low";
    entries.push({
      ts: v.started_at,
      severity,
      text: `${v.label} started${v.count > 1 ? ` (${v.count} times)` : ""}`,
      detail: v.text && v.text.toLowerCase() !== String(v.label).toLowerCase() ? v.text : "",
      kind: "violation",
    });
    if (v.ended_at && v.ended_at - v.started_at >= 1) {
      entries.push({
        ts: v.ended_at,
        severity: "ended",
        text: `${v.label} ended after ${duration(v.ended_at - v.started_at)}`,
        detail: "",
        kind: "violation",
      });
    }
  }
  for (const t of data.telemetry ?? []) {
    const type = String(t.kind ?? "").replace(/^telemetry\./, "");
    const words = TELEMETRY_WORDS[type]?.(t.data ?? {}) ?? type.replace(/_/g, " ");
    entries.push({ ts: t.ts, severity: "info", text: words, detail: "", kind: "telemetry" });
  }
  for (const a of data.actions ?? []) {
    entries.push({
      ts: a.at,
      severity: "action",
      text: `Proctor: ${ACTION_WORDS[a.action] ?? a.action}`,
      detail: a.text,
      kind: "action",
    });
  }
  return entries.sort((a, b) => b.ts - a.ts).slice(0, TIMELINE_LIMIT);
}

const EVENT_ICONS = {
  high: "\u2716\uFE0E",
  medium: "\u26A0\uFE0E",
  low: "\u2139\uFE0E",
  ended: "\u2713",
  info: "\u2022",
  action: "\u270E\uFE0E",
};

function drawTimeline(data) {
  const entries = entriesOf(data);
  if (!entries.length) {
    timeline.replaceChildren(el("li", "muted", "Nothing has happened yet."));
    return;
  }
  timeline.replaceChildren(
    ...entries.map((entry) => {
      const item = el("li", "events__item");
      item.dataset.kind = entry.kind;
      item.dataset.severity = entry.severity;
      const time = el("time", "events__time", clock(entry.ts));
      time.setAttribute("datetime", new Date(entry.ts * 1000).toISOString());
      const icon = el("span", "events__icon", EVENT_ICONS[entry.severity] ?? "\u2022");
      icon.setAttribute("aria-hidden", "true");
      const body = el("span", "events__text", entry.text);
      if (SEVERITY[entry.severity]) {
        body.prepend(el("span", "visually-hidden", `${SEVERITY[entry.severity].word} severity: `));
      }
      item.append(time, icon, body);
      if (entry.detail) item.append(el("span", "events__detail muted", entry.detail));
      return item;
    }),
  );
}

async function loadOverview() {
  const data = await api(base);
  tile = data.tile;
  drawTile();
  drawHistory(data.actions ?? []);
  return data;
}

async function loadTimeline() {
  const data = await api(`${base}/timeline`);
  drawTimeline(data);
  timelineUpdated.textContent = `Updated ${clock(Date.now() / 1000)}`;
  root.dataset.timeline = String((data.violations ?? []).length);
}

let refreshTimer = null;
/** Refresh the timeline soon (alerts come in bursts; one read covers them). */
function refreshSoon() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    loadTimeline().catch((error) => setStatus(pageStatus, error.message, "danger"));
  }, 400);
}

// ---- actions -------------------------------------------------------------------------------

async function act(action, text) {
  setStatus(actionStatus, "Sending…", "progress");
  for (const button of form.querySelectorAll("button")) button.disabled = true;
  try {
    await api(`${base}/actions`, { method: "POST", json: { action, text } });
    if (action === "pause" || action === "resume") {
      expectPaused = { value: action === "pause", until: Date.now() + EXPECT_PAUSED_MS };
    }
    setStatus(actionStatus, `${DONE_WORDS[action] ?? "Done"} at ${clock(Date.now() / 1000)}.`, "success");
    if (action === "message" || action === "warn") form.elements.namedItem("text").value = "";
    await Promise.all([loadOverview(), loadTimeline()]);
  } catch (error) {
    setStatus(actionStatus, error.message, "danger");
  } finally {
    syncButtons();
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  clearErrors(form);
  const action = /** @type {HTMLButtonElement|null} */ (event.submitter)?.value ?? "message";
  const text = form.elements.namedItem("text").value.trim();
  if ((action === "message" || action === "warn") && !text) {
    fieldError(form, "text", `Write the ${action === "warn" ? "warning" : "message"} first.`);
    form.elements.namedItem("text").focus();
    return;
  }
  act(action, text);
});

document.getElementById("action-terminate").addEventListener("click", () => {
  clearErrors(terminateForm);
  reason.value = form.elements.namedItem("text").value.trim();
  dialog.showModal();
  reason.focus();
});
document.getElementById("terminate-cancel").addEventListener("click", () => dialog.close("cancel"));
terminateForm.addEventListener("submit", (event) => {
  event.preventDefault();
  clearErrors(terminateForm);
  const text = reason.value.trim();
  if (!text) {
    fieldError(terminateForm, "reason", "Give the reason: the candidate and the audit log see it.");
    reason.focus();
    return;
  }
  dialog.close("confirm");
  act("terminate", text);
});

// ---- live video ----------------------------------------------------------------------------

const video = /** @type {HTMLVideoElement} */ (document.getElementById("focus-video"));
const videoNote = document.getElementById("focus-video-note");
const videoState = document.getElementById("focus-video-state");
const unmute = document.getElementById("focus-unmute");
const reconnect = document.getElementById("focus-reconnect");
let watching = null;

/** watch.js's states → the connection shown (icon and word) and what the stage says. */
const VIDEO_STATES = {
  connecting: ["connecting", "connecting", "Connecting to the candidate's camera…"],
  connected: ["connected", "connected", ""],
  disconnected: ["disconnected", "disconnected", "The connection dropped; it usually comes back by itself."],
  reconnecting: ["connecting", "reconnecting", "Reconnecting to the candidate's camera…"],
  waiting: ["connecting", "waiting", "The candidate's camera is not connected yet. Waiting for it…"],
  busy: ["connecting", "busy", "Too many people are watching this attempt. Trying again soon…"],
  failed: ["disconnected", "failed", "The live video is not available."],
  closed: ["none", "stopped", "The live video is stopped."],
  none: ["none", "no video", "There is no live video."],
};

function showVideoState(state, note = "") {
  const [shown, word, text] = VIDEO_STATES[state] ?? VIDEO_STATES.connecting;
  videoState.dataset.state = shown;
  videoState.querySelector(".conn__icon").textContent = CONNECTION[shown].icon;
  videoState.querySelector(".conn__word").textContent = word;
  videoNote.hidden = state === "connected";
  videoNote.textContent = note || text;
  reconnect.hidden = !((state === "failed" || state === "closed") && inProgress);
  root.dataset.video = state;
}

async function startVideo() {
  if (!inProgress) {
    showVideoState("none", "The attempt is not in progress, so there is no live video.");
    return;
  }
  watching?.stop?.();
  watching = null;
  showVideoState("connecting", "Connecting to the candidate's camera…");
  try {
    const { watch } = await import("./watch.js");
    watching = await watch(attemptId, video, {
      onState: (state, error) => showVideoState(state, error?.message ?? ""),
    });
  } catch (error) {
    showVideoState("failed", `The live video could not start. ${error?.message ?? ""}`.trim());
  }
}

unmute.addEventListener("click", () => {
  video.muted = !video.muted;
  unmute.setAttribute("aria-pressed", String(!video.muted));
  unmute.textContent = video.muted ? "Unmute" : "Mute";
  if (!video.muted) video.play().catch(() => {});
});
reconnect.addEventListener("click", () => startVideo());

// ---- start ---------------------------------------------------------------------------------

const feed = openFeed({
  examId: root.dataset.exam ?? "",
  onState: (state) => showFeedState(document.getElementById("focus-live"), state),
  onMessage: (data) => {
    if (data.type === "hello") {
      const mine = (data.tiles ?? []).find((t) => t.attempt_id === attemptId);
      if (mine) {
        tile = mine;
        drawTile();
      }
    } else if (data.type === "tile" && data.tile?.attempt_id === attemptId) {
      const hadBadges = (tile?.badges ?? []).length;
      tile = data.tile;
      drawTile();
      if ((tile.badges ?? []).length !== hadBadges) refreshSoon();
    } else if (data.type === "alert" && data.attempt_id === attemptId) {
      const v = data.violation ?? {};
      announce.textContent = `New alert: ${v.text || v.label || "a violation"}.`;
      refreshSoon();
    } else if (data.type === "removed" && data.attempt_id === attemptId) {
      loadOverview()
        .then(() => {
          setStatus(pageStatus, "This attempt is no longer in progress.", "info");
          watching?.stop?.();
          showVideoState("closed", "The attempt ended.");
        })
        .catch(() => {});
    }
  },
});

window.addEventListener("pagehide", () => {
  feed.close();
  watching?.stop?.();
});
document.addEventListener("inv:session-ended", () => {
  feed.close();
  watching?.stop?.();
});

try {
  await Promise.all([loadOverview(), loadTimeline()]);
} catch (error) {
  setStatus(pageStatus, error.message, "danger");
}
startVideo();
