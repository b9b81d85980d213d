// The exam page: one question at a time, navigation with answered/flagged marks, the timer,
// a save-state line, autosave through the outbox, and submit with a confirmation dialog.
//
// A proctor can pause, resume or end the attempt. The proctoring widget on this page hears it
// first and dispatches `proctoring:control` ({action, text}); the server is the authority, so
// the page re-reads the attempt after each action, and while paused it also re-reads it now and
// then (a resume or an end is never missed if the widget's connection drops). A refresh during
// a pause stays paused, because the attempt view says so.

import { api } from "../accounts/api.js";
import { Outbox, drain } from "./outbox.js";
import { isBlank, readResponse, renderQuestion } from "./questions.js";
import { formatLeft, startTimer } from "./timer.js";

const SAVE_DELAY_MS = 600;
const PAUSE_POLL_MS = 15_000;
const $ = (id) => document.getElementById(id);
const root = $("exam");
const attemptId = root.dataset.attempt;
const positionKey = `inv-exam-pos:${attemptId}`;
const form = $("question-form");
// What a pause freezes: the questions, the navigation and submit. The proctoring widget stays
// alive above the cover, so the candidate still sees themselves and the proctor's messages.
const answering = root.querySelector(".exam-grid");

/** @type {{items: any[], navigation: string, deadline_at: string}} */
let view = null;
let current = 0;
let saveTimer = null;
let finished = false;
/** @type {{stop: () => void, left: () => number}|null} */
let timer = null;
let paused = false;
let pollHandle = null;

const outbox = new Outbox(attemptId, {
  onState: showSaveState,
  onSaved: () => drawNav(),
  onClosed: () => finish("Time is up. Your answers were submitted."),
  onRejected: (item, message) => showStatus(`Question ${item + 1} was not saved: ${message}`),
  onPaused: () => { pause(); refresh(); }, // the server paused it before the widget told us
});

function showStatus(message, kind = "danger") {
  const region = $("exam-status");
  region.replaceChildren();
  if (!message) return;
  const box = document.createElement("p");
  box.className = `alert alert--${kind}`;
  box.textContent = message;
  region.append(box);
}

/** @param {import("./outbox.js").OutboxState} state */
function showSaveState(state) {
  const line = $("save-state");
  const offline = state.offline || !navigator.onLine;
  $("offline-banner").hidden = !offline;
  let text = "All answers saved";
  if (state.error) text = state.error;
  else if (state.paused && state.pending) text = "Paused — your answers are kept on this device";
  else if (offline && state.pending) {
    text = `Offline — ${state.pending} ${state.pending === 1 ? "answer" : "answers"} will be sent when you reconnect`;
  } else if (offline) text = "Offline — reconnect to keep saving";
  else if (state.sending || state.pending) text = "Saving…";
  if (line.textContent !== text) line.textContent = text;
  line.dataset.state = offline ? "offline" : state.pending || state.sending ? "saving" : "saved";
}

/** The answer shown for an item: the newest of the server's and this device's. */
function answerOf(item) {
  return outbox.get(item) ?? null;
}

function drawNav() {
  const list = $("item-nav");
  list.replaceChildren();
  for (const entry of view.items) {
    const answer = answerOf(entry.item);
    const answered = answer && !isBlank(answer.response);
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "exam-nav__item";
    button.dataset.item = String(entry.item);
    const marks = [answered ? "answered" : "not answered"];
    if (answer?.flagged) marks.push("flagged");
    if (entry.locked) marks.push("locked until earlier questions are answered or skipped");
    button.setAttribute("aria-label", `Question ${entry.item + 1}, ${marks.join(", ")}`);
    button.textContent = String(entry.item + 1);
    button.classList.toggle("is-answered", Boolean(answered));
    button.classList.toggle("is-flagged", Boolean(answer?.flagged));
    button.disabled = entry.locked;
    if (entry.item === current) button.setAttribute("aria-current", "step");
    button.addEventListener("click", () => go(entry.item));
    li.append(button);
    list.append(li);
  }
}

function drawQuestion() {
  const entry = view.items[current];
  const question = entry.question;
  const section = view.sections[entry.section] ?? "";
  $("question-meta").textContent =
    `Question ${current + 1} of ${view.items.length}${section ? ` · ${section}` : ""} · ${entry.points} ${entry.points === 1 ? "point" : "points"}`;
  $("question-title").textContent = question.title;
  // body_html is Markdown rendered and sanitised on the server (plugins/questions/rendering.py).
  if (question.body_html) $("question-body").innerHTML = question.body_html;
  else $("question-body").textContent = question.body;
  renderQuestion(form, question, answerOf(current)?.response ?? null);
  // Plugins that enrich an item (the judge's code editor) listen for this; the detail stays on
  // the form for one that loads after the first question is drawn.
  form.examQuestion = { attemptId, item: current, question };
  form.dispatchEvent(new CustomEvent("exam:question", { detail: form.examQuestion }));
  $("flag").checked = Boolean(answerOf(current)?.flagged);
  $("prev").disabled = current === 0;
  $("next").disabled = current === view.items.length - 1;
  try { localStorage.setItem(positionKey, String(current)); } catch { /* private mode */ }
  drawNav();
}

/** Record the form's answer now (if it changed) and send it. */
function saveNow() {
  clearTimeout(saveTimer);
  saveTimer = null;
  const { response, error } = readResponse(form);
  const slot = $("answer-error");
  if (slot) { slot.hidden = !error; slot.textContent = error ?? ""; }
  if (error) return;
  const flagged = $("flag").checked;
  const before = answerOf(current);
  if (before && JSON.stringify(before.response) === JSON.stringify(response) && before.flagged === flagged) return;
  if (!before && isBlank(response) && !flagged) return;
  outbox.record(current, response, flagged);
  drawNav();
  outbox.flush();
}

function saveSoon() {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(saveNow, SAVE_DELAY_MS);
}

/** Go to another item; under sequential navigation a locked one first needs this one saved. */
async function go(item) {
  if (item < 0 || item >= view.items.length || item === current) return;
  saveNow();
  if (view.items[item].locked) {
    if (!answerOf(current)) outbox.record(current, readResponse(form).response ?? {}, $("flag").checked);
    if (!(await drain(outbox))) {
      showStatus("The next question opens once this answer reaches the server. Check your connection, then press Next again.", "warning");
      return;
    }
    await load();
    if (view.items[item].locked) return;
  }
  showStatus("");
  current = item;
  drawQuestion();
  $("question-title").focus();
}

async function load() {
  const sentAt = Date.now();
  view = await api(`/api/v1/attempts/${attemptId}`);
  for (const entry of view.items) outbox.reconcile(entry.item, entry.answer);
  return sentAt;
}

/** The overlay that blocks the exam while a proctor holds it (made on first use). */
function overlay() {
  let box = $("exam-pause");
  if (box) return box;
  box = document.createElement("div");
  box.id = "exam-pause";
  box.className = "exam-pause";
  box.setAttribute("role", "alertdialog");
  box.setAttribute("aria-modal", "true");
  box.setAttribute("aria-labelledby", "exam-pause-title");
  box.setAttribute("aria-describedby", "exam-pause-text");
  const card = document.createElement("div");
  card.className = "card exam-pause__card";
  const title = document.createElement("h2");
  title.id = "exam-pause-title";
  title.tabIndex = -1;
  const text = document.createElement("p");
  text.id = "exam-pause-text";
  const more = document.createElement("p");
  more.id = "exam-pause-more";
  card.append(title, text, more);
  box.append(card);
  root.after(box);
  return box;
}

function showOverlay(title, text, link = null) {
  const box = overlay();
  $("exam-pause-title").textContent = title;
  $("exam-pause-text").textContent = text;
  const more = $("exam-pause-more");
  more.replaceChildren();
  if (link) {
    const a = document.createElement("a");
    a.className = "btn btn--primary";
    a.href = link.href;
    a.textContent = link.label;
    more.append(a);
  }
  box.hidden = false;
  answering.inert = true;
  root.classList.add("is-held");
  if ($("submit-dialog").open) $("submit-dialog").close();
  $("exam-pause-title").focus();
}

function hideOverlay() {
  const box = $("exam-pause");
  if (box) box.hidden = true;
  answering.inert = false;
  root.classList.remove("is-held");
}

/** The time left, frozen: from the server's view when it says paused, else from the timer. */
function frozenLeft() {
  if (view?.paused && view.paused_at) return Date.parse(view.deadline_at) - Date.parse(view.paused_at);
  return timer ? timer.left() : Date.parse(view.deadline_at) - Date.parse(view.server_now);
}

function showPausedTimer() {
  const display = $("timer");
  display.textContent = `${formatLeft(frozenLeft())} paused`;
  display.parentElement?.classList.add("is-paused");
}

/** Hold the exam: nothing can change, the timer stands still, answers wait on this device. */
function pause() {
  if (finished) return;
  clearTimeout(saveTimer);
  saveTimer = null;
  if (!paused) {
    paused = true;
    timer?.stop();
    outbox.pause();
    showOverlay(
      "Your exam is paused by the proctor",
      "Your answers are kept and the timer is stopped; the time left is given back when the " +
        "proctor resumes the exam. Stay on this page.",
    );
  }
  showPausedTimer();
  clearInterval(pollHandle);
  pollHandle = setInterval(refresh, PAUSE_POLL_MS);
}

/** Go on after a pause, with the deadline the server moved. */
function resume(sentAt) {
  if (finished || !paused) return;
  paused = false;
  clearInterval(pollHandle);
  pollHandle = null;
  $("timer").parentElement?.classList.remove("is-paused");
  hideOverlay();
  runTimer(sentAt);
  outbox.resume();
  drawQuestion();
}

/** The proctor ended the attempt: stop here, like time-up, and say why. */
function ended(text) {
  if (finished) return;
  finished = true;
  paused = false;
  clearInterval(pollHandle);
  timer?.stop();
  outbox.closed = true;
  for (const control of root.querySelectorAll("button, input, select, textarea")) control.disabled = true;
  const reason = text ? `: ${text}` : ".";
  showOverlay(
    `Your exam was ended by the proctor${reason}`,
    "Your answers saved so far were submitted.",
    { href: `/exams/attempt/${attemptId}/result`, label: "See your result" },
  );
  try { localStorage.removeItem(positionKey); } catch { /* nothing to clear */ }
}

/** Re-read the attempt and follow the server: paused, running or closed. */
async function refresh() {
  if (finished) return;
  let sentAt;
  try {
    sentAt = await load();
  } catch {
    return; // offline or a hiccup: the next poll or action tries again
  }
  if (view.status !== "in_progress") {
    if (view.ended_by === "proctor") ended("");
    else finish("Time is up. Your answers were submitted.");
  } else if (view.paused) {
    pause();
  } else if (paused) {
    resume(sentAt);
  }
}

function onControl(event) {
  const { action, text } = event.detail ?? {};
  if (!view || finished) return; // not loaded yet: the first load shows the server's state
  if (action === "pause") {
    pause();
    refresh(); // the exact time left at the pause
  } else if (action === "resume") {
    refresh(); // the new deadline; the overlay goes once the server says it runs
  } else if (action === "terminate") {
    ended(text ?? "");
  }
}

function runTimer(sentAt) {
  timer?.stop();
  timer = startTimer({
    deadlineAt: view.deadline_at, serverNow: view.server_now, sentAt,
    display: $("timer"), announce: $("time-announce"),
    onExpired: async () => {
      await drain(outbox, 5000);
      try {
        await api(`/api/v1/attempts/${attemptId}/submit`, { method: "POST" });
      } catch (error) {
        if (error.code === "attempt_paused") { pause(); refresh(); return; } // paused at zero
      }
      finish("Time is up. Your answers were submitted.");
    },
  });
}

function finish(message) {
  if (finished) return;
  finished = true;
  clearInterval(pollHandle);
  hideOverlay();
  for (const control of root.querySelectorAll("button, input, select, textarea")) control.disabled = true;
  showStatus(`${message} Taking you to your result…`, "info");
  setTimeout(() => location.assign(`/exams/attempt/${attemptId}/result`), 2500);
}

function openSubmit() {
  saveNow();
  const unanswered = view.items.filter((e) => isBlank(answerOf(e.item)?.response)).map((e) => e.item);
  const flagged = view.items.filter((e) => answerOf(e.item)?.flagged).map((e) => e.item);
  $("submit-summary").textContent = unanswered.length || flagged.length
    ? "Check these before you submit:" : "Every question has an answer.";
  const lists = $("submit-lists");
  lists.replaceChildren();
  for (const [label, items] of [["Not answered", unanswered], ["Flagged for review", flagged]]) {
    if (!items.length) continue;
    const heading = document.createElement("h3");
    heading.textContent = `${label} (${items.length})`;
    const list = document.createElement("ul");
    list.className = "cluster submit-list";
    for (const item of items) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn--secondary";
      button.textContent = `Question ${item + 1}`;
      button.addEventListener("click", () => { $("submit-dialog").close(); go(item); });
      li.append(button);
      list.append(li);
    }
    lists.append(heading, list);
  }
  $("submit-status").replaceChildren();
  $("submit-dialog").showModal();
}

async function submit() {
  const status = $("submit-status");
  const say = (text, kind) => {
    status.replaceChildren();
    const p = document.createElement("p");
    p.className = kind === "progress" ? "form-status__progress" : `alert alert--${kind}`;
    p.textContent = text;
    status.append(p);
  };
  $("confirm-submit").disabled = true;
  say("Sending your last answers…", "progress");
  if (!(await drain(outbox))) {
    $("confirm-submit").disabled = false;
    if (!outbox.closed) say("Some answers have not reached the server. Check your connection, then press Submit now again.", "warning");
    return;
  }
  try {
    await api(`/api/v1/attempts/${attemptId}/submit`, { method: "POST" });
    try { localStorage.removeItem(positionKey); } catch { /* nothing to clear */ }
    location.assign(`/exams/attempt/${attemptId}/result`);
  } catch (error) {
    $("confirm-submit").disabled = false;
    say(error.message, "danger");
  }
}

async function main() {
  let sentAt;
  try {
    sentAt = await load();
  } catch (error) {
    $("save-state").textContent = "";
    showStatus(`${error.message} Your answers on this device are kept.`, "danger");
    return;
  }
  if (view.status !== "in_progress") {
    finish("This attempt is already submitted.");
    return;
  }
  const saved = Number(localStorage.getItem(positionKey) ?? 0);
  current = view.items[saved] && !view.items[saved].locked ? saved : 0;
  drawQuestion();
  if (view.paused) pause(); // reloaded during a pause: still paused
  else runTimer(sentAt);
  form.addEventListener("input", saveSoon);
  form.addEventListener("change", saveSoon);
  form.addEventListener("submit", (event) => { event.preventDefault(); saveNow(); });
  $("flag").addEventListener("change", saveNow);
  $("prev").addEventListener("click", () => go(current - 1));
  $("next").addEventListener("click", () => go(current + 1));
  $("open-submit").addEventListener("click", openSubmit);
  $("confirm-submit").addEventListener("click", submit);
  $("cancel-submit").addEventListener("click", () => $("submit-dialog").close());
  window.addEventListener("pagehide", saveNow);
  outbox.flush(); // anything left from before a refresh or a crash
}

document.addEventListener("proctoring:control", onControl);
main();
