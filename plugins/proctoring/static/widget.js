// The proctoring widget on a proctored exam page: publishes the attempt's camera, microphone and
// telemetry (reconnecting on its own), shows a small self-view and one line of status in words,
// and listens on the attempt's control WebSocket. Every proctor action is shown when it has
// words for the candidate, and is handed to the exam page as a `proctoring:control` event
// ({action, text}); the exam page decides what pause, resume and terminate do.

import { publish } from "./publish.js";

const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 10000;
const CLOSE_SESSION_ENDED = 4001;

const HEADINGS = {
  message: "Message from your proctor",
  warn: "Warning from your proctor",
  pause: "Your exam is paused by the proctor",
  resume: "Your exam has resumed",
  terminate: "Your exam was ended by the proctor",
};
const STATUS = {
  starting: "Starting proctoring…",
  connecting: "Connecting proctoring…",
  connected: "Proctoring on — camera and microphone connected",
  reconnecting: "Reconnecting… Keep answering: your answers are still saved.",
  ended: "Proctoring has ended.",
  closed: "Proctoring is off.",
  blocked: "Camera or microphone blocked. Allow both for this site in your browser, then reload the page.",
  broken: "Proctoring could not connect. Reload the page; if it keeps failing, try another network.",
};

const root = document.getElementById("proctoring-widget");

function el(tag, className = "", text = "") {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

function build() {
  if (root.dataset.css && !document.querySelector(`link[href="${root.dataset.css}"]`)) {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = root.dataset.css;
    document.head.append(link);
  }
  const bar = el("div", "pwidget__bar");
  const video = el("video", "pwidget__video");
  Object.assign(video, { autoplay: true, muted: true, playsInline: true });
  video.setAttribute("aria-label", "Your camera");
  const line = el("p", "pwidget__status");
  line.setAttribute("role", "status");
  line.setAttribute("aria-live", "polite");
  const icon = el("span", "pwidget__icon", "…");
  icon.setAttribute("aria-hidden", "true");
  const text = el("span", "pwidget__text", STATUS.starting);
  line.append(icon, text);
  bar.append(video, line);
  const messages = el("div", "pwidget__messages");
  root.replaceChildren(bar, messages);
  return { video, icon, text, messages };
}

const ui = root ? build() : null;
let rtc = "starting";
let ended = false;

/** @param {string} state a publish state, or "blocked" / "broken" (nothing will retry) */
function showStatus(state) {
  rtc = state;
  root.dataset.rtc = state;
  const key = state === "disconnected" || state === "failed" ? "reconnecting" : state;
  const words = STATUS[key] ?? STATUS.connecting;
  if (ui.text.textContent !== words) ui.text.textContent = words;
  ui.icon.textContent = key === "connected" ? "●" : key === "reconnecting" ? "↻" : key === "ended" ? "■" : "…";
  root.dataset.status = key;
}

/** A proctor action with words for the candidate, shown until dismissed. */
function showMessage(action, text) {
  const box = el("div", `alert ${action === "warn" || action === "terminate" ? "alert--warning" : "alert--info"} pwidget__message`);
  box.dataset.action = action;
  box.setAttribute("role", action === "warn" || action === "terminate" ? "alert" : "status");
  const body = el("div", "pwidget__message-body");
  body.append(el("p", "pwidget__message-title", HEADINGS[action] ?? "From your proctor"));
  if (text) body.append(el("p", "pwidget__message-text", text));
  const when = new Date();
  body.append(el("p", "pwidget__message-time muted", `Received at ${when.toLocaleTimeString()}`));
  const dismiss = el("button", "btn btn--secondary btn--small", "Dismiss");
  dismiss.type = "button";
  dismiss.setAttribute("aria-label", `Dismiss: ${HEADINGS[action] ?? "message"}`);
  dismiss.addEventListener("click", () => box.remove());
  box.append(body, dismiss);
  ui.messages.prepend(box);
}

function onControl(message) {
  const action = String(message.action ?? "");
  const text = String(message.text ?? "");
  if (action === "message" || action === "warn" || text || action === "terminate") showMessage(action, text);
  document.dispatchEvent(new CustomEvent("proctoring:control", { detail: { action, text } }));
}

// The control socket: reconnects with backoff until the attempt is over or the session ends.
let socket = null;
let socketDelay = RETRY_FIRST_MS;
let socketTimer = null;

function openControl() {
  if (ended || socket) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${location.host}/api/v1/attempts/${encodeURIComponent(root.dataset.attempt)}/live`;
  root.dataset.control = "connecting";
  const current = new WebSocket(url);
  socket = current;
  current.addEventListener("message", (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    if (message.type === "hello") {
      socketDelay = RETRY_FIRST_MS;
      root.dataset.control = "open";
    } else if (message.type === "control") {
      onControl(message);
    }
  });
  current.addEventListener("close", (event) => {
    if (socket === current) socket = null;
    root.dataset.control = "closed";
    if (event.code === CLOSE_SESSION_ENDED || ended) return;
    clearTimeout(socketTimer);
    socketTimer = setTimeout(openControl, socketDelay);
    socketDelay = Math.min(socketDelay * 2, RETRY_MAX_MS);
  });
}

async function main() {
  openControl();
  let session;
  try {
    session = await publish(root.dataset.attempt, {
      reconnect: true,
      onState: (state, error) => {
        if (state === "ended") {
          ended = true;
          socket?.close();
        }
        showStatus(state === "failed" && error ? "broken" : state);
      },
    });
  } catch (error) {
    if (rtc === "ended") return;
    const blocked = ["NotAllowedError", "NotFoundError", "NotReadableError", "SecurityError"];
    showStatus(blocked.includes(error?.name) ? "blocked" : "broken");
    return;
  }
  ui.video.srcObject = session.stream;
  window.addEventListener("pagehide", () => session.stop());
  document.addEventListener("inv:session-ended", () => {
    ended = true;
    session.stop();
    socket?.close();
  });
}

if (root) main();
